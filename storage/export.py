"""Read-only queries that gather a server's record for the summary export, in a deterministic order."""

from __future__ import annotations

from storage.db import Database


async def guild_name(db: Database, guild_id: int) -> str | None:
    """The server's name as the bot last saw it."""
    value = await db.fetchval("SELECT name FROM guilds WHERE guild_id = :g", {"g": guild_id})
    return None if value is None else str(value)


async def names(db: Database, guild_id: int) -> dict[int, str]:
    """Display names the bot recorded for this server's members."""
    rows = await db.fetchall("SELECT user_id, display_name FROM members WHERE guild_id = :g", {"g": guild_id})
    return {int(r[0]): str(r[1]) for r in rows}


async def groups(db: Database, guild_id: int) -> list[tuple[int, str, str, int | None]]:
    """(group id, name, description, archived_at) by name."""
    rows = await db.fetchall(
        "SELECT group_id, name, description, archived_at FROM groups WHERE guild_id = :g ORDER BY name_key, group_id",
        {"g": guild_id},
    )
    return [(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]


async def items(db: Database, guild_id: int) -> list[dict[str, object]]:
    """Every item with its current text, by number."""
    rows = await db.fetchall(
        "SELECT i.item_id, i.number, i.kind, i.group_id, i.author_id, i.created_at, i.revision, i.status, "
        "i.outcome_note, i.answer, i.decided_by, i.decided_at, i.deadline_at, r.text FROM items i "
        "JOIN item_revisions r ON r.item_id = i.item_id AND r.revision = i.revision "
        "WHERE i.guild_id = :g ORDER BY i.number",
        {"g": guild_id},
    )
    keys = ("item_id", "number", "kind", "group_id", "author_id", "created_at", "revision", "status",
            "outcome_note", "answer", "decided_by", "decided_at", "deadline_at", "text")  # fmt: skip
    return [dict(zip(keys, tuple(r), strict=True)) for r in rows]


async def positions(db: Database, guild_id: int) -> list[tuple[int, int, int, str, str | None, int]]:
    """(item id, revision, user id, stance, reason, updated_at) for the current revision of every item."""
    rows = await db.fetchall(
        "SELECT p.item_id, p.revision, p.user_id, p.stance, p.reason, p.updated_at FROM positions p "
        "JOIN items i ON i.item_id = p.item_id AND i.revision = p.revision WHERE i.guild_id = :g "
        "ORDER BY i.number, CASE p.stance WHEN 'block' THEN 0 WHEN 'object' THEN 1 WHEN 'stand_aside' THEN 2 "
        "ELSE 3 END, p.user_id",
        {"g": guild_id},
    )
    return [(int(r[0]), int(r[1]), int(r[2]), str(r[3]), r[4], int(r[5])) for r in rows]


async def objections(db: Database, guild_id: int) -> list[dict[str, object]]:
    """The objection register of every item, every revision, in order."""
    rows = await db.fetchall(
        "SELECT o.item_id, o.revision, o.user_id, o.stance, o.reason, o.state, o.note, o.resolved_by, "
        "o.created_at FROM objections o JOIN items i ON i.item_id = o.item_id WHERE i.guild_id = :g "
        "ORDER BY i.number, o.revision, o.created_at, o.objection_id",
        {"g": guild_id},
    )
    keys = (
        "item_id",
        "revision",
        "user_id",
        "stance",
        "reason",
        "state",
        "note",
        "resolved_by",
        "created_at",
    )
    return [dict(zip(keys, tuple(r), strict=True)) for r in rows]


async def polls(db: Database, guild_id: int) -> list[dict[str, object]]:
    """Every poll with its options and counts, by number."""
    rows = await db.fetchall(
        "SELECT poll_id, number, question, group_id, anonymous, hide_results, choices, closes_at, closed_at, "
        "ballots, author_id FROM polls WHERE guild_id = :g ORDER BY number",
        {"g": guild_id},
    )
    keys = ("poll_id", "number", "question", "group_id", "anonymous", "hide_results", "choices", "closes_at",
            "closed_at", "ballots", "author_id")  # fmt: skip
    result = []
    for row in rows:
        poll = dict(zip(keys, tuple(row), strict=True))
        options = await db.fetchall(
            "SELECT o.position, o.label, coalesce(c.votes, 0) FROM poll_options o LEFT JOIN poll_counts c "
            "ON c.poll_id = o.poll_id AND c.position = o.position WHERE o.poll_id = :p ORDER BY o.position",
            {"p": poll["poll_id"]},
        )
        poll["options"] = [(int(o[0]), str(o[1]), int(o[2])) for o in options]
        voters: list[tuple[int, int]] = []
        if not poll["anonymous"]:
            voters = [(int(v[0]), int(v[1])) for v in await db.fetchall(
                "SELECT user_id, picks FROM poll_votes WHERE poll_id = :p ORDER BY user_id", {"p": poll["poll_id"]}
            )]  # fmt: skip
        poll["voters"] = voters
        result.append(poll)
    return result


async def sessions(db: Database, guild_id: int) -> list[dict[str, object]]:
    """Every session with its first and last occurrence, by number."""
    rows = await db.fetchall(
        "SELECT s.session_id, s.number, s.title, s.group_id, s.zone, s.start_local, s.duration_min, s.moderators, "
        "s.note_taker, s.location, s.notes, s.recur_days, s.recur_until, "
        "(SELECT min(starts_at) FROM occurrences o WHERE o.session_id = s.session_id), "
        "(SELECT count(*) FROM occurrences o WHERE o.session_id = s.session_id) "
        "FROM sessions s WHERE s.guild_id = :g ORDER BY 14, s.number",
        {"g": guild_id},
    )
    keys = ("session_id", "number", "title", "group_id", "zone", "start_local", "duration_min", "moderators",
            "note_taker", "location", "notes", "recur_days", "recur_until", "starts_at", "occurrences")  # fmt: skip
    return [dict(zip(keys, tuple(r), strict=True)) for r in rows]
