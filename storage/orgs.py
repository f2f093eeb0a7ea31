"""Queries for member organisations, their representatives and voices, and pending CSV imports.

Every write of a member's id for this feature goes through a function of this module.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from domain.text import strip_controls
from storage.db import Connection, Database, Row, SyncConnection, inserted_id, new_id, row_as, rows_as

# Every column of this feature that holds a member's id (anonymise() replaces them).
MEMBER_ID_COLUMNS: tuple[tuple[str, str], ...] = (
    ("orgs", "created_by"),
    ("orgs", "verified_by"),
    ("orgs", "left_by"),
    ("org_reps", "user_id"),
    ("org_reps", "decided_by"),
    ("org_reps", "ended_by"),
    ("org_imports", "user_id"),
)

_ORG = (
    "o.org_id, o.guild_id, o.name, o.acronym, o.country, o.region, o.stakeholder, o.website, o.state, "
    "o.created_by, o.created_at, o.verified_by, o.verified_at, o.left_by, o.left_at"
)
_REP = "r.rep_id, r.org_id, r.user_id, r.state, r.requested_at, r.decided_by, r.started_at, r.ended_by, r.ended_at"
_IS_VOICE = "EXISTS (SELECT 1 FROM org_voices v WHERE v.rep_id = r.rep_id AND v.ended_at IS NULL)"


@dataclass(frozen=True)
class OrgRow:
    org_id: int
    guild_id: int
    name: str
    acronym: str
    country: str  # ISO 3166-1 alpha-2
    region: str  # a key of domain.orgs.REGIONS
    stakeholder: str  # a key of domain.orgs.STAKEHOLDERS
    website: str
    state: str  # pending | verified | left
    created_by: int
    created_at: int
    verified_by: int | None
    verified_at: int | None
    left_by: int | None
    left_at: int | None


@dataclass(frozen=True)
class RepRow:
    """A request to represent an organisation, or the representation it became."""

    rep_id: int
    org_id: int
    user_id: int
    state: str  # requested | active | declined | withdrawn | ended
    requested_at: int
    decided_by: int | None
    started_at: int | None
    ended_by: int | None
    ended_at: int | None
    is_voice: bool


@dataclass(frozen=True)
class OrgListRow:
    """An organisation with its number of current representatives and its current voice."""

    org_id: int
    guild_id: int
    name: str
    acronym: str
    country: str
    region: str
    stakeholder: str
    website: str
    state: str
    created_by: int
    created_at: int
    verified_by: int | None
    verified_at: int | None
    left_by: int | None
    left_at: int | None
    rep_count: int
    voice_id: int | None


@dataclass(frozen=True)
class RepresentationRow:
    """Whom a member represents: the organisation's row, the representation, and whether they are its voice."""

    org_id: int
    guild_id: int
    name: str
    acronym: str
    country: str
    region: str
    stakeholder: str
    website: str
    state: str
    created_by: int
    created_at: int
    verified_by: int | None
    verified_at: int | None
    left_by: int | None
    left_at: int | None
    rep_id: int
    rep_started_at: int
    is_voice: bool

    def org(self) -> OrgRow:
        """The organisation alone."""
        return OrgRow(**{f.name: getattr(self, f.name) for f in fields(OrgRow)})


@dataclass(frozen=True)
class VoiceRow:
    voice_id: int
    org_id: int
    rep_id: int
    user_id: int
    started_at: int


@dataclass(frozen=True)
class ImportRow:
    user_id: int
    payload: str
    created_at: int


DB = Database | Connection


async def _all(db: DB, sql: str, params: Mapping[str, Any]) -> list[Row]:
    if isinstance(db, Database):
        return await db.fetchall(sql, params)
    return list(await (await db.execute(sql, params)).fetchall())


async def _one(db: DB, sql: str, params: Mapping[str, Any]) -> Row | None:
    rows = await _all(db, sql, params)
    return rows[0] if rows else None


