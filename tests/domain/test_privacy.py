"""Members' data rights on a real SQLite file: export, anonymisation that keeps counts, purge of servers."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

from domain import servers
from domain.clock import FakeClock
from domain.consensus import Consensus
from domain.permissions import Actor
from domain.privacy import Identities, Privacy, pseudonym, purge_removed_servers
from domain.summary import build_summary
from storage.db import Database
from tests.scenario import GUILD, ZONE, actor, build_scenario

SECRET = b"k" * 32


def rows(db: Database, sql: str, params: tuple = ()) -> list[tuple]:
    raw = sqlite3.connect(db.path)
    try:
        return raw.execute(sql, params).fetchall()
    finally:
        raw.close()


def test_pseudonyms_are_negative_stable_and_per_server() -> None:
    a = pseudonym(SECRET, 1, 42)
    assert a < 0 and a == pseudonym(SECRET, 1, 42)
    assert a != pseudonym(SECRET, 2, 42) and a != pseudonym(b"other" * 8, 1, 42)


async def test_export_then_erase_keeps_counts(db: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    await build_scenario(db, clock)
    identities = Identities(SECRET)
    privacy = Privacy(db, clock, identities)
    carol = actor(32)
    data = json.loads(await privacy.export(carol))
    assert data["member"][0]["display_name"] == "Carol" and data["anonymised"] is False
    assert {p["stance"] for p in data["positions"]} == {"object", "block"}
    before = await build_summary(db, GUILD, now=clock.now(), zone=ZONE, names=False)

    done = await privacy.erase(carol)
    assert done.records_changed > 0
    for table, column in (("positions", "user_id"), ("objections", "user_id"), ("items", "author_id"),
                          ("poll_votes", "user_id"), ("group_members", "user_id"), ("members", "user_id")):  # fmt: skip
        assert rows(db, f"SELECT count(*) FROM {table} WHERE {column} = 32") == [(0,)], table
    after = await build_summary(db, GUILD, now=clock.now(), zone=ZONE, names=False)
    assert [[p.tally for p in s.points] for s in after.sections] == [
        [p.tally for p in s.points] for s in before.sections
    ]
    assert [[o.votes for p in s.polls for o in p.options] for s in after.sections] == [
        [o.votes for p in s.polls for o in p.options] for s in before.sections
    ]
    named = await build_summary(db, GUILD, now=clock.now(), zone=ZONE, names=True)
    text = json.dumps([str(s) for s in named.sections])
    assert "Carol" not in text and "Former member" in text
    data = json.loads(await privacy.export(carol))
    assert data["anonymised"] is True and data["groups"] == []


async def test_after_erasure_positions_continue_under_the_pseudonym(db: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    await build_scenario(db, clock)
    identities = Identities(SECRET)
    items = Consensus(db, clock, None, ZONE, (), identities)  # type: ignore[arg-type]
    point = (await items.resolve(GUILD, "5")).item_id
    bob = actor(31)
    await Privacy(db, clock, identities).erase(bob)
    await items.set_position(bob, point, "agree")  # Bob had objected to #5 before
    assert rows(db, "SELECT user_id, stance FROM positions WHERE item_id = ?", (point,)) == [
        (identities.pseudonym(GUILD, 31), "agree")
    ]
    assert rows(db, "SELECT count(*) FROM members WHERE user_id = 31") == [
        (0,)
    ]  # the name is not recorded again


async def test_purge_only_servers_gone_long_enough(db: Database, clock: FakeClock) -> None:
    await servers.server_joined(db, clock, 1, "Gone", [(5, "Eve")])
    await servers.server_joined(db, clock, 2, "Back soon", [(6, "Fay")])
    await servers.server_joined(db, clock, 3, "Stays", [(7, "Gus")])
    await servers.server_left(db, clock, 1)
    clock.advance(timedelta(days=20))
    await servers.server_left(db, clock, 2)
    clock.advance(timedelta(days=11))
    assert await purge_removed_servers(db, clock, timedelta(days=30)) == [1]
    assert rows(db, "SELECT guild_id FROM guilds ORDER BY guild_id") == [(2,), (3,)]
    assert rows(db, "SELECT count(*) FROM members WHERE guild_id = 1") == [(0,)]
    await servers.server_joined(db, clock, 2, "Back soon", [(6, "Fay")])  # it came back: kept
    clock.advance(timedelta(days=40))
    assert await purge_removed_servers(db, clock, timedelta(days=30)) == []


async def test_purging_a_server_forgets_its_cached_erasures(db: Database, clock: FakeClock) -> None:
    """The use case the cog runs: a purged server's pseudonyms leave the cache, so if the server comes back
    later (a new record) its members are stored under their own ids again."""
    identities = Identities(b"k" * 32)
    privacy = Privacy(db, clock, identities)
    await servers.server_joined(db, clock, 1, "Gone", [(5, "Eve")])
    await privacy.erase(Actor(1, 5, "Eve"))
    alias = identities.pseudonym(1, 5)
    assert await identities.storage_id(db, 1, 5) == alias  # cached now
    await servers.server_left(db, clock, 1)
    clock.advance(timedelta(days=31))
    assert await privacy.purge_removed_servers(timedelta(days=30)) == [1]
    assert rows(db, "SELECT count(*) FROM erasures WHERE guild_id = 1") == [(0,)]
    assert await identities.storage_id(db, 1, 5) == 5  # the cache did not keep the purged erasure
