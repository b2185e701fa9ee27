"""The security baseline as CrossGuard checks, importable without starting a policy pack.

Each check takes the resource type and its (camelCase) properties and returns the violations.
Self-contained on purpose: a policy pack runs in its own virtual environment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Kept equal to rules.ecs.environment.SECRET_LOOKING (a test checks it).
SECRET_LOOKING = re.compile(
    r"(?:^|_)(?:PASSWORD|PASSWD|SECRET|TOKEN|KEY|API_KEY|ACCESS_KEY|PRIVATE_KEY)$", re.IGNORECASE
)
GITHUB_ISSUER = "token.actions.githubusercontent.com"

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
CLUSTER = "aws:ecs/cluster:Cluster"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
# The TLS 1.3 security policies that refuse TLS 1.0 and 1.1 (Security Hub ELB.17's recommended
# policies): the choices of the stack's `loadBalancer.sslPolicy`.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
# Kept equal to settings.web.SSL_POLICIES (a test checks it).
TLS13_POLICIES = frozenset(
    {
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09",
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
        "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
    }
)


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    resource_type: str
    check: Callable[[Mapping[str, Any]], list[str]]


def _prod(props: Mapping[str, Any]) -> bool:
    return (props.get("tags") or {}).get("environment") == "prod"


def _containers(props: Mapping[str, Any]) -> list[dict[str, Any]]:
    text = props.get("containerDefinitions")
    return json.loads(text) if isinstance(text, str) else []  # unknown at preview: nothing to check


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def ecr_1(props: Mapping[str, Any]) -> list[str]:
    if not (props.get("imageScanningConfiguration") or {}).get("scanOnPush"):
        return ["ECR.1: scan on push must be enabled"]
    return []


def ecr_2(props: Mapping[str, Any]) -> list[str]:
    if _prod(props) and props.get("imageTagMutability") not in (
        "IMMUTABLE",
        "IMMUTABLE_WITH_EXCLUSION",
    ):
        return ["ECR.2: prod repositories must use immutable tags"]
    return []


def ecr_5(props: Mapping[str, Any]) -> list[str]:
    configs = props.get("encryptionConfigurations") or []
    if _prod(props) and not any(c.get("encryptionType") in ("KMS", "KMS_DSSE") for c in configs):
        return ["ECR.5: prod repositories must be encrypted with a customer-managed KMS key"]
    return []


def create_on_push(props: Mapping[str, Any]) -> list[str]:
    """A push-created repository gets what a declared one gets: a lifecycle policy (ECR.3) and,
    in prod, immutable tags (ECR.2); the template is the only place to say so."""
    if "CREATE_ON_PUSH" not in (props.get("appliedFors") or []):
        return []
    found = []
    if not props.get("lifecyclePolicy"):
        found.append("ECR.3: CREATE_ON_PUSH templates must carry a lifecycle policy")
    tags = {"tags": props.get("resourceTags")}
    if _prod(tags) and props.get("imageTagMutability") not in (
        "IMMUTABLE",
        "IMMUTABLE_WITH_EXCLUSION",
    ):
        found.append("ECR.2: prod CREATE_ON_PUSH templates must use immutable tags")
    return found


def ecs_2(props: Mapping[str, Any]) -> list[str]:
    if _prod(props) and (props.get("networkConfiguration") or {}).get("assignPublicIp"):
        return ["ECS.2: prod services must not assign public IPs"]
    return []


def ecs_4(props: Mapping[str, Any]) -> list[str]:
    return [
        f"ECS.4: container {c.get('name')} is privileged"
        for c in _containers(props)
        if c.get("privileged")
    ]


def ecs_5(props: Mapping[str, Any]) -> list[str]:
    return [
        f"ECS.5: container {c.get('name')} needs a read-only root filesystem"
        for c in _containers(props)
        if not c.get("readonlyRootFilesystem")
    ]


def ecs_8(props: Mapping[str, Any]) -> list[str]:
    return [
        f"ECS.8: container {c.get('name')} passes {e['name']} as a plain environment variable; use secrets"
        for c in _containers(props)
        for e in c.get("environment") or []
        if SECRET_LOOKING.search(e.get("name", ""))
    ]


def ecs_9(props: Mapping[str, Any]) -> list[str]:
    return [
        f"ECS.9: container {c.get('name')} has no log configuration"
        for c in _containers(props)
        if not (c.get("logConfiguration") or {}).get("logDriver")
    ]


def ecs_10(props: Mapping[str, Any]) -> list[str]:
    if props.get("platformVersion") not in (None, "LATEST"):
        return [f"ECS.10: platform version {props.get('platformVersion')} is not LATEST"]
    return []


def ecs_12(props: Mapping[str, Any]) -> list[str]:
    settings = {s.get("name"): s.get("value") for s in props.get("settings") or []}
    if settings.get("containerInsights") not in ("enabled", "enhanced"):
        return ["ECS.12: Container Insights must be enabled"]
    return []


def ecs_17(props: Mapping[str, Any]) -> list[str]:
    return (
        ["ECS.17: host network mode is not allowed"] if props.get("networkMode") == "host" else []
    )


def ecs_20(props: Mapping[str, Any]) -> list[str]:
    return [
        f"ECS.20: container {c.get('name')} must run as a non-root user"
        for c in _containers(props)
        if str(c.get("user", "")).split(":")[0] in ("", "0", "root")
    ]


def guarded_rollout(props: Mapping[str, Any]) -> list[str]:
    """A prod web service (one behind a load balancer) that rolls (deploymentConfiguration.strategy
    ROLLING, ECS's default when absent) must roll back on alarms: rolling replaces the old tasks
    as it goes, so without alarms a revision that starts but fails its traffic stays."""
    if not _prod(props) or not props.get("loadBalancers"):
        return []
    strategy = (props.get("deploymentConfiguration") or {}).get("strategy") or "ROLLING"
    alarms = props.get("alarms") or {}
    if strategy == "ROLLING" and not (alarms.get("enable") and alarms.get("alarmNames")):
        return [
            "prod web services on a rolling deployment must roll back on alarms; "
            "turn run.alarms on or use deployment.strategy canary, linear or blue-green"
        ]
    return []


# Security Hub's Elastic Load Balancing controls, on the stack's Application Load Balancer:
# https://docs.aws.amazon.com/securityhub/latest/userguide/elb-controls.html
def _application(props: Mapping[str, Any]) -> bool:
    return props.get("loadBalancerType") in (None, "application")


def elb_1(props: Mapping[str, Any]) -> list[str]:
    """Prod only: dev may serve plain HTTP on the load balancer's own name (no certificate),
    which prod's settings refuse; in prod every HTTP listener must redirect to HTTPS."""
    if not _prod(props) or props.get("protocol") != "HTTP":
        return []
    actions = props.get("defaultActions") or []
    redirects = [(a.get("redirect") or {}) for a in actions if a.get("type") == "redirect"]
    if not redirects or any(r.get("protocol") != "HTTPS" for r in redirects):
        return [f"ELB.1: HTTP listener on port {props.get('port')} must redirect to HTTPS"]
    return []


def elb_4(props: Mapping[str, Any]) -> list[str]:
    if _application(props) and props.get("dropInvalidHeaderFields") is not True:
        return ["ELB.4: the load balancer must drop invalid HTTP header fields"]
    return []


def elb_5(props: Mapping[str, Any]) -> list[str]:
    """Where configured: a load balancer that has an `accessLogs` block must have it enabled
    (ELB itself then requires the bucket, which may be unknown at preview when the stack creates
    it). Access logs cost storage and are opt-in (`loadBalancer.accessLogs`), so a load balancer
    without the block is not checked (Security Hub would flag it)."""
    logs = props.get("accessLogs")
    if logs is not None and logs.get("enabled") is not True:
        return ["ELB.5: configured access logs must be enabled"]
    return []


def elb_6(props: Mapping[str, Any]) -> list[str]:
    if _prod(props) and props.get("enableDeletionProtection") is not True:
        return ["ELB.6: prod load balancers must have deletion protection on"]
    return []


def elb_17(props: Mapping[str, Any]) -> list[str]:
    """An HTTPS listener names a TLS 1.3 policy that refuses TLS 1.0 and 1.1 (none named means
    ELB's default, ELBSecurityPolicy-2016-08, which accepts them)."""
    if props.get("protocol") == "HTTPS" and props.get("sslPolicy") not in TLS13_POLICIES:
        return [f"ELB.17: HTTPS listener policy {props.get('sslPolicy')} is not a TLS 1.3 policy"]
    return []


def github_trust(props: Mapping[str, Any]) -> list[str]:
    text = props.get("assumeRolePolicy")
    if not isinstance(text, str):
        return []
    problems = []
    for st in json.loads(text).get("Statement", []):
        federated = _listify((st.get("Principal") or {}).get("Federated", []))
        if not any(GITHUB_ISSUER in str(f) for f in federated):
            continue
        conditions: dict[str, Any] = {}
        for operator, values in (st.get("Condition") or {}).items():
            for key, value in values.items():
                conditions.setdefault(key, []).extend((operator, v) for v in _listify(value))
        aud = conditions.get(f"{GITHUB_ISSUER}:aud", [])
        if [v for _, v in aud] != ["sts.amazonaws.com"]:
            problems.append("GitHub OIDC trust must require aud = sts.amazonaws.com")
        subs = conditions.get(f"{GITHUB_ISSUER}:sub", [])
        if not subs:
            problems.append("GitHub OIDC trust must have a sub condition")
        for _, sub in subs:
            if sub in ("*", "repo:*") or re.fullmatch(r"repo:[^/:]+/\*.*", str(sub)):
                problems.append(f"GitHub OIDC sub {sub!r} reaches beyond one repository")
    return problems


def no_wildcard_actions(props: Mapping[str, Any]) -> list[str]:
    text = props.get("policy")
    if not isinstance(text, str):
        return []
    return [
        f"IAM action {action!r} grants a whole service"
        for st in json.loads(text).get("Statement", [])
        for action in _listify(st.get("Action", []))
        if action == "*" or str(action).endswith(":*")
    ]


CHECKS: tuple[Check, ...] = (
    Check("ecr-1-scan-on-push", "Security Hub ECR.1: scan images on push", REPOSITORY, ecr_1),
    Check(
        "ecr-2-immutable-tags-in-prod",
        "Security Hub ECR.2: immutable tags in prod",
        REPOSITORY,
        ecr_2,
    ),
    Check(
        "ecr-5-kms-in-prod", "Security Hub ECR.5: customer-managed KMS in prod", REPOSITORY, ecr_5
    ),
    Check(
        "ecr-create-on-push-template",
        "Security Hub ECR.2/ECR.3 for repositories a push creates",
        TEMPLATE,
        create_on_push,
    ),
    Check(
        "ecs-2-no-public-ip-in-prod", "Security Hub ECS.2: no public IPs in prod", SERVICE, ecs_2
    ),
    Check(
        "guarded-rollout-in-prod",
        "prod web services never roll without deployment alarms",
        SERVICE,
        guarded_rollout,
    ),
    Check(
        "ecs-4-not-privileged",
        "Security Hub ECS.4: no privileged containers",
        TASK_DEFINITION,
        ecs_4,
    ),
    Check(
        "ecs-5-read-only-root",
        "Security Hub ECS.5: read-only root filesystems",
        TASK_DEFINITION,
        ecs_5,
    ),
    Check(
        "ecs-8-no-secrets-in-environment",
        "Security Hub ECS.8: secrets not in environment variables",
        TASK_DEFINITION,
        ecs_8,
    ),
    Check("ecs-9-logging", "Security Hub ECS.9: a log configuration", TASK_DEFINITION, ecs_9),
    Check(
        "ecs-10-latest-platform",
        "Security Hub ECS.10: the latest Fargate platform version",
        SERVICE,
        ecs_10,
    ),
    Check("ecs-12-container-insights", "Security Hub ECS.12: Container Insights", CLUSTER, ecs_12),
    Check(
        "ecs-17-no-host-network",
        "Security Hub ECS.17: no host network mode",
        TASK_DEFINITION,
        ecs_17,
    ),
    Check("ecs-20-non-root-user", "Security Hub ECS.20: non-root users", TASK_DEFINITION, ecs_20),
    Check(
        "elb-1-redirect-http-in-prod",
        "Security Hub ELB.1: HTTP redirected to HTTPS in prod",
        LISTENER,
        elb_1,
    ),
    Check(
        "elb-4-drop-invalid-headers",
        "Security Hub ELB.4: invalid HTTP header fields dropped",
        LOAD_BALANCER,
        elb_4,
    ),
    Check(
        "elb-5-access-logs-where-configured",
        "Security Hub ELB.5: configured access logs are enabled",
        LOAD_BALANCER,
        elb_5,
    ),
    Check(
        "elb-6-deletion-protection-in-prod",
        "Security Hub ELB.6: deletion protection in prod",
        LOAD_BALANCER,
        elb_6,
    ),
    Check(
        "elb-17-tls13-policy",
        "Security Hub ELB.17: HTTPS listeners use a TLS 1.3 policy",
        LISTENER,
        elb_17,
    ),
    Check("github-oidc-trust", "GitHub OIDC trust pins aud and a scoped sub", ROLE, github_trust),
    Check(
        "iam-no-wildcard-actions",
        "No `*` or `service:*` IAM actions",
        ROLE_POLICY,
        no_wildcard_actions,
    ),
)


def repositories_without_lifecycle(resources: Iterable[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """Security Hub ECR.3: every repository has a lifecycle policy (matched by repository name)."""
    items = list(resources)
    covered = {props.get("repository") for t, props in items if t == LIFECYCLE}
    return sorted(
        f"ECR.3: repository {props.get('name')} has no lifecycle policy"
        for t, props in items
        if t == REPOSITORY and props.get("name") not in covered
    )
