"""How a working group looks: its card, the list, and the Join/Leave buttons (in the language given)."""

from __future__ import annotations

import re
from typing import Any

import discord

from cogs.ui.boundary import Routed, guarded
from cogs.ui.common import clip, when
from cogs.ui.limits import FIELD_VALUE, embed_pages, fit_embed, fit_list
from domain.groups import GroupCard, GroupListRow
from domain.i18n import Text, t, tn
from domain.overview import GroupOverview


def _mention(user_id: int) -> str:
    """A member's mention (silent in an embed)."""
    return f"<@{user_id}>"


def _relative(unix: int) -> str:
    """A time as Discord shows it relative to now ("in 3 hours")."""
    return f"<t:{unix}:R>"


def _more(text: Text, lang: str) -> str:
    """An "and {n} more" for fit_list, which fills in ``{n}`` itself: the pattern in ``lang``."""
    return text.render(lang)


def _people(ids: list[int], lang: str) -> str:
    """Mentions (silent in an embed) of as many members as one field holds, then how many more."""
    more = _more(t("and {n} more (/wg info lists everyone)", n="{n}"), lang)
    return fit_list([f"<@{i}>" for i in ids], FIELD_VALUE, more=more) or t("nobody yet").render(lang)


def card_embed(card: GroupCard, overview: GroupOverview | None = None, *, lang: str) -> discord.Embed:
    """The group's card in ``lang``. Member names are mentions inside an embed, which never ping."""
    group = card.group
    archived = group.archived_at is not None
    title = t("{group} (archived)", group=group.name).render(lang) if archived else group.name
    embed = discord.Embed(
        title=clip(title, 256),
        description=group.description or None,
        colour=discord.Colour.dark_grey() if archived else discord.Colour.blurple(),
    )
    embed.add_field(
        name=t("Conveners").render(lang),
        value=_people([m.user_id for m in card.conveners], lang),
        inline=False,
    )
    embed.add_field(
        name=t("Members ({count})", count=len(card.members)).render(lang),
        value=_people([m.user_id for m in card.members], lang),
        inline=False,
    )
    if group.due_at is not None:
        embed.add_field(name=t("Due").render(lang), value=when(group.due_at), inline=False)
    if group.home_channel_id:
        embed.add_field(name=t("Home channel").render(lang), value=f"<#{group.home_channel_id}>")
    if group.role_id:
        embed.add_field(name=t("Role").render(lang), value=f"<@&{group.role_id}>")
    if archived:
        embed.add_field(name=t("Archived").render(lang), value=when(group.archived_at), inline=False)
    if overview is not None:
        _overview_fields(embed, overview, lang)
    embed.set_footer(text=t("Working group #{group_id}", group_id=group.group_id).render(lang))
    return fit_embed(embed)


def _overview_fields(embed: discord.Embed, overview: GroupOverview, lang: str) -> None:
    """What is open in the group: points, questions, polls, and its next sessions."""
    points = [i for i in overview.open_items if i.kind == "point"]
    questions = [i for i in overview.open_items if i.kind == "question"]
    items_more = _more(t("… and {n} more (/consensus list)", n="{n}"), lang)
    for title, found in (
        (t("Open points ({count})", count=len(points)), points),
        (t("Open questions ({count})", count=len(questions)), questions),
    ):
        if found:
            lines = [f"#{i.number} {clip(' '.join(i.text.split()), 80)}" for i in found]
            embed.add_field(name=title.render(lang), inline=False,
                            value=fit_list(lines, FIELD_VALUE, sep="\n", most=8, more=items_more))  # fmt: skip
    if overview.open_polls:
        lines = [
            t("#{number} {question} · closes {closes}", number=p.number, question=clip(p.question, 80),
              closes=_relative(p.closes_at)).render(lang)
            for p in overview.open_polls
        ]  # fmt: skip
        polls_more = _more(t("… and {n} more (/poll list)", n="{n}"), lang)
        embed.add_field(name=t("Open polls ({count})", count=len(overview.open_polls)).render(lang), inline=False,
                        value=fit_list(lines, FIELD_VALUE, sep="\n", most=5, more=polls_more))  # fmt: skip
    if overview.next_sessions:
        lines = [f"<t:{o.starts_at}:f> #{s.number} {clip(s.title, 80)}" for s, o in overview.next_sessions]
        sessions_more = _more(t("… and {n} more (/agenda list)", n="{n}"), lang)
        embed.add_field(name=t("Next sessions").render(lang), inline=False,
                        value=fit_list(lines, FIELD_VALUE, sep="\n", more=sessions_more))  # fmt: skip