def name_key(name: str) -> str:
    """The form of an organisation's name that uniqueness is checked on: any letter case, spacing or
    Unicode composition ("Ärzte", "ÄRZTE" and "A\u0308rzte" are one name), without control characters."""
    return unicodedata.normalize("NFKC", " ".join(strip_controls(name).split())).casefold()


# -- organisations ---------------------------------------------------------------------------------


async def insert_org(conn: Connection, values: Mapping[str, Any]) -> int | None:
    """Insert an organisation; None when its name is taken in this server (in any letter case)."""
    cursor = await conn.execute(
        "INSERT INTO orgs (guild_id, name, name_key, acronym, country, region, stakeholder, website, state, "
        "created_by, created_at, verified_by, verified_at) VALUES (:guild_id, :name, :name_key, :acronym, "
        ":country, :region, :stakeholder, :website, :state, :created_by, :created_at, :verified_by, :verified_at) "
        "ON CONFLICT (guild_id, name_key) DO NOTHING RETURNING org_id",
        {"verified_by": None, "verified_at": None, "state": "pending", **values,
         "name_key": name_key(str(values["name"]))},
    )  # fmt: skip
    return await inserted_id(cursor)


async def get_org(db: DB, guild_id: int, org_id: int) -> OrgRow | None:
    """An organisation of this server by id (None for unknown ids and other servers' organisations)."""
    row = await _one(db, f"SELECT {_ORG} FROM orgs o WHERE o.guild_id = :g AND o.org_id = :id",  # noqa: S608
                     {"g": guild_id, "id": org_id})  # fmt: skip
    return None if row is None else row_as(OrgRow, row)


async def get_org_any(db: DB, org_id: int) -> OrgRow | None:
    """An organisation by id in whichever server (for rows already tied to one, such as a request)."""
    row = await _one(db, f"SELECT {_ORG} FROM orgs o WHERE o.org_id = :id", {"id": org_id})  # noqa: S608
    return None if row is None else row_as(OrgRow, row)


async def find_org_by_name(db: DB, guild_id: int, name: str) -> OrgRow | None:
    """An organisation of this server by name, in any letter case."""
    row = await _one(db, f"SELECT {_ORG} FROM orgs o WHERE o.guild_id = :g AND o.name_key = :k",  # noqa: S608
                     {"g": guild_id, "k": name_key(name)})  # fmt: skip
    return None if row is None else row_as(OrgRow, row)


async def names_in(db: DB, guild_id: int) -> dict[str, str]:
    """Every organisation name of this server, by its key."""
    rows = await _all(db, "SELECT name_key, name FROM orgs WHERE guild_id = :g", {"g": guild_id})
    return {str(r["name_key"]): str(r["name"]) for r in rows}


async def list_orgs(
    db: Database, guild_id: int, *, region: str | None, stakeholder: str | None, state: str | None
) -> list[OrgListRow]:
    """The server's organisations by name (filters optional), with their representatives and voice."""
    rows = await db.fetchall(
        f"SELECT {_ORG}, "  # noqa: S608
        "(SELECT count(*) FROM org_reps r WHERE r.org_id = o.org_id AND r.state = 'active') AS rep_count, "
        "(SELECT r.user_id FROM org_voices v JOIN org_reps r ON r.rep_id = v.rep_id "
        " WHERE v.org_id = o.org_id AND v.ended_at IS NULL) AS voice_id "
        "FROM orgs o WHERE o.guild_id = :g AND (:region IS NULL OR o.region = :region) "
        "AND (:sh IS NULL OR o.stakeholder = :sh) AND (:state IS NULL OR o.state = :state) ORDER BY o.name_key",
        {"g": guild_id, "region": region, "sh": stakeholder, "state": state},
    )
    return rows_as(OrgListRow, rows)


