"""Privileges come only from the configuration, and a group reference means one thing, end to end.

A group named like the coordinator role cannot turn joining it into a promotion (its Discord role, kept by
the bot, grants nothing); a role Discord marks as managed never promotes; what autocomplete inserts finds
exactly the group chosen; who may see names in a summary is decided on the group exported.
"""

from __future__ import annotations

from pathlib import Path

from tests import engines
from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import DEFAULT_BOT, MANAGE_ROLES, FakeDiscord
from tests.e2e.harness import BotProcess
from tests.e2e.helpers import db_rows, refused


def insert_legacy_group(bot: BotProcess, guild_id: int, name: str, role_id: int | None = None) -> int:
    """A group as an older version could have created it, before names were checked."""
    with engines.closing_raw(bot.db_path) as raw:
        ((group_id,),) = raw.rows(
            "INSERT INTO groups (guild_id, name, name_key, role_id, created_by, created_at) "
            "VALUES (?, ?, ?, ?, 1, 0) RETURNING group_id",
            (guild_id, name, name.casefold(), role_id),
        )
    return int(group_id)


async def test_a_group_named_like_the_coordinator_role_never_promotes(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    c = make_coalition(fake)
    fake.update_role(c.guild, c.guild.roles[c.guild.bot_role_id], permissions=DEFAULT_BOT | MANAGE_ROLES)
    bot = BotProcess(fake, tmp_path, groups={"manage_roles": True})
    await bot.start()
    try:
        # refused at creation, in any case and spacing, with a sentence that says what to do
        for name in ("coordinator", "  COORDINATOR "):
            await refused(await fake.slash(c.guild, c.coco, "wg create", name=name),
                          "name of a coordinator role", "Choose another name")  # fmt: skip
        assert db_rows(bot, "SELECT count(*) FROM groups") == [(0,)]
        assert [r.name for r in c.guild.roles.values()].count("Coordinator") == 1

        # a group named so by an older version, whose role the bot created then: the role exists, named
        # exactly like the coordinator role, and the bot keeps it in step with the group
        kept = fake.add_role(c.guild, "Coordinator")
        group_id = insert_legacy_group(bot, c.guild.id, "Coordinator", kept.id)
        point = await fake.slash(c.guild, c.coco, "consensus propose", kind="point", text="We agree.")
        await point.response()
        joined = await fake.slash(c.guild, c.alice, "wg join", group=f"#{group_id}")
        await joined.response()
        assert "You joined **Coordinator**" in joined.text
        await eventually(lambda: kept.id in c.alice.role_ids, what="the group's role given")
        # holding it, Alice is still no coordinator: no groups, no outcomes
        await refused(await fake.slash(c.guild, c.alice, "wg create", name="Roadmap"), "Only coordinators")
        await refused(await fake.slash(c.guild, c.alice, "consensus decide", item="1", outcome="consensus"),
                      "Only coordinators")  # fmt: skip
        assert db_rows(bot, "SELECT status FROM items") == [("open",)]
        # the real coordinator role, same name, still works
        await (await fake.slash(c.guild, c.coco, "wg create", name="Roadmap")).response()
        await eventually(lambda: db_rows(bot, "SELECT role_id FROM groups WHERE name = 'Roadmap'")[0][0],
                         what="Roadmap's role")  # fmt: skip
        roadmap_role = c.guild.roles[db_rows(bot, "SELECT role_id FROM groups WHERE name = 'Roadmap'")[0][0]]
        assert roadmap_role.permissions == 0  # a group's role carries no Discord permission either

        # a legacy group named so that has no role yet gets none: it would look like a coordinator role
        bare_id = insert_legacy_group(bot, c.guild.id, "coordinator ")
        await (await fake.slash(c.guild, c.bob, "wg join", group=f"#{bare_id}")).response()
        await eventually(lambda: db_rows(bot, "SELECT count(*) FROM group_members WHERE group_id = ?",
                                         (bare_id,)) == [(1,)], what="join")  # fmt: skip
        assert db_rows(bot, "SELECT role_id FROM groups WHERE group_id = ?", (bare_id,)) == [(None,)]
        assert [r.name for r in c.guild.roles.values()].count("Coordinator") == 2  # no third one
        await refused(await fake.slash(c.guild, c.bob, "wg create", name="Policy"), "Only coordinators")
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log(), bot.log()


async def test_a_role_managed_by_an_integration_never_promotes(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    # e.g. the booster role, renamed "Coordinator" by someone, or another bot's role
    managed = fake.add_role(c.guild, "Coordinator")
    fake.update_role(c.guild, managed, managed=True)
    fake.set_member_roles(c.guild, c.bob, [managed])
    await refused(await fake.slash(c.guild, c.bob, "wg create", name="Roadmap"), "Only coordinators")
    assert db_rows(bot, "SELECT count(*) FROM groups") == [(0,)]
    await (await fake.slash(c.guild, c.coco, "wg create", name="Roadmap")).response()
    assert db_rows(bot, "SELECT name FROM groups") == [("Roadmap",)]


async def test_an_id_shaped_name_is_refused_and_ids_and_names_never_meet(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    for name in ("#3", "#0012"):
        await refused(await fake.slash(c.guild, c.coco, "wg create", name=name), "# followed by digits")
    for name in ("Principles", "Roadmap", "1"):  # ids 1, 2, 3: the group named "1" is group 3
        await (await fake.slash(c.guild, c.coco, "wg create", name=name)).response()
    assert db_rows(bot, "SELECT group_id, name FROM groups ORDER BY group_id") == [
        (1, "Principles"), (2, "Roadmap"), (3, "1"),
    ]  # fmt: skip

    # autocomplete inserts the id form; the command then finds exactly the group chosen
    itx = await fake.autocomplete(c.guild, c.alice, "wg join", focused="group", group="1")
    await itx.response()
    assert [(ch["name"], ch["value"]) for ch in itx.choices or []] == [("1", "#3")]
    joined = await fake.slash(c.guild, c.alice, "wg join", group="#3")
    await joined.response()
    assert "You joined **1**" in joined.text
    await refused(
        await fake.slash(c.guild, c.alice, "wg join", group="1"), "already a member of 1"
    )  # the name
    info = await fake.slash(c.guild, c.alice, "wg info", group="#1")  # the id form: group 1
    await info.response()
    assert "Principles" in info.text
    # a legacy group named "#2" stays reachable through autocomplete, and "#2" typed is still group 2
    legacy = insert_legacy_group(bot, c.guild.id, "#2")
    itx = await fake.autocomplete(c.guild, c.alice, "wg join", focused="group", group="#")
    await itx.response()
    assert ("#2", f"#{legacy}") in [(ch["name"], ch["value"]) for ch in itx.choices or []]
    joined = await fake.slash(c.guild, c.bob, "wg join", group=f"#{legacy}")
    await joined.response()
    assert "You joined **\\#2**" in joined.text  # escaped: a heading marker in Markdown
    joined = await fake.slash(c.guild, c.bob, "wg join", group="#2")
    await joined.response()
    assert "You joined **Roadmap**" in joined.text


async def test_a_convener_gets_names_only_for_the_group_exported(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    for name in ("Principles", "Roadmap"):
        await (await fake.slash(c.guild, c.coco, "wg create", name=name)).response()
    await (await fake.slash(c.guild, c.coco, "wg set-convener", group="#1", member=c.alice)).response()
    for group in ("#1", "#2"):
        itx = await fake.slash(c.guild, c.bob, "consensus propose", kind="point", text=f"Point of {group}",
                               group=group)  # fmt: skip
        await itx.response()
        agree = next(cid for label, cid, _ in itx.message.buttons() if label == "Agree")
        await (await fake.click(itx.message, agree, c.carol)).response()

    async def export(group: str) -> tuple[str, str]:
        itx = await fake.slash(c.guild, c.alice, "export summary", group=group)
        message = await itx.final()
        return message.text, message.attachments[0].data.decode()

    text, data = await export("#1")  # her group: names
    assert "tallies" not in text and "carol" in data
    text, data = await export("#2")  # group B's id: not hers, so tallies only
    assert "tallies" in text and "carol" not in data and "Point of #2" in data
    text, data = await export("Roadmap")
    assert "tallies" in text and "carol" not in data
