"""Consensus items: points and questions, positions, the objection register, outcomes and comment deadlines.

Every test runs against a real migrated SQLite file with a fake clock at 2026-11-30 12:00 UTC (13:00 in
Paris); what the database holds is checked through a second, plain connection (tests/engines.py).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain import servers
from domain.clock import FakeClock
from domain.consensus import DEADLINE, REMINDER, Consensus, Item, Tally, hint
from domain.errors import Closed, Conflict, DomainError, Invalid, NotAllowed, NotFound, TooLong
from domain.groups import Group, Target, WorkingGroups
from domain.permissions import Actor, Policy
from domain.record import sha256_hex
from storage.db import Database
from tests import engines

GUILD = 1001
OTHER_GUILD = 2002
PARIS = ZoneInfo("Europe/Paris")
T0 = int(datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp())  # the fake clock's start
HOUR = 3600
DAY = 24 * HOUR
HOME_CHANNEL = 555

COORD = Actor(GUILD, 10, "Coco", role_names=frozenset({"coordinator"}))
CORA = Actor(GUILD, 20, "Cora")  # convener of Principles
OTTO = Actor(GUILD, 21, "Otto")  # convener of Roadmap
ALICE = Actor(GUILD, 30, "Alice")
BOB = Actor(GUILD, 31, "Bob")
CAROL = Actor(GUILD, 32, "Carol")
DAN = Actor(GUILD, 33, "Dan")  # in no group
OTHER_COORD = Actor(OTHER_GUILD, 10, "Coco elsewhere", manage_guild=True)

TABLES = ("guilds", "members", "items", "item_revisions", "positions", "objections", "scheduled_posts")


# -- helpers -----------------------------------------------------------------------------------


def rows(db: Database, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows as a second connection sees them (what is committed, not what the bot's connection holds)."""
    return engines.raw_rows(db.path, sql, params)


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the item tables hold, to show that a refusal changed nothing."""
    return {t: rows(db, f"SELECT * FROM {t} ORDER BY 1, 2") for t in TABLES}


def posts(db: Database, item_id: int) -> list[tuple[str, int, str]]:
    """(kind, due_at, state) of an item's scheduled posts, by time."""
    return rows(
        db,
        "SELECT kind, due_at, state FROM scheduled_posts WHERE ref_id = ? AND kind IN (?, ?) ORDER BY due_at, kind",
        (item_id, REMINDER, DEADLINE),
    )


def sentence(error: pytest.ExceptionInfo[DomainError], kind: type[DomainError]) -> str:
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
    return WorkingGroups(db, clock, Policy(("Coordinator",)), PARIS)


@pytest.fixture
def cs(db: Database, clock: FakeClock, wg: WorkingGroups) -> Consensus:
    return Consensus(db, clock, wg, PARIS, (timedelta(days=1), timedelta(hours=1)))


@pytest.fixture
async def principles(wg: WorkingGroups) -> Group:
    """Principles: Cora convenes; Alice, Bob and Carol are members."""
    group = await wg.create(COORD, "Principles", home_channel_id=HOME_CHANNEL)
    await wg.set_convener(COORD, group, Target(CORA.user_id, CORA.display_name))
    for member in (ALICE, BOB, CAROL):
        await wg.add_member(CORA, group, Target(member.user_id, member.display_name))
    return group


@pytest.fixture
async def roadmap(wg: WorkingGroups) -> Group:
    """Roadmap: Otto convenes."""
    group = await wg.create(COORD, "Roadmap")
    await wg.set_convener(COORD, group, Target(OTTO.user_id, OTTO.display_name))
    return group


@pytest.fixture
async def point(cs: Consensus, principles: Group) -> Item:
    """#1, a point of Principles by Alice, with no deadline."""
    return await cs.propose(ALICE, "point", "We publish all minutes.", group="Principles")


# -- propose -----------------------------------------------------------------------------------


async def test_propose_numbers_items_per_server(cs: Consensus, db: Database, clock: FakeClock) -> None:
    first = await cs.propose(COORD, "point", "  We meet every Tuesday.  ")
    second = await cs.propose(ALICE, "question", "Which day suits the Africa caucus?")
    elsewhere = await cs.propose(OTHER_COORD, "point", "Another server's point.")

    assert (first.number, first.kind, first.guild_id) == (1, "point", GUILD)
    assert first.text == "We meet every Tuesday."  # trimmed
    assert (first.status, first.revision, first.group_id, first.deadline_at) == ("open", 1, None, None)
    assert (first.author_id, first.created_at) == (COORD.user_id, T0)
    assert (second.number, second.kind, second.author_id) == (2, "question", ALICE.user_id)
    assert (elsewhere.number, elsewhere.guild_id) == (1, OTHER_GUILD)
    assert rows(db, "SELECT guild_id, number, kind, status, revision FROM items ORDER BY item_id") == [
        (GUILD, 1, "point", "open", 1),
        (GUILD, 2, "question", "open", 1),
        (OTHER_GUILD, 1, "point", "open", 1),
    ]
    assert rows(db, "SELECT item_id, revision, text, author_id FROM item_revisions ORDER BY item_id") == [
        (first.item_id, 1, "We meet every Tuesday.", COORD.user_id),
        (second.item_id, 1, "Which day suits the Africa caucus?", ALICE.user_id),
        (elsewhere.item_id, 1, "Another server's point.", OTHER_COORD.user_id),
    ]
    # the author is recorded as a member of the server, so histories can name them
    assert rows(db, "SELECT display_name FROM members WHERE guild_id = ? AND user_id = ?", (GUILD, 30)) == [
        ("Alice",)
    ]
    assert (await cs.resolve(GUILD, "#2")).item_id == second.item_id
    assert (await cs.resolve(OTHER_GUILD, "1")).item_id == elsewhere.item_id


async def test_concurrent_proposals_get_distinct_numbers(cs: Consensus, db: Database) -> None:
    members = [Actor(GUILD, 500 + n, f"m{n}") for n in range(30)]
    items = await asyncio.gather(*(cs.propose(m, "point", f"Point {n}") for n, m in enumerate(members)))
    assert sorted(i.number for i in items) == list(range(1, 31))
    assert rows(db, "SELECT count(DISTINCT number), max(number) FROM items WHERE guild_id = ?", (GUILD,)) == [
        (30, 30)
    ]


