"""The agenda: sessions in wall time and an IANA zone, occurrences in UTC, reminders, imports and .ics export.

Every test runs against a real migrated SQLite file with a fake clock at 2026-11-30 12:00 UTC (13:00 in
Paris); the server's zone is UTC and its default reminders 1 day, 1 hour and 10 minutes before a start.
What the database holds is checked through a second, plain connection (tests/engines.py).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from dateutil.rrule import rrulestr

from domain import servers
from domain.agenda import (
    DIGEST,
    REMINDER,
    START,
    Agenda,
    Session,
    SessionSpec,
    _instant,
    expand,
    next_digest_at,
)
from domain.calendar import calendar_bytes
from domain.clock import FakeClock, to_unix
from domain.errors import Closed, Conflict, DomainError, Invalid, NotAllowed, NotFound, TooLong
from domain.groups import Group, Target, WorkingGroups
from domain.permissions import Actor, Policy
from domain.posts import Post
from storage.db import Database
from tests import engines

GUILD = 1001
OTHER_GUILD = 2002
UTC_ZONE = ZoneInfo("UTC")
PARIS = ZoneInfo("Europe/Paris")
T0 = int(datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp())  # the fake clock's start
MINUTE = 60
HOUR = 3600
DAY = 24 * HOUR
WEEK = 7 * DAY
HOME_CHANNEL = 555
ROLE = 777
OFFSETS = (timedelta(days=1), timedelta(hours=1), timedelta(minutes=10))

COORD = Actor(GUILD, 10, "Coco", role_names=frozenset({"coordinator"}))
CORA = Actor(GUILD, 20, "Cora")  # convener of Principles
OTTO = Actor(GUILD, 21, "Otto")  # convener of Roadmap
ALICE = Actor(GUILD, 30, "Alice")  # member of Principles
BOB = Actor(GUILD, 31, "Bob")  # member of Principles
OTHER_COORD = Actor(OTHER_GUILD, 10, "Coco elsewhere", manage_guild=True)
OTHER_MEMBER = Actor(OTHER_GUILD, 30, "Alice elsewhere")

TABLES = ("sessions", "occurrences", "session_subscribers", "agenda_imports", "scheduled_posts")

SAMPLE_TABLE = """Time        | Session
09:00-12:00 | Civil society awareness raising and coordination session 1
12:00-13:00 | Lunch
13:00-14:30 | Policy slam
"""


# -- helpers -----------------------------------------------------------------------------------


def rows(db: Database, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows as a second connection sees them (what is committed, not what the bot's connection holds)."""
    return engines.raw_rows(db.path, sql, params)


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the agenda tables hold, to show that a refusal changed nothing."""
    return {t: rows(db, f"SELECT * FROM {t} ORDER BY 1") for t in TABLES}


def posts(db: Database) -> list[tuple[str, int, str]]:
    """(kind, due_at, state) of every session post, by time."""
    return rows(
        db,
        "SELECT kind, due_at, state FROM scheduled_posts WHERE kind IN (?, ?) ORDER BY due_at, kind, state",
        (REMINDER, START),
    )


def pending(db: Database) -> list[tuple[str, int]]:
    """(kind, due_at) of the session posts still to go out."""
    return [(kind, due) for kind, due, state in posts(db) if state == "pending"]


def starts(db: Database, session: Session) -> list[int]:
    """The occurrences' UTC starts, by time."""
    return [
        r[0]
        for r in rows(
            db,
            "SELECT starts_at FROM occurrences WHERE session_id = ? ORDER BY starts_at",
            (session.session_id,),
        )
    ]


def unix(year: int, month: int, day: int, hour: int = 0, minute: int = 0, zone: ZoneInfo = UTC_ZONE) -> int:
    """Unix seconds of a wall time in a zone (never in a gap here)."""
    return to_unix(datetime(year, month, day, hour, minute, tzinfo=zone))


def plan_for(start: int, *offsets: int) -> list[tuple[str, int]]:
    """The pending posts expected for one occurrence: reminders at the offsets, then the start notice."""
    return sorted([(REMINDER, start - o) for o in offsets] + [(START, start)], key=lambda p: (p[1], p[0]))


def sentence(error: pytest.ExceptionInfo[Any], kind: type[DomainError]) -> str:
    """The refusal is exactly ``kind`` and reads as one clear sentence a member can act on."""
    assert type(error.value) is kind, f"{type(error.value).__name__}: {error.value}"
    text = str(error.value)
    assert text == error.value.message
    assert 15 <= len(text) <= 300, text
    assert not text[0].islower(), text
    assert text.endswith("."), text
    assert "\n" not in text and "Traceback" not in text and "sqlite" not in text.lower(), text
    return text


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def wg(db: Database, clock: FakeClock) -> WorkingGroups:
    return WorkingGroups(db, clock, Policy(("Coordinator",)), UTC_ZONE)


@pytest.fixture
async def agenda(db: Database, clock: FakeClock, wg: WorkingGroups) -> Agenda:
    """The agenda of two servers the bot has joined (as it records them when it connects)."""
    await servers.server_joined(db, clock, GUILD, "Coalition", [])
    await servers.server_joined(db, clock, OTHER_GUILD, "Elsewhere", [])
    return Agenda(db, clock, wg, UTC_ZONE, OFFSETS)


@pytest.fixture
async def principles(wg: WorkingGroups) -> Group:
    """Principles: Cora convenes; Alice and Bob are members; home channel 555; role 777."""
    group = await wg.create(COORD, "Principles", home_channel_id=HOME_CHANNEL)
    await wg.set_convener(COORD, group, Target(CORA.user_id, CORA.display_name))
    for member in (ALICE, BOB):
        await wg.add_member(CORA, group, Target(member.user_id, member.display_name))
    await wg.set_role(group, ROLE)
    return group


@pytest.fixture
async def roadmap(wg: WorkingGroups) -> Group:
    """Roadmap: Otto convenes."""
    group = await wg.create(COORD, "Roadmap")
    await wg.set_convener(COORD, group, Target(OTTO.user_id, OTTO.display_name))
    return group


# -- add ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        ("2026-12-03 09:00", datetime(2026, 12, 3, 8, 0, tzinfo=UTC)),  # winter: UTC+1
        ("2027-07-01 09:00", datetime(2027, 7, 1, 7, 0, tzinfo=UTC)),  # summer: UTC+2
    ],
)
async def test_add_in_paris_keeps_the_wall_time_and_stores_the_utc_instant(
    agenda: Agenda, db: Database, wall: str, expected: datetime
) -> None:
    session = await agenda.add(
        COORD, SessionSpec(title="  Opening   plenary ", start=wall, zone="Europe/Paris")
    )

    begin = to_unix(expected)
    assert (session.guild_id, session.number, session.title) == (GUILD, 1, "Opening plenary")
    assert (session.start_local, session.zone, session.duration_min) == (f"{wall}:00", "Europe/Paris", 60)
    assert (session.recur_days, session.recur_until, session.group_id) == (None, None, None)
    assert session.uid.endswith("@caucus") and (session.created_by, session.created_at) == (COORD.user_id, T0)
    assert session.offsets == "[86400, 3600, 600]"
    assert agenda.instant(session) == expected
    assert rows(db, "SELECT guild_id, number, title, start_local, zone, duration_min FROM sessions") == [
        (GUILD, 1, "Opening plenary", f"{wall}:00", "Europe/Paris", 60)
    ]
    assert rows(db, "SELECT session_id, starts_at, ends_at FROM occurrences") == [
        (session.session_id, begin, begin + HOUR)  # the default duration is one hour
    ]
    assert pending(db) == plan_for(begin, DAY, HOUR, 10 * MINUTE)


@pytest.mark.parametrize(
    ("spec", "minutes", "ends_at"),
    [
        (SessionSpec(end="12:30"), 210, unix(2026, 12, 3, 12, 30)),  # the same day as the start
        (SessionSpec(end="2026-12-04 10:00"), 25 * 60, unix(2026, 12, 4, 10)),
        (SessionSpec(duration="90m"), 90, unix(2026, 12, 3, 10, 30)),
        (SessionSpec(duration="1h30m"), 90, unix(2026, 12, 3, 10, 30)),
    ],
)
async def test_add_with_an_end_or_a_duration(
    agenda: Agenda, db: Database, spec: SessionSpec, minutes: int, ends_at: int
) -> None:
    session = await agenda.add(
        COORD, SessionSpec(title="Roadmap", start="2026-12-03 09:00", end=spec.end, duration=spec.duration)
    )

    assert session.duration_min == minutes
    assert rows(db, "SELECT starts_at, ends_at FROM occurrences") == [(unix(2026, 12, 3, 9), ends_at)]


