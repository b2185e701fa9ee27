"""The repository policy: least actions for pull and push, and CI-only push."""

from __future__ import annotations

import botocore.session

from rules.registry.access import PULL_ACTIONS, PUSH_ACTIONS, repository_policy


def test_nothing_to_grant_gives_no_policy() -> None:
    assert repository_policy(partition="aws", pull_account_ids=[], push_role_arns=[]) is None


def test_actions_exist_in_the_ecr_api() -> None:
    ops = set(botocore.session.get_session().get_service_model("ecr").operation_names)
    for action in PULL_ACTIONS + PUSH_ACTIONS:
        assert action.removeprefix("ecr:") in ops, action


def test_pull_is_read_only_and_push_cannot_delete() -> None:
    assert not {a for a in PULL_ACTIONS if "Put" in a or "Upload" in a or "Delete" in a}
    assert not {a for a in PUSH_ACTIONS if "Delete" in a or "SetRepositoryPolicy" in a}


def test_partition_is_used_for_account_principals() -> None:
    doc = repository_policy(
        partition="aws-cn", pull_account_ids=["111111111111"], push_role_arns=[]
    )
    assert doc is not None
    (statement,) = doc["Statement"]
    assert statement["Principal"] == {"AWS": ["arn:aws-cn:iam::111111111111:root"]}
