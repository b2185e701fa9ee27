"""Every project config key: its type, description and default.

This is the one list that `Pulumi.yaml`'s `config:` block and the README's config table are checked
against (tests/test_settings_schema.py), so the three never drift. Pulumi's project schema types only
strings, integers, booleans and arrays; object-valued keys are declared with a description and a
project-wide `value` (their default), and the settings layer checks their shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Key:
    name: str
    type: str  # "string" | "integer" | "boolean" | "object" | "array<object>"
    description: str
    default: Any = None
    secret: bool = False


KEYS: tuple[Key, ...] = (
    Key(
        "environment",
        "string",
        "Which defaults apply: `dev` (mutable tags, force-delete, 7-day logs, Spot allowed) or "
        "`prod` (immutable tags, KMS, protect, 30-day logs, wait for steady state).",
        "dev",
    ),
    Key(
        "accountOwner",
        "string",
        "The stack that creates the registry-wide resources of this account and region (pull-through "
        "cache rules, creation templates and credential secrets, registry scanning); other stacks "
        "reference them. Default: this stack.",
        None,
    ),
    Key(
        "enhancedScanning",
        "boolean",
        "Registry-wide ENHANCED continuous scanning (Amazon Inspector, billed per image) instead of "
        "BASIC scan on push.",
        False,
    ),
    Key(
        "buildOnPreview",
        "boolean",
        "Build images during `pulumi preview` too (needs a Docker daemon on the CI runner).",
        False,
    ),
    Key(
        "deployProtectionCount",
        "integer",
        "How many of the most recent deploy-tagged images every lifecycle policy keeps first "
        "(the running image plus rollback targets).",
        10,
    ),
    Key(
        "services",
        "array<object>",
        "The services: one ECR repository each, optionally built from a Dockerfile (`build`, "
        "pushed under a tag hashed from its build inputs, for one or more `platforms`) or given "
        "as a prebuilt digest (`image`), with a lifecycle policy, and how each runs on Fargate "
        "(`run`: kind web, backend, worker or job).",
        [],
    ),
    Key(
        "registry",
        "object",
        "Repository settings shared by all services: tag mutability, encryption, cross-account "
        "pull, CI push roles, deploy tag prefix.",
        {},
    ),
    Key(
        "network",
        "object",
        "The network every service of the stack shares: `subnetIds`, `securityGroupIds`, "
        "`assignPublicIp`.",
        {},
    ),
    Key(
        "loadBalancer",
        "object",
        "The Application Load Balancer the web services share: `scheme`, `subnetIds` (public), "
        "`allowedCidrs`, `ipAddressType`, HTTPS by `certificateArn` or `domain` + `hostedZoneId`, "
        "`sslPolicy`, `deletionProtection`, `dropInvalidHeaderFields`, `idleTimeout`, "
        "`accessLogs` {bucket, prefix}.",
        {},
    ),
    Key(
        "primaryService",
        "string",
        "The service behind the singular ECS outputs (`ecsServiceName`, ...); default: the first "
        "web or backend.",
        None,
    ),
    Key(
        "fargate",
        "object",
        "The old single-service form (still read, with a warning): one web service's size, port, "
        "environment, secrets, networking, deployment. Use `services[].run` and `network`.",
        {},
    ),
    Key(
        "pullThroughCache",
        "array<object>",
        "Pull-through cache rules by upstream (`docker-hub`, `quay`, `github-container-registry`, "
        "`k8s`, `ecr-public`, `gitlab-container-registry`, `azure-container-registry`, "
        "`chainguard`, `ecr`).",
        [],
    ),
    Key(
        "github",
        "object",
        "GitHub OIDC for CI: `repository` (OWNER/REPO), `branch`, `prodEnvironment`, "
        "`oidcProviderArn` (an existing provider), `ownerId`/`repositoryId` (ID-based subjects).",
        {},
    ),
    Key(
        "permissionsBoundary",
        "string",
        "The permissions boundary every role of the stack carries: `stack` (the stack creates its "
        "own, so a first `pulumi up` needs no bootstrap) or `bootstrap` (the one the CI bootstrap "
        "created; required for deploys from CI). Switching updates the roles in place.",
        "stack",
    ),
    Key(
        "pullThroughCredentials",
        "object",
        "Upstream credentials by cache prefix, `{username, accessToken}`; set with "
        "`pulumi config set --secret --path`.",
        None,
        secret=True,
    ),
)

BY_NAME: dict[str, Key] = {k.name: k for k in KEYS}
