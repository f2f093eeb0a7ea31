"""An answer Discord no longer takes (its 3 seconds passed, 10062): what the member did is saved, the bot
logs one warning and does not try a second answer (which Discord would refuse too) — under a burst, a
traceback and an extra request per late click only make the next clicks later."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import Coalition
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.harness import BotProcess
from tests.e2e.helpers import button, db_rows

CALLBACK = r"^/interactions/\d+/[^/]+/callback$"


async def test_a_vote_answered_too_late_is_saved_and_logged_once(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    itx = await fake.slash(
        c.guild, c.alice, "poll create", options={"question": "Lunch?", "options": "Yes; No"}
    )
    await itx.response()
    assert itx.message is not None
    poll = itx.message
    fake.fail("POST", CALLBACK, status=404, code=10062, message="Unknown interaction")
    late = await fake.click(poll, button(poll, "Yes"), c.bob)
    await asyncio.sleep(1.5)  # a second answer, if the bot tried one, would have come by now
    assert not late.acknowledged
    assert db_rows(bot, "SELECT count(*) FROM poll_votes") == [(1,)]
    log = bot.log()
    assert "answered a poll vote in server" in log and "too late" in log
    assert "unexpected error" not in log

    # a command answered too late: the same (the group is created; no "something went wrong" attempt)
    fake.fail("POST", CALLBACK, status=404, code=10062, message="Unknown interaction")
    late = await fake.slash(c.guild, c.coco, "wg create", name="Late group")
    await asyncio.sleep(1.5)
    assert not late.acknowledged
    assert db_rows(bot, "SELECT name FROM groups") == [("Late group",)]
    assert "too late: Discord no longer takes an answer" in bot.log()
    assert "unexpected error" not in bot.log()

    # the next click is answered as usual
    on_time = await fake.click(poll, button(poll, "No"), c.carol)
    await on_time.response()
    assert on_time.ephemeral and "No" in on_time.text
