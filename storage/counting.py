"""Queries for counting per organisation: the organisations in scope of a point or poll, organisations'
positions, objections and ballots, what counted when a point was decided or a poll closed, and the rows
the breakdown by region and stakeholder group is built from.

Every write of a member's id for this feature goes through a function of this module (``stated_by``,
``cast_by``, ``resolved_by``; see MEMBER_ID_COLUMNS).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from storage.db import Connection, Database, Source, SyncConnection, fetch_all, fetch_one, rows_as
from storage.orgs import RepresentationRow, representation_now

#: Every column of this feature that holds a member's id (storage/privacy.py rewrites them), with the
#: table's way to its server.
MEMBER_ID_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("org_positions", "stated_by", "item"),
    ("org_objections", "stated_by", "item"),
    ("org_objections", "resolved_by", "item"),
    ("poll_org_votes", "cast_by", "poll"),
)

_VOICE = (
    "(SELECT r.user_id FROM org_voices v JOIN org_reps r ON r.rep_id = v.rep_id "
    "WHERE v.org_id = o.org_id AND v.ended_at IS NULL)"
)
# an organisation is in the scope of a working group when one of its current representatives is a current
# member of the group
_IN_GROUP = (
    "EXISTS (SELECT 1 FROM org_reps r JOIN group_members gm ON gm.group_id = :group AND gm.user_id = r.user_id "
    "LEFT JOIN members m ON m.guild_id = r.guild_id AND m.user_id = r.user_id "
    "WHERE r.org_id = o.org_id AND r.state = 'active' AND m.left_at IS NULL)"
)
_SCOPED = f"o.org_id, o.name, o.acronym, o.region, o.stakeholder, {_VOICE} AS voice_id"


@dataclass(frozen=True)
class ScopedOrg:
    """An organisation that counts for a point or poll, with its current voice (None: it has none)."""

    org_id: int
    name: str
    acronym: str
    region: str
    stakeholder: str
    voice_id: int | None


@dataclass(frozen=True)
class OrgPositionRow:
    """An organisation's position on a revision, who stated it, and the organisation's details."""

    org_id: int
    name: str
    acronym: str
    region: str
    stakeholder: str
    state: str
    revision: int
    stance: str
    reason: str | None
    stated_by: int
    stated_by_name: str
    updated_at: int


@dataclass(frozen=True)
class OrgObjectionRow:
    """An entry of an organisation's objection register."""

    objection_id: int
    org_id: int
    name: str
    revision: int
    stance: str
    reason: str
    stated_by: int
    stated_by_name: str
    created_at: int
    state: str
    note: str | None
    resolved_by: int | None
    resolved_at: int | None


@dataclass(frozen=True)
class OrgBallotRow:
    """An organisation's ballot in an open poll counted per organisation, and who cast it."""

    org_id: int
    name: str
    acronym: str
    region: str
    stakeholder: str
    picks: int
    cast_by: int
    cast_by_name: str
    updated_at: int


@dataclass(frozen=True)
class SupportRow:
    """One response for the breakdown: its stance or ballot picks, and the organisation behind it (the one
    the member represented when they stated it; None: none)."""

    stance: str | None
    picks: int | None
    org_id: int | None
    region: str | None
    stakeholder: str | None


@dataclass(frozen=True)
class PositionOrgRow:
    """Whom a member who stated a position represents now, and whether they are its voice."""

    user_id: int
    org_id: int
    name: str
    is_voice: bool


# -- scope -----------------------------------------------------------------------------------------------


async def has_orgs(db: Source, guild_id: int) -> bool:
    """Whether the server has any organisation in its record (else there is nothing to break down by)."""
    row = await fetch_one(db, "SELECT EXISTS (SELECT 1 FROM orgs WHERE guild_id = :g)", {"g": guild_id})
    return bool(row and row[0])


async def live_scope(db: Source, guild_id: int, group_id: int | None) -> list[ScopedOrg]:
    """The organisations that count now: verified (not left), and, for a working group's point or poll,
    with at least one current representative in the group; by name."""
    rows = await fetch_all(
        db,
        f"SELECT {_SCOPED} FROM orgs o WHERE o.guild_id = :g AND o.state = 'verified' "  # noqa: S608
        f"AND (:group IS NULL OR {_IN_GROUP}) ORDER BY o.name_key",
        {"g": guild_id, "group": group_id},
    )
    return rows_as(ScopedOrg, rows)


