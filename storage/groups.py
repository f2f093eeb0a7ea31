"""Queries for working groups and their members."""

from __future__ import annotations

from dataclasses import dataclass

from domain.text import strip_controls
from storage.db import Connection, Database, Row, Source, fetch_one, inserted_id, row_as, rows_as

_GROUP_COLUMNS = (
    "group_id, guild_id, name, description, home_channel_id, due_at, role_id, created_by, created_at, "
    "archived_at, archived_by, language"
)

# A member counts as current unless the bot saw them leave the server.
_CURRENT = "NOT EXISTS (SELECT 1 FROM members m WHERE m.guild_id = g.guild_id AND m.user_id = gm.user_id AND m.left_at IS NOT NULL)"


@dataclass(frozen=True)
class GroupRow:
    group_id: int
    guild_id: int
    name: str
    description: str
    home_channel_id: int | None
    due_at: int | None
    role_id: int | None
    created_by: int
    created_at: int
    archived_at: int | None
    archived_by: int | None
    language: str | None = None  # the language of its public posts (None: the server's)


@dataclass(frozen=True)
class MemberRow:
    user_id: int
    display_name: str
    is_convener: bool
    joined_at: int


@dataclass(frozen=True)
class GroupListRow:
    group: GroupRow
    member_count: int
    convener_ids: tuple[int, ...]


def _group(row: Row) -> GroupRow:
    return row_as(GroupRow, row)


def name_key(name: str) -> str:
    """The form of a group name that uniqueness is checked on: case- and space-insensitive, and without the
    control characters no stored name holds (a typed NUL finds the name without it, on both engines)."""
    return " ".join(strip_controls(name).split()).casefold()


async def insert_group(
    conn: Connection,
    *,
    guild_id: int,
    name: str,
    description: str,
    home_channel_id: int | None,
    due_at: int | None,
    created_by: int,
    now: int,
) -> int | None:
    """Insert a group; None when the name is taken in this server (in any letter case)."""
    cursor = await conn.execute(
        "INSERT INTO groups (guild_id, name, name_key, description, home_channel_id, due_at, created_by, created_at) "
        "VALUES (:guild_id, :name, :key, :description, :home, :due, :by, :now) "
        "ON CONFLICT (guild_id, name_key) DO NOTHING RETURNING group_id",
        {
            "guild_id": guild_id,
            "name": name,
            "key": name_key(name),
            "description": description,
            "home": home_channel_id,
            "due": due_at,
            "by": created_by,
            "now": now,
        },
    )
    return await inserted_id(cursor)


async def get_group(db: Source, guild_id: int, group_id: int) -> GroupRow | None:
    """A group of this server by id (None for unknown ids and other servers' groups)."""
    sql = f"SELECT {_GROUP_COLUMNS} FROM groups WHERE guild_id = :g AND group_id = :id"  # noqa: S608
    params = {"g": guild_id, "id": group_id}
    row = await fetch_one(db, sql, params)
    return None if row is None else _group(row)


async def find_group_by_name(db: Database, guild_id: int, name: str) -> GroupRow | None:
    """A group of this server by name, in any letter case."""
    row = await db.fetchone(
        f"SELECT {_GROUP_COLUMNS} FROM groups WHERE guild_id = :g AND name_key = :key",  # noqa: S608
        {"g": guild_id, "key": name_key(name)},
    )
    return None if row is None else _group(row)


async def list_groups(db: Database, guild_id: int, *, include_archived: bool) -> list[GroupListRow]:
    """The server's groups by name, with their current member counts and conveners."""
    # the conveners' ids joined by commas, by id (SQLite's group_concat follows the key, user_id)
    joined = (
        "string_agg(CAST(gm.user_id AS TEXT), ',' ORDER BY gm.user_id)"
        if db.engine == "postgresql"
        else "group_concat(gm.user_id)"
    )
    rows = await db.fetchall(
        f"SELECT {', '.join('g.' + c.strip() for c in _GROUP_COLUMNS.split(','))}, "  # noqa: S608
        f"(SELECT count(*) FROM group_members gm WHERE gm.group_id = g.group_id AND {_CURRENT}) AS member_count, "
        f"(SELECT {joined} FROM group_members gm "
        f" WHERE gm.group_id = g.group_id AND gm.is_convener = 1 AND {_CURRENT}) AS conveners "
        "FROM groups g WHERE g.guild_id = :g AND (:all = 1 OR g.archived_at IS NULL) ORDER BY g.archived_at IS NOT NULL, g.name_key",
        {"g": guild_id, "all": int(include_archived)},
    )
    return [
        GroupListRow(
            group=_group(r),
            member_count=int(r["member_count"]),
            convener_ids=tuple(int(x) for x in (r["conveners"] or "").split(",") if x),
        )
        for r in rows
    ]


