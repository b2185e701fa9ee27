"""The registry's KMS key: the stack's own key (created with the stack's tags, then managed only
while it carries them) or a given key, used through ECR only."""

from __future__ import annotations

from permissions.documents import (
    Condition,
    Statement,
    deny_other_stacks,
    owned_by_stack,
    retag_owned_keys,
    statement,
    tag_on_create,
)
from rules.name_parts import STACK_TAG
from settings import Settings

KEY_READS = (
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListResourceTags",
)
KEY_WRITES = (
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:ScheduleKeyDeletion",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
)


def via_ecr(settings: Settings) -> str:
    """`kms:ViaService` when ECR calls KMS for the caller (forward access).
    https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
    """
    return f"ecr.{settings.region}.{settings.partition.dns_suffix}"


def registry_key_arn(settings: Settings, account: str) -> str:
    """The stack's own key (by its tag: keys are named by generated IDs) or the given one."""
    registry = settings.registry
    if registry.create_kms_key:
        return settings.names.key_arn(account)
    return str(registry.kms_key_arn)


def key_reads(settings: Settings, account: str) -> list[Statement]:
    if not settings.registry.create_kms_key:
        return []
    key, owned = settings.names.key_arn(account), owned_by_stack(settings)
    return [statement("ReadStackKey", KEY_READS, key, owned)]


def key_writes(settings: Settings, account: str) -> list[Statement]:
    """The registry key: ECR's grant on it for the caller, through ECR only; the stack's own key
    also created and managed (`_stack_key`)."""
    registry = settings.registry
    if registry.encryption != "KMS":
        return []
    key = registry_key_arn(settings, account)
    ecr_calls: Condition = {"StringEquals": {"kms:ViaService": via_ecr(settings)}}
    if registry.create_kms_key:
        ecr_calls["StringEquals"][f"aws:ResourceTag/{STACK_TAG}"] = settings.stack
    # ECR creates (and on delete retires) a grant on the key for the caller, through ECR only.
    # https://docs.aws.amazon.com/AmazonECR/latest/userguide/encryption-at-rest.html
    grant: Condition = {**ecr_calls, "Bool": {"kms:GrantIsForAWSResource": "true"}}
    found = [
        statement("GrantStackKeyToEcr", ["kms:CreateGrant"], key, grant),
        statement("UseStackKeyThroughEcr", ["kms:DescribeKey", "kms:RetireGrant"], key, ecr_calls),
    ]
    if not registry.create_kms_key:
        return found
    return [*found, *_stack_key(settings, account)]


def _stack_key(settings: Settings, account: str) -> list[Statement]:
    """CreateKey with tags is authorized as kms:TagResource on "all keys in the account and
    Region", because the key does not exist yet: TagResource cannot be scoped to one key.
    https://docs.aws.amazon.com/kms/latest/developerguide/tag-permissions.html
    So tagging may only set the stack's tag keys, `stack` only to this stack (KMS has no
    create-action key), and is denied on a key another stack's tag names; a later change of
    another tag sends that tag alone, on a key that already carries this stack's tag.
    IAM cannot tell a new key from an existing key without a `stack` tag: give the account's
    other keys a `stack` tag (or a key policy that does not delegate to IAM) to keep them
    out of reach; ScheduleKeyDeletion additionally needs the key's own tag to name the stack."""
    key = settings.names.key_arn(account)
    tags: Condition = {
        "StringEquals": {f"aws:RequestTag/{STACK_TAG}": settings.stack},
        "ForAllValues:StringEquals": {"aws:TagKeys": sorted(settings.tags)},
    }
    tag = ["kms:TagResource"]
    return [
        statement("CreateStackKey", ["kms:CreateKey"], "*", tags),
        statement("TagNewStackKey", tag, key, tag_on_create(settings)),
        statement("RetagStackKey", tag, key, retag_owned_keys(settings)),
        deny_other_stacks(settings, "DenyTaggingOtherStacksKeys", tag, key),
        statement("ManageStackKey", KEY_WRITES, key, owned_by_stack(settings)),
    ]
