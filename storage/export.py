"""Read-only queries that gather a server's record for the summary export, in a deterministic order.

Each returns frozen rows mapped by column name; the domain builds the summary from them.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database, rows_as


@dataclass(frozen=True)
class GroupExportRow:
    group_id: int
    name: str
    description: str
    archived_at: int | None


@dataclass(frozen=True)
class ItemExportRow:
    item_id: int
    number: int
    kind: str
    group_id: int | None
    author_id: int
    created_at: int
    revision: int
    status: str
    outcome_note: str | None
    answer: str | None
    decided_by: int | None
    decided_at: int | None
    deadline_at: int | None
    text: str


@dataclass(frozen=True)
class PositionExportRow:
    """A position on the current revision of an item."""

    item_id: int
    revision: int
    user_id: int
    stance: str
    reason: str | None
    updated_at: int


@dataclass(frozen=True)
class ObjectionExportRow:
    item_id: int
    revision: int
    user_id: int
    stance: str
    reason: str
    state: str
    note: str | None
    resolved_by: int | None
    created_at: int


@dataclass(frozen=True)
class OptionExportRow:
    poll_id: int
    position: int
    label: str
    votes: int


@dataclass(frozen=True)
class BallotExportRow:
    """A ballot of an open (not anonymous) poll."""

    poll_id: int
    user_id: int
    picks: int


@dataclass(frozen=True)
class PollExportRow:
    poll_id: int
    number: int
    question: str
    group_id: int | None
    anonymous: bool
    hide_results: bool
    choices: int
    closes_at: int
    closed_at: int | None
    ballots: int
    author_id: int


@dataclass(frozen=True)
class SessionExportRow:
    session_id: int
    number: int
    title: str
    group_id: int | None
    zone: str
    start_local: str
    duration_min: int
    moderators: str
    note_taker: str
    location: str
    notes: str
    recur_days: int | None
    recur_until: str | None
    starts_at: int | None  # the first occurrence
    occurrences: int


async def guild_name(db: Database, guild_id: int) -> str | None:
    """The server's name as the bot last saw it."""
    value = await db.fetchval("SELECT name FROM guilds WHERE guild_id = :g", {"g": guild_id})
    return None if value is None else str(value)


async def names(db: Database, guild_id: int) -> dict[int, str]:
    """Display names the bot recorded for this server's members."""
    rows = await db.fetchall("SELECT user_id, display_name FROM members WHERE guild_id = :g", {"g": guild_id})
    return {int(r["user_id"]): str(r["display_name"]) for r in rows}


async def groups(db: Database, guild_id: int) -> list[GroupExportRow]:
    """The server's groups by name."""
    rows = await db.fetchall(
        "SELECT group_id, name, description, archived_at FROM groups WHERE guild_id = :g ORDER BY name_key, group_id",
        {"g": guild_id},
    )
    return rows_as(GroupExportRow, rows)


async def items(db: Database, guild_id: int) -> list[ItemExportRow]:
    """Every item with its current text, by number."""
    rows = await db.fetchall(
        "SELECT i.item_id, i.number, i.kind, i.group_id, i.author_id, i.created_at, i.revision, i.status, "
        "i.outcome_note, i.answer, i.decided_by, i.decided_at, i.deadline_at, r.text FROM items i "
        "JOIN item_revisions r ON r.item_id = i.item_id AND r.revision = i.revision "
        "WHERE i.guild_id = :g ORDER BY i.number",
        {"g": guild_id},
    )
    return rows_as(ItemExportRow, rows)


async def positions(db: Database, guild_id: int) -> list[PositionExportRow]:
    """Positions on the current revision of every item: by item, blocks first, then by member."""
    rows = await db.fetchall(
        "SELECT p.item_id, p.revision, p.user_id, p.stance, p.reason, p.updated_at FROM positions p "
        "JOIN items i ON i.item_id = p.item_id AND i.revision = p.revision WHERE i.guild_id = :g "
        "ORDER BY i.number, CASE p.stance WHEN 'block' THEN 0 WHEN 'object' THEN 1 WHEN 'stand_aside' THEN 2 "
        "ELSE 3 END, p.user_id",
        {"g": guild_id},
    )
    return rows_as(PositionExportRow, rows)


async def objections(db: Database, guild_id: int) -> list[ObjectionExportRow]:
    """The objection register of every item, every revision, in order."""
    rows = await db.fetchall(
        "SELECT o.item_id, o.revision, o.user_id, o.stance, o.reason, o.state, o.note, o.resolved_by, "
        "o.created_at FROM objections o JOIN items i ON i.item_id = o.item_id WHERE i.guild_id = :g "
        "ORDER BY i.number, o.revision, o.created_at, o.objection_id",
        {"g": guild_id},
    )
    return rows_as(ObjectionExportRow, rows)


async def polls(db: Database, guild_id: int) -> list[PollExportRow]:
    """Every poll, by number."""
    rows = await db.fetchall(
        "SELECT poll_id, number, question, group_id, anonymous, hide_results, choices, closes_at, closed_at, "
        "ballots, author_id FROM polls WHERE guild_id = :g ORDER BY number",
        {"g": guild_id},
    )
    return rows_as(PollExportRow, rows)


async def poll_options(db: Database, guild_id: int) -> list[OptionExportRow]:
    """The options of every poll with their counts, by poll and position."""
    rows = await db.fetchall(
        "SELECT o.poll_id, o.position, o.label, coalesce(c.votes, 0) AS votes FROM poll_options o "
        "JOIN polls p ON p.poll_id = o.poll_id LEFT JOIN poll_counts c ON c.poll_id = o.poll_id "
        "AND c.position = o.position WHERE p.guild_id = :g ORDER BY o.poll_id, o.position",
        {"g": guild_id},
    )
    return rows_as(OptionExportRow, rows)


async def open_ballots(db: Database, guild_id: int) -> list[BallotExportRow]:
    """The ballots of every open (not anonymous) poll, by poll and member; anonymous ballots hold no member."""
    rows = await db.fetchall(
        "SELECT v.poll_id, v.user_id, v.picks FROM poll_votes v JOIN polls p ON p.poll_id = v.poll_id "
        "WHERE p.guild_id = :g AND NOT p.anonymous ORDER BY v.poll_id, v.user_id",
        {"g": guild_id},
    )
    return rows_as(BallotExportRow, rows)


async def sessions(db: Database, guild_id: int) -> list[SessionExportRow]:
    """Every session with its first occurrence and how many it has, by first start then number."""
    rows = await db.fetchall(
        "SELECT s.session_id, s.number, s.title, s.group_id, s.zone, s.start_local, s.duration_min, s.moderators, "
        "s.note_taker, s.location, s.notes, s.recur_days, s.recur_until, "
        "(SELECT min(starts_at) FROM occurrences o WHERE o.session_id = s.session_id) AS starts_at, "
        "(SELECT count(*) FROM occurrences o WHERE o.session_id = s.session_id) AS occurrences "
        "FROM sessions s WHERE s.guild_id = :g ORDER BY 14, s.number",
        {"g": guild_id},
    )
    return rows_as(SessionExportRow, rows)
