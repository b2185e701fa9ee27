"""The offline IAM evaluator the CI policy tests rely on: each rule of IAM's evaluation logic."""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.iam.evaluate import Request, decide, glob_match, is_allowed

ROLE = "arn:aws:iam::123456789012:role/ecr-fargate/dev/x"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any = "s3:GetObject", resource: Any = "*", **condition: Any) -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        st["Condition"] = {k.replace("__", ":"): v for k, v in condition.items()}
    return st


def ok(policy: dict[str, Any], action: str, resource: str = "*", /, **context: Any) -> bool:
    return is_allowed([policy], Request(action, resource, context))


def test_wildcards_in_actions_are_case_insensitive_and_in_resources_are_not() -> None:
    assert glob_match("ecr:Get*", "ecr:GetAuthorizationToken")
    assert not glob_match("ecr:Get*", "ecr:PutImage")
    assert glob_match("a?c", "abc") and not glob_match("a?c", "abbc")
    policy = doc(allow("ECR:get*", "arn:aws:ecr:*:1:repository/dev/*"))
    assert ok(policy, "ecr:GetLifecyclePolicy", "arn:aws:ecr:us-east-1:1:repository/dev/api")
    assert not ok(policy, "ecr:GetLifecyclePolicy", "arn:aws:ecr:us-east-1:1:repository/DEV/api")
    assert not ok(policy, "ecr:PutImage", "arn:aws:ecr:us-east-1:1:repository/dev/api")
    # A `.` or `+` in a pattern is literal, not a regular expression.
    assert not glob_match("a.c", "abc") and glob_match("a+b", "a+b")


