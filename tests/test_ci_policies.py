"""The CI policies against what the stacks really render.

Coverage: every CloudFormation handler permission of every rendered resource, asked of the deploy
policy with the ARN and request context the call carries, is allowed or reviewed as excluded.
Least: the deploy policy allows nothing else. Escalation: no role (CI or stack) can widen itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import pytest

import permissions as policies
from cli import bootstrap
from plan.engine import ACCOUNT_ID
from rules.iam.evaluate import Request, as_list, is_allowed
from rules.naming import StackNames
from settings import Settings
from tests.ci_support import (
    GIVEN_KEY,
    VARIANTS,
    Target,
    Variant,
    access_level,
    action_details,
    arn_is_of,
    condition_keys,
    handler_permissions,
    resource_types,
    tags_of,
    variant,
)

ACCOUNT = ACCOUNT_ID
REGION = "us-east-1"
# What a KMS call ECR makes for a caller carries (a repository's grant on its key).
ECR_KMS_CONTEXT = {
    "kms:ViaService": f"ecr.{REGION}.amazonaws.com",
    "kms:GrantIsForAWSResource": "true",
}
REPLICATION_SERVICE = "replication.ecr.amazonaws.com"
LAMBDA = "lambda.amazonaws.com"


@dataclass(frozen=True)
class Handlers:
    """Which CloudFormation handlers stand for a Pulumi type, and the provider's own calls the
    schema does not list (each with its reason)."""

    cfn: tuple[tuple[str, str | None], ...]  # (type, only actions naming this) pairs
    extra: tuple[tuple[str, str], ...] = ()  # (handler, action) pairs


# Reviewed: a new Pulumi type in the stack fails `test_every_rendered_type_and_invoke_is_mapped` until it is
# added here, so no resource reaches AWS without its permissions being checked.
TYPES: dict[str, Handlers] = {
    "aws:ecr/repository:Repository": Handlers((("AWS::ECR::Repository", None),)),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": Handlers(
        (("AWS::ECR::Repository", "LifecyclePolicy"),)
    ),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": Handlers(
        (("AWS::ECR::Repository", "RepositoryPolicy"),)
    ),
    "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration": Handlers(
        (("AWS::ECR::RegistryScanningConfiguration", None),)
    ),
    # The provider changes a rule's credential in place instead of replacing the rule.
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule": Handlers(
        (("AWS::ECR::PullThroughCacheRule", None),), (("update", "ecr:UpdatePullThroughCacheRule"),)
    ),
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": Handlers(
        (("AWS::ECR::RepositoryCreationTemplate", None),)
    ),
    "aws:ecr/pullTimeUpdateExclusion:PullTimeUpdateExclusion": Handlers(
        (("AWS::ECR::PullTimeUpdateExclusion", None),)
    ),
    "aws:ecr/replicationConfiguration:ReplicationConfiguration": Handlers(
        (("AWS::ECR::ReplicationConfiguration", None),)
    ),
    "aws:kms/key:Key": Handlers((("AWS::KMS::Key", None),)),
    # The provider reads a secret's resource policy along with the secret.
    "aws:secretsmanager/secret:Secret": Handlers(
        (("AWS::SecretsManager::Secret", None),), (("read", "secretsmanager:GetResourcePolicy"),)
    ),
    # The provider writes a version with PutSecretValue and, on delete, moves AWSCURRENT off it.
    "aws:secretsmanager/secretVersion:SecretVersion": Handlers(
        (("AWS::SecretsManager::Secret", None),),
        (
            ("create", "secretsmanager:PutSecretValue"),
            ("delete", "secretsmanager:UpdateSecretVersionStage"),
        ),
    ),
    # The provider removes a role from its instance profiles before it deletes the role.
    "aws:iam/role:Role": Handlers(
        (("AWS::IAM::Role", None),), (("delete", "iam:ListInstanceProfilesForRole"),)
    ),
    "aws:iam/rolePolicy:RolePolicy": Handlers((("AWS::IAM::RolePolicy", None),)),
    "aws:cloudwatch/logGroup:LogGroup": Handlers((("AWS::Logs::LogGroup", None),)),
    "aws:ecs/cluster:Cluster": Handlers((("AWS::ECS::Cluster", None),)),
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": Handlers(
        (("AWS::ECS::ClusterCapacityProviderAssociations", None),)
    ),
    "aws:ecs/taskDefinition:TaskDefinition": Handlers((("AWS::ECS::TaskDefinition", None),)),
    "aws:ecs/service:Service": Handlers((("AWS::ECS::Service", None),)),
    # Before deleting a group the provider waits for network interfaces that still use it.
    "aws:ec2/securityGroup:SecurityGroup": Handlers(
        (("AWS::EC2::SecurityGroup", None),), (("delete", "ec2:DescribeNetworkInterfaces"),)
    ),
    "aws:servicediscovery/httpNamespace:HttpNamespace": Handlers(
        (("AWS::ServiceDiscovery::HttpNamespace", None),)
    ),
    "aws:scheduler/schedule:Schedule": Handlers((("AWS::Scheduler::Schedule", None),)),
    # The web services (issue #14). ELB creates its service-linked role on the account's first
    # load balancer, with the caller's permission:
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-service-linked-roles.html
    "aws:lb/loadBalancer:LoadBalancer": Handlers(
        (("AWS::ElasticLoadBalancingV2::LoadBalancer", None),),
        (("create", "iam:CreateServiceLinkedRole"),),
    ),
    "aws:lb/targetGroup:TargetGroup": Handlers(
        (("AWS::ElasticLoadBalancingV2::TargetGroup", None),)
    ),
    "aws:lb/listener:Listener": Handlers((("AWS::ElasticLoadBalancingV2::Listener", None),)),
    "aws:lb/listenerRule:ListenerRule": Handlers(
        (("AWS::ElasticLoadBalancingV2::ListenerRule", None),)
    ),
    "aws:acm/certificate:Certificate": Handlers((("AWS::CertificateManager::Certificate", None),)),
    # The deployment hooks (issue #21).
    "aws:lambda/function:Function": Handlers((("AWS::Lambda::Function", None),)),
    # Not a CloudFormation type: waits for the certificate to be issued.
    "aws:acm/certificateValidation:CertificateValidation": Handlers(
        (), (("create", "acm:DescribeCertificate"),)
    ),
    "aws:route53/record:Record": Handlers((("AWS::Route53::RecordSet", None),)),
    # The provider reads every sub-configuration of a bucket back, the policy and the
    # requester-pays setting too; which handler actions each S3 type uses: `S3_CALLS`.
    "aws:s3/bucket:Bucket": Handlers(
        (("AWS::S3::Bucket", None),),
        (
            ("read", "s3:GetBucketPolicy"),
            ("read", "s3:GetBucketRequestPayment"),
            ("delete", "s3:ListBucketVersions"),
            ("delete", "s3:DeleteObjectVersion"),
        ),
    ),
    "aws:s3/bucketPolicy:BucketPolicy": Handlers((("AWS::S3::BucketPolicy", None),)),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": Handlers(
        (("AWS::S3::Bucket", None),)
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": Handlers(
        (("AWS::S3::Bucket", None),)
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        Handlers((("AWS::S3::Bucket", None),))
    ),
    "aws:appautoscaling/target:Target": Handlers(
        (("AWS::ApplicationAutoScaling::ScalableTarget", None),)
    ),
    "aws:appautoscaling/policy:Policy": Handlers(
        (("AWS::ApplicationAutoScaling::ScalingPolicy", None),)
    ),
    # CloudFormation has scheduled actions as a property of the scalable target.
    "aws:appautoscaling/scheduledAction:ScheduledAction": Handlers(
        (("AWS::ApplicationAutoScaling::ScalableTarget", "ScheduledAction"),)
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": Handlers((("AWS::CloudWatch::Alarm", None),)),
    # Not a CloudFormation type: the registry login and the `docker push` of the built image.
    "docker:index/image:Image": Handlers(
        (), tuple(("create", a) for a in (*policies.PUSH_ACTIONS, "ecr:GetAuthorizationToken"))
    ),
}
# The program's invokes (provider functions), also made by `pulumi preview`.
# sts:GetCallerIdentity needs no permission:
# https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
INVOKES: dict[str, tuple[str, ...]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": (),
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": ("ecr:GetAuthorizationToken",),
    "aws:ec2/getVpc:getVpc": ("ec2:DescribeVpcs",),
    "aws:ec2/getSubnets:getSubnets": ("ec2:DescribeSubnets",),
    "aws:ec2/getSubnet:getSubnet": ("ec2:DescribeSubnets",),
    # promoteFrom: `pulumi up` reads the digests CI promoted, from the stack's own parameter.
    "aws:ssm/getParameter:getParameter": ("ssm:GetParameter",),
}
PROMOTION_READS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
# Invokes that name one resource; the others take "*".
INVOKE_RESOURCES: dict[str, Callable[[Any], str]] = {
    "aws:ssm/getParameter:getParameter": lambda v: (
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/ecr-fargate/{v.settings.stack}/image-digests"
    ),
}
# Reviewed: handler permissions the deploy role does NOT get, and why. A key is an action, or
# "<CloudFormation type> <action>" for one type only.
EXCLUSIONS: dict[str, str] = {
    "kms:PutKeyPolicy": "the stack sets no key policy (the default one delegates to IAM); "
    "PutKeyPolicy would let the role give the key to anyone or lock its administrators out",
    "iam:DeleteRolePermissionsBoundary": "explicitly denied: removing a boundary is the "
    "escalation the boundary exists to stop",
    "ecs:PutAccountSetting": "account-wide ECS settings; the stack sets cluster settings only",
    "ecs:PutAccountSettingDefault": "account-wide ECS defaults; the stack sets none",
    "logs:CreateLogDelivery": "vended-log delivery (no resource-level form); the stack sets none",
    "logs:PutResourcePolicy": "account-level log resource policies; the stack sets none",
    "logs:DescribeResourcePolicies": "account-level log resource policies; the stack sets none",
    "logs:DeleteResourcePolicy": "account-level log resource policies; the stack sets none",
    "logs:PutIndexPolicy": "account-wide field indexes (no resource-level form); none set",
    "logs:DescribeIndexPolicies": "account-wide field indexes (no resource-level form); none set",
    "logs:DeleteIndexPolicy": "account-wide field indexes (no resource-level form); none set",
    "logs:PutBearerTokenAuthentication": "opens HTTP log ingestion to bearer tokens; none set",
    "s3:REST.PUT.OBJECT": "not an IAM action: the schema's note for log delivery to S3",
    "firehose:TagDeliveryStream": "log delivery to Firehose; the stack configures none",
    "secretsmanager:GetRandomPassword": "CloudFormation's GenerateSecretString only; the stack "
    "writes the value it is given",
    "secretsmanager:ReplicateSecretToRegions": "the stack sets no replica Regions; replicating "
    "a credential would copy it out of the Region",
    "secretsmanager:RemoveRegionsFromReplication": "the stack sets no replica Regions",
    "AWS::ECS::Cluster kms:DescribeKey": "managed-storage encryption; the cluster sets no key",
    # The web services (issue #14): each is for a type only, so that an exclusion of a type no
    # fixture renders yet is not reported as unneeded.
    "AWS::ElasticLoadBalancingV2::LoadBalancer ec2:DescribeIpamPools": "IPAM pools for the "
    "load balancer's addresses; the stack sets none",
    "AWS::ElasticLoadBalancingV2::LoadBalancer elasticloadbalancing:ModifyIpPools": "IPAM "
    "pools; the stack sets none",
    "AWS::ElasticLoadBalancingV2::LoadBalancer elasticloadbalancing:ModifyCapacityReservation": (
        "reserved load balancer capacity (billed whether used or not); the stack reserves none"
    ),
    "AWS::ElasticLoadBalancingV2::Listener cognito-idp:DescribeUserPoolClient": "Cognito "
    "authentication actions; the stack's listeners forward, redirect or answer fixed responses",
    "AWS::ElasticLoadBalancingV2::ListenerRule cognito-idp:DescribeUserPoolClient": "Cognito "
    "authentication actions; the stack's rules forward",
    "AWS::CertificateManager::Certificate route53:ChangeResourceRecordSets": "CloudFormation "
    "writes the validation records itself; the stack writes them as Route 53 Record resources, "
    "checked as those",
    "AWS::CertificateManager::Certificate acm-pca:IssueCertificate": "private certificates; the "
    "stack requests public, DNS-validated ones",
    "AWS::CertificateManager::Certificate acm-pca:GetCertificate": "private certificates; the "
    "stack requests public, DNS-validated ones",
    "AWS::ApplicationAutoScaling::ScalableTarget iam:PassRole": "the stack passes no RoleARN: "
    "Application Auto Scaling uses its ECS service-linked role",
    "AWS::ApplicationAutoScaling::ScalableTarget lambda:GetProvisionedConcurrencyConfig": "Lambda "
    "targets; the stack scales ECS services",
    "AWS::ApplicationAutoScaling::ScalableTarget lambda:PutProvisionedConcurrencyConfig": "Lambda "
    "targets; the stack scales ECS services",
    "AWS::ApplicationAutoScaling::ScalableTarget lambda:DeleteProvisionedConcurrencyConfig": (
        "Lambda targets; the stack scales ECS services"
    ),
    "AWS::ApplicationAutoScaling::ScalingPolicy cloudwatch:GetMetricData": "predictive "
    "scaling's forecast; the stack's policies are target tracking",
    # Cloud Map (issue #20): TagResource has no resource-level form and no resource-tag key, so
    # no grant could keep one stack from retagging another's namespace and then changing or
    # deleting it. The stack's namespace is created untagged, never changed, kept on destroy.
    "AWS::ServiceDiscovery::HttpNamespace servicediscovery:TagResource": "the namespace is "
    "created untagged (tags ignored): a grant to tag would reach every namespace of the account",
    "AWS::ServiceDiscovery::HttpNamespace servicediscovery:UntagResource": "the namespace's "
    "tags are ignored, never changed",
    "AWS::ServiceDiscovery::HttpNamespace servicediscovery:UpdateHttpNamespace": "the "
    "namespace's description is constant (derived from the stack name, which never changes)",
    "AWS::ServiceDiscovery::HttpNamespace servicediscovery:DeleteNamespace": "the namespace is "
    "retained on delete: without a tag no grant could tell this stack's namespace from another's",
    # The deployment hooks' functions (issue #21): inline code, no key, layer, file system,
    # code signing, reserved concurrency, published version or capacity provider.
    **{
        f"AWS::Lambda::Function {a}": why
        for why, actions in (
            (
                "the code is an inline archive, never read from S3",
                ("s3:GetObject", "s3:GetObjectVersion"),
            ),
            (
                "no customer key: Lambda encrypts the environment with its own key",
                ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt"),
            ),
            ("no customer key for the environment", ("kms:GenerateDataKey",)),
            (
                "no file system is mounted",
                ("elasticfilesystem:DescribeMountTargets", "s3files:ListMountTargets"),
            ),
            (
                "no code signing",
                (
                    "lambda:GetCodeSigningConfig",
                    "lambda:PutFunctionCodeSigningConfig",
                    "lambda:DeleteFunctionCodeSigningConfig",
                ),
            ),
            (
                "no reserved concurrency (the hooks run one at a time per deployment)",
                ("lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency"),
            ),
            ("no layers", ("lambda:GetLayerVersion",)),
            (
                "the runtime's default update mode, recursion and scaling settings stay",
                (
                    "lambda:PutRuntimeManagementConfig",
                    "lambda:PutFunctionRecursionConfig",
                    "lambda:PutFunctionScalingConfig",
                ),
            ),
            ("no published versions (ECS calls $LATEST)", ("lambda:PublishVersion",)),
            (
                "no Lambda managed instances (capacity providers, runtime aliases)",
                ("lambda:PassCapacityProvider", "lambda:AssociateRuntimeAlias"),
            ),
        )
        for a in actions
    },
}
EMPTYING = (*policies.BUCKET_EMPTYING, "s3:ListBucketVersions")
# Which of the (many) AWS::S3::Bucket handler actions each S3 type of the provider uses: a bucket
# is created bare and every setting is a resource of its own; deleting a setting puts it back to
# the default with the same action. The provider reads every setting of the bucket back.
S3_CALLS: dict[str, frozenset[str]] = {
    "aws:s3/bucket:Bucket": frozenset(
        {"s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketTagging", *policies.BUCKET_READS}
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": frozenset(
        {"s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"}
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": frozenset(
        {"s3:GetBucketOwnershipControls", "s3:PutBucketOwnershipControls"}
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        frozenset({"s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration"})
    ),
}


def names(v: Variant) -> StackNames:
    return v.settings.names


def find(v: Variant, type_: str, **inputs: Any) -> Any:
    for r in v.rendered.of_type(type_):
        if all(r.inputs.get(k) == want or r.state.get(k) == want for k, want in inputs.items()):
            return r
    raise KeyError((type_, inputs))


def slr(v: Variant, service: str) -> Target:
    arn = names(v).service_linked_role_arn(ACCOUNT, service).replace("*", "Role")
    return Target(arn, service=service, only=("iam:CreateServiceLinkedRole",))


def role_target(v: Variant, arn: str, passed_to: str | None = None) -> Target:
    role = find(v, "aws:iam/role:Role", arn=arn)
    boundary = role.inputs.get("permissionsBoundary")
    # A role handed to a service is only passed (and looked up); a RolePolicy writes the role.
    only = ("iam:GetRole", "iam:PassRole") if passed_to else ()
    return Target(arn, tags_of(role), passed_to=passed_to, boundary=boundary, only=only)


def key_target(v: Variant) -> Target:
    if v.settings.registry.kms_key_arn:
        return Target(v.settings.registry.kms_key_arn)
    key = find(v, "aws:kms/key:Key", region=None)  # the registry's (a replica's names its region)
    return Target(key.state["arn"], tags_of(key))


def _repository(v: Variant, r: Any) -> list[Target]:
    found = [Target(r.state["arn"], tags_of(r), new=True)]
    encryption = (r.inputs.get("encryptionConfigurations") or [{}])[0]
    return found + ([key_target(v)] if encryption.get("encryptionType") == "KMS" else [])


def _on_repository(v: Variant, r: Any) -> list[Target]:
    repo = find(v, "aws:ecr/repository:Repository", name=r.inputs["repository"])
    return [Target(repo.state["arn"], tags_of(repo))]


def _image(v: Variant, r: Any) -> list[Target]:
    repository = r.inputs["imageName"].split("/", 1)[1].rsplit(":", 1)[0]
    return [Target(names(v).repository_arn(ACCOUNT, repository))]


def _cache_rule(v: Variant, r: Any) -> list[Target]:
    found = [slr(v, policies.PULL_THROUGH_CACHE)]
    if r.inputs.get("credentialArn"):
        secret = [s for s in v.rendered.of_type("aws:secretsmanager/secret:Secret")]
        tags = next((tags_of(s) for s in secret if s.state["arn"] == r.inputs["credentialArn"]), {})
        found.append(Target(r.inputs["credentialArn"], tags))
    if r.inputs.get("customRoleArn"):
        role = r.inputs["customRoleArn"]
        found.append(Target(role, passed_to=policies.PULL_THROUGH_CACHE, only=("iam:PassRole",)))
    return found


def _template(v: Variant, r: Any) -> list[Target]:
    prefix = r.inputs["prefix"]
    example = "example" if prefix == "ROOT" else f"{prefix}/example"
    there = names(v).in_region(r.inputs.get("region") or REGION)  # a replica's template
    found = [slr(v, policies.ECR), Target(there.repository_arn(ACCOUNT, example), new=True)]
    if r.inputs.get("customRoleArn"):
        found.append(role_target(v, r.inputs["customRoleArn"], passed_to=policies.ECR))
    return found


def _role(v: Variant, r: Any) -> list[Target]:
    return [Target(r.state["arn"], tags_of(r), new=True, boundary=r.inputs["permissionsBoundary"])]


def _role_policy(v: Variant, r: Any) -> list[Target]:
    role = find(v, "aws:iam/role:Role", name=r.inputs["role"])
    return [role_target(v, role.state["arn"])]


def _secret_version(v: Variant, r: Any) -> list[Target]:
    secret = find(v, "aws:secretsmanager/secret:Secret", arn=r.inputs["secretId"])
    return [Target(secret.state["arn"], tags_of(secret))]


def _task_definition(v: Variant, r: Any) -> list[Target]:
    roles = [r.inputs["executionRoleArn"], r.inputs["taskRoleArn"]]
    found = [Target(r.state["arn"], tags_of(r), new=True)]
    return found + [role_target(v, a, passed_to=policies.ECS_TASKS) for a in roles]


def passed_service_roles(r: Any) -> list[str]:
    """The roles CreateService/UpdateService hand ECS: the blue/green infrastructure role
    (`loadBalancers[].advancedConfiguration.roleArn`) and each lifecycle hook's invoke role."""
    balancers = r.inputs.get("loadBalancers") or []
    hooks = (r.inputs.get("deploymentConfiguration") or {}).get("lifecycleHooks") or []
    found = [
        b["advancedConfiguration"]["roleArn"] for b in balancers if b.get("advancedConfiguration")
    ]
    return sorted({*found, *(h["roleArn"] for h in hooks)})


