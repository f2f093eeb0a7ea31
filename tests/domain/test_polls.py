"""Quick polls: validation, single and multiple choice, ballot changes, concurrency and the counts table,
anonymous storage, eligibility, closing once, nudges, CSV export.

Every test runs against a real migrated SQLite file with a fake clock at 2026-11-30 12:00 UTC (13:00 in
Paris); what the database holds is checked through a second, plain connection (tests/engines.py).
"""

from __future__ import annotations

import asyncio
import csv
import io
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.clock import FakeClock
from domain.errors import Closed, Conflict, DomainError, Invalid, NotAllowed, NotFound, TooLong
from domain.groups import Group, Target, WorkingGroups
from domain.permissions import Actor, Policy
from domain.polls import (
    CLOSE,
    Poll,
    Polls,
    ballot_key,
    ballots_csv,
    mask_positions,
    picks_mask,
    results_csv,
    safe_cell,
    split_options,
)
from storage import polls as poll_rows
from storage.db import Database
from tests import engines
from tests.tally import recount

GUILD = 1001
OTHER_GUILD = 2002
PARIS = ZoneInfo("Europe/Paris")
T0 = int(datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp())
HOUR = 3600
DAY = 24 * HOUR
SECRET = bytes(range(32))
DELEGATES = 777  # a Discord role id

COORD = Actor(GUILD, 10, "Coco", role_names=frozenset({"coordinator"}))
CORA = Actor(GUILD, 20, "Cora")  # convener of Principles
ALICE = Actor(GUILD, 30, "Alice")
BOB = Actor(GUILD, 31, "Bob")
CAROL = Actor(GUILD, 32, "Carol")
DAN = Actor(GUILD, 33, "Dan")  # in no group, no role
DELE = Actor(GUILD, 34, "Dele", role_ids=frozenset({DELEGATES}), role_names=frozenset({"Delegates"}))
OTHER_COORD = Actor(OTHER_GUILD, 10, "Coco elsewhere", manage_guild=True)

POLL_TABLES = ("polls", "poll_options", "poll_counts", "poll_votes", "poll_secret_ballots")
TABLES = ("guilds", "members", *POLL_TABLES, "scheduled_posts")


# -- helpers -----------------------------------------------------------------------------------


