"""``caucus migrate-db``: a coalition's SQLite database copied into an empty PostgreSQL database.

The SQLite file at ``[storage] path`` is first brought to the latest version, as the bot's start would. The
target gets PostgreSQL's migrations, then every table's rows, all in one transaction: parents before
children, the tables' own triggers off (rows are copied as they are: the running counts are rows too, and a
closed statement keeps the signatures it took while open), then every identity's sequence set past the
largest id, so the next poll or point gets the id SQLite would have given. Before it commits, each table is
checked row for row: the same count and the same digest of its rows in primary-key order; any difference
rolls everything back. The key files stay files beside ``[storage] path`` (never copied into the database):
they are checked against the copy, so the operator knows the key files and the data belong together.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from storage import db as sqlite_db
from storage import postgres
from storage.db import masked_url
from storage.polls import KEY_BYTES, key_path
from storage.record import SEED_BYTES, signing_key_path

BATCH = 5_000  # rows read from SQLite and sent to PostgreSQL (and read back) at a time
CONNECT_TIMEOUT = 15  # seconds
_TEXT_TYPES = {"text", "character varying", "character"}


class MigrateError(Exception):
    """migrate-db refused or failed: one sentence saying what and what to do; the target is unchanged."""


@dataclass(frozen=True)
class KeyChecks:
    """What the key files mean, from the domain (storage knows where they are, not what they prove).

    ``ballot``: the check value an anonymous poll opened under this ballot key keeps (``polls.key_check``).
    ``record``: whether this server's checkpoint note was signed with this record signing key.
    """

    ballot: Callable[[bytes], bytes]
    record: Callable[[int, bytes, str], bool]


@dataclass(frozen=True)
class TableCopy:
    """One table copied: its rows, and the digest both engines gave of them."""

    name: str
    rows: int
    digest: str


@dataclass(frozen=True)
class KeyFile:
    """A key file beside ``[storage] path``, and what was checked of it against the copy."""

    what: str
    path: Path
    present: bool
    note: str


@dataclass(frozen=True)
class Migrated:
    """What ``migrate_to_postgres`` copied and checked."""

    source: str
    target: str  # the url, its password masked
    version: int
    upgraded_from: int  # the SQLite file's version before it was brought to ``version``
    tables: tuple[TableCopy, ...]
    next_ids: tuple[tuple[str, int], ...]  # (table, the id its next row gets)
    keys: tuple[KeyFile, ...]
    seconds: float

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


@dataclass(frozen=True)
class _Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # the primary key's columns, in order (every column when there is none)
    parents: frozenset[str]


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0].rstrip(".") if lines else type(exc).__name__


# -- the SQLite side --------------------------------------------------------------------------------


def _sqlite_version(path: Path) -> tuple[int, int]:
    """The file's ``user_version`` and how many tables it holds, read without changing it."""
    if not path.is_file():
        raise MigrateError(f"there is no SQLite database at {path} ([storage] path): nothing to copy")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise MigrateError(f"cannot open the SQLite database {path}: {_one_line(exc)}") from exc
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = int(conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise MigrateError(f"{path} ([storage] path) is not a SQLite database: {_one_line(exc)}") from exc
    finally:
        conn.close()
    return version, tables


def _sqlite_tables(src: sqlite3.Connection) -> list[_Table]:
    """The tables of the SQLite schema, in the order they were made, with their keys and parents."""
    names = [
        str(r[0])
        for r in src.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
            "ORDER BY rowid"
        )
    ]
    tables: list[_Table] = []
    for name in names:
        info = src.execute("SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", (name,)).fetchall()
        columns = tuple(str(r[0]) for r in info)
        key = tuple(str(r[0]) for r in sorted((r for r in info if r[1]), key=lambda r: int(r[1])))
        parents = {str(r[0]) for r in src.execute('SELECT "table" FROM pragma_foreign_key_list(?)', (name,))}
        tables.append(_Table(name, columns, key or columns, frozenset(parents - {name})))
    return tables


def _parents_first(tables: Sequence[_Table], pg_parents: dict[str, set[str]]) -> list[_Table]:
    """The tables with every table after the tables its foreign keys (SQLite's and PostgreSQL's) name."""
    left = {t.name: set(t.parents | pg_parents.get(t.name, set())) & {u.name for u in tables} for t in tables}
    ordered: list[_Table] = []
    while left:
        ready = [t for t in tables if t.name in left and not left[t.name]]
        if not ready:
            raise MigrateError(
                f"the tables {', '.join(sorted(left))} refer to each other in a cycle: no order copies them"
            )
        for table in ready:
            ordered.append(table)
            del left[table.name]
        for parents in left.values():
            parents.difference_update(t.name for t in ready)
    return ordered


