"""Caucus in Spanish, end to end: a member whose Discord client is Latin-American Spanish (es-419) goes
through the whole flow — proposes a point, objects with a reason in the form, sees a convener decide it,
votes in a poll and reads its result once it is closed — and the comment-period reminder of a working
group set to Spanish (/wg language) arrives: nothing the bot says is English (command names aside). A
member on Spain's Spanish (es-ES) gets the same Spanish."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import eventually, make_coalition
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_discord.interaction import Interaction
from tests.e2e.harness import BotProcess
from tests.e2e.helpers import button, db_rows, labels

LATAM, SPAIN = "es-419", "es-ES"
#: English words that no Spanish sentence of the bot holds: function words, and the words of the bot's own
#: English labels (a word of the text must be one of these whole, so "con" or "isla" never match).
ENGLISH = frozenset({
    "the", "is", "you", "not", "must", "can't", "with", "and", "of", "to", "on", "by", "your", "has", "for",
    "in", "was", "are", "been", "yet", "nobody", "who", "what", "how", "working", "group", "groups", "member",
    "members", "convener", "conveners", "channel", "home", "point", "points", "question", "poll", "polls",
    "reminder", "recorded", "agree", "stand", "aside", "object", "objection", "objections", "block", "blocks",
    "open", "closed", "closes", "proposed", "positions", "position", "hint", "deadline", "comment", "period",
    "text", "revision", "outcome", "called", "note", "see", "every", "shown", "counted", "votes", "ballot",
    "ballots", "results", "result", "single", "choice", "join", "leave", "remind", "ends", "ended", "ready",
    "state", "addressed", "rough", "consensus",
})  # fmt: skip
#: What is not the bot's own prose: command and option names, mentions, channels, Discord's time markup.
NOT_PROSE = re.compile(r"/[a-z]+(?: [a-z-]+)?|\b[a-z_]+:\S*|<[@#][!&]?\d+>|<t:\d+(?::[a-zA-Z])?>")


def words_of(text: str) -> list[str]:
    """The bot's own words in a text, lower case (command and option names, mentions, times removed)."""
    return re.findall(r"[\w']+", NOT_PROSE.sub(" ", text).lower())


def assert_spanish(text: str, *words: str) -> None:
    """No English word in ``text``; the Spanish ``words`` are there."""
    english = [w for w in words_of(text) if w in ENGLISH]
    assert english == [], f"English {english} in: {text!r}"
    for word in words:
        assert word in text, f"{word!r} missing in: {text!r}"


async def answered(itx: Interaction) -> str:
    """What the member sees in answer (the final message of a deferred one)."""
    await itx.response()
    if itx.type == 5:
        return (await itx.final()).text
    return itx.text


