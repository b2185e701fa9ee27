"""`python -m plan STACK --against REF`: the diff on hand-made renders, and end to end in a git
repository whose fixture prod stack renames `worker` and gives `api` a secret."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from plan import __main__ as plan_cli
from plan import report
from plan.diff import ABSENT, PropertyChange, Resource, diff, from_dump, summary
from plan.iam import Grant, added_allows, grants

ROOT = Path(__file__).resolve().parent.parent
REPO = "urn:pulumi:prod::ecr-fargate::ecr-fargate:registry:Registry$aws:ecr/repository:Repository::"
ROLE_POLICY = "urn:pulumi:prod::ecr-fargate::aws:iam/rolePolicy:RolePolicy::"
REPO_TYPE = "aws:ecr/repository:Repository"


def repository(name: str, physical: str, *, protect: bool = True, **inputs: Any) -> Resource:
    return Resource(REPO + name, REPO_TYPE, name, {"name": physical, **inputs}, protect)


def policy(name: str, statements: list[dict[str, Any]], aliases: tuple[str, ...] = ()) -> Resource:
    document = {"Version": "2012-10-17", "Statement": statements}
    return Resource.from_dump(
        {
            "urn": ROLE_POLICY + name,
            "type": "aws:iam/rolePolicy:RolePolicy",
            "name": name,
            "inputs": {"role": "api-execution", "policy": json.dumps(document)},
            "aliases": list(aliases),
        }
    )


def test_an_input_change_is_an_update_with_its_property_path() -> None:
    old = repository("registry-api", "prod/api", imageScanningConfiguration={"scanOnPush": False})
    new = repository("registry-api", "prod/api", imageScanningConfiguration={"scanOnPush": True})
    [change] = diff([old], [new])
    assert (change.action, change.markers, change.forcing) == ("update", [], ())
    assert change.properties == (
        PropertyChange("imageScanningConfiguration.scanOnPush", False, True),
    )
    assert summary([change]) == {"add": 0, "change": 1, "replace": 0, "delete": 0, "protected": 0}


def test_an_unchanged_resource_is_not_listed() -> None:
    assert (
        diff([repository("registry-api", "prod/api")], [repository("registry-api", "prod/api")])
        == []
    )


def test_a_physical_name_change_replaces_and_a_protected_one_stops_up() -> None:
    [change] = diff(
        [repository("registry-api", "prod/api")], [repository("registry-api", "prod/web")]
    )
    assert (change.action, change.forcing, change.markers) == (
        "replace",
        ("name",),
        ["REPLACE", "PROTECTED"],
    )
    assert change.properties == (PropertyChange("name", "prod/api", "prod/web"),)


def test_a_task_definition_replaces_on_any_change_but_its_tags() -> None:
    def task(**inputs: Any) -> Resource:
        return Resource("urn:x::td", "aws:ecs/taskDefinition:TaskDefinition", "td", inputs)

    [cpu] = diff([task(cpu="256", tags={"a": "1"})], [task(cpu="512", tags={"a": "1"})])
    [tags] = diff([task(cpu="256", tags={"a": "1"})], [task(cpu="256", tags={"a": "2"})])
    assert (cpu.action, cpu.forcing) == ("replace", ("cpu",))
    assert (tags.action, tags.forcing) == ("update", ())


def test_a_rename_is_one_replacement_and_the_protected_old_repository_stops_up() -> None:
    old = [repository("registry-api", "prod/api"), repository("registry-worker", "prod/worker")]
    new = [repository("registry-api", "prod/api"), repository("registry-jobs", "prod/jobs")]
    [change] = diff(old, new)
    assert change.action == "replace" and change.renamed
    assert change.old is not None and change.old.name == "registry-worker"
    assert change.resource.name == "registry-jobs"
    assert change.markers == ["REPLACE", "PROTECTED"]
    assert summary([change]) == {"add": 0, "change": 0, "replace": 1, "delete": 0, "protected": 1}
    lines = report.change_lines(change)
    assert lines[0] == f"+- {REPO_TYPE}  registry-worker -> registry-jobs  REPLACE  PROTECTED"
    assert (
        f"    `pulumi up` will stop here: unprotect it first with "
        f"`pulumi state unprotect '{REPO}registry-worker'`"
    ) in lines
    assert '    name: "prod/worker" -> "prod/jobs"' in lines


def test_unrelated_names_are_a_deletion_and_an_addition() -> None:
    changes = diff([repository("registry-api", "prod/api")], [repository("cache-zz", "prod/zz")])
    assert [(c.action, c.resource.name, c.markers) for c in changes] == [
        ("add", "cache-zz", []),
        ("delete", "registry-api", ["PROTECTED"]),
    ]
    assert summary(changes) == {"add": 1, "change": 0, "replace": 0, "delete": 1, "protected": 1}


def test_a_resource_that_aliases_the_old_urn_is_moved_not_replaced() -> None:
    statements = [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]
    old = policy("fargate-execution-policy", statements)
    new = policy("api-execution-policy", statements, aliases=(old.urn,))
    assert diff([old], [new]) == []
    moved = policy("api-execution-policy", [{**statements[0], "Sid": "Logs"}], (old.urn,))
    [change] = diff([old], [moved])
    assert (change.action, change.renamed) == ("update", True)
    assert change.properties == (PropertyChange("policy.Statement[0].Sid", ABSENT, "Logs"),)


def test_an_unprotected_deletion_is_not_marked() -> None:
    [change] = diff([repository("registry-api", "prod/api", protect=False)], [])
    assert (change.action, change.markers, change.stops_up) == ("delete", [], False)


def test_iam_growth_lists_single_grants_and_ignores_layout() -> None:
    old = policy(
        "p", [{"Effect": "Allow", "Action": ["ecr:BatchGetImage"], "Resource": ["arn:r1"]}]
    )
    regrouped = policy(
        "p",
        [
            {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "arn:r1"},
            {"Effect": "Deny", "Action": "ecr:*", "Resource": "arn:r2"},
        ],
    )
    grown = policy(
        "p",
        [
            {
                "Effect": "Allow",
                "Action": ["ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
                "Resource": ["arn:r1", "arn:r2"],
            }
        ],
    )
    [quiet] = diff([old], [regrouped])
    assert quiet.iam_added == () and "IAM+" not in quiet.markers
    [change] = diff([old], [grown])
    assert change.markers == ["IAM+"]
    assert [g.describe() for g in change.iam_added] == [
        "Allow ecr:BatchGetImage on arn:r2",
        "Allow ecr:GetDownloadUrlForLayer on arn:r1",
        "Allow ecr:GetDownloadUrlForLayer on arn:r2",
    ]
    assert "    IAM+ Allow ecr:BatchGetImage on arn:r2" in report.change_lines(change)


def test_trust_policy_principals_and_conditions_are_part_of_a_grant() -> None:
    trust = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["scheduler.amazonaws.com", "ecs-tasks.amazonaws.com"]},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
            }
        ]
    }
    condition = '{"StringEquals":{"aws:SourceAccount":"123456789012"}}'
    assert grants(trust) == {
        Grant("Allow", "Service:ecs-tasks.amazonaws.com", "sts:AssumeRole", "", condition),
        Grant("Allow", "Service:scheduler.amazonaws.com", "sts:AssumeRole", "", condition),
    }
    looser = {"Statement": [{**trust["Statement"][0], "Condition": None}]}
    assert [g.describe() for g in added_allows({"assumeRolePolicy": trust}, {"x": looser})] == [
        "Allow sts:AssumeRole for Service:ecs-tasks.amazonaws.com",
        "Allow sts:AssumeRole for Service:scheduler.amazonaws.com",
    ]


def test_a_new_resource_s_policy_is_all_growth() -> None:
    new = policy("p", [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:b/*"}])
    [change] = diff([], [new])
    assert change.action == "add" and change.markers == ["IAM+"]
    assert [g.describe() for g in change.iam_added] == ["Allow s3:GetObject on arn:b/*"]


def test_a_list_that_fills_is_said_by_its_items() -> None:
    def task(secrets: list[dict[str, str]]) -> Resource:
        return Resource("urn:x::c", "t", "c", {"containers": [{"secrets": secrets}]})

    [change] = diff([task([])], [task([{"name": "DB"}])])
    assert change.properties == (PropertyChange("containers[0].secrets[0].name", ABSENT, "DB"),)


def test_components_are_left_out_of_a_dump() -> None:
    items: list[dict[str, Any]] = [
        {"urn": "u1", "type": "ecr-fargate:registry:Registry", "name": "r", "inputs": {}},
        {"urn": "u2", "type": REPO_TYPE, "name": "r", "inputs": {}, "custom": True},
    ]
    items[0]["custom"] = False
    assert [r.urn for r in from_dump(items)] == ["u2"]


def test_long_values_keep_their_start_and_end() -> None:
    value = "arn:aws:iam::123456789012:role/" + "x" * 100 + "/worker-execution"
    short = report.shorten(value)
    assert len(short) == 3 + 2 * 46 and short.startswith('"arn:aws:iam::')
    assert short.endswith('/worker-execution"') and "..." in short
    assert report.shorten(ABSENT) == "(absent)"


def test_the_text_groups_and_counts() -> None:
    changes = diff(
        [repository("registry-a", "prod/a", protect=False), repository("registry-b", "prod/b")],
        [repository("registry-a", "prod/a", protect=False, x=1), repository("zzz-c", "c")],
    )
    assert report.text(changes, ["header"]).splitlines() == [
        "header",
        "",
        "+ added (1)",
        f"+ {REPO_TYPE}  zzz-c",
        '    name: "c"',
        "",
        "- removed (1)",
        f"- {REPO_TYPE}  registry-b  PROTECTED",
        f"    `pulumi up` will stop here: unprotect it first with "
        f"`pulumi state unprotect '{REPO}registry-b'`",
        "",
        "~ changed (+- replaced) (1)",
        f"~ {REPO_TYPE}  registry-a",
        "    x: (absent) -> 1",
        "",
        "1 to add, 1 to change, 0 to replace, 1 to delete, 1 protected",
    ]
    assert report.text([], ["h"]).splitlines()[-3:] == [
        "No changes.",
        "",
        "0 to add, 0 to change, 0 to replace, 0 to delete, 0 protected",
    ]


# End to end: a git repository holding a copy of the project, its fixture prod stack edited.
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=plan", "-c", "user.email=plan@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's files as they are now (committed or not), committed in a new repository."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    repo = tmp_path_factory.mktemp("project")
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    return repo


@pytest.fixture
def edit_prod(project_copy: Path) -> Any:
    """Edit the copy's fixture prod stack for one test, then put it back."""
    path = project_copy / "tests" / "stacks" / "Pulumi.prod.yaml"
    original = path.read_text()

    def edit(old: str, new: str) -> None:
        assert old in original
        path.write_text(original.replace(old, new, 1))

    yield edit
    path.write_text(original)


