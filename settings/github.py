"""GitHub OIDC settings: which repository (and environment) may assume the stack's CI roles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rules.iam import oidc
from settings.errors import Collector, show
from settings.keys import GITHUB
from settings.reader import Obj

PROVIDER_ARN = re.compile(
    r"arn:aws(?:-[a-z]+)*:iam::[0-9]{12}:oidc-provider/token\.actions\.githubusercontent\.com",
    re.ASCII,
)


@dataclass(frozen=True)
class GithubSettings:
    repository: str
    oidc_provider_arn: str | None  # None: the CI bootstrap creates the account's provider
    preview_subject: str
    deploy_subject: str


# A branch name as git accepts it in `refs/heads/<name>` (git check-ref-format), without the
# characters a trust-policy subject must not hold (wildcards): no space, control character,
# `~^:?*[\\`, `..`, `@{`, leading `-` or `/`, trailing `/` or `.lock`.
BRANCH = re.compile(
    r"(?!-|/)(?!.*(?:\.\.|@\{|//|/\.|\.lock$|/$|\.$))[^\x00-\x20\x7f~^:?*\[\\]{1,255}"
)


def load_github(
    errors: Collector, value: Any, *, environment: str, partition: str = "aws"
) -> GithubSettings | None:
    obj = Obj(errors, "github", value, GITHUB)
    if not obj.value:
        return None
    repository = obj.string("repository")
    if repository is None:
        if not obj.has("repository"):
            errors.add(
                obj.at("repository"),
                "is required: OWNER/REPO of the repository whose workflows deploy",
            )
        return None
    provider = obj.string("oidcProviderArn")
    if provider is not None and not (
        PROVIDER_ARN.fullmatch(provider) and provider.split(":")[1] == partition
    ):
        errors.add(
            obj.at("oidcProviderArn"),
            f"{show(provider)} is not allowed; expected arn:{partition}:iam::ACCOUNT:"
            "oidc-provider/token.actions.githubusercontent.com (the stack's partition)",
        )
    owner_id, repository_id = (
        obj.integer("ownerId"),
        obj.integer("repositoryId"),
    )
    if (owner_id is None) != (repository_id is None):
        errors.add(obj.path, "ownerId and repositoryId go together (the ID-based subject format)")
    ids = (owner_id, repository_id) if owner_id and repository_id else None
    branch = obj.text("branch")
    if not BRANCH.fullmatch(branch):
        errors.add(
            obj.at("branch"),
            f"{show(branch)} is not allowed; a branch name as git accepts it, without spaces, "
            "wildcards or control characters (e.g. main)",
        )
        return None
    prod_environment = obj.text("prodEnvironment")
    if not oidc.ENVIRONMENT.fullmatch(prod_environment):
        errors.add(
            obj.at("prodEnvironment"),
            f"{show(prod_environment)} is not allowed; a GitHub environment name of 1 to 255 "
            "characters without wildcards, commas, quotes or spaces",
        )
        return None
    with errors.guard(obj.at("repository")):
        preview = oidc.subject("pull_request", repository, ids=ids)
        if environment == "prod":
            # Once a job names an environment, GitHub sends the environment form, not the branch.
            deploy = oidc.subject("environment", repository, environment=prod_environment, ids=ids)
        else:
            deploy = oidc.subject("branch", repository, ref=f"refs/heads/{branch}", ids=ids)
        return GithubSettings(repository, provider, preview, deploy)
    return None
