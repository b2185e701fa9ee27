"""The account owner's registry-wide additions (settings.registry_wide): pull-time update
exclusions, create-on-push templates, replication and the replicas' keys in other regions; and
the CI push that creates a repository under a create-on-push prefix.

A stack that does not own the registry renders none of them and gets none of this.
"""

from __future__ import annotations

from permissions.documents import (
    ECR,
    Condition,
    Statement,
    deny_other_stacks,
    owned_by_stack,
    retag_owned_keys,
    service_linked_role,
    statement,
    tag_on_create,
)
from permissions.keys import KEY_READS, KEY_WRITES
from permissions.registry import IMAGE_READ_ACTIONS, PUSH_ACTIONS
from rules.name_parts import STACK_TAG
from rules.naming import StackNames
from rules.registry.pull_through import TEMPLATE_KMS_ACTIONS, TEMPLATE_ROLE_ACTIONS
from settings import Settings
from settings.registry_wide import RegistryWide

# ECR's replication creates this service-linked role on the first replication configuration.
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/slr-replication.html
REPLICATION = "replication.ecr.amazonaws.com"
EXCLUSION_ACTIONS = (
    "ecr:DeregisterPullTimeUpdateExclusion",
    "ecr:ListPullTimeUpdateExclusions",
    "ecr:RegisterPullTimeUpdateExclusion",
)
TEMPLATE_WRITES = (
    "ecr:CreateRepositoryCreationTemplate",
    "ecr:DeleteRepositoryCreationTemplate",
    "ecr:UpdateRepositoryCreationTemplate",
)
# What creating a template checks of its caller, on the repositories it applies to.
TEMPLATE_APPLY = ("ecr:CreateRepository", "ecr:PutLifecyclePolicy", "ecr:SetRepositoryPolicy")


def _wide(settings: Settings) -> RegistryWide:
    return settings.registry_wide if settings.account.owns else RegistryWide()


def creates_templates(settings: Settings) -> bool:
    wide = _wide(settings)
    return bool(wide.create_on_push or wide.replication)


def template_arns(wide: RegistryWide, names: StackNames, account: str) -> list[str]:
    """The repositories the templates apply to: `<prefix>/*` here (create on push) and in each
    destination region (replication: a filter matches by name prefix, so `<prefix>*`)."""
    found = [names.repository_arn(account, f"{e.prefix}/*") for e in wide.create_on_push]
    for region in wide.replica_regions:
        there = names.in_region(region)
        found += [there.repository_arn(account, f"{p}*") for p in wide.replicated_prefixes(region)]
    return sorted(found)


def replica_key_arns(settings: Settings, account: str) -> list[str]:
    """The replicas' keys (KMS encryption only), one per destination region, by the stack tag."""
    if settings.registry.encryption != "KMS":
        return []
    names = settings.names
    return [names.in_region(r).key_arn(account) for r in _wide(settings).replica_regions]