def plan_against_head(repo: Path, *extra: str) -> list[str]:
    return [
        "prod",
        "--against",
        "HEAD",
        "--project-dir",
        str(repo),
        "--stack-dir",
        str(repo / "tests" / "stacks"),
        *extra,
    ]


def test_renaming_worker_in_prod_stops_at_the_protected_repository(
    project_copy: Path, edit_prod: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_prod("    - name: worker\n", "    - name: jobs\n")
    args = plan_against_head(project_copy, "--json", "--fail-on", "protected")
    assert plan_cli.main(args) == 3
    captured = capsys.readouterr()
    assert captured.err == "error: the plan has protected changes (--fail-on)\n"
    doc = json.loads(captured.out)
    repos = [c for c in doc["changes"] if c["type"] == REPO_TYPE]
    assert [(c["name"], c["action"], c["markers"]) for c in repos] == [
        ("registry-jobs", "replace", ["REPLACE", "PROTECTED"])
    ]
    assert repos[0]["oldUrn"] == f"{REPO}registry-worker"
    assert repos[0]["replacedBecause"] == ["name", "renamed"]
    assert {"path": "name", "old": "prod/worker", "new": "prod/jobs"} in repos[0]["properties"]
    assert doc["summary"]["add"] == doc["summary"]["delete"] == 0
    assert doc["summary"]["protected"] == 2  # the repository and its lifecycle policy
    services = [c for c in doc["changes"] if c["type"] == "aws:ecs/service:Service"]
    assert [(c["name"], c["action"]) for c in services] == [("jobs-service", "replace")]


def test_a_secret_reference_shows_the_execution_role_s_new_grant(
    project_copy: Path, edit_prod: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_prod(
        "          LOG_LEVEL: warning\n",
        f'          LOG_LEVEL: warning\n          DB_PASSWORD: {{secretArn: "{SECRET_ARN}"}}\n',
    )
    assert plan_cli.main(plan_against_head(project_copy)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Plan of prod: the working tree against HEAD (")
    assert "~ aws:iam/rolePolicy:RolePolicy  api-execution-policy  IAM+" in out
    assert [line for line in out if "IAM+ Allow" in line] == [
        f"    IAM+ Allow secretsmanager:GetSecretValue on {SECRET_ARN}"
    ]
    assert "+- aws:ecs/taskDefinition:TaskDefinition  api-task-definition  REPLACE" in out
    assert f'    containerDefinitions[0].secrets[0].valueFrom: (absent) -> "{SECRET_ARN}"' in out
    assert out[-1] == "0 to add, 1 to change, 1 to replace, 0 to delete, 0 protected"


def test_an_unknown_ref_is_one_line(project_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_cli.main(["prod", "--against", "nosuch", "--project-dir", str(project_copy)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: --against 'nosuch': no such commit in {project_copy.resolve()}\n"


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("--upload-pack=x", "error: --against '--upload-pack=x': not a git ref\n"),
        ("HEAD", "error: git rev-parse: fatal: not a git repository"),
    ],
)
def test_a_ref_outside_git_or_shaped_like_an_option_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ref: str, expected: str
) -> None:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(ROOT / "tests" / "stacks" / "Pulumi.prod.yaml", tmp_path / "Pulumi.prod.yaml")
    args = ["prod", f"--against={ref}", "--project-dir", str(tmp_path)]
    assert plan_cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(expected) and err.count("\n") == 1
