"""How agenda sessions look: the session card, its buttons, lists, import previews, reminders (each in the
language given)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import discord
from babel.dates import format_date

from cogs.ui.boundary import Routed, guarded
from cogs.ui.common import clip
from cogs.ui.limits import embed_pages, fit_embed
from domain.agenda import ImportPreview, Occurrence, Session, wall_start
from domain.i18n import BABEL_LOCALES, LANGUAGES, Text, joined, t, tn
from domain.timeparse import spoken


def long_date(day: date, lang: str) -> str:
    """A day in words ("Wednesday 02 December 2026"), in ``lang``."""
    return format_date(day, "EEEE dd MMMM yyyy", locale=BABEL_LOCALES[lang if lang in LANGUAGES else "en"])


def _span(occ: Occurrence | None) -> str:
    if occ is None:
        return "—"
    return f"<t:{occ.starts_at}:F> – <t:{occ.ends_at}:t> (<t:{occ.starts_at}:R>)"


def repeats(session: Session) -> Text | None:
    """How the session repeats, one whole sentence per rhythm (None: it does not)."""
    days = session.recur_days
    if not days:
        return None
    at, zone, until = f"{wall_start(session):%H:%M}", session.zone, session.recur_until
    if days == 7:
        if until:
            return t("Every week at {time} {zone} until {until}", time=at, zone=zone, until=until)
        return t("Every week at {time} {zone}", time=at, zone=zone)
    if days % 7 == 0:
        if until:
            return tn("Every {n} week at {time} {zone} until {until}", "Every {n} weeks at {time} {zone} until {until}",
                      days // 7, time=at, zone=zone, until=until)  # fmt: skip
        return tn(
            "Every {n} week at {time} {zone}",
            "Every {n} weeks at {time} {zone}",
            days // 7,
            time=at,
            zone=zone,
        )
    if days == 1:
        if until:
            return t("Every day at {time} {zone} until {until}", time=at, zone=zone, until=until)
        return t("Every day at {time} {zone}", time=at, zone=zone)
    if until:
        return tn("Every {n} day at {time} {zone} until {until}", "Every {n} days at {time} {zone} until {until}",
                  days, time=at, zone=zone, until=until)  # fmt: skip
    return tn("Every {n} day at {time} {zone}", "Every {n} days at {time} {zone}", days, time=at, zone=zone)


def offsets_text(session: Session) -> Text:
    """When the session's reminders come."""
    offsets = json.loads(session.offsets)
    if not offsets:
        return t("only at the start")
    shown = joined(spoken(timedelta(seconds=o)) for o in offsets)  # "1 day and 1 hour", in the reader's words
    return t("{offsets} before, and at the start", offsets=shown)


def session_embed(
    session: Session, occ: Occurrence | None, group_name: str | None, *, lang: str
) -> discord.Embed:
    """The session's card in ``lang``; times in <t:…> markup so each member sees their own local time."""

    def field(name: Text, value: str, *, inline: bool = True) -> None:
        embed.add_field(name=name.render(lang), value=value, inline=inline)

    embed = discord.Embed(
        title=clip(f"#{session.number} · {session.title}", 256), colour=discord.Colour.teal()
    )
    field(t("When"), _span(occ), inline=False)
    wall = wall_start(session)
    if occ is not None:
        wall = datetime.fromtimestamp(occ.starts_at, ZoneInfo(session.zone)).replace(tzinfo=None)
    field(t("Local time"), f"{wall:%Y-%m-%d %H:%M} {session.zone}")
    if (text := repeats(session)) is not None:
        field(t("Repeats"), text.render(lang))
    if group_name:
        field(t("Working group"), clip(group_name, 100))
    if session.moderators:
        field(t("Moderators"), clip(session.moderators, 300))
    if session.note_taker:
        field(t("Note-taker"), clip(session.note_taker, 100))
    if session.location:
        field(t("Where"), clip(session.location, 300), inline=False)
    if session.notes:
        field(t("Notes"), clip(session.notes, 1000), inline=False)
    if session.channel_id:
        channel = f"<#{session.channel_id}>"
        reminders = t("{when}, in {channel}", when=offsets_text(session), channel=channel)
        field(t("Reminders"), reminders.render(lang), inline=False)
    embed.set_footer(text=t("Session #{number}", number=session.number).render(lang))
    return fit_embed(embed)