@pytest.mark.parametrize(
    ("text", "kind", "words"),
    [
        ("", Invalid, "empty"),
        ("   \n  ", Invalid, "empty"),
        ("x" * 1501, TooLong, "at most 1,500 characters; this one has 1,501"),
    ],
)
async def test_propose_refuses_empty_or_too_long_text(
    cs: Consensus, db: Database, text: str, kind: type[DomainError], words: str
) -> None:
    before = snapshot(db)
    with pytest.raises(Invalid) as err:
        await cs.propose(ALICE, "point", text, deadline="48h")
    assert words in sentence(err, kind)
    assert snapshot(db) == before
    assert rows(db, "SELECT count(*) FROM items") == [(0,)]


async def test_propose_accepts_exactly_1500_characters(cs: Consensus, db: Database) -> None:
    item = await cs.propose(ALICE, "question", "y" * 1500)
    assert rows(db, "SELECT length(text) FROM item_revisions WHERE item_id = ?", (item.item_id,)) == [(1500,)]


async def test_propose_refuses_an_unknown_kind(cs: Consensus, db: Database) -> None:
    with pytest.raises(Invalid) as err:
        await cs.propose(ALICE, "motion", "Text")
    assert "point or a question" in sentence(err, Invalid)
    assert rows(db, "SELECT count(*) FROM items") == [(0,)]


async def test_propose_in_a_group_named_in_any_case(cs: Consensus, db: Database, principles: Group) -> None:
    item = await cs.propose(ALICE, "point", "Minutes are public.", group="  principles ")
    assert item.group_id == principles.group_id
    assert rows(db, "SELECT group_id FROM items WHERE item_id = ?", (item.item_id,)) == [
        (principles.group_id,)
    ]
    ungrouped = await cs.propose(ALICE, "point", "No group.", group="   ")
    assert ungrouped.group_id is None


async def test_propose_refuses_archived_and_unknown_groups(
    cs: Consensus, wg: WorkingGroups, db: Database, principles: Group
) -> None:
    await wg.archive(COORD, principles)
    before = snapshot(db)
    with pytest.raises(Closed) as closed:
        await cs.propose(ALICE, "point", "Too late for this group.", group="Principles", deadline="48h")
    assert "Principles is archived" in sentence(closed, Closed)
    with pytest.raises(NotFound) as missing:
        await cs.propose(ALICE, "point", "Which group?", group="Nonexistent")
    assert "Nonexistent" in sentence(missing, NotFound)
    assert snapshot(db) == before


async def test_propose_refuses_another_servers_group(cs: Consensus, wg: WorkingGroups, db: Database) -> None:
    theirs = await wg.create(OTHER_COORD, "Theirs")
    with pytest.raises(NotFound) as err:
        await cs.propose(ALICE, "point", "Sneaky.", group=str(theirs.group_id))
    sentence(err, NotFound)
    assert rows(db, "SELECT count(*) FROM items") == [(0,)]


async def test_deadline_as_a_duration_plans_reminders_and_the_deadline(
    cs: Consensus, db: Database, principles: Group
) -> None:
    item = await cs.propose(ALICE, "point", "Silence means yes.", group="Principles", deadline="48h")
    assert item.deadline_at == T0 + 2 * DAY
    assert posts(db, item.item_id) == [
        (REMINDER, T0 + 2 * DAY - DAY, "pending"),  # a day before
        (REMINDER, T0 + 2 * DAY - HOUR, "pending"),  # an hour before
        (DEADLINE, T0 + 2 * DAY, "pending"),
    ]
    assert rows(db, "SELECT DISTINCT guild_id, attempts, late FROM scheduled_posts") == [(GUILD, 0, 0)]


async def test_deadline_as_a_wall_time_in_paris(cs: Consensus, db: Database) -> None:
    item = await cs.propose(ALICE, "point", "Friday evening.", deadline="2026-12-04 18:00")
    deadline = int(datetime(2026, 12, 4, 17, 0, tzinfo=UTC).timestamp())  # Paris is UTC+1 in December
    assert item.deadline_at == deadline
    assert rows(db, "SELECT deadline_at FROM items WHERE item_id = ?", (item.item_id,)) == [(deadline,)]
    assert posts(db, item.item_id) == [
        (REMINDER, deadline - DAY, "pending"),
        (REMINDER, deadline - HOUR, "pending"),
        (DEADLINE, deadline, "pending"),
    ]


async def test_deadline_in_summer_time_uses_the_summer_offset(cs: Consensus) -> None:
    item = await cs.propose(ALICE, "point", "Summer.", deadline="2027-07-01 18:00")
    assert item.deadline_at == int(datetime(2027, 7, 1, 16, 0, tzinfo=UTC).timestamp())  # UTC+2


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        ("2h", [(REMINDER, T0 + HOUR), (DEADLINE, T0 + 2 * HOUR)]),  # the day-before reminder is already past
        ("30m", [(DEADLINE, T0 + 30 * 60)]),  # both reminders are past
        ("1h", [(DEADLINE, T0 + HOUR)]),  # the hour-before reminder would be now: not planned
        ("2026-11-30 13:30", [(DEADLINE, T0 + 30 * 60)]),  # 12:30 UTC
    ],
)
async def test_only_future_reminders_are_planned(
    cs: Consensus, db: Database, deadline: str, expected: list[tuple[str, int]]
) -> None:
    item = await cs.propose(ALICE, "point", "Soon.", deadline=deadline)
    assert [(kind, due) for kind, due, _ in posts(db, item.item_id)] == expected


@pytest.mark.parametrize(
    ("deadline", "words"),
    [
        ("2026-11-01 10:00", "in the past"),
        ("2026-11-30 13:00", "in the past"),  # exactly now (13:00 Paris) is not the future
        ("next friday", "not a deadline: give a duration such as 48h or 3d, or a date and time"),
        ("2026-02-30 25:00", "not a real date and time"),
        ("2027-02-30 10:00", "not a real date and time"),
        ("2027-03-28 02:30", "does not exist in Europe/Paris"),  # the spring-forward gap
        ("0h", "must be in the future"),
        ("400d", "at most a year"),
    ],
)
async def test_bad_deadlines_are_refused_and_nothing_is_written(
    cs: Consensus, db: Database, principles: Group, deadline: str, words: str
) -> None:
    before = snapshot(db)
    with pytest.raises(Invalid) as err:
        await cs.propose(ALICE, "point", "Needs a deadline.", group="Principles", deadline=deadline)
    assert words in sentence(err, Invalid)
    assert snapshot(db) == before


