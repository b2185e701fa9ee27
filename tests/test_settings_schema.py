"""Pulumi.yaml's config block, the settings schema and the configuration reference agree."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from settings.schema import KEYS
from settings.source import project_defaults

ROOT = Path(__file__).resolve().parent.parent
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())


def test_project_file_runs_python_with_pip_in_venv() -> None:
    assert PROJECT["name"] == "ecr-fargate"
    assert PROJECT["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": "venv"},
    }


def test_every_key_is_declared_with_description_and_default() -> None:
    declared = PROJECT["config"]
    assert sorted(declared) == sorted(k.name for k in KEYS)
    for key in KEYS:
        decl = declared[key.name]
        assert decl["description"] == key.description, key.name
        if key.type in ("string", "integer", "boolean"):
            assert decl["type"] == key.type
            assert decl.get("default") == key.default
        elif key.secret:
            assert decl["secret"] is True
            assert "value" not in decl and "default" not in decl
        else:
            # Pulumi's schema has no object type: the project-wide value is the default.
            assert "type" not in decl
            assert decl["value"] == key.default


def test_configuration_reference_lists_every_key() -> None:
    reference = (ROOT / "docs" / "reference" / "configuration.md").read_text()
    rows = set(re.findall(r"^\| `([A-Za-z:]+)` \|", reference, flags=re.M))
    for key in KEYS:
        assert key.name in rows, key.name


def test_stack_files_only_use_known_keys() -> None:
    known = {f"ecr-fargate:{k.name}" for k in KEYS} | {"aws:region"}
    for stack in ("dev", "prod"):
        doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
        assert set(doc["config"]) <= known, stack


def test_project_defaults_are_read_like_the_cli() -> None:
    defaults = project_defaults(ROOT)
    assert defaults["environment"] == "dev"
    assert defaults["deployProtectionCount"] == 10
    assert defaults["services"] == []
    assert "pullThroughCredentials" not in defaults
