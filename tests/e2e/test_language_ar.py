"""Arabic end to end, through the real bot process: a member who chose Arabic (/language set ar, as
Discord's clients do not offer it) reads every reply in Arabic, a member on an English client still reads
English, and a server whose language is Arabic posts its cards, polls and closing posts in Arabic; the HTML
summary in Arabic reads right to left."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_discord.models import FakeMessage
from tests.e2e.harness import BotProcess
from tests.e2e.helpers import button

FSI, PDI = "\u2068", "\u2069"  # the isolates the Text layer puts around every value in Arabic
ARABIC = re.compile(r"[\u0621-\u064A]{3,}")
#: English words that any English sentence of the bot would carry (member-typed texts here avoid them).
ENGLISH = re.compile(
    r"\b(the|is|you|your|not|must|can't|with|and|or|of|to|on|in|by|for|has|have|are|was|be|no|none|yet|"
    r"only|point|question|poll|group|members?|recorded|agree|object|block|stand|aside|objection|open|closed|"
    r"results?|ballots?|summary|consensus|outcome|conveners?|coordinators?)\b",
    re.IGNORECASE,
)
#: What stays English by design: command names with their options, markup, links.
KEPT = re.compile(
    r"/[a-z]+(?: [a-z-]+)?(?: [a-z_]+:\S*)*|<[@#&!]*\d+>|<t:\d+(?::[A-Za-z])?>|\[[^\]]*\]\([^)]*\)"
)


def english_in(text: str) -> list[str]:
    """The English words left in what the bot said, once command names and markup are set aside."""
    return ENGLISH.findall(KEPT.sub(" ", text))


def assert_arabic(text: str, *, typed: tuple[str, ...] = ()) -> None:
    """The bot's own words are Arabic: Arabic letters present, no English word left (``typed`` are what
    members wrote, shown as they typed them)."""
    for words in typed:
        text = text.replace(words, " ")
    assert ARABIC.search(text), text
    assert english_in(text) == [], (english_in(text), text)


async def reply(itx) -> str:  # type: ignore[no-untyped-def]
    """The text of an interaction's answer, once it is there (deferred answers included)."""
    await itx.response()
    if itx.type == 5:
        return (await itx.final()).text
    return itx.text


async def click(fake: FakeDiscord, message: FakeMessage, label: str, member) -> str:  # type: ignore[no-untyped-def]
    """A click (from an English client: clicks carry en-US) and its ephemeral answer."""
    itx = await fake.click(message, button(message, label), member)
    text = await reply(itx)
    assert itx.ephemeral, text
    return text


