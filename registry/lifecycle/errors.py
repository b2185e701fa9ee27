"""The error every lifecycle check raises: it names the rule priority and the field."""

from __future__ import annotations

import json
from typing import Any

# The longest rendering of a bad value in a message.
MAX_SHOWN = 120


def show(value: Any) -> str:
    """A bad value as JSON on one line, bounded; never raises (YAML dates, huge integers...)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of {value.bit_length()} bits"
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        text = f"a {type(value).__name__}"
    return text if len(text) <= MAX_SHOWN else f"{text[: MAX_SHOWN - 3]}..."


class LifecyclePolicyError(ValueError):
    """`.path` is the field's place in the input (`rules[1].selection.countNumber`)."""

    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(detail)