async def test_add_takes_the_channel_given_else_the_groups_home_else_the_fallback(
    agenda: Agenda, principles: Group
) -> None:
    given = await agenda.add(
        COORD,
        SessionSpec(title="A", start="2026-12-03 09:00", group="principles", channel_id=42),
        fallback_channel_id=99,
    )
    home = await agenda.add(
        COORD, SessionSpec(title="B", start="2026-12-03 10:00", group="Principles"), fallback_channel_id=99
    )
    fallback = await agenda.add(
        COORD, SessionSpec(title="C", start="2026-12-03 11:00"), fallback_channel_id=99
    )

    assert (given.channel_id, given.group_id) == (42, principles.group_id)
    assert (home.channel_id, home.group_id) == (HOME_CHANNEL, principles.group_id)
    assert (fallback.channel_id, fallback.group_id) == (99, None)
    assert [s.number for s in (given, home, fallback)] == [1, 2, 3]


async def test_add_accepts_texts_at_their_limits(agenda: Agenda, db: Database) -> None:
    session = await agenda.add(
        COORD,
        SessionSpec(
            title="t" * 200,
            start="2026-12-03 09:00",
            moderators="m" * 300,
            note_taker="n" * 100,
            location="l" * 300,
            notes="  " + "x" * 1000 + "  ",
        ),
    )

    assert (len(session.title), len(session.moderators), len(session.note_taker)) == (200, 300, 100)
    assert (len(session.location), session.notes) == (300, "x" * 1000)
    assert rows(db, "SELECT count(*) FROM sessions") == [(1,)]


BAD_ADDS = [
    (SessionSpec(end="08:00"), Invalid, "end is before the start"),
    (SessionSpec(end="2026-12-03 09:00"), Invalid, "end is before the start"),
    (SessionSpec(end="10:00", duration="1h"), Invalid, "not both"),
    (SessionSpec(duration="0m"), Invalid, "more than 0 minutes"),
    (SessionSpec(duration="8d"), Invalid, "at most 7 days"),
    (SessionSpec(duration="a while"), Invalid, "not a duration"),
    (SessionSpec(start="2026-11-30 11:59"), Invalid, "in the past"),
    (SessionSpec(start="2026-11-30 12:00"), Invalid, "in the past"),  # now is not the future either
    (SessionSpec(start="2026-02-30 25:00"), Invalid, "not a real date and time"),
    (SessionSpec(start="tomorrow morning"), Invalid, "not a date and time"),
    (SessionSpec(start="2027-03-28 02:30", zone="Europe/Paris"), Invalid, "does not exist in Europe/Paris"),
    (SessionSpec(zone="Mars/Olympus_Mons"), Invalid, "not a time zone"),
    (SessionSpec(title="t" * 201), TooLong, "at most 200 characters"),
    (SessionSpec(moderators="m" * 301), TooLong, "at most 300 characters"),
    (SessionSpec(note_taker="n" * 101), TooLong, "at most 100 characters"),
    (SessionSpec(location="l" * 301), TooLong, "at most 300 characters"),
    (SessionSpec(notes="x" * 1001), TooLong, "at most 1,000 characters"),
    (SessionSpec(title="   "), Invalid, "Give the session a title"),
    (SessionSpec(reminders="soon"), Invalid, "not a duration"),
    (SessionSpec(reminders="1h,0m"), Invalid, "more than 0"),
    (SessionSpec(reminders="91d"), Invalid, "at most 90 days"),
    (SessionSpec(reminders="15m; 2h, 2h"), Invalid, "“2h” is given twice"),
    (SessionSpec(every_days=366), Invalid, "1 to 365 days"),
    (SessionSpec(every_days=7, until="next year"), Invalid, "not a date"),
    (SessionSpec(every_days=7, until="2026-12-02"), Invalid, "repetition ends before the first session"),
]


@pytest.mark.parametrize(("changes", "kind", "fragment"), BAD_ADDS)
async def test_bad_sessions_are_refused_and_nothing_is_written(
    agenda: Agenda, db: Database, changes: SessionSpec, kind: type[DomainError], fragment: str
) -> None:
    base = {"title": "Roadmap", "start": "2026-12-03 09:00"}
    spec = SessionSpec(**{**base, **{k: v for k, v in vars(changes).items() if v is not None}})
    before = snapshot(db)

    with pytest.raises(DomainError) as err:
        await agenda.add(COORD, spec)

    assert fragment in sentence(err, kind)
    assert snapshot(db) == before


async def test_add_without_a_title_or_a_start_is_refused(agenda: Agenda, db: Database) -> None:
    with pytest.raises(Invalid) as no_title:
        await agenda.add(COORD, SessionSpec(start="2026-12-03 09:00"))
    with pytest.raises(Invalid) as no_start:
        await agenda.add(COORD, SessionSpec(title="Roadmap"))

    assert "title" in sentence(no_title, Invalid)
    assert "start" in sentence(no_start, Invalid)
    assert snapshot(db) == {t: [] for t in TABLES}


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-12-03 09:00", [DAY, HOUR, 10 * MINUTE]),  # every offset still ahead
        ("2026-12-01 11:00", [HOUR, 10 * MINUTE]),  # a day before was 11:00 today: gone
        ("2026-11-30 12:30", [10 * MINUTE]),  # only ten minutes before is still ahead
        ("2026-11-30 12:05", []),  # only the start notice
    ],
)
async def test_only_reminders_still_in_the_future_are_planned(
    agenda: Agenda, db: Database, start: str, expected: list[int]
) -> None:
    session = await agenda.add(COORD, SessionSpec(title="Plenary", start=start))

    begin = agenda.instant(session)
    assert pending(db) == plan_for(to_unix(begin), *expected)
    assert all(due > T0 for _, due in pending(db))


@pytest.mark.parametrize(
    ("reminders", "offsets", "stored"),
    [
        ("2h,15m", [2 * HOUR, 15 * MINUTE], "[7200, 900]"),
        ("15m; 2h", [2 * HOUR, 15 * MINUTE], "[7200, 900]"),
        ("none", [], "[]"),
        ("", [DAY, HOUR, 10 * MINUTE], "[86400, 3600, 600]"),  # blank: the server's defaults
    ],
)
async def test_custom_reminders(
    agenda: Agenda, db: Database, reminders: str, offsets: list[int], stored: str
) -> None:
    session = await agenda.add(
        COORD, SessionSpec(title="Plenary", start="2026-12-03 09:00", reminders=reminders)
    )

    assert session.offsets == stored
    assert pending(db) == plan_for(unix(2026, 12, 3, 9), *offsets)


# -- permissions -------------------------------------------------------------------------------


async def test_coordinators_add_sessions_for_any_group_or_none(
    agenda: Agenda, principles: Group, roadmap: Group
) -> None:
    a = await agenda.add(COORD, SessionSpec(title="A", start="2026-12-03 09:00", group="Principles"))
    b = await agenda.add(COORD, SessionSpec(title="B", start="2026-12-03 10:00", group="roadmap"))
    c = await agenda.add(COORD, SessionSpec(title="C", start="2026-12-03 11:00"))
    manager = Actor(GUILD, 11, "Mona", manage_guild=True)
    d = await agenda.add(manager, SessionSpec(title="D", start="2026-12-03 12:00"))

    assert [s.group_id for s in (a, b, c, d)] == [principles.group_id, roadmap.group_id, None, None]