class AgendaButton(
    Routed,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"agenda:(?P<action>remind|ics|confirm):v1:(?P<ref>[0-9]{1,18})",
):
    """Remind me / Add to calendar on a session, Confirm on an import preview; all work after restarts."""

    LABELS = {"remind": (t("Remind me"), discord.ButtonStyle.primary),
              "ics": (t("Add to calendar"), discord.ButtonStyle.secondary),
              "confirm": (t("Confirm import"), discord.ButtonStyle.success)}  # fmt: skip

    def __init__(self, action: str, ref: int, lang: str = "en") -> None:
        text, style = self.LABELS[action]
        super().__init__(
            discord.ui.Button(label=text.render(lang), style=style, custom_id=f"agenda:{action}:v1:{ref}")
        )
        self.action = action
        self.ref = ref

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AgendaButton:
        return cls(match["action"], int(match["ref"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(interaction, self.handle(interaction, self.action, self.ref))


def session_view(session: Session, *, lang: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(AgendaButton("remind", session.session_id, lang))
    view.add_item(AgendaButton("ics", session.session_id, lang))
    return view


def confirm_view(import_id: int, *, lang: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(AgendaButton("confirm", import_id, lang))
    return view


def listing(title: str, rows: list[tuple[Session, Occurrence]], *, lang: str) -> list[discord.Embed]:
    """Sessions one line each, over as many pages (or messages) as it takes."""
    lines = [f"<t:{o.starts_at}:f>–<t:{o.ends_at}:t> **#{s.number}** {discord.utils.escape_markdown(clip(s.title, 90))}"
             for s, o in rows]  # fmt: skip
    return embed_pages(title, lines, colour=discord.Colour.teal(),
                       footer=tn("{n} session", "{n} sessions", len(rows)).render(lang),
                       empty=t("No sessions. Add one with /agenda add or /agenda import.").render(lang))  # fmt: skip


def preview_pages(preview: ImportPreview, *, lang: str) -> list[discord.Embed]:
    """Every session of an import preview, over as many embeds as it takes (each sent as its own message)."""
    lines = []
    for row, start in zip(preview.rows, preview.starts, strict=True):
        extra = f" · {row.moderators}" if row.moderators else ""
        lines.append(
            f"`{row.start:%Y-%m-%d %H:%M}–{row.end:%H:%M}` <t:{start}:R> {clip(row.title, 80)}{clip(extra, 60)}"
        )
    head = t("Nothing is created until you press **Confirm import**.").render(lang)
    if preview.group_name:
        group = discord.utils.escape_markdown(preview.group_name)
        head += "\n" + t("Working group: {group}", group=group).render(lang)
    count = len(preview.rows)
    title = tn(
        "Import preview: {n} session ({zone})",
        "Import preview: {n} sessions ({zone})",
        count,
        zone=preview.zone,
    )
    return embed_pages(
        title.render(lang), [head, *lines], colour=discord.Colour.gold(),
        footer=tn("{n} session", "{n} sessions", count).render(lang),
    )  # fmt: skip


def imported_pages(sessions: list[Session], *, lang: str) -> list[discord.Embed]:
    """The sessions an import created, every one listed."""
    lines = [f"**#{s.number}** {discord.utils.escape_markdown(clip(s.title, 80))}" for s in sessions]
    title = tn("Imported {n} session", "Imported {n} sessions", len(sessions))
    return embed_pages(title.render(lang), lines, colour=discord.Colour.green(),
                       footer=t("/agenda list shows them with their times").render(lang))  # fmt: skip


def reminder_view_key(session: Session, lang: str) -> str:
    """The key of a reminder's buttons (kept with a scheduled post's parts): the session, and the language
    of the labels."""
    return f"session:{session.session_id}:{lang}"


def reminder_view(key: str) -> discord.ui.View | None:
    """Remind me / Add to calendar for the session a reminder's key names (a key kept before labels had a
    language has none: English)."""
    kind, _, rest = key.partition(":")
    ref, _, lang = rest.partition(":")
    if kind != "session" or not ref.isdigit():
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(AgendaButton("remind", int(ref), lang or "en"))
    view.add_item(AgendaButton("ics", int(ref), lang or "en"))
    return view
