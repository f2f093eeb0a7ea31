"""/about: what this bot is, how long it has run, and what it holds for this server."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from cogs.ui.boundary import guild_id_of, reply, reply_language
from domain import servers
from domain.i18n import Text, t

if TYPE_CHECKING:
    from bot.client import Caucus


def _uptime(seconds: float) -> Text:
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return t("{days}d {hours}h {minutes}m", days=days, hours=hours, minutes=minutes)
    if hours:
        return t("{hours}h {minutes}m", hours=hours, minutes=minutes)
    return t("{minutes}m", minutes=minutes) if minutes else t("{seconds}s", seconds=int(seconds))


class About(commands.Cog):
    def __init__(self, bot: Caucus) -> None:
        self.bot = bot

    @app_commands.command(name="about", description="Version, uptime, and what Caucus holds for this server")
    @app_commands.guild_only()
    async def about(self, itx: discord.Interaction) -> None:
        held = await servers.holdings(self.bot.db, guild_id_of(itx))
        lang = await reply_language(itx)
        embed = discord.Embed(
            title=f"Caucus {__version__}",
            description=t("Proposes, records and publishes a coalition's consensus.").render(lang),
        )
        embed.add_field(
            name=t("Uptime").render(lang),
            value=_uptime(time.monotonic() - self.bot.started_monotonic).render(lang),
        )
        embed.add_field(
            name=t("Held for this server").render(lang),
            value="\n".join(reads.render(lang) for reads, _ in held.counts) or t("nothing yet").render(lang),
            inline=False,
        )
        embed.add_field(
            name=t("Data").render(lang),
            value=(
                t(
                    "PostgreSQL database (schema v{version_number}); its key files beside {path}",
                    path=f"`{self.bot.db.path}`", version_number=held.schema_version,
                )
                if self.bot.db.engine == "postgresql"
                else t(
                    "SQLite file {path} (schema v{version_number})",
                    path=f"`{self.bot.db.path}`", version_number=held.schema_version,
                )
            ).render(lang),
            inline=False,
        )  # fmt: skip
        await reply(itx, embed=embed, ephemeral=True)


async def setup(bot: Caucus) -> None:
    await bot.add_cog(About(bot))