async def test_a_convener_manages_only_their_groups_sessions(
    agenda: Agenda, db: Database, principles: Group, roadmap: Group
) -> None:
    mine = await agenda.add(
        CORA, SessionSpec(title="Principles call", start="2026-12-03 09:00", group="Principles")
    )
    theirs = await agenda.add(
        COORD, SessionSpec(title="Roadmap call", start="2026-12-03 10:00", group="Roadmap")
    )
    plenary = await agenda.add(COORD, SessionSpec(title="Plenary", start="2026-12-03 11:00"))
    before = snapshot(db)

    refusals = [
        (
            agenda.add(CORA, SessionSpec(title="X", start="2026-12-04 09:00", group="Roadmap")),
            "Only conveners of Roadmap or coordinators can add sessions for Roadmap.",
        ),
        (
            agenda.add(CORA, SessionSpec(title="X", start="2026-12-04 09:00")),
            "Only coordinators can add sessions without a group.",
        ),
        (
            agenda.edit(CORA, f"#{theirs.number}", SessionSpec(title="X")),
            f"Only conveners of Roadmap or coordinators can edit session #{theirs.number}.",
        ),
        (
            agenda.edit(CORA, f"#{plenary.number}", SessionSpec(title="X")),
            f"Only coordinators can edit session #{plenary.number}.",
        ),
        (
            agenda.edit(CORA, f"#{mine.number}", SessionSpec(group="Roadmap")),
            "Only conveners of Roadmap or coordinators can move sessions to Roadmap.",
        ),
        (
            agenda.remove(CORA, f"#{theirs.number}"),
            f"Only conveners of Roadmap or coordinators can remove session #{theirs.number}.",
        ),
        (
            agenda.remove(CORA, f"#{plenary.number}"),
            f"Only coordinators can remove session #{plenary.number}.",
        ),
    ]
    for attempt, message in refusals:
        with pytest.raises(NotAllowed) as err:
            await attempt
        assert sentence(err, NotAllowed) == message
    assert snapshot(db) == before

    edited = await agenda.edit(
        CORA, f"#{mine.number}", SessionSpec(title="Principles call, moved", start="2026-12-05 09:00")
    )
    assert (edited.title, edited.start_local) == ("Principles call, moved", "2026-12-05 09:00:00")
    removed = await agenda.remove(CORA, str(mine.number))
    assert removed.session_id == mine.session_id
    assert rows(db, "SELECT number FROM sessions ORDER BY number") == [(theirs.number,), (plenary.number,)]


async def test_a_member_manages_no_sessions(agenda: Agenda, db: Database, principles: Group) -> None:
    session = await agenda.add(
        COORD, SessionSpec(title="Principles call", start="2026-12-03 09:00", group="Principles")
    )
    before = snapshot(db)

    for attempt in (
        agenda.add(ALICE, SessionSpec(title="X", start="2026-12-04 09:00", group="Principles")),
        agenda.add(ALICE, SessionSpec(title="X", start="2026-12-04 09:00")),
        agenda.edit(ALICE, "1", SessionSpec(title="X")),
        agenda.remove(ALICE, "1"),
        agenda.preview_import(
            ALICE,
            SAMPLE_TABLE.encode(),
            "day.md",
            day="2026-12-03",
            zone=None,
            group="Principles",
            channel_id=None,
        ),
    ):
        with pytest.raises(NotAllowed) as err:
            await attempt
        assert sentence(err, NotAllowed).startswith("Only ")
    assert snapshot(db) == before
    assert (await agenda.resolve(GUILD, "#1")).title == session.title


async def test_sessions_of_archived_or_unknown_groups_are_refused(
    agenda: Agenda, wg: WorkingGroups, db: Database, roadmap: Group
) -> None:
    await wg.archive(COORD, roadmap)
    before = snapshot(db)

    with pytest.raises((Invalid, Closed)) as archived:
        await agenda.add(COORD, SessionSpec(title="X", start="2026-12-04 09:00", group="Roadmap"))
    with pytest.raises(NotFound) as unknown:
        await agenda.add(COORD, SessionSpec(title="X", start="2026-12-04 09:00", group="Nowhere"))

    assert "Roadmap is archived" in sentence(archived, type(archived.value))
    assert "Nowhere" in sentence(unknown, NotFound)
    assert snapshot(db) == before


async def test_another_servers_sessions_are_not_found(agenda: Agenda, db: Database) -> None:
    ours = await agenda.add(COORD, SessionSpec(title="Ours", start="2026-12-03 09:00"))
    theirs = await agenda.add(OTHER_COORD, SessionSpec(title="Theirs", start="2026-12-03 09:00"))
    assert (ours.number, theirs.number) == (1, 1)  # numbered per server
    await agenda.add(COORD, SessionSpec(title="Ours too", start="2026-12-03 10:00"))
    before = snapshot(db)

    for attempt in (
        agenda.resolve(OTHER_GUILD, "#2"),
        agenda.edit(OTHER_COORD, "#2", SessionSpec(title="Hijacked")),
        agenda.remove(OTHER_COORD, "2"),
        agenda.by_id(OTHER_GUILD, ours.session_id),
        agenda.subscribe(OTHER_MEMBER, ours.session_id),
        agenda.unsubscribe(OTHER_MEMBER, ours.session_id),
    ):
        with pytest.raises(NotFound) as err:
            await attempt
        sentence(err, NotFound)
    with pytest.raises(Invalid) as not_a_number:
        await agenda.resolve(GUILD, "the plenary")
    sentence(not_a_number, Invalid)
    assert snapshot(db) == before
    assert (await agenda.resolve(OTHER_GUILD, "#1")).title == "Theirs"
    assert [s.title for s in await agenda.sessions(GUILD)] == ["Ours", "Ours too"]


# -- recurrence --------------------------------------------------------------------------------


async def test_a_weekly_call_keeps_0900_paris_time_across_the_october_change(
    agenda: Agenda, db: Database
) -> None:
    session = await agenda.add(
        COORD,
        SessionSpec(
            title="Weekly WG call",
            start="2027-10-18 09:00",
            zone="Europe/Paris",
            every_days=7,
            until="2027-11-08",
        ),
    )

    got = starts(db, session)
    assert [datetime.fromtimestamp(s, PARIS).strftime("%a %Y-%m-%d %H:%M") for s in got] == [
        "Mon 2027-10-18 09:00",
        "Mon 2027-10-25 09:00",
        "Mon 2027-11-01 09:00",
        "Mon 2027-11-08 09:00",
    ]
    assert got[0] == unix(2027, 10, 18, 7)  # 09:00 CEST
    assert got[-1] == unix(2027, 11, 8, 8)  # 09:00 CET
    gaps = [b - a for a, b in zip(got, got[1:], strict=False)]
    assert gaps == [WEEK, WEEK + HOUR, WEEK]  # the clocks went back on 2027-10-31
    assert (session.recur_days, session.recur_until) == (7, "2027-11-08")
    assert pending(db) == sorted(
        (p for s in got for p in plan_for(s, DAY, HOUR, 10 * MINUTE)), key=lambda p: (p[1], p[0])
    )


async def test_every_day_until_a_date(agenda: Agenda, db: Database) -> None:
    session = await agenda.add(
        COORD,
        SessionSpec(
            title="Stand-up",
            start="2026-12-01 09:00",
            duration="15m",
            every_days=1,
            until="2026-12-05",
            reminders="1h",
        ),
    )

    got = starts(db, session)
    assert got == [unix(2026, 12, d, 9) for d in range(1, 6)]
    assert rows(db, "SELECT DISTINCT ends_at - starts_at FROM occurrences") == [(15 * MINUTE,)]
    # reminders planned per occurrence: the hour before and the start
    assert pending(db) == sorted((p for s in got for p in plan_for(s, HOUR)), key=lambda p: (p[1], p[0]))


async def test_a_repetition_without_an_end_runs_a_year(agenda: Agenda, db: Database) -> None:
    session = await agenda.add(COORD, SessionSpec(title="Weekly", start="2026-12-03 09:00", every_days=7))

    got = starts(db, session)
    assert session.recur_until == "2027-12-03"
    assert len(got) == 53  # 2026-12-03 and every 7 days up to 364 days later
    assert got[-1] == unix(2027, 12, 2, 9)


async def test_repetition_stops_at_200_occurrences(agenda: Agenda, db: Database) -> None:
    session = await agenda.add(
        COORD, SessionSpec(title="Daily", start="2026-12-01 09:00", every_days=1, until="2028-12-31")
    )

    got = starts(db, session)
    assert len(got) == 200
    assert got[-1] == unix(2026, 12, 1, 9) + 199 * DAY
    assert len(pending(db)) == 200 * 4 - 1  # the first one's day-before reminder was already due


async def test_only_future_occurrences_get_reminders(agenda: Agenda, db: Database, clock: FakeClock) -> None:
    session = await agenda.add(
        COORD,
        SessionSpec(
            title="Daily", start="2026-12-01 09:00", every_days=1, until="2026-12-03", reminders="1h"
        ),
    )
    got = starts(db, session)
    clock.set(datetime(2026, 12, 2, 8, 30, tzinfo=UTC))  # the 2nd's reminder has passed, its start has not

    await agenda.edit(COORD, "1", SessionSpec(reminders="2h"))

    assert starts(db, session) == got  # the past occurrence is kept for the record
    assert pending(db) == [(START, got[1]), (REMINDER, got[2] - 2 * HOUR), (START, got[2])]


