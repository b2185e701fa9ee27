"""Separate accounts: `aws:allowedAccountIds` places a stack; each account's registry has one
owner; promotion crosses accounts with exactly the grants it needs. Bad input: one line each at
the exact key, all at once, nothing registered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import permissions as policies
import settings as stack_settings
from cli import bootstrap
from plan import engine
from settings.source import from_files
from tests.conftest import STACKS

DEV_ACCOUNT, PROD_ACCOUNT = "111111111111", "222222222222"
PROD_DEPLOY_ROLE = f"arn:aws:iam::{PROD_ACCOUNT}:role/ecr-fargate-ci/prod/ecr-fargate-prod-deploy"


def write(directory: Path, stack: str, changes: dict[str, Any]) -> None:
    """A fixture stack file with keys changed (None removes one)."""
    config = yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text())["config"]
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    (directory / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))


def layout(tmp_path: Path, dev: dict[str, Any], prod: dict[str, Any]) -> Path:
    write(tmp_path, "dev", dev)
    write(tmp_path, "prod", prod)
    return tmp_path


def problems(directory: Path, stack: str) -> list[str]:
    with pytest.raises(stack_settings.ConfigErrors) as caught:
        engine.render(from_files(stack, stack_dir=directory), env={})
    return str(caught.value).splitlines()


TWO_ACCOUNTS: dict[str, dict[str, Any]] = {
    "dev": {
        "aws:allowedAccountIds": [DEV_ACCOUNT],
        "ecr-fargate:accountOwner": None,  # alone in its account: it owns its registry
        "ecr-fargate:pullThroughCache": [{"upstream": "ecr-public"}],
    },
    "prod": {"aws:allowedAccountIds": [PROD_ACCOUNT], "ecr-fargate:promoteFrom": "dev"},
}
REGISTRY_WIDE = (
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule",
    "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration",
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate",
)


@pytest.fixture
def two_accounts(tmp_path: Path) -> Path:
    return layout(tmp_path, TWO_ACCOUNTS["dev"], TWO_ACCOUNTS["prod"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_account_owner_creates_its_registry_wide_resources(
    two_accounts: Path, stack: str
) -> None:
    loaded = stack_settings.load(from_files(stack, stack_dir=two_accounts), env={})
    assert loaded.account.owns and loaded.account.owner == stack
    rendered = engine.render(from_files(stack, stack_dir=two_accounts), env={})
    types = {r.type for r in rendered.resources}
    assert set(REGISTRY_WIDE) <= types


def test_dev_repositories_let_exactly_prods_deploy_role_pull(two_accounts: Path) -> None:
    rendered = engine.render(from_files("dev", stack_dir=two_accounts), env={})
    policies_ = [
        json.loads(r.inputs["policy"])
        for r in rendered.resources
        if r.type == "aws:ecr/repositoryPolicy:RepositoryPolicy"
    ]
    assert len(policies_) == 2  # api and worker
    for doc in policies_:
        grants = [s for s in doc["Statement"] if s.get("Sid") == "PromotionPull"]
        assert grants == [
            {
                "Sid": "PromotionPull",
                "Effect": "Allow",
                "Principal": {"AWS": [PROD_DEPLOY_ROLE]},
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            }
        ]


def test_prods_deploy_role_reads_devs_repositories_and_writes_its_own_parameter(
    two_accounts: Path,
) -> None:
    loaded = stack_settings.load(from_files("prod", stack_dir=two_accounts), env={})
    doc = policies.deploy_policy(loaded, PROD_ACCOUNT)
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["PullPromotedImages"]["Action"] == [
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    ]
    assert by_sid["PullPromotedImages"]["Resource"] == [
        f"arn:aws:ecr:us-east-1:{DEV_ACCOUNT}:repository/dev/api",
        f"arn:aws:ecr:us-east-1:{DEV_ACCOUNT}:repository/dev/worker",
    ]
    parameter = f"arn:aws:ssm:us-east-1:{PROD_ACCOUNT}:parameter/ecr-fargate/prod/image-digests"
    assert by_sid["RecordPromotedDigests"] == {
        "Sid": "RecordPromotedDigests",
        "Effect": "Allow",
        "Action": ["ssm:PutParameter"],
        "Resource": [parameter],
    }
    preview = policies.preview_policy(loaded, PROD_ACCOUNT)
    reads = {s["Sid"]: s for s in preview["Statement"]}
    assert reads["ReadPromotedDigests"]["Resource"] == [parameter]
    assert "PullPromotedImages" not in reads and "RecordPromotedDigests" not in reads
    # dev promotes from nobody: none of it.
    dev = stack_settings.load(from_files("dev", stack_dir=two_accounts), env={})
    sids = {s["Sid"] for s in policies.deploy_policy(dev, DEV_ACCOUNT)["Statement"]}
    assert not sids & {"PullPromotedImages", "RecordPromotedDigests", "ReadPromotedDigests"}


def test_one_template_per_account_each_with_its_own_github_provider(two_accounts: Path) -> None:
    for stack in ("dev", "prod"):
        template = bootstrap.template(bootstrap.load_stacks([stack], two_accounts))
        providers = [
            r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::OIDCProvider"
        ]
        assert len(providers) == 1
    with pytest.raises(bootstrap.BootstrapError, match="one template deploys to one account"):
        bootstrap.template(bootstrap.load_stacks(["dev", "prod"], two_accounts))


def test_the_committed_one_account_layout_is_unchanged() -> None:
    dev = stack_settings.load(from_files("dev", stack_dir=STACKS), env={})
    assert dev.accounts == () and not dev.account.owns and dev.account.owner == "prod"


# Twelve digits, but fullwidth ones: `str.isdigit()` and `\\d` would accept them, AWS does not.
FULLWIDTH = "".join(chr(0xFF10 + int(d)) for d in "123456789012")
ACCOUNT_LINE = (
    "is not allowed; an AWS account ID is exactly 12 ASCII digits, quoted so YAML keeps "
    "leading zeros ('012345678901')"
)


def test_bad_input_one_line_each_all_at_once(tmp_path: Path) -> None:
    directory = layout(
        tmp_path,
        {"aws:region": "eu-west-1"},
        {
            "aws:allowedAccountIds": ["12345678901", FULLWIDTH, 123456789012],
            "ecr-fargate:promoteFrom": "dev",
        },
    )
    assert problems(directory, "prod") == [
        f"config 'aws:allowedAccountIds[0]': '12345678901' {ACCOUNT_LINE}",
        f"config 'aws:allowedAccountIds[1]': '{FULLWIDTH}' {ACCOUNT_LINE}",
        f"config 'aws:allowedAccountIds[2]': 123456789012 {ACCOUNT_LINE}",
        "config 'ecr-fargate:promoteFrom': 'dev' is not allowed; it deploys to 'eu-west-1', this "
        "stack to 'us-east-1', and promotion copies within one region (python -m cli.promote "
        "uses one region's ECR API): promote from a stack in the same region",
    ]


def test_promotion_from_a_stack_that_does_not_exist(tmp_path: Path) -> None:
    directory = layout(tmp_path, {}, {"ecr-fargate:promoteFrom": "staging"})
    assert problems(directory, "prod") == [
        "config 'ecr-fargate:promoteFrom': 'staging' is not allowed; there is no "
        "Pulumi.staging.yaml beside this stack's file: name a stack of this project that builds "
        "the images"
    ]


def test_an_owner_in_another_account_is_refused(tmp_path: Path) -> None:
    directory = layout(
        tmp_path,
        {"aws:allowedAccountIds": [DEV_ACCOUNT]},  # still names prod as its owner
        {"aws:allowedAccountIds": [PROD_ACCOUNT]},
    )
    assert problems(directory, "dev") == [
        f"config 'ecr-fargate:accountOwner': 'prod' is not allowed; stack 'prod' is in account "
        f"{PROD_ACCOUNT} and this stack in {DEV_ACCOUNT} (aws:allowedAccountIds): each "
        "account's registry has its own owner, so remove accountOwner and this stack owns its "
        "account's registry-wide resources"
    ]


def test_two_stacks_of_one_account_with_conflicting_owners(tmp_path: Path) -> None:
    directory = layout(
        tmp_path,
        {"aws:allowedAccountIds": [DEV_ACCOUNT], "ecr-fargate:accountOwner": None},
        {"aws:allowedAccountIds": [DEV_ACCOUNT]},
    )
    assert problems(directory, "dev") == [
        f"config 'ecr-fargate:accountOwner': 'dev' is not allowed; stack 'prod' shares account "
        f"{DEV_ACCOUNT} and region us-east-1 and names 'prod' as the owner: every stack of one "
        "account and region names the same accountOwner"
    ]


def test_a_refused_account_id_is_never_used_again(tmp_path: Path) -> None:
    """The good ID beside a bad one would make dev's owner look like another account's: the one
    problem is the bad ID, not a derived owner conflict."""
    directory = layout(
        tmp_path,
        {"aws:allowedAccountIds": ["1111-1111-1111", PROD_ACCOUNT]},
        {"aws:allowedAccountIds": [DEV_ACCOUNT]},
    )
    assert problems(directory, "dev") == [
        f"config 'aws:allowedAccountIds[0]': '1111-1111-1111' {ACCOUNT_LINE}"
    ]


def test_the_stack_file_schema_checks_the_account_ids(two_accounts: Path) -> None:
    import jsonschema

    from settings.schema import stack_schema

    schema = stack_schema()
    for stack in ("dev", "prod"):
        doc = yaml.safe_load((two_accounts / f"Pulumi.{stack}.yaml").read_text())
        jsonschema.validate(doc, schema)
    doc["config"]["aws:allowedAccountIds"] = ["12345"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)
