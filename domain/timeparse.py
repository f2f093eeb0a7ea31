"""Reading durations and time zones that members and the config type."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
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


_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DATETIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")


def parse_when(text: str, zone: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """A wall time ``YYYY-MM-DD HH:MM`` (or a date) in ``zone``, as an aware UTC datetime.

    A bare date means its start, or 23:59 with ``end_of_day``. Raises Invalid for anything else,
    impossible dates (2026-02-30), and wall times that do not exist in the zone (a spring-forward gap).
    """
    cleaned = " ".join(text.strip().split())
    example = "use YYYY-MM-DD HH:MM, e.g. 2026-12-01 18:00"
    second = 0
    if m := _DATETIME.match(cleaned):
        year, month, day, hour, minute = (int(g) for g in m.groups()[:5])
        second = int(m.group(6) or 0)
    elif m := _DATE.match(cleaned):
        year, month, day = (int(g) for g in m.groups())
        hour, minute = (23, 59) if end_of_day else (0, 0)
    else:
        raise Invalid(f"“{text[:40]}” is not a date and time: {example}.")
    try:
        local = datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError:
        raise Invalid(f"“{text[:40]}” is not a real date and time: {example}.") from None
    as_utc = local.astimezone(UTC)
    if as_utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise Invalid(f"{cleaned} does not exist in {zone.key} (the clocks skip it); pick another time.")
    return as_utc


def parse_future(text: str, zone: ZoneInfo, now: datetime, *, end_of_day: bool = False) -> datetime:
    """parse_when, refusing times that are not after ``now``."""
    when = parse_when(text, zone, end_of_day=end_of_day)
    if when <= now:
        raise Invalid(f"{' '.join(text.split())} ({zone.key}) is in the past; give a future date and time.")
    return when
