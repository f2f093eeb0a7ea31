"""/wg: working groups — create, list, info, join, leave, members, conveners, archive."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.ui.boundary import guild_id_of, reply, reply_language, send_public
from cogs.ui.common import actor, group_autocomplete, reachable, target
from cogs.ui.groups import GroupButton, card_embed, card_view, list_pages, member_pages
from cogs.ui.limits import send_pages
from domain.groups import NAME_MAX, Group
from domain.i18n import LANGUAGE_NAMES, Text, t
from domain.overview import group_overview

if TYPE_CHECKING:
    from bot.client import Caucus

log = logging.getLogger(__name__)

ACTIVE_GROUPS = group_autocomplete(include_archived=False)
ALL_GROUPS = group_autocomplete(include_archived=True)


def no_role_permission(group: Group) -> Text:
    """For a coordinator: the bot cannot keep the group's role."""
    return t(
        "I can't manage roles on this server (I need the Manage Roles permission, and my role above the group "
        "roles), so {name} has no Discord role; the group works without one.",
        name=group.name,
    )


def named_like_coordinators(group: Group) -> Text:
    """For a coordinator: the group's role would look like a coordinator role."""
    return t(
        "{name} has no Discord role: its name is also the name of a coordinator role, and a group's role must "
        "not look like one. The group works without it.",
        name=group.name,
    )


GROUP_LANGUAGES = [app_commands.Choice(name=name, value=code) for code, name in LANGUAGE_NAMES.items()] + [
    app_commands.Choice(name="The server's language", value="auto")
]


class RoleKeeper:
    """Keeps an optional Discord role per group in step with its members ([groups] manage_roles)."""

    def __init__(self, bot: Caucus) -> None:
        self.bot = bot

    def enabled(self) -> bool:
        return self.bot.config.groups.manage_roles

    async def ensure(self, guild: discord.Guild, group: Group) -> tuple[discord.Role | None, Text | None]:
        """The group's role, created on demand; or None and a sentence for the coordinator."""
        if not self.enabled():
            return None, None
        if group.role_id and (role := guild.get_role(group.role_id)) is not None:
            if role.name != group.name:
                await self._guard(role.edit(name=group.name, reason="working group renamed"))
            return role, None
        if self.bot.policy.names_coordinator_role(None, group.name):
            # a group named so before names were checked: its role would look like a coordinator role
            return None, named_like_coordinators(group)
        if not guild.me.guild_permissions.manage_roles:
            return None, no_role_permission(group)
        try:
            # no Discord permissions either: a group's role only marks who is in the group
            role = await guild.create_role(
                name=group.name, permissions=discord.Permissions.none(), mentionable=True,
                reason=f"working group #{group.group_id}",
            )  # fmt: skip
        except discord.Forbidden:
            log.warning("cannot create role for group %d in server %d", group.group_id, guild.id)
            return None, no_role_permission(group)
        await self.bot.groups.set_role(group, role.id)
        card = await self.bot.groups.card_by_id(guild.id, group.group_id)
        for user_id in await reachable(self.bot, guild.id, [m.user_id for m in card.members]):
            await self.member(guild, role, user_id, add=True)
        return role, None

    async def member(
        self, guild: discord.Guild, role: discord.Role | None, user_id: int, *, add: bool
    ) -> None:
        """Give or take the group's role from one member; failures are logged, not shown."""
        if role is None:
            return
        action = self.bot.http.add_role if add else self.bot.http.remove_role
        await self._guard(action(guild.id, user_id, role.id, reason="working group membership"))

    async def _guard(self, coro: object) -> None:
        try:
            await coro  # type: ignore[misc]
        except discord.HTTPException as exc:
            log.warning("group role change failed: %s", exc)

    async def follow(self, itx: discord.Interaction, group: Group, user_id: int, *, add: bool) -> Text | None:
        """After a membership change: adjust the role; returns a note for a coordinator when roles can't be kept."""
        if not self.enabled() or itx.guild is None:
            return None
        role, problem = await self.ensure(itx.guild, group)
        await self.member(itx.guild, role, user_id, add=add)
        return problem


