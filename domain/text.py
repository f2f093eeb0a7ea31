"""Cleaning what members type: control characters removed (SQLite counts a string only up to a NUL byte)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_KEEP = {"\n", "\t"}


def strip_controls(text: str) -> str:
    """The text without control and format-control characters (NUL, bidi overrides…), keeping line breaks."""
    return "".join(ch for ch in text if ch in _KEEP or unicodedata.category(ch) not in ("Cc", "Cf"))


_PINGS = re.compile(r"@(everyone|here)", re.IGNORECASE)


def defuse(text: str) -> str:
    """Break @everyone/@here so pasted text pings nobody (a zero-width joiner after the @)."""
    return _PINGS.sub("@\u2060\\1", text) if "@" in text else text


def cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run as a formula (and that pings nobody if pasted into Discord)."""
    if isinstance(value, str) and value:
        value = defuse(value)
        if value[0] in "=+-@\t\r":
            return "'" + value
    return value
