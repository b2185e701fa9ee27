"""`python -m cli.bootstrap`: CI's CloudFormation template (one per stack), and its command line."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint

import permissions as policies
import settings
from cli import bootstrap
from permissions import StateBackend
from plan.engine import ACCOUNT_ID
from settings.source import PROJECT_DIR, from_files
from tests.conftest import GIT_ENV, STACKS, render_stack

PROVIDER = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/token.actions.githubusercontent.com"
SUB = "token.actions.githubusercontent.com:sub"


def load(*stacks: str, stack_dir: Path = STACKS) -> list[settings.Settings]:
    return bootstrap.load_stacks(stacks, stack_dir)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    """dev and prod in one template: still supported; the owner among them makes the provider."""
    return json.loads(bootstrap.render(load("dev", "prod")))


@pytest.fixture(scope="module")
def own() -> dict[str, dict[str, Any]]:
    """Each stack's own template, as docs/bootstrap.md deploys them (one CloudFormation stack each)."""
    return {stack: json.loads(bootstrap.render(load(stack))) for stack in ("dev", "prod")}


def stack_files(directory: Path) -> list[str]:
    return sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for p in directory.glob("Pulumi.*.yaml")
    )


def resolved(value: Any) -> Any:
    """The template as CloudFormation resolves it in account ACCOUNT_ID."""
    if isinstance(value, dict):
        if set(value) == {"Fn::Sub"}:
            return value["Fn::Sub"].replace(bootstrap.ACCOUNT, ACCOUNT_ID)
        return {k: resolved(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolved(v) for v in value]
    return value


def of_type(template: dict[str, Any], type_: str) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == type_}