async def frozen_item_scope(db: Source, item_id: int) -> list[ScopedOrg]:
    """The organisations that counted when the point was decided, by name."""
    rows = await fetch_all(
        db,
        f"SELECT {_SCOPED} FROM item_org_scope s JOIN orgs o ON o.org_id = s.org_id "  # noqa: S608
        "WHERE s.item_id = :i ORDER BY o.name_key",
        {"i": item_id},
    )
    return rows_as(ScopedOrg, rows)


async def frozen_poll_scope(db: Source, poll_id: int) -> list[ScopedOrg]:
    """The organisations that counted when the poll closed, by name."""
    rows = await fetch_all(
        db,
        f"SELECT {_SCOPED} FROM poll_org_scope s JOIN orgs o ON o.org_id = s.org_id "  # noqa: S608
        "WHERE s.poll_id = :p ORDER BY o.name_key",
        {"p": poll_id},
    )
    return rows_as(ScopedOrg, rows)


async def freeze_item_scope(conn: Connection, item_id: int, org_ids: Iterable[int]) -> None:
    """Keep which organisations counted for a point as it is decided (replacing an earlier decision's)."""
    await conn.execute("DELETE FROM item_org_scope WHERE item_id = :i", {"i": item_id})
    await conn.executemany(
        "INSERT INTO item_org_scope (item_id, org_id) VALUES (:i, :o)",
        [{"i": item_id, "o": o} for o in org_ids],
    )


async def thaw_item_scope(conn: Connection, item_id: int) -> None:
    """The point is open again: its scope is live again."""
    await conn.execute("DELETE FROM item_org_scope WHERE item_id = :i", {"i": item_id})


async def freeze_poll_scope(conn: Connection, poll_id: int, org_ids: Iterable[int]) -> None:
    """Keep which organisations counted for a poll as it closes."""
    await conn.executemany(
        "INSERT INTO poll_org_scope (poll_id, org_id) VALUES (:p, :o) ON CONFLICT DO NOTHING",
        [{"p": poll_id, "o": o} for o in org_ids],
    )


# -- points: the click, in one transaction on the writer's thread -----------------------------------------


@dataclass(frozen=True)
class Standing:
    """Where a member's position on a point counted per organisation stands, as recorded in the click."""

    org_id: int | None  # the organisation they represent (None: none)
    org_name: str | None
    is_voice: bool  # their position became the organisation's
    voice_id: int | None  # the organisation's voice, when it is someone else
    in_scope: bool  # the organisation counts on this point (its working group's organisations)


_UPSERT_ORG_POSITION = (
    "INSERT INTO org_positions (item_id, revision, org_id, stance, reason, stated_by, updated_at) "
    "VALUES (:i, :r, :o, :s, :reason, :u, :now) ON CONFLICT (item_id, revision, org_id) DO UPDATE SET "
    "stance = excluded.stance, reason = excluded.reason, stated_by = excluded.stated_by, "
    "updated_at = excluded.updated_at"
)
_REGISTER_ORG_OBJECTION = (
    "INSERT INTO org_objections (item_id, revision, org_id, stance, reason, stated_by, created_at) "
    "VALUES (:i, :r, :o, :s, :reason, :u, :now) ON CONFLICT (item_id, revision, org_id) DO UPDATE SET "
    "stance = excluded.stance, reason = excluded.reason, stated_by = excluded.stated_by, "
    "created_at = excluded.created_at, state = 'open', note = NULL, resolved_by = NULL, resolved_at = NULL, "
    "record_index = NULL"
)
_WITHDRAW_ORG_OBJECTION = (
    "UPDATE org_objections SET state = 'withdrawn', resolved_by = :u, resolved_at = :now, record_index = NULL "
    "WHERE item_id = :i AND revision = :r AND org_id = :o AND state = 'open'"
)