def member_pages(card: GroupCard, first: discord.Embed, *, lang: str) -> list[discord.Embed]:
    """The card, then every member (one line each), over as many pages as it takes."""
    lines = [
        t("{member} ({name}) · convener", member=_mention(m.user_id),
          name=discord.utils.escape_markdown(m.display_name)).render(lang)
        if m.is_convener
        else f"{_mention(m.user_id)} ({discord.utils.escape_markdown(m.display_name)})"
        for m in card.members
    ]  # fmt: skip
    if len(" ".join(f"<@{m.user_id}>" for m in card.members)) <= FIELD_VALUE:
        lines = []  # the card already shows everyone
    title = tn(
        "{group} · {n} member", "{group} · {n} members", len(card.members), group=clip(card.group.name, 200)
    )
    return embed_pages(title.render(lang), lines, colour=discord.Colour.blurple(), first=first)


def list_pages(rows: list[GroupListRow], *, lang: str) -> list[discord.Embed]:
    """The server's groups, one line each, over as many pages as it takes."""
    lines = []
    for row in rows:
        g = row.group
        parts = [tn("{n} member", "{n} members", row.member_count).render(lang)]
        if row.convener_ids:
            conveners = [f"<@{c}>" for c in row.convener_ids]
            listed = fit_list(conveners, 200, sep=", ", more=_more(t("{n} more", n="{n}"), lang))
            parts.append(t("convened by {conveners}", conveners=listed).render(lang))
        if g.due_at is not None:
            due = f"<t:{g.due_at}:D>"
            parts.append(t("due {date}", date=due).render(lang))
        name, details = discord.utils.escape_markdown(g.name), " · ".join(parts)
        line = (
            t("**{group}** · *archived* — {details}", group=name, details=details)
            if g.archived_at
            else t("**{group}** — {details}", group=name, details=details)
        )
        lines.append(line.render(lang))
    return embed_pages(
        t("Working groups").render(lang), lines, colour=discord.Colour.blurple(), per_page=20,
        footer=tn("{n} group · /wg info for one group", "{n} groups · /wg info for one group", len(rows)).render(lang),
        empty=t("No working groups yet. A coordinator can create one with /wg create.").render(lang),
    )  # fmt: skip


class GroupButton(
    Routed,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"wg:(?P<action>join|leave):v1:(?P<group_id>[0-9]{1,18})",
):
    """Join or Leave on a group's card; works after restarts (the custom_id holds only the group id)."""

    def __init__(self, action: str, group_id: int, *, disabled: bool = False, lang: str = "en") -> None:
        label = t("Join") if action == "join" else t("Leave")
        super().__init__(
            discord.ui.Button(
                label=label.render(lang),
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


def card_view(card: GroupCard, *, lang: str) -> discord.ui.View:
    """Join and Leave buttons for a card (disabled once archived), labelled in ``lang``."""
    view = discord.ui.View(timeout=None)
    archived = card.group.archived_at is not None
    view.add_item(GroupButton("join", card.group.group_id, disabled=archived, lang=lang))
    view.add_item(GroupButton("leave", card.group.group_id, disabled=archived, lang=lang))
    return view
