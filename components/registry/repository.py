"""The `Registry` component: one ECR repository per service, its lifecycle and access policies."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from rules.registry import urls
from rules.registry.access import repository_policy
from settings.registry import RegistrySettings, RepositorySettings


@dataclass
class RegistryArgs:
    settings: RegistrySettings
    account_id: pulumi.Input[str]
    region: str
    partition: str
    tags: dict[str, str]
    # Only the account owner (settings.account) sets the registry-wide scanning configuration.
    owns_registry: bool = True
    # The stack's CI deploy role pushes every image; with `pushRoleArns` (which deny every other
    # principal) it must be among the pushers, or `pulumi up` in CI could not push.
    ci_push_role_arn: pulumi.Input[str] | None = None


class Registry(pulumi.ComponentResource):
    """Repositories are created with their final encryption: ECR cannot change it afterwards."""

    def __init__(
        self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ecr-fargate:registry:Registry", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self, protect=s.protect)

        self.registry_host: pulumi.Output[str] = pulumi.Output.from_input(args.account_id).apply(
            lambda account: urls.registry_host(account, args.region)
        )
        self.login_command: pulumi.Output[str] = self.registry_host.apply(urls.login_command)

        if args.owns_registry:
            self._scanning(name, s)

        kms_key_arn: pulumi.Input[str] | None = s.kms_key_arn
        if s.create_kms_key:
            key = aws.kms.Key(
                f"{name}-key",
                description=f"ECR image encryption for {args.tags.get('project')}/{args.tags.get('stack')}",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                tags=args.tags,
                opts=child,
            )
            kms_key_arn = key.arn
        self.kms_key_arn = kms_key_arn

        policy = self._policy(args)
        self.repository_urls: dict[str, pulumi.Output[str]] = {}
        self.repository_arns: dict[str, pulumi.Output[str]] = {}
        self.repository_names: dict[str, pulumi.Output[str]] = {}
        for repo in s.repositories:
            ecr_repo = self._repository(name, args, repo, kms_key_arn, policy)
            self.repository_urls[repo.service] = ecr_repo.repository_url
            self.repository_arns[repo.service] = ecr_repo.arn
            self.repository_names[repo.service] = ecr_repo.name

        self.register_outputs(
            {
                "registryHost": self.registry_host,
                "repositoryUrls": self.repository_urls,
                "repositoryArns": self.repository_arns,
            }
        )

    def _repository(
        self,
        name: str,
        args: RegistryArgs,
        repo: RepositorySettings,
        kms_key_arn: pulumi.Input[str] | None,
        policy: pulumi.Output[str] | None,
    ) -> aws.ecr.Repository:
        """One service's repository with its lifecycle policy and, if any, repository policy."""
        s = args.settings
        ecr_repo = aws.ecr.Repository(
            f"{name}-{repo.service}",
            name=repo.name,
            image_tag_mutability=s.repository_tag_mutability,
            image_tag_mutability_exclusion_filters=[
                aws.ecr.RepositoryImageTagMutabilityExclusionFilterArgs(
                    filter=f, filter_type="WILDCARD"
                )
                for f in s.repository_exclusion_filters
            ]
            or None,
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                scan_on_push=True
            ),
            encryption_configurations=[
                aws.ecr.RepositoryEncryptionConfigurationArgs(
                    encryption_type=s.encryption, kms_key=kms_key_arn
                )
            ],
            force_delete=s.force_delete,
            tags={**args.tags, "service": repo.service},
            opts=pulumi.ResourceOptions(parent=self, protect=s.protect),
        )
        if repo.lifecycle_policy:
            aws.ecr.LifecyclePolicy(
                f"{name}-{repo.service}-lifecycle",
                repository=ecr_repo.name,
                policy=repo.lifecycle_policy,
                opts=pulumi.ResourceOptions(parent=ecr_repo),
            )
        if policy is not None:
            aws.ecr.RepositoryPolicy(
                f"{name}-{repo.service}-policy",
                repository=ecr_repo.name,
                policy=policy,
                opts=pulumi.ResourceOptions(parent=ecr_repo),
            )
        return ecr_repo

    @staticmethod
    def _policy(args: RegistryArgs) -> pulumi.Output[str] | None:
        """The repository policy JSON, or None when the account's own IAM decides alone."""
        s = args.settings
        if not s.pull_account_ids and not s.push_role_arns:
            return None
        ci = args.ci_push_role_arn if s.push_role_arns else None

        def render(ci_arn: str | None) -> str:
            pushers = sorted({*s.push_role_arns, *([ci_arn] if ci_arn else [])})
            document = repository_policy(
                partition=args.partition,
                pull_account_ids=s.pull_account_ids,
                push_role_arns=pushers,
            )
            return json.dumps(document, sort_keys=True)

        return pulumi.Output.from_input(ci).apply(render)

    def _scanning(self, name: str, s: RegistrySettings) -> None:
        """Registry-wide: BASIC scan on push, or ENHANCED continuous scanning (Amazon Inspector)."""
        enhanced = s.scan_type == "ENHANCED"
        aws.ecr.RegistryScanningConfiguration(
            f"{name}-scanning",
            scan_type=s.scan_type,
            rules=[
                aws.ecr.RegistryScanningConfigurationRuleArgs(
                    scan_frequency="CONTINUOUS_SCAN" if enhanced else "SCAN_ON_PUSH",
                    repository_filters=[
                        aws.ecr.RegistryScanningConfigurationRuleRepositoryFilterArgs(
                            filter="*", filter_type="WILDCARD"
                        )
                    ],
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
