"""The `ServiceImage` component: build and push a service's image, and pin it by digest.

Without a build (a prebuilt digest from CI) no resource is registered and the digest flows on as is.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

from settings.services import BuildSettings, ImageSettings


@dataclass
class ServiceImageArgs:
    settings: ImageSettings
    repository_url: pulumi.Input[str]
    registry_host: pulumi.Input[str]
    registry_id: pulumi.Input[str]
    # What a local build builds: the platform of the task that runs it (pulumi-docker builds one
    # platform only, pulumi/pulumi-docker#296). Default: the service's first platform.
    platform: str | None = None
    # One token serves every image pushed to a registry: the stack fetches it once
    # (`registry_auth`) and hands it to each image. Left unset, a lone image fetches its own.
    auth: docker.RegistryArgs | None = None


def registry_auth(
    registry_host: pulumi.Input[str],
    registry_id: pulumi.Input[str],
    opts: pulumi.InvokeOptions | None = None,
) -> docker.RegistryArgs:
    """Push credentials for one registry, fetched by the stack itself (one
    `ecr:GetAuthorizationToken` call) and kept secret end to end."""
    token = aws.ecr.get_authorization_token_output(registry_id=registry_id, opts=opts)
    return docker.RegistryArgs(
        server=registry_host,
        username=pulumi.Output.secret(token.user_name),
        password=pulumi.Output.secret(token.password),
    )


class ServiceImage(pulumi.ComponentResource):
    """`repo_digest` is the immutable `<repository url>@sha256:<hex>` that ECS runs.

    Three sources: a prebuilt digest (`services[i].image`, used as is), CI's image index digest
    (`ECR_FARGATE_IMAGE_DIGESTS`, pinned in the service's own repository), or a local build pushed
    under the content tag of the one platform it built.
    """

    repo_digest: pulumi.Output[str]
    image_ref: pulumi.Output[str]
    build_command: pulumi.Output[str] | None
    tag: str | None  # the content tag the running image was pushed under (None: prebuilt)

    def __init__(
        self, name: str, args: ServiceImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ecr-fargate:build:ServiceImage", name, None, opts)
        s = args.settings
        self.platform = args.platform or s.platform
        self.build_command = None
        self.tag = None
        url = pulumi.Output.from_input(args.repository_url)
        if s.build is None:
            assert s.prebuilt is not None
            self.repo_digest = pulumi.Output.from_input(s.prebuilt)
            self.image_ref = self.repo_digest
        elif s.ci_digest is not None:
            digest, self.tag = s.ci_digest, s.index_tag
            self.repo_digest = url.apply(lambda u: f"{u}@{digest}")
            self.image_ref = url.apply(lambda u: f"{u}:{self.tag}")
        else:
            self._build(name, s, s.build, url, args)
        self.register_outputs({"repoDigest": self.repo_digest, "imageRef": self.image_ref})

    def _build(
        self,
        name: str,
        s: ImageSettings,
        b: BuildSettings,
        url: pulumi.Output[str],
        args: ServiceImageArgs,
    ) -> None:
        """Build one platform and push it under that platform's content tag (and the extra tags)."""
        tag = self.tag = b.tag_for([self.platform])
        registry = args.auth or registry_auth(
            args.registry_host, args.registry_id, pulumi.InvokeOptions(parent=self)
        )
        image = self._image(name, s, b, url.apply(lambda u: f"{u}:{tag}"), registry)
        for extra in b.extra_tags:
            # Same build inputs: the local build cache makes this a re-tag and push.
            self._image(
                f"{name}-{extra}",
                s,
                b,
                pulumi.Output.concat(url, ":", extra),
                registry,
                depends_on=[image],
            )
        self.repo_digest = image.repo_digest
        self.image_ref = url.apply(lambda u: f"{u}:{tag}")
        built = self.platform
        self.build_command = url.apply(lambda u: s.build_command(u, built) or "")

    def _image(
        self,
        name: str,
        s: ImageSettings,
        b: BuildSettings,
        image_name: pulumi.Output[str],
        registry: docker.RegistryArgs,
        depends_on: list[pulumi.Resource] | None = None,
    ) -> docker.Image:
        return docker.Image(
            name,
            image_name=image_name,
            build=docker.DockerBuildArgs(
                context=b.context,
                dockerfile=b.dockerfile,
                # Always explicit: unset, the provider builds for the host (exec format error on Fargate).
                platform=self.platform,
                target=b.target,
                args=dict(b.args) or None,
                cache_from=docker.CacheFromArgs(images=list(b.cache_from))
                if b.cache_from
                else None,
            ),
            registry=registry,
            build_on_preview=s.build_on_preview,
            skip_push=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )
