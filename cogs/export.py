"""/export summary: what the coalition agreed, as a file (Markdown, HTML, CSV or JSON)."""

from __future__ import annotations

import io
import logging
import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.ui.boundary import reply, reply_language
from cogs.ui.common import actor, group_autocomplete
from domain.i18n import LANGUAGE_NAMES, t
from domain.render import render

if TYPE_CHECKING:
    from bot.client import Caucus

log = logging.getLogger(__name__)

FORMATS = [
    app_commands.Choice(name="Markdown (paste into a document or e-mail)", value="md"),
    app_commands.Choice(name="HTML (one printable page)", value="html"),
    app_commands.Choice(name="CSV (spreadsheets)", value="csv"),
    app_commands.Choice(name="JSON (tools)", value="json"),
]
#: The language of the file (its Markdown and HTML; CSV and JSON are data): each named in its own words.
LANGUAGES = [app_commands.Choice(name=name, value=code) for code, name in LANGUAGE_NAMES.items()]
# each choice written out, so the extractor finds its name for the command translator
STATUSES = [
    app_commands.Choice(name="decided (any outcome)", value="decided"),
    app_commands.Choice(name="consensus", value="consensus"),
    app_commands.Choice(name="rough consensus", value="rough_consensus"),
    app_commands.Choice(name="no consensus", value="no_consensus"),
    app_commands.Choice(name="withdrawn", value="withdrawn"),
    app_commands.Choice(name="open", value="open"),
    app_commands.Choice(name="answered", value="answered"),
    app_commands.Choice(name="dropped", value="dropped"),
]


def export_filename(server: str, day: str, group: str | None) -> str:
    """A file name safe on every system: caucus-summary-<server>[-<group>]-<date>."""
    parts = ["caucus-summary", server] + ([group] if group else []) + [day]
    slug = "-".join(re.sub(r"[^a-z0-9]+", "-", p.lower()).strip("-") or "x" for p in parts)
    return slug[:120]


class ExportCog(commands.GroupCog, group_name="export", group_description="Export what the coalition agreed"):
    def __init__(self, bot: Caucus) -> None:
        self.bot = bot

    @app_commands.command(description="The summary of points, questions, polls and sessions as a file")
    @app_commands.describe(
        group="Only this working group", format="File format (default Markdown)", status="Only items with this status",
        public="Post the file in the channel for everyone (default: only you see it)",
        language="The file's language (default: the group's when one is asked for, else the server's)",
    )  # fmt: skip
    @app_commands.choices(format=FORMATS, status=STATUSES, language=LANGUAGES)
    @app_commands.autocomplete(group=group_autocomplete(include_archived=True))
    @app_commands.guild_only()
    async def summary(
        self, itx: discord.Interaction, group: str | None = None, format: app_commands.Choice[str] | None = None,
        status: app_commands.Choice[str] | None = None, public: bool = False,
        language: app_commands.Choice[str] | None = None,
    ) -> None:  # fmt: skip
        who = await actor(itx)
        request = await self.bot.summaries.request(who, group=group, status=status.value if status else None)
        await itx.response.defer(ephemeral=not public, thinking=True)
        summary = await self.bot.summaries.build(request)
        names = summary.names_included
        fmt = format.value if format else "md"
        base = export_filename(summary.server_name, summary.exported_on, summary.group_filter)
        # the file: in the language asked for, else the group's (the server's for every group)
        written = language.value if language else self.bot.languages.for_group(request.group)
        files = [
            discord.File(io.BytesIO(data), filename=base + suffix)
            for suffix, data in render(summary, fmt, written)
        ]
        # posted for everyone: the group's language (the server's when for every group); else the member's
        lang = self.bot.languages.for_group(request.group) if public else await reply_language(itx)
        server = discord.utils.escape_markdown(summary.server_name)
        said = (
            t("Summary of {server}.", server=server)
            if names
            else t(
                "Summary of {server}. Positions appear as tallies: names are for coordinators and the group's "
                "conveners.",
                server=server,
            )
        )
        await reply(itx, said.render(lang), files=files, ephemeral=not public)
        log.info("summary export (%s) in server %d by %d, names=%s", fmt, who.guild_id, who.user_id, names)


async def setup(bot: Caucus) -> None:
    await bot.add_cog(ExportCog(bot))
