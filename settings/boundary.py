"""What a stack's permissions boundary can never allow, refused at the key that asks for it.

The boundary (`permissions.boundary`) allows exactly the secrets, parameters and image sources
the stack's config references, read from these same settings, so the two never disagree but in
one place on purpose: a stack that is not the account owner is denied the owner's pull-through
cache credentials (`ecr-pullthroughcache/...`), whatever its config says. Such a reference is
refused here, at preview, instead of failing when the task starts.
"""

from __future__ import annotations

from typing import Any

from rules.registry.pull_through import is_cache_credential
from settings.account import AccountSettings
from settings.errors import Collector, key_path, member_path, show
from settings.fargate import FargateStack
from settings.source import stack_file_path


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
