"""Self-test of the fake Discord: a tiny in-process discord.py bot driven through the driver."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands
from discord.ext import commands

from tests.e2e.fake_discord import (
    ClientWouldReject,
    FakeDiscord,
    FakeGuild,
    FakeMember,
    FakeRole,
    InteractionFailed,
    SchemaError,
)

TOKEN = "test-token"


# -- the bot under test ---------------------------------------------------------------------------


class Counter(discord.ui.DynamicItem[discord.ui.Button], template=r"counter:(?P<count>\d+)"):
    def __init__(self, count: int) -> None:
        self.count = count
        super().__init__(discord.ui.Button(label=f"Count {count}", custom_id=f"counter:{count}"))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> Counter:
        return cls(int(match["count"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        new = self.count + 1
        await interaction.response.send_message(f"counted {new}", ephemeral=True)
        view = discord.ui.View(timeout=None)
        view.add_item(Counter(new))
        assert interaction.message is not None
        await interaction.message.edit(content=f"count is {new}", view=view)


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    comment = discord.ui.TextInput(label="Comment", max_length=50)
    mood = discord.ui.Label(text="Mood", component=discord.ui.TextInput(custom_id="mood", required=False))

    async def on_submit(self, interaction: discord.Interaction) -> None:
        mood = self.mood.component
        assert isinstance(mood, discord.ui.TextInput)
        await interaction.response.send_message(f"thanks: {self.comment.value} ({mood.value or 'no mood'})")


class FeedbackView(discord.ui.View):
    @discord.ui.button(label="Give feedback", custom_id="feedback:open")
    async def open(self, interaction: discord.Interaction, button: discord.ui.Button[FeedbackView]) -> None:
        await interaction.response.send_modal(FeedbackModal())


class PickView(discord.ui.View):
    @discord.ui.select(
        custom_id="pick",
        options=[discord.SelectOption(label=x, value=x.lower()) for x in ("Alpha", "Beta", "Gamma")],
        max_values=2,
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[PickView]) -> None:
        await interaction.response.edit_message(content=f"picked {', '.join(select.values)}", view=None)


WORKING_GROUPS = ["Principles", "Privacy", "Outreach"]


def make_bot(guild_id: int) -> commands.Bot:
    intents = discord.Intents.default()
    intents.members = True
    bot = commands.Bot(command_prefix="!", intents=intents, guild_ready_timeout=0.1)
    wg = app_commands.Group(name="wg", description="Working groups")

    @wg.command(name="create", description="Create a working group")
    async def wg_create(
        interaction: discord.Interaction,
        title: app_commands.Range[str, 1, 20],
        size: int,
        lead: discord.Member,
        role: discord.Role,
        charter: discord.Attachment,
    ) -> None:
        text = (await charter.read()).decode()
        await interaction.response.send_message(
            f"created {title} size={size} lead={lead.name} role={role.name} charter={text}"
        )

    @wg.command(name="join", description="Join a working group")
    async def wg_join(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(f"joined {name}", ephemeral=True)

    @wg_join.autocomplete("name")
    async def wg_join_name(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=n, value=n)
            for n in WORKING_GROUPS
            if n.lower().startswith(current.lower())
        ]

    bot.tree.add_command(wg)

    @bot.tree.command(description="Tags (autocomplete answers as many choices as the number typed)")
    async def tags(interaction: discord.Interaction, tag: str) -> None:
        await interaction.response.send_message(f"tag {tag}", ephemeral=True)

    @tags.autocomplete("tag")
    async def tags_tag(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        count, _, width = current.partition("x")
        return [
            app_commands.Choice(name=f"{n}".rjust(int(width or 1), "t"), value=str(n))
            for n in range(int(count or 0))
        ]

    @bot.tree.command(description="A persistent counter")
    async def counter(interaction: discord.Interaction) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(Counter(0))
        await interaction.response.send_message("count is 0", view=view)

    @bot.tree.command(description="Leave feedback")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Tell us", view=FeedbackView())

    @bot.tree.command(description="Pick options")
    async def pick(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Pick", view=PickView())

    @bot.tree.command(description="A slow report")
    async def report(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await asyncio.sleep(0.05)
        data = io.BytesIO(b"group,members\nPrinciples,3\n")
        await interaction.followup.send("report ready", file=discord.File(data, filename="report.csv"))

    @bot.tree.command(description="Announce")
    async def announce(interaction: discord.Interaction, role: discord.Role, quiet: bool) -> None:
        assert isinstance(interaction.channel, discord.TextChannel)
        mentions = discord.AllowedMentions.none() if quiet else discord.AllowedMentions.all()
        await interaction.channel.send(
            f"{interaction.user.mention} {role.mention} @everyone meeting now", allowed_mentions=mentions
        )
        await interaction.response.send_message("posted", ephemeral=True)

    @bot.tree.command(description="DM me")
    async def dmme(interaction: discord.Interaction) -> None:
        try:
            await interaction.user.send("hello in private")
        except discord.Forbidden as exc:
            await interaction.response.send_message(f"closed ({exc.code})", ephemeral=True)
        else:
            await interaction.response.send_message("sent", ephemeral=True)

    @bot.tree.command(description="Grant a role")
    @app_commands.default_permissions(manage_guild=True)
    async def grant(interaction: discord.Interaction, member: discord.Member, role: discord.Role) -> None:
        try:
            await member.add_roles(role)
        except discord.Forbidden as exc:
            await interaction.response.send_message(f"cannot ({exc.code})", ephemeral=True)
        else:
            await interaction.response.send_message(f"granted {role.name}", ephemeral=True)

    @bot.tree.command(description="Never answers")
    async def silent(interaction: discord.Interaction) -> None:
        return None

    async def setup_hook() -> None:
        bot.add_dynamic_items(Counter)
        target = discord.Object(guild_id)
        bot.tree.copy_global_to(guild=target)
        await bot.tree.sync(guild=target)

    async def on_ready() -> None:
        await bot.change_presence(activity=discord.Game("consensus"))

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    bot.add_listener(on_ready)
    return bot


# -- fixtures -------------------------------------------------------------------------------------


@dataclass
class World:
    fake: FakeDiscord
    guild: FakeGuild
    alice: FakeMember
    bob: FakeMember
    coordinator: FakeRole
    bot: commands.Bot


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord(token=TOKEN)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def world(fake: FakeDiscord) -> AsyncIterator[World]:
    guild = fake.add_guild("Coalition")
    coordinator = fake.add_role(guild, "Coordinator", mentionable=False)
    alice = fake.add_member(guild, "alice", roles=[coordinator], permissions=0x20)
    bob = fake.add_member(guild, "bob")
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    bot = make_bot(guild.id)
    task = asyncio.create_task(bot.start(TOKEN))
    try:
        await fake.wait_ready(10)
        yield World(fake, guild, alice, bob, coordinator, bot)
    finally:
        await bot.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
    assert fake.unhandled == []
    assert fake.server_errors == []


# -- tests ----------------------------------------------------------------------------------------


async def test_login_sync_and_ready(world: World) -> None:
    fake = world.fake
    assert world.bot.user is not None and world.bot.user.id == fake.bot_user_id
    assert world.bot.application_id == fake.application_id
    assert fake.sync_counts[world.guild.id] == 1 and fake.sync_count == 1
    names = {c["name"] for c in fake.commands(world.guild)}
    assert {"wg", "counter", "feedback", "report", "silent"} <= names
    bot_guild = world.bot.get_guild(world.guild.id)
    assert bot_guild is not None and bot_guild.get_member(world.alice.id) is not None
    assert fake.identify_count == 1 and fake.presences


async def test_slash_subcommand_with_all_option_types(world: World) -> None:
    fake, guild, alice = world.fake, world.guild, world.alice
    itx = await fake.slash(
        guild, alice, "wg create", title="Principles", size=5, lead=world.bob, role=world.coordinator,
        charter=("charter.txt", b"be kind"),
    )  # fmt: skip
    await itx.response()
    assert itx.type == 4 and not itx.ephemeral
    assert itx.text == "created Principles size=5 lead=bob role=Coordinator charter=be kind"
    assert itx.ack_latency is not None and itx.ack_latency < 3
    assert fake.messages(guild.default_channel)[-1] is itx.message


async def test_schema_and_client_checks(world: World) -> None:
    fake, guild, alice = world.fake, world.guild, world.alice
    base = {"size": 1, "lead": alice, "role": world.coordinator, "charter": ("c.txt", b"x")}
    with pytest.raises(SchemaError):
        await fake.slash(guild, alice, "wg nope")
    with pytest.raises(SchemaError):
        await fake.slash(guild, alice, "wg create", **base)  # title missing
    with pytest.raises(SchemaError):
        await fake.slash(guild, alice, "wg create", title="T", colour="red", **base)
    with pytest.raises(SchemaError):
        await fake.slash(guild, alice, "wg create", title="T", **{**base, "size": "five"})
    with pytest.raises(ClientWouldReject):
        await fake.slash(guild, alice, "wg create", title="x" * 21, **base)
    with pytest.raises(ClientWouldReject):
        await fake.slash(guild, alice, "wg create", title="T", **{**base, "size": 2.5})
    with pytest.raises(ClientWouldReject):  # Manage Server gated: bob does not even see /grant
        await fake.slash(guild, world.bob, "grant", member=alice, role=world.coordinator)
    itx = await fake.slash(guild, alice, "wg create", title="x" * 21, client_checks=False, **base)
    await itx.response()
    assert "created " + "x" * 21 in itx.text


async def test_persistent_dynamic_button(world: World) -> None:
    fake, guild, alice = world.fake, world.guild, world.alice
    itx = await fake.slash(guild, alice, "counter")
    message = (await itx.response()).message
    assert message is not None and message.buttons() == [("Count 0", "counter:0", False)]
    click = await fake.click(message, "counter:0", world.bob)
    await click.response()
    assert click.ephemeral and click.text == "counted 1"
    edited = await fake.wait_for_message(predicate=lambda m: m.id == message.id, edits=True)
    assert edited.content == "count is 1" and message.custom_ids() == ["counter:1"]
    assert fake.message_edits[message.id] == 1 and message.edits[0]["content"] == "count is 0"
    assert fake.messages(guild.default_channel) == [message]  # ephemeral reply not listed
    with pytest.raises(SchemaError):
        await fake.click(message, "counter:99", alice)
    # discord.py only builds a DynamicItem if the custom_id is on the clicked message: forged ids are dropped
    forged = await fake.click(message, "counter:41", alice, check=False)
    with pytest.raises(InteractionFailed):
        await forged.response(timeout=0.5)
    # ...unless the message payload really carries the button (inject=True), e.g. a stale card
    injected = await fake.click(message, "counter:41", alice, check=False, inject=True)
    assert (await injected.response()).text == "counted 42"


async def test_modal_from_button(world: World) -> None:
    fake, guild, alice = world.fake, world.guild, world.alice
    message = (await (await fake.slash(guild, alice, "feedback")).response()).message
    assert message is not None
    opened = await (await fake.click(message, "feedback:open", alice)).response()
    assert opened.type == 9 and opened.modal is not None and opened.modal["title"] == "Feedback"
    with pytest.raises(ClientWouldReject):
        await fake.submit_modal(opened, alice, {"mood": "happy"})  # comment is required
    with pytest.raises(SchemaError):
        await fake.submit_modal(opened, alice, {"nope": "x"})
    comment_id = next(c for c in message_fields(opened.modal) if c != "mood")
    submitted = await fake.submit_modal(opened, alice, {comment_id: "great work", "mood": "happy"})
    await submitted.response()
    assert submitted.text == "thanks: great work (happy)"


def message_fields(modal: dict[str, object]) -> list[str]:
    from tests.e2e.fake_discord.models import walk_components

    components = modal["components"]
    assert isinstance(components, list)
    return [c["custom_id"] for c in walk_components(components) if c.get("type") == 4]


async def test_select_menu_updates_message(world: World) -> None:
    fake, guild, alice = world.fake, world.guild, world.alice
    message = (await (await fake.slash(guild, alice, "pick")).response()).message
    assert message is not None
    with pytest.raises(ClientWouldReject):
        await fake.select(message, "pick", ["alpha", "beta", "gamma"], alice)  # max 2
    itx = await (await fake.select(message, "pick", ["alpha", "gamma"], alice)).response()
    assert itx.type == 7 and itx.message is message
    assert message.content == "picked alpha, gamma" and message.components == []


async def test_deferred_followup_with_file(world: World) -> None:
    fake = world.fake
    itx = await fake.slash(world.guild, world.alice, "report")
    await itx.response()
    assert itx.type == 5
    final = await itx.final()
    assert final.text == "report ready" and not final.loading
    assert final.attachment("report.csv").data == b"group,members\nPrinciples,3\n"
    async with aiohttp.ClientSession() as session, session.get(final.attachments[0].url) as resp:
        assert await resp.read() == b"group,members\nPrinciples,3\n"


async def test_autocomplete(world: World) -> None:
    itx = await world.fake.autocomplete(world.guild, world.alice, "wg join", focused="name", name="pri")
    await itx.response()
    assert itx.type == 8 and itx.choices == [
        {"name": "Principles", "value": "Principles"},
        {"name": "Privacy", "value": "Privacy"},
    ]


async def test_allowed_mentions_and_pings(world: World) -> None:
    fake, guild, alice = world.fake, world.guild, world.alice
    channel = guild.default_channel
    await (await fake.slash(guild, alice, "announce", role=world.coordinator, quiet=True)).response()
    quiet = fake.messages(channel)[-1]
    assert "@everyone" in quiet.content and quiet.pings() == set()
    await (await fake.slash(guild, alice, "announce", role=world.coordinator, quiet=False)).response()
    loud = fake.messages(channel)[-1]
    assert loud.pings() == {alice.id, world.coordinator.id, "everyone"}


async def test_dm_and_closed_dms(world: World) -> None:
    fake, guild, alice = world.fake, world.guild, world.alice
    itx = await (await fake.slash(guild, alice, "dmme")).response()
    assert itx.text == "sent" and [m.content for m in fake.dms(alice)] == ["hello in private"]
    fake.close_dms(world.bob)
    itx = await (await fake.slash(guild, world.bob, "dmme")).response()
    assert itx.text == "closed (50007)" and fake.dms(world.bob) == []


async def test_roles_and_missing_permissions(world: World) -> None:
    fake, guild, alice, bob = world.fake, world.guild, world.alice, world.bob
    itx = await (await fake.slash(guild, alice, "grant", member=bob, role=world.coordinator)).response()
    assert itx.text == "granted Coordinator" and world.coordinator.id in bob.role_ids
    member = world.bot.get_guild(guild.id).get_member(bob.id)  # type: ignore[union-attr]
    assert await fake.wait_until(lambda: member is not None and len(member.roles) == 2, timeout=2)
    fake.update_role(guild, guild.bot_role, permissions=0)
    itx = await (await fake.slash(guild, alice, "grant", member=bob, role=world.coordinator)).response()
    assert itx.text == "cannot (50013)"


async def test_unanswered_interaction_fails(world: World) -> None:
    itx = await world.fake.slash(world.guild, world.alice, "silent")
    with pytest.raises(InteractionFailed):
        await itx.response()
    assert itx.failed


async def test_double_ack_and_unknown_route(world: World) -> None:
    fake = world.fake
    itx = await (await fake.slash(world.guild, world.alice, "counter")).response()
    async with aiohttp.ClientSession() as session:
        url = f"{fake.api_base_url}/interactions/{itx.id}/{itx.token}/callback"
        async with session.post(url, json={"type": 4, "data": {"content": "again"}}) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == 40060
        headers = {"Authorization": f"Bot {TOKEN}"}
        async with session.get(f"{fake.api_base_url}/nope", headers=headers) as resp:
            assert resp.status == 404
    assert fake.unhandled == [("GET", "/nope")]
    fake.unhandled.clear()


async def test_rate_limited_edit_is_retried(world: World) -> None:
    fake, guild, alice = world.fake, world.guild, world.alice
    message = (await (await fake.slash(guild, alice, "counter")).response()).message
    assert message is not None
    fake.rate_limit("PATCH", r"^/channels/\d+/messages/\d+$", times=1, retry_after=0.2)
    await (await fake.click(message, "counter:0", alice)).response()
    edited = await fake.wait_for_message(predicate=lambda m: m.id == message.id, edits=True, timeout=5)
    assert edited.content == "count is 1" and fake.rate_limited_count == 1
    patches = [r for r in fake.requests if r.method == "PATCH" and r.path.startswith("/channels/")]
    assert [r.status for r in patches] == [429, 200]


async def test_gateway_drop_resumes(world: World) -> None:
    fake, guild = world.fake, world.guild
    await fake.drop_gateway()
    carol = fake.add_member(guild, "carol")  # dispatched while disconnected: replayed on resume
    assert await fake.wait_until(lambda: fake.resume_count == 1 and fake.gateway.connected, timeout=10)
    assert fake.identify_count == 1
    itx = await (await fake.slash(guild, carol, "counter")).response()
    assert itx.text == "count is 0"
    assert world.bot.get_guild(guild.id).get_member(carol.id) is not None  # type: ignore[union-attr]


async def test_guild_added_later_and_scheduled_events(world: World) -> None:
    import datetime as dt

    fake = world.fake
    second = fake.add_guild("Second coalition")
    assert await fake.wait_until(lambda: world.bot.get_guild(second.id) is not None, timeout=2)
    bot_guild = world.bot.get_guild(world.guild.id)
    assert bot_guild is not None
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    event = await bot_guild.create_scheduled_event(
        name="Plenary", start_time=start, end_time=start + dt.timedelta(hours=1),
        entity_type=discord.EntityType.external, location="Town hall", privacy_level=discord.PrivacyLevel.guild_only,
    )  # fmt: skip
    assert [e["name"] for e in world.guild.scheduled_events.values()] == ["Plenary"]
    await event.edit(name="Plenary (moved)")
    assert world.guild.scheduled_events[event.id]["name"] == "Plenary (moved)"
    with pytest.raises(discord.HTTPException):
        await bot_guild.create_scheduled_event(
            name="Past", start_time=start - dt.timedelta(days=2), end_time=start,
            entity_type=discord.EntityType.external, location="x", privacy_level=discord.PrivacyLevel.guild_only,
        )  # fmt: skip
    await event.delete()
    assert world.guild.scheduled_events == {}


# -- Discord's limits, refused as Discord refuses them ----------------------------------------------------


async def api(
    fake: FakeDiscord, method: str, path: str, body: dict[str, object]
) -> tuple[int, dict[str, object]]:
    """A raw request to the fake, as the bot's token (status, JSON body)."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method, f"{fake.api_base_url}{path}", json=body, headers={"Authorization": f"Bot {TOKEN}"}
        ) as resp,
    ):
        data = await resp.json() if resp.status != 204 else {}
        return resp.status, data