# -- positions ---------------------------------------------------------------------------------


async def test_four_stances_are_recorded_and_tallied(cs: Consensus, db: Database, point: Item) -> None:
    await cs.set_position(ALICE, point.item_id, "agree")
    await cs.set_position(BOB, point.item_id, "stand_aside")
    await cs.set_position(CAROL, point.item_id, "object", "  Minutes name people.  ")
    await cs.set_position(DAN, point.item_id, "block", "Breaks our privacy rule.")
    assert rows(
        db,
        "SELECT user_id, revision, stance, reason, updated_at FROM positions WHERE item_id = ? ORDER BY user_id",
        (point.item_id,),
    ) == [
        (ALICE.user_id, 1, "agree", None, T0),
        (BOB.user_id, 1, "stand_aside", None, T0),
        (CAROL.user_id, 1, "object", "Minutes name people.", T0),
        (DAN.user_id, 1, "block", "Breaks our privacy rule.", T0),
    ]
    assert rows(
        db,
        "SELECT user_id, stance, reason, state FROM objections WHERE item_id = ? ORDER BY user_id",
        (point.item_id,),
    ) == [
        (CAROL.user_id, "object", "Minutes name people.", "open"),
        (DAN.user_id, "block", "Breaks our privacy rule.", "open"),
    ]
    view = await cs.view(await cs.by_id(GUILD, point.item_id))
    assert view.tally == Tally(agree=1, stand_aside=1, object=1, block=1, open_objections=2)
    assert view.tally.responses == 4


async def test_a_reason_given_with_agree_is_not_kept(cs: Consensus, db: Database, point: Item) -> None:
    await cs.set_position(ALICE, point.item_id, "agree", "because")
    assert rows(db, "SELECT reason FROM positions") == [(None,)]
    assert rows(db, "SELECT count(*) FROM objections") == [(0,)]


@pytest.mark.parametrize("stance", ["object", "block"])
@pytest.mark.parametrize(
    ("reason", "kind"), [(None, Invalid), ("", Invalid), ("   ", Invalid), ("r" * 1001, TooLong)]
)
async def test_object_and_block_need_a_reason(
    cs: Consensus, db: Database, point: Item, stance: str, reason: str | None, kind: type[DomainError]
) -> None:
    before = snapshot(db)
    with pytest.raises(Invalid) as err:
        await cs.set_position(DAN, point.item_id, stance, reason)
    assert "reason" in sentence(err, kind)
    assert snapshot(db) == before
    await cs.set_position(DAN, point.item_id, stance, "r" * 1000)  # exactly the limit is fine
    assert rows(db, "SELECT stance, length(reason) FROM objections") == [(stance, 1000)]


async def test_an_unknown_stance_is_refused(cs: Consensus, db: Database, point: Item) -> None:
    before = snapshot(db)
    with pytest.raises(Invalid) as err:
        await cs.set_position(ALICE, point.item_id, "maybe")
    sentence(err, Invalid)
    assert snapshot(db) == before


async def test_changing_position_replaces_it(
    cs: Consensus, db: Database, clock: FakeClock, point: Item
) -> None:
    await cs.set_position(ALICE, point.item_id, "agree")
    clock.advance(timedelta(minutes=5))
    await cs.set_position(ALICE, point.item_id, "object", "Second thoughts.")
    clock.advance(timedelta(minutes=5))
    await cs.set_position(ALICE, point.item_id, "stand_aside")
    assert rows(db, "SELECT user_id, revision, stance, reason, updated_at FROM positions") == [
        (ALICE.user_id, 1, "stand_aside", None, T0 + 600)
    ]
    assert (await cs.view(point)).tally == Tally(stand_aside=1)


async def test_objection_register_follows_the_objectors_position(
    cs: Consensus, db: Database, clock: FakeClock, point: Item
) -> None:
    def register() -> list[tuple[Any, ...]]:
        return rows(
            db,
            "SELECT user_id, revision, stance, reason, state, note, resolved_by, created_at FROM objections",
        )

    await cs.set_position(BOB, point.item_id, "object", "Too vague.")
    assert register() == [(BOB.user_id, 1, "object", "Too vague.", "open", None, None, T0)]

    clock.advance(timedelta(hours=1))
    await cs.set_position(BOB, point.item_id, "agree")
    assert register() == [(BOB.user_id, 1, "object", "Too vague.", "withdrawn", None, BOB.user_id, T0)]
    assert (await cs.view(point)).tally == Tally(agree=1, open_objections=0)

    clock.advance(timedelta(hours=1))
    await cs.set_position(BOB, point.item_id, "block", "Now it is worse.")
    assert register() == [(BOB.user_id, 1, "block", "Now it is worse.", "open", None, None, T0 + 2 * HOUR)]
    assert (await cs.view(point)).tally == Tally(block=1, open_objections=1)

    # an objection marked addressed opens again, note cleared, when the member objects anew
    await cs.resolve_objection(CORA, "#1", BOB.user_id, "addressed", "We reworded it.")
    await cs.set_position(BOB, point.item_id, "object", "Still vague.")
    assert register() == [(BOB.user_id, 1, "object", "Still vague.", "open", None, None, T0 + 2 * HOUR)]


async def test_positions_on_questions_are_refused(cs: Consensus, db: Database) -> None:
    question = await cs.propose(ALICE, "question", "Who takes notes?")
    before = snapshot(db)
    with pytest.raises(Invalid) as err:
        await cs.set_position(BOB, question.item_id, "agree")
    assert "question" in sentence(err, Invalid)
    with pytest.raises(Invalid):
        await cs.open_point(GUILD, question.item_id)
    assert snapshot(db) == before


async def test_positions_on_decided_points_are_refused(cs: Consensus, db: Database, point: Item) -> None:
    await cs.set_position(ALICE, point.item_id, "agree")
    await cs.decide(CORA, "#1", "consensus")
    before = snapshot(db)
    with pytest.raises(Closed) as err:
        await cs.set_position(ALICE, point.item_id, "block", "Changed my mind.")
    assert "decided (consensus)" in sentence(err, Closed)
    with pytest.raises(Closed):
        await cs.open_point(GUILD, point.item_id)
    assert snapshot(db) == before


