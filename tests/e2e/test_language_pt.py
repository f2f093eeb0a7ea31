"""Portuguese (Brazil) end to end, through the real bot process: a working group set to Portuguese
(`/wg language`) gets its card, a session's reminders and a point's comment-period reminder in Portuguese; a
member whose Discord client is in Brazilian Portuguese (`pt-BR`) is answered in Portuguese, refusals
included, and so is a member who chose Portuguese with `/language set`; the summary exported in Portuguese
(`/export summary language:pt format:md`) has Portuguese headings. What the coordinator, whose client is in
English, is answered stays English: a reply follows its reader."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import FakeDiscord, FakeMessage
from tests.e2e.fake_discord.models import embeds_text
from tests.e2e.harness import BotProcess
from tests.e2e.helpers import button, db_rows, description_in, labels, refused

PT = "pt-BR"  # the locale a Brazilian Portuguese Discord client sends
#: English function words that never appear in a Portuguese sentence (the texts typed below avoid them).
ENGLISH = (" the ", " is ", " you ", " not ", " must ", " can't ", " with ")
#: What the members typed: names and texts the bot repeats as they were.
TYPED = ("Princípios", "Plenária do GT", "Internet aberta e interoperável", "Falta criptografia", "Coalition")


def soon(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


def english_in(text: str) -> list[str]:
    """The English function words left in what the bot said (typed texts and Discord markup set aside)."""
    said = text
    for typed in TYPED:
        said = said.replace(typed, " ")
    said = re.sub(r"<[@#&:t][^>]*>|`[^`]*`", " ", said)  # mentions, channels, times, code
    said = re.sub(r"[*_()\[\]·—:;,.!?“”\s]+", " ", f" {said.lower()} ")
    return [word.strip() for word in ENGLISH if word in said]


def portuguese(text: str, *words: str) -> str:
    """Assert ``text`` has no English left and holds every Portuguese word given; returns it."""
    assert english_in(text) == [], (english_in(text), text)
    for word in words:
        assert word in text, (word, text)
    return text


async def portuguese_group(fake: FakeDiscord, c: Coalition, home: Any) -> FakeMessage:
    """Principles (in Portuguese: Princípios) with coco as convener and every member in it; its card."""
    itx = await fake.slash(c.guild, c.coco, "wg create", name="Princípios", home_channel=home)
    await itx.response()
    card = itx.message
    assert card is not None
    await (await fake.slash(c.guild, c.coco, "wg set-convener", group="Princípios",
                            options={"member": c.coco})).response()  # fmt: skip
    for m in (c.alice, c.bob, c.carol):
        await (await fake.slash(c.guild, m, "wg join", group="Princípios")).response()
    return card


async def test_a_group_set_to_portuguese_and_brazilian_members(fake: FakeDiscord, tmp_path: Path) -> None:
    assert english_in("The reason is empty; write something.") == ["the", "is"]  # the check can fail
    c = make_coalition(fake)
    home = fake.add_channel(c.guild, "principios")
    bot = BotProcess(fake, tmp_path, schedule={"reminder_offsets": ["6s"]})
    await bot.start()
    try:
        # a Brazilian client sees the commands described in Portuguese; their names stay English
        commands = fake.commands(c.guild) or fake.commands()
        assert description_in(commands, "wg create", PT) == "Criar um grupo de trabalho (coordenadores)"
        assert description_in(commands, "consensus propose", PT).startswith(
            "Apresentar uma proposta de possível consenso"
        )

        card = await portuguese_group(fake, c, home)
        itx = await fake.slash(c.guild, c.coco, "wg language", group="Princípios", language="pt")
        await itx.response()
        assert (
            itx.text == "The public posts of Princípios (its card, reminders) are now in Português."
        )  # his client
        # the card (its embed; the line above it announced the group in the server's language) now speaks
        # Portuguese, and so does a card posted afresh
        await eventually(lambda: "Grupo de trabalho #1" in "\n".join(embeds_text(card.embeds)), what="card")
        portuguese("\n".join(embeds_text(card.embeds)), "Facilitadores", "Membros (4)", "Canal principal")
        assert labels(card) == ["Participar", "Sair"]
        itx = await fake.slash(c.guild, c.coco, "wg info", group="Princípios", public=True)
        await itx.response()
        assert itx.message is not None and not itx.ephemeral
        portuguese(itx.message.text, "Grupo de trabalho #1", "Facilitadores")
        assert labels(itx.message) == ["Participar", "Sair"]

        # a session of the group: its card, then its reminder and its start, in Portuguese
        itx = await fake.slash(c.guild, c.coco, "agenda add", title="Plenária do GT", start=soon(9),
                               duration="30m", group="Princípios", reminders="5s")  # fmt: skip
        await itx.response()
        assert itx.message is not None
        portuguese(itx.message.text, "Adicionada à agenda por", "Quando", "Lembretes", "antes, e no início")
        assert labels(itx.message) == ["Lembrar-me", "Adicionar ao calendário"]

        # a point with a comment period, proposed by a member whose client is Brazilian
        itx = await fake.slash(c.guild, c.bob, "consensus propose", kind="point", group="Princípios",
                               text="Internet aberta e interoperável", deadline="14s", locale=PT)  # fmt: skip
        await itx.response()
        said = (await itx.final()).text
        assert itx.ephemeral and said == f"Proposta #1 apresentada em <#{home.id}>."
        point = next(m for m in fake.messages(home) if "Internet aberta" in m.text)
        portuguese(point.text, "Proposta #1 · Aberta", "Indicação para os facilitadores", "nenhum bloqueio",
                   "Prazo para comentários")  # fmt: skip
        assert labels(point) == ["Concordância", "Abstenção", "Objeção", "Bloqueio"]

        # a member who chose Portuguese herself: her clicks, the modal and the answer are Portuguese
        itx = await fake.slash(c.guild, c.alice, "language set", language="pt")
        await itx.response()
        assert itx.ephemeral and itx.text == "Pronto: a partir de agora respondo em Português."
        click = await fake.click(point, button(point, "Objeção"), c.alice)
        await click.response()
        assert click.modal is not None and click.modal["title"] == "Objeção: Proposta #1"
        assert "O seu motivo (obrigatório)" in str(click.modal["components"])
        submit = await fake.submit_modal(click, c.alice, {"reason": "Falta criptografia"})
        await submit.response()
        assert submit.ephemeral
        assert (
            submit.text
            == "Registrado: objeção na Proposta #1, com o seu motivo. Está no registro de objeções."
        )
        await eventually(lambda: "Objeção 1" in point.text, what="card refreshed")
        portuguese(point.text, "1 objeção aberta")

        # refusals, in the Brazilian member's language, and nothing changes
        itx = await fake.slash(c.guild, c.bob, "consensus decide", item="1", outcome="consensus", locale=PT)
        said = await refused(itx)
        assert said == "Somente facilitadores de Princípios ou coordenadores podem decidir a #1."
        itx = await fake.slash(c.guild, c.bob, "consensus show", item="99", locale=PT)
        portuguese(await refused(itx, "Não há item #99 neste servidor"))
        itx = await fake.slash(c.guild, c.bob, "consensus propose", kind="point", group="Princípios",
                               text="Internet aberta e interoperável", deadline="amanhã", locale=PT)  # fmt: skip
        portuguese(await refused(itx, "“amanhã” não é um prazo: informe uma duração como 48h ou 3d"))
        assert db_rows(bot, "SELECT number, status FROM items") == [(1, "open")]  # refused: nothing changed
        itx = await fake.slash(c.guild, c.bob, "consensus show", item="1", locale=PT)
        await itx.response()
        portuguese(
            itx.text, "Posições na revisão 1", "Registro de objeções", "Ainda sem resposta em Princípios"
        )

        # the reminders go out in the group's language
        await eventually(lambda: any(m.text.startswith("Lembrete: **Plenária do GT** começa em")
                                     for m in fake.messages(home)), timeout=20, what="session reminder")  # fmt: skip
        await eventually(lambda: any("está começando agora" in m.text for m in fake.messages(home)),
                         timeout=20, what="session start")  # fmt: skip
        await eventually(lambda: any("período de comentários da Proposta #1 termina em" in m.text
                                     for m in fake.messages(home)), timeout=20, what="comment reminder")  # fmt: skip
        await eventually(lambda: any("O período de comentários da Proposta #1 terminou" in m.text
                                     for m in fake.messages(home)), timeout=20, what="end of comments")  # fmt: skip
        posts = [m for m in fake.messages(home) if m.id not in (point.id,)]
        session_posts = [m.text for m in posts if "Plenária do GT" in m.text]
        comment_posts = [m.text for m in posts if "período de comentários" in m.text]
        assert len(session_posts) == 2 and len(comment_posts) == 2
        for text in session_posts:
            portuguese(text)
        reminder, ended = comment_posts
        portuguese(
            reminder, "Por favor, manifeste a sua posição", "Indicação até agora", "Ainda sem resposta:"
        )
        portuguese(ended, "pronta para a decisão dos facilitadores", "Facilitadores:")

        # the summary in Portuguese: the reply in the member's language, the file's headings in Portuguese
        itx = await fake.slash(c.guild, c.bob, "export summary", language="pt", format="md", locale=PT)
        message = await itx.final()
        assert itx.ephemeral and message.text.startswith("Resumo de Coalition.")
        summary = message.attachments[0].data.decode()
        headings = [line for line in summary.splitlines() if line.startswith("#")]
        assert headings == ["# Resumo de Coalition", "## Grupo de trabalho: Princípios", "### Ainda em aberto",
                            "### Sessões"]  # fmt: skip
        portuguese(
            summary, "Exportado em", "Filtros: nenhum (o servidor inteiro)", "Objeção (revisão 1, aberta)"
        )
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log()
