"""What the stack tells every container: PORT (where it listens) and SERVICE_NAME.

The sample app listens on `PORT` and reports `SERVICE_NAME` (app/server.py, app/job.py): a backend
on 9000 built from `app` must listen on 9000, where its health check and callers connect.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from plan.engine import Rendered
from settings import ConfigErrors
from tests.conftest import GIT_ENV, render_stack

APP = {"context": "app"}
SERVICES = [
    {"name": "api", "build": APP, "run": {"kind": "web", "port": 8080}},
    {"name": "orders", "build": APP, "run": {"kind": "backend", "port": 9000}},
    {"name": "worker", "build": APP, "run": {"kind": "worker", "command": ["python", "w.pyc"]}},
]


def environment(r: Rendered, service: str) -> dict[str, str]:
    (c,) = json.loads(r.named(f"{service}-task-definition").inputs["containerDefinitions"])
    return {e["name"]: e["value"] for e in c["environment"]}


def container(r: Rendered, service: str) -> dict[str, Any]:
    (c,) = json.loads(r.named(f"{service}-task-definition").inputs["containerDefinitions"])
    return dict(c)


@pytest.fixture(scope="module")
def three() -> Rendered:
    return render_stack("dev", env=GIT_ENV, overrides={"services": SERVICES})


def test_a_listening_service_is_told_its_port_and_name(three: Rendered) -> None:
    assert environment(three, "api") == {"PORT": "8080", "SERVICE_NAME": "api"}
    assert environment(three, "orders") == {"PORT": "9000", "SERVICE_NAME": "orders"}
    # The port the app is told is the one its health check and port mapping use.
    orders = container(three, "orders")
    assert orders["portMappings"][0]["containerPort"] == 9000
    assert "http://127.0.0.1:9000/healthz" in orders["healthCheck"]["command"][3]


def test_a_worker_is_told_its_name_and_no_port(three: Rendered) -> None:
    assert environment(three, "worker") == {"SERVICE_NAME": "worker"}


def test_a_scheduled_job_is_told_its_name_and_no_port(prod: Rendered) -> None:
    env = environment(prod, "report")
    assert env["SERVICE_NAME"] == "report" and "PORT" not in env


def with_env(run: dict[str, Any]) -> dict[str, Any]:
    return {"services": [{"name": "orders", "build": APP, "run": run}]}


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        # the same values the stack sets, as a user may have written them before
        ({"kind": "backend", "port": 9000, "environment": {"PORT": "9000"}}, "9000"),
        ({"kind": "web", "port": 8080, "environment": {"SERVICE_NAME": "orders"}}, "8080"),
        # a worker has no port of the stack's: its own PORT is its business
        ({"kind": "worker", "environment": {"PORT": "7000"}}, "7000"),
    ],
)
def test_a_value_that_agrees_is_kept(run: dict[str, Any], expected: str) -> None:
    r = render_stack("dev", env=GIT_ENV, overrides=with_env(run))
    env = environment(r, "orders")
    assert env["PORT"] == expected and env["SERVICE_NAME"] == "orders"


ARN = "arn:aws:ssm:us-east-1:123456789012:parameter/port"


@pytest.mark.parametrize(
    ("run", "key", "fragment"),
    [
        (
            {"kind": "backend", "port": 9000, "environment": {"PORT": "8080"}},
            "services[0].run.environment.PORT",
            "'8080' is not allowed; the stack sets PORT to the container port, '9000'",
        ),
        (
            {"kind": "worker", "environment": {"SERVICE_NAME": "api"}},
            "services[0].run.environment.SERVICE_NAME",
            "'api' is not allowed; the stack sets SERVICE_NAME to the service's name, 'orders'",
        ),
        (
            {"kind": "backend", "port": 9000, "environment": {"PORT": {"secretArn": ARN}}},
            "services[0].run.environment.PORT",
            "a secret cannot replace it",
        ),
        (
            {"kind": "worker", "secrets": {"SERVICE_NAME": ARN}},
            "services[0].run.secrets.SERVICE_NAME",
            "a secret cannot replace it",
        ),
    ],
)
def test_a_contradiction_is_one_line_at_its_key(
    run: dict[str, Any], key: str, fragment: str
) -> None:
    with pytest.raises(ConfigErrors) as info:
        render_stack("dev", env=GIT_ENV, overrides=with_env(run))
    (error,) = info.value.errors
    assert error.path == key
    assert fragment in str(error) and "\n" not in str(error)


def test_a_refused_service_adds_no_second_line_about_its_name() -> None:
    """The old `fargate` form still checks a refused service's fields: SERVICE_NAME has no
    name to be compared with, so the only line is the service's own."""
    services = [{"name": "api", "build": APP}]
    fargate = {"service": "nope", "assignPublicIp": True, "environment": {"SERVICE_NAME": "x"}}
    with pytest.raises(ConfigErrors) as info:
        render_stack(
            "dev", env=GIT_ENV, overrides={"services": services, "network": {}, "fargate": fargate}
        )
    assert [e.path for e in info.value.errors] == ["fargate.service"]
