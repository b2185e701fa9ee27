"""`ECR_FARGATE_IMAGE_DIGESTS`: the image index digests CI built and pushed, by service.

CI builds every platform of a service into one image index (buildx), pushes it under the content
tag `python -m cli.images` prints, and hands the index digest to the deploy job in this variable
as a JSON object `{"<service>": "sha256:<64 hex>"}`. For a listed service the stack builds
nothing and pins `<repository url>@<digest>`: the task runs exactly what CI built and scanned, and
ECS picks the task architecture's manifest from the index at launch.
"""

from __future__ import annotations

import json
import re

VARIABLE = "ECR_FARGATE_IMAGE_DIGESTS"
# What ECR reports as `imageDigest`: sha256 and 64 lowercase hex digits (the OCI digest ECR computes).
DIGEST = re.compile(r"sha256:[0-9a-f]{64}", re.ASCII)
EXAMPLE = '{"api": "sha256:<64 hex>"}'


def parse_image_digests(text: str) -> dict[object, object]:
    """The decoded object, members unchecked (the services decide which names are allowed).
    Unset or blank: no service is prebuilt."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise ValueError(f"is not JSON; expected an object such as {EXAMPLE}") from None
    if not isinstance(value, dict):
        raise ValueError(
            f"is a JSON {type(value).__name__}, not an object; expected an object such as {EXAMPLE}"
        )
    return value


def validate_digest(value: object) -> str:
    if not isinstance(value, str) or not DIGEST.fullmatch(value):
        raise ValueError(
            f"{json.dumps(value)[:100]} is not allowed; an image index digest is 'sha256:' and "
            "64 lowercase hex digits, as `aws ecr describe-images` reports it"
        )
    return value


def member_key(service: str) -> str:
    """`env:ECR_FARGATE_IMAGE_DIGESTS[api]`; a name that would break the key is JSON-quoted."""
    plain = bool(service) and service.isprintable() and not set(service) & set('[]"')
    return f"env:{VARIABLE}[{service if plain else json.dumps(service)}]"
