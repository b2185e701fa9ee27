"""Content-addressed tags: the files Docker sends, the two-commit render, platforms, CI digests."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plan.engine import ACCOUNT_ID, Rendered, raw_stack_config
from rules.build import dockerignore, tags
from settings import ConfigErrors, load
from tests.conftest import GIT_ENV, STACKS, render_stack

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "docker:index/image:Image"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
HOST = f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com"
OTHER_COMMIT = {"GITHUB_SHA": "fedcba9876543210fedcba9876543210fedcba98"}
WEB = {"kind": "web", "port": 8080}
DIGEST = "sha256:" + "ab" * 32


def write_tree(root: Path, files: dict[str, bytes], order: list[str]) -> None:
    for name in order:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[name])


def sent(root: Path, ignore: str) -> list[str]:
    return sorted(
        e.path for e in dockerignore.sent_entries(root, dockerignore.read_patterns(ignore))
    )


# Names that cannot be both a file and a directory: `a`..`c` are files, `d`/`e` directories.
NAMES = st.lists(
    st.sampled_from(["a", "b", "c", "d/a", "d/b", "d/e/a", "e/c", "e/x.log", "x.log"]),
    min_size=1,
    unique=True,
)
TREES = NAMES.flatmap(
    lambda names: st.tuples(
        st.fixed_dictionaries({n: st.binary(max_size=8) for n in names}), st.permutations(names)
    )
)


@settings(max_examples=40, deadline=None)
@given(TREES)
def test_the_digest_ignores_listing_order_and_checkout_path(tree: Any) -> None:
    files, order = tree
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        a, b = Path(one) / "ctx", Path(two) / "deeper" / "ctx"
        write_tree(a, {**files, "Dockerfile": b"FROM scratch\n"}, [*files, "Dockerfile"])
        write_tree(b, {**files, "Dockerfile": b"FROM scratch\n"}, ["Dockerfile", *order])
        first = tags.context_digest(a, a / "Dockerfile")
        listing = os.scandir
        try:  # the file system's listing order is whatever it is: reverse it
            dockerignore.os.scandir = lambda p: _Reversed(listing(p))  # type: ignore[assignment,misc]
            assert tags.context_digest(b, b / "Dockerfile") == first
        finally:
            dockerignore.os.scandir = listing  # type: ignore[misc]


class _Reversed:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __enter__(self) -> list[Any]:
        return list(reversed(list(self.inner.__enter__())))

    def __exit__(self, *exc: object) -> None:
        self.inner.__exit__(*exc)


@settings(max_examples=40, deadline=None)
@given(TREES, st.data())
def test_a_sent_file_changes_the_digest_and_an_ignored_one_does_not(tree: Any, data: Any) -> None:
    files, _ = tree
    with tempfile.TemporaryDirectory() as tmp:
        ctx = Path(tmp)
        write_tree(ctx, {**files, "Dockerfile": b"FROM scratch\n"}, [*files, "Dockerfile"])
        (ctx / ".dockerignore").write_text("*.log\n**/*.log\n")
        before = tags.context_digest(ctx, ctx / "Dockerfile")
        name = data.draw(st.sampled_from(sorted(files)))
        (ctx / name).write_bytes(files[name] + b"!")
        after = tags.context_digest(ctx, ctx / "Dockerfile")
        assert (after == before) == name.endswith(".log")


def test_file_kinds_count_as_git_records_them(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "run.sh").write_text("echo\n")
    os.chmod(tmp_path / "run.sh", 0o644)
    base = tags.context_digest(tmp_path, tmp_path / "Dockerfile")
    os.chmod(tmp_path / "run.sh", 0o664)  # group write follows the umask: not counted
    assert tags.context_digest(tmp_path, tmp_path / "Dockerfile") == base
    os.chmod(tmp_path / "run.sh", 0o744)  # the executable bit is in git: counted
    executable = tags.context_digest(tmp_path, tmp_path / "Dockerfile")
    assert executable != base
    (tmp_path / "link").symlink_to("run.sh")  # sent as a link, by its target text
    linked = tags.context_digest(tmp_path, tmp_path / "Dockerfile")
    (tmp_path / "link").unlink()
    (tmp_path / "link").symlink_to("./run.sh")
    assert len({executable, linked, tags.context_digest(tmp_path, tmp_path / "Dockerfile")}) == 3
    (tmp_path / "empty").mkdir()  # Docker sends empty directories too
    assert tags.context_digest(tmp_path, tmp_path / "Dockerfile") != linked


@pytest.mark.parametrize(
    ("ignore", "expected"),
    [
        ("*.md\n", ["Dockerfile", "docs", "docs/x.md", "src", "src/b.py", "src/c.md"]),
        ("**/*.md\n!docs/x.md\n", ["Dockerfile", "docs", "docs/x.md", "src", "src/b.py"]),
        (
            "# a comment\n  # indented: a pattern\n/src\n",
            ["Dockerfile", "a.md", "docs", "docs/x.md"],
        ),
        ("*\n!src/b.py\n", ["src", "src/b.py"]),  # the parent of a re-included file is sent
        ("src\n!**/b.py\n", ["Dockerfile", "a.md", "docs", "docs/x.md", "src", "src/b.py"]),
        ("\ufeffsrc/*.py\n docs \n", ["Dockerfile", "a.md", "src", "src/c.md"]),
        ("src/../a.md\nsrc/./b.py\n", ["Dockerfile", "docs", "docs/x.md", "src", "src/c.md"]),
        ("?.md\n[d]ocs\n", ["Dockerfile", "src", "src/b.py", "src/c.md"]),
        ("**\n!Dockerfile\n", ["Dockerfile"]),
    ],
)
def test_the_context_is_what_docker_sends(tmp_path: Path, ignore: str, expected: list[str]) -> None:
    write_tree(
        tmp_path,
        {n: b"x" for n in ("a.md", "src/b.py", "src/c.md", "docs/x.md", "Dockerfile")},
        ["a.md", "src/b.py", "src/c.md", "docs/x.md", "Dockerfile"],
    )
    assert sent(tmp_path, ignore) == expected


def test_an_exception_without_wildcards_opens_only_the_directories_it_names(tmp_path: Path) -> None:
    """BuildKit walks an excluded directory only if a plain exception names something in it
    (moby/moby#30018): `!docs/x.md` cannot re-include `src/...`, and a wildcard one can."""
    write_tree(tmp_path, {"src/k.txt": b"", "docs/x.md": b""}, ["src/k.txt", "docs/x.md"])
    assert sent(tmp_path, "src\ndocs\n!docs/x.md\n") == ["docs", "docs/x.md"]
    assert sent(tmp_path, "src\ndocs\n!*/k.txt\n") == ["src", "src/k.txt"]


def test_a_dockerfile_of_its_own_has_its_own_ignore_file(tmp_path: Path) -> None:
    write_tree(
        tmp_path, {"a.md": b"", "Prod.Dockerfile": b"FROM scratch\n"}, ["a.md", "Prod.Dockerfile"]
    )
    (tmp_path / ".dockerignore").write_text("*.md\n")
    assert (
        dockerignore.ignore_file(tmp_path, tmp_path / "Prod.Dockerfile")
        == tmp_path / ".dockerignore"
    )
    (tmp_path / "Prod.Dockerfile.dockerignore").write_text("Prod.*\n")
    own = dockerignore.ignore_file(tmp_path, tmp_path / "Prod.Dockerfile")
    assert own == tmp_path / "Prod.Dockerfile.dockerignore"


@pytest.mark.parametrize(
    ("ignore", "fragment"),
    [
        ("ok\n!\n", "line 2: '!' alone"),
        ("a[\n", "line 1: 'a['"),
        ("[]a]\n", "character class"),
        ("x\\\n", "trailing backslash"),
        ("[[:alpha:]]\n", "POSIX"),
    ],
)
def test_patterns_docker_refuses_are_refused(ignore: str, fragment: str) -> None:
    with pytest.raises(dockerignore.IgnoreFileError, match=None) as info:
        dockerignore.read_patterns(ignore)
    assert fragment in str(info.value) and "\n" not in str(info.value)


# --- whole stacks -------------------------------------------------------------------------------


def inputs_of(r: Rendered, *types: str) -> dict[str, str]:
    """Each resource's inputs as canonical JSON, by type and name."""
    return {
        f"{res.type}::{res.name}": json.dumps(res.inputs, sort_keys=True)
        for res in r.resources
        if not types or res.type in types
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_two_commits_with_the_same_build_inputs_render_the_same_resources(stack: str) -> None:
    one = render_stack(stack, env=GIT_ENV)
    two = render_stack(stack, env=OTHER_COMMIT)
    images, tasks = inputs_of(one, IMAGE), inputs_of(one, TASK)
    assert images and tasks
    assert inputs_of(two, IMAGE) == images
    assert inputs_of(two, TASK) == tasks
    assert inputs_of(two) == inputs_of(one)  # no resource at all changes
    for service, source in one.outputs["imageSources"].items():
        again = two.outputs["imageSources"][service]
        assert source["commit"] == GIT_ENV["GITHUB_SHA"]
        assert again["commit"] == OTHER_COMMIT["GITHUB_SHA"]
        assert source["tag"] == again["tag"]
        assert one.outputs["containerImageRefs"][service].endswith(":" + source["tag"])


def test_two_commits_with_the_same_ci_digests_render_the_same_resources() -> None:
    handed = {"ECR_FARGATE_IMAGE_DIGESTS": json.dumps({"api": DIGEST, "worker": DIGEST})}
    one = render_stack("prod", env={**GIT_ENV, **handed})
    two = render_stack("prod", env={**OTHER_COMMIT, **handed})
    assert {i.name for i in one.of_type(IMAGE)}.isdisjoint({"image-api", "image-worker"})
    (container,) = json.loads(one.named("api-task-definition").inputs["containerDefinitions"])
    assert container["image"] == f"{HOST}/prod/api@{DIGEST}"
    assert inputs_of(two) == inputs_of(one)


def with_project(tmp: Path) -> Path:
    """A project directory of its own (two contexts), so a test can edit build inputs."""
    shutil.copy(ROOT / "Pulumi.yaml", tmp / "Pulumi.yaml")
    for name in ("ctx-api", "ctx-worker"):
        shutil.copytree(ROOT / "app", tmp / name)
    return tmp


def two_services(api_args: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "services": [
            {"name": "api", "build": {"context": "ctx-api", "args": api_args or {}}, "run": WEB},
            {"name": "worker", "build": {"context": "ctx-worker"}, "run": {"kind": "worker"}},
        ]
    }


@pytest.mark.parametrize("change", ["file", "arg"])
def test_a_changed_build_input_changes_only_its_service(tmp_path: Path, change: str) -> None:
    project = with_project(tmp_path)
    before = render_stack("dev", env=GIT_ENV, project_dir=project, overrides=two_services())
    if change == "file":
        with (project / "ctx-api" / "server.py").open("a") as f:
            f.write("\n# changed\n")
        overrides = two_services()
    else:
        overrides = two_services({"RELEASE": "2"})
    after = render_stack("dev", env=OTHER_COMMIT, project_dir=project, overrides=overrides)
    old, new = inputs_of(before, IMAGE, TASK), inputs_of(after, IMAGE, TASK)
    changed = {k for k in old if old[k] != new[k]}
    assert changed == {f"{IMAGE}::image-api", f"{TASK}::api-task-definition"}
    assert (
        before.outputs["imageSources"]["api"]["tag"] != after.outputs["imageSources"]["api"]["tag"]
    )


# --- bad input: one line each, naming the key ---------------------------------------------------


def refused(env: dict[str, str], overrides: dict[str, Any] | None = None) -> list[str]:
    with pytest.raises(ConfigErrors) as info:
        render_stack("dev", env=env, overrides=overrides)
    return str(info.value).splitlines()


@pytest.mark.parametrize(
    ("value", "key", "fragment"),
    [
        ("{not json", "ECR_FARGATE_IMAGE_DIGESTS'", "is not JSON"),
        ('["sha256:00"]', "ECR_FARGATE_IMAGE_DIGESTS'", "a JSON list, not an object"),
        (json.dumps({"nope": DIGEST}), "ECR_FARGATE_IMAGE_DIGESTS[nope]'", "no such service"),
        ('{"api": "sha256:ABC"}', "ECR_FARGATE_IMAGE_DIGESTS[api]'", "64 lowercase hex"),
        ('{"api": 7}', "ECR_FARGATE_IMAGE_DIGESTS[api]'", "7 is not allowed"),
        ('{"a\\nb": 1}', 'ECR_FARGATE_IMAGE_DIGESTS["a\\nb"]\'', "no such service"),
    ],
)
def test_bad_image_digests_are_refused_at_their_member(value: str, key: str, fragment: str) -> None:
    (line,) = refused({**GIT_ENV, "ECR_FARGATE_IMAGE_DIGESTS": value})
    assert f"config 'env:{key}" in line and fragment in line


def test_a_digest_for_a_service_without_a_build_is_refused() -> None:
    prebuilt = f"{HOST}/dev/api@{DIGEST}"
    services = [{"name": "api", "image": prebuilt, "run": WEB}, {"name": "worker"}]
    env = {"ECR_FARGATE_IMAGE_DIGESTS": json.dumps({"api": DIGEST, "worker": DIGEST})}
    lines = refused(env, {"services": services})
    assert len(lines) == 2
    assert all("only a service with a build section" in line for line in lines)


def test_a_bad_commit_is_refused_at_its_variable() -> None:
    (line,) = refused({"GIT_SHA": "main"})
    assert line.startswith("config 'env:GIT_SHA': 'main' is not allowed")


@pytest.mark.parametrize(
    ("service", "key", "fragment"),
    [
        (
            {"build": {"context": "app", "platforms": ["linux/s390x"]}},
            "services[0].build.platforms[0]'",
            "Fargate runs",
        ),
        (
            {"build": {"context": "app", "platforms": []}},
            "services[0].build.platforms'",
            "non-empty list",
        ),
        (
            {"build": {"context": "app", "platforms": "linux/amd64"}},
            "services[0].build.platforms'",
            "non-empty list",
        ),
        (
            {"build": {"context": "app", "platforms": ["linux/arm64", "linux/arm64/v8"]}},
            "services[0].build.platforms[1]'",
            "listed twice",
        ),
        (
            {"build": {"context": "app", "platforms": [3]}},
            "services[0].build.platforms[0]'",
            "expected a string",
        ),
        (
            {"build": {"context": "app", "platforms": ["linux/arm64"]}, "platform": "linux/arm64"},
            "services[0].build.platforms'",
            "drop platform",
        ),
        (
            {
                "build": {"context": "app", "platforms": ["linux/amd64"]},
                "run": {**WEB, "architecture": "ARM64"},
            },
            "services[0].run.architecture'",
            "one of X86_64 ",
        ),
        (
            {"build": {"context": "app"}, "run": {**WEB, "architecture": "arm64"}},
            "services[0].run.architecture'",
            "one of X86_64 ",
        ),
    ],
)
def test_bad_platforms_are_refused_one_line_each(
    service: dict[str, Any], key: str, fragment: str
) -> None:
    lines = refused(GIT_ENV, {"services": [{"name": "api", "run": WEB, **service}]})
    assert len(lines) == 1, lines
    assert f"config 'ecr-fargate:{key}" in lines[0]
    assert fragment in lines[0]


def test_an_arm64_task_of_a_multi_platform_service_builds_arm64_locally() -> None:
    both = ["linux/amd64", "linux/arm64"]
    service = {"name": "api", "build": {"context": "app", "platforms": both}}
    amd = render_stack("dev", env=GIT_ENV, overrides={"services": [{**service, "run": WEB}]})
    arm = render_stack(
        "dev",
        env=GIT_ENV,
        overrides={"services": [{**service, "run": {**WEB, "architecture": "ARM64"}}]},
    )
    for r, plat, arch in ((amd, "linux/amd64", "X86_64"), (arm, "linux/arm64", "ARM64")):
        assert r.one(IMAGE).inputs["build"]["platform"] == plat
        runtime = r.named("api-task-definition").inputs["runtimePlatform"]
        assert runtime["cpuArchitecture"] == arch
    # The tag names what was built: one platform locally, never the index tag CI pushes.
    amd_tag = amd.outputs["imageSources"]["api"]["tag"]
    arm_tag = arm.outputs["imageSources"]["api"]["tag"]
    handed = render_stack(
        "dev",
        env={**GIT_ENV, "ECR_FARGATE_IMAGE_DIGESTS": json.dumps({"api": DIGEST})},
        overrides={"services": [{**service, "run": WEB}]},
    )
    index_tag = handed.outputs["imageSources"]["api"]["tag"]
    assert len({amd_tag, arm_tag, index_tag}) == 3
    assert handed.outputs["imageSources"]["api"]["source"] == "ci"
    assert handed.outputs["containerImageRefs"]["api"] == f"{HOST}/dev/api:{index_tag}"


def test_a_ci_digest_is_pulled_from_the_service_repository_only() -> None:
    r = render_stack(
        "dev", env={**GIT_ENV, "ECR_FARGATE_IMAGE_DIGESTS": json.dumps({"api": DIGEST})}
    )
    assert {i.name for i in r.of_type(IMAGE)} == {"image-worker"}
    assert r.outputs["containerImageDigests"]["api"] == f"{HOST}/dev/api@{DIGEST}"
    assert r.outputs["ecsImageDigests"]["api"] == f"{HOST}/dev/api@{DIGEST}"
    assert "api" not in r.outputs["dockerBuildCommands"]
    repository_arn = f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/dev/api"
    policies = [
        json.loads(p.inputs["policy"])
        for p in r.of_type("aws:iam/rolePolicy:RolePolicy")
        if "api" in p.name and "ecr:BatchGetImage" in p.inputs["policy"]
    ]
    assert policies
    for policy in policies:
        resources = {
            res
            for stmt in policy["Statement"]
            if "ecr:BatchGetImage" in stmt["Action"]
            for res in (
                [stmt["Resource"]] if isinstance(stmt["Resource"], str) else stmt["Resource"]
            )
        }
        assert resources == {repository_arn}


PLAIN = st.sampled_from(["a", "b", "d", "d/a", "d/e", "d/e/a", "e"])


@settings(max_examples=60, deadline=None)
@given(st.lists(PLAIN, max_size=4))
def test_plain_patterns_exclude_a_path_and_everything_below_it(patterns: list[str]) -> None:
    """Without wildcards or exceptions the rule is simple: an entry is sent unless a pattern
    names it or a directory above it."""
    files = ["a", "b", "d/a", "d/b", "d/e/a", "e/c"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_tree(root, dict.fromkeys(files, b""), files)
        every = {"a", "b", "d", "d/a", "d/b", "d/e", "d/e/a", "e", "e/c"}
        expected = {p for p in every if not any(p == q or p.startswith(q + "/") for q in patterns)}
        assert set(sent(root, "\n".join(patterns))) == expected


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=70),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=80, deadline=None)
@given(st.one_of(st.text(max_size=40), JSON_VALUES.map(json.dumps)))
def test_any_digests_value_is_taken_or_refused_in_lines(value: str) -> None:
    raw = raw_stack_config("dev", stack_dir=STACKS)
    try:
        loaded = load(raw, env={"ECR_FARGATE_IMAGE_DIGESTS": value})
    except ConfigErrors as exc:
        assert all(e.path.startswith("env:ECR_FARGATE_IMAGE_DIGESTS") for e in exc.errors)
        assert all("\n" not in str(e) for e in exc.errors)
    else:
        taken = {s.name: s.image.ci_digest for s in loaded.services if s.image is not None}
        assert set(json.loads(value) if value.strip() else {}) <= set(taken)
