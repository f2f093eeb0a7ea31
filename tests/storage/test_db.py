"""The database layer: migrations, transactions, backup; and what the PostgreSQL engine adds."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage import postgres
from storage.agenda import search_sessions
from storage.consensus import search_items
from storage.db import (
    Database,
    Migration,
    MigrationError,
    SyncConnection,
    backup_database,
    load_migrations,
    row_as,
    search_params,
)
from storage.polls import search_polls
from tests import engines


def engine_migrations() -> list[Migration]:
    """The migrations of this run's engine."""
    return postgres.load_migrations() if engines.on_postgres() else load_migrations()


def test_migrations_are_numbered_without_gaps() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    # PostgreSQL's start from the schema SQLite's reach at 0014: a version names one schema on both engines
    pg = postgres.load_migrations()
    assert [m.version for m in pg] == list(range(14, 14 + len(pg)))
    assert pg[-1].version == migrations[-1].version


@pytest.mark.sqlite_only
async def test_empty_database_reaches_latest(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "new.db")
    try:
        assert await db.user_version() == len(load_migrations())
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
        assert await db.fetchval("PRAGMA foreign_keys") == 1
    finally:
        await db.close()


@pytest.mark.postgresql_only
async def test_migrations_are_recorded_in_the_database(db: Database) -> None:
    # each applied migration is a row of schema_migrations, and the version is the newest of them
    assert engines.raw_rows(db.path, "SELECT version, name FROM schema_migrations ORDER BY version") == [
        (m.version, m.name) for m in postgres.load_migrations()
    ]
    assert await db.user_version() == len(load_migrations())  # the SQLite version of the same schema
    assert {"polls", "record_entries", "statements"} <= await db.table_names()


@pytest.mark.postgresql_only
async def test_reopening_applies_no_migration_twice(tmp_path: Path) -> None:
    path = tmp_path / "twice.db"
    first = await engines.open_db(path)
    await first.close()
    again = await engines.open_db(path)  # a restart, or a second process starting
    try:
        assert engines.raw_rows(path, "SELECT count(*), max(version) FROM schema_migrations") == [
            (len(postgres.load_migrations()), len(load_migrations()))
        ]
    finally:
        await again.close()


@pytest.mark.sqlite_only
@pytest.mark.parametrize("start", range(len(load_migrations())))
async def test_every_earlier_version_upgrades(tmp_path: Path, start: int) -> None:
    path = tmp_path / f"v{start}.db"
    migrations = load_migrations()
    old = await Database.open(path, migrations=migrations[:start])
    assert await old.user_version() == start
    await old.close()
    db = await Database.open(path)
    try:
        assert await db.user_version() == len(migrations)
        check = await db.fetchval("PRAGMA integrity_check")
        assert check == "ok"
    finally:
        await db.close()


async def test_failing_migration_leaves_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "fail.db"
    base = engine_migrations()
    table = "(x INTEGER) STRICT" if not engines.on_postgres() else "(x BIGINT)"
    bad = Migration(
        base[-1].version + 1, "broken", f"CREATE TABLE half_done {table};\nSELECT * FROM no_such_table;"
    )
    with pytest.raises(MigrationError, match="stays at version"):
        await engines.open_db(path, migrations=[*base, bad])
    if engines.on_postgres():
        assert engines.raw_rows(path, "SELECT max(version) FROM schema_migrations") == [(base[-1].version,)]
        assert engines.raw_rows(path, "SELECT to_regclass('half_done') IS NULL") == [(True,)]
    else:
        assert engines.raw_rows(path, "PRAGMA user_version") == [(len(base),)]
        assert "half_done" not in {r[0] for r in engines.raw_rows(path, "SELECT name FROM sqlite_master")}
    db = await engines.open_db(path)  # and the good migrations still open it
    try:
        assert await db.user_version() == base[-1].version
        assert "half_done" not in await db.table_names()
    finally:
        await db.close()


