"""The `RegistryTemplates` component: the account owner's create-on-push templates, replication
and pull-time update exclusions.

Replicas live in other regions: the resources there (the destination's KMS key and REPLICATION
templates) name their region with pulumi-aws 7's per-resource `region` input, so one provider
(and one set of credentials) serves every region the registry replicates to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from permissions.registry_wide import template_role_document
from rules.naming import StackNames
from rules.registry import urls
from settings.registry import RegistrySettings
from settings.registry_wide import RegistryWide


@dataclass
class RegistryTemplatesArgs:
    wide: RegistryWide
    registry: RegistrySettings
    kms_key_arn: pulumi.Input[str] | None  # the stack's registry key (KMS encryption)
    account_id: pulumi.Output[str]
    names: StackNames
    tags: dict[str, str]
    boundary_arn: pulumi.Input[str]


class RegistryTemplates(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: RegistryTemplatesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ecr-fargate:registry:RegistryTemplates", name, None, opts)
        wide, account = args.wide, args.account_id
        self.replica_registry_urls: dict[str, pulumi.Output[str]] = {
            region: registry_host(account, region) for region in wide.replica_regions
        }
        for stack in wide.excluded_stacks:
            other = StackNames(stack, args.names.partition, args.names.region)
            # The CI deploy role pulls for the scan gate and the build cache, never to run.
            aws.ecr.PullTimeUpdateExclusion(
                f"{name}-pull-time-{stack}",
                principal_arn=account.apply(other.deploy_role_arn),
                opts=pulumi.ResourceOptions(parent=self),
            )
        if not wide.create_on_push and not wide.replication:
            self.register_outputs({"replicaRegistryUrls": self.replica_registry_urls})
            return
        replica_keys = {
            region: self._replica_key(name, region, args)
            for region in wide.replica_regions
            if args.registry.encryption == "KMS"
        }
        role = self._role(name, args, replica_keys)
        for entry in wide.create_on_push:
            self._template(
                name,
                entry.prefix,
                "CREATE_ON_PUSH",
                role,
                args,
                encryption=entry.encryption,
                key=args.kms_key_arn if entry.encryption == "KMS" else None,
                mutability=(entry.tag_mutability, entry.exclusion_filters),
                lifecycle=entry.lifecycle_policy,
            )
        for region in wide.replica_regions:
            for prefix in wide.replicated_prefixes(region):
                self._template(
                    name,
                    prefix,
                    "REPLICATION",
                    role,
                    args,
                    encryption=args.registry.encryption,
                    key=replica_keys.get(region),
                    mutability=(
                        args.registry.repository_tag_mutability,
                        args.registry.repository_exclusion_filters,
                    ),
                    lifecycle=wide.replica_lifecycle_policy,
                    region=region,
                )
        if wide.replication:
            self._replication(name, args)
        self.register_outputs({"replicaRegistryUrls": self.replica_registry_urls})

    def _replica_key(
        self, name: str, region: str, args: RegistryTemplatesArgs
    ) -> pulumi.Output[str]:
        """ECR needs a KMS key in the repository's own region: the replicas get the stack's key
        there, managed like the registry key (rotation, a 30-day deletion window, the tags)."""
        tags = args.tags
        key = aws.kms.Key(
            f"{name}-key-{region}",
            description=f"ECR replica encryption for {tags.get('project')}/{tags.get('stack')}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            region=region,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return key.arn

    def _role(
        self, name: str, args: RegistryTemplatesArgs, replica_keys: dict[str, pulumi.Output[str]]
    ) -> aws.iam.Role:
        """Templates that tag or use KMS need a role ECR assumes to create the repository."""
        assume = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ecr.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=json.dumps(assume, sort_keys=True),
            description="Lets ECR create pushed and replicated repositories with tags and keys",
            path=args.names.role_path,
            permissions_boundary=args.boundary_arn,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        keys = [args.kms_key_arn] if args.kms_key_arn is not None else []
        keys += [replica_keys[r] for r in sorted(replica_keys)]
        aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=role.id,
            policy=pulumi.Output.all(args.account_id, *keys).apply(
                lambda values: json.dumps(
                    template_role_document(args.wide, args.names, values[0], values[1:]),
                    sort_keys=True,
                )
            ),
            opts=pulumi.ResourceOptions(parent=role),
        )
        return role

    def _template(
        self,
        name: str,
        prefix: str,
        applied_for: str,
        role: aws.iam.Role,
        args: RegistryTemplatesArgs,
        *,
        encryption: str,
        key: pulumi.Input[str] | None,
        mutability: tuple[str, tuple[str, ...]],
        lifecycle: str,
        region: str | None = None,
    ) -> None:
        kind = "pushed" if applied_for == "CREATE_ON_PUSH" else "replicated"
        suffix = f"-{region}" if region else ""
        aws.ecr.RepositoryCreationTemplate(
            f"{name}-{applied_for.lower().replace('_', '-')}-{prefix}{suffix}",
            prefix=prefix,
            applied_fors=[applied_for],
            description=f"Repositories created by ECR when images are {kind} under {prefix}/",
            image_tag_mutability=mutability[0],
            image_tag_mutability_exclusion_filters=[
                aws.ecr.RepositoryCreationTemplateImageTagMutabilityExclusionFilterArgs(
                    filter=f, filter_type="WILDCARD"
                )
                for f in mutability[1]
            ]
            or None,
            encryption_configurations=[
                aws.ecr.RepositoryCreationTemplateEncryptionConfigurationArgs(
                    encryption_type=encryption, kms_key=key
                )
            ],
            lifecycle_policy=lifecycle,
            resource_tags={**args.tags, "template-prefix": prefix},
            custom_role_arn=role.arn,
            region=region,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _replication(self, name: str, args: RegistryTemplatesArgs) -> None:
        """One rule per configured entry: its region (this account's registry there), its
        prefixes as PREFIX_MATCH filters."""
        ecr = aws.ecr
        rules = [
            ecr.ReplicationConfigurationReplicationConfigurationRuleArgs(
                destinations=[
                    ecr.ReplicationConfigurationReplicationConfigurationRuleDestinationArgs(
                        region=entry.region, registry_id=args.account_id
                    )
                ],
                repository_filters=[
                    ecr.ReplicationConfigurationReplicationConfigurationRuleRepositoryFilterArgs(
                        filter=p, filter_type="PREFIX_MATCH"
                    )
                    for p in entry.prefixes
                ],
            )
            for entry in args.wide.replication
        ]
        aws.ecr.ReplicationConfiguration(
            f"{name}-replication",
            replication_configuration=ecr.ReplicationConfigurationReplicationConfigurationArgs(
                rules=rules
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )


def registry_host(account: pulumi.Output[str], region: str) -> pulumi.Output[str]:
    """This account's registry host in `region`."""
    return account.apply(lambda a: urls.registry_host(a, region))
