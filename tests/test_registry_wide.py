"""The account owner's registry-wide additions (issue 22): pull-time update exclusions for the CI
deploy roles, create-on-push templates, replication; refused everywhere else, at the exact key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import permissions as policies
from plan import engine
from plan.engine import ACCOUNT_ID, Rendered
from rules.iam.evaluate import Request, is_allowed
from settings import ConfigErrors
from tests.ci_support import variant
from tests.conftest import GIT_ENV, STACKS, render_stack

EXCLUSION = "aws:ecr/pullTimeUpdateExclusion:PullTimeUpdateExclusion"
TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
REPLICATION = "aws:ecr/replicationConfiguration:ReplicationConfiguration"
KEY = "aws:kms/key:Key"
PREFIX = "config 'ecr-fargate:"


def refused(stack: str, overrides: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigErrors) as info:
        render_stack(stack, env=GIT_ENV, overrides=overrides)
    return str(info.value).splitlines()


def registry(stack: str, **extra: Any) -> dict[str, Any]:
    """The fixture's `registry` with `extra` merged in."""
    found = dict(engine.raw_stack_config(stack, stack_dir=STACKS).values.get("registry") or {})
    return {"registry": {**found, **extra}}


# --- pull-time exclusions ------------------------------------------------------------------------
def test_prod_excludes_the_ci_deploy_roles_of_every_stack_it_owns() -> None:
    rendered = render_stack("prod", env=GIT_ENV)
    principals = sorted(r.inputs["principalArn"] for r in rendered.of_type(EXCLUSION))
    assert principals == [
        f"arn:aws:iam::{ACCOUNT_ID}:role/ecr-fargate-ci/dev/ecr-fargate-dev-deploy",
        f"arn:aws:iam::{ACCOUNT_ID}:role/ecr-fargate-ci/prod/ecr-fargate-prod-deploy",
    ]


def test_a_consumer_creates_no_registry_wide_resource() -> None:
    rendered = render_stack("dev", env=GIT_ENV)
    assert [r for t in (EXCLUSION, TEMPLATE, REPLICATION) for r in rendered.of_type(t)] == []
    assert rendered.outputs["ecrReplicaRegistryUrls"] == {}


def test_only_stacks_that_name_the_owner_and_have_ci_are_excluded(tmp_path: Path) -> None:
    for name in ("Pulumi.prod.yaml", "Pulumi.dev.yaml"):
        (tmp_path / name).write_text((STACKS / name).read_text())
    lone = (
        (STACKS / "Pulumi.dev.yaml").read_text().replace("accountOwner: prod", "accountOwner: qa")
    )
    (tmp_path / "Pulumi.qa.yaml").write_text(lone)  # names another owner
    west = (STACKS / "Pulumi.dev.yaml").read_text().replace("us-east-1", "us-west-2")
    (tmp_path / "Pulumi.west.yaml").write_text(west)  # another region: another registry
    (tmp_path / "Pulumi.broken.yaml").write_text("config: [")
    rendered = engine.render_stack("prod", stack_dir=tmp_path, env=GIT_ENV)
    stacks = sorted(r.inputs["principalArn"].rsplit("/", 2)[1] for r in rendered.of_type(EXCLUSION))
    assert stacks == ["dev", "prod"]


def test_a_consumer_outputs_the_owners_replica_registries(tmp_path: Path) -> None:
    prod = (STACKS / "Pulumi.prod.yaml").read_text()
    replicated = prod.replace(
        "  ecr-fargate:registry:\n",
        "  ecr-fargate:registry:\n"
        "    replication:\n      - {region: us-west-2, prefixes: [prod]}\n",
    )
    assert replicated != prod
    (tmp_path / "Pulumi.prod.yaml").write_text(replicated)
    (tmp_path / "Pulumi.dev.yaml").write_text((STACKS / "Pulumi.dev.yaml").read_text())
    dev = engine.render_stack("dev", stack_dir=tmp_path, env=GIT_ENV)
    assert dev.outputs["ecrReplicaRegistryUrls"] == {
        "us-west-2": f"{ACCOUNT_ID}.dkr.ecr.us-west-2.amazonaws.com"
    }
    assert dev.of_type(REPLICATION) == [] and dev.of_type(TEMPLATE) == []