async def test_another_servers_item_id_is_not_found(cs: Consensus, db: Database) -> None:
    theirs = await cs.propose(OTHER_COORD, "point", "Their point.")
    before = snapshot(db)
    with pytest.raises(NotFound) as err:
        await cs.set_position(ALICE, theirs.item_id, "block", "Not my server.")
    sentence(err, NotFound)
    with pytest.raises(NotFound):
        await cs.by_id(GUILD, theirs.item_id)
    with pytest.raises(NotFound):
        await cs.open_point(GUILD, theirs.item_id)
    assert snapshot(db) == before


async def test_a_hundred_concurrent_positions(cs: Consensus, db: Database, point: Item) -> None:
    stances = ("agree", "stand_aside", "object", "block")
    members = [Actor(GUILD, 1000 + n, f"member {n}") for n in range(100)]
    await asyncio.gather(
        *(
            cs.set_position(m, point.item_id, stances[n % 4], f"reason {n}" if n % 4 >= 2 else None)
            for n, m in enumerate(members)
        )
    )
    assert rows(
        db, "SELECT count(*), count(DISTINCT user_id) FROM positions WHERE item_id = ?", (point.item_id,)
    ) == [(100, 100)]
    assert rows(db, "SELECT stance, count(*) FROM positions GROUP BY stance ORDER BY stance") == [
        ("agree", 25),
        ("block", 25),
        ("object", 25),
        ("stand_aside", 25),
    ]
    assert rows(db, "SELECT count(*) FROM objections WHERE state = 'open'") == [(50,)]
    view = await cs.view(point)
    assert view.tally == Tally(agree=25, stand_aside=25, object=25, block=25, open_objections=50)
    assert str(view.hint).startswith("25 blocks, 50 objections open, 25 of 100 agree, 25 stand aside")


# -- tally and hint ----------------------------------------------------------------------------


def test_hint_wording() -> None:  # a Text, rendered in the reader's language
    assert (
        str(hint(Tally(agree=31, object=2, open_objections=2), None))
        == "no blocks, 2 objections open, 31 of 33 agree"
    )
    assert (
        str(hint(Tally(agree=31, stand_aside=1, object=2, open_objections=2), 3))
        == "no blocks, 2 objections open, 31 of 34 agree, 1 stands aside, 3 group members not responded"
    )
    assert (
        str(hint(Tally(agree=2, stand_aside=2, block=1, open_objections=1), 1))
        == "1 block, 1 objection open, 2 of 5 agree, 2 stand aside, 1 group member not responded"
    )
    assert str(hint(Tally(block=2, open_objections=0), 0)) == "2 blocks, 0 objections open, 0 of 2 agree"
    assert str(hint(Tally())) == "no blocks, 0 objections open, 0 of 0 agree"


async def test_view_counts_group_non_responders(
    cs: Consensus, db: Database, clock: FakeClock, point: Item
) -> None:
    view = await cs.view(point)
    assert (view.group_size, view.not_responded) == (4, 4)  # Cora, Alice, Bob, Carol
    assert str(view.hint) == "no blocks, 0 objections open, 0 of 0 agree, 4 group members not responded"

    await cs.set_position(ALICE, point.item_id, "agree")
    await cs.set_position(
        DAN, point.item_id, "object", "I am not in the group."
    )  # counted, not a group member
    await servers.member_left(db, clock, GUILD, BOB.user_id)  # Bob left the server: no longer expected
    view = await cs.view(point)
    assert view.group is not None and view.group.name == "Principles"
    assert (view.group_size, view.not_responded) == (3, 2)
    assert str(view.hint) == "no blocks, 1 objection open, 1 of 2 agree, 2 group members not responded"
    details = await cs.details(GUILD, "#1")
    assert details.not_responded == ((CAROL.user_id, "Carol"), (CORA.user_id, "Cora"))
    assert [(p.user_id, p.stance) for p in details.positions] == [
        (DAN.user_id, "object"),
        (ALICE.user_id, "agree"),
    ]
    assert [(o.user_id, o.display_name, o.state) for o in details.objections] == [
        (DAN.user_id, "Dan", "open")
    ]

    for member in (CORA, CAROL):
        await cs.set_position(member, point.item_id, "agree")
    view = await cs.view(point)
    assert view.not_responded == 0
    assert str(view.hint) == "no blocks, 1 objection open, 3 of 4 agree"


async def test_view_of_an_ungrouped_item_has_no_group_counts(cs: Consensus) -> None:
    item = await cs.propose(ALICE, "point", "No group.")
    view = await cs.view(item)
    assert (view.group, view.group_size, view.not_responded) == (None, None, None)
    assert (await cs.details(GUILD, "1")).not_responded == ()


# -- amend -------------------------------------------------------------------------------------


async def test_amend_makes_a_new_revision_and_starts_a_fresh_tally(
    cs: Consensus, db: Database, clock: FakeClock, point: Item
) -> None:
    await cs.set_position(BOB, point.item_id, "agree")
    await cs.set_position(CAROL, point.item_id, "object", "Name the minute-taker.")
    clock.advance(timedelta(hours=1))
    amended = await cs.amend(ALICE, "#1", "We publish all minutes, naming the minute-taker.")
    assert (amended.item_id, amended.revision) == (point.item_id, 2)
    assert amended.text == "We publish all minutes, naming the minute-taker."
    assert rows(db, "SELECT revision, text, author_id, created_at FROM item_revisions ORDER BY revision") == [
        (1, "We publish all minutes.", ALICE.user_id, T0),
        (2, "We publish all minutes, naming the minute-taker.", ALICE.user_id, T0 + HOUR),
    ]
    # the old positions stay in history under revision 1 ...
    assert rows(db, "SELECT revision, user_id, stance FROM positions ORDER BY user_id") == [
        (1, BOB.user_id, "agree"),
        (1, CAROL.user_id, "object"),
    ]
    # ... but count for nothing now: everyone has to confirm again
    view = await cs.view(amended)
    assert view.tally == Tally()
    assert view.not_responded == 4
    await cs.set_position(BOB, point.item_id, "agree")
    assert rows(db, "SELECT revision, user_id FROM positions ORDER BY revision, user_id") == [
        (1, BOB.user_id),
        (1, CAROL.user_id),
        (2, BOB.user_id),
    ]
    assert (await cs.view(amended)).tally == Tally(agree=1)
    details = await cs.details(GUILD, "#1")
    assert [r.revision for r in details.revisions] == [1, 2]


