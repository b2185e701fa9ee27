"""The whole stack as one function: settings in, component resources, outputs out.

`__main__.py` calls it with the runtime's config; the tests and the offline plan call it under
Pulumi mocks for each stack in one process.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from components.boundary import StackBoundary, StackBoundaryArgs
from components.build.image import ServiceImage, ServiceImageArgs, registry_auth
from components.ecs.cluster import StackCluster, StackClusterArgs
from components.ecs.loadbalancer import StackLoadBalancer, StackLoadBalancerArgs
from components.ecs.run import ServiceRun, ServiceRunArgs
from components.registry.cache import PullThroughCache, PullThroughCacheArgs
from components.registry.repository import Registry, RegistryArgs
from components.registry.templates import (
    RegistryTemplates,
    RegistryTemplatesArgs,
    registry_host,
)
from permissions import boundary_policy
from rules.build.platform import platform_for
from rules.ecs import pull
from settings import Settings
from settings.fargate import FargateStack
from settings.services import ImageSettings


def build_stack(settings: Settings) -> dict[str, pulumi.Input[object]]:
    for warning in settings.warnings:
        pulumi.log.warn(warning)
    account_id = aws.get_caller_identity_output().account_id
    boundary = _boundary(settings, account_id)
    registry, cache = _registry(settings, account_id, boundary)
    replicas = _registry_wide(settings, registry, account_id, boundary)
    images = _images(settings, registry, account_id)
    outputs: dict[str, pulumi.Input[object]] = {
        "ecrRegistryUrl": registry.registry_host,
        "ecrLoginCommand": registry.login_command,
        "ecrRepositoryUrls": registry.repository_urls,
        "ecrRepositoryArns": registry.repository_arns,
        "ecrRepositoryNames": registry.repository_names,
        "pullThroughCacheRules": cache.rules,
        "pullThroughCacheUpstreams": cache.upstreams,
        "pullThroughCacheSecretArns": cache.secret_arns,
        "pullThroughPullPolicyJson": cache.pull_policy_json,
        "permissionsBoundaryArn": boundary,
        "ecrReplicaRegistryUrls": replicas,
    }
    outputs.update(_image_outputs(settings, images))
    if settings.fargate is not None:
        outputs.update(_fargate(settings, registry, cache, images, account_id, boundary))
    if settings.github is not None:
        outputs.update(_ci_outputs(settings, account_id))
    return outputs


def _image_outputs(
    settings: Settings, images: dict[str, ServiceImage]
) -> dict[str, pulumi.Input[object]]:
    """Maps by service whatever their number, and the primary service's values under the
    singular names: an output's type never changes when a service is added."""
    commands = {k: i.build_command for k, i in images.items() if i.build_command is not None}
    found: dict[str, pulumi.Input[object]] = {
        "containerImageDigests": {k: i.repo_digest for k, i in images.items()},
        "containerImageRefs": {k: i.image_ref for k, i in images.items()},
        "dockerBuildCommands": commands,
        "imageSources": _image_sources(settings, images),
    }
    primary = settings.fargate.primary if settings.fargate is not None else None
    if primary is None:  # no long-running service: the first service with an image
        primary = next((s.name for s in settings.services if s.name in images), None)
    if primary is not None and primary in images:
        found["containerImageDigest"] = images[primary].repo_digest
        found["containerImageRef"] = images[primary].image_ref
        if primary in commands:
            found["dockerBuildCommand"] = commands[primary]
    return found


def _image_sources(
    settings: Settings, images: dict[str, ServiceImage]
) -> dict[str, dict[str, object]]:
    """Service -> the content tag it runs and the commit that deployed it (`GITHUB_SHA` or
    `GIT_SHA`, else null). An output, never a resource input: the commit changes at every deploy
    and a task definition input that did would make a revision for every commit."""
    sources: dict[str, dict[str, object]] = {}
    for service in settings.services:
        image = images.get(service.name)
        if image is None or service.image is None or image.tag is None:
            continue
        sources[service.name] = {
            "tag": image.tag,
            "commit": service.image.commit,
            "source": _source(service.image),
        }
    return sources


def _source(image: ImageSettings) -> str:
    if image.ci_digest is not None:
        return "ci"
    return "promoted" if image.promoted_parameter is not None else "local"


def _boundary(settings: Settings, account_id: pulumi.Output[str]) -> pulumi.Output[str]:
    """The ARN of the boundary every role of the stack carries: the policy the stack creates
    (`permissionsBoundary: stack`, an output the roles wait for) or the bootstrap's, by name."""
    if not settings.creates_boundary:
        return account_id.apply(settings.boundary_arn)
    document = account_id.apply(
        lambda account: json.dumps(boundary_policy(settings, account), sort_keys=True)
    )
    return StackBoundary("boundary", StackBoundaryArgs(settings.names, document, settings.tags)).arn


