"""Reading durations, dates and time zones that members and the config type: the one parser of each, bounded.

Only the digits 0-9 are read (Python's ``\\d`` and ``int`` also take ``٣`` or ``３``, and choke on ``²``), every
number is bounded before any arithmetic (``999999w`` added to now overflows), and a wall time is refused when
its instant falls outside what a datetime holds (9999-12-31 23:59 in a zone west of UTC is in the year 10000).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import Invalid
from domain.i18n import Joined, Text, joined, t, tn
from domain.text import quote, require_ascii_digits, strip_controls

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"([0-9]+)([wdhms])")
_WHOLE = re.compile(r"(?:[0-9]+[wdhms])+")
DURATION_MAX = timedelta(days=3653)  # ten years: beyond every feature's own limit, far from datetime's edge
REMINDER_OFFSET_MAX = timedelta(days=90)  # a reminder before a session (config and /agenda alike)
REMINDER_OFFSETS_MAX = 10  # reminders before one session
ZONE_NAME_MAX = 64
#: How the limits are worded when a caller gives no rule of its own (``{limit}`` is filled in).
DURATION_RULE = t("a duration is at most {limit}")
DATE_RULE = t("a date is at most {limit} from now")


def human(delta: timedelta) -> Text:
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
        return {"year": t("a year"), "day": t("a day"), "hour": t("an hour"), "minute": t("a minute"),
                "second": t("a second")}[unit]  # fmt: skip
    return {
        "year": tn("{n} year", "{n} years", count),
        "day": tn("{n} day", "{n} days", count),
        "hour": tn("{n} hour", "{n} hours", count),
        "minute": tn("{n} minute", "{n} minutes", count),
        "second": tn("{n} second", "{n} seconds", count),
    }[unit]


def spoken(delta: timedelta) -> Text | Joined:
    """A duration in words, each unit with its plural forms: ``1 day``, ``1 hour and 30 minutes``."""
    seconds = max(int(delta.total_seconds()), 0)
    parts: list[Text] = []
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(_units(unit, count))
    if not parts:
        return tn("{n} minute", "{n} minutes", 0)
    return parts[0] if len(parts) == 1 else joined(parts)


def _units(unit: str, count: int) -> Text:
    return {
        "day": tn("{n} day", "{n} days", count),
        "hour": tn("{n} hour", "{n} hours", count),
        "minute": tn("{n} minute", "{n} minutes", count),
        "second": tn("{n} second", "{n} seconds", count),
    }[unit]


def _ruled(rule: Text | str, limit: Text) -> Text:
    """A rule's words (``t("a poll runs at most {limit}")``) with its limit filled in."""
    if isinstance(rule, str):  # a rule not yet written as a Text: shown as given, in English
        return Text(rule, {"limit": limit})
    return replace(rule, params={**rule.params, "limit": limit})


def looks_like_duration(text: str) -> bool:
    """Whether the text has the shape of a duration (``48h``, ``-2d``, ``١٢h``), whatever its size or digits:
    such text gets parse_duration's sentence rather than a date parser's."""
    squeezed = "".join(strip_controls(text).split()).lower().removeprefix("-")
    cleaned = "".join("0" if ch.isdigit() else ch for ch in squeezed)
    return bool(_WHOLE.fullmatch(cleaned))


def parse_duration(
    text: str,
    *,
    longest: timedelta = DURATION_MAX,
    rule: Text | str = DURATION_RULE,
) -> timedelta:
    """A duration such as ``30m``, ``2h``, ``1d12h`` or ``1w`` (zero included), at most ``longest``.

    Raises Invalid with one sentence otherwise; ``rule`` words the limit, a Text whose ``{limit}`` is
    filled in here (``t("a poll runs at most {limit}")``).
    """
    cleaned = "".join(strip_controls(text).split()).lower()  # invisible characters are not part of it
    require_ascii_digits(cleaned, t("30m, 2h or 3d"))
    if cleaned.startswith("-"):
        raise Invalid(
            t(
                "A duration can't be negative (“{text}”); give one such as 30m, 2h, 3d or 1w.",
                text=quote(text),
            )
        )
    if not cleaned:
        raise Invalid(t("Give a duration: a number and a unit, like 30m, 2h, 3d or 1w."))
    if not _WHOLE.fullmatch(cleaned):
        raise Invalid(
            t(
                "“{text}” is not a duration: use a number and a unit, like 30m, 2h, 3d or 1w.",
                text=quote(text),
            )
        )
    parts = _PART.findall(cleaned)
    too_long = Invalid(
        t("“{text}” is too long: {rule}.", text=quote(text), rule=_ruled(rule, human(longest)))
    )
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
        text, longest=REMINDER_OFFSET_MAX, rule=t("a reminder comes at most {limit} before the start")
    )
    if delta <= timedelta(0):
        raise Invalid(
            t(
                "A reminder must come more than 0 minutes before the start; “{text}” does not.",
                text=quote(text),
            )
        )
    return delta


