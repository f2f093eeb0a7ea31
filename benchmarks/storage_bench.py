"""In-process benchmarks on a real SQLite file: raw upserts, 10,000 pending reminders, the summary export;
the upserts also on PostgreSQL (``tests.engines`` picks the engine, ``engines.using``)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from benchmarks.report import percentile
from bot.scheduler import PostDispatcher, Scheduler
from domain.clock import SystemClock
from domain.posts import SENT, PostBook
from domain.render import render
from domain.summary import build_summary
from storage import posts as post_rows
from storage.consensus import UPSERT_POSITION  # the statement a click runs: the floor under it
from storage.db import Database, SyncConnection
from storage.posts import Post
from tests import engines

GUILD = 4242
NOW = 1_760_000_000


async def _guild(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO guilds (guild_id, name, joined_at) VALUES (:g, 'Bench coalition', :now)",
            {"g": GUILD, "now": NOW},
        )


# -- 3. upserts: the floor (plain sqlite3, plain psycopg) and our path (Database.run) --------------


async def _point_database(path: Path) -> Database:
    """A migrated database (of the run's engine) with one server and one point to take positions on."""
    db = await engines.open_db(path)
    await _guild(db)
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO items (item_id, guild_id, number, kind, author_id, created_at) "
            "VALUES (1, :g, 1, 'point', 1, :now)",
            {"g": GUILD, "now": NOW},
        )
        await conn.execute(
            "INSERT INTO item_revisions (item_id, revision, text, author_id, created_at) "
            "VALUES (1, 1, 'Upsert point', 1, :now)",
            {"now": NOW},
        )
    return db


def plain_sqlite_upserts(path: Path, count: int) -> float:
    """The floor: ``count`` position upserts by distinct members with plain ``sqlite3`` (WAL,
    synchronous=NORMAL, foreign keys on), one BEGIN IMMEDIATE … COMMIT each, one after another."""

    async def prepare() -> None:
        await (await _point_database(path)).close()

    asyncio.run(prepare())
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        started = time.perf_counter()
        for n in range(count):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                UPSERT_POSITION,
                {"i": 1, "r": 1, "u": 10_000 + n, "s": "agree", "reason": None, "now": NOW + n},
            )
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    return count / elapsed


def plain_postgres_upserts(path: Path, count: int) -> float:
    """The floor on PostgreSQL (inside ``engines.using("postgresql")``): ``count`` position upserts by distinct
    members on one plain psycopg connection, one BEGIN … COMMIT each, one after another (no advisory lock)."""

    async def prepare() -> None:
        await (await _point_database(path)).close()

    asyncio.run(prepare())
    with engines.closing_raw(path, autocommit=True) as raw:
        started = time.perf_counter()
        for n in range(count):
            raw.execute("BEGIN")
            raw.execute(UPSERT_POSITION, {"i": 1, "r": 1, "u": 10_000 + n, "s": "agree", "reason": None,
                                          "now": NOW + n})  # fmt: skip
            raw.execute("COMMIT")
        elapsed = time.perf_counter() - started
    return count / elapsed


async def database_run_upserts(path: Path, count: int) -> float:
    """Our path: ``count`` clicks' upserts started at once, each one ``Database.run`` transaction (one hop
    to the database's thread under the write lock; on PostgreSQL also its advisory lock), as a burst of
    clicks runs them; on the run's engine."""
    db = await _point_database(path)
    try:

        def upsert(n: int) -> Callable[[SyncConnection], None]:
            params = {"i": 1, "r": 1, "u": 10_000 + n, "s": "agree", "reason": None, "now": NOW + n}

            def work(conn: SyncConnection) -> None:
                conn.execute(UPSERT_POSITION, params)

            return work

        started = time.perf_counter()
        await asyncio.gather(*(db.run(upsert(n)) for n in range(count)))
        elapsed = time.perf_counter() - started
        stored = await db.fetchval("SELECT count(*) FROM positions WHERE item_id = 1")
        if stored != count:
            raise RuntimeError(f"{stored} positions stored of {count}")
    finally:
        await db.close()
    return count / elapsed


# -- 4. pending reminders ------------------------------------------------------------------------

KIND = "bench_reminder"


@dataclass
class Reminders:
    posts: int
    start_seconds: float  # dispatcher.start(): recover + register the window
    registered: int  # what start() registered
    jobs: int  # jobs the scheduler held right after start()
    fired: int = 0
    lateness: tuple[float, ...] = ()  # seconds, handler call minus due time
    sent: int = 0  # posts marked sent in the database at the end


