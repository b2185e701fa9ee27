"""The workflow files: what pull-request code can reach, pins, permissions, and the zizmor audit.

A pull request can edit the workflows it runs, so these tests are not the security boundary (the
OIDC trust of the roles and Pulumi teams is); they keep the committed workflows from handing pull
requests a long-lived secret or prod credentials, and from drifting off pinned, audited actions.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from rules.naming import StackNames

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / ".github"
WORKFLOWS = sorted(p for p in (GITHUB / "workflows").iterdir() if p.suffix in (".yml", ".yaml"))
ZIZMOR = Path(sys.executable).parent / "zizmor"
# Events whose runs execute a pull request's code or act on its behalf.
PR_EVENTS = {
    "pull_request",
    "pull_request_target",
    "pull_request_review",
    "pull_request_review_comment",
}
SECRET_REF = re.compile(r"\bsecrets\s*(?:\.\s*([A-Za-z_][\w-]*)|\[)")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?:\s+#\s*(?P<comment>.*))?$")
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w./-]+)?@(?P<sha>[0-9a-f]{40})$")
VERSION = re.compile(r"^v\d+\.\d+\.\d+$")
ROLE_ACTIONS = ("aws-actions/configure-aws-credentials@", "pulumi/auth-actions@")


def load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text())
    doc["on"] = doc.pop(True)  # YAML 1.1 reads the key `on` as a boolean
    return doc


def workflow(name: str) -> dict[str, Any]:
    return load(GITHUB / "workflows" / name)


def events(doc: dict[str, Any]) -> set[str]:
    on = doc["on"]
    return {on} if isinstance(on, str) else set(on)


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def uses(job: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if s.get("uses", "").startswith(prefix)]


def runs(job: dict[str, Any]) -> str:
    return "\n".join(s.get("run", "") for s in steps(job))


def all_jobs() -> list[tuple[Path, str, dict[str, Any]]]:
    return [(path, name, job) for path in WORKFLOWS for name, job in load(path)["jobs"].items()]


def test_every_file_in_the_workflows_directory_is_checked() -> None:
    """GitHub runs `.yml` and `.yaml` alike: a workflow these tests skipped would be unchecked."""
    assert sorted((GITHUB / "workflows").iterdir()) == WORKFLOWS
    assert [p.name for p in WORKFLOWS] == ["deploy.yml", "images.yml", "preview.yml"]


def test_no_long_lived_secret_in_anything_a_pull_request_triggers() -> None:
    for path in WORKFLOWS:
        doc = load(path)
        if not events(doc) & PR_EVENTS:
            continue
        # The whole document: workflow-level `env` reaches every job. Comments are gone.
        text = json.dumps(doc)
        names = [m.group(1) for m in SECRET_REF.finditer(text)]
        assert set(names) <= {"GITHUB_TOKEN"}, (path.name, names)
        assert "inherit" not in json.dumps([j.get("secrets") for j in doc["jobs"].values()])


def test_the_secret_scan_sees_every_form_of_reference() -> None:
    found = [m.group(1) for m in SECRET_REF.finditer(json.dumps(
        {"env": {"A": "${{ secrets.PULUMI_ACCESS_TOKEN }}", "B": "${{ secrets['X'] }}",
                 "C": "${{ secrets . GITHUB_TOKEN }}", "D": "${{ vars.secretsX }}"}}
    ))]  # fmt: skip
    assert found == ["PULUMI_ACCESS_TOKEN", None, "GITHUB_TOKEN"]


def test_pull_requests_hold_no_prod_credentials() -> None:
    """Dev is previewed for real; prod only offline, because the pull request controls the code."""
    doc = workflow("preview.yml")
    text = json.dumps(doc)
    assert "PROD" not in text and "prod-deploy" not in text and "prod-preview" not in text
    for job in doc["jobs"].values():
        for step in uses(job, "pulumi/actions@"):
            assert "prod" not in step["with"]["stack-name"]


def test_every_external_action_is_pinned_to_a_commit_with_its_version() -> None:
    pins: dict[str, set[tuple[str, str]]] = {}
    for path in WORKFLOWS:
        lines = [USES_LINE.match(line) for line in path.read_text().splitlines()]
        found = [m for m in lines if m]
        jobs = load(path)["jobs"].values()
        parsed = [s["uses"] for j in jobs for s in steps(j) if "uses" in s]
        parsed += [j["uses"] for j in jobs if "uses" in j]  # reusable workflows
        # Every `uses:` the YAML holds is on a line of its own, where its comment can be read.
        assert sorted(m["ref"] for m in found) == sorted(parsed), path.name
        for m in found:
            if m["ref"].startswith("./"):
                continue
            pinned = PINNED.match(m["ref"])
            assert pinned, f"{path.name}: {m['ref']} is not pinned to a 40-hex commit"
            assert m["comment"] and VERSION.match(m["comment"]), f"{m['ref']} has no # vX.Y.Z"
            pins.setdefault(m["ref"].split("@")[0], set()).add((pinned["sha"], m["comment"]))
    # One commit and one version per action across all workflows, so an update is one change;
    # and only these publishers run code with the jobs' tokens (a new one is a reviewed change).
    assert {action: len(p) for action, p in pins.items()} == dict.fromkeys(pins, 1)
    assert set(pins) == {
        "actions/cache",
        "actions/checkout",
        "actions/setup-python",
        "aws-actions/configure-aws-credentials",
        "pulumi/actions",
        "pulumi/auth-actions",
    }


def test_permissions_are_granted_per_job_and_least() -> None:
    allowed = {("contents", "read"), ("id-token", "write"), ("pull-requests", "write")}
    for path in WORKFLOWS:
        assert load(path)["permissions"] == {}, path.name
    for path, name, job in all_jobs():
        grants = set(job["permissions"].items())
        assert grants <= allowed and ("contents", "read") in grants, (path.name, name, grants)
        commenting = any(s["with"].get("comment-on-pr") for s in uses(job, "pulumi/actions@"))
        assert (("pull-requests", "write") in grants) == commenting, (path.name, name)


def test_id_token_only_where_a_role_or_team_token_is_assumed() -> None:
    for path, name, job in all_jobs():
        assumes = any(uses(job, prefix) for prefix in ROLE_ACTIONS)
        assert (job["permissions"].get("id-token") == "write") == assumes, (path.name, name)


def test_checkouts_leave_no_token_behind() -> None:
    checkouts = [s for _, _, j in all_jobs() for s in uses(j, "actions/checkout@")]
    assert len(checkouts) == len(all_jobs())
    for step in checkouts:
        assert step["with"]["persist-credentials"] is False


def test_no_expression_is_expanded_inside_a_shell_script() -> None:
    for path, name, job in all_jobs():
        assert "${{" not in runs(job), (path.name, name)


def test_pull_requests_run_the_tests_and_plan_then_preview_dev() -> None:
    doc = workflow("preview.yml")
    assert doc["on"] == {"pull_request": {"branches": ["main"]}}
    test = doc["jobs"]["test"]
    assert "make test" in runs(test)
    assert "make plan STACK=dev" in runs(test) and "make plan STACK=prod" in runs(test)
    preview = doc["jobs"]["preview-dev"]
    assert preview["needs"] == "test"
    assert "head.repo.full_name == github.repository" in preview["if"]
    (creds,) = uses(preview, "aws-actions/configure-aws-credentials@")
    assert creds["with"]["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN_DEV }}"
    assert_team(preview, f"team:{StackNames('dev').preview_role_name}")
    (step,) = uses(preview, "pulumi/actions@")
    assert step["with"]["command"] == "preview" and step["with"]["comment-on-pr"] is True
    assert_backend(step, "dev")


def test_pull_requests_post_the_plan_of_prod_against_the_base_branch() -> None:
    """Prod's real preview runs only on main: the review reads what the change does to prod from
    the offline plan, the base branch rendered by its own code (docs/plan.md)."""
    test = workflow("preview.yml")["jobs"]["test"]
    (checkout,) = uses(test, "actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0  # origin/<base> exists to render
    names = [s.get("name", "") for s in steps(test)]
    step = steps(test)[names.index("Plan of prod against the base branch, in the job summary")]
    assert names.index(step["name"]) > [s.get("run") for s in steps(test)].index("make test")
    # The branch name reaches the script as a variable, never expanded into it.
    assert step["env"] == {"BASE_REF": "${{ github.base_ref }}"}
    lines = [line.strip() for line in step["run"].splitlines()]
    assert lines[0] == (
        'venv/bin/python -m plan prod --against "origin/${BASE_REF}" > "${RUNNER_TEMP}/plan-prod.txt"'
    )
    assert "echo '```diff'" in lines and '} >> "$GITHUB_STEP_SUMMARY"' in lines
    assert "permissions" not in step and set(test["permissions"].items()) == {("contents", "read")}


def test_main_deploys_dev_then_previews_and_deploys_prod_behind_the_environment() -> None:
    doc = workflow("deploy.yml")
    assert doc["on"] == {"push": {"branches": ["main"]}}
    jobs = doc["jobs"]
    assert "make test" in runs(jobs["test"])
    # Each stack's deploy waits for its images (test_image_pipeline.py); dev's images for the tests.
    assert jobs["images-dev"]["needs"] == "test" and jobs["dev"]["needs"] == "images-dev"
    assert jobs["promote-prod"]["needs"] == ["images-dev", "dev"]
    assert jobs["prod"]["needs"] == ["dev", "promote-prod"]
    assert "environment" not in jobs["dev"] and jobs["prod"]["environment"] == "production"
    for stack, commands in (("dev", ["up"]), ("prod", ["preview", "up"])):
        job = jobs[stack]
        assert job["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}
        (creds,) = uses(job, "aws-actions/configure-aws-credentials@")
        assert (
            creds["with"]["role-to-assume"]
            == f"${{{{ vars.AWS_DEPLOY_ROLE_ARN_{stack.upper()} }}}}"
        )
        assert "aws-access-key-id" not in creds["with"]
        assert_team(job, f"team:{StackNames(stack).deploy_role_name}")
        pulumi = uses(job, "pulumi/actions@")
        assert [s["with"]["command"] for s in pulumi] == commands
        for step in pulumi:
            assert_backend(step, stack)
        # The running markers move only after a successful `up`, on what it deployed.
        mark = steps(job)[-1]
        assert steps(job).index(pulumi[-1]) < len(steps(job)) - 1
        assert f"python -m cli.lifecycle mark --stack {stack} " in mark["run"]
        # dev deploys what it built; prod what the promotion copied from dev.
        source = "images-dev" if stack == "dev" else "promote-prod"
        assert (
            job["env"]["ECR_FARGATE_IMAGE_DIGESTS"] == f"${{{{ needs.{source}.outputs.digests }}}}"
        )


def test_only_the_production_job_on_main_can_reach_prod() -> None:
    for path, name, job in all_jobs():
        text = json.dumps(job)
        if "PROD" in text or "prod-deploy" in text:
            assert load(path)["on"] == {"push": {"branches": ["main"]}}, (path.name, name)
            assert job["environment"] == "production", (path.name, name)


def test_the_prod_environment_name_matches_the_role_subject() -> None:
    prod = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]["ecr-fargate:github"]
    assert workflow("deploy.yml")["jobs"]["prod"]["environment"] == prod["prodEnvironment"]


def assert_team(job: dict[str, Any], scope: str) -> None:
    """Pulumi Cloud only (no PULUMI_BACKEND_URL): a team token named like the stack's CI role."""
    (auth,) = uses(job, "pulumi/auth-actions@")
    assert auth["if"] == "vars.PULUMI_BACKEND_URL == ''"
    assert auth["with"] == {
        "organization": "${{ vars.PULUMI_ORGANIZATION }}",
        "requested-token-type": "urn:pulumi:token-type:access_token:team",
        "scope": scope,
    }