async def test_failed_transaction_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO guilds (guild_id, name, joined_at) VALUES (1, 'One', 0)")
            raise RuntimeError("boom after the write")
    assert engines.raw_rows(db.path, "SELECT count(*) FROM guilds") == [
        (0,)
    ]  # seen through a second connection
    async with db.transaction() as conn:  # the connection is usable afterwards
        await conn.execute("INSERT INTO guilds (guild_id, name, joined_at) VALUES (2, 'Two', 0)")
    assert await db.fetchval("SELECT count(*) FROM guilds") == 1


async def test_concurrent_transactions_do_not_mix(db: Database) -> None:
    async def good(i: int) -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO guilds (guild_id, name, joined_at) VALUES (?, 'g', 0)", (i,))
            await asyncio.sleep(0)

    async def bad() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO guilds (guild_id, name, joined_at) VALUES (999, 'g', 0)")
            await asyncio.sleep(0)
            raise ValueError("roll me back")

    results = await asyncio.gather(
        *(good(i) for i in range(1, 21)), bad(), *(good(i) for i in range(21, 41)), return_exceptions=True
    )
    assert sum(isinstance(r, ValueError) for r in results) == 1
    ids = [r[0] for r in await db.fetchall("SELECT guild_id FROM guilds ORDER BY guild_id")]
    assert ids == list(range(1, 41))


async def test_constraint_checks_hold(db: Database) -> None:
    # a column's type holds (SQLite's STRICT tables refuse it as a constraint; PostgreSQL as bad data)
    if engines.on_postgres():
        import psycopg

        refused: tuple[type[Exception], ...] = (psycopg.DataError,)
    else:
        refused = (sqlite3.IntegrityError,)
    with pytest.raises(refused):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO guilds (guild_id, name, joined_at) VALUES (1, 'One', 'not a number')"
            )
    with pytest.raises(engines.integrity_errors()):  # and so do the CHECKs
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO guilds (guild_id, name, joined_at) VALUES (1, 'One', 0)")
            await conn.execute(
                "INSERT INTO members (guild_id, user_id, display_name, seen_at) VALUES (1, 2, '', 0)"
            )
    assert engines.raw_rows(db.path, "SELECT count(*) FROM guilds") == [(0,)]


@pytest.mark.sqlite_only
async def test_backup_while_writes_go_on(db: Database, tmp_path: Path) -> None:
    stop = asyncio.Event()
    written = 0

    async def writer() -> None:
        nonlocal written
        while not stop.is_set():
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO guilds (guild_id, name, joined_at) VALUES (?, ?, 0)",
                    (written + 1, "x" * 200),
                )
            written += 1

    task = asyncio.create_task(writer())
    while written < 200:
        await asyncio.sleep(0.01)
    copies = []
    for n in range(3):
        dest = tmp_path / f"backup{n}.db"
        await asyncio.to_thread(backup_database, db.path, dest)
        copies.append(dest)
    stop.set()
    await task
    previous = 0
    for dest in copies:
        raw = sqlite3.connect(dest)
        try:
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            count, top = raw.execute("SELECT count(*), max(guild_id) FROM guilds").fetchone()
            assert count == top  # a consistent prefix: no gaps, no torn rows
            assert count >= previous
            previous = count
            assert raw.execute("PRAGMA user_version").fetchone()[0] == len(load_migrations())
        finally:
            raw.close()
    assert previous >= 200


def test_backup_of_missing_database_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        backup_database(tmp_path / "nope.db", tmp_path / "copy.db")


@pytest.mark.parametrize(
    ("typed", "num"),
    [
        ("12", "12"),
        ("#12", "12"),
        ("²", "-"),
        ("١٢", "-"),
        ("１２", "-"),
        ("9" * 30, "-"),
        ("x", "-"),
        ("#", "-"),
        ("1\x002", "12"),
    ],
)
def test_search_reads_a_number_only_from_digits_0_to_9(typed: str, num: str) -> None:
    assert search_params(typed)["num"] == num


