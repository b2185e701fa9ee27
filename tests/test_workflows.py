"""The workflow files: triggers, OIDC permissions, the commands they run, concurrency, pins."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^[\w.-]+/[\w.-]+@v\d+$")


def load(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    doc["on"] = doc.pop(True)  # YAML 1.1 reads the key `on` as a boolean
    return doc


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job["steps"]


def runs(job: dict[str, Any]) -> str:
    return "\n".join(s.get("run", "") for s in steps(job))


def pulumi_step(job: dict[str, Any]) -> dict[str, Any]:
    (step,) = [s for s in steps(job) if s.get("uses", "").startswith("pulumi/actions@")]
    return step


def test_every_action_is_pinned_by_major_version() -> None:
    for name in ("preview.yml", "deploy.yml"):
        for job in load(name)["jobs"].values():
            for step in steps(job):
                if "uses" in step:
                    assert PIN.match(step["uses"]), step["uses"]


def test_pull_requests_run_the_tests_then_preview_both_stacks() -> None:
    doc = load("preview.yml")
    assert doc["on"] == {"pull_request": {"branches": ["main"]}}
    assert doc["permissions"] == {"contents": "read"}
    assert "make test" in runs(doc["jobs"]["test"])
    assert "make plan STACK=dev" in runs(doc["jobs"]["test"]) and "make plan STACK=prod" in runs(
        doc["jobs"]["test"]
    )
    preview = doc["jobs"]["preview"]
    assert preview["needs"] == "test"
    assert preview["permissions"]["id-token"] == "write"
    assert preview["permissions"]["pull-requests"] == "write"
    assert "head.repo.full_name == github.repository" in preview["if"]
    assert [m["stack"] for m in preview["strategy"]["matrix"]["include"]] == ["dev", "prod"]
    step = pulumi_step(preview)
    assert step["with"]["command"] == "preview"
    assert step["with"]["comment-on-pr"] is True
    assert step["with"]["stack-name"] == "${{ matrix.stack }}"
    creds = next(
        s
        for s in steps(preview)
        if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
    )
    assert (
        "PREVIEW_ROLE" in creds["with"]["role-to-assume"]
        or creds["with"]["role-to-assume"] == "${{ vars[matrix.role] }}"
    )


def test_main_deploys_dev_then_prod_behind_an_environment() -> None:
    doc = load("deploy.yml")
    assert doc["on"] == {"push": {"branches": ["main"]}}
    jobs = doc["jobs"]
    assert "make test" in runs(jobs["test"])
    assert jobs["dev"]["needs"] == "test" and jobs["prod"]["needs"] == "dev"
    assert jobs["prod"]["environment"] == "production"
    assert "environment" not in jobs["dev"]
    for stack in ("dev", "prod"):
        job = jobs[stack]
        assert job["permissions"]["id-token"] == "write"
        assert job["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}
        step = pulumi_step(job)
        assert (step["with"]["command"], step["with"]["stack-name"]) == ("up", stack)
        creds = next(
            s
            for s in steps(job)
            if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
        )
        assert (
            creds["with"]["role-to-assume"]
            == f"${{{{ vars.AWS_DEPLOY_ROLE_ARN_{stack.upper()} }}}}"
        )
        assert "aws-access-key-id" not in creds["with"]


def test_the_prod_environment_name_matches_the_role_subject() -> None:
    prod = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]["ecr-fargate:github"]
    assert load("deploy.yml")["jobs"]["prod"]["environment"] == prod["prodEnvironment"]
