"""The registry's part: the stack's repositories (managed, pushed to, read), the registry-wide
settings only the account owner creates (scanning, pull-through cache rules, creation templates)
and the cache rules' credential secrets."""

from __future__ import annotations

from permissions.documents import (
    ECR,
    INSPECTOR,
    PULL_THROUGH_CACHE,
    Statement,
    passed_to,
    service_linked_role,
    statement,
)
from permissions.renders import credential_secrets, repository_arns, template_prefixes
from rules.registry.access import PUSH_ACTIONS as REPOSITORY_PUSH_ACTIONS
from settings import Settings

# `docker push` (the five upload actions), plus the manifest and layer reads a push of an
# existing tag and `cacheFrom` make.
PUSH_ACTIONS = tuple(
    sorted({*REPOSITORY_PUSH_ACTIONS, "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"})
)
# What CI adds around a push: the digest of a pushed tag (a prebuilt `services[].image`, and the
# image pipeline's skip-existing check) and the scan gate's findings (`python -m cli.scan`).
IMAGE_READ_ACTIONS = ("ecr:DescribeImageScanFindings", "ecr:DescribeImages")
# With ENHANCED scanning ECR answers DescribeImageScanFindings from Amazon Inspector as the caller:
# the user guide's policy for retrieving findings names ListFindings and ListCoverage, neither of
# which has a resource-level form.
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-enhanced-iam.html
ENHANCED_FINDINGS_ACTIONS = ("inspector2:ListCoverage", "inspector2:ListFindings")
REPOSITORY_WRITES = (
    "ecr:CreateRepository",
    "ecr:DeleteRepository",
    "ecr:DeleteLifecyclePolicy",
    "ecr:DeleteRepositoryPolicy",
    "ecr:PutImageScanningConfiguration",
    "ecr:PutImageTagMutability",
    "ecr:PutLifecyclePolicy",
    "ecr:SetRepositoryPolicy",
    "ecr:TagResource",
    "ecr:UntagResource",
)
CREDENTIAL_WRITES = (
    "secretsmanager:CreateSecret",
    "secretsmanager:DeleteSecret",
    "secretsmanager:PutSecretValue",
    "secretsmanager:TagResource",
    "secretsmanager:UntagResource",
    "secretsmanager:UpdateSecret",
    "secretsmanager:UpdateSecretVersionStage",
)


# --- reads --------------------------------------------------------------------------------------
def repository_reads(settings: Settings, account: str) -> list[Statement]:
    repositories = repository_arns(settings, account)
    if not repositories:
        return []
    reads = ("ecr:DescribeRepositories", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy")
    return [statement("ReadStackRepositories", (*reads, "ecr:ListTagsForResource"), repositories)]


def credential_reads(settings: Settings, account: str) -> list[Statement]:
    secrets = credential_secrets(settings, account)
    if not secrets:
        return []
    # The provider also reads each secret's resource policy.
    describe = ["secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"]
    return [statement("ReadCacheCredentialMetadata", describe, secrets)]


def unscoped_reads(settings: Settings) -> set[str]:
    """The registry's reads with no resource-level form, and the image build's registry login
    (an invoke)."""
    found = {"ecr:GetAuthorizationToken"}
    if settings.account.owns:
        found |= {"ecr:GetRegistryScanningConfiguration"}
        if settings.cache.rules:
            found |= {"ecr:DescribePullThroughCacheRules"}
        if template_prefixes(settings):
            found |= {"ecr:DescribeRepositoryCreationTemplates"}
    return found


# --- writes -------------------------------------------------------------------------------------
def repository_writes(settings: Settings, account: str) -> list[Statement]:
    repositories = repository_arns(settings, account)
    if not repositories:
        return []
    found = [
        statement("ManageStackRepositories", REPOSITORY_WRITES, repositories),
        statement("PushStackImages", PUSH_ACTIONS + IMAGE_READ_ACTIONS, repositories),
    ]
    if settings.registry.scan_type == "ENHANCED":
        found.append(statement("ReadImageFindings", ENHANCED_FINDINGS_ACTIONS, "*"))
    return found


def registry_writes(settings: Settings, account: str) -> list[Statement]:
    """Registry-wide ECR settings: only the account owner creates them (`settings.account`).
    Registry scanning, pull-through rules and creation templates have no resource-level form."""
    if not settings.account.owns:
        return []
    actions = {"ecr:PutRegistryScanningConfiguration"}
    found: list[Statement] = []
    if settings.registry.scan_type == "ENHANCED":
        # ENHANCED scanning is Amazon Inspector, which ECR enables (and, switching back to BASIC,
        # disables) for the caller. inspector2:Enable/Disable have no resource-level form or
        # condition keys, so only a stack that asks for ENHANCED scanning gets them.
        # https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-enhanced.html
        actions |= {"inspector2:Disable", "inspector2:Enable", "inspector2:ListAccountPermissions"}
        found.append(service_linked_role(settings, account, INSPECTOR, "InspectorLinkedRole"))
    if settings.cache.rules:
        actions |= {"ecr:CreatePullThroughCacheRule", "ecr:DeletePullThroughCacheRule"}
        actions |= {"ecr:UpdatePullThroughCacheRule"}
        found += _cache_rules(settings, account)
    if template_prefixes(settings):
        actions |= {"ecr:CreateRepositoryCreationTemplate", "ecr:DeleteRepositoryCreationTemplate"}
        actions |= {"ecr:UpdateRepositoryCreationTemplate"}
        found += _creation_templates(settings, account)
    return [statement("ManageRegistrySettings", actions, "*"), *found]


def _cache_rules(settings: Settings, account: str) -> list[Statement]:
    """The pull-through cache rules' linked role, the upstream roles they name and the existing
    credential secrets they use."""
    found = [service_linked_role(settings, account, PULL_THROUGH_CACHE, "CacheLinkedRole")]
    rules = [r.rule for r in settings.cache.rules]
    custom_roles = sorted({r.custom_role_arn for r in rules if r.custom_role_arn})
    if custom_roles:
        found.append(
            statement(
                "PassUpstreamRoles", ["iam:PassRole"], custom_roles, passed_to(PULL_THROUGH_CACHE)
            )
        )
    existing = sorted({r.credential_arn for r in rules if r.credential_arn})
    if existing:
        # ECR checks the caller can read a rule's credential secret when the rule is created.
        found.append(statement("ReadGivenCredentials", ["secretsmanager:GetSecretValue"], existing))
    return found


def _creation_templates(settings: Settings, account: str) -> list[Statement]:
    """Creating a template needs the repository actions it applies, on what it applies to.
    https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates-create.html
    """
    templated = [
        settings.names.repository_arn(account, "*" if p == "ROOT" else f"{p.rstrip('/')}/*")
        for p in template_prefixes(settings)
    ]
    apply = ("ecr:CreateRepository", "ecr:PutLifecyclePolicy", "ecr:SetRepositoryPolicy")
    return [
        service_linked_role(settings, account, ECR, "TemplateLinkedRole"),
        statement("ApplyCreationTemplates", apply, templated),
    ]


def credential_writes(settings: Settings, account: str) -> list[Statement]:
    """The cache credentials (the owner only): written, and read back (the provider compares the
    secret version's value; ECR checks a rule's secret is readable when it creates the rule)."""
    secrets = credential_secrets(settings, account)
    if not secrets:
        return []
    return [
        statement("ManageCacheCredentials", CREDENTIAL_WRITES, secrets),
        statement("ReadBackCacheCredentials", ["secretsmanager:GetSecretValue"], secrets),
    ]
