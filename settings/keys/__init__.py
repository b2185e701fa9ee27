"""Every config key, declared once: type, default (per environment), limits, description, secret.

Why not pydantic: its validation errors are its own (`Input should be a valid integer`, locations
as tuples, one error per union branch), and a failed field gives no value to continue with, so
keeping our format (one line at the exact key, the escaped value, what is allowed; every problem
at once; a refused value never used again; cross-field checks that never cascade) would mean
rewriting every message and re-deriving every fallback. A small declarative spec keeps the
existing reader (`settings.reader.Obj`) and its messages; the loaders ask it for types, defaults
and limits, and `python -m settings.generate` writes Pulumi.yaml's config block, the reference and
the JSON Schema from it.
"""

from __future__ import annotations

from settings.keys.deploy import DEPLOYMENT, MIGRATE
from settings.keys.model import ENVIRONMENTS, UNSET, Computed, Env, Key, Section, walk
from settings.keys.run import ALARMS, FARGATE, RUN, SCALING, SCHEDULED
from settings.keys.services import BUILD, LIFECYCLE, service_section
from settings.keys.stack import CACHE_RULE, CREDENTIALS, GITHUB, NETWORK, PROVIDER, REGISTRY
from settings.keys.web import ACCESS_LOGS, LOAD_BALANCER

__all__ = [
    "ACCESS_LOGS",
    "ALARMS",
    "BUILD",
    "CACHE_RULE",
    "CREDENTIALS",
    "DEPLOYMENT",
    "ENVIRONMENTS",
    "FARGATE",
    "GITHUB",
    "LIFECYCLE",
    "LOAD_BALANCER",
    "MIGRATE",
    "NETWORK",
    "PROVIDER",
    "REGISTRY",
    "ROOT",
    "RUN",
    "SCALING",
    "SCHEDULED",
    "SERVICE",
    "UNSET",
    "Computed",
    "Env",
    "Key",
    "Section",
    "walk",
]

SERVICE = service_section(RUN)

ROOT = Section(
    "",
    (
        Key(
            "environment",
            "string",
            "Which defaults apply: `dev` (mutable tags, force-delete, 7-day logs, Spot allowed) or "
            "`prod` (immutable tags, KMS, protect, 30-day logs, wait for steady state).",
            "dev",
            choices=ENVIRONMENTS,
            example="dev",
        ),
        Key(
            "accountOwner",
            "string",
            "The stack that creates the registry-wide resources of this account and region "
            "(pull-through cache rules, creation templates and credential secrets, registry "
            "scanning); other stacks reference them.",
            Computed("this stack"),
            pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
            example="dev",
        ),
        Key(
            "promoteFrom",
            "string",
            "The stack whose images this stack runs: CI copies each service's image index from "
            "that stack's repositories by digest (`python -m cli.promote`) instead of building, "
            "and a `pulumi up` without CI's digests deploys the digests CI last promoted (the "
            "stack's `image-digests` SSM parameter). Same region; any account.",
            pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
            example="dev",
        ),
        Key(
            "enhancedScanning",
            "boolean",
            "Registry-wide ENHANCED continuous scanning (Amazon Inspector, billed per image) "
            "instead of BASIC scan on push.",
            False,
            example=True,
        ),
        Key(
            "buildOnPreview",
            "boolean",
            "Build images during `pulumi preview` too (needs a Docker daemon on the CI runner).",
            False,
            example=True,
        ),
        Key(
            "permissionsBoundary",
            "string",
            "The permissions boundary every role of the stack carries: `stack` (the stack creates "
            "its own, so a first `pulumi up` needs no bootstrap) or `bootstrap` (the one the CI "
            "bootstrap created; required for deploys from CI, which refuse `stack`). Switching "
            "updates the roles in place.",
            "stack",
            choices=("stack", "bootstrap"),
            example="bootstrap",
        ),
        Key(
            "deployProtectionCount",
            "integer",
            "How many of the most recent deploy-tagged images every lifecycle policy keeps first "
            "(the running image plus rollback targets).",
            10,
            minimum=1,
            maximum=1000,
            example=20,
        ),
        Key(
            "services",
            "list<object>",
            "The services: one ECR repository each, optionally built from a Dockerfile (`build`) "
            "or given as a prebuilt digest (`image`), with a lifecycle policy, and how each runs "
            "on Fargate (`run`: kind web, backend, worker or job).",
            [],
            required=True,
            keys=SERVICE,
        ),
        Key(
            "registry",
            "object",
            "Repository settings shared by all services.",
            {},
            keys=REGISTRY,
        ),
        Key("network", "object", "The network every service shares.", {}, keys=NETWORK),
        Key(
            "loadBalancer",
            "object",
            "The Application Load Balancer the web services share.",
            {},
            keys=LOAD_BALANCER,
        ),
        Key(
            "primaryService",
            "string",
            "The service behind the singular ECS outputs (`ecsServiceName`, ...).",
            Computed("the first web or backend"),
            example="worker",
        ),
        Key(
            "fargate",
            "object",
            "The old single-service form (still read, with a warning): one web service. Use "
            "`services[].run` and `network`.",
            {},
            keys=FARGATE,
        ),
        Key(
            "pullThroughCache",
            "list<object>",
            "Pull-through cache rules by upstream.",
            [],
            keys=CACHE_RULE,
        ),
        Key(
            "github",
            "object",
            "GitHub OIDC for CI: who may assume the stack's preview and deploy roles.",
            {},
            keys=GITHUB,
        ),
        Key(
            "pullThroughCredentials",
            "map<object>",
            "Upstream credentials by cache prefix; set with `pulumi config set --secret --path`.",
            secret=True,
            keys=CREDENTIALS,
        ),
    ),
)