def error_path(body: dict[str, object]) -> str:
    """The dotted path of the first error in Discord's nested ``errors`` object."""
    node = body.get("errors")
    path: list[str] = []
    while isinstance(node, dict) and "_errors" not in node:
        key = next(iter(node))
        path.append(key)
        node = node[key]
    return ".".join(path)


async def test_allowed_mentions_at_most_100_users_and_roles(world: World) -> None:
    fake, channel = world.fake, world.guild.default_channel
    path = f"/channels/{channel.id}/messages"
    ids = [str(world.alice.id)] * 100
    status, _ = await api(
        fake, "POST", path, {"content": "hi", "allowed_mentions": {"parse": [], "users": ids}}
    )
    assert status == 200
    for kind in ("users", "roles"):
        status, body = await api(
            fake, "POST", path, {"content": "hi", "allowed_mentions": {"parse": [], kind: ids + ids[:1]}}
        )
        assert (status, body["code"], error_path(body)) == (400, 50035, f"allowed_mentions.{kind}")
    status, body = await api(
        fake, "POST", path, {"content": "hi", "allowed_mentions": {"parse": ["users"], "users": ids[:1]}}
    )
    assert (status, body["code"]) == (400, 50035)  # parse and a list of the same kind exclude each other
    # through discord.py as a bot would send it: refused, nothing posted
    before = len(fake.messages(channel))
    target = world.bot.get_channel(channel.id)
    assert isinstance(target, discord.TextChannel)
    too_many = discord.AllowedMentions(users=[discord.Object(world.alice.id + n) for n in range(101)])
    with pytest.raises(discord.HTTPException) as refused:
        await target.send("hi", allowed_mentions=too_many)
    assert refused.value.status == 400 and refused.value.code == 50035
    assert len(fake.messages(channel)) == before


