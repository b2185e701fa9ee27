"""Every documented lifecycle constraint: the good case passes, the bad one names rule and field."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from rules import lifecycle
from rules.lifecycle import LifecyclePolicyError


def rule(priority: int = 1, **selection: Any) -> dict[str, Any]:
    sel = {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1}
    sel.update(selection)
    return {"rulePriority": priority, "selection": sel, "action": {"type": "expire"}}


def tagged(priority: int, prefixes: list[str], count: int = 5) -> dict[str, Any]:
    return rule(priority, tagStatus="tagged", tagPrefixList=prefixes, countNumber=count)


GOOD = {"rules": [tagged(1, ["prod-"]), rule(2), rule(3, tagStatus="any", countNumber=50)]}


def refused(policy: Any) -> LifecyclePolicyError:
    with pytest.raises(LifecyclePolicyError) as info:
        lifecycle.validate_lifecycle_policy(policy)
    return info.value


def test_good_policy_is_normalized_and_sorted() -> None:
    shuffled = {"rules": list(reversed(copy.deepcopy(GOOD["rules"])))}
    out = lifecycle.validate_lifecycle_policy(json.dumps(shuffled))
    assert [r["rulePriority"] for r in out["rules"]] == [1, 2, 3]
    assert out == lifecycle.validate_lifecycle_policy(GOOD)


def test_rendering_is_byte_identical_and_canonical() -> None:
    shuffled = {"rules": list(reversed(copy.deepcopy(GOOD["rules"])))}
    assert lifecycle.render_policy(GOOD) == lifecycle.render_policy(shuffled)
    assert lifecycle.render_policy(GOOD) == lifecycle.render_policy(lifecycle.render_policy(GOOD))
    text = lifecycle.render_policy(GOOD)
    assert list(json.loads(text)["rules"][0]) == ["rulePriority", "selection", "action"]


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"),
    [
        # V2: at most 50 rules
        (
            lambda p: p.update(rules=[tagged(i, [f"p{i}-"]) for i in range(1, 52)]),
            "rules",
            "at most 50",
        ),
        # V3: priorities >= 1, unique
        (lambda p: p["rules"][0].update(rulePriority=0), "rules[0].rulePriority", ">= 1"),
        (lambda p: p["rules"][1].update(rulePriority=1), "rules[1].rulePriority", "already used"),
        (lambda p: p["rules"][0].update(rulePriority=True), "rules[0].rulePriority", ">= 1"),
        # V4: the any rule goes last
        (
            lambda p: (
                p["rules"][2].update(rulePriority=0)
                or p["rules"][2].update(rulePriority=4)
                or p["rules"][0].update(rulePriority=5)
            ),
            "rules[2].rulePriority",
            "highest priority",
        ),
        # V5/V7: tagged needs exactly one list
        (
            lambda p: p["rules"][0]["selection"].pop("tagPrefixList"),
            "rules[0].selection",
            "exactly one",
        ),
        (
            lambda p: p["rules"][0]["selection"].update(tagPatternList=["x*"]),
            "rules[0].selection",
            "exactly one",
        ),
        # V6: untagged/any forbid lists
        (
            lambda p: p["rules"][1]["selection"].update(tagPrefixList=["x"]),
            "rules[1].selection.tagPrefixList",
            "only allowed with tagStatus tagged",
        ),
        # V8: at most four wildcards
        (
            lambda p: p["rules"][0].update(
                selection={
                    "tagStatus": "tagged",
                    "tagPatternList": ["a*b*c*d*e*f"],
                    "countType": "imageCountMoreThan",
                    "countNumber": 5,
                }
            ),
            "rules[0].selection.tagPatternList[0]",
            "four",
        ),
        # V9: countUnit for and only for time-based counts
        (
            lambda p: p["rules"][1]["selection"].update(countUnit="days"),
            "rules[1].selection.countUnit",
            "not allowed with imageCountMoreThan",
        ),
        (
            lambda p: p["rules"][1]["selection"].update(countType="sinceImagePushed"),
            "rules[1].selection.countUnit",
            "needs countUnit",
        ),
        (
            lambda p: p["rules"][1]["selection"].update(
                countType="sinceImagePushed", countUnit="hours"
            ),
            "rules[1].selection.countUnit",
            "needs countUnit",
        ),
        # V10: countNumber >= 1
        (
            lambda p: p["rules"][0]["selection"].update(countNumber=0),
            "rules[0].selection.countNumber",
            ">= 1",
        ),
        # V11: storage class with count types
        (
            lambda p: p["rules"][1]["selection"].update(storageClass="archive"),
            "rules[1].selection.storageClass",
            "only sinceImageTransitioned",
        ),
        # V12: sinceImagePulled only with transition
        (
            lambda p: p["rules"][1]["selection"].update(
                countType="sinceImagePulled", countUnit="days"
            ),
            "rules[1].action.type",
            "only works with transition",
        ),
        # V13: sinceImageTransitioned needs archive + expire
        (
            lambda p: p["rules"][1]["selection"].update(
                countType="sinceImageTransitioned", countUnit="days", countNumber=90
            ),
            "rules[1].selection.storageClass",
            "archive",
        ),
        # V14: transition needs targetStorageClass archive
        (
            lambda p: p["rules"][1].update(action={"type": "transition"}),
            "rules[1].action.targetStorageClass",
            "archive",
        ),
        # V15: one untagged rule per storage class
        (
            lambda p: p["rules"].insert(2, rule(4)) or p["rules"][3].update(rulePriority=5),
            "rules[2].selection.tagStatus",
            "only one rule may select untagged",
        ),
        # V16: unique prefix sets
        (
            lambda p: (
                p["rules"].insert(1, tagged(9, ["prod-"])) or p["rules"][3].update(rulePriority=10)
            ),
            "rules[1].selection.tagPrefixList",
            "same set",
        ),
        # V17: no nulls
        (
            lambda p: p["rules"][1]["selection"].update(countUnit=None),
            "rules[1].selection.countUnit",
            "null",
        ),
        (
            lambda p: p["rules"][0].update(action={"type": "expire", "targetStorageClass": None}),
            "rules[0].action.targetStorageClass",
            "null",
        ),
        # V18: archived images stay 90 days
        (
            lambda p: p["rules"].append(
                {
                    "rulePriority": 9,
                    "selection": {
                        "tagStatus": "any",
                        "storageClass": "archive",
                        "countType": "sinceImageTransitioned",
                        "countUnit": "days",
                        "countNumber": 30,
                    },
                    "action": {"type": "expire"},
                }
            ),
            "rules[3].selection.countNumber",
            "90",
        ),
        # typos and types
        (
            lambda p: p["rules"][0]["selection"].update(tagPrefixlist=["x"]),
            "rules[0].selection.tagPrefixlist",
            "unknown key",
        ),
        (
            lambda p: p["rules"][0]["selection"].update(countNumber="5"),
            "rules[0].selection.countNumber",
            ">= 1",
        ),
        (lambda p: p.update(version=1), "version", "unknown key"),
    ],
)
def test_each_constraint_names_rule_and_field(mutate: Any, path: str, fragment: str) -> None:
    policy = copy.deepcopy(GOOD)
    mutate(policy)
    err = refused(policy)
    assert err.path == path
    assert fragment in str(err)
    if path.startswith("rules["):
        assert str(err).startswith("rule ") or str(err).startswith("rules[")


def test_text_length_limits() -> None:
    long_description = {"rules": [{**rule(1), "description": "x" * 30720}]}
    assert "30720" in str(refused(long_description))


def test_archive_then_expire_pair_is_valid_per_storage_class() -> None:
    policy = {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "any",
                    "countType": "sinceImagePulled",
                    "countUnit": "days",
                    "countNumber": 30,
                },
                "action": {"type": "transition", "targetStorageClass": "archive"},
            },
            {
                "rulePriority": 2,
                "selection": {
                    "tagStatus": "any",
                    "storageClass": "archive",
                    "countType": "sinceImageTransitioned",
                    "countUnit": "days",
                    "countNumber": 90,
                },
                "action": {"type": "expire"},
            },
        ]
    }
    assert len(lifecycle.validate_lifecycle_policy(policy)["rules"]) == 2


def test_invalid_json_text() -> None:
    assert "not valid JSON" in str(refused("{rules: [}"))


@pytest.mark.parametrize("name", sorted(lifecycle.PRESETS))
def test_presets_are_valid_and_use_one_rule_per_prefix(name: str) -> None:
    policy = lifecycle.preset_policy(name)
    for r in policy["rules"]:
        assert len(r["selection"].get("tagPrefixList", [])) <= 1
    assert lifecycle.multi_entry_warnings(policy) == []
    assert policy["rules"][-1]["selection"]["tagStatus"] in ("any", "untagged")


def test_presets_say_what_the_issue_asks() -> None:
    def shape(name: str) -> list[tuple]:
        return [
            (
                tuple(r["selection"].get("tagPrefixList", [r["selection"]["tagStatus"]])),
                r["selection"]["countType"],
                r["selection"]["countNumber"],
            )
            for r in lifecycle.preset_policy(name)["rules"]
        ]

    assert shape("keep-last-10") == [(("any",), "imageCountMoreThan", 10)]
    assert shape("env-prefixes") == [
        (("prod-",), "imageCountMoreThan", 10),
        (("v",), "imageCountMoreThan", 10),
        (("staging-",), "imageCountMoreThan", 5),
        (("dev-",), "imageCountMoreThan", 5),
        (("untagged",), "sinceImagePushed", 7),
    ]
    assert shape("release-channels") == [
        (("v",), "imageCountMoreThan", 10),
        (("release",), "imageCountMoreThan", 10),
        (("prod",), "imageCountMoreThan", 10),
        (("dev",), "sinceImagePushed", 7),
        (("staging",), "sinceImagePushed", 7),
        (("untagged",), "sinceImagePushed", 1),
    ]
    with pytest.raises(ValueError, match="keep-last-10"):
        lifecycle.preset_policy("keep-everything")


def test_multi_entry_list_warns_about_and_semantics() -> None:
    policy = {"rules": [tagged(1, ["prod-", "v"])]}
    (warning,) = lifecycle.multi_entry_warnings(policy)
    assert "BOTH" not in warning
    assert "'prod-' AND a tag starting with 'v'" in warning


def test_config_rule_forms() -> None:
    policy = lifecycle.policy_from_config(
        [
            {"keep": 20, "any": True},
            {"keep": 10, "tagPrefix": "v"},
            {"expireAfterDays": 14, "tagPattern": "pr-*"},
            {"expireUntaggedAfterDays": 3},
            {"archiveAfterDaysUnpulled": 60, "tagPrefix": "old-"},
            {"expireArchivedAfterDays": 120},
        ]
    )
    kinds = [
        (r["rulePriority"], r["selection"]["tagStatus"], r["selection"]["countType"])
        for r in policy["rules"]
    ]
    assert kinds == [
        (1, "tagged", "imageCountMoreThan"),
        (2, "tagged", "sinceImagePushed"),
        (3, "untagged", "sinceImagePushed"),
        (4, "tagged", "sinceImagePulled"),
        (5, "any", "imageCountMoreThan"),  # the any rule moved last among standard rules
        (6, "any", "sinceImageTransitioned"),
    ]
    assert policy["rules"][3]["action"] == {"type": "transition", "targetStorageClass": "archive"}


@pytest.mark.parametrize(
    ("rules", "path"),
    [
        ([{"keep": 0, "any": True}], "[0].keep"),
        ([{"keep": 5}], "[0]"),
        ([{"keep": 5, "tagPrefix": "a", "any": True}], "[0]"),
        ([{"kep": 5, "any": True}], "[0].kep"),
        ([{"expireUntaggedAfterDays": 3, "tagPrefix": "a"}], "[0]"),
    ],
)
def test_config_rule_errors_carry_a_path(rules: list, path: str) -> None:
    with pytest.raises(LifecyclePolicyError) as info:
        lifecycle.policy_from_config(rules)
    assert info.value.path == path