@pytest.mark.parametrize("who", [ALICE, CORA, COORD], ids=["author", "convener", "coordinator"])
async def test_author_convener_and_coordinator_may_amend(cs: Consensus, point: Item, who: Actor) -> None:
    amended = await cs.amend(who, "#1", f"Amended by {who.display_name}.")
    assert amended.revision == 2


@pytest.mark.parametrize("who", [BOB, OTTO, DAN], ids=["member", "other-convener", "outsider"])
async def test_others_may_not_amend(
    cs: Consensus, db: Database, point: Item, roadmap: Group, who: Actor
) -> None:
    before = snapshot(db)
    with pytest.raises(NotAllowed) as err:
        await cs.amend(who, "#1", "My own words.")
    assert "Only the author of #1" in sentence(err, NotAllowed)
    assert snapshot(db) == before


async def test_amend_refuses_same_text_decided_items_and_bad_text(
    cs: Consensus, db: Database, point: Item
) -> None:
    before = snapshot(db)
    with pytest.raises(Conflict) as same:
        await cs.amend(ALICE, "#1", "  We publish all minutes.  ")
    assert "already the text" in sentence(same, Conflict)
    with pytest.raises(Invalid) as empty:
        await cs.amend(ALICE, "#1", "  ")
    sentence(empty, Invalid)
    with pytest.raises(TooLong) as long:
        await cs.amend(ALICE, "#1", "z" * 1501)
    sentence(long, TooLong)
    with pytest.raises(NotFound) as missing:
        await cs.amend(ALICE, "#7", "Nothing there.")
    assert "no item #7" in sentence(missing, NotFound)
    assert snapshot(db) == before

    await cs.decide(CORA, "#1", "no_consensus")
    before = snapshot(db)
    with pytest.raises(Closed) as closed:
        await cs.amend(ALICE, "#1", "Try again.")
    assert "reopen it" in sentence(closed, Closed)
    assert snapshot(db) == before


# -- decide, reopen, answer --------------------------------------------------------------------


async def test_convener_decides_with_a_note_and_pending_posts_are_cancelled(
    cs: Consensus, db: Database, clock: FakeClock, principles: Group
) -> None:
    item = await cs.propose(ALICE, "point", "Silence means yes.", group="Principles", deadline="48h")
    clock.advance(timedelta(hours=2))
    decided = await cs.decide(CORA, "#1", "rough_consensus", "  Two objections in the rough.  ")
    assert (decided.status, decided.decided_by, decided.decided_at) == (
        "rough_consensus",
        CORA.user_id,
        T0 + 2 * HOUR,
    )
    assert decided.outcome_note == "Two objections in the rough."
    assert rows(db, "SELECT status, decided_by, decided_at, outcome_note FROM items") == [
        ("rough_consensus", CORA.user_id, T0 + 2 * HOUR, "Two objections in the rough.")
    ]
    assert [state for _, _, state in posts(db, item.item_id)] == ["cancelled", "cancelled", "cancelled"]
    assert rows(db, "SELECT DISTINCT done_at FROM scheduled_posts") == [(T0 + 2 * HOUR,)]


@pytest.mark.parametrize("outcome", ["consensus", "rough_consensus", "no_consensus", "withdrawn"])
async def test_coordinator_declares_every_outcome(cs: Consensus, point: Item, outcome: str) -> None:
    decided = await cs.decide(COORD, "1", outcome)
    assert (decided.status, decided.decided_by, decided.outcome_note) == (outcome, COORD.user_id, None)


@pytest.mark.parametrize("who", [ALICE, OTTO, DAN], ids=["author-member", "other-convener", "outsider"])
async def test_others_may_not_decide_reopen_or_handle_objections(
    cs: Consensus, db: Database, principles: Group, roadmap: Group, who: Actor
) -> None:
    item = await cs.propose(ALICE, "point", "Silence means yes.", group="Principles", deadline="48h")
    await cs.propose(ALICE, "question", "Who chairs?", group="Principles")
    await cs.set_position(BOB, item.item_id, "object", "No.")
    before = snapshot(db)
    with pytest.raises(NotAllowed) as err:
        await cs.decide(who, "#1", "consensus")
    assert sentence(err, NotAllowed) == "Only conveners of Principles or coordinators can decide #1."
    with pytest.raises(NotAllowed):
        await cs.answer(who, "#2", "Cora chairs.")
    with pytest.raises(NotAllowed):
        await cs.answer(who, "#2", None, dropped=True)
    with pytest.raises(NotAllowed):
        await cs.resolve_objection(who, "#1", BOB.user_id, "addressed", None)
    assert snapshot(db) == before
    await cs.decide(CORA, "#1", "consensus")
    before = snapshot(db)
    with pytest.raises(NotAllowed) as err:
        await cs.reopen(who, "#1")
    assert "can reopen #1" in sentence(err, NotAllowed)
    assert snapshot(db) == before


async def test_only_coordinators_judge_items_without_a_group(
    cs: Consensus, db: Database, principles: Group
) -> None:
    await cs.propose(ALICE, "point", "No group.")
    with pytest.raises(NotAllowed) as err:
        await cs.decide(CORA, "#1", "consensus")  # a convener, but of another group
    assert sentence(err, NotAllowed) == "Only coordinators can decide #1."
    assert rows(db, "SELECT status FROM items") == [("open",)]
    assert (await cs.decide(COORD, "#1", "consensus")).status == "consensus"


async def test_decide_and_answer_refuse_the_wrong_kind_and_bad_outcomes(
    cs: Consensus, db: Database, point: Item
) -> None:
    await cs.propose(ALICE, "question", "Who chairs?", group="Principles")
    before = snapshot(db)
    with pytest.raises(Invalid) as on_question:
        await cs.decide(CORA, "#2", "consensus")
    assert "/consensus answer" in sentence(on_question, Invalid)
    with pytest.raises(Invalid) as on_point:
        await cs.answer(CORA, "#1", "Yes.")
    assert "/consensus decide" in sentence(on_point, Invalid)
    with pytest.raises(Invalid) as outcome:
        await cs.decide(CORA, "#1", "answered")
    sentence(outcome, Invalid)
    with pytest.raises(TooLong) as note:
        await cs.decide(CORA, "#1", "consensus", "n" * 1001)
    sentence(note, TooLong)
    with pytest.raises(Invalid) as ref:
        await cs.decide(CORA, "one", "consensus")
    assert "not an item number" in sentence(ref, Invalid)
    assert snapshot(db) == before


