"""The database: one contract, two engines.

SQLite (the default, nothing to install): one write connection behind a lock, BEGIN IMMEDIATE transactions.
PostgreSQL (``[storage] url``, for hosts running several processes): ``storage.postgres``. Storage functions
take a ``Database`` and the ``Connection`` of its transaction and write SQL both engines read alike; where
the engines differ, a function asks ``db.engine``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass, fields
from importlib import resources
from operator import itemgetter
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar, cast
from urllib.parse import urlsplit

import aiosqlite

from domain.errors import Unavailable
from domain.i18n import t
from domain.shards import Shards

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 15_000
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

Params = Mapping[str, Any] | tuple[Any, ...]
T = TypeVar("T")


class Row(Protocol):
    """A result row: by position or by column name (``sqlite3.Row`` and ``storage.postgres.PgRow``)."""

    def __getitem__(self, key: int | str, /) -> Any: ...
    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    """What a statement run inside a transaction gives back."""

    @property
    def rowcount(self) -> int: ...
    async def fetchone(self) -> Row | None: ...
    async def fetchall(self) -> Iterable[Row]: ...


class Connection(Protocol):
    """The connection a transaction hands to storage functions (domain code passes it on, never uses it)."""

    async def execute(self, sql: str, parameters: Params = ..., /) -> Cursor: ...
    async def executemany(self, sql: str, parameters: Iterable[Params], /) -> Cursor: ...


class SyncCursor(Protocol):
    """A statement's result inside ``Database.run``: on the database's own thread, no awaiting."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class SyncConnection(Protocol):
    """The connection ``Database.run`` hands its function: one transaction, run in one hop."""

    def execute(self, sql: str, parameters: Params = ..., /) -> SyncCursor: ...


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


def load_migrations(engine: str = "sqlite") -> list[Migration]:
    """An engine's numbered migrations, in order, with no gaps: SQLite's in storage/migrations from 0001,
    PostgreSQL's in storage/migrations/postgresql from its first (0014: the schema SQLite's 0001–0014 make)."""
    folder = resources.files("storage.migrations")
    if engine == "postgresql":
        folder = folder / "postgresql"
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    first = found[0].version if found and engine == "postgresql" else 1
    for expected, migration in enumerate(found, start=first):
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


def masked_url(url: str) -> str:
    """``url`` with its password (in the address or as ``password=``) shown as ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.split(':', 1)[0]}:***@{host}"
    query = "&".join(
        "password=***" if pair.split("=", 1)[0].lower() == "password" else pair
        for pair in parts.query.split("&")
        if pair
    )
    rebuilt = f"{parts.scheme}://{netloc}{parts.path}"
    return rebuilt + (f"?{query}" if query else "") + (f"#{parts.fragment}" if parts.fragment else "")


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
    # what was typed may hold lone surrogates (no UTF-8 for SQLite), NULs (no PostgreSQL text holds one) and
    # digits other than 0-9: none is a number
    text = text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "").strip()
    digits = text.removeprefix("#")
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    is_number = digits.isascii() and digits.isdigit() and len(digits) <= 18
    # not a number: "-", which begins no number's digits (numbers are positive)
    return {"num": digits if is_number else "-", "p": pattern}


def row_as(cls: type[T], row: Row) -> T:
    """One row as the frozen dataclass ``cls``, mapped by column name (0/1 columns of ``bool`` fields become bools)."""
    return rows_as(cls, (row,))[0]


def rows_as(cls: type[T], rows: Iterable[Row]) -> list[T]:
    """Rows as the frozen dataclass ``cls``, each field taken from the column of the same name."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    flags = [i for i, f in enumerate(fields(cls)) if f.type in ("bool", bool)]  # type: ignore[arg-type]
    out: list[T] = []
    pick: Callable[[Row], Any] | None = None
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


def _one(index: int) -> Callable[[Row], tuple[Any]]:
    return lambda row: (row[index],)


def _prepare_path(path: str | Path) -> str:
    """The absolute path of the database file, its folder created."""
    absolute = os.path.abspath(path)
    os.makedirs(os.path.dirname(absolute), exist_ok=True)
    return absolute


