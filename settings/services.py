"""Service settings: one repository each, and the image the stack builds or is given by digest."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session

from rules.build import command, context, digests, platform, prebuilt, tags
from rules.ecs.container import ECS_NAME, PORT_MAPPING_NAME, port_mapping_name
from rules.naming import StackNames
from rules.registry import names
from settings.errors import Collector, key_path, show
from settings.keys import BUILD, SERVICE
from settings.keys.services import DEFAULT_PLATFORM
from settings.reader import Obj, as_list
from settings.registry import RegistrySettings, RepositorySettings, load_repository

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
    extra_tags: tuple[str, ...]
    context_digest: str  # sha256 of the files Docker sends, the Dockerfile and the ignore file
    deploy_prefix: str

    def tag_for(self, platforms: Sequence[str]) -> str:
        """The content tag of these inputs built for exactly these platforms."""
        return tags.image_tag(
            self.deploy_prefix,
            context_digest=self.context_digest,
            target=self.target,
            args=self.args,
            platforms=platforms,
        )


@dataclass(frozen=True)
class ImageSettings:
    service: str
    platforms: tuple[str, ...]  # the service's platforms: what CI builds into one image index
    build: BuildSettings | None
    prebuilt: str | None  # `<repo>@sha256:...` used as is; no build happens
    build_on_preview: bool
    ci_digest: str | None = None  # from ECR_FARGATE_IMAGE_DIGESTS: CI's index in the own repository
    commit: str | None = None  # GITHUB_SHA / GIT_SHA: the `imageSources` output only

    @property
    def platform(self) -> str:
        """The platform a task runs unless its `architecture` picks another of `platforms`."""
        return self.platforms[0]

    @property
    def cpu_architecture(self) -> str:
        return platform.cpu_architecture(self.platform)

    @property
    def builds_here(self) -> bool:
        """`pulumi up` builds and pushes this image itself (no prebuilt digest, no CI digest)."""
        return self.build is not None and self.ci_digest is None

    @property
    def index_tag(self) -> str | None:
        """The tag CI pushes the multi-platform index under (what `python -m cli.images` prints)."""
        return None if self.build is None else self.build.tag_for(self.platforms)

    def build_command(self, repository_url: str, built: str) -> str | None:
        """The shell command a person can run to do the same build and push by hand."""
        if self.build is None:
            return None
        return command.docker_build_command(
            platform=built,
            image_ref=f"{repository_url}:{self.build.tag_for([built])}",
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


@dataclass(frozen=True)
class _ImageContext:
    """What every service's image reads besides its own entry."""

    registry: RegistrySettings
    project_dir: Path
    build_on_preview: bool
    digests: Mapping[object, object]  # ECR_FARGATE_IMAGE_DIGESTS, decoded
    commit: str | None


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
    if not items and (value is None or isinstance(value, list)):  # else refused as a whole
        errors.add("services", f"{show(value)} is not allowed; list at least one service")
    environ = os.environ if env is None else env
    shared = _ImageContext(
        registry,
        project_dir,
        build_on_preview,
        _env_digests(errors, environ),
        _commit(errors, environ),
    )
    seen_names: dict[str, int] = {}
    seen_repos: dict[str, int] = {}
    out: list[ServiceSettings] = []
    for i, item in enumerate(items):
        path = key_path("services", i)
        obj = Obj(errors, path, item, SERVICE)  # `run` is read by settings.fargate
        name = obj.string("name")
        if name is None:
            if not obj.has("name"):  # a name of the wrong type is refused by `string` already
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
        image = _load_image(errors, obj, name, shared)
        out.append(ServiceSettings(name, repository, image))
    _check_digest_names(errors, shared.digests, items, out)
    return tuple(out)


def _env_digests(errors: Collector, env: Mapping[str, str]) -> Mapping[object, object]:
    with errors.guard(f"env:{digests.VARIABLE}"):
        return digests.parse_image_digests(env.get(digests.VARIABLE, ""))
    return {}


def _commit(errors: Collector, env: Mapping[str, str]) -> str | None:
    variable = tags.commit_variable(env)
    if variable is None:
        return None
    with errors.guard(f"env:{variable}"):
        return tags.validate_commit(env[variable])
    return None