async def search_orgs(
    db: Database, guild_id: int, text: str, *, include_left: bool, limit: int = 25
) -> list[OrgRow]:
    """Organisations of this server whose name or acronym contains ``text`` (any case), prefixes first."""
    key = name_key(text)
    pattern = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = await db.fetchall(
        f"SELECT {_ORG} FROM orgs o WHERE o.guild_id = :g AND (:all = 1 OR o.state != 'left') "  # noqa: S608
        "AND (o.name_key LIKE :p ESCAPE '\\' OR lower(o.acronym) LIKE :p ESCAPE '\\') "
        "ORDER BY substr(o.name_key, 1, length(:k)) != :k "
        "AND substr(lower(o.acronym), 1, length(:k)) != :k, o.name_key LIMIT :limit",
        {"g": guild_id, "p": pattern, "k": key, "all": int(include_left), "limit": limit},
    )
    return rows_as(OrgRow, rows)


async def update_org(conn: Connection, org_id: int, values: Mapping[str, Any]) -> None:
    """Change an organisation's details (name, acronym, country, region, stakeholder, website)."""
    allowed = {"name", "acronym", "country", "region", "stakeholder", "website"}
    fields = {k: v for k, v in values.items() if k in allowed}
    if "name" in fields:
        fields["name_key"] = name_key(str(fields["name"]))
    if not fields:
        return
    assignments = ", ".join(f"{k} = :{k}" for k in fields)  # fixed column names, checked above
    await conn.execute(f"UPDATE orgs SET {assignments} WHERE org_id = :org_id",  # noqa: S608
                       {**fields, "org_id": org_id})  # fmt: skip


async def mark_verified(conn: Connection, org_id: int, by: int, now: int) -> bool:
    """A pending (or departed) organisation becomes verified; False when it already was."""
    cursor = await conn.execute(
        "UPDATE orgs SET state = 'verified', verified_by = :by, verified_at = :now "
        "WHERE org_id = :o AND state != 'verified'",
        {"o": org_id, "by": by, "now": now},
    )
    return cursor.rowcount == 1


async def mark_left(conn: Connection, org_id: int, by: int, now: int) -> bool:
    """The organisation leaves the coalition (its representations must have ended); False if it had."""
    cursor = await conn.execute(
        "UPDATE orgs SET state = 'left', left_by = :by, left_at = :now WHERE org_id = :o AND state != 'left'",
        {"o": org_id, "by": by, "now": now},
    )
    return cursor.rowcount == 1


# -- representatives -------------------------------------------------------------------------------


async def reps_of(db: DB, org_id: int, states: Iterable[str]) -> list[RepRow]:
    """An organisation's representations or requests in these states, longest-serving (or oldest) first."""
    wanted = sorted(set(states))
    marks = ", ".join(f":s{i}" for i in range(len(wanted)))
    rows = await _all(
        db,
        f"SELECT {_REP}, {_IS_VOICE} AS is_voice FROM org_reps r WHERE r.org_id = :o AND r.state IN ({marks}) "  # noqa: S608
        "ORDER BY coalesce(r.started_at, r.requested_at), r.rep_id",
        {"o": org_id, **{f"s{i}": s for i, s in enumerate(wanted)}},
    )
    return rows_as(RepRow, rows)


async def get_rep(db: DB, rep_id: int) -> RepRow | None:
    """A request or representation by id (the caller checks its organisation's server)."""
    row = await _one(db, f"SELECT {_REP}, {_IS_VOICE} AS is_voice FROM org_reps r WHERE r.rep_id = :id",  # noqa: S608
                     {"id": rep_id})  # fmt: skip
    return None if row is None else row_as(RepRow, row)


async def open_rep_of(db: DB, guild_id: int, user_id: int) -> RepRow | None:
    """The member's one open row in this server: their current representation or their pending request."""
    row = await _one(
        db,
        f"SELECT {_REP}, {_IS_VOICE} AS is_voice FROM org_reps r "  # noqa: S608
        "WHERE r.guild_id = :g AND r.user_id = :u AND r.state IN ('requested', 'active')",
        {"g": guild_id, "u": user_id},
    )
    return None if row is None else row_as(RepRow, row)


