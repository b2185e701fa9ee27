"""`python -m cli.bootstrap STACK [STACK ...]`: the CloudFormation template for CI, on stdout.

A person with administrator rights deploys one CloudFormation stack per Pulumi stack, the account
owner's first (and again when a stack's config changes what it creates, or the secrets,
parameters and image sources its tasks read: the boundary allows exactly those):

    python -m cli.bootstrap prod > ci-prod.json   # prod is the accountOwner
    python -m cli.bootstrap dev > ci-dev.json
    aws cloudformation deploy --template-file ci-prod.json --stack-name ecr-fargate-ci-prod \\
        --capabilities CAPABILITY_NAMED_IAM
    aws cloudformation deploy --template-file ci-dev.json --stack-name ecr-fargate-ci-dev \\
        --capabilities CAPABILITY_NAMED_IAM

Why one per stack: each template stays under the 51,200 bytes `deploy` takes without an S3
bucket, and changing or deleting one stack's CI roles never touches another's.

Per stack the template holds the permissions boundary of the stack's own roles and, for stacks
with `github` config, a deploy role and (dev only: the stack pull requests preview) a read-only
preview role, all under the CI path
`/ecr-fargate-ci/<stack>/`. Nothing a stack deploys can write them: the deploy role's own policy
denies every IAM action there. The account's one GitHub OIDC provider follows `accountOwner`
(settings/account.py): the owner's template creates it (unless `github.oidcProviderArn` names an
existing one), every other stack's roles trust it by ARN, so the owner's CI stack goes first and
deleting another stack's leaves the provider. Several stacks rendered into one template still work:
the owner among them creates the provider once.

A stack starts with `permissionsBoundary: stack` (it creates its roles' boundary itself); once
this template is deployed, its file says `bootstrap` and one `pulumi up` with administrator
credentials moves its roles onto the template's boundary in place (settings/boundary.py).

For a self-managed state backend (`--state-bucket`, `--state-prefix`: `s3://BUCKET/PREFIX`) it
adds per stack the KMS key of the stack's `awskms://` secrets provider, and gives each CI role
exactly its own stack's state objects and key (`policies.state_policy`): no passphrase, and who
may decrypt a stack's secrets is IAM's decision per stack and role.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import permissions as policies
import settings as stack_settings
from permissions import StateBackend
from rules.iam import oidc
from rules.naming import OIDC_ISSUER, StackNames
from settings import ConfigErrors, Settings
from settings.boundary import not_deploying
from settings.source import PROJECT_DIR, from_files, stack_file_path

ACCOUNT = "${AWS::AccountId}"
PROVIDER_ID = "GithubOidcProvider"
# `aws cloudformation deploy --template-file` sends the template in the request, whose body may
# hold 51,200 bytes ("Template body size in a request"); past that it needs --s3-bucket.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
DIRECT_DEPLOY_BYTES = 51_200
# IAM quotas: a managed policy holds 6,144 characters (whitespace not counted) and a role may
# have ten managed policies attached by default.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
MANAGED_POLICY_CHARS = 6144
MANAGED_POLICIES_PER_ROLE = 10
INLINE_POLICY_CHARS = 10240  # all of one role's inline policies together
SESSION_SECONDS = 3600
# S3 general purpose bucket names; a prefix is plain path segments (no wildcard reaches an ARN).
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
BUCKET = re.compile(r"(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII)
PREFIX_SEGMENT = re.compile(r"[A-Za-z0-9_.-]+", re.ASCII)


class BootstrapError(Exception):
    """A problem to print as one line and exit 1 on."""


def load_stacks(stacks: Sequence[str], stack_dir: Path) -> list[Settings]:
    """Each stack's validated settings; every problem of every stack, one line each. Not as a CI
    deploy, even on a runner: the bootstrap is what a `permissionsBoundary: stack` stack runs
    before it may switch to `bootstrap`."""
    env = not_deploying(os.environ)
    problems: list[str] = []
    found: list[Settings] = []
    for stack in sorted(set(stacks)):
        path = stack_file_path(stack, stack_dir)
        if not path.is_file():
            problems.append(f"stack {stack!r}: there is no {path.name} in {stack_dir}")
            continue
        try:
            loaded = stack_settings.load(from_files(stack, stack_dir=stack_dir), env=env)
        except ConfigErrors as exc:
            problems += [f"stack {stack!r}: {e}" for e in exc.errors]
            continue
        found.append(loaded)
    if problems:
        raise BootstrapError("\n".join(problems))
    return found


def provider_arn(stacks: Sequence[Settings]) -> str | None:
    """The given provider ARN all stacks name, or None (the template creates the provider)."""
    given = {s.stack: s.github.oidc_provider_arn for s in stacks if s.github is not None}
    distinct = set(given.values())
    if len(distinct) > 1:
        shown = ", ".join(f"{stack}: {arn or '(none: create it)'}" for stack, arn in given.items())
        raise BootstrapError(
            "the stacks must agree on 'ecr-fargate:github.oidcProviderArn' (an account has one "
            f"GitHub provider): {shown}"
        )
    return next(iter(distinct), None)


def with_account(value: Any) -> Any:
    """Strings naming `${AWS::AccountId}` become `Fn::Sub`, so the template fits any account."""
    if isinstance(value, str):
        return {"Fn::Sub": value} if ACCOUNT in value else value
    if isinstance(value, dict):
        return {k: with_account(v) for k, v in value.items()}
    if isinstance(value, list):
        return [with_account(v) for v in value]
    return value


def pack(statements: Sequence[dict[str, Any]], limit: int) -> list[list[dict[str, Any]]]:
    """Statements, in order, in as few documents as fit `limit` characters each."""
    chunks: list[list[dict[str, Any]]] = [[]]
    for st in statements:
        candidate = [*chunks[-1], st]
        if chunks[-1] and size(policies.document(candidate)) > limit:
            chunks.append([st])
        else:
            chunks[-1] = candidate
    return chunks


def size(document: dict[str, Any]) -> int:
    """IAM counts a policy's characters without whitespace; the account ID is 12 digits."""
    text = json.dumps(document, separators=(",", ":")).replace(ACCOUNT, "0" * 12)
    return len(text)