async def test_content_at_most_2000_on_callbacks_followups_and_edits(world: World) -> None:
    fake = world.fake
    itx = await fake.slash(world.guild, world.alice, "silent")  # the bot never answers: we do
    callback = f"/interactions/{itx.id}/{itx.token}/callback"
    status, body = await api(fake, "POST", callback, {"type": 4, "data": {"content": "x" * 2001}})
    assert (status, error_path(body)) == (400, "content")
    assert (await api(fake, "POST", callback, {"type": 5, "data": {}}))[0] == 204
    hook = f"/webhooks/{fake.application_id}/{itx.token}"
    status, body = await api(fake, "POST", hook, {"content": "x" * 2001})
    assert (status, error_path(body)) == (400, "content")
    assert (await api(fake, "POST", hook + "?wait=true", {"content": "x" * 2000}))[0] == 200
    status, body = await api(fake, "PATCH", hook + "/messages/@original", {"content": "y" * 2001})
    assert (status, error_path(body)) == (400, "content")
    status, body = await api(
        fake, "POST", hook, {"content": "second", "embeds": [{"description": "d" * 4097}]}
    )
    assert (status, error_path(body)) == (400, "embeds.0.description")


async def test_embeds_6000_characters_across_all_embeds_of_a_message(world: World) -> None:
    fake, channel = world.fake, world.guild.default_channel
    path = f"/channels/{channel.id}/messages"
    half = {"title": "t" * 100, "description": "d" * 2900}
    assert (await api(fake, "POST", path, {"embeds": [half, half]}))[0] == 200  # 6,000 exactly
    status, body = await api(fake, "POST", path, {"embeds": [half, {**half, "footer": {"text": "f"}}]})
    assert (status, body["code"], error_path(body)) == (400, 50035, "embeds")
    fields = {"title": "t", "fields": [{"name": "n", "value": "v" * 1000}] * 6}
    status, body = await api(fake, "POST", path, {"embeds": [fields]})
    assert (status, error_path(body)) == (400, "embeds")  # 6,007 in one embed's fields
    status, body = await api(
        fake, "POST", path, {"embeds": [{"title": "t", "fields": [{"name": "n", "value": "v"}] * 26}]}
    )
    assert (status, error_path(body)) == (400, "embeds.0.fields")


