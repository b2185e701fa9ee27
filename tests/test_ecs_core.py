"""Fargate sizing exhaustively, container rendering, IAM documents, network and environment input."""

from __future__ import annotations

import json
import re
from itertools import product

import pytest

from rules.ecs import container, environment, iam, network, sizing

ALL_PAIRS = [(c, m) for c, mems in sizing.FARGATE_TABLE.items() for m in mems]


def test_the_table_has_77_pairs() -> None:
    assert len(ALL_PAIRS) == 77
    assert sizing.FARGATE_TABLE[8192][:2] == (16384, 20480)
    assert sizing.FARGATE_TABLE[16384][:2] == (32768, 40960)


@pytest.mark.parametrize(("cpu", "memory"), ALL_PAIRS)
def test_every_valid_pair_is_accepted_in_every_form(cpu: int, memory: int) -> None:
    assert sizing.validate_task_size(cpu, memory) == (cpu, memory)
    assert sizing.validate_task_size(str(cpu), str(memory)) == (cpu, memory)
    vcpu = f"{cpu / 1024:g} vCPU"
    gb = f"{memory / 1024:g} GB"
    assert sizing.validate_task_size(vcpu, gb.replace(" ", "")) == (cpu, memory)
    assert sizing.validate_task_size(vcpu.lower(), gb) == (cpu, memory)


def test_neighbours_are_rejected_with_the_valid_values() -> None:
    valid = set(ALL_PAIRS)
    for cpu, mems in sizing.FARGATE_TABLE.items():
        step = mems[1] - mems[0] if len(mems) > 1 else 512
        for memory in {mems[0] - step, mems[-1] + step, *(m + 512 for m in mems)}:
            if (cpu, memory) in valid or memory <= 0:
                continue
            with pytest.raises(ValueError) as info:
                sizing.validate_task_size(cpu, memory)
            assert ", ".join(map(str, mems)) in str(info.value)
    for cpu in (128, 384, 768, 3072, 65536):
        with pytest.raises(ValueError, match="256, 512, 1024"):
            sizing.validate_task_size(cpu, 2048)


@pytest.mark.parametrize(
    "bad",
    [
        True,
        1.5,
        "1.1 vCPU",
        "two",
        None,
        "-256",
        "0.3 vcpu",
        "\uff11\uff10\uff12\uff14",
        "256\n",
        "1  vCPU",
    ],
)
def test_junk_cpu_values(bad: object) -> None:
    with pytest.raises(ValueError):
        sizing.validate_task_size(bad, 512)


def test_windows_needs_at_least_one_vcpu() -> None:
    assert sizing.validate_task_size(1024, 2048, os_family="WINDOWS_SERVER_2022_CORE") == (
        1024,
        2048,
    )
    for cpu, memory in ((256, 512), (512, 1024), (8192, 16384)):
        with pytest.raises(ValueError, match="Windows"):
            sizing.validate_task_size(cpu, memory, os_family="WINDOWS_SERVER_2019_FULL")


def brute_force(cpu: int, memory: int) -> tuple[int, int] | None:
    best = None
    for c, m in ALL_PAIRS:
        if c >= cpu and m >= memory:
            key = (sizing.hourly_price(c, m), c, m)
            best = min(best, key) if best else key
    return None if best is None else (best[1], best[2])


@pytest.mark.parametrize(
    ("cpu", "memory"),
    list(
        product(
            [0, 1, 256, 300, 1024, 2000, 4096, 9000, 20000, 32768],
            [0, 100, 512, 3000, 8192, 16385, 60000, 130000, 249856],
        )
    ),
)
def test_smallest_task_size_matches_brute_force(cpu: int, memory: int) -> None:
    expected = brute_force(cpu, memory)
    if expected is None:
        with pytest.raises(ValueError):
            sizing.smallest_task_size(cpu, memory)
    else:
        assert sizing.smallest_task_size(cpu, memory) == expected
        assert sizing.validate_task_size(*expected) == expected


def test_arm_prices_keep_the_same_order() -> None:
    x86 = sorted(ALL_PAIRS, key=lambda p: (sizing.hourly_price(*p), p))
    arm = sorted(ALL_PAIRS, key=lambda p: (sizing.hourly_price(p[0], p[1], "ARM64"), p))
    assert x86 == arm


SPEC = container.ContainerSpec(
    name="api",
    port=8080,
    environment={"B": "2", "A": "1"},
    secrets={"TOKEN": "arn:aws:ssm:us-east-1:123456789012:parameter/t"},
)
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/dev/api@sha256:" + "a" * 64


def request(**overrides: object) -> dict:
    base = dict(
        family="f",
        spec=SPEC,
        image=IMAGE,
        cpu=256,
        memory=512,
        cpu_architecture="ARM64",
        log_group="/ecs/f",
        region="us-east-1",
        execution_role_arn="arn:aws:iam::123456789012:role/e",
        task_role_arn="arn:aws:iam::123456789012:role/t",
    )
    base.update(overrides)
    return container.task_definition_request(**base)  # type: ignore[arg-type]


def test_rendered_definition_round_trips_through_json() -> None:
    (c,) = json.loads(
        container.container_definitions_json(
            container.render_container_definitions(
                SPEC, image=IMAGE, log_group="/ecs/f", region="us-east-1", stream_prefix="api"
            )
        )
    )
    assert c["environment"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "2"},
        {"name": "PORT", "value": "8080"},
        {"name": "SERVICE_NAME", "value": "api"},
    ]
    assert c["secrets"] == [
        {"name": "TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/t"}
    ]
    assert c["healthCheck"]["command"][:3] == ["CMD", "python", "-c"]
    assert "http://127.0.0.1:8080/healthz" in c["healthCheck"]["command"][3]
    assert c["mountPoints"] == [
        {"sourceVolume": "writable-tmp", "containerPath": "/tmp", "readOnly": False}
    ]
    assert "privileged" not in c


