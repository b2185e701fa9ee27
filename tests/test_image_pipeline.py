"""The image pipeline: its workflow structure, and its shell scripts run against stub commands.

The structure tests parse the workflows (what runs where, with which role). The script tests run
the very `run:` text of each step under bash, with `aws`, `docker`, `python` and `git` replaced by
stubs that answer like the real commands and record their arguments, and the real `jq`: so the
skip-existing check, the Buildx arguments, the digest hand-over and the scan gate are exercised,
not only read.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from rules.registry.names import BUILD_CACHE_TAG
from tests.test_workflows import PR_EVENTS, WORKFLOWS, events, load, runs, steps, uses, workflow

pytestmark = pytest.mark.skipif(shutil.which("jq") is None, reason="the scripts need jq")

HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
INDEX = "sha256:" + "a" * 64
BUILT = "sha256:" + "b" * 64
AMD64, ARM64, ATTESTATION = ("sha256:" + c * 64 for c in "cde")


def plan(stack: str) -> list[dict[str, Any]]:
    """What `python -m cli.images STACK` prints (interface 1)."""
    common: dict[str, Any] = {
        "context": "app",
        "dockerfile": "app/Dockerfile",
        "target": None,
        "buildArgs": {},
    }
    both = ["linux/amd64", "linux/arm64"]
    return [
        {**common, "service": "api", "repository": f"{stack}/api", "platforms": both,
         "tag": f"{stack}-api111"},
        {**common, "service": "worker", "repository": f"{stack}/worker", "platforms": both,
         "target": "worker", "buildArgs": {"MODE": "a b"}, "tag": f"{stack}-wrk222"},
    ]  # fmt: skip


def step(job: dict[str, Any], name_start: str) -> dict[str, Any]:
    (found,) = [s for s in steps(job) if s.get("name", "").startswith(name_start)]
    return found


def index_of(job: dict[str, Any], found: dict[str, Any]) -> int:
    return steps(job).index(found)


# --- structure ---------------------------------------------------------------------------------
def test_pull_requests_build_changed_services_without_push_or_credentials() -> None:
    doc = workflow("images.yml")
    assert events(doc) == {"pull_request"}
    (job,) = doc["jobs"].values()
    assert job["permissions"] == {"contents": "read"}
    assert not uses(job, "aws-actions/") and not uses(job, "pulumi/")
    text = json.dumps(doc)
    assert "vars." not in text and "secrets" not in text and "PROD" not in text
    script = runs(job)
    assert "python -m cli.images" in script and "HEAD^1" in script
    assert "docker buildx build" in script
    assert "--push" not in script and "--load" not in script and "docker login" not in script
    (checkout,) = uses(job, "actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 2  # the merge commit and its base


def test_no_pull_request_workflow_can_reach_aws_or_prod() -> None:
    for name in ("images.yml", "preview.yml"):
        doc = workflow(name)
        assert events(doc) <= PR_EVENTS
        text = json.dumps(doc)
        assert "PROD" not in text and "DEPLOY_ROLE" not in text, name


@pytest.mark.parametrize("stack", ["dev"])
def test_each_stack_pushes_with_its_deploy_role_before_its_deploy(stack: str) -> None:
    jobs = workflow("deploy.yml")["jobs"]
    images, deploy = jobs[f"images-{stack}"], jobs[stack]
    assert images["env"] == {"STACK": stack}
    assert images["permissions"] == {"contents": "read", "id-token": "write"}
    (creds,) = uses(images, "aws-actions/configure-aws-credentials@")
    assert creds["with"]["role-to-assume"] == f"${{{{ vars.AWS_DEPLOY_ROLE_ARN_{stack.upper()} }}}}"
    assert images.get("environment") == ("production" if stack == "prod" else None)
    assert images["concurrency"] == {"group": f"images-{stack}", "cancel-in-progress": False}
    # The deploy job needs the image job and takes its digests through job outputs.
    needs = deploy["needs"] if isinstance(deploy["needs"], list) else [deploy["needs"]]
    assert f"images-{stack}" in needs
    assert deploy["env"] == {
        "ECR_FARGATE_IMAGE_DIGESTS": f"${{{{ needs.images-{stack}.outputs.digests }}}}"
    }
    assert images["outputs"]["digests"] == "${{ steps.push.outputs.digests }}"
    # Scan before anything else runs, after the push; the hand-over is checked before `up`.
    push, scan = step(images, "Each service's index"), step(images, "Scan gate")
    assert push["id"] == "push" and index_of(images, push) < index_of(images, scan)
    assert index_of(images, scan) == len(steps(images)) - 1
    gate = step(deploy, "Every built service has")
    (up,) = [s for s in uses(deploy, "pulumi/actions@") if s["with"]["command"] == "up"]
    assert index_of(deploy, gate) < index_of(deploy, up)


def test_make_test_runs_before_anything_is_pushed() -> None:
    jobs = workflow("deploy.yml")["jobs"]
    assert "make test" in runs(jobs["test"])

    def ancestors(name: str) -> set[str]:
        needs = jobs[name].get("needs", [])
        direct = {needs} if isinstance(needs, str) else set(needs)
        return direct.union(*(ancestors(n) for n in direct)) if direct else set()

    for name, job in jobs.items():
        if "docker buildx build" in runs(job):
            assert "test" in ancestors(name), name


def test_prod_never_builds_it_promotes_dev_s_digests() -> None:
    """No job that holds prod's role builds, logs in to Docker or plans a build; prod's deploy
    takes the digests of the promotion, which follows dev's successful deploy."""
    jobs = workflow("deploy.yml")["jobs"]
    assert "images-prod" not in jobs
    for name, job in jobs.items():
        if "AWS_DEPLOY_ROLE_ARN_PROD" in json.dumps(job):
            script = runs(job)
            assert "docker" not in script and "cli.images" not in script, name
    promote = jobs["promote-prod"]
    assert promote["needs"] == ["images-dev", "dev"] and promote["environment"] == "production"
    assert promote["env"] == {"STACK": "prod"}
    assert promote["permissions"] == {"contents": "read", "id-token": "write"}
    assert promote["concurrency"] == {"group": "promote-prod", "cancel-in-progress": False}
    (creds,) = uses(promote, "aws-actions/configure-aws-credentials@")
    assert creds["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN_PROD }}"
    copy, scan = step(promote, "Dev's image indexes"), step(promote, "Scan gate")
    assert copy["env"] == {"DEV_DIGESTS": "${{ needs.images-dev.outputs.digests }}"}
    assert index_of(promote, copy) < index_of(promote, scan) == len(steps(promote)) - 1
    assert promote["outputs"] == {
        "digests": "${{ steps.copy.outputs.digests }}",
        "services": "${{ steps.copy.outputs.services }}",
    }
    prod = jobs["prod"]
    assert prod["needs"] == ["dev", "promote-prod"]
    assert prod["env"] == {"ECR_FARGATE_IMAGE_DIGESTS": "${{ needs.promote-prod.outputs.digests }}"}
    # Recorded for a by-hand `pulumi up` only after prod's own deploy succeeded.
    (up,) = [s for s in uses(prod, "pulumi/actions@") if s["with"]["command"] == "up"]
    recorded = step(prod, "Record the digests prod runs")
    # Then the running markers move (the lifecycle policies' first rule keeps them).
    mark = step(prod, "Mark what runs now, for the lifecycle policies")
    assert index_of(prod, up) < index_of(prod, recorded) < index_of(prod, mark)
    assert index_of(prod, mark) == len(steps(prod)) - 1
    assert recorded["run"] == (
        'python -m cli.promote prod --record --digests "$ECR_FARGATE_IMAGE_DIGESTS"'
    )


def test_buildx_pushes_an_index_with_the_ecr_registry_cache() -> None:
    script = runs(workflow("deploy.yml")["jobs"]["images-dev"])
    words = shlex.split(script.split("docker buildx build", 1)[1].split("digest=", 1)[0])
    assert "--push" in words
    assert words[words.index("--cache-from") + 1] == f"type=registry,ref=$uri:{BUILD_CACHE_TAG}"
    cache_to = words[words.index("--cache-to") + 1].split(",")
    assert cache_to[:2] == ["type=registry", f"ref=$uri:{BUILD_CACHE_TAG}"]
    assert set(cache_to[2:]) == {
        "mode=max",
        "image-manifest=true",
        "oci-mediatypes=true",
        "ignore-error=true",  # a refused cache push never fails the build
    }
    # The skip-existing check precedes the build.
    assert script.index("aws ecr describe-images") < script.index("docker buildx build")


def test_test_jobs_cache_pip_downloads_and_mypy() -> None:
    key = "mypy-${{ runner.os }}-${{ steps.python.outputs.python-version }}-${{ hashFiles('requirements.txt', 'requirements-dev.txt') }}"
    for name in ("deploy.yml", "preview.yml"):
        job = workflow(name)["jobs"]["test"]
        (python,) = uses(job, "actions/setup-python@")
        assert python["id"] == "python"
        assert python["with"]["cache"] == "pip"
        assert python["with"]["cache-dependency-path"].split() == [
            "requirements.txt",
            "requirements-dev.txt",
        ]
        (cache,) = uses(job, "actions/cache@")
        assert cache["with"] == {"path": ".mypy_cache", "key": key}
        assert index_of(job, cache) < index_of(job, step_running(job, "make test"))


def step_running(job: dict[str, Any], command: str) -> dict[str, Any]:
    (found,) = [s for s in steps(job) if command in s.get("run", "")]
    return found


def test_jobs_that_push_or_deploy_restore_no_cache() -> None:
    """zizmor's cache-poisoning concern: nothing a cache holds reaches an image or a deploy."""
    for name, job in workflow("deploy.yml")["jobs"].items():
        if name == "test":
            continue
        assert not uses(job, "actions/cache@"), name
        for python in uses(job, "actions/setup-python@"):
            assert "cache" not in python.get("with", {}), name


# --- the scripts, run against stubs -------------------------------------------------------------
STUBS = {
    "aws": r"""
echo "aws $*" >> "$CALLS"
case "$1 $2" in
  "ecr describe-repositories") echo "$HOST/$4" ;;
  "ecr get-login-password") echo token ;;
  "ecr describe-images")
    tag=${6#imageTag=}
    if grep -qx "$tag" "$EXISTING"; then echo "$INDEX"
    elif [ -n "${DENY:-}" ]; then echo "AccessDeniedException" >&2; exit 254
    else echo "An error occurred (ImageNotFoundException) when calling DescribeImages" >&2; exit 254
    fi ;;
  *) exit 99 ;;
esac
""",
    "docker": r"""
printf 'docker' >> "$CALLS"; printf ' [%s]' "$@" >> "$CALLS"; echo >> "$CALLS"
case "$1 $2" in
  "login --username") cat > /dev/null ;;
  "buildx build")
    while [ $# -gt 0 ]; do
      if [ "$1" = --metadata-file ]; then
        [ -n "${NO_DIGEST:-}" ] && echo '{}' > "$2" || echo '{"containerimage.digest": "'"$BUILT"'"}' > "$2"
      fi
      shift
    done ;;
  "buildx imagetools")
    echo '{"manifests": [{"digest": "'"$AMD64"'", "platform": {"os": "linux", "architecture": "amd64"}},
      {"digest": "'"$ARM64"'", "platform": {"os": "linux", "architecture": "arm64"}},
      {"digest": "'"$ATTESTATION"'", "platform": {"os": "unknown", "architecture": "unknown"}}]}' ;;
  *) exit 99 ;;
esac
""",
    "python": r"""
echo "python $* (in $PWD)" >> "$CALLS"
case "$2" in
  cli.images)
    if [ "$PWD" = "$RUNNER_TEMP/base" ]; then cat "$BASE_PLANS/$3.json"; else cat "$PLANS/$3.json"; fi ;;
  cli.promote) cat "$PROMOTED" ;;
  cli.scan)
    cat > /dev/null  # reads its stdin to the end: the loop must not feed it the next rows
    case " $* " in *" $BLOCKED "*) exit 1 ;; esac ;;
  *) exit 99 ;;
esac
""",
    "git": r"""
echo "git $*" >> "$CALLS"
[ "$1 $2" = "worktree add" ] && mkdir -p "$4"
""",
}


class Sandbox:
    """A temp dir with stub commands first on PATH, and the files a run step reads and writes."""

    def __init__(self, root: Path, existing: list[str], **env: str) -> None:
        self.root = root
        bin_dir = root / "bin"
        bin_dir.mkdir()
        for name, body in STUBS.items():
            (bin_dir / name).write_text("#!/usr/bin/env bash\nset -eu\n" + body)
            (bin_dir / name).chmod(0o755)
        for sub in ("plans", "base-plans", "tmp"):
            (root / sub).mkdir()
        for stack in ("dev", "prod"):
            (root / "plans" / f"{stack}.json").write_text(json.dumps(plan(stack)))
        (root / "existing").write_text("".join(f"{t}\n" for t in existing))
        self.env = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "CALLS": str(root / "calls"),
            "EXISTING": str(root / "existing"),
            "PLANS": str(root / "plans"),
            "BASE_PLANS": str(root / "base-plans"),
            "RUNNER_TEMP": str(root / "tmp"),
            "GITHUB_OUTPUT": str(root / "output"),
            "GITHUB_STEP_SUMMARY": str(root / "summary.md"),
            "AWS_REGION": "us-east-1",
            "HOST": HOST,
            "INDEX": INDEX,
            "BUILT": BUILT,
            "AMD64": AMD64,
            "ARM64": ARM64,
            "ATTESTATION": ATTESTATION,
            "BLOCKED": "none",
            **env,
        }

    def run(self, script: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", script],
            cwd=self.root,
            env={**self.env, **env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def calls(self) -> list[str]:
        path = self.root / "calls"
        return path.read_text().splitlines() if path.exists() else []

    def outputs(self) -> dict[str, Any]:
        lines = (self.root / "output").read_text().splitlines()
        return {k: json.loads(v) for k, v in (line.split("=", 1) for line in lines)}


def image_step(name_start: str, stack: str = "dev") -> str:
    return str(step(workflow("deploy.yml")["jobs"][f"images-{stack}"], name_start)["run"])


def test_an_existing_tag_is_reused_and_a_missing_one_built_and_pushed(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, existing=["dev-api111"], STACK="dev")
    result = box.run(image_step("Each service's index"))
    assert result.returncode == 0, result.stderr
    assert box.outputs() == {
        "digests": {"api": INDEX, "worker": BUILT},
        "services": ["api", "worker"],
    }
    calls = box.calls()
    assert sum(c.startswith("docker [login]") for c in calls) == 1  # one token per registry
    (build,) = [c for c in calls if c.startswith("docker [buildx] [build]")]
    args = build.removeprefix("docker ").strip("[]").split("] [")
    uri = f"{HOST}/dev/worker"
    assert args[args.index("--platform") + 1] == "linux/amd64,linux/arm64"
    assert args[args.index("--tag") + 1] == f"{uri}:dev-wrk222"
    assert args[args.index("--cache-from") + 1] == f"type=registry,ref={uri}:{BUILD_CACHE_TAG}"
    assert args[args.index("--cache-to") + 1] == (
        f"type=registry,ref={uri}:{BUILD_CACHE_TAG},mode=max,image-manifest=true,"
        "oci-mediatypes=true,ignore-error=true"
    )
    assert args[args.index("--target") + 1] == "worker"
    assert args[args.index("--build-arg") + 1] == "MODE=a b"
    assert "--push" in args and args[-1] == "app"
    # The worker's tag was looked up before its build; the api was never built.
    lookup = calls.index(next(c for c in calls if "imageTag=dev-wrk222" in c))
    assert lookup < calls.index(build)
    rows = (tmp_path / "tmp" / "images.tsv").read_text().splitlines()
    assert [r.split("\t") for r in rows] == [
        ["api", "dev/api", f"{HOST}/dev/api", INDEX],
        ["worker", "dev/worker", uri, BUILT],
    ]


def test_nothing_is_built_when_every_tag_exists(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, existing=["dev-api111", "dev-wrk222"], STACK="dev")
    assert box.run(image_step("Each service's index", "dev")).returncode == 0
    assert not [c for c in box.calls() if "[buildx]" in c]
    assert box.outputs()["digests"] == {"api": INDEX, "worker": INDEX}


def test_a_lookup_error_other_than_not_found_fails_without_building(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, existing=[], STACK="dev", DENY="1")
    result = box.run(image_step("Each service's index"))
    assert result.returncode != 0 and "AccessDenied" in result.stderr
    assert not [c for c in box.calls() if "[buildx]" in c]
    assert not (tmp_path / "output").exists()


def test_a_missing_digest_fails_the_job_and_hands_nothing_over(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, existing=["dev-api111"], STACK="dev", NO_DIGEST="1")
    assert box.run(image_step("Each service's index")).returncode != 0
    assert not (tmp_path / "output").exists()


def test_the_scan_gate_scans_each_platform_image_and_fails_on_a_blocked_one(
    tmp_path: Path,
) -> None:
    box = Sandbox(tmp_path, existing=[], STACK="dev")
    (tmp_path / "tmp" / "images.tsv").write_text(
        f"api\tdev/api\t{HOST}/dev/api\t{INDEX}\nworker\tdev/worker\t{HOST}/dev/worker\t{BUILT}\n"
    )
    script = image_step("Scan gate")
    assert box.run(script).returncode == 0
    scans = [c for c in box.calls() if "cli.scan" in c]
    assert len(scans) == 4  # two services x two platforms; the attestation is not an image
    summary = str(tmp_path / "summary.md")
    for repository in ("dev/api", "dev/worker"):
        for digest in (AMD64, ARM64):
            expected = (
                f"python -m cli.scan --repository {repository} --digest {digest} "
                f"--region us-east-1 --environment dev --markdown {summary} "
            )
            assert any(c.startswith(expected) for c in scans), expected
    assert ATTESTATION not in "".join(scans)
    # One blocked image fails the step, after every image was scanned.
    (tmp_path / "calls").unlink()
    assert box.run(script, BLOCKED=ARM64).returncode == 1
    assert len([c for c in box.calls() if "cli.scan" in c]) == 4


def promoted(api: str = INDEX) -> list[dict[str, Any]]:
    """What `python -m cli.promote prod` prints: per service, prod's repository, the digest and
    the platform manifests (attestations left out by cli.promote itself)."""
    return [
        {"service": "api", "source": "api", "repository": "prod/api", "digest": api,
         "platforms": [AMD64, ARM64]},
        {"service": "worker", "source": "worker", "repository": "prod/worker", "digest": BUILT,
         "platforms": [AMD64]},
        # prod's nightly job runs the index dev runs as its api (same build inputs).
        {"service": "report", "source": "api", "repository": "prod/report", "digest": INDEX,
         "platforms": [AMD64]},
    ]  # fmt: skip


def promote_step(name_start: str) -> str:
    return str(step(workflow("deploy.yml")["jobs"]["promote-prod"], name_start)["run"])


def test_the_promotion_hands_over_dev_s_digests_and_scans_prod_s_copies(tmp_path: Path) -> None:
    (tmp_path / "promoted.json").write_text(json.dumps(promoted()))
    box = Sandbox(tmp_path, existing=[], STACK="prod", PROMOTED=str(tmp_path / "promoted.json"))
    dev = json.dumps({"api": INDEX, "worker": BUILT})
    result = box.run(promote_step("Dev's image indexes"), DEV_DIGESTS=dev)
    assert result.returncode == 0, result.stderr
    assert box.outputs() == {
        "digests": {"api": INDEX, "worker": BUILT, "report": INDEX},
        "services": ["api", "worker", "report"],
    }
    (call,) = [c for c in box.calls() if "cli.promote" in c]
    assert call.startswith(f"python -m cli.promote prod --digests {dev} ")
    assert not [c for c in box.calls() if c.startswith("docker")]
    assert box.run(promote_step("Scan gate")).returncode == 0
    scans = [c for c in box.calls() if "cli.scan" in c]
    summary = str(tmp_path / "summary.md")
    assert [c.split(" (in ")[0] for c in scans] == [
        f"python -m cli.scan --repository {repository} --digest {digest} --region us-east-1 "
        f"--environment prod --markdown {summary}"
        for repository, digest in (
            ("prod/api", AMD64),
            ("prod/api", ARM64),
            ("prod/worker", AMD64),
            ("prod/report", AMD64),
        )
    ]
    assert box.run(promote_step("Scan gate"), BLOCKED=ARM64).returncode == 1


def test_a_promotion_that_changed_a_digest_hands_nothing_over(tmp_path: Path) -> None:
    (tmp_path / "promoted.json").write_text(json.dumps(promoted(api="sha256:" + "f" * 64)))
    box = Sandbox(tmp_path, existing=[], STACK="prod", PROMOTED=str(tmp_path / "promoted.json"))
    result = box.run(
        promote_step("Dev's image indexes"), DEV_DIGESTS=json.dumps({"api": INDEX, "worker": BUILT})
    )
    assert result.returncode != 0
    assert not (tmp_path / "output").exists()


@pytest.mark.parametrize(
    ("digests", "ok"),
    [
        ({"api": INDEX, "worker": BUILT}, True),
        ({"api": INDEX}, False),  # a service missing
        ({"api": INDEX, "worker": "sha256:short"}, False),
        ({}, False),
    ],
)
def test_the_deploy_job_refuses_a_partial_hand_over(
    tmp_path: Path, digests: dict[str, str], ok: bool
) -> None:
    box = Sandbox(tmp_path, existing=[])
    for stack, source in (("dev", "images-dev"), ("prod", "promote-prod")):
        gate = step(workflow("deploy.yml")["jobs"][stack], "Every built service has")
        assert gate["env"] == {"SERVICES": f"${{{{ needs.{source}.outputs.services }}}}"}
        result = box.run(
            gate["run"],
            SERVICES='["api","worker"]',
            ECR_FARGATE_IMAGE_DIGESTS=json.dumps(digests),
        )
        assert (result.returncode == 0) == ok, (stack, digests)
    assert box.run(gate["run"], SERVICES="[]", ECR_FARGATE_IMAGE_DIGESTS="").returncode != 0


def test_a_pull_request_builds_only_what_changed_against_its_base(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, existing=[])
    # Base: dev's api and prod's whole plan unchanged; dev's worker had another tag.
    base_dev = [e if e["service"] == "api" else {**e, "tag": "dev-old"} for e in plan("dev")]
    (tmp_path / "base-plans" / "dev.json").write_text(json.dumps(base_dev))
    (tmp_path / "base-plans" / "prod.json").write_text(json.dumps(plan("prod")))
    job = workflow("images.yml")["jobs"]["build"]
    changed = box.run(step(job, "Services whose content tag changed")["run"])
    assert changed.returncode == 0, changed.stderr
    found = json.loads((tmp_path / "tmp" / "changed.json").read_text())
    assert [(e["service"], e["tag"]) for e in found] == [("worker", "dev-wrk222")]
    build = box.run(step(job, "Build each changed service")["run"])
    assert build.returncode == 0, build.stderr
    (call,) = [c for c in box.calls() if "[buildx]" in c]
    assert "[--platform] [linux/amd64,linux/arm64]" in call and "[--target] [worker]" in call
    assert "--push" not in call and "--cache-to" not in call


def test_a_base_without_a_plan_rebuilds_everything_once(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, existing=[])  # no base plans: the base's cli.images fails
    job = workflow("images.yml")["jobs"]["build"]
    assert box.run(step(job, "Services whose content tag changed")["run"]).returncode == 0
    found = json.loads((tmp_path / "tmp" / "changed.json").read_text())
    # dev and prod have the same build inputs per service: each is built once.
    assert sorted(e["service"] for e in found) == ["api", "worker"]


def test_every_script_is_valid_bash() -> None:
    for path in WORKFLOWS:
        for job in load(path)["jobs"].values():
            for s in steps(job):
                if "run" in s:
                    result = subprocess.run(
                        ["bash", "-n", "-c", s["run"]], capture_output=True, text=True, check=False
                    )
                    assert result.returncode == 0, (path.name, s.get("name"), result.stderr)
