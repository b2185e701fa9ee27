"""Repository names and image tags, as the ECR API and Docker clients accept them."""

from __future__ import annotations

import re

# The ECR API's `RepositoryName` pattern (identical to the OCI distribution spec's `<name>`).
REPOSITORY_NAME = re.compile(
    r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*", re.ASCII
)
# ECR allows 300-character tags but Docker and OCI clients stop at 128: the usable rule.
IMAGE_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}", re.ASCII)
EXCLUSION_FILTER = re.compile(r"[0-9a-zA-Z._*-]{1,128}", re.ASCII)
# The tag CI's buildx keeps each repository's registry build cache under (`--cache-to
# type=registry,ref=<repository>:buildcache`). Every build moves it, so the stack keeps it out of
# tag immutability (settings.registry) and out of lifecycle expiry (lifecycle.keep_build_cache).
BUILD_CACHE_TAG = "buildcache"


def validate_repository_name(name: str) -> str:
    if not isinstance(name, str) or not 2 <= len(name) <= 256:
        raise ValueError(f"{name!r} is not allowed; repository names are 2 to 256 characters")
    if not REPOSITORY_NAME.fullmatch(name):
        raise ValueError(
            f"{name!r} is not allowed; repository names are lowercase letters and digits in "
            "'/'-separated components, joined inside a component by '.', '_', '__' or '-'"
        )
    return name


def repository_name_warnings(name: str) -> list[str]:
    """What the API accepts but the user guide says is unsupported (kept as warnings, not errors)."""
    warnings = []
    if name[:1].isdigit():
        warnings.append("the user guide says names must start with a letter")
    if "__" in name:
        warnings.append("the user guide says double underscores are not supported")
    if "--" in name:
        warnings.append("the user guide says double hyphens are not supported")
    if len(name) > 255:
        warnings.append("Docker clients cannot pull names longer than 255 characters")
    return warnings


def validate_image_tag(tag: str) -> str:
    if not isinstance(tag, str) or not IMAGE_TAG.fullmatch(tag):
        raise ValueError(
            f"{tag!r} is not allowed; a tag is 1 to 128 of [A-Za-z0-9_.-] and does not start "
            "with '.' or '-'"
        )
    return tag


def validate_tag_exclusion_filter(value: str) -> str:
    if not isinstance(value, str) or not EXCLUSION_FILTER.fullmatch(value):
        raise ValueError(
            f"{value!r} is not allowed; an exclusion filter is 1 to 128 of [0-9a-zA-Z._*-]"
        )
    return value
