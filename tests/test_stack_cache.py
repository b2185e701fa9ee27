"""Both stacks under mocks: pull-through rules, credential secrets, templates and pull permissions."""

from __future__ import annotations

import json

import pytest

from plan.engine import ACCOUNT_ID, Rendered
from rules import lifecycle
from settings import ConfigErrors
from tests.conftest import GIT_ENV, render_stack

RULE = "aws:ecr/pullThroughCacheRule:PullThroughCacheRule"
TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
HOST = f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com"
DOCKER_HUB = {"docker-hub": {"username": "octo", "accessToken": "dckr_pat_not_a_real_token"}}
# dev made the account owner, with two credentialled upstreams among its rules.
DEV_OWNER = {
    "accountOwner": "dev",
    "pullThroughCache": [
        {"upstream": u}
        for u in ("ecr-public", "quay", "k8s", "docker-hub", "github-container-registry")
    ],
}


def render_owner_dev(overrides: dict | None = None, secrets: dict | None = None) -> Rendered:
    return render_stack(
        "dev", env=GIT_ENV, overrides={**DEV_OWNER, **(overrides or {})}, secrets=secrets
    )


@pytest.fixture(scope="module")
def dev_owner() -> Rendered:
    return render_owner_dev()


@pytest.fixture(scope="module", params=["dev", "prod"])
def owner(request: pytest.FixtureRequest, dev_owner: Rendered, prod: Rendered) -> Rendered:
    """A stack that owns the registry-wide resources: dev made owner, and the prod fixture."""
    return dev_owner if request.param == "dev" else prod


def rules(r: Rendered) -> dict[str, dict]:
    return {x.inputs["ecrRepositoryPrefix"]: x.inputs for x in r.of_type(RULE)}


def test_dev_skips_credentialled_upstreams_without_credentials_and_says_how(
    dev_owner: Rendered,
) -> None:
    assert rules(dev_owner) == {
        "ecr-public": {
            "ecrRepositoryPrefix": "ecr-public",
            "upstreamRegistryUrl": "public.ecr.aws",
        },
        "quay": {"ecrRepositoryPrefix": "quay", "upstreamRegistryUrl": "quay.io"},
        "kubernetes": {
            "ecrRepositoryPrefix": "kubernetes",
            "upstreamRegistryUrl": "registry.k8s.io",
        },
    }
    skipped = [w for w in dev_owner.warnings if "skipped" in w]
    assert len(skipped) == 2
    assert all("pulumi config set --secret" in w for w in skipped)
    assert dev_owner.of_type("aws:secretsmanager/secret:Secret") == []


def test_credentials_become_a_secret_the_rule_uses() -> None:
    r = render_owner_dev(secrets={"pullThroughCredentials": DOCKER_HUB})
    (secret,) = r.of_type("aws:secretsmanager/secret:Secret")
    assert secret.inputs["name"] == "ecr-pullthroughcache/docker-hub"
    assert "kmsKeyId" not in secret.inputs
    (version,) = r.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert "secretString" in version.secret_inputs
    assert json.loads(version.inputs["secretString"]) == {
        "username": "octo",
        "accessToken": "dckr_pat_not_a_real_token",
    }
    hub = rules(r)["docker-hub"]
    assert hub["upstreamRegistryUrl"] == "registry-1.docker.io"
    assert hub["credentialArn"] == secret.state["arn"]
    assert r.outputs["pullThroughCacheSecretArns"] == {"docker-hub": secret.state["arn"]}
    assert "dckr_pat" not in json.dumps(r.outputs)


def test_plain_text_credentials_are_refused() -> None:
    with pytest.raises(ConfigErrors, match=r"pullThroughCredentials'.*--secret"):
        render_owner_dev(overrides={"pullThroughCredentials": DOCKER_HUB})


def test_prod_refuses_a_credentialled_upstream_without_credentials() -> None:
    with pytest.raises(ConfigErrors, match=r"pullThroughCredentials\[\"docker-hub\"\]'"):
        render_stack(
            "prod", env=GIT_ENV, overrides={"pullThroughCache": [{"upstream": "docker-hub"}]}
        )


def test_templates_per_prefix_are_mutable_with_a_valid_lifecycle(owner: Rendered) -> None:
    stack = owner
    templates = {t.inputs["prefix"]: t.inputs for t in stack.of_type(TEMPLATE)}
    assert sorted(templates) == sorted(rules(stack))
    for t in templates.values():
        assert t["appliedFors"] == ["PULL_THROUGH_CACHE"]
        assert t["imageTagMutability"] == "MUTABLE"
        lifecycle.validate_lifecycle_policy(t["lifecyclePolicy"])
        assert t["resourceTags"]["stack"] == stack.stack
        assert t["customRoleArn"]
    prod_encryption = {
        t["encryptionConfigurations"][0]["encryptionType"] for t in templates.values()
    }
    assert prod_encryption == ({"AES256"} if stack.stack == "dev" else {"KMS"})


def test_pull_policy_scopes_cache_imports_to_each_prefix(owner: Rendered) -> None:
    stack = owner
    doc = json.loads(stack.outputs["pullThroughPullPolicyJson"])
    imports: set[str] = set()
    for st in doc["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        if "ecr:BatchImportUpstreamImage" in actions:
            assert "ecr:CreateRepository" in actions
            imports.update(resources)
    assert imports == {f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/{p}/*" for p in rules(stack)}
    # The service runs its own built image: it never pulls through the cache, so no grant.
    assert not [r for r in stack.resources if r.name == "api-pull-through-policy"]


def test_rules_output_maps_upstream_to_cache_location(stack: Rendered) -> None:
    out = stack.outputs["pullThroughCacheRules"]
    assert out["ecr-public"] == f"{HOST}/ecr-public"
    assert out["k8s"] == f"{HOST}/kubernetes"
    assert stack.outputs["pullThroughCacheUpstreams"]["kubernetes"] == "registry.k8s.io"
