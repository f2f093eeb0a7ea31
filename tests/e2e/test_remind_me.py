""" "Remind me" end to end: it can be undone from the same card, also on a card posted before a restart; members
who leave the server or the session's working group get no more of its direct messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.e2e.conftest import eventually, make_coalition
from tests.e2e.fake_discord import FakeDiscord, FakeMessage
from tests.e2e.harness import BotProcess
from tests.e2e.helpers import button, db_rows


def soon(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


def reminders(fake: FakeDiscord, member) -> list[FakeMessage]:
    """The session reminders a member got by direct message (not the confirmation of Remind me)."""
    return [m for m in fake.dms(member) if "Reminder:" in m.text]


async def test_remind_me_toggles_and_leavers_get_no_dm(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    dave = fake.add_member(c.guild, "dave")
    room = fake.add_channel(c.guild, "roadmap")
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    try:
        await (await fake.slash(c.guild, c.coco, "wg create", name="Roadmap", home_channel=room)).response()
        for member in (c.alice, c.bob, c.carol, dave):
            await (await fake.slash(c.guild, member, "wg join", group="Roadmap")).response()
        itx = await fake.slash(c.guild, c.coco, "agenda add", title="Roadmap call", start=soon(16),
                               duration="30m", group="Roadmap", reminders="6s")  # fmt: skip
        await itx.response()
        card = itx.message
        assert card is not None
        remind = button(card, "Remind me")

        async def press(member) -> str:
            click = await fake.click(card, remind, member)
            await click.response()
            assert click.ephemeral
            return click.text

        assert "I will also remind you" in await press(c.alice) and "again to stop" in await press(c.bob)
        assert "no longer get direct messages" in await press(c.alice)  # undone from the same card
        assert db_rows(bot, "SELECT user_id FROM session_subscribers") == [(c.bob.id,)]
        for member in (c.carol, dave):
            await press(member)

        await bot.restart()
        assert "I will also remind you" in await press(c.alice)  # the card from before the restart toggles
        assert "no longer get direct messages" in await press(c.alice)
        assert "I will also remind you" in await press(c.alice)

        # Bob is removed from the group, Dave leaves it, Carol leaves the server
        removed = await fake.slash(c.guild, c.coco, "wg remove-member", group="Roadmap", member=c.bob)
        await removed.response()
        await (await fake.slash(c.guild, dave, "wg leave", group="Roadmap")).response()
        fake.remove_member(c.guild, c.carol)
        await eventually(lambda: db_rows(bot, "SELECT count(*) FROM members WHERE user_id = ? AND left_at IS NOT NULL",
                                         (c.carol.id,)) == [(1,)], what="departure recorded")  # fmt: skip
        assert db_rows(bot, "SELECT user_id FROM session_subscribers") == [(c.alice.id,)]

        await eventually(lambda: reminders(fake, c.alice), timeout=15, what="Alice's reminder")
        assert any("Reminder" in m.text for m in fake.messages(room))
        for gone in (c.bob, c.carol, dave):
            assert reminders(fake, gone) == [], gone.user.username
        assert len(reminders(fake, c.alice)) == 1
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log(), bot.log()


async def test_a_leaver_whose_departure_the_bot_missed_gets_no_dm(fake: FakeDiscord, tmp_path: Path) -> None:
    # Carol leaves while the bot is down: nothing told it, so the send itself checks who is still there
    c = make_coalition(fake)
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    try:
        itx = await fake.slash(c.guild, c.coco, "agenda add", title="Plenary", start=soon(12), reminders="5s")
        await itx.response()
        card = itx.message
        assert card is not None
        for member in (c.alice, c.carol):
            click = await fake.click(card, button(card, "Remind me"), member)
            await click.response()
        assert await bot.stop() == 0
        fake.remove_member(c.guild, c.carol)
        await bot.start()
        assert len(db_rows(bot, "SELECT user_id FROM session_subscribers")) == 2  # still on the list...
        await eventually(lambda: reminders(fake, c.alice), timeout=12, what="Alice's reminder")
        assert reminders(fake, c.carol) == []  # ...but not sent to
    finally:
        assert await bot.stop() == 0


async def test_reminders_speak_the_groups_language_in_the_channel_and_each_readers_by_dm(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    # The group chose Arabic: its card, button labels included, and its reminder in the channel read Arabic (each
    # value wrapped in Unicode isolates); Alice chose Arabic and is answered and reminded in it; Bob chose nothing
    # and reads English (a direct message has no client language: he reads the server's).
    fsi, pdi = "\u2068", "\u2069"
    reminder_ar = "تذكير: تبدأ جلسة"  # "Reminder: ... starts"
    c = make_coalition(fake)
    room = fake.add_channel(c.guild, "roadmap")
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    try:
        await (await fake.slash(c.guild, c.coco, "wg create", name="Roadmap", home_channel=room)).response()
        await (await fake.slash(c.guild, c.coco, "wg language", group="Roadmap", language="ar")).response()
        await (await fake.slash(c.guild, c.alice, "language set", language="ar")).response()
        itx = await fake.slash(c.guild, c.coco, "agenda add", title="Roadmap call", start=soon(14),
                               duration="30m", group="Roadmap", reminders="6s")  # fmt: skip
        await itx.response()
        card = itx.message
        assert card is not None and f"الجلسة #{fsi}1{pdi}" in card.text  # "Session #1": the group's language
        labels = [label for label, _, _ in card.buttons()]
        assert labels == ["ذكّرني", "إضافة إلى التقويم"]  # "Remind me", "Add to calendar"
        said = {}
        for member in (c.alice, c.bob):
            click = await fake.click(card, button(card, "ذكّرني"), member)
            await click.response()
            said[member.id] = click.text
        # each answered in their own language: "Done: I will also remind you of “Roadmap call” by direct message."
        assert f"تم: سأذكّرك أيضًا بـ«{fsi}Roadmap call{pdi}» برسالة مباشرة." in said[c.alice.id]
        assert "Done: I will also remind you of “Roadmap call”" in said[c.bob.id]
        assert fsi not in said[c.bob.id]

        def reminders_ar(member) -> list[FakeMessage]:
            return [m for m in fake.dms(member) if reminder_ar in m.text]

        await eventually(lambda: reminders_ar(c.alice) and reminders(fake, c.bob), timeout=15,
                         what="both reminders")  # fmt: skip
        assert reminders(fake, c.alice) == [] and len(reminders_ar(c.alice)) == 1  # Alice reads Arabic
        assert reminders_ar(c.alice)[0].text.startswith(f"{reminder_ar} **{fsi}Roadmap call{pdi}** {fsi}<t:")
        assert reminders_ar(c.bob) == [] and len(reminders(fake, c.bob)) == 1  # Bob, English
        assert reminders(fake, c.bob)[0].text.startswith("Reminder: **Roadmap call** starts <t:")
        assert fsi not in reminders(fake, c.bob)[0].text
        channel = [m for m in fake.messages(room) if reminder_ar in m.text]  # the group's Arabic
        assert len(channel) == 1 and f"{reminder_ar} **{fsi}Roadmap call{pdi}** {fsi}<t:" in channel[0].text
        assert not [m for m in fake.messages(room) if "Reminder:" in m.text]
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log(), bot.log()