def logical_id(stack: str, suffix: str) -> str:
    return "".join(part.capitalize() for part in stack.split("-")) + suffix


def state_resources(
    s: Settings, state: StateBackend
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The stack's secrets key and its alias, and the deploy and preview roles' inline state
    policies (none for a preview role that gets no access: `policies.previews_with_secrets`)."""
    names = s.names
    key_id = logical_id(s.stack, "SecretsKey")
    key_arn = {"Fn::GetAtt": [key_id, "Arn"]}
    users = [names.deploy_role_arn(ACCOUNT)]
    if has_preview_role(s):
        users.append(names.preview_role_arn(ACCOUNT))
    key = {
        "Type": "AWS::KMS::Key",
        # Deleting the key would leave the stack's encrypted config and state unreadable.
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "Description": f"Secrets provider of Pulumi stack {s.stack} ({names.secrets_key_alias})",
            "EnableKeyRotation": True,
            "KeyPolicy": policies.secrets_key_policy(s, ACCOUNT, users),
        },
    }
    alias = {
        "Type": "AWS::KMS::Alias",
        "Properties": {"AliasName": names.secrets_key_alias, "TargetKeyId": {"Ref": key_id}},
    }
    resources = {key_id: key, logical_id(s.stack, "SecretsKeyAlias"): alias}
    inline: list[list[dict[str, Any]]] = []
    for deploy in (True, False):
        doc = policies.state_policy(s, state, key_arn, deploy=deploy)
        inline.append([{"PolicyName": "state", "PolicyDocument": doc}] if doc else [])
    return resources, inline[0], inline[1]


def stack_resources(
    s: Settings, provider: str, depends: list[str], state: StateBackend | None = None
) -> dict[str, Any]:
    """One stack's boundary, and with `github` its deploy policies, preview and deploy role (and
    with a state backend, its secrets key and the roles' state policies).

    A stack deployed only by hand (no `github`) may still use this boundary
    (`permissionsBoundary: bootstrap`): it gets the boundary and no CI roles.
    """
    names = s.names
    boundary = {
        logical_id(s.stack, "Boundary"): _managed(
            names.boundary_policy_name,
            names.ci_path,
            f"Permissions boundary of every role stack {s.stack} creates",
            policies.boundary_policy(s, ACCOUNT),
        )
    }
    github = s.github
    if github is None:
        return boundary
    deploy = policies.deploy_policy(s, ACCOUNT)
    chunks = pack(deploy["Statement"], MANAGED_POLICY_CHARS)
    if len(chunks) > MANAGED_POLICIES_PER_ROLE:
        raise BootstrapError(f"stack {s.stack!r}: the deploy policy needs {len(chunks)} policies")
    keys, deploy_state, preview_state = state_resources(s, state) if state else ({}, [], [])
    deploy_ids = [logical_id(s.stack, f"DeployPolicy{i}") for i in range(1, len(chunks) + 1)]
    resources: dict[str, Any] = dict(boundary)
    for index, (policy_id, chunk) in enumerate(zip(deploy_ids, chunks, strict=True), start=1):
        resources[policy_id] = _managed(
            names.deploy_policy_name(index),
            names.ci_path,
            f"pulumi up of stack {s.stack} ({index}/{len(chunks)})",
            policies.document(chunk),
        )
    if has_preview_role(s):
        resources[logical_id(s.stack, "PreviewRole")] = _preview_role(
            s, provider, depends, preview_state
        )
    resources[logical_id(s.stack, "DeployRole")] = _role(
        names.deploy_role_name,
        names,
        oidc.trust_policy(provider, [github.deploy_subject]),
        depends,
        ManagedPolicyArns=[{"Ref": i} for i in deploy_ids],
        Description=f"GitHub Actions: pulumi up of stack {s.stack}",
        **({"Policies": deploy_state} if deploy_state else {}),
    )
    return {**resources, **keys}


def has_preview_role(s: Settings) -> bool:
    """Only a stack pull requests really preview has a preview role (dev's, which the preview
    workflow assumes): prod is planned offline on pull requests and previewed for real inside
    its environment with the deploy role, so a prod preview role would only be one more role any
    same-repository pull request could assume (`policies.previews_with_secrets`)."""
    return s.github is not None and policies.previews_with_secrets(s)


def _preview_role(
    s: Settings, provider: str, depends: list[str], state: list[dict[str, Any]]
) -> dict[str, Any]:
    """The read-only preview role, trusted for pull requests."""
    assert s.github is not None
    preview: list[dict[str, Any]] = [
        {"PolicyName": "preview", "PolicyDocument": policies.preview_policy(s, ACCOUNT)}
    ]
    preview += state
    if sum(size(p["PolicyDocument"]) for p in preview) > INLINE_POLICY_CHARS:
        raise BootstrapError(f"stack {s.stack!r}: the preview policy exceeds IAM's inline quota")
    return _role(
        s.names.preview_role_name,
        s.names,
        oidc.trust_policy(provider, [s.github.preview_subject]),
        depends,
        Policies=preview,
        Description=f"GitHub Actions: pulumi preview of stack {s.stack} (read only)",
    )


def _managed(name: str, path: str, description: str, doc: dict[str, Any]) -> dict[str, Any]:
    properties = {
        "ManagedPolicyName": name,
        "Path": path,
        "Description": description,
        "PolicyDocument": doc,
    }
    return {"Type": "AWS::IAM::ManagedPolicy", "Properties": properties}


def _role(
    name: str, names: StackNames, trust: dict[str, Any], depends: list[str], **extra: Any
) -> dict[str, Any]:
    properties = {
        "RoleName": name,
        "Path": names.ci_path,
        "AssumeRolePolicyDocument": trust,
        "MaxSessionDuration": SESSION_SECONDS,
        **extra,
    }
    role: dict[str, Any] = {"Type": "AWS::IAM::Role", "Properties": properties}
    if depends:
        role["DependsOn"] = depends
    return role


def github_provider(
    stacks: Sequence[Settings],
) -> tuple[str, dict[str, Any], list[str], str]:
    """The provider ARN the roles trust, the provider resource if this template creates it, what
    the roles depend on, and a sentence for the Description.

    An account has one provider for the URL, so exactly one CloudFormation stack may create it:
    the account owner's (`accountOwner`), when it is rendered here and no ARN is given. Every
    other stack's roles trust it by ARN with no DependsOn, so changing or deleting their stacks
    never touches it; the owner's stack must be deployed first. Where that does not fit (an owner
    without `github` creates none; a second region's owner in the same account would create a
    second and fail), name an existing provider in `github.oidcProviderArn`.
    """
    given = provider_arn(stacks)
    provider = given or stacks[0].names.oidc_provider_arn(ACCOUNT)
    if given is not None or not any(s.github is not None for s in stacks):
        return provider, {}, [], ""
    if any(s.account.owns for s in stacks):
        resource = {
            "Type": "AWS::IAM::OIDCProvider",
            "Properties": {"Url": f"https://{OIDC_ISSUER}", "ClientIdList": [oidc.AUDIENCE]},
        }
        note = "; and the account's GitHub OIDC provider (accountOwner)"
        return provider, {PROVIDER_ID: resource}, [PROVIDER_ID], note
    owners = sorted({s.account.owner for s in stacks})
    owner_names = [StackNames(o, project=stacks[0].project) for o in owners]
    made_by = " or ".join(
        f"{n.ci_cloudformation_stack} (stack {n.stack}, accountOwner)" for n in owner_names
    )
    note = f"; the GitHub OIDC provider is created by {made_by}: deploy that first"
    return provider, {}, [], note


def outputs(stacks: Sequence[Settings], provider: str, state: bool) -> dict[str, Any]:
    """The role ARNs the repository variables need, and with a state backend the secrets URLs."""
    found: dict[str, Any] = {}
    with_ci = [s for s in stacks if s.github is not None]
    if with_ci:
        found["GithubOidcProviderArn"] = {"Value": provider}
    for s in with_ci:
        for role in ("DeployRole", "PreviewRole") if has_preview_role(s) else ("DeployRole",):
            found[logical_id(s.stack, f"{role}Arn")] = {
                "Description": f"{role} of stack {s.stack}",
                "Value": {"Fn::GetAtt": [logical_id(s.stack, role), "Arn"]},
            }
        if state:
            found[logical_id(s.stack, "SecretsProvider")] = {
                "Description": f"pulumi stack change-secrets-provider of stack {s.stack}",
                "Value": s.names.secrets_provider,
            }
    return found


def template(stacks: Sequence[Settings], state: StateBackend | None = None) -> dict[str, Any]:
    """The CloudFormation template for these stacks (already validated): usually one stack."""
    partitions = sorted({s.partition.name for s in stacks})
    if len(partitions) != 1:
        raise BootstrapError(
            f"one template deploys to one account: the stacks are in partitions {partitions}"
        )
    provider, resources, depends, note = github_provider(stacks)
    for s in stacks:
        resources.update(stack_resources(s, provider, depends, state))
    return with_account(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "ecr-fargate CI: per stack its boundary and CI roles" + note,
            "Resources": resources,
            "Outputs": outputs(stacks, provider, state is not None),
        }
    )


def render(stacks: Sequence[Settings], state: StateBackend | None = None) -> str:
    return json.dumps(template(stacks, state), separators=(",", ":"), sort_keys=True) + "\n"


def state_backend(bucket: str | None, prefix: str | None) -> StateBackend | None:
    """`--state-bucket` and `--state-prefix` as Pulumi lays out keys (`PREFIX/.pulumi/...`).

    Both end up in IAM ARNs, where `*` and `?` are wildcards: only a valid bucket name and plain
    path segments are accepted, so a grant never reaches past the backend."""
    if bucket is None:
        if prefix is not None:
            raise BootstrapError("--state-prefix needs --state-bucket")
        return None
    if not BUCKET.fullmatch(bucket):
        raise BootstrapError(f"--state-bucket {bucket!r} is not an S3 bucket name")
    segments = (prefix or "").strip("/").split("/") if (prefix or "").strip("/") else []
    for segment in segments:
        if not PREFIX_SEGMENT.fullmatch(segment) or segment in (".", ".."):
            raise BootstrapError(
                f"--state-prefix {prefix!r} is not allowed; use path segments of letters, digits, "
                "'.', '_' and '-' (the path of PULUMI_BACKEND_URL s3://BUCKET/PREFIX)"
            )
    return StateBackend(bucket, "".join(f"{segment}/" for segment in segments))


def warn_if_too_big(text: str) -> None:
    """Still print the template (an S3 bucket deploys it), but say why a direct deploy fails."""
    nbytes = len(text.encode())
    if nbytes > DIRECT_DEPLOY_BYTES:
        print(
            f"warning: the template is {nbytes:,} bytes, over the {DIRECT_DEPLOY_BYTES:,} bytes "
            "`aws cloudformation deploy --template-file` takes directly: render one stack per "
            "template, or deploy with --s3-bucket BUCKET",
            file=sys.stderr,
        )


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line, no usage block: the same shape as every other error of this command."""
        self.exit(2, f"{self.prog}: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(prog="python -m cli.bootstrap", description=__doc__.split("\n")[0])
    parser.add_argument("stacks", nargs="+", metavar="STACK", help="stacks to create CI roles for")
    parser.add_argument(
        "--stack-dir",
        type=Path,
        default=PROJECT_DIR,
        help="where the Pulumi.<stack>.yaml files are (default: the project directory)",
    )
    parser.add_argument(
        "--state-bucket",
        metavar="BUCKET",
        help="self-managed state backend s3://BUCKET/PREFIX: a secrets key per stack, and each "
        "CI role's access to its own stack's state",
    )
    parser.add_argument("--state-prefix", metavar="PREFIX", help="the backend URL's path, if any")
    args = parser.parse_args(argv)
    if not args.stack_dir.is_dir():
        parser.error(f"--stack-dir {args.stack_dir} is not a directory")
    try:
        state = state_backend(args.state_bucket, args.state_prefix)
    except BootstrapError as exc:
        parser.error(str(exc))
    try:
        text = render(load_stacks(args.stacks, args.stack_dir), state)
    except BootstrapError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    sys.stdout.write(text)
    warn_if_too_big(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
