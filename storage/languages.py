"""Queries for languages: a member's own choice of language, and a working group's."""

from __future__ import annotations

from storage.db import Connection, Source, fetch_all


async def member_choices(db: Source, guild_id: int) -> dict[int, str]:
    """Every member's own language choice in a server, by record id."""
    rows = await fetch_all(
        db, "SELECT user_id, language FROM member_languages WHERE guild_id = :g", {"g": guild_id}
    )
    return {int(r["user_id"]): str(r["language"]) for r in rows}


async def set_member_choice(
    conn: Connection, guild_id: int, user_id: int, language: str | None, now: int
) -> None:
    """Record a member's language (None: back to their Discord language)."""
    if language is None:
        await conn.execute(
            "DELETE FROM member_languages WHERE guild_id = :g AND user_id = :u", {"g": guild_id, "u": user_id}
        )
        return
    await conn.execute(
        "INSERT INTO member_languages (guild_id, user_id, language, set_at) VALUES (:g, :u, :l, :now) "
        "ON CONFLICT (guild_id, user_id) DO UPDATE SET language = excluded.language, set_at = excluded.set_at",
        {"g": guild_id, "u": user_id, "l": language, "now": now},
    )


async def set_group_language(conn: Connection, group_id: int, language: str | None) -> None:
    """A working group's language for its public posts (None: the server's)."""
    await conn.execute(
        "UPDATE groups SET language = :l WHERE group_id = :id", {"id": group_id, "l": language}
    )
