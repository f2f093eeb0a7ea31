"""/consensus end to end: the life of a point and a question, restarts, a burst of clicks, refusals."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import FakeDiscord, FakeMessage, InteractionFailed
from tests.e2e.harness import BotProcess
from tests.e2e.helpers import button, db_rows, refused


def snapshot(bot: BotProcess) -> list[tuple]:
    tables = ("items", "item_revisions", "positions", "objections", "scheduled_posts")
    return [(t, *r) for t in tables for r in db_rows(bot, f"SELECT * FROM {t} ORDER BY 1, 2")]


async def click_and_reply(fake: FakeDiscord, message: FakeMessage, label: str, member) -> str:
    itx = await fake.click(message, button(message, label), member)
    await itx.response()
    assert itx.ephemeral
    return itx.text


async def test_life_of_a_point(fake: FakeDiscord, coalition: Coalition, bot: BotProcess) -> None:
    c = coalition
    await (await fake.slash(c.guild, c.coco, "wg create", name="Principles")).response()
    await (
        await fake.slash(c.guild, c.coco, "wg set-convener", group="Principles", options={"member": c.coco})
    ).response()
    for m in (c.alice, c.bob, c.carol):
        await (await fake.slash(c.guild, m, "wg join", group="Principles")).response()

    itx = await fake.slash(
        c.guild, c.alice, "consensus propose", kind="point", group="Principles",
        text="The Internet must remain **open** and interoperable. @everyone <@&1>",
    )  # fmt: skip
    await itx.response()
    msg = itx.message
    assert msg is not None and not itx.ephemeral
    text = msg.text
    assert "Point #1 · Open" in text and "Principles" in text and f"<@{c.alice.id}>" in text
    assert "The Internet must remain **open** and interoperable. @everyone <@&1>" in text  # as typed
    assert "Agree 0 · Stand aside 0 · Object 0 · Block 0" in text
    assert msg.pings() == set()
    assert [label for label, _, _ in msg.buttons()] == ["Agree", "Stand aside", "Object", "Block"]

    assert "Recorded: agree on Point #1" in await click_and_reply(fake, msg, "Agree", c.alice)
    assert "Recorded: stand aside" in await click_and_reply(fake, msg, "Stand aside", c.bob)
    await eventually(lambda: "Agree 1 · Stand aside 1" in msg.text, what="tally update")

    # Object opens a form that needs a reason
    itx = await fake.click(msg, button(msg, "Object"), c.carol)
    await itx.response()
    assert itx.modal is not None
    submit = await fake.submit_modal(itx, c.carol, {"reason": "Needs a line on encryption. @everyone"})
    await submit.response()
    assert submit.ephemeral and "Recorded: object" in submit.text
    await eventually(lambda: "Object 1" in msg.text, what="objection tallied")
    assert "no blocks, 1 objection open, 1 of 3 agree" in msg.text
    assert db_rows(bot, "SELECT stance, reason, state FROM objections") == [
        ("object", "Needs a line on encryption. @everyone", "open")
    ]

    # a member cannot judge; the convener marks the objection addressed; carol learns by DM
    itx = await fake.slash(
        c.guild, c.bob, "consensus objection", item="1", state="addressed", options={"member": c.carol}
    )
    await refused(itx, "Only conveners of Principles or coordinators")
    itx = await fake.slash(
        c.guild, c.coco, "consensus objection", item="#1", state="addressed",
        note="Encryption line added in rev 2", options={"member": c.carol},
    )  # fmt: skip
    await itx.response()
    assert itx.ephemeral and "marked **addressed**" in itx.text
    await eventually(lambda: fake.dms(c.carol), what="objector told by DM")
    dm = fake.dms(c.carol)[-1]
    assert "addressed" in dm.text and "Encryption line added" in dm.text and dm.pings() == set()
    await eventually(lambda: "no blocks, 0 objections open" in msg.text, what="register update")

    # amend: a new revision, positions must be confirmed again
    itx = await fake.slash(c.guild, c.alice, "consensus amend", item="1",
                           text="The Internet must remain open, interoperable and encrypted.")  # fmt: skip
    await itx.response()
    assert not itx.ephemeral and "revision 2" in itx.text and "confirm their positions again" in itx.text
    await eventually(lambda: "Agree 0 · Stand aside 0 · Object 0 · Block 0" in msg.text, what="reset tally")
    assert "members need to confirm again" in msg.text and "encrypted" in msg.text
    assert db_rows(bot, "SELECT revision, count(*) FROM positions GROUP BY revision") == [(1, 3)]

    for m in (c.alice, c.bob, c.carol):
        await click_and_reply(fake, msg, "Agree", m)
    await eventually(lambda: "Agree 3" in msg.text, what="agreement on rev 2")

    # show tells everything, including history
    itx = await fake.slash(c.guild, c.bob, "consensus show", item="1")
    await itx.response()
    shown = itx.text
    assert "rev 1" in shown and "Needs a line on encryption" in shown and "addressed" in shown
    assert "Not responded yet in Principles" in shown

    # decide: a member cannot; the convener can; positions freeze
    await refused(
        await fake.slash(c.guild, c.bob, "consensus decide", item="1", outcome="consensus"), "Only conveners"
    )
    itx = await fake.slash(
        c.guild, c.coco, "consensus decide", item="1", outcome="consensus", note="Agreed on the call"
    )
    await itx.response()
    assert (
        not itx.ephemeral
        and "**Consensus**" in itx.text
        and itx.message is not None
        and itx.message.pings() == set()
    )
    await eventually(lambda: "Point #1 · Consensus" in msg.text, what="outcome shown")
    assert f"Called by <@{c.coco.id}>" in msg.text and msg.buttons() == []
    stale = await fake.click(msg, "item:pos:v1:1:agree", c.bob, check=False, inject=True)
    await refused(stale, "decided", "frozen")

    # reopen undoes it
    itx = await fake.slash(c.guild, c.coco, "consensus reopen", item="1")
    await itx.response()
    assert "open again" in itx.text
    await eventually(lambda: "Point #1 · Open" in msg.text and len(msg.buttons()) == 4, what="reopened")
    assert "Recorded: stand aside" in await click_and_reply(fake, msg, "Stand aside", c.alice)


async def test_life_of_a_question(fake: FakeDiscord, coalition: Coalition, bot: BotProcess) -> None:
    c = coalition
    itx = await fake.slash(
        c.guild, c.bob, "consensus propose", kind="question", text="Do we endorse the WSIS+20 text?"
    )
    await itx.response()
    msg = itx.message
    assert msg is not None and "Question #1 · Open" in msg.text and msg.buttons() == []
    await refused(
        await fake.slash(c.guild, c.bob, "consensus answer", item="1", answer="Yes"), "Only coordinators"
    )
    itx = await fake.slash(c.guild, c.coco, "consensus answer", item="1", answer="Yes, with a caveat on §3")
    await itx.response()
    assert "**Answered**" in itx.text
    await eventually(
        lambda: "Question #1 · Answered" in msg.text and "caveat on §3" in msg.text, what="answer shown"
    )
    itx = await fake.slash(c.guild, c.coco, "consensus list", kind="question")
    await itx.response()
    assert "#1" in itx.text and "Answered" in itx.text


async def test_list_paginates(fake: FakeDiscord, coalition: Coalition, bot: BotProcess) -> None:
    c = coalition
    for n in range(23):
        await (
            await fake.slash(
                c.guild, c.alice, "consensus propose", kind="point", text=f"Point number {n + 1}"
            )
        ).response()
    itx = await fake.slash(c.guild, c.bob, "consensus list")
    await itx.response()
    page = itx.message
    assert (
        page is not None
        and "Page 1 of 3" in page.text
        and "**#10**" in page.text
        and "**#11**" not in page.text
    )
    nxt = await fake.click(page, next(cid for t, cid, _ in page.buttons() if t == "Next"), c.bob)
    await nxt.response()
    assert "Page 2 of 3" in page.text and "**#11**" in page.text
    itx = await fake.slash(c.guild, c.bob, "consensus list", status="decided")
    await itx.response()
    assert "No items match" in itx.text
    # autocomplete of items is limited to this server and matches numbers and words
    itx = await fake.autocomplete(c.guild, c.bob, "consensus show", focused="item", item="number 2")
    await itx.response()
    assert itx.choices and all("number 2" in ch["name"] for ch in itx.choices)


async def test_restart_and_comment_deadline(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    home = fake.add_channel(c.guild, "principles")
    bot = BotProcess(fake, tmp_path, schedule={"reminder_offsets": ["6s"]})
    await bot.start()
    try:
        await (
            await fake.slash(c.guild, c.coco, "wg create", name="Principles", home_channel=home)
        ).response()
        await (
            await fake.slash(
                c.guild, c.coco, "wg set-convener", group="Principles", options={"member": c.coco}
            )
        ).response()
        for m in (c.alice, c.bob):
            await (await fake.slash(c.guild, m, "wg join", group="Principles")).response()
        itx = await fake.slash(c.guild, c.alice, "consensus propose", kind="point", text="Deadline point",
                               group="Principles", deadline="12s")  # fmt: skip
        await itx.response()
        assert itx.ephemeral and "in <#" in (await itx.final()).text  # posted in the group's home channel
        msg = next(m for m in fake.messages(home) if "Deadline point" in m.text)
        await click_and_reply(fake, msg, "Agree", c.alice)

        await bot.restart()  # before the reminder is due
        # old buttons still work after the restart
        assert "Recorded: agree" in await click_and_reply(fake, msg, "Agree", c.coco)

        await eventually(
            lambda: any("Reminder" in m.text for m in fake.messages(home)), timeout=10, what="reminder"
        )
        reminder = next(m for m in fake.messages(home) if "Reminder" in m.text)
        assert reminder.pings() == {c.bob.id}  # only the member who has not responded
        await bot.restart()  # between the reminder and the deadline
        await eventually(
            lambda: any("has ended" in m.text for m in fake.messages(home)), timeout=10, what="notice"
        )
        notice = next(m for m in fake.messages(home) if "has ended" in m.text)
        assert notice.pings() == {c.coco.id}  # the conveners
        assert "ready for the conveners' call" in notice.text
        await bot.restart()
        await asyncio.sleep(1.5)
        texts = [m.text for m in fake.messages(home)]
        assert sum("Reminder" in t for t in texts) == 1 and sum("has ended" in t for t in texts) == 1
        assert sorted(r[0] for r in db_rows(bot, "SELECT state FROM scheduled_posts")) == ["sent", "sent"]
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log()


async def test_burst_of_200_clicks(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    crowd = [fake.add_member(c.guild, f"member{n}") for n in range(200)]
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    try:
        itx = await fake.slash(c.guild, c.alice, "consensus propose", kind="point", text="Burst point")
        await itx.response()
        msg = itx.message
        assert msg is not None
        agree, aside = button(msg, "Agree"), button(msg, "Stand aside")
        clicks = await asyncio.gather(
            *(fake.click(msg, agree if n % 4 else aside, m) for n, m in enumerate(crowd))
        )
        results = await asyncio.gather(*(i.response(timeout=3.0) for i in clicks), return_exceptions=True)
        failed = [r for r in results if isinstance(r, InteractionFailed)]
        assert not failed, f"{len(failed)} clicks not acknowledged within 3 s"
        assert db_rows(bot, "SELECT stance, count(*) FROM positions GROUP BY stance ORDER BY stance") == [
            ("agree", 150), ("stand_aside", 50),
        ]  # fmt: skip
        await eventually(lambda: "Agree 150 · Stand aside 50" in msg.text, timeout=10, what="final tally")
        edits = fake.message_edits[msg.id]
        latencies = sorted(i.ack_latency for i in clicks if i.ack_latency is not None)
        print(
            f"\n200-click burst: {edits} message edits; ack p50 {latencies[100]:.3f}s p99 {latencies[197]:.3f}s"
        )
        assert edits < 20  # coalesced, not one edit per click
    finally:
        assert await bot.stop() == 0


async def test_refusals_change_nothing(fake: FakeDiscord, coalition: Coalition, bot: BotProcess) -> None:
    c = coalition
    other = make_coalition(fake, "Other coalition")
    await (await fake.slash(c.guild, c.coco, "wg create", name="Principles")).response()
    await (await fake.slash(c.guild, c.coco, "wg create", name="Roadmap")).response()
    await (
        await fake.slash(c.guild, c.coco, "wg set-convener", group="Roadmap", options={"member": c.bob})
    ).response()
    itx = await fake.slash(
        c.guild, c.alice, "consensus propose", kind="point", text="A point", group="Principles"
    )
    await itx.response()
    msg = itx.message
    assert msg is not None
    other_msg = (await (await fake.slash(other.guild, other.alice, "consensus propose", kind="point",
                                          text="Theirs")).response()).message  # fmt: skip
    assert other_msg is not None
    await eventually(
        lambda: not db_rows(bot, "SELECT 1 FROM items WHERE message_id IS NULL"), what="messages noted"
    )
    before = snapshot(bot)
    cases = [
        (c.alice, "consensus propose", {"kind": "point", "text": "x" * 1501}, "at most 1,500"),
        (c.alice, "consensus propose", {"kind": "point", "text": "   "}, "empty"),
        (c.alice, "consensus propose", {"kind": "point", "text": "ok", "group": "Nope"}, "no working group"),
        (
            c.alice,
            "consensus propose",
            {"kind": "point", "text": "ok", "deadline": "2020-01-01 10:00"},
            "in the past",
        ),
        (
            c.alice,
            "consensus propose",
            {"kind": "point", "text": "ok", "deadline": "2026-02-30 25:00"},
            "not a real",
        ),
        (
            c.alice,
            "consensus propose",
            {"kind": "point", "text": "ok", "deadline": "whenever"},
            "not a deadline",
        ),
        (c.alice, "consensus show", {"item": "99"}, "no item #99"),
        (c.alice, "consensus show", {"item": "abc"}, "not an item number"),
        (c.alice, "consensus decide", {"item": "1", "outcome": "consensus"}, "Only conveners of Principles"),
        (c.bob, "consensus decide", {"item": "1", "outcome": "consensus"}, "Only conveners of Principles"),
        (c.bob, "consensus amend", {"item": "1", "text": "Changed"}, "Only the author"),
        (c.alice, "consensus amend", {"item": "1", "text": "x" * 1501}, "at most 1,500"),
        (c.coco, "consensus reopen", {"item": "1"}, "already open"),
        (c.coco, "consensus answer", {"item": "1", "answer": "yes"}, "is a point"),
        (other.coco, "consensus decide", {"item": "2", "outcome": "consensus"}, "no item #2"),
    ]
    for member, path, options, fragment in cases:
        guild = other.guild if member is other.coco else c.guild
        itx = await fake.slash(guild, member, path, client_checks=False, **options)
        await refused(itx, fragment)
    # a reason that is too long, through a modified client
    itx = await fake.click(msg, button(msg, "Block"), c.bob)
    await itx.response()
    submit = await fake.submit_modal(itx, c.bob, {"reason": "r" * 1001}, check=False)
    await refused(submit, "at most 1,000")
    # a forged custom_id pointing at another server's item
    their_id = db_rows(bot, "SELECT item_id FROM items WHERE guild_id = ?", (other.guild.id,))[0][0]
    forged = await fake.click(msg, f"item:pos:v1:{their_id}:agree", c.alice, check=False, inject=True)
    await refused(forged, "does not exist on this server")
    assert snapshot(bot) == before


async def test_home_channel_refusing_falls_back_here(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    home = fake.add_channel(c.guild, "locked")
    await (await fake.slash(c.guild, c.coco, "wg create", name="Principles", home_channel=home)).response()
    fake.fail(
        "POST", rf"/channels/{home.id}/messages", 403, code=50013, message="Missing Permissions", times=1
    )
    itx = await fake.slash(
        c.guild, c.alice, "consensus propose", kind="point", text="Here instead", group="Principles"
    )
    answer = await itx.final()
    assert itx.ephemeral and "could not post in" in answer.text
    assert any("Here instead" in m.text for m in fake.messages(c.general))
    await eventually(lambda: db_rows(bot, "SELECT channel_id FROM items") == [(c.general.id,)], what="noted")


async def test_each_reader_is_answered_in_their_language(fake: FakeDiscord, tmp_path: Path) -> None:
    # Bob (a French client) is answered in French, Alice (who chose Arabic) in Arabic, Coco (an English
    # client) in English; the group's card, its reminder and its notice speak the group's language (Arabic).
    # Arabic renderings also wrap each value in Unicode isolates.
    fsi, pdi = "\u2068", "\u2069"
    c = make_coalition(fake)
    home = fake.add_channel(c.guild, "principles")
    bot = BotProcess(fake, tmp_path, schedule={"reminder_offsets": ["6s"]})
    await bot.start()
    try:
        await (
            await fake.slash(c.guild, c.coco, "wg create", name="Principles", home_channel=home)
        ).response()
        await (await fake.slash(c.guild, c.coco, "wg set-convener", group="Principles",
                                options={"member": c.coco})).response()  # fmt: skip
        for m in (c.alice, c.bob, c.carol):
            await (await fake.slash(c.guild, m, "wg join", group="Principles")).response()
        await (await fake.slash(c.guild, c.coco, "wg language", group="Principles", language="ar")).response()
        await (await fake.slash(c.guild, c.alice, "language set", language="ar")).response()

        itx = await fake.slash(c.guild, c.bob, "consensus propose", kind="point", text="Keep it open",
                               group="Principles", deadline="12s", locale="fr")  # a French client  # fmt: skip
        await itx.response()
        said = (await itx.final()).text
        # his client's language (French puts a no-break space before ':')
        assert itx.ephemeral and said.startswith("Proposition publiée\u00a0: Point #1, dans <#")
        assert fsi not in said
        card = next(m for m in fake.messages(home) if "Keep it open" in m.text)
        assert f"النقطة #{fsi}1{pdi}" in card.text  # the card speaks the group's language
        assert [label for label, _, _ in card.buttons()] == ["موافقة", "تنحٍّ", "اعتراض", "اعتراض مانع"]

        # a click carries the clicker's client language (en-US here): bob chose nothing, so English
        said = await click_and_reply(fake, card, "موافقة", c.bob)
        assert said == "Recorded: agree on Point #1."
        itx = await fake.click(card, button(card, "اعتراض"), c.alice)
        await itx.response()
        assert itx.modal is not None  # her own choice, Arabic
        assert itx.modal["title"].startswith("اعتراض: ") and fsi in itx.modal["title"]
        submit = await fake.submit_modal(itx, c.alice, {"reason": "Needs encryption."})
        await submit.response()
        assert submit.ephemeral and submit.text.startswith("سُجّل: ") and fsi in submit.text
        await eventually(lambda: f"اعتراض {fsi}1" in card.text, what="card refreshed in the group's language")
        assert f"موافقة {fsi}1" in card.text and "اعتراض واحد مفتوح" in card.text  # and the hint (n=1)

        itx = await fake.slash(c.guild, c.coco, "consensus objection", item="1", state="addressed",
                               options={"member": c.alice})  # fmt: skip
        await itx.response()
        assert itx.ephemeral and "is marked **addressed**" in itx.text and fsi not in itx.text
        await eventually(lambda: fake.dms(c.alice), what="objector told")
        dm = fake.dms(c.alice)[-1].text
        assert "اعتراضك على" in dm and fsi in dm  # in the objector's own language

        reminded = "تذكير: تنتهي فترة التعليق على"  # "Reminder: the comment period on … ends"
        await eventually(lambda: any(reminded in m.text for m in fake.messages(home)), timeout=10,
                         what="reminder")  # fmt: skip
        reminder = next(m for m in fake.messages(home) if reminded in m.text)
        assert fsi in reminder.text and reminder.pings() == {c.carol.id, c.coco.id}  # the silent, in Arabic
        ended = "انتهت فترة التعليق على"  # "The comment period on … has ended"
        await eventually(lambda: any(ended in m.text for m in fake.messages(home)), timeout=10,
                         what="notice")  # fmt: skip
        notice = next(m for m in fake.messages(home) if ended in m.text)
        assert fsi in notice.text and notice.pings() == {c.coco.id}

        itx = await fake.slash(c.guild, c.bob, "consensus show", item="1", locale="fr")
        await itx.response()
        assert "Positions sur la révision 1" in itx.text and fsi not in itx.text
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log()
