"""Every class of bad config stops the render with one line naming the key; nothing is created."""

from __future__ import annotations

import json
from typing import Any

import pytest

from settings import ConfigErrors
from tests.conftest import GIT_ENV, render_stack

API = {"name": "api", "build": {"context": "app"}}
FARGATE = {"service": "api", "cpu": 256, "memory": 512, "assignPublicIp": True}


def refused(stack: str, overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigErrors) as info:
        render_stack(stack, env=GIT_ENV, overrides=overrides)
    return str(info.value)


@pytest.mark.parametrize(
    ("overrides", "key", "fragment"),
    [
        ({"environment": "staging"}, "ecr-fargate:environment'", "use one of dev, prod"),
        ({"aws:region": "mars-north-1"}, "aws:region'", "mars-north-1"),
        ({"tagMutabilty": "MUTABLE"}, "ecr-fargate:tagMutabilty'", "unknown key"),
        ({"registry": {"tagMutabilty": "MUTABLE"}}, "registry.tagMutabilty'", "unknown key"),
        (
            {"registry": {"tagMutability": "FROZEN"}},
            "registry.tagMutability'",
            "MUTABLE, IMMUTABLE",
        ),
        (
            {"services": [{"name": "api", "repository": "Bad_Name"}]},
            "services[0].repository'",
            "Bad_Name",
        ),
        ({"services": []}, "ecr-fargate:services'", "at least one service"),
        (
            {"services": [API, {"name": "api"}]},
            "services[1].name'",
            "services[0] has that name",
        ),
        (
            {"services": [{"name": "w", "lifecycle": {"preset": "keep-all"}}]},
            "services[0].lifecycle.preset'",
            "keep-last-10",
        ),
        (
            {
                "services": [
                    {
                        "name": "w",
                        "lifecycle": {
                            "policy": {
                                "rules": [
                                    {
                                        "rulePriority": 1,
                                        "selection": {
                                            "tagStatus": "untagged",
                                            "countType": "imageCountMoreThan",
                                            "countNumber": 0,
                                        },
                                        "action": {"type": "expire"},
                                    }
                                ]
                            }
                        },
                    }
                ]
            },
            "services[0].lifecycle.policy.rules[0].selection.countNumber'",
            "rule 1",
        ),
        ({"deployProtectionCount": 0}, "deployProtectionCount'", ">= 1"),
    ],
)
def test_registry_config_errors_name_the_key(overrides: dict, key: str, fragment: str) -> None:
    if "fargate" not in overrides and "services" in overrides:
        overrides = {**overrides, "fargate": {}}
    message = refused("dev", overrides)
    assert key in message
    assert fragment in message
    assert "Traceback" not in message


