"""French end to end, through the real bot process: members whose Discord client is French (`locale="fr"`)
propose a point, take positions (an objection with its reason, through the form), are refused, and a
convener decides it; they vote in a poll that a convener closes; and the comment-period reminder of a
working group set to French (`/wg language`) arrives. Nothing the bot says to them, or posts for the group,
is English (command names aside); what a coordinator whose client is English is answered stays English."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import FakeDiscord, FakeMessage
from tests.e2e.fake_discord.interaction import Interaction
from tests.e2e.fake_discord.models import embeds_text
from tests.e2e.harness import BotProcess
from tests.e2e.helpers import button, description_in, labels, refused

FR = "fr"  # the locale a French Discord client sends
NB = "\u00a0"  # French puts a no-break space before a colon…
NNB = "\u202f"  # …and a narrow one before a semicolon, a question mark, and inside numbers
#: English function words that never appear in a French sentence (the texts typed below avoid them).
ENGLISH = (" the ", " is ", " you ", " not ", " must ", " can't ", " with ")
#: What the members typed: names and texts the bot repeats as they were.
TYPED = ("Principes", "Un internet ouvert et interopérable", "Il manque le chiffrement", "Adopter la charte",
         "Oui", "Non", "Abstention", "Débattu en séance", "Coalition")  # fmt: skip


def english_in(text: str) -> list[str]:
    """The English function words left in what the bot said (typed texts and Discord markup set aside)."""
    said = text
    for typed in TYPED:
        said = said.replace(typed, " ")
    # mentions, channels and times, code, command names
    said = re.sub(r"<[@#&:t][^>]*>|`[^`]*`|/[a-z]+(?: [a-z-]+)?", " ", said)
    said = re.sub(r"[*_()\[\]·—:;,.!?«»“”\s]+", " ", f" {said.lower()} ")
    return [word.strip() for word in ENGLISH if word in said]


def french(text: str, *words: str) -> str:
    """Assert ``text`` has no English left and holds every French word given; returns it."""
    assert english_in(text) == [], (english_in(text), text)
    assert "Something went wrong" not in text
    for word in words:
        assert word in text, (word, text)
    return text


async def answered(itx: Interaction) -> str:
    """The text of the answer (the follow-up of a deferred one)."""
    await itx.response()
    return (await itx.final()).text if itx.type == 5 else itx.text


async def french_group(fake: FakeDiscord, c: Coalition, home: Any) -> FakeMessage:
    """Principes, with coco as convener and everyone in it, its public posts in French; its card."""
    itx = await fake.slash(c.guild, c.coco, "wg create", name="Principes", home_channel=home)
    await itx.response()
    card = itx.message
    assert card is not None
    await (await fake.slash(c.guild, c.coco, "wg set-convener", group="Principes",
                            options={"member": c.coco})).response()  # fmt: skip
    for m in (c.alice, c.bob, c.carol):
        await (await fake.slash(c.guild, m, "wg join", group="Principes")).response()
    # the coordinator's client is English: his answer stays English (the check below can fail)
    itx = await fake.slash(c.guild, c.coco, "wg language", group="Principes", language="fr")
    await itx.response()
    assert itx.text == "The public posts of Principes (its card, reminders) are now in Français."
    assert english_in(itx.text) == ["the"]
    return card


async def test_french_members_and_a_group_set_to_french(fake: FakeDiscord, tmp_path: Path) -> None:
    assert english_in("The reason is empty; write something.") == ["the", "is"]  # the check can fail
    c = make_coalition(fake)
    home = fake.add_channel(c.guild, "principes")
    bot = BotProcess(fake, tmp_path, schedule={"reminder_offsets": ["6s"]})
    await bot.start()
    try:
        # a French client sees the commands described in French; their names stay English
        commands = fake.commands(c.guild) or fake.commands()
        assert description_in(commands, "wg create", FR) == "Créer un groupe de travail (coordinateurs)"
        assert description_in(commands, "consensus propose", FR).startswith(
            "Proposer un point de consensus possible"
        )

        card = await french_group(fake, c, home)
        await eventually(lambda: "Groupe de travail #1" in "\n".join(embeds_text(card.embeds)), what="card")
        french("\n".join(embeds_text(card.embeds)), "Responsables", "Membres (4)", "Salon principal")
        assert labels(card) == ["Rejoindre", "Quitter"]

        # bob, whose client is French, proposes a point with a comment period in the group
        itx = await fake.slash(c.guild, c.bob, "consensus propose", kind="point", group="Principes",
                               text="Un internet ouvert et interopérable", deadline="14s", locale=FR)  # fmt: skip
        said = await answered(itx)
        assert itx.ephemeral and said == f"Proposition publiée{NB}: Point #1, dans <#{home.id}>."
        point = next(m for m in fake.messages(home) if "Un internet ouvert" in m.text)
        french(point.text, "Point #1 · En cours", "Indication pour les responsables", "aucun blocage",
               "Date limite des commentaires", "Proposition de")  # fmt: skip
        assert labels(point) == ["D’accord", "En retrait", "Objection", "Blocage"]

        # bob agrees; alice objects through the form, with her reason
        click = await fake.click(point, button(point, "D’accord"), c.bob, locale=FR)
        assert await answered(click) == f"Position enregistrée sur Point #1{NB}: d’accord."
        click = await fake.click(point, button(point, "Objection"), c.alice, locale=FR)
        await click.response()
        assert click.modal is not None and click.modal["title"] == f"Objection{NB}: Point #1"
        assert "Votre raison (obligatoire)" in str(click.modal["components"])
        assert "Qu’est-ce qui devrait changer pour que vous soyez d’accord" in str(click.modal["components"])
        submit = await fake.submit_modal(click, c.alice, {"reason": "Il manque le chiffrement"})
        assert await answered(submit) == (
            f"Position enregistrée sur Point #1, avec votre raison{NB}: objection. "
            "Elle figure dans le registre des objections."
        )
        assert submit.ephemeral
        await eventually(lambda: "Objection 1" in point.text, what="card refreshed")
        french(point.text, "D’accord 1", "1 objection en cours", "1 sur 2 d’accord")

        # refusals, in the member's language, and nothing changes
        itx = await fake.slash(c.guild, c.bob, "consensus decide", item="1", outcome="consensus", locale=FR)
        assert await refused(itx) == (
            "Seuls les responsables de Principes ou les coordinateurs peuvent prononcer la décision sur #1."
        )
        itx = await fake.slash(c.guild, c.bob, "consensus show", item="99", locale=FR)
        french(await refused(itx, "Il n’y a pas de point ni de question #99 sur ce serveur"))
        itx = await fake.slash(c.guild, c.bob, "consensus propose", kind="point", group="Principes",
                               text="Un internet ouvert et interopérable", deadline="demain", locale=FR)  # fmt: skip
        french(await refused(itx, f"«{NB}demain{NB}» n’est pas une échéance"))
        itx = await fake.slash(c.guild, c.carol, "consensus show", item="1", locale=FR)
        await itx.response()
        french(itx.text, "Positions sur la révision 1", "Registre des objections", "Il manque le chiffrement",
               "Sans réponse pour l’instant")  # fmt: skip

        # the comment-period reminder, in the group's French, pings who has not responded
        def posted(fragment: str) -> FakeMessage | None:
            return next((m for m in fake.messages(home) if fragment in m.text), None)

        await eventually(lambda: posted("Rappel") is not None, timeout=15, what="reminder")
        reminder = posted("Rappel")
        assert reminder is not None and reminder.pings() == {c.carol.id, c.coco.id}
        french(reminder.text, f"Rappel{NB}: la période de commentaires sur Point #1 se termine le",
               "Merci d’indiquer votre position", "Sans réponse pour l’instant")  # fmt: skip
        await eventually(lambda: posted("est terminée") is not None, timeout=15, what="deadline notice")
        notice = posted("est terminée")
        assert notice is not None and notice.pings() == {c.coco.id}
        french(notice.text, "la décision revient maintenant aux responsables", "Responsables")

        # the convener, whose client is French too, sets the objection in the rough and decides
        itx = await fake.slash(c.guild, c.coco, "consensus objection", item="1", state="in_the_rough",
                               note="Débattu en séance", options={"member": c.alice}, locale=FR)  # fmt: skip
        said = french(await answered(itx), "en marge du consensus")
        assert said == f"Objection de <@{c.alice.id}> sur Point #1{NB}: désormais **en marge du consensus**."
        itx = await fake.slash(c.guild, c.coco, "consensus decide", item="1", outcome="rough_consensus",
                               note="Débattu en séance", locale=FR)  # fmt: skip
        said = french(await answered(itx))
        assert said.startswith(f"Point #1{NB}: **Consensus approximatif**"), said
        await eventually(lambda: "Consensus approximatif" in point.text, what="card decided")
        french(point.text, "Point #1 · Consensus approximatif", "Décision", "Débattu en séance")

        # a poll of the group: its message in French, bob votes, the convener closes it
        itx = await fake.slash(c.guild, c.coco, "poll create", group="Principes", channel=home, locale=FR,
                               options={"question": "Adopter la charte ?", "options": "Oui; Non; Abstention"})  # fmt: skip
        await itx.response()
        poll = itx.message
        assert poll is not None and not itx.ephemeral
        french(poll.text, "Sondage #1", "Qui peut voter", "membres de Principes", "Clôture", "choix unique")
        vote = await fake.click(poll, button(poll, "Oui"), c.bob, locale=FR)
        assert french(await answered(vote)) == f"Votre bulletin dans Sondage #1{NB}: **Oui**."
        itx = await fake.slash(c.guild, c.carol, "poll results", poll="1", locale=FR)
        french(await answered(itx), "Sondage #1", "Oui")
        itx = await fake.slash(c.guild, c.coco, "poll close", poll="1", locale=FR)
        said = french(await answered(itx))
        assert said.startswith(f"Sondage #1 est clos{NNB}; le résultat est publié"), said
        await eventually(lambda: posted("Résultat") is not None, what="closing post")
        french(posted("Résultat").text, "Sondage #1 · Résultat")  # type: ignore[union-attr]

        # everything the bot posted for the group is French
        for message in fake.messages(home):
            french(message.text)
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log()
    assert fake.unhandled == []
