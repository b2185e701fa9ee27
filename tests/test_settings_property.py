"""Whatever a stack file holds, the program renders or says what is wrong, one line per problem.

Hypothesis puts arbitrary YAML-like values (null, booleans, huge and negative integers, floats,
dates, unicode and control characters, long strings, lists, objects with non-string keys) at every
config key and at every field of the structured ones, starting from the fixture stacks.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import settings as stack_settings
from plan import engine
from rules.lifecycle.model import ACTIONS, SELECTORS
from rules.lifecycle.validate import SELECTION_KEYS
from rules.registry.pull_through import RULE_KEYS
from settings.keys import (
    ACCESS_LOGS,
    ALARMS,
    BUILD,
    FARGATE,
    GITHUB,
    LIFECYCLE,
    LOAD_BALANCER,
    NETWORK,
    REGISTRY,
    ROOT,
    RUN,
    SCALING,
    SCHEDULED,
    SERVICE,
)
from settings.source import RawConfig, from_files
from tests.conftest import GIT_ENV, STACKS

FULLWIDTH = "".join(chr(0xFF10 + int(d)) for d in "123456789012")  # `isdigit()`, not ASCII
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 2**31, 2**63, 10**400]),
    st.builds(pow, st.just(-10), st.integers(4300, 4400)),  # no `str()` for these in Python 3.11
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=600),
    st.sampled_from(["\n", "a\nb", "\u2028", "\x00", "us-east-1\n", FULLWIDTH]),
    st.dates(),
)
keys = st.one_of(st.text(max_size=12), st.integers(), st.booleans(), st.none(), st.floats())
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)

# (top-level key, the keys of one of its objects, how to reach that object)
NESTED: tuple[tuple[str, tuple[str, ...], tuple[str | int, ...]], ...] = (
    ("fargate", FARGATE.names, ()),
    ("services", RUN.names, (0, "run")),
    ("services", RUN.names, (1, "run")),
    ("network", NETWORK.names, ()),
    ("registry", REGISTRY.names, ()),
    ("services", SERVICE.names, (0,)),
    ("services", BUILD.names, (0, "build")),
    ("services", LIFECYCLE.names, (1, "lifecycle")),
    ("pullThroughCache", RULE_KEYS, (0,)),
    ("github", GITHUB.names, ()),
    ("loadBalancer", LOAD_BALANCER.names, ()),
    ("loadBalancer", ACCESS_LOGS.names, ("accessLogs",)),
    ("services", SCALING.names, (0, "run", "scaling")),
    ("services", SCHEDULED.names, (0, "run", "scaling", "scheduled", 0)),
    ("services", ALARMS.names, (0, "run", "alarms")),
    ("fargate", ("LOG_LEVEL", "DB_PASSWORD"), ("environment",)),
    ("services", ("LOG_LEVEL", "DB_PASSWORD"), (0, "run", "environment")),
    ("services", (*SELECTORS, *ACTIONS, "description"), (1, "lifecycle", "rules", 0)),
    ("services", ("rulePriority", "selection", "action"), (1, "lifecycle", "policy", "rules", 0)),
    ("services", SELECTION_KEYS, (1, "lifecycle", "policy", "rules", 0, "selection")),
)
# Objects that a stack file may fill with members of any key.
OBJECTS: tuple[tuple[str, tuple[str | int, ...]], ...] = (
    ("", ()),
    ("fargate", ()),
    ("fargate", ("environment",)),
    ("fargate", ("secrets",)),
    ("services", (0, "run")),
    ("services", (0, "run", "environment")),
    ("services", (0, "run", "secrets")),
    ("network", ()),
    ("registry", ()),
    ("services", (0,)),
    ("services", (0, "build")),
    ("services", (0, "build", "args")),
    ("services", (1, "lifecycle")),
    ("services", (1, "lifecycle", "rules", 0)),
    ("pullThroughCache", (0,)),
    ("pullThroughCredentials", ()),
    ("github", ()),
)
FIELDS = [(top, where, key) for top, names, where in NESTED for key in (*names, "extra")]


@cache
def raw_config(stack: str) -> RawConfig:
    return from_files(stack, stack_dir=STACKS)


def base(stack: str) -> dict[str, Any]:
    """A fresh copy of the fixture stack's values, to mutate."""
    return copy.deepcopy(dict(raw_config(stack).values))