def test_expand_keeps_the_wall_time_weekly_in_paris() -> None:
    spans = expand(datetime(2027, 3, 22, 9, 0), PARIS, timedelta(hours=2), 7, date(2027, 4, 5))

    assert spans == [
        (unix(2027, 3, 22, 8), unix(2027, 3, 22, 10)),  # CET
        (unix(2027, 3, 29, 7), unix(2027, 3, 29, 9)),  # CEST from 2027-03-28
        (unix(2027, 4, 5, 7), unix(2027, 4, 5, 9)),
    ]
    assert expand(datetime(2027, 3, 22, 9, 0), PARIS, timedelta(hours=1), None, None) == [
        (unix(2027, 3, 22, 8), unix(2027, 3, 22, 9))
    ]


def test_instant_of_ordinary_and_repeated_wall_times() -> None:
    assert _instant(datetime(2027, 10, 18, 9, 0), PARIS) == datetime(2027, 10, 18, 7, 0, tzinfo=UTC)
    # 02:30 happens twice on 2027-10-31 in Paris: the first one (still summer time) is taken
    assert _instant(datetime(2027, 10, 31, 2, 30), PARIS) == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


def test_instant_in_the_spring_forward_gap_is_the_instant_just_after() -> None:
    # BUG: 02:30 does not exist in Paris on 2027-03-28 (the clocks jump from 02:00 CET to 03:00 CEST).
    # _instant's docstring, RFC 5545 §3.3.5 and calendar apps reading our .ics all take the offset before
    # the gap: 02:30+01:00 = 01:30 UTC = 03:30 CEST. _instant "moves past it" the wrong way and answers
    # 00:30 UTC = 01:30 CET, an hour *before* the gap.
    got = _instant(datetime(2027, 3, 28, 2, 30), PARIS)

    assert got.astimezone(PARIS).hour >= 3, got.astimezone(PARIS)
    assert got == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)


async def test_a_weekly_0230_call_in_the_spring_forward_week_is_not_moved_earlier(
    agenda: Agenda, db: Database
) -> None:
    # BUG (same cause): the occurrence on the night the clocks change lands at 01:30 Paris time, an hour
    # before every other occurrence, while the exported .ics (whose RRULE calendar apps expand) puts it at
    # 03:30; the reminders follow the wrong instant.
    session = await agenda.add(
        COORD,
        SessionSpec(
            title="Night shift",
            start="2027-03-21 02:30",
            zone="Europe/Paris",
            every_days=7,
            until="2027-04-04",
        ),
    )

    got = starts(db, session)
    assert got[0] == unix(2027, 3, 21, 1, 30)
    assert got[2] == unix(2027, 4, 4, 0, 30)
    assert got[1] > got[0] + WEEK - HOUR, [datetime.fromtimestamp(s, PARIS).isoformat() for s in got]
    assert got[1] == unix(2027, 3, 28, 1, 30)


# -- edit --------------------------------------------------------------------------------------


async def test_changing_the_start_replaces_occurrences_and_reminders(agenda: Agenda, db: Database) -> None:
    session = await agenda.add(COORD, SessionSpec(title="Plenary", start="2026-12-03 09:00", duration="2h"))
    old = rows(db, "SELECT occurrence_id FROM occurrences")

    edited = await agenda.edit(COORD, "#1", SessionSpec(start="2026-12-04 10:00"))

    begin = unix(2026, 12, 4, 10)
    assert (edited.session_id, edited.start_local, edited.duration_min) == (
        session.session_id,
        "2026-12-04 10:00:00",
        120,
    )
    assert edited.uid == session.uid  # calendars still recognise it
    assert rows(db, "SELECT starts_at, ends_at FROM occurrences") == [(begin, begin + 2 * HOUR)]
    assert rows(db, "SELECT occurrence_id FROM occurrences") != old
    assert pending(db) == plan_for(begin, DAY, HOUR, 10 * MINUTE)
    cancelled = rows(
        db,
        "SELECT kind, due_at, done_at FROM scheduled_posts WHERE state = 'cancelled' ORDER BY due_at, kind",
    )
    assert cancelled == [(k, d, T0) for k, d in plan_for(unix(2026, 12, 3, 9), DAY, HOUR, 10 * MINUTE)]


async def test_a_failing_edit_leaves_the_old_schedule_pending(agenda: Agenda, db: Database) -> None:
    await agenda.add(COORD, SessionSpec(title="Plenary", start="2026-12-03 09:00"))
    before = snapshot(db)
    # the new start notice cannot be written: the edit fails after the old posts were cancelled
    engines.add_failing_trigger(
        db.path, "no_posts", "scheduled_posts", f"NEW.due_at = {unix(2026, 12, 4, 10)}", "injected failure"
    )

    with pytest.raises(engines.database_errors(), match="injected failure"):
        await agenda.edit(COORD, "1", SessionSpec(title="Plenary, moved", start="2026-12-04 10:00"))

    assert snapshot(db) == before
    assert pending(db) == plan_for(unix(2026, 12, 3, 9), DAY, HOUR, 10 * MINUTE)
    with engines.closing_raw(db.path) as raw:
        engines.drop_triggers(raw, "scheduled_posts")
    await agenda.edit(COORD, "1", SessionSpec(start="2026-12-04 10:00"))
    assert pending(db) == plan_for(unix(2026, 12, 4, 10), DAY, HOUR, 10 * MINUTE)


@pytest.mark.parametrize(
    ("spec", "kind", "fragment"),
    [
        (SessionSpec(), Invalid, "Nothing to change"),
        (SessionSpec(start="2026-11-29 09:00"), Invalid, "in the past"),
        (SessionSpec(end="08:00"), Invalid, "end is before the start"),
        (SessionSpec(title=" "), Invalid, "Give the session a title"),
        (SessionSpec(notes="x" * 1001), TooLong, "1,000"),
        (SessionSpec(zone="Nowhere/City"), Invalid, "not a time zone"),
        (SessionSpec(reminders="later"), Invalid, "not a duration"),
    ],
)
async def test_bad_edits_are_refused_and_change_nothing(
    agenda: Agenda, db: Database, spec: SessionSpec, kind: type[DomainError], fragment: str
) -> None:
    await agenda.add(COORD, SessionSpec(title="Plenary", start="2026-12-03 09:00"))
    before = snapshot(db)

    with pytest.raises(DomainError) as err:
        await agenda.edit(COORD, "1", spec)

    assert fragment in sentence(err, kind)
    assert snapshot(db) == before


async def test_changing_only_the_title_keeps_the_schedule(agenda: Agenda, db: Database) -> None:
    session = await agenda.add(
        COORD,
        SessionSpec(
            title="Weekly",
            start="2026-12-03 09:00",
            zone="Europe/Paris",
            duration="45m",
            every_days=7,
            until="2027-01-07",
            reminders="2h",
        ),
    )
    occurrences = rows(db, "SELECT starts_at, ends_at FROM occurrences ORDER BY starts_at")
    planned = pending(db)

    edited = await agenda.edit(COORD, "1", SessionSpec(title="Weekly Principles call"))

    assert edited.title == "Weekly Principles call"
    unchanged = (
        "start_local",
        "zone",
        "duration_min",
        "recur_days",
        "recur_until",
        "offsets",
        "uid",
        "channel_id",
    )
    assert [getattr(edited, f) for f in unchanged] == [getattr(session, f) for f in unchanged]
    assert rows(db, "SELECT starts_at, ends_at FROM occurrences ORDER BY starts_at") == occurrences
    assert pending(db) == planned
    assert len(planned) == 6 * 2


async def test_edit_changes_zone_reminders_and_repetition(agenda: Agenda, db: Database) -> None:
    await agenda.add(
        COORD, SessionSpec(title="Weekly", start="2026-12-03 09:00", every_days=7, until="2026-12-17")
    )

    moved = await agenda.edit(COORD, "1", SessionSpec(zone="Europe/Paris", reminders="30m"))
    assert (moved.start_local, moved.zone, moved.offsets) == ("2026-12-03 09:00:00", "Europe/Paris", "[1800]")
    assert pending(db) == sorted(
        (p for d in (3, 10, 17) for p in plan_for(unix(2026, 12, d, 8), 30 * MINUTE)),
        key=lambda p: (p[1], p[0]),
    )

    single = await agenda.edit(COORD, "1", SessionSpec(every_days=0))
    assert (single.recur_days, single.recur_until) == (None, None)
    assert pending(db) == plan_for(unix(2026, 12, 3, 8), 30 * MINUTE)


