"""`python -m cli.images`: CI's list of builds, equal to what the stack pins, with no cloud."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cli import images as plan
from tests.conftest import GIT_ENV, STACKS, render_stack

ROOT = Path(__file__).resolve().parent.parent
KEYS = ["service", "repository", "context", "dockerfile", "target", "buildArgs", "platforms", "tag"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The module as CI runs it: no AWS credentials, no Pulumi, no Docker in the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PULUMI_", "DOCKER_"))}
    return subprocess.run(
        [sys.executable, "-m", "cli.images", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_plan_lists_built_services_in_config_order(stack: str) -> None:
    result = run_cli(stack, "--stack-dir", str(STACKS))
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    config = yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text())["config"]
    built = [s["name"] for s in config["ecr-fargate:services"] if "build" in s]
    assert [p["service"] for p in found] == built
    for entry in found:
        assert list(entry) == KEYS
        assert entry["repository"] == f"{stack}/{entry['service']}"
        assert (ROOT / entry["context"]).is_dir() and (ROOT / entry["dockerfile"]).is_file()
        assert entry["tag"].startswith(f"{stack}-")
    assert found == plan.load_plan(stack, stack_dir=STACKS)


def test_the_plan_tag_is_the_tag_the_stack_pins_for_ci_digests(tmp_path: Path) -> None:
    """The tag CI pushes its index under is the one the stack reports for a handed-in digest,
    for a multi-platform service too."""
    doc = yaml.safe_load((STACKS / "Pulumi.dev.yaml").read_text())
    services = doc["config"]["ecr-fargate:services"]
    services[0]["build"]["platforms"] = ["linux/arm64", "linux/amd64"]
    services[0]["build"]["args"] = {"RELEASE": "1"}
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(doc))
    owner_file = (STACKS / "Pulumi.prod.yaml").read_text()
    (tmp_path / "Pulumi.prod.yaml").write_text(owner_file)  # the account owner's file
    entries = plan.load_plan("dev", stack_dir=tmp_path)
    digest = "sha256:" + "0" * 64
    handed = {"ECR_FARGATE_IMAGE_DIGESTS": json.dumps({e["service"]: digest for e in entries})}
    rendered = render_stack("dev", stack_dir=tmp_path, env={**GIT_ENV, **handed})
    for entry in entries:
        source = rendered.outputs["imageSources"][entry["service"]]
        assert source == {"tag": entry["tag"], "commit": GIT_ENV["GITHUB_SHA"], "source": "ci"}
    assert entries[0]["platforms"] == ["linux/arm64", "linux/amd64"]
    assert entries[0]["buildArgs"] == {"RELEASE": "1"}


# Variables the stack's render reads (CI's digests, the commit), here malformed so that reading
# them at all fails the plan, and Pulumi's own config and region variables.
HOSTILE_ENV = {
    "ECR_FARGATE_IMAGE_DIGESTS": "{not json",
    "GITHUB_SHA": "not-a-sha",
    "GIT_SHA": "not-a-sha",
    "PULUMI_CONFIG": json.dumps({"ecr-fargate:environment": "prod"}),
    "AWS_REGION": "eu-west-1",
}


def test_the_plan_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same plan from an empty environment and from one whose variables the render reads
    (and would refuse), and it is the fixture's plan, as literals."""
    for name in HOSTILE_ENV:
        monkeypatch.delenv(name, raising=False)
    bare = plan.load_plan("dev", stack_dir=STACKS)
    for name, value in HOSTILE_ENV.items():
        monkeypatch.setenv(name, value)
    hostile = plan.load_plan("dev", stack_dir=STACKS)
    assert hostile == bare
    # The content tag hashes app/'s files: its shape here, its inputs in test_content_tags.py.
    tags = {entry.pop("tag") for entry in hostile}
    (tag,) = tags  # api and worker: the same build inputs, the same tag
    assert re.fullmatch(r"dev-[0-9a-f]{16}", tag)
    built: dict[str, object] = {
        "context": "app",
        "dockerfile": "app/Dockerfile",
        "target": None,
        "buildArgs": {},
    }
    assert hostile == [
        {"service": "api", "repository": "dev/api", **built, "platforms": ["linux/amd64"]},
        {"service": "worker", "repository": "dev/worker", **built, "platforms": ["linux/amd64"]},
    ]


def test_bad_config_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.dev.yaml").write_text(
        yaml.safe_dump(
            {
                "config": {
                    "aws:region": "us-east-1",
                    "ecr-fargate:services": [
                        {"name": "api", "build": {"context": "app", "platforms": ["linux/386"]}},
                        {"name": "Bad"},
                    ],
                }
            }
        )
    )
    result = run_cli("dev", "--stack-dir", str(tmp_path))
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert "services[0].build.platforms[0]" in lines[0] and "services[1].name" in lines[1]


def test_a_missing_stack_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert plan.main(["nope", "--stack-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Pulumi.nope.yaml: no such stack file") and err.count("\n") == 1


def test_a_single_platform_plan_tag_is_the_tag_a_local_build_pushes() -> None:
    rendered = render_stack("dev", env=GIT_ENV)
    for entry in plan.load_plan("dev", stack_dir=STACKS):
        assert entry["platforms"] == ["linux/amd64"]
        ref = rendered.outputs["containerImageRefs"][entry["service"]]
        assert ref.endswith(f"/{entry['repository']}:{entry['tag']}")
        assert rendered.outputs["imageSources"][entry["service"]]["source"] == "local"
