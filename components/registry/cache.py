"""The `PullThroughCache` component: rules, their credential secrets, and creation templates.

Cached repositories are created by ECR itself on first pull; a creation template per prefix gives
them the registry's scanning, encryption, MUTABLE tags (IMMUTABLE would stop the cache from
refreshing a tag) and a lifecycle policy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from rules import naming
from rules.naming import StackNames
from rules.registry import pull_through
from settings.cache import CacheSettings
from settings.registry import RegistrySettings


@dataclass
class PullThroughCacheArgs:
    settings: CacheSettings
    registry: RegistrySettings
    kms_key_arn: pulumi.Input[str] | None
    registry_host: pulumi.Input[str]
    account_id: pulumi.Input[str]
    region: str
    partition: str
    tags: dict[str, str]
    names: StackNames
    boundary_arn: pulumi.Input[str]  # the boundary the template role carries
    # A stack that does not own the registry's rules (settings.account) only references them:
    # the same outputs, no resources.
    owns_registry: bool = True


class PullThroughCache(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: PullThroughCacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ecr-fargate:registry:PullThroughCache", name, None, opts)
        s = args.settings
        host = pulumi.Output.from_input(args.registry_host)
        rules = [r.rule for r in s.rules]
        counts: dict[str, int] = {}
        for r in rules:
            counts[r.upstream] = counts.get(r.upstream, 0) + 1

        self.rules: dict[str, pulumi.Output[str]] = {}
        self.upstreams: dict[str, str] = {}
        self.secret_arns: dict[str, pulumi.Output[str]] = {}
        for rule in rules:
            key = rule.upstream if counts[rule.upstream] == 1 else f"{rule.upstream}:{rule.prefix}"
            self.rules[key] = (
                host if rule.prefix == "ROOT" else pulumi.Output.concat(host, "/", rule.prefix)
            )
            self.upstreams[rule.prefix] = rule.reference_host
        if args.owns_registry:
            self._create(name, args)

        prefixes = [r.prefix for r in rules]
        self.pull_policy_json = pulumi.Output.from_input(args.account_id).apply(
            lambda account: json.dumps(
                pull_through.pull_policy_document(args.partition, args.region, account, prefixes),
                sort_keys=True,
            )
        )
        self.register_outputs({"rules": self.rules, "secretArns": self.secret_arns})
        self._partition, self._region = args.partition, args.region

    def pull_policy_for(self, account: str, prefix: str) -> str:
        """The pull-through policy for one prefix of one registry: what a task using it needs."""
        return json.dumps(
            pull_through.pull_policy_document(self._partition, self._region, account, [prefix]),
            sort_keys=True,
        )

    def _create(self, name: str, args: PullThroughCacheArgs) -> None:
        """The rules, their credential secrets and creation templates: the account owner's."""
        s = args.settings
        template_role = (
            self._template_role(name, args)
            if s.rules or args.registry.root_creation_template
            else None
        )
        for entry in s.rules:
            rule = entry.rule
            credential_arn: pulumi.Input[str] | None = rule.credential_arn
            if entry.username is not None and entry.access_token is not None:
                secret = aws.secretsmanager.Secret(
                    f"{name}-{rule.prefix}-credentials",
                    name=naming.credential_secret_name(rule.prefix),
                    description=f"Pull-through cache credentials for {rule.upstream} ({rule.prefix}/)",
                    # kms_key_id left unset on purpose: ECR only reads secrets under aws/secretsmanager.
                    tags=args.tags,
                    opts=pulumi.ResourceOptions(parent=self),
                )
                aws.secretsmanager.SecretVersion(
                    f"{name}-{rule.prefix}-credentials-value",
                    secret_id=secret.id,
                    secret_string=pulumi.Output.secret(
                        pull_through.credential_secret_string(
                            entry.username.value, entry.access_token.value
                        )
                    ),
                    opts=pulumi.ResourceOptions(parent=secret),
                )
                credential_arn = secret.arn
                self.secret_arns[rule.prefix] = secret.arn
            aws.ecr.PullThroughCacheRule(
                f"{name}-{rule.prefix}",
                ecr_repository_prefix=rule.prefix,
                upstream_registry_url=rule.upstream_url,
                credential_arn=credential_arn,
                custom_role_arn=rule.custom_role_arn,
                upstream_repository_prefix=rule.upstream_repository_prefix,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self._template(name, rule.prefix, args, template_role, "PULL_THROUGH_CACHE")
        if args.registry.root_creation_template:
            self._template(name, "ROOT", args, template_role, "PULL_THROUGH_CACHE", "REPLICATION")

    def _template_role(self, name: str, args: PullThroughCacheArgs) -> aws.iam.Role:
        """Templates that set tags or KMS need a role ECR assumes to create the repository; only
        for this account's registry (`aws:SourceAccount`, the confused-deputy guard; ECR's guide
        documents no `aws:SourceArn` for creation templates).
        https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates-create-iam.html
        https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html"""

        def assume(account_id: str) -> str:
            statement = {
                "Effect": "Allow",
                "Principal": {"Service": "ecr.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
            return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)

        role = aws.iam.Role(
            f"{name}-template-role",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(assume),
            description="Lets ECR create pull-through cache repositories with tags and encryption",
            path=args.names.role_path,
            permissions_boundary=args.boundary_arn,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        account = pulumi.Output.from_input(args.account_id)
        key = pulumi.Output.from_input(args.kms_key_arn) if args.kms_key_arn is not None else None

        def document(values: list[str | None]) -> str:
            account_id, kms_arn = values[0], values[1]
            statements: list[dict[str, object]] = [
                {
                    "Sid": "CreateCachedRepositories",
                    "Effect": "Allow",
                    "Action": list(pull_through.TEMPLATE_ROLE_ACTIONS),
                    "Resource": naming.repository_arn(
                        args.partition, args.region, str(account_id), "*"
                    ),
                }
            ]
            if kms_arn:
                statements.append(
                    {
                        "Sid": "EncryptCachedRepositories",
                        "Effect": "Allow",
                        "Action": list(pull_through.TEMPLATE_KMS_ACTIONS),
                        "Resource": kms_arn,
                    }
                )
            return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)

        aws.iam.RolePolicy(
            f"{name}-template-role-policy",
            role=role.id,
            policy=pulumi.Output.all(account, key).apply(document),
            opts=pulumi.ResourceOptions(parent=role),
        )
        return role

    def _template(
        self,
        name: str,
        prefix: str,
        args: PullThroughCacheArgs,
        role: aws.iam.Role | None,
        *applied_for: str,
    ) -> None:
        r = args.registry
        aws.ecr.RepositoryCreationTemplate(
            f"{name}-{prefix}-template",
            prefix=prefix,
            applied_fors=list(applied_for),
            description=f"Repositories created by ECR under {prefix}/",
            image_tag_mutability="MUTABLE",
            encryption_configurations=[
                aws.ecr.RepositoryCreationTemplateEncryptionConfigurationArgs(
                    encryption_type=r.encryption,
                    kms_key=args.kms_key_arn if r.encryption == "KMS" else None,
                )
            ],
            lifecycle_policy=args.settings.template_lifecycle_policy,
            resource_tags={**args.tags, "cache-prefix": prefix},
            custom_role_arn=role.arn if role is not None else None,
            opts=pulumi.ResourceOptions(parent=self),
        )
