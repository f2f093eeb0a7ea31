"""The PostgreSQL engine: the contract of ``storage.db.Database`` on psycopg 3 and its connection pool.

For hosts that run several bot processes on one database. A write transaction that names its server
(``transaction(guild_id=…)``, ``run(…, guild_id=…)``) first takes that server's transaction-level advisory
lock: the transactions of one server run one at a time, whatever process they run in, so a rule that
reads then writes sees what the last writer of that server committed — what ``BEGIN IMMEDIATE`` gives on
SQLite — while other servers' transactions run beside it (servers share no rows). A transaction that names
no server takes the exclusive lock of every write. Each process keeps a few write connections, each
behind an ``asyncio.Lock``, a server always on the same one; reads go to a small pool beside them.
psycopg's calls block, so they run on threads (as aiosqlite's do): a ``run`` (a click) is one hop to its
writer's thread.

Storage functions write SQL once, in the dialect both engines read: ``:name`` and ``?`` parameters become
psycopg's, ``%`` is escaped, and ``LIKE`` becomes ``ILIKE`` (SQLite's LIKE ignores ASCII letter case).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any, TypeVar

import psycopg
from psycopg import ClientCursor
from psycopg.adapt import Dumper, Loader
from psycopg.pq import TransactionStatus
from psycopg.rows import RowMaker
from psycopg_pool import ConnectionPool

from domain.errors import Unavailable
from domain.i18n import t
from storage import db
from storage.db import Connection, Database, Migration, MigrationError, Params, Row, SyncConnection

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The advisory lock every write transaction takes (one writer at a time across every process).
WRITE_LOCK = 0x43415543  # "CAUC"
#: The advisory lock held while migrating (processes starting together migrate once).
MIGRATION_LOCK = 0x43415544
LOCK_TIMEOUT = "15s"  # as SQLite's busy timeout: a writer waits this long for another before failing
READERS = 4
WRITERS = 4  # write connections per process: transactions of different servers run side by side


# -- SQL: one dialect written, psycopg's read -----------------------------------------------------

_LITERAL = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_LIKE = re.compile(r"\bLIKE\b")


@lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """``sql`` as psycopg takes it: ``:name`` → ``%(name)s``, ``?`` → ``%s``, ``%`` → ``%%``, LIKE → ILIKE.

    String literals and quoted names are left as they are (but for ``%``, which psycopg reads everywhere).
    """
    out: list[str] = []
    last = 0
    for match in _LITERAL.finditer(sql):
        out.append(_code(sql[last : match.start()]))
        out.append(match.group(0).replace("%", "%%"))
        last = match.end()
    out.append(_code(sql[last:]))
    return "".join(out)


def _code(part: str) -> str:
    part = part.replace("%", "%%").replace("?", "%s")
    part = _NAMED.sub(r"%(\1)s", part)
    return _LIKE.sub("ILIKE", part)


# -- rows and values ------------------------------------------------------------------------------


class PgRow(Sequence[Any]):
    """A row by position or by column name, as ``sqlite3.Row``."""

    __slots__ = ("_index", "_names", "_values")

    def __init__(self, values: tuple[Any, ...], index: dict[str, int], names: list[str]) -> None:
        self._values = values
        self._index = index  # a name's first column, as sqlite3.Row finds it
        self._names = names  # every column's name, in order (a join may give two the same name)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __eq__(self, other: object) -> bool:
        return tuple(self._values) == (tuple(other) if isinstance(other, PgRow | tuple) else other)

    def __hash__(self) -> int:
        return hash(self._values)

    def __repr__(self) -> str:
        return f"PgRow{self._values!r}"

    def keys(self) -> list[str]:
        """The column names, in order, one for each column (as ``sqlite3.Row.keys``)."""
        return list(self._names)


def _rows(cursor: psycopg.Cursor[Any]) -> RowMaker[PgRow]:
    names = [column.name for column in cursor.description or []]
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        index.setdefault(name, i)
    return lambda values: PgRow(tuple(values), index, names)


class _FlagFromBool(Dumper):
    """Python's True and False as the untyped literals '1' and '0': flags are 0/1 integer columns on both
    engines (as SQLite stores them), and an untyped literal is read as the type its place asks for — 1 in an
    integer column, true where a condition stands (``:again AND …``)."""

    oid = 0  # unknown: PostgreSQL decides from the context

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"

    def quote(self, obj: Any) -> bytes:
        return b"'1'" if obj else b"'0'"


class _NumberFromNumeric(Loader):
    """NUMERIC (what ``sum()`` of integers gives) as an int when whole, else a float: SQLite's answers."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        return float(text) if any(c in text for c in ".eEN") else int(text)


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.adapters.register_dumper(bool, _FlagFromBool)
    conn.adapters.register_loader("numeric", _NumberFromNumeric)
    conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    conn.execute("SET TIME ZONE 'UTC'")


def _open(url: str) -> psycopg.Connection[Any]:
    conn: psycopg.Connection[Any] = psycopg.Connection.connect(
        url, autocommit=True, cursor_factory=ClientCursor, row_factory=_rows
    )
    _configure(conn)
    return conn


