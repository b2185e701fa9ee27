"""One problem is one line, and `services[].run.assignPublicIp` reaches the rendered service.

Each case here once printed a second, misleading line (or was silently ignored); the expected
lines are written out in full.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from settings import ConfigErrors
from tests.conftest import GIT_ENV, STACKS, render_stack


def fixture_services(stack: str) -> list[dict[str, Any]]:
    doc = yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text())
    return copy.deepcopy(doc["config"]["ecr-fargate:services"])


def problems(stack: str, overrides: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigErrors) as info:
        render_stack(stack, env=GIT_ENV, overrides=overrides)
    return str(info.value).split("\n")


def with_api(change: dict[str, Any], drop: tuple[str, ...] = ()) -> dict[str, Any]:
    services = fixture_services("dev")
    api = {k: v for k, v in services[0].items() if k not in drop}
    services[0] = {**api, **change}
    return {"services": services}


DIGEST = "public.ecr.aws/nginx/nginx@sha256:" + "0" * 64


@pytest.mark.parametrize(
    ("overrides", "lines"),
    [
        (
            with_api({"image": "nginx:latest"}, drop=("build",)),
            [
                "config 'ecr-fargate:services[0].image': 'nginx:latest' is not allowed; the ECS "
                "task must run an immutable digest reference (REPO@sha256:...), get it with `aws "
                "ecr describe-images --repository-name NAME --image-ids imageTag=TAG --query "
                "'imageDetails[0].imageDigest'`"
            ],
        ),
        (
            with_api({"build": {"dockerfile": "Dockerfile"}}),
            [
                "config 'ecr-fargate:services[0].build.context': is required: the build context "
                "directory, relative to Pulumi.yaml"
            ],
        ),
        (
            with_api({"image": DIGEST}),
            [
                "config 'ecr-fargate:services[0]': give either build (the stack builds) or image "
                "(a prebuilt digest), not both"
            ],
        ),
        (
            with_api({"name": True}),
            ["config 'ecr-fargate:services[0].name': true is not allowed; expected a string"],
        ),
    ],
    ids=["tag-not-digest", "no-context", "build-and-image", "name-yes"],
)
def test_one_problem_is_one_line(overrides: dict[str, Any], lines: list[str]) -> None:
    assert problems("dev", overrides) == lines


def test_services_as_a_map_is_one_short_line() -> None:
    as_map = {s["name"]: s for s in fixture_services("dev")}
    [line] = problems("dev", {"services": as_map})
    assert line.startswith("config 'ecr-fargate:services': {\"api\": ")
    assert line.endswith(" is not allowed; expected a list")
    assert len(line) <= 220  # the value is shown shortened


def network(rendered: Any, service: str) -> dict[str, Any]:
    config: dict[str, Any] = rendered.named(f"{service}-service").inputs["networkConfiguration"]
    return config


def test_a_services_assign_public_ip_overrides_the_networks() -> None:
    # dev's network assigns public IPs; the worker opts out.
    services = fixture_services("dev")
    services[1]["run"]["assignPublicIp"] = False
    rendered = render_stack("dev", env=GIT_ENV, overrides={"services": services})
    assert network(rendered, "api")["assignPublicIp"] is True
    assert network(rendered, "worker")["assignPublicIp"] is False
    # And the other way: a network without public IPs, one service that has them.
    services = fixture_services("dev")
    services[0]["run"]["assignPublicIp"] = True
    rendered = render_stack("dev", env=GIT_ENV, overrides={"services": services, "network": {}})
    assert network(rendered, "api")["assignPublicIp"] is True
    assert network(rendered, "worker")["assignPublicIp"] is False
    assert any(w.startswith("services[0].run.assignPublicIp is true") for w in rendered.warnings)


def test_a_jobs_assign_public_ip_reaches_its_schedule() -> None:
    job = {**fixture_services("prod")[2], "run": {**fixture_services("prod")[2]["run"]}}
    job["run"]["assignPublicIp"] = True
    services = [*fixture_services("dev"), job]
    rendered = render_stack("dev", env=GIT_ENV, overrides={"services": services, "network": {}})
    target = rendered.named("report-schedule").inputs["target"]
    assert target["ecsParameters"]["networkConfiguration"]["assignPublicIp"] is True
    assert network(rendered, "api")["assignPublicIp"] is False


def test_a_public_ip_is_refused_per_service_in_prod() -> None:
    services = fixture_services("prod")
    services[0]["run"]["assignPublicIp"] = True
    assert problems("prod", {"services": services}) == [
        "config 'ecr-fargate:services[0].run.assignPublicIp': true is not allowed in prod "
        "(Security Hub ECS.2); use private subnets with a NAT gateway or VPC endpoints"
    ]


def test_a_null_port_is_no_port() -> None:
    """`port: null` on a web service is a missing port (found by the property test: it used to
    pass validation and stop the render at an assertion), and on a worker it is no port at all."""
    services = fixture_services("dev")
    services[0]["run"]["port"] = None
    assert problems("dev", {"services": services}) == [
        "config 'ecr-fargate:services[0].run.port': is required for a web: Service Connect "
        "publishes it"
    ]
    services = fixture_services("dev")
    services[1]["run"]["port"] = None
    worker = render_stack("dev", env=GIT_ENV, overrides={"services": services})
    (container,) = json.loads(worker.named("worker-task-definition").inputs["containerDefinitions"])
    assert container["portMappings"] == [] or "portMappings" not in container
    assert "PORT" not in {e["name"] for e in container["environment"]}
