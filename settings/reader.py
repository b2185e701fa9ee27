"""Typed access to one config value, reporting every problem with its full key path.

Pulumi hands a program each config value as a string (JSON for structures); this module decodes
them and checks shapes so that a typo such as `tagMutabilty` is an error, not a silently ignored key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .errors import Collector, key_path, show

_MISSING = object()


def type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else type(value).__name__


class Obj:
    """An object-valued config entry whose keys are checked against the ones we understand."""

    def __init__(self, errors: Collector, path: str, value: Any, allowed: Iterable[str]) -> None:
        self.errors = errors
        self.path = path
        self.allowed = tuple(allowed)
        self.value: dict[str, Any] = {}
        if value is None:
            return
        if not isinstance(value, dict):
            errors.add(path, f"{show(value)} is not allowed; expected an object")
            return
        self.value = value
        for key in sorted(value):
            if key not in self.allowed:
                errors.add(
                    key_path(path, key),
                    f"unknown key {key!r}; allowed keys are {', '.join(sorted(self.allowed))}",
                )

    def has(self, name: str) -> bool:
        return name in self.value

    def at(self, name: str) -> str:
        return key_path(self.path, name)

    def raw(self, name: str, default: Any = None) -> Any:
        return self.value.get(name, default)

    def string(
        self, name: str, default: str | None = None, *, choices: Iterable[str] | None = None
    ) -> str | None:
        value = self.value.get(name, _MISSING)
        if value is _MISSING or value is None:
            return default
        if not isinstance(value, str):
            self.errors.add(self.at(name), f"{show(value)} is not allowed; expected a string")
            return default
        if choices is not None:
            options = tuple(choices)
            if value not in options:
                self.errors.add(
                    self.at(name),
                    f"{show(value)} is not allowed; use one of {', '.join(options)}",
                )
                return default
        return value

    def integer(
        self,
        name: str,
        default: int | None = None,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        value = self.value.get(name, _MISSING)
        if value is _MISSING or value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors.add(self.at(name), f"{show(value)} is not allowed; expected an integer")
            return default
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            low = "" if minimum is None else f">= {minimum}"
            high = "" if maximum is None else f"<= {maximum}"
            bound = " and ".join(b for b in (low, high) if b)
            self.errors.add(self.at(name), f"{value} is not allowed; expected an integer {bound}")
            return default
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.value.get(name, _MISSING)
        if value is _MISSING or value is None:
            return default
        if not isinstance(value, bool):
            self.errors.add(self.at(name), f"{show(value)} is not allowed; expected true or false")
            return default
        return value

    def str_list(self, name: str) -> tuple[str, ...]:
        value = self.value.get(name, _MISSING)
        if value is _MISSING or value is None:
            return ()
        if not isinstance(value, list):
            self.errors.add(
                self.at(name), f"{show(value)} is not allowed; expected a list of strings"
            )
            return ()
        good: list[str] = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                good.append(item)
            else:
                self.errors.add(
                    key_path(self.path, name, i), f"{show(item)} is not allowed; expected a string"
                )
        return tuple(good)

    def mapping(self, name: str) -> dict[str, Any]:
        value = self.value.get(name, _MISSING)
        if value is _MISSING or value is None:
            return {}
        if not isinstance(value, dict):
            self.errors.add(self.at(name), f"{show(value)} is not allowed; expected an object")
            return {}
        return value


def as_list(errors: Collector, path: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add(path, f"{show(value)} is not allowed; expected a list")
        return []
    return value


def only_strings(errors: Collector, path: str, mapping: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key in sorted(mapping):
        value = mapping[key]
        if isinstance(value, str):
            out[key] = value
        else:
            errors.add(
                key_path(path, key),
                f"{show(value)} is not allowed; values are strings ({type_name(value)} given, quote it)",
            )
    return out
