"""The Fargate services' part: the cluster, services, task definitions and log groups by their
exact names, the tasks' security groups and the Cloud Map namespace by the stack's tag, and the
jobs' schedules by name."""

from __future__ import annotations

from permissions.documents import (
    ECS,
    Condition,
    Statement,
    owned_by_stack,
    retag_owned,
    service_linked_role,
    statement,
    tagged_for_stack,
    untag_owned,
)
from permissions.renders import (
    creates_security_group,
    job_names,
    log_group_arns,
    task_definition_arns,
    uses_capacity_strategy,
    uses_service_connect,
)
from settings import Settings

# The providers components/ecs/cluster.py associates with the cluster when a service uses a strategy.
FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
ECS_READS = (
    "ecs:DescribeClusters",
    "ecs:DescribeServiceDeployments",
    "ecs:DescribeServices",
    "ecs:ListServiceDeployments",
    "ecs:ListTagsForResource",
)
CLUSTER_WRITES = (
    "ecs:CreateCluster",
    "ecs:DeleteCluster",
    "ecs:PutClusterCapacityProviders",
    "ecs:TagResource",
    "ecs:UntagResource",
    "ecs:UpdateCluster",
    "ecs:UpdateClusterSettings",
)
SERVICE_WRITES = (
    "ecs:CreateService",
    "ecs:DeleteService",
    "ecs:StopServiceDeployment",
    "ecs:TagResource",
    "ecs:UntagResource",
    "ecs:UpdateService",
)
TASK_DEFINITION_WRITES = ("ecs:RegisterTaskDefinition", "ecs:TagResource", "ecs:UntagResource")
LOG_GROUP_WRITES = (
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
SECURITY_GROUP_WRITES = (
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:DeleteSecurityGroup",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
    "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
)
NAMESPACE_WRITES = ("servicediscovery:GetOperation",)
SCHEDULE_WRITES = (
    "scheduler:CreateSchedule",
    "scheduler:DeleteSchedule",
    "scheduler:UpdateSchedule",
)


# --- reads --------------------------------------------------------------------------------------
def fargate_reads(settings: Settings, account: str) -> list[Statement]:
    if settings.fargate is None:
        return []
    names = settings.names
    ecs_arns = [
        names.cluster_arn(account),
        names.ecs_service_arn(account),
        names.ecs_service_deployment_arn(account),
        *task_definition_arns(settings, account),
    ]
    log_reads = ("logs:GetDataProtectionPolicy", "logs:ListTagsForResource")
    found = [
        statement("ReadStackEcs", ECS_READS, ecs_arns),
        statement("ReadStackLogGroups", log_reads, log_group_arns(settings, account)),
    ]
    if uses_service_connect(settings):
        # Untagged (see `_namespace`): any namespace's settings, never its services or instances.
        namespace = names.namespace_arn(account)
        found.append(statement("ReadNamespaces", ["servicediscovery:GetNamespace"], namespace))
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


def unscoped_reads(settings: Settings) -> set[str]:
    """The services' reads with no resource-level form: "*" is the only resource they take."""
    if settings.fargate is None:
        return set()
    found = {"ecs:DescribeTaskDefinition", "logs:DescribeLogGroups"}
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
    return found


# --- writes -------------------------------------------------------------------------------------
def fargate_writes(settings: Settings, account: str) -> list[Statement]:
    names = settings.names
    if settings.fargate is None:
        return []
    services = [names.ecs_service_arn(account), names.ecs_service_deployment_arn(account)]
    definitions = task_definition_arns(settings, account)
    return [
        statement("ManageStackCluster", CLUSTER_WRITES, names.cluster_arn(account)),
        statement("ManageStackServices", SERVICE_WRITES, services),
        statement("RegisterStackTaskDefinitions", TASK_DEFINITION_WRITES, definitions),
        # DeregisterTaskDefinition has no resource-level form: "*" is the only valid resource.
        # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
        statement("DeregisterTaskDefinitions", ["ecs:DeregisterTaskDefinition"], "*"),
        service_linked_role(settings, account, ECS, "EcsServiceLinkedRole"),
        statement("ManageStackLogGroups", LOG_GROUP_WRITES, log_group_arns(settings, account)),
        *_security_group(settings, account),
        *_namespace(settings, account),
        *_schedules(settings, account),
    ]


def _namespace(settings: Settings, account: str) -> list[Statement]:
    """The stack's Cloud Map namespace: created, then never tagged, changed or deleted by any
    deploy role. Cloud Map's TagResource has no resource-level form and no resource-tag key, so
    a grant to tag "the stack's" namespace would let any stack retag another's as its own and
    then update or delete it; the namespace is created untagged (a tag would need TagResource),
    keeps its constant name and description, and outlives `pulumi destroy` (components/ecs/
    cluster.py). CreateHttpNamespace has no resource-level form either; reading and following
    the creating operation take the namespace ARN.
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudmap.html"""
    if not uses_service_connect(settings):
        return []
    namespace = settings.names.namespace_arn(account)
    create = ["servicediscovery:CreateHttpNamespace"]
    return [
        statement("CreateStackNamespace", create, "*"),
        statement("FollowNamespaceOperations", NAMESPACE_WRITES, namespace),
    ]


def _schedules(settings: Settings, account: str) -> list[Statement]:
    """The jobs' schedules, by name (schedules carry no tags)."""
    jobs = job_names(settings)
    if not jobs:
        return []
    schedules = [settings.names.schedule_arn(account, j) for j in jobs]
    return [statement("ManageStackSchedules", SCHEDULE_WRITES, schedules)]


def _security_group(settings: Settings, account: str) -> list[Statement]:
    """Create only with the stack's tag; change and delete only groups that carry it (ABAC).
    https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html
    """
    names = settings.names
    if not creates_security_group(settings):
        return []
    groups = names.security_group_arn(account)
    tagged, owned = tagged_for_stack(settings), owned_by_stack(settings)
    # Retagging an owned group may not hand it to another stack, nor drop the `stack` tag.
    retag, untag = retag_owned(settings), untag_owned(settings)
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
        statement("ChangeStackSecurityGroup", SECURITY_GROUP_WRITES, groups, owned),
    ]
