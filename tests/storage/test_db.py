"""The database layer: migrations, transactions, backup."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from storage.agenda import search_sessions
from storage.consensus import search_items
from storage.db import Database, Migration, MigrationError, backup_database, load_migrations, search_params
from storage.polls import search_polls


def test_migrations_are_numbered_without_gaps() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))


async def test_empty_database_reaches_latest(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "new.db")
    try:
        assert await db.user_version() == len(load_migrations())
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
        assert await db.fetchval("PRAGMA foreign_keys") == 1
    finally:
        await db.close()


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
    base = load_migrations()
    bad = Migration(
        len(base) + 1, "broken", "CREATE TABLE half_done (x INTEGER) STRICT;\nSELECT * FROM no_such_table;"
    )
    with pytest.raises(MigrationError, match="stays at version"):
        await Database.open(path, migrations=[*base, bad])
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(base)
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
        assert "half_done" not in tables
    finally:
        raw.close()
    db = await Database.open(path)  # and the good migrations still open it
    await db.close()


async def test_failed_transaction_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO guilds (guild_id, name, joined_at) VALUES (1, 'One', 0)")
            raise RuntimeError("boom after the write")
    second = sqlite3.connect(db.path)
    try:
        assert second.execute("SELECT count(*) FROM guilds").fetchone()[0] == 0
    finally:
        second.close()
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
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO guilds (guild_id, name, joined_at) VALUES (1, 'One', 'not a number')"
            )


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
        ("²", "\x00"),
        ("١٢", "\x00"),
        ("１２", "\x00"),
        ("9" * 30, "\x00"),
        ("x", "\x00"),
    ],
)
def test_search_reads_a_number_only_from_digits_0_to_9(typed: str, num: str) -> None:
    assert search_params(typed)["num"] == num


@pytest.mark.parametrize("typed", ["\ud800", "a\udfffb", "%_\\", "x" * 6000])
async def test_search_takes_any_typed_text(db: Database, typed: str) -> None:
    # a lone surrogate has no UTF-8: binding it raised UnicodeEncodeError inside autocomplete
    assert await search_polls(db, 1, typed) == []
    assert await search_items(db, 1, typed) == []
    assert await search_sessions(db, 1, typed) == []
