"""How a working group looks: its card, the list, and the Join/Leave buttons."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from cogs.ui.boundary import guarded
from cogs.ui.common import clip, when
from domain.groups import GroupCard, GroupListRow
from domain.overview import GroupOverview

if TYPE_CHECKING:
    from bot.client import Caucus

MEMBERS_SHOWN = 40


def _people(ids: list[int], limit: int = MEMBERS_SHOWN) -> str:
    shown = " ".join(f"<@{i}>" for i in ids[:limit])
    more = len(ids) - limit
    return (shown + (f" and {more} more" if more > 0 else "")) or "nobody yet"


def card_embed(card: GroupCard, overview: GroupOverview | None = None) -> discord.Embed:
    """The group's card. Member names are mentions inside an embed, which never ping."""
    group = card.group
    archived = group.archived_at is not None
    embed = discord.Embed(
        title=clip(group.name + (" (archived)" if archived else ""), 256),
        description=clip(group.description, 4000) or None,
        colour=discord.Colour.dark_grey() if archived else discord.Colour.blurple(),
    )
    embed.add_field(name="Conveners", value=_people([m.user_id for m in card.conveners]), inline=False)
    embed.add_field(
        name=f"Members ({len(card.members)})", value=_people([m.user_id for m in card.members]), inline=False
    )
    if group.due_at is not None:
        embed.add_field(name="Due", value=when(group.due_at), inline=False)
    if group.home_channel_id:
        embed.add_field(name="Home channel", value=f"<#{group.home_channel_id}>")
    if group.role_id:
        embed.add_field(name="Role", value=f"<@&{group.role_id}>")
    if archived:
        embed.add_field(name="Archived", value=when(group.archived_at), inline=False)
    if overview is not None:
        points = [i for i in overview.open_items if i.kind == "point"]
        questions = [i for i in overview.open_items if i.kind == "question"]
        for title, found in (("Open points", points), ("Open questions", questions)):
            if found:
                lines = [f"#{i.number} {clip(' '.join(i.text.split()), 80)}" for i in found[:8]]
                more = f"\n… and {len(found) - 8} more (/consensus list)" if len(found) > 8 else ""
                embed.add_field(
                    name=f"{title} ({len(found)})", value=clip("\n".join(lines) + more, 1024), inline=False
                )
        if overview.open_polls:
            lines = [
                f"#{p.number} {clip(p.question, 80)} · closes <t:{p.closes_at}:R>"
                for p in overview.open_polls[:5]
            ]
            embed.add_field(name=f"Open polls ({len(overview.open_polls)})", value=clip("\n".join(lines), 1024),
                            inline=False)  # fmt: skip
        if overview.next_sessions:
            lines = [
                f"<t:{o.starts_at}:f> #{s.number} {clip(s.title, 80)}" for s, o in overview.next_sessions
            ]
            embed.add_field(name="Next sessions", value=clip("\n".join(lines), 1024), inline=False)
    embed.set_footer(text=f"Working group #{group.group_id}")
    return embed


def list_embed(rows: list[GroupListRow]) -> discord.Embed:
    """The server's groups, one line each."""
    embed = discord.Embed(title="Working groups", colour=discord.Colour.blurple())
    if not rows:
        embed.description = "No working groups yet. A coordinator can create one with /wg create."
        return embed
    lines = []
    for row in rows:
        g = row.group
        parts = [f"{row.member_count} member{'s' if row.member_count != 1 else ''}"]
        if row.convener_ids:
            parts.append("convened by " + ", ".join(f"<@{c}>" for c in row.convener_ids[:5]))
        if g.due_at is not None:
            parts.append(f"due <t:{g.due_at}:D>")
        status = " · *archived*" if g.archived_at else ""
        lines.append(f"**{discord.utils.escape_markdown(g.name)}**{status} — " + " · ".join(parts))
    text = ""
    for i, line in enumerate(lines):
        if len(text) + len(line) + 60 > 4000:
            text += f"\n… and {len(lines) - i} more; use /wg info for one group."
            break
        text += line + "\n"
    embed.description = text
    return embed


class GroupButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"wg:(?P<action>join|leave):v1:(?P<group_id>[0-9]{1,18})",
):
    """Join or Leave on a group's card; works after restarts (the custom_id holds only the group id)."""

    def __init__(self, action: str, group_id: int, *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label="Join" if action == "join" else "Leave",
                style=discord.ButtonStyle.primary if action == "join" else discord.ButtonStyle.secondary,
                custom_id=f"wg:{action}:v1:{group_id}",
                disabled=disabled,
            )
        )
        self.action = action
        self.group_id = group_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> GroupButton:
        return cls(match["action"], int(match["group_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: Caucus = interaction.client
        cog = bot.get_cog("WorkingGroupsCog")
        await guarded(interaction, cog.button(interaction, self.action, self.group_id))  # type: ignore[union-attr]


def card_view(card: GroupCard) -> discord.ui.View:
    """Join and Leave buttons for a card (disabled once archived)."""
    view = discord.ui.View(timeout=None)
    archived = card.group.archived_at is not None
    view.add_item(GroupButton("join", card.group.group_id, disabled=archived))
    view.add_item(GroupButton("leave", card.group.group_id, disabled=archived))
    return view
