"""The registry side of CI's build cache: `<repository>:buildcache` stays mutable and unexpired.

CI's buildx rewrites the cache tag after every build (`--cache-to ...:buildcache`), so an immutable
tag would refuse the second build, and a lifecycle rule that expired the cache would make every
build cold. Checked on rendered fixture stacks and with the lifecycle evaluators.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench.naive_lifecycle import naive_preview
from plan.engine import Rendered
from rules import lifecycle
from rules.lifecycle import preview_lifecycle_policy
from rules.registry.names import BUILD_CACHE_TAG
from settings import ConfigErrors
from tests.conftest import GIT_ENV, render_stack
from tests.test_policy_pack import violations

REPO = "aws:ecr/repository:Repository"
POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def filters(repo: Any) -> list[str]:
    found = repo.inputs.get("imageTagMutabilityExclusionFilters") or []
    assert all(f["filterType"] == "WILDCARD" for f in found)
    return [f["filter"] for f in found]


def repositories(r: Rendered) -> list[Any]:
    found = r.of_type(REPO)
    assert found
    return found


def test_the_cache_tag_is_the_one_ci_writes() -> None:
    assert BUILD_CACHE_TAG == "buildcache"


def test_mutable_repositories_get_no_exclusion(dev: Rendered) -> None:
    for repo in repositories(dev):
        assert repo.inputs["imageTagMutability"] == "MUTABLE"
        assert filters(repo) == []


def test_the_cache_tag_is_added_to_the_users_exclusions(prod: Rendered) -> None:
    for repo in repositories(prod):
        assert repo.inputs["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
        assert filters(repo) == ["latest", BUILD_CACHE_TAG, "prod-running-*"]
        # Security Hub ECR.2 (the CrossGuard pack) still sees immutable tags.
        assert violations(REPO, json.loads(json.dumps(repo.inputs))) == []


def test_immutable_becomes_immutable_except_the_cache_tag() -> None:
    r = render_stack("prod", env=GIT_ENV, overrides={"registry": {"tagMutability": "IMMUTABLE"}})
    for repo in repositories(r):
        assert repo.inputs["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
        assert filters(repo) == [BUILD_CACHE_TAG, "prod-running-*"]
        assert violations(REPO, json.loads(json.dumps(repo.inputs))) == []


@pytest.mark.parametrize("given", [["build*"], ["*cache"], ["buildcache", "latest"]])
def test_a_filter_that_already_covers_the_cache_tag_is_not_repeated(given: list[str]) -> None:
    registry = {"tagMutability": "IMMUTABLE_WITH_EXCLUSION", "tagMutabilityExclusions": given}
    r = render_stack("prod", env=GIT_ENV, overrides={"registry": registry})
    for repo in repositories(r):
        assert filters(repo) == [*given, "prod-running-*"]


def test_one_filter_covering_both_the_cache_and_the_markers_adds_nothing() -> None:
    registry = {"tagMutability": "IMMUTABLE_WITH_EXCLUSION", "tagMutabilityExclusions": ["*"]}
    r = render_stack("prod", env=GIT_ENV, overrides={"registry": registry})
    assert filters(repositories(r)[0]) == ["*"]


@pytest.mark.parametrize("count", [4, 5])
def test_too_many_filters_leave_no_room_for_the_stacks_own(count: int) -> None:
    given = ["a", "b", "c", "d", "e"][:count]
    registry = {"tagMutability": "IMMUTABLE_WITH_EXCLUSION", "tagMutabilityExclusions": given}
    with pytest.raises(ConfigErrors) as info:
        render_stack("prod", env=GIT_ENV, overrides={"registry": registry})
    (line,) = str(info.value).splitlines()
    assert "registry.tagMutabilityExclusions'" in line
    assert "adds 'buildcache', 'prod-running-*'" in line and "give at most 3" in line
    # Ones that cover the cache tag and the markers leave ECR's five.
    registry["tagMutabilityExclusions"] = [*given[:3], "build*", "prod-running-*"]
    r = render_stack("prod", env=GIT_ENV, overrides={"registry": registry})
    assert filters(repositories(r)[0]) == [*given[:3], "build*", "prod-running-*"]


def test_no_service_pushes_an_image_over_the_cache() -> None:
    """`buildcache` is mutable now, which `extraTags` would otherwise accept in prod."""
    services = [{"name": "api", "build": {"context": "app", "extraTags": [BUILD_CACHE_TAG]}}]
    with pytest.raises(ConfigErrors) as info:
        render_stack("prod", env=GIT_ENV, overrides={"services": services, "fargate": {}})
    assert "services[0].build.extraTags[0]'" in str(info.value)
    assert "'buildcache' is not allowed; it is the tag CI's Buildx" in str(info.value)


def test_every_rendered_policy_keeps_the_cache_right_after_the_deploy_protection(
    stack: Rendered,
) -> None:
    policies = stack.of_type(POLICY)
    assert len(policies) == len(stack.of_type(REPO))
    for res in policies:
        rules = json.loads(res.inputs["policy"])["rules"]
        assert rules[0]["selection"]["tagPrefixList"] == [f"{stack.stack}-running-"]
        assert rules[1]["selection"]["tagPrefixList"] == [f"{stack.stack}-"]
        assert rules[2] == lifecycle.build_cache_rule(BUILD_CACHE_TAG)
        assert [r["rulePriority"] for r in rules] == list(range(1, len(rules) + 1))


def test_a_users_rule_for_the_cache_pattern_is_replaced_and_the_rest_shift() -> None:
    raw = {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": [BUILD_CACHE_TAG],
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 1,
                },
                "action": {"type": "expire"},
            },
            old_any_rule(2),
        ]
    }
    protected, _ = lifecycle.protect_deploy_prefix(raw, "prod-", 10)
    kept, changes = lifecycle.keep_build_cache(protected, BUILD_CACHE_TAG)
    assert [r["rulePriority"] for r in kept["rules"]] == [1, 2, 3, 4]
    assert kept["rules"][2] == lifecycle.build_cache_rule(BUILD_CACHE_TAG)
    assert kept["rules"][3]["selection"]["tagStatus"] == "any"
    assert len(changes) == 2 and "replaced" in changes[1]
    assert lifecycle.keep_build_cache(kept, BUILD_CACHE_TAG) == (kept, [])


def old_any_rule(priority: int) -> dict[str, Any]:
    """The harshest rule a user can write: every image older than a day."""
    return {
        "rulePriority": priority,
        "selection": {
            "tagStatus": "any",
            "countType": "sinceImagePushed",
            "countUnit": "days",
            "countNumber": 1,
        },
        "action": {"type": "expire"},
    }


def image(n: int, tags: list[str] | None, days_ago: float) -> dict[str, Any]:
    return {
        "imageDigest": f"sha256:{n:064x}",
        "imageTags": tags,
        "imagePushedAt": NOW - timedelta(days=days_ago),
    }


@pytest.mark.parametrize("preset", sorted(lifecycle.PRESETS))
def test_no_rule_expires_a_year_old_cache(preset: str) -> None:
    """Both evaluators: ECR never lets a lower rule act on what a higher rule selected."""
    for policy in (lifecycle.preset_policy(preset), {"rules": [old_any_rule(1)]}):
        protected, _ = lifecycle.protect_deploy_prefix(policy, "prod-", 10)
        kept, _ = lifecycle.keep_build_cache(protected, BUILD_CACHE_TAG)
        cache = image(0, [BUILD_CACHE_TAG], 365)
        images = [cache, image(1, None, 400), image(2, ["feature-x"], 300)]
        images += [image(i, [f"v1.{i}", f"prod-{i:07x}"], 200 - i) for i in range(3, 40)]
        fast = {r["imageDigest"] for r in preview_lifecycle_policy(kept, images, now=NOW)}
        naive = {images[i]["imageDigest"] for i in naive_preview(kept, images, NOW)}
        assert fast == naive and fast  # the policy does expire other images: the check can fail
        assert cache["imageDigest"] not in fast, preset
        without = {r["imageDigest"] for r in preview_lifecycle_policy(protected, images, now=NOW)}
        if policy["rules"][0]["selection"]["tagStatus"] == "any":
            assert cache["imageDigest"] in without  # the keep rule is what saves it
