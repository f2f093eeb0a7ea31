"""How a working group looks: its card, the list, and the Join/Leave buttons."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from cogs.ui.boundary import Routed, guarded
from cogs.ui.common import clip, when
from cogs.ui.limits import FIELD_VALUE, embed_pages, fit_embed, fit_list
from domain.groups import GroupCard, GroupListRow
from domain.overview import GroupOverview

if TYPE_CHECKING:
    pass

MORE_MEMBERS = "and {n} more (/wg info lists everyone)"


def _people(ids: list[int]) -> str:
    """Mentions (silent in an embed) of as many members as one field holds, then how many more."""
    return fit_list([f"<@{i}>" for i in ids], FIELD_VALUE, more=MORE_MEMBERS) or "nobody yet"


def card_embed(card: GroupCard, overview: GroupOverview | None = None) -> discord.Embed:
    """The group's card. Member names are mentions inside an embed, which never ping."""
    group = card.group
    archived = group.archived_at is not None
    embed = discord.Embed(
        title=clip(group.name + (" (archived)" if archived else ""), 256),
        description=group.description or None,
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
                lines = [f"#{i.number} {clip(' '.join(i.text.split()), 80)}" for i in found]
                embed.add_field(name=f"{title} ({len(found)})", inline=False, value=fit_list(
                    lines, FIELD_VALUE, sep="\n", most=8, more="… and {n} more (/consensus list)"))  # fmt: skip
        if overview.open_polls:
            lines = [
                f"#{p.number} {clip(p.question, 80)} · closes <t:{p.closes_at}:R>"
                for p in overview.open_polls
            ]
            embed.add_field(name=f"Open polls ({len(overview.open_polls)})", inline=False, value=fit_list(
                lines, FIELD_VALUE, sep="\n", most=5, more="… and {n} more (/poll list)"))  # fmt: skip
        if overview.next_sessions:
            lines = [
                f"<t:{o.starts_at}:f> #{s.number} {clip(s.title, 80)}" for s, o in overview.next_sessions
            ]
            embed.add_field(name="Next sessions", inline=False,
                            value=fit_list(lines, FIELD_VALUE, sep="\n", more="… and {n} more (/agenda list)"))  # fmt: skip
    embed.set_footer(text=f"Working group #{group.group_id}")
    return fit_embed(embed)


def member_pages(card: GroupCard, first: discord.Embed) -> list[discord.Embed]:
    """The card, then every member (one line each), over as many pages as it takes."""
    lines = [
        f"<@{m.user_id}> ({discord.utils.escape_markdown(m.display_name)})"
        + (" · convener" if m.is_convener else "")
        for m in card.members
    ]
    if len(" ".join(f"<@{m.user_id}>" for m in card.members)) <= FIELD_VALUE:
        lines = []  # the card already shows everyone
    return embed_pages(f"{clip(card.group.name, 200)} · {len(card.members)} members", lines,
                       colour=discord.Colour.blurple(), first=first)  # fmt: skip


def list_pages(rows: list[GroupListRow]) -> list[discord.Embed]:
    """The server's groups, one line each, over as many pages as it takes."""
    lines = []
    for row in rows:
        g = row.group
        parts = [f"{row.member_count} member{'s' if row.member_count != 1 else ''}"]
        if row.convener_ids:
            conveners = [f"<@{c}>" for c in row.convener_ids]
            parts.append("convened by " + fit_list(conveners, 200, sep=", ", more="{n} more"))
        if g.due_at is not None:
            parts.append(f"due <t:{g.due_at}:D>")
        status = " · *archived*" if g.archived_at else ""
        lines.append(f"**{discord.utils.escape_markdown(g.name)}**{status} — " + " · ".join(parts))
    return embed_pages("Working groups", lines, colour=discord.Colour.blurple(), per_page=20,
                       footer=f"{len(rows)} groups · /wg info for one group",
                       empty="No working groups yet. A coordinator can create one with /wg create.")  # fmt: skip


class GroupButton(
    Routed,
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
        await guarded(interaction, self.handle(interaction, self.action, self.group_id))


def card_view(card: GroupCard) -> discord.ui.View:
    """Join and Leave buttons for a card (disabled once archived)."""
    view = discord.ui.View(timeout=None)
    archived = card.group.archived_at is not None
    view.add_item(GroupButton("join", card.group.group_id, disabled=archived))
    view.add_item(GroupButton("leave", card.group.group_id, disabled=archived))
    return view
