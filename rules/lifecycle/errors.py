"""The error every lifecycle check raises: it names the rule priority and the field."""

from __future__ import annotations

from rules.registry.text import show

__all__ = ["LifecyclePolicyError", "show"]


class LifecyclePolicyError(ValueError):
    """`.path` is the field's place in the input (`rules[1].selection.countNumber`)."""

    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(detail)
