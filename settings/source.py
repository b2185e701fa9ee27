"""Where raw config comes from: the Pulumi runtime, or the project and stack files read directly.

Reading the files the way the CLI does (project `config:` defaults and values first, then
`Pulumi.<stack>.yaml`) lets the tests, the offline plan and the lifecycle command use the same
settings as `pulumi up` without the CLI. Encrypted values cannot be read without the stack's secrets
provider; they become a placeholder that stays marked secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from settings.errors import PROJECT, one_line

PROJECT_DIR = Path(__file__).resolve().parent.parent
SECRET_PLACEHOLDER = "[secret]"
# libyaml's loader when PyYAML was built with it (same results, many times faster).
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StackFileError(ValueError):
    """A stack file that is missing or not a Pulumi stack file, said in one line naming the file."""


def read_stack_file(path: Path) -> dict[Any, Any]:
    """The stack file's `config:` mapping; `StackFileError` if it is missing, unreadable or malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StackFileError(
            f"{path.name}: no such stack file in {path.parent} (create the stack with "
            "`pulumi stack init`, or check the stack name)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StackFileError(one_line(f"{path.name}: cannot be read: {exc}")) from None
    try:
        doc = yaml.load(text, Loader=_LOADER) or {}
    except yaml.YAMLError as exc:
        raise StackFileError(
            one_line(f"{path.name}: not valid YAML: {_yaml_problem(exc)}")
        ) from None
    config = doc.get("config") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or not isinstance(config or {}, dict):
        raise StackFileError(f"{path.name}: expected a mapping with a `config:` mapping inside")
    return config or {}


@dataclass(frozen=True)
class RawConfig:
    """Decoded config values: project keys without their namespace, other keys (`aws:region`) with it."""

    stack: str
    values: Mapping[str, Any]
    secret_keys: frozenset[str] = field(default_factory=frozenset)
    project_dir: Path = PROJECT_DIR
    # Where `Pulumi.<stack>.yaml` files live: the project directory, except for the tests' own
    # fixture stacks. The account owner's stack file is looked up here too.
    stack_dir: Path | None = None

    @property
    def stacks_dir(self) -> Path:
        return self.stack_dir if self.stack_dir is not None else self.project_dir

    @property
    def region(self) -> str | None:
        region = self.values.get("aws:region")
        return region if isinstance(region, str) else None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """The parser's problem and where, without the multi-line context dump."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark else problem


def decode(raw: str) -> Any:
    """Pulumi passes structured values as JSON text and scalars as plain text."""
    text = raw.strip()
    if text[:1] in "[{" or text in ("true", "false", "null") or _is_int(text):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return raw
    return raw


def _is_int(text: str) -> bool:
    # ASCII digits only: `isdigit()` is also true for digits JSON cannot parse (fullwidth, `²`).
    return re.fullmatch(r"-?[0-9]+", text, re.ASCII) is not None


def _local_key(key: Any) -> Any:
    """`ecr-fargate:x` -> `x`; any other key (`aws:region`, or a non-string YAML key) unchanged."""
    if isinstance(key, str) and key.startswith(f"{PROJECT}:"):
        return key[len(PROJECT) + 1 :]
    return key


def _strip_secure(value: Any) -> tuple[Any, bool]:
    """Replace `{secure: ...}` leaves (from `config set --secret [--path]`) with a placeholder."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        out: dict[str, Any] = {}
        secret = False
        for k, v in value.items():
            out[k], s = _strip_secure(v)
            secret = secret or s
        return out, secret
    if isinstance(value, list):
        items = [_strip_secure(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def project_defaults(project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """The values a stack inherits from Pulumi.yaml: a declared `default`/`value`, or a bare value."""
    project = yaml.load((project_dir / "Pulumi.yaml").read_text(), Loader=_LOADER)
    out: dict[str, Any] = {}
    for key, decl in (project.get("config") or {}).items():
        local = _local_key(key)
        if isinstance(decl, dict) and (
            {"type", "description", "default", "value", "secret"} & set(decl)
        ):
            if "value" in decl:
                out[local] = decl["value"]
            elif "default" in decl:
                out[local] = decl["default"]
        else:
            out[local] = decl
    return out


def from_files(
    stack: str,
    *,
    project_dir: Path = PROJECT_DIR,
    stack_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> RawConfig:
    """Project defaults, then the stack file, then `overrides` (plain) and `secrets` (marked secret).

    A missing stack file reads as empty (tests render stacks from overrides alone); commands that
    take a stack name check `stack_file_path(...).exists()` first and say so. A malformed one
    raises `StackFileError`.
    """
    values = project_defaults(project_dir)
    secret_keys: set[str] = set()
    stack_file = stack_file_path(stack, stack_dir or project_dir)
    if stack_file.exists():
        for key, value in read_stack_file(stack_file).items():
            local = _local_key(key)
            values[local], secret = _strip_secure(value)
            if secret:
                secret_keys.add(local)
    for key, value in (overrides or {}).items():
        values[_local_key(key)] = value
    for key, value in (secrets or {}).items():
        values[_local_key(key)] = value
        secret_keys.add(_local_key(key))
    return RawConfig(stack, values, frozenset(secret_keys), project_dir, stack_dir)


def stack_file_path(stack: str, stack_dir: Path = PROJECT_DIR) -> Path:
    return stack_dir / f"Pulumi.{stack}.yaml"


def from_strings(
    stack: str, config: Mapping[str, str], secret_keys: set[str], project_dir: Path = PROJECT_DIR
) -> RawConfig:
    """The runtime's view: every value is a string (JSON for structures), keys are namespaced."""
    values = {_local_key(k): decode(v) for k, v in config.items()}
    return RawConfig(stack, values, frozenset(_local_key(k) for k in secret_keys), project_dir)
