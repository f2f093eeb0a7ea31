"""PostgreSQL's write locks, seen from two bot processes on one database (two ``Database`` objects).

A write transaction that names its server takes that server's advisory lock (and the shared lock of all
writes): transactions of different servers run side by side, those of one server one at a time, the later
seeing what the earlier committed. One that names no server takes the exclusive lock of all writes: it
waits for every server's open transaction, and they wait for it. ``run`` takes the same locks.

Nothing here sleeps to assert: a transaction is shown running beside another by completing while the
other is held open (events), and shown waiting by PostgreSQL's own lock table (``pg_locks``: an advisory
lock asked for and not granted) while the transaction it waits for is still open.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import psycopg
import pytest

from storage import postgres
from storage.db import Connection, Database, SyncConnection
from tests import engines

pytestmark = pytest.mark.postgresql_only

FIRST = 900_000_000_000_000_001  # two servers' ids, as Discord's snowflakes (above 32 bits)
SECOND = 900_000_000_000_000_002
WAIT = 10.0  # seconds a test waits for what must happen before it fails (below the lock timeout, 15 s)
KINDS = ("transaction", "run")


class Processes:
    """Two bot processes' databases on one PostgreSQL database, and a look at its lock table."""

    def __init__(self, url: str, first: Database, second: Database) -> None:
        self.url = url
        self.first = first
        self.second = second

    def _waiting(self) -> set[int]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks WHERE locktype = 'advisory' "
                "AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ).fetchall()
        return {int(row[0]) for row in rows}

    async def waiting(self) -> set[int]:
        """The advisory locks some transaction is waiting for, once there is one (fails after ``WAIT``)."""
        deadline = time.monotonic() + WAIT
        while not (keys := await asyncio.to_thread(self._waiting)):
            if time.monotonic() > deadline:
                raise AssertionError(f"no transaction waited for a lock within {WAIT} s")
            await asyncio.sleep(0.01)  # polling the lock table, not an assertion
        return keys

    async def joined_at(self, guild_id: int) -> int:
        value = await self.second.fetchval("SELECT joined_at FROM guilds WHERE guild_id = ?", (guild_id,))
        return int(value)


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[Processes]:
    path = tmp_path / "x.db"
    url = engines.url_for(path)
    first = await Database.open(path, url=url)
    second = await Database.open(path, url=url)
    try:
        assert isinstance(first, postgres.PostgresDatabase) and isinstance(second, postgres.PostgresDatabase)
        for guild_id in (FIRST, SECOND):
            async with first.transaction(guild_id=guild_id) as conn:
                await conn.execute(
                    "INSERT INTO guilds (guild_id, name, joined_at) VALUES (?, 'a server', 0)", (guild_id,)
                )
        yield Processes(url, first, second)
    finally:
        await first.close()
        await second.close()


# A server's counter (its row's joined_at), read then written: two writers overlapping would lose a count.


async def bump(conn: Connection, guild_id: int) -> int:
    """Add one to the server's counter; returns what it read."""
    row = await (
        await conn.execute("SELECT joined_at FROM guilds WHERE guild_id = ?", (guild_id,))
    ).fetchone()
    assert row is not None
    await conn.execute("UPDATE guilds SET joined_at = ? WHERE guild_id = ?", (int(row[0]) + 1, guild_id))
    return int(row[0])


def bump_now(conn: SyncConnection, guild_id: int) -> int:
    """``bump`` inside ``Database.run``."""
    row = conn.execute("SELECT joined_at FROM guilds WHERE guild_id = ?", (guild_id,)).fetchone()
    assert row is not None
    conn.execute("UPDATE guilds SET joined_at = ? WHERE guild_id = ?", (int(row[0]) + 1, guild_id))
    return int(row[0])


async def write(db: Database, kind: str, guild_id: int | None, counter: int, entered: list[str]) -> int:
    """One write transaction (``transaction`` or ``run``, naming ``guild_id``) bumping ``counter``'s server;
    "second begins" goes to ``entered`` once it is inside (it holds its locks: in ``run``, from its first
    statement on, which carries the BEGIN and the locks); returns what it read."""
    if kind == "run":

        def work(conn: SyncConnection) -> int:
            conn.execute("SELECT 1")  # the first statement: the transaction's locks are held from here
            entered.append("second begins")
            return bump_now(conn, counter)

        return await db.run(work, guild_id=guild_id)
    async with db.transaction(guild_id=guild_id) as conn:
        entered.append("second begins")
        return await bump(conn, counter)


