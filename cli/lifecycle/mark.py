"""`python -m cli.lifecycle mark`: tag what each service now runs, for rule 1 of every policy.

ECR lifecycle policies cannot read ECS, so after a successful `pulumi up` the CI deploy writes two
marker tags per repository with ECR's PutImage (the existing manifest under a new tag, no layer
upload): `<deploy prefix>running-current` on the digest the service now runs, and
`<deploy prefix>running-previous` on the one it ran before, so the previous revision stays
pullable for a rollback or the old tasks of a rollout. Rule 1 of every policy the stack renders
keeps every image tagged `<deploy prefix>running-*` (rules/lifecycle/protect.py).

Order matters: `previous` moves onto the old digest before `current` leaves it, so at no moment
is a digest a service ran unmarked. Both tags move, so the stack excludes them from tag
immutability (settings.registry). The deploy role already has what this needs on its own
repositories: DescribeImages, BatchGetImage and PutImage (permissions/registry.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules.lifecycle.protect import marker_tags

# Every manifest type ECR stores; without them BatchGetImage converts or refuses an index.
MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def tagged_digest(client: Any, repository: str, tag: str) -> str | None:
    """The digest `tag` names in the repository, or None if no image carries it."""
    try:
        found = client.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    except Exception as exc:
        if _error_code(exc) == "ImageNotFoundException":
            return None
        raise
    details = found.get("imageDetails") or []
    return str(details[0]["imageDigest"]) if details else None


def put_tag(client: Any, repository: str, digest: str, tag: str) -> None:
    """Move `tag` onto `digest`: its own manifest, byte for byte, under the tag."""
    got = client.batch_get_image(
        repositoryName=repository,
        imageIds=[{"imageDigest": digest}],
        acceptedMediaTypes=list(MEDIA_TYPES),
    )
    images = got.get("images") or []
    if not images:
        reasons = [f.get("failureReason", "") for f in got.get("failures") or []]
        raise ValueError(f"{repository}@{digest}: no such image ({'; '.join(reasons)})")
    image = images[0]
    extra = {}
    if image.get("imageManifestMediaType"):
        extra["imageManifestMediaType"] = image["imageManifestMediaType"]
    try:
        client.put_image(
            repositoryName=repository,
            imageManifest=image["imageManifest"],
            imageTag=tag,
            imageDigest=digest,
            **extra,
        )
    except Exception as exc:
        if _error_code(exc) != "ImageAlreadyExistsException":  # the tag is already on it
            raise


def mark_running(client: Any, repository: str, digest: str, deploy_prefix: str) -> list[str]:
    """Mark `digest` as what runs, the digest marked before as the previous one; what it did."""
    current, previous = marker_tags(deploy_prefix)
    before = tagged_digest(client, repository, current)
    if before == digest:
        return [f"{repository}: {digest} is already {current}"]
    done = []
    if before is not None:
        put_tag(client, repository, before, previous)
        done.append(f"{repository}: {before} is now {previous}")
    put_tag(client, repository, digest, current)
    done.append(f"{repository}: {digest} is now {current}")
    return done


def mark_stack(
    client: Any, repositories: Mapping[str, str], digests: Mapping[str, str], deploy_prefix: str
) -> list[str]:
    """Every service CI built (`digests`, ECR_FARGATE_IMAGE_DIGESTS) in its own repository."""
    unknown = sorted(set(digests) - set(repositories))
    if unknown:
        raise ValueError(f"no repository for service(s) {', '.join(unknown)} in this stack")
    done = []
    for service in sorted(digests):
        done += mark_running(client, repositories[service], digests[service], deploy_prefix)
    return done
