"""Two stacks in one account and region: one owner for every registry-wide resource.

ECR allows one scanning configuration, one pull-through rule and one creation template per prefix,
and one `ecr-pullthroughcache/<prefix>` secret per registry; two stacks that both create them fail
on the second `pulumi up`, and destroying either deletes what the other uses.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from plan import engine
from plan.engine import Rendered
from settings import ConfigErrors
from tests.conftest import GIT_ENV, STACKS, render_stack

ROOT = Path(__file__).resolve().parent.parent
# Resource types whose identity is the registry's (account and region), not the stack's.
REGISTRY_WIDE = {
    "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration",
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule",
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate",
    "aws:ecr/registryPolicy:RegistryPolicy",
    "aws:ecr/replicationConfiguration:ReplicationConfiguration",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
}
# The inputs that name a resource physically, per type (what a second create would collide on).
IDENTITY_INPUTS = ("name", "prefix", "ecrRepositoryPrefix", "family", "url", "namePrefix")
# Names unique only inside a parent: an ECS service's name is per cluster.
SCOPED_BY = {"aws:ecs/service:Service": "cluster"}


def identities(r: Rendered) -> set[tuple[str, str]]:
    """Every (type, physical name) the stack would create; registry-wide types count once."""
    found: set[tuple[str, str]] = set()
    for res in r.resources:
        if res.type.startswith("ecr-fargate:"):
            continue
        if res.type in REGISTRY_WIDE and not any(k in res.inputs for k in IDENTITY_INPUTS):
            found.add((res.type, "(one per registry)"))
        scope = res.inputs.get(SCOPED_BY.get(res.type, ""), "")
        for key in IDENTITY_INPUTS:
            if isinstance(res.inputs.get(key), str):
                found.add((res.type, f"{scope}/{res.inputs[key]}"))
    return found


def render_pair(stack_dir: Path) -> tuple[Rendered, Rendered]:
    dev = engine.render_stack("dev", env=GIT_ENV, stack_dir=stack_dir)
    prod = engine.render_stack("prod", env=GIT_ENV, stack_dir=stack_dir)
    return dev, prod


@pytest.mark.parametrize("stack_dir", [ROOT, STACKS], ids=["committed", "fixture"])
def test_dev_and_prod_create_nothing_in_common(stack_dir: Path) -> None:
    """The documented set-up (docs/sharing-an-account.md): both stacks in one account and region, deployable in either order."""
    dev, prod = render_pair(stack_dir)
    shared = identities(dev) & identities(prod)
    assert shared == set()
    owned = {r.type for r in prod.resources} & REGISTRY_WIDE
    assert "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration" in owned
    # The consumer creates no registry-wide resource, so destroying it deletes none of them.
    assert {r.type for r in dev.resources} & REGISTRY_WIDE == set()
    assert dev.of_type("aws:secretsmanager/secret:Secret") == []


def test_the_consumer_references_the_owners_rules(dev: Rendered, prod: Rendered) -> None:
    for key in ("pullThroughCacheRules", "pullThroughCacheUpstreams", "pullThroughPullPolicyJson"):
        assert dev.outputs[key] == prod.outputs[key]
    assert set(dev.outputs["pullThroughCacheUpstreams"]) == {"ecr-public", "quay", "kubernetes"}
    assert dev.outputs["pullThroughCacheSecretArns"] == {}


def test_a_lone_stack_owns_its_registry_by_default() -> None:
    r = render_stack("dev", env=GIT_ENV, overrides={"accountOwner": None})
    assert r.of_type("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration")


def refused(stack: str, overrides: dict) -> list[str]:
    with pytest.raises(ConfigErrors) as info:
        render_stack(stack, env=GIT_ENV, overrides=overrides)
    return str(info.value).splitlines()


@pytest.mark.parametrize(
    ("overrides", "key", "fragment"),
    [
        ({"pullThroughCache": [{"upstream": "quay"}]}, "pullThroughCache'", "'prod'"),
        (
            {"pullThroughCredentials": {"quay": {"username": "u", "accessToken": "t"}}},
            "pullThroughCredentials'",
            "Pulumi.prod.yaml",
        ),
        ({"registry": {"rootCreationTemplate": True}}, "registry.rootCreationTemplate'", "prod"),
        ({"enhancedScanning": True}, "enhancedScanning'", "registry-wide"),
        ({"accountOwner": "staging"}, "accountOwner'", "no Pulumi.staging.yaml"),
        ({"accountOwner": "Prod!"}, "accountOwner'", "lowercase"),
        ({"accountOwner": ""}, "accountOwner'", "lowercase"),
        ({"aws:region": "us-west-2"}, "accountOwner'", "per region"),
    ],
)
def test_a_consumer_refuses_registry_wide_settings(
    overrides: dict, key: str, fragment: str
) -> None:
    lines = refused("dev", overrides)
    assert any(key in line and fragment in line for line in lines), lines


def test_the_owner_must_own_itself(tmp_path: Path) -> None:
    for name in ("dev", "prod"):
        text = (STACKS / f"Pulumi.{name}.yaml").read_text()
        if name == "prod":
            text = text.replace("ecr-fargate:accountOwner: prod", "ecr-fargate:accountOwner: dev")
        (tmp_path / f"Pulumi.{name}.yaml").write_text(text)
    with pytest.raises(ConfigErrors, match=r"accountOwner'.*names 'dev' as the owner"):
        engine.render_stack("dev", env=GIT_ENV, stack_dir=tmp_path)
