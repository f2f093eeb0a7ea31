"""How organisations look: the card, the paged list, the import preview, and the Approve / Decline /
Confirm import buttons (which work after restarts)."""

from __future__ import annotations

import re
from typing import Any

import discord

from cogs.ui.boundary import Routed, guarded
from cogs.ui.common import clip, mention
from cogs.ui.limits import FIELD_VALUE, fit_embed, fit_list
from domain.i18n import t, tn
from domain.orgs import (
    REGION_SHORT,
    REGIONS,
    STAKEHOLDERS,
    STATES,
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


def _people(ids: list[int], lang: str, limit: int = PEOPLE_SHOWN) -> str:
    return fit_list([mention(i, lang) for i in ids], FIELD_VALUE - 120, sep=", ", most=limit, lang=lang)


def _state(org: Org, lang: str) -> str:
    if org.state == "pending":
        return t("Pending: waiting for a coordinator to verify it (/org verify)").render(lang)
    if org.state == "verified":
        if org.verified_by is not None:
            return t(
                "Verified {date} by {member}",
                date=f"<t:{org.verified_at}:D>",
                member=mention(org.verified_by, lang),
            ).render(lang)
        return t("Verified {date}", date=f"<t:{org.verified_at}:D>").render(lang)
    return t(
        "Left the coalition {date}: kept in the record, no longer counted", date=f"<t:{org.left_at}:D>"
    ).render(lang)


def card_embed(card: OrgCard, extra: list[tuple[str, str]] | None = None, lang: str = "en") -> discord.Embed:
    """The organisation's card, in ``lang``. Mentions inside an embed never ping. ``extra``: more (name,
    value) fields, such as the organisation's positions on open points once counting per organisation shows
    them."""
    org = card.org
    title = org_label(org, 240)
    if org.state == "left":
        title = t("{org} (left the coalition)", org=title).render(lang)
    embed = discord.Embed(title=clip(title, 256), colour=STATE_COLOUR[org.state], url=org.website or None)
    embed.add_field(name=t("Country").render(lang), value=country_label(org.country))
    embed.add_field(name=t("Region").render(lang), value=REGIONS[org.region].render(lang))
    embed.add_field(
        name=t("Stakeholder group").render(lang), value=STAKEHOLDERS[org.stakeholder].render(lang)
    )
    if org.website:
        embed.add_field(name=t("Website").render(lang), value=clip(org.website, 200), inline=False)
    embed.add_field(name=t("State").render(lang), value=_state(org, lang), inline=False)
    voice = card.voice
    if voice is not None:
        others = [r.user_id for r in card.representatives if r.user_id != voice.user_id]
        text = t(
            "{member} — **voice** since {date}",
            member=mention(voice.user_id, lang),
            date=f"<t:{voice.started_at}:D>",
        ).render(lang)
        if others:
            text += "\n" + _people(others, lang)
    elif org.state == "verified":
        text = t("nobody yet: the first representative approved becomes its voice").render(lang)
    else:
        text = t("nobody").render(lang)
    embed.add_field(
        name=t("Representatives ({count})", count=len(card.representatives)).render(lang),
        value=clip(text, 1024),
        inline=False,
    )
    if card.requests:
        if card.requests_visible:
            lines = [
                t(
                    "{member} asked {when}", member=mention(r.user_id, lang), when=f"<t:{r.requested_at}:R>"
                ).render(lang)
                for r in card.requests[:PEOPLE_SHOWN]
            ]
            if len(card.requests) > PEOPLE_SHOWN:
                more = len(card.requests) - PEOPLE_SHOWN
                lines.append(tn("… and {n} more", "… and {n} more", more).render(lang))
            lines.append(t("Approve with /org approve, or end a request with /org remove.").render(lang))
            value = "\n".join(lines)
        else:
            value = tn("{n} waiting for approval", "{n} waiting for approval", len(card.requests)).render(
                lang
            )
        embed.add_field(
            name=t("Pending requests ({count})", count=len(card.requests)).render(lang),
            value=clip(value, 1024),
            inline=False,
        )
    for name, value in extra or []:
        embed.add_field(name=clip(name, 256), value=clip(value, 1024), inline=False)
    embed.add_field(
        name=t("Registered").render(lang),
        value=t(
            "{date} by {member}", date=f"<t:{org.created_at}:D>", member=mention(org.created_by, lang)
        ).render(lang),
        inline=False,
    )
    embed.set_footer(
        text=t("Organisation #{org_id} · ask to represent it with /org join", org_id=org.org_id).render(lang)
    )
    return fit_embed(embed)


def list_line(row: OrgListRow, lang: str = "en") -> str:
    reps = tn("{n} representative", "{n} representatives", row.rep_count).render(lang)
    return (
        f"**{esc(org_label(row, 90))}** — {esc(country_name(row.country))} ({row.country}) · "
        f"{REGION_SHORT[row.region].render(lang)} · {STAKEHOLDERS[row.stakeholder].render(lang)} · "
        f"{STATES[row.state].render(lang)} · {reps}"
    )


def list_page(
    rows: list[OrgListRow], page: int, title: str, per_page: int = PER_PAGE, lang: str = "en"
) -> discord.Embed:
    """One page of /org list."""
    pages = max(1, (len(rows) + per_page - 1) // per_page)
    page = min(max(page, 0), pages - 1)
    embed = discord.Embed(title=clip(title, 256), colour=discord.Colour.blurple())
    if not rows:
        embed.description = t(
            "No organisations match. Register one with /org register; coordinators import a list with /org import."
        ).render(lang)
        return embed
    embed.description = clip(
        "\n".join(list_line(r, lang) for r in rows[page * per_page : (page + 1) * per_page]), 4096
    )
    # the count is the same in both English forms, as it always said; translators get the plural forms
    footer = tn(
        "Page {page} of {pages} · {n} organisations · /org info for one",
        "Page {page} of {pages} · {n} organisations · /org info for one",
        len(rows), page=page + 1, pages=pages,
    )  # fmt: skip
    embed.set_footer(text=footer.render(lang))
    return embed


def list_pages(
    rows: list[OrgListRow], title: str, per_page: int = PER_PAGE, lang: str = "en"
) -> list[discord.Embed]:
    """Every page of /org list (shown with the shared Previous/Next pager)."""
    count = max(1, (len(rows) + per_page - 1) // per_page)
    return [fit_embed(list_page(rows, n, title, per_page, lang)) for n in range(count)]


def preview_embed(preview: ImportPreview, lang: str = "en") -> discord.Embed:
    """What an import would create, before its Confirm button, in ``lang``."""
    count = len(preview.lines)
    embed = discord.Embed(
        title=tn("Import preview: {n} organisation", "Import preview: {n} organisations", count).render(lang),
        colour=discord.Colour.gold(),
        description=t(
            "Nothing is created until you press **Confirm import**. Imported organisations are **verified** at "
            "once: as a coordinator you vouch for the list. Representatives then ask to join with /org join."
        ).render(lang),
    )
    lines = [
        t(
            "line {line_number}: {organisation}",
            line_number=x.line,
            organisation=f"**{esc(clip(x.name, 80))}**{f' ({esc(x.acronym)})' if x.acronym else ''} · {x.country} · "
            f"{REGION_SHORT[x.region].render(lang)} · {STAKEHOLDERS[x.stakeholder].render(lang)}",
        ).render(lang)
        for x in preview.lines[:5]
    ]
    if count > 5:
        lines.append(tn("… and {n} more", "… and {n} more", count - 5).render(lang))
    embed.add_field(name=t("First lines").render(lang), value=clip("\n".join(lines), 1024), inline=False)
    embed.add_field(
        name=t("By region").render(lang),
        value="\n".join(f"{REGION_SHORT[k].render(lang)}: {n}" for k, n in preview.by_region().items()),
    )
    embed.add_field(
        name=t("By stakeholder group").render(lang),
        value="\n".join(f"{STAKEHOLDERS[k].render(lang)}: {n}" for k, n in preview.by_stakeholder().items()),
    )
    if preview.ignored_columns:
        embed.add_field(
            name=t("Columns ignored").render(lang),
            value=clip(", ".join(preview.ignored_columns), 1024),
            inline=False,
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
        "approve": (t("Approve"), discord.ButtonStyle.success),
        "decline": (t("Decline"), discord.ButtonStyle.secondary),
        "confirm": (t("Confirm import"), discord.ButtonStyle.success),
    }

    def __init__(self, action: str, ref: int, lang: str = "en") -> None:
        text, style = self.LABELS[action]
        super().__init__(
            discord.ui.Button(label=text.render(lang), style=style, custom_id=f"org:{action}:v1:{ref}")
        )
        self.action = action
        self.ref = ref

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> OrgButton:
        return cls(match["action"], int(match["ref"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(interaction, self.handle(interaction, self.action, self.ref))


def request_view(rep_id: int, lang: str = "en") -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(OrgButton("approve", rep_id, lang))
    view.add_item(OrgButton("decline", rep_id, lang))
    return view


def confirm_view(import_id: int, lang: str = "en") -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(OrgButton("confirm", import_id, lang))
    return view