async def pending_reminders(
    path: Path, count: int, *, far: bool, spread: int = 5, lead: int = 2
) -> Reminders:
    """``count`` posts of a dummy kind, due over ``spread`` seconds starting ``lead`` s from now (or far
    ahead with ``far``); time dispatcher.start() and, for near posts, how late each one runs."""
    db = await Database.open(path)
    clock = SystemClock()
    scheduler = Scheduler()
    lateness: list[float] = []
    try:
        await _guild(db)
        base = int(time.time()) + (30 * 86_400 if far else lead)
        per_ref = spread if not far else 1
        refs = -(-count // per_ref)
        async with db.transaction() as conn:
            for ref in range(refs):
                due = [base + k for k in range(per_ref)] if not far else [base + ref * 60]
                await post_rows.add_posts(conn, GUILD, KIND, ref, due[: count - ref * per_ref])
        last_due = base + per_ref - 1

        async def handler(post: Post) -> str:
            lateness.append(time.time() - post.due_at)  # wall clock: due times are Unix seconds
            return SENT

        scheduler.start()
        dispatcher = PostDispatcher(scheduler, PostBook(db, clock), clock)
        dispatcher.handle(KIND, handler)
        started = time.perf_counter()
        registered = await dispatcher.start()
        result = Reminders(count, time.perf_counter() - started, registered, scheduler.pending() - 1)
        sent_sql = "SELECT count(*) FROM scheduled_posts WHERE state = 'sent' AND kind = :k"
        if not far:
            deadline = max(last_due, time.time()) + 60  # bounded: give up a minute after the last due time
            while time.time() < deadline:
                if len(lateness) >= count and await db.fetchval(sent_sql, {"k": KIND}) >= count:
                    break
                await asyncio.sleep(0.05)
        # Drain before shutting the scheduler down: APScheduler's AsyncIOExecutor.shutdown() cancels the
        # job tasks still running, which would leave their posts claimed.
        await dispatcher.drain(grace=5.0)
        scheduler.shutdown()
        result.fired = len(lateness)
        result.lateness = tuple(lateness)
        result.sent = int(await db.fetchval(sent_sql, {"k": KIND}) or 0)
        return result
    finally:
        scheduler.shutdown()
        await db.close()


def lateness_p(r: Reminders, q: float) -> float:
    return percentile(r.lateness, q)


# -- 5. summary export ---------------------------------------------------------------------------

STANCES = ("agree",) * 70 + ("stand_aside",) * 15 + ("object",) * 10 + ("block",) * 5
STATUSES = ("open", "open", "consensus", "rough_consensus", "no_consensus")


async def build_export_data(db: Database, points: int, positions: int) -> None:
    """A server with 10 working groups, ``points`` points and ``positions`` positions on each, in bulk SQL."""
    members = max(positions, 1)
    text = "A point of possible consensus with a sentence of ordinary length, " * 3
    await _guild(db)
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO members (guild_id, user_id, display_name, seen_at) VALUES (?, ?, ?, ?)",
            [(GUILD, uid, f"Member {uid}", NOW) for uid in range(1, members + 1)],
        )
        await conn.executemany(
            "INSERT INTO groups (group_id, guild_id, name, name_key, created_by, created_at) VALUES (?, ?, ?, ?, 1, ?)",
            [(g, GUILD, f"Group {g}", f"group {g}", NOW) for g in range(1, 11)],
        )
        items = []
        for n in range(1, points + 1):
            status = STATUSES[n % len(STATUSES)]
            decided = status != "open"
            items.append((n, GUILD, n, "point", n % 11 or None, 1 + n % members, NOW, status,
                          1 if decided else None, NOW + 3600 if decided else None))  # fmt: skip
        await conn.executemany(
            "INSERT INTO items (item_id, guild_id, number, kind, group_id, author_id, created_at, status, "
            "decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            items,
        )
        await conn.executemany(
            "INSERT INTO item_revisions (item_id, revision, text, author_id, created_at) VALUES (?, 1, ?, 1, ?)",
            [(n, f"{n}. {text}", NOW) for n in range(1, points + 1)],
        )
        rows, objections = [], []
        for n in range(1, points + 1):
            for uid in range(1, positions + 1):
                stance = STANCES[(uid + n) % len(STANCES)]
                reason = f"Reason of member {uid} on point {n}" if stance in ("object", "block") else None
                rows.append((n, uid, stance, reason, NOW + uid))
                if reason is not None:
                    objections.append((n, uid, stance, reason, NOW + uid, "open" if uid % 2 else "addressed"))
        await conn.executemany(
            "INSERT INTO positions (item_id, revision, user_id, stance, reason, updated_at) VALUES (?, 1, ?, ?, ?, ?)",
            rows,
        )
        await conn.executemany(
            "INSERT INTO objections (item_id, revision, user_id, stance, reason, created_at, state) "
            "VALUES (?, 1, ?, ?, ?, ?, ?)",
            objections,
        )


@dataclass
class Export:
    seconds: dict[str, float]  # format -> build_summary + render
    sizes: dict[str, int]  # format -> bytes of the files
    build_seconds: float  # build_summary alone (the first, cold)


async def summary_export(path: Path, points: int, positions: int) -> Export:
    """Time build_summary + render for md, html, csv and json (names included: the largest output)."""
    db = await Database.open(path)
    try:
        await build_export_data(db, points, positions)
        zone = ZoneInfo("Europe/Paris")
        now = datetime.now(UTC)
        started = time.perf_counter()
        await build_summary(db, GUILD, now=now, zone=zone, names=True)
        build_seconds = time.perf_counter() - started
        seconds: dict[str, float] = {}
        sizes: dict[str, int] = {}
        for fmt in ("md", "html", "csv", "json"):
            started = time.perf_counter()
            summary = await build_summary(db, GUILD, now=now, zone=zone, names=True)
            files = render(summary, fmt)
            seconds[fmt] = time.perf_counter() - started
            sizes[fmt] = sum(len(data) for _, data in files)
        return Export(seconds, sizes, build_seconds)
    finally:
        await db.close()
