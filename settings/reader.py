"""Typed access to one config value, reporting every problem with its full key path.

Pulumi hands a program each config value as a string (JSON for structures); this module decodes
them and checks shapes so that a typo such as `tagMutabilty` is an error, not a silently ignored key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, overload

from settings.errors import Collector, key_path, member_path, show
from settings.keys.model import Computed, Key, Section

_MISSING = object()


def _key_order(key: Any) -> tuple[bool, str]:
    """Sort string keys first, then the rest by their rendering: YAML keys may be of any type."""
    return (not isinstance(key, str), key if isinstance(key, str) else show(key))


def string_keyed(errors: Collector, path: str, value: dict[Any, Any], what: str) -> dict[str, Any]:
    """The members whose keys are strings; every other key is reported at its own path.

    YAML turns unquoted `yes`, `no`, `on`, `off` into booleans and `1` into a number, so a stack
    file can hold keys that no `pulumi config set --path` could write.
    """
    out: dict[str, Any] = {}
    for key in sorted(value, key=_key_order):
        if isinstance(key, str):
            out[key] = value[key]
            continue
        hint = (
            " (YAML reads unquoted yes, no, on, off, true, false as booleans)"
            if isinstance(key, bool)
            else ""
        )
        errors.add(
            member_path(path, key),
            f"{show(key)} is not allowed as a key; {what} are strings{hint}: quote the key",
        )
    return out


class _Declared:
    def __repr__(self) -> str:
        return "DECLARED"


DECLARED: Any = _Declared()
"""Take the default (or the limit) from the key's declaration (settings.keys)."""


class Obj:
    """An object-valued config entry whose keys are checked against the ones declared.

    With a `Section` (settings.keys), a read that passes no default or limit takes the declared
    one, for this object's environment: the loaders say what to read, the declaration says how.
    """

    def __init__(
        self,
        errors: Collector,
        path: str,
        value: Any,
        allowed: Section | Iterable[str],
        *,
        environment: str = "dev",
    ) -> None:
        self.errors = errors
        self.path = path
        self.section = allowed if isinstance(allowed, Section) else None
        self.allowed = tuple(allowed)
        self.environment = environment
        self.value: dict[str, Any] = {}
        if value is None:
            return
        if not isinstance(value, dict):
            errors.add(path, f"{show(value)} is not allowed; expected an object")
            return
        self.value = string_keyed(errors, path, value, "keys")
        for key in self.value:
            if key not in self.allowed:
                errors.add(
                    member_path(path, key),
                    f"unknown key {show(key)}; allowed keys are {', '.join(sorted(self.allowed))}",
                )

    def has(self, name: str) -> bool:
        return name in self.value

    def at(self, name: str) -> str:
        return key_path(self.path, name)

    def raw(self, name: str, default: Any = None) -> Any:
        return self.value.get(name, default)

    def declared(self, name: str) -> Key | None:
        return self.section[name] if self.section is not None and name in self.section else None

    def default(self, name: str) -> Any:
        """The declared default in this environment; None when absent or derived (`Computed`)."""
        key = self.declared(name)
        found = None if key is None else key.default_for(self.environment)
        return None if isinstance(found, Computed) else found

    def _limit(self, name: str, given: Any, field: str) -> Any:
        if given is not DECLARED:
            return given
        key = self.declared(name)
        if key is None or (field == "choices" and key.own_check):
            return None
        return getattr(key, field)

    @overload
    def string(self, name: str, default: str, *, choices: Iterable[str] | None = ...) -> str: ...

    @overload
    def string(
        self, name: str, default: None = ..., *, choices: Iterable[str] | None = ...
    ) -> str | None: ...

    def string(self, name: str, default: Any = DECLARED, *, choices: Any = DECLARED) -> Any:
        """The string at `name`, or the default when it is absent or refused."""
        if default is DECLARED:
            default = self.default(name)
        choices = self._limit(name, choices, "choices")
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

    def text(self, name: str) -> str:
        """A string key whose declaration gives a default."""
        return self.string(name, _declared_default(self, name, str))

    @overload
    def integer(
        self, name: str, default: int, *, minimum: int | None = ..., maximum: int | None = ...
    ) -> int: ...

    @overload
    def integer(
        self,
        name: str,
        default: None = ...,
        *,
        minimum: int | None = ...,
        maximum: int | None = ...,
    ) -> int | None: ...

    def integer(
        self,
        name: str,
        default: Any = DECLARED,
        *,
        minimum: Any = DECLARED,
        maximum: Any = DECLARED,
    ) -> Any:
        """The integer at `name`, or the default when it is absent or refused (0 is a value)."""
        if default is DECLARED:
            default = self.default(name)
        minimum = self._limit(name, minimum, "minimum")
        maximum = self._limit(name, maximum, "maximum")
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
            self.errors.add(
                self.at(name), f"{show(value)} is not allowed; expected an integer {bound}"
            )
            return default
        return value

    def number(self, name: str) -> int:
        """An integer key whose declaration gives a default."""
        return self.integer(name, _declared_default(self, name, int))

    def flag(self, name: str, default: Any = DECLARED) -> bool:
        if default is DECLARED:
            default = _declared_default(self, name, bool)
        value = self.value.get(name, _MISSING)
        if value is _MISSING or value is None:
            return bool(default)
        if not isinstance(value, bool):
            self.errors.add(self.at(name), f"{show(value)} is not allowed; expected true or false")
            return bool(default)
        return value

    def str_list(self, name: str) -> tuple[str, ...]:
        """The strings at `name` (each refused item reported and dropped); absent: the declared
        default, or none."""
        value = self.value.get(name, _MISSING)
        if value is _MISSING or value is None:
            return tuple(self.default(name) or ())
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
        """An object of free-form names (environment variables, build args): string keys only."""
        value = self.value.get(name, _MISSING)
        if value is _MISSING or value is None:
            return {}
        if not isinstance(value, dict):
            self.errors.add(self.at(name), f"{show(value)} is not allowed; expected an object")
            return {}
        return string_keyed(self.errors, self.at(name), value, "names")


def _declared_default(obj: Obj, name: str, kind: type) -> Any:
    default = obj.default(name)
    if not isinstance(default, kind):
        raise TypeError(f"{obj.path}.{name}: the declaration gives no {kind.__name__} default")
    return default


def as_list(errors: Collector, path: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add(path, f"{show(value)} is not allowed; expected a list")
        return []
    return value
