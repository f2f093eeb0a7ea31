"""Reading durations, dates and time zones that members and the config type: the one parser of each, bounded.

Only the digits 0-9 are read (Python's ``\\d`` and ``int`` also take ``٣`` or ``３``, and choke on ``²``), every
number is bounded before any arithmetic (``999999w`` added to now overflows), and a wall time is refused when
its instant falls outside what a datetime holds (9999-12-31 23:59 in a zone west of UTC is in the year 10000).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import Invalid
from domain.text import quote, require_ascii_digits, strip_controls

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"([0-9]+)([wdhms])")
_WHOLE = re.compile(r"(?:[0-9]+[wdhms])+")
DURATION_MAX = timedelta(days=3653)  # ten years: beyond every feature's own limit, far from datetime's edge
REMINDER_OFFSET_MAX = timedelta(days=90)  # a reminder before a session (config and /agenda alike)
REMINDER_OFFSETS_MAX = 10  # reminders before one session
ZONE_NAME_MAX = 64


def human(delta: timedelta) -> str:
    """A limit in words: ``90 days``, ``10 years``, ``a year``, ``an hour``."""
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    count, unit = seconds, "second"
    if rest == 0 and days >= 365:
        count, unit = round(days / 365.25), "year"
    else:
        for size, name in ((86400, "day"), (3600, "hour"), (60, "minute")):
            if seconds % size == 0:
                count, unit = seconds // size, name
                break
    if count == 1:
        return f"{'an' if unit == 'hour' else 'a'} {unit}"
    return f"{count} {unit}s"


def looks_like_duration(text: str) -> bool:
    """Whether the text has the shape of a duration (``48h``, ``-2d``, ``١٢h``), whatever its size or digits:
    such text gets parse_duration's sentence rather than a date parser's."""
    squeezed = "".join(strip_controls(text).split()).lower().removeprefix("-")
    cleaned = "".join("0" if ch.isdigit() else ch for ch in squeezed)
    return bool(_WHOLE.fullmatch(cleaned))


def parse_duration(
    text: str, *, longest: timedelta = DURATION_MAX, rule: str = "a duration is at most {limit}"
) -> timedelta:
    """A duration such as ``30m``, ``2h``, ``1d12h`` or ``1w`` (zero included), at most ``longest``.

    Raises Invalid with one sentence otherwise; ``rule`` words the limit (``"a poll runs at most {limit}"``).
    """
    cleaned = "".join(strip_controls(text).split()).lower()  # invisible characters are not part of it
    require_ascii_digits(cleaned, "30m, 2h or 3d")
    if cleaned.startswith("-"):
        raise Invalid(f"A duration can't be negative (“{quote(text)}”); give one such as 30m, 2h, 3d or 1w.")
    if not cleaned:
        raise Invalid("Give a duration: a number and a unit, like 30m, 2h, 3d or 1w.")
    if not _WHOLE.fullmatch(cleaned):
        raise Invalid(f"“{quote(text)}” is not a duration: use a number and a unit, like 30m, 2h, 3d or 1w.")
    parts = _PART.findall(cleaned)
    too_long = Invalid(f"“{quote(text)}” is too long: {rule.format(limit=human(longest))}.")
    if any(len(number.lstrip("0")) > 9 for number, _ in parts):
        raise too_long  # int() of thousands of digits is slow, and no feature wants such a number
    seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    if seconds > longest.total_seconds():
        raise too_long
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


def parse_offset(text: str) -> timedelta:
    """One reminder offset before a session: more than zero, at most 90 days (the config's rule too)."""
    delta = parse_duration(
        text, longest=REMINDER_OFFSET_MAX, rule="a reminder comes at most {limit} before the start"
    )
    if delta <= timedelta(0):
        raise Invalid(f"A reminder must come more than 0 minutes before the start; “{quote(text)}” does not.")
    return delta


def parse_offsets(texts: list[str]) -> tuple[timedelta, ...]:
    """Reminder offsets before a session (``1d``, ``1h``…): at most 10, each more than zero and at most 90 days,
    no two the same; longest first. Raises Invalid naming the first offending one."""
    offsets: list[timedelta] = []
    for text in texts:
        delta = parse_offset(text)
        if delta in offsets:
            raise Invalid(f"The reminder “{quote(text)}” is given twice; list each reminder once.")
        offsets.append(delta)
    if len(offsets) > REMINDER_OFFSETS_MAX:
        raise Invalid(
            f"A session can have at most {REMINDER_OFFSETS_MAX} reminders before its start; "
            f"{len(offsets)} were given."
        )
    return tuple(sorted(offsets, reverse=True))


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone such as ``Europe/Paris``; raises Invalid for unknown names."""
    cleaned = strip_controls(name).strip()
    wrong = Invalid(f"“{quote(name, 60)}” is not a time zone: use an IANA name such as Europe/Paris or UTC.")
    if not cleaned or len(cleaned) > ZONE_NAME_MAX or cleaned.startswith(("/", ".")) or ".." in cleaned:
        raise wrong
    try:
        return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise wrong from None


_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DATETIME = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})[ T]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")
_EXAMPLE = "use YYYY-MM-DD HH:MM, e.g. 2026-12-01 18:00"


def parse_date(text: str, example: str = "2026-11-24") -> date:
    """A calendar date ``YYYY-MM-DD`` (digits 0-9, a real date); raises Invalid otherwise."""
    cleaned = strip_controls(text).strip()
    if not cleaned:
        raise Invalid(f"Give a date like {example}.")
    require_ascii_digits(cleaned, example)
    m = _DATE.fullmatch(cleaned)
    try:
        if m is None:
            raise ValueError
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise Invalid(f"“{quote(text, 30)}” is not a date like {example}.") from None


def parse_when(text: str, zone: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """A wall time ``YYYY-MM-DD HH:MM`` (or a date) in ``zone``, as an aware UTC datetime.

    A bare date means its start, or 23:59 with ``end_of_day``. Raises Invalid for anything else,
    impossible dates (2026-02-30, year 0000), wall times that do not exist in the zone (a spring-forward
    gap), and instants a datetime cannot hold (9999-12-31 23:59 west of UTC).
    """
    cleaned = " ".join(strip_controls(text).split())
    if not cleaned:
        raise Invalid(f"Give a date and time: {_EXAMPLE}.")
    require_ascii_digits(cleaned, "2026-12-01 18:00")
    second = 0
    if m := _DATETIME.fullmatch(cleaned):
        year, month, day, hour, minute = (int(g) for g in m.groups()[:5])
        second = int(m.group(6) or 0)
    elif m := _DATE.fullmatch(cleaned):
        year, month, day = (int(g) for g in m.groups())
        hour, minute = (23, 59) if end_of_day else (0, 0)
    else:
        raise Invalid(f"“{quote(text)}” is not a date and time: {_EXAMPLE}.")
    try:
        local = datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError:
        raise Invalid(f"“{quote(text)}” is not a real date and time: {_EXAMPLE}.") from None
    try:
        as_utc = local.astimezone(UTC)
        back = as_utc.astimezone(zone)
    except (OverflowError, ValueError):
        raise Invalid(
            f"{cleaned} ({zone.key}) is outside the calendar I can use; give a nearer date."
        ) from None
    if back.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise Invalid(f"{cleaned} does not exist in {zone.key} (the clocks skip it); pick another time.")
    return as_utc


def parse_future(
    text: str,
    zone: ZoneInfo,
    now: datetime,
    *,
    end_of_day: bool = False,
    within: timedelta = DURATION_MAX,
    rule: str = "a date is at most {limit} from now",
) -> datetime:
    """parse_when, refusing times that are not after ``now`` or more than ``within`` after it."""
    when = parse_when(text, zone, end_of_day=end_of_day)
    shown = " ".join(text.split())
    if when <= now:
        raise Invalid(f"{quote(shown)} ({zone.key}) is in the past; give a future date and time.")
    if when - now > within:
        raise Invalid(f"{quote(shown)} is too far ahead: {rule.format(limit=human(within))}.")
    return when