def _service(v: Variant, r: Any) -> list[Target]:
    n = names(v)
    deployment = n.ecs_service_deployment_arn(ACCOUNT, r.inputs["name"]).replace("*", "deploy-1")
    return [
        Target(n.ecs_service_arn(ACCOUNT, r.inputs["name"]), tags_of(r), new=True),
        Target(deployment, tags_of(r)),
        *(role_target(v, a, passed_to=policies.ECS) for a in passed_service_roles(r)),
    ]


def _capacity_providers(v: Variant, r: Any) -> list[Target]:
    cluster = find(v, "aws:ecs/cluster:Cluster", name=r.inputs["clusterName"])
    providers = [names(v).capacity_provider_arn(ACCOUNT, p) for p in r.inputs["capacityProviders"]]
    only = ("ecs:DescribeCapacityProviders",)
    return [Target(cluster.state["arn"], tags_of(cluster))] + [
        Target(arn, only=only) for arn in providers
    ]


def _security_group(v: Variant, r: Any) -> list[Target]:
    n = names(v)
    group = Target(n.security_group_arn(ACCOUNT, "sg-0123456789abcdef0"), tags_of(r), new=True)
    vpc = Target(n.vpc_arn(ACCOUNT, r.inputs["vpcId"]), only=("ec2:CreateSecurityGroup",))
    return [group, vpc]


