"""A self-managed state backend in the bootstrap: per stack a secrets key, and each CI role its own
stack's state objects and key, evaluated the way IAM and KMS decide."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import lint

import permissions as policies
from cli import bootstrap
from permissions import StateBackend
from plan.engine import ACCOUNT_ID
from rules.iam.evaluate import Request, decide, is_allowed
from rules.naming import StackNames
from settings.source import PROJECT_DIR
from tests.ci_support import action_details, arn_is_of
from tests.conftest import STACKS

STATE = StateBackend("state-bucket", "pulumi/")
BUCKET = "arn:aws:s3:::state-bucket"
KEYS = {
    stack: f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/{stack}-0000-1111-2222-333344445555"
    for stack in ("dev", "prod")
}


def load(*stacks: str, stack_dir: Path = STACKS) -> list[Any]:
    return bootstrap.load_stacks(stacks, stack_dir)


def resolved(value: Any) -> Any:
    """The template as CloudFormation resolves it: the account, and each secrets key's ARN."""
    if isinstance(value, dict):
        if set(value) == {"Fn::Sub"}:
            return value["Fn::Sub"].replace(bootstrap.ACCOUNT, ACCOUNT_ID)
        if set(value) == {"Fn::GetAtt"} and value["Fn::GetAtt"][0].endswith("SecretsKey"):
            return KEYS[value["Fn::GetAtt"][0].removesuffix("SecretsKey").lower()]
        return {k: resolved(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolved(v) for v in value]
    return value


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return resolved(bootstrap.template(load("dev", "prod"), STATE))


def role_documents(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    """A role's identity policies: inline and attached managed ones."""
    props = template["Resources"][role_id]["Properties"]
    docs = [p["PolicyDocument"] for p in props.get("Policies", [])]
    managed = [template["Resources"][r["Ref"]] for r in props.get("ManagedPolicyArns", [])]
    return docs + [m["Properties"]["PolicyDocument"] for m in managed]


def can(template: dict[str, Any], stack: str, role: str, action: str, resource: str, **ctx: Any):
    """What the role of `stack` gets: its IAM policies allow, and no key policy denies."""
    names = StackNames(stack)
    arn = (
        names.deploy_role_arn(ACCOUNT_ID)
        if role == "deploy"
        else names.preview_role_arn(ACCOUNT_ID)
    )
    identity = role_documents(template, f"{stack.capitalize()}{role.capitalize()}Role")
    request = Request(action, resource, {"aws:PrincipalArn": arn, **ctx})
    key = next((s for s, k in KEYS.items() if k == resource), None)
    if key is not None:
        key_policy = template["Resources"][f"{key.capitalize()}SecretsKey"]["Properties"]
        if decide([key_policy["KeyPolicy"]], request) == "Deny":
            return False
    return is_allowed(identity, request)


def obj(key: str) -> str:
    return f"{BUCKET}/pulumi/.pulumi/{key}"


def test_keys_follow_pulumis_layout_for_a_project_stack() -> None:
    names = StackNames("dev")
    assert names.state_meta_key("p/") == "p/.pulumi/meta.yaml"
    assert names.state_stack_keys("p/") == (
        "p/.pulumi/stacks/ecr-fargate/dev.*",
        "p/.pulumi/history/ecr-fargate/dev/*",
        "p/.pulumi/backups/ecr-fargate/dev/*",
        "p/.pulumi/journal/ecr-fargate/dev/*",
        "p/.pulumi/locks/organization/ecr-fargate/dev/*",
    )
    assert names.secrets_provider == "awskms://alias/ecr-fargate-dev-secrets?region=us-east-1"
    assert StackNames("x", "aws-cn").state_bucket_arn("b") == "arn:aws-cn:s3:::b"


def test_each_stack_gets_a_retained_rotating_key_behind_its_alias(template: dict[str, Any]) -> None:
    for stack in ("dev", "prod"):
        cap, names = stack.capitalize(), StackNames(stack)
        key = template["Resources"][f"{cap}SecretsKey"]
        assert key["Type"] == "AWS::KMS::Key"
        assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("Retain", "Retain")
        assert key["Properties"]["EnableKeyRotation"] is True
        alias = template["Resources"][f"{cap}SecretsKeyAlias"]["Properties"]
        assert alias == {
            "AliasName": names.secrets_key_alias,
            "TargetKeyId": {"Ref": f"{cap}SecretsKey"},
        }
        assert template["Outputs"][f"{cap}SecretsProvider"]["Value"] == names.secrets_provider


def test_without_a_backend_the_template_has_no_keys_and_no_state_access() -> None:
    plain = bootstrap.template(load("dev", "prod"))
    assert not [r for r in plain["Resources"].values() if r["Type"].startswith("AWS::KMS::")]
    assert "state" not in json.dumps(
        [r.get("Properties", {}).get("Policies") for r in plain["Resources"].values()]
    )
    assert not [o for o in plain["Outputs"] if o.endswith("SecretsProvider")]


def test_the_roles_carry_exactly_the_state_policies(template: dict[str, Any]) -> None:
    dev, prod = load("dev", "prod")
    for s in (dev, prod):
        cap = s.stack.capitalize()
        deploy = template["Resources"][f"{cap}DeployRole"]["Properties"]["Policies"]
        wanted = policies.state_policy(s, STATE, KEYS[s.stack], deploy=True)
        assert deploy == [{"PolicyName": "state", "PolicyDocument": wanted}]
    preview = {
        s.stack: [
            p["PolicyName"]
            for p in template["Resources"][f"{s.stack.capitalize()}PreviewRole"]["Properties"][
                "Policies"
            ]
        ]
        for s in (dev,)
    }
    assert preview == {"dev": ["preview", "state"]}
    # Prod has no preview role (pull requests plan it offline): nothing to give state to.
    assert "ProdPreviewRole" not in template["Resources"]


ALL_ROLES = [("dev", "deploy"), ("dev", "preview"), ("prod", "deploy")]


@pytest.mark.parametrize(
    ("action", "resource", "who"),
    [
        ("s3:ListBucket", BUCKET, {("dev", "deploy"), ("dev", "preview"), ("prod", "deploy")}),
        (
            "s3:GetObject",
            obj("meta.yaml"),
            {("dev", "deploy"), ("dev", "preview"), ("prod", "deploy")},
        ),
        ("s3:PutObject", obj("meta.yaml"), set()),
        (
            "s3:GetObject",
            obj("stacks/ecr-fargate/dev.json"),
            {("dev", "deploy"), ("dev", "preview")},
        ),
        (
            "s3:GetObject",
            obj("stacks/ecr-fargate/dev.pulumi-tags"),
            {("dev", "deploy"), ("dev", "preview")},
        ),
        ("s3:PutObject", obj("stacks/ecr-fargate/dev.json"), {("dev", "deploy")}),
        ("s3:PutObject", obj("stacks/ecr-fargate/dev.json.bak"), {("dev", "deploy")}),
        ("s3:DeleteObject", obj("locks/organization/ecr-fargate/dev/u.json"), {("dev", "deploy")}),
        ("s3:PutObject", obj("history/ecr-fargate/dev/dev-1.history.json"), {("dev", "deploy")}),
        ("s3:PutObject", obj("backups/ecr-fargate/dev/dev.1.json"), {("dev", "deploy")}),
        ("s3:PutObject", obj("journal/ecr-fargate/dev/1.json"), {("dev", "deploy")}),
        ("s3:GetObject", obj("stacks/ecr-fargate/prod.json"), {("prod", "deploy")}),
        ("s3:PutObject", obj("stacks/ecr-fargate/prod.json"), {("prod", "deploy")}),
        ("s3:PutObject", obj("locks/organization/ecr-fargate/prod/u.json"), {("prod", "deploy")}),
        # Names that extend a stack's, another project, outside the prefix: nobody.
        ("s3:GetObject", obj("stacks/ecr-fargate/dev-eu.json"), set()),
        ("s3:PutObject", obj("history/ecr-fargate/dev-eu/x.json"), set()),
        ("s3:PutObject", obj("locks/organization/ecr-fargate/prod-eu/u.json"), set()),
        ("s3:GetObject", obj("stacks/other-project/dev.json"), set()),
        ("s3:GetObject", f"{BUCKET}/.pulumi/stacks/ecr-fargate/dev.json", set()),
        (
            "s3:GetObject",
            "arn:aws:s3:::other-bucket/pulumi/.pulumi/stacks/ecr-fargate/dev.json",
            set(),
        ),
        ("kms:Decrypt", KEYS["dev"], {("dev", "deploy"), ("dev", "preview")}),
        ("kms:Encrypt", KEYS["dev"], {("dev", "deploy")}),
        ("kms:GenerateDataKey", KEYS["dev"], {("dev", "deploy")}),
        ("kms:Decrypt", KEYS["prod"], {("prod", "deploy")}),
        ("kms:Encrypt", KEYS["prod"], {("prod", "deploy")}),
        ("kms:ScheduleKeyDeletion", KEYS["prod"], set()),
        ("kms:PutKeyPolicy", KEYS["dev"], set()),
    ],
)
def test_who_reaches_what(
    template: dict[str, Any], action: str, resource: str, who: set[Any]
) -> None:
    got = {
        (stack, role) for stack, role in ALL_ROLES if can(template, stack, role, action, resource)
    }
    assert got == who


def test_the_key_policy_holds_where_iam_alone_would_not(template: dict[str, Any]) -> None:
    """Prod's deploy role may tag an untagged key for prod and then manage it (its registry key's
    ABAC); the secrets keys carry no `stack` tag, so only their key policy keeps it from claiming
    dev's key."""
    names = StackNames("dev")
    prod = StackNames("prod").deploy_role_arn(ACCOUNT_ID)
    tag = Request(
        "kms:TagResource",
        KEYS["dev"],
        {"aws:PrincipalArn": prod, "aws:RequestTag/stack": "prod", "aws:TagKeys": ["stack"]},
    )
    assert is_allowed(role_documents(template, "ProdDeployRole"), tag)  # IAM alone would let it
    assert not can(template, "prod", "deploy", tag.action, tag.resource, **tag.context)
    # Decrypt with another stack's key is refused even if an IAM policy allowed every key.
    everything = policies.document([policies.statement("All", ["kms:Decrypt"], "*")])
    request = Request(
        "kms:Decrypt", KEYS["prod"], {"aws:PrincipalArn": names.deploy_role_arn(ACCOUNT_ID)}
    )
    assert is_allowed([everything], request)
    key_policy = template["Resources"]["ProdSecretsKey"]["Properties"]["KeyPolicy"]
    assert decide([key_policy], request) == "Deny"


def test_every_state_action_is_real_and_on_its_resource_type(template: dict[str, Any]) -> None:
    for stack, role in ALL_ROLES:
        for doc in role_documents(template, f"{stack.capitalize()}{role.capitalize()}Role"):
            if not any(st["Sid"] in ("ListStateKeys",) for st in doc["Statement"]):
                continue
            assert policies.unknown_actions(doc) == []
            for st in doc["Statement"]:
                for action in st["Action"]:
                    assert action_details(action) is not None, action
                    for arn in st["Resource"]:
                        assert arn_is_of(action, arn), (action, arn)


def test_only_stacks_not_behind_an_environment_preview_with_secrets() -> None:
    """The same rule as the deploy subject in `settings.github`, and the same stacks the pull
    request workflow previews for real."""
    for s in load("dev", "prod") + load("dev", "prod", stack_dir=PROJECT_DIR):
        assert s.github is not None
        assert policies.previews_with_secrets(s) == (":environment:" not in s.github.deploy_subject)
    workflow = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "preview.yml").read_text())
    previewed = {
        stack
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if step.get("uses", "").startswith("pulumi/actions@")
        for stack in ("dev", "prod")
        if f"'{stack}'" in step["with"]["stack-name"]
    }
    assert previewed == {
        s.stack
        for s in load("dev", "prod", stack_dir=PROJECT_DIR)
        if policies.previews_with_secrets(s)
    }


