"""The CrossGuard checks against both rendered stacks, and against a broken resource each."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import ResourceValidationArgs

from plan.engine import Rendered
from rules.ecs.environment import SECRET_LOOKING
from settings.keys.web import SSL_POLICIES

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "policy"))
import controls


def violations(resource_type: str, props: dict[str, Any]) -> list[str]:
    found: list[str] = []
    args = ResourceValidationArgs(resource_type, props, f"urn:{resource_type}", "r", None, None)  # type: ignore[arg-type]
    for check in controls.CHECKS:
        if args.resource_type == check.resource_type:
            found.extend(check.check(args.props))
    return found


def test_both_stacks_pass_the_baseline(stack: Rendered) -> None:
    for r in stack.resources:
        assert violations(r.type, r.inputs) == [], (r.type, r.name)
    assert (
        controls.repositories_without_lifecycle((r.type, r.inputs) for r in stack.resources) == []
    )


GITHUB = "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"


def github_role(condition: dict[str, Any]) -> dict[str, Any]:
    statement = {"Principal": {"Federated": GITHUB}, "Condition": condition}
    return {"assumeRolePolicy": json.dumps({"Statement": [statement]})}


def test_every_check_catches_its_violation(prod: Rendered) -> None:
    def props(type_: str, name: str | None = None) -> dict[str, Any]:
        found = [r for r in prod.resources if r.type == type_ and (name is None or r.name == name)]
        return json.loads(json.dumps(found[0].inputs))

    def with_container(**change: Any) -> dict[str, Any]:
        task = props(controls.TASK_DEFINITION)
        containers = json.loads(task["containerDefinitions"])
        containers[0].update(change)
        task["containerDefinitions"] = json.dumps(containers)
        return task

    repo = props(controls.REPOSITORY)
    cases = {
        "ECR.1": (
            controls.REPOSITORY,
            {**repo, "imageScanningConfiguration": {"scanOnPush": False}},
        ),
        "ECR.2": (controls.REPOSITORY, {**repo, "imageTagMutability": "MUTABLE"}),
        "ECR.5": (
            controls.REPOSITORY,
            {**repo, "encryptionConfigurations": [{"encryptionType": "AES256"}]},
        ),
        "ECS.2": (
            controls.SERVICE,
            {**props(controls.SERVICE), "networkConfiguration": {"assignPublicIp": True}},
        ),
        "ECS.4": (controls.TASK_DEFINITION, with_container(privileged=True)),
        "ECS.5": (controls.TASK_DEFINITION, with_container(readonlyRootFilesystem=False)),
        "ECS.8": (
            controls.TASK_DEFINITION,
            with_container(environment=[{"name": "DB_PASSWORD", "value": "x"}]),
        ),
        "ECS.9": (controls.TASK_DEFINITION, with_container(logConfiguration={})),
        "ECS.10": (controls.SERVICE, {**props(controls.SERVICE), "platformVersion": "1.3.0"}),
        "ECS.12": (controls.CLUSTER, {**props(controls.CLUSTER), "settings": []}),
        "ECS.17": (
            controls.TASK_DEFINITION,
            {**props(controls.TASK_DEFINITION), "networkMode": "host"},
        ),
        "ECS.20": (controls.TASK_DEFINITION, with_container(user="0:0")),
        "aud": (
            controls.ROLE,
            github_role({"StringLike": {f"{controls.GITHUB_ISSUER}:sub": "repo:octo/app:*"}}),
        ),
        "sub": (
            controls.ROLE,
            github_role({"StringEquals": {f"{controls.GITHUB_ISSUER}:aud": "sts.amazonaws.com"}}),
        ),
        "one repository": (
            controls.ROLE,
            github_role(
                {
                    "StringEquals": {f"{controls.GITHUB_ISSUER}:aud": "sts.amazonaws.com"},
                    "StringLike": {f"{controls.GITHUB_ISSUER}:sub": "repo:octo/*"},
                }
            ),
        ),
        "grants a whole service": (
            controls.ROLE_POLICY,
            {"policy": json.dumps({"Statement": [{"Action": "ecr:*", "Resource": "*"}]})},
        ),
    }
    for marker, (type_, bad) in cases.items():
        found = violations(type_, bad)
        assert any(marker in v for v in found), (marker, found)
    assert controls.repositories_without_lifecycle([(controls.REPOSITORY, {"name": "prod/x"})]) == [
        "ECR.3: repository prod/x has no lifecycle policy"
    ]


def test_secret_pattern_matches_the_settings_layer() -> None:
    assert controls.SECRET_LOOKING.pattern == SECRET_LOOKING.pattern


def test_the_pack_accepts_exactly_the_tls_policies_the_settings_offer() -> None:
    """ELB.17 in the pack and `loadBalancer.sslPolicy` in the settings name the same TLS 1.3
    policies: a policy the settings allow never fails the pack, and the pack allows no other."""
    assert frozenset(SSL_POLICIES) == controls.TLS13_POLICIES


@pytest.mark.parametrize("path", ["PulumiPolicy.yaml", "__main__.py", "requirements.txt"])
def test_the_pack_is_complete(path: str) -> None:
    assert (Path(__file__).resolve().parent.parent / "policy" / path).is_file()


# The load balancer and listeners as the provider receives them (camelCase inputs).
PROD_TAGS = {"project": "ecr-fargate", "stack": "prod", "environment": "prod"}
DEV_TAGS = {**PROD_TAGS, "stack": "dev", "environment": "dev"}
BALANCER = {
    "loadBalancerType": "application",
    "dropInvalidHeaderFields": True,
    "enableDeletionProtection": True,
    "accessLogs": {"bucket": "ecr-fargate-prod-lb-logs", "prefix": "alb", "enabled": True},
    "tags": PROD_TAGS,
}
REDIRECT = {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443"}}
NOT_FOUND = {"type": "fixed-response", "fixedResponse": {"statusCode": "404"}}
HTTP = {"protocol": "HTTP", "port": 80, "defaultActions": [REDIRECT], "tags": PROD_TAGS}
HTTPS = {
    "protocol": "HTTPS",
    "port": 443,
    "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "defaultActions": [NOT_FOUND],
    "tags": PROD_TAGS,
}


def test_elb_controls_pass_the_prod_defaults_and_dev_http() -> None:
    assert violations(controls.LOAD_BALANCER, BALANCER) == []
    assert violations(controls.LISTENER, HTTP) == violations(controls.LISTENER, HTTPS) == []
    # Dev: plain HTTP answering itself, no deletion protection, no access logs.
    dev_balancer = {**BALANCER, "tags": DEV_TAGS, "enableDeletionProtection": False}
    del dev_balancer["accessLogs"]
    assert violations(controls.LOAD_BALANCER, dev_balancer) == []
    assert (
        violations(controls.LISTENER, {**HTTP, "defaultActions": [NOT_FOUND], "tags": DEV_TAGS})
        == []
    )


def test_every_elb_control_catches_its_violation() -> None:
    cases = {
        "ELB.1": (controls.LISTENER, {**HTTP, "defaultActions": [NOT_FOUND]}),
        "ELB.1 ": (
            controls.LISTENER,
            {**HTTP, "defaultActions": [{"type": "redirect", "redirect": {"protocol": "HTTP"}}]},
        ),
        "ELB.4": (controls.LOAD_BALANCER, {**BALANCER, "dropInvalidHeaderFields": False}),
        "ELB.4 ": (
            controls.LOAD_BALANCER,
            {k: v for k, v in BALANCER.items() if k != "dropInvalidHeaderFields"},
        ),
        "ELB.5": (
            controls.LOAD_BALANCER,
            {**BALANCER, "accessLogs": {"bucket": "b", "enabled": False}},
        ),
        "ELB.5 ": (controls.LOAD_BALANCER, {**BALANCER, "accessLogs": {"bucket": "b"}}),
        "ELB.6": (controls.LOAD_BALANCER, {**BALANCER, "enableDeletionProtection": False}),
        "ELB.17": (controls.LISTENER, {**HTTPS, "sslPolicy": "ELBSecurityPolicy-2016-08"}),
        "ELB.17 ": (controls.LISTENER, {k: v for k, v in HTTPS.items() if k != "sslPolicy"}),
    }
    for marker, (type_, bad) in cases.items():
        found = violations(type_, bad)
        assert len(found) == 1 and found[0].startswith(f"{marker.strip()}:"), (marker, found)
    # A network load balancer has no HTTP headers to drop.
    assert (
        violations(
            controls.LOAD_BALANCER,
            {**BALANCER, "loadBalancerType": "network", "dropInvalidHeaderFields": False},
        )
        == []
    )
