"""Queries for scheduled posts: reminders and deadlines, claimed before sending so none goes out twice."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.shards import Shards
from storage.db import Connection, Database, Row, Source, fetch_all, on_shards, row_as, rows_as

_COLUMNS = "post_id, guild_id, kind, ref_id, due_at, state, attempts, late"


@dataclass(frozen=True)
class Post:
    post_id: int
    guild_id: int
    kind: str
    ref_id: int
    due_at: int
    state: str
    attempts: int
    late: bool


@dataclass(frozen=True)
class PartRow:
    """One part of a scheduled post, as decided at its first attempt."""

    seq: int
    target: int
    direct: bool
    part: int
    payload: str
    message_id: int | None


def _post(r: Row) -> Post:
    return row_as(Post, r)


async def add_posts(conn: Connection, guild_id: int, kind: str, ref_id: int, due: Iterable[int]) -> None:
    """Plan posts of one kind for one thing; a post already planned for the same time is kept as it is."""
    await conn.executemany(
        "INSERT INTO scheduled_posts (guild_id, kind, ref_id, due_at) VALUES (:g, :k, :r, :d) "
        "ON CONFLICT (kind, ref_id, due_at) DO UPDATE SET state = 'pending', attempts = 0, done_at = NULL "
        "WHERE scheduled_posts.state = 'cancelled'",
        [{"g": guild_id, "k": kind, "r": ref_id, "d": d} for d in due],
    )


async def cancel_posts(conn: Connection, kinds: Iterable[str], ref_id: int, now: int) -> None:
    """Cancel the pending posts of these kinds for one thing."""
    await conn.executemany(
        "UPDATE scheduled_posts SET state = 'cancelled', done_at = :now "
        "WHERE kind = :k AND ref_id = :r AND state = 'pending'",
        [{"k": k, "r": ref_id, "now": now} for k in kinds],
    )


async def recover_claimed(
    conn: Connection, max_attempts: int, now: int, shards: Shards | None = None
) -> tuple[int, int]:
    """After a crash: claimed posts (of servers on ``shards`` only, when given: another process's claims are
    its own) go back to pending once (re-sent at most once); beyond that, skipped."""
    retry = await conn.execute(
        "UPDATE scheduled_posts SET state = 'pending' "  # noqa: S608
        f"WHERE state = 'claimed' AND attempts < :max{on_shards(shards)}",
        {"max": max_attempts},
    )
    give_up = await conn.execute(
        "UPDATE scheduled_posts SET state = 'skipped', done_at = :now "  # noqa: S608
        f"WHERE state = 'claimed'{on_shards(shards)}",
        {"now": now},
    )
    await conn.execute(
        "DELETE FROM post_parts WHERE post_id IN "
        "(SELECT post_id FROM scheduled_posts WHERE state NOT IN ('pending', 'claimed'))"
    )
    return retry.rowcount, give_up.rowcount


async def due_times(
    db: Database, until: int, *, after: int = -1, limit: int = 1000, shards: Shards | None = None
) -> list[int]:
    """The distinct times of pending posts due before ``until``, after ``after``, in order (of servers on
    ``shards`` only, when given)."""
    rows = await db.fetchall(
        "SELECT DISTINCT due_at FROM scheduled_posts WHERE state = 'pending' AND due_at <= :until "  # noqa: S608
        f"AND due_at > :after{on_shards(shards)} ORDER BY due_at LIMIT :limit",
        {"until": until, "after": after, "limit": limit},
    )
    return [int(r[0]) for r in rows]


async def claim_due(
    conn: Connection,
    until: int,
    now: int,
    started_at: int,
    late_after: int,
    limit: int,
    shards: Shards | None = None,
) -> list[Post]:
    """Claim up to ``limit`` pending posts due before ``until`` in one statement (late: due while down, or
    overdue); of servers on ``shards`` only, when given."""
    cursor = await conn.execute(
        "UPDATE scheduled_posts SET state = 'claimed', attempts = attempts + 1, claimed_at = :now, "  # noqa: S608
        "late = CASE WHEN due_at < :started OR :now - due_at > :late_after THEN 1 ELSE 0 END WHERE post_id IN (SELECT post_id "
        f"FROM scheduled_posts WHERE state = 'pending' AND due_at <= :until{on_shards(shards)} "
        "ORDER BY due_at, post_id LIMIT :limit) "
        f"RETURNING {_COLUMNS}",
        {"until": until, "now": now, "started": started_at, "late_after": late_after, "limit": limit},
    )
    rows = await cursor.fetchall()
    return sorted((_post(r) for r in rows), key=lambda p: (p.due_at, p.post_id))


async def finish(conn: Connection, post_id: int, state: str, now: int) -> None:
    """Record that a claimed post was sent or skipped; its parts are forgotten."""
    await conn.execute(
        "UPDATE scheduled_posts SET state = :state, done_at = :now WHERE post_id = :id AND state = 'claimed'",
        {"id": post_id, "state": state, "now": now},
    )
    await conn.execute("DELETE FROM post_parts WHERE post_id = :id", {"id": post_id})


async def release(conn: Connection, post_id: int, max_attempts: int, now: int) -> None:
    """A claimed post that failed to send: pending again while attempts remain, else skipped."""
    await conn.execute(
        "UPDATE scheduled_posts SET state = CASE WHEN attempts < :max THEN 'pending' ELSE 'skipped' END, "
        "done_at = CASE WHEN attempts < :max THEN NULL ELSE :now END WHERE post_id = :id AND state = 'claimed'",
        {"id": post_id, "max": max_attempts, "now": now},
    )
    await conn.execute(
        "DELETE FROM post_parts WHERE post_id = :id "
        "AND (SELECT state FROM scheduled_posts WHERE post_id = :id) = 'skipped'",
        {"id": post_id},
    )


async def posts_for(db: Database, kind: str, ref_id: int) -> list[Post]:
    """Every post of one kind for one thing, by time."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM scheduled_posts WHERE kind = :k AND ref_id = :r ORDER BY due_at",  # noqa: S608
        {"k": kind, "r": ref_id},
    )
    return [_post(r) for r in rows]


