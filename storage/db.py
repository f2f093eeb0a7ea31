"""The SQLite connection: one write connection behind a lock, BEGIN IMMEDIATE transactions, migrations."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, fields
from importlib import resources
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from domain.errors import Unavailable
from domain.shards import Shards

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 15_000
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

Params = Mapping[str, Any] | tuple[Any, ...]
T = TypeVar("T")
#: The connection a transaction hands to storage functions (domain code passes it on, never uses it).
Connection = aiosqlite.Connection


def on_shards(shards: Shards | None, column: str = "guild_id") -> str:
    """An ``AND …`` clause keeping rows whose server is on one of these shards: ``domain.shards.shard_of`` in
    SQL. Empty without sharding (``None`` or one shard: every server is on it, and the query keeps its plan).
    The ids are validated integers, written as literals.
    """
    if shards is None or shards.count == 1:
        return ""
    ids = ", ".join(str(int(i)) for i in shards.ids)
    # parenthesised: in SQL (SQLite and PostgreSQL alike) % binds tighter than >>
    return f" AND (({column} >> 22) % {int(shards.count)}) IN ({ids})"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


class MigrationError(Exception):
    """A migration could not be applied; the database stays at the version it had."""


def load_migrations() -> list[Migration]:
    """The numbered migrations shipped in storage/migrations, in order, with no gaps."""
    found: list[Migration] = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(f"migration {expected:04d} is missing (found {migration.version:04d})")
    return found


async def _configure(conn: aiosqlite.Connection) -> None:
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA foreign_keys = ON")
    await conn.execute("PRAGMA synchronous = NORMAL")
    await conn.execute("PRAGMA secure_delete = ON")


async def apply_migrations(conn: aiosqlite.Connection, migrations: Iterable[Migration]) -> int:
    """Apply every migration newer than the database's user_version, each atomically; returns the version."""
    row = await (await conn.execute("PRAGMA user_version")).fetchone()
    current = int(row[0]) if row else 0
    for migration in migrations:
        if migration.version <= current:
            continue
        # executescript() commits any open transaction first, so the BEGIN goes inside the script:
        # the schema change and the version bump then commit together or not at all.
        script = f"BEGIN IMMEDIATE;\n{migration.sql}\n;\nPRAGMA user_version = {migration.version};\nCOMMIT;"
        try:
            await conn.executescript(script)
        except sqlite3.Error as exc:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise MigrationError(
                f"migration {migration.version:04d}_{migration.name} failed: {exc}; "
                f"the database stays at version {current}"
            ) from exc
        log.info("applied migration %04d_%s", migration.version, migration.name)
        current = migration.version
    return current


def is_storage_failure(exc: BaseException) -> bool:
    """True when an error means the disk is full, the file read-only or locked: not a bug, a condition."""
    if not isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError):
        return False
    text = str(exc).lower()
    return any(
        s in text
        for s in ("database or disk is full", "readonly", "read-only", "database is locked", "disk i/o")
    )


def search_params(text: str) -> dict[str, str]:
    """``num`` and ``p`` for a number-or-text search: a typed number's digits, and a LIKE pattern (escaped)."""
    # what was typed may hold lone surrogates (no UTF-8 for SQLite) and digits other than 0-9: neither is a number
    text = text.encode("utf-8", "replace").decode("utf-8").strip()
    digits = text.removeprefix("#")
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    is_number = digits.isascii() and digits.isdigit() and len(digits) <= 18
    return {"num": digits if is_number else "\x00", "p": pattern}


def row_as(cls: type[T], row: sqlite3.Row) -> T:
    """One row as the frozen dataclass ``cls``, mapped by column name (0/1 columns of ``bool`` fields become bools)."""
    return rows_as(cls, (row,))[0]


