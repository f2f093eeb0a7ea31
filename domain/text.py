"""Cleaning what members type, the one place for it: every stored text goes through strip_controls, and every
number typed as text is read only from the digits 0-9."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from domain.errors import Invalid
from domain.i18n import Text, t

_KEEP = {"\n", "\t"}
# Zero-width non-joiner and joiner belong to correct writing (Persian words, emoji sequences such as a family):
# one is kept between two visible characters, never at an edge or in a run.
_JOINERS = {"\u200c", "\u200d"}
_DROP = {
    "Cc",
    "Cf",
    "Cs",
}  # controls (NUL…), format characters (bidi overrides, zero-width space…), lone surrogates
ASCII_DIGITS = frozenset("0123456789")


def strip_controls(text: str) -> str:
    """The text in NFC, without control and format characters (NUL, bidi overrides, zero-width spaces) or lone
    surrogates (they cannot be stored as UTF-8), keeping line breaks, tabs, and single joiners inside words.

    Lengths are checked on what this returns: combining marks typed apart ("e" + U+0301) count once.
    """
    kept = [ch for ch in text if ch in _KEEP or ch in _JOINERS or unicodedata.category(ch) not in _DROP]
    out: list[str] = []
    for n, ch in enumerate(kept):
        if ch in _JOINERS:
            before = out[-1] if out else " "
            after = kept[n + 1] if n + 1 < len(kept) else " "
            if before.isspace() or after.isspace() or before in _JOINERS or after in _JOINERS:
                continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def well_formed(text: str) -> str:
    """The text without lone surrogates (JSON can carry "\\ud800", UTF-8 cannot), as strip_controls drops them;
    a pair split in two code points is joined."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "ignore")


def quote(text: str, limit: int = 40) -> str | Text:
    """What a member typed, cleaned and cut short, to repeat it in a refusal between quotes (a placeholder
    value: when nothing visible is left, the words saying so, in the reader's language)."""
    shown = " ".join(strip_controls(text).split())
    if not shown:
        return t("invisible characters") if text else ""
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def has_other_digits(text: str) -> bool:
    """Whether the text holds digits other than 0-9: Arabic-Indic ٣, full-width ３, superscript ²…"""
    return any(ch.isdigit() and ch not in ASCII_DIGITS for ch in text)


def require_ascii_digits(text: str, example: str | Text) -> None:
    """Refuse numbers written with other digits than 0-9 (Python would read some, and choke on others)."""
    if has_other_digits(text):
        raise Invalid(
            t(
                "“{text}” has digits other than 0-9; type it with the digits 0-9, e.g. {example}.",
                text=quote(text),
                example=example,
            )
        )


def is_ascii_number(text: str) -> bool:
    """Whether the text is a non-empty run of the digits 0-9 and nothing else."""
    return bool(text) and all(ch in ASCII_DIGITS for ch in text)


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