_PARTS_OF = (
    "SELECT seq, target, direct, part, payload, message_id FROM post_parts WHERE post_id = :id ORDER BY seq"
)


async def parts_of(source: Source, post_id: int) -> list[PartRow]:
    """The parts decided for a post, in the order they are sent (none before its first attempt)."""
    rows = await fetch_all(source, _PARTS_OF, {"id": post_id})
    return rows_as(PartRow, rows)


async def add_parts(
    conn: Connection, post_id: int, parts: Iterable[tuple[int, bool, int, str]]
) -> list[PartRow]:
    """Decide a post's parts, (target, direct, part, payload) in sending order, unless already decided.

    Returns the parts as stored: the first decision wins, so every attempt sends the same parts.
    """
    if not await parts_of(conn, post_id):
        await conn.executemany(
            "INSERT INTO post_parts (post_id, seq, target, direct, part, payload) "
            "VALUES (:id, :seq, :target, :direct, :part, :payload)",
            [
                {"id": post_id, "seq": seq, "target": t, "direct": int(d), "part": n, "payload": p}
                for seq, (t, d, n, p) in enumerate(parts, start=1)
            ],
        )
    return await parts_of(conn, post_id)


async def part_sent(conn: Connection, post_id: int, seq: int, message_id: int) -> None:
    """Record that one part of a post is out (message_id 0: given up, such as a DM to closed DMs)."""
    await conn.execute(
        "UPDATE post_parts SET message_id = :m WHERE post_id = :id AND seq = :seq",
        {"id": post_id, "seq": seq, "m": message_id},
    )