# -- remove ------------------------------------------------------------------------------------


async def test_remove_deletes_the_session_and_cancels_its_posts(agenda: Agenda, db: Database) -> None:
    session = await agenda.add(
        COORD, SessionSpec(title="Weekly", start="2026-12-03 09:00", every_days=7, until="2026-12-10")
    )
    kept = await agenda.add(COORD, SessionSpec(title="Kept", start="2026-12-05 09:00"))
    await agenda.subscribe(ALICE, session.session_id)
    await agenda.subscribe(BOB, kept.session_id)

    removed = await agenda.remove(COORD, "#1")

    assert (removed.session_id, removed.title) == (session.session_id, "Weekly")
    assert rows(db, "SELECT session_id FROM sessions") == [(kept.session_id,)]
    assert rows(db, "SELECT session_id FROM occurrences") == [(kept.session_id,)]
    assert rows(db, "SELECT session_id, user_id FROM session_subscribers") == [(kept.session_id, BOB.user_id)]
    assert pending(db) == plan_for(unix(2026, 12, 5, 9), DAY, HOUR, 10 * MINUTE)
    assert rows(db, "SELECT count(*), min(done_at) FROM scheduled_posts WHERE state = 'cancelled'") == [
        (8, T0)
    ]
    with pytest.raises(NotFound) as err:
        await agenda.remove(COORD, "#1")
    assert "#1" in sentence(err, NotFound)


# -- reminders ---------------------------------------------------------------------------------


