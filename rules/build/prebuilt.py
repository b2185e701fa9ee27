"""Prebuilt images: only an immutable digest reference may reach the task definition."""

from __future__ import annotations

from rules.registry.reference import parse_image_reference


def validate_prebuilt_image(ref: str) -> str:
    """`<domain>/<path>@sha256:<hex>`; a tag given with the digest is dropped, as Docker does.

    The digest must first be one Docker accepts (`rules.registry.reference`: a sha512 digest has
    128 hex digits), then sha256: the ECS API model's `ContainerDefinition.image` says "The only
    supported hash function is sha256".
    """
    try:
        parsed = parse_image_reference(ref)
    except ValueError as exc:
        raise ValueError(f"{ref!r} is not allowed; {exc}") from None
    if parsed.digest is None:
        raise ValueError(
            f"{ref!r} is not allowed; the ECS task must run an immutable digest reference "
            "(REPO@sha256:...), get it with `aws ecr describe-images --repository-name NAME "
            "--image-ids imageTag=TAG --query 'imageDetails[0].imageDigest'`"
        )
    if not parsed.digest.startswith("sha256:"):
        raise ValueError(
            f"{ref!r} is not allowed; ECS supports only sha256 digests (sha256:<64 hex>)"
        )
    return f"{parsed.name}@{parsed.digest}"
