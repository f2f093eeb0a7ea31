"""Reading a day's timetable from CSV, iCalendar or a Markdown/plain table; every bad line reported by number.

An import is all or nothing, and bounded before anything is read: the file's size, its number of sessions,
each cell's length (the limits of /agenda add, after cleaning), each session's length (at most 7 days).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar

from domain.errors import Invalid, TooLong
from domain.i18n import Text, t, tn
from domain.text import has_other_digits, quote, strip_controls
from domain.timeparse import parse_date

MAX_BYTES = 1_000_000
MAX_ROWS = 100
SHOWN_ERRORS = 8
SESSION_LONGEST = timedelta(days=7)
# What a session's texts may hold, after cleaning: /agenda add, /agenda edit and imports alike.
TEXT_MAX = {"title": 200, "moderators": 300, "note_taker": 100, "location": 300, "notes": 1000}
UTC_ZONE = ZoneInfo("UTC")
_TIME = re.compile(r"([0-9]{1,2})[:.h]([0-9]{2})")
_RANGE = re.compile(r"\s*([0-9]{1,2}[:.h][0-9]{2})\s*(?:-|–|—|to)\s*([0-9]{1,2}[:.h][0-9]{2})\s*")
_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}")
# One whole sentence per text, its limit and length filled in when refused.
_TOO_LONG = {
    "title": t("The title can be at most {limit} characters; this one has {count}."),
    "moderators": t("The moderators can be at most {limit} characters; this one has {count}."),
    "note_taker": t("The note taker can be at most {limit} characters; this one has {count}."),
    "location": t("The location can be at most {limit} characters; this one has {count}."),
    "notes": t("The notes can be at most {limit} characters; this one has {count}."),
}


class _Problem(ValueError):
    """What is wrong with one line of a timetable (a clause without its final full stop, named by line)."""

    def __init__(self, text: Text) -> None:
        super().__init__(str(text))
        self.text = text


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


def clean_session_text(key: str, value: str) -> str:
    """A session's text field (``title``, ``moderators``…) cleaned; raises TooLong past its limit."""
    cleaned = strip_controls(value)
    cleaned = cleaned.strip() if key == "notes" else " ".join(cleaned.split())
    limit = TEXT_MAX[key]
    if len(cleaned) > limit:
        raise TooLong(replace(_TOO_LONG[key], params={"limit": limit, "count": len(cleaned)}))
    return cleaned


def check_size(size: int) -> None:
    """Refuse a timetable file over 1 MB (before it is even downloaded)."""
    if size > MAX_BYTES:
        raise Invalid(t("Nothing was imported: the file is larger than 1 MB ({size} bytes).", size=size))


def bad_line(where: Text, problem: Text) -> Text:
    """One bad line of an import: where it is (``t("line {line_number}", ...)``) and what is wrong."""
    return t("{where}: {problem}", where=where, problem=problem)


def line(number: int) -> Text:
    """Where a problem is: a line of the file."""
    return t("line {line_number}", line_number=number)


def _listed(problems: list[Text]) -> Text:
    """Bad lines one after the other ("line 2: …; line 5: …"), in the language's own punctuation."""
    listed = problems[-1]
    for problem in reversed(problems[:-1]):
        listed = t("{problem}; {problems}", problem=problem, problems=listed)
    return listed


def refuse(errors: list[Text]) -> None:
    """Raise the all-or-nothing refusal listing the first bad lines, if there are any."""
    if not errors:
        return
    shown = _listed(errors[:SHOWN_ERRORS])
    if len(errors) > SHOWN_ERRORS:
        raise Invalid(
            tn(
                "Nothing was imported. {problems}; and {n} more.",
                "Nothing was imported. {problems}; and {n} more.",
                len(errors) - SHOWN_ERRORS,
                problems=shown,
            )
        )
    raise Invalid(t("Nothing was imported. {problems}.", problems=shown))


