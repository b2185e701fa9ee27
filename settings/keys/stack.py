"""Declarations of the stack-wide keys: the registry, the network, GitHub OIDC, the cache."""

from __future__ import annotations

from rules.ecs import network as net
from settings.keys.model import Computed, Env, Key, Section

TAG_MUTABILITY = ("MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION")
ENCRYPTION = ("AES256", "KMS")
UPSTREAMS = (
    "docker-hub",
    "quay",
    "github-container-registry",
    "k8s",
    "ecr-public",
    "gitlab-container-registry",
    "azure-container-registry",
    "chainguard",
    "ecr",
)
ACCOUNT_ID = r"^[0-9]{12}$"

REGISTRY = Section(
    "registry",
    (
        Key(
            "tagMutability",
            "string",
            "Whether a pushed tag may be moved. IMMUTABLE is created as IMMUTABLE_WITH_EXCLUSION "
            "with CI's build cache tag excluded.",
            Env("MUTABLE", "IMMUTABLE"),
            choices=TAG_MUTABILITY,
            example="IMMUTABLE",
        ),
        Key(
            "tagMutabilityExclusions",
            "list<string>",
            "Wildcard filters of the tags that stay mutable (1 to 4, with "
            "IMMUTABLE_WITH_EXCLUSION only).",
            example=["latest"],
        ),
        Key(
            "encryption",
            "string",
            "How the repositories are encrypted at rest.",
            Env("AES256", "KMS"),
            choices=ENCRYPTION,
            example="KMS",
        ),
        Key(
            "kmsKeyArn",
            "string",
            "An existing KMS key (`arn:...:kms:REGION:ACCOUNT:key/ID`, same region) for KMS "
            "encryption; without it the stack creates one.",
            pattern=r"^arn:[a-z-]+:kms:",
            example="arn:aws:kms:us-east-1:123456789012:key/0123abcd-0123-4567-89ab-0123456789ab",
        ),
        Key(
            "crossAccountPullAccountIds",
            "list<string>",
            "AWS accounts (12 digits) whose principals may pull the images.",
            pattern=ACCOUNT_ID,
            example=["210987654321"],
        ),
        Key(
            "pushRoleArns",
            "list<string>",
            "IAM roles, besides the stack's CI roles, that may push.",
            example=["arn:aws:iam::123456789012:role/pusher"],
        ),
        Key(
            "deployTagPrefix",
            "string",
            "The prefix of the content tags the stack pushes and the lifecycle policies protect.",
            Computed("`<environment>-`"),
            pattern=r"^[a-z0-9._-]*[._-]$",
            example="release-",
        ),
        Key(
            "rootCreationTemplate",
            "boolean",
            "The account owner also creates the ROOT repository creation template (repositories "
            "created by a push without a stack).",
            False,
            example=True,
        ),
    ),
    "Repository settings shared by all services.",
)

NETWORK = Section(
    "network",
    (
        Key(
            "subnetIds",
            "list<string>",
            "The subnets of the tasks (and of an internet-facing load balancer unless "
            "`loadBalancer.subnetIds`); default: the default VPC's.",
            maximum=net.MAX_SUBNETS,
            pattern=r"^subnet-[0-9a-f]{8,17}$",
            example=["subnet-0123456789abcdef0", "subnet-0123456789abcdef2"],
        ),
        Key(
            "securityGroupIds",
            "list<string>",
            "Your security groups for every task; default: the stack creates one per service.",
            maximum=net.MAX_SECURITY_GROUPS,
            pattern=r"^sg-[0-9a-f]{8,17}$",
            example=["sg-0123456789abcdef0"],
        ),
        Key(
            "assignPublicIp",
            "boolean",
            "Give every task a public IP (needed in the default VPC without a NAT gateway); "
            "refused in prod (Security Hub ECS.2). `services[].run.assignPublicIp` overrides it.",
            False,
            example=True,
        ),
    ),
    "The network every service of the stack shares.",
)

GITHUB = Section(
    "github",
    (
        Key(
            "repository",
            "string",
            "OWNER/REPO of the repository whose workflows preview and deploy.",
            required=True,
            pattern=r"^[^/]+/[^/]+$",
            example="fixture-org/other-repo",
        ),
        Key(
            "branch",
            "string",
            "The branch whose pushes deploy a non-prod stack.",
            "main",
            example="release",
        ),
        Key(
            "prodEnvironment",
            "string",
            "The GitHub environment a prod deploy job names (its OIDC subject).",
            "production",
            example="live",
        ),
        Key(
            "oidcProviderArn",
            "string",
            "The account's existing GitHub OIDC provider; default: the CI bootstrap's.",
            example="arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
        ),
        Key(
            "ownerId",
            "integer",
            "The owner's numeric ID, with `repositoryId`: ID-based OIDC subjects.",
            minimum=1,
            example=1001,
        ),
        Key(
            "repositoryId",
            "integer",
            "The repository's numeric ID, with `ownerId`.",
            minimum=1,
            example=2002,
        ),
    ),
    "GitHub OIDC for CI.",
)

CACHE_RULE = Section(
    "pullThroughCache[]",
    (
        Key(
            "upstream",
            "string",
            "The upstream registry.",
            required=True,
            choices=UPSTREAMS,
            example="k8s",
        ),
        Key(
            "prefix",
            "string",
            "The repository prefix of the cached images.",
            Computed("the upstream's usual prefix (`docker-hub`, `quay`, `kubernetes`, ...)"),
            example="mirror",
        ),
        Key(
            "azureRegistryName",
            "string",
            "azure-container-registry: the registry's name (`<name>.azurecr.io`).",
            example="fixtureacr",
        ),
        Key(
            "accountId",
            "string",
            "ecr: the upstream registry's account.",
            pattern=ACCOUNT_ID,
            example="210987654321",
        ),
        Key(
            "region",
            "string",
            "ecr: the upstream registry's region (required for ecr).",
            example="eu-west-1",
        ),
        Key(
            "upstreamRepositoryPrefix",
            "string",
            "ecr: only repositories under this prefix upstream.",
            example="team",
        ),
        Key(
            "customRoleArn",
            "string",
            "ecr: the role ECR assumes to pull from the upstream registry.",
            example="arn:aws:iam::123456789012:role/upstream-pull",
        ),
        Key(
            "credentialArn",
            "string",
            "An existing `ecr-pullthroughcache/...` secret instead of `pullThroughCredentials`.",
            example="arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/x-AbCdEf",
        ),
    ),
)

CREDENTIALS = Section(
    "pullThroughCredentials.<prefix>",
    (
        Key("username", "string", "The upstream user name.", required=True, example="robot"),
        Key(
            "accessToken",
            "string",
            "The upstream access token (set it with `--secret`).",
            required=True,
            secret=True,
            example="token",
        ),
    ),
)
