"""Promotion by digest: the ECR API copy keeps the manifest bytes, so the digest, of every
platform and attestation; CI records what it promoted, and a promoted stack never builds."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import Stubber

from cli import images
from cli import promote as promote_cli
from plan import engine
from rules.registry import promote
from settings.source import from_files
from tests.conftest import STACKS

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def image_manifest(config: bytes, layer: bytes) -> str:
    # Not canonical JSON on purpose (odd spacing, key order): a copy that re-encoded it would
    # change the digest.
    layer_type = "application/vnd.oci.image.layer.v1.tar+gzip"
    return (
        f'{{ "schemaVersion":2,  "mediaType":"{MANIFEST}","config":{{"mediaType":'
        f'"application/vnd.oci.image.config.v1+json","digest":"{digest_of(config)}",'
        f'"size":{len(config)}}},"layers":[{{"mediaType":"{layer_type}",'
        f'"digest":"{digest_of(layer)}","size":{len(layer)}}}]}}\n'
    )


BLOBS = {
    digest_of(b): b
    for b in (
        b"amd64-config",
        b"amd64-layer" * 5000,
        b"arm64-config",
        b"arm64-layer",
        b"attestation-config",
        b"in-toto",
    )
}
AMD = image_manifest(b"amd64-config", b"amd64-layer" * 5000)
ARM = image_manifest(b"arm64-config", b"arm64-layer")
ATT = image_manifest(b"attestation-config", b"in-toto")


def index_text() -> str:
    entries = [
        (AMD, {"architecture": "amd64", "os": "linux"}),
        (ARM, {"architecture": "arm64", "os": "linux"}),
        (ATT, {"architecture": "unknown", "os": "unknown"}),
    ]
    manifests = [
        {"mediaType": MANIFEST, "digest": digest_of(t.encode()), "size": len(t), "platform": p}
        for t, p in entries
    ]
    return json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests}, indent=3)


INDEX_TEXT = index_text()
INDEX_DIGEST = digest_of(INDEX_TEXT.encode())


def ecr() -> Any:
    return boto3.client(
        "ecr", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def expect_get(
    stub: Stubber, repository: str, digest: str, text: str, media: str, registry: str | None = None
) -> None:
    params: dict[str, Any] = {
        "repositoryName": repository,
        "imageIds": [{"imageDigest": digest}],
        "acceptedMediaTypes": promote.ACCEPTED,
    }
    if registry:
        params["registryId"] = registry
    stub.add_response(
        "batch_get_image",
        {
            "images": [
                {
                    "imageManifest": text,
                    "imageManifestMediaType": media,
                    "imageId": {"imageDigest": digest},
                }
            ],
            "failures": [],
        },
        params,
    )


def expect_copy(
    stub: Stubber, source: str, dest: str, tag: str, registry: str | None, present: set[str]
) -> list[dict[str, Any]]:
    """The calls of one promotion, in order; returns the PutImage requests expected."""
    expect_get(stub, source, INDEX_DIGEST, INDEX_TEXT, INDEX, registry)
    for text in (AMD, ARM, ATT):
        expect_get(stub, source, digest_of(text.encode()), text, MANIFEST, registry)
    needed = list(BLOBS)
    stub.add_response(
        "batch_check_layer_availability",
        {
            "layers": [{"layerDigest": d, "layerAvailability": "AVAILABLE"} for d in present],
            "failures": [],
        },
        {"repositoryName": dest, "layerDigests": needed},
    )
    src_ids = {"repositoryName": source, **({"registryId": registry} if registry else {})}
    for blob in needed:
        if blob in present:
            continue
        stub.add_response(
            "get_download_url_for_layer",
            {"downloadUrl": f"https://layers.example/{blob}", "layerDigest": blob},
            {**src_ids, "layerDigest": blob},
        )
        stub.add_response(
            "initiate_layer_upload",
            {"uploadId": f"up-{blob}", "partSize": 4096},
            {"repositoryName": dest},
        )
        data = BLOBS[blob]
        for first in range(0, len(data), 4096):
            part = data[first : first + 4096]
            stub.add_response(
                "upload_layer_part",
                {"uploadId": f"up-{blob}"},
                {
                    "repositoryName": dest,
                    "uploadId": f"up-{blob}",
                    "partFirstByte": first,
                    "partLastByte": first + len(part) - 1,
                    "layerPartBlob": part,
                },
            )
        stub.add_response(
            "complete_layer_upload",
            {"layerDigest": blob},
            {"repositoryName": dest, "uploadId": f"up-{blob}", "layerDigests": [blob]},
        )
    puts = [
        {
            "repositoryName": dest,
            "imageManifest": t,
            "imageManifestMediaType": MANIFEST,
            "imageDigest": digest_of(t.encode()),
        }
        for t in (AMD, ARM, ATT)
    ]
    puts.append(
        {
            "repositoryName": dest,
            "imageManifest": INDEX_TEXT,
            "imageManifestMediaType": INDEX,
            "imageDigest": INDEX_DIGEST,
            "imageTag": tag,
        }
    )
    for p in puts:
        stub.add_response("put_image", {"image": {"imageId": {"imageDigest": p["imageDigest"]}}}, p)
    return puts


def opener(url: str) -> io.BytesIO:
    return io.BytesIO(BLOBS[url.rsplit("/", 1)[1]])


def test_the_index_every_platform_and_attestation_are_copied_byte_for_byte() -> None:
    client = ecr()
    present = {digest_of(b"arm64-layer")}  # already in the destination: not copied again
    with Stubber(client) as stub:
        puts = expect_copy(stub, "dev/api", "prod/api", "prod-0123", "111111111111", present)
        platforms = promote.promote(
            promote.Side(client, "111111111111", "dev/api"),
            promote.Side(client, "", "prod/api"),
            INDEX_DIGEST,
            "prod-0123",
            opener,
        )
        stub.assert_no_pending_responses()
    # The bytes pushed hash to the digests asked for: the digest is preserved, not recomputed.
    assert [digest_of(p["imageManifest"].encode()) for p in puts] == [
        p["imageDigest"] for p in puts
    ]
    assert digest_of(puts[-1]["imageManifest"].encode()) == INDEX_DIGEST
    assert puts[-1]["imageManifest"] == INDEX_TEXT
    assert platforms == [digest_of(AMD.encode()), digest_of(ARM.encode())]  # no attestation


def test_a_manifest_that_does_not_hash_to_its_digest_is_refused() -> None:
    client = ecr()
    with Stubber(client) as stub:
        expect_get(stub, "dev/api", INDEX_DIGEST, INDEX_TEXT + " ", INDEX)
        with pytest.raises(promote.PromotionError, match="does not hash to its digest"):
            promote.promote(
                promote.Side(client, "", "dev/api"),
                promote.Side(client, "", "prod/api"),
                INDEX_DIGEST,
                None,
                opener,
            )


def test_a_blob_downloaded_with_another_digest_is_never_completed() -> None:
    client = ecr()
    blob = digest_of(b"arm64-layer")
    with Stubber(client) as stub:
        stub.add_response(
            "get_download_url_for_layer",
            {"downloadUrl": "https://layers.example/x", "layerDigest": blob},
            {"repositoryName": "dev/api", "layerDigest": blob},
        )
        stub.add_response(
            "initiate_layer_upload",
            {"uploadId": "u", "partSize": 4096},
            {"repositoryName": "prod/api"},
        )
        stub.add_response(
            "upload_layer_part",
            {"uploadId": "u"},
            {
                "repositoryName": "prod/api",
                "uploadId": "u",
                "partFirstByte": 0,
                "partLastByte": 7,
                "layerPartBlob": b"tampered",
            },
        )
        with pytest.raises(promote.PromotionError, match="another digest"):
            promote.copy_blob(
                promote.Side(client, "", "dev/api"),
                promote.Side(client, "", "prod/api"),
                blob,
                lambda _url: io.BytesIO(b"tampered"),
            )


def stacks(tmp_path: Path, prod: dict[str, Any], dev: dict[str, Any] | None = None) -> Path:
    for name, extra in (("dev", dev or {}), ("prod", prod)):
        text = (STACKS / f"Pulumi.{name}.yaml").read_text()
        doc = {"config": {**yaml.safe_load(text)["config"], **extra}}
        (tmp_path / f"Pulumi.{name}.yaml").write_text(json.dumps(doc))
    return tmp_path


def two_services(tmp_path: Path) -> Path:
    """prod promotes from dev; prod's services trimmed to the two dev has."""
    config = yaml.safe_load((STACKS / "Pulumi.prod.yaml").read_text())["config"]
    services = [s for s in config["ecr-fargate:services"] if s["name"] != "report"]
    return stacks(tmp_path, {"ecr-fargate:services": services, "ecr-fargate:promoteFrom": "dev"})