def _clock(text: str) -> time:
    cleaned = text.strip()
    if has_other_digits(cleaned):
        raise _Problem(t("“{text}” has digits other than 0-9", text=quote(cleaned, 20)))
    m = _TIME.fullmatch(cleaned)
    if not m:
        raise _Problem(t("“{text}” is not a time like 09:00", text=quote(cleaned, 20)))
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise _Problem(t("“{text}” is not a real time", text=quote(cleaned, 20)))
    return time(0, 0) if hour == 24 else time(hour, minute)


def _moment(text: str, day: date | None, zone: ZoneInfo = UTC_ZONE) -> datetime:
    """``09:00`` on the import's day, or a full ``YYYY-MM-DD HH:MM``."""
    cleaned = " ".join(text.strip().split())
    if " " in cleaned or "T" in cleaned:
        if has_other_digits(cleaned):
            raise _Problem(t("“{text}” has digits other than 0-9", text=quote(cleaned, 30)))
        try:
            moment = datetime.fromisoformat(cleaned.replace("T", " "))
            # a time with an offset (09:00Z, 09:00+01:00) becomes wall time in the import's zone
            return moment.astimezone(zone).replace(tzinfo=None) if moment.tzinfo else moment
        except (ValueError, OverflowError):
            raise _Problem(
                t("“{text}” is not a date and time like 2026-11-24 09:00", text=quote(cleaned, 30))
            ) from None
    if day is None:
        raise _Problem(t("a time without a date: give the import's date option, or full dates in the file"))
    return datetime.combine(day, _clock(cleaned))


def _day(text: str) -> date:
    """The date column of a CSV line (``YYYY-MM-DD``), as parse_date reads it."""
    try:
        return parse_date(text)
    except Invalid:
        if has_other_digits(text):
            raise _Problem(
                t(
                    "“{text}” has digits other than 0-9; type it with the digits 0-9, e.g. {example}",
                    text=quote(text),
                    example="2026-11-24",
                )
            ) from None
        raise _Problem(
            t("“{text}” is not a date like {example}", text=quote(text, 30), example="2026-11-24")
        ) from None