def reach(values: dict[str, Any], top: str, where: tuple[str | int, ...]) -> Any:
    """The object at `top` then `where`, creating the lifecycle forms the path goes through."""
    node: Any = values if not top else values.setdefault(top, {})
    for step in where:
        if step == "rules" and "rules" not in node:
            node.pop("preset", None)
            node["rules"] = [{"keep": 5, "tagPrefix": "v"}] if "policy" not in node else []
        if step == "policy" and "policy" not in node:
            node.pop("preset", None)
            node["policy"] = {"rules": [copy.deepcopy(POLICY_RULE)]}
        if step == "scheduled" and not isinstance(node.get("scheduled"), list):
            node["scheduled"] = []
        if isinstance(step, int) and not node:
            node.append({"upstream": "quay"} if top == "pullThroughCache" else {})
        node = node[step] if isinstance(step, int) else node.setdefault(step, {})
    return node


POLICY_RULE = {
    "rulePriority": 1,
    "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 3},
    "action": {"type": "expire"},
}


def load(stack: str, values: Mapping[str, Any]) -> stack_settings.Settings | None:
    """Settings, or None after checking that every refusal is one well-formed line."""
    raw = replace(raw_config(stack), values=values)
    try:
        return stack_settings.load(raw, env=GIT_ENV)
    except stack_settings.ConfigErrors as exc:
        lines = str(exc).split("\n")
        assert len(lines) == len(exc.errors) >= 1
        for error, line in zip(exc.errors, lines, strict=True):
            assert line == str(error)
            assert line.startswith("config '") and "': " in line, line
            assert line.isprintable() and len(line.splitlines()) == 1, line
        return None


@FAST
@given(
    stack=st.sampled_from(["dev", "prod"]),
    key=st.sampled_from([*ROOT.names, "aws:region", "unknownKey"]),
    value=values,
)
# Found by this test: a stack name too long for a file name was looked up as a stack file.
@example(stack="dev", key="accountOwner", value="a" * 300)
@example(stack="dev", key="accountOwner", value="a" * 240)
def test_any_value_at_any_key(stack: str, key: str, value: Any) -> None:
    values_ = base(stack)
    values_[key] = value
    load(stack, values_)


@FAST
@given(stack=st.sampled_from(["dev", "prod"]), field=st.sampled_from(FIELDS), value=values)
def test_any_value_at_any_field(stack: str, field: tuple[str, Any, str], value: Any) -> None:
    top, where, key = field
    values_ = base(stack)
    reach(values_, top, where)[key] = value
    load(stack, values_)


@FAST
@given(place=st.sampled_from(OBJECTS), key=keys, value=values)
def test_any_key_in_any_object(place: tuple[str, Any], key: Any, value: Any) -> None:
    values_ = base("prod")
    reach(values_, *place)[key] = value
    load("prod", values_)


@settings(max_examples=15, deadline=None)
@given(
    key=st.sampled_from(RUN.names),
    value=st.one_of(values, st.integers(0, 4000), st.sampled_from(["/x", "app", "1:1"])),
)
def test_accepted_settings_render_under_mocks(key: str, value: Any) -> None:
    values_ = base("dev")
    values_["services"][0]["run"][key] = value
    if load("dev", values_) is not None:
        engine.render(replace(raw_config("dev"), values=values_), env=GIT_ENV)


def test_dates_count_as_values() -> None:
    """YAML turns `2024-01-01` into a date; it is refused like any other wrong type."""
    values_ = base("dev")
    values_["services"][0]["run"]["port"] = datetime.date(2024, 1, 1)
    assert load("dev", values_) is None


def test_a_refused_account_owner_is_one_line() -> None:
    """A name that is no stack name is refused once; no stack file is looked up by it."""
    for length in (240, 300):
        values_ = base("dev")
        values_["accountOwner"] = "a" * length
        with pytest.raises(stack_settings.ConfigErrors) as info:
            stack_settings.load(replace(raw_config("dev"), values=values_), env=GIT_ENV)
        assert [e.path for e in info.value.errors] == ["accountOwner"]
        assert "use 1 to 44 lowercase letters" in str(info.value)
