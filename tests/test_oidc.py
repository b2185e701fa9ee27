"""GitHub OIDC: subjects, trust policies that cannot be opened up, and both stacks' CI roles."""

from __future__ import annotations

import json

import pytest

from ci import oidc
from plan.engine import ACCOUNT_ID, Rendered
from settings import ConfigErrors
from tests.conftest import GIT_ENV, render_stack

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


def test_policies_use_real_actions_and_no_wildcard_actions() -> None:
    deploy = oidc.deploy_policy(
        partition="aws", region="us-east-1", account=ACCOUNT_ID, stack="dev"
    )
    for doc in (oidc.preview_policy(), deploy):
        assert oidc.unknown_actions(doc) == []
        for st in doc["Statement"]:
            assert all("*" not in a for a in st["Action"])
    preview_actions = {a for st in oidc.preview_policy()["Statement"] for a in st["Action"]}
    assert not preview_actions & set(oidc.PUSH_ACTIONS) - {
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
    }
    assert not {
        a
        for a in preview_actions
        if a.split(":")[1].startswith(("Create", "Delete", "Put", "Update", "Tag", "Set"))
    }
    push = next(st for st in deploy["Statement"] if st["Sid"] == "PushStackImages")
    assert push["Resource"] == f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/dev/*"
    pass_role = next(st for st in deploy["Statement"] if st["Sid"] == "PassStackRoles")
    assert pass_role["Resource"] == f"arn:aws:iam::{ACCOUNT_ID}:role/ecr-fargate/dev/*"


def trust(r: Rendered, name: str) -> dict:
    return json.loads(r.named(name).inputs["assumeRolePolicy"])


def test_dev_roles_trust_pull_requests_and_main(dev: Rendered) -> None:
    (provider,) = dev.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == "https://token.actions.githubusercontent.com"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    sub = "token.actions.githubusercontent.com:sub"
    assert trust(dev, "github-preview")["Statement"][0]["Condition"]["StringEquals"][sub] == [
        "repo:fixture-org/fixture-repo:pull_request"
    ]
    assert trust(dev, "github-deploy")["Statement"][0]["Condition"]["StringEquals"][sub] == [
        "repo:fixture-org/fixture-repo:ref:refs/heads/main"
    ]
    assert dev.outputs["githubOidcProviderArn"] == provider.state["arn"]
    assert dev.outputs["ciRoleArn"].endswith(":role/github-deploy")
    assert dev.named("github-deploy").inputs["path"] == "/ecr-fargate/dev/"


def test_prod_deploy_role_trusts_the_environment_only(prod: Rendered) -> None:
    sub = "token.actions.githubusercontent.com:sub"
    assert trust(prod, "github-deploy")["Statement"][0]["Condition"]["StringEquals"][sub] == [
        "repo:fixture-org/fixture-repo:environment:production"
    ]
    deploy = json.loads(prod.named("github-deploy-policy").inputs["policy"])
    push = next(st for st in deploy["Statement"] if st["Sid"] == "PushStackImages")
    assert push["Resource"] == f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/prod/*"


def test_existing_provider_is_used_and_bad_config_refused() -> None:
    r = render_stack(
        "prod",
        env=GIT_ENV,
        overrides={"github": {"repository": "octo/app", "oidcProviderArn": PROVIDER}},
    )
    assert r.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    assert trust(r, "github-deploy")["Statement"][0]["Principal"] == {"Federated": PROVIDER}
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
