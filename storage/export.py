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
    counting: str
    record_index: int | None  # the decision record's entry of its outcome (None: open)


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
    record_index: int | None  # the decision record's entry of the ruling on it


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
    counting: str
    record_index: int | None  # the decision record's entry of its final result


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
        "i.outcome_note, i.answer, i.decided_by, i.decided_at, i.deadline_at, r.text, i.counting, i.record_index "
        "FROM items i "
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
        "o.created_at, o.record_index FROM objections o JOIN items i ON i.item_id = o.item_id WHERE i.guild_id = :g "
        "ORDER BY i.number, o.revision, o.created_at, o.objection_id",
        {"g": guild_id},
    )
    return rows_as(ObjectionExportRow, rows)


async def polls(db: Database, guild_id: int) -> list[PollExportRow]:
    """Every poll, by number."""
    rows = await db.fetchall(
        "SELECT poll_id, number, question, group_id, anonymous, hide_results, choices, closes_at, closed_at, "
        "ballots, author_id, counting, record_index FROM polls WHERE guild_id = :g ORDER BY number",
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
        "WHERE p.guild_id = :g AND p.anonymous = 0 ORDER BY v.poll_id, v.user_id",
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
        "FROM sessions s WHERE s.guild_id = :g ORDER BY 14 NULLS FIRST, s.number",
        {"g": guild_id},
    )
    return rows_as(SessionExportRow, rows)


# -- counting per organisation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgExportRow:
    org_id: int
    name: str
    acronym: str
    country: str
    region: str
    stakeholder: str
    state: str
    record_index: int | None  # the decision record's entry of its verification


@dataclass(frozen=True)
class OrgPositionExportRow:
    """An organisation's position on the current revision of a point counted per organisation."""

    item_id: int
    org_id: int
    stance: str
    reason: str | None
    stated_by: int


@dataclass(frozen=True)
class OrgObjectionExportRow:
    item_id: int
    revision: int
    org_id: int
    stance: str
    reason: str
    state: str
    note: str | None
    stated_by: int
    record_index: int | None


@dataclass(frozen=True)
class OrgBallotExportRow:
    """An organisation's ballot in an open (not anonymous) poll counted per organisation."""

    poll_id: int
    org_id: int
    picks: int
    cast_by: int


@dataclass(frozen=True)
class Membership:
    """A pair of ids: (an item, poll or working group; an organisation), or (a response; its organisation)."""

    ref_id: int
    org_id: int


@dataclass(frozen=True)
class ResponseOrg:
    """The organisation a member represented when they stated a position or cast a ballot."""

    ref_id: int
    user_id: int
    org_id: int


async def organisations(db: Database, guild_id: int) -> list[OrgExportRow]:
    """The server's organisations by name, every state."""
    rows = await db.fetchall(
        "SELECT org_id, name, acronym, country, region, stakeholder, state, record_index FROM orgs "
        "WHERE guild_id = :g "
        "ORDER BY name_key",
        {"g": guild_id},
    )
    return rows_as(OrgExportRow, rows)


async def org_positions(db: Database, guild_id: int) -> list[OrgPositionExportRow]:
    """Organisations' positions on the current revision of every point counted per organisation."""
    rows = await db.fetchall(
        "SELECT p.item_id, p.org_id, p.stance, p.reason, p.stated_by FROM org_positions p "
        "JOIN items i ON i.item_id = p.item_id AND i.revision = p.revision JOIN orgs o ON o.org_id = p.org_id "
        "WHERE i.guild_id = :g ORDER BY i.number, CASE p.stance WHEN 'block' THEN 0 WHEN 'object' THEN 1 "
        "WHEN 'stand_aside' THEN 2 ELSE 3 END, o.name_key",
        {"g": guild_id},
    )
    return rows_as(OrgPositionExportRow, rows)