def _check_digest_names(
    errors: Collector,
    found: Mapping[object, object],
    items: list[Any],
    services: list[ServiceSettings],
) -> None:
    """Every name in ECR_FARGATE_IMAGE_DIGESTS is a service the stack builds."""
    named = [i for i in items if isinstance(i, dict) and isinstance(i.get("name"), str)]
    given = {i["name"] for i in named}
    with_build = {i["name"] for i in named if "build" in i}
    built = {s.name for s in services if s.image is not None and s.image.build is not None}
    for name in sorted(found, key=str):
        if name in with_build:  # taken, or its build section's own problems are reported
            continue
        key = digests.member_key(str(name))
        if name in given:
            errors.add(
                key,
                "is not allowed; only a service with a build section takes CI's digest "
                "(a prebuilt service names its digest in services[i].image)",
            )
        else:
            known = ", ".join(sorted(built)) or "none"
            errors.add(key, f"is not allowed; no such service with a build (services: {known})")


def _load_image(
    errors: Collector, obj: Obj, service: str, shared: _ImageContext
) -> ImageSettings | None:
    if obj.has("build") and obj.has("image"):
        errors.add(
            obj.path, "give either build (the stack builds) or image (a prebuilt digest), not both"
        )
        return None
    plats = _platforms(errors, obj)
    if obj.has("image"):
        ref = obj.string("image")
        if ref is None:
            return None
        with errors.guard(obj.at("image")):
            pinned = prebuilt.validate_prebuilt_image(ref)
            return ImageSettings(service, plats, None, pinned, shared.build_on_preview)
        return None
    if not obj.has("build"):
        return None
    build = _build(errors, obj, registry=shared.registry, project_dir=shared.project_dir)
    if build is None:
        return None
    ci_digest = None
    if service in shared.digests:
        with errors.guard(digests.member_key(service)):
            ci_digest = digests.validate_digest(shared.digests[service])
    return ImageSettings(
        service, plats, build, None, shared.build_on_preview, ci_digest, shared.commit
    )


def _platforms(errors: Collector, obj: Obj) -> tuple[str, ...]:
    """`build.platforms` (a list), or the older single `platform`; never both."""
    build = obj.raw("build")
    listed = build.get("platforms") if isinstance(build, dict) else None
    if listed is None:
        plat = obj.text("platform")
        with errors.guard(obj.at("platform")):
            return (platform.validate_platform(plat),)
        return (DEFAULT_PLATFORM,)
    at = key_path(obj.path, "build", "platforms")
    if obj.has("platform"):
        errors.add(
            at,
            "is not allowed together with "
            f"{obj.at('platform')}; list every platform in build.platforms and drop platform",
        )
    if not isinstance(listed, list) or not listed:
        allowed = ", ".join(platform.PLATFORM_ARCHITECTURES)
        errors.add(at, f"{show(listed)} is not allowed; expected a non-empty list of {allowed}")
        return (DEFAULT_PLATFORM,)
    found: list[str] = []
    for i, item in enumerate(listed):
        with errors.guard(key_path(at, i)):
            if not isinstance(item, str):
                raise ValueError(f"{show(item)} is not allowed; expected a string")
            plat = platform.validate_platform(item)
            if plat in found:
                raise ValueError(f"{show(item)} is not allowed; {plat} is listed twice")
            found.append(plat)
    return tuple(found) or (DEFAULT_PLATFORM,)


def _build(
    errors: Collector,
    obj: Obj,
    *,
    registry: RegistrySettings,
    project_dir: Path,
) -> BuildSettings | None:
    """The `build` object: context, Dockerfile, args, cache sources, extra tags, content digest."""
    b = Obj(errors, obj.at("build"), obj.raw("build"), BUILD)
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
    digest = None
    with errors.guard(b.at("context")):
        digest = tags.context_digest(
            project_dir / build_ctx.context, project_dir / build_ctx.dockerfile
        )
    if digest is None:
        return None
    return BuildSettings(
        context=str(build_ctx.context),
        dockerfile=str(build_ctx.dockerfile),
        target=b.string("target"),
        args=args,
        cache_from=cache_from,
        extra_tags=extra_tags,
        context_digest=digest,
        deploy_prefix=registry.deploy_tag_prefix,
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
