"""`permissionsBoundary`: which managed policy caps every role the stack creates.

`stack` (the default) makes the stack create its own boundary (`components/boundary.py`), so the
first `pulumi up` of a new account, with administrator credentials, needs no prior step.
`bootstrap` makes the roles carry the boundary the one-time CI bootstrap (`python -m
cli.bootstrap`) created, and the stack creates none. Changing a role's boundary is an update in
place (`iam:PutRolePermissionsBoundary`), so a stack moves between the two without replacing a role.

CI deploys `bootstrap` stacks only: its deploy role may write no boundary policy (that guard is
what stops it from widening the roles it creates), so a CI run of a `stack` stack would fail
halfway through `pulumi up`. It is refused here instead, before anything is previewed.

The boundary (`permissions.boundary`) allows exactly the secrets, parameters and image sources
the stack's config references, read from these same settings, so the two never disagree but in
one place on purpose: a stack that is not the account owner is denied the owner's pull-through
cache credentials (`ecr-pullthroughcache/...`), whatever its config says. Such a reference is
refused here too, at preview, instead of failing when the task starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules.registry.pull_through import is_cache_credential
from settings.account import AccountSettings
from settings.errors import Collector, key_path, member_path, show
from settings.fargate import FargateStack
from settings.reader import Obj
from settings.source import stack_file_path

KEY = "permissionsBoundary"
# GitHub Actions sets it to `true` on every runner (its documented default variables).
CI_VARIABLE = "GITHUB_ACTIONS"


def load_permissions_boundary(errors: Collector, top: Obj, env: Mapping[str, str]) -> str:
    """The mode; under GitHub Actions `stack` is refused, and a refused value is checked no
    further (one problem, one line)."""
    given = top.raw(KEY)
    mode = top.text(KEY)
    if given is not None and mode != given:  # refused (reported): checked no further
        return mode
    if mode == "stack" and env.get(CI_VARIABLE) == "true":
        errors.add(
            top.at(KEY),
            "stack is not allowed in CI (GITHUB_ACTIONS=true), whose deploy role may not create "
            "the stack's own boundary; use bootstrap: run `python -m cli.bootstrap STACK`, set "
            "`permissionsBoundary: bootstrap`, run `pulumi up` once with administrator "
            "credentials, then commit the stack file",
        )
    return mode


def not_deploying(env: Mapping[str, str]) -> dict[str, str]:
    """`env` as a command that deploys nothing should pass it to `load`, even on a runner: the
    offline plan (which every pull request runs, forks' included) and the bootstrap (the step a
    `stack` stack runs before it may switch) must render a `stack` stack."""
    return {k: v for k, v in env.items() if k != CI_VARIABLE}


def refuse_denied_secrets(
    errors: Collector, account: AccountSettings, fargate: FargateStack | None, services: Any
) -> None:
    """One line per reference to the owner's cache credentials from a non-owner stack."""
    if fargate is None or account.owns:
        return
    raw = services if isinstance(services, list) else []
    for run in fargate.runs:
        for env_name, arn in sorted(run.container.secrets.items()):
            if not is_cache_credential(arn):
                continue
            errors.add(
                _secret_path(raw, run.service.name, env_name),
                f"{show(arn)} is not allowed; pull-through cache credentials belong to stack "
                f"{account.owner!r} (accountOwner) and every other stack's roles are denied "
                f"them: reference a secret of this stack's own, or run the service from "
                f"{stack_file_path(account.owner).name}",
            )


def _secret_path(services: list[Any], service: str, env_name: str) -> str:
    """`services[i].run.secrets.NAME` or `...environment.NAME` (the old `fargate.` section)."""
    for index, entry in enumerate(services):
        if isinstance(entry, dict) and entry.get("name") == service:
            base = key_path("services", index, "run")
            run = entry.get("run") if isinstance(entry.get("run"), dict) else {}
            break
    else:
        base, run = "fargate", {}
    secrets = run.get("secrets") if isinstance(run, dict) else None
    where = "secrets" if isinstance(secrets, dict) and env_name in secrets else "environment"
    return member_path(f"{base}.{where}", env_name)
