"""The parts every name is made of: the project's limits, bounded names, and ARNs of anything, in
any account (another account's root, a bucket, a repository), with no stack to name them after.

`rules.naming.StackNames` builds every stack's names from these; import them from there.
"""

from __future__ import annotations

import hashlib
import re

PROJECT = "ecr-fargate"
# The tag every resource carries and IAM conditions key on (ABAC for security groups and keys).
STACK_TAG = "stack"
# The schedule group every schedule without one joins (EventBridge Scheduler).
SCHEDULE_GROUP = "default"
OIDC_ISSUER = "token.actions.githubusercontent.com"
# Lowercase, because the stack name starts every default repository name (`<stack>/<service>`),
# and without `.`/`_`, which ECS names and IAM role names would not all accept.
STACK_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*", re.ASCII)
# The longest derived IAM name is `ecr-fargate-<stack>-stack-boundary` (managed policy names are
# 128), and the CI role names `ecr-fargate-<stack>-preview` must fit IAM's 64 characters.
MAX_STACK_NAME = 64 - len(f"{PROJECT}--preview")


# Elastic Load Balancing names (load balancers, target groups): 1 to 32 letters, digits and
# hyphens, no hyphen first or last, and a load balancer's may not start with `internal-`:
# https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
# https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
MAX_ELB_NAME = 32


MAX_BUCKET_NAME = 63
# Lambda function names: https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
MAX_FUNCTION_NAME = 64
# IAM role names: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
MAX_ROLE_NAME = 64


def bounded_name(full: str, limit: int) -> str:
    """`full` if it fits in `limit` characters; otherwise the head of it and eight hex characters
    of the whole name's SHA-256, so that two long names never collide and the same input always
    gives the same name."""
    if len(full) <= limit:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    head = full[: limit - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}"


def elb_name(*parts: str) -> str:
    """`parts` joined by hyphens, within ELB's 32 characters."""
    return bounded_name("-".join(parts), MAX_ELB_NAME)


def arn(partition: str, service: str, region: str, account: str, resource: str) -> str:
    """The one ARN format every name here goes through; `region` and `account` are empty where
    the service's ARNs have none (IAM and Route 53 are global, S3 buckets have neither).
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html"""
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


def account_root_arn(partition: str, account: str) -> str:
    """An account as a principal (`:root`): any account, such as a region's ELB log writer or
    an account allowed to pull."""
    return arn(partition, "iam", "", account, "root")


def repository_arn(partition: str, region: str, account: str, name: str) -> str:
    """A repository of any registry (another account's or region's too): `StackNames` names the
    stack's own."""
    return arn(partition, "ecr", region, account, f"repository/{name}")


def bucket_arn(partition: str, bucket: str) -> str:
    """An S3 bucket: bucket names are global, so no region or account."""
    return arn(partition, "s3", "", "", bucket)


def bucket_object_arn(partition: str, bucket: str, key: str) -> str:
    """Objects of a bucket: `key` may end in `*`."""
    return f"{bucket_arn(partition, bucket)}/{key}"


def credential_secret_name(prefix: str) -> str:
    """The Secrets Manager secret of a pull-through cache rule's upstream credentials: ECR only
    reads secrets named `ecr-pullthroughcache/...`. ROOT has no path of its own; its secret is
    named after the word, which the console also accepts."""
    return f"ecr-pullthroughcache/{prefix.rstrip('/')}"


def validate_stack_name(stack: str) -> str:
    if not isinstance(stack, str) or len(stack) > MAX_STACK_NAME or not STACK_NAME.fullmatch(stack):
        raise ValueError(
            f"stack name {stack!r} is not allowed; use 1 to {MAX_STACK_NAME} lowercase letters, "
            "digits and single hyphens (it starts repository, role and cluster names)"
        )
    return stack
