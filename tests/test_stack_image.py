"""Both stacks under mocks: the image build, its registry credentials, and the digest's path to ECS."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from plan.engine import ACCOUNT_ID, Rendered
from tests.conftest import GIT_ENV, render_stack

IMAGE = "docker:index/image:Image"
HOST = f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com"
WEB = {"kind": "web", "port": 8080}
DIGEST_RE = re.compile(r"^(?P<repo>[^@]+)@sha256:[0-9a-f]{64}$")


def api_image(r: Rendered) -> Any:
    """The api's image (every service of the fixture stacks builds its own)."""
    return next(i for i in r.of_type(IMAGE) if i.name == "image-api")


def test_the_built_service_gets_one_image_with_explicit_platform(stack: Rendered) -> None:
    image = api_image(stack)
    build = image.inputs["build"]
    assert build["context"] == "app"
    assert build["dockerfile"] == "app/Dockerfile"
    assert build["platform"] == "linux/amd64"
    assert image.inputs["buildOnPreview"] is False
    assert image.inputs["skipPush"] is False
    name = image.inputs["imageName"]
    repo, tag = name.rsplit(":", 1)
    assert repo == f"{HOST}/{stack.stack}/api"
    # The content hash only: the fixed commit of GIT_ENV is nowhere in it.
    assert re.fullmatch(rf"{stack.stack}-[0-9a-f]{{16}}", tag)
    assert "0123456" not in tag


def test_registry_credentials_are_fetched_by_the_stack_and_secret(stack: Rendered) -> None:
    image = api_image(stack)
    registry = image.inputs["registry"]
    assert registry["server"] == HOST
    assert registry["username"] == "AWS"
    assert registry["password"] == "mock-ecr-password"
    assert "registry" in image.secret_inputs


def test_repo_digest_flows_unchanged_into_outputs_and_the_task(stack: Rendered) -> None:
    image = api_image(stack)
    digest = image.state["repoDigest"]
    match = DIGEST_RE.match(digest)
    assert match is not None
    assert match["repo"] == f"{HOST}/{stack.stack}/api"
    assert stack.outputs["containerImageDigests"]["api"] == digest
    assert stack.outputs["containerImageDigest"] == digest  # api is the primary service
    assert stack.outputs["ecsImageDigests"]["api"] == digest
    assert stack.outputs["ecsImageDigest"] == digest
    task = stack.named("api-task-definition")
    (container,) = json.loads(task.inputs["containerDefinitions"])
    assert container["image"] == digest
    assert stack.outputs["containerImageRefs"]["api"] == image.inputs["imageName"]
    assert stack.outputs["containerImageRef"] == image.inputs["imageName"]


def test_docker_build_command_reproduces_the_build(stack: Rendered) -> None:
    image = api_image(stack)
    command = stack.outputs["dockerBuildCommands"]["api"]
    assert stack.outputs["dockerBuildCommand"] == command
    build, push = command.split(" && ")
    argv = shlex.split(build)
    assert argv[:2] == ["docker", "build"]
    assert argv[argv.index("--platform") + 1] == "linux/amd64"
    assert argv[argv.index("-t") + 1] == image.inputs["imageName"]
    assert argv[argv.index("-f") + 1] == "app/Dockerfile"
    assert argv[-1] == "app"
    assert shlex.split(push) == ["docker", "push", image.inputs["imageName"]]


def test_the_same_content_gives_the_same_tag_twice() -> None:
    first = api_image(render_stack("prod", env=GIT_ENV)).inputs["imageName"]
    again = api_image(render_stack("prod", env=GIT_ENV)).inputs["imageName"]
    assert first == again


def test_prebuilt_digest_registers_no_image_and_runs_as_is() -> None:
    digest = f"{HOST}/dev/api@sha256:{'a' * 64}"
    r = render_stack(
        "dev",
        env=GIT_ENV,
        overrides={"services": [{"name": "api", "image": digest, "run": WEB}, {"name": "worker"}]},
    )
    assert r.of_type(IMAGE) == []
    assert r.outputs["containerImageDigest"] == digest
    assert r.outputs["containerImageDigests"]["api"] == digest
    assert "api" not in r.outputs["dockerBuildCommands"]
    assert "dockerBuildCommand" not in r.outputs
    (container,) = json.loads(r.named("api-task-definition").inputs["containerDefinitions"])
    assert container["image"] == digest


def test_arm64_platform_sets_the_task_architecture() -> None:
    r = render_stack(
        "dev",
        env=GIT_ENV,
        overrides={
            "services": [
                {"name": "api", "build": {"context": "app"}, "platform": "linux/arm64", "run": WEB}
            ]
        },
    )
    assert r.one(IMAGE).inputs["build"]["platform"] == "linux/arm64"
    task = r.named("api-task-definition")
    assert task.inputs["runtimePlatform"] == {
        "cpuArchitecture": "ARM64",
        "operatingSystemFamily": "LINUX",
    }


def test_image_outputs_keep_their_type_whatever_the_number_of_services() -> None:
    one = render_stack(
        "dev",
        env=GIT_ENV,
        overrides={"services": [{"name": "api", "build": {"context": "app"}, "run": WEB}]},
    )
    two = render_stack("dev", env=GIT_ENV)
    for key in ("containerImageDigests", "containerImageRefs", "dockerBuildCommands"):
        assert isinstance(one.outputs[key], dict) and isinstance(two.outputs[key], dict)
        assert set(one.outputs[key]) == {"api"}
        assert set(two.outputs[key]) == {"api", "worker"}
    for key in ("containerImageDigest", "containerImageRef", "dockerBuildCommand"):
        assert isinstance(one.outputs[key], str) and isinstance(two.outputs[key], str)
