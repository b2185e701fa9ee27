"""Every declared key does something: its example value changes the rendered resources or outputs.

The table walks settings/keys: for each key, the fixture stack is rendered with and without the
key's `example` (plus, where a key only applies beside another, the same companions in both), and
the two renders must differ. A key that cannot change the render must say so in its declaration
(`no_op`) and warn when set. Object-valued keys are proven through their members.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import shutil
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import settings as stack_settings
from cli import bootstrap
from plan import engine
from plan.engine import Rendered
from settings.keys import ROOT, UNSET, Key, walk
from settings.source import PROJECT_DIR, RawConfig, from_files
from tests.conftest import GIT_ENV, STACKS


@dataclass(frozen=True)
class Case:
    """Where a key's example goes: `at` is the concrete path of the key's object."""

    stack: str
    at: str
    given: dict[str, Any] = field(default_factory=dict)  # set in both renders
    also: dict[str, Any] = field(default_factory=dict)  # set with the example only
    unset: tuple[str, ...] = ()  # removed with the example only
    example: Any = UNSET  # instead of the declared one (a path that exists only in the test)
    preview: bool = False
    legacy: bool = False  # the old `fargate` form: services without run, no network
    project: bool = False  # a copy of the project with a second build context


# The object of each section in a fixture stack (services[0] is dev's web service `api`).
SECTIONS: dict[str, Case] = {
    "": Case("prod", ""),
    "registry": Case("dev", "registry"),
    "network": Case("dev", "network"),
    "loadBalancer": Case("dev", "loadBalancer"),
    "loadBalancer.accessLogs": Case("prod", "loadBalancer.accessLogs"),
    "github": Case("dev", "github"),
    "pullThroughCache[]": Case("prod", "pullThroughCache[0]"),
    "pullThroughCredentials.<name>": Case("prod", 'pullThroughCredentials["docker-hub"]'),
    "services[]": Case("dev", "services[0]"),
    "services[].build": Case("dev", "services[0].build"),
    "services[].lifecycle": Case("dev", "services[0].lifecycle"),
    "services[].run": Case("dev", "services[0].run"),
    "services[].run.scaling": Case("dev", "services[0].run.scaling"),
    "services[].run.scaling.scheduled[]": Case("prod", "services[1].run.scaling.scheduled[1]"),
    "services[].run.alarms": Case("dev", "services[0].run.alarms"),
    "services[].run.deployment": Case("dev", "services[0].run.deployment"),
    "services[].run.migrate": Case("prod", "services[0].run.migrate"),
    "fargate": Case("dev", "fargate", given={"fargate.service": "api"}, legacy=True),
    # The account owner (prod) only: registry-wide templates and replication.
    "registry.createOnPush[]": Case(
        "prod",
        "registry.createOnPush[0]",
        given={"registry.createOnPush": [{"prefix": "team-apps"}]},
    ),
    "registry.createOnPush[].lifecycle": Case(
        "prod",
        "registry.createOnPush[0].lifecycle",
        given={"registry.createOnPush": [{"prefix": "team-apps", "lifecycle": {}}]},
    ),
    "registry.replication[]": Case(
        "prod",
        "registry.replication[0]",
        given={"registry.replication": [{"region": "eu-west-1", "prefixes": ["prod"]}]},
    ),
}
CREDENTIAL_ARN = (
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/fixture-AbCdEf"
)
ECR = {
    "pullThroughCache[3]": {"upstream": "ecr", "accountId": "111111111111", "region": "us-west-2"}
}
WORKER = Case("dev", "services[1].run")
DOCKER_HUB = {
    "pullThroughCache[3]": {"upstream": "docker-hub"},
    'pullThroughCredentials["docker-hub"]': {"username": "fixture", "accessToken": "fixture"},
}
# Keys whose example needs a place or a companion other than their section's.
KEYS: dict[str, Case] = {
    # prod's api migrates, which needs a strategy other than dev's default rolling.
    "environment": Case("prod", "", given={"services[0].run.deployment.strategy": "canary"}),
    "services[].run.deployment.bakeMinutes": Case(
        "dev", "services[0].run.deployment", given={"services[0].run.deployment.strategy": "canary"}
    ),
    "services[].run.deployment.canaryPercent": Case(
        "dev", "services[0].run.deployment", given={"services[0].run.deployment.strategy": "canary"}
    ),
    "services[].run.deployment.canaryBakeMinutes": Case(
        "dev", "services[0].run.deployment", given={"services[0].run.deployment.strategy": "canary"}
    ),
    "services[].run.deployment.stepPercent": Case(
        "dev", "services[0].run.deployment", given={"services[0].run.deployment.strategy": "linear"}
    ),
    "services[].run.deployment.stepBakeMinutes": Case(
        "dev", "services[0].run.deployment", given={"services[0].run.deployment.strategy": "linear"}
    ),
    "accountOwner": Case("dev", ""),
    # dev's fixture keeps the default `stack` (prod's says `bootstrap`).
    "permissionsBoundary": Case("dev", ""),
    "registry.rootCreationTemplate": Case("prod", "registry"),
    "buildOnPreview": Case("prod", "", preview=True),
    "registry.tagMutabilityExclusions": Case(
        "dev",
        "registry",
        given={
            "registry.tagMutability": "IMMUTABLE_WITH_EXCLUSION",
            "registry.tagMutabilityExclusions": ["nightly"],
        },
    ),
    "registry.kmsKeyArn": Case("dev", "registry", given={"registry.encryption": "KMS"}),
    "network.assignPublicIp": Case("dev", "network", given={"network.assignPublicIp": False}),
    "loadBalancer.sslPolicy": Case(
        "prod", "loadBalancer", given={"loadBalancer.certificateArn": None}
    ),
    "loadBalancer.certificateArn": Case("prod", "loadBalancer"),
    "loadBalancer.domain": Case("prod", "loadBalancer", example="www.fixture.example"),
    "loadBalancer.hostedZoneId": Case("prod", "loadBalancer"),
    "github.prodEnvironment": Case("prod", "github"),
    "github.ownerId": Case("dev", "github", also={"github.repositoryId": 2002}),
    "github.repositoryId": Case(
        "dev", "github", given={"github.ownerId": 1001, "github.repositoryId": 2002}, example=3003
    ),
    "pullThroughCache[].upstream": Case(
        "prod",
        "pullThroughCache[3]",
        given={"pullThroughCache[3]": {"upstream": "ecr-public", "prefix": "mirror"}},
        example="quay",
    ),
    "pullThroughCache[].azureRegistryName": Case(
        "prod",
        "pullThroughCache[3]",
        given={
            "pullThroughCache[3]": {
                "upstream": "azure-container-registry",
                "azureRegistryName": "fixture",
                "credentialArn": CREDENTIAL_ARN,
            }
        },
    ),
    "pullThroughCache[].accountId": Case("prod", "pullThroughCache[3]", given=ECR),
    "pullThroughCache[].region": Case("prod", "pullThroughCache[3]", given=ECR),
    "pullThroughCache[].upstreamRepositoryPrefix": Case("prod", "pullThroughCache[3]", given=ECR),
    "pullThroughCache[].customRoleArn": Case("prod", "pullThroughCache[3]", given=ECR),
    "pullThroughCache[].credentialArn": Case("prod", "pullThroughCache[3]", given=DOCKER_HUB),
    "pullThroughCredentials.<name>.username": Case(
        "prod", 'pullThroughCredentials["docker-hub"]', given=DOCKER_HUB
    ),
    "pullThroughCredentials.<name>.accessToken": Case(
        "prod", 'pullThroughCredentials["docker-hub"]', given=DOCKER_HUB
    ),
    "services[].image": Case("dev", "services[0]", unset=("services[0].build",)),
    "services[].build.context": Case("dev", "services[0].build", example="app2", project=True),
    "services[].build.dockerfile": Case(
        "dev",
        "services[0].build",
        given={"services[0].build.context": "app2"},
        example="Dockerfile.alt",
        project=True,
    ),
    "services[].build.extraTags": Case("dev", "services[0].build"),
    "services[].run.kind": replace(WORKER, also={"services[1].run.port": 9000}),
    "services[].run.schedule": Case("prod", "services[2].run"),
    "services[].run.cpu": Case("dev", "services[0].run", given={"services[0].run.memory": 1024}),
    "services[].run.containerCpu": WORKER,
    "services[].run.containerMemory": WORKER,
    "services[].run.desiredCount": WORKER,
    "services[].run.architecture": replace(
        WORKER,
        given={"services[1].build.platforms": ["linux/amd64", "linux/arm64"]},
        example="ARM64",
    ),
    "services[].run.assignPublicIp": Case("dev", "services[0].run"),
    "fargate.cpu": replace(
        SECTIONS["fargate"], given={"fargate.service": "api", "fargate.memory": 1024}
    ),
    "fargate.architecture": replace(
        SECTIONS["fargate"],
        given={
            "fargate.service": "api",
            "services[0].build.platforms": ["linux/amd64", "linux/arm64"],
        },
    ),
}


def case_for(path: str, key: Key) -> Case:
    if path in KEYS:
        return KEYS[path]
    section = path.rsplit(".", 1)[0] if "." in path else ""
    return SECTIONS[section]


def leaves() -> list[tuple[str, Key]]:
    """Every key that holds a value (an object is proven through its members)."""
    return [(p, k) for p, k in walk(ROOT) if k.keys is None]


STEP = re.compile(r'\[(\d+)\]|\["([^"]+)"\]|\.?([A-Za-z0-9_:-]+)')


def steps(path: str) -> list[str | int]:
    out: list[str | int] = []
    for index, quoted, name in STEP.findall(path):
        out.append(int(index) if index else quoted or name)
    return out


def put(values: dict[str, Any], path: str, value: Any) -> None:
    node: Any = values
    parts = steps(path)
    for step, after in itertools.pairwise(parts):
        if isinstance(step, int):
            while len(node) <= step:
                node.append({})
            node = node[step]
        else:
            node = node.setdefault(step, [] if isinstance(after, int) else {})
    if isinstance(parts[-1], int):
        while len(node) <= parts[-1]:
            node.append({})
    if value is None:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = copy.deepcopy(value)


@cache
def project_copy() -> Path:
    """A project with a second build context (`app2`) and a second Dockerfile in it."""
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="every-key-"))
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", root / "Pulumi.yaml")
    for name in ("app", "app2"):
        shutil.copytree(PROJECT_DIR / "app", root / name)
    (root / "app2" / "extra.txt").write_text("a second context\n")
    dockerfile = (root / "app2" / "Dockerfile").read_text()
    (root / "app2" / "Dockerfile.alt").write_text(dockerfile + "# another Dockerfile\n")
    return root


def raw_for(case: Case) -> RawConfig:
    project = project_copy() if case.project else PROJECT_DIR
    raw = from_files(case.stack, stack_dir=STACKS, project_dir=project)
    values = copy.deepcopy(dict(raw.values))
    if case.legacy:
        values["services"] = [
            {k: v for k, v in s.items() if k != "run"} for s in values["services"]
        ]
        values["network"] = {}
    for path, value in case.given.items():
        put(values, path, value)
    secret = frozenset({"pullThroughCredentials"})
    return replace(raw, values=values, secret_keys=raw.secret_keys | secret)


def fingerprint(raw: RawConfig, rendered: Rendered) -> str:
    """The rendered resources and outputs, and the CI bootstrap template of the same settings
    (the GitHub keys shape its roles' trust: the one-time bootstrap creates those roles)."""
    resources = sorted([r.type, r.name, r.inputs] for r in rendered.resources)
    template = bootstrap.template([stack_settings.load(raw, env=GIT_ENV)])
    return json.dumps([resources, rendered.outputs, template], sort_keys=True, default=str)


BASELINES: dict[str, tuple[str, tuple[str, ...]]] = {}


def baseline(case: Case) -> tuple[str, tuple[str, ...]]:
    """The render without the example, once per place (`Case` holds dicts: keyed by its repr)."""
    held = repr((case.stack, case.given, case.preview, case.legacy, case.project))
    if held not in BASELINES:
        raw = raw_for(case)
        rendered = engine.render(raw, env=GIT_ENV, preview=case.preview)
        BASELINES[held] = fingerprint(raw, rendered), tuple(rendered.warnings)
    return BASELINES[held]


@pytest.mark.parametrize(("path", "key"), leaves(), ids=[p for p, _ in leaves()])
def test_every_key_changes_the_render(path: str, key: Key) -> None:
    case = case_for(path, key)
    example = key.example if case.example is UNSET else case.example
    assert example is not UNSET, f"{path}: declare an example value (or a no_op reason)"
    before, warnings = baseline(case)
    raw = raw_for(case)
    values = copy.deepcopy(dict(raw.values))
    name = path.rsplit(".", 1)[-1]
    put(values, f"{case.at}.{name}" if case.at else name, example)
    for extra, value in case.also.items():
        put(values, extra, value)
    for gone in case.unset:
        put(values, gone, None)
    raw = replace(raw, values=values)
    after = engine.render(raw, env=GIT_ENV, preview=case.preview)
    if key.no_op is not None:
        assert fingerprint(raw, after) == before, (
            f"{path} is declared a no-op but changes the render"
        )
        assert set(after.warnings) - set(warnings), f"{path}: a no-op key must warn when set"
    else:
        assert fingerprint(raw, after) != before, f"{path}: {example!r} changes nothing"