def test_more_ci_roles_than_the_quota_warn_and_keep_the_first_hundred() -> None:
    from settings.errors import Collector
    from settings.registry_wide import load_registry_wide

    v = variant("prod-owner-stack-key")
    stacks = tuple(f"s{i:03d}" for i in range(102))
    found = load_registry_wide(
        Collector(),
        {},
        registry=v.settings.registry,
        cache=v.settings.cache,
        partition=v.settings.partition,
        region="us-east-1",
        excluded_stacks=stacks,
    )
    assert found.excluded_stacks == stacks[:100]
    assert found.warnings == (
        "102 stacks' CI deploy roles read this registry, and ECR takes 100 pull-time update "
        "exclusions per account: not excluded: s100, s101",
    )


# --- create on push and replication: the render --------------------------------------------------
@pytest.fixture(scope="module")
def wide() -> Rendered:
    return variant("prod-push-and-replicate").rendered


def test_create_on_push_templates_carry_the_stack_defaults(wide: Rendered) -> None:
    templates = {
        r.inputs["prefix"]: r.inputs for r in wide.of_type(TEMPLATE) if "region" not in r.inputs
    }
    apps, tools = templates["apps"], templates["tools"]
    assert apps["appliedFors"] == tools["appliedFors"] == ["CREATE_ON_PUSH"]
    # prod: immutable tags but the build cache tag, the running markers (which the deploy moves)
    # and the registry's `latest`; the stack's key.
    assert apps["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert [f["filter"] for f in apps["imageTagMutabilityExclusionFilters"]] == [
        "latest",
        "buildcache",
        "prod-running-*",
    ]
    registry_key = next(k for k in wide.of_type(KEY) if "region" not in k.inputs)
    assert apps["encryptionConfigurations"] == [
        {"encryptionType": "KMS", "kmsKey": registry_key.state["arn"]}
    ]
    rules = json.loads(apps["lifecyclePolicy"])["rules"]
    # What runs (the running markers) first, then the deploy-tagged images: every policy alike.
    assert rules[0]["selection"]["tagPrefixList"] == ["prod-running-"]
    assert rules[1]["selection"]["tagPrefixList"] == ["prod-"]
    assert tools["imageTagMutability"] == "MUTABLE"
    assert tools["encryptionConfigurations"] == [{"encryptionType": "AES256"}]
    assert apps["customRoleArn"] == tools["customRoleArn"]
    assert apps["resourceTags"]["stack"] == "prod"


def test_replication_rules_filters_and_replica_templates(wide: Rendered) -> None:
    config = wide.one(REPLICATION).inputs["replicationConfiguration"]
    rules = [
        (
            [d["region"] for d in rule["destinations"]],
            [d["registryId"] for d in rule["destinations"]],
            [(f["filter"], f["filterType"]) for f in rule["repositoryFilters"]],
        )
        for rule in config["rules"]
    ]
    assert rules == [
        (["us-west-2"], [ACCOUNT_ID], [("apps", "PREFIX_MATCH"), ("prod", "PREFIX_MATCH")]),
        (["eu-west-1"], [ACCOUNT_ID], [("prod/api", "PREFIX_MATCH")]),
    ]
    replicas = sorted(
        (r.inputs["region"], r.inputs["prefix"], r.inputs["appliedFors"][0])
        for r in wide.of_type(TEMPLATE)
        if r.inputs.get("region")
    )
    assert replicas == [
        ("eu-west-1", "prod/api", "REPLICATION"),
        ("us-west-2", "apps", "REPLICATION"),
        ("us-west-2", "prod", "REPLICATION"),
    ]
    keys = {k.inputs["region"]: k.state["arn"] for k in wide.of_type(KEY) if k.inputs.get("region")}
    assert sorted(keys) == ["eu-west-1", "us-west-2"]
    for template in wide.of_type(TEMPLATE):
        region = template.inputs.get("region")
        if region:  # encrypted with the key of the replica's own region
            kms = template.inputs["encryptionConfigurations"][0]["kmsKey"]
            assert kms == keys[region] and f":kms:{region}:" in kms
    assert wide.outputs["ecrReplicaRegistryUrls"] == {
        "eu-west-1": f"{ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com",
        "us-west-2": f"{ACCOUNT_ID}.dkr.ecr.us-west-2.amazonaws.com",
    }