async def test_deciding_twice_is_a_conflict(cs: Consensus, db: Database, point: Item) -> None:
    await cs.decide(CORA, "#1", "consensus")
    before = snapshot(db)
    with pytest.raises(Conflict) as err:
        await cs.decide(COORD, "#1", "no_consensus")
    assert "already decided (consensus)" in sentence(err, Conflict)
    assert snapshot(db) == before


async def test_reopen_plans_a_future_deadline_again(
    cs: Consensus, db: Database, clock: FakeClock, principles: Group
) -> None:
    item = await cs.propose(ALICE, "point", "Silence means yes.", group="Principles", deadline="48h")
    await cs.set_position(BOB, item.item_id, "agree")
    clock.advance(timedelta(hours=1))
    await cs.decide(CORA, "#1", "consensus", "Quick agreement.")
    clock.advance(timedelta(hours=29))  # T0 + 30h: the day-before reminder (T0 + 24h) is now past
    reopened = await cs.reopen(CORA, "#1")
    assert (reopened.status, reopened.decided_by, reopened.decided_at, reopened.outcome_note) == (
        "open",
        None,
        None,
        None,
    )
    assert posts(db, item.item_id) == [
        (REMINDER, T0 + DAY, "cancelled"),
        (REMINDER, T0 + 47 * HOUR, "pending"),
        (DEADLINE, T0 + 48 * HOUR, "pending"),
    ]
    assert rows(db, "SELECT DISTINCT attempts FROM scheduled_posts WHERE state = 'pending'") == [(0,)]
    # positions count again and can change
    assert (await cs.view(reopened)).tally == Tally(agree=1)
    await cs.set_position(BOB, item.item_id, "stand_aside")
    with pytest.raises(Conflict) as err:
        await cs.reopen(COORD, "#1")
    assert "already open" in sentence(err, Conflict)


async def test_reopen_after_the_deadline_plans_nothing(
    cs: Consensus, db: Database, clock: FakeClock, principles: Group
) -> None:
    item = await cs.propose(ALICE, "point", "Silence means yes.", group="Principles", deadline="48h")
    await cs.decide(COORD, "#1", "no_consensus")
    clock.advance(timedelta(days=3))
    await cs.reopen(COORD, "#1")
    assert [state for _, _, state in posts(db, item.item_id)] == ["cancelled", "cancelled", "cancelled"]


async def test_answer_and_drop_questions(cs: Consensus, db: Database, principles: Group) -> None:
    await cs.propose(ALICE, "question", "Who chairs?", group="Principles")
    await cs.propose(ALICE, "question", "Shall we meet in person?", group="Principles")
    with pytest.raises(Invalid) as err:
        await cs.answer(CORA, "#1", "   ")
    assert "answer is empty" in sentence(err, Invalid)
    answered = await cs.answer(CORA, "#1", "  Cora chairs until March.  ")
    assert (answered.status, answered.answer, answered.decided_by) == (
        "answered",
        "Cora chairs until March.",
        CORA.user_id,
    )
    dropped = await cs.answer(COORD, "#2", "No budget.", dropped=True)
    assert (dropped.status, dropped.answer, dropped.outcome_note) == ("dropped", None, "No budget.")
    assert rows(
        db, "SELECT number, status, answer, outcome_note, decided_by, decided_at FROM items ORDER BY number"
    ) == [
        (1, "answered", "Cora chairs until March.", None, CORA.user_id, T0),
        (2, "dropped", None, "No budget.", COORD.user_id, T0),
    ]
    with pytest.raises(Conflict):
        await cs.answer(COORD, "#1", "Someone else.")
    reopened = await cs.reopen(COORD, "#1")
    assert (reopened.status, reopened.answer) == ("open", None)
    again = await cs.answer(COORD, "#1", None, dropped=True)
    assert (again.status, again.outcome_note) == ("dropped", None)


# -- the objection register --------------------------------------------------------------------


async def test_objections_marked_addressed_or_in_the_rough(
    cs: Consensus, db: Database, clock: FakeClock, point: Item
) -> None:
    await cs.set_position(BOB, point.item_id, "object", "Too vague.")
    await cs.set_position(CAROL, point.item_id, "block", "Privacy.")
    clock.advance(timedelta(hours=1))

    item, entry = await cs.resolve_objection(CORA, "#1", BOB.user_id, "addressed", None)
    assert item.item_id == point.item_id
    assert (entry.user_id, entry.display_name, entry.state, entry.note) == (
        BOB.user_id,
        "Bob",
        "addressed",
        None,
    )
    assert (entry.resolved_by, entry.resolved_at) == (CORA.user_id, T0 + HOUR)

    with pytest.raises(Invalid) as err:
        await cs.resolve_objection(CORA, "#1", CAROL.user_id, "in_the_rough", "   ")
    assert "note is required" in sentence(err, Invalid)
    assert rows(db, "SELECT state FROM objections WHERE user_id = ?", (CAROL.user_id,)) == [("open",)]

    _, rough = await cs.resolve_objection(COORD, "#1", CAROL.user_id, "in_the_rough", "Legal checked it.")
    assert (rough.state, rough.note, rough.resolved_by) == (
        "in_the_rough",
        "Legal checked it.",
        COORD.user_id,
    )
    assert rows(
        db, "SELECT user_id, state, note, resolved_by, resolved_at FROM objections ORDER BY user_id"
    ) == [
        (BOB.user_id, "addressed", None, CORA.user_id, T0 + HOUR),
        (CAROL.user_id, "in_the_rough", "Legal checked it.", COORD.user_id, T0 + HOUR),
    ]
    view = await cs.view(point)
    # the positions stay as they were; only the register's open count drops
    assert view.tally == Tally(object=1, block=1, open_objections=0)
    assert str(view.hint).startswith("1 block, 0 objections open, 0 of 2 agree")


