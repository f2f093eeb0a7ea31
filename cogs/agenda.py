"""/agenda: sessions with reminders that arrive once, imports, calendar files, the daily digest."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.ui.agenda import (
    AgendaButton,
    confirm_view,
    imported_pages,
    listing,
    long_date,
    preview_pages,
    reminder_view,
    reminder_view_key,
    session_embed,
    session_view,
)
from cogs.ui.boundary import NO_PINGS, guild_id_of, reply, reply_language
from cogs.ui.common import actor, clip, group_autocomplete, reachable
from cogs.ui.limits import Destination, Part, deliver, mention_parts, send_all, send_pages
from domain.agenda import DIGEST, REMINDER, START, Session, SessionReminder, SessionSpec
from domain.calendar import calendar_bytes
from domain.errors import Invalid
from domain.i18n import Text, t, tn
from domain.posts import Post
from domain.timetable import check_size

if TYPE_CHECKING:
    from bot.client import Caucus

log = logging.getLogger(__name__)

ALL_GROUPS = group_autocomplete(include_archived=True)
ACTIVE_GROUPS = group_autocomplete(include_archived=False)
REPEATS = [
    app_commands.Choice(name="does not repeat", value=0),
    app_commands.Choice(name="every day", value=1),
    app_commands.Choice(name="every week", value=7),
    app_commands.Choice(name="every two weeks", value=14),
]


async def session_autocomplete(
    itx: discord.Interaction[Caucus], current: str
) -> list[app_commands.Choice[str]]:
    if itx.guild_id is None:
        return []
    found = await itx.client.agenda.suggest(itx.guild_id, current)
    return [app_commands.Choice(name=clip(f"#{s.number} · {s.title} · {s.start_local[:16]}", 100), value=str(s.number))
            for s in found]  # fmt: skip


class AgendaCog(commands.GroupCog, group_name="agenda", group_description="The coalition's timed agenda"):
    def __init__(self, bot: Caucus) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(AgendaButton.route(self.button))
        self.bot.posts.handle(REMINDER, self.send_reminder)
        self.bot.posts.handle(START, self.send_reminder)
        self.bot.posts.handle(DIGEST, self.send_digest)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(AgendaButton.unroute())

    async def _card(self, session: Session, lang: str | None = None) -> tuple[discord.Embed, discord.ui.View]:
        """The session's card and buttons in ``lang`` (None: its group's language, for a public card)."""
        group = await self.bot.agenda.group_of(session)
        occ = await self.bot.agenda.next_occurrence(session)
        lang = lang or self.bot.languages.for_group(group)
        embed = session_embed(session, occ, group.name if group else None, lang=lang)
        return embed, session_view(session, lang=lang)

    async def _public_language(self, session: Session) -> str:
        """The language of a public post about the session: its group's, else the server's."""
        return self.bot.languages.for_group(await self.bot.agenda.group_of(session))

    def _server_language(self) -> str:
        """The language of what belongs to no group (the digest, calendar files): the server's."""
        return self.bot.languages.for_group(None)

    # -- commands --------------------------------------------------------------------------------

    @app_commands.command(description="Add a session to the agenda, with reminders")
    @app_commands.describe(
        title="What the session is", start="YYYY-MM-DD HH:MM in the server's time zone (or the zone option)",
        end="HH:MM or YYYY-MM-DD HH:MM", duration="Instead of end: 90m, 2h", zone="IANA zone, e.g. America/Sao_Paulo",
        group="The working group it belongs to", channel="Where reminders go (default: the group's home channel)",
        moderators="Who moderates", note_taker="Who takes notes", location="Room or link", notes="Anything else",
        repeat="Repeat the session", every_days="Repeat every N days (overrides repeat)",
        until="Last date of a repetition, YYYY-MM-DD", reminders="When to remind before the start, e.g. 1d,1h,10m (none: only at the start)",
    )  # fmt: skip
    @app_commands.choices(repeat=REPEATS)
    @app_commands.autocomplete(group=ACTIVE_GROUPS)
    @app_commands.guild_only()
    async def add(
        self, itx: discord.Interaction, title: app_commands.Range[str, 1, 200], start: str,
        end: str | None = None, duration: str | None = None, zone: str | None = None, group: str | None = None,
        channel: discord.TextChannel | None = None, moderators: app_commands.Range[str, 0, 300] | None = None,
        note_taker: app_commands.Range[str, 0, 100] | None = None, location: app_commands.Range[str, 0, 300] | None = None,
        notes: app_commands.Range[str, 0, 1000] | None = None, repeat: app_commands.Choice[int] | None = None,
        every_days: app_commands.Range[int, 1, 365] | None = None, until: str | None = None, reminders: str | None = None,
    ) -> None:  # fmt: skip
        spec = SessionSpec(
            title=title, start=start, end=end, duration=duration, zone=zone, group=group,
            channel_id=channel.id if channel else None, moderators=moderators, note_taker=note_taker,
            location=location, notes=notes, every_days=every_days or (repeat.value if repeat else None) or None,
            until=until, reminders=reminders,
        )  # fmt: skip
        fallback = self.bot.config.agenda.default_channel or itx.channel_id
        session = await self.bot.agenda.add(await actor(itx), spec, fallback_channel_id=fallback)
        await self.bot.posts.refill()
        lang = await self._public_language(session)  # a public card
        embed, view = await self._card(session, lang)
        text = t("Added to the agenda by {member}.", member=itx.user.mention)
        await reply(itx, text.render(lang), embed=embed, view=view)
        await self._mirror(itx.guild, session)
        log.info("session %d added in server %d", session.session_id, session.guild_id)

    @app_commands.command(name="list", description="Sessions today, on a day, or upcoming")
    @app_commands.describe(
        day="today, upcoming (default), or a date YYYY-MM-DD", group="Only this working group"
    )
    @app_commands.autocomplete(group=ALL_GROUPS)
    @app_commands.guild_only()
    async def list_(self, itx: discord.Interaction, day: str = "upcoming", group: str | None = None) -> None:
        found = await self.bot.agenda.listing(guild_id_of(itx), day, group=group)
        lang = await reply_language(itx)
        title: Text
        if found.day is None:
            title = (
                t("Upcoming sessions (30 days) · {group}", group=found.group.name) if found.group
                else t("Upcoming sessions (30 days)")
            )  # fmt: skip
        else:
            on, zone = long_date(found.day, lang), self.bot.agenda.zone.key
            title = (
                t("Sessions on {day} ({zone}) · {group}", day=on, zone=zone, group=found.group.name) if found.group
                else t("Sessions on {day} ({zone})", day=on, zone=zone)
            )  # fmt: skip
        await send_pages(itx, listing(title.render(lang), list(found.sessions), lang=lang))

    @app_commands.command(description="One session's card, with Remind me and Add to calendar")
    @app_commands.autocomplete(session=session_autocomplete)
    @app_commands.guild_only()
    async def show(self, itx: discord.Interaction, session: str, public: bool = False) -> None:
        found = await self.bot.agenda.resolve(guild_id_of(itx), session)
        embed, view = await self._card(found, None if public else await reply_language(itx))
        await reply(itx, embed=embed, view=view, ephemeral=not public)

    @app_commands.command(description="Change a session; its reminders are rescheduled")
    @app_commands.autocomplete(session=session_autocomplete, group=ACTIVE_GROUPS)
    @app_commands.choices(repeat=REPEATS)
    @app_commands.guild_only()
    async def edit(
        self, itx: discord.Interaction, session: str, title: app_commands.Range[str, 1, 200] | None = None,
        start: str | None = None, end: str | None = None, duration: str | None = None, zone: str | None = None,
        group: str | None = None, channel: discord.TextChannel | None = None,
        moderators: app_commands.Range[str, 0, 300] | None = None, note_taker: app_commands.Range[str, 0, 100] | None = None,
        location: app_commands.Range[str, 0, 300] | None = None, notes: app_commands.Range[str, 0, 1000] | None = None,
        repeat: app_commands.Choice[int] | None = None, until: str | None = None, reminders: str | None = None,
    ) -> None:  # fmt: skip
        spec = SessionSpec(
            title=title, start=start, end=end, duration=duration, zone=zone, group=group,
            channel_id=channel.id if channel else None, moderators=moderators, note_taker=note_taker,
            location=location, notes=notes, every_days=repeat.value if repeat else None, until=until,
            reminders=reminders,
        )  # fmt: skip
        edited = await self.bot.agenda.edit(await actor(itx), session, spec)
        await self.bot.posts.refill()
        lang = await self._public_language(edited)  # a public card
        embed, view = await self._card(edited, lang)
        text = t("Session #{number} updated by {member}; reminders rescheduled.", number=edited.number,
                 member=itx.user.mention)  # fmt: skip
        await reply(itx, text.render(lang), embed=embed, view=view)
        await self._mirror(itx.guild, edited)

    @app_commands.command(description="Remove a session; its reminders are cancelled")
    @app_commands.autocomplete(session=session_autocomplete)
    @app_commands.guild_only()
    async def remove(self, itx: discord.Interaction, session: str) -> None:
        removed = await self.bot.agenda.remove(await actor(itx), session)
        text = t("Session #{number} “{title}” removed by {member}; its reminders are cancelled.",
                 number=removed.number, title=removed.title, member=itx.user.mention)  # fmt: skip
        await reply(itx, text.render(await self._public_language(removed)))
        if removed.event_id and itx.guild is not None:
            try:
                await self.bot.http.delete_scheduled_event(
                    itx.guild.id, removed.event_id, reason="session removed"
                )
            except discord.HTTPException as exc:
                log.info("could not delete scheduled event %s: %s", removed.event_id, exc)

    @app_commands.command(
        name="import", description="Import a day's timetable (CSV, .ics, or a Markdown/plain table)"
    )
    @app_commands.describe(
        file="The timetable", day="The date of the sessions, YYYY-MM-DD (for tables and CSV with times only)",
        zone="The time zone of the times (default: the server's)", group="The working group of every session",
        channel="Where their reminders go",
    )  # fmt: skip
    @app_commands.autocomplete(group=ACTIVE_GROUPS)
    @app_commands.guild_only()
    async def import_(
        self, itx: discord.Interaction, file: discord.Attachment, day: str | None = None, zone: str | None = None,
        group: str | None = None, channel: discord.TextChannel | None = None,
    ) -> None:  # fmt: skip
        check_size(file.size)  # before downloading it
        await itx.response.defer(ephemeral=True, thinking=True)
        data = await file.read()
        fallback = (
            (channel.id if channel else None) or self.bot.config.agenda.default_channel or itx.channel_id
        )
        preview = await self.bot.agenda.preview_import(
            await actor(itx), data, file.filename, day=day, zone=zone, group=group, channel_id=fallback
        )
        # every session is shown before anything is created: as many messages as it takes, Confirm on the last
        lang = await reply_language(itx)
        await send_all(
            itx, preview_pages(preview, lang=lang), last={"view": confirm_view(preview.import_id, lang=lang)}
        )

    @app_commands.command(description="The agenda as a calendar file (.ics) for calendar applications")
    @app_commands.autocomplete(group=ALL_GROUPS)
    @app_commands.guild_only()
    async def export(self, itx: discord.Interaction, group: str | None = None) -> None:
        guild_id = guild_id_of(itx)
        found = await self.bot.groups.resolve(guild_id, group) if group and group.strip() else None
        sessions = await self.bot.agenda.sessions(guild_id, group=found)
        if not sessions:
            raise Invalid(t("There are no sessions to export yet."))
        server = itx.guild.name if itx.guild else "Caucus"
        data = await self._ics(sessions, t("{server} agenda", server=server).render(self._server_language()))
        name = f"agenda-{found.name if found else 'all'}.ics".replace(" ", "-").lower()
        await reply(
            itx,
            tn("{n} session.", "{n} sessions.", len(sessions)).render(await reply_language(itx)),
            file=discord.File(io.BytesIO(data), filename=name),
            ephemeral=True,
        )

    async def _ics(self, sessions: list[Session], name: str) -> bytes:
        """A calendar file of sessions: a public export, in the server's language."""
        named = [(s, g.name if (g := await self.bot.agenda.group_of(s)) else None) for s in sessions]
        return calendar_bytes(named, self.bot.clock.now(), name, self._server_language())

    # -- buttons ---------------------------------------------------------------------------------

    async def button(self, itx: discord.Interaction, action: str, ref: int) -> None:
        who = await actor(itx)
        if action == "confirm":
            await itx.response.defer(ephemeral=True, thinking=True)
            created = await self.bot.agenda.confirm_import(who, ref)
            await self.bot.posts.refill()
            await send_all(itx, imported_pages(created, lang=await reply_language(itx)), last={})
            if itx.channel is not None and isinstance(itx.channel, discord.abc.Messageable):
                lang = await self._public_language(created[0]) if created else self._server_language()
                said = tn("{member} imported {n} session into the agenda (/agenda list).",
                          "{member} imported {n} sessions into the agenda (/agenda list).", len(created),
                          member=itx.user.mention)  # fmt: skip
                await itx.channel.send(said.render(lang), allowed_mentions=NO_PINGS)
            for session in created:
                await self._mirror(itx.guild, session)
            return
        session = await self.bot.agenda.by_id(who.guild_id, ref)
        lang = await reply_language(itx)
        if action == "ics":
            data = await self._ics([session], session.title)
            file = discord.File(io.BytesIO(data), filename=f"session-{session.number}.ics")
            text = t("Open the file to add the session to your calendar.")
            await reply(itx, text.render(lang), file=file, ephemeral=True)
            return
        # Remind me toggles, on every card old or new: pressed again, it stops the direct messages
        _, subscribed = await self.bot.agenda.toggle_reminders(who, ref)
        title = clip(session.title, 80)
        if not subscribed:
            text = t("Stopped: you will no longer get direct messages for “{title}”. Press **Remind me** again to "
                     "get them back.", title=title)  # fmt: skip
            await reply(itx, text.render(lang), ephemeral=True)
            return
        try:
            here = t("You will get the next reminders for “{title}” here.", title=clip(session.title, 100))
            await itx.user.send(here.render(lang), allowed_mentions=NO_PINGS)
            text = t("Done: I will also remind you of “{title}” by direct message. Press **Remind me** again to "
                     "stop.", title=title)  # fmt: skip
        except discord.HTTPException:
            text = t("I can't send you direct messages (they are closed for this server), so you will only see the "
                     "reminders in the channel. Press **Remind me** again to leave the list.")  # fmt: skip
        await reply(itx, text.render(lang), ephemeral=True)

    # -- scheduled posts ---------------------------------------------------------------------------

    async def send_reminder(self, post: Post) -> str:
        """A reminder before a session, or the notice at its start, in its channel and to the members who
        asked for a direct message; skipped when no longer useful. Each copy goes out once (see ``deliver``)."""

        async def build() -> list[Destination] | None:
            found = await self.bot.agenda.reminder(post.ref_id, post.kind, post.late)
            if found is None or found.channel_id is None:
                return None
            # the channel's copy in the group's language, each direct message in its reader's
            lang = self.bot.languages.for_group(found.group)
            ping = f"<@&{found.role_id}> " if found.role_id else ""
            roles = (found.role_id,) if found.role_id else ()
            channel = mention_parts(
                ping + _reminder_text(found, post.kind, lang), (), role_ids=roles,
                view=reminder_view_key(found.session, lang),
            )  # fmt: skip
            readers = await self._readers(post.guild_id, found.subscribers)
            texts = {
                lang: mention_parts(_reminder_text(found, post.kind, lang), ())
                for lang in set(readers.values())
            }
            return [Destination(found.channel_id, channel)] + [
                Destination(user_id, texts[lang], direct=True) for user_id, lang in readers.items()
            ]

        return await deliver(self.bot, post, build, views=reminder_view)

    async def _readers(self, guild_id: int, record_ids: tuple[int, ...]) -> dict[int, str]:
        """The Discord ids to send direct messages to (only members still in the server, pseudonyms matched
        to the member they belong to), in order, each with the language its reader reads."""
        by_language: dict[str, list[int]] = {}
        for record_id in record_ids:
            lang = await self.bot.languages.for_reply(guild_id, record_id, None)
            by_language.setdefault(lang, []).append(record_id)
        language_of = {
            user_id: lang
            for lang, ids in by_language.items()
            for user_id in await reachable(self.bot, guild_id, ids)
        }
        server = self._server_language()
        return {
            user_id: language_of.get(user_id, server)
            for user_id in await reachable(self.bot, guild_id, record_ids)
        }

    async def plan_digest(self) -> None:
        """Plan the next daily digest, if one is configured."""
        cfg = self.bot.config.agenda
        if not cfg.digest_time or not cfg.digest_channel:
            return
        channel = self.bot.get_channel(cfg.digest_channel)
        guild = getattr(channel, "guild", None)
        if guild is None:
            log.warning("[agenda] digest_channel %d is not a channel the bot can see", cfg.digest_channel)
            return
        await self.bot.agenda.plan_digest(guild.id, cfg.digest_time)
        await self.bot.posts.refill()

    async def send_digest(self, post: Post) -> str:
        """The day's sessions, posted in the digest channel (as many messages as it takes, each once)."""

        async def build() -> list[Destination] | None:
            digest = await self.bot.agenda.digest(post)
            if digest is None:
                return None
            lang = self._server_language()
            title = t("Today's sessions · {day}", day=long_date(digest.day, lang))
            pages = listing(title.render(lang), list(digest.sessions), lang=lang)
            parts = [Part(embeds=(dict(page.to_dict()),)) for page in pages]
            return [Destination(self.bot.config.agenda.digest_channel, parts)]

        try:
            return await deliver(self.bot, post, build)
        finally:
            await self.plan_digest()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        await self.plan_digest()

    # -- Discord scheduled events (optional mirror) --------------------------------------------------

    async def _mirror(self, guild: discord.Guild | None, session: Session) -> None:
        if not self.bot.config.agenda.discord_events or guild is None:
            return
        occ = await self.bot.agenda.next_occurrence(session)
        if occ is None:
            return
        start, end = self.bot.agenda.as_datetime(occ.starts_at), self.bot.agenda.as_datetime(occ.ends_at)
        location = clip(session.location or "Discord", 100)
        try:
            if session.event_id:
                event = await guild.fetch_scheduled_event(session.event_id)
                await event.edit(name=clip(session.title, 100), start_time=start, end_time=end, location=location,
                                 description=clip(session.notes, 1000))  # fmt: skip
            else:
                event = await guild.create_scheduled_event(
                    name=clip(session.title, 100), start_time=start, end_time=end, location=location,
                    entity_type=discord.EntityType.external, privacy_level=discord.PrivacyLevel.guild_only,
                    description=clip(session.notes, 1000) or discord.utils.MISSING,
                )  # fmt: skip
                await self.bot.agenda.set_event(session, event.id)
        except discord.HTTPException as exc:
            log.warning("could not mirror session %d as a Discord event: %s", session.session_id, exc)


def _reminder_text(found: SessionReminder, kind: str, lang: str) -> str:
    """A reminder before a session, or the notice at its start, in ``lang``."""
    s, occ = found.session, found.occurrence
    title, start, relative = clip(s.title, 200), f"<t:{occ.starts_at}:F>", f"<t:{occ.starts_at}:R>"
    if kind == REMINDER:
        text = t("Reminder: **{title}** starts {start} ({relative}).", title=title, start=start,
                 relative=relative).render(lang)  # fmt: skip
        if found.late:
            text = t("(Late: the bot was offline at the planned time.)").render(lang) + " " + text
    else:
        text = t("**{title}** is starting now ({start}).", title=title, start=start).render(lang)
    if s.location:
        text += "\n" + t("Where: {location}", location=clip(s.location, 300)).render(lang)
    if s.moderators:
        text += "\n" + t("Moderators: {moderators}", moderators=clip(s.moderators, 300)).render(lang)
    return text


async def setup(bot: Caucus) -> None:
    await bot.add_cog(AgendaCog(bot))