def select(options: int, *, low: int = 1, high: int = 1) -> dict[str, object]:
    menu = {"type": 3, "custom_id": "pick", "min_values": low, "max_values": high,
            "options": [{"label": f"o{n}", "value": str(n)} for n in range(options)]}  # fmt: skip
    return {"content": "pick", "components": [{"type": 1, "components": [menu]}]}


async def test_select_menus_25_options_and_their_min_max_values(world: World) -> None:
    fake, channel = world.fake, world.guild.default_channel
    path = f"/channels/{channel.id}/messages"
    assert (await api(fake, "POST", path, select(25, low=0, high=25)))[0] == 200
    for bad in (select(26), select(0), select(3, high=4), select(3, low=3, high=2), select(3, high=0),
                select(30, high=26)):  # fmt: skip
        status, body = await api(fake, "POST", path, bad)
        assert (status, body["code"]) == (400, 50035), bad
    long_label = select(2)
    long_label["components"][0]["components"][0]["options"][0]["label"] = "l" * 101  # type: ignore[index]
    assert (await api(fake, "POST", path, long_label))[0] == 400


async def test_autocomplete_at_most_25_choices_of_100_characters(world: World) -> None:
    fake = world.fake
    itx = await fake.autocomplete(world.guild, world.alice, "tags", focused="tag", tag="25")
    await itx.response()
    assert itx.choices is not None and len(itx.choices) == 25

    def refused_callbacks() -> int:
        return sum(1 for r in fake.requests if r.path.endswith("/callback") and r.status == 400)

    for typed in ("26", "1x101"):  # 26 choices; a name of 101 characters
        before = refused_callbacks()
        itx = await fake.autocomplete(world.guild, world.alice, "tags", focused="tag", tag=typed)
        assert await fake.wait_until(lambda b=before: refused_callbacks() == b + 1, timeout=3), typed  # type: ignore[misc]
        assert not itx.acknowledged and itx.choices is None


