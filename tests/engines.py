"""Which engine the suite runs on, and a real database of it for each test.

``pytest`` runs on SQLite (a file in ``tmp_path``). ``pytest --engine postgresql`` runs the same tests on
PostgreSQL: a throwaway cluster started for the run (``initdb`` and ``pg_ctl`` from Debian's
``postgresql`` package; as root they run as the ``postgres`` user), or the server named by
``CAUCUS_TEST_POSTGRES`` (``postgresql://user@host:port/``). Each database file a test names becomes its own
PostgreSQL database (the same path, the same database: restarts reopen it), made from a migrated template
and dropped when the test ends. Tests of SQLite's own machinery (its file, PRAGMAs, its online backup)
carry ``@pytest.mark.sqlite_only`` and are left out of the PostgreSQL run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from glob import glob
from pathlib import Path
from typing import Any

from storage.db import Database

ENGINE = "sqlite"
_server = ""  # postgresql://user@host:port/ once the run has a server
_created: list[str] = []
_cluster: Path | None = None
_template = ""


def use_postgres(url: str) -> None:
    """Run this session on the PostgreSQL server at ``url`` (its maintenance database is ``postgres``)."""
    global ENGINE, _server
    ENGINE, _server = "postgresql", url.rstrip("/") + "/"


def on_postgres() -> bool:
    return ENGINE == "postgresql"


def use_sqlite() -> None:
    """Back to SQLite for what follows, the server kept (``using("postgresql")`` returns to it): for the
    benchmarks, which run the same scenario on both engines in one process."""
    global ENGINE
    ENGINE = "sqlite"


@contextmanager
def using(engine: str) -> Iterator[None]:
    """The block runs on ``engine`` ("sqlite", or "postgresql" once ``use_postgres`` named a server); the
    engine before is restored after it (the benchmarks run SQLite and PostgreSQL in one process)."""
    global ENGINE
    if engine not in ("sqlite", "postgresql") or (engine == "postgresql" and not _server):
        raise ValueError(f"no {engine!r} engine to use here (use_postgres(url) names the server)")
    before, ENGINE = ENGINE, engine
    try:
        yield
    finally:
        ENGINE = before


def server_settings(
    names: tuple[str, ...] = ("server_version", "fsync", "synchronous_commit", "full_page_writes"),
) -> dict[str, str]:
    """These settings of the PostgreSQL server (``SHOW``), for a report to state what it ran on."""
    import psycopg

    found: dict[str, str] = {}
    with psycopg.connect(_server + "postgres", autocommit=True) as admin:
        for name in names:
            row = admin.execute(f"SHOW {name}").fetchone()
            found[name] = str(row[0]) if row else "?"
    return found


def _database_name(path: str | Path) -> str:
    """The PostgreSQL database that stands for the file at ``path`` (the same path, the same database)."""
    return "t_" + hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:20]  # noqa: S324 (a name)


def url_for(path: str | Path) -> str:
    """The ``[storage] url`` for the database at ``path``: empty on SQLite, its own database on PostgreSQL."""
    if ENGINE != "postgresql":
        return ""
    name = _database_name(path)
    if name in _created:  # made for this test already: no trip to the server (a snapshot asks often)
        return _server + name
    import psycopg

    with psycopg.connect(_server + "postgres", autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_template_name(admin)}"')
            _created.append(name)
    return _server + name


def database_exists(path: str | Path) -> bool:
    """Whether the database at ``path`` was made (SQLite: its file; PostgreSQL: its database), making none."""
    if ENGINE != "postgresql":
        return Path(path).exists()
    name = _database_name(path)
    import psycopg

    with psycopg.connect(_server + "postgres", autocommit=True) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def empty_url_for(path: str | Path) -> str:
    """A PostgreSQL database with no table at all (as ``createdb`` makes one), its own for ``path``; dropped
    when the test ends. For what must start from nothing (``caucus migrate-db``'s target)."""
    assert ENGINE == "postgresql", "empty_url_for needs the PostgreSQL run (--engine postgresql)"
    name = "e_" + hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:20]  # noqa: S324 (a name)
    import psycopg

    with psycopg.connect(_server + "postgres", autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
            _created.append(name)
    return _server + name


def _template_name(admin: Any) -> str:
    """A database migrated once per run (by the real migration code), copied for every test."""
    global _template
    if _template:
        return _template
    from storage import postgres

    digest = hashlib.sha1("".join(m.sql for m in postgres.load_migrations()).encode()).hexdigest()[:12]  # noqa: S324
    name = f"caucus_template_{digest}"
    if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
        admin.execute(f'CREATE DATABASE "{name}"')
        with closing(postgres._open(_server + name)) as conn:  # the real migration code, as the bot runs it
            postgres.apply_migrations(conn, postgres.load_migrations())
    _template = name
    return name


def drop_created() -> None:
    """Drop the databases this test made (bot processes still connected are cut off)."""
    if not _created:
        return
    import psycopg

    with psycopg.connect(_server + "postgres", autocommit=True) as admin:
        while _created:
            admin.execute(f'DROP DATABASE IF EXISTS "{_created.pop()}" WITH (FORCE)')


async def open_db(path: str | Path, **kwargs: Any) -> Database:
    """The test's database at ``path`` on the engine of this run, migrated."""
    return await Database.open(path, url=url_for(path), **kwargs)


# -- reading and writing behind the bot's back -----------------------------------------------------


class Raw:
    """A plain connection of the engine, for a test to look at or tamper with what the bot stored."""

    def __init__(self, path: str | Path, *, autocommit: bool = False) -> None:
        self._pg: Any = None
        self._sqlite: sqlite3.Connection | None = None
        if ENGINE == "postgresql":
            import psycopg

            from storage.postgres import _configure, _rows

            self._pg = psycopg.connect(
                url_for(path), autocommit=autocommit, cursor_factory=psycopg.ClientCursor, row_factory=_rows
            )
            _configure(self._pg)  # as the bot's connections: flags as 0/1, whole sums as ints, UTC
            if not autocommit:
                self._pg.commit()  # _configure's SETs opened a transaction; the test's own starts clean
        else:
            self._sqlite = sqlite3.connect(path, timeout=30, isolation_level=None if autocommit else "")

    def execute(self, sql: str, params: Any = ()) -> Any:
        if self._pg is not None:
            from storage.postgres import translate

            return self._pg.execute(translate(sql), params)
        assert self._sqlite is not None
        return self._sqlite.execute(sql, params)

    def rows(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.execute(sql, params).fetchall()]

    def commit(self) -> None:
        (self._pg or self._sqlite).commit()

    def rollback(self) -> None:
        (self._pg or self._sqlite).rollback()

    def close(self) -> None:
        (self._pg or self._sqlite).close()

    def __enter__(self) -> Raw:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.commit()
        else:
            self.rollback()
        self.close()


def raw_rows(path: str | Path, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
    """Every row of ``sql`` on the database at ``path``, read apart from the bot."""
    with closing_raw(path) as raw:
        return raw.rows(sql, params)


@contextmanager
def closing_raw(path: str | Path, *, autocommit: bool = False) -> Iterator[Raw]:
    raw = Raw(path, autocommit=autocommit)
    try:
        yield raw
        raw.commit()
    finally:
        raw.close()


def columns_of(path: str | Path) -> dict[str, list[str]]:
    """The bot's tables in the database at ``path``, sorted, each with its columns in order (one query);
    each engine's own bookkeeping (SQLite's ``sqlite_*``, PostgreSQL's ``schema_migrations``) left out."""
    if ENGINE == "postgresql":
        sql = (
            "SELECT c.table_name, c.column_name FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_schema, table_name) "
            "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' "
            "AND c.table_name <> 'schema_migrations' ORDER BY c.table_name, c.ordinal_position"
        )
    else:
        sql = (
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p "
            "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY m.name, p.cid"
        )
    found: dict[str, list[str]] = {}
    for table, column in raw_rows(path, sql):
        found.setdefault(str(table), []).append(str(column))
    return dict(sorted(found.items()))


def table_names(path: str | Path) -> list[str]:
    """The bot's tables in the database at ``path``, sorted (as ``columns_of``)."""
    return list(columns_of(path))


def column_names(path: str | Path, table: str) -> list[str]:
    """The columns of ``table`` in the database at ``path``, in their order (SQLite's ``PRAGMA table_info``,
    PostgreSQL's ``information_schema.columns``)."""
    return columns_of(path).get(table, [])


def integrity_errors() -> tuple[type[Exception], ...]:
    """What a refused write raises on this run's engine (a constraint or a trigger)."""
    if ENGINE == "postgresql":
        import psycopg

        return (psycopg.IntegrityError,)
    return (sqlite3.IntegrityError,)


def database_errors() -> tuple[type[Exception], ...]:
    """What any failed statement raises on this run's engine (``sqlite3.DatabaseError`` on SQLite)."""
    if ENGINE == "postgresql":
        import psycopg

        return (psycopg.DatabaseError,)
    return (sqlite3.DatabaseError,)


def add_failing_trigger(path: str | Path, name: str, table: str, when: str, message: str) -> None:
    """A trigger refusing an INSERT into ``table`` whose NEW row meets ``when`` (SQL both engines read),
    with ``message``: a write made to fail inside a transaction, behind the bot's back."""
    with closing_raw(path) as raw:
        if ENGINE == "postgresql":
            raw.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF {when} THEN RAISE EXCEPTION '{message}'; END IF; RETURN NEW; END $$"
            )
            raw.execute(
                f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
            )
        else:
            raw.execute(
                f"CREATE TRIGGER {name} BEFORE INSERT ON {table} WHEN {when} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )


def drop_triggers(raw: Raw, table: str) -> None:
    """Drop every trigger of ``table`` (as someone holding the database could), on this raw connection."""
    if ENGINE == "postgresql":
        names = raw.rows(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = CAST(? AS regclass) AND NOT tgisinternal", (table,)
        )
        for (name,) in names:
            raw.execute(f'DROP TRIGGER "{name}" ON {table}')
    else:
        names = raw.rows("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,))
        for (name,) in names:
            raw.execute(f'DROP TRIGGER "{name}"')


# -- a throwaway PostgreSQL cluster -----------------------------------------------------------------


def _free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_cluster() -> str:
    """initdb and start a PostgreSQL cluster in a temporary folder; returns its server url."""
    global _cluster
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = found[-1] if found else shutil.which("initdb")
    if not initdb:
        raise RuntimeError(
            "--engine postgresql needs PostgreSQL's server (Debian: apt-get install postgresql)"
        )
    bin_dir = Path(initdb).parent
    folder = Path(tempfile.mkdtemp(prefix="caucus-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(folder, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(
        [*as_postgres, str(bin_dir / "initdb"), "-D", str(folder / "data"), "-U", "caucus", "--auth=trust",
         "-E", "UTF8", "--locale=C.UTF-8"],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=400"
    )
    subprocess.run(
        [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-l", str(folder / "log"), "-o",
         options, "-w", "start"],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    _cluster = folder
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with closing(socket.socket()) as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    return f"postgresql://caucus@127.0.0.1:{port}/"


def stop_cluster() -> None:
    if _cluster is None:
        return
    bin_dir = Path(sorted(glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]).parent
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(
        [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(_cluster / "data"), "-m", "immediate", "stop"],
        check=False, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    shutil.rmtree(_cluster, ignore_errors=True)
