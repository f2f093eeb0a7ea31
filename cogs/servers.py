"""Keeps the record of servers and members in step with what Discord tells the bot."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from domain import servers

if TYPE_CHECKING:
    from bot.client import Caucus

log = logging.getLogger(__name__)

PURGE_EVERY = timedelta(hours=6)


class Servers(commands.Cog):
    def __init__(self, bot: Caucus) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.scheduler.every("servers:purge", PURGE_EVERY, self.purge)

    async def purge(self) -> None:
        """Delete the data of servers the bot left more than [storage] purge_after_days ago (on its shards)."""
        days = self.bot.config.storage.purge_after_days
        for guild_id in await self.bot.privacy.purge_removed_servers(
            timedelta(days=days), self.bot.held_shards
        ):
            log.info("purged the data of server %d (removed more than %d days ago)", guild_id, days)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        await self.purge()

    async def _joined(self, guild: discord.Guild) -> None:
        # under the ids the record keeps: an anonymised member's name is never written back
        people = [m for m in guild.members if not m.bot]
        ids = await self.bot.members.record_ids(guild.id, [m.id for m in people])
        members = [(record_id, m.display_name) for record_id, m in zip(ids, people, strict=True)]
        await servers.server_joined(self.bot.db, self.bot.clock, guild.id, guild.name, members)
        log.info("server %d available with %d members", guild.id, len(members))

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        await self._joined(guild)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._joined(guild)
        self.bot.warn_missing_roles(guild)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await servers.server_left(self.bot.db, self.bot.clock, guild.id)
        log.info("removed from server %d", guild.id)

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        if not member.bot:
            record_id = await self.bot.members.record_id(member.guild.id, member.id)
            await servers.member_seen(
                self.bot.db, self.bot.clock, member.guild.id, record_id, member.display_name
            )

    @commands.Cog.listener()
    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        if not after.bot and before.display_name != after.display_name:
            record_id = await self.bot.members.record_id(after.guild.id, after.id)
            await servers.member_seen(
                self.bot.db, self.bot.clock, after.guild.id, record_id, after.display_name
            )

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        if payload.user.bot:
            return
        record_id = await self.bot.members.record_id(payload.guild_id, payload.user.id)
        await servers.member_left(self.bot.db, self.bot.clock, payload.guild_id, record_id)


async def setup(bot: Caucus) -> None:
    await bot.add_cog(Servers(bot))
