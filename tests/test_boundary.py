"""`permissionsBoundary`: a stack creates its roles' boundary (`stack`) or uses the bootstrap's
(`bootstrap`); moving between the two replaces no role; CI deploys `bootstrap` stacks only; no
stack role and no CI role can rewrite or remove either boundary.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import permissions as policies
import settings
from components.boundary import StackBoundary, StackBoundaryArgs
from plan import __main__ as plan_cli
from plan import engine
from plan.engine import ACCOUNT_ID, Rendered
from rules.iam.evaluate import Request, is_allowed
from rules.naming import StackNames
from settings import ConfigErrors, Settings
from settings.source import PROJECT_DIR
from tests.conftest import GIT_ENV, STACKS, render_stack

ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}
ADMIN: dict[str, Any] = {"Version": "2012-10-17", "Statement": [ALLOW_ALL]}


def own_boundary(stack: str) -> str:
    return (
        f"arn:aws:iam::{ACCOUNT_ID}:policy/ecr-fargate/{stack}/ecr-fargate-{stack}-stack-boundary"
    )


def bootstrap_boundary(stack: str) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:policy/ecr-fargate-ci/{stack}/ecr-fargate-{stack}-boundary"


def render(stack: str, mode: str) -> Rendered:
    return render_stack(stack, env=GIT_ENV, overrides={"permissionsBoundary": mode})


def load(stack: str, env: dict[str, str], **overrides: Any) -> Settings:
    raw = engine.raw_stack_config(stack, overrides=overrides, stack_dir=STACKS)
    return settings.load(raw, env=env)


def errors_of(stack: str, env: dict[str, str], **overrides: Any) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        load(stack, env, **overrides)
    return str(caught.value).splitlines()


# --- the component alone ----------------------------------------------------------------------
def test_the_component_writes_the_document_it_is_given_under_the_stack_path() -> None:
    raw = engine.raw_stack_config("dev", stack_dir=STACKS)
    document = json.dumps({"Version": "2012-10-17", "Statement": []})

    def program(_: Settings) -> dict[str, Any]:
        component = StackBoundary(
            "boundary", StackBoundaryArgs(StackNames("dev"), document, {"stack": "dev"})
        )
        return {"arn": component.arn}

    r = engine.render(raw, env=GIT_ENV, program=program)
    (component,) = r.of_type("ecr-fargate:iam:StackBoundary")
    (policy,) = r.of_type("aws:iam/policy:Policy")
    assert policy.parent == component.urn
    assert policy.inputs["name"] == "ecr-fargate-dev-stack-boundary"
    assert policy.inputs["path"] == "/ecr-fargate/dev/"
    assert policy.inputs["policy"] == document
    assert policy.inputs["tags"] == {"stack": "dev"}
    assert r.outputs["arn"] == own_boundary("dev")


# --- the whole stack in both modes --------------------------------------------------------------
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_mode_creates_the_boundary_every_role_carries_and_waits_for(stack: str) -> None:
    r = render(stack, "stack")
    (policy,) = r.of_type("aws:iam/policy:Policy")
    assert policy.state["arn"] == own_boundary(stack)
    loaded = load(stack, GIT_ENV, permissionsBoundary="stack")
    assert json.loads(policy.inputs["policy"]) == policies.boundary_policy(loaded, ACCOUNT_ID)
    roles = r.of_type("aws:iam/role:Role")
    assert roles
    for role in roles:
        assert role.inputs["permissionsBoundary"] == own_boundary(stack), role.name
        assert policy.urn in role.dependencies, role.name
    assert r.outputs["permissionsBoundaryArn"] == own_boundary(stack)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_bootstrap_mode_creates_no_policy_and_names_the_bootstrap_boundary(stack: str) -> None:
    r = render(stack, "bootstrap")
    assert r.of_type("aws:iam/policy:Policy") == []
    assert r.of_type("ecr-fargate:iam:StackBoundary") == []
    for role in r.of_type("aws:iam/role:Role"):
        assert role.inputs["permissionsBoundary"] == bootstrap_boundary(stack), role.name
    assert r.outputs["permissionsBoundaryArn"] == bootstrap_boundary(stack)


def test_the_default_is_stack_and_the_fixtures_cover_both_modes(
    dev: Rendered, prod: Rendered
) -> None:
    assert {r.inputs["permissionsBoundary"] for r in dev.of_type("aws:iam/role:Role")} == {
        own_boundary("dev")
    }
    assert {r.inputs["permissionsBoundary"] for r in prod.of_type("aws:iam/role:Role")} == {
        bootstrap_boundary("prod")
    }
    assert load("dev", GIT_ENV).permissions_boundary == "stack"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_switching_modes_replaces_nothing(stack: str) -> None:
    """Same URNs and the same inputs but the boundary (a role's name and path, which force a
    replacement, among them); the only other difference is the stack's own policy."""
    before, after = render(stack, "stack"), render(stack, "bootstrap")
    own = {r.urn for r in before.resources if "StackBoundary" in r.urn}
    assert len(own) == 2  # the component and its policy
    assert {r.urn for r in before.resources} - own == {r.urn for r in after.resources}
    old = {r.urn: r for r in before.of_type("aws:iam/role:Role")}
    new = {r.urn: r for r in after.of_type("aws:iam/role:Role")}
    assert old.keys() == new.keys() and old
    for urn, role in old.items():
        changed = {
            k
            for k in role.inputs.keys() | new[urn].inputs.keys()
            if role.inputs.get(k) != new[urn].inputs.get(k)
        }
        assert changed == {"permissionsBoundary"}, urn
        assert role.inputs["path"] == f"/ecr-fargate/{stack}/"
    kept = {r.urn: r.inputs for r in after.resources if r.type != "aws:iam/role:Role"}
    assert {r.urn: r.inputs for r in before.resources if r.urn in kept} == kept


