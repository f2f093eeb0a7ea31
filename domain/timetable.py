"""Reading a day's timetable from CSV, iCalendar or a Markdown/plain table; every bad line reported by number."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar

from domain.errors import Invalid
from domain.text import strip_controls

MAX_ROWS = 100
UTC_ZONE = ZoneInfo("UTC")
_TIME = re.compile(r"^(\d{1,2})[:.h](\d{2})$")
_RANGE = re.compile(r"^\s*(\d{1,2}[:.h]\d{2})\s*(?:-|–|—|to)\s*(\d{1,2}[:.h]\d{2})\s*$")
_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}")


@dataclass(frozen=True)
class TimetableRow:
    """One session read from a timetable, in wall time of the import's zone."""

    line: int
    title: str
    start: datetime  # naive wall time
    end: datetime  # naive wall time
    moderators: str = ""
    location: str = ""
    notes: str = ""


def _clock(text: str) -> time:
    m = _TIME.match(text.strip())
    if not m:
        raise ValueError(f"“{text.strip()[:20]}” is not a time like 09:00")
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise ValueError(f"“{text.strip()}” is not a real time")
    return time(0, 0) if hour == 24 else time(hour, minute)


def _moment(text: str, day: date | None, zone: ZoneInfo = UTC_ZONE) -> datetime:
    """``09:00`` on the import's day, or a full ``YYYY-MM-DD HH:MM``."""
    cleaned = " ".join(text.strip().split())
    if " " in cleaned or "T" in cleaned:
        try:
            moment = datetime.fromisoformat(cleaned.replace("T", " "))
            # a time with an offset (09:00Z, 09:00+01:00) becomes wall time in the import's zone
            return moment.astimezone(zone).replace(tzinfo=None) if moment.tzinfo else moment
        except ValueError:
            raise ValueError(f"“{cleaned[:30]}” is not a date and time like 2026-11-24 09:00") from None
    if day is None:
        raise ValueError("a time without a date: give the import's date option, or full dates in the file")
    return datetime.combine(day, _clock(cleaned))


def _span(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if end <= start:
        if end.time() == time(0, 0):
            end += timedelta(days=1)  # "23:00-24:00"
        else:
            raise ValueError("the end is not after the start")
    return start, end


def _check(rows: list[TimetableRow], errors: list[str]) -> list[TimetableRow]:
    if errors:
        shown = "; ".join(errors[:8]) + (f"; and {len(errors) - 8} more" if len(errors) > 8 else "")
        raise Invalid(f"Nothing was imported. {shown}.")
    if not rows:
        raise Invalid("Nothing was imported: the file has no sessions I can read.")
    if len(rows) > MAX_ROWS:
        raise Invalid(
            f"Nothing was imported: at most {MAX_ROWS} sessions at once; this file has {len(rows)}."
        )
    return rows


def _title(text: str, line: int, errors: list[str], where: str = "line") -> str:
    title = " ".join(strip_controls(text).split())
    if not title:
        errors.append(f"{where} {line}: the session has no title")
    elif len(title) > 200:
        errors.append(f"{where} {line}: the title is longer than 200 characters")
    return title[:200]


def parse_table(text: str, day: date | None) -> list[TimetableRow]:
    """A Markdown or plain table: ``09:00-12:00 | Title`` per line; a header and separator rows are skipped."""
    rows: list[TimetableRow] = []
    errors: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or _SEPARATOR.match(line):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) < 2:
            errors.append(f"line {number}: expected “time range | title”")
            continue
        match = _RANGE.match(cells[0])
        if match is None:
            if not rows and not errors and not any(ch.isdigit() for ch in cells[0]):
                continue  # the header row, e.g. "Time | Session"
            errors.append(f"line {number}: “{cells[0][:20]}” is not a time range like 09:00-12:00")
            continue
        if day is None:
            errors.append(f"line {number}: the table has times but no date: give the import's date option")
            continue
        try:
            start, end = _span(
                datetime.combine(day, _clock(match.group(1))), datetime.combine(day, _clock(match.group(2)))
            )
        except ValueError as exc:
            errors.append(f"line {number}: {exc}")
            continue
        title = _title(cells[1], number, errors)
        extra = cells[2:]
        rows.append(TimetableRow(number, title, start, end, moderators=extra[0][:300] if extra else "",
                                 location=extra[1][:300] if len(extra) > 1 else ""))  # fmt: skip
    return _check(rows, errors)


