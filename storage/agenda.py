"""Queries for agenda sessions, their occurrences, "Remind me" subscribers and pending imports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storage.db import Connection, Database, Source, fetch_all, new_id, row_as, rows_as, search_params

_SESSION = (
    "s.session_id, s.guild_id, s.number, s.uid, s.title, s.start_local, s.zone, s.duration_min, s.group_id, "
    "s.channel_id, s.moderators, s.note_taker, s.location, s.notes, s.recur_days, s.recur_until, s.offsets, "
    "s.event_id, s.created_by, s.created_at"
)

REMINDER_KINDS = ("session_reminder", "session_start")


@dataclass(frozen=True)
class SessionRow:
    session_id: int
    guild_id: int
    number: int
    uid: str
    title: str
    start_local: str
    zone: str
    duration_min: int
    group_id: int | None
    channel_id: int | None
    moderators: str
    note_taker: str
    location: str
    notes: str
    recur_days: int | None
    recur_until: str | None
    offsets: str
    event_id: int | None
    created_by: int
    created_at: int


@dataclass(frozen=True)
class OccurrenceRow:
    occurrence_id: int
    session_id: int
    starts_at: int
    ends_at: int


async def insert_session(conn: Connection, values: dict[str, object]) -> int:
    """Insert a session numbered next in its server; returns its id."""
    cursor = await conn.execute(
        "INSERT INTO sessions (guild_id, number, uid, title, start_local, zone, duration_min, group_id, channel_id, "
        "moderators, note_taker, location, notes, recur_days, recur_until, offsets, created_by, created_at) VALUES "
        "(:guild_id, (SELECT coalesce(max(number), 0) + 1 FROM sessions WHERE guild_id = :guild_id), :uid, :title, "
        ":start_local, :zone, :duration_min, :group_id, :channel_id, :moderators, :note_taker, :location, :notes, "
        ":recur_days, :recur_until, :offsets, :created_by, :created_at) RETURNING session_id",
        values,
    )
    return await new_id(cursor)


_EDITABLE = (
    "title", "start_local", "zone", "duration_min", "group_id", "channel_id", "moderators", "note_taker",
    "location", "notes", "recur_days", "recur_until", "offsets",
)  # fmt: skip


async def update_session(conn: Connection, session_id: int, values: dict[str, object]) -> None:
    """Change a session's fields (only the editable ones)."""
    fields = [k for k in values if k in _EDITABLE]
    if not fields:
        return
    assignments = ", ".join(f"{k} = :{k}" for k in fields)
    await conn.execute(
        f"UPDATE sessions SET {assignments} WHERE session_id = :session_id",  # noqa: S608 (fixed column names)
        {**{k: values[k] for k in fields}, "session_id": session_id},
    )


async def set_event(conn: Connection, session_id: int, event_id: int | None) -> None:
    """Remember the Discord scheduled event mirroring the session."""
    await conn.execute(
        "UPDATE sessions SET event_id = :e WHERE session_id = :s", {"s": session_id, "e": event_id}
    )


async def delete_session(conn: Connection, session_id: int) -> None:
    """Delete a session with its occurrences and subscribers."""
    await conn.execute("DELETE FROM sessions WHERE session_id = :s", {"s": session_id})


async def get_session(db: Source, guild_id: int, session_id: int) -> SessionRow | None:
    """A session of this server by id."""
    rows = await fetch_all(db, f"SELECT {_SESSION} FROM sessions s WHERE s.guild_id = :g AND s.session_id = :id",  # noqa: S608
                       {"g": guild_id, "id": session_id})  # fmt: skip
    return row_as(SessionRow, rows[0]) if rows else None


async def get_session_by_number(db: Database, guild_id: int, number: int) -> SessionRow | None:
    """A session of this server by its number."""
    rows = await fetch_all(db, f"SELECT {_SESSION} FROM sessions s WHERE s.guild_id = :g AND s.number = :n",  # noqa: S608
                       {"g": guild_id, "n": number})  # fmt: skip
    return row_as(SessionRow, rows[0]) if rows else None