async def org_objections(db: Database, guild_id: int) -> list[OrgObjectionExportRow]:
    """The organisations' objection register of every point, every revision, in order."""
    rows = await db.fetchall(
        "SELECT x.item_id, x.revision, x.org_id, x.stance, x.reason, x.state, x.note, x.stated_by, x.record_index "
        "FROM org_objections x JOIN items i ON i.item_id = x.item_id WHERE i.guild_id = :g "
        "ORDER BY i.number, x.revision, x.created_at, x.objection_id",
        {"g": guild_id},
    )
    return rows_as(OrgObjectionExportRow, rows)


async def org_ballots(db: Database, guild_id: int) -> list[OrgBallotExportRow]:
    """The organisations' ballots of every open poll counted per organisation (anonymous ones hold none)."""
    rows = await db.fetchall(
        "SELECT v.poll_id, v.org_id, v.picks, v.cast_by FROM poll_org_votes v JOIN polls p ON p.poll_id = v.poll_id "
        "JOIN orgs o ON o.org_id = v.org_id WHERE p.guild_id = :g ORDER BY v.poll_id, o.name_key",
        {"g": guild_id},
    )
    return rows_as(OrgBallotExportRow, rows)


async def frozen_scopes(db: Database, guild_id: int) -> tuple[list[Membership], list[Membership]]:
    """The organisations that counted when each point was decided, and when each poll closed."""
    items = await db.fetchall(
        "SELECT s.item_id AS ref_id, s.org_id FROM item_org_scope s JOIN items i ON i.item_id = s.item_id "
        "WHERE i.guild_id = :g",
        {"g": guild_id},
    )
    polls = await db.fetchall(
        "SELECT s.poll_id AS ref_id, s.org_id FROM poll_org_scope s JOIN polls p ON p.poll_id = s.poll_id "
        "WHERE p.guild_id = :g",
        {"g": guild_id},
    )
    return rows_as(Membership, items), rows_as(Membership, polls)


async def group_orgs(db: Database, guild_id: int) -> list[Membership]:
    """(group, organisation) for each verified organisation with a current representative who is a current
    member of the group: the organisations in scope of the group's points and polls now."""
    rows = await db.fetchall(
        "SELECT DISTINCT gm.group_id AS ref_id, r.org_id FROM org_reps r JOIN orgs o ON o.org_id = r.org_id "
        "JOIN group_members gm ON gm.user_id = r.user_id JOIN groups g ON g.group_id = gm.group_id "
        "LEFT JOIN members m ON m.guild_id = r.guild_id AND m.user_id = r.user_id "
        "WHERE r.guild_id = :g AND g.guild_id = :g AND r.state = 'active' AND o.state = 'verified' AND m.left_at IS NULL",
        {"g": guild_id},
    )
    return rows_as(Membership, rows)


_ORG_AT = (
    "(SELECT r.org_id FROM org_reps r WHERE r.guild_id = :g AND r.user_id = {user} AND r.started_at IS NOT NULL "
    "AND r.started_at <= {at} AND (r.ended_at IS NULL OR r.ended_at > {at}) ORDER BY r.started_at DESC LIMIT 1)"
)


async def response_orgs(db: Database, guild_id: int) -> tuple[list[ResponseOrg], list[ResponseOrg]]:
    """For positions on current revisions, and for ballots of open polls, the organisation each member
    represented when they stated or last changed it (only those who represented one)."""
    positions = await db.fetchall(
        f"SELECT * FROM (SELECT p.item_id AS ref_id, p.user_id, {_ORG_AT.format(user='p.user_id', at='p.updated_at')} "  # noqa: S608
        "AS org_id FROM positions p JOIN items i ON i.item_id = p.item_id AND i.revision = p.revision "
        "WHERE i.guild_id = :g) AS stated WHERE org_id IS NOT NULL",
        {"g": guild_id},
    )
    ballots = await db.fetchall(
        f"SELECT * FROM (SELECT v.poll_id AS ref_id, v.user_id, {_ORG_AT.format(user='v.user_id', at='v.updated_at')} "  # noqa: S608
        "AS org_id FROM poll_votes v JOIN polls p ON p.poll_id = v.poll_id WHERE p.guild_id = :g) AS cast_ballots "
        "WHERE org_id IS NOT NULL",
        {"g": guild_id},
    )
    return rows_as(ResponseOrg, positions), rows_as(ResponseOrg, ballots)