async def test_enforce_nonce_returns_the_message_already_created(world: World) -> None:
    fake, channel = world.fake, world.guild.default_channel
    path = f"/channels/{channel.id}/messages"
    first = await api(fake, "POST", path, {"content": "part 1", "nonce": "p7.1", "enforce_nonce": True})
    again = await api(
        fake, "POST", path, {"content": "part 1 (retry)", "nonce": "p7.1", "enforce_nonce": True}
    )
    assert first[0] == again[0] == 200 and first[1]["id"] == again[1]["id"]
    assert again[1]["content"] == "part 1" and again[1]["nonce"] == "p7.1"  # the first one, unchanged
    created = [m for m in fake.messages(channel) if m.content.startswith("part 1")]
    assert len(created) == 1
    events = [e for e in fake.gateway.buffer if e["t"] == "MESSAGE_CREATE" and e["d"]["id"] == first[1]["id"]]
    assert len(events) == 1  # no second MESSAGE_CREATE
    # without enforce_nonce, or with another nonce, a new message is created
    plain = await api(fake, "POST", path, {"content": "part 1", "nonce": "p7.1"})
    other = await api(fake, "POST", path, {"content": "part 2", "nonce": "p7.2", "enforce_nonce": True})
    assert len({first[1]["id"], plain[1]["id"], other[1]["id"]}) == 3
    status, body = await api(fake, "POST", path, {"content": "x", "nonce": "n" * 26, "enforce_nonce": True})
    assert (status, error_path(body)) == (400, "nonce")
    # after the window Discord forgets the nonce
    fake.nonce_window = 0.0
    late = await api(fake, "POST", path, {"content": "part 1", "nonce": "p7.1", "enforce_nonce": True})
    assert late[1]["id"] != first[1]["id"]
    fake.nonce_window = 300.0
    # discord.py sends enforce_nonce with any nonce it is given
    target = world.bot.get_channel(channel.id)
    assert isinstance(target, discord.TextChannel)
    one = await target.send("via discord.py", nonce="p8.1")
    two = await target.send("via discord.py, again", nonce="p8.1")
    assert one.id == two.id and [m.content for m in fake.messages(channel)].count("via discord.py") == 1