_CSV_ALIASES = {
    "start": "start", "from": "start", "begin": "start",
    "end": "end", "to": "end", "until": "end",
    "title": "title", "session": "title", "name": "title",
    "moderator": "moderators", "moderators": "moderators",
    "location": "location", "room": "location", "link": "location",
    "notes": "notes", "note": "notes", "description": "notes",
    "date": "date",
}  # fmt: skip


def parse_csv(text: str, day: date | None, zone: ZoneInfo = UTC_ZONE) -> list[TimetableRow]:
    """CSV with a header naming at least start, end and title (moderator, location, notes, date optional)."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise Invalid("Nothing was imported: the CSV file is empty.") from None
    columns = [_CSV_ALIASES.get(h.strip().lower().lstrip("\ufeff"), "") for h in header]
    missing = [c for c in ("start", "end", "title") if c not in columns]
    if missing:
        raise Invalid(f"Nothing was imported: line 1 (the header) lacks the column(s) {', '.join(missing)}.")
    rows: list[TimetableRow] = []
    errors: list[str] = []
    for cells in reader:
        number = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        record = {col: cells[i].strip() for i, col in enumerate(columns) if col and i < len(cells)}
        try:
            row_day = date.fromisoformat(record["date"]) if record.get("date") else day
            start, end = _span(
                _moment(record.get("start", ""), row_day, zone), _moment(record.get("end", ""), row_day, zone)
            )
        except ValueError as exc:
            errors.append(f"line {number}: {exc}")
            continue
        title = _title(record.get("title", ""), number, errors)
        rows.append(TimetableRow(number, title, start, end, record.get("moderators", "")[:300],
                                 record.get("location", "")[:300], record.get("notes", "")[:1000]))  # fmt: skip
    return _check(rows, errors)


def parse_ics(data: bytes, zone: ZoneInfo) -> list[TimetableRow]:
    """VEVENTs of an iCalendar file, their times converted to wall time in ``zone``."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise Invalid(f"Nothing was imported: the .ics file cannot be read ({str(exc)[:80]}).") from None
    rows: list[TimetableRow] = []
    errors: list[str] = []
    for number, event in enumerate(calendar.walk("VEVENT"), start=1):
        where = f"event {number}"
        try:
            start_value = event.decoded("DTSTART")
            end_value = event.decoded("DTEND") if "DTEND" in event else None
            if end_value is None and "DURATION" in event:
                end_value = start_value + event.decoded("DURATION")
        except (KeyError, ValueError):
            errors.append(f"{where}: no readable DTSTART")
            continue
        if not isinstance(start_value, datetime) or (
            end_value is not None and not isinstance(end_value, datetime)
        ):
            errors.append(f"{where}: all-day events are not sessions; give start and end times")
            continue
        start = start_value if start_value.tzinfo else start_value.replace(tzinfo=zone)
        end = (
            (end_value if end_value.tzinfo else end_value.replace(tzinfo=zone))
            if end_value
            else start + timedelta(hours=1)
        )
        if end <= start:
            errors.append(f"{where}: the end is not after the start")
            continue
        title = _title(str(event.get("SUMMARY", "")), number, errors, "event")
        rows.append(TimetableRow(
            number, title, start.astimezone(zone).replace(tzinfo=None), end.astimezone(zone).replace(tzinfo=None),
            location=str(event.get("LOCATION", ""))[:300], notes=str(event.get("DESCRIPTION", ""))[:1000],
        ))  # fmt: skip
    return _check(rows, errors)


def parse_timetable(data: bytes, filename: str, day: date | None, zone: ZoneInfo) -> list[TimetableRow]:
    """Read a timetable file by its name and content: .ics, .csv, else a Markdown/plain table."""
    if len(data) > 1_000_000:
        raise Invalid("Nothing was imported: the file is larger than 1 MB.")
    name = filename.lower()
    if name.endswith((".ics", ".ical")) or data.lstrip().startswith(b"BEGIN:VCALENDAR"):
        return parse_ics(data, zone)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("Nothing was imported: the file is not UTF-8 text.") from None
    first = text.lstrip().split("\n", 1)[0].lower()
    if name.endswith(".csv") or ("," in first and "start" in first and "|" not in first):
        return parse_csv(text, day, zone)
    return parse_table(text, day)