async def test_resolving_a_missing_objection_is_not_found(cs: Consensus, db: Database, point: Item) -> None:
    await cs.set_position(BOB, point.item_id, "object", "Too vague.")
    await cs.set_position(BOB, point.item_id, "agree")  # withdrawn
    await cs.set_position(CAROL, point.item_id, "agree")
    before = snapshot(db)
    for objector in (BOB.user_id, CAROL.user_id, 999):
        with pytest.raises(NotFound) as err:
            await cs.resolve_objection(CORA, "#1", objector, "addressed", None)
        assert "no objection or block on the current text of #1" in sentence(err, NotFound)
    with pytest.raises(Invalid) as state:
        await cs.resolve_objection(CORA, "#1", BOB.user_id, "ignored", None)
    sentence(state, Invalid)
    assert snapshot(db) == before


async def test_objections_of_an_old_revision_cannot_be_resolved(
    cs: Consensus, db: Database, point: Item
) -> None:
    await cs.set_position(BOB, point.item_id, "object", "Too vague.")
    await cs.amend(ALICE, "#1", "Sharper text.")
    with pytest.raises(NotFound):
        await cs.resolve_objection(CORA, "#1", BOB.user_id, "addressed", None)
    assert rows(db, "SELECT revision, state FROM objections") == [(1, "open")]
    assert (await cs.view(await cs.resolve(GUILD, "#1"))).tally.open_objections == 0


async def test_objections_on_decided_points_are_frozen(cs: Consensus, db: Database, point: Item) -> None:
    await cs.set_position(BOB, point.item_id, "object", "Too vague.")
    await cs.decide(CORA, "#1", "no_consensus")
    before = snapshot(db)
    with pytest.raises(Closed) as err:
        await cs.resolve_objection(CORA, "#1", BOB.user_id, "addressed", None)
    sentence(err, Closed)
    assert snapshot(db) == before


# -- comment-deadline posts --------------------------------------------------------------------


async def test_reminder_mentions_exactly_the_group_members_who_have_not_responded(
    cs: Consensus, db: Database, clock: FakeClock, principles: Group
) -> None:
    item = await cs.propose(ALICE, "point", "Silence means yes.", group="Principles", deadline="48h")
    await cs.set_position(ALICE, item.item_id, "agree")
    await cs.set_position(DAN, item.item_id, "agree")  # not in the group: never mentioned
    await servers.member_left(db, clock, GUILD, BOB.user_id)
    clock.advance(timedelta(days=1))

    reminder = await cs.reminder(item.item_id, GUILD, REMINDER, late=False)
    assert reminder is not None
    assert (reminder.kind, reminder.channel_id, reminder.late) == (REMINDER, HOME_CHANNEL, False)
    assert sorted(reminder.mention_ids) == sorted([CAROL.user_id, CORA.user_id])
    assert reminder.view.not_responded == 2

    late = await cs.reminder(item.item_id, GUILD, REMINDER, late=True)
    assert late is not None and late.late

    # when every current member has responded there is nothing to remind
    await cs.set_position(CAROL, item.item_id, "stand_aside")
    await cs.set_position(CORA, item.item_id, "agree")
    assert await cs.reminder(item.item_id, GUILD, REMINDER, late=False) is None


async def test_deadline_post_mentions_the_conveners(
    cs: Consensus, wg: WorkingGroups, db: Database, clock: FakeClock, principles: Group
) -> None:
    await wg.set_convener(COORD, principles, Target(CAROL.user_id, "Carol"))
    item = await cs.propose(ALICE, "point", "Silence means yes.", group="Principles", deadline="48h")
    clock.advance(timedelta(days=2))
    # a reminder after the deadline is no longer useful
    assert await cs.reminder(item.item_id, GUILD, REMINDER, late=True) is None
    deadline = await cs.reminder(item.item_id, GUILD, DEADLINE, late=False)
    assert deadline is not None
    assert (deadline.kind, deadline.channel_id) == (DEADLINE, HOME_CHANNEL)
    assert sorted(deadline.mention_ids) == sorted([CAROL.user_id, CORA.user_id])
    await servers.member_left(db, clock, GUILD, CAROL.user_id)
    again = await cs.reminder(item.item_id, GUILD, DEADLINE, late=True)
    assert again is not None and again.mention_ids == (CORA.user_id,) and again.late


async def test_no_post_for_a_decided_item(cs: Consensus, principles: Group) -> None:
    item = await cs.propose(ALICE, "point", "Silence means yes.", group="Principles", deadline="48h")
    await cs.decide(CORA, "#1", "withdrawn")
    assert await cs.reminder(item.item_id, GUILD, REMINDER, late=False) is None
    assert await cs.reminder(item.item_id, GUILD, DEADLINE, late=False) is None


async def test_posts_of_an_ungrouped_item_go_to_its_message_channel(cs: Consensus) -> None:
    item = await cs.propose(ALICE, "point", "No group.", deadline="48h")
    await cs.attach_message(item, 777, 888)
    reminder = await cs.reminder(item.item_id, GUILD, REMINDER, late=False)
    assert reminder is not None and (reminder.channel_id, reminder.mention_ids) == (777, ())
    deadline = await cs.reminder(item.item_id, GUILD, DEADLINE, late=False)
    assert deadline is not None and (deadline.channel_id, deadline.mention_ids) == (777, ())


async def test_no_post_without_a_deadline_or_for_another_server(cs: Consensus) -> None:
    plain = await cs.propose(ALICE, "point", "No deadline.")
    assert await cs.reminder(plain.item_id, GUILD, REMINDER, late=False) is None
    timed = await cs.propose(ALICE, "point", "Deadline.", deadline="48h")
    assert await cs.reminder(timed.item_id, OTHER_GUILD, DEADLINE, late=False) is None


# -- listing and autocomplete ------------------------------------------------------------------