@pytest.mark.parametrize("typed", ["\ud800", "a\udfffb", "%_\\", "x" * 6000, "a\x00b"])
async def test_search_takes_any_typed_text(db: Database, typed: str) -> None:
    # a lone surrogate has no UTF-8: binding it raised UnicodeEncodeError inside autocomplete
    assert await search_polls(db, 1, typed) == []
    assert await search_items(db, 1, typed) == []
    assert await search_sessions(db, 1, typed) == []


async def test_a_search_finds_by_number_and_by_text_in_any_letter_case(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO guilds (guild_id, name, joined_at) VALUES (1, 'One', 0)")
        for number, question in ((12, "Lunch at 100% cocoa?"), (3, "Budget_2027"), (120, "Other")):
            await conn.execute(
                "INSERT INTO polls (guild_id, number, question, author_id, option_count, choices, anonymous, "
                "hide_results, created_at, closes_at) VALUES (1, ?, ?, 5, 2, 1, 0, 0, 0, 10)",
                (number, question),
            )
    assert [p.number for p in await search_polls(db, 1, "12")] == [120, 12]  # typed digits begin the number
    assert [p.number for p in await search_polls(db, 1, "#3")] == [3]
    assert [p.number for p in await search_polls(db, 1, "100%")] == [12]  # % is a letter, not a wildcard
    assert [p.number for p in await search_polls(db, 1, "t_2")] == [3]  # and so is _
    assert [p.number for p in await search_polls(db, 1, "LUNCH")] == [12]  # ASCII case is ignored
    assert await search_polls(db, 1, "t%2") == []


@dataclass(frozen=True)
class _Picked:
    b: int
    c: int


async def test_rows_map_by_name_when_a_join_gives_two_columns_one_name(db: Database) -> None:
    # SELECT s.session_id, …, o.session_id, …: every column keeps its place, and each field its column
    row = await db.fetchone("SELECT 1 AS a, 2 AS b, 1 AS a, 3 AS c")
    assert row is not None
    assert (row.keys(), row["a"], row["c"], tuple(row)) == (["a", "b", "a", "c"], 1, 3, (1, 2, 1, 3))
    assert row_as(_Picked, row) == _Picked(2, 3)


# -- one write transaction at a time ----------------------------------------------------------------


async def test_concurrent_check_then_write_runs_serialize(db: Database) -> None:
    # each run reads the highest id, then writes the next: interleaved, two would read the same and collide
    def next_guild(conn: SyncConnection) -> int:
        top = int(conn.execute("SELECT coalesce(max(guild_id), 0) FROM guilds").fetchone()[0])
        time.sleep(0.002)  # a slow decision between the read and the write
        conn.execute("INSERT INTO guilds (guild_id, name, joined_at) VALUES (:g, 'g', 0)", {"g": top + 1})
        return top + 1

    made = await asyncio.gather(*(db.run(next_guild) for _ in range(20)))
    assert sorted(made) == list(range(1, 21))
    assert engines.raw_rows(db.path, "SELECT count(*), max(guild_id) FROM guilds") == [(20, 20)]


async def test_a_failed_run_leaves_nothing(db: Database) -> None:
    def half(conn: SyncConnection) -> None:
        conn.execute("INSERT INTO guilds (guild_id, name, joined_at) VALUES (7, 'g', 0)")
        raise ValueError("after the write")

    with pytest.raises(ValueError, match="after the write"):
        await db.run(half)
    assert engines.raw_rows(db.path, "SELECT count(*) FROM guilds") == [(0,)]


async def test_two_databases_on_one_store_never_interleave_their_writes(tmp_path: Path) -> None:
    # two processes on one database (two Database objects, each with its own lock and connection): every
    # write transaction reads a counter and writes it back one higher; one lost update or one overlap shows
    path = tmp_path / "shared.db"
    first = await engines.open_db(path)
    second = await engines.open_db(path)
    inside: list[str] = []
    overlaps = 0
    try:
        await first.set_state("counter", "0")

        async def bump(db: Database, name: str) -> None:
            nonlocal overlaps
            async with db.transaction() as conn:
                inside.append(name)
                overlaps += len(inside) > 1
                row = await (
                    await conn.execute("SELECT value FROM bot_state WHERE key = 'counter'")
                ).fetchone()
                assert row is not None
                await asyncio.sleep(0.005)  # the other process has every chance to step in here
                await conn.execute(
                    "UPDATE bot_state SET value = :v WHERE key = 'counter'", {"v": str(int(row[0]) + 1)}
                )
                inside.remove(name)

        await asyncio.gather(
            *(bump(db, name) for _ in range(10) for db, name in ((first, "a"), (second, "b")))
        )
        assert overlaps == 0
        assert await second.get_state("counter") == "20"
        assert engines.raw_rows(path, "SELECT value FROM bot_state WHERE key = 'counter'") == [("20",)]
    finally:
        await first.close()
        await second.close()


@pytest.mark.postgresql_only
async def test_two_postgres_processes_wait_for_each_others_write_transaction(tmp_path: Path) -> None:
    # the advisory lock itself: while one process holds a write transaction open, another's waits for it
    path = tmp_path / "shared.db"
    first = await engines.open_db(path)
    second = await engines.open_db(path)
    assert isinstance(first, postgres.PostgresDatabase) and first is not second
    order: list[str] = []
    try:
        held = asyncio.Event()

        async def holder() -> None:
            async with first.transaction() as conn:
                await conn.execute("INSERT INTO guilds (guild_id, name, joined_at) VALUES (1, 'first', 0)")
                held.set()
                await asyncio.sleep(0.3)
                order.append("first commits")

        async def waiter() -> None:
            await held.wait()
            async with second.transaction() as conn:
                order.append("second begins")
                row = await (await conn.execute("SELECT count(*) FROM guilds")).fetchone()
                assert row is not None and row[0] == 1  # it sees what the first committed

        await asyncio.gather(holder(), waiter())
        assert order == ["first commits", "second begins"]
    finally:
        await first.close()
        await second.close()


# -- PostgreSQL's reading of the one dialect ------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("SELECT a FROM t WHERE b = :b AND c = :c_2", "SELECT a FROM t WHERE b = %(b)s AND c = %(c_2)s"),
        ("INSERT INTO t VALUES (?, ?)", "INSERT INTO t VALUES (%s, %s)"),
        ("SELECT x % 3, '100%' FROM t", "SELECT x %% 3, '100%%' FROM t"),
        ("SELECT CAST(:n AS TEXT)::text, x::bigint", "SELECT CAST(%(n)s AS TEXT)::text, x::bigint"),
        ("SELECT ':not_a_param', '?', 'it''s :x'", "SELECT ':not_a_param', '?', 'it''s :x'"),
        ('SELECT "a:b?" FROM t', 'SELECT "a:b?" FROM t'),
        (
            "WHERE q LIKE :p ESCAPE '\\' AND r NOT LIKE 'L%'",
            "WHERE q ILIKE %(p)s ESCAPE '\\' AND r NOT ILIKE 'L%%'",
        ),
        ("SELECT likes, unlike FROM t", "SELECT likes, unlike FROM t"),
    ],
)
def test_translate_turns_the_dialect_into_psycopgs(written: str, read: str) -> None:
    assert postgres.translate(written) == read


async def test_literals_casts_and_parameters_read_alike_on_both_engines(db: Database) -> None:
    row = await db.fetchone(
        "SELECT '100%' AS a, CAST(:n AS TEXT) || '?' AS b, :s || ':x' AS c, 'ABC' LIKE 'abc' AS d, 7 % 3 AS e",
        {"n": 5, "s": "50%"},
    )
    assert row is not None
    assert (row["a"], row["b"], row["c"], bool(row["d"]), row["e"]) == ("100%", "5?", "50%:x", True, 1)
    assert await db.fetchval("SELECT ? + ?", (2, 3)) == 5
