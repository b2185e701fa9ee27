"""The live preview command against a moto-backed ECR repository."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cli.lifecycle import cli

KEEP_2 = {
    "rules": [
        {
            "rulePriority": 1,
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 2},
            "action": {"type": "expire"},
        }
    ]
}


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def manifest(n: int) -> str:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "digest": f"sha256:{n:064x}",
                "size": n,
                "mediaType": "application/vnd.docker.container.image.v1+json",
            },
            "layers": [],
        }
    )


@pytest.fixture
def ecr() -> Any:
    with mock_aws():
        client = boto3.client("ecr", region_name="us-east-1")
        client.create_repository(repositoryName="dev/api")
        for n, tag in enumerate(["dev-old", "dev-mid", "dev-new"]):
            # moto derives one digest for any manifest; give each image its own, as ECR would.
            digest = "sha256:" + hashlib.sha256(manifest(n).encode()).hexdigest()
            client.put_image(
                repositoryName="dev/api",
                imageManifest=manifest(n),
                imageTag=tag,
                imageDigest=digest,
            )
        yield client


def digest_of(client: Any, tag: str) -> str:
    detail = client.describe_images(repositoryName="dev/api", imageIds=[{"imageTag": tag}])[
        "imageDetails"
    ][0]
    return detail["imageDigest"]


def run(
    client: Any, tmp_path: Any, *extra: str, stdin: io.StringIO | None = None
) -> tuple[int, str, str]:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(KEEP_2))
    out, err = io.StringIO(), io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(
            ["preview", "--repository", "dev/api", "--policy", str(policy), *extra],
            stdin=stdin or Tty(),
            client=client,
        )
    return code, out.getvalue(), err.getvalue()


def test_table_marks_the_expired_image(ecr: Any, tmp_path: Any) -> None:
    code, out, _ = run(ecr, tmp_path)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["DIGEST", "TAGS", "PUSHED", "RULE", "ACTION"]
    rows = {line.split()[1]: line.split() for line in lines[1:]}
    assert set(rows) == {"dev-old", "dev-mid", "dev-new"}
    expired = [tag for tag, row in rows.items() if "EXPIRE" in row]
    assert len(expired) == 1
    assert all("keep" in rows[t] for t in rows if t not in expired)


def test_json_output_is_the_results_list(ecr: Any, tmp_path: Any) -> None:
    code, out, _ = run(ecr, tmp_path, "--json")
    results = json.loads(out)
    assert code == 0
    assert len(results) == 1
    assert results[0]["action"] == {"type": "EXPIRE"}
    assert results[0]["appliedRulePriority"] == 1


def test_deployed_image_that_would_expire_fails(ecr: Any, tmp_path: Any) -> None:
    code, out, _ = run(ecr, tmp_path, "--json")
    doomed = json.loads(out)[0]["imageDigest"]
    code, out, err = run(ecr, tmp_path, "--deployed", doomed)
    assert code == 1
    assert f"the deployed image {doomed} would be expired" in err
    assert "DEPLOYED" in out


def test_deployed_digest_read_from_stack_outputs_on_stdin(ecr: Any, tmp_path: Any) -> None:
    code, out, _ = run(ecr, tmp_path, "--json")
    doomed = json.loads(out)[0]["imageDigest"]
    outputs = {
        "containerImageDigests": {
            "api": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/dev/api@{doomed}"
        }
    }
    code, _, _ = run(ecr, tmp_path, stdin=io.StringIO(json.dumps(outputs)))
    assert code == 1
    safe = {"containerImageDigest": f"x/dev/api@{digest_of(ecr, 'dev-new')}"}
    code, _, _ = run(ecr, tmp_path, stdin=io.StringIO(json.dumps(safe)))
    assert code == 0


def test_missing_repository_is_one_line(tmp_path: Any) -> None:
    with mock_aws():
        client = boto3.client("ecr", region_name="us-east-1")
        code, _, err = run(client, tmp_path)
    assert code == 2
    assert err.strip().splitlines() == [
        "error: repository 'dev/api' does not exist in this account and region"
    ]
    assert "Traceback" not in err


def test_stack_policy_is_the_rendered_one(ecr: Any) -> None:
    out, err = io.StringIO(), io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(
            ["preview", "--repository", "dev/api", "--stack", "dev", "--json"],
            stdin=Tty(),
            client=ecr,
        )
    assert code == 0, err.getvalue()
    assert json.loads(out.getvalue()) == []  # three dev- images: all kept by the protection rule


class Bytes(io.TextIOWrapper):
    """Piped stdin whose bytes are not UTF-8."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data), encoding="utf-8")

    def isatty(self) -> bool:
        return False


def run_cli(args: list[str], stdin: Any) -> tuple[int, str]:
    err = io.StringIO()
    import contextlib

    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(["preview", "--repository", "dev/api", *args], stdin=stdin, client=object())
    return code, err.getvalue()


@pytest.mark.parametrize(
    ("args", "stdin", "fragment"),
    [
        (
            ["--policy", "/no/such/policy.json"],
            Tty(),
            "--policy /no/such/policy.json: No such file",
        ),
        (["--stack", "qa"], Tty(), "--stack qa: Pulumi.qa.yaml: no such stack file"),
        (["--stack", "../x"], Tty(), "stack name '../x' is not allowed"),
        (["--stack", "dev"], io.StringIO("[1, 2]"), "stdin is not `pulumi stack output --json`"),
        (["--stack", "dev"], io.StringIO("{"), "stdin is not `pulumi stack output --json`"),
        (["--stack", "dev"], Bytes(b"\xff\xfe{"), "stdin is not `pulumi stack output --json`"),
    ],
)
def test_bad_arguments_and_input_are_one_line_without_traceback(
    args: list[str], stdin: Any, fragment: str
) -> None:
    code, err = run_cli(args, stdin)
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert fragment in err


@pytest.mark.parametrize(
    ("text", "fragment"), [("not json", "not JSON"), ('{"rules": []}', "non-empty list")]
)
def test_a_bad_policy_file_is_refused_before_any_aws_call(
    tmp_path: Any, text: str, fragment: str
) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(text)
    code, err = run_cli(["--policy", str(policy)], Tty())  # `client=object()` has no API at all
    assert code == 2 and fragment in err and len(err.splitlines()) == 1