async def test_reminder_names_the_groups_role_and_the_subscribers(
    agenda: Agenda, principles: Group, clock: FakeClock
) -> None:
    session = await agenda.add(
        CORA, SessionSpec(title="Principles call", start="2026-12-01 12:00", group="Principles")
    )
    await agenda.subscribe(BOB, session.session_id)
    await agenda.subscribe(ALICE, session.session_id)
    (occ,) = await agenda.occurrences(session)

    reminder = await agenda.reminder(occ.occurrence_id, REMINDER, late=False)
    assert reminder is not None
    assert (reminder.kind, reminder.late, reminder.channel_id) == (REMINDER, False, HOME_CHANNEL)
    assert (reminder.role_id, reminder.group_name) == (ROLE, "Principles")
    assert reminder.subscribers == (ALICE.user_id, BOB.user_id)
    assert (reminder.session.session_id, reminder.occurrence) == (session.session_id, occ)

    clock.set(datetime(2026, 12, 1, 11, 59, tzinfo=UTC))  # the bot was down: still useful, marked late
    late = await agenda.reminder(occ.occurrence_id, REMINDER, late=True)
    assert late is not None and late.late

    clock.set(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    assert await agenda.reminder(occ.occurrence_id, REMINDER, late=True) is None  # started: noise
    assert await agenda.reminder(occ.occurrence_id, REMINDER, late=False) is None
    start = await agenda.reminder(occ.occurrence_id, START, late=False)
    assert start is not None and (start.kind, start.role_id, start.subscribers) == (START, ROLE, (30, 31))
    assert await agenda.reminder(occ.occurrence_id, START, late=True) is None

    clock.set(datetime(2026, 12, 1, 12, 1, 1, tzinfo=UTC))  # more than a minute after the start
    assert await agenda.reminder(occ.occurrence_id, START, late=False) is None


async def test_reminder_of_an_ungrouped_or_removed_session(agenda: Agenda) -> None:
    session = await agenda.add(COORD, SessionSpec(title="Plenary", start="2026-12-01 12:00", channel_id=42))
    (occ,) = await agenda.occurrences(session)

    reminder = await agenda.reminder(occ.occurrence_id, REMINDER, late=False)
    assert reminder is not None
    assert (reminder.role_id, reminder.group_name, reminder.subscribers, reminder.channel_id) == (
        None,
        None,
        (),
        42,
    )

    await agenda.remove(COORD, "1")
    assert await agenda.reminder(occ.occurrence_id, REMINDER, late=False) is None
    assert await agenda.reminder(occ.occurrence_id, START, late=False) is None


# -- Remind me ---------------------------------------------------------------------------------


async def test_subscribe_and_unsubscribe_are_idempotent(agenda: Agenda, db: Database) -> None:
    session = await agenda.add(COORD, SessionSpec(title="Plenary", start="2026-12-03 09:00"))

    first = await agenda.subscribe(ALICE, session.session_id)
    again = await agenda.subscribe(ALICE, session.session_id)
    assert (first[0].session_id, first[1]) == (session.session_id, True)
    assert again[1] is False
    assert rows(db, "SELECT session_id, user_id FROM session_subscribers") == [
        (session.session_id, ALICE.user_id)
    ]

    assert (await agenda.unsubscribe(ALICE, session.session_id)).session_id == session.session_id
    with pytest.raises(Conflict) as err:
        await agenda.unsubscribe(ALICE, session.session_id)
    assert "not subscribed" in sentence(err, Conflict)
    assert rows(db, "SELECT * FROM session_subscribers") == []
    with pytest.raises(NotFound):
        await agenda.subscribe(ALICE, session.session_id + 1000)


async def test_remind_me_toggles(agenda: Agenda, db: Database) -> None:
    session = await agenda.add(COORD, SessionSpec(title="Plenary", start="2026-12-03 09:00"))
    assert (await agenda.toggle_reminders(ALICE, session.session_id))[1] is True
    assert rows(db, "SELECT user_id FROM session_subscribers") == [(ALICE.user_id,)]
    assert (await agenda.toggle_reminders(ALICE, session.session_id))[1] is False  # pressed again: stops
    assert rows(db, "SELECT user_id FROM session_subscribers") == []
    assert (await agenda.toggle_reminders(ALICE, session.session_id))[1] is True
    with pytest.raises(NotFound):
        await agenda.toggle_reminders(OTHER_MEMBER, session.session_id)  # another server's session
    assert rows(db, "SELECT user_id FROM session_subscribers") == [(ALICE.user_id,)]


async def test_leaving_the_group_or_the_server_ends_the_direct_messages(
    agenda: Agenda, wg: WorkingGroups, principles: Group, roadmap: Group, db: Database, clock: FakeClock
) -> None:
    ours = await agenda.add(
        CORA, SessionSpec(title="Principles call", start="2026-12-01 12:00", group="Principles")
    )
    theirs = await agenda.add(
        OTTO, SessionSpec(title="Roadmap call", start="2026-12-01 13:00", group="Roadmap")
    )
    plenary = await agenda.add(COORD, SessionSpec(title="Plenary", start="2026-12-01 14:00"))
    carol = Actor(GUILD, 32, "Carol")
    for who in (ALICE, BOB, carol):
        for session in (ours, theirs, plenary):
            await agenda.toggle_reminders(who, session.session_id)

    async def subscribers(session: Session) -> tuple[int, ...]:
        (occ,) = await agenda.occurrences(session)
        reminder = await agenda.reminder(occ.occurrence_id, REMINDER, late=False)
        assert reminder is not None
        return reminder.subscribers

    await wg.leave(ALICE, principles)  # Alice leaves Principles: no more DMs about its sessions
    await wg.remove_member(CORA, principles, Target(BOB.user_id, "Bob"))  # Bob is removed from it
    assert await subscribers(ours) == (32,)  # Carol, who is in no group, still asked for them
    assert await subscribers(theirs) == (ALICE.user_id, BOB.user_id, 32)  # other groups' sessions go on
    # Carol leaves the server: she is off every list of this server, and filtered at send time too
    await servers.member_left(db, clock, GUILD, 32)
    assert await subscribers(plenary) == (ALICE.user_id, BOB.user_id)
    assert rows(db, "SELECT count(*) FROM session_subscribers WHERE user_id = 32") == [(0,)]
    # a subscription that slipped in (written behind the domain's back) is still not sent to her
    with engines.closing_raw(db.path) as raw:
        raw.execute("INSERT INTO session_subscribers VALUES (?, 32)", (plenary.session_id,))
    assert await subscribers(plenary) == (ALICE.user_id, BOB.user_id)


async def test_an_edit_racing_a_remove_is_not_found(agenda: Agenda, db: Database) -> None:
    # BUG: edit() resolves the session before its transaction; when a remove commits in between, the edit
    # re-inserts occurrences of a deleted session and fails with sqlite3.IntegrityError (FOREIGN KEY), which
    # the member sees as "Something went wrong" instead of a plain NotFound.
    await agenda.add(COORD, SessionSpec(title="Plenary", start="2026-12-03 09:00"))

    removed, edited = await asyncio.gather(
        agenda.remove(COORD, "1"),
        agenda.edit(COORD, "1", SessionSpec(title="Renamed")),
        return_exceptions=True,
    )

    assert not isinstance(removed, BaseException)
    assert rows(db, "SELECT * FROM sessions") == [] and pending(db) == []
    assert isinstance(edited, NotFound), repr(edited)


async def test_remind_me_racing_a_remove_is_not_found(agenda: Agenda, db: Database) -> None:
    # BUG: subscribe() checks the session outside its transaction; a "Remind me" press while the session
    # is removed fails with sqlite3.IntegrityError (FOREIGN KEY) instead of NotFound.
    session = await agenda.add(COORD, SessionSpec(title="Plenary", start="2026-12-03 09:00"))

    removed, subscribed = await asyncio.gather(
        agenda.remove(COORD, "1"), agenda.subscribe(ALICE, session.session_id), return_exceptions=True
    )

    assert not isinstance(removed, BaseException)
    assert rows(db, "SELECT * FROM session_subscribers") == []
    assert isinstance(subscribed, NotFound), repr(subscribed)


# -- import ------------------------------------------------------------------------------------


async def test_preview_then_confirm_creates_the_days_sessions_at_once(agenda: Agenda, db: Database) -> None:
    preview = await agenda.preview_import(
        COORD,
        SAMPLE_TABLE.encode(),
        "day.md",
        day="2026-12-03",
        zone="Europe/Paris",
        group=None,
        channel_id=42,
    )

    assert (preview.zone, preview.group_name) == ("Europe/Paris", None)
    assert [(r.line, r.title, r.start.strftime("%H:%M"), r.end.strftime("%H:%M")) for r in preview.rows] == [
        (2, "Civil society awareness raising and coordination session 1", "09:00", "12:00"),
        (3, "Lunch", "12:00", "13:00"),
        (4, "Policy slam", "13:00", "14:30"),
    ]
    assert preview.starts == (unix(2026, 12, 3, 8), unix(2026, 12, 3, 11), unix(2026, 12, 3, 12))
    assert rows(db, "SELECT import_id, guild_id, user_id, created_at, done_at FROM agenda_imports") == [
        (preview.import_id, GUILD, COORD.user_id, T0, None)
    ]
    assert rows(db, "SELECT * FROM sessions") == [] and posts(db) == []  # nothing created yet

    created = await agenda.confirm_import(COORD, preview.import_id)

    assert [(s.number, s.title, s.start_local, s.zone, s.duration_min, s.channel_id) for s in created] == [
        (
            1,
            "Civil society awareness raising and coordination session 1",
            "2026-12-03 09:00:00",
            "Europe/Paris",
            180,
            42,
        ),
        (2, "Lunch", "2026-12-03 12:00:00", "Europe/Paris", 60, 42),
        (3, "Policy slam", "2026-12-03 13:00:00", "Europe/Paris", 90, 42),
    ]
    assert rows(db, "SELECT starts_at, ends_at FROM occurrences ORDER BY starts_at") == [
        (unix(2026, 12, 3, 8), unix(2026, 12, 3, 11)),
        (unix(2026, 12, 3, 11), unix(2026, 12, 3, 12)),
        (unix(2026, 12, 3, 12), unix(2026, 12, 3, 13, 30)),
    ]
    assert len(pending(db)) == 3 * 4
    assert rows(db, "SELECT done_at FROM agenda_imports") == [(T0,)]

    before = snapshot(db)
    with pytest.raises(Conflict) as twice:
        await agenda.confirm_import(COORD, preview.import_id)
    assert "already confirmed" in sentence(twice, Conflict)
    assert snapshot(db) == before


async def test_only_the_previewer_or_a_coordinator_confirms(
    agenda: Agenda, db: Database, principles: Group, roadmap: Group
) -> None:
    preview = await agenda.preview_import(
        CORA,
        SAMPLE_TABLE.encode(),
        "day.md",
        day="2026-12-03",
        zone="Europe/Paris",
        group="Principles",
        channel_id=None,
    )
    assert preview.group_name == "Principles"
    before = snapshot(db)

    for other in (ALICE, OTTO):
        with pytest.raises(NotAllowed) as err:
            await agenda.confirm_import(other, preview.import_id)
        assert "Only the member who previewed" in sentence(err, NotAllowed)
    with pytest.raises(Conflict) as elsewhere:
        await agenda.confirm_import(OTHER_COORD, preview.import_id)
    sentence(elsewhere, Conflict)
    assert snapshot(db) == before  # still waiting for its Confirm

    created = await agenda.confirm_import(CORA, preview.import_id)
    assert {(s.group_id, s.channel_id, s.created_by) for s in created} == {
        (principles.group_id, HOME_CHANNEL, CORA.user_id)
    }

    again = await agenda.preview_import(
        CORA,
        SAMPLE_TABLE.encode(),
        "day.md",
        day="2026-12-04",
        zone="Europe/Paris",
        group="Principles",
        channel_id=None,
    )
    assert len(await agenda.confirm_import(COORD, again.import_id)) == 3


@pytest.mark.parametrize(
    ("table", "day", "fragments"),
    [
        (SAMPLE_TABLE + "14:30-xx:00 | Wrap-up\n", "2026-12-03", ["line 5"]),
        (
            "Time | Session\n09:00-12:00 | A\n12:00-11:00 | B\n13:00-14:00 |\n",
            "2026-12-03",
            ["line 3", "line 4"],
        ),
        (SAMPLE_TABLE, "2026-11-30", ["line 2", "in the past"]),  # 09:00 Paris was 08:00 UTC: gone
        (SAMPLE_TABLE, "2026-12-32", ["not a date"]),
        (SAMPLE_TABLE, None, ["line 2", "date"]),
    ],
)
async def test_a_bad_timetable_imports_nothing(
    agenda: Agenda, db: Database, table: str, day: str | None, fragments: list[str]
) -> None:
    with pytest.raises(Invalid) as err:
        await agenda.preview_import(
            COORD, table.encode(), "day.md", day=day, zone="Europe/Paris", group=None, channel_id=None
        )

    text = str(err.value)
    assert type(err.value) is Invalid and text.endswith(".") and "Traceback" not in text
    for fragment in fragments:
        assert fragment in text, text
    assert snapshot(db) == {t: [] for t in TABLES}  # not even an agenda_imports row


async def test_a_start_passed_before_confirm_imports_nothing(
    agenda: Agenda, db: Database, clock: FakeClock
) -> None:
    preview = await agenda.preview_import(
        COORD,
        SAMPLE_TABLE.encode(),
        "day.md",
        day="2026-12-03",
        zone="Europe/Paris",
        group=None,
        channel_id=None,
    )
    before = snapshot(db)
    clock.set(datetime(2026, 12, 3, 8, 30, tzinfo=UTC))  # the first session (09:00 Paris) has started

    with pytest.raises(Invalid) as err:
        await agenda.confirm_import(COORD, preview.import_id)

    assert "line 2 has started" in sentence(err, Invalid)
    assert snapshot(db) == before  # no session, and the import is still unconfirmed


async def test_csv_times_with_a_utc_offset_are_converted_or_refused(agenda: Agenda, db: Database) -> None:
    # BUG: domain/timetable.py _moment returns an *aware* datetime for "2026-12-03T09:00Z"; preview_import
    # then hands it to _instant, which subtracts a naive from an aware datetime: TypeError, a traceback for
    # a file a spreadsheet export can easily produce. 09:00Z should be 10:00 in Paris (or be refused).
    data = b"start,end,title\n2026-12-03T09:00Z,2026-12-03T10:00Z,Opening\n"

    try:
        preview = await agenda.preview_import(
            COORD, data, "day.csv", day=None, zone="Europe/Paris", group=None, channel_id=None
        )
    except Invalid as err:
        assert "line 2" in str(err)
        assert snapshot(db) == {t: [] for t in TABLES}
    else:
        assert preview.starts == (unix(2026, 12, 3, 9),)
        assert preview.rows[0].start == datetime(2026, 12, 3, 10, 0)


# -- calendar export ---------------------------------------------------------------------------


STAMP = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


async def test_calendar_has_one_event_per_session_with_stable_uids(agenda: Agenda, principles: Group) -> None:
    weekly = await agenda.add(
        COORD,
        SessionSpec(
            title="Weekly WG call",
            start="2027-10-18 09:00",
            zone="Europe/Paris",
            every_days=7,
            until="2027-11-08",
            group="Principles",
            moderators="Cora; Otto",
            notes="Bring the draft.",
        ),
    )
    plenary = await agenda.add(
        COORD, SessionSpec(title="Plenary", start="2026-12-03 14:00", duration="90m", location="Room 2")
    )
    sessions = [(weekly, "Principles"), (plenary, None)]

    data = calendar_bytes(sessions, STAMP, "Caucus agenda")
    cal = icalendar.Calendar.from_ical(data)
    events = cal.walk("VEVENT")

    assert [str(e["UID"]) for e in events] == [weekly.uid, plenary.uid]
    assert len({weekly.uid, plenary.uid}) == 2
    assert calendar_bytes(sessions, STAMP, "Caucus agenda") == data  # the same file twice
    later = icalendar.Calendar.from_ical(calendar_bytes(sessions, STAMP + timedelta(days=3), "Caucus agenda"))
    assert [str(e["UID"]) for e in later.walk("VEVENT")] == [weekly.uid, plenary.uid]
    assert str(cal["X-WR-CALNAME"]) == "Caucus agenda"

    first, second = events
    assert str(first["SUMMARY"]) == "Weekly WG call"
    start = first.decoded("DTSTART")
    assert (start.replace(tzinfo=None), str(start.tzinfo)) == (datetime(2027, 10, 18, 9, 0), "Europe/Paris")
    assert first["DTSTART"].params["TZID"] == "Europe/Paris"
    assert first.decoded("DTEND") - start == timedelta(hours=1)
    assert "Working group: Principles" in str(first["DESCRIPTION"])
    assert "Moderators: Cora; Otto" in str(first["DESCRIPTION"])
    assert "Bring the draft." in str(first["DESCRIPTION"])
    rule = first["RRULE"]
    assert (rule["FREQ"], rule["INTERVAL"]) == (["WEEKLY"], [1])
    assert rule["UNTIL"][0] == datetime(2027, 11, 8, 22, 59, 59, tzinfo=UTC)  # end of 2027-11-08 in Paris
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]

    assert "RRULE" not in second
    assert second.decoded("DTSTART") == datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    assert second.decoded("DTEND") - second.decoded("DTSTART") == timedelta(minutes=90)
    assert str(second["LOCATION"]) == "Room 2"