class Database:
    """The contract every engine keeps: write transactions one at a time, reads beside them.

    ``path`` is where the database's key files live (``<path>.ballot-key``, ``<path>.record-key``): the
    SQLite file itself, or ``[storage] path`` beside a PostgreSQL database. ``engine`` names the engine.
    """

    engine: ClassVar[str]
    path: str

    @classmethod
    async def open(
        cls, path: str | Path, *, url: str = "", migrations: Iterable[Migration] | None = None
    ) -> Database:
        """Open and migrate the database: PostgreSQL at ``url`` when set, else the SQLite file at ``path``."""
        if url:
            from storage.postgres import PostgresDatabase  # psycopg is loaded only where it is used

            return await PostgresDatabase.connect(url, keys_at=_prepare_path(path), migrations=migrations)
        return await SqliteDatabase.connect(path, migrations=migrations)

    async def close(self) -> None:
        """Close every connection; safe to call twice."""
        raise NotImplementedError

    def transaction(self, *, guild_id: int | None = None) -> AbstractAsyncContextManager[Connection]:
        """BEGIN … COMMIT around the block, ROLLBACK if it raises.

        ``guild_id``: the one server whose rows the transaction reads and writes. Transactions of one server
        run one at a time (on SQLite every transaction does: one writer); on PostgreSQL those of different
        servers run side by side, and one that names no server runs alone.
        """
        raise NotImplementedError

    async def run(self, work: Callable[[SyncConnection], T], *, guild_id: int | None = None) -> T:
        """``work(conn)`` inside one write transaction (of ``guild_id``, as ``transaction``), run on the
        database's thread in one hop.

        For hot paths (a click): the write lock is held for one trip to the database's thread instead of one
        per statement, each of which would wait for a turn on a busy event loop.
        """
        raise NotImplementedError

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Rows of a read query, outside any write transaction."""
        raise NotImplementedError

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a read query, or None."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def user_version(self) -> int:
        """The schema version recorded in the database."""
        raise NotImplementedError

    async def table_names(self) -> set[str]:
        """The names of the tables the schema holds."""
        raise NotImplementedError

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


class SqliteDatabase(Database):
    """One write connection guarded by a lock, and one read-only connection for queries.

    ``path`` is the absolute path of the database file.
    """

    engine = "sqlite"

    def __init__(self, path: str, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(
        cls, path: str | Path, *, migrations: Iterable[Migration] | None = None
    ) -> SqliteDatabase:
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
        async with self._lock:
            for conn in (self._reader, self._writer):
                with suppress(ValueError):
                    await conn.close()

    @asynccontextmanager
    async def transaction(self, *, guild_id: int | None = None) -> AsyncIterator[Connection]:
        async with self._lock:  # one writer: every transaction, whatever its server, one at a time
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _translate(exc) from exc
            try:
                yield cast(Connection, self._writer)
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

    async def run(self, work: Callable[[SyncConnection], T], *, guild_id: int | None = None) -> T:
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

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Rows of a read query, on the read-only connection."""
        async with self._reader.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        async with self._reader.execute(sql, params) as cursor:
            row: Row | None = await cursor.fetchone()
            return row

    async def user_version(self) -> int:
        return int(await self.fetchval("PRAGMA user_version") or 0)

    async def table_names(self) -> set[str]:
        return {str(r[0]) for r in await self.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}


#: Where a read runs: the reader (a Database), or the open transaction's connection.
Source = Database | Connection


async def fetch_one(source: Source, sql: str, params: Params = ()) -> Row | None:
    """The first row of a query, inside the caller's transaction (a connection) or on the reader (a Database)."""
    if isinstance(source, Database):
        return await source.fetchone(sql, params)
    return await (await source.execute(sql, params)).fetchone()


async def fetch_all(source: Source, sql: str, params: Params = ()) -> list[Row]:
    """Every row of a query, inside the caller's transaction (a connection) or on the reader (a Database)."""
    if isinstance(source, Database):
        return await source.fetchall(sql, params)
    return list(await (await source.execute(sql, params)).fetchall())


async def inserted_id(cursor: Cursor) -> int | None:
    """The id an ``INSERT … RETURNING <id>`` gave, or None when ``ON CONFLICT DO NOTHING`` inserted nothing."""
    rows = list(await cursor.fetchall())  # read to the end: SQLite finishes the statement only then
    return None if not rows else int(rows[0][0])


async def new_id(cursor: Cursor) -> int:
    """The id an ``INSERT … RETURNING <id>`` without a conflict clause gave."""
    found = await inserted_id(cursor)
    if found is None:
        raise RuntimeError("the INSERT returned no id")
    return found


def _translate(exc: sqlite3.Error) -> Exception:
    if is_storage_failure(exc):
        log.error("storage failure: %s", exc)
        return Unavailable(
            t("The bot cannot save right now (its storage is full or locked); please try again in a minute.")
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
