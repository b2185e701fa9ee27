"""Dev cannot reach prod (issue #20), checked with both fixture stacks' documents.

Dev's three principals: its deploy role; its permissions boundary on its own (the most any role
dev creates may do); and a dev role bounded by it whose own policy allows everything, which is
what the deploy role can make of a bounded role with `iam:PutRolePolicy`. None of them may read
prod's secrets or the owner's pull-through credentials, use prod's key, retag, untag, change or
delete any prod resource, or push to prod's repositories. Each prod resource is asked for as it
exists: with prod's `stack` tag, and a retag asks to make it dev's.

And the other way: a stack whose images and secrets come from another account or region renders
a boundary that allows exactly what its execution roles need, and no sibling of it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import permissions as policies
import settings
from plan import engine
from plan.engine import ACCOUNT_ID, Rendered
from rules.iam.evaluate import Request, is_allowed
from settings import ConfigErrors
from tests.ci_support import VARIANTS, Variant, fixture_value, variant
from tests.conftest import GIT_ENV, STACKS

ACCOUNT = ACCOUNT_ID
REGION = "us-east-1"
ADMIN = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
PROD_TAGS = {"aws:ResourceTag/stack": "prod", "aws:ResourceTag/environment": "prod"}
# What a retag sends to hand a resource to dev, and what an untag of prod's `stack` tag sends.
RETAG = {**PROD_TAGS, "aws:RequestTag/stack": "dev", "aws:TagKeys": ["stack"]}
UNTAG = {**PROD_TAGS, "aws:TagKeys": ["stack"]}
ECR_KMS = {"kms:ViaService": f"ecr.{REGION}.amazonaws.com", "kms:GrantIsForAWSResource": "true"}
# Generated IDs of prod resources the fixture render does not name.
NAMESPACE_ID, SCALABLE_TARGET_ID = "ns-0123456789abcdef", "0123456789abcdef0123456789abcdef"
OWNER_CREDENTIALS = (
    f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ecr-pullthroughcache/docker-hub-AbCdEf"
)
PROD_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/db-AbCdEf"


def dev_principals() -> dict[str, tuple[list[dict[str, Any]], dict[str, Any] | None]]:
    """name -> (identity policies, boundary)."""
    dev = variant("dev-consumer").settings
    boundary = policies.boundary_policy(dev, ACCOUNT)
    return {
        "dev deploy role": ([policies.deploy_policy(dev, ACCOUNT)], None),
        "dev boundary": ([boundary], None),
        "dev-bounded role": ([ADMIN], boundary),
    }


PRINCIPALS = dev_principals()


def _arns(rendered: Rendered, type_: str) -> list[str]:
    return [str(r.state["arn"]) for r in rendered.of_type(type_)]


def prod_requests() -> list[tuple[str, Request]]:
    """(what, request) for every call dev must never make on prod's resources."""
    prod: Variant = variant("prod-owner-stack-key")
    r, names = prod.rendered, prod.settings.names
    found: list[tuple[str, Request]] = []

    def ask(what: str, arn: str, actions: dict[str, dict[str, Any]]) -> None:
        found.extend((what, Request(a, arn, context)) for a, context in actions.items())

    def lifecycle(tag: str, untag: str, *writes: str) -> dict[str, dict[str, Any]]:
        return {tag: RETAG, untag: UNTAG, **{w: PROD_TAGS for w in writes}}

    for arn in _arns(r, "aws:ecr/repository:Repository"):
        writes = ("ecr:DeleteRepository", *policies.PUSH_ACTIONS)
        ask("repository", arn, lifecycle("ecr:TagResource", "ecr:UntagResource", *writes))
    ecs = ("ecs:TagResource", "ecs:UntagResource")
    ask("cluster", names.cluster_arn(ACCOUNT), lifecycle(*ecs, "ecs:DeleteCluster"))
    for service in ("api", "worker"):
        arn = names.ecs_service_arn(ACCOUNT, service)
        ask("service", arn, lifecycle(*ecs, "ecs:DeleteService", "ecs:UpdateService"))
    # Cloud Map's tagging actions take no resource: "*" is what IAM authorizes them on.
    ask(
        "namespace",
        "*",
        lifecycle("servicediscovery:TagResource", "servicediscovery:UntagResource"),
    )
    namespace = names.namespace_arn(ACCOUNT, NAMESPACE_ID)
    writes = ("servicediscovery:DeleteNamespace", "servicediscovery:UpdateHttpNamespace")
    ask("namespace", namespace, {w: PROD_TAGS for w in writes})
    elb = ("elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags")
    for arn in _arns(r, "aws:lb/loadBalancer:LoadBalancer"):
        ask("load balancer", arn, lifecycle(*elb, "elasticloadbalancing:DeleteLoadBalancer"))
    for arn in _arns(r, "aws:lb/targetGroup:TargetGroup"):
        ask("target group", arn, lifecycle(*elb, "elasticloadbalancing:DeleteTargetGroup"))
    for arn in _arns(r, "aws:cloudwatch/logGroup:LogGroup"):
        logs = ("logs:TagResource", "logs:UntagResource")
        ask("log group", arn, lifecycle(*logs, "logs:DeleteLogGroup", "logs:PutRetentionPolicy"))
    scaling = ("application-autoscaling:TagResource", "application-autoscaling:UntagResource")
    writes = (
        "application-autoscaling:DeregisterScalableTarget",
        "application-autoscaling:RegisterScalableTarget",
    )
    ask(
        "scalable target",
        names.scalable_target_arn(ACCOUNT, SCALABLE_TARGET_ID),
        {
            **lifecycle(*scaling, *writes),
            # Registering over prod's target with dev's tag: the creating call is an upsert.
            "application-autoscaling:RegisterScalableTarget": RETAG,
        },
    )
    for alarm in r.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        arn = names.alarm_arn(ACCOUNT).replace(f"{names.prefix}-*", alarm.inputs["name"])
        alarms = ("cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:DeleteAlarms")
        ask("alarm", arn, {**lifecycle(*alarms), "cloudwatch:PutMetricAlarm": RETAG})
    for arn in _arns(r, "aws:kms/key:Key"):
        ask(
            "key", arn, lifecycle("kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion")
        )
        ask("key", arn, {"kms:Decrypt": PROD_TAGS, "kms:DisableKey": PROD_TAGS})
        found.append(("key grant outside ECR", Request("kms:CreateGrant", arn, PROD_TAGS)))
        found.append(
            ("key grant via ECR", Request("kms:CreateGrant", arn, {**PROD_TAGS, **ECR_KMS}))
        )
    for what, arn in (("owner's credentials", OWNER_CREDENTIALS), ("prod secret", PROD_SECRET)):
        ask(what, arn, {"secretsmanager:GetSecretValue": {}, "secretsmanager:DescribeSecret": {}})
    parameter = names.parameter_arn(ACCOUNT, "prod/token")
    ask("prod parameter", parameter, {"ssm:GetParameters": {}})
    return found