def test_request_passes_botocore_and_catches_mistakes() -> None:
    good = request(ephemeral_storage_gib=30)
    container.validate_task_definition_request(good)
    assert good["ephemeralStorage"] == {"sizeInGiB": 30}
    typo = request()
    typo["containerDefinitions"][0]["readOnlyRootFilesystem"] = True
    with pytest.raises(ValueError, match="Unknown parameter"):
        container.validate_task_definition_request(typo)
    privileged = request()
    privileged["containerDefinitions"][0]["privileged"] = True
    with pytest.raises(ValueError, match="privileged is not valid on Fargate"):
        container.validate_task_definition_request(privileged)
    tag_only = request(image="x" * 256 + ":tag")
    with pytest.raises(ValueError, match="not an ECS image reference"):
        container.validate_task_definition_request(tag_only)
    with pytest.raises(ValueError, match=r"21\.\.200"):
        request(ephemeral_storage_gib=20)


@pytest.mark.parametrize("user", ["root", "0", "0:0", ""])
def test_root_user_is_refused(user: str) -> None:
    with pytest.raises(ValueError, match="non-root"):
        container.ContainerSpec(name="api", port=8080, user=user)


def statements(doc: dict) -> dict[str, object]:
    out: dict[str, object] = {}
    for s in doc["Statement"]:
        for a in s["Action"]:
            out[a] = s["Resource"]
    return out


def test_execution_role_policy_is_exact() -> None:
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password::"
    doc = iam.execution_role_policy(
        repository_arns=["arn:aws:ecr:us-east-1:123456789012:repository/dev/api"],
        log_group_arn="arn:aws:logs:us-east-1:123456789012:log-group:/ecs/f",
        secret_arns=[secret],
        parameter_arns=["arn:aws:ssm:us-east-1:123456789012:parameter/t"],
    )
    grants = statements(doc)
    assert set(grants) == {
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:GetAuthorizationToken",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "secretsmanager:GetSecretValue",
        "ssm:GetParameters",
    }
    assert grants["ecr:GetAuthorizationToken"] == "*"
    assert grants["secretsmanager:GetSecretValue"] == [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
    ]
    assert grants["logs:PutLogEvents"] == [
        "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/f:log-stream:*"
    ]
    without = statements(iam.execution_role_policy(repository_arns=["r"], log_group_arn="l"))
    assert "secretsmanager:GetSecretValue" not in without and "ssm:GetParameters" not in without


def test_assume_role_and_exec() -> None:
    (s,) = iam.ecs_tasks_assume_role_policy("123456789012")["Statement"]
    assert s["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert s["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert len(statements(iam.ecs_exec_policy())) == 4


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:s3:::bucket",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:",
        "not-an-arn",
        "arn:aws:ssm:us-east-1:123456789012:document/x",
    ],
)
def test_bad_secret_references(arn: str) -> None:
    with pytest.raises(ValueError):
        iam.validate_secret_reference_arn(arn)


def test_network_ids() -> None:
    assert network.validate_subnet_id("subnet-0123abcd") and network.validate_subnet_id(
        "subnet-0123456789abcdef0"
    )
    assert network.validate_security_group_id("sg-0123456789abcdef0")
    assert network.validate_cidr("10.0.0.0/16") == "10.0.0.0/16"
    for bad in ("subnet-xyz", "subnet-0123456789abcdef", "sg-123", "vpc-0123abcd"):
        with pytest.raises(ValueError):
            (
                network.validate_security_group_id
                if bad.startswith("sg")
                else network.validate_subnet_id
            )(bad)
    with pytest.raises(ValueError):
        network.validate_cidr("10.0.0.1/16")


def test_environment_splits_plain_and_secret() -> None:
    plain, secrets = environment.split_environment(
        {
            "LOG_LEVEL": "info",
            "DB_PASSWORD": {"secretArn": "arn:aws:ssm:us-east-1:123456789012:parameter/db"},
        }
    )
    assert plain == {"LOG_LEVEL": "info"}
    assert secrets == {"DB_PASSWORD": "arn:aws:ssm:us-east-1:123456789012:parameter/db"}


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"API_TOKEN": "abc"}, "looks like a secret"),
        ({"db_password": "abc"}, "looks like a secret"),
        ({"AWS_SECRET_ACCESS_KEY": "abc"}, "looks like a secret"),
        ({"SIGNING_KEY": "abc"}, "looks like a secret"),
        ({"WORKERS": 4}, "quote it"),
        ({"1BAD": "x"}, "a variable name is"),
        ({"X": {"secretArn": "arn:aws:s3:::b"}}, "not allowed"),
    ],
)
def test_environment_refusals(env: dict, fragment: str) -> None:
    with pytest.raises(environment.EnvironmentErrors, match=re.escape(fragment)) as info:
        environment.split_environment(env)
    assert [p.path for p in info.value.problems] == [next(iter(env))]


def test_environment_reports_every_variable_at_once() -> None:
    with pytest.raises(environment.EnvironmentErrors) as info:
        environment.split_environment({"API_TOKEN": "abc", "1BAD": "x", "OK": "y", "N": 4})
    assert [p.path for p in info.value.problems] == ["1BAD", "API_TOKEN", "N"]