# -- connections handed to storage functions ------------------------------------------------------


class PgSyncConnection:
    """The connection ``run``'s function gets: statements run at once, on the writer's thread.

    In ``run``, the transaction's ``BEGIN`` and its locks go out with its first statement, in one round trip
    (a click waits for the database's answers one statement at a time: each round trip saved is time saved).
    """

    def __init__(self, writer: _Writer) -> None:
        self._writer = writer

    def execute(self, sql: str, parameters: Params = (), /) -> psycopg.Cursor[Any]:
        opening, self._writer.opening = self._writer.opening, ""
        cursor = self._writer.conn.execute(opening + translate(sql), parameters)
        if opening:  # past the results of BEGIN and of the locks' SELECT, to the statement's own
            cursor.nextset()
            cursor.nextset()
        return cursor

    def executemany(self, sql: str, parameters: Iterable[Params], /) -> psycopg.Cursor[Any]:
        opening, self._writer.opening = self._writer.opening, ""
        if opening:
            self._writer.conn.execute(opening.rstrip("; "))
        cursor = self._writer.conn.cursor()
        cursor.executemany(translate(sql), parameters)
        return cursor


class PgCursor:
    """A statement's outcome inside a transaction, its rows read on the writer's thread."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self._rowcount = rowcount

    @property
    def rowcount(self) -> int:
        return self._rowcount

    async def fetchone(self) -> Row | None:
        return self._rows.pop(0) if self._rows else None

    async def fetchall(self) -> Iterable[Row]:
        rows, self._rows = self._rows, []
        return rows


class PgConnection:
    """The connection ``transaction()`` yields: each statement one hop to its writer's thread."""

    def __init__(self, writer: _Writer) -> None:
        self._writer = writer
        self._sync = PgSyncConnection(writer)

    async def execute(self, sql: str, parameters: Params = (), /) -> PgCursor:
        def work() -> PgCursor:
            cursor = self._sync.execute(sql, parameters)
            return PgCursor(cursor.fetchall() if cursor.description else [], cursor.rowcount)

        return await self._writer.call(work)

    async def executemany(self, sql: str, parameters: Iterable[Params], /) -> PgCursor:
        batch = list(parameters)

        def work() -> PgCursor:
            return PgCursor([], self._sync.executemany(sql, batch).rowcount)

        return await self._writer.call(work)


# -- the database ---------------------------------------------------------------------------------


def load_migrations() -> list[Migration]:
    """PostgreSQL's numbered migrations, in order with no gaps; the first is 0014 (SQLite's 0001–0014)."""
    return db.load_migrations("postgresql")


def apply_migrations(conn: psycopg.Connection[Any], migrations: Iterable[Migration]) -> int:
    """Apply every migration newer than the database's version, each in its own transaction."""
    conn.execute(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
        current = int(row[0]) if row else 0
        for migration in migrations:
            if migration.version <= current:
                continue
            try:
                with conn.transaction():
                    conn.execute(migration.sql.replace("%", "%%"), ())
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                        (migration.version, migration.name),
                    )
            except psycopg.Error as exc:
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} failed: {exc}; "
                    f"the database stays at version {current}"
                ) from exc
            log.info("applied migration %04d_%s", migration.version, migration.name)
            current = migration.version
        return current
    finally:
        conn.execute(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")


def is_connection_failure(exc: BaseException) -> bool:
    """True when the server is unreachable or went away: a condition to report, not a bug."""
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError) and not isinstance(
        exc, psycopg.errors.QueryCanceled
    )


def _unavailable(exc: BaseException) -> Unavailable:
    log.error("storage failure: %s", type(exc).__name__)
    return Unavailable(
        t("The bot cannot save right now (its database is unreachable); please try again in a minute.")
    )


class _Writer:
    """One write connection, its thread and its lock: one transaction at a time on it."""

    def __init__(self, url: str, conn: psycopg.Connection[Any], number: int) -> None:
        self.url = url
        self.conn = conn
        self.lock = asyncio.Lock()
        self.opening = ""  # BEGIN and the locks, sent with the transaction's first statement
        self.thread = ThreadPoolExecutor(1, thread_name_prefix=f"caucus-pg-writer-{number}")

    async def call(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.thread, work)

    def begin(self, guild_id: int | None, *, now: bool = True) -> None:
        """Open a transaction and take its locks; ``now=False``: send both with its first statement (one
        round trip fewer; ``run`` does, where nothing but its statements happens inside)."""
        if self.conn.closed or self.conn.broken:
            log.warning("a write connection was lost; reconnecting")
            self.conn = _open(self.url)
        self.opening = "" if now else f"BEGIN; {_locks(guild_id)}; "
        if now:
            self.conn.execute(f"BEGIN; {_locks(guild_id)}")

    def end(self, commit: bool) -> None:
        if self.opening:  # no statement ran: nothing was begun
            self.opening = ""
            return
        if not (self.conn.closed or self.conn.broken):
            if self.conn.info.transaction_status != TransactionStatus.IDLE:
                self.conn.execute("COMMIT" if commit else "ROLLBACK")
            elif commit:
                raise RuntimeError("the transaction ended before its COMMIT")