class WorkingGroupsCog(commands.GroupCog, group_name="wg", group_description="Working groups"):
    def __init__(self, bot: Caucus) -> None:
        self.bot = bot
        self.roles = RoleKeeper(bot)
        self.updater = bot.message_updater(on_gone=bot.groups.forget_card)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(GroupButton.route(self.button))

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(GroupButton.unroute())

    async def _post_card(self, itx: discord.Interaction, group: Group, content: Text | None = None) -> None:
        """Answer with the group's card in public, in the group's language, and remember the message, so it
        follows membership."""
        lang = self.bot.languages.for_group(group)
        embed, view = await self._card_message(group.guild_id, group.group_id, lang)
        message = await send_public(itx, content.render(lang) if content else None, embed=embed, view=view)
        await self.bot.groups.attach_card(group, message.channel.id, message.id)

    async def refresh_cards(self, group: Group) -> None:
        """Bring every posted card of the group up to date (edits coalesced under bursts)."""
        for channel_id, message_id in await self.bot.groups.cards(group):

            async def render(
                group_id: int = group.group_id, guild_id: int = group.guild_id
            ) -> dict[str, Any]:
                embed, view = await self._card_message(guild_id, group_id)
                return {"embed": embed, "view": view}

            self.updater.request(channel_id, message_id, render)

    async def _card_message(
        self, guild_id: int, group_id: int, lang: str | None = None
    ) -> tuple[discord.Embed, discord.ui.View]:
        """The card and its buttons in ``lang`` (None: the group's language, for a public card)."""
        b = self.bot
        overview = await group_overview(b.groups, b.consensus, b.polls, b.agenda, guild_id, group_id)
        lang = lang or b.languages.for_group(overview.card.group)
        return card_embed(overview.card, overview, lang=lang), card_view(overview.card, lang=lang)

    async def _tell(self, itx: discord.Interaction, text: Text) -> None:
        """An ephemeral answer to the member, in their language."""
        await reply(itx, text.render(await reply_language(itx)), ephemeral=True)

    @app_commands.command(description="Create a working group (coordinators)")
    @app_commands.describe(
        name="Unique name, e.g. Principles (at most 80 characters)",
        description="What the group works on",
        home_channel="Where the group's items and reminders go",
        due="When its work is due: YYYY-MM-DD or YYYY-MM-DD HH:MM, in the server's time zone",
    )
    @app_commands.guild_only()
    async def create(
        self,
        itx: discord.Interaction,
        name: app_commands.Range[str, 1, NAME_MAX],
        description: app_commands.Range[str, 0, 1000] = "",
        home_channel: discord.TextChannel | None = None,
        due: str | None = None,
    ) -> None:
        who = await actor(itx)
        group = await self.bot.groups.create(
            who,
            name,
            description=description,
            home_channel_id=home_channel.id if home_channel else None,
            due=due,
        )
        log.info("group %d created in server %d by %d", group.group_id, group.guild_id, who.user_id)
        await self._post_card(
            itx, group, t("New working group: **{group}**", group=discord.utils.escape_markdown(group.name))
        )
        if self.roles.enabled() and itx.guild is not None:
            _, problem = await self.roles.ensure(itx.guild, group)
            if problem:
                await self._tell(itx, problem)

    @app_commands.command(name="list", description="The working groups of this server")
    @app_commands.describe(archived="Also show archived groups")
    @app_commands.guild_only()
    async def list_(self, itx: discord.Interaction, archived: bool = True) -> None:
        rows = await self.bot.groups.list_groups(guild_id_of(itx), include_archived=archived)
        await send_pages(itx, list_pages(rows, lang=await reply_language(itx)))

    @app_commands.command(description="A working group's card: description, conveners, members, due date")
    @app_commands.describe(
        group="The group's name", public="Post the card in the channel, with its Join button"
    )
    @app_commands.autocomplete(group=ALL_GROUPS)
    @app_commands.guild_only()
    async def info(self, itx: discord.Interaction, group: str, public: bool = False) -> None:
        found = await self.bot.groups.resolve(guild_id_of(itx), group)
        if public:
            await self._post_card(itx, found)
            return
        b = self.bot
        overview = await group_overview(
            b.groups, b.consensus, b.polls, b.agenda, found.guild_id, found.group_id
        )
        lang = await reply_language(itx)
        pages = member_pages(overview.card, card_embed(overview.card, overview, lang=lang), lang=lang)
        await send_pages(itx, pages, buttons=card_view(overview.card, lang=lang))

    @app_commands.command(description="Join a working group")
    @app_commands.autocomplete(group=ACTIVE_GROUPS)
    @app_commands.guild_only()
    async def join(self, itx: discord.Interaction, group: str) -> None:
        who = await actor(itx)
        found = await self.bot.groups.join(who, await self.bot.groups.resolve(who.guild_id, group))
        await self._tell(itx, t("You joined **{group}**.", group=discord.utils.escape_markdown(found.name)))
        await self.refresh_cards(found)
        await self.roles.follow(itx, found, itx.user.id, add=True)

    @app_commands.command(description="Leave a working group")
    @app_commands.autocomplete(group=ALL_GROUPS)
    @app_commands.guild_only()
    async def leave(self, itx: discord.Interaction, group: str) -> None:
        who = await actor(itx)
        found = await self.bot.groups.leave(who, await self.bot.groups.resolve(who.guild_id, group))
        await self._tell(itx, t("You left **{group}**.", group=discord.utils.escape_markdown(found.name)))
        await self.refresh_cards(found)
        await self.roles.follow(itx, found, itx.user.id, add=False)

    @app_commands.command(
        name="add-member", description="Add a member to a working group (its conveners, coordinators)"
    )
    @app_commands.autocomplete(group=ACTIVE_GROUPS)
    @app_commands.guild_only()
    async def add_member(self, itx: discord.Interaction, group: str, member: discord.Member) -> None:
        who = await actor(itx)
        found = await self.bot.groups.add_member(
            who, await self.bot.groups.resolve(who.guild_id, group), await target(itx, member)
        )
        await self._tell(
            itx,
            t("{member} is now a member of **{group}**.", member=member.mention,
              group=discord.utils.escape_markdown(found.name)),
        )  # fmt: skip
        await self.refresh_cards(found)
        if problem := await self.roles.follow(itx, found, member.id, add=True):
            await self._tell(itx, problem)

    @app_commands.command(
        name="remove-member", description="Remove a member from a working group (its conveners, coordinators)"
    )
    @app_commands.autocomplete(group=ALL_GROUPS)
    @app_commands.guild_only()
    async def remove_member(self, itx: discord.Interaction, group: str, member: discord.User) -> None:
        who = await actor(itx)
        found = await self.bot.groups.remove_member(
            who, await self.bot.groups.resolve(who.guild_id, group), await target(itx, member)
        )
        await self._tell(
            itx,
            t("{member} is no longer a member of **{group}**.", member=member.mention,
              group=discord.utils.escape_markdown(found.name)),
        )  # fmt: skip
        await self.refresh_cards(found)
        await self.roles.follow(itx, found, member.id, add=False)

    @app_commands.command(
        name="set-convener", description="Make a member a convener of a working group, or not"
    )
    @app_commands.describe(
        convener="True: make them a convener (and a member); False: take the convener role away"
    )
    @app_commands.autocomplete(group=ACTIVE_GROUPS)
    @app_commands.guild_only()
    async def set_convener(
        self, itx: discord.Interaction, group: str, member: discord.Member, convener: bool = True
    ) -> None:
        who = await actor(itx)
        found = await self.bot.groups.set_convener(
            who, await self.bot.groups.resolve(who.guild_id, group), await target(itx, member), convener
        )
        name = discord.utils.escape_markdown(found.name)
        await self._tell(
            itx,
            t("{member} is now a convener of **{group}**.", member=member.mention, group=name)
            if convener
            else t("{member} is no longer a convener of **{group}**.", member=member.mention, group=name),
        )
        await self.refresh_cards(found)
        if convener and (problem := await self.roles.follow(itx, found, member.id, add=True)):
            await self._tell(itx, problem)

    @app_commands.command(
        description="Archive a working group: it takes no new members or items (coordinators)"
    )
    @app_commands.autocomplete(group=ACTIVE_GROUPS)
    @app_commands.guild_only()
    async def archive(self, itx: discord.Interaction, group: str) -> None:
        who = await actor(itx)
        found = await self.bot.groups.archive(who, await self.bot.groups.resolve(who.guild_id, group))
        # in public, with the group's card: in the group's language, as its cards are
        lang = self.bot.languages.for_group(found)
        embed, _ = await self._card_message(found.guild_id, found.group_id, lang)
        text = t("**{group}** is archived.", group=discord.utils.escape_markdown(found.name))
        await reply(itx, text.render(lang), embed=embed)
        await self.refresh_cards(found)

    @app_commands.command(description="The language of a working group's public posts: its card, reminders")
    @app_commands.describe(group="The working group", language="A language, or the server's")
    @app_commands.choices(language=GROUP_LANGUAGES)
    @app_commands.autocomplete(group=ALL_GROUPS)
    @app_commands.guild_only()
    async def language(
        self, itx: discord.Interaction, group: str, language: app_commands.Choice[str]
    ) -> None:
        who = await actor(itx)
        found = await self.bot.languages.set_group_language(
            who, await self.bot.groups.resolve(who.guild_id, group), language.value
        )
        lang = self.bot.languages.for_group(found)
        name = discord.utils.escape_markdown(found.name)
        text = (
            t("The public posts of {group} (its card, reminders) are now in {language}.", group=name,
              language=LANGUAGE_NAMES[lang])
            if found.language
            else t("The public posts of {group} follow the server's language again ({language}).", group=name,
                   language=LANGUAGE_NAMES[lang])
        )  # fmt: skip
        await reply(itx, text.render(await reply_language(itx)))
        await self.refresh_cards(found)

    async def button(self, itx: discord.Interaction, action: str, group_id: int) -> None:
        """A Join or Leave click on a card: change membership, refresh the card, tell the clicker."""
        who = await actor(itx)
        card = await self.bot.groups.card_by_id(who.guild_id, group_id)  # refuses other servers' ids
        change = self.bot.groups.join if action == "join" else self.bot.groups.leave
        found = await change(who, card.group)
        # a public card stays in the group's language; the card of /wg info in the clicker's
        private = itx.message is not None and itx.message.flags.ephemeral
        embed, view = await self._card_message(
            found.guild_id, found.group_id, await reply_language(itx) if private else None
        )
        await itx.response.edit_message(embed=embed, view=view)
        name = discord.utils.escape_markdown(found.name)
        await self._tell(
            itx,
            t("You joined **{group}**.", group=name)
            if action == "join"
            else t("You left **{group}**.", group=name),
        )
        await self.refresh_cards(found)
        await self.roles.follow(itx, found, itx.user.id, add=action == "join")


async def setup(bot: Caucus) -> None:
    await bot.add_cog(WorkingGroupsCog(bot))
