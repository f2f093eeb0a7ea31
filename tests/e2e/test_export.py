"""/export summary end to end, and `caucus export` producing the same bytes from the database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests import engines
from tests.e2e.conftest import Coalition, eventually
from tests.e2e.fake_discord import FakeDiscord, FakeMessage
from tests.e2e.harness import ROOT, BotProcess


def cli_export(
    bot: BotProcess, guild_id: int, fmt: str, out: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "export", "--config", str(bot.config_path), "--guild", str(guild_id),
         "--format", fmt, "--output", str(out), *extra],
        capture_output=True, text=True, timeout=60, env=env, cwd=str(ROOT),
    )  # fmt: skip


async def test_slash_and_cli_give_identical_files(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess, tmp_path: Path
) -> None:
    c = coalition
    await (await fake.slash(c.guild, c.coco, "wg create", name="Principles")).response()
    itx = await fake.slash(c.guild, c.alice, "consensus propose", kind="point", group="Principles",
                           text="Open and <b>interoperable</b> @everyone")  # fmt: skip
    await itx.response()
    msg = itx.message
    agree = next(cid for label, cid, _ in msg.buttons() if label == "Agree")
    await (await fake.click(msg, agree, c.bob)).response()
    await (await fake.slash(c.guild, c.coco, "consensus decide", item="1", outcome="consensus")).response()
    await (
        await fake.slash(c.guild, c.bob, "consensus propose", kind="question", text="Who speaks?")
    ).response()

    for fmt in ("md", "html", "csv", "json"):
        itx = await fake.slash(c.guild, c.coco, "export summary", format=fmt)
        message = await itx.final()
        assert itx.ephemeral
        files = {a.filename: a.data for a in message.attachments}
        assert files, message.text
        out = tmp_path / f"cli.{fmt}"
        result = cli_export(bot, c.guild.id, fmt, out)
        assert result.returncode == 0, result.stderr
        main = next(name for name in files if not name.endswith("-positions.csv"))
        assert out.read_bytes() == files[main], fmt
        if fmt == "csv":
            positions = next(data for name, data in files.items() if name.endswith("-positions.csv"))
            assert (tmp_path / "cli-positions.csv").read_bytes() == positions
    assert b"bob" in files[main] or b"Bob" in files[main]


async def test_members_get_tallies_and_public_posts(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    itx = await fake.slash(c.guild, c.alice, "consensus propose", kind="point", text="A point")
    await itx.response()
    msg = itx.message
    block = next(cid for label, cid, _ in msg.buttons() if label == "Agree")
    await (await fake.click(msg, block, c.bob)).response()
    itx = await fake.slash(c.guild, c.carol, "export summary", public=True)
    message = await itx.final()
    assert not itx.ephemeral and "tallies" in message.text
    data = message.attachments[0].data.decode()
    assert "agree 1" in data and "bob" not in data.lower()
    assert message.pings() == set()


async def test_bad_input(fake: FakeDiscord, coalition: Coalition, bot: BotProcess, tmp_path: Path) -> None:
    c = coalition
    itx = await fake.slash(c.guild, c.coco, "export summary", group="Nope")
    await itx.response()
    assert itx.ephemeral and "no working group" in itx.text
    await eventually(lambda: engines.database_exists(bot.db_path), what="database")
    result = cli_export(bot, 12345, "md", tmp_path / "x.md")
    assert (
        result.returncode == 1
        and "no record of that server" in result.stderr
        and "Traceback" not in result.stderr
    )
    result = cli_export(bot, c.guild.id, "md", tmp_path / "x.md", "--group", "Nope")
    assert result.returncode == 1 and "no working group" in result.stderr


async def test_a_summary_in_a_language_is_the_same_from_discord_and_the_command_line(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess, tmp_path: Path
) -> None:
    """The file is written in the language asked for (else the group's, else the server's), and caucus export
    gives the same bytes for the same language; the answer stays in the member's language. A French file
    reads French ("Synthèse de …") and its page says ``lang="fr"``; an Arabic one reads Arabic ("ملخّص …"),
    its page says ``dir="rtl"`` and isolates every value."""
    c = coalition
    await (await fake.slash(c.guild, c.coco, "wg create", name="Principles")).response()
    itx = await fake.slash(c.guild, c.alice, "consensus propose", kind="point", group="Principles",
                           text="Open and interoperable")  # fmt: skip
    await itx.response()
    await (await fake.slash(c.guild, c.coco, "consensus decide", item="1", outcome="consensus")).response()

    def attachment(message: FakeMessage) -> bytes:
        files = [a.data for a in message.attachments]
        assert len(files) == 1
        return files[0]

    for fmt in ("md", "html"):
        itx = await fake.slash(c.guild, c.coco, "export summary", format=fmt, language="fr", locale="fr")
        message = await itx.final()
        assert itx.ephemeral and message.text.startswith("Synthèse de ")  # the member's language (French)
        out = tmp_path / f"fr.{fmt}"
        result = cli_export(bot, c.guild.id, fmt, out, "--language", "fr")
        assert result.returncode == 0, result.stderr
        assert out.read_bytes() == attachment(message), fmt
        assert "Synthèse de ".encode() in out.read_bytes(), fmt  # the file's language (French)
    assert b'<html lang="fr" dir="ltr">' in out.read_bytes()

    # a group that speaks Arabic: its summary is in Arabic unless asked otherwise, from both sides
    await (await fake.slash(c.guild, c.coco, "wg language", group="Principles", language="ar")).response()
    itx = await fake.slash(c.guild, c.coco, "export summary", group="Principles", format="html")
    page = attachment(await itx.final())
    assert b'<html lang="ar" dir="rtl">' in page and b"<bdi>Open and interoperable</bdi>" in page
    assert "ملخّص ".encode() in page and b"Summary of" not in page
    result = cli_export(bot, c.guild.id, "html", tmp_path / "ar.html", "--group", "Principles")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ar.html").read_bytes() == page
    # the whole server: the server's language
    itx = await fake.slash(c.guild, c.coco, "export summary", format="html")
    page = attachment(await itx.final())
    assert b'<html lang="en">' in page and b"Summary of " in page
    # CSV and JSON are data: the same bytes in every language
    itx = await fake.slash(c.guild, c.coco, "export summary", format="json", language="ar")
    result = cli_export(bot, c.guild.id, "json", tmp_path / "x.json")
    assert result.returncode == 0 and (tmp_path / "x.json").read_bytes() == attachment(await itx.final())
