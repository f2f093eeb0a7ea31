"""Reading a day's timetable: Markdown or plain tables, CSV and iCalendar, all or nothing, bad lines named."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from domain.errors import Invalid
from domain.timetable import (
    MAX_BYTES,
    MAX_ROWS,
    TimetableRow,
    check_size,
    parse_csv,
    parse_ics,
    parse_table,
    parse_timetable,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
UTC_ZONE = ZoneInfo("UTC")
DAY = date(2026, 12, 3)

SAMPLE = """Time        | Session
09:00-12:00 | Civil society awareness raising and coordination session 1
12:00-13:00 | Lunch
"""

MARKDOWN = """| Time        | Session                                                     | Moderators  | Room   |
|-------------|-------------------------------------------------------------|-------------|--------|
| 09:00-12:00 | Civil society awareness raising and coordination session 1  | Ana, Bruno  | Room 2 |
| :---------- | ---                                                         |             |        |
| 12:00-13:00 | Lunch                                                       |             |        |
"""


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    """A naive wall time on the import's day."""
    return datetime(day.year, day.month, day.day, hour, minute)


def spans(rows: list[TimetableRow]) -> list[tuple[int, str, datetime, datetime]]:
    """(line, title, start, end) of each row."""
    return [(r.line, r.title, r.start, r.end) for r in rows]


def refusal(err: pytest.ExceptionInfo[Invalid]) -> str:
    """The import was refused as a whole, in plain words."""
    assert type(err.value) is Invalid, type(err.value).__name__
    text = str(err.value)
    assert text.startswith("Nothing was imported"), text
    assert text.endswith(".") and "Traceback" not in text and "\n" not in text, text
    return text


def ics(*events: str) -> bytes:
    """An iCalendar file around some VEVENT bodies, with CRLF line ends."""
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN"]
    for number, event in enumerate(events, start=1):
        body += ["BEGIN:VEVENT", f"UID:e{number}@test", "DTSTAMP:20261130T120000Z", *event.split("\n")]
        body.append("END:VEVENT")
    body.append("END:VCALENDAR")
    return ("\r\n".join(body) + "\r\n").encode()


# -- tables ------------------------------------------------------------------------------------


def test_the_products_sample_table() -> None:
    rows = parse_timetable(SAMPLE.encode(), "day.txt", DAY, PARIS)

    assert spans(rows) == [
        (2, "Civil society awareness raising and coordination session 1", at(9), at(12)),
        (3, "Lunch", at(12), at(13)),
    ]
    assert all((r.moderators, r.location, r.notes) == ("", "", "") for r in rows)


def test_a_markdown_table_skips_its_header_and_separator_rows() -> None:
    rows = parse_timetable(MARKDOWN.encode(), "day.md", DAY, PARIS)

    assert spans(rows) == [
        (3, "Civil society awareness raising and coordination session 1", at(9), at(12)),
        (5, "Lunch", at(12), at(13)),
    ]
    assert (rows[0].moderators, rows[0].location) == ("Ana, Bruno", "Room 2")
    assert (rows[1].moderators, rows[1].location) == ("", "")


def test_a_plain_table_without_header() -> None:
    text = "\n09:00-10:30 |  Opening   plenary \n\n10:30-11:00|Coffee|Staff|Hall\n"

    rows = parse_table(text, DAY)

    assert spans(rows) == [(2, "Opening plenary", at(9), at(10, 30)), (4, "Coffee", at(10, 30), at(11))]
    assert (rows[1].moderators, rows[1].location) == ("Staff", "Hall")


@pytest.mark.parametrize(
    "cell",
    [
        "09.00 – 12.00",
        "09.00–12.00",
        "9:00-12:00",
        "09:00 - 12:00",
        "09:00—12:00",
        "09h00 to 12h00",
        "9.00 to 12:00",
    ],
)
def test_time_range_spellings(cell: str) -> None:
    (row,) = parse_table(f"{cell} | Session 1", DAY)

    assert (row.start, row.end) == (at(9), at(12))


