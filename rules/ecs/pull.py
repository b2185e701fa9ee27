"""What the task execution role must be allowed to pull: exactly where the task's image comes from.

A built image comes from the service's own repository. A prebuilt digest can name another
repository (another stack's, another account's), a repository this registry's pull-through cache
creates on first pull, or a registry outside ECR. Granting the service's own repository in every
case left tasks unable to pull another repository's digest, and granting the pull-through import
to every task gave it `ecr:CreateRepository` it never used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rules.registry import urls
from rules.registry.reference import parse_image_reference


@dataclass(frozen=True)
class PullGrants:
    # ECR repositories the execution role pulls from (empty: not an ECR private registry, so no
    # ECR permission applies; ECR Public and other registries need none for public images).
    repository_arns: tuple[str, ...]
    # The registry account and the cache prefix when the image is pulled through the cache
    # (the first pull of a new image then needs `ecr:BatchImportUpstreamImage` and
    # `ecr:CreateRepository` on that prefix).
    cache_account: str | None = None
    cache_prefix: str | None = None


def prebuilt_pull_grants(
    image_ref: str, *, region: str, cache_prefixes: Sequence[str], own_repositories: Sequence[str]
) -> PullGrants:
    """The grants a prebuilt `REPO@sha256:...` reference needs; built images use their own repo.

    A pull-through repository is recognised by its first path component being a cache prefix of
    this stack's registry region (a `ROOT` rule caches every path that is not one of the stack's
    own repositories). The account comes from the reference itself, so the grant names the
    registry the image really lives in.
    """
    parsed = parse_image_reference(image_ref)
    try:
        host = urls.parse_registry_url(parsed.domain)
    except ValueError:
        return PullGrants(())
    arn = urls.repository_arn(host.partition.name, host.region, host.registry_id, parsed.path)
    if host.region != region:
        return PullGrants((arn,))
    for prefix in sorted(cache_prefixes, key=len, reverse=True):
        if prefix == "ROOT":
            continue
        if parsed.path.startswith(prefix.rstrip("/") + "/"):
            return PullGrants((arn,), host.registry_id, prefix)
    if "ROOT" in cache_prefixes and parsed.path not in own_repositories:
        return PullGrants((arn,), host.registry_id, "ROOT")
    return PullGrants((arn,))
