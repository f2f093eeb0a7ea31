"""/statement end to end, the real bot process against the fake Discord: a draft from a working group's
decided points, a 12,000-character statement uploaded as a file, shown and posted within Discord's limits,
60 organisations signing through the buttons (listed or counted only), a withdrawal, an amendment that
earlier signers are asked by direct message to confirm, the signatory list in four formats byte-equal to
``caucus signatories`` and checked by ``caucus verify``, the close at a deadline the bot was down for (once,
across restarts), the refusals (each one clear sentence, nothing changed), and a burst of 300 signatures."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from pathlib import Path

from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import FakeDiscord, FakeMessage
from tests.e2e.fake_discord.models import FakeMember
from tests.e2e.harness import ROOT, BotProcess
from tests.e2e.helpers import button, db_rows, in_batches, refused, seed_orgs

SIGN = "Sign on behalf of your organisation"


async def run_cli(bot: BotProcess, *args: str) -> tuple[int, bytes, bytes]:
    """``caucus ARGS`` against the bot's config, as the operator runs it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out, err


def card_of(fake: FakeDiscord, c: Coalition, version: int = 1) -> FakeMessage | None:
    """The card of a version: the last message of its post, the one with the Sign button."""
    cards = [m for m in fake.messages(c.general) if m.embeds and f"Version {version} ·" in m.text]
    return cards[-1] if cards else None


def statement_rows(bot: BotProcess) -> list[tuple[object, ...]]:
    return db_rows(bot, "SELECT * FROM statements ORDER BY 1")


def everything(bot: BotProcess) -> list[list[tuple[object, ...]]]:
    return [db_rows(bot, f"SELECT * FROM {t} ORDER BY 1, 2") for t in  # noqa: S608
            ("statements", "statement_versions", "statement_signatures", "record_entries")]  # fmt: skip


async def sign(
    fake: FakeDiscord, card: FakeMessage, members: list[FakeMember], listed: list[bool]
) -> list[str]:
    """Each member presses Sign, then Listed by name or Counted only; returns the answers they saw."""
    prompts = await in_batches(fake.click(card, button(card, SIGN), m) for m in members)
    for prompt in prompts:
        assert prompt.ephemeral and "on behalf of **" in prompt.text, prompt.text
    answers = await in_batches(
        fake.click(p.message, button(p.message, "Listed by name" if yes else "Counted only"), m)
        for p, m, yes in zip(prompts, members, listed, strict=True)
    )
    for answer in answers:
        assert answer.type == 7 and answer.message.buttons() == [], answer.text  # the question is replaced
    return [a.text for a in answers]


async def decided_group(fake: FakeDiscord, c: Coalition) -> None:
    """Principles, with #1 consensus, #2 no consensus, #3 rough consensus (amended first), #4 open."""
    await (await fake.slash(c.guild, c.coco, "wg create", name="Principles")).response()
    for text in ("The Internet must remain open.", "Abolish all registries.", "Civil society needs seats.",
                 "Still under discussion."):  # fmt: skip
        await (await fake.slash(c.guild, c.alice, "consensus propose", kind="point", text=text,
                                group="Principles")).final()  # fmt: skip
    await (await fake.slash(c.guild, c.alice, "consensus amend", item="3",
                            text="Civil society needs seats in every process.")).final()  # fmt: skip
    for item, outcome in (("1", "consensus"), ("2", "no_consensus"), ("3", "rough_consensus")):
        itx = await fake.slash(c.guild, c.coco, "consensus decide", item=item, outcome=outcome)
        await itx.final()
        assert "Something went wrong" not in itx.text


PARAGRAPH = "The coalition affirms that an open, interoperable and secure Internet serves everyone. " * 3


def long_text() -> str:
    """About 12,000 characters in paragraphs, each numbered so that a lost or repeated one shows."""
    paragraphs = [f"{n}. {PARAGRAPH.strip()}" for n in range(1, 48)]
    text = "\n\n".join(paragraphs)
    assert 11_900 <= len(text) <= 12_500, len(text)
    return text


