"""Reading durations and time zones that members and the config type."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import Invalid

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d{1,6})\s*([wdhms])")
_WHOLE = re.compile(r"^\s*(?:\d{1,6}\s*[wdhms]\s*)+$")


def parse_duration(text: str) -> timedelta:
    """A duration such as ``30m``, ``2h``, ``1d12h`` or ``1w``; raises Invalid otherwise."""
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned or not _WHOLE.match(cleaned):
        raise Invalid(f"“{text[:40]}” is not a duration: use a number and a unit, like 30m, 2h, 3d or 1w.")
    seconds = sum(int(n) * _UNITS[u] for n, u in _PART.findall(cleaned))
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The short form of a duration (``1d``, ``1h30m``), the inverse of parse_duration."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0m"
    parts = []
    for unit, size in _UNITS.items():
        if unit == "w":
            continue
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone such as ``Europe/Paris``; raises Invalid for unknown names."""
    cleaned = name.strip()
    if not cleaned or cleaned.startswith(("/", ".")) or ".." in cleaned:
        raise Invalid(f"“{name[:60]}” is not a time zone: use an IANA name such as Europe/Paris or UTC.")
    try:
        return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise Invalid(
            f"“{name[:60]}” is not a time zone: use an IANA name such as Europe/Paris or UTC."
        ) from None