# -- the digest: rows in primary-key order, values normalised ---------------------------------------


def _value(value: Any) -> bytes:
    if value is None:
        return b"n;"
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return b"i%d;" % value
    if isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
        return b"t%d:%s" % (len(data), data)
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        return b"b%d:%s" % (len(data), data)
    if isinstance(value, float):
        return b"f%s;" % repr(value).encode()
    raise TypeError(f"no digest for a value of type {type(value).__name__}")


class _Digest:
    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.rows = 0

    def add(self, row: Iterable[Any]) -> None:
        self._hash.update(b"".join(_value(v) for v in row) + b"\n")
        self.rows += 1

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


# -- the PostgreSQL side ----------------------------------------------------------------------------


def _connect(url: str, shown: str) -> psycopg.Connection[Any]:
    if urlsplit(url).scheme not in ("postgresql", "postgres"):
        raise MigrateError(
            f"--to {shown!r} is not a PostgreSQL address; give one such as postgresql://caucus@db.example.org/caucus"
        )
    try:
        psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise MigrateError(
            f"--to {shown!r} is not a PostgreSQL address psycopg can read: {_one_line(exc)}"
        ) from exc
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
    except psycopg.Error as exc:
        raise MigrateError(f"cannot connect to PostgreSQL at {shown}: {_one_line(exc)}") from exc


def _pg_tables(pg: psycopg.Connection[Any]) -> list[str]:
    rows = pg.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "ORDER BY table_name"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _refuse_unless_empty(pg: psycopg.Connection[Any], shown: str) -> None:
    schema = pg.execute("SELECT current_schema()").fetchone()
    if schema is None or schema[0] is None:
        raise MigrateError(f"the target {shown} has no schema to create tables in (check its search_path)")
    found = _pg_tables(pg)
    if found:
        listed = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        raise MigrateError(
            f"the target {shown} is not empty: its schema {schema[0]} already holds "
            f"{len(found)} table{'s' if len(found) != 1 else ''} ({listed}); migrate-db copies only into an "
            "empty database, so create a new one (createdb) and give its address"
        )


def _pg_columns(pg: psycopg.Connection[Any]) -> dict[str, dict[str, str]]:
    """Every table of the target's schema: its columns and their types."""
    found: dict[str, dict[str, str]] = {}
    for table, column, kind in pg.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    ).fetchall():
        found.setdefault(str(table), {})[str(column)] = str(kind)
    return found


def _pg_parents(pg: psycopg.Connection[Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for child, parent in pg.execute(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c "
        "JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = current_schema()"
    ).fetchall():
        found.setdefault(str(child).strip('"'), set()).add(str(parent).strip('"'))
    return found


def _compare_schemas(tables: Sequence[_Table], pg_columns: dict[str, dict[str, str]], version: int) -> None:
    """The SQLite schema and the target's at ``version`` hold the same tables and columns (else refuse)."""
    for table in tables:
        theirs = pg_columns.get(table.name)
        if theirs is None:
            raise MigrateError(
                f"PostgreSQL's schema at version {version} has no table {table.name}, which the SQLite database "
                "holds: this version of Caucus cannot copy it"
            )
        if set(theirs) != set(table.columns):
            differ = sorted(set(theirs) ^ set(table.columns))
            raise MigrateError(
                f"the table {table.name} has other columns on PostgreSQL than on SQLite ({', '.join(differ)}) "
                f"at version {version}: this version of Caucus cannot copy it"
            )
    extra = sorted(set(pg_columns) - {t.name for t in tables} - {"schema_migrations"})
    if extra:
        raise MigrateError(
            f"PostgreSQL's schema at version {version} has tables the SQLite database has not "
            f"({', '.join(extra)}): this version of Caucus cannot copy into it"
        )


def _order_by(table: _Table, types: dict[str, str] | None) -> sql.Composable:
    """The primary key, text compared by code point on both engines (SQLite's BINARY, PostgreSQL's "C")."""
    parts: list[sql.Composable] = []
    for column in table.key:
        if types is None:
            parts.append(sql.SQL("{} COLLATE BINARY").format(sql.Identifier(column)))
        elif types.get(column) in _TEXT_TYPES:
            parts.append(sql.SQL('{} COLLATE "C"').format(sql.Identifier(column)))
        else:
            parts.append(sql.Identifier(column))
    return sql.SQL(", ").join(parts)


def _select(table: _Table, types: dict[str, str] | None) -> sql.Composed:
    return sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in table.columns),
        sql.Identifier(table.name),
        _order_by(table, types),
    )


