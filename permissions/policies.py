"""The CI roles' permissions and the stack roles' permissions boundary, as plain IAM documents.

`deploy_policy` is what `pulumi up` of ONE stack needs on that stack's resources only: the
CloudFormation resource handlers' permissions for every resource type the stack renders (the
tests check each one against the handlers bundled with cfn-lint), the `docker push` to every
repository it creates, and its invokes. `preview_policy` is the read part of it. `boundary_policy`
caps every role the stack itself creates. The one-time bootstrap (`python -m cli.bootstrap`)
renders all three; the stack never changes them (a stack with `permissionsBoundary: stack`
creates its own copy of the boundary, `components/boundary.py`, which CI may not write).

Escalation is closed three ways: the deploy role may create and change roles only under the
stack's role path and only with the stack's boundary attached (`iam:PermissionsBoundary`), it may
never remove a boundary or write the boundary policy, the CI roles or the OIDC provider, and it
may not assume any role (a rewritten trust policy buys nothing).
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import botocore.session

from rules.ecs.iam import EXEC_ACTIONS, PULL_ACTIONS
from rules.naming import STACK_TAG
from rules.registry.access import PUSH_ACTIONS as REPOSITORY_PUSH_ACTIONS
from rules.registry.pull_through import (
    TEMPLATE_KMS_ACTIONS,
    TEMPLATE_ROLE_ACTIONS,
    credential_secret_name,
)
from settings import Settings

VERSION = "2012-10-17"
Statement = dict[str, Any]
Condition = dict[str, dict[str, Any]]

# `docker push` (the five upload actions), plus the manifest and layer reads a push of an
# existing tag and `cacheFrom` make.
PUSH_ACTIONS = tuple(
    sorted({*REPOSITORY_PUSH_ACTIONS, "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"})
)
# What CI adds around a push: the digest of a pushed tag (a prebuilt `services[].image`, and the
# image pipeline's skip-existing check) and the scan gate's findings (`python -m cli.scan`).
IMAGE_READ_ACTIONS = ("ecr:DescribeImageScanFindings", "ecr:DescribeImages")
# With ENHANCED scanning ECR answers DescribeImageScanFindings from Amazon Inspector as the caller:
# the user guide's policy for retrieving findings names ListFindings and ListCoverage, neither of
# which has a resource-level form.
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-enhanced-iam.html
ENHANCED_FINDINGS_ACTIONS = ("inspector2:ListCoverage", "inspector2:ListFindings")
# Actions IAM knows that no API operation carries (botocore has no model for them).
PERMISSION_ONLY = (
    "ecr:BatchImportUpstreamImage",
    "ecr:ReplicateImage",
    "iam:PassRole",
    "s3:ListBucket",  # ListObjects and ListObjectsV2 are authorized as s3:ListBucket
    *EXEC_ACTIONS,
)
# IAM actions named unlike the S3 operation they authorize (the operation botocore knows).
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
S3_AUTHORIZES = {
    "s3:DeleteObjectVersion": "DeleteObject",  # with a VersionId
    "s3:GetAccelerateConfiguration": "GetBucketAccelerateConfiguration",
    "s3:GetBucketCORS": "GetBucketCors",
    "s3:GetBucketObjectLockConfiguration": "GetObjectLockConfiguration",
    "s3:GetBucketPublicAccessBlock": "GetPublicAccessBlock",
    "s3:GetEncryptionConfiguration": "GetBucketEncryption",
    "s3:GetLifecycleConfiguration": "GetBucketLifecycleConfiguration",
    "s3:GetReplicationConfiguration": "GetBucketReplication",
    "s3:ListBucketVersions": "ListObjectVersions",
    "s3:PutBucketPublicAccessBlock": "PutPublicAccessBlock",
    "s3:PutEncryptionConfiguration": "PutBucketEncryption",
}
# IAM prefixes whose operations botocore models under other names: Elastic Load Balancing is
# Classic (`elb`) and V2 (`elbv2`) under the one `elasticloadbalancing` prefix.
BOTOCORE_MODELS = {"elasticloadbalancing": ("elb", "elbv2")}
ECS_TASKS = "ecs-tasks.amazonaws.com"
ECR = "ecr.amazonaws.com"
PULL_THROUGH_CACHE = "pullthroughcache.ecr.amazonaws.com"
INSPECTOR = "inspector2.amazonaws.com"
ECS = "ecs.amazonaws.com"
SCHEDULER = "scheduler.amazonaws.com"
# The providers components/ecs/cluster.py associates with the cluster when a service uses a strategy.
FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")


def statement(
    sid: str,
    actions: Iterable[str],
    resources: str | Iterable[str],
    condition: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    effect: str = "Allow",
) -> Statement:
    """One statement with sorted, de-duplicated lists, so a re-render is byte-identical."""
    found: Statement = {
        "Sid": sid,
        "Effect": effect,
        "Action": sorted(set(actions)),
        "Resource": [resources] if isinstance(resources, str) else sorted(set(resources)),
    }
    if condition:
        found["Condition"] = {op: dict(sorted(keys.items())) for op, keys in condition.items()}
    return found


def document(statements: Iterable[Statement]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": list(statements)}


# --- what a stack renders -----------------------------------------------------------------------
def repository_arns(settings: Settings, account: str) -> list[str]:
    """Every repository the stack creates, by its configured name (custom names included)."""
    names = settings.names
    return sorted(names.repository_arn(account, r.name) for r in settings.registry.repositories)


def creates_template_role(settings: Settings) -> bool:
    cache = settings.cache
    return settings.account.owns and bool(cache.rules or settings.registry.root_creation_template)


def creates_security_group(settings: Settings) -> bool:
    """The tasks' group unless groups are given; the load balancer's own group always."""
    given = settings.fargate is not None and bool(settings.fargate.network.security_group_ids)
    return settings.fargate is not None and (not given or has_load_balancer(settings))


def template_prefixes(settings: Settings) -> list[str]:
    if not settings.account.owns:
        return []
    prefixes = [r.rule.prefix for r in settings.cache.rules]
    return prefixes + (["ROOT"] if settings.registry.root_creation_template else [])


def credential_secrets(settings: Settings, account: str) -> list[str]:
    """The `ecr-pullthroughcache/<prefix>` secrets the stack creates (the owner only)."""
    if not settings.account.owns:
        return []
    return sorted(
        settings.names.secret_arn(account, credential_secret_name(r.rule.prefix))
        for r in settings.cache.rules
        if r.username is not None and r.access_token is not None
    )


def fargate_services(settings: Settings) -> list[str]:
    """The services the stack runs: families and log groups are named for each exactly, so a
    stack `prod` never reaches the `ecr-fargate-prod-eu-*` names of a stack `prod-eu`."""
    assert settings.fargate is not None
    return [r.service.name for r in settings.fargate.runs]


def task_definition_arns(settings: Settings, account: str) -> list[str]:
    return [settings.names.task_definition_arn(account, s) for s in fargate_services(settings)]


def log_group_arns(settings: Settings, account: str) -> list[str]:
    """The log groups, in both forms IAM actions use (`log-group:NAME` and `log-group:NAME:*`)."""
    arns = [settings.names.log_group_arn(account, s) for s in fargate_services(settings)]
    return [form for arn in arns for form in (arn, f"{arn}:*")]


def job_names(settings: Settings) -> list[str]:
    return [] if settings.fargate is None else [j.service.name for j in settings.fargate.jobs]


def uses_service_connect(settings: Settings) -> bool:
    """The Cloud Map namespace exists when some long-running service does."""
    return settings.fargate is not None and bool(settings.fargate.services)


def owned_by_stack(settings: Settings) -> Condition:
    """A resource tagged `stack=<this stack>` (tag-based access: keys, security groups)."""
    return {"StringEquals": {f"aws:ResourceTag/{STACK_TAG}": settings.stack}}


def via_ecr(settings: Settings) -> str:
    """`kms:ViaService` when ECR calls KMS for the caller (forward access).
    https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
    """
    return f"ecr.{settings.region}.{settings.partition.dns_suffix}"


def passed_to(*services: str) -> Condition:
    return {"StringEquals": {"iam:PassedToService": sorted(services)}}


def service_linked_role(settings: Settings, account: str, service: str, sid: str) -> Statement:
    """Creating a service's linked role on first use, for that one service only.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html
    """
    return statement(
        sid,
        ["iam:CreateServiceLinkedRole"],
        settings.names.service_linked_role_arn(account, service),
        {"StringEquals": {"iam:AWSServiceName": service}},
    )


# --- reads: preview and deploy -------------------------------------------------------------------
def read_statements(settings: Settings, account: str) -> list[Statement]:
    """The read handlers of every rendered type and the program's invokes, nothing else."""
    names = settings.names
    found: list[Statement] = []
    repositories = repository_arns(settings, account)
    if repositories:
        reads = ("ecr:DescribeRepositories", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy")
        found.append(
            statement("ReadStackRepositories", (*reads, "ecr:ListTagsForResource"), repositories)
        )
    if settings.fargate is not None or creates_template_role(settings):
        reads = ("iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies")
        role_reads = (*reads, "iam:ListRolePolicies")
        found.append(statement("ReadStackRoles", role_reads, names.role_arn(account)))
    if settings.fargate is not None:
        found += _read_fargate(settings, account) + _web_reads(settings, account)
    if settings.registry.create_kms_key:
        reads = ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus")
        key_reads = (*reads, "kms:ListResourceTags")
        condition = owned_by_stack(settings)
        found.append(statement("ReadStackKey", key_reads, names.key_arn(account), condition))
    secrets = credential_secrets(settings, account)
    if secrets:
        # The provider also reads each secret's resource policy.
        describe = ["secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"]
        found.append(statement("ReadCacheCredentialMetadata", describe, secrets))
    return [*found, statement("ReadUnscoped", unscoped_reads(settings), "*")]


def unscoped_reads(settings: Settings) -> set[str]:
    """Reads with no resource-level form: "*" is the only resource they take."""
    found = {"ecr:GetAuthorizationToken"}  # the image build's registry login (an invoke)
    if settings.account.owns:
        found |= {"ecr:GetRegistryScanningConfiguration"}
        if settings.cache.rules:
            found |= {"ecr:DescribePullThroughCacheRules"}
        if template_prefixes(settings):
            found |= {"ecr:DescribeRepositoryCreationTemplates"}
    if settings.fargate is None:
        return found
    found |= {"ecs:DescribeTaskDefinition", "logs:DescribeLogGroups"}
    network = settings.fargate.network
    if not network.subnet_ids or not network.security_group_ids:
        found |= {"ec2:DescribeSubnets", "ec2:DescribeVpcs"}  # the VPC and subnet invokes
    if creates_security_group(settings):
        # Before deleting the group: instances (the handler) and network interfaces (the
        # provider) still using it.
        found |= {"ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces"}
        found |= {"ec2:DescribeSecurityGroups"}
    if uses_service_connect(settings):
        found |= {"servicediscovery:ListTagsForResource"}  # no resource-level form
    return found | _web_unscoped_reads(settings)


def _read_fargate(settings: Settings, account: str) -> list[Statement]:
    names = settings.names
    ecs_reads = (
        "ecs:DescribeClusters",
        "ecs:DescribeServiceDeployments",
        "ecs:DescribeServices",
        "ecs:ListServiceDeployments",
        "ecs:ListTagsForResource",
    )
    ecs_arns = [
        names.cluster_arn(account),
        names.ecs_service_arn(account),
        names.ecs_service_deployment_arn(account),
        *task_definition_arns(settings, account),
    ]
    log_reads = ("logs:GetDataProtectionPolicy", "logs:ListTagsForResource")
    found = [
        statement("ReadStackEcs", ecs_reads, ecs_arns),
        statement("ReadStackLogGroups", log_reads, log_group_arns(settings, account)),
    ]
    if uses_service_connect(settings):
        found.append(
            statement(
                "ReadStackNamespace",
                ["servicediscovery:GetNamespace"],
                names.namespace_arn(account),
                owned_by_stack(settings),
            )
        )
    if job_names(settings):
        schedules = [names.schedule_arn(account, j) for j in job_names(settings)]
        found.append(statement("ReadStackSchedules", ["scheduler:GetSchedule"], schedules))
    if uses_capacity_strategy(settings):
        # The cluster's capacity-provider association (Spot) describes the two Fargate providers.
        providers = [names.capacity_provider_arn(account, p) for p in FARGATE_PROVIDERS]
        found.append(
            statement("ReadFargateProviders", ["ecs:DescribeCapacityProviders"], providers)
        )
    return found


def uses_capacity_strategy(settings: Settings) -> bool:
    return settings.fargate is not None and settings.fargate.uses_spot


def preview_policy(settings: Settings, account: str) -> dict[str, Any]:
    """What `pulumi preview` (with or without `--refresh`) reads; no write, no secret value."""
    return document(read_statements(settings, account))


# --- writes: deploy only -------------------------------------------------------------------------
def _repositories(settings: Settings, account: str) -> list[Statement]:
    repositories = repository_arns(settings, account)
    if not repositories:
        return []
    manage = (
        "ecr:CreateRepository",
        "ecr:DeleteRepository",
        "ecr:DeleteLifecyclePolicy",
        "ecr:DeleteRepositoryPolicy",
        "ecr:PutImageScanningConfiguration",
        "ecr:PutImageTagMutability",
        "ecr:PutLifecyclePolicy",
        "ecr:SetRepositoryPolicy",
        "ecr:TagResource",
        "ecr:UntagResource",
    )
    found = [
        statement("ManageStackRepositories", manage, repositories),
        statement("PushStackImages", PUSH_ACTIONS + IMAGE_READ_ACTIONS, repositories),
    ]
    if settings.registry.scan_type == "ENHANCED":
        found.append(statement("ReadImageFindings", ENHANCED_FINDINGS_ACTIONS, "*"))
    return found


def _registry(settings: Settings, account: str) -> list[Statement]:
    """Registry-wide ECR settings: only the account owner creates them (`settings.account`)."""
    if not settings.account.owns:
        return []
    # Registry scanning, pull-through rules and creation templates have no resource-level form.
    actions = {"ecr:PutRegistryScanningConfiguration"}
    found: list[Statement] = []
    if settings.registry.scan_type == "ENHANCED":
        # ENHANCED scanning is Amazon Inspector, which ECR enables (and, switching back to BASIC,
        # disables) for the caller. inspector2:Enable/Disable have no resource-level form or
        # condition keys, so only a stack that asks for ENHANCED scanning gets them.
        # https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-enhanced.html
        actions |= {"inspector2:Disable", "inspector2:Enable", "inspector2:ListAccountPermissions"}
        found.append(service_linked_role(settings, account, INSPECTOR, "InspectorLinkedRole"))
    if settings.cache.rules:
        actions |= {"ecr:CreatePullThroughCacheRule", "ecr:DeletePullThroughCacheRule"}
        actions |= {"ecr:UpdatePullThroughCacheRule"}
        found.append(service_linked_role(settings, account, PULL_THROUGH_CACHE, "CacheLinkedRole"))
        custom_roles = sorted(
            {r.rule.custom_role_arn for r in settings.cache.rules if r.rule.custom_role_arn}
        )
        if custom_roles:
            found.append(
                statement(
                    "PassUpstreamRoles",
                    ["iam:PassRole"],
                    custom_roles,
                    passed_to(PULL_THROUGH_CACHE),
                )
            )
        existing = sorted(
            {r.rule.credential_arn for r in settings.cache.rules if r.rule.credential_arn}
        )
        if existing:
            # ECR checks the caller can read a rule's credential secret when the rule is created.
            found.append(
                statement(
                    "ReadGivenCredentials",
                    ["secretsmanager:GetSecretValue"],
                    existing,
                )
            )
    prefixes = template_prefixes(settings)
    if prefixes:
        actions |= {"ecr:CreateRepositoryCreationTemplate", "ecr:DeleteRepositoryCreationTemplate"}
        actions |= {"ecr:UpdateRepositoryCreationTemplate"}
        found.append(service_linked_role(settings, account, ECR, "TemplateLinkedRole"))
        # Creating a template needs the repository actions it applies, on what it applies to.
        # https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates-create.html
        templated = [
            settings.names.repository_arn(account, "*" if p == "ROOT" else f"{p.rstrip('/')}/*")
            for p in prefixes
        ]
        apply = ("ecr:CreateRepository", "ecr:PutLifecyclePolicy", "ecr:SetRepositoryPolicy")
        found.append(statement("ApplyCreationTemplates", apply, templated))
    return [statement("ManageRegistrySettings", actions, "*"), *found]


def _keys(settings: Settings, account: str) -> list[Statement]:
    """The registry key: created with the stack's tags, then managed only while it carries them."""
    names = settings.names
    registry = settings.registry
    if registry.encryption != "KMS":
        return []
    key = names.key_arn(account) if registry.create_kms_key else str(registry.kms_key_arn)
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
    tags: Condition = {
        "StringEquals": {f"aws:RequestTag/{STACK_TAG}": settings.stack},
        "ForAllValues:StringEquals": {"aws:TagKeys": sorted(settings.tags)},
    }
    # CreateKey with tags is authorized as kms:TagResource on "all keys in the account and Region",
    # because the key does not exist yet: TagResource cannot be scoped to one key.
    # https://docs.aws.amazon.com/kms/latest/developerguide/tag-permissions.html
    # So tagging may only set the stack's tag keys, `stack` only to this stack, and never on a key
    # another stack owns (`aws:ResourceTag/stack` must be absent or this stack); a later change
    # of another tag sends that tag alone.
    # IAM cannot tell a new key from an existing key without a `stack` tag: give the account's
    # other keys a `stack` tag (or a key policy that does not delegate to IAM) to keep them
    # out of reach; ScheduleKeyDeletion additionally needs the key's own tag to name the stack.
    tag_new: Condition = {
        "ForAllValues:StringEquals": {"aws:TagKeys": sorted(settings.tags)},
        "StringEqualsIfExists": {
            f"aws:RequestTag/{STACK_TAG}": settings.stack,
            f"aws:ResourceTag/{STACK_TAG}": settings.stack,
        },
    }
    manage = (
        "kms:DisableKey",
        "kms:DisableKeyRotation",
        "kms:EnableKey",
        "kms:EnableKeyRotation",
        "kms:ScheduleKeyDeletion",
        "kms:UntagResource",
        "kms:UpdateKeyDescription",
    )
    return [
        *found,
        statement("CreateStackKey", ["kms:CreateKey"], "*", tags),
        statement("TagStackKey", ["kms:TagResource"], names.key_arn(account), tag_new),
        statement("ManageStackKey", manage, names.key_arn(account), owned_by_stack(settings)),
    ]


def _roles(settings: Settings, account: str) -> list[Statement]:
    """Stack roles: only under the stack's path, only with the stack's boundary, passed only to
    the services that use them."""
    names = settings.names
    if settings.fargate is None and not creates_template_role(settings):
        return []
    roles = names.role_arn(account)
    bounded = {"StringEquals": {"iam:PermissionsBoundary": names.boundary_arn(account)}}
    manage = (
        "iam:AttachRolePolicy",
        "iam:CreateRole",
        "iam:DeleteRole",
        "iam:DeleteRolePolicy",
        "iam:DetachRolePolicy",
        "iam:PutRolePermissionsBoundary",
        "iam:PutRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:UpdateRole",
        "iam:UpdateRoleDescription",
    )
    services = ([ECS_TASKS] if settings.fargate is not None else []) + (
        [ECR] if creates_template_role(settings) else []
    )
    services += [SCHEDULER] if job_names(settings) else []
    return [
        statement("ManageStackRoles", manage, roles, bounded),
        # The provider takes a role out of its instance profiles before deleting it.
        statement(
            "TagAndEmptyStackRoles",
            ["iam:ListInstanceProfilesForRole", "iam:TagRole", "iam:UntagRole"],
            roles,
        ),
        statement("PassStackRoles", ["iam:PassRole"], roles, passed_to(*services)),
    ]


def _fargate(settings: Settings, account: str) -> list[Statement]:
    names = settings.names
    if settings.fargate is None:
        return []
    cluster = (
        "ecs:CreateCluster",
        "ecs:DeleteCluster",
        "ecs:PutClusterCapacityProviders",
        "ecs:TagResource",
        "ecs:UntagResource",
        "ecs:UpdateCluster",
        "ecs:UpdateClusterSettings",
    )
    service = (
        "ecs:CreateService",
        "ecs:DeleteService",
        "ecs:StopServiceDeployment",
        "ecs:TagResource",
        "ecs:UntagResource",
        "ecs:UpdateService",
    )
    definitions = ("ecs:RegisterTaskDefinition", "ecs:TagResource", "ecs:UntagResource")
    logs = (
        "logs:AssociateKmsKey",
        "logs:CreateLogGroup",
        "logs:DeleteDataProtectionPolicy",
        "logs:DeleteLogGroup",
        "logs:DeleteRetentionPolicy",
        "logs:DisassociateKmsKey",
        "logs:PutDataProtectionPolicy",
        "logs:PutLogGroupDeletionProtection",
        "logs:PutRetentionPolicy",
        "logs:TagResource",
        "logs:UntagResource",
    )
    services = [names.ecs_service_arn(account), names.ecs_service_deployment_arn(account)]
    return [
        statement("ManageStackCluster", cluster, names.cluster_arn(account)),
        statement("ManageStackServices", service, services),
        statement(
            "RegisterStackTaskDefinitions",
            definitions,
            task_definition_arns(settings, account),
        ),
        # DeregisterTaskDefinition has no resource-level form: "*" is the only valid resource.
        # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
        statement("DeregisterTaskDefinitions", ["ecs:DeregisterTaskDefinition"], "*"),
        service_linked_role(settings, account, ECS, "EcsServiceLinkedRole"),
        statement("ManageStackLogGroups", logs, log_group_arns(settings, account)),
        *_security_group(settings, account),
        *_namespace(settings, account),
        *_schedules(settings, account),
    ]


def _namespace(settings: Settings, account: str) -> list[Statement]:
    """The stack's Cloud Map namespace: created with the stack's tag, then managed only while it
    carries it. Cloud Map's tagging actions have no resource-level form: tags may only be the
    stack's keys, `stack` only this stack."""
    if not uses_service_connect(settings):
        return []
    names = settings.names
    tagged: Condition = {"StringEquals": {f"aws:RequestTag/{STACK_TAG}": settings.stack}}
    tag_keys: Condition = {"ForAllValues:StringEquals": {"aws:TagKeys": sorted(settings.tags)}}
    retag: Condition = {
        **tag_keys,
        "StringEqualsIfExists": {f"aws:RequestTag/{STACK_TAG}": settings.stack},
    }
    manage = (
        "servicediscovery:DeleteNamespace",
        "servicediscovery:GetOperation",
        "servicediscovery:UpdateHttpNamespace",
    )
    untag: Condition = {"ForAllValues:StringNotEquals": {"aws:TagKeys": [STACK_TAG]}}
    return [
        statement("CreateStackNamespace", ["servicediscovery:CreateHttpNamespace"], "*", tagged),
        statement("TagStackNamespace", ["servicediscovery:TagResource"], "*", retag),
        statement("UntagStackNamespace", ["servicediscovery:UntagResource"], "*", untag),
        statement(
            "ManageStackNamespace", manage, names.namespace_arn(account), owned_by_stack(settings)
        ),
    ]


def _schedules(settings: Settings, account: str) -> list[Statement]:
    """The jobs' schedules, by name (schedules carry no tags)."""
    jobs = job_names(settings)
    if not jobs:
        return []
    manage = ("scheduler:CreateSchedule", "scheduler:DeleteSchedule", "scheduler:UpdateSchedule")
    schedules = [settings.names.schedule_arn(account, j) for j in jobs]
    return [statement("ManageStackSchedules", manage, schedules)]


def _security_group(settings: Settings, account: str) -> list[Statement]:
    """Create only with the stack's tag; change and delete only groups that carry it (ABAC).
    https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html
    """
    names = settings.names
    if not creates_security_group(settings):
        return []
    groups = names.security_group_arn(account)
    tagged: Condition = {"StringEquals": {f"aws:RequestTag/{STACK_TAG}": settings.stack}}
    owned = owned_by_stack(settings)
    change = (
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:DeleteSecurityGroup",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
        "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
    )
    # Retagging an owned group may not hand it to another stack, nor drop the `stack` tag.
    retag: Condition = {
        "StringEquals": {f"aws:ResourceTag/{STACK_TAG}": settings.stack},
        "StringEqualsIfExists": {f"aws:RequestTag/{STACK_TAG}": settings.stack},
    }
    untag: Condition = {**owned, "ForAllValues:StringNotEquals": {"aws:TagKeys": [STACK_TAG]}}
    on_create: Condition = {
        **tagged,
        "StringEquals": {**tagged["StringEquals"], "ec2:CreateAction": "CreateSecurityGroup"},
    }
    return [
        statement("CreateStackSecurityGroup", ["ec2:CreateSecurityGroup"], groups, tagged),
        statement("CreateInStackVpc", ["ec2:CreateSecurityGroup"], names.vpc_arn(account)),
        statement("TagNewSecurityGroup", ["ec2:CreateTags"], groups, on_create),
        statement("RetagStackSecurityGroup", ["ec2:CreateTags"], groups, retag),
        statement("UntagStackSecurityGroup", ["ec2:DeleteTags"], groups, untag),
        statement("ChangeStackSecurityGroup", change, groups, owned),
    ]


def _secrets(settings: Settings, account: str) -> list[Statement]:
    """The cache credentials (the owner only): written, and read back (the provider compares the
    secret version's value; ECR checks a rule's secret is readable when it creates the rule)."""
    secrets = credential_secrets(settings, account)
    if not secrets:
        return []
    manage = (
        "secretsmanager:CreateSecret",
        "secretsmanager:DeleteSecret",
        "secretsmanager:PutSecretValue",
        "secretsmanager:TagResource",
        "secretsmanager:UntagResource",
        "secretsmanager:UpdateSecret",
        "secretsmanager:UpdateSecretVersionStage",
    )
    return [
        statement("ManageCacheCredentials", manage, secrets),
        statement("ReadBackCacheCredentials", ["secretsmanager:GetSecretValue"], secrets),
    ]


# --- the web services: load balancer, HTTPS, access logs, autoscaling, alarms -------------------
# The settings of the load balancer and of scaling are read through these accessors only, so the
# attribute names assumed here live in one place:
#   settings.fargate.load_balancer                  None when no service is a web service
#   settings.fargate.load_balancer.certificate_arn  str | None: a given certificate
#   settings.fargate.load_balancer.domain           str | None: the HTTPS name
#   settings.fargate.load_balancer.hosted_zone_id   str | None: the Route 53 zone of `domain`
#   settings.fargate.load_balancer.access_logs      None, or where access logs go:
#   settings.fargate.load_balancer.access_logs.bucket  str | None: given (None: the stack's)
#   settings.fargate.runs[i].scaling                None, or the service's autoscaling
#   settings.fargate.runs[i].alarms                 None, or the service's deployment alarms
ELB = "elasticloadbalancing.amazonaws.com"
ECS_SCALING = "ecs.application-autoscaling.amazonaws.com"
# Each creating call that may tag what it creates; AddTags then names it in
# `elasticloadbalancing:CreateAction`.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/tagging-resources-api-permissions.html
ELB_CREATE_ACTIONS = (
    "CreateListener",
    "CreateLoadBalancer",
    "CreateRule",
    "CreateTargetGroup",
)
# Describe calls of ELB have no resource-level form: "*" is the only resource they take.
ELB_READS = (
    "elasticloadbalancing:DescribeCapacityReservation",
    "elasticloadbalancing:DescribeListenerAttributes",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
)
SCALING_WRITES = (
    "DeleteScalingPolicy",
    "DeleteScheduledAction",
    "DeregisterScalableTarget",
    "PutScalingPolicy",
    "PutScheduledAction",
    "RegisterScalableTarget",
)
SCALING_READS = (
    "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:DescribeScalingPolicies",
    "application-autoscaling:DescribeScheduledActions",
)
# What the provider reads of a bucket besides its own resources' settings (the Bucket resource
# reads every sub-configuration back to report drift), all on the bucket's exact ARN.
BUCKET_READS = (
    "s3:GetAccelerateConfiguration",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketLogging",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketRequestPayment",
    "s3:GetBucketTagging",
    "s3:GetBucketVersioning",
    "s3:GetBucketWebsite",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:ListBucket",
)
BUCKET_EMPTYING = ("s3:DeleteObject", "s3:DeleteObjectVersion")
BUCKET_WRITES = (
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketTagging",
    "s3:PutEncryptionConfiguration",
)


def load_balancer(settings: Settings) -> Any | None:
    """`settings.fargate.load_balancer`: the stack's load balancer, None for none."""
    return getattr(settings.fargate, "load_balancer", None)


def has_load_balancer(settings: Settings) -> bool:
    return load_balancer(settings) is not None


def dns_records(settings: Settings) -> tuple[str, str] | None:
    """(domain, hosted zone ID) when the stack writes the domain's alias records (and, when it
    requests the certificate, the validation record) in that zone; None otherwise."""
    lb = load_balancer(settings)
    domain, zone = getattr(lb, "domain", None), getattr(lb, "hosted_zone_id", None)
    return (str(domain), str(zone)) if domain and zone else None


def requests_certificate(settings: Settings) -> bool:
    """A `domain` without a given `certificateArn`: the stack asks ACM for the certificate."""
    lb = load_balancer(settings)
    return bool(getattr(lb, "domain", None)) and not getattr(lb, "certificate_arn", None)


def creates_access_logs_bucket(settings: Settings) -> bool:
    """Access logs configured without a bucket: the stack creates `access_logs_bucket`. A given
    bucket needs nothing of the deploy role (ELB writes with its own principal)."""
    logs = getattr(load_balancer(settings), "access_logs", None)
    return logs is not None and not getattr(logs, "bucket", None)


def scaled_services(settings: Settings) -> list[str]:
    """The services with `run.scaling` (`settings.fargate.runs[i].scaling`)."""
    if settings.fargate is None:
        return []
    return [r.service.name for r in settings.fargate.runs if getattr(r, "scaling", None)]


def uses_scaling(settings: Settings) -> bool:
    return bool(scaled_services(settings))


def uses_alarms(settings: Settings) -> bool:
    """Whether some service has deployment alarms (`settings.fargate.runs[i].alarms`): they
    watch its target group, so only with the load balancer."""
    runs = settings.fargate.runs if settings.fargate is not None else ()
    return has_load_balancer(settings) and any(getattr(r, "alarms", None) for r in runs)


def tagged_for_stack(settings: Settings) -> Condition:
    """A create that tags the new resource with this stack (`aws:RequestTag/stack`)."""
    return {"StringEquals": {f"aws:RequestTag/{STACK_TAG}": settings.stack}}


def retag_owned(settings: Settings) -> Condition:
    """Retagging an owned resource may not hand it to another stack."""
    return {
        "StringEquals": {f"aws:ResourceTag/{STACK_TAG}": settings.stack},
        "StringEqualsIfExists": {f"aws:RequestTag/{STACK_TAG}": settings.stack},
    }


def untag_owned(settings: Settings) -> Condition:
    """Untagging an owned resource may not drop its `stack` tag."""
    return {
        **owned_by_stack(settings),
        "ForAllValues:StringNotEquals": {"aws:TagKeys": [STACK_TAG]},
    }


def _web_reads(settings: Settings, account: str) -> list[Statement]:
    """The reads of the web services' resources that take a resource ARN."""
    names = settings.names
    found: list[Statement] = []
    if requests_certificate(settings):
        reads = ("acm:DescribeCertificate", "acm:ListTagsForCertificate")
        certificates = names.certificate_arn(account)
        found.append(
            statement("ReadStackCertificate", reads, certificates, owned_by_stack(settings))
        )
    records = dns_records(settings)
    if records is not None:
        zone_reads = ("route53:GetHostedZone", "route53:ListResourceRecordSets")
        zone = names.hosted_zone_arn(records[1])
        found.append(statement("ReadStackHostedZone", zone_reads, zone))
    if creates_access_logs_bucket(settings):
        bucket = names.access_logs_bucket_arn(account)
        found.append(statement("ReadStackAccessLogsBucket", BUCKET_READS, bucket))
    if uses_scaling(settings):
        targets = names.scalable_target_arn(account)
        tags = ["application-autoscaling:ListTagsForResource"]
        found.append(statement("ReadStackScalableTargets", tags, targets, owned_by_stack(settings)))
    if uses_alarms(settings):
        reads = ("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource")
        alarms = settings.names.alarm_arn(account)
        found.append(statement("ReadStackAlarms", reads, alarms))
    return found


def _web_unscoped_reads(settings: Settings) -> set[str]:
    found: set[str] = set()
    if has_load_balancer(settings):
        # The load balancer's group is made in the tasks' VPC, found from their first subnet
        # (or the default VPC) whether or not their groups are given; a target group's VPC is
        # checked when it is created.
        found |= {*ELB_READS, "ec2:DescribeSubnets", "ec2:DescribeVpcs"}
    if dns_records(settings) is not None:
        found |= {"route53:ListHostedZones"}
    if uses_scaling(settings):
        found |= set(SCALING_READS)
    return found


def _load_balancer(settings: Settings, account: str) -> list[Statement]:
    """The load balancer, its listeners and rules, and the target groups: created only with the
    stack's tag, then changed only while they carry it. The load balancer's exact name (and so
    its listeners' and rules' ARNs) is the stack's alone; target groups are found by tag.
    Tagging is by tag alone, on any ELB resource: on create only in the creating call (itself
    scoped) and with this stack's tag, afterwards only on what carries it.
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/tagging-resources-api-permissions.html
    """
    if not has_load_balancer(settings):
        return []
    names = settings.names
    lb, groups = names.load_balancer_arn(account), names.target_group_arn(account)
    listeners, rules = names.listener_arn(account), names.listener_rule_arn(account)
    anything = f"arn:{names.partition}:elasticloadbalancing:{names.region}:{account}:*"
    on_create: Condition = {
        "StringEquals": {
            **tagged_for_stack(settings)["StringEquals"],
            "elasticloadbalancing:CreateAction": list(ELB_CREATE_ACTIONS),
        }
    }
    create = ("elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup")
    # A listener is created on its load balancer: IAM checks the balancer's tag.
    owned = (
        "elasticloadbalancing:CreateListener",
        "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:DeleteTargetGroup",
        "elasticloadbalancing:DeregisterTargets",
        "elasticloadbalancing:ModifyLoadBalancerAttributes",
        "elasticloadbalancing:ModifyTargetGroup",
        "elasticloadbalancing:ModifyTargetGroupAttributes",
        "elasticloadbalancing:RegisterTargets",
        "elasticloadbalancing:SetIpAddressType",
        "elasticloadbalancing:SetSecurityGroups",
        "elasticloadbalancing:SetSubnets",
    )
    routing = (
        "elasticloadbalancing:CreateRule",
        "elasticloadbalancing:DeleteListener",
        "elasticloadbalancing:DeleteRule",
        "elasticloadbalancing:ModifyListener",
        "elasticloadbalancing:ModifyListenerAttributes",
        "elasticloadbalancing:ModifyRule",
        "elasticloadbalancing:SetRulePriorities",
    )
    add = ["elasticloadbalancing:AddTags"]
    return [
        statement("CreateStackElb", create, [lb, groups], tagged_for_stack(settings)),
        statement("ManageStackElb", owned, [lb, groups], owned_by_stack(settings)),
        statement("ManageStackRouting", routing, [listeners, rules]),
        statement("TagNewElb", add, anything, on_create),
        statement("RetagStackElb", add, anything, retag_owned(settings)),
        statement(
            "UntagStackElb", ["elasticloadbalancing:RemoveTags"], anything, untag_owned(settings)
        ),
        service_linked_role(settings, account, ELB, "ElbLinkedRole"),
    ]


def _certificate(settings: Settings, account: str) -> list[Statement]:
    """The certificate of the stack's domain: requested for that one name, DNS-validated, with
    the stack's tag; then changed only while it carries it."""
    if not requests_certificate(settings):
        return []
    domain = str(getattr(load_balancer(settings), "domain", ""))
    certificates = settings.names.certificate_arn(account)
    request: Condition = {
        "ForAllValues:StringEquals": {"acm:DomainNames": [domain]},
        "StringEquals": {
            **tagged_for_stack(settings)["StringEquals"],
            "acm:ValidationMethod": "DNS",
        },
    }
    manage = (
        "acm:DeleteCertificate",
        "acm:RemoveTagsFromCertificate",
        "acm:UpdateCertificateOptions",
    )
    return [
        statement("RequestStackCertificate", ["acm:RequestCertificate"], "*", request),
        statement(
            "TagStackCertificate",
            ["acm:AddTagsToCertificate"],
            certificates,
            tag_new_or_owned(settings),
        ),
        statement("ManageStackCertificate", manage, certificates, owned_by_stack(settings)),
    ]


def _records(settings: Settings) -> list[Statement]:
    """The domain's records: only in the configured hosted zone, only the domain's own names
    (its A and AAAA aliases and, when the stack requests the certificate, ACM's
    `_<token>.<domain>` validation CNAME), only these types.
    https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/specifying-rrset-conditions.html
    """
    found = dns_records(settings)
    if found is None:
        return []
    domain, zone = found
    normalized = domain.lower().rstrip(".")  # how Route 53 compares names
    names, types = [normalized], ["A", "AAAA"]
    if requests_certificate(settings):
        names, types = [*names, f"_*.{normalized}"], [*types, "CNAME"]
    records: Condition = {
        "ForAllValues:StringLike": {"route53:ChangeResourceRecordSetsNormalizedRecordNames": names},
        "ForAllValues:StringEquals": {
            "route53:ChangeResourceRecordSetsActions": ["CREATE", "DELETE", "UPSERT"],
            "route53:ChangeResourceRecordSetsRecordTypes": types,
        },
    }
    zone_arn = settings.names.hosted_zone_arn(zone)
    return [
        statement("WriteDomainRecords", ["route53:ChangeResourceRecordSets"], zone_arn, records),
        # Waiting for a change to reach every Route 53 server (changes have generated IDs).
        statement(
            "FollowRecordChanges", ["route53:GetChange"], settings.names.route53_change_arn()
        ),
    ]


def empties_access_logs_bucket(settings: Settings) -> bool:
    """Outside prod the stack's logs bucket is `forceDestroy` (the program protects prod's
    instead): deleting it first deletes every object and object version in it."""
    return creates_access_logs_bucket(settings) and settings.environment != "prod"


def _access_logs_bucket(settings: Settings, account: str) -> list[Statement]:
    """The access-logs bucket the stack creates, by its exact (account- and region-unique) name."""
    if not creates_access_logs_bucket(settings):
        return []
    bucket = settings.names.access_logs_bucket_arn(account)
    found = [statement("ManageStackAccessLogsBucket", BUCKET_WRITES, bucket)]
    if empties_access_logs_bucket(settings):
        found += [
            statement("ListStackAccessLogVersions", ["s3:ListBucketVersions"], bucket),
            statement("EmptyStackAccessLogsBucket", BUCKET_EMPTYING, f"{bucket}/*"),
        ]
    return found


def tag_new_or_owned(settings: Settings) -> Condition:
    """Tagging where IAM cannot tell a new resource from an existing untagged one (no create
    action key): only the stack's tag keys, `stack` only this stack, and never a resource another
    stack owns. Give the account's other resources of the type a `stack` tag to keep them out of
    reach (as for KMS keys, see `_keys`)."""
    return {
        "ForAllValues:StringEquals": {"aws:TagKeys": sorted({*settings.tags, "service"})},
        "StringEqualsIfExists": {
            f"aws:RequestTag/{STACK_TAG}": settings.stack,
            f"aws:ResourceTag/{STACK_TAG}": settings.stack,
        },
    }


def _scaling(settings: Settings, account: str) -> list[Statement]:
    """The scaled services' scalable targets (found by tag: their ARNs carry a generated ID),
    their policies and scheduled actions, the alarms target tracking creates for them, and their
    service-linked role. Registering also needs ecs:DescribeServices and ecs:UpdateService on the
    service, which `_fargate` grants on the stack's services.
    https://docs.aws.amazon.com/autoscaling/application/userguide/security_iam_id-based-policy-examples.html
    """
    if not uses_scaling(settings):
        return []
    names = settings.names
    tracking = ("cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm")
    return [
        statement("ManageTargetTrackingAlarms", tracking, names.target_tracking_alarm_arn(account)),
        service_linked_role(settings, account, ECS_SCALING, "ScalingLinkedRole"),
    ]


def _tagged_scaling(settings: Settings, account: str) -> list[Statement]:
    """The scalable targets and the stack's own alarms, one statement per kind of grant (each
    action only reaches its own service's resources): created with the stack's tag (and never
    over another stack's alarm of a matching name), then changed only while they carry it."""
    resources, create, tag, untag, manage = [], [], [], [], []
    if uses_scaling(settings):
        resources.append(settings.names.scalable_target_arn(account))
        service = "application-autoscaling"
        create.append(f"{service}:RegisterScalableTarget")
        tag.append(f"{service}:TagResource")
        untag.append(f"{service}:UntagResource")
        manage += [f"{service}:{a}" for a in SCALING_WRITES]
    if uses_alarms(settings):
        resources.append(settings.names.alarm_arn(account))
        create.append("cloudwatch:PutMetricAlarm")
        tag.append("cloudwatch:TagResource")
        untag.append("cloudwatch:UntagResource")
        manage += ["cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm"]
    if not resources:
        return []
    on_create: Condition = {
        **tagged_for_stack(settings),
        "StringEqualsIfExists": {f"aws:ResourceTag/{STACK_TAG}": settings.stack},
    }
    return [
        statement("CreateStackScaling", create, resources, on_create),
        statement("TagStackScaling", tag, resources, tag_new_or_owned(settings)),
        statement("UntagStackScaling", untag, resources, untag_owned(settings)),
        statement("ManageStackScaling", manage, resources, owned_by_stack(settings)),
    ]


def _web(settings: Settings, account: str) -> list[Statement]:
    """Everything the web services add: nothing for a stack without them."""
    found = _load_balancer(settings, account) + _certificate(settings, account)
    found += _records(settings) + _access_logs_bucket(settings, account)
    return found + _scaling(settings, account) + _tagged_scaling(settings, account)


def _guards(settings: Settings, account: str) -> list[Statement]:
    """Explicit Denies that no later Allow (here or in another attached policy) can override."""
    names = settings.names
    provider = (
        settings.github.oidc_provider_arn
        if settings.github is not None and settings.github.oidc_provider_arn
        else names.oidc_provider_arn(account)
    )
    # `iam:*` on purpose: a Deny must also cover IAM actions added after this was written. The
    # boundary a `permissionsBoundary: stack` stack creates is CI's to leave alone too.
    protected = [
        names.ci_roles_arn(account),
        names.ci_policies_arn(account),
        names.stack_boundary_arn(account),
        provider,
    ]
    return [
        statement("DenyCiAndBoundaryWrites", ["iam:*"], protected, effect="Deny"),
        statement("DenyBoundaryRemoval", ["iam:DeleteRolePermissionsBoundary"], "*", effect="Deny"),
        statement("DenyAssumingRoles", ["sts:AssumeRole"], "*", effect="Deny"),
    ]


def deploy_policy(settings: Settings, account: str) -> dict[str, Any]:
    """Everything `pulumi up` of this stack needs, on this stack's resources only."""
    writers = (_repositories, _registry, _keys, _roles, _fargate, _web, _secrets, _guards)
    found = read_statements(settings, account)
    for write in writers:
        found += write(settings, account)
    return document(found)


# --- the boundary of every role the stack creates ------------------------------------------------
def boundary_policy(settings: Settings, account: str) -> dict[str, Any]:
    """The most any stack role may do, whatever its own policies say: the execution role's pull,
    logs and configured secrets, ECS Exec for the task role, the ECR creation-template role's
    repository and key-grant actions, a job's scheduler role running the stack's task families on
    its cluster and passing the stack's own roles to ECS tasks. Nothing else in IAM, nothing in
    STS, Organizations or key policies."""
    names = settings.names
    repositories = names.repository_arn(account, "*")
    found = [statement("RegistryLogin", ["ecr:GetAuthorizationToken"], "*")]
    if settings.fargate is not None:
        # Secrets and parameters are whatever ARNs the user configures: any of the account's in
        # the stack's region, of these two types, and only to read.
        found += [
            statement("PullImages", PULL_ACTIONS, repositories),
            statement(
                "ImportOnFirstPull",
                ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
                repositories,
            ),
            statement(
                "WriteLogs",
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                [f"{arn}:log-stream:*" for arn in log_group_arns(settings, account)[::2]],
            ),
            statement(
                "ReadTaskSecrets",
                ["secretsmanager:GetSecretValue"],
                names.secret_arn(account, "*"),
            ),
            statement("ReadTaskParameters", ["ssm:GetParameters"], names.parameter_arn(account)),
        ]
        found += _job_boundary(settings, account)
        if settings.fargate.enable_execute_command:
            # The Session Manager channels of ECS Exec have no resource-level form.
            found.append(statement("EcsExec", EXEC_ACTIONS, "*"))
    if creates_template_role(settings):
        found.append(statement("CreateCachedRepositories", TEMPLATE_ROLE_ACTIONS, repositories))
        registry = settings.registry
        if registry.encryption == "KMS":
            key = names.key_arn(account) if registry.create_kms_key else str(registry.kms_key_arn)
            condition = owned_by_stack(settings) if registry.create_kms_key else None
            found.append(
                statement("EncryptCachedRepositories", TEMPLATE_KMS_ACTIONS, key, condition)
            )
    return document(found + _boundary_guards(settings, account))


def _boundary_guards(settings: Settings, account: str) -> list[Statement]:
    """The boundary grants nothing in IAM but PassRole; these Denies keep a stack role from
    rewriting or removing its boundary (either mode's policy) even if a later edit grants more."""
    names = settings.names
    boundaries = [names.boundary_arn(account), names.stack_boundary_arn(account)]
    detach = ["iam:DeleteRolePermissionsBoundary", "iam:PutRolePermissionsBoundary"]
    return [
        statement("DenyBoundaryWrites", ["iam:*"], boundaries, effect="Deny"),
        statement("DenyBoundaryChanges", detach, "*", effect="Deny"),
    ]


def _job_boundary(settings: Settings, account: str) -> list[Statement]:
    """What EventBridge Scheduler needs to start a job's task: RunTask, and the task's roles.
    https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html"""
    names = settings.names
    if not job_names(settings):
        return []
    on_cluster: Condition = {"ArnEquals": {"ecs:cluster": names.cluster_arn(account)}}
    jobs = [names.task_definition_arn(account, j) for j in job_names(settings)]
    return [
        statement("RunJobTasks", ["ecs:RunTask"], jobs, on_cluster),
        statement(
            "PassRolesToJobTasks", ["iam:PassRole"], names.role_arn(account), passed_to(ECS_TASKS)
        ),
    ]


# --- a self-managed state backend: the stack's objects and its secrets key ----------------------
@dataclass(frozen=True)
class StateBackend:
    """`s3://BUCKET/PREFIX`, the `PULUMI_BACKEND_URL` of a self-managed backend (validated by the
    bootstrap's command line: no wildcard can reach an ARN)."""

    bucket: str
    prefix: str = ""  # "" or `path/` with its trailing slash, as Pulumi prefixes every key


# What the `awskms://` secrets provider calls: a data key encrypted under the stack's key when a
# stack's secrets provider is set, decrypted by every command that reads its config or state.
SECRETS_KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
STATE_WRITE_ACTIONS = ("s3:DeleteObject", "s3:GetObject", "s3:PutObject")


def previews_with_secrets(settings: Settings) -> bool:
    """Whether pull requests preview this stack for real, with its state and secrets.

    Not a stack deployed through a GitHub environment (`prod`: `settings.github` trusts its deploy
    role for the environment subject): its preview role is trusted for every pull request, whose
    code can rewrite the workflow, so it reads none of the stack's state and decrypts none of its
    secrets. Pull requests plan such a stack offline; its real preview runs in the environment.
    """
    return settings.environment != "prod"


def _key_statement(sid: str, actions: Iterable[str], key_arn: Any) -> Statement:
    """`statement` for a key whose ARN may be a CloudFormation `Fn::GetAtt` (not a string)."""
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)), "Resource": [key_arn]}