def test_a_session_ending_at_midnight_ends_the_next_day() -> None:
    (row,) = parse_table("23:00-24:00 | Night owls", DAY)

    assert (row.start, row.end) == (at(23), at(0, day=DAY + timedelta(days=1)))
    assert row.end - row.start == timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("09:00-12:00 | A\n12:00-11:00 | B\n", ["line 2", "end is not after the start"]),
        ("09:00-12:00 | A\n25:00-26:00 | B\n", ["line 2", "not a real time"]),
        ("09:00-12:00 | A\n09:60-10:00 | B\n", ["line 2", "not a real time"]),
        ("09:00-12:00 | A\n24:30-25:00 | B\n", ["line 2"]),
        ("09:00-12:00 | A\nafter lunch | B\n", ["line 2", "not a time range"]),  # a header only comes first
        ("09:00-12:00 | A\n13:00-14:00\n", ["line 2", "time range | title"]),
        ("09:00-12:00 | A\n| 13:00-14:00 |   | Ana |\n", ["line 2", "no title"]),
        (f"09:00-12:00 | {'x' * 201}\n", ["line 1", "longer than 200"]),
        ("Time | Session\n", ["no sessions"]),
        ("", ["no sessions"]),
    ],
)
def test_a_bad_table_is_refused_naming_its_lines(text: str, fragments: list[str]) -> None:
    with pytest.raises(Invalid) as err:
        parse_table(text, DAY)

    message = refusal(err)
    for fragment in fragments:
        assert fragment in message, message


def test_a_table_needs_the_imports_date() -> None:
    with pytest.raises(Invalid) as err:
        parse_timetable(SAMPLE.encode(), "day.md", None, PARIS)

    message = refusal(err)
    assert "line 2" in message and "line 3" in message and "date" in message


def test_every_bad_line_is_listed_up_to_eight_then_counted() -> None:
    lines = ["Time | Session"] + [f"{h:02d}:00-{h:02d}:00 | Empty slot" for h in range(8, 18)]

    with pytest.raises(Invalid) as err:
        parse_table("\n".join(lines), DAY)

    message = refusal(err)
    assert [f"line {n}:" in message for n in range(2, 12)] == [True] * 8 + [False] * 2
    assert message.endswith("; and 2 more.")


def test_at_most_a_hundred_sessions_at_once() -> None:
    hundred = "\n".join(
        f"{9 + i // 60:02d}:{i % 60:02d}-{9 + (i + 1) // 60:02d}:{(i + 1) % 60:02d} | Slot {i}"
        for i in range(MAX_ROWS)
    )
    assert len(parse_timetable(hundred.encode(), "day.md", DAY, PARIS)) == MAX_ROWS

    with pytest.raises(Invalid) as err:
        parse_timetable((hundred + "\n20:00-21:00 | One too many").encode(), "day.md", DAY, PARIS)

    assert "at most 100 sessions at once; this file has 101" in refusal(err)


# -- CSV ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "start,end,title,moderator,location,notes,date",
        "Start , END,Session,Moderators,Room,Description,Date",
        "begin,until,name,moderator,link,note,date",
        "from,to,title,moderators,location,notes,date",
    ],
)
def test_csv_header_aliases(header: str) -> None:
    text = f'{header}\n09:00,12:00,Opening,"Ana, Bruno",Room 2,Bring the draft,2026-12-03\n13:00,14:30,Slam,,,,\n'

    rows = parse_csv(text, date(2026, 12, 4))

    assert spans(rows) == [
        (2, "Opening", at(9), at(12)),
        (3, "Slam", at(13, day=date(2026, 12, 4)), at(14, 30, day=date(2026, 12, 4))),
    ]
    assert (rows[0].moderators, rows[0].location, rows[0].notes) == (
        "Ana, Bruno",
        "Room 2",
        "Bring the draft",
    )
    assert (rows[1].moderators, rows[1].location, rows[1].notes) == ("", "", "")


def test_csv_columns_in_any_order_and_unknown_ones_ignored() -> None:
    text = "room,title,colour,end,start\nHall,Opening,blue,10:00,09:00\n"

    (row,) = parse_csv(text, DAY)

    assert (row.line, row.title, row.start, row.end, row.location) == (2, "Opening", at(9), at(10), "Hall")


