"""Sessions as iCalendar: one VEVENT per session with a stable UID, recurring ones with an RRULE.

The file is a public export: its words (the event's details) are in the language it is made in, the
server's."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

from domain.agenda import Session, wall_start
from domain.i18n import t

PRODID = "-//Caucus//Coalition agenda//EN"


def _event(session: Session, stamp: datetime, group_name: str | None, lang: str) -> icalendar.Event:
    zone = ZoneInfo(session.zone)
    start = wall_start(session).replace(tzinfo=zone)
    event = icalendar.Event()
    event.add("uid", session.uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    # the end is the start plus the duration in real time (across a DST change, not in wall time)
    end = (start.astimezone(UTC) + timedelta(minutes=session.duration_min)).astimezone(zone)
    if end.replace(fold=0).utcoffset() != end.replace(fold=1).utcoffset():
        end = end.astimezone(UTC)  # a wall time the clocks pass twice: only UTC names the instant
    event.add("dtend", end)
    event.add("summary", session.title)
    if session.location:
        event.add("location", session.location)
    details = []
    if group_name:
        details.append(t("Working group: {group}", group=group_name).render(lang))
    if session.moderators:
        details.append(t("Moderators: {moderators}", moderators=session.moderators).render(lang))
    if session.note_taker:
        details.append(t("Note-taker: {note_taker}", note_taker=session.note_taker).render(lang))
    if session.notes:
        details.append(session.notes)
    if details:
        event.add("description", "\n".join(details))
    if session.recur_days:
        rule: dict[str, object] = (
            {"freq": "weekly", "interval": session.recur_days // 7} if session.recur_days % 7 == 0
            else {"freq": "daily", "interval": session.recur_days}
        )  # fmt: skip
        if session.recur_until:
            until = datetime.fromisoformat(session.recur_until + "T23:59:59").replace(tzinfo=zone)
            rule["until"] = until.astimezone(ZoneInfo("UTC"))
        event.add("rrule", rule)
    return event


def calendar_bytes(
    sessions: Iterable[tuple[Session, str | None]], stamp: datetime, name: str, lang: str = "en"
) -> bytes:
    """An .ics file of sessions (each with its group's name, if any), with the time zones it needs, its
    words in ``lang``."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    for session, group_name in sessions:
        cal.add_component(_event(session, stamp, group_name, lang))
    cal.add_missing_timezones()
    data: bytes = cal.to_ical()
    return data
