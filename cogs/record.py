"""/record: signed checkpoints of the decision record, posted where anyone can keep them, and how to verify."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.ui.boundary import NO_PINGS, guild_id_of, reply, reply_language
from cogs.ui.common import actor, when
from domain.i18n import Text, render, t, tn
from domain.posts import SENT, SKIPPED, Post
from domain.record import DAILY, Checkpoint, LogTampered

if TYPE_CHECKING:
    from bot.client import Caucus

log = logging.getLogger(__name__)


def how_to_verify(key: str) -> Text:
    """How anyone checks a checkpoint offline, with this server's verifier key."""
    return t(
        "Keep a checkpoint's file (or an export's JSON) and check it, offline, with\n"
        "`caucus verify FILE --public-key {key}`\n"
        "Add `--since OLDER_FILE` to check that the record only grew since an older checkpoint.",
        key=key,
    )


def checkpoint_file(checkpoint: Checkpoint) -> discord.File:
    """The signed note as a file ``caucus verify`` reads as it is."""
    name = f"caucus-checkpoint-{checkpoint.guild_id}-{checkpoint.tree_size}.txt"
    return discord.File(io.BytesIO(checkpoint.note.encode("utf-8")), filename=name)


def checkpoint_message(
    checkpoint: Checkpoint, verifier_key: str, *, reason: str | Text, lang: str = "en"
) -> str:
    """The post of a checkpoint, in ``lang``: what it covers, the signed note itself, how to verify it."""
    size = checkpoint.tree_size
    if checkpoint.new:
        head = tn(
            "**Decision record checkpoint** · {n} entry · {reason}",
            "**Decision record checkpoint** · {n} entries · {reason}",
            size, reason=reason,
        )  # fmt: skip
    else:
        head = tn(
            "**Decision record checkpoint** · {n} entry · {reason} (the record has not grown since it was signed)",
            "**Decision record checkpoint** · {n} entries · {reason} (the record has not grown since it was signed)",
            size, reason=reason,
        )  # fmt: skip
    signed = t("Signed {when}", when=when(checkpoint.created_at))
    return f"{head.render(lang)}\n{signed.render(lang)}\n```\n{checkpoint.note}```\n" + how_to_verify(
        verifier_key
    ).render(lang)


def alert_message(error: LogTampered, lang: str = "en") -> str:
    """What coordinators read in the record channel when the bot refused to sign, in ``lang``."""
    found = error.integrity
    head = t(
        "⚠️ **The decision record failed its check** (`{check}`), so no checkpoint was signed.",
        check=found.check,
    ).render(lang)
    if found.index is not None:
        head += " " + t("First entry concerned: {entry_number}.", entry_number=found.index).render(lang)
    problem = render(found.text, lang)
    advice = t(
        "Coordinators: restore the database and its key files from a backup, or ask whoever runs the bot what "
        "changed. Checkpoints already published stay valid; nothing new is signed until the record matches them."
    ).render(lang)
    return f"{head}\n{problem[:1].upper()}{problem[1:]}\n{advice}"