def _namespace(v: Variant, r: Any) -> list[Target]:
    arn = names(v).namespace_arn(ACCOUNT, "ns-0123456789abcdef")
    return [Target(arn, tags_of(r), new=True)]


def _schedule(v: Variant, r: Any) -> list[Target]:
    arn = (
        names(v)
        .schedule_arn(ACCOUNT)
        .replace("*", r.inputs["name"].removeprefix(names(v).prefix + "-"))
    )
    role = role_target(v, r.inputs["target"]["roleArn"], passed_to=policies.SCHEDULER)
    return [Target(arn, new=True), role]


def _function(v: Variant, r: Any) -> list[Target]:
    return [*_own(v, r), role_target(v, r.inputs["role"], passed_to=LAMBDA)]


def _own(v: Variant, r: Any) -> list[Target]:
    return [Target(r.state["arn"], tags_of(r), new=True)]


# The generated parts of the web services' ARNs (the load balancer's and listener's IDs, ...).
LB_ID, LISTENER_ID, RULE_ID = "50dc6c495c0c9188", "f2f7dc8efc522ab2", "9683b2d02a6cabee"
TG_ID, CERTIFICATE_ID = "6d0ecf831eec9f09", "12345678-1234-1234-1234-123456789012"
SCALABLE_TARGET_ID = "0123456789abcdef0123456789abcdef"


def _load_balancer_arn(v: Variant) -> str:
    return names(v).load_balancer_arn(ACCOUNT).replace("*", LB_ID)


def _listener_arn(v: Variant) -> str:
    return names(v).listener_arn(ACCOUNT).replace("*", f"{LB_ID}/{LISTENER_ID}")


def _load_balancer(v: Variant, r: Any) -> list[Target]:
    return [Target(_load_balancer_arn(v), tags_of(r), new=True), slr(v, policies.ELB)]


def _target_group(v: Variant, r: Any) -> list[Target]:
    arn = names(v).target_group_arn(ACCOUNT, r.inputs["name"]).replace("*", TG_ID)
    return [Target(arn, tags_of(r), new=True)]


def _listener(v: Variant, r: Any) -> list[Target]:
    """A listener is created on its load balancer (IAM checks the balancer's tags)."""
    balancer = v.rendered.one("aws:lb/loadBalancer:LoadBalancer")
    on = Target(
        _load_balancer_arn(v), tags_of(balancer), only=("elasticloadbalancing:CreateListener",)
    )
    return [on, Target(_listener_arn(v), tags_of(r), new=True)]


def _listener_rule(v: Variant, r: Any) -> list[Target]:
    """A rule is created on its listener."""
    on = Target(_listener_arn(v), only=("elasticloadbalancing:CreateRule",))
    rule = names(v).listener_rule_arn(ACCOUNT).replace("*", f"{LB_ID}/{LISTENER_ID}/{RULE_ID}")
    return [on, Target(rule, tags_of(r), new=True)]


def _certificate_target(v: Variant) -> Target:
    certificate = v.rendered.one("aws:acm/certificate:Certificate")
    arn = names(v).certificate_arn(ACCOUNT, CERTIFICATE_ID)
    return Target(arn, tags_of(certificate))


def _certificate(v: Variant, r: Any) -> list[Target]:
    arn = names(v).certificate_arn(ACCOUNT, CERTIFICATE_ID)
    return [Target(arn, tags_of(r), new=True)]


def _record(v: Variant, r: Any) -> list[Target]:
    zone = Target(names(v).hosted_zone_arn(r.inputs["zoneId"]))
    change = names(v).route53_change_arn("C2682N5HXP0BZ4")
    return [zone, Target(change, only=("route53:GetChange",))]


def _bucket_part(v: Variant, r: Any) -> list[Target]:
    """A bucket, or a setting of it (IAM checks the bucket); a bucket's objects, which a
    `forceDestroy` bucket's delete removes."""
    bucket = v.rendered.one("aws:s3/bucket:Bucket")
    arn = names(v).access_logs_bucket_arn(ACCOUNT)
    objects = f"{arn}/alb/AWSLogs/{ACCOUNT}/elasticloadbalancing/{REGION}/x.log.gz"
    return [
        Target(arn, tags_of(bucket), new=r is bucket),
        Target(objects, only=policies.BUCKET_EMPTYING),
    ]


def _scalable(v: Variant, r: Any) -> Target:
    """The scalable target a policy or scheduled action belongs to (by resource ID)."""
    target = find(v, "aws:appautoscaling/target:Target", resourceId=r.inputs["resourceId"])
    arn = names(v).scalable_target_arn(ACCOUNT, SCALABLE_TARGET_ID)
    return Target(arn, tags_of(target), new=r is target)


def _scalable_target(v: Variant, r: Any) -> list[Target]:
    """The target, the service-linked role, and the alarms target tracking creates for it."""
    tracking = names(v).target_tracking_alarm_arn(ACCOUNT)
    service = r.inputs["resourceId"].rsplit("/", 1)[1]
    alarm = tracking.replace("*", f"{service}-AlarmHigh-0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b")
    only = ("cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm")
    return [_scalable(v, r), slr(v, policies.ECS_SCALING), Target(alarm, only=only)]


def _alarm(v: Variant, r: Any) -> list[Target]:
    arn = v.settings.names.alarm_arn(ACCOUNT).replace(f"{names(v).prefix}-*", r.inputs["name"])
    return [Target(arn, tags_of(r), new=True)]


TARGETS: dict[str, Callable[[Variant, Any], list[Target]]] = {
    "aws:ecr/repository:Repository": _repository,
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": _on_repository,
    "aws:ecr/repositoryPolicy:RepositoryPolicy": _on_repository,
    "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration": lambda v, r: [
        slr(v, policies.INSPECTOR)
    ],
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule": _cache_rule,
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": _template,
    # Registry-wide, no resource-level form: the excluded principal stands for the call.
    "aws:ecr/pullTimeUpdateExclusion:PullTimeUpdateExclusion": lambda v, r: [
        Target(r.inputs["principalArn"])
    ],
    "aws:ecr/replicationConfiguration:ReplicationConfiguration": lambda v, r: [
        slr(v, REPLICATION_SERVICE)
    ],
    "aws:kms/key:Key": _own,
    "aws:secretsmanager/secret:Secret": _own,
    "aws:secretsmanager/secretVersion:SecretVersion": _secret_version,
    "aws:iam/role:Role": _role,
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
    "aws:cloudwatch/logGroup:LogGroup": _own,
    "aws:ecs/cluster:Cluster": lambda v, r: [*_own(v, r), slr(v, policies.ECS)],
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": _capacity_providers,
    "aws:ecs/taskDefinition:TaskDefinition": _task_definition,
    "aws:ecs/service:Service": _service,
    "aws:ec2/securityGroup:SecurityGroup": _security_group,
    "docker:index/image:Image": _image,
    "aws:servicediscovery/httpNamespace:HttpNamespace": _namespace,
    "aws:scheduler/schedule:Schedule": _schedule,
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:lb/targetGroup:TargetGroup": _target_group,
    "aws:lb/listener:Listener": _listener,
    "aws:lb/listenerRule:ListenerRule": _listener_rule,
    "aws:acm/certificate:Certificate": _certificate,
    "aws:acm/certificateValidation:CertificateValidation": lambda v, r: [_certificate_target(v)],
    "aws:route53/record:Record": _record,
    **{t: _bucket_part for t in S3_CALLS},
    "aws:s3/bucketPolicy:BucketPolicy": _bucket_part,
    "aws:appautoscaling/target:Target": _scalable_target,
    "aws:appautoscaling/policy:Policy": lambda v, r: [_scalable(v, r)],
    "aws:appautoscaling/scheduledAction:ScheduledAction": lambda v, r: [_scalable(v, r)],
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:lambda/function:Function": _function,
}
# Tags ride along with the creating call; IAM then checks the tagging action on the new resource.
TAG_ON_CREATE = {
    "ec2:CreateTags",
    "ecr:TagResource",
    "ecs:TagResource",
    "iam:TagRole",
    "kms:TagResource",
    "logs:TagResource",
    "secretsmanager:TagResource",
    "servicediscovery:TagResource",
    "elasticloadbalancing:AddTags",
    "acm:AddTagsToCertificate",
    "application-autoscaling:TagResource",
    "cloudwatch:TagResource",
    "lambda:TagResource",
}
# The creating call ELB names in `elasticloadbalancing:CreateAction` when it tags on create.
ELB_CREATE_ACTIONS = {
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "CreateLoadBalancer",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "CreateTargetGroup",
    "AWS::ElasticLoadBalancingV2::Listener": "CreateListener",
    "AWS::ElasticLoadBalancingV2::ListenerRule": "CreateRule",
}
# What a record change sends Route 53 in its condition keys, by handler.
# https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/specifying-rrset-conditions.html
RECORD_ACTIONS = {"create": "CREATE", "update": "UPSERT", "delete": "DELETE"}


