"""Repository policy: cross-account pull and CI-only push, with the least `ecr:` actions for each."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from botocore.utils import ArnParser

from rules.naming import account_root_arn
from rules.registry.urls import is_account_id

# IAM's role name (`[\w+=,.@-]{1,64}`) under an optional path of printable ASCII.
ROLE_RESOURCE = re.compile(r"role/(?:[!-~]*/)?[\w+=,.@-]{1,64}", re.ASCII)

# What `docker pull` needs once authenticated (GetAuthorizationToken is identity-based only).
PULL_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)
# What `docker push` needs: layer existence checks, the three-step layer upload, and the manifest.
PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)
# Actions that change what a tag points at; only the CI roles may call them once any are listed.
WRITE_ACTIONS = (
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)


def repository_policy(
    *, partition: str, pull_account_ids: Sequence[str], push_role_arns: Sequence[str]
) -> dict[str, Any] | None:
    """The repository policy document, or None when nothing beyond the account's own IAM applies.

    Listing CI roles also adds an explicit Deny of the write actions for every other principal:
    an Allow alone would not stop an administrator's identity policy from pushing.
    """
    statements: list[dict[str, Any]] = []
    if pull_account_ids:
        statements.append(
            {
                "Sid": "CrossAccountPull",
                "Effect": "Allow",
                "Principal": {
                    "AWS": sorted(account_root_arn(partition, a) for a in pull_account_ids)
                },
                "Action": list(PULL_ACTIONS),
            }
        )
    if push_role_arns:
        roles = sorted(push_role_arns)
        statements.append(
            {
                "Sid": "CiPush",
                "Effect": "Allow",
                "Principal": {"AWS": roles},
                "Action": list(PUSH_ACTIONS),
            }
        )
        statements.append(
            {
                "Sid": "OnlyCiPushes",
                "Effect": "Deny",
                "Principal": "*",
                "Action": list(WRITE_ACTIONS),
                "Condition": {"StringNotEquals": {"aws:PrincipalArn": roles}},
            }
        )
    if not statements:
        return None
    return {"Version": "2012-10-17", "Statement": statements}


def validate_role_arn(arn: str, partition: str | None = None) -> str:
    """One IAM role of one account, without wildcards: a wildcard principal grants unknown roles.

    `partition` is the stack's: a principal from another partition can never be granted access.
    """
    try:
        parts = ArnParser().parse_arn(arn)
    except ValueError:
        parts = {}
    home = partition or "aws"
    if (
        parts.get("service") != "iam"
        or parts.get("region") != ""
        or not ROLE_RESOURCE.fullmatch(str(parts.get("resource", "")))
    ):
        raise ValueError(
            f"{arn!r} is not allowed; expected an IAM role ARN arn:{home}:iam::ACCOUNT:role/NAME"
        )
    if "*" in arn or not is_account_id(parts.get("account")):
        raise ValueError(
            f"{arn!r} is not allowed; name one role in one account (12 digits), without wildcards"
        )
    if partition is not None and parts.get("partition") != partition:
        raise ValueError(f"{arn!r} is not allowed; the stack's partition is {partition}")
    return arn