def state_policy(
    settings: Settings, state: StateBackend, key_arn: Any, *, deploy: bool
) -> dict[str, Any] | None:
    """A CI role's access to its own stack's state objects and secrets key, None for none.

    Deploy: read, write and delete the stack's objects (Pulumi's layout, `StackNames`), use the
    key. Preview, only where `previews_with_secrets`: read the checkpoint, decrypt. A preview takes
    no lock and writes no history on a self-managed backend, so it writes nothing. Both list the
    bucket: S3 answers a missing object (an optional tags file, a compression variant) with 403
    instead of 404 to a caller that may not list, and a `s3:prefix` condition does not count for
    that; listing shows key names, never contents.
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax
    """
    names = settings.names
    meta = names.state_object_arn(state.bucket, names.state_meta_key(state.prefix))
    if deploy:
        objects = [
            names.state_object_arn(state.bucket, k) for k in names.state_stack_keys(state.prefix)
        ]
        found = [
            statement("ReadBackendVersion", ["s3:GetObject"], meta),
            statement("WriteStackState", STATE_WRITE_ACTIONS, objects),
            _key_statement("UseStackSecretsKey", SECRETS_KEY_ACTIONS, key_arn),
        ]
    elif previews_with_secrets(settings):
        checkpoint = names.state_checkpoint_keys(state.prefix)
        found = [
            statement(
                "ReadStackState",
                ["s3:GetObject"],
                [meta, names.state_object_arn(state.bucket, checkpoint)],
            ),
            _key_statement("DecryptStackSecrets", ["kms:Decrypt"], key_arn),
        ]
    else:
        return None
    listing = statement("ListStateKeys", ["s3:ListBucket"], names.state_bucket_arn(state.bucket))
    return document([listing, *found])