@pytest.mark.parametrize(
    ("service", "key", "fragment"),
    [
        (
            {"name": "api", "build": {"context": "no-such-dir"}},
            "services[0].build.context'",
            "no-such-dir",
        ),
        (
            {"name": "api", "build": {"context": "app", "dockerfile": "Missing.Dockerfile"}},
            "services[0].build",
            "Missing.Dockerfile",
        ),
        (
            {"name": "api", "build": {"context": "app"}, "platform": "linux/s390x"},
            "services[0].platform'",
            "linux/s390x",
        ),
        (
            {"name": "api", "build": {"context": "app", "args": {"WORKERS": 4}}},
            "services[0].build.args.WORKERS'",
            "quote it",
        ),
        (
            {"name": "api", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/dev/api:v1"},
            "services[0].image'",
            "digest",
        ),
    ],
)
def test_build_config_errors_name_the_key(service: dict, key: str, fragment: str) -> None:
    message = refused("dev", {"services": [service], "fargate": FARGATE})
    assert key in message
    assert fragment in message


@pytest.mark.parametrize(
    ("fargate", "key", "fragment"),
    [
        ({"cpu": 256, "memory": 4096}, "fargate.memory'", "512, 1024, 2048"),
        ({"architecture": "ARM64"}, "fargate.architecture'", "ARM64"),
        (
            {"environment": {"DB_PASSWORD": "hunter2"}},
            "fargate.environment.DB_PASSWORD'",
            "secretArn",
        ),
        ({"subnetIds": ["subnet-xyz"]}, "fargate.subnetIds[0]'", "subnet-xyz"),
        ({"securityGroupIds": ["group-1"]}, "fargate.securityGroupIds[0]'", "group-1"),
        ({"ephemeralStorageGiB": 20}, "fargate.ephemeralStorageGiB'", ">= 21"),
        ({"logRetentionDays": 10}, "fargate.logRetentionDays'", "14"),
        ({"service": "nope"}, "fargate.service'", "api, worker"),
    ],
)
def test_fargate_config_errors_name_the_key(fargate: dict, key: str, fragment: str) -> None:
    message = refused("dev", {"fargate": {**FARGATE, **fargate}})
    assert key in message
    assert fragment in message


def test_public_ip_is_refused_in_prod() -> None:
    message = refused("prod", {"fargate": {"service": "api", "assignPublicIp": True}})
    assert "fargate.assignPublicIp'" in message


def test_many_problems_are_reported_together() -> None:
    message = refused("dev", {"environment": "qa", "fargate": {**FARGATE, "port": 0}})
    lines = message.splitlines()
    assert any("ecr-fargate:environment'" in line for line in lines)
    assert any("fargate.port'" in line for line in lines)


def test_nothing_is_registered_when_config_is_bad() -> None:
    from plan import engine

    registered: list[str] = []
    original = engine._Mocks.new_resource

    def spy(self: Any, args: Any) -> Any:
        registered.append(args.typ)
        return original(self, args)

    engine._Mocks.new_resource = spy  # type: ignore[method-assign]
    try:
        refused("dev", {"registry": {"tagMutability": "FROZEN"}})
    finally:
        engine._Mocks.new_resource = original  # type: ignore[method-assign]
    assert registered == []


# One case per class of refusal: the exact key, and every problem on one line of its own.
FULLWIDTH_ACCOUNT = "".join(chr(0xFF10 + int(d)) for d in "123456789012")
PROD_FARGATE = {"service": "api", "subnetIds": ["subnet-0f1e2d3c4b5a60001"]}
DEV = {"fargate": FARGATE}
BOOL_KEY: dict[Any, Any] = {True: 1}  # what YAML makes of `yes: 1`
KEY = "arn:aws:kms:{region}:123456789012:key/12345678-1234-1234-1234-123456789012"


def only_problem(stack: str, overrides: dict[str, Any]) -> tuple[str, str]:
    """(the key, the line) of the one problem the overrides cause."""
    with pytest.raises(ConfigErrors) as info:
        render_stack(stack, env=GIT_ENV, overrides=overrides)
    lines = str(info.value).split("\n")
    assert len(lines) == len(info.value.errors) == 1, lines
    assert lines[0].isprintable() and len(lines[0].splitlines()) == 1
    return info.value.errors[0].path, lines[0]


def with_service(**fields: Any) -> dict[str, Any]:
    return {"services": [{"name": "api", "build": {"context": "app"}, **fields}], **DEV}


def named(name: str, **fields: Any) -> dict[str, Any]:
    """A service called `name`, run by the Fargate service: only the name can be wrong."""
    services = [{"name": name, "build": {"context": "app"}, **fields}]
    return {"services": services, "fargate": {**FARGATE, "service": name}}


def with_fargate(**fields: Any) -> dict[str, Any]:
    return {"fargate": {**FARGATE, **fields}}


def with_policy_rule(selection: dict[str, Any]) -> dict[str, Any]:
    untagged = {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 3}
    rules = [
        {"rulePriority": 1, "selection": untagged, "action": {"type": "expire"}},
        {"rulePriority": 2, "selection": selection, "action": {"type": "expire"}},
    ]
    return with_service(lifecycle={"policy": {"rules": rules}})


@pytest.mark.parametrize(
    ("stack", "overrides", "key", "fragment"),
    [
        # 1. keys that are not strings, at any depth; wrong types; regions that do not fully match
        ("dev", {7: "x"}, "7", "7 is not allowed as a key"),
        ("dev", {"fargate": {**FARGATE, **BOOL_KEY}}, "fargate.true", "YAML reads unquoted yes"),
        ("prod", {"registry": {False: "x"}}, "registry.false", "quote the key"),
        ("dev", {"services": [{"name": "api", "build": {"context": "app"}, True: 1}], **DEV}, "services[0].true", "quote the key"),
        ("dev", with_fargate(environment={1: "x"}), "fargate.environment.1", "quote the key"),
        ("prod", {"pullThroughCache": [{"upstream": "quay", True: 1}]}, "pullThroughCache[0].true", "quote"),
        ("dev", with_service(lifecycle={"rules": [{"keep": 5, "tagPrefix": "v", 1: 2}]}), "services[0].lifecycle.rules[0]", "unknown key 1"),
        ("prod", {"pullThroughCache": [{"upstream": ["quay"]}]}, "pullThroughCache[0].upstream", "a list is not allowed"),
        ("prod", {"pullThroughCache": [{"upstream": {"a": 1}}]}, "pullThroughCache[0].upstream", "an object is not allowed"),
        ("dev", {"aws:region": "us-east-1\n"}, "aws:region", "'us-east-1\\n' is not allowed"),
        ("dev", {"aws:region": "us-east-1x"}, "aws:region", "exactly as AWS spells it"),
        ("dev", {"aws:region": ["us-east-1"]}, "aws:region", '["us-east-1"] is not allowed'),
        ("dev", with_fargate(port="8080"), "fargate.port", "expected an integer"),
        # 2. names AWS refuses
        ("dev", named("Api", repository="team/api"), "services[0].name", "lowercase letters"),
        ("dev", named("api!"), "services[0].name", "lowercase letters"),
        ("dev", named("a" * 59), "services[0].name", "1 to 58"),
        ("dev", with_fargate(writablePaths=["/a-b", "/a_b"]), "fargate.writablePaths[1]", "same volume name 'writable-a-b'"),
        ("dev", with_fargate(writablePaths=["/tmp", "/tmp"]), "fargate.writablePaths[1]", "writablePaths[0]"),
        ("dev", with_fargate(writablePaths=["/" + "x" * 250]), "fargate.writablePaths[0]", "255-character volume name"),
        # 3. network
        ("prod", {"fargate": {**PROD_FARGATE, "subnetIds": [f"subnet-{i:017x}" for i in range(17)]}}, "fargate.subnetIds", "at most 16"),
        ("prod", {"fargate": {**PROD_FARGATE, "securityGroupIds": [f"sg-{i:08x}" for i in range(6)]}}, "fargate.securityGroupIds", "at most 5"),
        ("prod", {"fargate": {**PROD_FARGATE, "subnetIds": ["subnet-0f1e2d3c4b5a60001"] * 2}}, "fargate.subnetIds[1]", "already listed"),
        ("prod", {"fargate": {**PROD_FARGATE, "ingressCidrs": ["2001:db8::/32"]}}, "fargate.ingressCidrs[0]", "IPv4 blocks only"),
        ("prod", {"fargate": {**PROD_FARGATE, "ingressCidrs": [f"10.{i}.0.0/16" for i in range(60)]}}, "fargate.ingressCidrs", "at most 58"),
        # 4. account IDs and ARNs
        ("prod", {"registry": {"crossAccountPullAccountIds": [FULLWIDTH_ACCOUNT]}}, "registry.crossAccountPullAccountIds[0]", "12 digits 0-9"),
        ("prod", {"registry": {"pushRoleArns": [f"arn:aws:iam::{FULLWIDTH_ACCOUNT}:role/ci"]}}, "registry.pushRoleArns[0]", "12 digits"),
        ("prod", {"registry": {"pushRoleArns": ["arn:aws-cn:iam::123456789012:role/ci"]}}, "registry.pushRoleArns[0]", "partition is aws"),
        ("prod", {"registry": {"kmsKeyArn": KEY.format(region="eu-west-1")}}, "registry.kmsKeyArn", "in the repository's partition and region"),
        ("prod", {"registry": {"kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:alias/ecr"}}, "registry.kmsKeyArn", "aliases are not accepted"),
        ("prod", {"registry": {"kmsKeyArn": KEY.format(region="us-east-1").replace("aws", "aws-cn", 1)}}, "registry.kmsKeyArn", "partition"),
        ("dev", with_fargate(secrets={"DB": "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/db"}), "fargate.secrets.DB", "partition (aws)"),
        ("dev", with_fargate(environment={"DB": {"secretArn": f"arn:aws:ssm:us-east-1:{FULLWIDTH_ACCOUNT}:parameter/db"}}), "fargate.environment.DB", "12 digits"),
        ("dev", with_fargate(secrets={"1DB": "arn:aws:ssm:us-east-1:123456789012:parameter/db"}), "fargate.secrets.1DB", "a variable name is"),
        ("prod", {"pullThroughCache": [{"upstream": "ecr", "accountId": FULLWIDTH_ACCOUNT, "region": "us-east-1"}]}, "pullThroughCache[0].accountId", "12-digit"),
        # 6. the health check path goes into a Python string literal
        ("dev", with_fargate(healthCheckPath="/x');import os;('"), "fargate.healthCheckPath", "no quotes"),
        # 7. a user rule for the deploy prefix with another count
        ("dev", with_service(lifecycle={"rules": [{"keep": 20, "tagPrefix": "dev-"}]}), "services[0].lifecycle.rules[0]", "keeping 20 images tagged dev-* is not allowed; the stack's first rule keeps exactly deployProtectionCount (10)"),
        ("dev", with_policy_rule({"tagStatus": "tagged", "tagPrefixList": ["dev-"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 3}), "services[0].lifecycle.policy.rules[1]", "a sinceImagePushed rule for images tagged dev-*"),
        # 8. zero is a value, never "use the default"
        ("prod", {"fargate": {**PROD_FARGATE, "logRetentionDays": 0}}, "fargate.logRetentionDays", "0 is not allowed; CloudWatch Logs accepts 1, 3"),
        ("dev", with_fargate(desiredCount=-1), "fargate.desiredCount", ">= 0"),
        # 9. container settings at their own keys
        ("dev", with_fargate(stopTimeout=1), "fargate.stopTimeout", ">= 2"),
        ("dev", with_fargate(healthCheckPath="healthz"), "fargate.healthCheckPath", "starts with '/'"),
    ],
)  # fmt: skip
def test_each_class_of_problem_is_one_line_at_its_exact_key(
    stack: str, overrides: dict[str, Any], key: str, fragment: str
) -> None:
    path, line = only_problem(stack, overrides)
    assert path == key
    assert line.startswith(f"config '{key if ':' in key else 'ecr-fargate:' + key}': ")
    assert fragment in line


@pytest.mark.parametrize(
    "user", ["0", "00", "00:00", "0:10001", "10001:0", "root", "root:app", "app:root", " 0", "+0", "-0", "0 ", "1e3", "10001:", ":10001", "4294967296"]
)  # fmt: skip
def test_root_and_malformed_users_are_refused(user: str) -> None:
    path, line = only_problem("dev", with_fargate(user=user))
    assert path == "fargate.user"
    assert "run as a non-root user" in line


def test_container_problems_are_all_reported_each_at_its_key() -> None:
    with pytest.raises(ConfigErrors) as info:
        render_stack(
            "dev",
            env=GIT_ENV,
            overrides=with_fargate(user="0", healthCheckPath="/a b", writablePaths=["/x", "/x"]),
        )
    assert [e.path for e in info.value.errors] == [
        "fargate.user",
        "fargate.healthCheckPath",
        "fargate.writablePaths[1]",
    ]


def test_pull_through_problems_are_all_reported() -> None:
    rules = [{"upstream": "quay", "prefix": "Q"}, {"upstream": "nope"}, {"upstream": "k8s"}] * 1
    with pytest.raises(ConfigErrors) as info:
        render_stack("prod", env=GIT_ENV, overrides={"pullThroughCache": rules})
    assert [e.path for e in info.value.errors] == [
        "pullThroughCache[0].prefix",
        "pullThroughCache[1].upstream",
    ]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_protection_keeps_exactly_the_configured_count(stack: str) -> None:
    """The default preset keeps 5 dev- and 10 prod- images; the protection rule keeps exactly 3."""
    rendered = render_stack(stack, env=GIT_ENV, overrides={"deployProtectionCount": 3})
    for policy in rendered.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy"):
        rules = json.loads(policy.inputs["policy"])["rules"]
        own = [r for r in rules if r["selection"].get("tagPrefixList") == [f"{stack}-"]]
        assert [r["selection"]["countNumber"] for r in own] == [3]
        assert own[0]["rulePriority"] == 2


def test_an_identical_user_rule_for_the_deploy_prefix_is_accepted() -> None:
    rendered = render_stack(
        "dev",
        env=GIT_ENV,
        overrides=with_service(lifecycle={"rules": [{"keep": 10, "tagPrefix": "dev-"}, {"keep": 3, "any": True}]}),
    )  # fmt: skip
    (policy,) = rendered.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    counts = [r["selection"]["countNumber"] for r in json.loads(policy.inputs["policy"])["rules"]]
    # The running markers, the deploy protection, the build cache (lifecycle.keep_build_cache).
    assert counts == [100, 10, 1, 3]


def test_the_task_definition_is_checked_against_the_ecs_model_before_any_resource(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whatever the ECS model would refuse is a ConfigError at the run, before registration."""
    from plan import engine
    from rules.ecs import container

    checked: list[dict[str, Any]] = []

    def refuse(request: dict[str, Any]) -> list[str]:
        checked.append(request)
        return ["Invalid type for parameter cpu", "Unknown parameter in input: x"]

    registered: list[str] = []
    original = engine._Mocks.new_resource

    def spy(self: Any, args: Any) -> Any:
        registered.append(args.typ)
        return original(self, args)

    monkeypatch.setattr(container, "task_definition_problems", refuse)
    monkeypatch.setattr(engine._Mocks, "new_resource", spy)
    with pytest.raises(ConfigErrors) as info:
        render_stack("dev", env=GIT_ENV)
    assert [(e.path, e.detail) for e in info.value.errors] == [
        (f"services[{i}].run", f"the task definition would be refused: {problem}")
        for i in (0, 1)
        for problem in ("Invalid type for parameter cpu", "Unknown parameter in input: x")
    ]
    assert checked[0]["family"] == "ecr-fargate-dev-api" and registered == []


def test_a_malformed_owner_stack_file_is_one_line_at_account_owner(tmp_path: Any) -> None:
    from tests.conftest import STACKS

    (tmp_path / "Pulumi.dev.yaml").write_text((STACKS / "Pulumi.dev.yaml").read_text())
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  aws:region: [\n")
    with pytest.raises(ConfigErrors) as info:
        render_stack("dev", env=GIT_ENV, stack_dir=tmp_path)
    (error,) = info.value.errors
    assert error.path == "accountOwner"
    assert "Pulumi.prod.yaml: not valid YAML" in error.detail


@pytest.mark.parametrize(
    ("command", "key"),
    [
        ([], "fargate.healthCheckCommand"),
        (["curl", "-f", "http://localhost/"], "fargate.healthCheckCommand"),
        (["CMD-SHELL"], "fargate.healthCheckCommand"),
        (["CMD", 5], "fargate.healthCheckCommand[1]"),
        ("curl -f http://localhost/", "fargate.healthCheckCommand"),
    ],
)
def test_a_health_check_command_starts_with_cmd_or_cmd_shell(command: Any, key: str) -> None:
    path, _ = only_problem("dev", with_fargate(healthCheckCommand=command))
    assert path == key


def test_a_health_check_command_of_your_own_is_used() -> None:
    rendered = render_stack(
        "dev", env=GIT_ENV, overrides=with_fargate(healthCheckCommand=["CMD-SHELL", "true"])
    )
    task = rendered.one("aws:ecs/taskDefinition:TaskDefinition")
    (definition,) = json.loads(task.inputs["containerDefinitions"])
    assert definition["healthCheck"]["command"] == ["CMD-SHELL", "true"]


def test_fargate_fields_are_checked_even_when_its_service_is_refused() -> None:
    """Every problem at once: a bad service name does not hide the container's problems."""
    message = refused(
        "dev",
        {
            "services": [{"name": "Api!", "build": {"context": "app"}}],
            "fargate": {"service": "Api!", "user": "0", "logRetentionDays": 0, "port": 0},
        },
    )
    keys = sorted(line.split("'")[1] for line in message.splitlines())
    assert keys == [
        "ecr-fargate:fargate.logRetentionDays",
        "ecr-fargate:fargate.port",
        "ecr-fargate:fargate.user",
        "ecr-fargate:services[0].name",
    ]


# A prebuilt image's digest: Docker's length per algorithm first, then ECS's sha256 only.
WORKER = {"name": "worker", "build": {"context": "app"}, "run": {"kind": "worker"}}
PREBUILT = "123456789012.dkr.ecr.us-east-1.amazonaws.com/dev/api@"


@pytest.mark.parametrize(
    ("digest", "fragment"),
    [
        ("sha512:" + "a" * 64, "invalid checksum digest length: sha512 is 128 hex digits, not 64"),
        ("sha512:" + "a" * 128, "ECS supports only sha256 digests"),
        ("sha256:" + "a" * 63, "invalid checksum digest length: sha256 is 64 hex digits, not 63"),
        ("sha256:" + "a" * 65, "invalid checksum digest length: sha256 is 64 hex digits, not 65"),
        ("sha256:" + "A" * 64, "invalid checksum digest format: lowercase hex digits only"),
        ("md5:" + "a" * 32, "unsupported digest algorithm 'md5'"),
    ],
)
def test_a_prebuilt_digest_is_one_line_at_its_image(digest: str, fragment: str) -> None:
    services = [WORKER, {"name": "api", "image": PREBUILT + digest}]
    path, line = only_problem("dev", {"services": services})
    assert path == "services[1].image"
    assert line.startswith(f"config 'ecr-fargate:services[1].image': '{PREBUILT}{digest}' is not")
    assert fragment in line


def test_a_reference_with_a_line_break_stays_one_line() -> None:
    path, line = only_problem("dev", {"services": [WORKER, {"name": "api", "image": "A\nb@x"}]})
    assert path == "services[1].image" and "must be lowercase" in line