def applies(cfn: str, action: str, r: Any) -> bool:
    """Handler permissions for a feature this resource does not use do not apply to it."""
    if cfn == "AWS::ECR::Repository" and action.startswith("kms:"):
        encryption = (r.inputs.get("encryptionConfigurations") or [{}])[0]
        return bool(encryption.get("encryptionType") == "KMS")
    if action == "secretsmanager:GetSecretValue" and cfn == "AWS::ECR::PullThroughCacheRule":
        return bool(r.inputs.get("credentialArn"))
    if action == "iam:PassRole" and cfn.startswith("AWS::ECR::"):
        return bool(r.inputs.get("customRoleArn"))
    if cfn == "AWS::ECR::RegistryScanningConfiguration" and not action.startswith("ecr:"):
        # Amazon Inspector (and its service-linked role) is what ENHANCED scanning is.
        return bool(r.inputs.get("scanType") == "ENHANCED")
    if r.type == "aws:s3/bucket:Bucket" and action in EMPTYING:
        # A `forceDestroy` bucket is emptied (every object version) before it is deleted.
        return bool(r.inputs.get("forceDestroy"))
    if cfn == "AWS::S3::Bucket":
        return action in S3_CALLS[r.type]
    if cfn == "AWS::ECS::Service" and action == "iam:PassRole":
        return bool(passed_service_roles(r))
    if cfn == "AWS::Lambda::Function" and action.startswith("ec2:"):
        return bool(r.inputs.get("vpcConfig"))  # the VPC's subnets, groups and interfaces
    return True


def excluded(cfn: str, action: str) -> bool:
    return action in EXCLUSIONS or f"{cfn} {action}" in EXCLUSIONS


def calls(v: Variant) -> Iterator[tuple[str, str, str, Any]]:
    """(CloudFormation type, handler, action, rendered resource) for every call a resource needs."""
    for r in v.rendered.resources:
        if r.type.startswith("ecr-fargate:"):
            continue
        mapping = TYPES[r.type]
        for cfn, only in mapping.cfn:
            for handler, actions in handler_permissions(cfn).items():
                for action in actions:
                    if (only is None or only in action) and applies(cfn, action, r):
                        yield cfn, handler, action, r
        for handler, action in mapping.extra:
            if applies(r.type, action, r):
                yield r.type, handler, action, r


def context(cfn: str, handler: str, action: str, target: Target, r: Any) -> dict[str, Any]:
    """The request context IAM sees for this call (only keys the action supports)."""
    keys = condition_keys(action)
    name = action.split(":")[1]
    creating = handler == "create" and target.new
    # RegisterTargets puts targets into a group that already exists (and carries its tags).
    creates = name.startswith("Create") or name in (
        "RegisterTaskDefinition",
        "RegisterScalableTarget",
    )
    creating = creating and (creates or action in TAG_ON_CREATE)
    found: dict[str, Any] = {}
    tags = tags_of(r)
    tagging = name in ("CreateTags", "TagResource", "TagRole")
    if name.startswith(("Untag", "DeleteTags")):
        found["aws:TagKeys"] = ["retired"]  # an update drops a tag the config no longer sets
    elif "aws:RequestTag/${TagKey}" in keys and tags and (handler == "create" or tagging):
        # A create sends all the tags; an update re-sends the tags that changed, never `stack`.
        sent = tags if handler == "create" else {k: t for k, t in tags.items() if k != "stack"}
        found.update({f"aws:RequestTag/{k}": t for k, t in sent.items()})
        found["aws:TagKeys"] = sorted(sent)
    if target.tags and not creating:
        found.update({f"aws:ResourceTag/{k}": t for k, t in target.tags.items()})
    if action == "iam:PassRole" and target.passed_to:
        found["iam:PassedToService"] = target.passed_to
    if target.boundary and "iam:PermissionsBoundary" in keys:
        found["iam:PermissionsBoundary"] = target.boundary
    if target.service:
        found["iam:AWSServiceName"] = target.service
    if action == "ec2:CreateTags" and creating:
        found["ec2:CreateAction"] = "CreateSecurityGroup"
    if action == "elasticloadbalancing:AddTags" and creating:
        found["elasticloadbalancing:CreateAction"] = ELB_CREATE_ACTIONS[cfn]
    return found | _service_context(cfn, handler, action, r)


def _service_context(cfn: str, handler: str, action: str, r: Any) -> dict[str, Any]:
    """The service-specific keys a call sends: a certificate's names and validation method, a
    record change's names, types and action."""
    found: dict[str, Any] = {}
    if action == "acm:RequestCertificate":
        domains = [r.inputs["domainName"], *(r.inputs.get("subjectAlternativeNames") or [])]
        found["acm:DomainNames"] = domains
        found["acm:ValidationMethod"] = r.inputs["validationMethod"]
    if action == "route53:ChangeResourceRecordSets" and cfn == "AWS::Route53::RecordSet":
        name = str(r.inputs["name"]).lower().rstrip(".")
        found["route53:ChangeResourceRecordSetsNormalizedRecordNames"] = [name]
        found["route53:ChangeResourceRecordSetsRecordTypes"] = [r.inputs["type"]]
        found["route53:ChangeResourceRecordSetsActions"] = [RECORD_ACTIONS[handler]]
    if cfn == "AWS::ECR::Repository" and action.startswith("kms:"):
        found["kms:ViaService"] = f"ecr.{REGION}.amazonaws.com"  # ECR calls KMS for the caller
        if action == "kms:CreateGrant":
            found["kms:GrantIsForAWSResource"] = "true"
    return found


def requests(v: Variant, cfn: str, handler: str, action: str, r: Any) -> list[Request] | str:
    """Every resource this call is authorized on, or why none of the resource's targets fits."""
    targets = TARGETS[r.type](v, r)
    if not resource_types(action):
        # No resource-level form: IAM authorizes "*".
        return [Request(action, "*", context(cfn, handler, action, targets[0], r))]
    fitting = [t for t in targets if arn_is_of(action, t.arn) and action in (t.only or (action,))]
    if not fitting:
        return f"{r.type} {r.name}: no target fits {action} ({resource_types(action)})"
    return [Request(action, t.arn, context(cfn, handler, action, t, r)) for t in fitting]


def invoke_actions(v: Variant) -> set[str]:
    return {a for token in v.rendered.invokes for a in INVOKES[token]}


def invoke_requests(v: Variant) -> list[Request]:
    return [
        Request(a, INVOKE_RESOURCES[token](v) if token in INVOKE_RESOURCES else "*")
        for token in dict.fromkeys(v.rendered.invokes)
        for a in INVOKES[token]
    ]


@pytest.fixture(params=sorted(VARIANTS))
def v(request: pytest.FixtureRequest) -> Variant:
    return variant(request.param)


def deploy(v: Variant) -> dict[str, Any]:
    return policies.deploy_policy(v.settings, ACCOUNT)


def preview(v: Variant) -> dict[str, Any]:
    return policies.preview_policy(v.settings, ACCOUNT)


def boundary(v: Variant) -> dict[str, Any]:
    return policies.boundary_policy(v.settings, ACCOUNT)


# --- coverage --------------------------------------------------------------------------------------
def test_every_rendered_type_and_invoke_is_mapped(v: Variant) -> None:
    types = {r.type for r in v.rendered.resources if not r.type.startswith("ecr-fargate:")}
    assert types - set(TYPES) == set(), "review the new type's permissions, then map it"
    assert set(v.rendered.invokes) - set(INVOKES) == set()


def test_deploy_allows_every_handler_permission_on_the_resource(v: Variant) -> None:
    policy = deploy(v)
    missing = []
    for cfn, handler, action, r in calls(v):
        if excluded(cfn, action):
            continue
        found = requests(v, cfn, handler, action, r)
        if isinstance(found, str):
            missing.append(found)
            continue
        missing += [f"{cfn} {handler}: {q}" for q in found if not is_allowed([policy], q)]
    for request in invoke_requests(v):
        if not is_allowed([policy], request):
            missing.append(f"invoke {request.action}")
    assert missing == []