async def test_a_member_who_chose_arabic_is_answered_in_arabic_and_the_others_in_english(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    c: Coalition = make_coalition(fake)
    home = fake.add_channel(c.guild, "principles")
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    try:
        await reply(await fake.slash(c.guild, c.coco, "wg create", name="Principles", home_channel=home))

        # alice's Discord client is in English: she chooses Arabic for herself
        said = await reply(await fake.slash(c.guild, c.alice, "language set", language="ar", locale="en-US"))
        assert "العربية" in said
        assert_arabic(said)

        said = await reply(await fake.slash(c.guild, c.alice, "wg join", group="Principles", locale="en-US"))
        assert "انضممت" in said
        assert_arabic(said, typed=("Principles",))

        text = "تشفير البيانات من طرف إلى طرف"
        itx = await fake.slash(c.guild, c.alice, "consensus propose", kind="point", text=text,
                               group="Principles", locale="en-US")  # fmt: skip
        said = await reply(itx)
        assert itx.ephemeral and "النقطة #" in said and f"{FSI}1{PDI}" in said
        assert_arabic(said)

        # the card is public: in the group's language, the server's (English)
        card = next(m for m in fake.messages(home) if text in m.text)
        assert [label for label, _, _ in card.buttons()] == ["Agree", "Stand aside", "Object", "Block"]

        said = await click(fake, card, "Agree", c.alice)
        assert said.startswith("سُجّل") and "موافقة" in said
        assert_arabic(said)

        # her objection: the modal and the answer in Arabic
        itx = await fake.click(card, button(card, "Object"), c.alice)
        await itx.response()
        assert itx.modal is not None
        assert_arabic(itx.modal["title"])
        submit = await fake.submit_modal(itx, c.alice, {"reason": "يلزم ذكر الخصوصية صراحة"})
        said = await reply(submit)
        assert submit.ephemeral and "سجل الاعتراضات" in said
        assert_arabic(said)

        # everything about the point, as a reply: Arabic (her own reason shown as she typed it)
        itx = await fake.slash(c.guild, c.alice, "consensus show", item="1", locale="en-US")
        said = await reply(itx)
        assert "سجل الاعتراضات" in said and "اعتراض" in said
        assert_arabic(said, typed=(text, "يلزم ذكر الخصوصية صراحة", "Principles"))

        # refusals: a decision she may not take, and a poll with a single option
        itx = await fake.slash(
            c.guild, c.alice, "consensus decide", item="1", outcome="consensus", locale="en-US"
        )
        said = await reply(itx)
        assert itx.ephemeral and "لا يمكن إلا لميسّري" in said
        assert_arabic(said, typed=("Principles",))
        itx = await fake.slash(c.guild, c.alice, "poll create", locale="en-US",
                               options={"question": "متى نلتقي؟", "options": "غدًا"})  # fmt: skip
        said = await reply(itx)
        assert itx.ephemeral and "خيارين على الأقل" in said
        assert_arabic(said)

        # bob, on an English client, still reads English, about the same point
        said = await click(fake, card, "Agree", c.bob)
        assert said == "Recorded: agree on Point #1."
        itx = await fake.slash(
            c.guild, c.bob, "consensus decide", item="1", outcome="consensus", locale="en-US"
        )
        assert "Only conveners of Principles or coordinators can decide #1." in await reply(itx)

        # back to her Discord language: English again
        said = await reply(
            await fake.slash(c.guild, c.alice, "language set", language="auto", locale="en-US")
        )
        assert said == "Done: I answer you in your Discord language again (English)."
        said = await click(fake, card, "Agree", c.alice)
        assert said.startswith("Recorded: agree on Point #1")

        # the HTML summary asked for in Arabic: right to left, Arabic headings
        await reply(await fake.slash(c.guild, c.coco, "consensus decide", item="1", outcome="consensus"))
        itx = await fake.slash(
            c.guild, c.coco, "export summary", format="html", language="ar", locale="en-US"
        )
        message = await itx.final()
        page = message.attachments[0].data.decode("utf-8")
        assert '<html lang="ar" dir="rtl">' in page
        headings = re.findall(r"<h[1-3]>(.*?)</h[1-3]>", page)
        assert headings and "<h3>توافق</h3>" in page and any("ملخّص" in h for h in headings), headings
        for heading in headings:
            assert_arabic(re.sub(r"<[^>]+>", " ", heading), typed=("Principles", "Coalition"))
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log(), bot.log()


async def test_a_server_that_speaks_arabic_posts_cards_polls_and_closing_posts_in_arabic(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    c: Coalition = make_coalition(fake)
    bot = BotProcess(fake, tmp_path, i18n={"language": "ar"})
    await bot.start()
    try:
        # a group's card, posted in public: in the server's language
        itx = await fake.slash(
            c.guild, c.coco, "wg create", name="Principles", description="المبادئ الأساسية"
        )
        await itx.response()
        card = itx.message
        assert card is not None and not itx.ephemeral
        assert "مجموعة عمل جديدة" in card.text
        assert_arabic(card.text, typed=("Principles", "المبادئ الأساسية"))
        labels = [label for label, _, _ in card.buttons()]
        assert labels and all(ARABIC.search(label) for label in labels), labels

        # a poll: its message, then its closing post, in Arabic
        itx = await fake.slash(c.guild, c.coco, "poll create",
                               options={"question": "أين نلتقي؟", "options": "نيروبي; جنيف"})  # fmt: skip
        await itx.response()
        poll = itx.message
        assert poll is not None and not itx.ephemeral and "الاستطلاع #" in poll.text
        assert_arabic(poll.text, typed=("أين نلتقي؟", "نيروبي", "جنيف"))
        for member in (c.alice, c.bob):
            await click(fake, poll, "نيروبي", member)
        await reply(await fake.slash(c.guild, c.coco, "poll close", poll="1"))
        await eventually(lambda: any("أُغلق" in m.text and m.attachments for m in fake.messages(c.general)),
                         what="the closing post")  # fmt: skip
        post = next(m for m in fake.messages(c.general) if "أُغلق" in m.text and m.attachments)
        assert "نيروبي" in post.text and "█" in post.text
        assert_arabic(post.text, typed=("أين نلتقي؟", "نيروبي", "جنيف"))
        await eventually(lambda: poll.buttons() == [], what="the poll message closed")
        assert "مغلق" in poll.text
        assert_arabic(poll.text, typed=("أين نلتقي؟", "نيروبي", "جنيف"))
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log(), bot.log()
