"""At the coalition's real size, through the real bot process: a working group of 300 members, reminders and
nudges that mention all of them, a 40-session timetable, a point with 300 long positions, lists longer than a
message. The fake refuses whatever Discord refuses (content, mentions, embeds, components), so a message over
a limit fails these tests; each also checks that every member who should be mentioned is mentioned once."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import FakeDiscord, FakeMember, FakeMessage
from tests.e2e.harness import BotProcess
from tests.e2e.helpers import button, db_rows, every_page, in_batches, pinged

CROWD = 300


async def group_of(
    fake: FakeDiscord, c: Coalition, members: list[FakeMember], name: str = "Principles"
) -> None:
    """A working group with a home channel that every one of ``members`` joined."""
    home = fake.add_channel(c.guild, name.lower())
    await (await fake.slash(c.guild, c.coco, "wg create", name=name, home_channel=home)).response()
    await in_batches(fake.slash(c.guild, m, "wg join", group=name) for m in members)


async def test_group_of_300_card_poll_nudge(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    crowd = [fake.add_member(c.guild, f"member{n:03}") for n in range(CROWD)]
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    try:
        await group_of(fake, c, crowd)
        # the public card stays within an embed's limits and says how many more there are
        itx = await fake.slash(c.guild, c.coco, "wg info", group="Principles", public=True)
        card = (await itx.response()).message
        assert (
            card is not None
            and "Members (300)" in card.text
            and "more (/wg info lists everyone)" in card.text
        )
        assert card.pings() == set()
        # /wg info lists every member, over pages
        itx = await fake.slash(c.guild, c.alice, "wg info", group="Principles")
        await itx.response()
        assert itx.ephemeral and itx.message is not None
        pages = await every_page(fake, itx.message, c.alice)
        assert len(pages) > 1 and all(f"<@{m.id}>" in "\n".join(pages) for m in crowd)
        assert [label for label, _, _ in itx.message.buttons()] == ["Previous", "Next", "Join", "Leave"]

        # a group-limited poll: 40 vote, the other 260 are nudged, each exactly once
        itx = await fake.slash(c.guild, c.coco, "poll create", options={"question": "Adopt the roadmap?",
                               "options": "Yes; No", "group": "Principles"})  # fmt: skip
        poll = (await itx.response()).message
        assert poll is not None
        voters = crowd[:40]
        await in_batches(fake.click(poll, button(poll, "Yes"), m) for m in voters)
        before = len(fake.messages(c.general))
        itx = await fake.slash(c.guild, c.coco, "poll nudge", poll="1")
        await itx.response()
        assert "Nudging 260 members" in itx.text
        await eventually(lambda: sum(pinged(fake.messages(c.general)[before:]).values()) >= 260, timeout=10,
                         what="every part of the nudge")  # fmt: skip
        nudges = fake.messages(c.general)[before:]
        assert len(nudges) >= 3 and "you have not voted yet" in nudges[0].text
        assert pinged(nudges) == Counter({m.id: 1 for m in crowd[40:]})  # every non-voter once, nobody else
        assert all(len(m.content) <= 2000 and len(m.allowed_mentions["users"]) <= 100 for m in nudges)

        # /poll results of a poll with 300 ballots: every ballot is reachable
        await in_batches(fake.click(poll, button(poll, "No"), m) for m in crowd[40:])
        itx = await fake.slash(c.guild, c.bob, "poll results", poll="1")
        await itx.response()
        assert itx.message is not None
        pages = await every_page(fake, itx.message, c.bob)
        everything = "\n".join(pages)
        assert len(pages) > 1 and all(f"<@{m.id}>: " in everything for m in crowd)
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log() and fake.unhandled == []


async def test_comment_period_reminder_and_notice_reach_300(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    crowd = [fake.add_member(c.guild, f"member{n:03}") for n in range(CROWD)]
    bot = BotProcess(fake, tmp_path, schedule={"reminder_offsets": ["7s"]})
    await bot.start()
    try:
        await group_of(fake, c, crowd)
        conveners = crowd[:110]  # more than one message can ping
        await in_batches(
            fake.slash(c.guild, c.coco, "wg set-convener", group="Principles", options={"member": m})
            for m in conveners
        )
        home = c.guild.channel("principles")
        itx = await fake.slash(c.guild, c.alice, "consensus propose", kind="point", text="Open by default",
                               group="Principles", deadline="13s")  # fmt: skip
        await itx.final()  # posted in the group's home channel
        point = next(m for m in fake.messages(home) if "Open by default" in m.text)
        responded = crowd[250:]
        await in_batches(fake.click(point, button(point, "Agree"), m) for m in responded)

        def reminders() -> list[FakeMessage]:
            return [m for m in fake.messages(home) if m.content.startswith(("Reminder", "Not yet responded"))]

        await eventually(lambda: sum(pinged(reminders()).values()) >= 250, timeout=15, what="the reminder")
        assert reminders()[0].content.startswith("Reminder: the comment period on Point #1")
        assert pinged(reminders()) == Counter({m.id: 1 for m in crowd[:250]})  # who has not responded, once

        def notices() -> list[FakeMessage]:
            return [
                m for m in fake.messages(home) if m.content.startswith(("The comment period", "Conveners"))
            ]

        await eventually(
            lambda: sum(pinged(notices()).values()) >= 110, timeout=15, what="the conveners' notice"
        )
        assert len(notices()) >= 2 and "ready for the conveners' call" in notices()[0].content
        assert pinged(notices()) == Counter({m.id: 1 for m in conveners})
        await eventually(
            lambda: db_rows(bot, "SELECT state FROM scheduled_posts") == [("sent",), ("sent",)],
            what="posts sent",
        )
        assert db_rows(bot, "SELECT count(*) FROM post_parts") == [(0,)]  # forgotten once finished
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log() and fake.unhandled == []


def timetable(sessions: int) -> str:
    rows = ["Time        | Session | Moderator", "----------- | ------- | ---------"]
    for n in range(sessions):
        start = 8 * 60 + n * 15
        rows.append(
            f"{start // 60:02}:{start % 60:02}-{(start + 15) // 60:02}:{(start + 15) % 60:02} | "
            f"Policy slam {n + 1:02}: {'civil society coordination on the roadmap ' * 2}| Moderator {n + 1:02}"
        )
    return "\n".join(rows) + "\n"


async def test_import_40_sessions_preview_confirm_and_list(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    itx = await fake.slash(c.guild, c.coco, "agenda import", file=("day.md", timetable(40).encode()),
                           day="2030-11-24", zone="Europe/Paris")  # fmt: skip
    await itx.response()
    await eventually(lambda: any(m.buttons() for m in itx.followups), timeout=10, what="the whole preview")
    preview = itx.followups
    everything = "\n".join(m.text for m in preview)
    assert len(preview) > 1 and "Import preview: 40 sessions" in preview[0].text
    assert all(f"Policy slam {n:02}" in everything for n in range(1, 41))  # every session before confirming
    assert all(m.ephemeral for m in preview) and [b[0] for b in preview[-1].buttons()] == ["Confirm import"]
    confirm = await fake.click(preview[-1], preview[-1].buttons()[0][1], c.coco)
    await confirm.final()
    await eventually(lambda: len(db_rows(bot, "SELECT * FROM sessions")) == 40, what="40 sessions")
    done = "\n".join(m.text for m in confirm.followups)
    assert "Imported 40 sessions" in done and all(f"Policy slam {n:02}" in done for n in range(1, 41))
    # /agenda list of that day: every session reachable through the pages
    itx = await fake.slash(c.guild, c.alice, "agenda list", day="2030-11-24")
    await itx.response()
    assert itx.message is not None
    listed = "\n".join(await every_page(fake, itx.message, c.alice))
    assert all(f"**#{n}**" in listed for n in range(1, 41))


LONG_REASON = ("This text needs a safeguard for the smaller organisations and a review clause; " * 13)[:1000]


async def test_show_a_point_with_300_long_positions(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    crowd = [fake.add_member(c.guild, f"member{n:03}") for n in range(CROWD + 20)]
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    try:
        await group_of(fake, c, crowd)
        home = c.guild.channel("principles")
        itx = await fake.slash(c.guild, c.alice, "consensus propose", kind="point", text="A contested point",
                               group="Principles")  # fmt: skip
        await itx.final()  # posted in the group's home channel
        point = next(m for m in fake.messages(home) if "A contested point" in m.text)
        objecting = crowd[:CROWD]
        forms = await in_batches(fake.click(point, button(point, "Object"), m) for m in objecting)
        await in_batches(
            fake.submit_modal(form, m, {"reason": f"{m.user.username}: {LONG_REASON}"[:1000]})
            for form, m in zip(forms, objecting, strict=True)
        )
        assert db_rows(bot, "SELECT count(*) FROM positions WHERE reason IS NOT NULL") == [(CROWD,)]
        itx = await fake.slash(c.guild, c.bob, "consensus show", item="1")
        await itx.response()
        first = itx.message
        assert first is not None and first.ephemeral
        assert first.attachments and first.attachments[0].filename == "item-1.md"  # the whole record, too
        pages = await every_page(fake, first, c.bob)
        record = "\n".join(pages)
        assert len(pages) > 50
        for m in objecting:  # each position with its whole reason, and its entry in the objection register
            assert record.count(f"<@{m.id}> ({m.user.username}) — object: {m.user.username}: ") == 1
            assert record.count(f"<@{m.id}> ({m.user.username}) objects: {m.user.username}: ") == 1
        assert record.count(LONG_REASON[:900]) == 2 * CROWD
        not_responded = record[record.index("Not responded yet in Principles") :]
        assert all(f"<@{m.id}>" in not_responded for m in crowd[CROWD:])
        assert first.pings() == set()
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log() and fake.unhandled == []


async def test_lists_longer_than_a_message(fake: FakeDiscord, coalition: Coalition, bot: BotProcess) -> None:
    c = coalition
    count = 65
    await in_batches(
        (fake.slash(c.guild, c.coco, "wg create", name=f"Working group {n:02} on {'governance ' * 5}".strip())
         for n in range(count)), size=20,
    )  # fmt: skip
    await in_batches(
        (fake.slash(c.guild, c.alice, "poll create", options={"question": f"Question {n:02}: {'shall we? ' * 20}",
                                                               "options": "Yes; No"})
         for n in range(count)), size=20,
    )  # fmt: skip
    await in_batches(
        (fake.slash(c.guild, c.alice, "consensus propose", kind="point", text=f"Point {n:02} " + "words " * 200)
         for n in range(count)), size=20,
    )  # fmt: skip
    for command, expected in (
        ("wg list", [f"Working group {n:02} on" for n in range(count)]),
        ("poll list", [f"**#{n}** open" for n in range(1, count + 1)]),
        ("consensus list", [f"**#{n}** point" for n in range(1, count + 1)]),
    ):
        itx = await fake.slash(c.guild, c.bob, command)
        await itx.response()
        assert itx.ephemeral and itx.message is not None
        pages = await every_page(fake, itx.message, c.bob)
        listed = "\n".join(pages)
        assert len(pages) > 1, command
        missing = [e for e in expected if e not in listed]
        assert not missing, (command, missing[:3])
        assert all(re.search(r"Page \d+ of \d+", p) for p in pages)


async def test_a_poll_of_25_long_options_all_picked(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    labels = [(f"{n:02}_" + "x_" * 40)[:80] for n in range(1, 26)]  # each "_" is escaped: twice as long
    itx = await fake.slash(c.guild, c.alice, "poll create", options={
        "question": ("Which of these *long* options_ " * 10)[:300], "options": "; ".join(labels), "choices": 25,
        "duration": "1h"})  # fmt: skip
    poll = (await itx.response()).message
    assert poll is not None
    pick = await fake.select(poll, poll.custom_ids()[0], [str(n) for n in range(1, 26)], c.bob)
    await pick.response()
    assert (
        pick.ephemeral
        and pick.text.startswith("Your ballot on Poll #1: ")
        and "more (/poll results" in pick.text
    )
    await eventually(lambda: "**1** · 100%" in poll.text, what="the poll message's tally")
    assert all(f"{n:02}\\_" in poll.text for n in range(1, 26))  # every option and its bar, none cut
    itx = await fake.slash(c.guild, c.coco, "poll close", poll="1")
    await itx.final()
    closing = next(m for m in fake.messages(c.general) if "Poll #1 has closed" in m.text)
    assert all(f"{n:02}\\_" in closing.text for n in range(1, 26))
    itx = await fake.slash(c.guild, c.carol, "poll results", poll="1")
    await itx.response()
    assert itx.message is not None and all(f"{n:02}\\_" in itx.text for n in range(1, 26))
    pages = await every_page(fake, itx.message, c.carol)
    assert len(pages) == 2 and "1 ballot, on the next pages" in pages[0] and f"<@{c.bob.id}>: 01" in pages[1]