PROD_REQUESTS = prod_requests()


@pytest.mark.parametrize("principal", sorted(PRINCIPALS))
def test_dev_reaches_no_prod_resource(principal: str) -> None:
    identity, boundary = PRINCIPALS[principal]
    reached = [
        f"{what}: {q.action} on {q.resource}"
        for what, q in PROD_REQUESTS
        if is_allowed(identity, q, boundary)
    ]
    assert reached == []


def test_every_kind_of_prod_resource_is_asked_for() -> None:
    """The negative test is not vacuous: every kind issue #20 names is in it."""
    kinds = {what for what, _ in PROD_REQUESTS}
    assert kinds >= {
        "repository", "cluster", "service", "namespace", "load balancer", "target group",
        "log group", "scalable target", "alarm", "key", "key grant outside ECR",
        "owner's credentials", "prod secret",
    }  # fmt: skip


def test_the_owner_keeps_its_own_credentials_out_of_no_role_but_its_own() -> None:
    """Only non-owners carry the Deny; the owner's boundary neither denies nor grants them
    (no service of the fixture references them). The boundary's guards of its own policy
    (`DenyBoundary*`) are every stack's."""
    dev = variant("dev-consumer").settings
    prod = variant("prod-credentials").settings
    guards = ("DenyBoundaryWrites", "DenyBoundaryChanges")
    denies = [
        st
        for st in policies.boundary_policy(dev, ACCOUNT)["Statement"]
        if st["Effect"] == "Deny" and st["Sid"] not in guards
    ]
    assert denies == [
        {
            "Sid": "DenyOwnerCacheCredentials",
            "Effect": "Deny",
            "Action": ["secretsmanager:*"],
            "Resource": [f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:ecr-pullthroughcache/*"],
        }
    ]
    cap = policies.boundary_policy(prod, ACCOUNT)
    assert [st["Sid"] for st in cap["Statement"] if st["Effect"] == "Deny"] == list(guards)


def test_the_template_roles_key_grant_goes_through_ecr_for_aws_resources_only() -> None:
    prod = variant("prod-owner-stack-key")
    key = _arns(prod.rendered, "aws:kms/key:Key")[0]
    cap = policies.boundary_policy(prod.settings, ACCOUNT)
    mine = {"aws:ResourceTag/stack": "prod"}
    assert is_allowed([ADMIN], Request("kms:CreateGrant", key, {**mine, **ECR_KMS}), cap)
    for missing in ECR_KMS:
        context = {**mine, **{k: v for k, v in ECR_KMS.items() if k != missing}}
        assert not is_allowed([ADMIN], Request("kms:CreateGrant", key, context), cap), missing


# --- a stack whose images and secrets live elsewhere ---------------------------------------------
ELSEWHERE_IMAGE = "210987654321.dkr.ecr.eu-west-1.amazonaws.com/shared/worker@sha256:" + "ab" * 32
ELSEWHERE_REPOSITORY = "arn:aws:ecr:eu-west-1:210987654321:repository/shared/worker"
# A partial secret ARN (no random suffix) in another region, and a parameter.
DB_SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:dev/db"
TOKEN = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/dev/token"


def _elsewhere() -> tuple[Rendered, settings.Settings]:
    services = fixture_value("dev", "services")
    services[1].pop("build")
    services[1].pop("lifecycle")
    services[1]["image"] = ELSEWHERE_IMAGE
    services[0]["run"]["secrets"] = {"DB_PASSWORD": DB_SECRET, "API_TOKEN": TOKEN}
    raw = engine.raw_stack_config("dev", overrides={"services": services}, stack_dir=STACKS)
    return engine.render(raw, env=GIT_ENV), settings.load(raw, env=GIT_ENV)


def _execution_policy(rendered: Rendered, service: str) -> dict[str, Any]:
    (policy,) = [
        p for p in rendered.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.name == f"{service}-execution-policy"
    ]  # fmt: skip
    return dict(json.loads(policy.inputs["policy"]))


def test_images_and_secrets_from_elsewhere_are_allowed_exactly() -> None:
    """Validation accepts another account's image and another region's secret; the boundary,
    from the same settings, allows the execution roles exactly those, not a sibling."""
    rendered, loaded = _elsewhere()
    cap = policies.boundary_policy(loaded, ACCOUNT)
    api, worker = _execution_policy(rendered, "api"), _execution_policy(rendered, "worker")
    needed = [
        (worker, Request("ecr:BatchGetImage", ELSEWHERE_REPOSITORY)),
        (worker, Request("ecr:GetDownloadUrlForLayer", ELSEWHERE_REPOSITORY)),
        (api, Request("ecr:BatchGetImage", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/dev/api")),
        # IAM matches the secret's full ARN: the six random characters Secrets Manager added.
        (api, Request("secretsmanager:GetSecretValue", f"{DB_SECRET}-AbCdEf")),
        (api, Request("ssm:GetParameters", TOKEN)),
    ]
    for policy, q in needed:
        assert is_allowed([policy], q, cap), q
    siblings = [
        Request("ecr:BatchGetImage", ELSEWHERE_REPOSITORY.replace("worker", "other")),
        Request("ecr:BatchGetImage", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/prod/api"),
        Request("secretsmanager:GetSecretValue", f"{DB_SECRET}-admin-AbCdEf"),
        Request("secretsmanager:GetSecretValue", DB_SECRET.replace("dev/db", "prod/db-AbCdEf")),
        Request(
            "secretsmanager:GetSecretValue", f"{DB_SECRET.replace('eu-west-1', REGION)}-AbCdEf"
        ),
        Request("ssm:GetParameters", f"{TOKEN}-old"),
        Request("ssm:GetParameters", TOKEN.replace("dev/", "prod/")),
    ]
    for q in siblings:
        assert not is_allowed([ADMIN], q, cap), q


def test_a_non_owner_referencing_the_owners_cache_credentials_is_refused_at_its_key() -> None:
    services = fixture_value("dev", "services")
    services[0]["run"]["secrets"] = {"HUB_TOKEN": OWNER_CREDENTIALS.removesuffix("-AbCdEf")}
    services[1]["run"]["environment"]["HUB"] = {"secretArn": OWNER_CREDENTIALS}
    raw = engine.raw_stack_config("dev", overrides={"services": services}, stack_dir=STACKS)
    with pytest.raises(ConfigErrors) as caught:
        settings.load(raw, env=GIT_ENV)
    lines = str(caught.value).splitlines()
    assert [line.split("'")[1] for line in lines] == [
        "ecr-fargate:services[0].run.secrets.HUB_TOKEN",
        "ecr-fargate:services[1].run.environment.HUB",
    ]
    assert all("stack 'prod' (accountOwner)" in line for line in lines)


def test_the_owner_may_reference_its_own_cache_credentials() -> None:
    services = fixture_value("prod", "services")
    services[0]["run"]["secrets"] = {"HUB_TOKEN": OWNER_CREDENTIALS}
    raw = engine.raw_stack_config("prod", overrides={"services": services}, stack_dir=STACKS)
    loaded = settings.load(raw, env=GIT_ENV)
    cap = policies.boundary_policy(loaded, ACCOUNT)
    assert is_allowed([ADMIN], Request("secretsmanager:GetSecretValue", OWNER_CREDENTIALS), cap)


# --- what outlives a destroy, and who may assume the template role ------------------------------
def test_prod_log_groups_outlive_a_destroy_and_devs_do_not() -> None:
    for name, retained in (("dev-consumer", False), ("prod-owner-stack-key", True)):
        groups = variant(name).rendered.of_type("aws:cloudwatch/logGroup:LogGroup")
        assert groups and {g.retain_on_delete for g in groups} == {retained}, name


def test_the_namespace_is_untagged_and_kept_so_no_stack_can_claim_it() -> None:
    for name in ("dev-consumer", "prod-owner-stack-key"):
        namespace = variant(name).rendered.one("aws:servicediscovery/httpNamespace:HttpNamespace")
        assert not namespace.inputs.get("tags")
        assert namespace.retain_on_delete
        assert set(namespace.ignore_changes) == {"tags", "tagsAll"}


def test_the_template_role_trusts_ecr_for_this_account_only() -> None:
    rendered = variant("prod-credentials").rendered
    (role,) = [r for r in rendered.of_type("aws:iam/role:Role") if "template" in r.name]
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "ecr.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_no_allow_statement_lets_a_stack_claim_an_untagged_resource(name: str) -> None:
    """No `...IfExists` on `aws:ResourceTag/...` in an Allow of the deploy role, the preview role
    or the boundary: a resource without a `stack` tag would pass it, and could be tagged as the
    stack's own and then changed or deleted (issue: tag claiming)."""
    v = variant(name)
    documents = {
        "deploy": policies.deploy_policy(v.settings, ACCOUNT_ID),
        "preview": policies.preview_policy(v.settings, ACCOUNT_ID),
        "boundary": policies.boundary_policy(v.settings, ACCOUNT_ID),
    }
    found = [
        f"{doc}:{st.get('Sid')}:{operator}"
        for doc, policy in documents.items()
        for st in policy["Statement"]
        if st["Effect"] == "Allow"
        for operator, pairs in st.get("Condition", {}).items()
        if operator.endswith("IfExists") and any(k.startswith("aws:ResourceTag/") for k in pairs)
    ]
    assert found == []
