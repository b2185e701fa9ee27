"""Where a stack runs (its AWS accounts) and where its images come from (`promoteFrom`).

A stack file names its account with the AWS provider's own `aws:allowedAccountIds`: the provider
refuses to run with credentials of any other account
(https://www.pulumi.com/registry/packages/aws/installation-configuration/), so a `pulumi up`
with dev's credentials against prod stops before it touches anything. The settings layer reads
the same key to decide which stacks share an account (and so a registry) and which promotions
cross accounts. A stack that does not declare it shares the account of every other such stack,
as before.

`promoteFrom` names the stack whose images this one runs: CI copies each service's image index
from that stack's repository (python -m cli.promote) instead of building. The copy uses one
region's ECR API, so the source must deploy to the same region.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rules import name_parts, naming
from rules.registry import urls
from settings.errors import Collector, key_path, show
from settings.source import RawConfig, StackFileError, from_files, stack_file_path

ALLOWED_ACCOUNTS = "aws:allowedAccountIds"


@dataclass(frozen=True)
class Peer:
    """Another stack of the project, as much of it as placement needs."""

    stack: str
    region: str | None
    accounts: tuple[str, ...]
    owner: str  # its accountOwner (itself by default)
    promote_from: str | None
    repositories: tuple[str, ...] = ()  # its services' repository names


def _repositories(stack: str, services: Any) -> tuple[str, ...]:
    """The repository names of a stack's services, as its own settings name them (its own
    preview reports an entry that is not a service)."""
    found: list[str] = []
    for item in services if isinstance(services, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        name = item.get("repository")
        found.append(
            name
            if isinstance(name, str)
            else naming.StackNames(stack).default_repository(item["name"])
        )
    return tuple(found)


def load_accounts(errors: Collector, value: Any) -> tuple[str, ...]:
    """`aws:allowedAccountIds`: each item exactly 12 ASCII digits. One refused item refuses the
    list for the rest of the run (read as undeclared): a partial list could place the stack in the
    wrong account and report a second, derived problem."""
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        errors.add(
            ALLOWED_ACCOUNTS,
            f"{show(value)} is not allowed; expected a list of 12-digit AWS account IDs "
            "(quoted strings) such as ['123456789012']",
        )
        return ()
    good: list[str] = []
    for i, item in enumerate(value):
        if urls.is_account_id(item):
            good.append(item)
        else:
            errors.add(
                key_path(ALLOWED_ACCOUNTS, i),
                f"{show(item)} is not allowed; an AWS account ID is exactly 12 ASCII digits, "
                "quoted so YAML keeps leading zeros ('012345678901')",
            )
    if len(good) != len(value):
        return ()
    return tuple(dict.fromkeys(good))


def shares_account(mine: tuple[str, ...], theirs: tuple[str, ...]) -> bool:
    """Undeclared accounts are the same account (today's one-account layout)."""
    return not mine or not theirs or bool(set(mine) & set(theirs))


def read_peer(raw: RawConfig, stack: str) -> Peer | None:
    """Another stack's placement from its file beside this one; None when there is no such file
    (or it cannot be read: its own preview reports that)."""
    path = stack_file_path(stack, raw.stacks_dir)
    if not path.exists():
        return None
    try:
        other = from_files(stack, project_dir=raw.project_dir, stack_dir=raw.stacks_dir)
    except StackFileError:
        return None
    return _peer(stack, other.values)


def _peer(stack: str, values: Any) -> Peer:
    accounts = values.get(ALLOWED_ACCOUNTS)
    owner = values.get("accountOwner")
    source = values.get("promoteFrom")
    return Peer(
        stack,
        values.get("aws:region") if isinstance(values.get("aws:region"), str) else None,
        load_accounts(Collector(), accounts),
        owner if isinstance(owner, str) else stack,
        source if isinstance(source, str) else None,
        _repositories(stack, values.get("services")),
    )


def peers(raw: RawConfig) -> list[Peer]:
    """Every other stack file in this stack's directory, in name order."""
    found: list[Peer] = []
    for path in sorted(Path(raw.stacks_dir).glob("Pulumi.*.yaml")):
        stack = path.name[len("Pulumi.") : -len(".yaml")]
        if stack == raw.stack or not name_parts.STACK_NAME.fullmatch(stack):
            continue
        peer = read_peer(raw, stack)
        if peer is not None:
            found.append(peer)
    return found


@dataclass(frozen=True)
class Promotion:
    source: str  # the stack whose images this one runs
    source_accounts: tuple[str, ...]  # its aws:allowedAccountIds (empty: this stack's account)
    source_repositories: tuple[str, ...]  # what CI's promotion reads (and nothing else there)


def load_promotion(
    errors: Collector, raw: RawConfig, value: Any, *, region: str | None, stack: str
) -> Promotion | None:
    """`promoteFrom`: an existing stack of this project, not this one, in the same region."""
    if value is None:
        return None
    key = "promoteFrom"
    if not isinstance(value, str):
        errors.add(key, f"{show(value)} is not allowed; expected a stack name such as 'dev'")
        return None
    if value == stack:
        errors.add(key, f"{show(value)} is not allowed; a stack cannot promote its own images")
        return None
    try:
        name_parts.validate_stack_name(value)
    except ValueError as exc:
        errors.add(key, str(exc))
        return None
    peer = read_peer(raw, value)
    if peer is None:
        errors.add(
            key,
            f"{show(value)} is not allowed; there is no {stack_file_path(value).name} beside "
            "this stack's file: name a stack of this project that builds the images",
        )
        return None
    if region is not None and peer.region != region:
        errors.add(
            key,
            f"{show(value)} is not allowed; it deploys to {show(peer.region)}, this stack to "
            f"{show(region)}, and promotion copies within one region (python -m cli.promote "
            "uses one region's ECR API): promote from a stack in the same region",
        )
        return None
    return Promotion(value, peer.accounts, peer.repositories)


def promoter_roles(raw: RawConfig, accounts: tuple[str, ...], partition: str) -> tuple[str, ...]:
    """The deploy roles of the stacks in other accounts that promote from this one: only these
    may pull across accounts (the repository policy), with the pull actions only."""
    found = []
    for peer in peers(raw) if accounts else ():  # undeclared: every stack shares the account
        if (
            peer.promote_from == raw.stack
            and peer.accounts
            and not shares_account(accounts, peer.accounts)
        ):
            names = naming.StackNames(peer.stack, partition, peer.region or "us-east-1")
            found.append(names.deploy_role_arn(peer.accounts[0]))
    return tuple(sorted(found))