# --- CI deploys bootstrap stacks only ---------------------------------------------------------
CI = {**GIT_ENV, "GITHUB_ACTIONS": "true"}
REFUSED = (
    "config 'ecr-fargate:permissionsBoundary': stack is not allowed in CI (GITHUB_ACTIONS=true)"
)


@pytest.mark.parametrize("overrides", [{}, {"permissionsBoundary": "stack"}])
def test_ci_refuses_a_stack_that_creates_its_boundary(overrides: dict[str, str]) -> None:
    (line,) = errors_of("dev", CI, **overrides)
    assert line.startswith(REFUSED)
    assert "permissionsBoundary: bootstrap" in line and "cli.bootstrap" in line


def test_ci_deploys_a_bootstrapped_stack_and_people_deploy_either() -> None:
    assert load("dev", CI, permissionsBoundary="bootstrap").permissions_boundary == "bootstrap"
    assert load("prod", CI).permissions_boundary == "bootstrap"
    assert load("dev", {**GIT_ENV, "GITHUB_ACTIONS": "false"}).permissions_boundary == "stack"


def test_a_refused_value_is_one_line_even_in_ci() -> None:
    for value in ("Bootstrap", True):
        (line,) = errors_of("dev", CI, permissionsBoundary=value)
        assert line.startswith("config 'ecr-fargate:permissionsBoundary': ")
        assert "use one of stack, bootstrap" in line or "expected a string" in line


def test_the_real_environment_is_read_when_none_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """`pulumi preview` in CI (`__main__.py` loads without `env`) reads `os.environ`."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    raw = engine.raw_stack_config("dev", stack_dir=STACKS)
    with pytest.raises(ConfigErrors, match="stack is not allowed in CI"):
        settings.load(raw)


def test_the_offline_plan_on_a_runner_is_not_a_deploy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every pull request (forks' too) runs `make plan` under GitHub Actions: it plans a stack
    that creates its own boundary, as the `pulumi up` of a person would run it."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    image = f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/new/api@sha256:" + "ab" * 32
    config = {"aws:region": "us-east-1", "ecr-fargate:services": [{"name": "api", "image": image}]}
    (tmp_path / "Pulumi.new.yaml").write_text(json.dumps({"config": config}))
    assert plan_cli.main(["new", "--json", "--project-dir", str(tmp_path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["outputs"]["permissionsBoundaryArn"] == own_boundary("new")


# --- nobody rewrites or removes a boundary --------------------------------------------------------
POLICY_WRITES = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy",
)


def role_probes(role_arn: str, stack: str) -> list[Request]:
    boundaries = (own_boundary(stack), bootstrap_boundary(stack))
    found = [Request(a, arn) for a in POLICY_WRITES for arn in boundaries]
    detach = ("iam:DeleteRolePermissionsBoundary", "iam:PutRolePermissionsBoundary")
    return [*found, *(Request(a, role_arn) for a in detach)]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_stack_role_can_change_the_boundary_it_carries(stack: str) -> None:
    r = render(stack, "stack")
    (policy,) = r.of_type("aws:iam/policy:Policy")
    cap = json.loads(policy.inputs["policy"])
    # A boundary that also allowed every IAM action: the explicit Denies still hold.
    widened = {**cap, "Statement": [*cap["Statement"], ALLOW_ALL]}
    inline: dict[str, list[dict[str, Any]]] = {}
    for p in r.of_type("aws:iam/rolePolicy:RolePolicy"):
        inline.setdefault(p.inputs["role"], []).append(json.loads(p.inputs["policy"]))
    for role in r.of_type("aws:iam/role:Role"):
        own = inline.get(role.name, [])
        for q in role_probes(role.state["arn"], stack):
            assert not is_allowed(own, q, cap), (role.name, q)
            assert not is_allowed([*own, ADMIN], q, cap), (role.name, q)
            assert not is_allowed([ADMIN], q, widened), (role.name, q)
    # The cap still lets the roles work: the execution role pulls its image.
    repository = f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/{stack}/api"
    assert is_allowed(inline["api-execution"], Request("ecr:BatchGetImage", repository), cap)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_ci_deploy_role_cannot_create_or_use_the_stacks_own_boundary(stack: str) -> None:
    deploy = policies.deploy_policy(
        load(stack, GIT_ENV, permissionsBoundary="bootstrap"), ACCOUNT_ID
    )
    names = StackNames(stack)
    role = names.role_arn(ACCOUNT_ID, "x")
    for policy_set in ([deploy], [deploy, ADMIN]):
        assert not is_allowed(policy_set, Request("iam:CreatePolicy", own_boundary(stack)))
        for action in POLICY_WRITES:
            assert not is_allowed(policy_set, Request(action, own_boundary(stack))), action
    # Nor give a role the stack's own boundary instead of the bootstrap's.
    theirs = {"iam:PermissionsBoundary": own_boundary(stack)}
    mine = {"iam:PermissionsBoundary": bootstrap_boundary(stack)}
    for action in ("iam:CreateRole", "iam:PutRolePermissionsBoundary"):
        assert not is_allowed([deploy], Request(action, role, theirs)), action
        assert is_allowed([deploy], Request(action, role, mine)), action