def test_preview_allows_every_read_and_invoke(v: Variant) -> None:
    policy = preview(v)
    missing = []
    for cfn, handler, action, r in calls(v):
        if handler != "read" or excluded(cfn, action) or action.endswith("GetSecretValue"):
            continue
        found = requests(v, cfn, handler, action, r)
        assert not isinstance(found, str), found
        missing += [str(q) for q in found if not is_allowed([policy], q)]
    missing += [q.action for q in invoke_requests(v) if not is_allowed([policy], q)]
    assert missing == []


def test_every_exclusion_is_needed_and_never_granted() -> None:
    """An exclusion for one CloudFormation type counts once some fixture renders that type (the
    web services' types arrive with their own components)."""
    seen, rendered = set(), set()
    for name in VARIANTS:
        v = variant(name)
        for cfn, _, action, _ in calls(v):
            seen |= {k for k in (action, f"{cfn} {action}") if k in EXCLUSIONS}
            rendered.add(cfn)
        allowed = policies.actions_of([deploy(v)])
        assert {a for a in EXCLUSIONS if ":" in a and " " not in a} & allowed == set()
    unneeded = {k for k in set(EXCLUSIONS) - seen if " " not in k or k.split(" ")[0] in rendered}
    assert unneeded == set(), "an exclusion no rendered resource needs"


# --- least privilege ------------------------------------------------------------------------------
def expected_actions(v: Variant) -> set[str]:
    """What the rendered types' handlers list, the provider's extra calls, push and invokes."""
    found = set(policies.PUSH_ACTIONS + policies.IMAGE_READ_ACTIONS) | invoke_actions(v)
    if v.settings.registry.scan_type == "ENHANCED":  # the image pipeline's scan gate
        found |= set(policies.ENHANCED_FINDINGS_ACTIONS)
    if v.settings.promotion is not None:  # python -m cli.promote records what it copied
        found |= {"ssm:PutParameter"}
    found |= {action for _, _, action, _ in calls(v)}
    return found


def test_deploy_allows_nothing_beyond_what_the_stack_needs(v: Variant) -> None:
    allowed = policies.actions_of([deploy(v)])
    assert allowed - expected_actions(v) == set()
    for st in deploy(v)["Statement"]:
        if st["Effect"] == "Allow":
            assert all("*" not in a for a in st["Action"]), st["Sid"]


def test_preview_only_reads(v: Variant) -> None:
    allowed = policies.actions_of([preview(v)])
    assert allowed, "the preview role reads something"
    assert {a: access_level(a) for a in allowed if access_level(a) not in ("Read", "List")} == {}
    assert "secretsmanager:GetSecretValue" not in allowed
    assert allowed <= expected_actions(v)


def test_every_action_is_real() -> None:
    for name in VARIANTS:
        v = variant(name)
        docs = [deploy(v), preview(v), boundary(v)]
        assert policies.unknown_actions(*docs) == []
        allowed = policies.actions_of(docs)
        assert {a for a in allowed if action_details(a) is None} == set()
    assert policies.unknown_actions(
        policies.document([policies.statement("x", ["ecr:PushImage"], "*")])
    ) == ["ecr:PushImage"]


# --- what the deploy role may NOT do ----------------------------------------------------------------
OTHER = StackNames("other")
BOUNDED_WRITES = (
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
)
POLICY_WRITES = (
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy",
)


def allowed(v: Variant, action: str, resource: str = "*", /, **context: Any) -> bool:
    return is_allowed([deploy(v)], Request(action, resource, context))


def test_role_writes_need_the_boundary_and_the_stack_path(v: Variant) -> None:
    n = names(v)
    mine = {"iam:PermissionsBoundary": n.boundary_arn(ACCOUNT)}
    theirs = {"iam:PermissionsBoundary": OTHER.boundary_arn(ACCOUNT)}
    elsewhere = [
        n.deploy_role_arn(ACCOUNT),
        n.preview_role_arn(ACCOUNT),
        OTHER.role_arn(ACCOUNT, "fargate-task"),
        f"arn:aws:iam::{ACCOUNT}:role/admin",
    ]
    for action in BOUNDED_WRITES:
        role = n.role_arn(ACCOUNT, "fargate-task")
        assert allowed(v, action, role, **mine), action
        assert not allowed(v, action, role), action
        assert not allowed(v, action, role, **theirs), action
        assert not any(allowed(v, action, arn, **mine) for arn in elsewhere), action
    assert not allowed(v, "iam:DeleteRolePermissionsBoundary", n.role_arn(ACCOUNT, "x"), **mine)
    for action in POLICY_WRITES:
        for policy in (
            n.boundary_arn(ACCOUNT),
            n.boundary_arn(ACCOUNT).replace("-boundary", "-deploy-1"),
        ):
            assert not allowed(v, action, policy), (action, policy)
    for role in (n.role_arn(ACCOUNT, "fargate-task"), n.deploy_role_arn(ACCOUNT)):
        assert not allowed(v, "sts:AssumeRole", role)


def test_roles_are_passed_only_to_their_services(v: Variant) -> None:
    role = names(v).role_arn(ACCOUNT, "fargate-task")
    assert allowed(v, "iam:PassRole", role, **{"iam:PassedToService": policies.ECS_TASKS})
    assert not allowed(v, "iam:PassRole", role)
    assert not allowed(v, "iam:PassRole", role, **{"iam:PassedToService": "lambda.amazonaws.com"})
    other = OTHER.role_arn(ACCOUNT, "x")
    assert not allowed(v, "iam:PassRole", other, **{"iam:PassedToService": policies.ECS_TASKS})
    owner_template = v.settings.account.owns
    passed = {"iam:PassedToService": policies.ECR}
    assert allowed(v, "iam:PassRole", role, **passed) == owner_template


def test_security_groups_only_the_stacks_own(v: Variant) -> None:
    group = names(v).security_group_arn(ACCOUNT, "sg-1")
    stack = v.settings.stack
    mine, theirs = {"aws:ResourceTag/stack": stack}, {"aws:ResourceTag/stack": "other"}
    change = ("ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress")
    for action in (*change, "ec2:DeleteSecurityGroup"):
        assert allowed(v, action, group, **mine) == policies.creates_security_group(v.settings)
        assert not allowed(v, action, group) and not allowed(v, action, group, **theirs)
    assert not allowed(v, "ec2:CreateSecurityGroup", group)
    assert not allowed(v, "ec2:CreateSecurityGroup", group, **{"aws:RequestTag/stack": "other"})
    # No claiming a group by tagging it, and no dropping the tag off one's own.
    claim = {"aws:RequestTag/stack": stack, "aws:TagKeys": ["stack"]}
    assert not allowed(v, "ec2:CreateTags", group, **claim)
    assert not allowed(v, "ec2:CreateTags", group, **claim, **theirs)
    handover = {**mine, "aws:RequestTag/stack": "other", "aws:TagKeys": ["stack"]}
    assert not allowed(v, "ec2:CreateTags", group, **handover)
    assert not allowed(v, "ec2:DeleteTags", group, **mine, **{"aws:TagKeys": ["stack"]})


def test_push_reaches_every_stack_repository_and_no_other(v: Variant) -> None:
    n = names(v)
    assert allowed(v, "ecr:GetAuthorizationToken") == (v.settings.promotion is None)
    for repo in v.settings.registry.repositories:
        arn = n.repository_arn(ACCOUNT, repo.name)
        assert all(allowed(v, a, arn) for a in policies.PUSH_ACTIONS), repo.name
    sibling = "prod/api" if v.settings.stack == "dev" else "dev/api"
    for other in (sibling, "other/api", "ecr-public/library/nginx"):
        arn = n.repository_arn(ACCOUNT, other)
        checked = policies.PUSH_ACTIONS
        if v.settings.promotion is not None and other.startswith(f"{v.settings.promotion.source}/"):
            # The promotion's source: readable (test_promotion_...), never writable.
            checked = tuple(a for a in checked if a not in PROMOTION_READS)
        assert not any(allowed(v, a, arn) for a in checked), other
        assert not allowed(v, "ecr:DeleteRepository", arn)


def test_custom_repository_names_get_push_and_defaults_do_not() -> None:
    v = variant("prod-custom-repositories")
    arns = policies.repository_arns(v.settings, ACCOUNT)
    assert arns == sorted(
        names(v).repository_arn(ACCOUNT, r)
        for r in ("team-a/custom-api", "worker-images", "prod/report")
    )
    assert allowed(v, "ecr:PutImage", names(v).repository_arn(ACCOUNT, "team-a/custom-api"))
    assert not allowed(v, "ecr:PutImage", names(v).repository_arn(ACCOUNT, "prod/api"))


REGISTRY_WIDE = (
    "ecr:CreatePullThroughCacheRule",
    "ecr:CreateRepositoryCreationTemplate",
    "ecr:DeletePullThroughCacheRule",
    "ecr:PutRegistryScanningConfiguration",
    "ecr:RegisterPullTimeUpdateExclusion",  # every owner fixture excludes its CI deploy roles
)


def test_registry_wide_settings_only_for_the_owner(v: Variant) -> None:
    owns = v.settings.account.owns
    assert {a: allowed(v, a) for a in REGISTRY_WIDE} == {a: owns for a in REGISTRY_WIDE}
    # Inspector is account-wide and unscoped: only for an owner that asks for ENHANCED scanning.
    enhanced = owns and v.settings.registry.scan_type == "ENHANCED"
    for action in ("inspector2:Enable", "inspector2:Disable"):
        assert allowed(v, action) == enhanced, action
    secret = (
        names(v).secret_arn(ACCOUNT, "ecr-pullthroughcache/docker-hub").replace("??????", "AbCdEf")
    )
    assert allowed(v, "secretsmanager:GetSecretValue", secret) == (v.name == "prod-credentials")
    other = names(v).secret_arn(ACCOUNT, "prod/database").replace("??????", "AbCdEf")
    assert not allowed(v, "secretsmanager:GetSecretValue", other)
    assert not allowed(v, "secretsmanager:PutSecretValue", other)


