"""Execution-role pull grants follow where a prebuilt image really comes from."""

from __future__ import annotations

from rules.ecs.pull import PullGrants, prebuilt_pull_grants

DIGEST = "@sha256:" + "cd" * 32
HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def grants(ref: str, prefixes: tuple[str, ...] = ("quay", "docker-hub")) -> PullGrants:
    return prebuilt_pull_grants(
        ref, region="us-east-1", cache_prefixes=prefixes, own_repositories=("dev/api",)
    )


def test_own_registry_repository_is_granted_without_the_cache() -> None:
    assert grants(f"{HOST}/dev/api{DIGEST}") == PullGrants(
        ("arn:aws:ecr:us-east-1:123456789012:repository/dev/api",)
    )


def test_cache_prefix_is_recognised_by_its_first_path_component() -> None:
    g = grants(f"{HOST}/docker-hub/library/nginx{DIGEST}")
    assert (g.cache_account, g.cache_prefix) == ("123456789012", "docker-hub")
    # `quayish/x` is not under the `quay/` prefix.
    assert grants(f"{HOST}/quayish/x{DIGEST}").cache_prefix is None


def test_root_rule_caches_everything_but_the_stacks_own_repositories() -> None:
    assert grants(f"{HOST}/library/nginx{DIGEST}", ("ROOT",)).cache_prefix == "ROOT"
    assert grants(f"{HOST}/dev/api{DIGEST}", ("ROOT",)).cache_prefix is None


def test_other_accounts_regions_and_partitions_name_their_own_repository() -> None:
    other = "210987654321.dkr.ecr.eu-west-1.amazonaws.com"
    assert grants(f"{other}/quay/x{DIGEST}") == PullGrants(
        ("arn:aws:ecr:eu-west-1:210987654321:repository/quay/x",)
    )
    china = "210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn"
    (arn,) = grants(f"{china}/team/app{DIGEST}").repository_arns
    assert arn.startswith("arn:aws-cn:ecr:cn-north-1:210987654321:")


def test_registries_outside_ecr_need_no_ecr_grant() -> None:
    for ref in (f"nginx{DIGEST}", f"public.ecr.aws/nginx/nginx{DIGEST}", f"ghcr.io/o/a{DIGEST}"):
        assert grants(ref) == PullGrants(())