async def insert_request(conn: Connection, org_id: int, guild_id: int, user_id: int, now: int) -> int | None:
    """A member asks to represent an organisation; None when they already have an open request or representation."""
    cursor = await conn.execute(
        "INSERT INTO org_reps (org_id, guild_id, user_id, state, requested_at) VALUES (:o, :g, :u, 'requested', :now) "
        "ON CONFLICT (guild_id, user_id) WHERE state IN ('requested', 'active') DO NOTHING RETURNING rep_id",
        {"o": org_id, "g": guild_id, "u": user_id, "now": now},
    )
    return await inserted_id(cursor)


async def approve_request(conn: Connection, rep_id: int, by: int, now: int) -> bool:
    """A pending request becomes a representation from ``now``; False when it was no longer pending."""
    cursor = await conn.execute(
        "UPDATE org_reps SET state = 'active', decided_by = :by, started_at = :now "
        "WHERE rep_id = :r AND state = 'requested'",
        {"r": rep_id, "by": by, "now": now},
    )
    return cursor.rowcount == 1


async def close_request(conn: Connection, rep_id: int, state: str, by: int, now: int) -> bool:
    """A pending request is declined (by someone else) or withdrawn (by the member); False if not pending."""
    assert state in ("declined", "withdrawn")
    cursor = await conn.execute(
        "UPDATE org_reps SET state = :s, decided_by = :by, ended_by = :by, ended_at = :now "
        "WHERE rep_id = :r AND state = 'requested'",
        {"r": rep_id, "s": state, "by": by, "now": now},
    )
    return cursor.rowcount == 1


async def current_voice(db: DB, org_id: int) -> VoiceRow | None:
    """The organisation's voice now, or None."""
    row = await _one(
        db,
        "SELECT v.voice_id, v.org_id, v.rep_id, r.user_id, v.started_at FROM org_voices v "
        "JOIN org_reps r ON r.rep_id = v.rep_id WHERE v.org_id = :o AND v.ended_at IS NULL",
        {"o": org_id},
    )
    return None if row is None else row_as(VoiceRow, row)


async def set_voice(conn: Connection, org_id: int, rep_id: int | None, now: int) -> None:
    """The organisation's voice is this (current) representation from ``now`` on; None: no voice."""
    await conn.execute(
        "UPDATE org_voices SET ended_at = :now WHERE org_id = :o AND ended_at IS NULL",
        {"o": org_id, "now": now},
    )
    if rep_id is not None:
        await conn.execute(
            "INSERT INTO org_voices (org_id, rep_id, started_at) VALUES (:o, :r, :now)",
            {"o": org_id, "r": rep_id, "now": now},
        )


async def end_representation(conn: Connection, rep: RepRow, by: int, now: int) -> int | None:
    """End a current representation. If it was the voice, the voice passes to the longest-serving
    remaining representative (or to nobody); returns the user id of that new voice, else None."""
    successor: int | None = None
    was_voice = await current_voice(conn, rep.org_id)
    if was_voice is not None and was_voice.rep_id == rep.rep_id:
        rows = await _all(
            conn,
            "SELECT rep_id, user_id FROM org_reps WHERE org_id = :o AND state = 'active' AND rep_id != :r "
            "ORDER BY started_at, rep_id LIMIT 1",
            {"o": rep.org_id, "r": rep.rep_id},
        )
        await set_voice(conn, rep.org_id, int(rows[0]["rep_id"]) if rows else None, now)
        successor = int(rows[0]["user_id"]) if rows else None
    await conn.execute(
        "UPDATE org_reps SET state = 'ended', ended_by = :by, ended_at = :now WHERE rep_id = :r AND state = 'active'",
        {"r": rep.rep_id, "by": by, "now": now},
    )
    return successor