def test_explicit_deny_wins_and_nothing_is_allowed_by_default() -> None:
    policy = doc(allow("iam:*"), {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"})
    assert ok(policy, "iam:GetRole")
    assert not ok(policy, "iam:PassRole", ROLE)
    assert decide([policy], Request("iam:PassRole", ROLE)) == "Deny"
    assert decide([doc(allow("s3:GetObject"))], Request("s3:PutObject", "*")) == "Implicit"
    assert not is_allowed([], Request("s3:GetObject", "*"))


def test_not_action_and_not_resource() -> None:
    policy = doc(
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::mine/*"},
    )
    assert ok(policy, "s3:GetObject", "arn:aws:s3:::mine/a")
    assert not ok(policy, "s3:GetObject", "arn:aws:s3:::theirs/a")
    assert not ok(policy, "iam:GetRole", ROLE)


def test_boundary_intersects_with_identity_policies() -> None:
    identity = [doc(allow(["s3:GetObject", "iam:PutRolePolicy"]))]
    boundary = doc(allow("s3:GetObject"))
    assert is_allowed(identity, Request("s3:GetObject", "*"), boundary)
    assert not is_allowed(identity, Request("iam:PutRolePolicy", ROLE), boundary)
    # The boundary alone grants nothing.
    assert not is_allowed([], Request("s3:GetObject", "*"), boundary)
    # A Deny in the boundary is a Deny.
    denying = doc(allow("s3:*"), {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"})
    assert not is_allowed(identity, Request("s3:GetObject", "*"), denying)


def test_string_conditions_keys_and_values() -> None:
    policy = doc(allow(StringEquals={"aws:RequestTag/stack": ["dev", "qa"], "aws:Foo": "x"}))
    assert ok(policy, "s3:GetObject", **{"aws:RequestTag/stack": "qa", "aws:foo": "x"})
    assert not ok(policy, "s3:GetObject", **{"aws:RequestTag/stack": "prod", "aws:Foo": "x"})
    assert not ok(policy, "s3:GetObject", **{"aws:RequestTag/stack": "dev"})  # keys AND
    like = doc(allow(StringLike={"token:sub": "repo:octo/*"}))
    assert ok(like, "s3:GetObject", **{"token:sub": "repo:octo/app:pull_request"})
    assert not ok(like, "s3:GetObject", **{"token:sub": "repo:other/app"})
    ignore = doc(allow(StringEqualsIgnoreCase={"k": "ABC"}))
    assert ok(ignore, "s3:GetObject", k="abc")


def test_negated_operators_and_missing_keys() -> None:
    policy = doc(allow(StringNotEquals={"aws:ResourceTag/stack": ["dev", "qa"]}))
    assert ok(policy, "s3:GetObject", **{"aws:ResourceTag/stack": "prod"})
    assert not ok(policy, "s3:GetObject", **{"aws:ResourceTag/stack": "qa"})
    assert ok(policy, "s3:GetObject")  # a negated operator holds for a missing key
    assert not ok(doc(allow(StringEquals={"k": "v"})), "s3:GetObject")
    assert ok(doc(allow(StringEqualsIfExists={"k": "v"})), "s3:GetObject")
    assert not ok(doc(allow(StringEqualsIfExists={"k": "v"})), "s3:GetObject", k="w")
    assert not ok(doc(allow(StringNotLike={"k": "a*"})), "s3:GetObject", k="abc")


def test_null_bool_and_arn_operators() -> None:
    absent = doc(allow(Null={"aws:ResourceTag/stack": "true"}))
    assert ok(absent, "s3:GetObject")
    assert not ok(absent, "s3:GetObject", **{"aws:ResourceTag/stack": "dev"})
    present = doc(allow(Null={"k": "false"}))
    assert ok(present, "s3:GetObject", k="") and not ok(present, "s3:GetObject")
    assert ok(
        doc(allow(Bool={"kms:GrantIsForAWSResource": "true"})),
        "s3:GetObject",
        **{"kms:GrantIsForAWSResource": "True"},
    )
    arn = doc(allow(ArnLike={"aws:SourceArn": "arn:aws:ecs:*:1:cluster/*"}))
    assert ok(arn, "s3:GetObject", **{"aws:SourceArn": "arn:aws:ecs:us-east-1:1:cluster/c"})
    # In ArnLike a `*` stays within its part: it cannot absorb the account.
    assert not ok(doc(allow(ArnLike={"a": "arn:aws:ecs:*"})), "s3:GetObject", a="arn:aws:ecs:r:1:x")
    assert ok(
        doc(allow(ArnNotEquals={"a": "arn:aws:iam::1:role/x"})),
        "s3:GetObject",
        a="arn:aws:iam::1:role/y",
    )


def test_set_operators() -> None:
    subset = doc(allow(**{"ForAllValues__StringEquals": {"aws:TagKeys": ["project", "stack"]}}))
    assert ok(subset, "s3:GetObject", **{"aws:TagKeys": ["stack"]})
    assert not ok(subset, "s3:GetObject", **{"aws:TagKeys": ["stack", "owner"]})
    assert ok(subset, "s3:GetObject")  # ForAllValues holds for a missing key
    anyof = doc(allow(**{"ForAnyValue__StringEquals": {"aws:TagKeys": ["stack"]}}))
    assert ok(anyof, "s3:GetObject", **{"aws:TagKeys": ["owner", "stack"]})
    assert not ok(anyof, "s3:GetObject", **{"aws:TagKeys": ["owner"]})
    assert not ok(anyof, "s3:GetObject")
    none_of = doc(allow(**{"ForAllValues__StringNotEquals": {"aws:TagKeys": ["stack"]}}))
    assert ok(none_of, "s3:GetObject", **{"aws:TagKeys": ["owner"]})
    assert not ok(none_of, "s3:GetObject", **{"aws:TagKeys": ["owner", "stack"]})


def test_unknown_operators_and_multivalued_single_operators_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        ok(doc(allow(DateGreaterThan={"aws:CurrentTime": "2020-01-01"})), "s3:GetObject")
    with pytest.raises(ValueError, match="multivalued"):
        ok(
            doc(allow(StringEquals={"aws:TagKeys": "a"})),
            "s3:GetObject",
            **{"aws:TagKeys": ["a", "b"]},
        )


ACTIONS = st.sampled_from(["ecr:PutImage", "iam:PassRole", "kms:CreateGrant", "s3:GetObject"])
ARNS = st.from_regex(r"arn:aws:[a-z]{2,5}:us-east-1:123456789012:[a-z/\-]{1,20}", fullmatch=True)


@given(
    action=ACTIONS,
    resource=ARNS,
    context=st.dictionaries(st.sampled_from(["a", "b"]), st.text(max_size=5)),
)
def test_a_matching_deny_always_wins(action: str, resource: str, context: dict[str, str]) -> None:
    allow_all = doc(allow("*", "*"))
    deny = {"Effect": "Deny", "Action": action, "Resource": resource}
    request = Request(action, resource, context)
    assert is_allowed([allow_all], request)
    assert not is_allowed([allow_all, doc(deny)], request)
    assert not is_allowed([allow_all], request, boundary=doc(deny))


@given(text=st.text(alphabet="ab*?.[]", max_size=8), value=st.text(alphabet="ab.[]", max_size=8))
def test_glob_matches_like_fnmatch_with_only_two_wildcards(text: str, value: str) -> None:
    # fnmatch also knows `[...]` classes; IAM does not, so escape them for the reference.
    reference = "".join(f"[{c}]" if c in "[]" else c for c in text)
    assert glob_match(text, value) == fnmatch.fnmatchcase(value, reference)