@pytest.mark.parametrize(
    ("header", "missing"),
    [("start,title", "end"), ("time,session", "start, end"), ("from,to,room", "title")],
)
def test_csv_missing_a_column_reports_line_1(header: str, missing: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_csv(f"{header}\n09:00,Opening,Room\n", DAY)

    assert f"line 1 (the header) lacks the column(s) {missing}" in refusal(err)


def test_csv_rows_with_full_dates_need_no_import_date() -> None:
    text = (
        "start,end,title\n"
        "2026-12-03 09:00,2026-12-03 12:00,Day one\n"
        "\n"
        "2026-12-04T23:00,2026-12-05 01:30,Night session\n"
    )

    rows = parse_timetable(text.encode(), "week.csv", None, PARIS)

    assert spans(rows) == [
        (2, "Day one", at(9), at(12)),
        (4, "Night session", at(23, day=date(2026, 12, 4)), at(1, 30, day=date(2026, 12, 5))),
    ]


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("start,end,title\n09:00,10:00,A\n", ["line 2", "without a date"]),
        (
            "start,end,title,date\n09:00,10:00,A,2026-12-03\n10:00,9:00,B,2026-12-03\n",
            ["line 3", "not after"],
        ),
        ("start,end,title,date\n09:00,10:00,A,2026-12-03\n9am,10am,B,2026-12-03\n", ["line 3", "not a time"]),
        ("start,end,title\n2026-12-03 09:00,2026-13-03 10:00,A\n", ["line 2", "not a date and time"]),
        ("start,end,title,date\n09:00,10:00,,2026-12-03\n", ["line 2", "no title"]),
        ("start,end,title,date\n09:00,10:00,A,3 December\n", ["line 2"]),
        ("", ["empty"]),
        ("start,end,title\n\n", ["no sessions"]),
    ],
)
def test_bad_csv_rows_are_refused_by_line(text: str, fragments: list[str]) -> None:
    with pytest.raises(Invalid) as err:
        parse_csv(text, None)

    message = refusal(err)
    for fragment in fragments:
        assert fragment in message, message


def test_csv_is_recognised_by_its_header_without_the_extension() -> None:
    rows = parse_timetable(b"start,end,title\n09:00,10:00,Opening\n", "pasted.txt", DAY, PARIS)

    assert spans(rows) == [(2, "Opening", at(9), at(10))]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("day.csv", "start,end,title\n09:00,10:00,Opening\n"),
        ("day.md", "Time | Session\n09:00-10:00 | Opening\n"),
    ],
)
def test_a_byte_order_mark_is_ignored(name: str, text: str) -> None:
    rows = parse_timetable(b"\xef\xbb\xbf" + text.encode(), name, DAY, PARIS)

    assert spans(rows) == [(2, "Opening", at(9), at(10))]
    assert spans(parse_csv("\ufeffstart,end,title\n09:00,10:00,Opening\n", DAY)) == spans(rows)


def test_a_csv_time_with_an_offset_next_to_one_without_is_converted() -> None:
    # A time with an offset becomes wall time in the import's zone, next to one given as wall time.
    text = "start,end,title\n2026-12-03 09:00+01:00,2026-12-03 10:00,Opening\n"

    [row] = parse_csv(text, None, ZoneInfo("Europe/Paris"))

    assert (row.start, row.end) == (datetime(2026, 12, 3, 9, 0), datetime(2026, 12, 3, 10, 0))


# -- iCalendar ---------------------------------------------------------------------------------