def org_in_group(conn: SyncConnection, org_id: int, group_id: int) -> bool:
    """Whether the organisation has a current representative who is a current member of the group."""
    found = conn.execute(
        f"SELECT {_IN_GROUP} FROM orgs o WHERE o.org_id = :o",  # noqa: S608 (a fixed fragment)
        {"o": org_id, "group": group_id},
    ).fetchone()
    return bool(found and found[0])


def _voice_of(conn: SyncConnection, org_id: int) -> int | None:
    found = conn.execute(
        "SELECT r.user_id FROM org_voices v JOIN org_reps r ON r.rep_id = v.rep_id "
        "WHERE v.org_id = :o AND v.ended_at IS NULL",
        {"o": org_id},
    ).fetchone()
    return None if found is None else int(found[0])


def record_org_position(
    conn: SyncConnection,
    *,
    guild_id: int,
    item_id: int,
    revision: int,
    group_id: int | None,
    user_id: int,
    stance: str,
    reason: str | None,
    now: int,
) -> Standing:
    """Inside the click's transaction (see Database.run): whom the member represents now (one indexed
    lookup); if they are its voice, their position becomes the organisation's (replacing it) and an
    objection or block enters the organisation's register (agreeing or standing aside withdraws it)."""
    rep: RepresentationRow | None = representation_now(conn, guild_id, user_id)
    if rep is None:
        return Standing(None, None, False, None, False)
    in_scope = group_id is None or org_in_group(conn, rep.org_id, group_id)
    if not rep.is_voice:
        return Standing(rep.org_id, rep.name, False, _voice_of(conn, rep.org_id), in_scope)
    params = {"i": item_id, "r": revision, "o": rep.org_id, "s": stance, "reason": reason, "u": user_id,
              "now": now}  # fmt: skip
    conn.execute(_UPSERT_ORG_POSITION, params)
    conn.execute(_REGISTER_ORG_OBJECTION if reason is not None else _WITHDRAW_ORG_OBJECTION, params)
    return Standing(rep.org_id, rep.name, True, None, in_scope)


# -- points: reading ---------------------------------------------------------------------------------------

_NAME = "coalesce((SELECT m.display_name FROM members m WHERE m.guild_id = o.guild_id AND m.user_id = {col}), CAST({col} AS TEXT))"


async def org_positions(db: Source, item_id: int, revision: int | None = None) -> list[OrgPositionRow]:
    """Organisations' positions on a point (one revision, or all), blocks first, then by name."""
    rows = await fetch_all(
        db,
        "SELECT o.org_id, o.name, o.acronym, o.region, o.stakeholder, o.state, p.revision, p.stance, p.reason, "  # noqa: S608
        f"p.stated_by, {_NAME.format(col='p.stated_by')} AS stated_by_name, p.updated_at "
        "FROM org_positions p JOIN orgs o ON o.org_id = p.org_id WHERE p.item_id = :i "
        "AND (:r IS NULL OR p.revision = :r) ORDER BY p.revision, CASE p.stance WHEN 'block' THEN 0 "
        "WHEN 'object' THEN 1 WHEN 'stand_aside' THEN 2 ELSE 3 END, o.name_key",
        {"i": item_id, "r": revision},
    )
    return rows_as(OrgPositionRow, rows)


async def org_objections(db: Source, item_id: int) -> list[OrgObjectionRow]:
    """A point's organisations' objection register, every revision, oldest first."""
    rows = await fetch_all(
        db,
        "SELECT x.objection_id, o.org_id, o.name, x.revision, x.stance, x.reason, x.stated_by, "  # noqa: S608
        f"{_NAME.format(col='x.stated_by')} AS stated_by_name, x.created_at, x.state, x.note, x.resolved_by, "
        "x.resolved_at FROM org_objections x JOIN orgs o ON o.org_id = x.org_id WHERE x.item_id = :i "
        "ORDER BY x.revision, x.created_at, x.objection_id",
        {"i": item_id},
    )
    return rows_as(OrgObjectionRow, rows)