def _span(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if end <= start:
        if end.time() == time(0, 0):
            end += timedelta(days=1)  # "23:00-24:00"
        else:
            raise _Problem(t("the end is not after the start"))
    if end - start > SESSION_LONGEST:
        raise _Problem(
            t(
                "the session lasts longer than 7 days ({start} to {end})",
                start=start.strftime("%Y-%m-%d %H:%M"),
                end=end.strftime("%Y-%m-%d %H:%M"),
            )
        )
    return start, end


def _check(rows: list[TimetableRow], errors: list[Text]) -> list[TimetableRow]:
    refuse(errors)
    if not rows:
        raise Invalid(t("Nothing was imported: the file has no sessions I can read."))
    return rows


def _too_many(count: int) -> Invalid:
    return Invalid(
        t(
            "Nothing was imported: at most {limit} sessions at once; this file has {count}.",
            limit=MAX_ROWS,
            count=count,
        )
    )


class _Cells:
    """Cleans a row's texts, noting each one over its limit as an error naming the line and the column."""

    def __init__(self, errors: list[Text], where: Text) -> None:
        self.errors = errors
        self.where = where

    def text(self, key: str, value: str, column: Text | str) -> str:
        try:
            return clean_session_text(key, value)
        except TooLong:
            cleaned = strip_controls(value)
            self.errors.append(
                t(
                    "{where}, {column}: longer than {limit} characters (it has {count})",
                    where=self.where,
                    column=column,
                    limit=TEXT_MAX[key],
                    count=len(cleaned),
                )
            )
            return ""

    def title(self, value: str, column: Text | str) -> str:
        before = len(self.errors)
        title = self.text("title", value, column)
        if not title and len(self.errors) == before:
            self.errors.append(bad_line(self.where, t("the session has no title")))
        return title


def parse_table(text: str, day: date | None) -> list[TimetableRow]:
    """A Markdown or plain table: ``09:00-12:00 | Title`` per line; a header and separator rows are skipped."""
    rows: list[TimetableRow] = []
    errors: list[Text] = []
    count = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or _SEPARATOR.match(stripped):
            continue
        cells = [c.strip() for c in stripped.strip("|").split("|")]
        if len(cells) < 2:
            errors.append(bad_line(line(number), t("expected “time range | title”")))
            continue
        match = _RANGE.fullmatch(cells[0])
        if match is None:
            if not rows and not errors and not any(ch.isdigit() for ch in cells[0]):
                continue  # the header row, e.g. "Time | Session"
            problem = (
                t("“{text}” has digits other than 0-9", text=quote(cells[0], 20))
                if has_other_digits(cells[0])
                else t("“{text}” is not a time range like 09:00-12:00", text=quote(cells[0], 20))
            )
            errors.append(bad_line(line(number), problem))
            continue
        count += 1
        if count > MAX_ROWS:
            continue
        if day is None:
            errors.append(
                bad_line(line(number), t("the table has times but no date: give the import's date option"))
            )
            continue
        try:
            start, end = _span(
                datetime.combine(day, _clock(match.group(1))), datetime.combine(day, _clock(match.group(2)))
            )
        except _Problem as exc:
            errors.append(bad_line(line(number), exc.text))
            continue
        cell = _Cells(errors, line(number))
        title = cell.title(cells[1], t("column 2 (title)"))
        extra = cells[2:]
        moderators = cell.text("moderators", extra[0], t("column 3 (moderators)")) if extra else ""
        location = cell.text("location", extra[1], t("column 4 (location)")) if len(extra) > 1 else ""
        rows.append(TimetableRow(number, title, start, end, moderators=moderators, location=location))
    if count > MAX_ROWS:
        raise _too_many(count)
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
    records: list[tuple[int, list[str]]] = []
    try:
        records = [(reader.line_num, cells) for cells in reader if any(c.strip() for c in cells)]
    except csv.Error as exc:
        detail = t("a cell is far too long") if "field larger" in str(exc) else str(exc)
        raise Invalid(
            t(
                "Nothing was imported: line {line_number}: {detail}.",
                line_number=reader.line_num,
                detail=detail,
            )
        ) from None
    if not records:
        raise Invalid(t("Nothing was imported: the CSV file is empty."))
    (_, header), body = records[0], records[1:]
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    columns = [_CSV_ALIASES.get(n, "") for n in names]
    missing = [c for c in ("start", "end", "title") if c not in columns]
    if missing:
        raise Invalid(
            t(
                "Nothing was imported: line 1 (the header) lacks the column(s) {columns}.",
                columns=", ".join(missing),
            )
        )
    twice = sorted({c for c in columns if c and columns.count(c) > 1})
    if twice:
        raise Invalid(
            t(
                "Nothing was imported: line 1 (the header) names the column(s) {columns} twice.",
                columns=", ".join(twice),
            )
        )
    if len(body) > MAX_ROWS:
        raise _too_many(len(body))
    rows: list[TimetableRow] = []
    errors: list[Text] = []
    for number, cells in body:
        record = {col: cells[i].strip() for i, col in enumerate(columns) if col and i < len(cells)}
        header_of = {col: names[i] for i, col in enumerate(columns) if col}
        try:
            row_day = _day(record["date"]) if record.get("date") else day
            start, end = _span(
                _moment(record.get("start", ""), row_day, zone), _moment(record.get("end", ""), row_day, zone)
            )
        except _Problem as exc:
            errors.append(bad_line(line(number), exc.text))
            continue
        cell = _Cells(errors, line(number))
        title = cell.title(record.get("title", ""), t("column {column}", column=header_of["title"]))
        texts = {
            key: cell.text(key, record.get(key, ""), t("column {column}", column=header_of[key]))
            if key in header_of
            else ""
            for key in ("moderators", "location", "notes")
        }
        rows.append(TimetableRow(number, title, start, end, **texts))
    return _check(rows, errors)


def _event_lines(data: bytes) -> list[int]:
    """The line number of each ``BEGIN:VEVENT`` in the file, in order."""
    return [
        number
        for number, line in enumerate(data.split(b"\n"), start=1)
        if line.strip().upper() == b"BEGIN:VEVENT"
    ]


def parse_ics(data: bytes, zone: ZoneInfo) -> list[TimetableRow]:
    """VEVENTs of an iCalendar file, their times converted to wall time in ``zone``; repeating events refused."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise Invalid(
            t("Nothing was imported: the .ics file cannot be read ({detail}).", detail=quote(str(exc), 80))
        ) from None
    events = list(calendar.walk("VEVENT"))
    if len(events) > MAX_ROWS:
        raise _too_many(len(events))
    lines = _event_lines(data)
    rows: list[TimetableRow] = []
    errors: list[Text] = []
    for number, event in enumerate(events, start=1):
        at = lines[number - 1] if len(lines) == len(events) else number
        where = (
            t("line {line_number} (event {event_number})", line_number=at, event_number=number)
            if len(lines) == len(events)
            else t("event {event_number}", event_number=number)
        )
        if any(key in event for key in ("RRULE", "RDATE")):
            errors.append(
                bad_line(
                    where, t("the event repeats; import single events, or add it with /agenda add repeat")
                )
            )
            continue
        try:
            start_value = event.decoded("DTSTART")
            end_value = event.decoded("DTEND") if "DTEND" in event else None
            if end_value is None and "DURATION" in event:
                end_value = start_value + event.decoded("DURATION")
        except (KeyError, ValueError, TypeError, OverflowError):
            errors.append(bad_line(where, t("no readable DTSTART")))
            continue
        if not isinstance(start_value, datetime) or (
            end_value is not None and not isinstance(end_value, datetime)
        ):
            errors.append(bad_line(where, t("all-day events are not sessions; give start and end times")))
            continue
        try:
            begin = start_value if start_value.tzinfo else start_value.replace(tzinfo=zone)
            finish = (
                (end_value if end_value.tzinfo else end_value.replace(tzinfo=zone)) if end_value else None
            )
            start = begin.astimezone(zone).replace(tzinfo=None)
            end = finish.astimezone(zone).replace(tzinfo=None) if finish else start + timedelta(hours=1)
        except (OverflowError, ValueError):
            errors.append(bad_line(where, t("its time is outside the calendar I can use")))
            continue
        if (finish or begin + timedelta(hours=1)) <= begin:
            errors.append(bad_line(where, t("the end is not after the start")))
            continue
        try:
            _span(start, end)
        except _Problem as exc:
            errors.append(bad_line(where, exc.text))
            continue
        cell = _Cells(errors, where)
        title = cell.title(str(event.get("SUMMARY", "")), "SUMMARY")
        location = cell.text("location", str(event.get("LOCATION", "")), "LOCATION")
        notes = cell.text("notes", str(event.get("DESCRIPTION", "")), "DESCRIPTION")
        rows.append(TimetableRow(at, title, start, end, location=location, notes=notes))
    return _check(rows, errors)


def parse_timetable(data: bytes, filename: str, day: date | None, zone: ZoneInfo) -> list[TimetableRow]:
    """Read a timetable file by its name and content: .ics, .csv, else a Markdown/plain table."""
    check_size(len(data))
    name = filename.lower()
    if name.endswith((".ics", ".ical")) or data.lstrip().startswith(
        (b"BEGIN:VCALENDAR", b"\xef\xbb\xbfBEGIN:VCALENDAR")
    ):
        return parse_ics(data.removeprefix(b"\xef\xbb\xbf"), zone)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(
            t(
                "Nothing was imported: the file is not UTF-8 text (line {line_number}); save it as UTF-8 and try again.",
                line_number=data[: exc.start].count(b"\n") + 1,
            )
        ) from None
    first = text.lstrip().split("\n", 1)[0].lower()
    if name.endswith(".csv") or ("," in first and "start" in first and "|" not in first):
        return parse_csv(text, day, zone)
    return parse_table(text, day)
