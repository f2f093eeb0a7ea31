"""How organisations look: the card, the paged list, the import preview, and the Approve / Decline /
Confirm import buttons (which work after restarts)."""

from __future__ import annotations

import re
from typing import Any

import discord

from cogs.ui.boundary import Routed, guarded
from cogs.ui.common import clip, mention
from cogs.ui.limits import FIELD_VALUE, fit_embed, fit_list
from domain.orgs import (
    REGION_SHORT,
    REGIONS,
    STAKEHOLDERS,
    ImportPreview,
    Org,
    OrgCard,
    OrgListRow,
    country_name,
)

#: What a click runs: (interaction, action, id); the cog hands it over when it registers the button.

PER_PAGE = 15
PEOPLE_SHOWN = 30
STATE_COLOUR = {
    "pending": discord.Colour.gold(),
    "verified": discord.Colour.green(),
    "left": discord.Colour.dark_grey(),
}


def esc(text: str) -> str:
    return discord.utils.escape_markdown(text)


def org_label(org: Org | OrgListRow, limit: int = 100) -> str:
    """The organisation's name with its acronym, as plain text."""
    return clip(org.name + (f" ({org.acronym})" if org.acronym else ""), limit)


def country_label(code: str) -> str:
    return f"{country_name(code)} ({code})"


def _people(ids: list[int], limit: int = PEOPLE_SHOWN) -> str:
    return fit_list([mention(i) for i in ids], FIELD_VALUE - 120, sep=", ", most=limit)


def card_embed(card: OrgCard, extra: list[tuple[str, str]] | None = None) -> discord.Embed:
    """The organisation's card. Mentions inside an embed never ping. ``extra``: more (name, value) fields,
    such as the organisation's positions on open points once counting per organisation shows them."""
    org = card.org
    embed = discord.Embed(
        title=clip(org_label(org, 240) + (" (left the coalition)" if org.state == "left" else ""), 256),
        colour=STATE_COLOUR[org.state],
        url=org.website or None,
    )
    embed.add_field(name="Country", value=country_label(org.country))
    embed.add_field(name="Region", value=REGIONS[org.region])
    embed.add_field(name="Stakeholder group", value=STAKEHOLDERS[org.stakeholder])
    if org.website:
        embed.add_field(name="Website", value=clip(org.website, 200), inline=False)
    if org.state == "pending":
        state = "Pending: waiting for a coordinator to verify it (/org verify)"
    elif org.state == "verified":
        by = f" by {mention(org.verified_by)}" if org.verified_by is not None else ""
        state = f"Verified <t:{org.verified_at}:D>{by}"
    else:
        state = f"Left the coalition <t:{org.left_at}:D>: kept in the record, no longer counted"
    embed.add_field(name="State", value=state, inline=False)
    voice = card.voice
    if voice is not None:
        others = [r.user_id for r in card.representatives if r.user_id != voice.user_id]
        text = f"{mention(voice.user_id)} — **voice** since <t:{voice.started_at}:D>"
        if others:
            text += "\n" + _people(others)
    elif org.state == "verified":
        text = "nobody yet: the first representative approved becomes its voice"
    else:
        text = "nobody"
    embed.add_field(
        name=f"Representatives ({len(card.representatives)})", value=clip(text, 1024), inline=False
    )
    if card.requests:
        if card.requests_visible:
            value = "\n".join(
                f"{mention(r.user_id)} asked <t:{r.requested_at}:R>" for r in card.requests[:PEOPLE_SHOWN]
            )
            if len(card.requests) > PEOPLE_SHOWN:
                value += f"\n… and {len(card.requests) - PEOPLE_SHOWN} more"
            value += "\nApprove with /org approve, or end a request with /org remove."
        else:
            value = f"{len(card.requests)} waiting for approval"
        embed.add_field(
            name=f"Pending requests ({len(card.requests)})", value=clip(value, 1024), inline=False
        )
    for name, value in extra or []:
        embed.add_field(name=clip(name, 256), value=clip(value, 1024), inline=False)
    embed.add_field(
        name="Registered", value=f"<t:{org.created_at}:D> by {mention(org.created_by)}", inline=False
    )
    embed.set_footer(text=f"Organisation #{org.org_id} · ask to represent it with /org join")
    return fit_embed(embed)