def _batches(cursor: sqlite3.Cursor) -> Iterator[list[Any]]:
    while batch := cursor.fetchmany(BATCH):
        yield batch


def _copy_table(
    src: sqlite3.Connection, pg: psycopg.Connection[Any], table: _Table
) -> tuple[_Digest, sqlite3.Error | None]:
    """Every row of one table sent with COPY, in batches; the digest of what SQLite gave."""
    digest = _Digest()
    # sqlite3 quotes names as PostgreSQL does ("…" with "" inside), so one composed statement serves both
    select = _select(table, None).as_string(pg)
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in table.columns)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table.name), columns)
    with pg.cursor() as cursor, cursor.copy(statement) as copy:
        try:
            rows = src.execute(select)
            for batch in _batches(rows):
                for row in batch:
                    digest.add(row)
                    copy.write_row(row)
        except sqlite3.Error as exc:  # an unreadable row: reported once the COPY is closed
            return digest, exc
    return digest, None


def _pg_digest(pg: psycopg.Connection[Any], table: _Table, types: dict[str, str]) -> _Digest:
    digest = _Digest()
    with pg.cursor(name=f"caucus_verify_{abs(hash(table.name))}") as cursor:
        cursor.itersize = BATCH
        cursor.execute(_select(table, types))
        for row in cursor:
            digest.add(row)
    return digest


def _set_sequences(
    src: sqlite3.Connection, pg: psycopg.Connection[Any], tables: Sequence[_Table]
) -> list[tuple[str, int]]:
    """Every identity column's sequence past the largest id (and past SQLite's AUTOINCREMENT counter, which
    remembers ids of deleted rows), so the next row gets the id SQLite would have given it."""
    names = {t.name for t in tables}
    has_sequence_table = (
        src.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
        ).fetchone()
        is not None
    )
    done: list[tuple[str, int]] = []
    for table, column in pg.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name"
    ).fetchall():
        if table not in names:
            continue
        largest = src.execute(
            sql.SQL("SELECT max({}) FROM {}")
            .format(sql.Identifier(column), sql.Identifier(table))
            .as_string(pg)
        ).fetchone()[0]
        counter = None
        if has_sequence_table:
            found = src.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
            counter = None if found is None else found[0]
        last = max(int(largest or 0), int(counter or 0))
        if last > 0:
            pg.execute(
                "SELECT setval(pg_get_serial_sequence(%s, %s), %s)",
                (sql.Identifier(table).as_string(pg), column, last),
            )
        done.append((str(table), last + 1))
    return done


def _anonymous_polls(pg: psycopg.Connection[Any]) -> list[tuple[int, int, bytes]]:
    rows = pg.execute(
        "SELECT guild_id, number, key_check FROM polls WHERE anonymous = 1 ORDER BY guild_id, number"
    ).fetchall()
    return [(int(g), int(n), bytes(k)) for g, n, k in rows]


def _latest_checkpoints(pg: psycopg.Connection[Any]) -> list[tuple[int, str]]:
    rows = pg.execute(
        "SELECT DISTINCT ON (guild_id) guild_id, note FROM record_checkpoints ORDER BY guild_id, tree_size DESC"
    ).fetchall()
    return [(int(g), str(n)) for g, n in rows]


def _read_key(path: Path, size: int, what: str) -> bytes | None:
    if not path.exists():
        return None
    try:
        secret = path.read_bytes()
    except OSError as exc:
        raise MigrateError(f"cannot read the {what} {path}: {exc.strerror}") from exc
    if len(secret) != size:
        raise MigrateError(
            f"the {what} {path} holds {len(secret)} bytes, not {size}: restore it from a backup"
        )
    return secret


def _numbers(polls: Iterable[tuple[int, int, bytes]]) -> str:
    return ", ".join(f"#{n}" for _, n, _ in polls)


