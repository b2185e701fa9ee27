"""Every stack file under `examples/` renders, and does what its folder says it shows.

The docs include these files verbatim (pymdownx.snippets), so what a reader copies is what this
module renders. Expected values are the literals the example files were written with.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from plan import engine
from plan.engine import Rendered
from tests.conftest import GIT_ENV

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DOCS = ROOT / "docs"
# Each example folder and the stack its file is for; a folder missing here fails the suite.
STACKS = {
    "second-web-service": "dev",
    "backend-service-connect": "dev",
    "nightly-job": "dev",
    "arm64": "dev",
    "prebuilt-image": "dev",
    "existing-certificate": "prod",
    "internal-load-balancer": "dev",
}
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
TG = "aws:lb/targetGroup:TargetGroup"
SERVICE = "aws:ecs/service:Service"
TASK = "aws:ecs/taskDefinition:TaskDefinition"


@functools.cache
def render(name: str) -> Rendered:
    return engine.render_stack(STACKS[name], stack_dir=EXAMPLES / name, env=GIT_ENV)


def container(r: Rendered, service: str) -> dict[str, Any]:
    (definition,) = json.loads(r.named(f"{service}-task-definition").inputs["containerDefinitions"])
    return definition


def test_every_example_folder_is_rendered_here() -> None:
    folders = {p.name for p in EXAMPLES.iterdir() if p.is_dir()}
    assert folders == set(STACKS)
    for name, stack in STACKS.items():
        files = sorted(p.name for p in (EXAMPLES / name).iterdir())
        assert files == [f"Pulumi.{stack}.yaml"], name


@pytest.mark.parametrize("name", sorted(STACKS))
def test_example_renders_and_says_what_it_shows(name: str) -> None:
    path = EXAMPLES / name / f"Pulumi.{STACKS[name]}.yaml"
    schema_line, header = path.read_text().split("\nconfig:", 1)[0].split("\n", 1)
    # Editors running yaml-language-server check the file against the generated schema.
    assert schema_line == "# yaml-language-server: $schema=../../schema/stack.schema.json", name
    assert (path.parent / "../../schema/stack.schema.json").resolve().is_file()
    assert header.startswith("# Example: ") and "Use it:" in header, name
    assert render(name).resources, name


@pytest.mark.parametrize("name", sorted(STACKS))
def test_the_docs_show_the_example_file_itself(name: str) -> None:
    include = f'--8<-- "examples/{name}/Pulumi.{STACKS[name]}.yaml"'
    pages = [p for p in DOCS.rglob("*.md") if include in p.read_text()]
    assert pages, f"no page under docs/ includes {include}"


def test_second_web_service_gets_its_own_target_group_and_path_rule() -> None:
    r = render("second-web-service")
    groups = {g.name: g for g in r.of_type(TG)}
    assert set(groups) == {"load-balancer-site-tg", "load-balancer-admin-tg"}
    admin_arn = groups["load-balancer-admin-tg"].state["arn"]
    site_arn = groups["load-balancer-site-tg"].state["arn"]
    rules = {x.name: x.inputs for x in r.of_type(RULE)}
    admin = rules["load-balancer-admin-rule"]
    assert admin["conditions"] == [{"pathPattern": {"values": ["/admin/*"]}}]
    assert admin["actions"] == [{"type": "forward", "targetGroupArn": admin_arn}]
    # The more specific path ranks first; `default: true` also takes what no rule matches.
    assert admin["priority"] < rules["load-balancer-site-rule"]["priority"]
    (listener,) = r.of_type(LISTENER)
    assert listener.inputs["defaultActions"] == [{"type": "forward", "targetGroupArn": site_arn}]
    admin_service = r.named("admin-service").inputs["loadBalancers"]
    assert [(b["containerName"], b["targetGroupArn"]) for b in admin_service] == [
        ("admin", admin_arn)
    ]
    assert len(r.of_type("aws:lb/loadBalancer:LoadBalancer")) == 1


def test_backend_is_published_by_name_and_open_to_the_stack_only() -> None:
    r = render("backend-service-connect")
    connect = r.named("orders-service").inputs["serviceConnectConfiguration"]
    assert connect["enabled"] is True
    assert connect["services"] == [
        {
            "clientAlias": [{"dnsName": "orders", "port": 9000}],
            "discoveryName": "orders",
            "portName": "orders-9000",
        }
    ]
    assert "loadBalancers" not in r.named("orders-service").inputs
    services_group = r.named("cluster-services-sg").id
    ingress = r.named("orders-sg").inputs["ingress"]
    assert [(i["fromPort"], i["toPort"], i.get("securityGroups")) for i in ingress] == [
        (9000, 9000, [services_group])
    ]
    assert not any(i.get("cidrBlocks") for i in ingress)
    # The api calls it at the address in its environment, through the same namespace.
    assert {"name": "ORDERS_URL", "value": "http://orders:9000"} in container(r, "api")[
        "environment"
    ]
    api_connect = r.named("api-service").inputs["serviceConnectConfiguration"]
    assert api_connect["namespace"] == connect["namespace"]


def test_nightly_job_gets_a_scheduler_schedule_with_the_cron() -> None:
    r = render("nightly-job")
    schedule = r.one("aws:scheduler/schedule:Schedule")
    assert schedule.inputs["scheduleExpression"] == "cron(0 3 * * ? *)"
    target = schedule.inputs["target"]
    report = r.named("report-task-definition")
    assert target["ecsParameters"]["taskDefinitionArn"] == report.state["arn"]
    assert report.inputs["family"] == "ecr-fargate-dev-report"
    assert container(r, "report")["command"] == ["python", "/app/job.pyc"]
    assert [s.name for s in r.of_type(SERVICE)] == ["api-service"]  # a job is no ECS service
    assert "ecr-fargate-dev-report" in r.outputs["jobRunCommands"]["report"]


def test_arm64_task_runs_on_graviton_and_builds_arm64() -> None:
    r = render("arm64")
    task = r.one(TASK)
    assert task.inputs["runtimePlatform"]["cpuArchitecture"] == "ARM64"
    assert r.one("docker:index/image:Image").inputs["build"]["platform"] == "linux/arm64"


def test_prebuilt_image_runs_its_digest_and_builds_nothing() -> None:
    ref = (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/shared/api@sha256:"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    )
    r = render("prebuilt-image")
    assert r.of_type("docker:index/image:Image") == []
    assert container(r, "api")["image"] == ref
    pull = json.loads(r.named("api-execution-policy").inputs["policy"])["Statement"][0]
    assert pull["Sid"] == "PullServiceImage"
    assert pull["Resource"] == ["arn:aws:ecr:us-east-1:123456789012:repository/shared/api"]


def test_existing_certificate_reaches_the_https_listener() -> None:
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-4697-8879-6a5b4c3d2e1f"
    r = render("existing-certificate")
    listeners = {x.inputs["port"]: x.inputs for x in r.of_type(LISTENER)}
    assert listeners[443]["protocol"] == "HTTPS"
    assert listeners[443]["certificateArn"] == arn
    assert listeners[80]["defaultActions"][0]["redirect"]["protocol"] == "HTTPS"
    # No certificate requested and no DNS written: the ARN is the whole of it.
    assert not [x for x in r.resources if re.match(r"aws:(acm|route53)/", x.type)]
    assert r.outputs["serviceUrls"]["api"].startswith("https://")


def test_internal_load_balancer_is_internal_and_admits_the_given_cidrs() -> None:
    r = render("internal-load-balancer")
    assert r.one("aws:lb/loadBalancer:LoadBalancer").inputs["internal"] is True
    ingress = r.named("load-balancer-sg").inputs["ingress"]
    assert [(i["fromPort"], i["cidrBlocks"]) for i in ingress] == [(80, ["10.0.0.0/8"])]
    assert not any(i.get("ipv6CidrBlocks") for i in ingress)