async def test_answer_lost_after_the_message_was_created(world: World) -> None:
    """fail(after=True): the message exists, the bot gets a 500; discord.py retries with the same nonce."""
    fake, channel = world.fake, world.guild.default_channel
    seen: list[str] = []
    fake.on_message_created.append(lambda m: seen.append(m.content))
    fake.fail("POST", rf"^/channels/{channel.id}/messages$", status=500, after=True)
    target = world.bot.get_channel(channel.id)
    assert isinstance(target, discord.TextChannel)
    sent = await target.send("once only")
    assert [m.content for m in fake.messages(channel)] == ["once only"] and sent.id == fake.messages(channel)[
        0
    ].id
    statuses = [
        r.status for r in fake.requests if r.method == "POST" and r.path == f"/channels/{channel.id}/messages"
    ]
    assert statuses == [500, 200] and seen == ["once only"]  # the hook ran once, when it was created


# -- sharding -------------------------------------------------------------------------------------


def make_sharded_bot(shard_count: int | None = None) -> commands.AutoShardedBot:
    """A bot on discord.py's AutoShardedBot; ``None``: the shard count GET /gateway/bot recommends."""
    intents = discord.Intents.default()
    intents.members = True
    bot = commands.AutoShardedBot(
        command_prefix="!", intents=intents, help_command=None, shard_count=shard_count,
        guild_ready_timeout=0.2,
    )  # fmt: skip

    async def before_identify_hook(shard_id: int | None, *, initial: bool = False) -> None:
        return None  # discord.py waits 5 s between shards for Discord's IDENTIFY limit; the fake has none

    bot.before_identify_hook = before_identify_hook  # type: ignore[method-assign]

    @bot.tree.command(description="Which shard answers")
    async def whoami(interaction: discord.Interaction) -> None:
        shard = interaction.guild.shard_id if interaction.guild else "dm"
        await interaction.response.send_message(f"shard {shard}", ephemeral=True)

    async def setup_hook() -> None:
        await bot.tree.sync()

    async def on_ready() -> None:
        await bot.change_presence(activity=discord.Game("consensus"))

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    bot.add_listener(on_ready)
    return bot