def _registry(
    settings: Settings, account_id: pulumi.Output[str], boundary: pulumi.Output[str]
) -> tuple[Registry, PullThroughCache]:
    """The stack's repositories, and the registry-wide cache (created only by the account owner)."""
    registry = Registry(
        "registry",
        RegistryArgs(
            settings.registry,
            account_id,
            settings.region,
            settings.partition.name,
            settings.tags,
            owns_registry=settings.account.owns,
            ci_push_role_arn=account_id.apply(settings.names.deploy_role_arn)
            if settings.github is not None
            else None,
        ),
    )
    cache = PullThroughCache(
        "pull-through",
        PullThroughCacheArgs(
            settings.cache,
            registry=settings.registry,
            kms_key_arn=registry.kms_key_arn,
            registry_host=registry.registry_host,
            account_id=account_id,
            region=settings.region,
            partition=settings.partition.name,
            tags=settings.tags,
            names=settings.names,
            boundary_arn=boundary,
            owns_registry=settings.account.owns,
        ),
    )
    return registry, cache


def _registry_wide(
    settings: Settings,
    registry: Registry,
    account_id: pulumi.Output[str],
    boundary: pulumi.Output[str],
) -> dict[str, pulumi.Output[str]]:
    """The owner's create-on-push templates, replication and pull-time exclusions; the replica
    registries' hosts by region (on another stack: the owner's, created by nothing here)."""
    wide = settings.registry_wide
    if not settings.account.owns:  # the owner's replicas, read from the owner's stack file
        return {
            region: registry_host(account_id, region) for region in settings.account.replica_regions
        }
    if wide == type(wide)():
        return {}
    templates = RegistryTemplates(
        "registry-wide",
        RegistryTemplatesArgs(
            wide,
            settings.registry,
            registry.kms_key_arn,
            account_id,
            settings.names,
            settings.tags,
            boundary,
        ),
    )
    return templates.replica_registry_urls


def _images(
    settings: Settings, registry: Registry, account_id: pulumi.Output[str]
) -> dict[str, ServiceImage]:
    """One image per service with a build or a prebuilt digest; a local build builds the
    platform of the task that runs it. Every local build pushes to the stack's own registry, so
    one registry token serves them all (a token per image was one `GetAuthorizationToken` call
    per service at every preview)."""
    architectures = (
        {r.service.name: r.cpu_architecture for r in settings.fargate.runs}
        if settings.fargate is not None
        else {}
    )
    images: dict[str, ServiceImage] = {}
    auth = None
    # CI-built services (ECR_FARGATE_IMAGE_DIGESTS) push nothing from here: no token for them.
    if any(s.image is not None and s.image.builds_here for s in settings.services):
        auth = registry_auth(
            registry.registry_host, account_id, pulumi.InvokeOptions(parent=registry)
        )
    for service in settings.services:
        if service.image is None:
            continue
        arch = architectures.get(service.name)
        images[service.name] = ServiceImage(
            f"image-{service.name}",
            ServiceImageArgs(
                service.image,
                repository_url=registry.repository_urls[service.name],
                registry_host=registry.registry_host,
                registry_id=account_id,
                platform=platform_for(arch) if arch is not None else None,
                auth=auth,
            ),
        )
    return images


def _ci_outputs(
    settings: Settings, account_id: pulumi.Output[str]
) -> dict[str, pulumi.Input[object]]:
    """The CI roles and the OIDC provider belong to the one-time bootstrap (`python -m
    cli.bootstrap`), never to a stack CI can deploy: their ARNs follow from the names."""
    assert settings.github is not None
    names = settings.names
    provider = settings.github.oidc_provider_arn
    found: dict[str, pulumi.Input[object]] = {
        "githubOidcProviderArn": provider
        if provider is not None
        else account_id.apply(names.oidc_provider_arn),
        "ciRoleArn": account_id.apply(names.deploy_role_arn),
    }
    if settings.environment != "prod":
        # Prod has no preview role: pull requests plan it offline (cli/bootstrap.py).
        found["ciPreviewRoleArn"] = account_id.apply(names.preview_role_arn)
    return found


def _pull_grants(
    settings: Settings, registry: Registry, cache: PullThroughCache, service: str
) -> tuple[list[pulumi.Input[str]], pulumi.Input[str] | None]:
    """Pull rights for the repository the image really comes from, and the cache only if used."""
    image = next(s.image for s in settings.services if s.name == service)
    if image is None or image.prebuilt is None:
        return [registry.repository_arns[service]], None
    grants = pull.prebuilt_pull_grants(
        image.prebuilt,
        region=settings.region,
        cache_prefixes=[r.rule.prefix for r in settings.cache.rules],
        own_repositories=[r.name for r in settings.registry.repositories],
    )
    policy = None
    if grants.cache_prefix is not None and grants.cache_account is not None:
        policy = cache.pull_policy_for(grants.cache_account, grants.cache_prefix)
    return list(grants.repository_arns), policy


