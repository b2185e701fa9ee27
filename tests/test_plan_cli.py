"""The offline plan prints the rendered stack, says placeholders are placeholders, refuses bad config.

Every render here reads the fixture stacks (`--stack-dir tests/stacks`), so editing the project's
Pulumi.<stack>.yaml never breaks `make test`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plan import __main__ as plan_cli

# The fixture stacks: the project's own stack files are the user's to edit.
STACKS = Path(__file__).resolve().parent / "stacks"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_json_plan_lists_resources_and_outputs(
    stack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plan_cli.main([stack, "--json", "--stack-dir", str(STACKS)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "placeholders" in doc["notice"]
    types = {r["type"] for r in doc["resources"]}
    assert {
        "aws:ecr/repository:Repository",
        "aws:ecs/taskDefinition:TaskDefinition",
        "aws:ecs/service:Service",
    } <= types
    policy = next(
        r for r in doc["resources"] if r["type"] == "aws:ecr/lifecyclePolicy:LifecyclePolicy"
    )
    rules = policy["inputs"]["policy"]["rules"]
    assert rules[0]["selection"]["tagPrefixList"] == [f"{stack}-running-"]
    assert rules[1]["selection"]["tagPrefixList"] == [f"{stack}-"]
    image = next(r for r in doc["resources"] if r["type"] == "docker:index/image:Image")
    assert image["inputs"]["registry"] == "[secret]"
    assert {"api": f"{stack}/api", "worker": f"{stack}/worker"}.items() <= doc["outputs"][
        "ecrRepositoryNames"
    ].items()


def test_text_plan_starts_with_the_notice(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_cli.main(["prod", "--stack-dir", str(STACKS)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("Offline plan: provider-computed values")
    assert "+ aws:ecr/repository:Repository  registry-api  (protected)" in out
    assert "retentionInDays: 30\n" in out


def test_bad_config_exits_1_with_the_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = Path(__file__).resolve().parent.parent
    (tmp_path / "Pulumi.yaml").write_text((root / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.broken.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  ecr-fargate:environment: staging\n"
    )
    assert plan_cli.main(["broken", "--project-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "config 'ecr-fargate:environment': 'staging' is not allowed; use one of dev, prod" in err


@pytest.mark.parametrize(
    ("stack", "content", "fragment"),
    [
        ("missing", None, "Pulumi.missing.yaml: no such stack file"),
        ("broken", "config:\n  a: [\n", "Pulumi.broken.yaml: not valid YAML"),
        ("broken", "config: [1, 2]\n", "Pulumi.broken.yaml: expected a mapping"),
        ("../up", None, "stack name '../up' is not allowed"),
    ],
)
def test_a_missing_or_malformed_stack_file_is_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    stack: str,
    content: str | None,
    fragment: str,
) -> None:
    root = Path(__file__).resolve().parent.parent
    (tmp_path / "Pulumi.yaml").write_text((root / "Pulumi.yaml").read_text())
    if content is not None:
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(content)
    assert plan_cli.main([stack, "--project-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and fragment in err


def test_a_stack_dir_without_the_stack_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plan_cli.main(["prod", "--stack-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("error: Pulumi.prod.yaml: no such stack file in ") and err.count("\n") == 1
    )
