"""Build platform, context, args, content hash, tags, the hand command, and prebuilt digests."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest

from rules import lifecycle
from rules.build import command, context, platform, prebuilt, tags

ROOT = Path(__file__).resolve().parent.parent


def test_platform_decides_the_architecture() -> None:
    assert platform.cpu_architecture("linux/amd64") == "X86_64"
    assert platform.cpu_architecture("linux/arm64/v8") == "ARM64"
    assert platform.validate_architecture(["linux/arm64"], None) == "ARM64"
    assert platform.validate_architecture(["linux/amd64", "linux/arm64"], None) == "X86_64"
    assert platform.validate_architecture(["linux/amd64", "linux/arm64"], "ARM64") == "ARM64"
    with pytest.raises(ValueError, match="architecture is one of X86_64 "):
        platform.validate_architecture(["linux/amd64"], "ARM64")
    with pytest.raises(ValueError, match="linux/amd64, linux/arm64"):
        platform.validate_platform("windows/amd64")
    assert platform.platform_for("ARM64") == "linux/arm64"


def test_context_paths_are_relative_and_checked(tmp_path: Path) -> None:
    ctx = context.validate_build_context(ROOT, "app", None)
    assert (str(ctx.context), str(ctx.dockerfile)) == ("app", "app/Dockerfile")
    (tmp_path / "svc" / "docker").mkdir(parents=True)
    (tmp_path / "svc" / "docker" / "Prod.Dockerfile").write_text("FROM scratch\n")
    ctx = context.validate_build_context(tmp_path, "svc", "docker/Prod.Dockerfile")
    assert str(ctx.dockerfile) == "svc/docker/Prod.Dockerfile"
    with pytest.raises(ValueError, match="must be a directory"):
        context.validate_build_context(tmp_path, "missing", None)
    with pytest.raises(ValueError, match="no such file"):
        context.validate_build_context(tmp_path, "svc", None)
    with pytest.raises(ValueError, match="inside the project"):
        context.validate_build_context(tmp_path / "svc", "..", "svc/docker/Prod.Dockerfile")


def test_build_args_are_strings() -> None:
    assert context.validate_build_args({"B": "2", "A": "1"}) == {"A": "1", "B": "2"}
    for bad, path in (
        ({"N": 3}, "N"),
        ({"OK": "1", "FLAG": True}, "FLAG"),
        ({"bad-name": "x"}, "bad-name"),
    ):
        with pytest.raises(ValueError) as info:
            context.validate_build_args(bad)
        assert info.value.path == path  # type: ignore[attr-defined]


def make_context(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY src /src\n")
    (tmp_path / "src" / "app.py").write_text("print('hi')\n")
    (tmp_path / "notes.md").write_text("ignored\n")
    (tmp_path / ".dockerignore").write_text("# docs\n*.md\n")
    return tmp_path


def test_context_digest_follows_what_docker_sends(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    first = tags.context_digest(ctx, ctx / "Dockerfile")
    assert len(first) == 64 and first == tags.context_digest(ctx, ctx / "Dockerfile")
    (ctx / "notes.md").write_text("changed but ignored\n")
    assert tags.context_digest(ctx, ctx / "Dockerfile") == first
    (ctx / "src" / "app.py").write_text("print('changed')\n")
    second = tags.context_digest(ctx, ctx / "Dockerfile")
    assert second != first
    os.chmod(ctx / "src" / "app.py", 0o755)
    assert tags.context_digest(ctx, ctx / "Dockerfile") != second


def test_tags_hold_the_prefix_and_the_content_only() -> None:
    digest = "a" * 64
    tag = tags.image_tag(
        "prod-", context_digest=digest, target=None, args={}, platforms=["linux/amd64"]
    )
    assert tag.startswith("prod-") and len(tag) == len("prod-") + tags.HASH_LENGTH
    same = tags.image_tag(
        "prod-", context_digest=digest, target=None, args={}, platforms=["linux/amd64"] * 2
    )
    assert same == tag
    changed = [
        tags.image_tag("prod-", context_digest="b" * 64, target=None, args={}, platforms=["x"]),
        tags.image_tag("prod-", context_digest=digest, target="t", args={}, platforms=["x"]),
        tags.image_tag("prod-", context_digest=digest, target=None, args={"A": "1"}, platforms=[]),
        tags.image_tag("prod-", context_digest=digest, target=None, args={}, platforms=["x", "y"]),
    ]
    assert len({tag, *changed}) == 5
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert tags.commit_variable({"GIT_SHA": sha}) == "GIT_SHA"
    assert tags.commit_variable({"GITHUB_SHA": sha, "GIT_SHA": "ignored"}) == "GITHUB_SHA"
    assert tags.commit_variable({"GITHUB_SHA": ""}) is None
    assert tags.validate_commit(sha.upper()) == sha
    with pytest.raises(ValueError, match="7 to 40 hex"):
        tags.validate_commit("not-a-sha")
    for bad in ("Prod-", "dev", "-dev-", "x" * 40 + "-"):
        with pytest.raises(ValueError):
            tags.validate_deploy_prefix(bad)


@pytest.mark.parametrize("preset", sorted(lifecycle.PRESETS))
@pytest.mark.parametrize("prefix", ["dev-", "prod-"])
def test_pushed_tags_are_kept_by_the_protection_rule(preset: str, prefix: str) -> None:
    tag = tags.image_tag(
        prefix, context_digest="0" * 64, target=None, args={}, platforms=["linux/amd64"]
    )
    policy, _ = lifecycle.protect_deploy_prefix(lifecycle.preset_policy(preset), prefix, 10)
    # Rule 2 (rule 1 keeps the running markers, which no content tag starts with).
    assert not tag.startswith(policy["rules"][0]["selection"]["tagPrefixList"][0])
    second = policy["rules"][1]["selection"]
    assert all(tag.startswith(p) for p in second["tagPrefixList"])
    assert lifecycle.deployed_image_expiring_rule(policy, tag, prefix=prefix) is None


def test_hand_command_reproduces_the_build() -> None:
    cmd = command.docker_build_command(
        platform="linux/arm64",
        image_ref="h/r:dev-1",
        context="app dir",
        dockerfile="app dir/Dockerfile",
        target="runtime",
        build_args={"B": "x y", "A": "1"},
        cache_from=["h/r:cache"],
    )
    build, push = cmd.split(" && ")
    assert shlex.split(build) == [
        "docker",
        "build",
        "--platform",
        "linux/arm64",
        "--target",
        "runtime",
        "--build-arg",
        "A=1",
        "--build-arg",
        "B=x y",
        "--cache-from",
        "h/r:cache",
        "-t",
        "h/r:dev-1",
        "-f",
        "app dir/Dockerfile",
        "app dir",
    ]
    assert shlex.split(push) == ["docker", "push", "h/r:dev-1"]


def test_prebuilt_images_need_a_digest() -> None:
    digest = "sha256:" + "c" * 64
    ref = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/dev/api:v1@{digest}"
    assert (
        prebuilt.validate_prebuilt_image(ref)
        == f"123456789012.dkr.ecr.us-east-1.amazonaws.com/dev/api@{digest}"
    )
    with pytest.raises(ValueError, match="immutable digest"):
        prebuilt.validate_prebuilt_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/dev/api:v1")
    with pytest.raises(ValueError, match="invalid checksum digest format"):
        prebuilt.validate_prebuilt_image("x.io/a@sha256:" + "C" * 64)
    with pytest.raises(ValueError, match="only sha256"):
        prebuilt.validate_prebuilt_image("x.io/a@sha512:" + "c" * 128)
