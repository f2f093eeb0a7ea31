"""/wg end to end: the real bot process, driven through the fake Discord server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_discord.permissions import DEFAULT_BOT
from tests.e2e.harness import BotProcess
from tests.e2e.helpers import db_rows, refused

MANAGE_GUILD = 0x20
MANAGE_ROLES = 0x10000000


def snapshot(bot: BotProcess) -> list[tuple]:
    return db_rows(bot, "SELECT * FROM groups ORDER BY group_id") + db_rows(
        bot, "SELECT * FROM group_members ORDER BY group_id, user_id"
    )


async def create(fake: FakeDiscord, c: Coalition, name: str, **options: object):
    itx = await fake.slash(c.guild, c.coco, "wg create", name=name, **options)
    await itx.response()
    return itx


async def test_create_card_join_button_and_restart(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    itx = await create(fake, c, "Principles", description="Core principles for the joint statement")
    assert not itx.ephemeral
    card = itx.message
    assert card is not None and "Principles" in card.text and "Core principles" in card.text
    join_id, leave_id = (cid for _, cid, _ in card.buttons())
    assert join_id.startswith("wg:join:v1:") and leave_id.startswith("wg:leave:v1:")
    assert card.pings() == set()

    click = await fake.click(card, join_id, c.alice)
    await click.response()
    reply = await click.followup()
    assert reply.ephemeral and "You joined **Principles**" in reply.text
    assert f"<@{c.alice.id}>" in card.text and "Members (1)" in card.text  # the card itself was refreshed

    again = await fake.click(card, join_id, c.alice)
    await refused(again, "already a member of Principles")
    assert db_rows(bot, "SELECT user_id FROM group_members") == [(c.alice.id,)]

    await bot.restart()
    # the button on the message posted before the restart still works
    click = await fake.click(card, join_id, c.bob)
    await click.response()
    assert "You joined **Principles**" in (await click.followup()).text
    click = await fake.click(card, leave_id, c.alice)
    await click.response()
    assert "You left **Principles**" in (await click.followup()).text
    assert db_rows(bot, "SELECT user_id FROM group_members") == [(c.bob.id,)]
    assert "Members (1)" in card.text and f"<@{c.bob.id}>" in card.text


async def test_list_info_join_leave_commands(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    await create(fake, c, "Principles", due="2030-06-01")
    await create(fake, c, "Roadmap")
    itx = await fake.slash(c.guild, c.alice, "wg join", group="roadmap")
    await itx.response()
    assert itx.ephemeral and "You joined **Roadmap**" in itx.text

    itx = await fake.slash(c.guild, c.bob, "wg list")
    await itx.response()
    assert itx.ephemeral
    text = itx.text
    assert "**Principles** — 0 members" in text and "due <t:" in text
    assert "**Roadmap** — 1 member" in text

    itx = await fake.slash(c.guild, c.bob, "wg info", group="Roadmap")
    await itx.response()
    assert itx.ephemeral and f"<@{c.alice.id}>" in itx.text and "Members (1)" in itx.text

    itx = await fake.slash(c.guild, c.bob, "wg info", group="Principles", public=True)
    await itx.response()
    assert not itx.ephemeral and "<t:" in itx.text and itx.message is not None and itx.message.buttons()

    itx = await fake.slash(c.guild, c.alice, "wg leave", group="Roadmap")
    await itx.response()
    assert "You left **Roadmap**" in itx.text
    itx = await fake.slash(c.guild, c.alice, "wg leave", group="Roadmap")
    await refused(itx, "not a member of Roadmap")


async def test_members_and_conveners(fake: FakeDiscord, coalition: Coalition, bot: BotProcess) -> None:
    c = coalition
    await create(fake, c, "Principles")
    await create(fake, c, "Roadmap")
    itx = await fake.slash(
        c.guild, c.coco, "wg set-convener", group="Principles", options={"member": c.alice}
    )
    await itx.response()
    assert "is now a convener of **Principles**" in itx.text
    assert itx.message is not None and itx.message.pings() == set()

    itx = await fake.slash(c.guild, c.alice, "wg add-member", group="Principles", options={"member": c.bob})
    await itx.response()
    assert "is now a member of **Principles**" in itx.text
    itx = await fake.slash(c.guild, c.alice, "wg info", group="Principles")
    await itx.response()
    conveners_field = itx.text.split("Members")[0]
    assert f"<@{c.alice.id}>" in conveners_field and f"<@{c.bob.id}>" not in conveners_field

    before = snapshot(bot)
    # a convener of one group cannot manage another
    for path, extra in (
        ("wg add-member", c.carol),
        ("wg set-convener", c.alice),
        ("wg remove-member", c.bob),
    ):
        itx = await fake.slash(c.guild, c.alice, path, group="Roadmap", options={"member": extra})
        await refused(itx, "Only conveners of Roadmap or coordinators")
    # a plain member cannot manage at all
    itx = await fake.slash(c.guild, c.bob, "wg add-member", group="Principles", options={"member": c.carol})
    await refused(itx, "Only conveners of Principles or coordinators")
    itx = await fake.slash(c.guild, c.bob, "wg create", name="Mine")
    await refused(itx, "Only coordinators can create working groups")
    itx = await fake.slash(c.guild, c.bob, "wg archive", group="Principles")
    await refused(itx, "Only coordinators can archive")
    assert snapshot(bot) == before

    itx = await fake.slash(
        c.guild, c.alice, "wg remove-member", group="Principles", options={"member": c.bob}
    )
    await itx.response()
    assert "is no longer a member" in itx.text
    itx = await fake.slash(
        c.guild, c.coco, "wg set-convener", group="Principles", options={"member": c.alice}, convener=False
    )
    await itx.response()
    assert "no longer a convener" in itx.text
    itx = await fake.slash(c.guild, c.alice, "wg add-member", group="Principles", options={"member": c.bob})
    await refused(itx, "Only conveners of Principles")


async def test_archive(fake: FakeDiscord, coalition: Coalition, bot: BotProcess) -> None:
    c = coalition
    card = (await create(fake, c, "Principles")).message
    assert card is not None
    itx = await fake.slash(c.guild, c.coco, "wg archive", group="Principles")
    await itx.response()
    assert not itx.ephemeral and "is archived" in itx.text and "(archived)" in itx.text
    before = snapshot(bot)
    itx = await fake.slash(c.guild, c.alice, "wg join", group="Principles")
    await refused(itx, "archived and takes no new members")
    # the old card's Join button refuses too (a client could still send the click)
    click = await fake.click(card, card.buttons()[0][1], c.alice, check=False, inject=True)
    await refused(click, "archived")
    itx = await fake.slash(c.guild, c.coco, "wg add-member", group="Principles", options={"member": c.bob})
    await refused(itx, "archived")
    itx = await fake.slash(c.guild, c.coco, "wg archive", group="Principles")
    await refused(itx, "already archived")
    assert snapshot(bot) == before
    itx = await fake.slash(c.guild, c.bob, "wg list")
    await itx.response()
    assert "**Principles** · *archived*" in itx.text


async def test_bad_input_changes_nothing(fake: FakeDiscord, coalition: Coalition, bot: BotProcess) -> None:
    c = coalition
    await create(fake, c, "Principles")
    before = snapshot(bot)
    for name in ("principles", "PRINCIPLES", " Principles "):
        await refused(await fake.slash(c.guild, c.coco, "wg create", name=name), "already exists")
    await refused(
        await fake.slash(c.guild, c.coco, "wg create", name="x" * 81, client_checks=False), "at most 80"
    )
    await refused(await fake.slash(c.guild, c.coco, "wg create", name="   ", client_checks=False), "name")
    await refused(
        await fake.slash(c.guild, c.coco, "wg create", name="Later", due="2020-01-01"), "in the past"
    )
    await refused(
        await fake.slash(c.guild, c.coco, "wg create", name="Later", due="2026-02-30 25:00"), "not a"
    )
    await refused(await fake.slash(c.guild, c.coco, "wg create", name="Later", due="soon"), "YYYY-MM-DD")
    await refused(await fake.slash(c.guild, c.alice, "wg join", group="Nope"), "no working group “Nope”")
    await refused(await fake.slash(c.guild, c.alice, "wg info", group="99999"), "no working group")
    await refused(await fake.slash(c.guild, c.alice, "wg join", group=""), "Name a working group")
    forged = await fake.click(
        fake.messages(c.general)[0], "wg:join:v1:987654321", c.alice, check=False, inject=True
    )
    await refused(forged, "does not exist on this server")
    assert snapshot(bot) == before


async def test_servers_are_isolated(fake: FakeDiscord, coalition: Coalition, tmp_path: Path) -> None:
    c = coalition
    other = make_coalition(fake, "Other coalition")
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    try:
        card = (await create(fake, c, "Principles")).message
        assert card is not None
        group_id = db_rows(bot, "SELECT group_id FROM groups")[0][0]
        before = snapshot(bot)
        for ref in ("Principles", str(group_id), f"#{group_id}"):
            await refused(
                await fake.slash(other.guild, other.alice, "wg join", group=ref), "no working group"
            )
            await refused(
                await fake.slash(other.guild, other.coco, "wg archive", group=ref), "no working group"
            )
        # a click carrying this server's group id, sent from the other server
        other_card = (await create(fake, other, "Roadmap")).message
        assert other_card is not None
        forged = await fake.click(other_card, f"wg:join:v1:{group_id}", other.alice, check=False, inject=True)
        await refused(forged, "does not exist on this server")
        # autocomplete offers only this server's groups
        itx = await fake.autocomplete(other.guild, other.alice, "wg join", focused="group", group="")
        await itx.response()
        assert [ch["name"] for ch in itx.choices or []] == ["Roadmap"]
        itx = await fake.autocomplete(c.guild, c.alice, "wg info", focused="group", group="prin")
        await itx.response()
        assert [(ch["name"], ch["value"]) for ch in itx.choices or []] == [("Principles", f"#{group_id}")]
        assert [r for r in snapshot(bot) if r in before] == before
        assert db_rows(bot, "SELECT count(*) FROM group_members") == [(0,)]
        # the same name is fine in the other server
        await create(fake, other, "Principles")
        assert db_rows(bot, "SELECT count(*) FROM groups WHERE name = 'Principles'") == [(2,)]
    finally:
        assert await bot.stop() == 0


async def test_departed_member_is_not_current(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    await create(fake, c, "Principles")
    for m in (c.alice, c.bob):
        await (await fake.slash(c.guild, m, "wg join", group="Principles")).response()
    fake.remove_member(c.guild, c.bob)
    await eventually(
        lambda: db_rows(
            bot, "SELECT left_at FROM members WHERE user_id = ? AND left_at IS NOT NULL", (c.bob.id,)
        ),
        what="departure recorded",
    )
    itx = await fake.slash(c.guild, c.coco, "wg info", group="Principles")
    await itx.response()
    assert "Members (1)" in itx.text and f"<@{c.bob.id}>" not in itx.text
    assert len(db_rows(bot, "SELECT * FROM group_members")) == 2  # the record stays


async def test_group_roles_follow_membership(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    fake.update_role(c.guild, c.guild.roles[c.guild.bot_role_id], permissions=DEFAULT_BOT | MANAGE_ROLES)
    bot = BotProcess(fake, tmp_path, groups={"manage_roles": True})
    await bot.start()
    try:
        await create(fake, c, "Principles")
        await eventually(lambda: db_rows(bot, "SELECT role_id FROM groups")[0][0], what="group role")
        role_id = db_rows(bot, "SELECT role_id FROM groups")[0][0]
        assert role_id in c.guild.roles
        assert c.guild.roles[role_id].name == "Principles"
        await (await fake.slash(c.guild, c.alice, "wg join", group="Principles")).response()
        await eventually(lambda: role_id in c.alice.role_ids, what="role given")
        await (await fake.slash(c.guild, c.alice, "wg leave", group="Principles")).response()
        await eventually(lambda: role_id not in c.alice.role_ids, what="role taken")
    finally:
        assert await bot.stop() == 0


async def test_group_roles_without_permission(fake: FakeDiscord, tmp_path: Path) -> None:
    guild = fake.add_guild("No roles here", bot_permissions=0x400 | 0x800 | 0x4000 | 0x8000 | 0x10000)
    role = fake.add_role(guild, "Coordinator")
    coco = fake.add_member(guild, "coco", roles=[role])
    alice = fake.add_member(guild, "alice")
    bot = BotProcess(fake, tmp_path, groups={"manage_roles": True})
    await bot.start()
    try:
        itx = await fake.slash(guild, coco, "wg create", name="Principles")
        await itx.response()
        note = await itx.followup()
        assert note.ephemeral and "Manage Roles" in note.text and "works without one" in note.text
        itx = await fake.slash(guild, alice, "wg join", group="Principles")
        await itx.response()
        assert "You joined" in itx.text
        assert db_rows(bot, "SELECT role_id FROM groups") == [(None,)]
    finally:
        assert await bot.stop() == 0


async def test_card_shows_open_work_and_next_sessions(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    await create(fake, c, "Principles")
    await (await fake.slash(c.guild, c.alice, "consensus propose", kind="point", text="Open and free",
                            group="Principles")).response()  # fmt: skip
    await (await fake.slash(c.guild, c.alice, "consensus propose", kind="question", text="Who drafts?",
                            group="Principles")).response()  # fmt: skip
    soon = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    await (await fake.slash(c.guild, c.coco, "agenda add", title="Drafting call", start=soon,
                            group="Principles")).response()  # fmt: skip
    itx = await fake.slash(c.guild, c.bob, "wg info", group="Principles")
    await itx.response()
    text = itx.text
    assert "Open points (1)" in text and "#1 Open and free" in text
    assert "Open questions (1)" in text and "#2 Who drafts?" in text
    assert "Next sessions" in text and "Drafting call" in text


async def test_posted_cards_follow_membership(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    card = (await create(fake, c, "Principles")).message
    shown = (
        await (await fake.slash(c.guild, c.bob, "wg info", group="Principles", public=True)).response()
    ).message
    assert card is not None and shown is not None and "Members (0)" in card.text
    await (await fake.slash(c.guild, c.alice, "wg join", group="Principles")).response()
    await (
        await fake.slash(c.guild, c.coco, "wg set-convener", group="Principles", options={"member": c.carol})
    ).response()
    for message in (card, shown):
        await eventually(lambda m=message: "Members (2)" in m.text, timeout=5, what="card refreshed")
        assert f"<@{c.alice.id}>" in message.text and f"<@{c.carol.id}>" in message.text.split("Members")[0]


async def test_deleted_card_is_forgotten(fake: FakeDiscord, coalition: Coalition, bot: BotProcess) -> None:
    c = coalition
    card = (await create(fake, c, "Principles")).message
    assert card is not None
    await eventually(lambda: db_rows(bot, "SELECT count(*) FROM group_cards") == [(1,)], what="card noted")
    fake.record_delete(card)  # a moderator deletes the card
    await (await fake.slash(c.guild, c.alice, "wg join", group="Principles")).response()
    await eventually(
        lambda: db_rows(bot, "SELECT count(*) FROM group_cards") == [(0,)], what="card forgotten"
    )


async def test_answers_follow_the_members_language_and_cards_the_groups(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    # Bob (a French client) is answered in French, Alice (who chose Arabic) in Arabic, Coco in English; the
    # public card speaks the group's language: the server's (English), then Arabic once the group speaks it.
    # Arabic renderings also wrap each value in Unicode isolates.
    fsi, pdi = "\u2068", "\u2069"
    c = coalition
    itx = await fake.slash(c.guild, c.coco, "wg create", name="Principles", locale="fr")
    await itx.response()
    card = itx.message
    assert card is not None and "New working group: **Principles**" in card.text and fsi not in card.text

    itx = await fake.slash(c.guild, c.bob, "wg join", group="Principles", locale="fr")  # a French client
    await itx.response()
    assert itx.ephemeral and itx.text == "Vous avez rejoint **Principles**."

    await (await fake.slash(c.guild, c.alice, "language set", language="ar")).response()
    itx = await fake.slash(c.guild, c.alice, "wg join", group="Principles")
    await itx.response()
    assert itx.ephemeral and itx.text == f"انضممت إلى **{fsi}Principles{pdi}**."  # her own choice
    await eventually(lambda: f"<@{c.alice.id}>" in card.text, what="card refreshed")
    assert fsi not in card.text  # the public card speaks the group's language (the server's)
    itx = await fake.slash(c.guild, c.alice, "wg list")
    await itx.response()
    # Arabic's dual and singular forms say the number in words: "two members", "one group"
    assert "عضوان" in itx.text and "مجموعة واحدة ·" in itx.text and fsi in itx.text

    itx = await fake.slash(c.guild, c.coco, "wg language", group="Principles", language="ar")
    await itx.response()
    assert itx.text.startswith("The public posts of ") and fsi not in itx.text  # coco's own language: English
    await eventually(lambda: f"مجموعة العمل #{fsi}1{pdi}" in card.text, what="card in the group's language")
