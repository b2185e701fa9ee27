"""Service settings: one repository each, and the image the stack builds or is given by digest."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session

from build import command, context, platform, prebuilt, tags
from ecs.container import ECS_NAME, PORT_MAPPING_NAME, port_mapping_name
from registry import names

from .errors import Collector, key_path, show
from .naming import StackNames
from .reader import Obj, as_list
from .registry import RegistrySettings, RepositorySettings, load_repository

# `run` (how the service runs on Fargate) is read by settings.fargate.
SERVICE_KEYS = ("name", "repository", "lifecycle", "build", "image", "platform", "run")
BUILD_KEYS = ("context", "dockerfile", "target", "args", "cacheFrom", "extraTags")
DEFAULT_PLATFORM = "linux/amd64"


# Lowercase letters and digits in hyphen-joined words: the one shape every name derived from a
# service name accepts (ECS names, Service Connect port-mapping names, log groups, repositories).
SERVICE_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*", re.ASCII)


def validate_service_name(name: str, stack_names: StackNames) -> str:
    """A service name from which every derived physical name is valid.

    The name becomes the ECS service and container name, the task family `<prefix>-<name>`, the
    log group `/ecs/<family>`, the default repository `<stack>/<name>` and the port-mapping name
    `<name>-<port>` (at most 64 characters, so the name is at most 58 with a 5-digit port).
    """
    longest = min(64 - len("-65535"), 255 - len(stack_names.family("")))
    derived = None
    if 1 <= len(name) <= longest and SERVICE_NAME.fullmatch(name):
        derived = _derived_name_problem(name, stack_names)
        if derived is None:
            return name
    raise ValueError(
        f"{name!r} is not allowed; a service name is 1 to {longest} characters matching "
        f"{SERVICE_NAME.pattern}: lowercase letters and digits in words joined by single hyphens "
        f"(it names the ECS service, the container, the task "
        f"family {stack_names.family('NAME')}, its log group and the repository "
        f"{stack_names.stack}/NAME)" + (f"; the {derived} name would be refused" if derived else "")
    )


@cache
def _log_group_rule() -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model("logs")
    return dict(model.shape_for("LogGroupName").metadata)


def _derived_name_problem(name: str, stack_names: StackNames) -> str | None:
    """Which derived name the API would refuse (rules: the Logs model; the ECS model's text)."""
    rule = _log_group_rule()
    log_group = stack_names.log_group(name)
    checks = (
        (ECS_NAME.fullmatch(stack_names.family(name)), "task family"),
        (ECS_NAME.fullmatch(stack_names.ecs_service(name)), "ECS service"),
        (ECS_NAME.fullmatch(stack_names.container(name)), "container"),
        (PORT_MAPPING_NAME.fullmatch(port_mapping_name(name, 65535)), "port mapping"),
        (
            re.fullmatch(rule["pattern"], log_group)
            and rule["min"] <= len(log_group) <= rule["max"],
            "log group",
        ),
        (names.REPOSITORY_NAME.fullmatch(stack_names.default_repository(name)), "repository"),
    )
    return next((what for ok, what in checks if not ok), None)


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
        if name is None:
            errors.add(obj.at("name"), "is required: a short service name such as 'api'")
            continue
        try:
            validate_service_name(name, StackNames(stack))
        except ValueError as exc:
            errors.add(obj.at("name"), str(exc))
            continue
        if name in seen_names:
            errors.add(
                obj.at("name"),
                f"{name!r} is not allowed; services[{seen_names[name]}] has that name",
            )
        seen_names[name] = i
        default_repo = StackNames(stack).default_repository(name)
        repo_name = obj.string("repository", default_repo)
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
    plat = obj.string("platform", DEFAULT_PLATFORM)
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
    build = _build(errors, obj, registry=registry, project_dir=project_dir, git_sha=git_sha)
    if build is None:
        return None
    return ImageSettings(service, plat, arch, build, None, build_on_preview)


def _build(
    errors: Collector,
    obj: Obj,
    *,
    registry: RegistrySettings,
    project_dir: Path,
    git_sha: str | None,
) -> BuildSettings | None:
    """The `build` object: context, Dockerfile, args, cache sources, extra tags, and the tag."""
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
    extra_tags = _extra_tags(errors, b, registry)
    tag = ""
    with errors.guard(b.path):
        digest = tags.context_hash(
            project_dir / build_ctx.context, project_dir / build_ctx.dockerfile
        )
        tag = tags.image_tag(registry.deploy_tag_prefix, git_sha=git_sha, content_hash=digest)
    return BuildSettings(
        context=str(build_ctx.context),
        dockerfile=str(build_ctx.dockerfile),
        target=b.string("target"),
        args=args,
        cache_from=cache_from,
        tag=tag,
        extra_tags=extra_tags,
    )


def _extra_tags(errors: Collector, b: Obj, registry: RegistrySettings) -> tuple[str, ...]:
    """Extra tags every push moves: only where the repository lets tags move."""
    extra_tags = b.str_list("extraTags")
    for i, tag in enumerate(extra_tags):
        with errors.guard(key_path(b.path, "extraTags", i)):
            names.validate_image_tag(tag)
            if tag == names.BUILD_CACHE_TAG:
                raise ValueError(
                    f"{tag!r} is not allowed; it is the tag CI's Buildx keeps the build cache under"
                )
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
    return extra_tags


def refused_names(value: Any, services: tuple[ServiceSettings, ...]) -> set[str]:
    """Names given in `services` whose entries were refused (so other keys need not repeat it)."""
    items = value if isinstance(value, list) else []
    given = {i["name"] for i in items if isinstance(i, dict) and isinstance(i.get("name"), str)}
    return given - {s.name for s in services}