async def positions_apart(db: Database, guild_id: int, item_id: int, revision: int) -> tuple[int, int]:
    """Members' own positions on a revision that do not count per organisation: (by representatives who are
    not their organisation's voice now, by members who represent no organisation now)."""
    row = await db.fetchone(
        "SELECT coalesce(sum(CASE WHEN r.rep_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM org_voices v "
        "WHERE v.rep_id = r.rep_id AND v.ended_at IS NULL) THEN 1 ELSE 0 END), 0), "
        "coalesce(sum(CASE WHEN r.rep_id IS NULL THEN 1 ELSE 0 END), 0) "
        "FROM positions p LEFT JOIN org_reps r ON r.guild_id = :g AND r.user_id = p.user_id AND r.state = 'active' "
        "WHERE p.item_id = :i AND p.revision = :r",
        {"g": guild_id, "i": item_id, "r": revision},
    )
    return (0, 0) if row is None else (int(row[0]), int(row[1]))


async def position_orgs(db: Database, guild_id: int, item_id: int) -> list[PositionOrgRow]:
    """For each member with a position on the point, the organisation they represent now (if any)."""
    rows = await db.fetchall(
        "SELECT DISTINCT p.user_id, o.org_id, o.name, EXISTS (SELECT 1 FROM org_voices v WHERE v.rep_id = r.rep_id "
        "AND v.ended_at IS NULL) AS is_voice FROM positions p JOIN org_reps r ON r.guild_id = :g "
        "AND r.user_id = p.user_id AND r.state = 'active' JOIN orgs o ON o.org_id = r.org_id WHERE p.item_id = :i",
        {"g": guild_id, "i": item_id},
    )
    return rows_as(PositionOrgRow, rows)


async def resolve_org_objection(
    conn: Connection,
    item_id: int,
    revision: int,
    org_id: int,
    state: str,
    note: str | None,
    by: int,
    now: int,
) -> bool:
    """Mark an organisation's objection addressed or in the rough; False when it has none."""
    cursor = await conn.execute(
        "UPDATE org_objections SET state = :state, note = :note, resolved_by = :by, resolved_at = :now, "
        "record_index = NULL WHERE item_id = :i AND revision = :r AND org_id = :o AND state != 'withdrawn'",
        {"i": item_id, "r": revision, "o": org_id, "state": state, "note": note, "by": by, "now": now},
    )
    return cursor.rowcount == 1


async def set_org_objection_record(
    conn: Connection, item_id: int, revision: int, org_id: int, index: int
) -> None:
    """Which record entry holds the ruling on an organisation's objection."""
    await conn.execute(
        "UPDATE org_objections SET record_index = :x WHERE item_id = :i AND revision = :r AND org_id = :o",
        {"i": item_id, "r": revision, "o": org_id, "x": index},
    )


# the org of a member at the time of a response: the representation that was current then
_ORG_AT = (
    "(SELECT r.org_id FROM org_reps r WHERE r.guild_id = :g AND r.user_id = {user} AND r.started_at IS NOT NULL "
    "AND r.started_at <= {at} AND (r.ended_at IS NULL OR r.ended_at > {at}) ORDER BY r.started_at DESC LIMIT 1)"
)


async def people_supports_of_item(
    db: Database, guild_id: int, item_id: int, revision: int
) -> list[SupportRow]:
    """Members' positions on a revision, each with the organisation the member represented when stating it."""
    rows = await db.fetchall(
        "SELECT p.stance, NULL AS picks, o.org_id, o.region, o.stakeholder FROM positions p "  # noqa: S608
        f"LEFT JOIN orgs o ON o.org_id = {_ORG_AT.format(user='p.user_id', at='p.updated_at')} "
        "WHERE p.item_id = :i AND p.revision = :r",
        {"g": guild_id, "i": item_id, "r": revision},
    )
    return rows_as(SupportRow, rows)


# -- polls -------------------------------------------------------------------------------------------------


async def org_ballots(db: Source, poll_id: int) -> list[OrgBallotRow]:
    """The organisations' ballots of an open poll counted per organisation, by organisation name."""
    rows = await fetch_all(
        db,
        "SELECT o.org_id, o.name, o.acronym, o.region, o.stakeholder, v.picks, v.cast_by, "  # noqa: S608
        f"{_NAME.format(col='v.cast_by')} AS cast_by_name, v.updated_at FROM poll_org_votes v "
        "JOIN orgs o ON o.org_id = v.org_id WHERE v.poll_id = :p ORDER BY o.name_key",
        {"p": poll_id},
    )
    return rows_as(OrgBallotRow, rows)