@pytest.mark.parametrize("stacks", [("dev",), ("prod",), ("dev", "prod")])
def test_cfn_lint_finds_nothing_and_each_stacks_template_fits_a_direct_deploy(
    stacks: tuple[str, ...],
) -> None:
    """One template per stack, as docs/bootstrap.md deploys them, fits `deploy` without --s3-bucket;
    both stacks in one template still lint clean (they are over that size together)."""
    text = bootstrap.render(load(*stacks), STATE)
    assert lint(text) == []
    if len(stacks) == 1:
        assert len(text.encode()) <= bootstrap.DIRECT_DEPLOY_BYTES


def test_cfn_lint_would_find_a_mistake_in_the_state_resources() -> None:
    broken = json.loads(bootstrap.render(load("dev"), STATE))
    broken["Resources"]["DevSecretsKeyAlias"]["Properties"]["TargetKey"] = "typo"
    assert lint(json.dumps(broken)) != []


@pytest.mark.parametrize(
    ("prefix", "wanted"),
    [(None, ""), ("", ""), ("/", ""), ("pulumi", "pulumi/"), ("/a/b.c/", "a/b.c/")],
)
def test_the_prefix_is_as_pulumi_prefixes_keys(prefix: str | None, wanted: str) -> None:
    assert bootstrap.state_backend("state-bucket", prefix) == StateBackend("state-bucket", wanted)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.bootstrap", "--stack-dir", str(STACKS), *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("stacks", [("dev",), ("prod",), ("dev", "prod")])
