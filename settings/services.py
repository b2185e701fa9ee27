"""Service settings: one repository each, and the image the stack builds or is given by digest."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from build import command, context, platform, prebuilt, tags
from registry import names

from .errors import Collector, key_path, show
from .naming import StackNames
from .reader import Obj, as_list
from .registry import RegistrySettings, RepositorySettings, load_repository

SERVICE_KEYS = ("name", "repository", "lifecycle", "build", "image", "platform")
BUILD_KEYS = ("context", "dockerfile", "target", "args", "cacheFrom", "extraTags")
DEFAULT_PLATFORM = "linux/amd64"


@dataclass(frozen=True)
class BuildSettings:
    context: (
        str  # relative to the project directory, so resource inputs are the same on every machine
    )
    dockerfile: str
    target: str | None
    args: Mapping[str, str]
    cache_from: tuple[str, ...]
    tag: str  # deploy prefix + git sha + content hash: a new content never reuses a tag
    extra_tags: tuple[str, ...]


@dataclass(frozen=True)
class ImageSettings:
    service: str
    platform: str
    cpu_architecture: str
    build: BuildSettings | None
    prebuilt: str | None  # `<repo>@sha256:...` used as is; no build happens
    build_on_preview: bool

    def build_command(self, repository_url: str) -> str | None:
        """The shell command a person can run to do the same build and push by hand."""
        if self.build is None:
            return None
        return command.docker_build_command(
            platform=self.platform,
            image_ref=f"{repository_url}:{self.build.tag}",
            context=self.build.context,
            dockerfile=self.build.dockerfile,
            target=self.build.target,
            build_args=dict(self.build.args),
            cache_from=self.build.cache_from,
        )


@dataclass(frozen=True)
class ServiceSettings:
    name: str
    repository: RepositorySettings
    image: ImageSettings | None


def load_services(
    errors: Collector,
    value: Any,
    *,
    stack: str,
    registry: RegistrySettings,
    project_dir: Path,
    build_on_preview: bool,
    env: Mapping[str, str] | None = None,
) -> tuple[ServiceSettings, ...]:
    items = as_list(errors, "services", value)
    if not items:
        errors.add("services", f"{show(value)} is not allowed; list at least one service")
    git_sha: str | None = None
    with errors.guard("services"):
        git_sha = tags.git_sha_from_env(os.environ if env is None else env)
    seen_names: dict[str, int] = {}
    seen_repos: dict[str, int] = {}
    out: list[ServiceSettings] = []
    for i, item in enumerate(items):
        path = key_path("services", i)
        obj = Obj(errors, path, item, SERVICE_KEYS)
        name = obj.string("name")
        if not name:
            errors.add(obj.at("name"), "is required: a short service name such as 'api'")
            continue
        if name in seen_names:
            errors.add(
                obj.at("name"),
                f"{name!r} is not allowed; services[{seen_names[name]}] has that name",
            )
        seen_names[name] = i
        default_repo = StackNames(stack).default_repository(name)
        repo_name = obj.string("repository", default_repo) or default_repo
        if repo_name in seen_repos:
            errors.add(
                obj.at("repository"),
                f"{repo_name!r} is not allowed; services[{seen_repos[repo_name]}] uses that repository",
            )
        seen_repos[repo_name] = i
        repository = load_repository(
            errors, path, name, repo_name, obj.raw("lifecycle"), registry=registry
        )
        image = _load_image(
            errors,
            obj,
            name,
            registry=registry,
            project_dir=project_dir,
            git_sha=git_sha,
            build_on_preview=build_on_preview,
        )
        out.append(ServiceSettings(name, repository, image))
    return tuple(out)


def _load_image(
    errors: Collector,
    obj: Obj,
    service: str,
    *,
    registry: RegistrySettings,
    project_dir: Path,
    git_sha: str | None,
    build_on_preview: bool,
) -> ImageSettings | None:
    if obj.has("build") and obj.has("image"):
        errors.add(
            obj.path, "give either build (the stack builds) or image (a prebuilt digest), not both"
        )
        return None
    plat = obj.string("platform", DEFAULT_PLATFORM) or DEFAULT_PLATFORM
    arch = "X86_64"
    with errors.guard(obj.at("platform")):
        plat = platform.validate_platform(plat)
        arch = platform.cpu_architecture(plat)
    if obj.has("image"):
        ref = obj.string("image")
        if ref is None:
            return None
        with errors.guard(obj.at("image")):
            pinned = prebuilt.validate_prebuilt_image(ref)
            return ImageSettings(service, plat, arch, None, pinned, build_on_preview)
        return None
    if not obj.has("build"):
        return None
    b = Obj(errors, obj.at("build"), obj.raw("build"), BUILD_KEYS)
    ctx_value = b.string("context")
    if ctx_value is None:
        errors.add(
            b.at("context"), "is required: the build context directory, relative to Pulumi.yaml"
        )
        return None
    build_ctx = None
    with errors.guard(b.at("context")):
        build_ctx = context.validate_build_context(project_dir, ctx_value, b.string("dockerfile"))
    if build_ctx is None:
        return None
    args: dict[str, str] = {}
    with errors.guard(b.at("args")):
        args = context.validate_build_args(b.mapping("args"))
    cache_from = b.str_list("cacheFrom")
    extra_tags = b.str_list("extraTags")
    for i, tag in enumerate(extra_tags):
        with errors.guard(key_path(b.path, "extraTags", i)):
            names.validate_image_tag(tag)
            if not registry.tag_is_mutable(tag):
                raise ValueError(
                    f"{tag!r} is not allowed with tagMutability {registry.tag_mutability}: every deploy "
                    "would move it and ECR refuses; add it to registry.tagMutabilityExclusions with "
                    "IMMUTABLE_WITH_EXCLUSION, or drop it"
                )
            if tag.startswith(registry.deploy_tag_prefix):
                raise ValueError(
                    f"{tag!r} is not allowed; tags starting with the deploy prefix "
                    f"{registry.deploy_tag_prefix!r} are the stack's own content tags"
                )
    tag = ""
    with errors.guard(b.path):
        digest = tags.context_hash(
            project_dir / build_ctx.context, project_dir / build_ctx.dockerfile
        )
        tag = tags.image_tag(registry.deploy_tag_prefix, git_sha=git_sha, content_hash=digest)
    build = BuildSettings(
        context=str(build_ctx.context),
        dockerfile=str(build_ctx.dockerfile),
        target=b.string("target"),
        args=args,
        cache_from=cache_from,
        tag=tag,
        extra_tags=extra_tags,
    )
    return ImageSettings(service, plat, arch, build, None, build_on_preview)
