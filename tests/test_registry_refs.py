"""Registry hosts in every partition, repository names, tags, and Docker reference normalization."""

from __future__ import annotations

import re

import pytest
from botocore.loaders import Loader

from rules.registry import names, urls
from rules.registry.reference import parse_image_reference

ID = "123456789012"


# Every documented registry host form, one row each, with where it is documented:
GR = "https://docs.aws.amazon.com/general/latest/gr/ecr.html"  # General Reference, endpoints
REQUESTS = "https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-requests.html"
HELPER = "awslabs/amazon-ecr-credential-helper ecr-login/api/client.go (PR #972)"
ECS_AGENT = "aws/amazon-ecs-agent ecs-agent/utils/uri/uri.go and uri_test.go"
BOTOCORE = "botocore/data/partitions.json dnsSuffix"
FORMS = [
    # (host, region, partition, fips, dual-stack, source)
    (f"{ID}.dkr.ecr.us-east-1.amazonaws.com", "us-east-1", "aws", False, False, GR),
    (f"{ID}.dkr.ecr-fips.us-east-2.amazonaws.com", "us-east-2", "aws", True, False, GR),
    (f"{ID}.dkr-ecr.us-east-2.on.aws", "us-east-2", "aws", False, True, GR + " " + REQUESTS),
    (f"{ID}.dkr-ecr-fips.us-east-2.on.aws", "us-east-2", "aws", True, True, GR),
    (f"{ID}.dkr.ecr.us-gov-west-1.amazonaws.com", "us-gov-west-1", "aws-us-gov", False, False, GR),
    (
        f"{ID}.dkr.ecr-fips.us-gov-east-1.amazonaws.com",
        "us-gov-east-1",
        "aws-us-gov",
        True,
        False,
        GR,
    ),
    (f"{ID}.dkr-ecr.us-gov-east-1.on.aws", "us-gov-east-1", "aws-us-gov", False, True, HELPER),
    (
        f"{ID}.dkr-ecr-fips.us-gov-west-1.on.aws",
        "us-gov-west-1",
        "aws-us-gov",
        True,
        True,
        ECS_AGENT,
    ),
    (f"{ID}.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn-north-1", "aws-cn", False, False, GR),
    (
        f"{ID}.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn",
        "cn-northwest-1",
        "aws-cn",
        False,
        True,
        HELPER + "; " + ECS_AGENT,
    ),
    (f"{ID}.dkr.ecr.us-iso-east-1.c2s.ic.gov", "us-iso-east-1", "aws-iso", False, False, BOTOCORE),
    (
        f"{ID}.dkr-ecr.us-iso-west-1.on.aws.ic.gov",
        "us-iso-west-1",
        "aws-iso",
        False,
        True,
        ECS_AGENT,
    ),
    (
        f"{ID}.dkr.ecr.us-isob-east-1.sc2s.sgov.gov",
        "us-isob-east-1",
        "aws-iso-b",
        False,
        False,
        BOTOCORE,
    ),
    (
        f"{ID}.dkr-ecr.us-isob-east-1.on.aws.scloud",
        "us-isob-east-1",
        "aws-iso-b",
        False,
        True,
        ECS_AGENT,
    ),
    (
        f"{ID}.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk",
        "eu-isoe-west-1",
        "aws-iso-e",
        False,
        False,
        BOTOCORE,
    ),
    (
        f"{ID}.dkr-ecr.eu-isoe-west-1.on.cloud-aws.adc-e.uk",
        "eu-isoe-west-1",
        "aws-iso-e",
        False,
        True,
        ECS_AGENT,
    ),
    (
        f"{ID}.dkr.ecr.us-isof-south-1.csp.hci.ic.gov",
        "us-isof-south-1",
        "aws-iso-f",
        False,
        False,
        BOTOCORE,
    ),
    (
        f"{ID}.dkr-ecr.us-isof-south-1.on.aws.hci.ic.gov",
        "us-isof-south-1",
        "aws-iso-f",
        False,
        True,
        ECS_AGENT,
    ),
    (
        f"{ID}.dkr.ecr.eusc-de-east-1.amazonaws.eu",
        "eusc-de-east-1",
        "aws-eusc",
        False,
        False,
        HELPER,
    ),
]


