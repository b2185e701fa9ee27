"""Copy an image index from one ECR repository to another through the ECR API, digest unchanged.

Prod never builds: it runs the index dev built, scanned and ran. A digest is the sha256 of the
manifest's bytes, so a copy that re-serialises a manifest (any client that parses and re-encodes
JSON) makes a new image. This copy never parses to re-encode: BatchGetImage returns the stored
manifest text, its sha256 is checked against the digest asked for, and PutImage receives that same
text. No Docker daemon and no registry login are needed, only the ECR API.

ECR accepts a manifest only when every blob it names is already in the destination repository
(PutImage fails with LayersNotFoundException). Blob mounting shares layers between repositories
of one registry only, when the registry enables it
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/blob-mounting.html), and never across
accounts; so each blob missing in the destination (BatchCheckLayerAvailability) is streamed from
the source's GetDownloadUrlForLayer into InitiateLayerUpload / UploadLayerPart /
CompleteLayerUpload, one part at a time. Children go first (every platform's manifest and every
attestation manifest), then the index under its tag.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
ACCEPTED = [*INDEX_TYPES, *MANIFEST_TYPES]
PART_SIZE = 16 * 1024 * 1024  # read and uploaded one part at a time: memory stays bounded
CHECK_BATCH = 100  # BatchCheckLayerAvailability's layerDigests maximum (botocore's ECR model)

Opener = Callable[[str], IO[bytes]]


class PromotionError(Exception):
    """The copy cannot be made as asked; said in one line."""


@dataclass(frozen=True)
class Side:
    """One end of the copy: a repository in a registry (account), through an ECR client."""

    client: Any
    registry: str
    repository: str

    def ids(self) -> dict[str, str]:
        """The request's repository; no registryId means the caller's own account."""
        out = {"repositoryName": self.repository}
        if self.registry:
            out["registryId"] = self.registry
        return out


def sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def get_manifest(side: Side, digest: str) -> tuple[str, str]:
    """(manifest text, media type) of `digest`, checked to hash to it."""
    found = side.client.batch_get_image(
        **side.ids(), imageIds=[{"imageDigest": digest}], acceptedMediaTypes=ACCEPTED
    )
    images = found.get("images") or []
    if not images:
        failures = found.get("failures") or [{}]
        reason = failures[0].get("failureReason", "not found")
        raise PromotionError(f"{side.repository}@{digest}: {reason}")
    text = images[0]["imageManifest"]
    if sha256(text) != digest:
        raise PromotionError(
            f"{side.repository}@{digest}: the manifest does not hash to its digest"
        )
    media = images[0].get("imageManifestMediaType") or json.loads(text).get("mediaType", "")
    return text, media


def blobs(manifest: dict[str, Any]) -> list[str]:
    """The config and layer digests an image manifest names (foreign layers with `urls` aside)."""
    found = [manifest["config"]["digest"]] if "config" in manifest else []
    found += [layer["digest"] for layer in manifest.get("layers", []) if not layer.get("urls")]
    return list(dict.fromkeys(found))


def missing(dest: Side, digests: list[str]) -> list[str]:
    out: list[str] = []
    for start in range(0, len(digests), CHECK_BATCH):
        batch = digests[start : start + CHECK_BATCH]
        answer = dest.client.batch_check_layer_availability(**dest.ids(), layerDigests=batch)
        present = {
            layer["layerDigest"]
            for layer in answer.get("layers", [])
            if layer.get("layerAvailability") == "AVAILABLE"
        }
        out += [d for d in batch if d not in present]
    return out


def _parts(stream: IO[bytes], size: int) -> Iterator[bytes]:
    while chunk := stream.read(size):
        yield chunk


def copy_blob(source: Side, dest: Side, digest: str, opener: Opener) -> None:
    """Stream one blob from the source's download URL into an upload, part by part."""
    url = source.client.get_download_url_for_layer(**source.ids(), layerDigest=digest)
    upload = dest.client.initiate_layer_upload(**dest.ids())
    upload_id, size = upload["uploadId"], min(int(upload.get("partSize") or PART_SIZE), PART_SIZE)
    hasher, first = hashlib.sha256(), 0
    with opener(url["downloadUrl"]) as stream:
        for part in _parts(stream, size):
            hasher.update(part)
            dest.client.upload_layer_part(
                **dest.ids(),
                uploadId=upload_id,
                partFirstByte=first,
                partLastByte=first + len(part) - 1,
                layerPartBlob=part,
            )
            first += len(part)
    if "sha256:" + hasher.hexdigest() != digest:
        raise PromotionError(f"{source.repository}: blob {digest} downloaded with another digest")
    dest.client.complete_layer_upload(**dest.ids(), uploadId=upload_id, layerDigests=[digest])


def put(dest: Side, text: str, media: str, digest: str, tag: str | None = None) -> None:
    """PutImage with the manifest text unchanged; an image already there is left as it is."""
    extra = {"imageTag": tag} if tag else {}
    with contextlib.suppress(dest.client.exceptions.ImageAlreadyExistsException):
        dest.client.put_image(
            **dest.ids(),
            imageManifest=text,
            imageManifestMediaType=media,
            imageDigest=digest,
            **extra,
        )


def promote(
    source: Side, dest: Side, digest: str, tag: str | None, opener: Opener | None = None
) -> list[str]:
    """Copy the image (index or single manifest) at `digest`, unchanged; returns its runnable
    platform manifests (what the scan gate scans in `dest`)."""
    fetch = opener or _open
    text, media = get_manifest(source, digest)
    children: list[tuple[str, str, str]] = []
    if media in INDEX_TYPES:
        for entry in json.loads(text).get("manifests", []):
            child_text, child_media = get_manifest(source, entry["digest"])
            children.append((entry["digest"], child_text, child_media))
    manifests = [(d, t) for d, t, _ in children] or [(digest, text)]
    needed = list(dict.fromkeys(b for _, t in manifests for b in blobs(json.loads(t))))
    for blob in missing(dest, needed):
        copy_blob(source, dest, blob, fetch)
    for child_digest, child_text, child_media in children:
        put(dest, child_text, child_media, child_digest)
    put(dest, text, media, digest, tag)
    return runnable(text, media, digest)


def _open(url: str) -> IO[bytes]:
    """The pre-signed download URL (HTTPS only: the URL carries its own credentials)."""
    if not url.startswith("https://"):
        raise PromotionError("ECR returned a download URL that is not HTTPS")
    return urllib.request.urlopen(url, timeout=60)


def runnable(text: str, media: str, digest: str) -> list[str]:
    """The runnable platforms' manifests of an index (what ECR scans); attestation manifests
    (platform unknown/unknown) aside. A single-platform image is its own manifest."""
    if media not in INDEX_TYPES:
        return [digest]
    return [
        m["digest"]
        for m in json.loads(text).get("manifests", [])
        if (m.get("platform") or {}).get("os") != "unknown"
    ]