async def search_groups(
    db: Database, guild_id: int, text: str, *, include_archived: bool, limit: int = 25
) -> list[GroupRow]:
    """Groups of this server whose name contains ``text`` (any case), names starting with it first."""
    key = name_key(text)
    pattern = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = await db.fetchall(
        f"SELECT {_GROUP_COLUMNS} FROM groups WHERE guild_id = :g AND name_key LIKE :p ESCAPE '\\' "  # noqa: S608
        "AND (:all = 1 OR archived_at IS NULL) ORDER BY substr(name_key, 1, length(:key)) != :key, name_key "
        "LIMIT :limit",
        {"g": guild_id, "p": pattern, "key": key, "all": int(include_archived), "limit": limit},
    )
    return [_group(r) for r in rows]


async def members_of(db: Database, group_id: int, *, include_departed: bool = False) -> list[MemberRow]:
    """A group's members (conveners first), with the names the bot recorded."""
    rows = await db.fetchall(
        "SELECT gm.user_id, coalesce(m.display_name, CAST(gm.user_id AS TEXT)) AS display_name, gm.is_convener, "
        "gm.joined_at FROM group_members gm JOIN groups g ON g.group_id = gm.group_id "
        "LEFT JOIN members m ON m.guild_id = g.guild_id AND m.user_id = gm.user_id "
        "WHERE gm.group_id = :id AND (:all = 1 OR m.left_at IS NULL) "
        "ORDER BY gm.is_convener DESC, lower(m.display_name) NULLS FIRST, gm.user_id",  # SQLite's NULL order
        {"id": group_id, "all": int(include_departed)},
    )
    return rows_as(MemberRow, rows)


async def membership(conn: Connection, group_id: int, user_id: int) -> bool | None:
    """None if not a member, else whether the member is a convener (inside a transaction)."""
    row = await (
        await conn.execute(
            "SELECT is_convener FROM group_members WHERE group_id = :g AND user_id = :u",
            {"g": group_id, "u": user_id},
        )
    ).fetchone()
    return None if row is None else bool(row[0])


async def is_convener(db: Database, group_id: int, user_id: int) -> bool:
    """Whether the user convenes the group."""
    return bool(
        await db.fetchval(
            "SELECT is_convener FROM group_members WHERE group_id = :g AND user_id = :u",
            {"g": group_id, "u": user_id},
        )
    )


async def add_member(
    conn: Connection, group_id: int, user_id: int, *, convener: bool, added_by: int, now: int
) -> bool:
    """Add a member; False when already in the group (nothing changes)."""
    cursor = await conn.execute(
        "INSERT INTO group_members (group_id, user_id, is_convener, joined_at, added_by) "
        "VALUES (:g, :u, :c, :now, :by) ON CONFLICT (group_id, user_id) DO NOTHING",
        {"g": group_id, "u": user_id, "c": int(convener), "now": now, "by": added_by},
    )
    return cursor.rowcount == 1


async def remove_member(conn: Connection, group_id: int, user_id: int) -> bool:
    """Remove a member; False when they were not in the group."""
    cursor = await conn.execute(
        "DELETE FROM group_members WHERE group_id = :g AND user_id = :u", {"g": group_id, "u": user_id}
    )
    return cursor.rowcount == 1


async def set_convener(conn: Connection, group_id: int, user_id: int, convener: bool) -> None:
    """Make an existing member a convener or not."""
    await conn.execute(
        "UPDATE group_members SET is_convener = :c WHERE group_id = :g AND user_id = :u",
        {"g": group_id, "u": user_id, "c": int(convener)},
    )


async def archive_group(conn: Connection, group_id: int, by: int, now: int) -> bool:
    """Archive a group; False when it already was."""
    cursor = await conn.execute(
        "UPDATE groups SET archived_at = :now, archived_by = :by WHERE group_id = :g AND archived_at IS NULL",
        {"g": group_id, "by": by, "now": now},
    )
    return cursor.rowcount == 1


async def set_role(conn: Connection, group_id: int, role_id: int | None) -> None:
    """Record the Discord role kept in step with the group (None: no role)."""
    await conn.execute("UPDATE groups SET role_id = :r WHERE group_id = :g", {"g": group_id, "r": role_id})


async def add_card(conn: Connection, group_id: int, channel_id: int, message_id: int) -> None:
    """Remember a message showing the group's card."""
    await conn.execute(
        "INSERT INTO group_cards (group_id, channel_id, message_id) VALUES (:g, :c, :m) ON CONFLICT DO NOTHING",
        {"g": group_id, "c": channel_id, "m": message_id},
    )


async def cards_of(db: Database, group_id: int, limit: int = 20) -> list[tuple[int, int]]:
    """(channel id, message id) of the group's most recent cards."""
    rows = await db.fetchall(
        "SELECT channel_id, message_id FROM group_cards WHERE group_id = :g ORDER BY message_id DESC LIMIT :limit",
        {"g": group_id, "limit": limit},
    )
    return [(int(r[0]), int(r[1])) for r in rows]


async def forget_card(conn: Connection, message_id: int) -> None:
    """A card message that is gone."""
    await conn.execute("DELETE FROM group_cards WHERE message_id = :m", {"m": message_id})


async def role_ids(db: Database, guild_id: int) -> list[int]:
    """The Discord roles the bot keeps for this server's working groups."""
    rows = await db.fetchall(
        "SELECT role_id FROM groups WHERE guild_id = :g AND role_id IS NOT NULL", {"g": guild_id}
    )
    return [int(r[0]) for r in rows]
