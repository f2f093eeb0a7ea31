"""/privacy end to end, the purge of a server's data after removal, and tokens kept out of the logs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests import engines
from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.harness import BotProcess
from tests.e2e.helpers import button, db_rows


def soon(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


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
    assert db_rows(bot, "SELECT count(*), count(*) FILTER (WHERE stance = 'agree') FROM positions") == [
        (2, 2)
    ]
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
    with engines.closing_raw(bot.db_path) as raw:
        raw.execute(
            "UPDATE guilds SET removed_at = removed_at - 31 * 86400 WHERE guild_id = ?", (c.guild.id,)
        )
    await bot.start()
    try:
        await eventually(lambda: not db_rows(bot, "SELECT 1 FROM guilds WHERE guild_id = ?", (c.guild.id,)),
                         what="purge")  # fmt: skip
        assert db_rows(bot, "SELECT name FROM groups") == [("Roadmap",)]
        assert db_rows(bot, "SELECT count(*) FROM members WHERE guild_id = ?", (c.guild.id,)) == [(0,)]
        if not engines.on_postgres():  # SQLite overwrites what it deletes (PostgreSQL: VACUUM reclaims it)
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


MEMBER_COLUMN = (  # as in tests/domain/test_privacy.py
    r"(.*_)?(user|author|member|voter|pseudo|signer|voice|person|representative|owner|creator|convener|"
    r"moderator|recipient|actor|objector)_(id|key)|.*_by"
)


def member_id_columns(bot: BotProcess) -> list[tuple[str, str]]:
    """Every column of the bot's database named like a member's id (as the domain test checks)."""
    shape = re.compile(MEMBER_COLUMN)
    return [
        (t, col)
        for t in engines.table_names(bot.db_path)
        for col in engines.column_names(bot.db_path, t)
        if shape.fullmatch(col)
    ]


async def test_an_erased_member_acts_again_under_the_pseudonym_and_is_erased_twice(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    c = make_coalition(fake)
    other = make_coalition(fake, "Other coalition")
    fake.add_member(other.guild, c.bob.user)  # Bob is in both servers
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    try:

        async def slash(guild, who, command: str, /, **options: object):
            itx = await fake.slash(guild, who, command, options=options)
            await itx.response()
            if itx.type == 5:
                await itx.final()
            return itx

        async def press(message, label: str, member) -> str:
            itx = await fake.click(message, button(message, label), member)
            await itx.response()
            return itx.text

        async def erase() -> str:
            asked = await slash(c.guild, c.bob, "privacy delete")
            done = await fake.click(asked.message, asked.message.buttons()[0][1], c.bob)
            await done.response()
            return asked.message.text

        for name in ("Principles", "Roadmap"):
            await slash(c.guild, c.coco, "wg create", name=name)
        await slash(c.guild, c.bob, "wg join", group="#1")
        await slash(other.guild, other.coco, "wg create", name="Elsewhere")
        await slash(other.guild, c.bob, "wg join", group="Elsewhere")
        venue = (
            await slash(c.guild, c.coco, "poll create", question="Venue?", options="Geneva; Nairobi")
        ).message
        secret = (await slash(c.guild, c.coco, "poll create", question="Endorse?", options="Yes; No; Abstain",
                              anonymous=True)).message  # fmt: skip
        point = (
            await slash(c.guild, c.coco, "consensus propose", kind="point", text="Open standards first.")
        ).message
        await press(venue, "Geneva", c.bob)
        await press(secret, "Yes", c.bob)
        await press(point, "Agree", c.bob)
        session = await slash(c.guild, c.coco, "agenda add", title="Roadmap call", start=soon(10),
                              duration="30m", group="#2", reminders="4s")  # fmt: skip

        assert "Done: you are anonymised" in await erase()
        alias = db_rows(bot, "SELECT pseudo_id FROM erasures")[0][0]

        # he goes on in every feature: each under the pseudonym, counted once
        assert "**Nairobi**" in await press(venue, "Nairobi", c.bob)
        assert "**Abstain**" in await press(secret, "Abstain", c.bob)
        assert "stand aside" in await press(point, "Stand aside", c.bob)
        assert "You joined **Roadmap**" in (await slash(c.guild, c.bob, "wg join", group="#2")).text
        added = await slash(
            c.guild, c.coco, "wg add-member", group="#1", member=c.bob
        )  # a target, mapped too
        assert "is now a member of **Principles**" in added.text
        assert "by direct message" in await press(session.message, "Remind me", c.bob)
        await slash(
            c.guild, c.bob, "consensus propose", kind="point", text="Publish the minutes.", group="#2"
        )
        second = (
            await slash(c.guild, c.coco, "consensus propose", kind="point", text="Meet monthly.")
        ).message
        opened = await fake.click(second, button(second, "Object"), c.bob)
        await opened.response()
        await (await fake.submit_modal(opened, c.bob, {"reason": "Too often."})).response()
        marked = await slash(
            c.guild,
            c.coco,
            "consensus objection",
            item="3",
            member=c.bob,
            state="addressed",
            note="Quarterly.",
        )
        assert "is marked **addressed**" in marked.text  # the objector named by a coordinator: mapped too
        assert db_rows(bot, "SELECT user_id, state FROM objections") == [(alias, "addressed")]
        assert db_rows(bot, "SELECT number, ballots FROM polls ORDER BY number") == [(1, 1), (2, 1)]
        assert db_rows(bot, "SELECT position, votes FROM poll_counts WHERE poll_id = 2 ORDER BY position") == [
            (1, 0), (2, 0), (3, 1),
        ]  # fmt: skip
        assert db_rows(bot, "SELECT user_id, stance FROM positions WHERE item_id = 1") == [
            (alias, "stand_aside")
        ]
        assert db_rows(bot, "SELECT user_id FROM group_members gm JOIN groups g USING (group_id) WHERE g.guild_id = ?",
                       (c.guild.id,)) == [(alias,), (alias,)]  # fmt: skip
        assert db_rows(bot, "SELECT user_id FROM session_subscribers") == [(alias,)]
        assert db_rows(bot, "SELECT author_id FROM items WHERE number = 2") == [(alias,)]
        # his Discord id is left only in the other server's record, where he is still himself
        # compared as text: a column of another type (a pseudonym's key) holds no id either
        left = {(t, col) for t, col in member_id_columns(bot)
                if db_rows(bot, f"SELECT count(*) FROM {t} WHERE CAST({col} AS TEXT) = ?", (str(c.bob.id),))[0][0]}  # fmt: skip
        assert left == {("members", "user_id"), ("group_members", "user_id"), ("group_members", "added_by")}
        assert db_rows(bot, "SELECT guild_id, display_name FROM members WHERE user_id IN (?, ?) ORDER BY guild_id",
                       (c.bob.id, alias)) == sorted([(c.guild.id, "Former member"), (other.guild.id, "bob")])  # fmt: skip

        # the bot still reaches him on Discord: the nudge of a poll of his new group, the reminder DM
        group_poll = (await slash(c.guild, c.coco, "poll create", question="Lunch?", options="Yes; No",
                                  group="#2")).message  # fmt: skip
        assert group_poll is not None
        await slash(c.guild, c.coco, "poll nudge", poll="3")
        nudge = await fake.wait_for_message(
            c.general.id, lambda m: "Reminder from" in m.text and "Poll #3" in m.text
        )
        assert nudge.pings() == {c.bob.id}
        await eventually(
            lambda: any("Reminder" in m.text for m in fake.dms(c.bob)), timeout=12, what="DM reminder"
        )

        itx = await slash(c.guild, c.bob, "privacy export")
        data = json.loads(itx.message.attachments[0].data)
        assert data["anonymised"] is True and data["user_id"] == str(c.bob.id)
        assert [g["group_name"] for g in data["groups"]] == ["Principles", "Roadmap"]
        assert [s["title"] for s in data["reminder_subscriptions"]] == ["Roadmap call"]
        assert [p["stance"] for p in data["positions"]] == ["stand_aside", "object"]
        assert [b["number"] for b in data["poll_ballots"]] == [1]  # the anonymous one is not linkable
        assert [i["text"] for i in data["items_proposed"]] == ["Publish the minutes."]
        assert "bob" not in json.dumps(data).lower()

        # a second /privacy delete succeeds, and removes what he joined since
        assert "Done: you are anonymised" in await erase()
        assert db_rows(bot, "SELECT count(*) FROM group_members WHERE user_id = ?", (alias,)) == [(0,)]
        assert db_rows(bot, "SELECT count(*) FROM session_subscribers") == [(0,)]
        assert db_rows(bot, "SELECT user_id, stance FROM positions WHERE item_id = 1") == [
            (alias, "stand_aside")
        ]  # still counts
        assert db_rows(bot, "SELECT ballots FROM polls WHERE number IN (1, 2) ORDER BY number") == [
            (1,),
            (1,),
        ]
        # the other server is untouched
        assert db_rows(bot, "SELECT count(*) FROM group_members gm JOIN groups g USING (group_id) "
                       "WHERE g.guild_id = ? AND gm.user_id = ?", (other.guild.id, c.bob.id)) == [(1,)]  # fmt: skip
        exported = json.loads((await slash(other.guild, c.bob, "privacy export")).message.attachments[0].data)
        assert exported["anonymised"] is False and exported["member"][0]["display_name"] == "bob"

        # a restart changes nothing: the names seen at reconnection are not written back
        await bot.restart()
        assert db_rows(
            bot, "SELECT count(*) FROM members WHERE guild_id = ? AND user_id = ?", (c.guild.id, c.bob.id)
        ) == [(0,)]
        assert "stand aside" in await press(point, "Stand aside", c.bob)
        assert db_rows(bot, "SELECT DISTINCT user_id FROM positions") == [(alias,)]
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log(), bot.log()
