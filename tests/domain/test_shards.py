"""Shards: Discord's rule for which shard a server is on, and scheduled work done only for this process's
servers — every one of them when a process runs every shard, each exactly once when processes split them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import servers
from domain.clock import FakeClock, to_unix
from domain.posts import SENT, Post, PostBook
from domain.privacy import purge_removed_servers
from domain.shards import Shards, shard_of
from storage import posts as post_rows
from storage import servers as server_rows
from storage.db import Database, on_shards
from tests import engines

#: Discord's documented example snowflake: 2016-04-30 11:18:25.796 UTC (ms 41944705796 after its epoch).
DOCS_SNOWFLAKE = 175928847299117063


def test_shard_of_is_discords_formula() -> None:
    # "shard_id = (guild_id >> 22) % num_shards": the milliseconds since Discord's epoch, modulo the count
    assert DOCS_SNOWFLAKE >> 22 == 41944705796
    assert [shard_of(DOCS_SNOWFLAKE, n) for n in (1, 2, 3, 16, 1000)] == [0, 0, 2, 4, 796]
    ids = [DOCS_SNOWFLAKE + k * 7_919_000_003 for k in range(500)] + [0, 2**22 - 1, 2**22, 2**63 - 1]
    for guild_id in ids:
        for count in (1, 2, 3, 5, 64, 2500):
            assert shard_of(guild_id, count) == (guild_id // 2**22) % count
    assert shard_of(2**22 - 1, 3) == 0 and shard_of(2**22, 3) == 1  # the low 22 bits never move a server
    with pytest.raises(ValueError, match="1 or more"):
        shard_of(DOCS_SNOWFLAKE, 0)


def test_shards_of_one_process() -> None:
    assert Shards() == Shards(1, (0,)) and Shards().everything and Shards().registers_commands
    every = Shards.all_of(3)
    assert every.ids == (0, 1, 2) and every.everything and every.registers_commands
    assert all(every.holds(DOCS_SNOWFLAKE + k * 2**22) for k in range(9))
    two = Shards(3, (2,))
    assert not two.everything and not two.registers_commands
    assert [two.holds(k << 22) for k in range(6)] == [False, False, True, False, False, True]
    for bad in ((3, (3,)), (3, ()), (0, (0,)), (3, (1, 1)), (3, (-1,))):
        with pytest.raises(ValueError):
            Shards(*bad)


def guild_on(shard: int, count: int, n: int) -> int:
    """The n-th server id on one shard."""
    return ((1000 + n) * count + shard) << 22 | 12345


async def test_the_sql_filter_agrees_with_shard_of(db: Database, clock: FakeClock) -> None:
    ids = [guild_on(s, 5, n) for s in range(5) for n in range(4)] + [DOCS_SNOWFLAKE, 2**63 - 1]
    async with db.transaction() as conn:
        for guild_id in ids:
            await server_rows.ensure_guild(conn, guild_id, to_unix(clock.now()))
    for shards in (Shards(5, (0,)), Shards(5, (1, 3)), Shards(5, (4, 2, 0)), Shards.all_of(5)):
        found = await db.fetchall(f"SELECT guild_id FROM guilds WHERE 1 = 1{on_shards(shards)}")  # noqa: S608
        assert sorted(int(r[0]) for r in found) == sorted(g for g in ids if shards.holds(g)), shards
    assert on_shards(None) == "" and on_shards(Shards()) == ""  # one connection: the query as it always was


async def test_processes_splitting_the_shards_each_send_their_own_posts_once(
    db: Database, clock: FakeClock
) -> None:
    """Two books on one database, as two processes holding shards {0, 1} and {2} of 3 would be."""
    now = to_unix(clock.now())
    guilds = [guild_on(s, 3, n) for s in range(3) for n in range(2)]
    async with db.transaction() as conn:
        for ref_id, guild_id in enumerate(guilds):
            await server_rows.ensure_guild(conn, guild_id, now)
            await post_rows.add_posts(conn, guild_id, "demo", ref_id, [now + 10])
    first, second = PostBook(db, clock, Shards(3, (0, 1))), PostBook(db, clock, Shards(3, (2,)))
    sent: dict[str, list[int]] = {"first": [], "second": []}

    def handler(name: str):
        async def send(post: Post) -> str:
            sent[name].append(post.guild_id)
            return SENT

        return send

    clock.advance(timedelta(seconds=10))
    assert await second.due_times(now + 10) == [now + 10]
    assert await second.run_due(now + 10, {"demo": handler("second")}) == 2
    assert sorted(sent["second"]) == sorted(g for g in guilds if shard_of(g, 3) == 2)
    assert await first.run_due(now + 10, {"demo": handler("first")}) == 4
    assert sorted(sent["first"]) == sorted(g for g in guilds if shard_of(g, 3) in (0, 1))
    assert await first.run_due(now + 10, {"demo": handler("first")}) == 0  # nothing twice
    assert await second.due_times(now + 10) == [] and await first.due_times(now + 10) == []
    assert engines.raw_rows(
        db.path, "SELECT state, attempts, count(*) FROM scheduled_posts GROUP BY 1, 2"
    ) == [("sent", 1, 6)]


async def test_a_process_purges_only_the_servers_of_its_shards(db: Database, clock: FakeClock) -> None:
    gone = [guild_on(s, 2, 0) for s in range(2)]
    for guild_id in gone:
        await servers.server_joined(db, clock, guild_id, "Gone", [(5, "Eve")])
        await servers.server_left(db, clock, guild_id)
    clock.advance(timedelta(days=31))
    assert await purge_removed_servers(db, clock, timedelta(days=30), Shards(2, (1,))) == [gone[1]]
    assert await purge_removed_servers(db, clock, timedelta(days=30), Shards(2, (1,))) == []
    assert await purge_removed_servers(db, clock, timedelta(days=30), Shards.all_of(2)) == [gone[0]]


async def test_a_process_recovers_only_the_claims_of_its_shards(db: Database, clock: FakeClock) -> None:
    """At start-up a process takes back the posts its own dead predecessor claimed, never those another
    process (alive, holding other shards) is sending right now."""
    now = to_unix(clock.now())
    guilds = [guild_on(s, 2, 0) for s in range(2)]
    async with db.transaction() as conn:
        for ref_id, guild_id in enumerate(guilds):
            await server_rows.ensure_guild(conn, guild_id, now)
            await post_rows.add_posts(conn, guild_id, "demo", ref_id, [now])
    with engines.closing_raw(db.path) as raw:
        raw.execute("UPDATE scheduled_posts SET state = 'claimed', attempts = 1")

    def states() -> list[tuple[int, str]]:
        return engines.raw_rows(db.path, "SELECT guild_id, state FROM scheduled_posts ORDER BY guild_id")

    assert await PostBook(db, clock, Shards(2, (1,))).recover() == (1, 0)
    assert states() == [(guilds[0], "claimed"), (guilds[1], "pending")]
    assert await PostBook(db, clock, Shards.all_of(2)).recover() == (1, 0)
    assert states() == [(guilds[0], "pending"), (guilds[1], "pending")]
