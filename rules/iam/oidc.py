"""GitHub Actions OIDC: subjects, and trust policies that always pin audience and subject.

The CI roles' permissions are in the `permissions` package; the bootstrap (`cli.bootstrap`) creates the roles.

A trust policy without a `sub` condition, or with a wildcard that reaches past one repository, lets
any GitHub workflow assume the role; `trust_policy` cannot produce either.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

ISSUER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}", re.ASCII)
ENVIRONMENT = re.compile(r"[^*?\s,'\"]{1,255}")
VERSION = "2012-10-17"


def validate_repository(repository: str) -> str:
    if not REPOSITORY.fullmatch(repository) or repository.split("/")[1] in (".", ".."):
        raise ValueError(f"{repository!r} is not allowed; expected OWNER/REPO without wildcards")
    return repository


def subject(
    kind: str,
    repository: str,
    *,
    environment: str | None = None,
    ref: str = "refs/heads/main",
    ids: tuple[int, int] | None = None,
) -> str:
    """The `sub` claim GitHub sends for a pull request, a branch, or a job in an environment.

    `ids=(owner_id, repository_id)` gives the ID-based form a repository gets when its OIDC subject
    template includes `repository_owner_id` and `repository_id` (immune to renames).
    """
    validate_repository(repository)
    if kind == "pull_request":
        context = "pull_request"
    elif kind == "branch":
        if not ref.startswith("refs/heads/") or "*" in ref:
            raise ValueError(f"{ref!r} is not allowed; expected refs/heads/NAME")
        context = f"ref:{ref}"
    elif kind == "environment":
        if not environment or not ENVIRONMENT.fullmatch(environment):
            raise ValueError(f"{environment!r} is not a GitHub environment name")
        context = f"environment:{environment}"
    else:
        raise ValueError(f"{kind!r} is not allowed; use pull_request, branch or environment")
    if ids is not None:
        owner_id, repository_id = ids
        return f"repository_owner_id:{owner_id}:repository_id:{repository_id}:{context}"
    return f"repo:{repository}:{context}"


def trust_policy(provider_arn: str, subjects: Sequence[str]) -> dict[str, Any]:
    if not subjects:
        raise ValueError("a GitHub OIDC trust policy needs at least one subject")
    for sub in subjects:
        if "*" in sub or "?" in sub:
            raise ValueError(f"{sub!r} is not allowed; subjects are exact (no wildcards)")
        if not (sub.startswith("repo:") or sub.startswith("repository_owner_id:")):
            raise ValueError(f"{sub!r} is not a GitHub subject")
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{ISSUER}:aud": AUDIENCE,
                        f"{ISSUER}:sub": sorted(subjects),
                    }
                },
            }
        ],
    }