async def test_calendar_rrule_expands_to_the_stored_occurrences(agenda: Agenda, db: Database) -> None:
    weekly = await agenda.add(
        COORD,
        SessionSpec(
            title="Weekly", start="2027-10-18 09:00", zone="Europe/Paris", every_days=7, until="2027-11-08"
        ),
    )
    event = icalendar.Calendar.from_ical(calendar_bytes([(weekly, None)], STAMP, "A")).walk("VEVENT")[0]

    expanded = rrulestr(event["RRULE"].to_ical().decode(), dtstart=event.decoded("DTSTART"))
    assert [to_unix(d) for d in expanded] == starts(db, weekly)


@pytest.mark.parametrize(("every", "freq", "interval"), [(14, "WEEKLY", 2), (1, "DAILY", 1), (3, "DAILY", 3)])
async def test_calendar_rrule_frequency(agenda: Agenda, every: int, freq: str, interval: int) -> None:
    session = await agenda.add(
        COORD, SessionSpec(title="Call", start="2026-12-03 09:00", every_days=every, until="2027-01-31")
    )
    event = icalendar.Calendar.from_ical(calendar_bytes([(session, None)], STAMP, "A")).walk("VEVENT")[0]

    assert (event["RRULE"]["FREQ"], event["RRULE"]["INTERVAL"]) == ([freq], [interval])


async def test_calendar_end_matches_the_stored_end_across_the_autumn_change(
    agenda: Agenda, db: Database
) -> None:
    # BUG: domain/calendar.py adds the duration to the *wall* start (aware datetime + timedelta in zoneinfo is
    # wall-clock arithmetic), so a 2-hour session from 01:30 Paris on 2027-10-31 gets DTEND 03:30 CET, three
    # real hours later, while its stored occurrence (and its reminders, /agenda show) ends after two hours.
    session = await agenda.add(
        COORD, SessionSpec(title="Night watch", start="2027-10-31 01:30", zone="Europe/Paris", duration="2h")
    )
    event = icalendar.Calendar.from_ical(calendar_bytes([(session, None)], STAMP, "A")).walk("VEVENT")[0]

    (stored,) = rows(db, "SELECT starts_at, ends_at FROM occurrences")
    assert to_unix(event.decoded("DTSTART")) == stored[0]
    assert to_unix(event.decoded("DTEND")) == stored[1]


# -- the daily digest and the listing (rules the cog only displays) -----------------------------


@pytest.mark.parametrize(
    ("now", "at", "expected"),
    [
        # before today's time: today; after it: tomorrow (Paris, winter)
        (datetime(2026, 12, 1, 6, 0, tzinfo=UTC), "08:00", datetime(2026, 12, 1, 7, 0, tzinfo=UTC)),
        (datetime(2026, 12, 1, 7, 0, tzinfo=UTC), "08:00", datetime(2026, 12, 2, 7, 0, tzinfo=UTC)),
        # across the October change the wall time stays 08:00: 06:00 UTC before, 07:00 UTC after
        (datetime(2026, 10, 24, 7, 0, tzinfo=UTC), "08:00", datetime(2026, 10, 25, 7, 0, tzinfo=UTC)),
        (datetime(2026, 10, 24, 5, 0, tzinfo=UTC), "08:00:30", datetime(2026, 10, 24, 6, 0, 30, tzinfo=UTC)),
        # 02:30 on the spring-forward night is read as RFC 5545 does: 03:30 summer time
        (datetime(2027, 3, 28, 0, 0, tzinfo=UTC), "02:30", datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
    ],
)
def test_next_digest_time_follows_the_wall_clock(now: datetime, at: str, expected: datetime) -> None:
    assert next_digest_at(now, PARIS, at) == expected


async def test_a_digest_is_planned_once_per_day(db: Database, clock: FakeClock, wg: WorkingGroups) -> None:
    await servers.server_joined(db, clock, GUILD, "Coalition", [])
    agenda = Agenda(db, clock, wg, PARIS, OFFSETS)
    first = await agenda.plan_digest(GUILD, "08:00")
    assert await agenda.plan_digest(GUILD, "08:00") == first
    planned = rows(db, "SELECT kind, ref_id, due_at, state FROM scheduled_posts WHERE kind = ?", (DIGEST,))
    day = datetime.fromtimestamp(first, PARIS)
    assert planned == [(DIGEST, int(day.strftime("%Y%m%d")), first, "pending")]
    assert (day.hour, day.minute) == (8, 0) and first > to_unix(clock.now())


async def test_a_late_digest_is_posted_within_an_hour_and_skipped_after(
    db: Database, clock: FakeClock, wg: WorkingGroups
) -> None:
    await servers.server_joined(db, clock, GUILD, "Coalition", [])
    agenda = Agenda(db, clock, wg, PARIS, OFFSETS)
    await agenda.add(COORD, SessionSpec(title="Plenary", start="2026-12-02 10:00"))
    due = to_unix(datetime(2026, 12, 2, 7, 0, tzinfo=UTC))  # 08:00 in Paris
    post = Post(1, GUILD, DIGEST, 20261202, due, "claimed", 1, late=True)
    clock.set(datetime(2026, 12, 2, 7, 59, tzinfo=UTC))
    digest = await agenda.digest(post)
    assert digest is not None and digest.day == date(2026, 12, 2)
    assert [s.title for s, _ in digest.sessions] == ["Plenary"]
    clock.set(datetime(2026, 12, 2, 8, 1, tzinfo=UTC))
    assert await agenda.digest(post) is None
    on_time = Post(1, GUILD, DIGEST, 20261202, due, "claimed", 1, late=False)
    assert await agenda.digest(on_time) is not None  # a busy bot that is only a little late still posts


async def test_listing_upcoming_today_or_a_date(db: Database, clock: FakeClock, wg: WorkingGroups) -> None:
    await servers.server_joined(db, clock, GUILD, "Coalition", [])
    agenda = Agenda(db, clock, wg, PARIS, OFFSETS)
    await agenda.add(COORD, SessionSpec(title="Today", start="2026-11-30 18:00"))
    await agenda.add(COORD, SessionSpec(title="In a month", start="2026-12-29 10:00"))
    await agenda.add(COORD, SessionSpec(title="Too far", start="2027-01-15 10:00"))
    upcoming = await agenda.listing(GUILD, " Upcoming ")
    assert upcoming.day is None and [s.title for s, _ in upcoming.sessions] == ["Today", "In a month"]
    today = await agenda.listing(GUILD, "today")
    assert today.day == date(2026, 11, 30) and [s.title for s, _ in today.sessions] == ["Today"]
    assert [s.title for s, _ in (await agenda.listing(GUILD, "2027-01-15")).sessions] == ["Too far"]
    with pytest.raises(Invalid, match="is not today, upcoming or a date"):
        await agenda.listing(GUILD, "next tuesday")


# -- bounds ------------------------------------------------------------------------------------


async def test_ten_reminders_per_session_eleven_refused(agenda: Agenda, db: Database) -> None:
    ten = ",".join(f"{n}h" for n in range(1, 11))
    session = await agenda.add(COORD, SessionSpec(title="Plenary", start="2026-12-03 09:00", reminders=ten))
    assert session.offsets == str([n * HOUR for n in range(10, 0, -1)])
    before = snapshot(db)

    with pytest.raises(Invalid) as err:
        await agenda.add(
            COORD, SessionSpec(title="Plenary", start="2026-12-03 09:00", reminders=ten + ",11h")
        )
    assert "at most 10 reminders" in sentence(err, Invalid)
    with pytest.raises(Invalid) as err:
        await agenda.edit(COORD, "#1", SessionSpec(reminders=ten + ",11h"))
    assert "at most 10 reminders" in sentence(err, Invalid)
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        (SessionSpec(start="9999-12-31 23:59", zone="Pacific/Pago_Pago"), "outside the calendar"),
        (SessionSpec(start="9999-12-31 23:59", zone="Pacific/Kiritimati"), "at most 10 years from now"),
        (SessionSpec(start="2036-12-01 09:00"), "at most 10 years from now"),
        (SessionSpec(start="0000-01-01 00:00"), "not a real date"),
        (SessionSpec(start="２０２６-12-03 09:00"), "digits other than 0-9"),
        (SessionSpec(duration="99999999w"), "a session lasts at most 7 days"),
        (SessionSpec(duration="٣h"), "digits other than 0-9"),
        (SessionSpec(end="١٠:٠٠"), "digits other than 0-9"),
        (SessionSpec(every_days=2**53), "1 to 365 days"),
        (SessionSpec(every_days=-1), "1 to 365 days"),
        (SessionSpec(every_days=7, until="20270331"), "not a date like 2027-03-31"),  # fromisoformat took it
        (SessionSpec(every_days=7, until="2027-W13-3"), "not a date like 2027-03-31"),  # an ISO week date
        (SessionSpec(until="2027-03-31"), "is for a repeating session"),  # was silently ignored
        (SessionSpec(until="١٢"), "digits other than 0-9"),
        (SessionSpec(reminders="99999999w"), "at most 90 days before the start"),
        (SessionSpec(reminders="1h, 60m"), "given twice"),
        (SessionSpec(title="\u200b" * 300), "Give the session a title"),
        (SessionSpec(notes="e" + "\u0316" * 1500), "at most 1,000 characters"),
    ],
)
async def test_unbounded_session_input_is_refused(
    agenda: Agenda, db: Database, spec: SessionSpec, fragment: str
) -> None:
    base = {"title": "Roadmap", "start": "2026-12-03 09:00"}
    full = SessionSpec(**{**base, **{k: v for k, v in vars(spec).items() if v is not None}})

    with pytest.raises(DomainError) as err:
        await agenda.add(COORD, full)

    assert fragment in str(err.value), str(err.value)
    sentence(err, type(err.value))
    assert snapshot(db) == {t: [] for t in TABLES}


