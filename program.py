"""The whole stack as one function: settings in, component resources, outputs out.

`__main__.py` calls it with the runtime's config; the tests and the offline plan call it under
Pulumi mocks for each stack in one process.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from build.image import ServiceImage, ServiceImageArgs
from ecs.service import FargateService, FargateServiceArgs
from registry.cache import PullThroughCache, PullThroughCacheArgs
from registry.repository import Registry, RegistryArgs
from settings import Settings


def by_service(values: dict[str, pulumi.Output[str]]) -> pulumi.Input[object]:
    """One service: the value itself; several: a map by service (what the README promises)."""
    if len(values) == 1:
        return next(iter(values.values()))
    return values


def build_stack(settings: Settings) -> dict[str, pulumi.Input[object]]:
    for warning in settings.warnings:
        pulumi.log.warn(warning)
    identity = aws.get_caller_identity_output()
    account_id = identity.account_id
    tags = settings.tags
    partition = settings.partition.name

    registry = Registry(
        "registry",
        RegistryArgs(
            settings.registry,
            account_id,
            settings.region,
            partition,
            tags,
            owns_registry=settings.account.owns,
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
            partition=partition,
            tags=tags,
            names=settings.names,
            owns_registry=settings.account.owns,
        ),
    )

    images: dict[str, ServiceImage] = {}
    for service in settings.services:
        if service.image is None:
            continue
        images[service.name] = ServiceImage(
            f"image-{service.name}",
            ServiceImageArgs(
                service.image,
                repository_url=registry.repository_urls[service.name],
                registry_host=registry.registry_host,
                registry_id=account_id,
            ),
        )

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
    }
    if images:
        outputs["containerImageDigest"] = by_service({k: i.repo_digest for k, i in images.items()})
        outputs["containerImageRef"] = by_service({k: i.image_ref for k, i in images.items()})
        commands = {k: i.build_command for k, i in images.items() if i.build_command is not None}
        if commands:
            outputs["dockerBuildCommand"] = by_service(commands)

    if settings.fargate is not None:
        f = settings.fargate
        name = f.service.name
        fargate_service = FargateService(
            "fargate",
            FargateServiceArgs(
                f,
                stack=settings.stack,
                project=settings.project,
                region=settings.region,
                partition=partition,
                account_id=account_id,
                image=images[name].repo_digest,
                repository_arns=[registry.repository_arns[name]],
                pull_through_policy=cache.pull_policy_json if cache.has_rules else None,
                tags=tags,
            ),
        )
        outputs.update(
            {
                "ecsClusterName": fargate_service.cluster_name,
                "ecsServiceName": fargate_service.service_name,
                "taskDefinitionArn": fargate_service.task_definition_arn,
                "taskDefinitionFamily": fargate_service.task_definition_family,
                "ecsLogGroupName": fargate_service.log_group_name,
                "ecsImageDigest": fargate_service.image,
            }
        )
    if settings.github is not None:
        # The CI roles and the OIDC provider belong to the one-time bootstrap (`python -m
        # ci.bootstrap`), never to a stack CI can deploy: their ARNs follow from the names.
        names = settings.names
        provider = settings.github.oidc_provider_arn
        outputs["githubOidcProviderArn"] = (
            provider if provider is not None else account_id.apply(names.oidc_provider_arn)
        )
        outputs["ciRoleArn"] = account_id.apply(names.deploy_role_arn)
        outputs["ciPreviewRoleArn"] = account_id.apply(names.preview_role_arn)
    return outputs
