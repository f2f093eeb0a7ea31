"""Which language the bot speaks to whom: a reply in the member's language, a public post in the working
group's or the server's. The translation itself is domain/i18n.py.

- A reply follows the member's own choice (``/language set``, stored: needed for Arabic, which Discord's
  clients do not offer), else the language of their Discord client (the interaction's locale) when Caucus
  ships it, else the server's language (``[i18n] language``).
- A public post (cards, reminders, closing posts, digests) follows its working group's language when it
  has one (``/wg language``), else the server's.
"""

from __future__ import annotations

from domain.clock import Clock, to_unix
from domain.errors import Invalid, NotAllowed
from domain.groups import Group, WorkingGroups
from domain.i18n import LANGUAGE_NAMES, LANGUAGES, language_of, t
from domain.permissions import Actor
from storage import groups as group_rows
from storage import languages as language_rows
from storage import servers as server_rows
from storage.db import Database

__all__ = ["Languages", "clean_language"]


def clean_language(code: str | None) -> str | None:
    """A shipped language code (``en``, ``fr``, ``es``, ``pt``, ``ar``), or None for "none chosen"."""
    if code is None or not code.strip() or code.strip().lower() in ("auto", "discord", "default"):
        return None
    cleaned = code.strip().lower().replace("_", "-")
    cleaned = {"pt-br": "pt", "es-es": "es", "es-419": "es", "en-us": "en", "en-gb": "en"}.get(
        cleaned, cleaned
    )
    if cleaned not in LANGUAGES:
        raise Invalid(
            t("“{code}” is not a language Caucus speaks: en, fr, es, pt or ar.", code=code.strip()[:20])
        )
    return cleaned


class Languages:
    """Members' own language choices (cached per server: every interaction asks), groups' languages."""

    def __init__(self, db: Database, clock: Clock, groups: WorkingGroups, server_language: str) -> None:
        self.db = db
        self.clock = clock
        self.groups = groups
        self.server_language = server_language if server_language in LANGUAGES else "en"
        self._choices: dict[int, dict[int, str]] = {}

    async def choice_of(self, guild_id: int, user_id: int) -> str | None:
        """A member's own choice (by record id), or None."""
        if guild_id not in self._choices:
            self._choices[guild_id] = await language_rows.member_choices(self.db, guild_id)
        return self._choices[guild_id].get(user_id)

    async def for_reply(self, guild_id: int | None, user_id: int, discord_locale: str | None) -> str:
        """The language of a reply to this member (record id) from their client in ``discord_locale``."""
        choice = None if guild_id is None else await self.choice_of(guild_id, user_id)
        return language_of(choice, discord_locale, self.server_language)

    def for_group(self, group: Group | None) -> str:
        """The language of a public post about ``group`` (or about none: the server's)."""
        if group is not None and group.language in LANGUAGES:
            return group.language
        return self.server_language

    async def set_choice(self, actor: Actor, code: str | None) -> str | None:
        """The member's own language for replies (None: back to their Discord language)."""
        language = clean_language(code)
        now = to_unix(self.clock.now())
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            await server_rows.ensure_guild(conn, actor.guild_id, now)
            await language_rows.set_member_choice(conn, actor.guild_id, actor.user_id, language, now)
        self.forget(actor.guild_id)
        return language

    async def set_group_language(self, actor: Actor, group: Group, code: str | None) -> Group:
        """A working group's language for its public posts (its conveners, coordinators)."""
        language = clean_language(code)
        if not await self.groups.can_manage(actor, group):
            raise NotAllowed(
                t("Only conveners of {group} or coordinators can set its language.", group=group.name)
            )
        async with self.db.transaction(guild_id=group.guild_id) as conn:
            await language_rows.set_group_language(conn, group.group_id, language)
            fresh = await group_rows.get_group(conn, group.guild_id, group.group_id)
        return fresh or group

    def forget(self, guild_id: int) -> None:
        """Drop a server's cached choices (after a change, an erasure or a purge)."""
        self._choices.pop(guild_id, None)

    @staticmethod
    def name_of(code: str) -> str:
        """A language named in its own words."""
        return LANGUAGE_NAMES.get(code, code)
