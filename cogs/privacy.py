"""/privacy: see what the bot holds about you, and be anonymised (with a confirmation first)."""

from __future__ import annotations

import io
import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.ui.boundary import Routed, guarded, reply, reply_language
from cogs.ui.common import actor
from domain.errors import NotAllowed
from domain.i18n import t, tn

if TYPE_CHECKING:
    from bot.client import Caucus

log = logging.getLogger(__name__)

ERASE_WARNING = t(
    "This anonymises you in this server: your name is removed from every point, position, objection, poll "
    "ballot and session; your positions and ballots still count, under an anonymous id; you leave your "
    "working groups and reminder lists, and stop representing your organisation (the organisation and its "
    "record stay). What you do here afterwards is recorded under the same anonymous id, never under your "
    "name. It cannot be undone. Press **Anonymise me** to go ahead."
)


class EraseButton(
    Routed,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"privacy:erase:v1:(?P<user_id>[0-9]{1,20})",
):
    """The confirmation of /privacy delete; only the member who asked can press it."""

    def __init__(self, user_id: int, lang: str = "en") -> None:
        super().__init__(discord.ui.Button(label=t("Anonymise me").render(lang), style=discord.ButtonStyle.danger,
                                           custom_id=f"privacy:erase:v1:{user_id}"))  # fmt: skip
        self.user_id = user_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> EraseButton:
        return cls(int(match["user_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(interaction, self.handle(interaction, self.user_id))


class PrivacyCog(commands.GroupCog, group_name="privacy", group_description="Your data in Caucus"):
    def __init__(self, bot: Caucus) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(EraseButton.route(self.erase))

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(EraseButton.unroute())

    @app_commands.command(description="A file of everything Caucus holds about you in this server")
    @app_commands.guild_only()
    async def export(self, itx: discord.Interaction) -> None:
        who = await actor(itx)
        await itx.response.defer(ephemeral=True, thinking=True)
        lang = await reply_language(itx)
        note = {"anonymous_poll_ballots": t("Ballots in anonymous polls are stored under a keyed hash, never under "
                                            "your id; only the bot, with its key, can find yours to let you change "
                                            "it.").render(lang)}  # fmt: skip
        data = await self.bot.privacy.export(who, note, lang=lang)
        file = discord.File(io.BytesIO(data), filename=f"caucus-my-data-{who.guild_id}.json")
        await reply(
            itx,
            t("Everything Caucus holds about you in this server:").render(lang),
            file=file,
            ephemeral=True,
        )

    @app_commands.command(description="Anonymise me: my positions and ballots still count, my name is gone")
    @app_commands.guild_only()
    async def delete(self, itx: discord.Interaction) -> None:
        lang = await reply_language(itx)
        view = discord.ui.View(timeout=None)
        view.add_item(EraseButton(itx.user.id, lang))  # the Discord id: also for a member anonymised before
        await reply(itx, ERASE_WARNING.render(lang), view=view, ephemeral=True)

    async def erase(self, itx: discord.Interaction, user_id: int) -> None:
        if itx.user.id != user_id:
            raise NotAllowed(t("Only the member who asked can confirm their own anonymisation."))
        who = await actor(itx)
        lang = await reply_language(itx)  # before: once anonymised, the choice is kept under the pseudonym
        done = await self.bot.privacy.erase(who)
        log.info("member anonymised in server %d (%d records)", who.guild_id, done.records_changed)
        said = tn(
            "Done: you are anonymised in this server ({n} record changed).",
            "Done: you are anonymised in this server ({n} records changed).",
            done.records_changed,
        )
        await itx.response.edit_message(content=said.render(lang), view=None)


async def setup(bot: Caucus) -> None:
    await bot.add_cog(PrivacyCog(bot))