@pytest.mark.parametrize(("host", "region", "partition", "fips", "dual", "source"), FORMS)
def test_every_documented_host_form(
    host: str, region: str, partition: str, fips: bool, dual: bool, source: str
) -> None:
    for form in (
        host,
        f"https://{host}",
        f"https://{host}/",
        f"https://{host}/v2/dev/api",
        host.upper(),
    ):
        parsed = urls.parse_registry_url(form)
        assert (parsed.registry_id, parsed.region, parsed.fips, parsed.dual_stack) == (
            ID,
            region,
            fips,
            dual,
        )
        assert parsed.partition.name == partition
        assert parsed.host == host
    # Built back from its parts, the host is the documented one.
    assert urls.registry_host(ID, region, dual_stack=dual, fips=fips) == host


@pytest.mark.parametrize(
    "bad",
    [
        f"{ID}.dkr.ecr.us-east-1.amazonaws.com.evil.io",
        f"{ID}.dkr.ecr.us-east-1.amazonaws.co",
        f"{ID}.dkr.ecr.us-east-1.xamazonaws.com",
        f"evil{ID}.dkr.ecr.us-east-1.amazonaws.com",
        f"{ID}0.dkr.ecr.us-east-1.amazonaws.com",
        f"{ID}.dkr.ecr.us-east-1.amazonaws.com:443",
        f"https://user@{ID}.dkr.ecr.us-east-1.amazonaws.com",
        f"{ID}.dkr.ecr.us-east-1.amazonaws.com.",  # a trailing dot is another name to a certificate
        # the IPv4 suffix of another partition
        f"{ID}.dkr.ecr.cn-north-1.amazonaws.com",
        f"{ID}.dkr.ecr.us-east-1.amazonaws.com.cn",
        f"{ID}.dkr.ecr.us-gov-west-1.amazonaws.com.cn",
        # the dual-stack form needs its dual-stack suffix, and only that form takes one
        f"{ID}.dkr-ecr.us-east-1.amazonaws.com",
        f"{ID}.dkr-ecr.cn-north-1.amazonaws.com.cn",
        f"{ID}.dkr.ecr.us-east-1.on.aws",
        # (the credential helper's client_test.go spells China's IPv6 host this way and its loose
        # pattern takes it; the ECS agent and every other dual-stack host use `dkr-ecr`)
        f"{ID}.dkr.ecr.cn-north-1.on.amazonwebservices.com.cn",
        # a dual-stack suffix of the wrong partition
        f"{ID}.dkr-ecr.cn-north-1.on.aws",
        f"{ID}.dkr-ecr.us-east-1.on.amazonwebservices.com.cn",
        f"{ID}.dkr-ecr.cn-north-1.on.aws.com.cn",  # the credential helper's look-alike, dual-stack
        f"{ID}.dkr-ecr.us-iso-east-1.on.aws",
        # the API's dual-stack suffix (`api.`) is not the registry's (`on.`)
        f"{ID}.dkr-ecr.us-east-1.api.aws",
        # no documented dual-stack registry host in the EU sovereign cloud
        f"{ID}.dkr-ecr.eusc-de-east-1.on.amazonwebservices.eu",
        # FIPS only where ECR runs a FIPS endpoint
        f"{ID}.dkr.ecr-fips.eu-west-1.amazonaws.com",
        f"{ID}.dkr.ecr-fips.cn-north-1.amazonaws.com.cn",
        f"{ID}.dkr-ecr-fips.cn-north-1.on.amazonwebservices.com.cn",
        # other spellings
        f"{ID}.ecr-dkr.us-west-2.on.aws",
        f"{ID}.dkr_ecr.us-west-2.on.aws",
        f"{ID}.dkr.ecr.moon-base-1.amazonaws.com",
        "public.ecr.aws",
        "ecr-public.aws.com",
        "ghcr.io",
        f"ftp://{ID}.dkr.ecr.us-east-1.amazonaws.com",
    ],
)
def test_look_alikes_and_other_registries_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        urls.parse_registry_url(bad)


def test_the_dual_stack_suffixes_follow_botocore() -> None:
    """Each registry suffix is the partition's `dualStackDnsSuffix` (botocore partitions.json)
    with `on.` for `api.`: the API is `ecr.<region>.api.aws`, the registry `dkr-ecr.<region>.on.aws`."""
    data = Loader().load_data("partitions")
    api = {p["id"]: p["outputs"]["dualStackDnsSuffix"] for p in data["partitions"]}
    for partition, suffix in urls.DUAL_STACK_SUFFIXES.items():
        assert api[partition].startswith("api.")
        assert suffix == "on." + api[partition].removeprefix("api.")