async def test_a_statement_from_draft_to_signatories(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    reps = [fake.add_member(c.guild, f"rep{n:03d}") for n in range(60)]
    bot = BotProcess(fake, tmp_path)
    await seed_orgs(bot.db_path, c.guild, reps)
    await bot.start()
    try:
        await decided_group(fake, c)
        # a draft from the group's decided points; a member who is not its author (nor convener) cannot edit it
        itx = await fake.slash(c.guild, c.coco, "statement draft", title="Joint statement on an open Internet",
                               group="Principles", introduction="We, the undersigned organisations:")  # fmt: skip
        await itx.response()
        assert itx.ephemeral and "Draft **statement #1** created" in itx.text
        assert "starts from the 2 decided points of **Principles** (#1, #3)" in itx.text
        show = await fake.slash(c.guild, c.bob, "statement show", statement="1")
        await show.followup(0)
        text = "\n".join(m.text for m in [show.message, *show.followups])
        assert "We, the undersigned organisations:\n\n#1 The Internet must remain open.\n\n#3 Civil society needs seats in " \
               "every process." in text  # fmt: skip
        assert "Abolish" not in text and "Still under discussion" not in text
        await refused(await fake.slash(c.guild, c.bob, "statement edit", statement="1", title="Mine"),
                      "Only the author of statement #1, the conveners of Principles or coordinators can edit it")  # fmt: skip

        # a 12,000-character text as a .md file; shown whole in ephemeral messages within Discord's limits
        body = long_text()
        itx = await fake.slash(c.guild, c.coco, "statement edit", statement="1",
                               file=("statement.md", body.encode("utf-8")))  # fmt: skip
        done = await itx.final()
        assert itx.ephemeral and "text changed" in done.text and "12," in done.text
        show = await fake.slash(c.guild, c.alice, "statement show", statement="1")
        await show.response()
        await eventually(lambda: len(show.followups) >= 3, what="every page of the text")
        pages = [show.message, *show.followups]
        assert all(p.ephemeral for p in pages) and len(pages) >= 4
        shown = "\n".join(p.embeds[0].get("description", "") for p in pages[1:])
        assert re.findall(r"^([0-9]+)\. The coalition affirms", shown, re.M) == [str(n) for n in range(1, 48)]
        assert "Draft" in pages[0].text

        # opened here for 1 hour: the text in parts, then the card with the buttons
        seen = len(fake.messages(c.general))
        itx = await fake.slash(c.guild, c.coco, "statement open", statement="1", duration="1h")
        await itx.response()
        assert itx.ephemeral and "is open for signature until" in itx.text
        await eventually(lambda: card_of(fake, c) is not None, what="the card")
        card = card_of(fake, c)
        assert card is not None
        parts = fake.messages(c.general)[seen:-1]
        assert fake.messages(c.general)[-1].id == card.id  # the card is the last part
        assert len(parts) >= 6 and all(0 < len(m.content) <= 2000 and not m.embeds for m in parts)
        assert parts[0].content.startswith("**Statement #1 · Joint statement on an open Internet**")
        joined = "\n".join(m.content for m in parts)
        assert re.findall(r"^([0-9]+)\. The coalition affirms", joined, re.M) == [
            str(n) for n in range(1, 48)
        ]
        assert [b[0] for b in card.buttons()] == [SIGN, "Withdraw our signature"]
        assert all(m.pings() == set() for m in parts + [card])
        assert db_rows(bot, "SELECT count(*) FROM statement_messages WHERE statement_id = 1") == [
            (len(parts) + 1,)
        ]

        # 60 organisations sign through the buttons: two in three listed by name
        listed = [n % 3 != 0 for n in range(60)]
        answers = await sign(fake, card, reps, listed)
        assert (
            "**Organisation 001** signed statement #1 (version 1" in answers[1]
            and "listed by name" in answers[1]
        )
        assert "counted only" in answers[0]
        assert db_rows(bot, "SELECT count(*), sum(listed) FROM statement_signatures WHERE withdrawn_at IS NULL") == [
            (60, 40)]  # fmt: skip
        await eventually(
            lambda: "**60** signed (40 listed by name, 20 counted only)" in card.text, what="card count"
        )

        # the refusals of signing, each changing nothing
        before = everything(bot)
        again = await fake.click(card, button(card, SIGN), reps[5])
        await refused(again, "Organisation 005 already signed statement #1")
        stranger = await fake.click(card, button(card, SIGN), c.bob)
        await refused(stranger, "Only representatives of a verified member organisation can sign")
        assert everything(bot) == before

        # a withdrawal, by the card's button
        gone = await fake.click(card, button(card, "Withdraw our signature"), reps[1])
        await refused(gone, "The signature of **Organisation 001** on statement #1 is withdrawn")
        await eventually(lambda: "**59** signed (39 listed by name, 20 counted only)" in card.text, what="59")

        # an amendment: version 2 posted with a new card; earlier signers asked by direct message
        itx = await fake.slash(c.guild, c.coco, "statement edit", statement="1",
                               text="We, the undersigned, call for an open, interoperable and secure Internet.")  # fmt: skip
        await itx.response()
        assert "is amended: **version 2**" in itx.text
        await eventually(lambda: card_of(fake, c, 2) is not None, what="the card of version 2")
        card2 = card_of(fake, c, 2)
        assert card2 is not None
        assert [b[0] for b in card2.buttons()] == [SIGN, "Confirm our signature", "Withdraw our signature"]
        await eventually(
            lambda: card.buttons() == [] and "Replaced by version 2" in card.text, what="old card"
        )
        signers = [r for n, r in enumerate(reps) if n != 1]
        await eventually(lambda: all(any("was amended" in m.text for m in fake.dms(r)) for r in signers),
                         timeout=15, what="a DM to each earlier signer")  # fmt: skip
        dm = next(m for m in fake.dms(reps[2]) if "was amended" in m.text)
        assert "**Organisation 002**" in dm.text and str(card2.id) in dm.text and dm.pings() == set()
        assert not any("was amended" in m.text for m in fake.dms(reps[1]))  # withdrew: not asked
        assert "**0** confirmed on version 2 · **59** pending" in card2.text
        confirms = await in_batches(
            fake.click(card2, button(card2, "Confirm our signature"), r) for r in signers[:30]
        )
        assert all("Confirmed the signature of **Organisation" in x.text for x in confirms)
        await eventually(
            lambda: "**30** confirmed on version 2 · **29** pending" in card2.text, what="confirmed"
        )
        await refused(await fake.click(card2, button(card2, "Confirm our signature"), signers[0]),
                      "is already on version 2")  # fmt: skip
        assert db_rows(bot, "SELECT version, count(*) FROM statement_signatures WHERE withdrawn_at IS NULL "
                            "GROUP BY version") == [(1, 29), (2, 30)]  # fmt: skip

        # the signatory list: the same bytes from /statement signatories and caucus signatories, also in
        # another language than the server's
        for fmt, language in (("md", "fr"), ("html", "fr"), ("md", None), ("html", None), ("csv", None),
                              ("json", None)):  # fmt: skip
            asked = {"language": language} if language else {}
            itx = await fake.slash(
                c.guild, c.coco, "statement signatories", statement="1", format=fmt, **asked
            )
            message = await itx.final()
            assert itx.ephemeral and len(message.attachments) == 1
            from_discord = message.attachments[0].data
            told = ["--language", language] if language else []
            code, out, err = await run_cli(bot, "signatories", "--config", str(bot.config_path), "--guild",
                                           str(c.guild.id), "--statement", "1", "--format", fmt, *told)  # fmt: skip
            assert code == 0, err
            assert out == from_discord, fmt
            if fmt == "html":
                assert (b'<html lang="fr" dir="ltr">' if language else b'<html lang="en">') in out
        listing = json.loads(from_discord)
        assert listing["counts"]["organisations"] == 59 and listing["counts"]["on_current_version"] == 30
        assert len(listing["organisations"]) == 39 and listing["counted_only"]["count"] == 20
        exported = tmp_path / "signatories.json"
        exported.write_bytes(from_discord)
        code, out, err = await run_cli(bot, "verify", str(exported))
        assert code == 0, out.decode() + err.decode()
        cut = dict(listing)
        cut["organisations"] = [o for o in listing["organisations"] if o["name"] != "Organisation 004"]
        exported.write_text(json.dumps(cut), encoding="utf-8")
        code, out, _ = await run_cli(bot, "verify", str(exported))
        assert (
            code == 1 and "by Organisation 004) is in the record but missing from the export" in out.decode()
        )
        # a member's list leaves out nothing but individuals' names; public lists are for everyone
        itx = await fake.slash(c.guild, c.alice, "statement signatories", statement="1", format="md")
        assert "Organisation 004" in (await itx.final()).attachments[0].data.decode()

        # the person who signed for an organisation asks to be forgotten: the signature stays, their id goes
        itx = await fake.slash(c.guild, reps[4], "privacy export")
        exported = json.loads((await itx.final()).attachments[0].data)
        assert [(s["statement"], s["organisation"], s["signed_it"]) for s in exported["statements"]] == [
            (1, "Organisation 004", True)]  # fmt: skip
        ask = await (await fake.slash(c.guild, reps[4], "privacy delete")).final()
        await (await fake.click(ask, button(ask, "Anonymise me"), reps[4])).response()
        assert db_rows(
            bot, "SELECT count(*) FROM statement_signatures WHERE signer_id = ?", (reps[4].id,)
        ) == [(0,)]
        assert db_rows(bot, "SELECT signer_id < 0 FROM statement_signatures s JOIN orgs o USING (org_id) "
                            "WHERE o.name = 'Organisation 004'") == [(1,)]  # fmt: skip
        itx = await fake.slash(c.guild, c.coco, "statement signatories", statement="1", format="json")
        after = json.loads((await itx.final()).attachments[0].data)
        assert "Organisation 004" in [o["name"] for o in after["organisations"]]
        assert after["counts"]["organisations"] == 59
        # the summary export carries the statement with its counts
        itx = await fake.slash(c.guild, c.coco, "export summary", format="json")
        summary = json.loads((await itx.final()).attachments[0].data)
        assert [(s["number"], s["state"], s["version"], s["organisations"], s["on_current_version"])
                for s in summary["statements"]] == [(1, "open", 2, 59, 30)]  # fmt: skip
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log() and fake.unhandled == []


async def open_statement(fake: FakeDiscord, c: Coalition, *, duration: str, individuals: bool = False,
                         text: str = "We, the undersigned, call for an open Internet.") -> FakeMessage:  # fmt: skip
    """A statement drafted, given a text and opened by the coordinator in #general; returns its card."""
    drafted = await fake.slash(
        c.guild, c.coco, "statement draft", title=f"Statement {len(db_statements(fake, c)) + 1}"
    )
    await drafted.response()
    found_number = re.search(r"Draft \*\*statement #([0-9]+)\*\*", drafted.text)
    assert found_number is not None, drafted.text
    number = int(found_number[1])
    await (await fake.slash(c.guild, c.coco, "statement edit", statement=str(number), text=text)).response()
    itx = await fake.slash(c.guild, c.coco, "statement open", statement=str(number), duration=duration,
                           individuals=individuals)  # fmt: skip
    await itx.response()
    assert "is open for signature" in itx.text, itx.text

    def card() -> FakeMessage | None:
        found = [
            m
            for m in fake.messages(c.general)
            if m.embeds and f"Statement #{number} ·" in m.text and m.buttons()
        ]
        return found[-1] if found else None

    await eventually(lambda: card() is not None, what=f"the card of statement #{number}")
    found = card()
    assert found is not None
    return found


def db_statements(fake: FakeDiscord, c: Coalition) -> list[FakeMessage]:
    """The cards posted in #general so far (one per statement version)."""
    return [
        m for m in fake.messages(c.general) if m.embeds and "/statement show for the whole text" in m.text
    ]


async def test_closing_at_a_deadline_the_bot_was_down_for(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    record = fake.add_channel(c.guild, "record")
    reps = [fake.add_member(c.guild, f"rep{n:03d}") for n in range(10)]
    bot = BotProcess(fake, tmp_path, record={"channel": record.id})
    await seed_orgs(bot.db_path, c.guild, reps)
    await bot.start()
    try:
        started = time.monotonic()
        card = await open_statement(fake, c, duration="10s", individuals=True)
        assert [b[0] for b in card.buttons()] == [SIGN, "Sign as an individual", "Withdraw our signature"]
        await sign(fake, card, reps[:6], [n % 2 == 0 for n in range(6)])
        await bot.restart()  # the buttons work after a restart, the prompt's too
        prompt = await fake.click(card, button(card, SIGN), reps[6])
        await prompt.response()
        await bot.restart()
        answer = await fake.click(prompt.message, button(prompt.message, "Counted only"), reps[6])
        await answer.response()
        assert answer.type == 7 and "**Organisation 006** signed" in answer.text
        mine = await fake.click(card, button(card, "Sign as an individual"), c.alice)
        await mine.response()
        assert (
            mine.ephemeral and "You signed statement #1" in mine.text and "only to coordinators" in mine.text
        )
        await refused(await fake.click(card, button(card, "Sign as an individual"), c.alice),
                      "You already signed statement #1 as an individual")  # fmt: skip
        assert db_rows(bot, "SELECT count(*) FROM statement_signatures") == [(8,)]

        assert await bot.stop() == 0  # down across the deadline
        await asyncio.sleep(max(0.0, started + 11 - time.monotonic()))
        await bot.start()

        def closing() -> list[FakeMessage]:
            return [m for m in fake.messages(c.general) if "is closed" in m.content]

        await eventually(lambda: len(closing()) == 1, timeout=10, what="the closing post")
        post = closing()[0]
        assert (
            "**Statement #1 · Statement 1** is closed (at its deadline, while the bot was offline"
            in post.content
        )
        assert (
            "**7 organisations** signed the final version (3 listed by name, 4 counted only)" in post.content
        )
        assert (
            "By region: African 2 · Asia-Pacific 2 · Eastern European 1 · GRULAC 1 · WEOG 1" in post.content
        )
        assert (
            "By stakeholder group: Civil society 2 · Academia 1 · Technical community 1 · Private sector 1"
            in post.content
        )
        assert "Individuals: 1 on the final version" in post.content and post.pings() == set()
        await eventually(lambda: card.buttons() == [] and "Closed at its deadline" not in card.text
                         and "Closed <t:" in card.text, what="the card closed")  # fmt: skip
        await eventually(lambda: any("statement #1 closed" in m.text for m in fake.messages(record)),
                         what="the checkpoint posted")  # fmt: skip
        checkpoint = next(m for m in fake.messages(record) if "statement #1 closed" in m.text)
        assert checkpoint.attachments and "caucus verify" in checkpoint.text
        assert db_rows(bot, "SELECT state, closed_by IS NULL, closed_at = closes_at FROM statements") == [
            ("closed", 1, 1)
        ]
        await bot.restart()  # once: the close and its post are not repeated
        await asyncio.sleep(1.0)
        assert len(closing()) == 1
        states = [
            json.loads(e)["facts"].get("state") for (e,) in db_rows(bot, "SELECT entry FROM record_entries")
        ]
        assert states.count("closed") == 1 and states.count("opened") == 1
        before = everything(bot)
        late = await fake.click(card, button_of(card, SIGN), reps[7], check=False, inject=True)
        await refused(late, "Statement #1 is closed; its signatories are final")
        assert everything(bot) == before
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log() and fake.unhandled == []


def button_of(card: FakeMessage, label: str, statement_id: int = 1) -> str:
    """A card button's custom_id, also once the card has lost its buttons (what a stale client still shows)."""
    action = {SIGN: "sign", "Sign as an individual": "individual", "Confirm our signature": "confirm",
              "Withdraw our signature": "withdraw"}[label]  # fmt: skip
    return f"statement:card:{action}:v1:{statement_id}"


async def test_refusals_change_nothing(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    other = make_coalition(fake, "Other coalition")
    reps = [fake.add_member(c.guild, f"rep{n:03d}") for n in range(4)]
    theirs = fake.add_member(other.guild, "theirs")
    second = fake.add_member(c.guild, "second")  # a second representative of Organisation 000
    muted = fake.add_channel(c.guild, "muted", overwrites=[{"id": c.guild.id, "type": 0, "deny": 1 << 11}])
    bot = BotProcess(fake, tmp_path)
    await seed_orgs(bot.db_path, c.guild, reps)
    await seed_orgs(bot.db_path, other.guild, [theirs], first=50)
    await bot.start()
    try:
        await (await fake.slash(c.guild, second, "org join", org="Organisation 000")).response()
        await (
            await fake.slash(c.guild, c.coco, "org approve", org="Organisation 000", member=second)
        ).response()
        # Pending Org: registered by bob, not verified, so bob represents nothing yet
        await (await fake.slash(c.guild, c.bob, "org register", name="Pending Org", country="FR", region="weog",
                                stakeholder="academia")).response()  # fmt: skip
        # the other server's statement, open, signed by its own organisation
        other_card = await open_statement(fake, other, duration="1h")
        await sign(fake, other_card, [theirs], [True])
        draft = await fake.slash(c.guild, c.coco, "statement draft", title="Only a draft")
        await draft.response()
        card = await open_statement(fake, c, duration="1h")
        await sign(fake, card, reps[:2], [True, False])
        ids = {name: int(db_rows(bot, "SELECT org_id FROM orgs WHERE name = ?", (name,))[0][0])
               for name in ("Organisation 000", "Organisation 002", "Organisation 050")}  # fmt: skip
        statement_ids = dict(db_rows(bot, "SELECT guild_id || ':' || number, statement_id FROM statements"))
        ours, draft_id = statement_ids[f"{c.guild.id}:2"], statement_ids[f"{c.guild.id}:1"]
        their_statement = statement_ids[f"{other.guild.id}:1"]
        before = everything(bot)
        prompt = await fake.click(
            card, button(card, SIGN), reps[2]
        )  # a fair prompt, used by the wrong people
        await prompt.response()
        listed = button(prompt.message, "Listed by name")
        cases = [
            # signing for an unverified organisation (bob's request waits for its verification)
            (fake.click(card, button(card, SIGN), c.bob), "Only representatives of a verified member organisation"),
            # for one you do not represent: someone else's prompt, or a forged organisation id
            (fake.click(prompt.message, listed, reps[3]), "You represent Organisation 003, not the organisation"),
            (fake.click(prompt.message, listed, c.carol), "Only representatives of a verified member organisation"),
            (fake.click(card, f"statement:choice:listed:v1:{ours}:{ids['Organisation 002']}:1", reps[3], check=False,
                        inject=True), "You represent Organisation 003, not the organisation"),
            # signing twice: the second representative of an organisation that signed
            (fake.click(card, button(card, SIGN), second), "Organisation 000 already signed statement #2"),
            (fake.click(card, f"statement:choice:counted:v1:{ours}:{ids['Organisation 000']}:1", second, check=False,
                        inject=True), "Organisation 000 already signed statement #2"),
            # a draft takes no signatures
            (fake.click(card, f"statement:card:sign:v1:{draft_id}", reps[2], check=False, inject=True),
             "Statement #1 is a draft"),
            # withdrawing another organisation's signature
            (fake.slash(c.guild, reps[3], "statement withdraw", statement="2", organisation="Organisation 000"),
             "Only representatives of Organisation 000 or a coordinator can withdraw its signature"),
            (fake.click(card, button(card, "Withdraw our signature"), reps[3]), "Organisation 003 has not signed"),
            # forged buttons with another server's ids
            (fake.click(card, f"statement:card:sign:v1:{their_statement}", reps[2], check=False, inject=True),
             "That statement does not exist on this server"),
            (fake.click(card, f"statement:card:withdraw:v1:{their_statement}", c.coco, check=False, inject=True),
             "That statement does not exist on this server"),
            (fake.click(card, f"statement:choice:listed:v1:{their_statement}:{ids['Organisation 050']}:1", reps[2],
                        check=False, inject=True), "That statement does not exist on this server"),
            (fake.click(card, f"statement:choice:listed:v1:{ours}:{ids['Organisation 050']}:1", reps[2], check=False,
                        inject=True), "You represent Organisation 002, not the organisation"),
            (fake.slash(c.guild, c.coco, "statement withdraw", statement="2", organisation=f"#{ids['Organisation 050']}"),
             "There is no organisation"),
            # no signatory list of a draft, no edit by a member
            (fake.slash(c.guild, c.coco, "statement signatories", statement="1"), "is a draft: it has no signatories"),
            (fake.slash(c.guild, reps[0], "statement close", statement="2"), "Only the author of statement #2"),
            (fake.slash(c.guild, c.coco, "statement edit", statement="2", file=("statement.pdf", b"%PDF-1.7")),
             "Attach the text as a .md or .txt file"),
            # a channel the bot can't post in
            (fake.slash(c.guild, c.coco, "statement open", channel=muted, statement="1"),
             "I can't post the statement in this channel"),
        ]  # fmt: skip
        for call, fragment in cases:
            await refused(await call, fragment)
            assert everything(bot) == before, fragment
        # closed: nobody signs, nobody withdraws
        await (await fake.slash(c.guild, c.coco, "statement close", statement="2")).response()
        await eventually(lambda: card.buttons() == [], what="the card closed")
        closed = everything(bot)
        for call, fragment in [
            (fake.click(card, button_of(card, SIGN, ours), reps[3], check=False, inject=True), "is closed"),
            (fake.click(prompt.message, listed, reps[2]), "is closed"),
            (fake.slash(c.guild, reps[0], "statement withdraw", statement="2"), "is closed"),
            (fake.slash(c.guild, c.coco, "statement close", statement="2"), "is already closed"),
        ]:
            await refused(await call, fragment)
            assert everything(bot) == closed, fragment
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log() and fake.unhandled == []


async def test_a_burst_of_300_signatures(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    reps = [fake.add_member(c.guild, f"rep{n:03d}") for n in range(300)]
    bot = BotProcess(fake, tmp_path)
    await seed_orgs(bot.db_path, c.guild, reps)
    await bot.start()
    try:
        card = await open_statement(fake, c, duration="1d")
        # 300 representatives of 300 organisations press Sign at once, then Listed by name at once
        prompts = list(await asyncio.gather(*(fake.click(card, button(card, SIGN), r) for r in reps)))
        await asyncio.gather(*(p.response(timeout=10) for p in prompts))
        assert not any(p.failed for p in prompts) and all(p.ephemeral for p in prompts)
        answers = list(await asyncio.gather(*(fake.click(p.message, button(p.message, "Listed by name"), r)
                                             for p, r in zip(prompts, reps, strict=True))))  # fmt: skip
        await asyncio.gather(*(a.response(timeout=10) for a in answers))
        assert not any(a.failed for a in answers), [a.ack_latency for a in answers if a.failed]
        assert all(a.type == 7 and " signed statement #1" in a.text for a in answers)
        # every one recorded once, each with its record entry
        assert db_rows(bot, "SELECT count(*), count(DISTINCT org_id), sum(listed) FROM statement_signatures") == [
            (300, 300, 300)]  # fmt: skip
        kinds = [json.loads(e)["kind"] for (e,) in db_rows(bot, "SELECT entry FROM record_entries")]
        assert kinds.count("signature") == 300
        assert db_rows(bot, "SELECT count(DISTINCT record_index) FROM statement_signatures") == [(300,)]
        await eventually(lambda: "**300** signed (300 listed by name, 0 counted only)" in card.text, timeout=10,
                         what="the card's count")  # fmt: skip
        assert fake.message_edits[card.id] < 60  # coalesced: not one edit per signature
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log() and fake.unhandled == []


async def test_statements_speak_each_readers_language(fake: FakeDiscord, tmp_path: Path) -> None:
    """Answers follow the member's language, the card and the closing post the statement's working group's, the
    direct messages asking to confirm each reader's own; the signatory list is written in the language asked for,
    else the group's, the same from caucus signatories. The group reads Arabic (each value wrapped in Unicode
    isolates), the coordinator's client is French, one representative chose Arabic, the other nothing (English)."""
    fsi, pdi = "\u2068", "\u2069"
    sign_ar = "التوقيع باسم منظمتك"  # the card's "Sign on behalf of your organisation" button
    c = make_coalition(fake)
    reps = [fake.add_member(c.guild, f"rep{n:03d}") for n in range(2)]
    bot = BotProcess(fake, tmp_path)
    await seed_orgs(bot.db_path, c.guild, reps)
    await bot.start()
    try:
        await (await fake.slash(c.guild, c.coco, "wg create", name="Principles")).response()
        await (await fake.slash(c.guild, c.coco, "wg language", group="Principles", language="ar")).response()
        await (await fake.slash(c.guild, reps[0], "language set", language="ar")).response()
        # the coordinator's client is French: every answer to him in French
        itx = await fake.slash(
            c.guild, c.coco, "statement draft", title="Joint", group="Principles", locale="fr"
        )
        await itx.response()
        assert itx.ephemeral and "Brouillon de la **déclaration #1** créé\xa0:" in itx.text
        assert fsi not in itx.text
        itx = await fake.slash(
            c.guild, c.coco, "statement edit", statement="1", text="We agree.", locale="fr"
        )
        assert "Déclaration #1\xa0: texte modifié. Version 1," in (await itx.final()).text
        itx = await fake.slash(c.guild, c.coco, "statement open", statement="1", duration="1h", locale="fr")
        await itx.response()
        assert "La déclaration #1 est ouverte à la signature jusqu’au" in itx.text and fsi not in itx.text

        # the card speaks the group's language
        footer = "/statement show للنص الكامل"  # "/statement show for the whole text"

        def card() -> FakeMessage | None:
            found = [m for m in fake.messages(c.general) if m.buttons() and footer in m.text]
            return found[-1] if found else None

        await eventually(lambda: card() is not None, what="the card")
        first = card()
        assert first is not None and f"النسخة {fsi}1{pdi} · البصمة" in first.text  # "Version 1 · fingerprint"
        assert [label for label, _, _ in first.buttons()] == [sign_ar, "سحب توقيعنا"]  # Sign, Withdraw
        # a representative who chose Arabic is asked, and answered, in Arabic; one who chose nothing in English
        prompt = await fake.click(first, button(first, sign_ar), reps[0])
        await prompt.response()
        assert f"باسم **{fsi}Organisation 000{pdi}**؟" in prompt.text  # "on behalf of **Organisation 000**?"
        assert prompt.message is not None
        assert [label for label, _, _ in prompt.message.buttons()] == ["مُدرجة بالاسم", "محتسبة فقط"]
        listed = button(prompt.message, "مُدرجة بالاسم")  # "Listed by name"
        answer = await fake.click(prompt.message, listed, reps[0])
        await answer.response()
        # "**Organisation 000** signed statement #1"
        assert f"وقّعت **{fsi}Organisation 000{pdi}** على البيان #{fsi}1{pdi}" in answer.text
        prompt = await fake.click(first, button(first, sign_ar), reps[1])
        await prompt.response()
        assert "on behalf of **Organisation 001**?" in prompt.text and fsi not in prompt.text
        answer = await fake.click(prompt.message, button(prompt.message, "Counted only"), reps[1])
        await answer.response()
        assert "**Organisation 001** signed statement #1" in answer.text and fsi not in answer.text
        signed = f"وقّعت **{fsi}2{pdi}**"  # "**2** signed"
        await eventually(lambda: signed in first.text, what="the card's count")

        # amended: each earlier signer is asked in their own language (a direct message has no client language:
        # the one who chose nothing reads the server's)
        itx = await fake.slash(c.guild, c.coco, "statement edit", statement="1", text="We agree, amended.")
        assert "Statement #1 is amended" in (await itx.final()).text  # no client language: English

        def asked(member: FakeMember, amended: str) -> str:
            return next((m.text for m in fake.dms(member) if amended in m.text), "")

        await eventually(lambda: asked(reps[0], "عُدِّل البيان") and asked(reps[1], "was amended"),
                         what="the direct messages")  # fmt: skip
        # "Statement #1 “Joint” in Coalition was amended: version 2 ..."
        amended = f"عُدِّل البيان #{fsi}1{pdi} «{fsi}Joint{pdi}» في {fsi}Coalition{pdi}: تحلّ النسخة {fsi}2{pdi}"
        assert asked(reps[0], amended)
        assert "Statement #1 “Joint” in Coalition was amended: version 2" in asked(reps[1], "was amended")
        assert fsi not in asked(reps[1], "was amended")

        # the closing post: the group's language
        itx = await fake.slash(c.guild, c.coco, "statement close", statement="1", locale="fr")
        await itx.response()
        assert "La déclaration #1 est close\u202f; la publication de clôture" in itx.text
        assert fsi not in itx.text
        closed = f"أُغلق **البيان #{fsi}1{pdi} · {fsi}Joint{pdi}**."  # "**Statement #1 · Joint** is closed."
        await eventually(
            lambda: any(m.content.startswith(closed) for m in fake.messages(c.general)),
            what="the closing post",
        )

        # the signatory list: the group's language unless asked otherwise; the same bytes from the command line
        for fmt, language, tag in (("html", None, b'<html lang="ar" dir="rtl">'), ("html", "en", b'<html lang="en">'),
                                   ("md", "ar", f"# البيان #{fsi}1{pdi}: {fsi}Joint{pdi}".encode())):  # fmt: skip
            asked_for = {"language": language} if language else {}
            itx = await fake.slash(c.guild, c.coco, "statement signatories", statement="1", format=fmt,
                                   locale="fr", **asked_for)  # fmt: skip
            message = await itx.final()
            assert message.text.startswith("Liste des signataires de la déclaration #1.")
            assert fsi not in message.text
            data = message.attachments[0].data
            assert tag in data, (fmt, language)
            told = ["--language", language] if language else []
            code, out, err = await run_cli(bot, "signatories", "--config", str(bot.config_path), "--guild",
                                           str(c.guild.id), "--statement", "1", "--format", fmt, *told)  # fmt: skip
            assert code == 0, err
            assert out == data, (fmt, language)
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log() and fake.unhandled == []
