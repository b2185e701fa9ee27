"""Build platforms Fargate runs, and the task architecture each one needs.

Fargate Linux tasks run `runtimePlatform.cpuArchitecture` X86_64 or ARM64 (the `CPUArchitecture`
enum of the ECS API model; https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#runtime-platform):
an amd64 image needs X86_64 tasks, an arm64 image ARM64 (Graviton).
"""

from __future__ import annotations

from collections.abc import Sequence

PLATFORM_ARCHITECTURES = {"linux/amd64": "X86_64", "linux/arm64": "ARM64"}
ARCHITECTURE_PLATFORMS = {arch: plat for plat, arch in PLATFORM_ARCHITECTURES.items()}
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


def platform_for(architecture: str) -> str:
    """The platform a task of this (already validated) architecture runs."""
    return ARCHITECTURE_PLATFORMS[architecture]


def validate_architecture(platforms: Sequence[str], architecture: str | None) -> str:
    """The task's architecture: the first platform's unless set, and then one the image has.

    A mismatch would fail only at run time, with 'exec format error' or 'CannotPullContainerError:
    no matching manifest', so it is refused before anything is registered.
    """
    allowed = [PLATFORM_ARCHITECTURES[validate_platform(p)] for p in platforms]
    if architecture is None:
        return allowed[0]
    if architecture not in allowed:
        raise ValueError(
            f"{architecture!r} is not allowed; the image is built for "
            f"{', '.join(platforms)}, so the task architecture is one of {', '.join(allowed)} "
            "(or add the platform to the service's build.platforms)"
        )
    return architecture
