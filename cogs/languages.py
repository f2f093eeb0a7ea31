"""/language: the language of the bot's replies to me; and the translator of command descriptions.

Command and option names stay English (the coalition's own documentation works in every language);
descriptions and choice names are translated for Discord's locales Caucus speaks (fr, es-ES, es-419,
pt-BR). Arabic, which Discord's clients do not offer, is a member's choice (/language set ar) or the
server's language.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where
from discord.ext import commands

from cogs.ui.boundary import reply, reply_language
from cogs.ui.common import actor
from domain.i18n import DISCORD_LOCALES, LANGUAGE_NAMES, catalogue, t

if TYPE_CHECKING:
    from bot.client import Caucus

log = logging.getLogger(__name__)

#: Where a string of the command tree is a name (never translated) rather than a description.
NAMES = (Where.command_name, Where.group_name, Where.parameter_name)
CHOICES = [app_commands.Choice(name=name, value=code) for code, name in LANGUAGE_NAMES.items()] + [
    app_commands.Choice(name="My Discord language", value="auto")
]


class CommandTranslator(app_commands.Translator):
    """Descriptions and choice names from the catalogues; names stay English."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if context.location in NAMES:
            return None
        lang = DISCORD_LOCALES.get(locale.value)
        if lang is None or lang == "en":
            return None
        translated = catalogue(lang).gettext(string.message)
        return None if translated == string.message else translated


class LanguagesCog(
    commands.GroupCog, group_name="language", group_description="The language Caucus speaks to you"
):
    def __init__(self, bot: Caucus) -> None:
        self.bot = bot

    @app_commands.command(
        name="set", description="The language of the bot's replies to you, or back to your Discord language"
    )
    @app_commands.describe(language="English, French, Spanish, Portuguese, Arabic, or your Discord language")
    @app_commands.choices(language=CHOICES)
    @app_commands.guild_only()
    async def set_(self, itx: discord.Interaction, language: app_commands.Choice[str]) -> None:
        who = await actor(itx)
        chosen = await self.bot.languages.set_choice(who, language.value)
        lang = await reply_language(itx)
        if chosen is None:
            text = t(
                "Done: I answer you in your Discord language again ({language}).",
                language=LANGUAGE_NAMES[lang],
            )
        else:
            text = t("Done: I answer you in {language} from now on.", language=LANGUAGE_NAMES[chosen])
        await reply(itx, text.render(lang), ephemeral=True)
        log.info("language choice set in server %d", who.guild_id)


async def setup(bot: Caucus) -> None:
    await bot.tree.set_translator(CommandTranslator())
    await bot.add_cog(LanguagesCog(bot))