async def end_all(conn: Connection, org_id: int, by: int, now: int) -> tuple[list[int], int]:
    """End every representation of an organisation, its voice and its pending requests (it leaves):
    returns the user ids whose representation ended, and how many requests were declined."""
    ended = [r.user_id for r in await reps_of(conn, org_id, ("active",))]
    await set_voice(conn, org_id, None, now)
    await conn.execute(
        "UPDATE org_reps SET state = 'ended', ended_by = :by, ended_at = :now WHERE org_id = :o AND state = 'active'",
        {"o": org_id, "by": by, "now": now},
    )
    cursor = await conn.execute(
        "UPDATE org_reps SET state = 'declined', decided_by = :by, ended_by = :by, ended_at = :now "
        "WHERE org_id = :o AND state = 'requested'",
        {"o": org_id, "by": by, "now": now},
    )
    return ended, cursor.rowcount


# -- for counting per organisation -------------------------------------------------------------------

_REPRESENTATION_NOW = (
    f"SELECT {_ORG}, r.rep_id, r.started_at AS rep_started_at, {_IS_VOICE} AS is_voice "  # noqa: S608
    "FROM org_reps r JOIN orgs o ON o.org_id = r.org_id "
    "WHERE r.guild_id = :g AND r.user_id = :u AND r.state = 'active'"
)
_REPRESENTATION_AT = (
    f"SELECT {_ORG}, r.rep_id, r.started_at AS rep_started_at, "  # noqa: S608
    "EXISTS (SELECT 1 FROM org_voices v WHERE v.rep_id = r.rep_id AND v.started_at <= :at "
    "        AND (v.ended_at IS NULL OR v.ended_at > :at)) AS is_voice "
    "FROM org_reps r JOIN orgs o ON o.org_id = r.org_id "
    "WHERE r.guild_id = :g AND r.user_id = :u AND r.started_at <= :at AND (r.ended_at IS NULL OR r.ended_at > :at) "
    "ORDER BY r.started_at DESC LIMIT 1"
)


async def representation(
    db: DB, guild_id: int, user_id: int, at: int | None = None
) -> RepresentationRow | None:
    """Whom the member represents now (one indexed lookup), or at Unix time ``at`` (from the history)."""
    if at is None:
        row = await _one(db, _REPRESENTATION_NOW, {"g": guild_id, "u": user_id})
    else:
        row = await _one(db, _REPRESENTATION_AT, {"g": guild_id, "u": user_id, "at": at})
    return None if row is None else row_as(RepresentationRow, row)


def representation_now(conn: SyncConnection, guild_id: int, user_id: int) -> RepresentationRow | None:
    """Whom the member represents now, on a plain sqlite3 connection (inside Database.run on a click)."""
    row = conn.execute(_REPRESENTATION_NOW, {"g": guild_id, "u": user_id}).fetchone()
    return None if row is None else row_as(RepresentationRow, row)


async def voices(db: DB, guild_id: int) -> dict[int, int]:
    """The current voice (user id) of every verified organisation of this server that has one, by org id."""
    rows = await _all(
        db,
        "SELECT v.org_id, r.user_id FROM org_voices v JOIN org_reps r ON r.rep_id = v.rep_id "
        "JOIN orgs o ON o.org_id = v.org_id WHERE o.guild_id = :g AND o.state = 'verified' AND v.ended_at IS NULL",
        {"g": guild_id},
    )
    return {int(r["org_id"]): int(r["user_id"]) for r in rows}


async def counted_orgs(db: DB, guild_id: int) -> list[OrgRow]:
    """The organisations that count in this server: verified and not left, by name."""
    rows = await _all(
        db, f"SELECT {_ORG} FROM orgs o WHERE o.guild_id = :g AND o.state = 'verified' ORDER BY o.name_key",  # noqa: S608
        {"g": guild_id},
    )  # fmt: skip
    return rows_as(OrgRow, rows)


# -- imports --------------------------------------------------------------------------------------


async def insert_import(conn: Connection, guild_id: int, user_id: int, payload: str, now: int) -> int:
    """Keep a previewed import until it is confirmed."""
    cursor = await conn.execute(
        "INSERT INTO org_imports (guild_id, user_id, payload, created_at) VALUES (:g, :u, :p, :now) "
        "RETURNING import_id",
        {"g": guild_id, "u": user_id, "p": payload, "now": now},
    )
    return await new_id(cursor)


