"""Configuration errors that name the key, the bad value and what is allowed.

Every refusal a user can cause from a stack file ends up here, so that `pulumi preview` prints one
line per problem (no traceback) before any resource is registered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

PROJECT = "ecr-fargate"


def key_path(key: str, *parts: str | int) -> str:
    """Join a config key and a path inside its value the way `pulumi config set --path` spells it."""
    path = key
    for part in parts:
        if not path:
            path = str(part)
        elif isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith("["):
            path += part
        else:
            path += f".{part}"
    return path


def show(value: Any) -> str:
    """Render a bad value compactly (JSON for structures, so the user sees what the stack file holds)."""
    if isinstance(value, str):
        return repr(value)
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


class ConfigError(ValueError):
    """One configuration problem: `config 'ecr-fargate:<path>': <value> is not allowed; <allowed>`."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.detail = message
        namespaced = path if ":" in path.split(".")[0].split("[")[0] else f"{PROJECT}:{path}"
        super().__init__(f"config '{namespaced}': {message}")


class ConfigErrors(ValueError):
    """All the problems found in one stack's configuration, one line each."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class Collector:
    """Gathers errors so that one preview reports every problem rather than the first one."""

    def __init__(self) -> None:
        self.errors: list[ConfigError] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append(ConfigError(path, message))

    @contextmanager
    def guard(self, path: str) -> Iterator[None]:
        """Turn a core `ValueError` into a ConfigError at `path` (plus the core's own `.path`, if any)."""
        try:
            yield
        except ConfigErrors as exc:
            self.errors.extend(exc.errors)
        except ConfigError as exc:
            self.errors.append(exc)
        except ValueError as exc:
            inner = getattr(exc, "path", None)
            full = path
            if isinstance(inner, str) and inner:
                full = path + (inner if inner.startswith("[") else f".{inner}")
            detail = getattr(exc, "detail", None)
            self.errors.append(ConfigError(full, str(detail) if detail else str(exc)))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ConfigErrors(self.errors)