def parse_offsets(texts: list[str]) -> tuple[timedelta, ...]:
    """Reminder offsets before a session (``1d``, ``1h``…): at most 10, each more than zero and at most 90 days,
    no two the same; longest first. Raises Invalid naming the first offending one."""
    offsets: list[timedelta] = []
    for text in texts:
        delta = parse_offset(text)
        if delta in offsets:
            raise Invalid(
                t("The reminder “{text}” is given twice; list each reminder once.", text=quote(text))
            )
        offsets.append(delta)
    if len(offsets) > REMINDER_OFFSETS_MAX:
        raise Invalid(
            tn(
                "A session can have at most {limit} reminders before its start; {n} was given.",
                "A session can have at most {limit} reminders before its start; {n} were given.",
                len(offsets),
                limit=REMINDER_OFFSETS_MAX,
            )
        )
    return tuple(sorted(offsets, reverse=True))


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone such as ``Europe/Paris``; raises Invalid for unknown names."""
    cleaned = strip_controls(name).strip()
    wrong = Invalid(
        t("“{name}” is not a time zone: use an IANA name such as Europe/Paris or UTC.", name=quote(name, 60))
    )
    if not cleaned or len(cleaned) > ZONE_NAME_MAX or cleaned.startswith(("/", ".")) or ".." in cleaned:
        raise wrong
    try:
        return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise wrong from None


_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DATETIME = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})[ T]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")


def parse_date(text: str, example: str = "2026-11-24") -> date:
    """A calendar date ``YYYY-MM-DD`` (digits 0-9, a real date); raises Invalid otherwise."""
    cleaned = strip_controls(text).strip()
    if not cleaned:
        raise Invalid(t("Give a date like {example}.", example=example))
    require_ascii_digits(cleaned, example)
    m = _DATE.fullmatch(cleaned)
    try:
        if m is None:
            raise ValueError
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise Invalid(
            t("“{text}” is not a date like {example}.", text=quote(text, 30), example=example)
        ) from None


def parse_when(text: str, zone: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """A wall time ``YYYY-MM-DD HH:MM`` (or a date) in ``zone``, as an aware UTC datetime.

    A bare date means its start, or 23:59 with ``end_of_day``. Raises Invalid for anything else,
    impossible dates (2026-02-30, year 0000), wall times that do not exist in the zone (a spring-forward
    gap), and instants a datetime cannot hold (9999-12-31 23:59 west of UTC).
    """
    cleaned = " ".join(strip_controls(text).split())
    if not cleaned:
        raise Invalid(t("Give a date and time: use YYYY-MM-DD HH:MM, e.g. 2026-12-01 18:00."))
    require_ascii_digits(cleaned, "2026-12-01 18:00")
    second = 0
    if m := _DATETIME.fullmatch(cleaned):
        year, month, day, hour, minute = (int(g) for g in m.groups()[:5])
        second = int(m.group(6) or 0)
    elif m := _DATE.fullmatch(cleaned):
        year, month, day = (int(g) for g in m.groups())
        hour, minute = (23, 59) if end_of_day else (0, 0)
    else:
        raise Invalid(
            t(
                "“{text}” is not a date and time: use YYYY-MM-DD HH:MM, e.g. 2026-12-01 18:00.",
                text=quote(text),
            )
        )
    try:
        local = datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError:
        raise Invalid(
            t(
                "“{text}” is not a real date and time: use YYYY-MM-DD HH:MM, e.g. 2026-12-01 18:00.",
                text=quote(text),
            )
        ) from None
    try:
        as_utc = local.astimezone(UTC)
        back = as_utc.astimezone(zone)
    except (OverflowError, ValueError):
        raise Invalid(
            t(
                "{when} ({zone}) is outside the calendar I can use; give a nearer date.",
                when=cleaned,
                zone=zone.key,
            )
        ) from None
    if back.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise Invalid(
            t(
                "{when} does not exist in {zone} (the clocks skip it); pick another time.",
                when=cleaned,
                zone=zone.key,
            )
        )
    return as_utc


def parse_future(
    text: str,
    zone: ZoneInfo,
    now: datetime,
    *,
    end_of_day: bool = False,
    within: timedelta = DURATION_MAX,
    rule: Text | str = DATE_RULE,
) -> datetime:
    """parse_when, refusing times that are not after ``now`` or more than ``within`` after it (``rule``
    words the limit, as for parse_duration)."""
    when = parse_when(text, zone, end_of_day=end_of_day)
    shown = " ".join(text.split())
    if when <= now:
        raise Invalid(
            t(
                "{when} ({zone}) is in the past; give a future date and time.",
                when=quote(shown),
                zone=zone.key,
            )
        )
    if when - now > within:
        raise Invalid(
            t("{when} is too far ahead: {rule}.", when=quote(shown), rule=_ruled(rule, human(within)))
        )
    return when


@dataclass(frozen=True)
class EndRules:
    """What a feature that runs until a deadline (a poll, a sign-on) says about its end, each sentence
    whole: both given, the longest wall time, the longest duration, a duration of nothing."""

    both: Text
    closes_within: Text
    runs_within: Text
    no_time: Text


def end_time(
    duration: str | None, closes: str | None, zone: ZoneInfo, now: datetime, *,
    default: timedelta, longest: timedelta, rules: EndRules,
) -> datetime:  # fmt: skip
    """When something typed as a duration or a closing wall time in ``zone`` ends: ``default`` after now when
    neither is given; at most ``longest`` away."""
    duration = duration.strip() if duration else None
    closes = closes.strip() if closes else None
    if duration and closes:
        raise Invalid(rules.both)
    if closes:
        return parse_future(closes, zone, now, within=longest, rule=rules.closes_within)
    if not duration:
        return now + default
    delta = parse_duration(duration, longest=longest, rule=rules.runs_within)
    if delta <= timedelta(0):
        raise Invalid(rules.no_time)
    return now + delta
