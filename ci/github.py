"""The `GithubCi` component: the account's GitHub OIDC provider and the stack's two CI roles.

The preview role can only read; the deploy role can push this stack's images and change this
stack's resources. Neither has long-lived keys: GitHub Actions exchanges its OIDC token for them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ci import oidc
from settings.github import GithubSettings


@dataclass
class GithubCiArgs:
    settings: GithubSettings
    stack: str
    project: str
    partition: str
    region: str
    account_id: pulumi.Input[str]
    tags: dict[str, str]


class GithubCi(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: GithubCiArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ecr-fargate:ci:GithubCi", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        if s.oidc_provider_arn is not None:
            provider_arn: pulumi.Output[str] = pulumi.Output.from_input(s.oidc_provider_arn)
        else:
            # One provider per URL per account: stacks sharing an account set oidcProviderArn.
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-oidc",
                url=f"https://{oidc.ISSUER}",
                client_id_lists=[oidc.AUDIENCE],
                tags=args.tags,
                opts=child,
            )
            provider_arn = provider.arn
        account = pulumi.Output.from_input(args.account_id)
        deploy_policy = account.apply(
            lambda a: oidc.deploy_policy(
                partition=args.partition,
                region=args.region,
                account=a,
                stack=args.stack,
                project=args.project,
            )
        )
        preview = self._role(
            f"{name}-preview",
            "pulumi preview (read-only)",
            s.preview_subject,
            provider_arn,
            oidc.preview_policy(),
            args,
        )
        deploy = self._role(
            f"{name}-deploy", "pulumi up", s.deploy_subject, provider_arn, deploy_policy, args
        )
        self.oidc_provider_arn = provider_arn
        self.deploy_role_arn = deploy.arn
        self.preview_role_arn = preview.arn
        self.register_outputs({"ciRoleArn": deploy.arn, "ciPreviewRoleArn": preview.arn})

    def _role(
        self,
        name: str,
        purpose: str,
        subject: str,
        provider_arn: pulumi.Output[str],
        policy: pulumi.Input[dict[str, Any]],
        args: GithubCiArgs,
    ) -> aws.iam.Role:
        """A role GitHub Actions assumes with its OIDC token for exactly one subject."""
        role = aws.iam.Role(
            name,
            path=f"/{args.project}/{args.stack}/",
            description=f"GitHub Actions: {purpose} of {args.project}/{args.stack}",
            assume_role_policy=provider_arn.apply(
                lambda arn: json.dumps(oidc.trust_policy(arn, [subject]), sort_keys=True)
            ),
            max_session_duration=3600,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.from_input(policy).apply(
                lambda doc: json.dumps(doc, sort_keys=True)
            ),
            opts=pulumi.ResourceOptions(parent=role),
        )
        return role
