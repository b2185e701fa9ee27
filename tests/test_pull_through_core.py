"""Pull-through rules, credentials, cache-URI rewriting and the command, with moto and botocore."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.validate import ParamValidator
from moto import mock_aws

from cli import cache
from rules.registry import pull_through as pt

HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
RULES = {
    "docker.io": "docker-hub",
    "quay.io": "quay",
    "registry.k8s.io": "kubernetes",
    "ghcr.io": "ROOT",
}


@pytest.mark.parametrize(
    ("ref", "uri"),
    [
        ("nginx", f"{HOST}/docker-hub/library/nginx"),
        ("nginx:1.27", f"{HOST}/docker-hub/library/nginx:1.27"),
        ("docker.io/library/redis:7", f"{HOST}/docker-hub/library/redis:7"),
        ("bitnami/wordpress:latest", f"{HOST}/docker-hub/bitnami/wordpress:latest"),
        ("quay.io/prometheus/node-exporter:v1.8.2", f"{HOST}/quay/prometheus/node-exporter:v1.8.2"),
        ("registry.k8s.io/pause@sha256:" + "1" * 64, f"{HOST}/kubernetes/pause@sha256:" + "1" * 64),
        ("ghcr.io/org/tool:v2", f"{HOST}/org/tool:v2"),
    ],
)
def test_cache_uri(ref: str, uri: str) -> None:
    assert pt.cache_image_uri(ref, HOST, RULES) == uri


def test_unknown_upstream_names_the_ones_that_exist() -> None:
    with pytest.raises(ValueError, match=r"docker\.io, ghcr\.io, quay\.io, registry\.k8s\.io"):
        pt.cache_image_uri("gcr.io/distroless/static", HOST, RULES)


def test_defaults_and_urls_for_every_upstream() -> None:
    items = [
        {"upstream": name}
        for name in pt.UPSTREAMS
        if name not in ("azure-container-registry", "ecr")
    ]
    items += [
        {"upstream": "azure-container-registry", "azureRegistryName": "myregistry"},
        {
            "upstream": "ecr",
            "accountId": "210987654321",
            "region": "eu-west-1",
            "upstreamRepositoryPrefix": "team",
            "customRoleArn": "arn:aws:iam::123456789012:role/ecr-pull",
        },
    ]
    rules = {r.upstream: r for r in pt.validate_cache_rules(items, region="us-east-1")}
    assert {n: (r.prefix, r.upstream_url) for n, r in rules.items()} == {
        "ecr-public": ("ecr-public", "public.ecr.aws"),
        "k8s": ("kubernetes", "registry.k8s.io"),
        "quay": ("quay", "quay.io"),
        "docker-hub": ("docker-hub", "registry-1.docker.io"),
        "github-container-registry": ("github", "ghcr.io"),
        "gitlab-container-registry": ("gitlab", "registry.gitlab.com"),
        "chainguard": ("chainguard", "cgr.dev"),
        "azure-container-registry": ("azure", "myregistry.azurecr.io"),
        "ecr": ("ecr", "210987654321.dkr.ecr.eu-west-1.amazonaws.com"),
    }
    assert rules["docker-hub"].reference_host == "docker.io"
    assert {n for n, r in rules.items() if r.needs_credentials} == {
        "docker-hub",
        "github-container-registry",
        "gitlab-container-registry",
        "azure-container-registry",
        "chainguard",
    }


@pytest.mark.parametrize(
    ("items", "region", "path"),
    [
        ([{"upstream": "quay", "prefix": "Q"}], "us-east-1", "[0].prefix"),
        ([{"upstream": "quay", "prefix": "a"}], "us-east-1", "[0].prefix"),
        ([{"upstream": "quay", "prefix": "x" * 31}], "us-east-1", "[0].prefix"),
        ([{"upstream": "quay", "prefix": "cache-"}], "us-east-1", "[0].prefix"),
        (
            [{"upstream": "quay"}, {"upstream": "ecr-public", "prefix": "quay"}],
            "us-east-1",
            "[1].prefix",
        ),
        (
            [{"upstream": "quay"}] * 1
            + [{"upstream": "k8s", "prefix": f"p{i:02d}"} for i in range(50)],
            "us-east-1",
            "",
        ),
        ([{"upstream": "quay"}], "cn-north-1", ""),
        ([{"upstream": "quay"}], "us-gov-west-1", ""),
        ([{"upstream": "dockerhub"}], "us-east-1", "[0].upstream"),
        ([{"upstream": "quay", "accountId": "1"}], "us-east-1", "[0].accountId"),
        (
            [{"upstream": "ecr", "accountId": "123", "region": "us-east-1"}],
            "us-east-1",
            "[0].accountId",
        ),
        (
            [
                {
                    "upstream": "ecr",
                    "prefix": "ROOT",
                    "accountId": "210987654321",
                    "region": "us-east-1",
                    "upstreamRepositoryPrefix": "x1",
                }
            ],
            "us-east-1",
            "[0].upstreamRepositoryPrefix",
        ),
        ([{"upstream": "azure-container-registry"}], "us-east-1", "[0].azureRegistryName"),
        (
            [
                {
                    "upstream": "docker-hub",
                    "credentialArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:dockerhub-AbCdEf",
                }
            ],
            "us-east-1",
            "[0].credentialArn",
        ),
        (
            [
                {
                    "upstream": "quay",
                    "credentialArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/q-AbCdEf",
                }
            ],
            "us-east-1",
            "[0].credentialArn",
        ),
        ([{"upstream": "quay", "extra": 1}], "us-east-1", "[0].extra"),
    ],
)
def test_bad_rules_are_refused_with_a_path(items: list, region: str, path: str) -> None:
    with pytest.raises(pt.CacheRuleErrors) as info:
        pt.validate_cache_rules(items, region=region)
    assert path in [p.path for p in info.value.problems]


# `str.isdigit()` is true for these, and `\\d` matches them: an account ID is ASCII digits only.
FULLWIDTH_ACCOUNT = "".join(chr(0xFF10 + int(d)) for d in "123456789012")


def test_every_problem_of_every_rule_is_reported() -> None:
    items = [
        {"upstream": ["quay"]},
        {"upstream": "quay", "prefix": "Q", "credentialArn": 5},
        {"upstream": "ecr", "accountId": FULLWIDTH_ACCOUNT, "region": "us-east-1\n"},
        {"upstream": "ecr", "accountId": "210987654321", "region": "eu-west-1",
         "customRoleArn": "arn:aws-cn:iam::123456789012:role/pull"},
        "quay",
    ]  # fmt: skip
    with pytest.raises(pt.CacheRuleErrors) as info:
        pt.validate_cache_rules(items, region="us-east-1", partition="aws")
    assert [p.path for p in info.value.problems] == [
        "[0].upstream",
        "[1].prefix",
        "[1].credentialArn",  # not a string
        "[1].credentialArn",  # and quay takes none
        "[2].accountId",
        "[2].region",
        "[3].customRoleArn",
        "[4]",
    ]


def test_credential_arn_pattern() -> None:
    good = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf"
    assert pt.validate_credential_arn(good) == good
    assert pt.validate_credential_arn(good.replace("arn:aws:", "arn:aws-cn:"))
    for bad in (
        good.replace("ecr-pullthroughcache/", "other/"),
        good.replace("secretsmanager", "ssm"),
        "arn:aws:secretsmanager:x",
    ):
        with pytest.raises(ValueError):
            pt.validate_credential_arn(bad)


def test_validate_cache_prefix_accepts_root_and_paths() -> None:
    for ok in ("ROOT", "docker-hub", "team/cache", "a.b", "a__b", "ab/"):
        assert pt.validate_cache_prefix(ok) == ok


def test_rule_requests_match_the_ecr_api_model() -> None:
    shape = (
        botocore.session.get_session()
        .get_service_model("ecr")
        .operation_model("CreatePullThroughCacheRule")
        .input_shape
    )
    for rule in pt.validate_cache_rules(
        [{"upstream": "quay"}, {"upstream": "docker-hub"}], region="us-east-1"
    ):
        request = {
            "ecrRepositoryPrefix": rule.prefix,
            "upstreamRegistryUrl": rule.upstream_url,
            "upstreamRegistry": rule.upstream,
        }
        if rule.needs_credentials:
            request["credentialArn"] = (
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
                + pt.credential_secret_name(rule.prefix)
                + "-AbCdEf"
            )
        report = ParamValidator().validate(request, shape)
        assert not report.has_errors(), report.generate_report()


def test_credential_secret_round_trips_through_secrets_manager() -> None:
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        created = sm.create_secret(
            Name=pt.credential_secret_name("docker-hub"),
            SecretString=pt.credential_secret_string("octo", "dckr_pat_x"),
        )
        assert created["Name"] == "ecr-pullthroughcache/docker-hub"
        assert pt.validate_credential_arn(created["ARN"]) == created["ARN"]
        value = json.loads(sm.get_secret_value(SecretId=created["ARN"])["SecretString"])
        assert value == {"username": "octo", "accessToken": "dckr_pat_x"}


def test_pull_policy_scopes_imports_per_prefix() -> None:
    doc = pt.pull_policy_document("aws", "us-east-1", "123456789012", ["quay", "ROOT"])
    imports = next(s for s in doc["Statement"] if "ecr:BatchImportUpstreamImage" in s["Action"])
    assert sorted(imports["Action"]) == ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]
    assert imports["Resource"] == [
        "arn:aws:ecr:us-east-1:123456789012:repository/*",
        "arn:aws:ecr:us-east-1:123456789012:repository/quay/*",
    ]


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_command_with_flags_prints_good_and_reports_bad(capsys: pytest.CaptureFixture[str]) -> None:
    code = cache.main(
        ["--registry", HOST, "--rule", "docker.io=docker-hub", "nginx", "Bad/Ref", "quay.io/a/b"],
        stdin=Tty(),
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert out.splitlines() == [f"{HOST}/docker-hub/library/nginx"]
    assert len(err.splitlines()) == 2 and all(
        line.startswith("error: ") for line in err.splitlines()
    )


def test_command_reads_stack_outputs_from_stdin(capsys: pytest.CaptureFixture[str]) -> None:
    outputs = {
        "ecrRegistryUrl": HOST,
        "pullThroughCacheUpstreams": {"quay": "quay.io", "docker-hub": "docker.io"},
    }
    code = cache.main(
        ["redis:7", "quay.io/coreos/etcd:v3.5"], stdin=io.StringIO(json.dumps(outputs))
    )
    out, _ = capsys.readouterr()
    assert code == 0
    assert out.splitlines() == [
        f"{HOST}/docker-hub/library/redis:7",
        f"{HOST}/quay/coreos/etcd:v3.5",
    ]


class Piped(io.TextIOWrapper):
    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data), encoding="utf-8")

    def isatty(self) -> bool:
        return False


@pytest.mark.parametrize(
    ("argv", "stdin", "fragment"),
    [
        (["--registry", HOST, "--rule", "docker.io=BAD", "nginx"], Tty(), "'BAD' is not allowed"),
        (["--registry", HOST, "--rule", "docker.io", "nginx"], Tty(), "expected HOST=PREFIX"),
        (["nginx"], Tty(), "give --registry and --rule"),
        (["nginx"], Piped(b"not json"), "stdin is not JSON"),
        (["nginx"], Piped(b"\xff\xfe"), "stdin is not JSON"),
        (["nginx"], Piped(b"[1, 2]"), "stdin is not `pulumi stack output --json`"),
        (
            ["nginx"],
            Piped(
                json.dumps(
                    {"ecrRegistryUrl": HOST, "pullThroughCacheUpstreams": {"q": [1]}}
                ).encode()
            ),
            "stdin is not `pulumi stack output --json`",
        ),
    ],
)
def test_command_refuses_bad_arguments_and_input_in_one_line(
    argv: list[str], stdin: Any, fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cache.main(argv, stdin=stdin) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and fragment in err


@pytest.mark.parametrize(
    ("item", "path"),
    [
        (
            {
                "upstream": "docker-hub",
                "credentialArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/d-AbCdEf",
            },
            "[0].credentialArn",
        ),
        (
            {
                "upstream": "docker-hub",
                "credentialArn": "arn:aws-cn:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/d-AbCdEf",
            },
            "[0].credentialArn",
        ),
        ({"upstream": "ecr", "accountId": "210987654321", "region": "cn-north-1"}, "[0].region"),
    ],
)
def test_credentials_and_ecr_upstreams_stay_in_the_rules_region_and_partition(
    item: dict, path: str
) -> None:
    with pytest.raises(pt.CacheRuleErrors) as info:
        pt.validate_cache_rules([item], region="us-east-1", partition="aws")
    assert [p.path for p in info.value.problems] == [path]
