"""/about: what this bot is, how long it has run, and what it holds for this server."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from cogs.ui.boundary import guild_id_of, reply
from domain import servers

if TYPE_CHECKING:
    from bot.client import Caucus


def _uptime(seconds: float) -> str:
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else f"{int(seconds)}s"


class About(commands.Cog):
    def __init__(self, bot: Caucus) -> None:
        self.bot = bot

    @app_commands.command(name="about", description="Version, uptime, and what Caucus holds for this server")
    @app_commands.guild_only()
    async def about(self, itx: discord.Interaction) -> None:
        held = await servers.holdings(self.bot.db, guild_id_of(itx))
        embed = discord.Embed(
            title=f"Caucus {__version__}",
            description="Proposes, records and publishes a coalition's consensus.",
        )
        embed.add_field(name="Uptime", value=_uptime(time.monotonic() - self.bot.started_monotonic))
        embed.add_field(
            name="Held for this server",
            value="\n".join(f"{count} {label}" for label, count in held.counts) or "nothing yet",
            inline=False,
        )
        embed.add_field(
            name="Data",
            value=f"SQLite file `{self.bot.db.path}` (schema v{held.schema_version})",
            inline=False,
        )
        await reply(itx, embed=embed, ephemeral=True)


async def setup(bot: Caucus) -> None:
    await bot.add_cog(About(bot))