async def secret_ballots(db: Source, poll_id: int) -> list[tuple[bytes, int]]:
    """(voter key, picks) of every ballot of an anonymous poll."""
    rows = await fetch_all(
        db, "SELECT voter_key, picks FROM poll_secret_ballots WHERE poll_id = :p", {"p": poll_id}
    )
    return [(bytes(r[0]), int(r[1])) for r in rows]


async def drop_secret_ballots(conn: Connection, poll_id: int, keys: Sequence[bytes]) -> int:
    """Remove these ballots of an anonymous poll (those of organisations that no longer count, at close);
    the tally's triggers follow."""
    cursor = await conn.executemany(
        "DELETE FROM poll_secret_ballots WHERE poll_id = :p AND voter_key = :k",
        [{"p": poll_id, "k": k} for k in keys],
    )
    return max(cursor.rowcount, 0)


async def people_supports_of_poll(db: Database, guild_id: int, poll_id: int) -> list[SupportRow]:
    """The ballots of an open poll counted per person, each with the organisation the voter represented
    when they last changed it."""
    rows = await db.fetchall(
        "SELECT NULL AS stance, v.picks, o.org_id, o.region, o.stakeholder FROM poll_votes v "  # noqa: S608
        f"LEFT JOIN orgs o ON o.org_id = {_ORG_AT.format(user='v.user_id', at='v.updated_at')} "
        "WHERE v.poll_id = :p",
        {"g": guild_id, "p": poll_id},
    )
    return rows_as(SupportRow, rows)


# -- for an organisation's card ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenPositionRow:
    """An organisation's position on the current revision of an open point counted per organisation."""

    number: int
    stance: str
    stated_by: int
    updated_at: int


async def open_positions_of(db: Database, org_id: int) -> list[OpenPositionRow]:
    """The organisation's positions on open points counted per organisation, by point number."""
    rows = await db.fetchall(
        "SELECT i.number, p.stance, p.stated_by, p.updated_at FROM org_positions p JOIN items i "
        "ON i.item_id = p.item_id AND i.revision = p.revision WHERE p.org_id = :o AND i.status = 'open' "
        "ORDER BY i.number",
        {"o": org_id},
    )
    return rows_as(OpenPositionRow, rows)


# -- members' data rights ------------------------------------------------------------------------------------


async def rows_about(db: Database, guild_id: int, user_id: int) -> dict[str, list[dict[str, object]]]:
    """What this feature's record says the member did for an organisation: positions they stated as its
    voice, and ballots they cast for it in open polls."""
    p = {"g": guild_id, "u": user_id}
    stated = await db.fetchall(
        "SELECT i.number, p.revision, o.name AS organisation, p.stance, p.reason, p.updated_at FROM org_positions p "
        "JOIN items i ON i.item_id = p.item_id JOIN orgs o ON o.org_id = p.org_id "
        "WHERE i.guild_id = :g AND p.stated_by = :u ORDER BY i.number, p.revision",
        p,
    )
    cast = await db.fetchall(
        "SELECT q.number, q.question, o.name AS organisation, v.picks, v.updated_at FROM poll_org_votes v "
        "JOIN polls q ON q.poll_id = v.poll_id JOIN orgs o ON o.org_id = v.org_id "
        "WHERE q.guild_id = :g AND v.cast_by = :u ORDER BY q.number",
        p,
    )
    return {
        "organisation_positions_stated": [dict(r) for r in stated],
        "organisation_ballots_cast": [dict(r) for r in cast],
    }


async def representation_org(db: Source, guild_id: int, user_id: int) -> int | None:
    """The organisation the member represents now (None: none)."""
    row = await fetch_one(
        db,
        "SELECT org_id FROM org_reps WHERE guild_id = :g AND user_id = :u AND state = 'active'",
        {"g": guild_id, "u": user_id},
    )
    return None if row is None else int(row[0])