def rows(db: Database, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows as a second connection sees them (what is committed)."""
    return engines.raw_rows(db.path, sql, params)


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    return {t: rows(db, f"SELECT * FROM {t} ORDER BY 1, 2") for t in TABLES}


def sentence(error: pytest.ExceptionInfo[DomainError], kind: type[DomainError]) -> str:
    """The refusal is exactly ``kind`` and reads as one clear sentence a member can act on."""
    assert type(error.value) is kind, f"{type(error.value).__name__}: {error.value}"
    text = str(error.value)
    assert 15 <= len(text) <= 300, text
    assert not text[0].islower() and text.endswith("."), text
    assert "\n" not in text and "sqlite" not in text.lower(), text
    return text


def counts(db: Database, poll: Poll) -> dict[int, int]:
    return dict(
        rows(db, "SELECT position, votes FROM poll_counts WHERE poll_id = ? ORDER BY 1", (poll.poll_id,))
    )


async def tally_matches_recount(db: Database, poll: Poll) -> dict[int, int]:
    tally = counts(db, poll)
    assert tally == await recount(db, poll.poll_id)
    ballots = rows(
        db,
        "SELECT (SELECT count(*) FROM poll_votes WHERE poll_id = :p) "
        "+ (SELECT count(*) FROM poll_secret_ballots WHERE poll_id = :p), ballots FROM polls WHERE poll_id = :p",
        {"p": poll.poll_id},  # type: ignore[arg-type]
    )
    assert ballots[0][0] == ballots[0][1]
    return tally


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def wg(db: Database, clock: FakeClock) -> WorkingGroups:
    return WorkingGroups(db, clock, Policy(("Coordinator",)), PARIS)


@pytest.fixture
def polls(db: Database, clock: FakeClock, wg: WorkingGroups) -> Polls:
    return Polls(db, clock, wg, PARIS, SECRET)


@pytest.fixture
async def principles(wg: WorkingGroups) -> Group:
    """Principles: Cora convenes; Alice, Bob and Carol are members."""
    group = await wg.create(COORD, "Principles")
    await wg.set_convener(COORD, group, Target(CORA.user_id, CORA.display_name))
    for member in (ALICE, BOB, CAROL):
        await wg.add_member(CORA, group, Target(member.user_id, member.display_name))
    return group


# -- creating ----------------------------------------------------------------------------------


async def test_create_numbers_polls_per_server_and_plans_the_close(polls: Polls, db: Database) -> None:
    first = await polls.create(ALICE, "  Which venue?  ", "Geneva; Nairobi ;  Kyoto;")
    second = await polls.create(BOB, "Lunch?", ["Yes", "No"], duration="2h", choices=2, anonymous=True)
    elsewhere = await polls.create(OTHER_COORD, "Theirs?", "A; B")

    assert (first.number, first.question, first.option_count, first.choices) == (1, "Which venue?", 3, 1)
    assert (first.created_at, first.closes_at, first.closed_at, first.ballots) == (T0, T0 + DAY, None, 0)
    assert (first.anonymous, first.hide_results, first.group_id, first.role_id) == (False, False, None, None)
    assert (second.number, second.closes_at, second.choices, second.anonymous) == (2, T0 + 2 * HOUR, 2, True)
    assert (elsewhere.number, elsewhere.guild_id) == (1, OTHER_GUILD)
    assert rows(db, "SELECT position, label FROM poll_options WHERE poll_id = ?", (first.poll_id,)) == [
        (1, "Geneva"), (2, "Nairobi"), (3, "Kyoto"),
    ]  # fmt: skip
    assert counts(db, first) == {1: 0, 2: 0, 3: 0}
    assert rows(db, "SELECT kind, due_at, state FROM scheduled_posts WHERE ref_id = ?", (first.poll_id,)) == [
        (CLOSE, T0 + DAY, "pending")
    ]
    assert (await polls.resolve(GUILD, "#2")).poll_id == second.poll_id
    assert (await polls.resolve(OTHER_GUILD, "1")).poll_id == elsewhere.poll_id
    with pytest.raises(NotFound):
        await polls.by_id(OTHER_GUILD, first.poll_id)  # another server's id


async def test_a_close_time_in_the_server_zone(polls: Polls) -> None:
    poll = await polls.create(ALICE, "When?", "A; B", closes="2026-12-01 18:00")
    assert poll.closes_at == int(datetime(2026, 12, 1, 17, 0, tzinfo=UTC).timestamp())  # 18:00 Paris


async def test_limits_that_are_just_allowed(polls: Polls, db: Database) -> None:
    options = [f"option {n:02d} " + "x" * 70 for n in range(25)]
    assert len(options[0]) == 80
    poll = await polls.create(ALICE, "q" * 300, ";".join(options), duration="90d", choices=25)
    assert (poll.option_count, poll.choices, poll.closes_at) == (25, 25, T0 + 90 * DAY)
    assert rows(db, "SELECT length(question) FROM polls") == [(300,)]
    assert (await polls.create(ALICE, "Seconds?", "A; B", duration="5s")).closes_at == T0 + 5


@pytest.mark.parametrize(
    ("question", "options", "kwargs", "kind", "words"),
    [
        ("Q?", "Only one", {}, Invalid, "at least 2 options"),
        ("Q?", "Yes;  ; ;", {}, Invalid, "at least 2 options"),
        ("Q?", ";".join(f"o{n}" for n in range(26)), {}, Invalid, "at most 25 options; this one has 26"),
        ("Q?", "Yes; No; yes ", {}, Invalid, "Options 1 and 3 are the same"),
        ("Q?", "Réponse; RÉPONSE", {}, Invalid, "are the same"),
        ("q" * 301, "A; B", {}, TooLong, "at most 300 characters; this one has 301"),
        ("   ", "A; B", {}, Invalid, "question is empty"),
        ("Q?", "A; " + "b" * 81, {}, TooLong, "option 2 has 81"),
        ("Q?", "A; B", {"duration": "0m"}, Invalid, "must run for some time"),
        ("Q?", "A; B", {"duration": "0s"}, Invalid, "must run for some time"),
        ("Q?", "A; B", {"duration": "-5m"}, Invalid, "can't be negative"),
        ("Q?", "A; B", {"duration": "soon"}, Invalid, "not a duration"),
        ("Q?", "A; B", {"duration": "91d"}, Invalid, "at most 90 days"),
        ("Q?", "A; B", {"duration": "13w"}, Invalid, "at most 90 days"),
        ("Q?", "A; B", {"closes": "2020-01-01 10:00"}, Invalid, "in the past"),
        ("Q?", "A; B", {"closes": "2026-11-30 13:00"}, Invalid, "in the past"),  # exactly now in Paris
        ("Q?", "A; B", {"closes": "2027-06-01 10:00"}, Invalid, "at most 90 days"),
        ("Q?", "A; B", {"closes": "2026-02-30 10:00"}, Invalid, "not a real date"),
        ("Q?", "A; B", {"duration": "1h", "closes": "2026-12-01 10:00"}, Invalid, "not both"),
        ("Q?", "A; B", {"choices": 0}, Invalid, "from 1 to 2"),
        ("Q?", "A; B; C", {"choices": 4}, Invalid, "from 1 to 3"),
        ("Q?", "A; B", {"group": "Nope"}, NotFound, "no working group"),
    ],
)
async def test_bad_input_is_refused_and_nothing_written(
    polls: Polls, db: Database, question: str, options: str, kwargs: dict[str, Any], kind: type[DomainError],
    words: str,
) -> None:  # fmt: skip
    before = snapshot(db)
    with pytest.raises(DomainError) as err:
        await polls.create(ALICE, question, options, **kwargs)
    assert words in sentence(err, kind)
    assert snapshot(db) == before


async def test_group_and_role_together_or_an_archived_group_are_refused(
    polls: Polls, wg: WorkingGroups, db: Database, principles: Group
) -> None:
    before = snapshot(db)
    with pytest.raises(Invalid) as err:
        await polls.create(ALICE, "Q?", "A; B", group="Principles", role_id=DELEGATES, role_name="Delegates")
    assert "not both" in sentence(err, Invalid)
    await wg.archive(COORD, principles)
    before = snapshot(db)
    with pytest.raises(Closed) as closed:
        await polls.create(ALICE, "Q?", "A; B", group="principles")
    assert "archived" in sentence(closed, Closed)
    assert snapshot(db) == before


def test_option_helpers() -> None:
    assert split_options(" a ;b;; c ; ") == ["a", "b", "c"]
    assert picks_mask([1, 3, 25]) == 0b1_0000_0000_0000_0000_0000_0101
    assert mask_positions(picks_mask([25, 2])) == (2, 25)


# -- voting ------------------------------------------------------------------------------------


async def test_single_choice_and_changing_the_ballot(polls: Polls, db: Database) -> None:
    poll = await polls.create(ALICE, "Venue?", "Geneva; Nairobi; Kyoto")
    ballot = await polls.vote(BOB, poll.poll_id, [2], toggle=True)
    assert (ballot.positions, ballot.labels, ballot.changed) == ((2,), ("Nairobi",), True)
    await polls.vote(CAROL, poll.poll_id, [2], toggle=True)
    assert counts(db, poll) == {1: 0, 2: 2, 3: 0}

    changed = await polls.vote(BOB, poll.poll_id, [3], toggle=True)  # a click on another option replaces it
    assert changed.labels == ("Kyoto",)
    assert counts(db, poll) == {1: 0, 2: 1, 3: 1}
    again = await polls.vote(BOB, poll.poll_id, [3], toggle=True)  # the same option again keeps it
    assert (again.labels, again.changed) == (("Kyoto",), False)
    replaced = await polls.vote(BOB, poll.poll_id, [1])  # a select replaces it too
    assert replaced.labels == ("Geneva",)
    assert await tally_matches_recount(db, poll) == {1: 1, 2: 1, 3: 0}
    assert rows(db, "SELECT user_id, picks, updated_at FROM poll_votes ORDER BY user_id") == [
        (BOB.user_id, 0b001, T0), (CAROL.user_id, 0b010, T0),
    ]  # fmt: skip
    assert rows(db, "SELECT ballots FROM polls") == [(2,)]
    assert (await polls.ballot(BOB, poll.poll_id)).labels == ("Geneva",)
    assert (await polls.ballot(DAN, poll.poll_id)).positions == ()
    with pytest.raises(Invalid) as err:
        await polls.vote(BOB, poll.poll_id, [1, 2])
    assert "at most 1 options" in sentence(err, Invalid)


async def test_multiple_choice_buttons_toggle_and_refuse_more_than_k(polls: Polls, db: Database) -> None:
    poll = await polls.create(ALICE, "Topics?", "Access; Rights; Security; Climate", choices=2)
    assert (await polls.vote(BOB, poll.poll_id, [1], toggle=True)).labels == ("Access",)
    assert (await polls.vote(BOB, poll.poll_id, [3], toggle=True)).labels == ("Access", "Security")
    before = snapshot(db)
    with pytest.raises(Invalid) as err:
        await polls.vote(BOB, poll.poll_id, [4], toggle=True)
    assert "at most 2 options in poll #1; click one of yours again" in sentence(err, Invalid)
    assert snapshot(db) == before
    assert (await polls.vote(BOB, poll.poll_id, [1], toggle=True)).labels == ("Security",)  # toggled off
    assert (await polls.vote(BOB, poll.poll_id, [4], toggle=True)).labels == ("Security", "Climate")
    assert counts(db, poll) == {1: 0, 2: 0, 3: 1, 4: 1}
    # removing every option withdraws the ballot
    await polls.vote(BOB, poll.poll_id, [3], toggle=True)
    withdrawn = await polls.vote(BOB, poll.poll_id, [4], toggle=True)
    assert withdrawn.positions == () and withdrawn.changed
    assert await tally_matches_recount(db, poll) == {1: 0, 2: 0, 3: 0, 4: 0}
    assert rows(db, "SELECT ballots FROM polls") == [(0,)]


async def test_select_replaces_the_whole_ballot(polls: Polls, db: Database) -> None:
    poll = await polls.create(ALICE, "Pick up to 3", ";".join(f"Option {n}" for n in range(1, 8)), choices=3)
    await polls.vote(BOB, poll.poll_id, [1, 2, 7])
    await polls.vote(BOB, poll.poll_id, [6, 7])
    assert await tally_matches_recount(db, poll) == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 1, 7: 1}
    before = snapshot(db)
    for picks, words in (([1, 2, 3, 4], "at most 3 options"), ([8], "not on poll #1"), ([0], "not on poll #1"),
                         ([], "at least one option")):  # fmt: skip
        with pytest.raises(Invalid) as err:
            await polls.vote(BOB, poll.poll_id, picks)
        assert words in sentence(err, Invalid)
    assert snapshot(db) == before


async def test_concurrent_votes_are_counted_exactly_once(polls: Polls, db: Database) -> None:
    poll = await polls.create(ALICE, "Burst?", "A; B; C; D", choices=2)
    crowd = [Actor(GUILD, 5000 + n, f"m{n}") for n in range(300)]
    await asyncio.gather(
        *(polls.vote(m, poll.poll_id, [n % 4 + 1], toggle=True) for n, m in enumerate(crowd))
    )
    # everyone clicks a second option, and a third of them change their mind at the same time
    await asyncio.gather(
        *(polls.vote(m, poll.poll_id, [(n + 1) % 4 + 1], toggle=True) for n, m in enumerate(crowd)),
        *(polls.vote(m, poll.poll_id, [1]) for m in crowd[::3]),
    )
    tally = await tally_matches_recount(db, poll)
    assert rows(db, "SELECT ballots FROM polls") == [(300,)]
    assert rows(db, "SELECT count(*), count(DISTINCT user_id) FROM poll_votes") == [(300, 300)]
    assert sum(tally.values()) == sum(
        len(mask_positions(r[0])) for r in rows(db, "SELECT picks FROM poll_votes")
    )


async def test_vote_latency_stays_flat_from_100_to_100000_ballots(polls: Polls, db: Database) -> None:
    small = await polls.create(ALICE, "Small?", "A; B; C")
    large = await polls.create(ALICE, "Large?", "A; B; C")
    if engines.on_postgres():
        # PostgreSQL keeps every version of a row that one transaction updates: 100,000 ballots counted one
        # by one in one transaction walk ever longer chains of the same tally rows (hours, not seconds). So
        # the setup writes them with the counting trigger off and recounts the tally once; the votes timed
        # below are counted by the trigger, one transaction each, as every real vote is.
        with engines.closing_raw(db.path) as raw:
            raw.execute("ALTER TABLE poll_votes DISABLE TRIGGER poll_votes_counted")
            for poll, size in ((small, 100), (large, 100_000)):
                raw.execute(
                    "INSERT INTO poll_votes (poll_id, user_id, picks, updated_at) "
                    "SELECT ?, 10000000 + n, 1 << (n % 3), ? FROM generate_series(0, ? - 1) AS n",
                    (poll.poll_id, T0, size),
                )
            raw.execute(
                "UPDATE poll_counts SET votes = (SELECT count(*) FROM poll_votes v WHERE v.poll_id = "
                "poll_counts.poll_id AND (v.picks >> CAST(poll_counts.position - 1 AS INTEGER)) & 1 = 1)"
            )
            raw.execute(
                "UPDATE polls SET ballots = (SELECT count(*) FROM poll_votes v WHERE v.poll_id = polls.poll_id)"
            )
            raw.execute("ALTER TABLE poll_votes ENABLE TRIGGER poll_votes_counted")
            raw.execute("ANALYZE")
    else:
        async with db.transaction() as conn:
            for poll, size in ((small, 100), (large, 100_000)):
                await conn.executemany(
                    "INSERT INTO poll_votes (poll_id, user_id, picks, updated_at) VALUES (?, ?, ?, ?)",
                    [(poll.poll_id, 10_000_000 + n, 1 << (n % 3), T0) for n in range(size)],
                )

    async def timed(poll: Poll) -> float:
        samples = []
        for n in range(40):
            started = time.perf_counter()
            await polls.vote(Actor(GUILD, 900 + n, f"v{n}"), poll.poll_id, [n % 3 + 1], toggle=True)
            samples.append(time.perf_counter() - started)
        return statistics.median(samples)

    await timed(small)  # warm up
    at_100, at_100k = await timed(small), await timed(large)
    print(f"\nvote latency: median {at_100 * 1000:.2f} ms at 100 ballots, {at_100k * 1000:.2f} ms at 100,000")
    assert at_100k < 3 * at_100 + 0.002
    assert await tally_matches_recount(db, large) == {1: 33_334 + 14, 2: 33_333 + 13, 3: 33_333 + 13}


async def test_votes_on_another_servers_poll_or_unknown_ids_are_refused(polls: Polls, db: Database) -> None:
    theirs = await polls.create(OTHER_COORD, "Theirs?", "A; B")
    before = snapshot(db)
    for poll_id in (theirs.poll_id, 99_999):
        with pytest.raises(NotFound) as err:
            await polls.vote(ALICE, poll_id, [1], toggle=True)
        assert "does not exist on this server" in sentence(err, NotFound)
    assert snapshot(db) == before


# -- anonymity ---------------------------------------------------------------------------------


def _every_value(db: Database, tables: tuple[str, ...]) -> list[Any]:
    return [value for t in tables for row in rows(db, f"SELECT * FROM {t}") for value in row]


async def test_anonymous_ballots_keep_no_user_id_and_stay_changeable(polls: Polls, db: Database) -> None:
    poll = await polls.create(COORD, "Secret?", "Yes; No; Abstain", anonymous=True)
    voters = [Actor(GUILD, 880_000_000_000_000_000 + n, f"secret voter {n}") for n in range(12)]
    await asyncio.gather(
        *(polls.vote(v, poll.poll_id, [n % 3 + 1], toggle=True) for n, v in enumerate(voters))
    )
    mine = await polls.vote(voters[0], poll.poll_id, [2], toggle=True)  # the same member changes their ballot
    assert mine.labels == ("No",)
    assert (await polls.ballot(voters[0], poll.poll_id)).labels == ("No",)
    assert await tally_matches_recount(db, poll) == {1: 3, 2: 5, 3: 4}
    assert rows(db, "SELECT count(*) FROM poll_secret_ballots") == [(12,)]  # still one ballot each
    assert rows(db, "SELECT count(*) FROM poll_votes") == [(0,)]

    # no user id anywhere in the poll tables: not as a number, not inside text or bytes
    values = _every_value(db, POLL_TABLES)
    ids = {v.user_id for v in voters}
    for value in values:
        assert value not in ids
        for uid in ids:
            assert str(uid) not in str(value)
            if isinstance(value, bytes):
                assert uid.to_bytes(8, "big") not in value and str(uid).encode() not in value
    # nor in the members table (a vote there would be a time next to a name), nor in the file at all
    assert all(rows(db, "SELECT count(*) FROM members WHERE user_id = ?", (uid,)) == [(0,)] for uid in ids)
    if engines.on_postgres():
        # no file to read here: every row of every table, as text (bytes shown in hex)
        text = " ".join(
            str(r[0])
            for t in engines.table_names(db.path)
            for r in rows(db, f"SELECT CAST(t AS TEXT) FROM {t} t")
        )
        assert all(str(uid) not in text and uid.to_bytes(8, "big").hex() not in text for uid in ids)
    else:
        raw = Path(db.path).read_bytes() + Path(db.path + "-wal").read_bytes()
        assert all(str(uid).encode() not in raw and uid.to_bytes(8, "big") not in raw for uid in ids)
    # the stored key is the keyed hash, with no time beside it
    assert rows(db, "SELECT voter_key FROM poll_secret_ballots WHERE voter_key = ?",
                (ballot_key(SECRET, poll.poll_id, voters[0].user_id),)) != []  # fmt: skip
    assert engines.column_names(db.path, "poll_secret_ballots") == [
        "poll_id",
        "voter_key",
        "picks",
    ]

    # results and exports never name anyone
    results = await polls.results(GUILD, "1")
    assert results.voters == ()
    assert all(str(uid) not in results_csv(results.view) for uid in ids)

    # the database itself refuses a user id on an anonymous poll
    with (
        engines.closing_raw(db.path, autocommit=True) as raw,
        pytest.raises(engines.integrity_errors(), match="anonymous"),
    ):
        raw.execute("INSERT INTO poll_votes VALUES (?, ?, 1, 0)", (poll.poll_id, voters[0].user_id))

    # at close the keyed hashes are replaced: not even the key file links a ballot to a member any more
    await polls.close(COORD, "1")
    stored = {r[0] for r in rows(db, "SELECT voter_key FROM poll_secret_ballots")}
    assert len(stored) == 12
    assert not stored & {ballot_key(SECRET, poll.poll_id, v.user_id) for v in voters}
    assert await tally_matches_recount(db, poll) == {1: 3, 2: 5, 3: 4}


async def test_anonymous_poll_refuses_votes_when_the_key_changed(
    polls: Polls, db: Database, clock: FakeClock, wg: WorkingGroups
) -> None:
    poll = await polls.create(COORD, "Secret?", "Yes; No", anonymous=True)
    await polls.vote(BOB, poll.poll_id, [1], toggle=True)
    other_key = Polls(db, clock, wg, PARIS, b"another key of thirty-two bytes!")
    before = snapshot(db)
    with pytest.raises(Closed) as err:
        await other_key.vote(BOB, poll.poll_id, [2], toggle=True)
    assert "ballot key changed" in str(err.value)
    assert snapshot(db) == before


async def test_ballot_key_file_is_private_and_stable(tmp_path: Any) -> None:
    path = str(tmp_path / "caucus.db")
    first = poll_rows.load_or_create_key(path)
    assert len(first) == 32 and poll_rows.load_or_create_key(path) == first
    assert (tmp_path / "caucus.db.key").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["caucus.db.key"]  # no temporary file left
    (tmp_path / "caucus.db.key").write_bytes(b"short")
    with pytest.raises(poll_rows.BallotKeyError, match="restore it"):
        poll_rows.load_or_create_key(path)


# -- eligibility -------------------------------------------------------------------------------


async def test_group_and_role_polls_refuse_members_who_may_not_vote(
    polls: Polls, db: Database, principles: Group
) -> None:
    group_poll = await polls.create(CORA, "Group?", "A; B", group="Principles")
    role_poll = await polls.create(COORD, "Delegates?", "A; B", role_id=DELEGATES, role_name="Delegates")
    assert (group_poll.group_id, role_poll.role_id, role_poll.role_name) == (
        principles.group_id,
        DELEGATES,
        "Delegates",
    )
    before = snapshot(db)
    with pytest.raises(NotAllowed) as err:
        await polls.vote(DAN, group_poll.poll_id, [1], toggle=True)
    assert "Only members of Principles can vote in poll #1" in sentence(err, NotAllowed)
    for outsider in (DAN, COORD):  # coordinators too: the limit is who votes, not who manages
        with pytest.raises(NotAllowed) as err:
            await polls.vote(outsider, role_poll.poll_id, [1], toggle=True)
        assert "Only members with the Delegates role can vote in poll #2" in sentence(err, NotAllowed)
    assert snapshot(db) == before
    await polls.vote(ALICE, group_poll.poll_id, [1], toggle=True)
    await polls.vote(CORA, group_poll.poll_id, [2], toggle=True)  # conveners are members
    await polls.vote(DELE, role_poll.poll_id, [2], toggle=True)
    assert counts(db, group_poll) == {1: 1, 2: 1} and counts(db, role_poll) == {1: 0, 2: 1}


# -- results -----------------------------------------------------------------------------------


async def test_hidden_results_show_nothing_before_close_to_anyone(polls: Polls, db: Database) -> None:
    poll = await polls.create(ALICE, "Hidden?", "A; B", hide_results=True)
    await polls.vote(BOB, poll.poll_id, [1], toggle=True)
    results = await polls.results(GUILD, "1")
    assert not results.view.show_results and results.voters == () and not results.view.closed
    await polls.close(ALICE, "1")
    results = await polls.results(GUILD, "1")
    assert results.view.show_results and [v.user_id for v in results.voters] == [BOB.user_id]
    assert [(o.label, o.votes) for o in results.view.options] == [("A", 1), ("B", 0)]


async def test_csv_exports_parse_and_neutralise_formulas(polls: Polls, db: Database) -> None:
    poll = await polls.create(
        ALICE, "=cmd|' /C calc'!A0", "=1+1; +SUM(A1); -2; @me; \tTab; Plain, with comma"
    )
    named = Actor(GUILD, 40, '=HYPERLINK("x")')
    await polls.vote(named, poll.poll_id, [1], toggle=True)
    results = await polls.results(GUILD, "1")
    table = list(csv.reader(io.StringIO(results_csv(results.view))))
    assert table[0] == ["poll", "question", "option", "label", "votes", "percent_of_ballots", "ballots"]
    assert [r[3] for r in table[1:]] == ["'=1+1", "'+SUM(A1)", "'-2", "'@me", "Tab", "Plain, with comma"]
    assert table[1][1] == "'=cmd|' /C calc'!A0" and table[1][4:] == ["1", "100.0", "1"]
    voters = list(csv.reader(io.StringIO(ballots_csv(results.view, results.voters))))
    assert voters[1] == ["1", "40", '\'=HYPERLINK("x")', "'=1+1", str(T0)]
    assert (
        safe_cell("\rx") == "'\rx"
        and safe_cell("\tx") == "'\tx"
        and safe_cell(-3) == "'-3"
        and safe_cell("a=b") == "a=b"
    )


async def test_list_shows_open_and_recently_closed(polls: Polls, clock: FakeClock) -> None:
    old = await polls.create(ALICE, "Old?", "A; B")
    await polls.close(ALICE, "1")
    clock.advance(timedelta(days=8))
    recent = await polls.create(ALICE, "Recent?", "A; B")
    await polls.close(ALICE, "2")
    later = await polls.create(ALICE, "Later?", "A; B", duration="3d")
    sooner = await polls.create(ALICE, "Sooner?", "A; B", duration="1h")
    listed = [(p.poll_id, closed) for p, closed in await polls.list_polls(GUILD)]
    assert listed == [(sooner.poll_id, False), (later.poll_id, False), (recent.poll_id, True)]
    listed = [poll_id for poll_id, _ in listed]
    assert old.poll_id not in listed
    assert [p.number for p in await polls.suggest(GUILD, "soon")] == [4]


# -- closing -----------------------------------------------------------------------------------


async def test_two_concurrent_closes_one_wins(polls: Polls, db: Database, principles: Group) -> None:
    poll = await polls.create(ALICE, "Close?", "A; B", group="Principles")
    outcomes = await asyncio.gather(polls.close(ALICE, "1"), polls.close(COORD, "1"), polls.close_due(GUILD, poll.poll_id),
                                    return_exceptions=True)  # fmt: skip
    winners = [o for o in outcomes if isinstance(o, Poll)]
    assert len(winners) == 1
    assert sum(isinstance(o, Conflict) for o in outcomes) + outcomes.count(None) == 2
    assert rows(db, "SELECT count(*) FROM polls WHERE closed_at IS NOT NULL") == [(1,)]
    assert rows(db, "SELECT state FROM scheduled_posts WHERE ref_id = ?", (poll.poll_id,)) == [("cancelled",)]
    with pytest.raises(Conflict) as err:
        await polls.close(CORA, "1")
    assert "already closed" in sentence(err, Conflict)
    with pytest.raises(Closed) as closed:
        await polls.vote(BOB, poll.poll_id, [1], toggle=True)
    assert "Poll #1 is closed" in sentence(closed, Closed)
    # the result is posted once too
    assert await polls.claim_announcement(GUILD, poll.poll_id) is not None
    assert await polls.claim_announcement(GUILD, poll.poll_id) is None


async def test_who_may_close(polls: Polls, db: Database, principles: Group) -> None:
    await polls.create(ALICE, "Mine?", "A; B")
    await polls.create(BOB, "Group?", "A; B", group="Principles")
    before = snapshot(db)
    for actor, ref in ((BOB, "1"), (CORA, "1"), (CAROL, "2")):
        with pytest.raises(NotAllowed) as err:
            await polls.close(actor, ref)
        assert "Only the creator of poll" in sentence(err, NotAllowed)
    assert snapshot(db) == before
    assert (await polls.close(CORA, "2")).closed_by == CORA.user_id  # convener of its group
    assert (await polls.close(COORD, "1")).closed_by == COORD.user_id


async def test_the_deadline_closes_and_no_vote_counts_after_it(
    polls: Polls, db: Database, clock: FakeClock
) -> None:
    poll = await polls.create(ALICE, "Deadline?", "A; B", duration="30m")
    await polls.vote(BOB, poll.poll_id, [1], toggle=True)
    clock.advance(timedelta(minutes=30))
    before = snapshot(db)
    with pytest.raises(Closed):  # the close has not run yet, but the deadline has passed
        await polls.vote(CAROL, poll.poll_id, [2], toggle=True)
    assert snapshot(db) == before
    clock.advance(timedelta(hours=5))  # the bot was down: the close runs late
    closed = await polls.close_due(GUILD, poll.poll_id)
    assert closed is not None and (closed.closed_at, closed.closed_by) == (T0 + 30 * 60, None)
    assert await polls.close_due(GUILD, poll.poll_id) is None


async def test_the_deadline_post_retried_after_a_crash_takes_the_announcement_back(
    polls: Polls, db: Database, clock: FakeClock
) -> None:
    at_deadline = await polls.create(ALICE, "Deadline?", "A; B", duration="30m")
    by_hand = await polls.create(ALICE, "By hand?", "A; B", duration="30m")
    await polls.close(ALICE, "2")
    clock.advance(timedelta(minutes=30))
    assert await polls.close_due(GUILD, at_deadline.poll_id) is not None
    # the first attempt took the job, and the process died before recording that it had posted
    assert await polls.claim_announcement(GUILD, at_deadline.poll_id) is not None
    assert await polls.claim_announcement(GUILD, at_deadline.poll_id) is None
    # its retry may post again (with the same nonce: Discord returns the first post if it went out)
    assert await polls.claim_announcement(GUILD, at_deadline.poll_id, again=True) is not None
    # a poll closed by hand was announced by whoever closed it: a retried deadline post leaves it alone
    assert await polls.claim_announcement(GUILD, by_hand.poll_id) is not None
    assert await polls.claim_announcement(GUILD, by_hand.poll_id, again=True) is None


# -- nudges ------------------------------------------------------------------------------------


async def test_nudge_lists_eligible_non_voters_once_an_hour(
    polls: Polls, db: Database, clock: FakeClock, principles: Group
) -> None:
    poll = await polls.create(BOB, "Group?", "A; B", group="Principles", anonymous=True)
    await polls.vote(ALICE, poll.poll_id, [1], toggle=True)
    with pytest.raises(NotAllowed) as err:
        await polls.nudge(CAROL, "1")
    assert "Only the creator of poll #1, conveners of Principles or coordinators" in sentence(err, NotAllowed)
    nudge = await polls.nudge(BOB, "1")
    assert set(nudge.user_ids) == {CORA.user_id, BOB.user_id, CAROL.user_id}
    before = snapshot(db)
    with pytest.raises(Conflict) as again:
        await polls.nudge(CORA, "1")
    assert "less than an hour ago; you can nudge again in 60 minutes" in sentence(again, Conflict)
    assert snapshot(db) == before
    clock.advance(timedelta(minutes=61))
    for member in (BOB, CAROL):
        await polls.vote(member, poll.poll_id, [2], toggle=True)
    assert (await polls.nudge(CORA, "1")).user_ids == (CORA.user_id,)
    clock.advance(timedelta(minutes=61))
    await polls.vote(CORA, poll.poll_id, [2], toggle=True)
    with pytest.raises(Conflict) as everyone:
        await polls.nudge(CORA, "1")
    assert "Everyone who can vote in poll #1 has voted" in sentence(everyone, Conflict)


async def test_nudge_needs_a_group_or_role(polls: Polls, db: Database) -> None:
    await polls.create(ALICE, "Everyone?", "A; B")
    role_poll = await polls.create(ALICE, "Role?", "A; B", role_id=DELEGATES, role_name="Delegates")
    with pytest.raises(Invalid) as err:
        await polls.nudge(ALICE, "1")
    assert "Nudging needs a poll limited to a working group or a role" in sentence(err, Invalid)
    await polls.vote(DELE, role_poll.poll_id, [1], toggle=True)
    nudge = await polls.nudge(ALICE, "2", role_member_ids=[DELE.user_id, 60, 61, 60])
    assert nudge.user_ids == (60, 61)
    await polls.close(ALICE, "2")
    with pytest.raises(Closed):
        await polls.nudge(ALICE, "2", role_member_ids=[60])