async def test_a_latin_american_member_goes_through_the_whole_flow_in_spanish(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    c = make_coalition(fake)
    home = fake.add_channel(c.guild, "principios")
    # Comment deadline 12 s after the proposal, reminder 6 s before it: both happen during the test.
    bot = BotProcess(fake, tmp_path, schedule={"reminder_offsets": ["6s"]})
    await bot.start()

    async def say(itx: Interaction, *words: str) -> str:
        text = await answered(itx)
        assert itx.ephemeral or itx.message is not None, text
        assert_spanish(text, *words)
        return text

    try:
        # The coordinator (a Spanish client too) sets the group up and gives it Spanish for its posts.
        # (/wg create answers with the group's card in public, in the server's language: English here.)
        await answered(await fake.slash(c.guild, c.coco, "wg create", name="Principios", home_channel=home,
                                        locale=LATAM))  # fmt: skip
        said = await say(await fake.slash(c.guild, c.coco, "wg language", group="Principios", language="es",
                                          locale=LATAM), "Las publicaciones de", "Español")  # fmt: skip
        assert "ahora están en Español" in said
        said = await say(await fake.slash(c.guild, c.coco, "wg set-convener", group="Principios",
                                          options={"member": c.alice}, locale=LATAM), "convocante")  # fmt: skip
        for member, locale in ((c.bob, LATAM), (c.carol, SPAIN)):
            await say(await fake.slash(c.guild, member, "wg join", group="Principios", locale=locale),
                      "Te uniste a")  # fmt: skip

        # bob (es-419) proposes a point with a comment period.
        said = await say(await fake.slash(c.guild, c.bob, "consensus propose", kind="point",
                                          text="Cifrado de extremo a extremo para todas las personas",
                                          group="Principios", deadline="12s", locale=LATAM))  # fmt: skip
        assert said.startswith("Se propuso Punto #1 en <#"), said
        card = next(m for m in fake.messages(home) if "Cifrado de extremo" in m.text)
        assert_spanish(card.text, "Punto #1", "Plazo de comentarios", "Orientación para convocantes")
        assert labels(card) == ["De acuerdo", "Me hago a un lado", "Objeción", "Bloqueo"]

        # carol (es-ES) agrees: Spain's Spanish is the same Spanish.
        itx = await fake.click(card, button(card, "De acuerdo"), c.carol, locale=SPAIN)
        assert await say(itx) == "Registrada tu posición sobre Punto #1: «de acuerdo»."

        # bob objects: the form asks for his reason in Spanish, the answer is Spanish.
        opened = await fake.click(card, button(card, "Objeción"), c.bob, locale=LATAM)
        await opened.response()
        assert opened.modal is not None
        modal = opened.modal
        fields = [f for row in modal["components"] for f in row.get("components", [row.get("component", {})])]
        assert modal["title"] == "Objeción: Punto #1"
        assert [f.get("label") for f in fields] == ["Tu motivo (obligatorio)"]
        assert fields[0].get("placeholder") == "¿Qué tendría que cambiar para que estés de acuerdo?"
        said = await say(await fake.submit_modal(opened, c.bob, {"reason": "Falta una auditoría independiente."}),
                         "registro de objeciones")  # fmt: skip
        assert said == ("Registrada tu posición sobre Punto #1, «objeción», con tu motivo. Consta en el registro "
                        "de objeciones.")  # fmt: skip
        await eventually(lambda: "Objeciones 1" in card.text, what="the card counts the objection")
        assert "1 objeción pendiente" in card.text and "De acuerdo 1" in card.text

        # The comment-period reminder reaches the group in Spanish, pinging who has not responded.
        await eventually(lambda: any("Recordatorio" in m.text for m in fake.messages(home)), timeout=15,
                         what="the comment-period reminder")  # fmt: skip
        reminder = next(m for m in fake.messages(home) if "Recordatorio" in m.text)
        assert_spanish(
            reminder.text, "el periodo de comentarios sobre Punto #1 termina el", "Indica tu posición"
        )
        assert reminder.pings() == {c.alice.id}  # the one member of the group who has not responded
        await eventually(lambda: any("ha terminado" in m.text for m in fake.messages(home)), timeout=15,
                         what="the end of the comment period")  # fmt: skip
        notice = next(m for m in fake.messages(home) if "ha terminado" in m.text)
        assert_spanish(
            notice.text, "está listo para que decidan quienes convocan el grupo", "/consensus decide 1"
        )

        # bob reads the point: positions, the objection register, who has not responded.
        shown = await say(await fake.slash(c.guild, c.bob, "consensus show", item="1", locale=LATAM),
                          "Posiciones sobre la revisión 1", "Registro de objeciones", "Falta una auditoría")  # fmt: skip
        assert "presenta una objeción" in shown

        # alice, the convener, rules the objection in the rough and judges rough consensus.
        said = await say(await fake.slash(c.guild, c.alice, "consensus objection", item="1", state="in_the_rough",
                                          note="El grupo lo revisará en la próxima versión",
                                          options={"member": c.bob}, locale=LATAM),
                         "al margen del consenso")  # fmt: skip
        # (bob is also told by direct message; a DM follows the recipient's /language set, else the
        # server's language: the bot does not keep the Discord language of his clicks, so it is English.)
        await eventually(lambda: fake.dms(c.bob), what="the objector is told")
        said = await say(await fake.slash(c.guild, c.alice, "consensus decide", item="1", outcome="rough_consensus",
                                          note="Amplio apoyo", locale=LATAM))  # fmt: skip
        assert said.startswith("Punto #1: **Consenso aproximado**, decidido por <@"), said
        await eventually(lambda: "Consenso aproximado" in card.text, what="the card shows the outcome")
        assert_spanish(card.text, "Resultado", "Decidido por", "Amplio apoyo")
        assert card.buttons() == [] or all(disabled for _, _, disabled in card.buttons())

        # A poll of the group: bob votes, closes it, and reads the result.
        itx = await fake.slash(c.guild, c.bob, "poll create", channel=home, locale=LATAM,
                               options={"question": "¿Dónde nos reunimos?", "options": "Ginebra; Nairobi",
                                        "group": "Principios"})  # fmt: skip
        await itx.response()
        poll = itx.message
        assert poll is not None and not itx.ephemeral
        assert_spanish(poll.text, "Encuesta #1", "Quién puede votar", "miembros de Principios")
        assert labels(poll) == ["Ginebra", "Nairobi"]
        assert await say(await fake.click(poll, button(poll, "Ginebra"), c.bob, locale=LATAM)) == (
            "Tu voto en Encuesta #1: **Ginebra**."
        )
        await say(
            await fake.click(poll, button(poll, "Nairobi"), c.carol, locale=SPAIN), "Tu voto en Encuesta #1"
        )
        said = await say(await fake.slash(c.guild, c.bob, "poll close", poll="1", locale=LATAM))
        assert said.startswith("Encuesta #1 está cerrada; el resultado está publicado en <#"), said
        await eventually(
            lambda: any("ha cerrado" in m.text for m in fake.messages(home)), what="closing post"
        )
        closing = next(m for m in fake.messages(home) if "ha cerrado" in m.text)
        assert_spanish(closing.text, "Encuesta #1 ha cerrado", "Ginebra", "Nairobi", "50 %")
        assert closing.attachments and closing.attachments[0].filename.endswith(".png")
        result = await say(await fake.slash(c.guild, c.bob, "poll results", poll="1", locale=LATAM),
                           "resultados (cerrada)", "Ginebra", "Quién eligió qué", "pública")  # fmt: skip
        assert "Encuesta #1" in result

        # Everything the bot posted is Spanish too, the group's card included (refreshed since /wg language;
        # only its first line, posted with /wg create before the group chose Spanish, is the server's English).
        created = fake.messages(c.general)[0]
        assert created.content == "New working group: **Principios**"
        for message in fake.messages(home) + fake.messages(c.general):
            assert_spanish(message.text.replace(created.content, "") if message is created else message.text)
            for label in labels(message):
                assert_spanish(f" {label} ")
        assert db_rows(bot, "SELECT language FROM groups") == [("es",)]
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log()


async def test_spain_and_latin_america_read_the_same_spanish(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    try:
        seen = {}
        for locale in (LATAM, SPAIN):
            itx = await fake.slash(c.guild, c.bob, "consensus list", locale=locale)
            seen[locale] = await answered(itx)
            assert_spanish(seen[locale], "Ningún punto ni pregunta coincide", "/consensus propose")
        assert seen[LATAM] == seen[SPAIN]
        refusal = {}
        for locale in (LATAM, SPAIN):
            itx = await fake.slash(c.guild, c.bob, "consensus show", item="7", locale=locale)
            refusal[locale] = await answered(itx)
            assert itx.ephemeral
            assert_spanish(refusal[locale], "No hay ningún punto ni pregunta #7 en este servidor")
        assert refusal[LATAM] == refusal[SPAIN]
        itx = await fake.slash(c.guild, c.bob, "consensus list", locale="en-US")  # the control: English
        assert "No items match" in await answered(itx)
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log()
