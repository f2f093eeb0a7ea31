"""How counting per organisation and the breakdown by constituency look: the `count` choices, a
breakdown as text blocks and as a chart image, in the reader's language."""

from __future__ import annotations

import io

import discord
from discord import app_commands

from cogs.ui.chart import render_breakdown
from domain.consensus import STANCE_LABELS
from domain.counting import MODE_LABELS, ORGANISATIONS, UNIT_LABELS, Breakdown, Line
from domain.i18n import Text, render, t

COUNT_CHOICES = [
    app_commands.Choice(name="people: one voice per member (default)", value="people"),
    app_commands.Choice(name="organisations: one voice per organisation, its voice's", value="organisations"),
]


def mode_tag(counting: str, lang: str) -> str:
    """ " · per organisation" for what counts per organisation, nothing otherwise (lists stay as they were)."""
    return f" · {MODE_LABELS[counting].render(lang)}" if counting == ORGANISATIONS else ""


def _md(text: str) -> str:
    return discord.utils.escape_markdown(text)


def choice_labels(b: Breakdown) -> list[Text | str]:
    """The labels of a breakdown's choices to show: a stance in the reader's language, a poll's option as
    its author wrote it (the breakdown itself keeps the English ones, for exports)."""
    return [STANCE_LABELS.get(key, label) for key, label in zip(b.choices, b.labels, strict=True)]


def _line_text(b: Breakdown, line: Line, lang: str) -> str:
    labels = [render(label, lang) for label in choice_labels(b)]
    parts = [
        t("{choice} {count}", choice=_md(label), count=count).render(lang)
        for label, count in zip(labels, line.counts, strict=True)
        if count
    ]
    if line.not_responded:
        parts.append(t("{count} not responded", count=line.not_responded).render(lang))
    said = " · ".join(parts) if parts else t("nothing yet").render(lang)
    return t("- {line}: {counts}", line=_md(render(line.shown, lang)), counts=said).render(lang)


def _headings(b: Breakdown, lang: str) -> tuple[str, str]:
    """The headings of the two parts: by region (with what is counted), by stakeholder group."""
    region = t("Support by region ({unit})", unit=UNIT_LABELS[b.unit]).render(lang)
    return region, t("Support by stakeholder group").render(lang)


def breakdown_blocks(b: Breakdown, lang: str) -> list[str]:
    """The breakdown as Markdown blocks (a heading and one line per region or stakeholder group)."""
    region, stakeholder = _headings(b, lang)
    return [
        f"**{region}**",
        *(_line_text(b, line, lang) for line in b.by_region),
        f"**{stakeholder}**",
        *(_line_text(b, line, lang) for line in b.by_stakeholder),
    ]


def breakdown_fields(embed: discord.Embed, b: Breakdown, lang: str) -> discord.Embed:
    """The breakdown as two fields of an embed (the caller fits the embed within Discord's limits)."""
    region, stakeholder = _headings(b, lang)
    regions = "\n".join(_line_text(b, line, lang) for line in b.by_region)
    groups = "\n".join(_line_text(b, line, lang) for line in b.by_stakeholder)
    embed.add_field(name=region, value=regions or "—", inline=False)
    embed.add_field(name=stakeholder, value=groups or "—", inline=False)
    return embed


def breakdown_png(b: Breakdown, title: str, footer: str, lang: str) -> bytes:
    """The breakdown as a chart: one bar per region and per stakeholder group, split by choice (its words
    in ``lang``)."""
    choices = [(key, render(label, lang)) for key, label in zip(b.choices, choice_labels(b), strict=True)]
    sections = [
        (
            t("By region").render(lang),
            [(render(line.shown, lang), line.counts, line.not_responded) for line in b.by_region],
        ),
        (
            t("By stakeholder group").render(lang),
            [(render(line.shown, lang), line.counts, line.not_responded) for line in b.by_stakeholder],
        ),
    ]
    return render_breakdown(title, choices, sections, footer, lang)


def breakdown_file(b: Breakdown, title: str, footer: str, filename: str, lang: str) -> discord.File:
    """The breakdown's chart as an attachment."""
    return discord.File(io.BytesIO(breakdown_png(b, title, footer, lang)), filename=filename)