def test_ics_times_are_converted_to_the_imports_zone() -> None:
    data = ics(
        "SUMMARY:From New York\nDTSTART;TZID=America/New_York:20261203T090000\n"
        "DTEND;TZID=America/New_York:20261203T103000\nLOCATION:Zoom\nDESCRIPTION:Bring the draft",
        "SUMMARY:In UTC\nDTSTART:20261203T080000Z\nDURATION:PT45M",
        "SUMMARY:Floating\nDTSTART:20261203T110000",
    )

    rows = parse_timetable(data, "agenda.ics", None, PARIS)

    assert spans(rows) == [
        (4, "From New York", at(15), at(16, 30)),  # 09:00 EST = 14:00 UTC = 15:00 in Paris
        (13, "In UTC", at(9), at(9, 45)),  # each row's line is where its BEGIN:VEVENT is
        (20, "Floating", at(11), at(12)),  # no zone: the import's; no end: one hour
    ]
    assert (rows[0].location, rows[0].notes) == ("Zoom", "Bring the draft")


def test_ics_built_with_icalendar_and_recognised_by_content() -> None:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Test//EN")
    cal.add("version", "2.0")
    event = icalendar.Event()
    event.add("uid", "x@test")
    event.add("dtstamp", datetime(2026, 11, 30, 12, 0, tzinfo=UTC_ZONE))
    event.add("summary", "Summer call")
    event.add("dtstart", datetime(2027, 7, 1, 9, 0, tzinfo=NEW_YORK))
    event.add("dtend", datetime(2027, 7, 1, 10, 0, tzinfo=NEW_YORK))
    cal.add_component(event)
    cal.add_missing_timezones()

    data = cal.to_ical()
    rows = parse_timetable(data, "download", None, PARIS)

    line = data.split(b"\n").index(b"BEGIN:VEVENT\r") + 1
    assert spans(rows) == [(line, "Summer call", datetime(2027, 7, 1, 15, 0), datetime(2027, 7, 1, 16, 0))]


def test_an_all_day_ics_event_is_refused() -> None:
    data = ics(
        "SUMMARY:Plenary\nDTSTART:20261203T080000Z\nDTEND:20261203T090000Z",
        "SUMMARY:Conference day\nDTSTART;VALUE=DATE:20261203\nDTEND;VALUE=DATE:20261204",
    )

    with pytest.raises(Invalid) as err:
        parse_ics(data, PARIS)

    assert "line 11 (event 2): all-day events are not sessions" in refusal(err)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (
            ics("SUMMARY:Backwards\nDTSTART:20261203T100000Z\nDTEND:20261203T090000Z"),
            "line 4 (event 1): the end is not after",
        ),
        (ics("SUMMARY:No start\nDTEND:20261203T090000Z"), "line 4 (event 1): no readable DTSTART"),
        (ics(), "no sessions"),
        (b"BEGIN:VCALENDAR\r\nthis is not\r\n", "cannot be read"),
    ],
)
def test_bad_ics_files_are_refused(data: bytes, fragment: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_timetable(data, "agenda.ics", None, PARIS)

    assert fragment in refusal(err)


def test_an_untitled_ics_event_is_named_as_an_event_not_a_line() -> None:
    # BUG: domain/timetable.py parse_ics (line 199) passes the event's number to _title, which words it as
    # "line 2"; every other .ics error says "event 2", and line 2 of an .ics file is not where the problem is.
    data = ics("SUMMARY:Plenary\nDTSTART:20261203T080000Z", "DTSTART:20261203T100000Z")

    with pytest.raises(Invalid) as err:
        parse_ics(data, PARIS)

    message = refusal(err)
    assert "the session has no title" in message
    assert "event 2" in message, message


# -- files -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    ["Time | Session\n09:00-10:00 | Café\n".encode("latin-1"), "09:00-10:00 | Opening\n".encode("utf-16")],
)
def test_a_file_that_is_not_utf8_is_refused(data: bytes) -> None:
    with pytest.raises(Invalid) as err:
        parse_timetable(data, "day.md", DAY, PARIS)

    assert "not UTF-8" in refusal(err)


def test_a_file_over_one_megabyte_is_refused() -> None:
    data = SAMPLE.encode() + b" " * 1_000_001

    with pytest.raises(Invalid) as err:
        parse_timetable(data, "day.md", DAY, PARIS)

    assert "larger than 1 MB" in refusal(err)


# -- bounds: every bad line named, nothing imported ----------------------------------------------