class RecordCog(
    commands.GroupCog, group_name="record", group_description="The decision record anyone can verify"
):
    def __init__(self, bot: Caucus) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.posts.handle(DAILY, self.send_daily)

    def record_channel(self, guild_id: int) -> int | None:
        """The configured record channel, if it belongs to this server."""
        channel_id = self.bot.config.record.channel
        channel = self.bot.get_channel(channel_id) if channel_id else None
        guild = getattr(channel, "guild", None)
        return channel_id if guild is not None and guild.id == guild_id else None

    async def alert(self, guild_id: int, error: LogTampered) -> None:
        """Tell coordinators in the record channel that the bot refused to sign, and which check failed."""
        log.error(
            "decision record of server %d failed its check (%s, entry %s): not signing",
            guild_id, error.integrity.check, error.integrity.index,
        )  # fmt: skip
        channel_id = self.record_channel(guild_id)
        if channel_id is not None:
            await self.bot.get_partial_messageable(channel_id).send(
                alert_message(error, self.bot.languages.for_group(None)), allowed_mentions=NO_PINGS
            )

    async def publish(self, guild_id: int, *, reason: str | Text) -> Checkpoint | None:
        """Sign a checkpoint of a server's record and post it in the record channel (stored only if none).

        What the statements feature calls when a statement closes; None when the record failed its check
        (coordinators were told) or is empty.
        """
        try:
            checkpoint = await self.bot.record.checkpoint(guild_id)
        except LogTampered as exc:
            await self.alert(guild_id, exc)
            return None
        await self._post(checkpoint, reason=reason)
        return checkpoint

    async def _post(self, checkpoint: Checkpoint, *, reason: str | Text) -> None:
        """Post a checkpoint in the record channel (if this server has one) and remember the message."""
        channel_id = self.record_channel(checkpoint.guild_id)
        if channel_id is None:
            return
        key, lang = self.bot.record.verifier_key(checkpoint.guild_id), self.bot.languages.for_group(None)
        message = await self.bot.get_partial_messageable(channel_id).send(
            checkpoint_message(checkpoint, key, reason=reason, lang=lang),
            file=checkpoint_file(checkpoint), allowed_mentions=NO_PINGS,
        )  # fmt: skip
        await self.bot.record.posted(checkpoint, channel_id, message.id)

    # -- commands --------------------------------------------------------------------------------

    @app_commands.command(description="Sign a checkpoint of the decision record now and post it")
    @app_commands.guild_only()
    async def checkpoint(self, itx: discord.Interaction) -> None:
        guild_id = self.bot.record.authorise(await actor(itx))
        # in the record channel if this server has one, else publicly here
        channel_id = self.record_channel(guild_id) or itx.channel_id
        assert channel_id is not None
        # signing rechecks the whole record: acknowledge first, privately (a refusal stays private too)
        await itx.response.defer(ephemeral=True, thinking=True)
        try:
            checkpoint = await self.bot.record.checkpoint(guild_id)
        except LogTampered as exc:
            await self.alert(guild_id, exc)
            raise
        text = checkpoint_message(
            checkpoint, self.bot.record.verifier_key(guild_id), reason=t("asked by a coordinator"),
            lang=self.bot.languages.for_group(None),
        )  # fmt: skip
        posted = await self.bot.get_partial_messageable(channel_id).send(
            text, file=checkpoint_file(checkpoint), allowed_mentions=NO_PINGS
        )
        await self.bot.record.posted(checkpoint, channel_id, posted.id)
        done = tn(
            "Checkpoint of {n} entry posted in {channel}.",
            "Checkpoint of {n} entries posted in {channel}.",
            checkpoint.tree_size, channel=f"<#{channel_id}>",
        )  # fmt: skip
        await reply(itx, done.render(await reply_language(itx)), ephemeral=True)

    @app_commands.command(description="The latest checkpoint of the decision record, and how to verify it")
    @app_commands.guild_only()
    async def show(self, itx: discord.Interaction) -> None:
        guild_id = guild_id_of(itx)
        status = await self.bot.record.status(guild_id)
        lang = await reply_language(itx)
        embed = discord.Embed(
            title=t("Decision record").render(lang),
            description=t(
                "Every decision is appended to a log that cannot be changed without it showing: each entry is "
                "hashed into a Merkle tree (RFC 6962), and checkpoints of the tree are signed (Ed25519). "
                "No member's name or id is in it."
            ).render(lang),
        )
        embed.add_field(name=t("Entries").render(lang), value=str(status.entries))
        latest = status.latest
        if latest is None:
            embed.add_field(
                name=t("Latest checkpoint").render(lang),
                value=t("none yet (a coordinator can post one with /record checkpoint)").render(lang),
                inline=False,
            )
        else:
            lines = [
                tn("{n} entry, signed {when}", "{n} entries, signed {when}", latest.tree_size,
                   when=when(latest.created_at)),
                t("root {root}", root=f"`{latest.root_b64}`"),
            ]  # fmt: skip
            if latest.channel_id and latest.message_id:
                url = f"https://discord.com/channels/{guild_id}/{latest.channel_id}/{latest.message_id}"
                lines.append(t("[the post]({url})", url=url))
            embed.add_field(
                name=t("Latest checkpoint").render(lang),
                value="\n".join(line.render(lang) for line in lines),
                inline=False,
            )
            embed.add_field(name=t("Checkpoint").render(lang), value=f"```\n{latest.note}```", inline=False)
        embed.add_field(name=t("Public key").render(lang), value=f"`{status.verifier_key}`", inline=False)
        embed.add_field(
            name=t("How to verify").render(lang),
            value=how_to_verify(status.verifier_key).render(lang),
            inline=False,
        )
        await reply(itx, embed=embed, ephemeral=True)

    # -- the daily checkpoint --------------------------------------------------------------------

    async def plan_daily(self) -> None:
        """Plan the next daily checkpoint of the record channel's server, if a channel is configured."""
        cfg = self.bot.config.record
        if not cfg.channel or not cfg.daily_time:
            return
        guild = getattr(self.bot.get_channel(cfg.channel), "guild", None)
        if guild is None:
            log.warning("[record] channel %d is not a channel the bot can see", cfg.channel)
            return
        await self.bot.record.plan_daily(guild.id, cfg.daily_time)
        await self.bot.posts.refill()

    async def send_daily(self, post: Post) -> str:
        """The day's checkpoint, posted when the record grew since the last one."""
        try:
            try:
                checkpoint = await self.bot.record.daily(post)
            except LogTampered as exc:
                await self.alert(post.guild_id, exc)
                return SENT
            if checkpoint is None:
                return SKIPPED
            await self._post(checkpoint, reason=t("daily"))
            return SENT
        finally:
            await self.plan_daily()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        await self.plan_daily()


async def setup(bot: Caucus) -> None:
    await bot.add_cog(RecordCog(bot))