def test_cli_promote_copies_each_service_then_records_the_digests(
    tmp_path: Path, capsys: Any
) -> None:
    directory = two_services(tmp_path)
    client = ecr()
    ssm = boto3.client(
        "ssm", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    tags = {e["service"]: e["tag"] for e in images.load_plan("dev", stack_dir=directory)}
    prod = engine.stack_settings.load(from_files("prod", stack_dir=directory), env={})
    prod_tags = {s.name: str(s.image.index_tag) for s in prod.services if s.image}
    assert set(tags) == {"api", "worker"} and prod_tags["api"] != tags["api"]  # prod's prefix
    handed = json.dumps({"api": INDEX_DIGEST, "worker": INDEX_DIGEST})
    with Stubber(client) as stub, Stubber(ssm) as ssm_stub:
        present = set(BLOBS)  # same account: the blobs are already there (no upload expected)
        for service in ("api", "worker"):
            expect_copy(
                stub, f"dev/{service}", f"prod/{service}", prod_tags[service], None, present
            )
        code = promote_cli.main(
            ["prod", "--stack-dir", str(directory), "--digests", handed], clients=(client, ssm)
        )
        stub.assert_no_pending_responses()
        # Recorded only with --record (after prod's deploy), never by the copy itself.
        ssm_stub.add_response(
            "put_parameter",
            {"Version": 1},
            {
                "Name": "/ecr-fargate/prod/image-digests",
                "Value": json.dumps({"api": INDEX_DIGEST, "worker": INDEX_DIGEST}, sort_keys=True),
                "Type": "String",
                "Overwrite": True,
            },
        )
        out = json.loads(capsys.readouterr().out)
        recorded = promote_cli.main(
            ["prod", "--stack-dir", str(directory), "--digests", handed, "--record"],
            clients=(client, ssm),
        )
        ssm_stub.assert_no_pending_responses()
    assert recorded == 0
    assert code == 0
    assert [(o["service"], o["repository"], o["digest"]) for o in out] == [
        ("api", "prod/api", INDEX_DIGEST),
        ("worker", "prod/worker", INDEX_DIGEST),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dev", "--digests", "{}"], "error: stack 'dev' has no promoteFrom: nothing to promote"),
        (
            ["prod", "--digests", "{}"],
            "error: service 'api': --digests has no digest for 'api' (the digests stack 'dev' "
            "deployed)",
        ),
        (
            ["prod", "--digests", '{"api": "latest", "worker": "latest"}'],
            "error: \"latest\" is not allowed; an image index digest is 'sha256:' and 64 lowercase "
            "hex digits, as `aws ecr describe-images` reports it",
        ),
    ],
)
def test_cli_promote_refuses_before_any_call(
    tmp_path: Path, capsys: Any, args: list[str], message: str
) -> None:
    directory = two_services(tmp_path)
    code = promote_cli.main([*args, "--stack-dir", str(directory)], clients=(None, None))
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [message]


