"""Small helpers shared by the cogs: who is acting, how times look, autocomplete of groups."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from cogs.ui.boundary import guild_id_of
from domain.groups import Target
from domain.permissions import Actor
from domain.text import strip_controls

if TYPE_CHECKING:
    from bot.client import Caucus


def actor(itx: discord.Interaction) -> Actor:
    """The member acting, with the roles and permissions Discord sent on this interaction."""
    guild_id = guild_id_of(itx)
    user = itx.user
    roles = [r for r in getattr(user, "roles", []) if not r.is_default()]
    return Actor(
        guild_id=guild_id,
        user_id=user.id,
        display_name=strip_controls(user.display_name),  # a nickname is typed text too
        role_ids=frozenset(r.id for r in roles),
        role_names=frozenset(r.name for r in roles),
        manage_guild=itx.permissions.manage_guild or itx.permissions.administrator,
    )


def target(user: discord.abc.User) -> Target:
    """A member an action is about."""
    return Target(user.id, strip_controls(user.display_name), user.bot)


def when(unix: int | None) -> str:
    """A time as Discord shows it: in each member's own zone, with a relative hint."""
    if unix is None:
        return "—"
    return f"<t:{unix}:F> (<t:{unix}:R>)"


def clip(text: str, limit: int) -> str:
    """Text cut to a limit with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def group_autocomplete(*, include_archived: bool):  # type: ignore[no-untyped-def]
    """An autocomplete callback offering this server's groups whose names match what was typed."""

    async def complete(itx: discord.Interaction[Caucus], current: str) -> list[app_commands.Choice[str]]:
        if itx.guild_id is None:
            return []
        groups = await itx.client.groups.suggest(itx.guild_id, current, include_archived=include_archived)
        return [
            app_commands.Choice(
                name=clip(g.name + (" (archived)" if g.archived_at else ""), 100), value=g.name
            )
            for g in groups
        ]

    return complete
