"""Build platforms Fargate runs, and the task architecture each one needs."""

from __future__ import annotations

# Fargate Linux: amd64 images need X86_64 tasks, arm64 images need ARM64 (Graviton).
PLATFORM_ARCHITECTURES = {"linux/amd64": "X86_64", "linux/arm64": "ARM64"}
# Docker spells 64-bit ARM's only variant out sometimes; it is the same platform.
ALIASES = {"linux/arm64/v8": "linux/arm64"}


def validate_platform(platform: str) -> str:
    normalized = ALIASES.get(platform, platform)
    if normalized not in PLATFORM_ARCHITECTURES:
        raise ValueError(
            f"{platform!r} is not allowed; Fargate runs {', '.join(PLATFORM_ARCHITECTURES)}"
        )
    return normalized


def cpu_architecture(platform: str) -> str:
    return PLATFORM_ARCHITECTURES[validate_platform(platform)]


def validate_architecture(platform: str, architecture: str | None) -> str:
    """The architecture the platform needs; a hand-set one that disagrees is refused here."""
    derived = cpu_architecture(platform)
    if architecture is not None and architecture != derived:
        raise ValueError(
            f"{architecture!r} is not allowed; images built for {platform} need {derived} "
            "(a mismatch fails at run time with 'exec format error')"
        )
    return derived
