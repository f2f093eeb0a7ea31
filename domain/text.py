"""Cleaning what members type: control characters removed (SQLite counts a string only up to a NUL byte)."""

from __future__ import annotations

import unicodedata

_KEEP = {"\n", "\t"}


def strip_controls(text: str) -> str:
    """The text without control and format-control characters (NUL, bidi overrides…), keeping line breaks."""
    return "".join(ch for ch in text if ch in _KEEP or unicodedata.category(ch) not in ("Cc", "Cf"))