def test_the_stack_key_is_created_tagged_and_no_other_key_is_claimed() -> None:
    v = variant("prod-owner-stack-key")
    key = names(v).key_arn(ACCOUNT, "1234abcd-0000-0000-0000-000000000000")
    tags = {"aws:RequestTag/stack": "prod", "aws:TagKeys": ["environment", "project", "stack"]}
    assert allowed(v, "kms:CreateKey", **tags)
    assert not allowed(v, "kms:CreateKey")
    assert not allowed(v, "kms:CreateKey", **{**tags, "aws:RequestTag/stack": "dev"})
    assert not allowed(v, "kms:CreateKey", **{**tags, "aws:TagKeys": ["stack", "owner"]})
    assert allowed(v, "kms:TagResource", key, **tags)  # during CreateKey
    assert not allowed(v, "kms:TagResource", key, **tags, **{"aws:ResourceTag/stack": "dev"})
    for action in ("kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy"):
        assert not allowed(v, action, key), action
        assert not allowed(v, action, key, **{"aws:ResourceTag/stack": "dev"}), action
    assert allowed(v, "kms:ScheduleKeyDeletion", key, **{"aws:ResourceTag/stack": "prod"})
    assert not allowed(v, "kms:PutKeyPolicy", key, **{"aws:ResourceTag/stack": "prod"})
    # Grants only through ECR, only for AWS resources.
    via = {"aws:ResourceTag/stack": "prod", "kms:ViaService": f"ecr.{REGION}.amazonaws.com"}
    assert allowed(v, "kms:CreateGrant", key, **via, **{"kms:GrantIsForAWSResource": "true"})
    assert not allowed(v, "kms:CreateGrant", key, **{"aws:ResourceTag/stack": "prod"})
    assert not allowed(v, "kms:CreateGrant", key, **via)


def test_a_given_key_is_used_through_ecr_and_no_key_is_created() -> None:
    v = variant("prod-given-key")
    via = {"kms:ViaService": f"ecr.{REGION}.amazonaws.com", "kms:GrantIsForAWSResource": "true"}
    assert allowed(v, "kms:CreateGrant", GIVEN_KEY, **via)
    assert not allowed(v, "kms:CreateGrant", names(v).key_arn(ACCOUNT, "other"), **via)
    assert not allowed(v, "kms:CreateKey", **{"aws:RequestTag/stack": "prod"})
    assert "kms:ScheduleKeyDeletion" not in policies.actions_of([deploy(v)])


def test_the_image_pipeline_checks_tags_and_reads_findings_in_stack_repositories(
    v: Variant,
) -> None:
    """Skip-existing (DescribeImages) and the scan gate, on the stack's repositories only."""
    for repo in v.settings.registry.repositories:
        arn = names(v).repository_arn(ACCOUNT, repo.name)
        for action in ("ecr:DescribeImages", "ecr:DescribeImageScanFindings", "ecr:PutImage"):
            assert allowed(v, action, arn), (action, repo.name)
    other = names(v).repository_arn(ACCOUNT, "someone-else/api")
    assert not allowed(v, "ecr:DescribeImageScanFindings", other)
    enhanced = v.settings.registry.scan_type == "ENHANCED"
    assert allowed(v, "inspector2:ListFindings") == enhanced
    assert allowed(v, "inspector2:ListCoverage") == enhanced


def test_the_deploy_can_move_the_running_markers_in_its_repositories_only(v: Variant) -> None:
    """`python -m cli.lifecycle mark`: the tag's digest, the image's manifest, the same manifest
    under the marker tag; and never a delete (a marker moves, no image or tag is removed)."""
    marks = ("ecr:DescribeImages", "ecr:BatchGetImage", "ecr:PutImage")
    for repo in v.settings.registry.repositories:
        arn = names(v).repository_arn(ACCOUNT, repo.name)
        for action in marks:
            assert allowed(v, action, arn), (action, repo.name)
        assert not allowed(v, "ecr:BatchDeleteImage", arn)
    other = names(v).repository_arn(ACCOUNT, "someone-else/api")
    assert not any(allowed(v, action, other) for action in marks)


def test_consumer_stack_gets_no_registry_wide_or_credential_rights() -> None:
    v = variant("dev-consumer")
    assert not v.settings.account.owns
    granted = policies.actions_of([deploy(v)])
    assert not {a for a in granted if a.startswith(("inspector2:", "secretsmanager:"))}
    assert not {a for a in granted if "PullThroughCache" in a or "CreationTemplate" in a}
    assert not {a for a in granted if a.startswith("kms:")}  # dev encrypts with AES256


# --- escalation: every role, CI and stack ---------------------------------------------------------------
@dataclass(frozen=True)
class Role:
    name: str
    arn: str
    policies: list[dict[str, Any]]
    boundary: dict[str, Any] | None


def roles(v: Variant) -> list[Role]:
    """The two CI roles as the bootstrap creates them, and every role the stack renders with its
    inline policies and the boundary it carries."""
    n = names(v)
    found = [
        Role("deploy", n.deploy_role_arn(ACCOUNT), [deploy(v)], None),
        Role("preview", n.preview_role_arn(ACCOUNT), [preview(v)], None),
    ]
    for r in v.rendered.of_type("aws:iam/role:Role"):
        assert r.inputs["permissionsBoundary"] == n.boundary_arn(ACCOUNT), r.name
        inline = [
            json.loads(p.inputs["policy"])
            for p in v.rendered.of_type("aws:iam/rolePolicy:RolePolicy")
            if p.inputs["role"] == r.name
        ]
        found.append(Role(r.name, r.state["arn"], inline, boundary(v)))
    return found


def escalations(v: Variant, role: Role) -> Iterator[Request]:
    """Requests that would let a role widen its own or another principal's permissions."""
    n = names(v)
    targets = {
        role.arn,
        n.role_arn(ACCOUNT, "x"),
        n.deploy_role_arn(ACCOUNT),
        OTHER.role_arn(ACCOUNT, "x"),
    }
    for arn in sorted(targets | {f"arn:aws:iam::{ACCOUNT}:role/admin"}):
        for action in BOUNDED_WRITES:
            yield Request(action, arn)  # a role written without the boundary
            yield Request(action, arn, {"iam:PermissionsBoundary": OTHER.boundary_arn(ACCOUNT)})
        yield Request("iam:DeleteRolePermissionsBoundary", arn)
        yield Request("iam:PassRole", arn)  # passed without naming the service
        yield Request("iam:PassRole", arn, {"iam:PassedToService": "lambda.amazonaws.com"})
        yield Request("sts:AssumeRole", arn)
    for arn in (role.arn, n.deploy_role_arn(ACCOUNT), n.preview_role_arn(ACCOUNT)):
        # Its own (or the CI roles') policies and trust, even with the stack's boundary named.
        for action in (*BOUNDED_WRITES, "iam:DeleteRole"):
            yield Request(action, arn, {"iam:PermissionsBoundary": n.boundary_arn(ACCOUNT)})
    for action in POLICY_WRITES:
        yield Request(action, n.boundary_arn(ACCOUNT))
    for action in ("iam:CreateUser", "iam:CreateAccessKey", "iam:AttachUserPolicy"):
        yield Request(action, f"arn:aws:iam::{ACCOUNT}:user/x")
    yield Request("iam:CreateOpenIDConnectProvider", n.oidc_provider_arn(ACCOUNT))
    yield Request("iam:UpdateOpenIDConnectProviderThumbprint", n.oidc_provider_arn(ACCOUNT))
    yield Request("organizations:LeaveOrganization", "*")
    yield Request(
        "kms:PutKeyPolicy", n.key_arn(ACCOUNT, "k"), {"aws:ResourceTag/stack": v.settings.stack}
    )
    group = n.security_group_arn(ACCOUNT, "sg-1")
    for action in ("ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"):
        yield Request(action, group)  # a group the stack does not own


def test_no_role_can_escalate(v: Variant) -> None:
    found = [
        f"{role.name}: {q}"
        for role in roles(v)
        for q in escalations(v, role)
        if is_allowed(role.policies, q, role.boundary)
    ]
    assert found == []


def test_no_statement_shape_opens_a_path(v: Variant) -> None:
    """Structure, beyond the probes: no wildcard action, PassRole always names its services,
    role-policy writes always require the boundary."""
    for role in roles(v):
        for doc in [*role.policies, *([role.boundary] if role.boundary else [])]:
            for st in doc["Statement"]:
                if st["Effect"] != "Allow":
                    continue
                actions = as_list(st["Action"])
                condition = st.get("Condition", {})
                assert all(a != "*" and not a.endswith(":*") for a in actions), (role.name, st)
                assert not {
                    a for a in actions if a.startswith(("iam:", "sts:", "organizations:"))
                } - {
                    *BOUNDED_WRITES,
                    "iam:DeleteRole",
                    "iam:UpdateRole",
                    "iam:UpdateRoleDescription",
                    "iam:PassRole",
                    "iam:CreateServiceLinkedRole",
                    "iam:GetRole",
                    "iam:GetRolePolicy",
                    "iam:ListAttachedRolePolicies",
                    "iam:ListRolePolicies",
                    "iam:ListInstanceProfilesForRole",
                    "iam:TagRole",
                    "iam:UntagRole",
                }, (role.name, st)
                if "iam:PassRole" in actions:
                    assert condition["StringEquals"]["iam:PassedToService"], st
                if set(actions) & set(BOUNDED_WRITES):
                    boundary_arn = names(v).boundary_arn(ACCOUNT)
                    assert condition["StringEquals"]["iam:PermissionsBoundary"] == boundary_arn
                if "iam:CreateServiceLinkedRole" in actions:
                    assert condition["StringEquals"]["iam:AWSServiceName"], st


