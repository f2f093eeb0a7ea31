"""Queries for quick polls, their options, the running tally and the ballots; and the ballot key file."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from storage import counting as counting_rows
from storage.db import (
    Connection,
    Database,
    Row,
    Source,
    SyncConnection,
    fetch_all,
    fetch_one,
    inserted_id,
    row_as,
    rows_as,
    search_params,
)
from storage.keys import load_or_create_secret
from storage.orgs import RepresentationRow, representation_now
from storage.servers import UPSERT_MEMBER

log = logging.getLogger(__name__)

KEY_BYTES = 32

_POLL = (
    "p.poll_id, p.guild_id, p.number, p.question, p.author_id, p.group_id, p.role_id, p.role_name, "
    "p.option_count, p.choices, p.anonymous, p.hide_results, p.created_at, p.closes_at, p.closed_at, "
    "p.closed_by, p.announced_at, p.nudged_at, p.ballots, p.channel_id, p.message_id, p.counting"
)


@dataclass(frozen=True)
class PollRow:
    poll_id: int
    guild_id: int
    number: int
    question: str
    author_id: int
    group_id: int | None
    role_id: int | None
    role_name: str | None
    option_count: int
    choices: int
    anonymous: bool
    hide_results: bool
    created_at: int
    closes_at: int
    closed_at: int | None
    closed_by: int | None
    announced_at: int | None
    nudged_at: int | None
    ballots: int
    channel_id: int | None
    message_id: int | None
    counting: str = "people"  # people | organisations (fixed when created)


@dataclass(frozen=True)
class OptionCount:
    """One option of a poll and how many ballots chose it."""

    position: int
    label: str
    votes: int


@dataclass(frozen=True)
class VoterRow:
    """A ballot of an open poll, with the name the bot recorded."""

    user_id: int
    display_name: str
    picks: int
    updated_at: int


class BallotKeyError(RuntimeError):
    """The ballot key file exists but cannot be used."""


# -- the ballot key ----------------------------------------------------------------------------


def key_path(db_path: str | Path) -> Path:
    """Where the ballot key of a database lives: next to it, as ``<database>.key``."""
    return Path(str(db_path) + ".key")


def load_or_create_key(db_path: str | Path) -> bytes:
    """The 32-byte ballot key next to the database, created (mode 0600) on first start; never in the database."""
    return load_or_create_secret(
        key_path(db_path), KEY_BYTES, what="ballot key", error=BallotKeyError,
        why="anonymous polls need it to recognise ballots",
    )  # fmt: skip


# -- polls -------------------------------------------------------------------------------------


async def insert_poll(
    conn: Connection,
    *,
    guild_id: int,
    question: str,
    options: Iterable[str],
    author_id: int,
    group_id: int | None,
    role_id: int | None,
    role_name: str | None,
    choices: int,
    anonymous: bool,
    hide_results: bool,
    key_check: bytes | None,
    closes_at: int,
    now: int,
    counting: str = "people",
) -> int:
    """Insert a poll with the next number of its server, its options and a zero tally; returns its id."""
    labels = list(options)
    cursor = await conn.execute(
        "INSERT INTO polls (guild_id, number, question, author_id, group_id, role_id, role_name, option_count, "
        "choices, anonymous, hide_results, key_check, created_at, closes_at, counting) VALUES (:g, "
        "(SELECT coalesce(max(number), 0) + 1 FROM polls WHERE guild_id = :g), :q, :a, :group, :role, :role_name, "
        ":n, :choices, :anon, :hide, :check, :now, :closes, :counting) RETURNING poll_id",
        {
            "g": guild_id, "q": question, "a": author_id, "group": group_id, "role": role_id,
            "role_name": role_name, "n": len(labels), "choices": choices, "anon": int(anonymous),
            "hide": int(hide_results), "check": key_check, "now": now, "closes": closes_at, "counting": counting,
        },
    )  # fmt: skip
    poll_id = await inserted_id(cursor)
    assert poll_id is not None
    await conn.executemany(
        "INSERT INTO poll_options (poll_id, position, label) VALUES (:p, :n, :label)",
        [{"p": poll_id, "n": n, "label": label} for n, label in enumerate(labels, start=1)],
    )
    await conn.executemany(
        "INSERT INTO poll_counts (poll_id, position) VALUES (:p, :n)",
        [{"p": poll_id, "n": n} for n in range(1, len(labels) + 1)],
    )
    return poll_id


async def get_poll(db: Source, guild_id: int, poll_id: int) -> PollRow | None:
    """A poll of this server by database id (None for unknown ids and other servers' polls)."""
    row = await fetch_one(
        db,
        f"SELECT {_POLL} FROM polls p WHERE p.guild_id = :g AND p.poll_id = :id",  # noqa: S608
        {"g": guild_id, "id": poll_id},
    )
    return None if row is None else row_as(PollRow, row)


async def get_poll_by_number(db: Database, guild_id: int, number: int) -> PollRow | None:
    """A poll of this server by its number."""
    row = await fetch_one(
        db,
        f"SELECT {_POLL} FROM polls p WHERE p.guild_id = :g AND p.number = :n",  # noqa: S608
        {"g": guild_id, "n": number},
    )
    return None if row is None else row_as(PollRow, row)


async def options(db: Source, poll_id: int) -> list[OptionCount]:
    """The poll's options in order, each with its count from the tally."""
    rows = await fetch_all(
        db,
        "SELECT o.position, o.label, c.votes FROM poll_options o "
        "JOIN poll_counts c ON c.poll_id = o.poll_id AND c.position = o.position "
        "WHERE o.poll_id = :p ORDER BY o.position",
        {"p": poll_id},
    )
    return rows_as(OptionCount, rows)


async def list_polls(db: Database, guild_id: int, *, closed_since: int, limit: int = -1) -> list[PollRow]:
    """This server's open polls (closing soonest first), then those closed since ``closed_since`` (newest
    first); all of them unless ``limit`` says how many (/poll list pages them)."""
    rows = await db.fetchall(
        f"SELECT {_POLL} FROM polls p WHERE p.guild_id = :g AND (p.closed_at IS NULL OR p.closed_at >= :since) "  # noqa: S608
        "ORDER BY p.closed_at IS NOT NULL, CASE WHEN p.closed_at IS NULL THEN p.closes_at ELSE -p.closed_at END "
        "LIMIT :limit",
        # no limit: the largest LIMIT both engines take (SQLite reads a negative one as none, PostgreSQL refuses it)
        {"g": guild_id, "since": closed_since, "limit": limit if limit >= 0 else 2**63 - 1},
    )
    return [row_as(PollRow, r) for r in rows]


async def search_polls(db: Database, guild_id: int, text: str, limit: int = 25) -> list[PollRow]:
    """Polls whose number or question matches what was typed, open ones first, newest first."""
    rows = await db.fetchall(
        f"SELECT {_POLL} FROM polls p WHERE p.guild_id = :g AND (CAST(p.number AS TEXT) LIKE :num || '%' "  # noqa: S608
        "OR p.question LIKE :p ESCAPE '\\') ORDER BY p.closed_at IS NOT NULL, p.number DESC LIMIT :limit",
        {"g": guild_id, **search_params(text), "limit": limit},
    )
    return [row_as(PollRow, r) for r in rows]


async def set_message(conn: Connection, poll_id: int, channel_id: int, message_id: int) -> None:
    """Remember where the poll's message is."""
    await conn.execute(
        "UPDATE polls SET channel_id = :c, message_id = :m WHERE poll_id = :id",
        {"id": poll_id, "c": channel_id, "m": message_id},
    )


# -- ballots -----------------------------------------------------------------------------------


def _ballot_table(voter: int | bytes) -> tuple[str, str]:
    """Anonymous ballots are keyed by bytes (the keyed hash), open ones by the user id."""
    return ("poll_secret_ballots", "voter_key") if isinstance(voter, bytes) else ("poll_votes", "user_id")


async def picks_of(db: Source, poll_id: int, voter: int | bytes) -> int:
    """The bit mask of a ballot (0: none), by user id (open polls) or voter key (anonymous polls)."""
    table, column = _ballot_table(voter)
    row = await fetch_one(
        db,
        f"SELECT picks FROM {table} WHERE poll_id = :p AND {column} = :v",  # noqa: S608 (fixed names)
        {"p": poll_id, "v": voter},
    )
    return 0 if row is None else int(row[0])


_POLL_AND_BALLOT = (
    f"SELECT {_POLL}, CASE WHEN p.anonymous = 1 THEN (SELECT s.picks FROM poll_secret_ballots s "  # noqa: S608
    "WHERE s.poll_id = p.poll_id AND s.voter_key = :k) ELSE (SELECT v.picks FROM poll_votes v "
    "WHERE v.poll_id = p.poll_id AND v.user_id = :u) END AS picks FROM polls p WHERE p.guild_id = :g AND p.poll_id = :id"
)
_SAVE_ANONYMOUS = (
    "INSERT INTO poll_secret_ballots (poll_id, voter_key, picks) VALUES (:p, :v, :picks) "
    "ON CONFLICT (poll_id, voter_key) DO UPDATE SET picks = excluded.picks"
)
_SAVE_OPEN = (
    "INSERT INTO poll_votes (poll_id, user_id, picks, updated_at) VALUES (:p, :v, :picks, :now) "
    "ON CONFLICT (poll_id, user_id) DO UPDATE SET picks = excluded.picks, updated_at = excluded.updated_at"
)


@dataclass(frozen=True)
class VoteContext:
    """What a vote is decided on, read inside its transaction; the lookups run only when asked.

    On a poll counted per organisation, ``representation`` is whom the member represents now (None: nobody)
    and ``current`` is their organisation's ballot (0 when they represent none)."""

    poll: PollRow | None
    current: int
    key_check: Callable[[], bytes | None]
    is_member: Callable[[int], bool]
    group_name: Callable[[int], str]
    representation: RepresentationRow | None = None
    org_in_group: Callable[[int, int], bool] = lambda org_id, group_id: False
    voice_name: Callable[[int], str | None] = lambda org_id: None


@dataclass(frozen=True)
class VoteResult:
    """A vote as stored: the poll, the ballot's picks before and after, and the organisation it was cast
    for (None: counted per person)."""

    poll: PollRow
    old: int
    new: int
    org: RepresentationRow | None = None


_ORG_BALLOT = "SELECT picks FROM poll_org_votes WHERE poll_id = :p AND org_id = :o"
_ANONYMOUS_BALLOT = "SELECT picks FROM poll_secret_ballots WHERE poll_id = :p AND voter_key = :k"
_SAVE_ORG = (
    "INSERT INTO poll_org_votes (poll_id, org_id, picks, cast_by, updated_at) VALUES (:p, :o, :picks, :u, :now) "
    "ON CONFLICT (poll_id, org_id) DO UPDATE SET picks = excluded.picks, cast_by = excluded.cast_by, "
    "updated_at = excluded.updated_at"
)


def record_vote(
    conn: SyncConnection,
    *,
    guild_id: int,
    poll_id: int,
    user_id: int,
    voter_key: bytes,
    now: int,
    name: str,
    decide: Callable[[VoteContext], tuple[PollRow, int]],
    org_key: Callable[[int], bytes] | None = None,
) -> VoteResult:
    """One vote in one transaction on the writer's thread (see Database.run): read the poll and the member's
    ballot, let ``decide`` check and compute the new picks, store them (the triggers keep the tally). An
    anonymous ballot is stored under ``voter_key`` with no time and no name; an open one by user id.

    On a poll counted per organisation the ballot is the organisation's: whom the member represents is read
    in the same transaction, and the ballot is stored under the organisation (open polls: with who cast it)
    or, anonymous, under ``org_key(org id)`` with no organisation, no member and no time."""
    row = conn.execute(
        _POLL_AND_BALLOT, {"g": guild_id, "id": poll_id, "u": user_id, "k": voter_key}
    ).fetchone()

    def key_check() -> bytes | None:
        found = conn.execute("SELECT key_check FROM polls WHERE poll_id = :id", {"id": poll_id}).fetchone()
        return None if found is None or found[0] is None else bytes(found[0])

    def is_member(group_id: int) -> bool:
        found = conn.execute(
            "SELECT 1 FROM group_members WHERE group_id = :g AND user_id = :u", {"g": group_id, "u": user_id}
        ).fetchone()
        return found is not None

    def group_name(group_id: int) -> str:
        found = conn.execute("SELECT name FROM groups WHERE group_id = :g", {"g": group_id}).fetchone()
        return "its working group" if found is None else str(found[0])

    if row is not None and row["counting"] == "organisations":
        assert org_key is not None, "a poll counted per organisation needs the organisations' ballot keys"
        return _record_org_vote(
            conn, row, guild_id=guild_id, user_id=user_id, now=now, name=name, decide=decide, org_key=org_key,
            helpers=(key_check, is_member, group_name),
        )  # fmt: skip
    current = 0 if row is None else int(row["picks"] or 0)
    poll, new = decide(
        VoteContext(None if row is None else row_as(PollRow, row), current, key_check, is_member, group_name)
    )
    if new != current:
        voter: int | bytes = voter_key if poll.anonymous else user_id
        params = {"p": poll.poll_id, "v": voter, "picks": new, "now": now}
        if not poll.anonymous:
            conn.execute(
                UPSERT_MEMBER, {"g": guild_id, "u": user_id, "n": name[:100] or str(user_id), "now": now}
            )
        if new == 0:
            table, column = _ballot_table(voter)
            conn.execute(f"DELETE FROM {table} WHERE poll_id = :p AND {column} = :v", params)  # noqa: S608
        else:
            conn.execute(_SAVE_ANONYMOUS if poll.anonymous else _SAVE_OPEN, params)
    return VoteResult(poll, current, new)


def _record_org_vote(
    conn: SyncConnection,
    row: Row,
    *,
    guild_id: int,
    user_id: int,
    now: int,
    name: str,
    decide: Callable[[VoteContext], tuple[PollRow, int]],
    org_key: Callable[[int], bytes],
    helpers: tuple[Callable[[], bytes | None], Callable[[int], bool], Callable[[int], str]],
) -> VoteResult:
    found = row_as(PollRow, row)
    rep = representation_now(conn, guild_id, user_id)
    current = 0
    if rep is not None and rep.is_voice:
        if found.anonymous:
            hit = conn.execute(_ANONYMOUS_BALLOT, {"p": found.poll_id, "k": org_key(rep.org_id)}).fetchone()
        else:
            hit = conn.execute(_ORG_BALLOT, {"p": found.poll_id, "o": rep.org_id}).fetchone()
        current = 0 if hit is None else int(hit[0])

    def org_in_group(org_id: int, group_id: int) -> bool:
        return counting_rows.org_in_group(conn, org_id, group_id)

    def voice_name(org_id: int) -> str | None:
        hit = conn.execute(
            "SELECT coalesce(m.display_name, CAST(r.user_id AS TEXT)) FROM org_voices v JOIN org_reps r "
            "ON r.rep_id = v.rep_id LEFT JOIN members m ON m.guild_id = r.guild_id AND m.user_id = r.user_id "
            "WHERE v.org_id = :o AND v.ended_at IS NULL",
            {"o": org_id},
        ).fetchone()
        return None if hit is None else str(hit[0])

    key_check, is_member, group_name = helpers
    poll, new = decide(
        VoteContext(found, current, key_check, is_member, group_name, rep, org_in_group, voice_name)
    )
    assert rep is not None  # decide refuses a member who represents no organisation
    if new != current:
        if poll.anonymous:
            params: dict[str, object] = {"p": poll.poll_id, "v": org_key(rep.org_id), "picks": new}
            if new == 0:
                conn.execute("DELETE FROM poll_secret_ballots WHERE poll_id = :p AND voter_key = :v", params)
            else:
                conn.execute(_SAVE_ANONYMOUS, params)
        else:
            params = {"p": poll.poll_id, "o": rep.org_id, "picks": new, "u": user_id, "now": now}
            conn.execute(
                UPSERT_MEMBER, {"g": guild_id, "u": user_id, "n": name[:100] or str(user_id), "now": now}
            )
            if new == 0:
                conn.execute("DELETE FROM poll_org_votes WHERE poll_id = :p AND org_id = :o", params)
            else:
                conn.execute(_SAVE_ORG, params)
    return VoteResult(poll, current, new, rep)


async def voted_user_ids(db: Source, poll_id: int) -> set[int]:
    """Who has a ballot in an open poll."""
    rows = await fetch_all(db, "SELECT user_id FROM poll_votes WHERE poll_id = :p", {"p": poll_id})
    return {int(r[0]) for r in rows}


async def voter_keys(db: Source, poll_id: int) -> set[bytes]:
    """The voter keys of an anonymous poll's ballots."""
    rows = await fetch_all(db, "SELECT voter_key FROM poll_secret_ballots WHERE poll_id = :p", {"p": poll_id})
    return {bytes(r[0]) for r in rows}


async def voters(db: Database, guild_id: int, poll_id: int) -> list[VoterRow]:
    """The ballots of an open poll with the names the bot recorded, by name."""
    rows = await db.fetchall(
        "SELECT v.user_id, coalesce(m.display_name, CAST(v.user_id AS TEXT)) AS display_name, v.picks, v.updated_at "
        "FROM poll_votes v LEFT JOIN members m ON m.guild_id = :g AND m.user_id = v.user_id "
        "WHERE v.poll_id = :p ORDER BY lower(coalesce(m.display_name, '')), v.user_id",
        {"g": guild_id, "p": poll_id},
    )
    return rows_as(VoterRow, rows)


# -- closing, announcing, nudging --------------------------------------------------------------


async def close_poll(conn: Connection, poll_id: int, closed_at: int, closed_by: int | None) -> bool:
    """Close a poll; False when it already was closed (so exactly one caller closes it)."""
    cursor = await conn.execute(
        "UPDATE polls SET closed_at = :at, closed_by = :by WHERE poll_id = :id AND closed_at IS NULL",
        {"id": poll_id, "at": closed_at, "by": closed_by},
    )
    return cursor.rowcount == 1


async def forget_voter_keys(conn: Connection, poll_id: int) -> None:
    """After close: an anonymous poll's voter keys become random, so not even the key file links a ballot."""
    # each key becomes 32 fresh random bytes, made here so that both engines write the same kind of key
    rows = await fetch_all(
        conn, "SELECT voter_key FROM poll_secret_ballots WHERE poll_id = :p", {"p": poll_id}
    )
    await conn.executemany(
        "UPDATE poll_secret_ballots SET voter_key = :new WHERE poll_id = :p AND voter_key = :old",
        [{"p": poll_id, "old": bytes(r[0]), "new": secrets.token_bytes(KEY_BYTES)} for r in rows],
    )


async def claim_announcement(conn: Connection, poll_id: int, now: int, *, again: bool = False) -> bool:
    """Take the job of posting a closed poll's result; False when someone already has.

    ``again``: the deadline's post, tried again after a crash, may take it back for a poll closed at its
    deadline (its first attempt had it; the nonce of the post makes a second send return the first).
    """
    cursor = await conn.execute(
        "UPDATE polls SET announced_at = :now WHERE poll_id = :id AND closed_at IS NOT NULL "
        "AND (announced_at IS NULL OR (:again = 1 AND closed_by IS NULL))",
        {"id": poll_id, "now": now, "again": int(again)},
    )
    return cursor.rowcount == 1


async def release_announcement(conn: Connection, poll_id: int) -> None:
    """The result post failed: let the next attempt post it."""
    await conn.execute("UPDATE polls SET announced_at = NULL WHERE poll_id = :id", {"id": poll_id})


async def claim_nudge(conn: Connection, poll_id: int, now: int, every: int) -> bool:
    """Record a nudge; False when the last one was less than ``every`` seconds ago."""
    cursor = await conn.execute(
        "UPDATE polls SET nudged_at = :now WHERE poll_id = :id AND (nudged_at IS NULL OR nudged_at <= :now - :every)",
        {"id": poll_id, "now": now, "every": every},
    )
    return cursor.rowcount == 1


async def set_poll_record(conn: Connection, poll_id: int, index: int) -> None:
    """Which record entry holds the poll's final result."""
    await conn.execute("UPDATE polls SET record_index = :x WHERE poll_id = :p", {"p": poll_id, "x": index})