def _fargate(
    settings: Settings,
    registry: Registry,
    cache: PullThroughCache,
    images: dict[str, ServiceImage],
    account_id: pulumi.Output[str],
    boundary: pulumi.Output[str],
) -> dict[str, pulumi.Input[object]]:
    """One cluster, and every service that runs on it; maps by service, and the primary
    service's values under the singular names the README has always promised."""
    assert settings.fargate is not None
    f = settings.fargate
    listening = [r.container.port for r in f.runs if r.listens and r.container.port is not None]
    cluster = StackCluster(
        "cluster",
        StackClusterArgs(
            settings.names,
            f.network,
            uses_spot=f.uses_spot,
            listening_ports=listening,
            service_connect=bool(f.services),
            tags=settings.tags,
        ),
    )
    balancer = _load_balancer(settings, cluster, account_id, boundary)
    runs: dict[str, ServiceRun] = {}
    for run in f.runs:
        name = run.service.name
        repository_arns, pull_through_policy = _pull_grants(settings, registry, cache, name)
        runs[name] = ServiceRun(
            name,
            ServiceRunArgs(
                run,
                settings.names,
                f.network,
                cluster,
                account_id,
                images[name].repo_digest,
                repository_arns,
                pull_through_policy,
                {**settings.tags, "service": name},
                boundary_arn=boundary,
                primary=name == f.primary,
                target=balancer.targets.get(name) if balancer is not None else None,
                retain_logs=settings.environment == "prod",
            ),
        )
    outputs = {"ecsClusterName": cluster.cluster.name, **_run_outputs(runs, f.primary)}
    outputs |= _rollout_outputs(f)
    if balancer is not None:
        outputs |= {
            "serviceUrls": balancer.service_urls,
            # The test route of each web service that is not rolling: reachable from the stack's
            # tasks only, for the team and the smoke test, never the public.
            "testUrls": balancer.test_urls,
            "loadBalancerDnsName": balancer.load_balancer.dns_name,
            "loadBalancerArn": balancer.load_balancer.arn,
            "loadBalancerZoneId": balancer.load_balancer.zone_id,
        }
    return outputs


def _rollout_outputs(f: FargateStack) -> dict[str, pulumi.Input[object]]:
    """How each long-running service deploys (rolling, blue-green, canary, linear), and what its
    deployments run before the new revision scales up (`run.migrate`)."""
    return {
        "deploymentStrategies": {r.service.name: r.deployment.strategy for r in f.services},
        "migrations": {
            r.service.name: {
                "command": list(r.migrate.command),
                "timeoutMinutes": r.migrate.timeout_minutes,
            }
            for r in f.services
            if r.migrate is not None
        },
    }


def _load_balancer(
    settings: Settings,
    cluster: StackCluster,
    account_id: pulumi.Output[str],
    boundary: pulumi.Output[str],
) -> StackLoadBalancer | None:
    """The web services' shared load balancer, in the tasks' VPC."""
    assert settings.fargate is not None
    f = settings.fargate
    if f.load_balancer is None:
        return None
    group = cluster.services_group
    return StackLoadBalancer(
        "load-balancer",
        StackLoadBalancerArgs(
            f.load_balancer,
            [r for r in f.runs if r.route is not None],
            settings.names,
            f.network,
            account_id,
            cluster.subnets,
            group.id if group is not None else None,
            cluster.vpc_id if group is not None else None,
            cluster.vpc_cidr if group is not None else None,
            settings.tags,
            protect=settings.environment == "prod",
            boundary_arn=boundary,
        ),
    )


def _run_outputs(
    runs: dict[str, ServiceRun], primary: str | None
) -> dict[str, pulumi.Input[object]]:
    services = {k: r.service_name for k, r in runs.items() if r.service_name is not None}
    commands = {k: r.run_command for k, r in runs.items() if r.run_command is not None}
    found: dict[str, pulumi.Input[object]] = {
        "ecsServiceNames": services,
        "taskDefinitionArns": {k: r.task_definition_arn for k, r in runs.items()},
        "taskDefinitionFamilies": {k: r.family for k, r in runs.items()},
        "ecsLogGroupNames": {k: r.log_group_name for k, r in runs.items()},
        "ecsImageDigests": {k: r.image for k, r in runs.items()},
        "jobRunCommands": commands,
    }
    if primary is not None:
        p = runs[primary]
        assert p.service_name is not None
        found |= {
            "ecsServiceName": p.service_name,
            "taskDefinitionArn": p.task_definition_arn,
            "taskDefinitionFamily": p.family,
            "ecsLogGroupName": p.log_group_name,
            "ecsImageDigest": p.image,
        }
    return found
