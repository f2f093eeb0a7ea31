"""Small helpers shared by the cogs: who is acting, how times look, autocomplete of groups."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from cogs.ui.boundary import guild_id_of, reply_language
from cogs.ui.limits import clip as clip  # the one definition, with the other limits
from domain.groups import Target, group_ref
from domain.i18n import t
from domain.members import HeldRole
from domain.permissions import Actor

if TYPE_CHECKING:
    from bot.client import Caucus


async def actor(itx: discord.Interaction) -> Actor:
    """The member acting, as the record knows them (their pseudonym once anonymised), with the roles and
    permissions Discord sent on this interaction; the roles that grant nothing are told apart in the domain."""
    guild_id = guild_id_of(itx)
    user = itx.user
    roles = [HeldRole(r.id, r.name, r.managed) for r in getattr(user, "roles", []) if not r.is_default()]
    bot: Caucus = itx.client  # type: ignore[assignment]
    return await bot.members.actor(
        guild_id, user.id, user.display_name, roles,
        manage_guild=itx.permissions.manage_guild or itx.permissions.administrator,
    )  # fmt: skip


async def target(itx: discord.Interaction, user: discord.abc.User) -> Target:
    """A member an action is about, as the record knows them."""
    bot: Caucus = itx.client  # type: ignore[assignment]
    return await bot.members.target(guild_id_of(itx), user.id, user.display_name, is_bot=user.bot)


async def reachable(bot: Caucus, guild_id: int, record_ids: Iterable[int]) -> list[int]:
    """Discord ids to mention or message for these record ids: current members only, pseudonyms matched
    to the member they belong to (each current member's pseudonym is computed, it is cheap)."""
    guild = bot.get_guild(guild_id)
    present = [m.id for m in guild.members] if guild is not None and guild.chunked else None
    return await bot.members.reach(guild_id, record_ids, present)


def mention(record_id: int, lang: str = "en") -> str:
    """How a member the record names is shown: their mention, or "a former member" (in ``lang``) once
    anonymised (a pseudonym is no Discord id; mentions never ping here, see NO_PINGS)."""
    return f"<@{record_id}>" if record_id > 0 else t("a former member").render(lang)


def when(unix: int | None) -> str:
    """A time as Discord shows it: in each member's own zone, with a relative hint."""
    if unix is None:
        return "—"
    return f"<t:{unix}:F> (<t:{unix}:R>)"


def group_autocomplete(*, include_archived: bool):  # type: ignore[no-untyped-def]
    """An autocomplete callback offering this server's groups whose names match what was typed."""

    async def complete(itx: discord.Interaction[Caucus], current: str) -> list[app_commands.Choice[str]]:
        if itx.guild_id is None:
            return []
        groups = await itx.client.groups.suggest(itx.guild_id, current, include_archived=include_archived)
        lang = await reply_language(itx) if any(g.archived_at for g in groups) else "en"
        # the value is the group's id form (#<id>), which no group name can have: the command finds
        # exactly the group chosen, even one named like another's id before names were checked
        return [
            app_commands.Choice(
                name=clip(
                    t("{group} (archived)", group=g.name).render(lang) if g.archived_at else g.name, 100
                ),
                value=group_ref(g),
            )
            for g in groups
        ]

    return complete