def secrets_key_policy(settings: Settings, account: str, users: Sequence[str]) -> dict[str, Any]:
    """The stack's secrets key: the account administers it through IAM (the usual root
    statement), and no CI role of any stack may do anything but use it, or use it unless it is
    one of `users` (this stack's deploy role, and its preview role where it previews with
    secrets). The Denies hold whatever IAM policy a CI role gets later, and keep another stack's
    deploy role, which may tag and manage keys tagged with its stack, away from this one.
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
    """
    ci_roles = {"ArnLike": {"aws:PrincipalArn": settings.names.ci_roles_arn(account)}}
    others = {**ci_roles, "ArnNotEquals": {"aws:PrincipalArn": sorted(users)}}
    root = f"arn:{settings.partition.name}:iam::{account}:root"
    return document(
        [
            {
                "Sid": "AccountAdministersThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CiRolesOnlyUseIt",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "NotAction": list(SECRETS_KEY_ACTIONS),
                "Resource": "*",
                "Condition": ci_roles,
            },
            {
                "Sid": "OnlyThisStacksCiRolesUseIt",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": list(SECRETS_KEY_ACTIONS),
                "Resource": "*",
                "Condition": others,
            },
        ]
    )


def actions_of(documents: Iterable[Mapping[str, Any]], effect: str = "Allow") -> set[str]:
    return {
        action
        for doc in documents
        for st in doc["Statement"]
        if st["Effect"] == effect
        for action in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])
    }


def unknown_actions(*documents: Mapping[str, Any]) -> list[str]:
    """Actions (or Deny wildcards) that match no API operation: a typo grants nothing."""
    session = botocore.session.get_session()
    known: dict[str, Sequence[str]] = {}
    unknown = []
    available = session.get_available_services()
    for action in sorted(actions_of(documents) | actions_of(documents, "Deny")):
        if action in PERMISSION_ONLY:
            continue
        service, _, name = action.partition(":")
        name = S3_AUTHORIZES.get(action, name)
        if service not in known:
            models = [m for m in BOTOCORE_MODELS.get(service, (service,)) if m in available]
            known[service] = [
                op for m in models for op in session.get_service_model(m).operation_names
            ]
        if name == "*" and known[service]:
            continue
        if name not in known[service]:
            unknown.append(action)
    return unknown