def test_the_command_takes_the_backend(stacks: tuple[str, ...]) -> None:
    done = run(*stacks, "--state-bucket", "state-bucket", "--state-prefix", "pulumi")
    assert done.returncode == 0, done.stderr
    assert done.stdout == bootstrap.render(load(*stacks), STATE)
    # Together they are over the direct-deploy size: one line on stderr says so.
    assert len(done.stderr.splitlines()) == (len(stacks) > 1)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--state-prefix", "pulumi"), "--state-prefix needs --state-bucket"),
        (("--state-bucket", "*"), "is not an S3 bucket name"),
        (("--state-bucket", "Upper"), "is not an S3 bucket name"),
        (("--state-bucket", "a..b"), "is not an S3 bucket name"),
        (("--state-bucket", "ok-bucket", "--state-prefix", "a/*"), "is not allowed"),
        (("--state-bucket", "ok-bucket", "--state-prefix", "a/../b"), "is not allowed"),
        (("--state-bucket", "ok-bucket", "--state-prefix", "a//b"), "is not allowed"),
    ],
)
def test_a_backend_a_wildcard_could_widen_is_refused(args: tuple[str, ...], fragment: str) -> None:
    done = run("dev", *args)
    assert (done.returncode, done.stdout) == (2, "")  # bad arguments, as argparse exits
    (line,) = done.stderr.strip().splitlines()
    assert fragment in line