def assert_backend(step: dict[str, Any], stack: str) -> None:
    assert step["with"]["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"
    assert step["with"]["stack-name"] == (
        f"${{{{ vars.PULUMI_BACKEND_URL == '' && "
        f"format('{{0}}/{stack}', vars.PULUMI_ORGANIZATION) || '{stack}' }}}}"
    )
    assert "env" not in step  # no token or passphrase handed over


def test_dependabot_keeps_actions_and_requirements_current() -> None:
    config = yaml.safe_load((GITHUB / "dependabot.yml").read_text())
    assert config["version"] == 2
    updates = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(updates) == {"github-actions", "pip"}
    assert updates["github-actions"]["directory"] == "/"
    # requirements.txt and requirements-dev.txt at the root, and the policy pack's own file.
    assert updates["pip"]["directories"] == ["/", "/policy"]
    for update in updates.values():
        assert update["schedule"]["interval"] == "weekly"
        assert [g["patterns"] for g in update["groups"].values()] == [["*"]]
        assert update["cooldown"]["default-days"] >= 1


def test_zizmor_is_pinned_in_requirements() -> None:
    assert "zizmor==1.32.0" in (ROOT / "requirements-dev.txt").read_text().splitlines()


def zizmor(target: Path) -> tuple[int, list[dict[str, Any]]]:
    result = subprocess.run(
        [str(ZIZMOR), "--offline", "--no-config", "--format", "json", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode, json.loads(result.stdout)


def test_zizmor_finds_nothing_in_the_workflows() -> None:
    # Not skipped when missing: requirements-dev.txt installs it next to this interpreter.
    assert ZIZMOR.is_file(), f"{ZIZMOR} is missing: pip install -r requirements-dev.txt"
    code, findings = zizmor(GITHUB)
    assert (code, [f["ident"] for f in findings]) == (0, [])


def test_zizmor_would_catch_the_old_workflow_shape(tmp_path: Path) -> None:
    """The audit above is only worth something if zizmor reads these files and flags the issue's
    original pattern: a movable tag, and a variable expanded into a shell script."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(
        "on: pull_request\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    permissions: {}\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    code, findings = zizmor(tmp_path / ".github")
    assert code != 0
    assert {"unpinned-uses", "template-injection", "artipacked"} <= {f["ident"] for f in findings}


@pytest.mark.parametrize("path", [*WORKFLOWS, GITHUB / "dependabot.yml"], ids=lambda p: p.name)
def test_every_zizmor_suppression_says_why(path: Path) -> None:
    for line in path.read_text().splitlines():
        if "zizmor: ignore[" in line:
            reason = line.split("zizmor: ignore[", 1)[1].split("]", 1)[1]
            assert len(reason.strip(" #-:")) >= 10, line
