"""Docker image references, parsed and normalized exactly as Docker's `ParseNormalizedNamed` does.

Port of distribution/reference (regexp.go, normalize.go, reference.go) with go-digest's checks;
Go's RE2 `\\w` is ASCII, hence `re.ASCII`. An absent tag stays absent: `latest` is the caller's
decision.

A digest passes two checks, as in distribution/reference's `Parse`:

1. The reference grammar (reference.go, regexp.go `digestPat`):
   `digest := algorithm ":" hex`, `algorithm := component (separator component)*`,
   `component := [A-Za-z][A-Za-z0-9]*`, `separator := [-_+.]`, `hex := [0-9a-fA-F]{32,}`.
2. go-digest's `Digest.Validate` (digest.go, algorithm.go; distribution/reference's go.mod pins
   go-digest v1.0.0): the algorithm must be registered, and its encoded part is exactly the
   hash's size in lowercase hex: sha256 64, sha384 96, sha512 128 (the OCI image spec's
   descriptor.md "Registered algorithms" gives sha256 and sha512 the same lengths; go-digest's
   unreleased main no longer registers sha384 by default, Docker's releases still take it).

An unregistered algorithm is refused, never passed through: go-digest v1.0.0 registers only these
three, so Docker itself refuses any other (`unsupported digest algorithm` when the digest is
well formed by go-digest's `DigestRegexp`, `invalid checksum digest format` when not). Accepting
one would render a task definition Docker cannot pull; ECR computes sha256 only, and ECS's own
model takes only sha256 (`rules.build.prebuilt`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
NAME_TOTAL_LENGTH_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_HOST = rf"(?:{_DOMAIN_NAME}|{_IPV6})"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
REFERENCE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?$", re.ASCII)
ANCHORED_DOMAIN = re.compile(rf"^{_DOMAIN}$", re.ASCII)
IDENTIFIER = re.compile(r"^[a-f0-9]{64}$")
# go-digest v1.0.0's registered algorithms and their hex lengths (algorithm.go
# `anchoredEncodedRegexps`: `^[a-f0-9]{64}$`, `{96}`, `{128}`, lowercase only).
DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
# go-digest's `DigestRegexpAnchored` (digest.go): decides which error an unknown algorithm gets.
GO_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+", re.ASCII)


@dataclass(frozen=True)
class ImageReference:
    domain: str
    path: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        return f"{self.domain}/{self.path}"

    def __str__(self) -> str:
        out = self.name
        if self.tag is not None:
            out += f":{self.tag}"
        if self.digest is not None:
            out += f"@{self.digest}"
        return out


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if not sep:
        domain, remainder = DEFAULT_DOMAIN, name
    elif first == "localhost" or "." in first or ":" in first or first.lower() != first:
        domain, remainder = first, rest
    elif first == LEGACY_DEFAULT_DOMAIN:
        domain, remainder = DEFAULT_DOMAIN, rest
    else:
        domain, remainder = DEFAULT_DOMAIN, name
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder


def _validate_digest(digest: str) -> None:
    """go-digest v1.0.0 `Digest.Validate`, branch for branch (its errors' texts)."""
    algorithm, _, encoded = digest.partition(":")
    length = DIGEST_HEX_LENGTHS.get(algorithm)
    if length is None:
        if not GO_DIGEST.fullmatch(digest):
            raise ValueError("invalid checksum digest format")
        raise ValueError(
            f"unsupported digest algorithm {algorithm!r} (Docker takes sha256, sha384 or sha512)"
        )
    if len(encoded) != length:
        raise ValueError(
            f"invalid checksum digest length: {algorithm} is {length} hex digits, not {len(encoded)}"
        )
    if not re.fullmatch(r"[a-f0-9]+", encoded, re.ASCII):
        raise ValueError("invalid checksum digest format: lowercase hex digits only")


def parse_image_reference(ref: str) -> ImageReference:
    if not isinstance(ref, str) or not ref:
        raise ValueError(
            "invalid reference format: repository name must have at least one component"
        )
    if IDENTIFIER.match(ref):
        raise ValueError(
            f"invalid repository name ({ref}), cannot specify 64-byte hexadecimal strings"
        )
    domain, remainder = _split_domain(ref)
    remote = remainder.split(":", 1)[0]  # Docker checks the text before the first ':' only
    if remote.lower() != remote:
        raise ValueError(f"invalid reference format: repository name {remote!r} must be lowercase")
    match = REFERENCE.match(f"{domain}/{remainder}")
    if match is None:
        raise ValueError(f"invalid reference format: {ref!r}")
    name, tag, digest = match.group(1), match.group(2), match.group(3)
    path = name[len(domain) + 1 :]
    if not ANCHORED_DOMAIN.match(domain):
        raise ValueError(f"invalid reference format: {ref!r}")
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        raise ValueError(
            f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
        )
    if digest is not None:
        _validate_digest(digest)
    return ImageReference(domain, path, tag, digest)