async def hold_open(
    db: Database, guild_id: int | None, inside: asyncio.Event, until: Callable[[], Awaitable[object]]
) -> None:
    """A transaction (naming ``guild_id``) that bumps FIRST's counter, sets ``inside`` and stays open until
    ``until()`` returns."""
    async with db.transaction(guild_id=guild_id) as conn:
        await bump(conn, FIRST)
        inside.set()
        await until()


@pytest.mark.parametrize("kind", KINDS)
async def test_transactions_of_different_servers_run_side_by_side(two: Processes, kind: str) -> None:
    inside, done = asyncio.Event(), asyncio.Event()
    entered: list[str] = []

    async def other() -> int:
        await inside.wait()
        seen = await write(two.second, kind, SECOND, SECOND, entered)
        done.set()
        return seen

    # the first stays open until the second has committed: were the second waiting for it, neither would
    # end, and the first gives up after WAIT
    _, seen = await asyncio.gather(
        hold_open(two.first, FIRST, inside, lambda: asyncio.wait_for(done.wait(), WAIT)), other()
    )
    assert seen == 0 and entered == ["second begins"]
    assert (await two.joined_at(FIRST), await two.joined_at(SECOND)) == (1, 1)


@pytest.mark.parametrize("kind", KINDS)
async def test_transactions_of_one_server_run_one_at_a_time(two: Processes, kind: str) -> None:
    inside = asyncio.Event()
    order: list[str] = []

    async def until_the_second_waits() -> None:
        # the second process asks for a lock (this server's) and does not get it while this one is open
        assert await two.waiting() <= {FIRST, postgres.WRITE_LOCK}
        order.append("first commits")

    async def other() -> int:
        await inside.wait()
        return await write(two.second, kind, FIRST, FIRST, order)

    _, seen = await asyncio.gather(hold_open(two.first, FIRST, inside, until_the_second_waits), other())
    assert order == ["first commits", "second begins"]
    assert seen == 1  # it read what the first committed: no count is lost
    assert await two.joined_at(FIRST) == 2


@pytest.mark.parametrize("kind", KINDS)
async def test_a_transaction_of_no_server_waits_for_a_servers(two: Processes, kind: str) -> None:
    inside = asyncio.Event()
    order: list[str] = []

    async def until_the_second_waits() -> None:
        assert postgres.WRITE_LOCK in await two.waiting()  # the exclusive lock of all writes
        order.append("first commits")

    async def other() -> int:
        await inside.wait()
        return await write(two.second, kind, None, FIRST, order)

    _, seen = await asyncio.gather(hold_open(two.first, FIRST, inside, until_the_second_waits), other())
    assert order == ["first commits", "second begins"]
    assert seen == 1
    assert await two.joined_at(FIRST) == 2


@pytest.mark.parametrize("kind", KINDS)
async def test_a_servers_transaction_waits_for_one_of_no_server(two: Processes, kind: str) -> None:
    inside = asyncio.Event()
    order: list[str] = []

    async def until_the_second_waits() -> None:
        # the second asks for the shared lock of all writes (or its server's) and is not granted it
        assert await two.waiting() <= {postgres.WRITE_LOCK, SECOND}
        order.append("first commits")

    async def other() -> int:
        await inside.wait()
        # another server's transaction: it waits all the same, the first may have written any server's rows
        return await write(two.second, kind, SECOND, FIRST, order)

    _, seen = await asyncio.gather(hold_open(two.first, None, inside, until_the_second_waits), other())
    assert order == ["first commits", "second begins"]
    assert seen == 1
    assert await two.joined_at(FIRST) == 2


async def test_a_run_holds_its_servers_lock_to_its_end(two: Processes) -> None:
    # ``run`` as the one holding: its work, on the writer's thread, stays inside its transaction while
    # another server's transaction completes and one of its own server waits
    inside, release = threading.Event(), threading.Event()
    order: list[str] = []

    def work(conn: SyncConnection) -> int:
        seen = bump_now(conn, FIRST)
        inside.set()
        if not release.wait(WAIT):
            raise AssertionError(f"the run was not released within {WAIT} s")
        order.append("first commits")
        return seen

    holder = asyncio.ensure_future(two.first.run(work, guild_id=FIRST))
    try:
        assert await asyncio.to_thread(inside.wait, WAIT)
        assert await write(two.second, "transaction", SECOND, SECOND, []) == 0  # side by side
        same = asyncio.ensure_future(write(two.second, "transaction", FIRST, FIRST, order))
        assert await two.waiting() <= {FIRST, postgres.WRITE_LOCK}
        assert order == []
    finally:
        release.set()
    assert await holder == 0
    assert await same == 1
    assert order == ["first commits", "second begins"]
    assert (await two.joined_at(FIRST), await two.joined_at(SECOND)) == (2, 1)