def test_a_promoted_stack_never_builds(tmp_path: Path) -> None:
    """cli.images plans no build, and `pulumi up` without CI's digests pins the promoted ones
    (the SSM parameter) and registers no docker image."""
    directory = stacks(tmp_path, {"ecr-fargate:promoteFrom": "dev"})
    assert images.load_plan("prod", stack_dir=directory) == []
    rendered = engine.render(from_files("prod", stack_dir=directory), env={})
    assert not [r for r in rendered.resources if r.type.startswith("docker")]
    expected = {
        s: "sha256:" + hashlib.sha256(f"promoted:{s}".encode()).hexdigest()
        for s in ("api", "worker", "report")
    }
    pinned = {k: v.split("@")[1] for k, v in rendered.outputs["containerImageDigests"].items()}
    assert pinned == expected
    assert {v["source"] for v in rendered.outputs["imageSources"].values()} == {"promoted"}
    # With CI's digests (the deploy job), those win: the parameter is not needed.
    ci = {"ECR_FARGATE_IMAGE_DIGESTS": json.dumps({s: INDEX_DIGEST for s in expected})}
    rendered = engine.render(from_files("prod", stack_dir=directory), env=ci)
    assert {v.split("@")[1] for v in rendered.outputs["containerImageDigests"].values()} == {
        INDEX_DIGEST
    }


def test_a_service_the_source_lacks_takes_the_index_of_the_same_build_inputs(
    tmp_path: Path,
) -> None:
    """prod's nightly `report` job has no namesake in dev: it runs the index dev runs as `api`
    (same context, Dockerfile, target, args and platforms), never a build of its own."""
    directory = stacks(tmp_path, {"ecr-fargate:promoteFrom": "dev"})
    load = engine.stack_settings.load
    prod = load(from_files("prod", stack_dir=directory), env={})
    dev = load(from_files("dev", stack_dir=directory), env={})
    assert promote_cli.sources(prod, dev) == [
        ("api", "api", "dev/api"),
        ("worker", "worker", "dev/worker"),
        ("report", "api", "dev/api"),
    ]
    copies = promote_cli.plan(prod, dev, {"api": INDEX_DIGEST, "worker": INDEX_DIGEST})
    assert [(c.service, c.source_repository, c.repository) for c in copies][2] == (
        "report",
        "dev/api",
        "prod/report",
    )


def test_a_service_with_other_inputs_and_no_namesake_is_refused(
    tmp_path: Path, capsys: Any
) -> None:
    config = yaml.safe_load((STACKS / "Pulumi.prod.yaml").read_text())["config"]
    services = config["ecr-fargate:services"]
    services[2]["build"] = {"context": "app", "target": "nightly"}
    directory = stacks(
        tmp_path, {"ecr-fargate:services": services, "ecr-fargate:promoteFrom": "dev"}
    )
    digests = json.dumps({"api": INDEX_DIGEST, "worker": INDEX_DIGEST})
    code = promote_cli.main(
        ["prod", "--stack-dir", str(directory), "--digests", digests], clients=(None, None)
    )
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: service 'report': stack 'dev' builds no service of that name or with the same "
        "build inputs to promote from"
    ]
