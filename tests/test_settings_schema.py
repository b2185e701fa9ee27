"""What the key declarations generate is committed and current; the JSON Schema takes the stack
files the tests render and refuses known-bad ones; the declarations agree with the rules layer."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from rules import lifecycle
from rules.registry import pull_through
from settings import generate
from settings.keys import CACHE_RULE, ROOT, walk
from settings.keys.services import PRESETS
from settings.reference import REFERENCE_PATH
from settings.schema import SCHEMA_PATH
from settings.source import project_defaults

ROOT_DIR = Path(__file__).resolve().parent.parent
PROJECT = yaml.safe_load((ROOT_DIR / "Pulumi.yaml").read_text())
SCHEMA = json.loads((ROOT_DIR / SCHEMA_PATH).read_text())
# The tests' own stack files and the examples the docs show, never the project's (users edit those).
STACK_FILES = sorted(
    [
        *(ROOT_DIR / "tests" / "stacks").glob("Pulumi.*.yaml"),
        *(ROOT_DIR / "tests" / "previous").glob("*/Pulumi.*.yaml"),
        *(ROOT_DIR / "examples").glob("*/Pulumi.*.yaml"),
    ]
)


def test_project_file_runs_python_with_pip_in_venv() -> None:
    assert PROJECT["name"] == "ecr-fargate"
    assert PROJECT["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": "venv"},
    }


@pytest.mark.parametrize("path", ["Pulumi.yaml", REFERENCE_PATH, SCHEMA_PATH])
def test_generated_file_is_current(path: str) -> None:
    """Edit settings/keys/ and run `python -m settings.generate --write`: this fails until then."""
    expected = generate.outputs(ROOT_DIR)[ROOT_DIR / path]
    assert (ROOT_DIR / path).read_text(encoding="utf-8") == expected


def test_check_mode_names_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for path, text in generate.outputs(ROOT_DIR).items():
        target = tmp_path / path.relative_to(ROOT_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    assert generate.stale(tmp_path) == []
    (tmp_path / REFERENCE_PATH).write_text("# hand-edited\n", encoding="utf-8")
    assert generate.stale(tmp_path) == [tmp_path / REFERENCE_PATH]


def test_project_config_block_declares_every_top_level_key() -> None:
    declared = PROJECT["config"]
    assert list(declared) == list(ROOT.names)
    assert declared["environment"] == {
        "type": "string",
        "description": ROOT["environment"].description,
        "default": "dev",
    }
    assert declared["deployProtectionCount"]["default"] == 10
    assert declared["services"]["value"] == [] and "type" not in declared["services"]
    assert declared["pullThroughCredentials"]["secret"] is True
    assert "value" not in declared["pullThroughCredentials"]


def test_project_defaults_are_read_like_the_cli() -> None:
    defaults = project_defaults(ROOT_DIR)
    assert defaults["environment"] == "dev"
    assert defaults["deployProtectionCount"] == 10
    assert defaults["services"] == []
    assert "pullThroughCredentials" not in defaults


def test_the_reference_lists_every_key_path() -> None:
    page = (ROOT_DIR / REFERENCE_PATH).read_text()
    for path, _ in walk(ROOT):
        assert f"| `{path}` |" in page, path
    assert "| `services[].run.scaling.scheduled[].timezone` |" in page
    assert "| `loadBalancer.accessLogs.bucket` |" in page


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: str(p.relative_to(ROOT_DIR)))
def test_the_schema_takes_the_stack_files(path: Path) -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    jsonschema.validate(yaml.safe_load(path.read_text()), SCHEMA)


def fixture(stack: str = "prod") -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(
        (ROOT_DIR / "tests/stacks" / f"Pulumi.{stack}.yaml").read_text()
    )
    return copy.deepcopy(doc)


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    node: Any = doc["config"]
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


BAD = [
    (("ecr-fargate:tagMutabilty",), "MUTABLE"),
    (("ecr-fargate:environment",), "staging"),
    (("ecr-fargate:services", 0, "run", "cpu"), True),
    (("ecr-fargate:services", 0, "run", "kind"), "daemon"),
    (("ecr-fargate:services", 0, "run", "stopTimeout"), 1),
    (("ecr-fargate:services", 0, "run", "tagMutability"), "MUTABLE"),
    (("ecr-fargate:services", 0, "name"), "Api"),
    (("ecr-fargate:network", "subnetIds", 0), "subnet-xyz"),
    (("ecr-fargate:registry", "tagMutability"), "FROZEN"),
    (("ecr-fargate:deployProtectionCount",), 0),
    (("ecr-fargate:services",), {"api": {}}),
    (("aws:region",), "Mars"),
]


@pytest.mark.parametrize(("path", "value"), BAD, ids=[".".join(map(str, p)) for p, _ in BAD])
def test_the_schema_refuses_known_bad_values(path: tuple[Any, ...], value: Any) -> None:
    doc = _set(fixture(), path, value)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)


def test_a_secret_may_be_ciphertext() -> None:
    doc = fixture()
    doc["config"]["ecr-fargate:pullThroughCredentials"] = {"secure": "v1:AAAA"}
    jsonschema.validate(doc, SCHEMA)
    doc["config"]["ecr-fargate:pullThroughCredentials"] = {
        "docker-hub": {"username": "robot", "accessToken": "plain"}
    }
    jsonschema.validate(doc, SCHEMA)


def test_other_namespaces_pass() -> None:
    doc = fixture()
    doc["config"]["aws:profile"] = "admin"
    jsonschema.validate(doc, SCHEMA)


def test_the_declarations_agree_with_the_rules_layer() -> None:
    """Keys the rules layer validates itself are declared with the same names and choices."""
    assert CACHE_RULE.names == pull_through.RULE_KEYS
    assert set(CACHE_RULE["upstream"].choices or ()) == set(pull_through.UPSTREAMS)
    assert set(PRESETS) == set(lifecycle.PRESETS)
