"""Promotion by digest (`promoteFrom`): what CI's copy and a promoted stack's `pulumi up` need.

`python -m cli.promote` runs with the promoted stack's deploy role: it reads the source stack's
repositories (the index, its manifests and their blobs: pull actions only, on exactly those
repositories, in the source's account), writes into the stack's own repositories (the push
actions `PushStackImages` already grants) and records the digests in the stack's own SSM
parameter. A `pulumi up` of the stack reads that one parameter (preview too). Cross-account, the
source's repository policy must grant the same pull actions to this role
(`promotion_grant`), which the source stack renders.
"""

from __future__ import annotations

from permissions.documents import Statement, statement
from rules.registry.access import PROMOTION_PULL_ACTIONS
from settings import Settings


def parameter_arn(settings: Settings, account: str) -> str:
    """The ARN drops the leading slash of a hierarchical parameter name."""
    return settings.names.parameter_arn(account, settings.names.image_digests_parameter[1:])


def source_account(settings: Settings, account: str) -> str:
    promotion = settings.promotion
    if promotion is None or not promotion.source_accounts:
        return account
    if account in promotion.source_accounts or set(promotion.source_accounts) & set(
        settings.accounts
    ):
        return account
    return promotion.source_accounts[0]


def promotion_reads(settings: Settings, account: str) -> list[Statement]:
    if settings.promotion is None:
        return []
    arn = parameter_arn(settings, account)
    return [statement("ReadPromotedDigests", ["ssm:GetParameter"], arn)]


def promotion_writes(settings: Settings, account: str) -> list[Statement]:
    promotion = settings.promotion
    if promotion is None:
        return []
    source = source_account(settings, account)
    repositories = [
        settings.names.repository_arn(source, name) for name in promotion.source_repositories
    ]
    found = [
        statement("RecordPromotedDigests", ["ssm:PutParameter"], parameter_arn(settings, account))
    ]
    if repositories:
        found.append(statement("PullPromotedImages", PROMOTION_PULL_ACTIONS, repositories))
    return found
