"""The `GithubCi` component: the account's GitHub OIDC provider and the stack's two CI roles.

The preview role can only read; the deploy role can push this stack's images and change this
stack's resources. Neither has long-lived keys: GitHub Actions exchanges its OIDC token for them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

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
        path = f"/{args.project}/{args.stack}/"
        preview = aws.iam.Role(
            f"{name}-preview",
            path=path,
            description=f"GitHub Actions: pulumi preview of {args.project}/{args.stack} (read-only)",
            assume_role_policy=provider_arn.apply(
                lambda arn: json.dumps(oidc.trust_policy(arn, [s.preview_subject]), sort_keys=True)
            ),
            tags=args.tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-preview-policy",
            role=preview.id,
            policy=json.dumps(oidc.preview_policy(), sort_keys=True),
            opts=pulumi.ResourceOptions(parent=preview),
        )
        deploy = aws.iam.Role(
            f"{name}-deploy",
            path=path,
            description=f"GitHub Actions: pulumi up of {args.project}/{args.stack}",
            assume_role_policy=provider_arn.apply(
                lambda arn: json.dumps(oidc.trust_policy(arn, [s.deploy_subject]), sort_keys=True)
            ),
            max_session_duration=3600,
            tags=args.tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-deploy-policy",
            role=deploy.id,
            policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: json.dumps(
                    oidc.deploy_policy(
                        partition=args.partition,
                        region=args.region,
                        account=account,
                        stack=args.stack,
                        project=args.project,
                    ),
                    sort_keys=True,
                )
            ),
            opts=pulumi.ResourceOptions(parent=deploy),
        )
        self.oidc_provider_arn = provider_arn
        self.deploy_role_arn = deploy.arn
        self.preview_role_arn = preview.arn
        self.register_outputs({"ciRoleArn": deploy.arn, "ciPreviewRoleArn": preview.arn})