async def test_editing_until_of_a_session_that_does_not_repeat_is_refused(
    agenda: Agenda, db: Database
) -> None:
    await agenda.add(COORD, SessionSpec(title="Plenary", start="2026-12-03 09:00"))
    before = snapshot(db)

    with pytest.raises(Invalid) as err:
        await agenda.edit(COORD, "#1", SessionSpec(until="١٢"))
    assert "digits other than 0-9" in sentence(err, Invalid)
    with pytest.raises(Invalid) as err:
        await agenda.edit(COORD, "#1", SessionSpec(until="2027-01-01"))
    assert "is for a repeating session" in sentence(err, Invalid)
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [("upcoming", None), (" Today ", date(2026, 11, 30)), ("2026-12-03", date(2026, 12, 3))],
)
def test_the_listing_day(agenda: Agenda, text: str, expected: date | None) -> None:
    assert agenda.listing_day(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("9999-12-31", "within 10 years of today"),  # the day after it overflowed a datetime
        ("0001-01-01", "within 10 years of today"),
        ("٢٠٢٦-١٢-٠٣", "digits other than 0-9"),
        ("20261203", "not a date like"),
        ("tomorrow", "not today, upcoming or a date"),
    ],
)
def test_a_listing_day_that_is_refused(agenda: Agenda, text: str, fragment: str) -> None:
    with pytest.raises(Invalid) as err:
        agenda.listing_day(text)

    assert fragment in sentence(err, Invalid)


async def test_an_imported_wall_time_in_the_spring_gap_is_refused_naming_its_line(
    agenda: Agenda, db: Database
) -> None:
    # 02:30 does not exist in Paris on 2027-03-28; /agenda add refuses it, the import read it as 03:30.
    table = "Time | Session\n01:00-02:00 | Before\n02:30-03:30 | In the gap\n"

    with pytest.raises(Invalid) as err:
        await agenda.preview_import(
            COORD,
            table.encode(),
            "day.md",
            day="2027-03-28",
            zone="Europe/Paris",
            group=None,
            channel_id=None,
        )

    text = sentence(err, Invalid)
    assert "line 3: 2027-03-28 02:30 does not exist in Europe/Paris" in text and "line 2" not in text
    assert snapshot(db) == {t: [] for t in TABLES}


@pytest.mark.parametrize(
    ("zone", "fragment"),
    [
        ("Pacific/Pago_Pago", "line 3: 9999-12-31 23:00 is outside the calendar"),
        ("Pacific/Kiritimati", "line 3: 9999-12-31 23:00 is more than 10 years ahead"),
    ],
)
async def test_imported_rows_far_ahead_are_refused_naming_their_lines(
    agenda: Agenda, db: Database, zone: str, fragment: str
) -> None:
    data = b"start,end,title\n2026-12-03 09:00,2026-12-03 10:00,Fine\n9999-12-31 23:00,9999-12-31 23:59,Far\n"

    with pytest.raises(Invalid) as err:
        await agenda.preview_import(COORD, data, "day.csv", day=None, zone=zone, group=None, channel_id=None)

    assert fragment in sentence(err, Invalid)
    assert snapshot(db) == {t: [] for t in TABLES}


async def test_every_bad_imported_row_is_named_at_once(agenda: Agenda, db: Database) -> None:
    data = (
        b"start,end,title\n2026-11-30 08:00,2026-11-30 09:00,Gone\n2026-12-03 09:00,2026-12-03 10:00,Fine\n"
        b"2027-03-28 02:30,2027-03-28 03:30,Gap\n"
    )

    with pytest.raises(Invalid) as err:
        await agenda.preview_import(
            COORD, data, "day.csv", day=None, zone="Europe/Paris", group=None, channel_id=None
        )

    text = sentence(err, Invalid)
    assert "line 2: 2026-11-30 08:00 is in the past" in text and "line 4" in text and "line 3" not in text


async def test_an_import_day_in_other_digits_is_refused(agenda: Agenda, db: Database) -> None:
    with pytest.raises(Invalid) as err:
        await agenda.preview_import(
            COORD, SAMPLE_TABLE.encode(), "day.md", day="٢٠٢٦-١٢-٠٣", zone=None, group=None, channel_id=None
        )

    assert "digits other than 0-9" in sentence(err, Invalid)
    assert snapshot(db) == {t: [] for t in TABLES}


async def test_moving_a_session_to_a_zone_whose_clocks_skip_its_time_is_refused(
    agenda: Agenda, db: Database
) -> None:
    # 02:30 on 2027-03-28 exists in UTC, not in Paris: the new zone would have shifted it to 03:30 silently.
    await agenda.add(COORD, SessionSpec(title="Night shift", start="2027-03-28 02:30"))
    before = snapshot(db)

    with pytest.raises(Invalid) as err:
        await agenda.edit(COORD, "#1", SessionSpec(zone="Europe/Paris"))

    assert "2027-03-28 02:30 does not exist in Europe/Paris" in sentence(err, Invalid)
    assert snapshot(db) == before