def test_the_boundary_caps_stack_roles_without_breaking_them(v: Variant) -> None:
    cap = boundary(v)
    granted = policies.actions_of([cap])
    # In IAM, only a job's scheduler role handing the stack's own roles to ECS tasks.
    iam_actions = {"iam:PassRole"} if policies.job_names(v.settings) else set()
    assert {a for a in granted if a.startswith(("iam:", "sts:", "organizations:"))} == iam_actions
    for st in cap["Statement"]:
        if "iam:PassRole" in st["Action"]:
            assert st["Resource"] == [names(v).role_arn(ACCOUNT)]
            assert st["Condition"] == policies.passed_to(policies.ECS_TASKS)
    assert not granted & {"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:Decrypt"}
    tags = {"aws:ResourceTag/stack": v.settings.stack}
    for role in roles(v)[2:]:
        for doc in role.policies:
            for st in doc["Statement"]:
                # The request the role's own statement is written for: its conditions hold.
                context = {
                    k: c for block in st.get("Condition", {}).values() for k, c in block.items()
                }
                for action in as_list(st["Action"]):
                    for resource in as_list(st["Resource"]):
                        # ECR calls KMS for the template role: through ECR, for itself.
                        ecr = ECR_KMS_CONTEXT if action.startswith("kms:") else {}
                        q = Request(action, resource, {**tags, **ecr, **context})
                        assert is_allowed(role.policies, q, cap), (role.name, action, resource)
    exec_on = v.settings.fargate is not None and v.settings.fargate.enable_execute_command
    assert ("ssmmessages:OpenDataChannel" in granted) == exec_on


def test_the_guards_hold_even_beside_an_administrator_policy(v: Variant) -> None:
    """The explicit Denies still win if someone attaches a broad policy to the deploy role."""
    n = names(v)
    admin = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    both = [deploy(v), admin]
    guarded = [
        Request("iam:PutRolePolicy", n.deploy_role_arn(ACCOUNT)),
        Request("iam:UpdateAssumeRolePolicy", n.preview_role_arn(ACCOUNT)),
        Request("iam:PutRolePolicy", OTHER.deploy_role_arn(ACCOUNT)),
        Request("iam:CreatePolicyVersion", n.boundary_arn(ACCOUNT)),
        Request("iam:DeletePolicy", OTHER.boundary_arn(ACCOUNT)),
        Request("iam:UpdateOpenIDConnectProviderThumbprint", n.oidc_provider_arn(ACCOUNT)),
        Request("iam:DeleteRolePermissionsBoundary", n.role_arn(ACCOUNT, "fargate-task")),
        Request("sts:AssumeRole", n.role_arn(ACCOUNT, "fargate-task")),
    ]
    assert [q for q in guarded if is_allowed(both, q)] == []
    assert is_allowed(both, Request("iam:PutRolePolicy", n.role_arn(ACCOUNT, "x")))


def test_a_stack_never_reaches_a_stack_whose_name_extends_its_own() -> None:
    """`prod` must not match `prod-eu`: every name is exact or ends at a delimiter."""
    v = variant("prod-owner-stack-key")
    eu = StackNames("prod-eu")
    mine_tags = {"aws:ResourceTag/stack": "prod"}
    theirs = [
        ("ecs:RegisterTaskDefinition", eu.task_definition_arn(ACCOUNT, "api").replace("*", "1")),
        ("logs:DeleteLogGroup", eu.log_group_arn(ACCOUNT, "api")),
        ("logs:PutRetentionPolicy", eu.log_group_arn(ACCOUNT, "api") + ":*"),
        ("ecs:DeleteCluster", eu.cluster_arn(ACCOUNT)),
        ("ecs:UpdateService", eu.ecs_service_arn(ACCOUNT, "api")),
        ("ecr:PutImage", eu.repository_arn(ACCOUNT, eu.default_repository("api"))),
        ("iam:TagRole", eu.role_arn(ACCOUNT, "x")),
    ]
    for action, arn in theirs:
        assert not allowed(v, action, arn, **mine_tags), (action, arn)
    n = names(v)
    assert allowed(v, "logs:DeleteLogGroup", n.log_group_arn(ACCOUNT, "api"))
    assert allowed(v, "ecs:RegisterTaskDefinition", n.task_definition_arn(ACCOUNT, "api"))


def test_every_condition_key_is_one_the_actions_carry() -> None:
    """A key an action never sends makes `StringEquals` fail (the grant silently does nothing)
    and a negated operator pass (the Deny silently does nothing)."""
    unsupported = set()
    for name in VARIANTS:
        v = variant(name)
        unsupported |= unsupported_condition_keys([deploy(v), preview(v), boundary(v)])
    assert unsupported == set()


def unsupported_condition_keys(docs: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """(Sid, action, key) for each condition key an action of the statement does not carry."""
    unsupported = set()
    for doc in docs:
        for st in doc["Statement"]:
            keys = {k for block in st.get("Condition", {}).values() for k in block}
            for action in as_list(st["Action"]):
                known = condition_keys(action)
                for key in keys:
                    generic = key.split("/")[0] + "/${TagKey}" if "Tag/" in key else key
                    if generic not in known:
                        unsupported.add((st["Sid"], action, key))
    return unsupported


# --- the web services: load balancer, HTTPS, access logs, autoscaling, alarms ----------------------
DOMAIN, ZONE = "api.example.com", "Z0123456789ABCDEFGHIJ"


@dataclass(frozen=True)
class AccessLogs:
    bucket: str | None = None  # None: the stack creates the bucket


@dataclass(frozen=True)
class LoadBalancer:
    certificate_arn: str | None = None
    domain: str | None = DOMAIN
    hosted_zone_id: str | None = ZONE
    access_logs: AccessLogs | None = AccessLogs()


class Extended:
    """`base` with the attributes `extra` adds or replaces: the web and scaling settings the
    accessors of permissions/renders.py read (`fargate.load_balancer`, `fargate.runs[i].scaling` and
    `.alarms`), whatever the fixture stack's settings say. Everything else is the fixture's own."""

    def __init__(self, base: Any, **extra: Any) -> None:
        self._base = base
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)


def web(v: Variant, lb: LoadBalancer | None = LoadBalancer(), scaled: bool = True) -> Settings:
    """The variant's settings with a load balancer and, when `scaled`, scaling and deployment
    alarms for `api`."""
    fargate = v.settings.fargate
    assert fargate is not None
    runs = tuple(
        Extended(
            r, scaling=scaled and r.service.name == "api", alarms=scaled and r.service.name == "api"
        )
        for r in fargate.runs
    )
    extended = Extended(v.settings, fargate=Extended(fargate, runs=runs, load_balancer=lb))
    return cast(Settings, extended)


def web_allowed(s: Settings, action: str, resource: str = "*", /, **context: Any) -> bool:
    return is_allowed([policies.deploy_policy(s, ACCOUNT)], Request(action, resource, context))


def granted_for(s: Settings) -> set[str]:
    return policies.actions_of(
        [policies.deploy_policy(s, ACCOUNT), policies.preview_policy(s, ACCOUNT)]
    )


WEB_SERVICES = ("elasticloadbalancing:", "acm:", "route53:", "application-autoscaling:")


def test_web_grants_only_for_a_stack_that_has_them(v: Variant) -> None:
    none = granted_for(web(v, None, scaled=False))
    assert not {a for a in none if a.startswith((*WEB_SERVICES, "cloudwatch:", "s3:"))}
    # A load balancer alone (HTTP): no certificate, records, bucket, scaling or alarms.
    plain = granted_for(web(v, LoadBalancer(None, None, None, None), scaled=False))
    assert {a.split(":")[0] for a in plain if a.startswith(WEB_SERVICES)} == {
        "elasticloadbalancing"
    }
    assert not {a for a in plain if a.startswith(("s3:", "cloudwatch:"))}
    # A given bucket for the logs: nothing on any bucket.
    given = granted_for(web(v, LoadBalancer(access_logs=AccessLogs("my-logs"))))
    assert not {a for a in given if a.startswith("s3:")}
    # A given certificate: no ACM; the alias records only, no validation CNAME.
    certificate = names(v).certificate_arn(ACCOUNT, CERTIFICATE_ID)
    s = web(v, LoadBalancer(certificate_arn=certificate))
    assert not {a for a in granted_for(s) if a.startswith("acm:")}
    change, zone = "route53:ChangeResourceRecordSets", names(v).hosted_zone_arn(ZONE)
    assert web_allowed(s, change, zone, **records([DOMAIN], ["AAAA"]))
    assert not web_allowed(s, change, zone, **records([f"_3f2a1b.{DOMAIN}"], ["CNAME"]))
    # Only a bucket that is not protected (outside prod) is emptied before it is deleted.
    logs = names(v).access_logs_bucket_arn(ACCOUNT) + "/alb/AWSLogs/x.log.gz"
    emptied = web_allowed(web(v), "s3:DeleteObjectVersion", logs)
    assert emptied == (v.settings.environment != "prod")


def records(
    names_: list[str], types: list[str], actions: tuple[str, ...] = ("UPSERT",)
) -> dict[str, Any]:
    """What a record change sends Route 53's condition keys."""
    return {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": names_,
        "route53:ChangeResourceRecordSetsRecordTypes": types,
        "route53:ChangeResourceRecordSetsActions": list(actions),
    }


def test_web_grants_are_real_and_fit_the_bootstrap(v: Variant) -> None:
    s = web(v)
    docs = [policies.deploy_policy(s, ACCOUNT), policies.preview_policy(s, ACCOUNT)]
    assert policies.unknown_actions(*docs) == []
    assert {a for a in policies.actions_of(docs) if action_details(a) is None} == set()
    assert unsupported_condition_keys(docs) == set()
    preview_actions = policies.actions_of(docs[1:])
    assert {
        a: access_level(a) for a in preview_actions if access_level(a) not in ("Read", "List")
    } == {}
    chunks = bootstrap.pack(docs[0]["Statement"], bootstrap.MANAGED_POLICY_CHARS)
    assert len(chunks) <= bootstrap.MANAGED_POLICIES_PER_ROLE
    assert bootstrap.size(docs[1]) <= bootstrap.INLINE_POLICY_CHARS


