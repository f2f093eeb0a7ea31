"""How agenda sessions look: the session card, its buttons, lists, import previews, reminders."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import discord

from cogs.ui.boundary import Routed, guarded
from cogs.ui.common import clip
from cogs.ui.limits import embed_pages, fit_embed
from domain.agenda import ImportPreview, Occurrence, Session, wall_start
from domain.timeparse import format_duration


def _span(occ: Occurrence | None) -> str:
    if occ is None:
        return "—"
    return f"<t:{occ.starts_at}:F> – <t:{occ.ends_at}:t> (<t:{occ.starts_at}:R>)"


def repeats(session: Session) -> str | None:
    if not session.recur_days:
        return None
    every = "week" if session.recur_days == 7 else (
        f"{session.recur_days // 7} weeks" if session.recur_days % 7 == 0 else
        "day" if session.recur_days == 1 else f"{session.recur_days} days"
    )  # fmt: skip
    until = f" until {session.recur_until}" if session.recur_until else ""
    return f"Every {every} at {wall_start(session):%H:%M} {session.zone}{until}"


def offsets_text(session: Session) -> str:
    from datetime import timedelta

    offsets = json.loads(session.offsets)
    if not offsets:
        return "only at the start"
    return ", ".join(format_duration(timedelta(seconds=o)) for o in offsets) + " before, and at the start"


def session_embed(session: Session, occ: Occurrence | None, group_name: str | None) -> discord.Embed:
    """The session's card; times in <t:…> markup so each member sees their own local time."""
    embed = discord.Embed(
        title=clip(f"#{session.number} · {session.title}", 256), colour=discord.Colour.teal()
    )
    embed.add_field(name="When", value=_span(occ), inline=False)
    wall = wall_start(session)
    if occ is not None:
        wall = datetime.fromtimestamp(occ.starts_at, ZoneInfo(session.zone)).replace(tzinfo=None)
    embed.add_field(name="Local time", value=f"{wall:%Y-%m-%d %H:%M} {session.zone}")
    if (text := repeats(session)) is not None:
        embed.add_field(name="Repeats", value=text)
    if group_name:
        embed.add_field(name="Working group", value=clip(group_name, 100))
    if session.moderators:
        embed.add_field(name="Moderators", value=clip(session.moderators, 300))
    if session.note_taker:
        embed.add_field(name="Note-taker", value=clip(session.note_taker, 100))
    if session.location:
        embed.add_field(name="Where", value=clip(session.location, 300), inline=False)
    if session.notes:
        embed.add_field(name="Notes", value=clip(session.notes, 1000), inline=False)
    if session.channel_id:
        embed.add_field(
            name="Reminders", value=f"{offsets_text(session)}, in <#{session.channel_id}>", inline=False
        )
    embed.set_footer(text=f"Session #{session.number}")
    return fit_embed(embed)


class AgendaButton(
    Routed,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"agenda:(?P<action>remind|ics|confirm):v1:(?P<ref>[0-9]{1,18})",
):
    """Remind me / Add to calendar on a session, Confirm on an import preview; all work after restarts."""

    LABELS = {"remind": ("Remind me", discord.ButtonStyle.primary),
              "ics": ("Add to calendar", discord.ButtonStyle.secondary),
              "confirm": ("Confirm import", discord.ButtonStyle.success)}  # fmt: skip

    def __init__(self, action: str, ref: int) -> None:
        text, style = self.LABELS[action]
        super().__init__(discord.ui.Button(label=text, style=style, custom_id=f"agenda:{action}:v1:{ref}"))
        self.action = action
        self.ref = ref

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AgendaButton:
        return cls(match["action"], int(match["ref"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(interaction, self.handle(interaction, self.action, self.ref))


def session_view(session: Session) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(AgendaButton("remind", session.session_id))
    view.add_item(AgendaButton("ics", session.session_id))
    return view


def confirm_view(import_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(AgendaButton("confirm", import_id))
    return view


def listing(title: str, rows: list[tuple[Session, Occurrence]]) -> list[discord.Embed]:
    """Sessions one line each, over as many pages (or messages) as it takes."""
    lines = [f"<t:{o.starts_at}:f>–<t:{o.ends_at}:t> **#{s.number}** {discord.utils.escape_markdown(clip(s.title, 90))}"
             for s, o in rows]  # fmt: skip
    return embed_pages(title, lines, colour=discord.Colour.teal(), footer=f"{len(rows)} sessions",
                       empty="No sessions. Add one with /agenda add or /agenda import.")  # fmt: skip


def preview_pages(preview: ImportPreview) -> list[discord.Embed]:
    """Every session of an import preview, over as many embeds as it takes (each sent as its own message)."""
    lines = []
    for row, start in zip(preview.rows, preview.starts, strict=True):
        extra = f" · {row.moderators}" if row.moderators else ""
        lines.append(
            f"`{row.start:%Y-%m-%d %H:%M}–{row.end:%H:%M}` <t:{start}:R> {clip(row.title, 80)}{clip(extra, 60)}"
        )
    head = "Nothing is created until you press **Confirm import**."
    if preview.group_name:
        head += f"\nWorking group: {discord.utils.escape_markdown(preview.group_name)}"
    return embed_pages(
        f"Import preview: {len(preview.rows)} sessions ({preview.zone})", [head, *lines],
        colour=discord.Colour.gold(), footer=f"{len(preview.rows)} sessions",
    )  # fmt: skip


def imported_pages(sessions: list[Session]) -> list[discord.Embed]:
    """The sessions an import created, every one listed."""
    lines = [f"**#{s.number}** {discord.utils.escape_markdown(clip(s.title, 80))}" for s in sessions]
    return embed_pages(f"Imported {len(sessions)} sessions", lines, colour=discord.Colour.green(),
                       footer="/agenda list shows them with their times")  # fmt: skip


def reminder_view_key(session: Session) -> str:
    """The key of a reminder's buttons (kept with a scheduled post's parts)."""
    return f"session:{session.session_id}"


def reminder_view(key: str) -> discord.ui.View | None:
    """Remind me / Add to calendar for the session a reminder's key names."""
    kind, _, ref = key.partition(":")
    if kind != "session" or not ref.isdigit():
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(AgendaButton("remind", int(ref)))
    view.add_item(AgendaButton("ics", int(ref)))
    return view