def test_a_file_of_exactly_one_megabyte_is_read_one_byte_more_is_not() -> None:
    padded = SAMPLE.encode().ljust(MAX_BYTES, b" ")
    assert len(parse_timetable(padded, "day.md", DAY, PARIS)) == 2

    with pytest.raises(Invalid) as err:
        parse_timetable(padded + b" ", "day.md", DAY, PARIS)
    assert "larger than 1 MB (1,000,001 bytes)" in refusal(err)

    with pytest.raises(Invalid) as err:
        check_size(MAX_BYTES + 1)  # what /agenda import asks before downloading the attachment
    assert "larger than 1 MB" in refusal(err)


def test_a_session_of_seven_days_is_read_seven_days_and_a_minute_is_not() -> None:
    text = (
        "start,end,title\n"
        "2026-12-03 09:00,2026-12-10 09:00,A week\n"
        "2026-12-03 09:00,2026-12-10 09:01,A week and a minute\n"
    )

    with pytest.raises(Invalid) as err:
        parse_csv(text, None)

    message = refusal(err)
    assert "line 3: the session lasts longer than 7 days (2026-12-03 09:00 to 2026-12-10 09:01)" in message
    assert "line 2" not in message
    assert len(parse_csv(text.rsplit("\n", 2)[0] + "\n", None)) == 1


def test_an_ics_event_longer_than_seven_days_is_refused_naming_its_line() -> None:
    data = ics(
        "SUMMARY:Plenary\nDTSTART:20261203T080000Z\nDTEND:20261203T090000Z",
        "SUMMARY:Forever\nDTSTART:20261203T080000Z\nDTEND:20261210T080100Z",
    )

    with pytest.raises(Invalid) as err:
        parse_ics(data, PARIS)

    assert "line 11 (event 2): the session lasts longer than 7 days" in refusal(err)


@pytest.mark.parametrize(
    ("column", "limit"), [("title", 200), ("moderators", 300), ("location", 300), ("notes", 1000)]
)
def test_a_cell_over_its_limit_is_refused_naming_line_and_column(column: str, limit: int) -> None:
    # These cells were cut short without a word ([:300]); /agenda add refuses them: so does the import.
    header = "start,end,title" + ("" if column == "title" else f",{column}")
    good, huge = (
        ("Opening", "x" * 100_000) if column == "title" else ("Opening,ok", "Second," + "x" * 100_000)
    )
    text = f"{header}\n09:00,10:00,{good}\n10:00,11:00,{huge}\n"

    with pytest.raises(Invalid) as err:
        parse_csv(text, DAY)

    message = refusal(err)
    assert f"line 3, column {column}: longer than {limit:,} characters (it has 100,000)" in message
    assert "line 2" not in message


def test_cells_are_cleaned_before_they_are_measured() -> None:
    cell = "Ana" + "\u200b" * 5000 + "\x00, Bruno\u202e"  # 5,000 invisible characters, a NUL, an override
    text = f'start,end,title,moderators\n09:00,10:00,"Opening\x00","{cell}"\n'

    (row,) = parse_csv(text, DAY)

    assert (row.title, row.moderators) == ("Opening", "Ana, Bruno")


def test_a_huge_csv_field_is_refused_naming_its_line() -> None:
    # Python's csv module raises "field larger than field limit (131072)": it was "Something went wrong".
    text = f"start,end,title\n09:00,10:00,Opening\n10:00,11:00,{'x' * 200_000}\n"

    with pytest.raises(Invalid) as err:
        parse_timetable(text.encode(), "day.csv", DAY, PARIS)

    assert "line 3: a cell is far too long" in refusal(err)


def test_a_table_cell_of_100000_characters_is_refused() -> None:
    with pytest.raises(Invalid) as err:
        parse_table(f"09:00-10:00 | Opening | {'m' * 100_000}\n", DAY)

    assert "line 1, column 3 (moderators): longer than 300 characters (it has 100,000)" in refusal(err)