@pytest.fixture
async def sharded(fake: FakeDiscord) -> AsyncIterator[tuple[commands.AutoShardedBot, list[FakeGuild]]]:
    fake.recommended_shards = 2
    guilds = [fake.add_guild(f"Guild {n}", shard=(n % 2, 2)) for n in range(4)]
    for guild in guilds:
        fake.add_member(guild, "alice")
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL("ws://127.0.0.1:9/not-used")
    bot = make_sharded_bot()
    task = asyncio.create_task(bot.start(TOKEN))
    try:
        await fake.wait_ready(10)
        yield bot, guilds
    finally:
        await bot.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
    assert fake.unhandled == []
    assert fake.server_errors == []


def test_guild_ids_can_be_picked_on_a_shard(fake: FakeDiscord) -> None:
    for count in (1, 2, 3, 7):
        for shard_id in range(count):
            guild = fake.add_guild(f"{shard_id} of {count}", shard=(shard_id, count))
            assert (guild.id >> 22) % count == shard_id
    ids = list(fake.guilds)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


async def test_sharded_identify_ready_and_routing(
    fake: FakeDiscord, sharded: tuple[commands.AutoShardedBot, list[FakeGuild]]
) -> None:
    bot, guilds = sharded
    # no shard_count: discord.py asked /gateway/bot, which said 2 shards and where the gateway is
    assert any(r.path == "/gateway/bot" for r in fake.requests)
    assert sorted(p["shard"] for p in fake.gateway.identify_payloads) == [[0, 2], [1, 2]]
    assert fake.identify_count == 2 and set(fake.sessions) == {0, 1}
    for shard_id in (0, 1):
        session = fake.session(shard_id)
        assert session.events("READY")[0]["shard"] == [shard_id, 2]
        mine = [g.id for g in guilds if (g.id >> 22) % 2 == shard_id]
        assert sorted(session.guild_ids) == mine
        assert sorted(int(g["id"]) for g in session.events("READY")[0]["guilds"]) == mine
    assert fake.ready_count == 1 and fake.gateway.is_ready
    assert {g.id for g in bot.guilds} == {g.id for g in guilds}
    for guild in guilds:
        itx = await (await fake.slash(guild, guild.member("alice"), "whoami")).response()
        assert itx.text == f"shard {fake.shard_of(guild)}"
        session = fake.session(fake.shard_of(guild))
        assert any(e["id"] == str(itx.id) for e in session.events("INTERACTION_CREATE"))
    dm = await (await fake.slash(None, guilds[1].member("alice"), "whoami")).response()
    assert dm.text == "shard dm"
    assert any(e["id"] == str(dm.id) for e in fake.session(0).events("INTERACTION_CREATE"))
    late = fake.add_guild("Late", shard=(1, 2))  # GUILD_CREATE on shard 1 only
    assert fake.session(1).guild_ids[-1] == late.id and late.id not in fake.session(0).guild_ids
    assert await fake.wait_until(lambda: bot.get_guild(late.id) is not None, timeout=5)


