"""Bad values in messages: on one line, bounded, and rendered without ever raising.

The settings layer and the command-line tools print one line per problem; a value from a stack
file or stdin may hold newlines, U+2028, control characters, YAML dates or integers too long for
`str()` (Python 3.11 refuses over 4300 digits), so every message goes through these.
"""

from __future__ import annotations

import json
from typing import Any

MAX_SHOWN = 120


def one_line(text: str) -> str:
    """`text` with every character that could end or hide a line (newlines, U+2028, controls) escaped."""
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


def bounded(text: str) -> str:
    return (
        text if len(text) <= MAX_SHOWN else f"{text[: MAX_SHOWN - 3]}... ({len(text)} characters)"
    )


def show(value: Any) -> str:
    """A value as JSON (a string as its JSON string), one line, bounded; never raises."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of {value.bit_length()} bits"
    try:
        text = json.dumps(value, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        text = f"a {type(value).__name__}"
    return bounded(one_line(text))
