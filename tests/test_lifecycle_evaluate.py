"""The evaluator against every evaluation rule in the reference, properties, and deploy protection.

Each case uses images chosen so that a wrong reading of the rule gives a different result.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.naive_lifecycle import naive_preview
from rules import lifecycle
from rules.lifecycle import preview_lifecycle_policy

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def image(n: int, tags: list[str] | None, days_ago: float, **extra: Any) -> dict[str, Any]:
    img = {
        "imageDigest": f"sha256:{n:064x}",
        "imagePushedAt": NOW - timedelta(days=days_ago),
        **extra,
    }
    if tags is not None:
        img["imageTags"] = tags
    return img


def acted(policy: dict, images: list[dict]) -> dict[str, int]:
    """tag-or-digest -> priority of the acting rule."""
    out = {}
    for r in preview_lifecycle_policy(policy, images, now=NOW):
        key = r["imageTags"][0] if r["imageTags"] else r["imageDigest"][-4:]
        out[key] = r["appliedRulePriority"]
    return out


def rule(priority: int, sel: dict, action: dict | None = None) -> dict:
    return {"rulePriority": priority, "selection": sel, "action": action or {"type": "expire"}}


def keep(priority: int, n: int, **tags: Any) -> dict:
    sel = {
        "tagStatus": "tagged" if tags else "any",
        **tags,
        "countType": "imageCountMoreThan",
        "countNumber": n,
    }
    return rule(priority, sel)


def older(priority: int, days: int, **tags: Any) -> dict:
    status = "tagged" if tags else "untagged"
    sel = {
        "tagStatus": status,
        **tags,
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": days,
    }
    return rule(priority, sel)


def test_result_shape_matches_get_lifecycle_policy_preview() -> None:
    (r,) = preview_lifecycle_policy({"rules": [older(1, 1)]}, [image(1, None, 5)], now=NOW)
    assert r == {
        "imageDigest": f"sha256:{1:064x}",
        "imageTags": [],
        "imagePushedAt": NOW - timedelta(days=5),
        "action": {"type": "EXPIRE"},
        "appliedRulePriority": 1,
        "storageClass": "STANDARD",
    }


def test_age_is_strict() -> None:
    images = [image(1, None, 1), image(2, None, 1.0001)]
    assert acted({"rules": [older(1, 1)]}, images) == {f"{2:04x}": 1}


def test_count_keeps_the_youngest_by_push_time_not_list_order() -> None:
    images = [image(1, ["a"], 1), image(2, ["b"], 3), image(3, ["c"], 2)]
    assert acted({"rules": [keep(1, 2)]}, images) == {"b": 1}


def test_ties_in_push_time_later_in_the_list_is_newer() -> None:
    images = [image(1, ["first"], 2), image(2, ["second"], 2)]
    assert acted({"rules": [keep(1, 1)]}, images) == {"first": 1}


def test_prefix_lists_are_and_across_entries() -> None:
    policy = {"rules": [older(1, 1, tagPrefixList=["prod-", "v"])]}
    images = [image(1, ["prod-1"], 9), image(2, ["v1"], 9), image(3, ["prod-2", "v2"], 9)]
    assert acted(policy, images) == {"prod-2": 1}


def test_pattern_matches_the_whole_tag() -> None:
    policy = {
        "rules": [older(1, 1, tagPatternList=["*prod*"]), older(2, 1, tagPatternList=["rel*"])]
    }
    images = [
        image(1, ["repo-production"], 9),
        image(2, ["prerelease"], 9),
        image(3, ["release-1"], 9),
    ]
    assert acted(policy, images) == {"repo-production": 1, "release-1": 2}


def test_higher_rule_selection_protects_even_when_it_keeps() -> None:
    # Rule 1 keeps the prod- image; the age rule 2 would expire it but may not.
    policy = {"rules": [keep(1, 5, tagPrefixList=["prod-"]), older(2, 1, tagPrefixList=["p"])]}
    images = [image(1, ["prod-1"], 30), image(2, ["p-2"], 30)]
    assert acted(policy, images) == {"p-2": 2}


def test_counting_includes_images_a_higher_rule_selected() -> None:
    # The any keep-1 rule counts the newest (claimed by rule 1) and expires the other.
    policy = {"rules": [keep(1, 5, tagPrefixList=["prod-"]), keep(2, 1)]}
    images = [image(1, ["beta"], 3), image(2, ["prod-1"], 1)]
    assert acted(policy, images) == {"beta": 2}


def test_an_image_is_acted_on_once_by_the_highest_rule() -> None:
    policy = {"rules": [older(1, 1, tagPrefixList=["a"]), keep(2, 0 + 1)]}
    images = [image(1, ["a1"], 10), image(2, ["b1"], 5), image(3, ["b2"], 1)]
    assert acted(policy, images) == {"a1": 1, "b1": 2}


def test_since_image_pulled_falls_back_to_push_time_and_transitions() -> None:
    sel = {
        "tagStatus": "any",
        "countType": "sinceImagePulled",
        "countUnit": "days",
        "countNumber": 30,
    }
    policy = {"rules": [rule(1, sel, {"type": "transition", "targetStorageClass": "archive"})]}
    images = [
        image(1, ["never-pulled-old"], 40),
        image(2, ["pulled-recently"], 40, lastRecordedPullTime=NOW - timedelta(days=2)),
        image(3, ["pulled-long-ago"], 60, lastRecordedPullTime=NOW - timedelta(days=45)),
        image(4, ["restored"], 400, lastActivatedAt=NOW - timedelta(days=3)),
    ]
    results = preview_lifecycle_policy(policy, images, now=NOW)
    assert {r["imageTags"][0] for r in results} == {"never-pulled-old", "pulled-long-ago"}
    assert all(
        r["action"] == {"type": "TRANSITION", "targetStorageClass": "ARCHIVE"} for r in results
    )


def test_archived_images_expire_by_archive_age_only_in_their_class() -> None:
    sel = {
        "tagStatus": "any",
        "storageClass": "archive",
        "countType": "sinceImageTransitioned",
        "countUnit": "days",
        "countNumber": 90,
    }
    policy = {"rules": [rule(1, sel)]}
    images = [
        image(
            1,
            ["archived-long"],
            500,
            imageStatus="ARCHIVED",
            lastArchivedAt=NOW - timedelta(days=91),
        ),
        image(
            2,
            ["archived-recent"],
            500,
            imageStatus="ARCHIVED",
            lastArchivedAt=NOW - timedelta(days=10),
        ),
        image(3, ["active-old"], 500),
    ]
    (r,) = preview_lifecycle_policy(policy, images, now=NOW)
    assert r["imageTags"] == ["archived-long"]
    assert r["storageClass"] == "ARCHIVE"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        preview_lifecycle_policy(
            {"rules": [keep(1, 1)]}, [{"imageDigest": "x", "imagePushedAt": datetime(2026, 1, 1)}]
        )


# Property tests: the fast evaluator agrees with the naive one, and the priority guarantees hold.
TAGS = st.lists(
    st.sampled_from(["dev-1", "dev-2", "prod-1", "v1.0", "v2", "rel", "x"]), max_size=3, unique=True
)
IMAGES = st.lists(st.tuples(TAGS, st.integers(0, 40), st.booleans()), max_size=25)
SELECTIONS = st.sampled_from(
    [
        {"tagStatus": "tagged", "tagPrefixList": ["dev-"]},
        {"tagStatus": "tagged", "tagPrefixList": ["prod-", "v"]},
        {"tagStatus": "tagged", "tagPrefixList": ["v"]},
        {"tagStatus": "tagged", "tagPatternList": ["*1*"]},
        {"tagStatus": "tagged", "tagPatternList": ["re*"]},
        {"tagStatus": "untagged"},
    ]
)
COUNTS = st.one_of(
    st.integers(1, 5).map(lambda n: {"countType": "imageCountMoreThan", "countNumber": n}),
    st.integers(1, 30).map(
        lambda n: {"countType": "sinceImagePushed", "countUnit": "days", "countNumber": n}
    ),
)


@st.composite
def policies(draw: Any) -> dict:
    sels = draw(st.lists(SELECTIONS, min_size=1, max_size=5, unique_by=lambda s: repr(s)))
    untagged_seen = False
    rules = []
    for i, sel in enumerate(sels, 1):
        if sel["tagStatus"] == "untagged":
            if untagged_seen:
                continue
            untagged_seen = True
        rules.append(rule(i, {**sel, **draw(COUNTS)}))
    if draw(st.booleans()):
        rules.append(rule(len(rules) + 1, {"tagStatus": "any", **draw(COUNTS)}))
    return {"rules": rules}


def build(spec: list[tuple[list[str], int, bool]]) -> list[dict]:
    return [
        image(i, tags if tags or not untagged_absent else None, age)
        for i, (tags, age, untagged_absent) in enumerate(spec)
    ]


@settings(max_examples=300, deadline=None)
@given(policies(), IMAGES)
def test_fast_evaluator_equals_the_naive_one(policy: dict, spec: list) -> None:
    images = build(spec)
    fast = {
        r["imageDigest"]: r["appliedRulePriority"]
        for r in preview_lifecycle_policy(policy, images, now=NOW)
    }
    slow = {images[i]["imageDigest"]: p for i, p in naive_preview(policy, images, NOW).items()}
    assert fast == slow


@settings(max_examples=300, deadline=None)
@given(policies(), IMAGES)
def test_priority_guarantees(policy: dict, spec: list) -> None:
    images = build(spec)
    results = preview_lifecycle_policy(policy, images, now=NOW)
    digests = [r["imageDigest"] for r in results]
    assert len(digests) == len(set(digests))  # at most one action per image
    rules = lifecycle.validate_lifecycle_policy(policy)["rules"]
    by_digest = {img["imageDigest"]: img for img in images}
    for r in results:
        img = by_digest[r["imageDigest"]]
        for higher in rules:
            if higher["rulePriority"] >= r["appliedRulePriority"]:
                break
            selected = naive_preview(
                {
                    "rules": [
                        {
                            **higher,
                            "rulePriority": 1,
                            "selection": {
                                **higher["selection"],
                                "countType": "sinceImagePushed",
                                "countUnit": "days",
                                "countNumber": 1,
                            },
                        }
                    ]
                },
                [{**img, "imagePushedAt": NOW - timedelta(days=1000)}],
                NOW,
            )
            assert not selected, (
                f"rule {higher['rulePriority']} selected the image acted on by {r['appliedRulePriority']}"
            )


# Deployed-image protection, proven with the evaluator.
OTHER_TAGS = ["v1.2.3", "release-7", "staging-9", "feature-x", "prod", "dev", "latest", "pr-12"]


@pytest.mark.parametrize("prefix", ["dev-", "prod-"])
@pytest.mark.parametrize("preset", sorted(lifecycle.PRESETS))
def test_the_deployed_image_survives_1000_newer_pushes(preset: str, prefix: str) -> None:
    policy, _ = lifecycle.protect_deploy_prefix(lifecycle.preset_policy(preset), prefix, 10)
    rng = random.Random(f"{preset}{prefix}")
    deployed = image(0, [f"{prefix}abc1234-0123456789ab"], 400)
    newer = [
        image(i, None if rng.random() < 0.3 else [f"{rng.choice(OTHER_TAGS)}{i}"], 399 - i * 0.39)
        for i in range(1, 1001)
    ]
    results = preview_lifecycle_policy(policy, [deployed, *newer], now=NOW)
    assert deployed["imageDigest"] not in {r["imageDigest"] for r in results}
    assert len(results) > 0  # the policy still cleans up the rest
    assert (
        lifecycle.deployed_image_expiring_rule(policy, deployed["imageTags"][0], prefix=prefix)
        is None
    )


def test_static_check_finds_the_rule_that_would_expire_the_deploy() -> None:
    assert (
        lifecycle.deployed_image_expiring_rule(
            lifecycle.preset_policy("keep-last-10"), "dev-abc", prefix="dev-"
        )
        == 1
    )
    # release-channels: `dev` prefixed images expire after 7 days -> rule 4 catches `dev-...`.
    assert (
        lifecycle.deployed_image_expiring_rule(
            lifecycle.preset_policy("release-channels"), "dev-abc", prefix="dev-"
        )
        == 4
    )
    # A count rule whose prefix only deploy tags can match keeps it.
    keep_prefix = {"rules": [keep(1, 3, tagPrefixList=["dev-a"]), keep(2, 1)]}
    assert lifecycle.deployed_image_expiring_rule(keep_prefix, "dev-abc", prefix="dev-") is None


def test_raw_policy_gets_protection_prepended_with_a_warning() -> None:
    raw = {"rules": [older(1, 7), keep(2, 3)]}
    protected, changes = lifecycle.protect_deploy_prefix(raw, "prod-", 10)
    assert [r["rulePriority"] for r in protected["rules"]] == [1, 2, 3, 4]
    assert protected["rules"][0]["selection"] == {
        "tagStatus": "tagged",
        "tagPrefixList": ["prod-running-"],
        "countType": "imageCountMoreThan",
        "countNumber": 100,
    }
    assert protected["rules"][1]["selection"]["tagPrefixList"] == ["prod-"]
    assert protected["rules"][2]["selection"]["tagStatus"] == "untagged"
    assert changes and "prepended" in changes[0]
    again, none = lifecycle.protect_deploy_prefix(protected, "prod-", 10)
    assert again == protected and none == []


@pytest.mark.parametrize("count", [3, 10, 20])
def test_a_rule_with_the_same_prefix_is_replaced_keeping_exactly_the_count(count: int) -> None:
    raw = {"rules": [keep(1, 3, tagPrefixList=["v"]), keep(2, count, tagPrefixList=["prod-"])]}
    protected, changes = lifecycle.protect_deploy_prefix(raw, "prod-", 10)
    prod_rules = [r for r in protected["rules"] if r["selection"].get("tagPrefixList") == ["prod-"]]
    assert len(prod_rules) == 1 and prod_rules[0]["rulePriority"] == 2
    assert prod_rules[0]["selection"]["countNumber"] == 10
    assert any("replaced by the protection rule, which keeps exactly 10" in c for c in changes)


def test_a_first_rule_with_another_count_is_not_taken_as_the_protection() -> None:
    raw = {"rules": [keep(1, 20, tagPrefixList=["prod-"]), keep(2, 3)]}
    protected, _ = lifecycle.protect_deploy_prefix(raw, "prod-", 10)
    assert protected["rules"][1]["selection"]["countNumber"] == 10


def test_user_rules_for_the_deploy_prefix_conflict_unless_identical() -> None:
    conflict = lifecycle.deploy_prefix_conflict
    assert conflict(keep(1, 10, tagPrefixList=["prod-"]), "prod-", 10) is None
    assert conflict(keep(1, 20, tagPrefixList=["v"]), "prod-", 10) is None
    message = conflict(keep(1, 20, tagPrefixList=["prod-"]), "prod-", 10)
    assert message is not None and "keeping 20 images" in message
    assert "deployProtectionCount (10)" in message
    aged = conflict(older(1, 7, tagPrefixList=["prod-"]), "prod-", 10)
    assert aged is not None and "sinceImagePushed" in aged


# The same equivalence over everything a selection can say: `*`-leading, suffix, infix and exact
# patterns, characters fnmatch would read as wildcards, tags holding newlines, both storage classes
# and every count type. Results are compared whole, in order.
TAG_TEXT = st.text(alphabet="ab-?[*", min_size=1, max_size=4)
TAG_TEXT_OR_NEWLINE = st.text(alphabet="ab-?[*\n", min_size=1, max_size=4)
PATTERNS = st.text(alphabet="ab-?[*", min_size=1, max_size=5).filter(lambda p: p.count("*") <= 4)
PREFIXES = st.text(alphabet="ab-?[", min_size=1, max_size=2)
# (countType, action, storage class): every combination ECR accepts (see validate.py V11-V13).
KINDS = [
    ("imageCountMoreThan", "expire", None),
    ("sinceImagePushed", "expire", "standard"),
    ("sinceImagePulled", "transition", None),
    ("sinceImageTransitioned", "expire", "archive"),
]


@st.composite
def any_selection(draw: Any, status: str) -> tuple[dict, str]:
    sel: dict[str, Any] = {"tagStatus": status}
    if status == "tagged":
        field, entries = draw(
            st.sampled_from([("tagPatternList", PATTERNS), ("tagPrefixList", PREFIXES)])
        )
        sel[field] = draw(st.lists(entries, min_size=1, max_size=2, unique=True))
    kind, action, storage = draw(st.sampled_from(KINDS))
    if storage is not None:
        sel["storageClass"] = storage
    low = 90 if kind == "sinceImageTransitioned" else 1  # archived images stay 90 days
    high = 4 if kind == "imageCountMoreThan" else low + 40
    sel |= {"countType": kind, "countNumber": draw(st.integers(low, high))}
    if kind != "imageCountMoreThan":
        sel["countUnit"] = "days"
    return sel, action


def _selection_key(item: tuple[dict, str]) -> Any:
    """What must differ between two rules of one storage class (validate.py V15, V16)."""
    sel = item[0]
    entries = frozenset(sel.get("tagPrefixList", sel.get("tagPatternList", ())))
    return (sel.get("storageClass", "standard"), sel["tagStatus"], "tagPrefixList" in sel, entries)


@st.composite
def any_policy(draw: Any) -> dict:
    """Valid by construction: tagged and untagged rules in a random priority order, then at most
    one `any` rule per storage class, which must come last in its class."""
    first = draw(
        st.lists(
            st.sampled_from(["tagged", "tagged", "tagged", "untagged"]).flatmap(any_selection),
            min_size=1,
            max_size=6,
            unique_by=_selection_key,
        )
    )
    last = draw(st.lists(any_selection("any"), max_size=2, unique_by=_selection_key))
    priorities = [*draw(st.permutations(range(1, len(first) + 1)))]
    priorities += range(len(first) + 1, len(first) + len(last) + 1)
    rules = [
        rule(
            p, sel, {"type": a, **({"targetStorageClass": "archive"} if a == "transition" else {})}
        )
        for p, (sel, a) in zip(priorities, [*first, *last], strict=True)
    ]
    return {"rules": rules}


@st.composite
def any_images(draw: Any) -> list[dict]:
    images = []
    # Newlines in a few runs only: one such tag anywhere changes how `*`-leading patterns search.
    tag_text = TAG_TEXT_OR_NEWLINE if draw(st.integers(0, 4)) == 0 else TAG_TEXT
    for n in range(draw(st.integers(0, 25))):
        extra: dict[str, Any] = {}
        if draw(st.booleans()):
            extra["lastRecordedPullTime"] = NOW - timedelta(days=draw(st.integers(0, 40)))
        if draw(st.integers(0, 3)) == 0:
            extra["imageStatus"] = draw(st.sampled_from(["ARCHIVED", "ACTIVATING", "ACTIVE"]))
            extra["lastArchivedAt"] = NOW - timedelta(days=draw(st.integers(80, 140)))
        if draw(st.integers(0, 5)) == 0:
            extra["lastActivatedAt"] = NOW - timedelta(days=draw(st.integers(0, 40)))
        tags = draw(st.lists(tag_text, max_size=3, unique=True))
        images.append(image(n, tags, draw(st.integers(0, 40)), **extra))
    return images


@settings(max_examples=400, deadline=None)
@given(any_policy(), any_images())
def test_fast_evaluator_equals_the_naive_one_for_every_selection(
    policy: dict, images: list[dict]
) -> None:
    fast = [
        (r["imageDigest"], r["appliedRulePriority"])
        for r in preview_lifecycle_policy(policy, images, now=NOW)
    ]
    acted_naive = naive_preview(policy, images, NOW)
    by_time = sorted(
        acted_naive,
        key=lambda i: (
            acted_naive[i],
            images[i].get("lastActivatedAt") or images[i]["imagePushedAt"],
            i,
        ),
    )
    assert fast == [(images[i]["imageDigest"], acted_naive[i]) for i in by_time]


@pytest.mark.parametrize(
    ("pattern", "matched"),
    [
        ("*-rc*", ["v1-rc1", "x-rc"]),
        ("*prod", ["prod", "preprod"]),
        ("*a*b*", ["ab", "xaxbx", "a-b", "a?b", "a[b]"]),
        ("*", ["v1-rc1", "x-rc", "prod", "preprod", "ab", "xaxbx", "a-b", "a?b", "a[b]"]),
        ("a?b", ["a?b"]),
        ("a[b]", ["a[b]"]),
        ("*?*", ["a?b"]),
    ],
)
def test_star_leading_patterns_match_whole_tags_and_only_star_is_a_wildcard(
    pattern: str, matched: list[str]
) -> None:
    tags = ["v1-rc1", "x-rc", "prod", "preprod", "ab", "xaxbx", "a-b", "a?b", "a[b]"]
    images = [image(n, [t], 10) for n, t in enumerate(tags)]
    policy = {"rules": [older(1, 1, tagPatternList=[pattern])]}
    assert sorted(acted(policy, images)) == sorted(matched)


@pytest.mark.parametrize("pattern", ["*rc", "*rc*", "*\n*", "*b-*", "*-rc"])
def test_star_leading_patterns_find_tags_that_hold_newlines(pattern: str) -> None:
    """The `*`-leading search joins all tags with newlines: a newline inside a tag must neither
    hide the tag nor shift a hit onto its neighbour."""
    tags = ["a\nb-rc", "\nrc", "x\n", "rc\n\nrc", "b-\n", "zz-rc", "q"]
    images = [image(n, [t], 10) for n, t in enumerate(tags)]
    policy = {"rules": [older(1, 1, tagPatternList=[pattern])]}
    fast = {r["imageDigest"] for r in preview_lifecycle_policy(policy, images, now=NOW)}
    slow = {images[i]["imageDigest"] for i in naive_preview(policy, images, NOW)}
    assert fast == slow and fast