def test_the_fips_regions_are_botocores() -> None:
    """botocore's endpoints.json: the `api.ecr` endpoints `dkr-<region>` with a `fips` variant."""
    found = set()
    for partition in Loader().load_data("endpoints")["partitions"]:
        for name, endpoint in partition["services"].get("api.ecr", {}).get("endpoints", {}).items():
            variants = endpoint.get("variants", [])
            if name.startswith("dkr-") and any("fips" in v["tags"] for v in variants):
                found.add(name.removeprefix("dkr-"))
    assert found == set(urls.FIPS_REGIONS)


def test_registry_host_uses_the_partition_suffix() -> None:
    assert urls.registry_host(ID, "us-west-2") == f"{ID}.dkr.ecr.us-west-2.amazonaws.com"
    assert urls.registry_host(ID, "cn-north-1") == f"{ID}.dkr.ecr.cn-north-1.amazonaws.com.cn"
    assert urls.registry_host(ID, "us-east-2", dual_stack=True) == f"{ID}.dkr-ecr.us-east-2.on.aws"
    with pytest.raises(ValueError, match="dual-stack"):
        urls.registry_host(ID, "eusc-de-east-1", dual_stack=True)
    with pytest.raises(ValueError, match="FIPS"):
        urls.registry_host(ID, "eu-west-1", fips=True)
    with pytest.raises(ValueError):
        urls.registry_host("12345", "us-east-1")
    with pytest.raises(ValueError, match="partition"):
        urls.validate_region("moon-base-1")


def test_login_command_takes_the_region_from_the_host() -> None:
    host = f"{ID}.dkr.ecr.eu-central-1.amazonaws.com"
    assert urls.login_command(f"https://{host}/") == (
        f"aws ecr get-login-password --region eu-central-1 | docker login --username AWS --password-stdin {host}"
    )
    with pytest.raises(ValueError):
        urls.login_command("docker.io")


def test_repository_arn_round_trip() -> None:
    arn = urls.repository_arn("aws-cn", "cn-north-1", ID, "team/app")
    assert urls.parse_repository_arn(arn) == ("aws-cn", "cn-north-1", ID, "team/app")


@pytest.mark.parametrize("name", ["ab", "team/app", "a.b_c-d", "a__b", "a---b", "x" * 256, "1app"])
def test_repository_names_the_api_accepts(name: str) -> None:
    assert names.validate_repository_name(name) == name


@pytest.mark.parametrize(
    "name", ["a", "App", "a//b", "/a", "a/", "a___b", "a..b", "-a", "a-", "x" * 257, "a b"]
)
def test_repository_names_the_api_refuses(name: str) -> None:
    with pytest.raises(ValueError):
        names.validate_repository_name(name)


def test_discouraged_names_warn() -> None:
    assert len(names.repository_name_warnings("1app")) == 1
    assert len(names.repository_name_warnings("a__b--c")) == 2
    assert names.repository_name_warnings("good-name") == []


def test_tags_follow_docker_not_ecr_length() -> None:
    assert names.validate_image_tag("v1.2.3_rc-1") == "v1.2.3_rc-1"
    for bad in ("", ".hidden", "-x", "a" * 129, "a/b", "tag:x"):
        with pytest.raises(ValueError):
            names.validate_image_tag(bad)


DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("ref", "domain", "path", "tag", "digest", "text"),
    [
        ("nginx", "docker.io", "library/nginx", None, None, "docker.io/library/nginx"),
        ("nginx:1.27", "docker.io", "library/nginx", "1.27", None, "docker.io/library/nginx:1.27"),
        ("docker.io/ubuntu", "docker.io", "library/ubuntu", None, None, "docker.io/library/ubuntu"),
        (
            "index.docker.io/library/ubuntu:22.04",
            "docker.io",
            "library/ubuntu",
            "22.04",
            None,
            "docker.io/library/ubuntu:22.04",
        ),
        (
            "bitnami/wordpress:latest",
            "docker.io",
            "bitnami/wordpress",
            "latest",
            None,
            "docker.io/bitnami/wordpress:latest",
        ),
        ("quay.io/a/b/c:v1", "quay.io", "a/b/c", "v1", None, "quay.io/a/b/c:v1"),
        ("localhost/app", "localhost", "app", None, None, "localhost/app"),
        ("localhost:5000/app:dev", "localhost:5000", "app", "dev", None, "localhost:5000/app:dev"),
        ("[::1]:5000/app", "[::1]:5000", "app", None, None, "[::1]:5000/app"),
        (f"ghcr.io/o/r@{DIGEST}", "ghcr.io", "o/r", None, DIGEST, f"ghcr.io/o/r@{DIGEST}"),
        (
            f"redis:7@{DIGEST}",
            "docker.io",
            "library/redis",
            "7",
            DIGEST,
            f"docker.io/library/redis:7@{DIGEST}",
        ),
        (
            "Registry.Example.com/app",
            "Registry.Example.com",
            "app",
            None,
            None,
            "Registry.Example.com/app",
        ),
        ("localhost", "docker.io", "library/localhost", None, None, "docker.io/library/localhost"),
    ],
)
def test_docker_normalization(
    ref: str, domain: str, path: str, tag: str | None, digest: str | None, text: str
) -> None:
    parsed = parse_image_reference(ref)
    assert (parsed.domain, parsed.path, parsed.tag, parsed.digest) == (domain, path, tag, digest)
    assert str(parsed) == text


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("ab" * 32, "64-byte hexadecimal"),
        ("Nginx", "must be lowercase"),
        ("docker.io/Library/nginx", "must be lowercase"),
        ("nginx@sha256:" + "AB" * 32, "invalid checksum digest format"),
        ("nginx@sha256:abc", "invalid reference format"),
        ("nginx@sha256:" + "a" * 62, "invalid checksum digest length"),
        ("nginx@md5:" + "a" * 32, "unsupported digest algorithm"),
        ("a/" + "b" * 255, "255 characters"),
        ("nginx:-bad", "invalid reference format"),
        ("", "at least one component"),
    ],
)
def test_what_docker_rejects(ref: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_image_reference(ref)


# Digest lengths per algorithm. Expected outcomes come from the sources, not from the parser:
# distribution/reference regexp.go `digestPat` (`[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*
# [:][[:xdigit:]]{32,}`), then go-digest v1.0.0 algorithm.go `anchoredEncodedRegexps`
# (sha256 `^[a-f0-9]{64}$`, sha384 `{96}`, sha512 `{128}`) and digest.go `Validate`.
@pytest.mark.parametrize(
    "digest",
    ["sha256:" + "a" * 64, "sha384:" + "0" * 96, "sha512:" + "f" * 128, "sha512:" + "09af" * 32],
)
def test_digests_docker_accepts(digest: str) -> None:
    assert parse_image_reference(f"ghcr.io/o/r@{digest}").digest == digest


@pytest.mark.parametrize(
    ("digest", "message"),
    [
        ("sha512:" + "a" * 64, "invalid checksum digest length: sha512 is 128"),
        ("sha512:" + "a" * 127, "invalid checksum digest length"),
        ("sha512:" + "a" * 129, "invalid checksum digest length"),
        ("sha512:" + "A" * 128, "invalid checksum digest format"),
        ("sha256:" + "a" * 63, "invalid checksum digest length: sha256 is 64 hex digits, not 63"),
        ("sha256:" + "a" * 65, "invalid checksum digest length"),
        ("sha256:" + "a" * 128, "invalid checksum digest length"),
        ("sha256:" + "A" * 64, "invalid checksum digest format"),
        ("sha256:" + "aB" * 32, "invalid checksum digest format"),
        ("sha384:" + "a" * 64, "invalid checksum digest length"),
        ("sha256:" + "a" * 31, "invalid reference format"),  # under the grammar's 32
        ("sha256:" + "g" * 64, "invalid reference format"),  # not hex
        ("sha256:", "invalid reference format"),
        ("sha-256:" + "a" * 64, "invalid reference format"),  # `256` starts with a digit
        ("my.alg_x:" + "a" * 64, "unsupported digest algorithm"),
        ("blake3:" + "a" * 64, "unsupported digest algorithm"),  # not registered in v1.0.0
        ("sha256+b64:" + "a" * 64, "unsupported digest algorithm"),
        ("SHA256:" + "a" * 64, "invalid checksum digest format"),  # grammar yes, go-digest no
        ("1sha:" + "a" * 64, "invalid reference format"),  # a component starts with a letter
        ("sha256-:" + "a" * 64, "invalid reference format"),
    ],
)
def test_digests_docker_refuses(digest: str, message: str) -> None:
    # With a tag, Docker's lowercase check covers only the text before the first ':'.
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_image_reference(f"ghcr.io/o/r:v1@{digest}")