async def test_list_items_filters(cs: Consensus, principles: Group, roadmap: Group) -> None:
    await cs.propose(ALICE, "point", "P1 in Principles.", group="Principles")  # 1
    await cs.propose(ALICE, "question", "Q2 in Principles?", group="Principles")  # 2
    await cs.propose(OTTO, "point", "P3 in Roadmap.", group="Roadmap")  # 3
    await cs.propose(ALICE, "point", "P4 without a group.")  # 4
    await cs.propose(OTHER_COORD, "point", "Another server.")
    await cs.decide(CORA, "#1", "consensus")
    await cs.answer(CORA, "#2", None, dropped=True)

    def numbers(items: list[Item]) -> list[int]:
        return [i.number for i in items]

    assert numbers(await cs.list_items(GUILD)) == [1, 2, 3, 4]
    assert numbers(await cs.list_items(GUILD, group="principles")) == [1, 2]
    assert numbers(await cs.list_items(GUILD, status="open")) == [3, 4]
    assert numbers(await cs.list_items(GUILD, status="decided")) == [1, 2]
    assert numbers(await cs.list_items(GUILD, status="dropped")) == [2]
    assert numbers(await cs.list_items(GUILD, kind="question")) == [2]
    assert numbers(await cs.list_items(GUILD, kind="point", status="open")) == [3, 4]
    assert numbers(await cs.list_items(GUILD, group="Roadmap", status="decided")) == []
    assert numbers(await cs.list_items(OTHER_GUILD)) == [1]
    with pytest.raises(Invalid) as status:
        await cs.list_items(GUILD, status="pending")
    sentence(status, Invalid)
    with pytest.raises(Invalid) as kind:
        await cs.list_items(GUILD, kind="poll")
    sentence(kind, Invalid)
    with pytest.raises(NotFound):
        await cs.list_items(OTHER_GUILD, group="Principles")


async def test_suggest_stays_within_the_server(cs: Consensus) -> None:
    for n in range(1, 13):
        await cs.propose(ALICE, "point", f"Budget line {n}")
    await cs.propose(OTHER_COORD, "point", "Budget elsewhere")
    found = await cs.suggest(GUILD, "budget")
    assert len(found) == 12 and all(i.guild_id == GUILD for i in found)
    assert [i.number for i in await cs.suggest(GUILD, "#1")][:4] == [12, 11, 10, 1]
    assert [i.text for i in await cs.suggest(OTHER_GUILD, "budget")] == ["Budget elsewhere"]
    assert await cs.suggest(OTHER_GUILD, "line") == []
    assert await cs.suggest(GUILD, "100%") == []  # LIKE wildcards are taken literally


async def test_deadline_refused_on_questions_and_beyond_a_year(cs: Consensus, db: Database) -> None:
    before = snapshot(db)
    with pytest.raises(Invalid, match="applies to points"):
        await cs.propose(ALICE, "question", "Do we sign?", deadline="48h")
    with pytest.raises(Invalid, match="at most a year"):
        await cs.propose(ALICE, "point", "Far away", deadline="2029-01-01 10:00")
    assert snapshot(db) == before


async def test_a_point_is_measured_after_cleaning(cs: Consensus, db: Database) -> None:
    # 1,500 letters each typed with its accent apart (3,000 code points) are 1,500 characters once composed
    composed = await cs.propose(ALICE, "point", "e\u0301" * 1500)
    assert composed.text == "é" * 1500
    # 1,500 letters under a stack of five marks each: 9,000 code points, refused, and nothing written
    before = snapshot(db)
    with pytest.raises(TooLong) as err:
        await cs.propose(ALICE, "point", ("a" + "\u0316\u0317\u0318\u0319\u031a") * 1500)
    assert "at most 1,500 characters; this one has 9,000" in sentence(err, TooLong)
    # invisible characters neither count nor stay: a zero-width flood and overrides around a short text
    flooded = await cs.propose(ALICE, "point", "\u202e" + "\u200b" * 5000 + "Short\u0000 point")
    assert flooded.text == "Short point"
    assert snapshot(db) != before


async def test_a_lone_surrogate_never_reaches_storage(cs: Consensus, point: Item) -> None:
    amended = await cs.amend(ALICE, "#1", "We publish\ud800 all minutes, always.")
    assert amended.text == "We publish all minutes, always."
    with pytest.raises(Invalid):
        await cs.propose(ALICE, "point", "\ud800\udfff")


# -- the decision record ---------------------------------------------------------------------------------


def entries(db: Database) -> list[dict[str, Any]]:
    import json

    return [json.loads(r[0]) for r in rows(db, "SELECT entry FROM record_entries ORDER BY idx")]


async def test_outcomes_and_rulings_are_recorded_with_the_decision(
    cs: Consensus, db: Database, point: Item
) -> None:
    """Each outcome and each ruling on an objection appends its entry in the decision's own transaction,
    and the item (or objection) remembers which entry holds it; reopening or raising the objection again
    undoes the link (nothing stands to be cited)."""
    await cs.set_position(BOB, point.item_id, "agree")
    await cs.set_position(CAROL, point.item_id, "object", "Minutes name people.")
    await cs.resolve_objection(
        CORA, "1", CAROL.user_id, "in_the_rough", "Names are removed before publishing."
    )
    decided = await cs.decide(CORA, "1", "rough_consensus", "Carol's objection in the rough")
    kinds = [(e["kind"], e["facts"].get("state") or e["facts"].get("outcome")) for e in entries(db)]
    assert kinds == [("objection_ruled", "in_the_rough"), ("point_decided", "rough_consensus")]
    ruled, outcome = entries(db)
    assert ruled["facts"] == {"item": 1, "revision": 1, "stance": "object", "state": "in_the_rough",
                              "note_sha256": sha256_hex("Names are removed before publishing.")}  # fmt: skip
    assert outcome["facts"]["tally"] == {"agree": 1, "stand_aside": 0, "object": 1, "block": 0}
    assert outcome["facts"]["text_sha256"] == sha256_hex("We publish all minutes.")
    assert rows(db, "SELECT record_index FROM items") == [(1,)]
    assert rows(db, "SELECT record_index FROM objections") == [(0,)]
    assert decided.status == "rough_consensus"
    # reopened: no outcome stands; a new objection of Carol's is open again, unruled
    await cs.reopen(CORA, "1")
    assert rows(db, "SELECT record_index FROM items") == [(None,)]
    await cs.set_position(CAROL, point.item_id, "block", "Still no.")
    assert rows(db, "SELECT record_index FROM objections") == [(None,)]
    assert len(entries(db)) == 2  # reopening and raising are not decisions


async def test_a_failed_decision_records_nothing(cs: Consensus, db: Database, point: Item) -> None:
    await cs.decide(CORA, "1", "consensus")
    with pytest.raises(Conflict):
        await cs.decide(CORA, "1", "no_consensus")  # already decided: the transaction rolls back
    assert [e["facts"]["outcome"] for e in entries(db)] == ["consensus"]
