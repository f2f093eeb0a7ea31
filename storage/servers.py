"""Queries for the servers the bot is in and the members it has seen."""

from __future__ import annotations

from collections.abc import Iterable

from storage.db import Connection, Database


async def upsert_guild(conn: Connection, guild_id: int, name: str, now: int) -> None:
    """Record a server the bot is in (or is back in): removed_at is cleared."""
    await conn.execute(
        "INSERT INTO guilds (guild_id, name, joined_at) VALUES (:guild_id, :name, :now) "
        "ON CONFLICT (guild_id) DO UPDATE SET name = excluded.name, removed_at = NULL",
        {"guild_id": guild_id, "name": name[:100] or str(guild_id), "now": now},
    )


async def ensure_guild(conn: Connection, guild_id: int, now: int) -> None:
    """Make sure a server has a row (named by its id until GUILD_CREATE tells its name)."""
    await conn.execute(
        "INSERT INTO guilds (guild_id, name, joined_at) VALUES (:g, :name, :now) ON CONFLICT (guild_id) DO NOTHING",
        {"g": guild_id, "name": str(guild_id), "now": now},
    )


async def mark_guild_removed(conn: Connection, guild_id: int, now: int) -> None:
    """Note the time the bot was removed from a server (its data is purged later, not now)."""
    await conn.execute(
        "UPDATE guilds SET removed_at = :now WHERE guild_id = :guild_id AND removed_at IS NULL",
        {"guild_id": guild_id, "now": now},
    )


# The name an anonymised member's pseudonym (a negative id) is recorded under. No statement writes
# another name for a pseudonym: UPSERT_MEMBER (which every name passes through), mark_member_left and the
# anonymisation itself write this one for any negative id, whatever name the caller gives.
ANONYMISED_NAME = "Former member"

UPSERT_MEMBER = (
    "INSERT INTO members (guild_id, user_id, display_name, seen_at) "
    "VALUES (:g, :u, CASE WHEN :u < 0 THEN 'Former member' ELSE :n END, :now) "  # ANONYMISED_NAME
    "ON CONFLICT (guild_id, user_id) DO UPDATE SET display_name = excluded.display_name, "
    "seen_at = excluded.seen_at, left_at = NULL"
)


async def upsert_members(
    conn: Connection, guild_id: int, members: Iterable[tuple[int, str]], now: int
) -> None:
    """Record members as present with their current display names."""
    await conn.executemany(
        UPSERT_MEMBER,
        [
            {"g": guild_id, "u": user_id, "n": (name or str(user_id))[:100], "now": now}
            for user_id, name in members
        ],
    )


async def mark_member_left(conn: Connection, guild_id: int, user_id: int, now: int) -> None:
    """Note that a member left the server (also one the bot had not recorded yet); their past record stays."""
    await conn.execute(
        "INSERT INTO members (guild_id, user_id, display_name, seen_at, left_at) "
        "VALUES (:g, :u, CASE WHEN :u < 0 THEN 'Former member' ELSE CAST(:u AS TEXT) END, :now, :now) "
        "ON CONFLICT (guild_id, user_id) DO UPDATE SET left_at = :now WHERE members.left_at IS NULL",
        {"g": guild_id, "u": user_id, "now": now},
    )


async def count_rows(db: Database, guild_id: int, tables: Iterable[str]) -> dict[str, int]:
    """How many rows each named per-server table holds for this server (tables that do not exist count 0)."""
    existing = await db.table_names()
    counts: dict[str, int] = {}
    for table in tables:
        if table not in existing:
            counts[table] = 0
            continue
        # table names come from the caller's fixed list, checked against the schema's tables above
        sql = f"SELECT count(*) FROM {table} WHERE guild_id = :g"  # noqa: S608
        counts[table] = int(await db.fetchval(sql, {"g": guild_id}) or 0)
    return counts