async def test_one_shard_drops_and_resumes_alone(
    fake: FakeDiscord, sharded: tuple[commands.AutoShardedBot, list[FakeGuild]]
) -> None:
    bot, guilds = sharded
    await fake.drop_gateway(shard=1)
    carol = fake.add_member(guilds[1], "carol")  # on shard 1 while it is down: replayed on resume
    assert await fake.wait_until(lambda: fake.session(1).resume_count == 1 and fake.gateway.connected, 10)
    assert fake.session(0).resume_count == 0 and fake.identify_count == 2
    itx = await (await fake.slash(guilds[1], carol, "whoami")).response()
    assert itx.text == "shard 1"
    itx = await (await fake.slash(guilds[0], guilds[0].member("alice"), "whoami")).response()
    assert itx.text == "shard 0"


async def identify_raw(fake: FakeDiscord, shard: object) -> int | None:
    """IDENTIFY on a raw websocket; the close code the fake answered with (None: it sent READY)."""
    async with aiohttp.ClientSession() as session, session.ws_connect(fake.gateway_url) as ws:
        hello = await ws.receive_json()
        assert hello["op"] == 10
        data: dict[str, object] = {"token": TOKEN, "intents": 1, "properties": {}}
        if shard is not None:
            data["shard"] = shard
        await ws.send_json({"op": 2, "d": data})
        msg = await ws.receive()
        if msg.type == aiohttp.WSMsgType.TEXT:
            assert msg.json()["t"] == "READY"
            return None
        return ws.close_code


async def test_invalid_shards_are_refused_as_discord_does(fake: FakeDiscord) -> None:
    fake.add_guild("One", shard=(0, 2))
    assert await identify_raw(fake, [2, 2]) == 4010  # id out of range
    assert await identify_raw(fake, [0, 0]) == 4010
    assert await identify_raw(fake, "0") == 4010
    assert fake.sessions == {}
    async with aiohttp.ClientSession() as session, session.ws_connect(fake.gateway_url) as ws:
        await ws.receive_json()
        await ws.send_json({"op": 2, "d": {"token": TOKEN, "intents": 1, "shard": [1, 2], "properties": {}}})
        ready = await ws.receive_json()
        assert ready["t"] == "READY" and ready["d"]["shard"] == [1, 2] and ready["d"]["guilds"] == []
        # a live session of 2 shards: another count is refused
        assert await identify_raw(fake, [0, 3]) == 4010
        assert await identify_raw(fake, None) == 4010  # no shard is [0, 1]
    assert fake.gateway.refused == [4010, 4010, 4010, 4010, 4010]
    # nothing live any more: the bot may come back with another shard count
    assert await identify_raw(fake, [0, 1]) is None and set(fake.sessions) == {0}
    fake.gateway.max_guilds_per_shard = 0
    assert await identify_raw(fake, None) == 4011  # "sharding required"