async def replace_occurrences(
    conn: Connection, session_id: int, spans: Iterable[tuple[int, int]], now: int
) -> list[OccurrenceRow]:
    """Cancel the pending reminders of the session's occurrences and replace the occurrences."""
    await conn.execute(
        "UPDATE scheduled_posts SET state = 'cancelled', done_at = :now WHERE state = 'pending' "
        "AND kind IN ('session_reminder', 'session_start') "
        "AND ref_id IN (SELECT occurrence_id FROM occurrences WHERE session_id = :s)",
        {"s": session_id, "now": now},
    )
    await conn.execute("DELETE FROM occurrences WHERE session_id = :s", {"s": session_id})
    await conn.executemany(
        "INSERT INTO occurrences (session_id, starts_at, ends_at) VALUES (:s, :a, :b)",
        [{"s": session_id, "a": a, "b": b} for a, b in spans],
    )
    rows = await fetch_all(
        conn, "SELECT occurrence_id, session_id, starts_at, ends_at FROM occurrences WHERE session_id = :s "
        "ORDER BY starts_at", {"s": session_id},
    )  # fmt: skip
    return rows_as(OccurrenceRow, rows)


async def occurrence(db: Database, occurrence_id: int) -> tuple[SessionRow, OccurrenceRow] | None:
    """An occurrence with its session."""
    rows = await db.fetchall(
        f"SELECT {_SESSION}, o.occurrence_id, o.session_id, o.starts_at, o.ends_at FROM occurrences o "  # noqa: S608
        "JOIN sessions s ON s.session_id = o.session_id WHERE o.occurrence_id = :o",
        {"o": occurrence_id},
    )
    if not rows:
        return None
    return row_as(SessionRow, rows[0]), row_as(OccurrenceRow, rows[0])


async def occurrences_between(
    db: Database, guild_id: int, start: int, end: int, *, group_id: int | None = None, limit: int = 200
) -> list[tuple[SessionRow, OccurrenceRow]]:
    """Occurrences of this server's sessions overlapping [start, end), by start time."""
    rows = await db.fetchall(
        f"SELECT {_SESSION}, o.occurrence_id, o.session_id, o.starts_at, o.ends_at FROM occurrences o "  # noqa: S608
        "JOIN sessions s ON s.session_id = o.session_id WHERE s.guild_id = :g AND o.ends_at > :start "
        "AND o.starts_at < :end AND (:group IS NULL OR s.group_id = :group) ORDER BY o.starts_at, s.number LIMIT :limit",
        {"g": guild_id, "start": start, "end": end, "group": group_id, "limit": limit},
    )
    return [(row_as(SessionRow, r), row_as(OccurrenceRow, r)) for r in rows]


async def sessions_of(db: Database, guild_id: int, *, group_id: int | None = None) -> list[SessionRow]:
    """Every session of this server (or one group), by number."""
    rows = await db.fetchall(
        f"SELECT {_SESSION} FROM sessions s WHERE s.guild_id = :g AND (:group IS NULL OR s.group_id = :group) "  # noqa: S608
        "ORDER BY s.number",
        {"g": guild_id, "group": group_id},
    )
    return [row_as(SessionRow, r) for r in rows]


async def occurrences_of(db: Database, session_id: int) -> list[OccurrenceRow]:
    """A session's occurrences by time."""
    rows = await db.fetchall(
        "SELECT occurrence_id, session_id, starts_at, ends_at FROM occurrences WHERE session_id = :s ORDER BY starts_at",
        {"s": session_id},
    )
    return rows_as(OccurrenceRow, rows)