def _locks(guild_id: int | None) -> str:
    """The advisory locks a write transaction takes first, held to its end.

    One server's transaction: the shared lock of all writes and that server's own lock (transactions of
    different servers run side by side, those of one server one at a time). A transaction that names no
    server (a claim of due posts over many servers, a purge): the exclusive lock of all writes.
    """
    if guild_id is None:
        return f"SELECT pg_advisory_xact_lock({WRITE_LOCK})"
    return f"SELECT pg_advisory_xact_lock_shared({WRITE_LOCK}), pg_advisory_xact_lock({int(guild_id)})"


class PostgresDatabase(Database):
    """A few write connections per process, each with its lock and thread, and a pool of readers.

    A server's transactions always go to the same write connection, so they queue in this process as they
    would on SQLite's one writer; the advisory locks (``_locks``) keep them one at a time across processes.
    """

    engine = "postgresql"

    def __init__(self, url: str, keys_at: str, writers: list[_Writer], readers: ConnectionPool) -> None:
        self.path = keys_at
        self.url = url
        self._writers = writers
        self._readers = readers
        self._read_threads = ThreadPoolExecutor(READERS, thread_name_prefix="caucus-pg-reader")

    @classmethod
    async def connect(
        cls, url: str, *, keys_at: str, migrations: Iterable[Migration] | None = None
    ) -> PostgresDatabase:
        """Connect to ``url`` and migrate it; key files stay at ``keys_at`` (``[storage] path``)."""

        def start() -> tuple[list[psycopg.Connection[Any]], ConnectionPool]:
            first = _open(url)
            opened = [first]
            try:
                apply_migrations(first, load_migrations() if migrations is None else migrations)
                opened += [_open(url) for _ in range(WRITERS - 1)]
                pool = ConnectionPool(
                    url,
                    min_size=1,
                    max_size=READERS,
                    open=True,
                    kwargs={"autocommit": True, "cursor_factory": ClientCursor, "row_factory": _rows},
                    configure=_configure,
                )
            except BaseException:
                for conn in opened:
                    conn.close()
                raise
            return opened, pool

        try:
            conns, pool = await asyncio.to_thread(start)
        except psycopg.OperationalError as exc:
            raise MigrationError(f"cannot connect to PostgreSQL: {exc}") from exc
        return cls(url, keys_at, [_Writer(url, conn, n) for n, conn in enumerate(conns)], pool)

    async def close(self) -> None:
        for writer in self._writers:
            await writer.lock.acquire()  # let a transaction in progress finish

        def stop() -> None:
            self._readers.close()
            for writer in self._writers:
                writer.conn.close()

        await asyncio.to_thread(stop)
        for writer in self._writers:
            writer.thread.shutdown(wait=False)
        self._read_threads.shutdown(wait=False)

    def _writer(self, guild_id: int | None) -> _Writer:
        return self._writers[0 if guild_id is None else guild_id % len(self._writers)]

    @asynccontextmanager
    async def transaction(self, *, guild_id: int | None = None) -> AsyncIterator[Connection]:
        writer = self._writer(guild_id)
        async with writer.lock:
            try:
                await writer.call(lambda: writer.begin(guild_id))
            except psycopg.Error as exc:
                if is_connection_failure(exc):
                    raise _unavailable(exc) from exc
                raise
            try:
                yield PgConnection(writer)
            except BaseException as exc:
                await writer.call(lambda: writer.end(False))
                if is_connection_failure(exc):
                    raise _unavailable(exc) from exc
                raise
            try:
                await writer.call(lambda: writer.end(True))
            except psycopg.Error as exc:
                if is_connection_failure(exc):
                    raise _unavailable(exc) from exc
                raise

    async def run(self, work: Callable[[SyncConnection], T], *, guild_id: int | None = None) -> T:
        writer = self._writer(guild_id)

        def transaction() -> T:
            writer.begin(guild_id, now=False)
            try:
                result = work(PgSyncConnection(writer))
            except BaseException:
                writer.end(False)
                raise
            writer.end(True)
            return result

        async with writer.lock:
            try:
                return await writer.call(transaction)
            except psycopg.Error as exc:
                if is_connection_failure(exc):
                    raise _unavailable(exc) from exc
                raise

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Rows of a read query, on a pooled connection (what committed transactions wrote)."""

        def read() -> list[Row]:
            with self._readers.connection() as conn:
                return list(conn.execute(translate(sql), params).fetchall())  # type: ignore[arg-type]

        try:
            return await asyncio.get_running_loop().run_in_executor(self._read_threads, read)
        except psycopg.Error as exc:
            if is_connection_failure(exc):
                raise _unavailable(exc) from exc
            raise

    async def user_version(self) -> int:
        return int(await self.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations") or 0)

    async def table_names(self) -> set[str]:
        rows = await self.fetchall(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return {str(r[0]) for r in rows}