def rows_as(cls: type[T], rows: Iterable[sqlite3.Row]) -> list[T]:
    """Rows as the frozen dataclass ``cls``, each field taken from the column of the same name."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    flags = [i for i, f in enumerate(fields(cls)) if f.type in ("bool", bool)]  # type: ignore[arg-type]
    out: list[T] = []
    pick: Callable[[sqlite3.Row], Any] | None = None
    for row in rows:
        if pick is None:  # the columns' places, found once from the first row (an export has 100,000 rows)
            columns = {column: i for i, column in enumerate(row.keys())}
            missing = [name for name in names if name not in columns]
            if missing:
                raise IndexError(f"no column {missing[0]!r} for {cls.__name__}")
            pick = (
                itemgetter(*(columns[name] for name in names)) if len(names) > 1 else _one(columns[names[0]])
            )
        values = pick(row)
        if flags:
            values = list(values)
            for i in flags:
                values[i] = bool(values[i])
        out.append(cls(*values))
    return out


def _one(index: int) -> Callable[[sqlite3.Row], tuple[Any]]:
    return lambda row: (row[index],)


def _prepare_path(path: str | Path) -> str:
    """The absolute path of the database file, its folder created."""
    absolute = os.path.abspath(path)
    os.makedirs(os.path.dirname(absolute), exist_ok=True)
    return absolute


class Database:
    """One write connection guarded by a lock, and one read-only connection for queries.

    ``path`` is the absolute path of the database file.
    """

    def __init__(self, path: str, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path, *, migrations: Iterable[Migration] | None = None) -> Database:
        """Open (creating if needed) and migrate the database at ``path``."""
        path = _prepare_path(path)
        writer = await aiosqlite.connect(path, isolation_level=None)
        try:
            writer.row_factory = sqlite3.Row
            await _configure(writer)
            await writer.execute("PRAGMA journal_mode = WAL")
            await apply_migrations(writer, load_migrations() if migrations is None else migrations)
            reader = await aiosqlite.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        except BaseException:
            await writer.close()
            raise
        reader.row_factory = sqlite3.Row
        await _configure(reader)
        return cls(path, writer, reader)

    async def close(self) -> None:
        """Close both connections; safe to call twice."""
        async with self._lock:
            for conn in (self._reader, self._writer):
                with suppress(ValueError):
                    await conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE … COMMIT around the block, ROLLBACK if it raises; one writer at a time."""
        async with self._lock:
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _translate(exc) from exc
            try:
                yield self._writer
            except BaseException as exc:
                if self._writer.in_transaction:
                    await self._writer.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error) and is_storage_failure(exc):
                    raise _translate(exc) from exc
                raise
            try:
                await self._writer.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._writer.in_transaction:
                    await self._writer.execute("ROLLBACK")
                raise _translate(exc) from exc

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(conn)`` inside BEGIN IMMEDIATE … COMMIT, all on the writer's thread in one hop.

        For hot paths (a click): the write lock is held for one trip to the SQLite thread instead of one
        per statement, each of which would wait for a turn on a busy event loop.
        """

        def transaction(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return result

        async with self._lock:
            try:
                # aiosqlite runs every call of a connection on its own thread; this hands it one function
                result: T = await self._writer._execute(transaction, self._writer._conn)  # type: ignore[no-untyped-call]
                return result
            except sqlite3.Error as exc:
                if is_storage_failure(exc):
                    raise _translate(exc) from exc
                raise

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Rows of a read query, on the read-only connection."""
        async with self._reader.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row of a read query, or None."""
        async with self._reader.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def user_version(self) -> int:
        """The schema version recorded in the database."""
        return int(await self.fetchval("PRAGMA user_version") or 0)

    async def get_state(self, key: str) -> str | None:
        """A value from the bot_state table."""
        value = await self.fetchval("SELECT value FROM bot_state WHERE key = :key", {"key": key})
        return None if value is None else str(value)

    async def set_state(self, key: str, value: str) -> None:
        """Store a value in the bot_state table."""
        async with self.transaction() as conn:
            await conn.execute(
                "INSERT INTO bot_state (key, value) VALUES (:key, :value) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                {"key": key, "value": value},
            )


#: Where a read runs: the read-only connection (a Database), or the open transaction's connection.
Source = Database | aiosqlite.Connection


async def fetch_one(source: Source, sql: str, params: Params = ()) -> sqlite3.Row | None:
    """The first row of a query, inside the caller's transaction (a connection) or on the reader (a Database)."""
    if isinstance(source, Database):
        return await source.fetchone(sql, params)
    return await (await source.execute(sql, params)).fetchone()


async def fetch_all(source: Source, sql: str, params: Params = ()) -> list[sqlite3.Row]:
    """Every row of a query, inside the caller's transaction (a connection) or on the reader (a Database)."""
    if isinstance(source, Database):
        return await source.fetchall(sql, params)
    return list(await (await source.execute(sql, params)).fetchall())


def _translate(exc: sqlite3.Error) -> Exception:
    if is_storage_failure(exc):
        log.error("storage failure: %s", exc)
        return Unavailable(
            "The bot cannot save right now (its storage is full or locked); please try again in a minute."
        )
    return exc


def backup_database(source: str | Path, destination: str | Path) -> None:
    """A consistent copy of a live database using SQLite's online backup API (safe while the bot writes)."""
    src_path = Path(source)
    if not src_path.exists():
        raise FileNotFoundError(f"database {str(src_path)!r} does not exist")
    dest = Path(destination)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{src_path.resolve()}?mode=ro", uri=True)
    try:
        src.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst, pages=256, sleep=0.005)
            dst.execute("PRAGMA journal_mode = DELETE")
            check = dst.execute("PRAGMA integrity_check").fetchone()
            if not check or check[0] != "ok":
                raise sqlite3.DatabaseError(f"backup failed its integrity check: {check}")
        finally:
            dst.close()
    finally:
        src.close()
    tmp.replace(dest)