async def search_sessions(db: Database, guild_id: int, text: str, limit: int = 25) -> list[SessionRow]:
    """Sessions whose number or title matches, newest first."""
    rows = await db.fetchall(
        f"SELECT {_SESSION} FROM sessions s WHERE s.guild_id = :g AND (CAST(s.number AS TEXT) LIKE :num || '%' "  # noqa: S608
        "OR s.title LIKE :p ESCAPE '\\') ORDER BY s.number DESC LIMIT :limit",
        {"g": guild_id, **search_params(text), "limit": limit},
    )
    return [row_as(SessionRow, r) for r in rows]


async def subscribe(conn: Connection, session_id: int, user_id: int) -> bool:
    """Add a "Remind me" subscriber; False when already subscribed."""
    cursor = await conn.execute(
        "INSERT INTO session_subscribers (session_id, user_id) VALUES (:s, :u) ON CONFLICT DO NOTHING",
        {"s": session_id, "u": user_id},
    )
    return cursor.rowcount == 1


async def unsubscribe(conn: Connection, session_id: int, user_id: int) -> bool:
    """Remove a subscriber; False when they were not subscribed."""
    cursor = await conn.execute(
        "DELETE FROM session_subscribers WHERE session_id = :s AND user_id = :u",
        {"s": session_id, "u": user_id},
    )
    return cursor.rowcount == 1


async def unsubscribe_from_group(conn: Connection, group_id: int, user_id: int) -> int:
    """Remove a member from the reminder lists of every session of a group; how many they were on."""
    cursor = await conn.execute(
        "DELETE FROM session_subscribers WHERE user_id = :u "
        "AND session_id IN (SELECT session_id FROM sessions WHERE group_id = :g)",
        {"g": group_id, "u": user_id},
    )
    return cursor.rowcount


async def unsubscribe_everywhere(conn: Connection, guild_id: int, user_id: int) -> int:
    """Remove a member from the reminder lists of every session of a server; how many they were on."""
    cursor = await conn.execute(
        "DELETE FROM session_subscribers WHERE user_id = :u "
        "AND session_id IN (SELECT session_id FROM sessions WHERE guild_id = :g)",
        {"g": guild_id, "u": user_id},
    )
    return cursor.rowcount


async def subscribers(db: Database, session_id: int) -> list[int]:
    """Who pressed "Remind me" for a session, leaving out members the bot saw leave the server."""
    rows = await db.fetchall(
        "SELECT x.user_id FROM session_subscribers x JOIN sessions s ON s.session_id = x.session_id "
        "WHERE x.session_id = :s AND NOT EXISTS (SELECT 1 FROM members m WHERE m.guild_id = s.guild_id "
        "AND m.user_id = x.user_id AND m.left_at IS NOT NULL) ORDER BY x.user_id",
        {"s": session_id},
    )
    return [int(r[0]) for r in rows]


async def insert_import(conn: Connection, guild_id: int, user_id: int, payload: str, now: int) -> int:
    """Keep a previewed import until it is confirmed."""
    cursor = await conn.execute(
        "INSERT INTO agenda_imports (guild_id, user_id, payload, created_at) VALUES (:g, :u, :p, :now) "
        "RETURNING import_id",
        {"g": guild_id, "u": user_id, "p": payload, "now": now},
    )
    return await new_id(cursor)


async def take_import(
    conn: Connection, guild_id: int, import_id: int, now: int
) -> tuple[int, str, int] | None:
    """Mark a pending import as done and return (user id, payload, created_at); None if unknown or done."""
    rows = await fetch_all(
        conn, "SELECT user_id, payload, created_at FROM agenda_imports WHERE import_id = :i AND guild_id = :g "
        "AND done_at IS NULL", {"i": import_id, "g": guild_id},
    )  # fmt: skip
    if not rows:
        return None
    await conn.execute(
        "UPDATE agenda_imports SET done_at = :now WHERE import_id = :i", {"i": import_id, "now": now}
    )
    return int(rows[0][0]), str(rows[0][1]), int(rows[0][2])
