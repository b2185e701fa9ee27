"""The shape of a key's declaration: what one config key is, wherever it sits in the tree.

A `Key` holds everything a reader, a generator or a test needs to know about one key: its type,
its default (per environment where dev and prod differ), its limits, its description, whether
it is secret, and one valid non-default value that proves the key changes the render. A
`Section` is the set of keys of one object (the top level, `registry`, `services[]`,
`services[].run`, ...).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

ENVIRONMENTS = ("dev", "prod")


@dataclass(frozen=True)
class Env:
    """A default that differs between the environments (`environment: dev` or `prod`)."""

    dev: Any
    prod: Any


@dataclass(frozen=True)
class Computed:
    """A default the loader derives from other values; `text` says from what (for the docs)."""

    text: str


class _Unset:
    """No example: the key is set in every fixture stack, or cannot differ from its default."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

# Types, as the reference and the JSON Schema spell them.
SCALAR_TYPES = ("string", "integer", "boolean", "string|integer")
TYPES = (
    *SCALAR_TYPES,
    "list<string>",
    "map<string>",  # free-form names (environment variables, build args) to strings
    "object",  # `keys` says which
    "list<object>",  # each item an object with `keys`
    "map<object>",  # free-form names to objects with `keys`
    "json",  # a structure of another grammar (ECR's lifecycle policy), checked by its own rules
)


@dataclass(frozen=True)
class Key:
    name: str
    type: str
    description: str
    default: Any = None  # a value, `Env(dev, prod)`, `Computed(text)` or None (absent)
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[Any, ...] | None = None
    pattern: str | None = None  # for the JSON Schema and the docs: the loader checks more
    required: bool = False
    # The loader checks `choices` with a message of its own (aliases, the image's platforms):
    # the reader leaves them to it; the docs and the JSON Schema still list them.
    own_check: bool = False
    secret: bool = False
    keys: Section | None = None  # the members of an object, or of each list item
    # A valid value other than the default, merged into the fixture stack by the test that
    # proves the key changes the render. With `example_path`, the value goes there instead
    # (keys that only apply next to another key).
    example: Any = UNSET
    # Why setting this key changes no rendered input or output (and the warning it gives).
    no_op: str | None = None
    # JSON Schema for what the type alone cannot say (an environment value may be a secret ref).
    schema: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"{self.name}: unknown type {self.type!r}")
        if (self.keys is None) != (self.type not in ("object", "list<object>", "map<object>")):
            raise ValueError(f"{self.name}: an object type and `keys` go together")

    def default_for(self, environment: str) -> Any:
        """The default in this environment (a `Computed` default stays as it is)."""
        if isinstance(self.default, Env):
            return self.default.prod if environment == "prod" else self.default.dev
        return self.default


@dataclass(frozen=True)
class Section:
    """The keys of one object, in the order the docs list them."""

    path: str  # how the reference names the object: `services[].run`
    keys: tuple[Key, ...]
    description: str = ""
    _by_name: dict[str, Key] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {k.name: k for k in self.keys})
        if len(self._by_name) != len(self.keys):
            raise ValueError(f"{self.path}: a key is declared twice")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys)

    def __getitem__(self, name: str) -> Key:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)


def walk(section: Section, prefix: str = "") -> Iterator[tuple[str, Key]]:
    """Every key under `section` with its full path (`services[].run.scaling.min`)."""
    for key in section.keys:
        path = f"{prefix}.{key.name}" if prefix else key.name
        yield path, key
        if key.keys is not None:
            inner = {"list<object>": f"{path}[]", "map<object>": f"{path}.<name>"}
            yield from walk(key.keys, inner.get(key.type, path))