def test_the_template_role_creates_only_under_the_prefixes(wide: Rendered) -> None:
    policy = json.loads(
        next(
            p for p in wide.of_type("aws:iam/rolePolicy:RolePolicy") if "registry-wide" in p.name
        ).inputs["policy"]
    )
    create = next(s for s in policy["Statement"] if s["Sid"] == "CreateTemplatedRepositories")
    assert create["Resource"] == [
        f"arn:aws:ecr:eu-west-1:{ACCOUNT_ID}:repository/prod/api*",
        f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/apps/*",
        f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/tools/*",
        f"arn:aws:ecr:us-west-2:{ACCOUNT_ID}:repository/apps*",
        f"arn:aws:ecr:us-west-2:{ACCOUNT_ID}:repository/prod*",
    ]


# --- the deploy role -------------------------------------------------------------------------------
def can(name: str, action: str, resource: str = "*", **context: Any) -> bool:
    v = variant(name)
    return is_allowed(
        [policies.deploy_policy(v.settings, ACCOUNT_ID)], Request(action, resource, context)
    )


def repo(name: str, region: str = "us-east-1") -> str:
    return f"arn:aws:ecr:{region}:{ACCOUNT_ID}:repository/{name}"


def test_ci_pushes_and_creates_under_exactly_the_create_on_push_prefixes() -> None:
    for action in ("ecr:CreateRepository", "ecr:PutImage", "ecr:InitiateLayerUpload"):
        assert can("prod-push-and-replicate", action, repo("apps/newapp")), action
        assert can("prod-push-and-replicate", action, repo("tools/x/y")), action
        assert not can("prod-push-and-replicate", action, repo("apps")), action
        assert not can("prod-push-and-replicate", action, repo("appsx/newapp")), action
        assert not can("prod-push-and-replicate", action, repo("other/newapp")), action
    assert not can("prod-owner-stack-key", "ecr:CreateRepository", repo("apps/newapp"))


@pytest.mark.parametrize("name", ["dev-consumer", "dev-given-network", "dev-legacy-fargate"])
def test_a_non_owner_deploy_role_gets_none_of_it(name: str) -> None:
    for action in (
        "ecr:RegisterPullTimeUpdateExclusion",
        "ecr:DeregisterPullTimeUpdateExclusion",
        "ecr:PutReplicationConfiguration",
        "ecr:CreateRepositoryCreationTemplate",
        "kms:CreateKey",
    ):
        assert not can(name, action), action
    assert not can(name, "ecr:CreateRepository", repo("apps/newapp"))


def test_the_owner_manages_exclusions_replication_and_replica_keys() -> None:
    assert can("prod-owner-stack-key", "ecr:RegisterPullTimeUpdateExclusion")
    assert not can("prod-owner-stack-key", "ecr:PutReplicationConfiguration")
    name = "prod-push-and-replicate"
    assert can(name, "ecr:PutReplicationConfiguration")
    west = f"arn:aws:kms:us-west-2:{ACCOUNT_ID}:key/1234abcd-0000-0000-0000-000000000000"
    assert can(name, "kms:ScheduleKeyDeletion", west, **{"aws:ResourceTag/stack": "prod"})
    assert not can(name, "kms:ScheduleKeyDeletion", west, **{"aws:ResourceTag/stack": "dev"})
    far = west.replace("us-west-2", "ap-south-1")
    assert not can(name, "kms:ScheduleKeyDeletion", far, **{"aws:ResourceTag/stack": "prod"})


def test_the_boundary_lets_the_template_role_reach_the_replicas_only() -> None:
    v = variant("prod-push-and-replicate")
    boundary = policies.boundary_policy(v.settings, ACCOUNT_ID)
    assert is_allowed([boundary], Request("ecr:ReplicateImage", repo("apps/x", "us-west-2")))
    assert not is_allowed([boundary], Request("ecr:ReplicateImage", repo("team/x", "us-west-2")))
    assert not is_allowed([boundary], Request("ecr:CreateRepository", repo("apps/x", "ap-south-1")))


# --- bad input ---------------------------------------------------------------------------------------
def test_registry_wide_keys_are_refused_on_a_consumer() -> None:
    lines = refused(
        "dev",
        registry(
            "dev",
            createOnPush=[{"prefix": "apps"}],
            replication=[{"region": "us-west-2", "prefixes": ["apps"]}],
        ),
    )
    owned = (
        "is registry-wide and created by stack 'prod' (accountOwner); set it in Pulumi.prod.yaml"
    )
    assert lines == [
        f"{PREFIX}registry.createOnPush': {owned}, or make this stack the owner",
        f"{PREFIX}registry.replication': {owned}, or make this stack the owner",
    ]


def test_every_bad_owner_value_is_one_line_at_its_key() -> None:
    lines = refused(
        "prod",
        registry(
            "prod",
            createOnPush=[
                {"prefix": "apps"},
                {"prefix": "apps/team"},
                {"prefix": "quay/mirror"},
                {"prefix": "tools", "encryption": "KMS", "tagMutability": "FROZEN"},
            ],
            replication=[
                {"region": "cn-north-1", "prefixes": ["apps"]},
                {"region": "us-east-1", "prefixes": ["apps"]},
                {"region": "us-west-2", "prefixes": ["apps", "apps/team", "Bad"]},
            ],
            encryption="AES256",
        ),
    )
    assert lines == [
        f"{PREFIX}registry.createOnPush[1].prefix': 'apps/team' is not allowed; it overlaps "
        "createOnPush prefix 'apps': give namespaces that neither equal nor contain one another",
        f"{PREFIX}registry.createOnPush[2].prefix': 'quay/mirror' is not allowed; it overlaps "
        "pull-through cache prefix 'quay', whose repositories ECR creates on pull with the "
        "cache's template",
        f"{PREFIX}registry.createOnPush[3].tagMutability': 'FROZEN' is not allowed; use one "
        "of MUTABLE, IMMUTABLE",
        f"{PREFIX}registry.createOnPush[3].encryption': 'KMS' is not allowed with "
        "registry.encryption AES256; the template encrypts with the stack's registry key: set "
        "registry.encryption KMS, or use AES256",
        f"{PREFIX}registry.replication[0].region': 'cn-north-1' is not allowed; it is in "
        "partition aws-cn and this stack in aws: ECR replicates within a partition",
        f"{PREFIX}registry.replication[1].region': 'us-east-1' is not allowed; it is this "
        "stack's own region: replicate to another region",
        f"{PREFIX}registry.replication[2].prefixes[1]': 'apps/team' is not allowed; it "
        "overlaps prefix 'apps' replicated to the same region (PREFIX_MATCH): keep the shorter one",
        f"{PREFIX}registry.replication[2].prefixes[2]': 'Bad' is not allowed; a replicated "
        "prefix is a repository namespace (2 to 256 characters, lowercase components joined by "
        "'/'): the REPLICATION template of the same prefix gives the replicas their settings",
    ]


def test_too_many_replication_rules_is_one_line() -> None:
    rules = [{"region": "us-west-2", "prefixes": [f"team{i}"]} for i in range(11)]
    lines = refused("prod", registry("prod", replication=rules))
    assert lines == [
        f"{PREFIX}registry.replication': 11 rules are not allowed; ECR takes at most 10 "
        "replication rules per registry"
    ]


def test_the_schema_pattern_of_a_namespace_is_the_repository_name_rule() -> None:
    from rules.registry.names import REPOSITORY_NAME
    from settings.keys.stack import REPOSITORY_NAMESPACE

    assert f"^{REPOSITORY_NAME.pattern}$" == REPOSITORY_NAMESPACE
