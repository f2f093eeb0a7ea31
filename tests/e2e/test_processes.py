"""Several bot processes on one PostgreSQL database: three processes, each holding one of three shards, six
servers (two on each shard). Every reminder and poll close goes out exactly once, from the process holding
its server's shard; a process killed with SIGKILL before its reminders are due sends them when it is
started again, and nothing goes out twice; clicks in every server are answered by the process that holds
it; the commands are registered once."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from tests import engines
from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import FakeDiscord, FakeMessage
from tests.e2e.harness import BotProcess
from tests.e2e.helpers import button, db_rows

pytestmark = pytest.mark.postgresql_only

SHARDS = 3
PER_SHARD = 2
OFFSET = "50s"  # a reminder 50 s before a point's comment deadline
DEADLINE = "70s"  # so each point's reminder is due 20 s after it is proposed, and still useful when late
POLL = "30s"


def reminders(fake: FakeDiscord, c: Coalition) -> list[FakeMessage]:
    return [m for m in fake.messages(c.general) if "Reminder: the comment period" in m.content]


def closes(fake: FakeDiscord, c: Coalition) -> list[FakeMessage]:
    return [m for m in fake.messages(c.general) if "has closed" in m.content]


async def ready(fake: FakeDiscord, shard: int, before: int, bot: BotProcess, timeout: float = 30) -> None:
    """Wait until the shard's session is ready again (its process said so on the gateway)."""
    deadline = time.monotonic() + timeout

    def done() -> bool:
        session = fake.gateway.sessions.get(shard)
        return session is not None and session.ready_count > before and session.is_ready

    while not done():
        if bot.process is not None and bot.process.returncode is not None:
            raise RuntimeError(f"bot exited with {bot.process.returncode}:\n{bot.log()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"shard {shard} not ready within {timeout}s:\n{bot.log()}")
        await asyncio.sleep(0.05)


async def test_three_processes_share_one_database_and_each_post_goes_out_once(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    coalitions = [
        make_coalition(fake, f"Coalition {shard}.{n}", shard=(shard, SHARDS))
        for shard in range(SHARDS)
        for n in range(PER_SHARD)
    ]
    on_shard = {s: [c for c in coalitions if (c.guild.id >> 22) % SHARDS == s] for s in range(SHARDS)}
    assert all(len(cs) == PER_SHARD for cs in on_shard.values())
    shared = tmp_path / "shared" / "caucus.db"  # the key files' place, the same for the three processes
    storage = {"path": str(shared), "url": engines.url_for(shared)}
    for folder in (tmp_path / f"process{s}" for s in range(SHARDS)):
        folder.mkdir()
    bots = [
        BotProcess(
            fake, tmp_path / f"process{shard}", discord={"shard_count": SHARDS, "shard_ids": [shard]},
            storage=storage, schedule={"reminder_offsets": [OFFSET]},
        )
        for shard in range(SHARDS)
    ]  # fmt: skip
    await asyncio.gather(*(bot.start(wait_ready=False) for bot in bots))
    try:
        await asyncio.gather(*(ready(fake, shard, 0, bot) for shard, bot in enumerate(bots)))
        # one IDENTIFY per process, each for its own shard; each session holds only its servers
        assert sorted(p["shard"] for p in fake.gateway.identify_payloads) == [[0, 3], [1, 3], [2, 3]]
        for shard, mine in on_shard.items():
            assert sorted(fake.session(shard).guild_ids) == sorted(c.guild.id for c in mine)
        await eventually(lambda: fake.sync_count >= 1, timeout=10, what="the commands registered")
        for shard, bot in enumerate(bots):
            assert f"on shards [{shard}] of 3" in bot.log()

        # in every server: a point whose reminder is due in 20 s, and a poll that closes in 30 s
        polls: dict[int, FakeMessage] = {}
        points: dict[int, FakeMessage] = {}
        for c in coalitions:
            itx = await fake.slash(c.guild, c.alice, "consensus propose", kind="point",
                                   text=f"Open standards for {c.guild.name}", deadline=DEADLINE)  # fmt: skip
            points[c.guild.id] = await itx.final()
            itx = await fake.slash(c.guild, c.alice, "poll create",
                                   options={"question": f"Meet in {c.guild.name}?", "options": "Yes; No",
                                            "duration": POLL})  # fmt: skip
            await itx.response()
            assert itx.message is not None and not itx.ephemeral
            polls[c.guild.id] = itx.message
        proposed = time.monotonic()

        # a click in every server, answered by the process holding it, and recorded in the shared database
        for c in coalitions:
            card = polls[c.guild.id]
            click = await fake.click(card, button(card, "Yes"), c.bob)
            await click.response()
            session = fake.session(fake.shard_of(c.guild))
            assert any(e["id"] == str(click.id) for e in session.events("INTERACTION_CREATE"))
        assert db_rows(shared, "SELECT count(*) FROM poll_votes") == [(len(coalitions),)]

        # the process of shard 2 dies before its reminders are due
        assert time.monotonic() - proposed < 15
        await bots[2].stop(signal.SIGKILL)
        assert bots[2].process is not None and bots[2].process.returncode == -signal.SIGKILL
        killed = fake.session(2).ready_count

        # the others' reminders and poll closes go out, once each; nobody sends the dead process's
        alive = on_shard[0] + on_shard[1]
        await eventually(
            lambda: all(len(reminders(fake, c)) == 1 and len(closes(fake, c)) == 1 for c in alive),
            timeout=40, what="reminders and closes on shards 0 and 1",
        )  # fmt: skip
        await asyncio.sleep(3)  # long enough for a second copy to show, if any process sent one
        for c in on_shard[2]:
            assert reminders(fake, c) == [] and closes(fake, c) == []
        assert db_rows(
            shared,
            "SELECT count(*) FROM scheduled_posts WHERE state = 'pending' AND kind IN ('item_reminder', 'poll_close')",
        ) == [(2 * PER_SHARD,)]  # fmt: skip

        # started again, it sends what was due while it was down, once
        await bots[2].start(wait_ready=False)
        await ready(fake, 2, killed, bots[2])
        await eventually(
            lambda: all(len(reminders(fake, c)) == 1 and len(closes(fake, c)) == 1 for c in on_shard[2]),
            timeout=30, what="the restarted process's reminders and closes",
        )  # fmt: skip
        await asyncio.sleep(3)
        for c in on_shard[2]:  # sent late, and saying so
            assert reminders(fake, c)[0].content.startswith(
                "(Late: the bot was offline at the planned time.)"
            )
        for c in alive:
            assert reminders(fake, c)[0].content.startswith("Reminder")
        for c in coalitions:
            assert len(reminders(fake, c)) == 1, c.guild.name
            assert len(closes(fake, c)) == 1, c.guild.name
            assert "Yes" in closes(fake, c)[0].text
        states = db_rows(
            shared,
            "SELECT kind, state, count(*) FROM scheduled_posts WHERE kind IN ('item_reminder', 'poll_close') "
            "GROUP BY kind, state ORDER BY kind, state",
        )
        assert states == [("item_reminder", "sent", len(coalitions)), ("poll_close", "sent", len(coalitions))]
        nonces = Counter(m.nonce for c in coalitions for m in reminders(fake, c) + closes(fake, c))
        assert all(n == 1 for n in nonces.values())

        # buttons posted before the kill work in the restarted process's servers; every server answers
        for c in on_shard[2]:
            card = points[c.guild.id]
            click = await fake.click(card, button(card, "Agree"), c.carol)
            await click.response()
            assert click.ephemeral and "Recorded: agree" in click.text
        assert db_rows(shared, "SELECT count(*) FROM positions WHERE stance = 'agree'") == [(PER_SHARD,)]
        for c in coalitions:
            itx = await fake.slash(c.guild, c.carol, "about")
            await itx.response()
            assert itx.ephemeral and "Caucus" in itx.text
        assert fake.sync_count == 1  # registered once, by the process holding shard 0, restarts included
    finally:
        codes = [await bot.stop() for bot in bots]
    assert codes == [0, 0, 0]
    for bot in bots:
        assert "Traceback" not in bot.log()