def _check_ballot_key(pg: psycopg.Connection[Any], keys_at: str, checks: KeyChecks) -> KeyFile:
    """The ballot key opens the copied anonymous polls (each keeps the check value of the key it opened
    under): the key file and the data belong together."""
    path = key_path(keys_at)
    secret = _read_key(path, KEY_BYTES, "ballot key")
    polls = _anonymous_polls(pg)
    if secret is None:
        if polls:
            raise MigrateError(
                f"the database holds {len(polls)} anonymous poll{'s' if len(polls) != 1 else ''} but there is no "
                f"ballot key at {path}: put the key file the bot ran with there (beside [storage] path), then run "
                "migrate-db again"
            )
        return KeyFile("ballot key", path, False, "none exists yet (no anonymous poll needs one)")
    if not polls:
        return KeyFile("ballot key", path, True, "present (no anonymous poll to check it against)")
    check = checks.ballot(secret)
    opened = [p for p in polls if p[2] == check]
    if not opened:
        raise MigrateError(
            f"the ballot key {path} opens none of the database's {len(polls)} anonymous polls: it is not the "
            "key this database ran with; put that key file there, then run migrate-db again"
        )
    if len(opened) == len(polls):
        every = "the anonymous poll" if len(polls) == 1 else f"all {len(polls)} anonymous polls"
        return KeyFile("ballot key", path, True, f"opens {every}")
    others = [p for p in polls if p[2] != check]
    return KeyFile(
        "ballot key", path, True,
        f"opens {len(opened)} of {len(polls)} anonymous polls ({_numbers(others)} opened under an earlier key "
        "and take no more votes, as before)",
    )  # fmt: skip


def _check_record_key(pg: psycopg.Connection[Any], keys_at: str, checks: KeyChecks) -> KeyFile:
    """The record signing key signed the latest checkpoint of every server that has one."""
    path = signing_key_path(keys_at)
    seed = _read_key(path, SEED_BYTES, "record signing key")
    latest = _latest_checkpoints(pg)
    if seed is None:
        if latest:
            raise MigrateError(
                f"the database holds checkpoints of the decision record but there is no record signing key at "
                f"{path}: put the key file the bot ran with there (beside [storage] path), then run migrate-db again"
            )
        return KeyFile("record signing key", path, False, "none exists yet (no checkpoint was signed)")
    if not latest:
        return KeyFile("record signing key", path, True, "present (no checkpoint to check it against)")
    unsigned = [guild_id for guild_id, note in latest if not checks.record(guild_id, seed, note)]
    if unsigned:
        raise MigrateError(
            f"the record signing key {path} did not sign the latest checkpoint of server "
            f"{', '.join(map(str, unsigned))}: it is not the key this database ran with; put that key file there, "
            "then run migrate-db again"
        )
    servers = f"{len(latest)} server{'s' if len(latest) != 1 else ''}"
    return KeyFile("record signing key", path, True, f"signed the latest checkpoint of {servers}")


# -- the copy -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Copied:
    version: int
    tables: tuple[TableCopy, ...]
    next_ids: tuple[tuple[str, int], ...]
    keys: tuple[KeyFile, ...]


def _copy_all(
    source: Path, pg: psycopg.Connection[Any], shown: str, keys_at: str, checks: KeyChecks, version: int
) -> _Copied:
    src = sqlite3.connect(source, isolation_level=None, timeout=sqlite_db.BUSY_TIMEOUT_MS / 1000)
    try:
        src.execute("PRAGMA query_only = ON")
        src.execute("BEGIN")  # one read transaction: every table as of one moment
        tables = _sqlite_tables(src)
        with pg.transaction():
            # as a bot process would: no other process migrates or writes while the copy runs
            pg.execute(
                "SELECT pg_advisory_xact_lock(%s), pg_advisory_xact_lock(%s)",
                (postgres.MIGRATION_LOCK, postgres.WRITE_LOCK),
            )
            _refuse_unless_empty(pg, shown)
            reached = postgres.apply_migrations(pg, postgres.load_migrations())
            if reached != version:
                raise MigrateError(
                    f"PostgreSQL's migrations reach version {reached}, the SQLite database is at version {version}: "
                    "a copy needs the same schema on both"
                )
            pg_columns = _pg_columns(pg)
            _compare_schemas(tables, pg_columns, reached)
            ordered = _parents_first(tables, _pg_parents(pg))
            for table in ordered:
                pg.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(sql.Identifier(table.name)))
            copied: list[TableCopy] = []
            for table in ordered:
                try:
                    digest, unreadable = _copy_table(src, pg, table)
                except psycopg.Error as exc:
                    raise MigrateError(
                        f"PostgreSQL refused the rows of the table {table.name}: {_one_line(exc)}; the copy was "
                        f"rolled back, nothing changed in {shown}"
                    ) from exc
                if unreadable is not None:
                    raise MigrateError(
                        f"cannot read the table {table.name} of the SQLite database: {_one_line(unreadable)}; the "
                        f"copy was rolled back, nothing changed in {shown}"
                    )
                copied.append(TableCopy(table.name, digest.rows, digest.hexdigest()))
            for table in ordered:
                pg.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(sql.Identifier(table.name)))
            next_ids = _set_sequences(src, pg, ordered)
            # row for row, before committing: the count and the digest of every table as PostgreSQL holds it
            for table, done in zip(ordered, copied, strict=True):
                counted = pg.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table.name)))
                row = counted.fetchone()
                theirs = _pg_digest(pg, table, pg_columns[table.name])
                if row is None or int(row[0]) != done.rows or theirs.rows != done.rows:
                    raise MigrateError(
                        f"the table {table.name} has {done.rows} rows on SQLite but {row[0] if row else 0} on "
                        f"PostgreSQL after the copy; the copy was rolled back, nothing changed in {shown}"
                    )
                if theirs.hexdigest() != done.digest:
                    raise MigrateError(
                        f"the rows of the table {table.name} differ between SQLite and PostgreSQL after the copy; "
                        f"the copy was rolled back, nothing changed in {shown}"
                    )
            try:
                keys = (_check_ballot_key(pg, keys_at, checks), _check_record_key(pg, keys_at, checks))
            except MigrateError as exc:
                raise MigrateError(f"{exc} (the copy was rolled back, nothing changed in {shown})") from exc
    finally:
        src.close()
    return _Copied(reached, tuple(copied), tuple(next_ids), keys)


