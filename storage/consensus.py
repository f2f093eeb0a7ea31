"""Queries for consensus items, their revisions, positions and objections."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from storage import counting as counting_rows
from storage.counting import Standing
from storage.db import (
    Connection,
    Database,
    Source,
    SyncConnection,
    fetch_one,
    inserted_id,
    row_as,
    rows_as,
    search_params,
)
from storage.servers import UPSERT_MEMBER

_ITEM = (
    "i.item_id, i.guild_id, i.number, i.kind, i.group_id, i.author_id, i.created_at, i.revision, i.status, "
    "i.outcome_note, i.answer, i.decided_by, i.decided_at, i.deadline_at, i.channel_id, i.message_id, r.text, "
    "i.counting"
)
_FROM = "FROM items i JOIN item_revisions r ON r.item_id = i.item_id AND r.revision = i.revision"


@dataclass(frozen=True)
class ItemRow:
    item_id: int
    guild_id: int
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
    channel_id: int | None
    message_id: int | None
    text: str
    counting: str = "people"  # people | organisations (fixed when proposed)


@dataclass(frozen=True)
class Tally:
    agree: int = 0
    stand_aside: int = 0
    object: int = 0
    block: int = 0
    open_objections: int = 0

    @property
    def responses(self) -> int:
        return self.agree + self.stand_aside + self.object + self.block


@dataclass(frozen=True)
class PositionRow:
    user_id: int
    display_name: str
    revision: int
    stance: str
    reason: str | None
    updated_at: int


@dataclass(frozen=True)
class ObjectionRow:
    objection_id: int
    user_id: int
    display_name: str
    revision: int
    stance: str
    reason: str
    created_at: int
    state: str
    note: str | None
    resolved_by: int | None
    resolved_at: int | None


@dataclass(frozen=True)
class RevisionRow:
    revision: int
    text: str
    author_id: int
    created_at: int


async def insert_item(
    conn: Connection,
    *,
    guild_id: int,
    kind: str,
    group_id: int | None,
    author_id: int,
    text: str,
    deadline_at: int | None,
    now: int,
    counting: str = "people",
) -> int:
    """Insert an item with the next number of its server, and its first revision; returns the item id."""
    cursor = await conn.execute(
        "INSERT INTO items (guild_id, number, kind, group_id, author_id, created_at, deadline_at, counting) "
        "VALUES (:g, (SELECT coalesce(max(number), 0) + 1 FROM items WHERE guild_id = :g), :kind, :group, :author, "
        ":now, :deadline, :counting) RETURNING item_id",
        {
            "g": guild_id,
            "kind": kind,
            "group": group_id,
            "author": author_id,
            "now": now,
            "deadline": deadline_at,
            "counting": counting,
        },
    )
    item_id = await inserted_id(cursor)
    assert item_id is not None
    await conn.execute(
        "INSERT INTO item_revisions (item_id, revision, text, author_id, created_at) VALUES (:id, 1, :t, :a, :now)",
        {"id": item_id, "t": text, "a": author_id, "now": now},
    )
    return item_id


async def get_item(db: Source, guild_id: int, item_id: int) -> ItemRow | None:
    """An item of this server by id (None for other servers' ids)."""
    row = await fetch_one(
        db,
        f"SELECT {_ITEM} {_FROM} WHERE i.guild_id = :g AND i.item_id = :id",
        {"g": guild_id, "id": item_id},
    )
    return None if row is None else row_as(ItemRow, row)


async def get_item_by_number(db: Database, guild_id: int, number: int) -> ItemRow | None:
    """An item of this server by its number."""
    row = await fetch_one(
        db, f"SELECT {_ITEM} {_FROM} WHERE i.guild_id = :g AND i.number = :n", {"g": guild_id, "n": number}
    )
    return None if row is None else row_as(ItemRow, row)


async def list_items(
    db: Database,
    guild_id: int,
    *,
    group_id: int | None = None,
    statuses: tuple[str, ...] = (),
    kind: str | None = None,
) -> list[ItemRow]:
    """Items of this server by number, filtered by group, statuses and kind."""
    clauses = ["i.guild_id = :g"]
    params: dict[str, object] = {"g": guild_id}
    if group_id is not None:
        clauses.append("i.group_id = :group")
        params["group"] = group_id
    if statuses:
        names = [f":s{n}" for n in range(len(statuses))]
        clauses.append(f"i.status IN ({', '.join(names)})")
        params.update({f"s{n}": s for n, s in enumerate(statuses)})
    if kind is not None:
        clauses.append("i.kind = :kind")
        params["kind"] = kind
    rows = await db.fetchall(
        f"SELECT {_ITEM} {_FROM} WHERE {' AND '.join(clauses)} ORDER BY i.number", params
    )  # noqa: S608
    return [row_as(ItemRow, r) for r in rows]


async def search_items(db: Database, guild_id: int, text: str, limit: int = 25) -> list[ItemRow]:
    """Items whose number or text matches what was typed, newest first."""
    rows = await db.fetchall(
        f"SELECT {_ITEM} {_FROM} WHERE i.guild_id = :g AND (CAST(i.number AS TEXT) LIKE :num || '%' "  # noqa: S608
        "OR r.text LIKE :p ESCAPE '\\') ORDER BY i.status != 'open', i.number DESC LIMIT :limit",
        {"g": guild_id, **search_params(text), "limit": limit},
    )
    return [row_as(ItemRow, r) for r in rows]


async def set_message(conn: Connection, item_id: int, channel_id: int, message_id: int) -> None:
    """Remember where the item's message is."""
    await conn.execute(
        "UPDATE items SET channel_id = :c, message_id = :m WHERE item_id = :id",
        {"id": item_id, "c": channel_id, "m": message_id},
    )


async def add_revision(conn: Connection, item_id: int, text: str, author_id: int, now: int) -> int:
    """A new revision becomes current; returns its number."""
    await conn.execute("UPDATE items SET revision = revision + 1 WHERE item_id = :id", {"id": item_id})
    await conn.execute(
        "INSERT INTO item_revisions (item_id, revision, text, author_id, created_at) "
        "SELECT item_id, revision, :t, :a, :now FROM items WHERE item_id = :id",
        {"id": item_id, "t": text, "a": author_id, "now": now},
    )
    row = await (
        await conn.execute("SELECT revision FROM items WHERE item_id = :id", {"id": item_id})
    ).fetchone()
    assert row is not None
    return int(row[0])


async def set_status(
    conn: Connection,
    item_id: int,
    status: str,
    *,
    by: int | None,
    at: int | None,
    note: str | None = None,
    answer: str | None = None,
) -> None:
    """Set the outcome (or back to open with by/at None)."""
    await conn.execute(
        "UPDATE items SET status = :s, decided_by = :by, decided_at = :at, outcome_note = :note, answer = :answer "
        "WHERE item_id = :id",
        {"id": item_id, "s": status, "by": by, "at": at, "note": note, "answer": answer},
    )


UPSERT_POSITION = (
    "INSERT INTO positions (item_id, revision, user_id, stance, reason, updated_at) "
    "VALUES (:i, :r, :u, :s, :reason, :now) ON CONFLICT (item_id, revision, user_id) DO UPDATE SET "
    "stance = excluded.stance, reason = excluded.reason, updated_at = excluded.updated_at"
)
_REGISTER_OBJECTION = (
    "INSERT INTO objections (item_id, revision, user_id, stance, reason, created_at) "
    "VALUES (:i, :r, :u, :s, :reason, :now) ON CONFLICT (item_id, revision, user_id) DO UPDATE SET "
    "stance = excluded.stance, reason = excluded.reason, created_at = excluded.created_at, state = 'open', "
    "note = NULL, resolved_by = NULL, resolved_at = NULL, record_index = NULL"
)
_WITHDRAW_OBJECTION = (
    "UPDATE objections SET state = 'withdrawn', resolved_by = user_id, resolved_at = :now, record_index = NULL "
    "WHERE item_id = :i AND revision = :r AND user_id = :u AND state = 'open'"
)


def record_position(
    conn: SyncConnection,
    *,
    guild_id: int,
    item_id: int,
    user_id: int,
    stance: str,
    reason: str | None,
    now: int,
    name: str | None,
    check: Callable[[ItemRow | None], ItemRow],
) -> tuple[ItemRow, Standing | None]:
    """In one transaction on the writer's thread (see Database.run): the item, checked by ``check``; the
    member's name (unless None); their position on the current revision, replacing theirs; and the
    objection register: an objection or block enters it (or reopens with its new reason), agreeing or
    standing aside withdraws theirs. On a point counted per organisation the register is the
    organisations': the member's position becomes their organisation's if they are its voice (see
    storage.counting.record_org_position), and the Standing says where it stands (None: counted per person)."""
    row = conn.execute(f"SELECT {_ITEM} {_FROM} WHERE i.guild_id = :g AND i.item_id = :id",  # noqa: S608
                       {"g": guild_id, "id": item_id}).fetchone()  # fmt: skip
    item = check(None if row is None else row_as(ItemRow, row))
    if name is not None:
        conn.execute(
            UPSERT_MEMBER, {"g": guild_id, "u": user_id, "n": name[:100] or str(user_id), "now": now}
        )
    params = {"i": item.item_id, "r": item.revision, "u": user_id, "s": stance, "reason": reason, "now": now}
    conn.execute(UPSERT_POSITION, params)
    if item.counting == "organisations":
        standing = counting_rows.record_org_position(
            conn, guild_id=guild_id, item_id=item.item_id, revision=item.revision, group_id=item.group_id,
            user_id=user_id, stance=stance, reason=reason, now=now,
        )  # fmt: skip
        return item, standing
    conn.execute(_REGISTER_OBJECTION if reason is not None else _WITHDRAW_OBJECTION, params)
    return item, None


async def resolve_objection(
    conn: Connection,
    item_id: int,
    revision: int,
    user_id: int,
    state: str,
    note: str | None,
    by: int,
    now: int,
) -> bool:
    """Mark an objection addressed or in the rough; False when there is no such objection."""
    cursor = await conn.execute(
        "UPDATE objections SET state = :state, note = :note, resolved_by = :by, resolved_at = :now, "
        "record_index = NULL WHERE item_id = :i AND revision = :r AND user_id = :u AND state != 'withdrawn'",
        {"i": item_id, "r": revision, "u": user_id, "state": state, "note": note, "by": by, "now": now},
    )
    return cursor.rowcount == 1


async def objection_stance(conn: Connection, item_id: int, revision: int, user_id: int) -> str:
    """The stance (object or block) of a member's objection."""
    row = await fetch_one(
        conn, "SELECT stance FROM objections WHERE item_id = :i AND revision = :r AND user_id = :u",
        {"i": item_id, "r": revision, "u": user_id},
    )  # fmt: skip
    assert row is not None
    return str(row["stance"])


async def set_objection_record(
    conn: Connection, item_id: int, revision: int, user_id: int, index: int
) -> None:
    """Which record entry holds the ruling on a member's objection."""
    await conn.execute(
        "UPDATE objections SET record_index = :x WHERE item_id = :i AND revision = :r AND user_id = :u",
        {"i": item_id, "r": revision, "u": user_id, "x": index},
    )


async def set_item_record(conn: Connection, item_id: int, index: int | None) -> None:
    """Which record entry holds the item's outcome (None: it is open again)."""
    await conn.execute("UPDATE items SET record_index = :x WHERE item_id = :i", {"i": item_id, "x": index})


async def tally(db: Source, item_id: int, revision: int) -> Tally:
    """Positions on a revision by stance, and its open objections."""
    sql = (
        "SELECT "
        "(SELECT count(*) FROM positions WHERE item_id = :i AND revision = :r AND stance = 'agree') AS agree, "
        "(SELECT count(*) FROM positions WHERE item_id = :i AND revision = :r AND stance = 'stand_aside') "
        "AS stand_aside, "
        "(SELECT count(*) FROM positions WHERE item_id = :i AND revision = :r AND stance = 'object') AS object, "
        "(SELECT count(*) FROM positions WHERE item_id = :i AND revision = :r AND stance = 'block') AS block, "
        "(SELECT count(*) FROM objections WHERE item_id = :i AND revision = :r AND state = 'open') "
        "AS open_objections"
    )
    row = await fetch_one(db, sql, {"i": item_id, "r": revision})
    assert row is not None
    return row_as(Tally, row)


async def positions(
    db: Database, guild_id: int, item_id: int, revision: int | None = None
) -> list[PositionRow]:
    """Positions on an item (one revision, or all), with the names the bot recorded."""
    rows = await db.fetchall(
        "SELECT p.user_id, coalesce(m.display_name, CAST(p.user_id AS TEXT)) AS display_name, p.revision, p.stance, p.reason, "
        "p.updated_at FROM positions p LEFT JOIN members m ON m.guild_id = :g AND m.user_id = p.user_id "
        "WHERE p.item_id = :i AND (:r IS NULL OR p.revision = :r) "
        "ORDER BY p.revision, CASE p.stance WHEN 'block' THEN 0 WHEN 'object' THEN 1 WHEN 'stand_aside' THEN 2 "
        "ELSE 3 END, p.updated_at, p.user_id",
        {"g": guild_id, "i": item_id, "r": revision},
    )
    return rows_as(PositionRow, rows)


async def objections(db: Database, guild_id: int, item_id: int) -> list[ObjectionRow]:
    """The item's objection register, every revision, oldest first."""
    rows = await db.fetchall(
        "SELECT o.objection_id, o.user_id, coalesce(m.display_name, CAST(o.user_id AS TEXT)) AS display_name, o.revision, o.stance, "
        "o.reason, o.created_at, o.state, o.note, o.resolved_by, o.resolved_at FROM objections o "
        "LEFT JOIN members m ON m.guild_id = :g AND m.user_id = o.user_id WHERE o.item_id = :i "
        "ORDER BY o.revision, o.created_at, o.objection_id",
        {"g": guild_id, "i": item_id},
    )
    return rows_as(ObjectionRow, rows)


async def revisions(db: Database, item_id: int) -> list[RevisionRow]:
    """Every revision of an item, first to last."""
    rows = await db.fetchall(
        "SELECT revision, text, author_id, created_at FROM item_revisions WHERE item_id = :i ORDER BY revision",
        {"i": item_id},
    )
    return rows_as(RevisionRow, rows)


async def non_responders(
    db: Database, guild_id: int, group_id: int, item_id: int, revision: int
) -> list[tuple[int, str]]:
    """Current members of the group with no position on this revision, as (user id, recorded name)."""
    rows = await db.fetchall(
        "SELECT gm.user_id, coalesce(m.display_name, CAST(gm.user_id AS TEXT)) FROM group_members gm "
        "LEFT JOIN members m ON m.guild_id = :g AND m.user_id = gm.user_id "
        "WHERE gm.group_id = :group AND m.left_at IS NULL AND NOT EXISTS (SELECT 1 FROM positions p "
        "WHERE p.item_id = :i AND p.revision = :r AND p.user_id = gm.user_id) "
        "ORDER BY lower(m.display_name) NULLS FIRST, gm.user_id",  # NULLS FIRST: SQLite's order, on both engines
        {"g": guild_id, "group": group_id, "i": item_id, "r": revision},
    )
    return [(int(r[0]), str(r[1])) for r in rows]


async def group_member_count(db: Database, guild_id: int, group_id: int) -> int:
    """Current members of a group."""
    return int(
        await db.fetchval(
            "SELECT count(*) FROM group_members gm LEFT JOIN members m ON m.guild_id = :g AND m.user_id = gm.user_id "
            "WHERE gm.group_id = :group AND m.left_at IS NULL",
            {"g": guild_id, "group": group_id},
        )
        or 0
    )
