"""Scheduled posts go out exactly once, in whole, through the real bot process: a reminder split in several
messages survives a refused part, a SIGKILL between a send and its record, and a SIGTERM in the middle.

Each part goes out with a nonce derived from the post and the part (Discord returns the message already
created for a nonce it has seen), and is recorded once out, so a retry sends only what is missing."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from tests import engines
from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import FakeChannel, FakeDiscord, FakeMember, FakeMessage
from tests.e2e.harness import BotProcess
from tests.e2e.helpers import db_rows, in_batches, pinged

CROWD = 300
REMINDER_PARTS = ("Reminder", "Not yet responded")


async def crowd_and_point(
    fake: FakeDiscord, c: Coalition, crowd: list[FakeMember], deadline: str
) -> FakeChannel:
    """A group of everyone in ``crowd`` and a point with a comment deadline in its home channel."""
    home = fake.add_channel(c.guild, "principles")
    await (await fake.slash(c.guild, c.coco, "wg create", name="Principles", home_channel=home)).response()
    await in_batches(fake.slash(c.guild, m, "wg join", group="Principles") for m in crowd)
    itx = await fake.slash(c.guild, c.alice, "consensus propose", kind="point", text="Open by default",
                           group="Principles", deadline=deadline)  # fmt: skip
    await itx.final()
    return home


def reminder_parts(fake: FakeDiscord, home: FakeChannel) -> list[FakeMessage]:
    return [m for m in fake.messages(home) if m.content.startswith(REMINDER_PARTS)]


def reminder_state(bot: BotProcess) -> list[tuple[str, int]]:
    return db_rows(bot, "SELECT state, attempts FROM scheduled_posts WHERE kind = 'item_reminder'")


@pytest.mark.parametrize("created", [False, True], ids=["refused", "created-but-answer-lost"])
async def test_a_refused_part_is_retried_without_posting_the_others_twice(
    fake: FakeDiscord, tmp_path: Path, created: bool
) -> None:
    c = make_coalition(fake)
    crowd = [fake.add_member(c.guild, f"member{n:03}") for n in range(CROWD)]
    bot = BotProcess(fake, tmp_path, schedule={"reminder_offsets": ["25s"]})
    await bot.start()
    try:
        home = await crowd_and_point(fake, c, crowd, deadline="30s")

        def refuse_the_next_part(message: FakeMessage) -> None:
            if message.channel_id == home.id and message.content.startswith("Reminder"):
                fake.on_message_created.remove(refuse_the_next_part)
                # 503: discord.py does not retry it itself, so the post fails and the bot tries it again
                fake.fail("POST", rf"^/channels/{home.id}/messages$", status=503, after=created)

        fake.on_message_created.append(refuse_the_next_part)
        await eventually(
            lambda: reminder_state(bot) == [("sent", 2)], timeout=20, what="the retried reminder"
        )
        parts = reminder_parts(fake, home)
        assert len(parts) >= 4 and parts[0].content.startswith("Reminder")
        assert pinged(parts) == Counter({m.id: 1 for m in crowd})  # part 1 once, the refused part once
        assert "failed on attempt 1" in bot.log()
        nonces = [m.nonce for m in parts]
        assert len(set(nonces)) == len(parts) and all(n and n.startswith("p") for n in nonces)
    finally:
        assert await bot.stop() == 0


async def test_sigkill_between_the_send_and_its_record(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    crowd = [fake.add_member(c.guild, f"member{n:03}") for n in range(CROWD)]
    bot = BotProcess(fake, tmp_path, schedule={"reminder_offsets": ["25s"]})
    await bot.start()
    home = await crowd_and_point(fake, c, crowd, deadline="30s")
    assert bot.process is not None
    process = bot.process

    def kill_after_part_two(message: FakeMessage) -> None:
        if message.channel_id == home.id and message.content.startswith("Not yet responded"):
            fake.on_message_created.remove(kill_after_part_two)
            process.kill()  # stored here; the bot never learns it was created, nor records it

    fake.on_message_created.append(kill_after_part_two)
    await eventually(lambda: process.returncode is not None, timeout=15, what="the kill")
    assert await bot.stop() == -signal.SIGKILL
    assert len(reminder_parts(fake, home)) == 2
    assert reminder_state(bot) == [("claimed", 1)]
    await bot.start()  # same database: the post is sent again, with the same parts and nonces
    try:
        await eventually(lambda: reminder_state(bot) == [("sent", 2)], timeout=15, what="the resent reminder")
        parts = reminder_parts(fake, home)
        assert len(parts) >= 4 and [m.content.startswith("Reminder") for m in parts].count(True) == 1
        assert pinged(parts) == Counter({m.id: 1 for m in crowd})
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log()


async def test_sigkill_after_a_poll_result_was_posted(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    itx = await fake.slash(c.guild, c.alice, "poll create", options={"question": "Lunch at noon?",
                           "options": "Yes; No", "duration": "4s"})  # fmt: skip
    await itx.response()
    assert bot.process is not None
    process = bot.process

    def kill_once_posted(message: FakeMessage) -> None:
        if "Poll #1 has closed" in message.content:
            fake.on_message_created.remove(kill_once_posted)
            process.kill()

    fake.on_message_created.append(kill_once_posted)
    await eventually(lambda: process.returncode is not None, timeout=15, what="the kill")
    await bot.stop()
    await bot.start()
    try:
        await eventually(
            lambda: db_rows(bot, "SELECT state FROM scheduled_posts WHERE kind = 'poll_close'") == [("sent",)],
            timeout=10, what="the close post marked sent",
        )  # fmt: skip
        assert [m.content for m in fake.messages(c.general)].count("Poll #1 has closed.") == 1
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log()


async def test_a_crash_after_claiming_a_poll_result_and_before_posting_it(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    """What a process killed between taking the job of posting a result and posting it leaves behind: the
    poll closed at its deadline, its result claimed, its post claimed. The next start posts the result once."""
    c = make_coalition(fake)
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    itx = await fake.slash(c.guild, c.alice, "poll create", options={"question": "Lunch at noon?",
                           "options": "Yes; No", "duration": "3s"})  # fmt: skip
    await itx.response()
    await eventually(lambda: "(#1) opened in server" in bot.log(), what="the command done")
    assert await bot.stop() == 0
    closes_at = db_rows(bot, "SELECT closes_at FROM polls")[0][0]
    await asyncio.sleep(max(0.0, closes_at + 0.5 - time.time()))
    with engines.closing_raw(bot.db_path) as raw:
        raw.execute("UPDATE polls SET closed_at = closes_at, announced_at = closes_at")
        raw.execute("UPDATE scheduled_posts SET state = 'claimed', attempts = 1 WHERE kind = 'poll_close'")
    await bot.start()
    try:
        await eventually(
            lambda: db_rows(bot, "SELECT state, attempts FROM scheduled_posts WHERE kind = 'poll_close'")
            == [("sent", 2)], timeout=10, what="the close post sent on its second attempt",
        )  # fmt: skip
        assert [m.content for m in fake.messages(c.general)].count("Poll #1 has closed.") == 1
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log()


@pytest.mark.parametrize("latency", [0.6, 2.5], ids=["finished-before-exit", "finished-by-the-next-start"])
async def test_sigterm_in_the_middle_of_a_split_reminder(
    fake: FakeDiscord, tmp_path: Path, latency: float
) -> None:
    c = make_coalition(fake)
    crowd = [fake.add_member(c.guild, f"member{n:03}") for n in range(CROWD)]
    bot = BotProcess(fake, tmp_path, schedule={"reminder_offsets": ["25s"]})
    await bot.start()
    home = await crowd_and_point(fake, c, crowd, deadline="30s")
    assert bot.process is not None
    process = bot.process

    def stop_after_part_one(message: FakeMessage) -> None:
        if message.channel_id == home.id and message.content.startswith("Reminder"):
            fake.on_message_created.remove(stop_after_part_one)
            process.send_signal(signal.SIGTERM)

    fake.latency = latency  # each part takes a while: the stop comes while the reminder is going out
    fake.on_message_created.append(stop_after_part_one)
    await eventually(lambda: process.returncode is not None, timeout=15, what="the stop")
    assert await bot.stop() == 0
    fake.latency = 0.0
    out = reminder_parts(fake, home)
    if latency < 1:  # a clean stop waited for the post to finish
        assert reminder_state(bot) == [("sent", 1)] and len(out) >= 4
    else:  # it could not wait that long: the post is left for the next start, never half-marked as sent
        assert (
            reminder_state(bot) == [("claimed", 1)] and out
        )  # (the fake may still store the part in flight)
        assert "still being sent at shutdown" in bot.log()
    await bot.start()
    try:
        await eventually(
            lambda: reminder_state(bot)[0][0] == "sent", timeout=15, what="the reminder finished"
        )
        await eventually(lambda: sum(pinged(reminder_parts(fake, home)).values()) >= CROWD, what="every part")
        assert pinged(reminder_parts(fake, home)) == Counter({m.id: 1 for m in crowd})
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log()
