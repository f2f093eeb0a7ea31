"""/privacy end to end, the purge of a server's data after removal, and tokens kept out of the logs."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.harness import BotProcess
from tests.e2e.helpers import db_rows


async def test_export_and_anonymise(fake: FakeDiscord, coalition: Coalition, bot: BotProcess) -> None:
    c = coalition
    await (await fake.slash(c.guild, c.coco, "wg create", name="Principles")).response()
    await (await fake.slash(c.guild, c.carol, "wg join", group="Principles")).response()
    itx = await fake.slash(
        c.guild, c.carol, "consensus propose", kind="point", text="A point of hers", group="Principles"
    )
    await itx.response()
    msg = itx.message
    block = next(cid for label, cid, _ in msg.buttons() if label == "Block")
    opened = await fake.click(msg, block, c.carol)
    await opened.response()
    await (await fake.submit_modal(opened, c.carol, {"reason": "My personal reason"})).response()
    agree = next(cid for label, cid, _ in msg.buttons() if label == "Agree")
    await (await fake.click(msg, agree, c.alice)).response()

    itx = await fake.slash(c.guild, c.carol, "privacy export")
    message = await itx.final()
    assert itx.ephemeral
    data = json.loads(message.attachments[0].data)
    assert data["member"][0]["display_name"] == "carol"
    assert [g["group_name"] for g in data["groups"]] == ["Principles"]
    assert (
        data["positions"][0]["stance"] == "block" and data["positions"][0]["reason"] == "My personal reason"
    )
    assert data["items_proposed"][0]["text"] == "A point of hers"
    assert data["anonymised"] is False

    itx = await fake.slash(c.guild, c.carol, "privacy delete")
    await itx.response()
    assert itx.ephemeral and "cannot be undone" in itx.text
    assert db_rows(bot, "SELECT count(*) FROM positions WHERE user_id = ?", (c.carol.id,)) == [
        (1,)
    ]  # not yet
    confirm = itx.message.buttons()[0][1]
    # another member cannot press it for her
    other = await fake.click(itx.message, confirm, c.bob)
    await other.response()
    assert "Only the member who asked" in other.text
    press = await fake.click(itx.message, confirm, c.carol)
    await press.response()
    assert "Done: you are anonymised" in itx.message.text

    for table, column in (
        ("positions", "user_id"),
        ("objections", "user_id"),
        ("items", "author_id"),
        ("item_revisions", "author_id"),
        ("group_members", "user_id"),
        ("members", "user_id"),
    ):
        assert db_rows(bot, f"SELECT count(*) FROM {table} WHERE {column} = ?", (c.carol.id,)) == [(0,)], (
            table
        )
    # her block still counts
    assert db_rows(bot, "SELECT stance FROM positions ORDER BY stance") == [("agree",), ("block",)]
    itx = await fake.slash(c.guild, c.coco, "consensus show", item="1")
    await itx.response()
    assert (
        "carol" not in itx.text.lower() and "Former member" in itx.text and "My personal reason" in itx.text
    )
    # she goes on under her pseudonym: changing her position replaces the anonymous one, never a second count
    await (await fake.click(msg, agree, c.carol)).response()
    assert db_rows(bot, "SELECT count(*), sum(stance = 'agree') FROM positions") == [(2, 2)]
    assert db_rows(bot, "SELECT count(*) FROM positions WHERE user_id = ?", (c.carol.id,)) == [(0,)]
    itx = await fake.slash(c.guild, c.carol, "privacy export")
    data = json.loads((await itx.final()).attachments[0].data)
    assert data["anonymised"] is True and data["member"][0]["display_name"] == "Former member"


async def test_server_data_purged_after_removal(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    other = make_coalition(fake, "Stays")
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    try:
        await (await fake.slash(c.guild, c.coco, "wg create", name="Principles")).response()
        await (await fake.slash(other.guild, other.coco, "wg create", name="Roadmap")).response()
        fake.remove_guild(c.guild)
        await eventually(lambda: db_rows(bot, "SELECT removed_at FROM guilds WHERE guild_id = ?", (c.guild.id,))[0][0],
                         what="removal recorded")  # fmt: skip
    finally:
        assert await bot.stop() == 0
    # 31 days later (moved back in the database), the next start purges it; the other server stays
    raw = sqlite3.connect(bot.db_path)
    raw.execute("UPDATE guilds SET removed_at = removed_at - 31 * 86400 WHERE guild_id = ?", (c.guild.id,))
    raw.commit()
    raw.close()
    await bot.start()
    try:
        await eventually(lambda: not db_rows(bot, "SELECT 1 FROM guilds WHERE guild_id = ?", (c.guild.id,)),
                         what="purge")  # fmt: skip
        assert db_rows(bot, "SELECT name FROM groups") == [("Roadmap",)]
        assert db_rows(bot, "SELECT count(*) FROM members WHERE guild_id = ?", (c.guild.id,)) == [(0,)]
        assert db_rows(bot, "PRAGMA secure_delete") == [(1,)]
    finally:
        assert await bot.stop() == 0


async def test_server_that_comes_back_keeps_its_data(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    try:
        await (await fake.slash(c.guild, c.coco, "wg create", name="Principles")).response()
        fake.remove_guild(c.guild)
        await eventually(lambda: db_rows(bot, "SELECT removed_at FROM guilds")[0][0], what="removal")
        fake.guilds[c.guild.id] = c.guild
        fake.gateway.dispatch("GUILD_CREATE", c.guild.to_dict())
        await eventually(lambda: db_rows(bot, "SELECT removed_at FROM guilds")[0][0] is None, what="back")
        assert db_rows(bot, "SELECT name FROM groups") == [("Principles",)]
    finally:
        assert await bot.stop() == 0


async def test_debug_logs_carry_no_tokens(fake: FakeDiscord, coalition: Coalition, tmp_path: Path) -> None:
    bot = BotProcess(fake, tmp_path, logging={"level": "DEBUG"})
    await bot.start()
    try:
        itx = await fake.slash(coalition.guild, coalition.alice, "about")
        await itx.response()
        await (await fake.slash(coalition.guild, coalition.coco, "wg create", name="Principles")).response()
    finally:
        assert await bot.stop() == 0
    log = bot.log()
    assert "/interactions/" in log or "webhooks" in log  # discord.py did log the URLs…
    assert itx.token not in log  # …without the interaction token
    assert fake.token not in log