def test_one_provider_for_all_stacks_and_roles_under_the_ci_path(template: dict[str, Any]) -> None:
    (provider,) = of_type(template, "AWS::IAM::OIDCProvider").values()
    assert provider["Properties"] == {
        "ClientIdList": ["sts.amazonaws.com"],
        "Url": "https://token.actions.githubusercontent.com",
    }
    roles = resolved(of_type(template, "AWS::IAM::Role"))
    # No prod preview role: no workflow assumes one (pull requests plan prod offline).
    assert sorted(roles) == ["DevDeployRole", "DevPreviewRole", "ProdDeployRole"]
    assert sorted(k for k in template["Outputs"] if k.endswith("RoleArn")) == [
        "DevDeployRoleArn",
        "DevPreviewRoleArn",
        "ProdDeployRoleArn",
    ]
    for stack in ("dev", "prod"):
        cap = stack.capitalize()
        deploy = roles[f"{cap}DeployRole"]
        # The names the stacks' outputs and the workflows expect (literals, see test_oidc.py).
        assert deploy["Properties"]["RoleName"] == f"ecr-fargate-{stack}-deploy"
        ci_roles = [deploy]
        if stack == "dev":
            ci_roles.append(roles["DevPreviewRole"])
            assert roles["DevPreviewRole"]["Properties"]["RoleName"] == "ecr-fargate-dev-preview"
        for role in ci_roles:
            assert role["Properties"]["Path"] == f"/ecr-fargate-ci/{stack}/"
            assert role["DependsOn"] == [bootstrap.PROVIDER_ID]
            (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            assert trust["Principal"] == {"Federated": PROVIDER}
            assert trust["Condition"]["StringEquals"][
                "token.actions.githubusercontent.com:aud"
            ] == ("sts.amazonaws.com")
    subjects = {
        name: role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"][
            "StringEquals"
        ][SUB]
        for name, role in roles.items()
    }
    assert subjects == {
        "DevDeployRole": ["repo:fixture-org/fixture-repo:ref:refs/heads/main"],
        "DevPreviewRole": ["repo:fixture-org/fixture-repo:pull_request"],
        "ProdDeployRole": ["repo:fixture-org/fixture-repo:environment:production"],
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_boundary_is_where_the_stack_roles_point(
    own: dict[str, dict[str, Any]], stack: str
) -> None:
    template = own[stack]
    boundary = resolved(template["Resources"][f"{stack.capitalize()}Boundary"])
    props = boundary["Properties"]
    arn = f"arn:aws:iam::{ACCOUNT_ID}:policy{props['Path']}{props['ManagedPolicyName']}"
    bootstrapped = {"permissionsBoundary": "bootstrap"}
    rendered = render_stack(stack, env=GIT_ENV, overrides=bootstrapped)
    stack_roles = rendered.of_type("aws:iam/role:Role")
    assert stack_roles and {r.inputs["permissionsBoundary"] for r in stack_roles} == {arn}
    assert rendered.of_type("aws:iam/policy:Policy") == []
    (s,) = load(stack)
    assert props["PolicyDocument"] == policies.boundary_policy(s, ACCOUNT_ID)
    # Before the bootstrap (`stack`), the stack's own copy: the same document under another name
    # (policy names are unique per account), so the template can be deployed beside it.
    (own_copy,) = render_stack(
        stack, env=GIT_ENV, overrides={"permissionsBoundary": "stack"}
    ).of_type("aws:iam/policy:Policy")
    assert json.loads(own_copy.inputs["policy"]) == props["PolicyDocument"]
    assert own_copy.inputs["name"] != props["ManagedPolicyName"]
    # The CI roles themselves carry none: they are created by an administrator, not the stack.
    role = template["Resources"][f"{stack.capitalize()}DeployRole"]["Properties"]
    assert "PermissionsBoundary" not in role


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_deploy_policy_is_split_under_the_iam_quota(
    own: dict[str, dict[str, Any]], stack: str
) -> None:
    (s,) = load(stack)
    cap = stack.capitalize()
    resources = resolved(own[stack]["Resources"])
    attached = [
        ref["Ref"] for ref in resources[f"{cap}DeployRole"]["Properties"]["ManagedPolicyArns"]
    ]
    assert 1 <= len(attached) <= bootstrap.MANAGED_POLICIES_PER_ROLE
    statements = []
    for index, policy_id in enumerate(attached, start=1):
        props = resources[policy_id]["Properties"]
        assert props["ManagedPolicyName"] == f"ecr-fargate-{stack}-deploy-{index}"
        assert props["Path"] == f"/ecr-fargate-ci/{stack}/"
        assert bootstrap.size(props["PolicyDocument"]) <= bootstrap.MANAGED_POLICY_CHARS
        statements += props["PolicyDocument"]["Statement"]
    assert statements == policies.deploy_policy(s, ACCOUNT_ID)["Statement"]
    if stack == "prod":
        assert f"{cap}PreviewRole" not in resources
        return
    preview = resources[f"{cap}PreviewRole"]["Properties"]["Policies"]
    assert preview == [
        {"PolicyName": "preview", "PolicyDocument": policies.preview_policy(s, ACCOUNT_ID)}
    ]
    assert bootstrap.size(preview[0]["PolicyDocument"]) <= bootstrap.INLINE_POLICY_CHARS


def test_pack_keeps_order_and_limits() -> None:
    statements = [policies.statement(f"S{i}", ["ecr:PutImage"], "*") for i in range(40)]
    one = bootstrap.size(policies.document(statements[:1]))
    chunks = bootstrap.pack(statements, one * 10)
    assert [st for chunk in chunks for st in chunk] == statements
    assert len(chunks) > 1
    assert all(bootstrap.size(policies.document(c)) <= one * 10 for c in chunks)
    # Greedy: no chunk could have taken the next statement.
    for chunk, after in itertools.pairwise(chunks):
        assert bootstrap.size(policies.document([*chunk, after[0]])) > one * 10


def test_the_account_is_substituted_and_nothing_else(template: dict[str, Any]) -> None:
    def strings(value: Any, inside_sub: bool = False) -> list[tuple[str, bool]]:
        if isinstance(value, dict):
            if set(value) == {"Fn::Sub"}:
                return [(value["Fn::Sub"], True)]
            return [s for v in value.values() for s in strings(v)]
        if isinstance(value, list):
            return [s for v in value for s in strings(v)]
        return [(value, False)] if isinstance(value, str) else []

    found = strings(template)
    assert any(sub for _, sub in found)
    for text, sub in found:
        assert sub == (bootstrap.ACCOUNT in text), text
        assert "${" not in text.replace(bootstrap.ACCOUNT, ""), text
        assert ACCOUNT_ID not in text


@pytest.mark.parametrize("stacks", [("dev", "prod"), ("dev",), ("prod",)])
def test_cfn_lint_finds_nothing(stacks: tuple[str, ...]) -> None:
    assert lint(bootstrap.render(load(*stacks))) == []


def test_cfn_lint_would_find_a_mistake() -> None:
    text = bootstrap.render(load("dev", "prod"))
    broken = json.loads(text)
    broken["Resources"]["DevDeployRole"]["Properties"]["RoleNam"] = "typo"
    assert lint(json.dumps(broken)) != []


def test_the_template_is_deterministic() -> None:
    text = bootstrap.render(load("prod", "dev", "dev"))
    assert text == bootstrap.render(load("dev", "prod"))
    assert text == json.dumps(json.loads(text), separators=(",", ":"), sort_keys=True) + "\n"
    assert bootstrap.render(load("dev")) == bootstrap.render(load("dev", "dev"))


@pytest.mark.parametrize(
    ("stack_dir", "stack"),
    [(d, s) for d in (STACKS, PROJECT_DIR) for s in stack_files(d)],
)
def test_each_stacks_own_template_fits_a_direct_deploy(stack_dir: Path, stack: str) -> None:
    """`aws cloudformation deploy` takes up to 51,200 bytes of template without --s3-bucket;
    dev and prod together no longer fit, which is why docs/bootstrap.md deploys one per stack."""
    assert bootstrap.DIRECT_DEPLOY_BYTES == 51_200
    for state in (None, policies.StateBackend("bucket", "prefix/")):
        text = bootstrap.render(load(stack, stack_dir=stack_dir), state)
        assert len(text.encode()) <= bootstrap.DIRECT_DEPLOY_BYTES, (stack, state)


def test_the_owner_creates_the_provider_and_the_other_stack_trusts_it(
    own: dict[str, dict[str, Any]],
) -> None:
    """prod is dev's accountOwner: prod's template creates the provider, dev's references the
    same ARN and does not wait for a resource it does not hold, so deleting dev's CI stack
    leaves the provider prod owns."""
    prod, dev = own["prod"], own["dev"]
    assert list(of_type(prod, "AWS::IAM::OIDCProvider")) == [bootstrap.PROVIDER_ID]
    assert of_type(dev, "AWS::IAM::OIDCProvider") == {}
    trusted = set()
    for template, depends in ((prod, [bootstrap.PROVIDER_ID]), (dev, None)):
        for role in resolved(of_type(template, "AWS::IAM::Role")).values():
            assert role.get("DependsOn") == depends
            (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            trusted.add(trust["Principal"]["Federated"])
        assert resolved(template["Outputs"]["GithubOidcProviderArn"]) == {"Value": PROVIDER}
    assert trusted == {PROVIDER}
    assert "ecr-fargate-ci-prod" in dev["Description"]
    assert "accountOwner" in dev["Description"]
    assert "deploy that first" not in prod["Description"]


def physical_names(template: dict[str, Any]) -> list[tuple[str, str]]:
    """What IAM and KMS know a template's resources by: two stacks may not create the same."""
    keys = {
        "AWS::IAM::Role": "RoleName",
        "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
        "AWS::IAM::OIDCProvider": "Url",
        "AWS::KMS::Alias": "AliasName",
    }
    found = []
    for resource in template["Resources"].values():
        if resource["Type"] in keys:
            found.append((resource["Type"], resource["Properties"][keys[resource["Type"]]]))
        else:
            assert resource["Type"] == "AWS::KMS::Key", resource["Type"]  # no physical name
    return found


@pytest.mark.parametrize("state", [None, policies.StateBackend("bucket", "")])
def test_the_per_stack_templates_create_nothing_twice(state: policies.StateBackend | None) -> None:
    names = [
        name
        for stack in ("prod", "dev")
        for name in physical_names(json.loads(bootstrap.render(load(stack), state)))
    ]
    assert len(names) == len(set(names)), sorted(names)
    combined = physical_names(json.loads(bootstrap.render(load("dev", "prod"), state)))
    assert sorted(names) == sorted(combined)  # split, nothing lost or added


def stack_file(directory: Path, stack: str, config: dict[str, Any]) -> Path:
    path = directory / f"Pulumi.{stack}.yaml"
    path.write_text(json.dumps({"config": config}))
    return path


GITHUB = {"repository": "octo/app", "oidcProviderArn": PROVIDER}


def test_a_given_provider_is_referenced_and_stacks_must_agree(tmp_path: Path) -> None:
    base = {"aws:region": "us-east-1", "ecr-fargate:services": [{"name": "api"}]}
    stack_file(tmp_path, "a", {**base, "ecr-fargate:github": GITHUB})
    stack_file(tmp_path, "b", {**base, "ecr-fargate:github": GITHUB})
    stack_file(tmp_path, "c", {**base, "ecr-fargate:github": {"repository": "octo/app"}})
    template = bootstrap.template(load("a", "b", stack_dir=tmp_path))
    assert of_type(template, "AWS::IAM::OIDCProvider") == {}
    role = template["Resources"]["ADeployRole"]
    assert "DependsOn" not in role
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Federated": PROVIDER
    }
    assert template["Outputs"]["GithubOidcProviderArn"] == {"Value": PROVIDER}
    with pytest.raises(bootstrap.BootstrapError, match="must agree") as exc:
        bootstrap.template(load("a", "c", stack_dir=tmp_path))
    assert "\n" not in str(exc.value)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.bootstrap", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_command_prints_the_template(stack: str) -> None:
    done = run(stack, "--stack-dir", str(STACKS))
    assert done.returncode == 0, done.stderr
    assert done.stdout == bootstrap.render(load(stack))
    assert done.stderr == ""


def test_a_template_over_the_direct_deploy_limit_is_printed_with_a_warning() -> None:
    state = ("--state-bucket", "fixture-state")
    done = run("dev", "prod", "--stack-dir", str(STACKS), *state)
    assert done.returncode == 0, done.stderr
    assert done.stdout == bootstrap.render(load("dev", "prod"), StateBackend("fixture-state"))
    size = len(done.stdout.encode())
    # dev and prod together with their state keys: why the split
    assert size > bootstrap.DIRECT_DEPLOY_BYTES
    (line,) = done.stderr.splitlines()
    assert f"{size:,} bytes" in line
    assert "51,200" in line
    assert "one stack per template" in line
    assert "--s3-bucket" in line


def test_a_runner_renders_the_template_of_a_stack_not_yet_on_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The dev fixture creates its own boundary (`permissionsBoundary: stack`), which a CI deploy
    refuses; the bootstrap is the step before the switch, so it renders wherever it runs."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert bootstrap.main(["dev", "--stack-dir", str(STACKS)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["Resources"]["DevBoundary"]["Type"] == "AWS::IAM::ManagedPolicy"
    assert err == ""


def test_the_warning_starts_just_past_the_limit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    size = len(bootstrap.render(load("dev")).encode())
    for limit, warned in ((size, False), (size - 1, True)):
        monkeypatch.setattr(bootstrap, "DIRECT_DEPLOY_BYTES", limit)
        assert bootstrap.main(["dev", "--stack-dir", str(STACKS)]) == 0
        out, err = capsys.readouterr()
        assert out == bootstrap.render(load("dev"))
        assert (f"is {size:,} bytes, over the {limit:,} bytes" in err) is warned
        assert err.count("\n") == int(warned)


def test_command_errors_are_one_line_each_without_a_traceback(tmp_path: Path) -> None:
    stack_file(
        tmp_path, "nogithub", {"aws:region": "us-east-1", "ecr-fargate:services": [{"name": "api"}]}
    )
    bad = {"aws:region": "mars-1", "ecr-fargate:github": {"repository": "x"}}
    stack_file(tmp_path, "bad", {**bad, "ecr-fargate:services": [{"name": "api"}]})
    cases = {
        ("--stack-dir", str(tmp_path), "missing"): (1, ["there is no Pulumi.missing.yaml"]),
        ("--stack-dir", str(tmp_path), "bad"): (1, ["config 'aws:region'", "github.repository"]),
        ("--stack-dir", str(tmp_path / "nowhere"), "dev"): (2, ["is not a directory"]),
        (): (2, ["required: STACK"]),
        ("dev", "--bogus"): (2, ["unrecognized arguments"]),
    }
    for args, (code, fragments) in cases.items():
        done = run(*args)
        assert done.returncode == code, (args, done.stderr)
        assert done.stdout == ""
        assert "Traceback" not in done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == len(fragments), (args, lines)
        for line, fragment in zip(lines, fragments, strict=True):
            assert fragment in line, (args, line)


def test_a_missing_stack_names_every_problem(tmp_path: Path) -> None:
    with pytest.raises(bootstrap.BootstrapError) as exc:
        load("dev", "nope", "zzz")
    assert str(exc.value).splitlines() == [
        f"stack 'nope': there is no Pulumi.nope.yaml in {STACKS}",
        f"stack 'zzz': there is no Pulumi.zzz.yaml in {STACKS}",
    ]


def test_settings_come_from_the_stack_files() -> None:
    (dev,) = load("dev")
    assert dev == settings.load(from_files("dev", stack_dir=STACKS))


def test_one_template_is_one_partition(tmp_path: Path) -> None:
    service = {"ecr-fargate:services": [{"name": "api"}], "ecr-fargate:github": GITHUB}
    stack_file(tmp_path, "east", {"aws:region": "us-east-1", **service})
    china = {**service, "ecr-fargate:github": {"repository": "octo/app"}}
    stack_file(tmp_path, "china", {"aws:region": "cn-north-1", **china})
    (cn,) = load("china", stack_dir=tmp_path)
    template = resolved(bootstrap.template([cn]))
    role = template["Resources"]["ChinaDeployRole"]["Properties"]
    principal = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Federated"]
    assert principal.startswith(f"arn:aws-cn:iam::{ACCOUNT_ID}:oidc-provider/")
    with pytest.raises(bootstrap.BootstrapError, match="partitions"):
        bootstrap.template(load("east", "china", stack_dir=tmp_path))


def test_a_stack_without_github_gets_its_boundary_and_no_ci_roles(tmp_path: Path) -> None:
    """Its roles may carry the bootstrap's boundary too (`permissionsBoundary: bootstrap`)."""
    stack_file(
        tmp_path, "solo", {"aws:region": "us-east-1", "ecr-fargate:services": [{"name": "api"}]}
    )
    done = run("--stack-dir", str(tmp_path), "solo")
    assert done.returncode == 0, done.stderr
    resources = json.loads(done.stdout)["Resources"]
    assert {k: v["Type"] for k, v in resources.items()} == {
        "SoloBoundary": "AWS::IAM::ManagedPolicy"
    }
    assert resources["SoloBoundary"]["Properties"]["ManagedPolicyName"] == (
        "ecr-fargate-solo-boundary"
    )