async def migrate_to_postgres(path: str, url: str, checks: KeyChecks) -> Migrated:
    """Copy the SQLite database at ``path`` into the empty PostgreSQL database at ``url``, checked row for
    row, or raise ``MigrateError`` with the target left as it was. Key files stay beside ``path``."""
    started = time.monotonic()
    shown = masked_url(url)
    source = Path(path)
    before, table_count = await asyncio.to_thread(_sqlite_version, source)
    if before == 0 and table_count == 0:
        raise MigrateError(
            f"{path} ([storage] path) is an empty file, not a Caucus database: nothing to copy"
        )
    sqlite_latest = sqlite_db.load_migrations()[-1].version
    pg_latest = postgres.load_migrations()[-1].version
    if sqlite_latest != pg_latest:
        raise MigrateError(
            f"this version of Caucus brings SQLite databases to version {sqlite_latest} but PostgreSQL ones to "
            f"version {pg_latest}: a copy needs the same schema on both"
        )
    if before > sqlite_latest:
        raise MigrateError(
            f"the SQLite database {path} is at version {before}, newer than this version of Caucus knows "
            f"({sqlite_latest}, PostgreSQL's latest too): run migrate-db of the Caucus that wrote it"
        )
    pg = await asyncio.to_thread(_connect, url, shown)
    try:
        await asyncio.to_thread(_refuse_unless_empty, pg, shown)
        try:  # brought to the latest version, as the bot's start would
            database = await sqlite_db.SqliteDatabase.connect(source)
        except (sqlite3.Error, sqlite_db.MigrationError) as exc:
            raise MigrateError(
                f"cannot bring the SQLite database {path} up to date: {_one_line(exc)}"
            ) from exc
        try:
            version = await database.user_version()
        finally:
            await database.close()
        if version != pg_latest:
            raise MigrateError(
                f"the SQLite database is at version {version} but PostgreSQL's latest is version {pg_latest}: a "
                "copy needs the same schema on both"
            )
        upgraded = f" (the SQLite file was brought up from version {before} to {version} first)"
        try:
            copied = await asyncio.to_thread(_copy_all, source, pg, shown, path, checks, version)
        except MigrateError as exc:
            raise MigrateError(f"{exc}{upgraded if before != version else ''}") from exc
        except sqlite_db.MigrationError as exc:
            raise MigrateError(f"{_one_line(exc)}; nothing changed in {shown}") from exc
        except psycopg.Error as exc:
            raise MigrateError(
                f"the copy into {shown} failed: {_one_line(exc)}; it was rolled back, nothing changed there"
            ) from exc
        except sqlite3.Error as exc:
            raise MigrateError(f"cannot read the SQLite database {path}: {_one_line(exc)}") from exc
    finally:
        await asyncio.to_thread(pg.close)
    return Migrated(
        source=str(source), target=shown, version=copied.version, upgraded_from=before, tables=copied.tables,
        next_ids=copied.next_ids, keys=copied.keys, seconds=time.monotonic() - started,
    )  # fmt: skip
