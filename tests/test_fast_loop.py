"""Item 4 of issue #15 apart from the evaluator: one registry token per registry, the ECS model
parsed once per process, and the live lifecycle preview reading 1,000 images per call."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.loaders import Loader
from botocore.stub import Stubber
from moto import mock_aws

from cli.lifecycle import cli
from plan.engine import Rendered
from rules.ecs import container, sizing
from rules.ecs.api_model import ecs_model
from tests.conftest import GIT_ENV, STACKS, render_stack
from tests.test_lifecycle_cli import manifest

TOKEN = "aws:ecr/getAuthorizationToken:getAuthorizationToken"
IMAGE = "docker:index/image:Image"
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def with_extra_builds(stack: str, extra: int) -> dict[str, Any]:
    """The fixture stack's services plus `extra` more that build their own image."""
    import yaml

    doc = yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text())
    services = list(doc["config"]["ecr-fargate:services"])
    services += [{"name": f"extra{k}", "build": {"context": "app"}} for k in range(extra)]
    return {"services": services}


@pytest.fixture(scope="module", params=[(s, p) for s in ("dev", "prod") for p in (True, False)])
def many(request: pytest.FixtureRequest) -> Rendered:
    stack, preview = request.param
    return render_stack(stack, overrides=with_extra_builds(stack, 3), preview=preview, env=GIT_ENV)


def test_one_registry_token_serves_every_built_image(many: Rendered) -> None:
    images = many.of_type(IMAGE)
    assert len({i.name for i in images}) >= 5  # api, worker and three extras
    assert many.invokes.count(TOKEN) == 1


def test_the_shared_token_stays_secret_in_every_image(many: Rendered) -> None:
    for image in many.of_type(IMAGE):
        assert "registry" in image.secret_inputs, image.name
        assert image.inputs["registry"]["password"] == "mock-ecr-password"
    assert not any("mock-ecr-password" in str(v) for v in many.outputs.values())


def test_a_stack_without_builds_fetches_no_token() -> None:
    digest = "sha256:" + "a" * 64
    r = render_stack(
        "dev",
        overrides={"services": [{"name": "api", "image": f"nginx@{digest}"}], "network": {}},
        env=GIT_ENV,
    )
    assert not r.of_type(IMAGE)
    assert TOKEN not in r.invokes


def test_the_ecs_model_is_loaded_once_for_two_stacks(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[str] = []
    original = Loader.load_service_model

    def spy(self: Loader, service_name: str, *args: Any, **kwargs: Any) -> Any:
        loads.append(service_name)
        return original(self, service_name, *args, **kwargs)

    monkeypatch.setattr(Loader, "load_service_model", spy)
    for cached in (ecs_model, container._register_shape, sizing.windows_families):
        cached.cache_clear()
    render_stack("dev", env=GIT_ENV)
    render_stack("prod", env=GIT_ENV)
    assert loads.count("ecs") == 1


def details(n: int) -> list[dict[str, Any]]:
    return [
        {
            "registryId": "123456789012",
            "repositoryName": "dev/api",
            "imageDigest": "sha256:" + hashlib.sha256(str(i).encode()).hexdigest(),
            "imageTags": [f"dev-{i}"],
            "imagePushedAt": NOW - timedelta(minutes=n - i),
        }
        for i in range(n)
    ]


@pytest.mark.parametrize(("count", "calls"), [(999, 1), (1000, 1), (2500, 3)])
def test_describe_images_reads_1000_per_call(count: int, calls: int) -> None:
    client = boto3.client("ecr", region_name="us-east-1")
    images = details(count)
    with Stubber(client) as stub:
        for page in range(calls):
            expected: dict[str, Any] = {"repositoryName": "dev/api", "maxResults": 1000}
            if page:
                expected["nextToken"] = f"t{page}"
            response: dict[str, Any] = {"imageDetails": images[page * 1000 : (page + 1) * 1000]}
            if page < calls - 1:
                response["nextToken"] = f"t{page + 1}"
            stub.add_response("describe_images", response, expected)
        listed = cli.list_images(client, "dev/api", None)
        stub.assert_no_pending_responses()
    assert [i["imageDigest"] for i in listed] == [i["imageDigest"] for i in images]


def test_the_page_size_is_the_api_models_maximum() -> None:
    client = boto3.client("ecr", region_name="us-east-1")
    assert cli.largest_page(client) == 1000


def test_moto_repository_is_listed_whole_with_1000_per_request() -> None:
    with mock_aws():
        client = boto3.client("ecr", region_name="us-east-1")
        client.create_repository(repositoryName="dev/api")
        for n in range(5):
            client.put_image(
                repositoryName="dev/api",
                imageManifest=manifest(n),
                imageTag=f"dev-{n}",
                imageDigest="sha256:" + hashlib.sha256(manifest(n).encode()).hexdigest(),
            )
        sent: list[dict[str, Any]] = []
        client.meta.events.register(
            "provide-client-params.ecr.DescribeImages", lambda params, **_: sent.append(params)
        )
        listed = cli.list_images(client, "dev/api", None)
    assert sorted(i["imageTags"][0] for i in listed) == [f"dev-{n}" for n in range(5)]
    assert sent and all(p["maxResults"] == 1000 for p in sent)
