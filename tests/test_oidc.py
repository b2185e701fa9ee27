"""GitHub OIDC: subjects, trust policies that cannot be opened up, and the CI outputs.

The stack no longer creates the provider or the CI roles (the bootstrap does, see
`tests/test_bootstrap.py`); its outputs name them, derived from `StackNames`.
"""

from __future__ import annotations

import pytest

from plan.engine import ACCOUNT_ID
from rules.iam import oidc
from settings import ConfigErrors, load
from settings.source import from_files
from tests.conftest import GIT_ENV, STACKS, render_stack

PROVIDER = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/token.actions.githubusercontent.com"


def test_subjects() -> None:
    assert oidc.subject("pull_request", "octo/app") == "repo:octo/app:pull_request"
    assert oidc.subject("branch", "octo/app") == "repo:octo/app:ref:refs/heads/main"
    assert (
        oidc.subject("environment", "octo/app", environment="production")
        == "repo:octo/app:environment:production"
    )
    assert (
        oidc.subject("pull_request", "octo/app", ids=(12, 34))
        == "repository_owner_id:12:repository_id:34:pull_request"
    )
    for bad in ("octo/*", "*", "octo", "octo/app/x", "-octo/app"):
        with pytest.raises(ValueError):
            oidc.subject("pull_request", bad)
    with pytest.raises(ValueError):
        oidc.subject("branch", "octo/app", ref="refs/heads/*")


def test_trust_policy_always_pins_audience_and_exact_subjects() -> None:
    doc = oidc.trust_policy(PROVIDER, ["repo:octo/app:pull_request"])
    (st,) = doc["Statement"]
    assert st["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert st["Principal"] == {"Federated": PROVIDER}
    assert st["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": ["repo:octo/app:pull_request"],
        }
    }
    for bad in ([], ["*"], ["repo:octo/*"], ["repo:octo/app:*"], ["octo/app"]):
        with pytest.raises(ValueError):
            oidc.trust_policy(PROVIDER, bad)


CI_TYPES = (
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    "aws:iam/policy:Policy",
)


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_the_stack_renders_no_ci_resources_and_outputs_their_arns(name: str) -> None:
    r = render_stack(name, env=GIT_ENV)
    # The one managed policy a stack may create is its own boundary, before the bootstrap (the
    # dev fixture keeps the default `permissionsBoundary: stack`, prod uses the bootstrap's).
    own = {"dev": ["/ecr-fargate/dev/ecr-fargate-dev-stack-boundary"], "prod": []}[name]
    policies = r.of_type("aws:iam/policy:Policy")
    assert [p.inputs["path"] + p.inputs["name"] for p in policies] == own
    assert [x for x in r.resources if x.type in CI_TYPES and x not in policies] == []
    iam = "arn:aws:iam::123456789012"
    boundary = {
        "dev": f"arn:aws:iam::{ACCOUNT_ID}:policy/ecr-fargate/dev/ecr-fargate-dev-stack-boundary",
        "prod": f"arn:aws:iam::{ACCOUNT_ID}:policy/ecr-fargate-ci/prod/ecr-fargate-prod-boundary",
    }[name]
    for role in r.of_type("aws:iam/role:Role"):
        # Every role the stack creates is the stack's own, bounded, and trusts no GitHub token.
        assert role.inputs["path"] == f"/ecr-fargate/{name}/"
        assert role.inputs["permissionsBoundary"] == boundary
        assert "token.actions.githubusercontent.com" not in role.inputs["assumeRolePolicy"]
    assert r.outputs["ciRoleArn"] == f"{iam}:role/ecr-fargate-ci/{name}/ecr-fargate-{name}-deploy"
    if name == "prod":  # prod has no preview role: pull requests plan it offline
        assert "ciPreviewRoleArn" not in r.outputs
    else:
        assert r.outputs["ciPreviewRoleArn"] == (
            f"{iam}:role/ecr-fargate-ci/{name}/ecr-fargate-{name}-preview"
        )
    assert r.outputs["githubOidcProviderArn"] == (
        f"{iam}:oidc-provider/token.actions.githubusercontent.com"
    )


def test_subjects_follow_the_environment() -> None:
    dev_github = load(from_files("dev", stack_dir=STACKS), env=GIT_ENV).github
    prod_github = load(from_files("prod", stack_dir=STACKS), env=GIT_ENV).github
    assert dev_github is not None and prod_github is not None
    assert dev_github.preview_subject == "repo:fixture-org/fixture-repo:pull_request"
    assert dev_github.deploy_subject == "repo:fixture-org/fixture-repo:ref:refs/heads/main"
    # Once a job names an environment, GitHub sends the environment form, not the branch.
    assert prod_github.deploy_subject == "repo:fixture-org/fixture-repo:environment:production"


def test_a_given_provider_is_the_output_and_bad_config_is_refused() -> None:
    r = render_stack(
        "prod",
        env=GIT_ENV,
        overrides={"github": {"repository": "octo/app", "oidcProviderArn": PROVIDER}},
    )
    assert r.outputs["githubOidcProviderArn"] == PROVIDER
    without = render_stack("prod", env=GIT_ENV, overrides={"github": {}})
    assert "ciRoleArn" not in without.outputs
    for github, key in (
        ({"repository": "octo/*"}, "github.repository'"),
        (
            {"repository": "octo/app", "oidcProviderArn": "arn:aws:iam::1:role/x"},
            "github.oidcProviderArn'",
        ),
        ({"branch": "main"}, "github.repository'"),
    ):
        with pytest.raises(ConfigErrors, match=key):
            render_stack("dev", env=GIT_ENV, overrides={"github": github})


@pytest.mark.parametrize(
    ("github", "key"),
    [
        ({"repository": "octo/app", "branch": ""}, "github.branch'"),
        ({"repository": "octo/app", "branch": "feature/*"}, "github.branch'"),
        ({"repository": "octo/app", "prodEnvironment": ""}, "github.prodEnvironment'"),
        (
            {
                "repository": "octo/app",
                "oidcProviderArn": "arn:aws-cn:iam::123456789012:oidc-provider/"
                "token.actions.githubusercontent.com",
            },
            "github.oidcProviderArn'",
        ),
        ({"repository": ["octo/app"]}, "github.repository'"),
    ],
)
def test_github_values_that_would_make_a_wrong_subject_are_refused(github: dict, key: str) -> None:
    for stack in ("dev", "prod"):
        with pytest.raises(ConfigErrors) as info:
            render_stack(stack, env=GIT_ENV, overrides={"github": github})
        lines = str(info.value).splitlines()
        assert len(lines) == 1, lines
        assert key in lines[0]