def template_role_document(
    wide: RegistryWide, names: StackNames, account: str, keys: list[str]
) -> dict[str, object]:
    """What ECR does as the templates' role: create (replicating, also write) repositories under
    exactly the templates' prefixes, in the regions they apply to, with the keys they name."""
    statements: list[dict[str, object]] = [
        {
            "Sid": "CreateTemplatedRepositories",
            "Effect": "Allow",
            "Action": list(TEMPLATE_ROLE_ACTIONS),
            "Resource": template_arns(wide, names, account),
        }
    ]
    if keys:
        statements.append(
            {
                "Sid": "EncryptTemplatedRepositories",
                "Effect": "Allow",
                "Action": list(TEMPLATE_KMS_ACTIONS),
                "Resource": sorted(keys),
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


# --- the deploy and preview roles ----------------------------------------------------------------
def unscoped_reads(settings: Settings) -> set[str]:
    wide = _wide(settings)
    found = {"ecr:ListPullTimeUpdateExclusions"} if wide.excluded_stacks else set()
    if creates_templates(settings):
        found.add("ecr:DescribeRepositoryCreationTemplates")
    if wide.replication:
        found.add("ecr:DescribeRegistry")
    return found


def reads(settings: Settings, account: str) -> list[Statement]:
    keys = replica_key_arns(settings, account)
    if not keys:
        return []
    return [statement("ReadReplicaKeys", KEY_READS, keys, owned_by_stack(settings))]


def writes(settings: Settings, account: str) -> list[Statement]:
    wide = _wide(settings)
    found: list[Statement] = []
    if wide.excluded_stacks:
        found.append(statement("ManagePullTimeExclusions", EXCLUSION_ACTIONS, "*"))
    if creates_templates(settings):
        found += [
            statement("ManagePushAndReplicaTemplates", TEMPLATE_WRITES, "*"),
            statement("ApplyPushAndReplicaTemplates", TEMPLATE_APPLY, template_arns(
                wide, settings.names, account
            )),
            service_linked_role(settings, account, ECR, "PushTemplateLinkedRole"),
        ]  # fmt: skip
    if wide.create_on_push:
        found.append(_create_on_push(settings, account))
    if wide.replication:
        found += [
            statement(
                "ManageReplication",
                ["ecr:DescribeRegistry", "ecr:PutReplicationConfiguration"],
                "*",
            ),
            service_linked_role(settings, account, REPLICATION, "ReplicationLinkedRole"),
        ]
    return found + _replica_keys(settings, account)


def _create_on_push(settings: Settings, account: str) -> Statement:
    """CI pushes to repositories under the prefixes, and its push creates them: the push
    actions and `ecr:CreateRepository` on `<prefix>/*` only (docs/registry-wide.md says what the
    user guide leaves open about whose permission authorizes the create)."""
    names = settings.names
    arns = [names.repository_arn(account, f"{e.prefix}/*") for e in _wide(settings).create_on_push]
    actions = (*PUSH_ACTIONS, *IMAGE_READ_ACTIONS, "ecr:CreateRepository")
    return statement("PushCreatingRepositories", sorted(set(actions)), sorted(arns))


def _replica_keys(settings: Settings, account: str) -> list[Statement]:
    """The replicas' keys, as the registry key (permissions.keys): created with the stack's tags
    only, then managed only while they carry the stack's tag."""
    keys = replica_key_arns(settings, account)
    if not keys:
        return []
    tags: Condition = {
        "StringEquals": {f"aws:RequestTag/{STACK_TAG}": settings.stack},
        "ForAllValues:StringEquals": {"aws:TagKeys": sorted(settings.tags)},
    }
    tag = ["kms:TagResource"]
    return [
        statement("CreateReplicaKeys", ["kms:CreateKey"], "*", tags),
        # As the registry key (permissions.keys._stack_key): tagging at creation sets only the
        # stack's tags, a later retag needs the key's own `stack` tag, and a key another stack's
        # tag names is denied; no `...IfExists` on the resource's tag (no claiming).
        statement("TagNewReplicaKeys", tag, keys, tag_on_create(settings)),
        statement("RetagReplicaKeys", tag, keys, retag_owned_keys(settings)),
        deny_other_stacks(settings, "DenyTaggingOtherStacksReplicaKeys", tag, keys),
        statement("ManageReplicaKeys", KEY_WRITES, keys, owned_by_stack(settings)),
    ]


# --- the boundary --------------------------------------------------------------------------------
def boundary(settings: Settings, account: str) -> list[Statement]:
    """The templates' role in the destination regions (the registry's own region is the
    pull-through template role's, permissions.boundary): replicas and their keys."""
    wide = _wide(settings)
    if not wide.replication:
        return []
    names = settings.names
    replicas = [
        names.in_region(r).repository_arn(account, f"{p}*")
        for r in wide.replica_regions
        for p in wide.replicated_prefixes(r)
    ]
    found = [statement("CreateReplicaRepositories", TEMPLATE_ROLE_ACTIONS, sorted(replicas))]
    keys = replica_key_arns(settings, account)
    if keys:
        found.append(
            statement(
                "EncryptReplicaRepositories", TEMPLATE_KMS_ACTIONS, keys, owned_by_stack(settings)
            )
        )
    return found
