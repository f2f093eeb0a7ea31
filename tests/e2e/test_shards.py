"""Discord sharding: one process runs three shards; each shard's servers arrive on its own connection and are
answered there; scheduled posts go out once; commands are registered once; a restart keeps old buttons."""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import FakeDiscord, FakeMessage
from tests.e2e.harness import BotProcess
from tests.e2e.helpers import button, db_rows

SHARDS = 3
PER_SHARD = 3
START = 45.0  # discord.py waits 5 s between two shards' IDENTIFYs (Discord's limit), then chunks each shard


def closing_posts(fake: FakeDiscord, c: Coalition) -> list[FakeMessage]:
    return [m for m in fake.messages(c.general) if "has closed" in m.text]


async def join(fake: FakeDiscord, card: FakeMessage, c: Coalition, who: str) -> str:
    click = await fake.click(card, button(card, "Join"), getattr(c, who))
    await click.response()
    return (await click.followup()).text


async def test_three_shards_in_one_process(fake: FakeDiscord, tmp_path: Path) -> None:
    coalitions = [
        make_coalition(fake, f"Coalition {shard}.{n}", shard=(shard, SHARDS))
        for shard in range(SHARDS)
        for n in range(PER_SHARD)
    ]
    on_shard = {s: [c for c in coalitions if (c.guild.id >> 22) % SHARDS == s] for s in range(SHARDS)}
    assert all(len(cs) == PER_SHARD for cs in on_shard.values())
    bot = BotProcess(fake, tmp_path, discord={"shard_count": SHARDS})
    await bot.start(timeout=START)
    try:
        # three connections, one IDENTIFY each, every shard with only its servers
        assert sorted(p["shard"] for p in fake.gateway.identify_payloads) == [[0, 3], [1, 3], [2, 3]]
        assert set(fake.sessions) == {0, 1, 2}
        for shard, mine in on_shard.items():
            session = fake.session(shard)
            assert session.events("READY")[0]["shard"] == [shard, SHARDS]
            assert sorted(session.guild_ids) == sorted(c.guild.id for c in mine)
        assert fake.sync_count == 1  # the commands registered once, by the process holding shard 0
        assert "ready as" in bot.log() and "on shards [0, 1, 2] of 3" in bot.log()

        # a command in every server, answered on the connection of that server's shard
        for c in coalitions:
            itx = await fake.slash(c.guild, c.alice, "about")
            await itx.response()
            assert itx.ephemeral and "Caucus" in itx.text and "5 members seen" in itx.text
            session = fake.session(fake.shard_of(c.guild))
            assert any(e["id"] == str(itx.id) for e in session.events("INTERACTION_CREATE"))

        # a card with a button in a server of each shard; a click on it answered
        cards: dict[int, FakeMessage] = {}
        for shard, mine in on_shard.items():
            c = mine[0]
            itx = await fake.slash(c.guild, c.coco, "wg create", name=f"Group on shard {shard}")
            await itx.response()
            assert itx.message is not None
            cards[shard] = itx.message
            assert f"You joined **Group on shard {shard}**" in await join(fake, itx.message, c, "alice")

        # a poll in a server on shard 2 closes at its deadline: the closing post goes out once
        c2 = on_shard[2][1]
        itx = await fake.slash(
            c2.guild,
            c2.alice,
            "poll create",
            options={"question": "Shard two?", "options": "Yes; No", "duration": "5s"},
        )
        await itx.response()
        assert itx.message is not None and not itx.ephemeral
        started = time.monotonic()
        await eventually(lambda: closing_posts(fake, c2), timeout=20, what="poll close on shard 2")
        assert "offline" not in closing_posts(fake, c2)[0].text and time.monotonic() - started < 15
        # marked sent once Discord answered the send, which is a moment after the message is there
        await eventually(
            lambda: (
                db_rows(bot, "SELECT guild_id, state, attempts FROM scheduled_posts")
                == [(c2.guild.id, "sent", 1)]
            ),
            what="the close post marked sent",
        )
        assert await bot.stop() == 0
        # shard_count given and gateway_url set: nobody needed to ask the API where the gateway is
        assert not any(r.path == "/gateway/bot" for r in fake.requests)
    finally:
        if bot.process is not None and bot.process.returncode is None:
            await bot.stop()

    # the same database again, the gateway found through the API (self-hosted): old buttons still work
    again = BotProcess(fake, tmp_path, discord={"shard_count": SHARDS, "gateway_url": ""})
    await again.start(timeout=START)
    try:
        assert any(r.path == "/gateway/bot" for r in fake.requests)
        assert sorted(p["shard"] for p in fake.gateway.identify_payloads[3:]) == [[0, 3], [1, 3], [2, 3]]
        for shard, mine in on_shard.items():
            assert sorted(fake.session(shard).guild_ids) == sorted(c.guild.id for c in mine)
            text = await join(fake, cards[shard], mine[0], "bob")
            assert f"You joined **Group on shard {shard}**" in text
        assert fake.sync_count == 1  # nothing changed: not registered again
        assert sum(len(closing_posts(fake, c)) for c in coalitions) == 1
        assert db_rows(again, "SELECT state, attempts FROM scheduled_posts") == [("sent", 1)]
        assert db_rows(again, "SELECT count(*) FROM guilds") == [(SHARDS * PER_SHARD,)]
    finally:
        assert await again.stop() == 0
    assert "Traceback" not in again.log(), again.log()
    assert fake.unhandled == []


async def test_one_connection_without_shard_count(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    """Without [discord] shard_count the bot connects as it always did: one IDENTIFY without a shard."""
    assert fake.identify_count == 1 and "shard" not in fake.gateway.identify_payloads[0]
    assert set(fake.sessions) == {0} and fake.session(0).shard == (0, 1)
    assert not any(r.path == "/gateway/bot" for r in fake.requests)
    itx = await fake.slash(coalition.guild, coalition.alice, "about")
    await itx.response()
    assert "Caucus" in itx.text