def list_line(row: OrgListRow) -> str:
    reps = f"{row.rep_count} representative{'s' if row.rep_count != 1 else ''}"
    return (
        f"**{esc(org_label(row, 90))}** — {esc(country_name(row.country))} ({row.country}) · "
        f"{REGION_SHORT[row.region]} · {STAKEHOLDERS[row.stakeholder]} · {row.state} · {reps}"
    )


def list_page(rows: list[OrgListRow], page: int, title: str, per_page: int = PER_PAGE) -> discord.Embed:
    """One page of /org list."""
    pages = max(1, (len(rows) + per_page - 1) // per_page)
    page = min(max(page, 0), pages - 1)
    embed = discord.Embed(title=clip(title, 256), colour=discord.Colour.blurple())
    if not rows:
        embed.description = "No organisations match. Register one with /org register; coordinators import a list with /org import."
        return embed
    embed.description = clip(
        "\n".join(list_line(r) for r in rows[page * per_page : (page + 1) * per_page]), 4096
    )
    embed.set_footer(text=f"Page {page + 1} of {pages} · {len(rows)} organisations · /org info for one")
    return embed


def list_pages(rows: list[OrgListRow], title: str, per_page: int = PER_PAGE) -> list[discord.Embed]:
    """Every page of /org list (shown with the shared Previous/Next pager)."""
    count = max(1, (len(rows) + per_page - 1) // per_page)
    return [fit_embed(list_page(rows, n, title, per_page)) for n in range(count)]


def preview_embed(preview: ImportPreview) -> discord.Embed:
    """What an import would create, before its Confirm button."""
    count = len(preview.lines)
    embed = discord.Embed(
        title=f"Import preview: {count} organisation{'s' if count != 1 else ''}",
        colour=discord.Colour.gold(),
        description=(
            "Nothing is created until you press **Confirm import**. Imported organisations are **verified** at "
            "once: as a coordinator you vouch for the list. Representatives then ask to join with /org join."
        ),
    )
    lines = [
        f"line {x.line}: **{esc(clip(x.name, 80))}**{f' ({esc(x.acronym)})' if x.acronym else ''} · {x.country} · "
        f"{REGION_SHORT[x.region]} · {STAKEHOLDERS[x.stakeholder]}"
        for x in preview.lines[:5]
    ]
    if count > 5:
        lines.append(f"… and {count - 5} more")
    embed.add_field(name="First lines", value=clip("\n".join(lines), 1024), inline=False)
    embed.add_field(
        name="By region",
        value="\n".join(f"{REGION_SHORT[k]}: {n}" for k, n in preview.by_region().items()),
    )
    embed.add_field(
        name="By stakeholder group",
        value="\n".join(f"{STAKEHOLDERS[k]}: {n}" for k, n in preview.by_stakeholder().items()),
    )
    if preview.ignored_columns:
        embed.add_field(
            name="Columns ignored", value=clip(", ".join(preview.ignored_columns), 1024), inline=False
        )
    return embed


class OrgButton(
    Routed,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"org:(?P<action>approve|decline|confirm):v1:(?P<ref>[0-9]{1,18})",
):
    """Approve / Decline a request to represent an organisation (in the voice's direct messages), and
    Confirm import on a preview; the custom_id holds only the request's or the import's id."""

    LABELS = {
        "approve": ("Approve", discord.ButtonStyle.success),
        "decline": ("Decline", discord.ButtonStyle.secondary),
        "confirm": ("Confirm import", discord.ButtonStyle.success),
    }

    def __init__(self, action: str, ref: int) -> None:
        text, style = self.LABELS[action]
        super().__init__(discord.ui.Button(label=text, style=style, custom_id=f"org:{action}:v1:{ref}"))
        self.action = action
        self.ref = ref

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> OrgButton:
        return cls(match["action"], int(match["ref"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(interaction, self.handle(interaction, self.action, self.ref))


def request_view(rep_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(OrgButton("approve", rep_id))
    view.add_item(OrgButton("decline", rep_id))
    return view


def confirm_view(import_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(OrgButton("confirm", import_id))
    return view
