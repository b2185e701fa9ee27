"""Configuration errors that name the key, the bad value and what is allowed.

Every refusal a user can cause from a stack file ends up here, so that `pulumi preview` prints one
line per problem (no traceback) before any resource is registered.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rules.registry.text import bounded, one_line

__all__ = [
    "Collector",
    "ConfigError",
    "ConfigErrors",
    "key_path",
    "member_path",
    "one_line",
    "show",
]

PROJECT = "ecr-fargate"


def key_path(key: str, *parts: str | int) -> str:
    """Join a config key and a path inside its value the way `pulumi config set --path` spells it."""
    path = key
    for part in parts:
        if not path:
            path = str(part)
        elif isinstance(part, int):
            path += f"[{part}]"
        else:
            path += part if part.startswith("[") else f".{part}"
    return path


def member_path(path: str, key: Any) -> str:
    """The path of an object member whatever YAML made its key: `yes:` is `.true`, `1:` is `.1`.

    A string key that a dot, a bracket or a control character would make ambiguous is quoted the
    way `pulumi config set --path` quotes it (`["a.b"]`), so no key can fake or break a path.
    """
    if isinstance(key, str):
        if key and key.isprintable() and not set(key) & set('.[]"'):
            return key_path(path, key)
        return f"{path}[{json.dumps(key)}]"
    shown = show(key)
    return f"{path}.{shown}" if path else shown


def show(value: Any) -> str:
    """Render a bad value compactly on one line (JSON for structures, as the stack file holds it).

    Never raises: huge integers, dates and other YAML types have a bounded rendering too.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of {value.bit_length()} bits"
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, datetime.date):  # YAML reads an unquoted 2024-01-01 as a date
        text = f"{value.isoformat()} (a date)"
    else:
        try:
            text = json.dumps(value, sort_keys=True, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError):
            text = _repr(value)
    return bounded(one_line(text))


def _repr(value: Any) -> str:
    try:
        return repr(value)
    except (ValueError, RecursionError):
        return f"a {type(value).__name__}"


class ConfigError(ValueError):
    """One configuration problem: `config 'ecr-fargate:<path>': <value> is not allowed; <allowed>`."""

    def __init__(self, path: str, message: str) -> None:
        self.path = one_line(path)
        # Cores interpolate text that is not always escaped (an exception's message, a value
        # without `!r`, a key from the stack file): one problem must stay one line.
        self.detail = one_line(message)
        head = self.path.split(".")[0].split("[")[0]
        namespaced = self.path if ":" in head else f"{PROJECT}:{self.path}"
        super().__init__(f"config '{namespaced}': {self.detail}")


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