def test_load_balancer_only_the_stacks_own(v: Variant) -> None:
    s, n, stack = web(v), names(v), v.settings.stack
    mine, theirs = {"aws:ResourceTag/stack": stack}, {"aws:ResourceTag/stack": "other"}
    lb = n.load_balancer_arn(ACCOUNT).replace("*", LB_ID)
    other_lb = OTHER.load_balancer_arn(ACCOUNT).replace("*", LB_ID)
    extended_lb = StackNames(f"{stack}-eu").load_balancer_arn(ACCOUNT).replace("*", LB_ID)
    create = "elasticloadbalancing:CreateLoadBalancer"
    assert web_allowed(s, create, lb, **{"aws:RequestTag/stack": stack})
    assert not web_allowed(s, create, lb) and not web_allowed(
        s, create, lb, **{"aws:RequestTag/stack": "other"}
    )
    assert not web_allowed(s, create, other_lb, **{"aws:RequestTag/stack": stack})
    for action in (
        "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:ModifyLoadBalancerAttributes",
    ):
        assert web_allowed(s, action, lb, **mine), action
        assert not web_allowed(s, action, lb) and not web_allowed(s, action, lb, **theirs), action
        assert not web_allowed(s, action, other_lb, **mine) and not web_allowed(
            s, action, extended_lb, **mine
        )
    group = n.target_group_arn(ACCOUNT, f"{stack}-api-0a1b2c3d").replace("*", TG_ID)
    for action in (
        "elasticloadbalancing:DeleteTargetGroup",
        "elasticloadbalancing:RegisterTargets",
    ):
        assert web_allowed(s, action, group, **mine), action
        assert not web_allowed(s, action, group) and not web_allowed(s, action, group, **theirs), (
            action
        )
    listener = OTHER.listener_arn(ACCOUNT).replace("*", f"{LB_ID}/{LISTENER_ID}")
    assert not web_allowed(s, "elasticloadbalancing:DeleteListener", listener)
    assert not web_allowed(s, "elasticloadbalancing:CreateRule", listener)
    assert web_allowed(s, "elasticloadbalancing:DeleteListener", _listener_arn(v))
    # Tags: on create only with the stack's tag; never claiming, handing over or untagging.
    add = "elasticloadbalancing:AddTags"
    on_create = {
        "aws:RequestTag/stack": stack,
        "elasticloadbalancing:CreateAction": "CreateTargetGroup",
    }
    assert web_allowed(s, add, group, **on_create)
    assert not web_allowed(s, add, group, **{**on_create, "aws:RequestTag/stack": "other"})
    claim = {"aws:RequestTag/stack": stack, "aws:TagKeys": ["stack"]}
    assert not web_allowed(s, add, group, **claim) and not web_allowed(
        s, add, group, **claim, **theirs
    )
    assert not web_allowed(s, add, group, **mine, **{"aws:RequestTag/stack": "other"})
    assert not web_allowed(
        s, "elasticloadbalancing:RemoveTags", lb, **mine, **{"aws:TagKeys": ["stack"]}
    )
    assert web_allowed(
        s, "elasticloadbalancing:RemoveTags", lb, **mine, **{"aws:TagKeys": ["team"]}
    )
    # The load balancer's security group is the stack's own, given task groups or not.
    assert web_allowed(
        s,
        "ec2:CreateSecurityGroup",
        n.security_group_arn(ACCOUNT, "sg-1"),
        **{"aws:RequestTag/stack": stack},
    )


def test_certificate_and_records_only_for_the_stacks_domain(v: Variant) -> None:
    s, n, stack = web(v), names(v), v.settings.stack
    change = "route53:ChangeResourceRecordSets"
    zone = n.hosted_zone_arn(ZONE)

    validation = f"_3f2a1b.{DOMAIN}"
    assert web_allowed(s, change, zone, **records([DOMAIN], ["A", "AAAA"]))
    assert web_allowed(s, change, zone, **records([validation], ["CNAME"], ("CREATE",)))
    assert not web_allowed(
        s, change, n.hosted_zone_arn("Z9876543210ZYXWVUTSRQ"), **records([DOMAIN], ["A"])
    )
    for bad in (
        records([f"mail.{DOMAIN}"], ["A"]),
        records([DOMAIN, "example.com"], ["A"]),
        records([DOMAIN], ["MX"]),
        records([DOMAIN], ["NS"]),
    ):
        assert not web_allowed(s, change, zone, **bad), bad
    request = "acm:RequestCertificate"
    ok = {"aws:RequestTag/stack": stack, "acm:DomainNames": [DOMAIN], "acm:ValidationMethod": "DNS"}
    assert web_allowed(s, request, **ok)
    for key, value in (
        ("aws:RequestTag/stack", "other"),
        ("acm:DomainNames", [DOMAIN, "example.org"]),
        ("acm:ValidationMethod", "EMAIL"),
    ):
        assert not web_allowed(s, request, **{**ok, key: value}), key
    certificate = n.certificate_arn(ACCOUNT, CERTIFICATE_ID)
    assert web_allowed(s, "acm:DeleteCertificate", certificate, **{"aws:ResourceTag/stack": stack})
    assert not web_allowed(s, "acm:DeleteCertificate", certificate)
    assert not web_allowed(
        s, "acm:DeleteCertificate", certificate, **{"aws:ResourceTag/stack": "other"}
    )
    assert not web_allowed(
        s,
        "acm:AddTagsToCertificate",
        certificate,
        **{"aws:ResourceTag/stack": "other", "aws:RequestTag/stack": stack},
    )


def test_access_logs_bucket_only_the_stacks_own(v: Variant) -> None:
    s, n, stack = web(v), names(v), v.settings.stack
    for action in ("s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketPolicy"):
        assert web_allowed(s, action, n.access_logs_bucket_arn(ACCOUNT)), action
        for other in (OTHER, StackNames(f"{stack}-eu")):
            assert not web_allowed(s, action, other.access_logs_bucket_arn(ACCOUNT)), action
        assert not web_allowed(s, action, n.state_bucket_arn("pulumi-state")), action
        assert not web_allowed(s, action, n.access_logs_bucket_arn("210987654321")), action


def test_scaling_and_alarms_only_the_stacks_own(v: Variant) -> None:
    s, n, stack = web(v), names(v), v.settings.stack
    mine, theirs = {"aws:ResourceTag/stack": stack}, {"aws:ResourceTag/stack": "other"}
    target = n.scalable_target_arn(ACCOUNT, SCALABLE_TARGET_ID)
    for action in (
        "application-autoscaling:PutScalingPolicy",
        "application-autoscaling:DeregisterScalableTarget",
    ):
        assert web_allowed(s, action, target, **mine), action
        assert not web_allowed(s, action, target) and not web_allowed(
            s, action, target, **theirs
        ), action
    register = "application-autoscaling:RegisterScalableTarget"
    assert web_allowed(s, register, target, **{"aws:RequestTag/stack": stack})
    assert not web_allowed(s, register, target, **{"aws:RequestTag/stack": "other"})
    claim = {"aws:RequestTag/stack": stack, "aws:TagKeys": ["stack"]}
    assert not web_allowed(s, "application-autoscaling:TagResource", target, **claim, **theirs)
    slr_arn = n.service_linked_role_arn(ACCOUNT, policies.ECS_SCALING).replace("*", "Role")
    assert web_allowed(
        s, "iam:CreateServiceLinkedRole", slr_arn, **{"iam:AWSServiceName": policies.ECS_SCALING}
    )
    # Alarms: `prefix-*` names also match a stack `<stack>-eu`'s; the tag tells them apart.
    alarm = s.names.alarm_arn(ACCOUNT).replace("*", "api-5xx-rate")
    extended = s.names.alarm_arn(ACCOUNT).replace("*", "eu-api-5xx-rate")
    put = "cloudwatch:PutMetricAlarm"
    assert web_allowed(s, put, alarm, **{"aws:RequestTag/stack": stack})
    assert web_allowed(s, put, alarm, **mine)
    assert not web_allowed(s, put, alarm)
    eu = {"aws:ResourceTag/stack": f"{stack}-eu"}
    assert not web_allowed(s, put, extended, **eu) and not web_allowed(
        s, put, extended, **eu, **{"aws:RequestTag/stack": stack}
    )
    assert not web_allowed(s, "cloudwatch:DeleteAlarms", extended, **eu)
    assert not web_allowed(
        s, "cloudwatch:UntagResource", alarm, **mine, **{"aws:TagKeys": ["stack"]}
    )
    tracking = n.target_tracking_alarm_arn(ACCOUNT).replace("*", "api-AlarmHigh-1")
    theirs_tracking = (
        StackNames(f"{stack}-eu").target_tracking_alarm_arn(ACCOUNT).replace("*", "api-AlarmHigh-1")
    )
    assert web_allowed(s, "cloudwatch:DeleteAlarms", tracking)
    assert not web_allowed(s, "cloudwatch:DeleteAlarms", theirs_tracking)


def test_promotion_pulls_the_sources_repositories_and_records_only_its_own_digests() -> None:
    """prod's deploy role (python -m cli.promote) reads dev's repositories, never writes them,
    and puts exactly its own image-digests parameter."""
    policy = deploy(variant("prod-promoted"))
    dev_repo = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/dev/api"
    prod_repo = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/prod/api"
    own = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/ecr-fargate/prod/image-digests"
    dev_parameter = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/ecr-fargate/dev/image-digests"
    for action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"):
        assert is_allowed([policy], Request(action, dev_repo))
    for action in ("ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart"):
        assert not is_allowed([policy], Request(action, dev_repo))
        assert is_allowed([policy], Request(action, prod_repo))
    assert is_allowed([policy], Request("ssm:PutParameter", own))
    assert is_allowed([policy], Request("ssm:GetParameter", own))
    for action in ("ssm:PutParameter", "ssm:GetParameter", "ssm:DeleteParameter"):
        assert not is_allowed([policy], Request(action, dev_parameter))
    assert not is_allowed([policy], Request("ssm:DeleteParameter", own))
    # Without promoteFrom, no parameter at all.
    plain = deploy(variant("prod-owner-stack-key"))
    assert not is_allowed([plain], Request("ssm:PutParameter", own))
    assert not is_allowed([plain], Request("ecr:BatchGetImage", dev_repo))