def test_too_many_rows_are_refused_whatever_the_format() -> None:
    csv_text = "start,end,title\n" + "".join(f"09:00,10:00,Slot {n}\n" for n in range(MAX_ROWS + 1))
    many_events = ics(*[f"SUMMARY:S{n}\nDTSTART:20261203T080000Z" for n in range(5000)])

    for data, name in ((csv_text.encode(), "day.csv"), (many_events, "day.ics")):
        with pytest.raises(Invalid) as err:
            parse_timetable(data, name, DAY, PARIS)
        assert f"at most {MAX_ROWS} sessions at once" in refusal(err)


@pytest.mark.parametrize(
    "rule", ["RRULE:FREQ=WEEKLY;COUNT=10", "RRULE:FREQ=SOMETIMES;BYDAY=XX", "RDATE:20261210T080000Z"]
)
def test_a_repeating_ics_event_is_refused_naming_its_line(rule: str) -> None:
    # It was imported as one session, its repetitions silently dropped.
    data = ics(
        "SUMMARY:Plenary\nDTSTART:20261203T080000Z", f"SUMMARY:Weekly call\nDTSTART:20261203T100000Z\n{rule}"
    )

    with pytest.raises(Invalid) as err:
        parse_timetable(data, "agenda.ics", None, PARIS)

    message = refusal(err)
    assert "line 10 (event 2): the event repeats" in message, message


def test_an_ics_time_outside_the_calendar_is_refused_naming_its_line() -> None:
    # 0001-01-01 00:00 UTC is in the year 0 in New York: converting it raised OverflowError.
    data = ics("SUMMARY:Ancient\nDTSTART:00010101T000000Z\nDTEND:00010101T010000Z")

    with pytest.raises(Invalid) as err:
        parse_ics(data, NEW_YORK)

    assert "line 4 (event 1): its time is outside the calendar" in refusal(err)


def test_an_ics_file_with_a_byte_order_mark() -> None:
    data = b"\xef\xbb\xbf" + ics("SUMMARY:Plenary\nDTSTART:20261203T080000Z")

    (row,) = parse_timetable(data, "calendar", None, PARIS)

    assert (row.line, row.title, row.start) == (4, "Plenary", at(9))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("٠٩:٠٠-١٠:٠٠ | Opening\n", "line 1: “٠٩:٠٠-١٠:٠٠” has digits other than 0-9"),
        (
            "09:00-10:00 | Opening\nLunch | Hall\n",
            "line 2: “Lunch” is not a time range",
        ),  # a line with no times
        ("09:00-10:00 | Opening\n| Lunch |\n", "line 2: expected “time range | title”"),
        ("09:00-10:00 | \x00\u200b\n", "line 1: the session has no title"),
    ],
)
def test_table_lines_without_usable_times_or_titles(text: str, fragment: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_table(text, DAY)

    assert fragment in refusal(err)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("start,end,title,date\n09:00,10:00,A,20261203\n", "line 2: “20261203” is not a date"),
        (
            "start,end,title,date\n09:00,10:00,A,２０２６-12-03\n",
            "line 2: “２０２６-12-03” has digits other than 0-9",
        ),
        ("start,end,title\n٢٠٢٦-12-03 09:00,2026-12-03 10:00,A\n", "line 2: “٢٠٢٦-12-03 09:00” has digits"),
        ("start,end,title,session\n09:00,10:00,A,B\n", "line 1 (the header) names the column(s) title twice"),
    ],
)
def test_csv_dates_in_one_spelling_and_one_column_each(text: str, fragment: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_csv(text, DAY)

    assert fragment in refusal(err)


def test_a_file_that_is_not_utf8_names_the_line() -> None:
    data = "Time | Session\n09:00-10:00 | Opening\n10:00-11:00 | Café\n".encode("latin-1")

    with pytest.raises(Invalid) as err:
        parse_timetable(data, "day.md", DAY, PARIS)

    assert "not UTF-8 text (line 3)" in refusal(err)


def test_binary_garbage_is_refused() -> None:
    garbage = bytes(range(256)) * 100

    for name in ("day.md", "day.csv", "day.ics"):
        with pytest.raises(Invalid) as err:
            parse_timetable(garbage, name, DAY, PARIS)
        refusal(err)