async def take_import(conn: Connection, guild_id: int, import_id: int, now: int) -> ImportRow | None:
    """Mark a pending import of this server as done and return it; None if unknown, another server's or done."""
    row = await _one(
        conn,
        "SELECT user_id, payload, created_at FROM org_imports WHERE import_id = :i AND guild_id = :g AND done_at IS NULL",
        {"i": import_id, "g": guild_id},
    )
    if row is None:
        return None
    await conn.execute(
        "UPDATE org_imports SET done_at = :now WHERE import_id = :i", {"i": import_id, "now": now}
    )
    return row_as(ImportRow, row)


# -- members' data rights ---------------------------------------------------------------------------


async def rows_about(db: Database, guild_id: int, user_id: int) -> list[dict[str, Any]]:
    """What names the member: each request or representation (``record`` "representation", with the
    voice periods), and each organisation they registered, verified or recorded as leaving."""
    p = {"g": guild_id, "u": user_id}
    reps = await db.fetchall(
        "SELECT r.rep_id, 'representation' AS record, o.name AS organisation, r.state, r.requested_at, "  # noqa: S608
        f"r.started_at, r.ended_at, {_IS_VOICE} AS is_voice_now "
        "FROM org_reps r JOIN orgs o ON o.org_id = r.org_id WHERE r.guild_id = :g AND r.user_id = :u "
        "ORDER BY r.requested_at, r.rep_id",
        p,
    )
    # each representation's voice periods, in the order they were recorded (built here, not in SQL: the
    # same list on both engines)
    periods: dict[int, list[dict[str, Any]]] = {}
    for v in await db.fetchall(
        "SELECT v.rep_id, v.started_at, v.ended_at FROM org_voices v JOIN org_reps r ON r.rep_id = v.rep_id "
        "WHERE r.guild_id = :g AND r.user_id = :u ORDER BY v.voice_id",
        p,
    ):
        periods.setdefault(int(v["rep_id"]), []).append({"from": v["started_at"], "until": v["ended_at"]})
    recorded = await db.fetchall(
        "SELECT 'organisation' AS record, name AS organisation, created_by = :u AS registered, "
        "(verified_by IS NOT NULL AND verified_by = :u) AS verified, "
        "(left_by IS NOT NULL AND left_by = :u) AS recorded_leaving FROM orgs WHERE guild_id = :g "
        "AND (created_by = :u OR verified_by = :u OR left_by = :u) ORDER BY name_key",
        p,
    )
    flags = ("is_voice_now", "registered", "verified", "recorded_leaving")

    def entry(row: Row) -> dict[str, Any]:
        values: dict[str, Any] = dict(row)
        for key in flags:
            if key in values:
                values[key] = bool(values[key])
        if "rep_id" in values:
            values["voice_periods"] = periods.get(int(values.pop("rep_id")), [])
        return values

    return [entry(r) for r in [*reps, *recorded]]


async def anonymise(conn: Connection, guild_id: int, user_id: int, pseudo_id: int, now: int) -> int:
    """The member stops representing (the voice passing on) and their open request is withdrawn, under their
    Discord id or under the pseudonym (what they did since an earlier erasure). Their id in this feature's
    columns (MEMBER_ID_COLUMNS) becomes the pseudonym with every other feature's, in storage/privacy.py.
    The organisations and their record stay."""
    changed = 0
    for uid in (user_id, pseudo_id):
        mine = await open_rep_of(conn, guild_id, uid)
        if mine is not None and mine.state == "active":
            await end_representation(conn, mine, pseudo_id, now)
            changed += 1
        elif mine is not None:
            changed += int(await close_request(conn, mine.rep_id, "withdrawn", pseudo_id, now))
    return changed


async def set_org_record(conn: Connection, org_id: int, index: int) -> None:
    """Which record entry holds the organisation's (latest) verification."""
    await conn.execute("UPDATE orgs SET record_index = :x WHERE org_id = :o", {"o": org_id, "x": index})
