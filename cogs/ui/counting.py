"""How counting per organisation and the breakdown by constituency look: the `count` choices, a
breakdown as text blocks and as a chart image."""

from __future__ import annotations

import io

import discord
from discord import app_commands

from cogs.ui.chart import render_breakdown
from domain.counting import MODE_LABELS, ORGANISATIONS, Breakdown, Line

COUNT_CHOICES = [
    app_commands.Choice(name="people: one voice per member (default)", value="people"),
    app_commands.Choice(name="organisations: one voice per organisation, its voice's", value="organisations"),
]


def mode_tag(counting: str) -> str:
    """ " · per organisation" for what counts per organisation, nothing otherwise (lists stay as they were)."""
    return f" · {MODE_LABELS[counting]}" if counting == ORGANISATIONS else ""


def _md(text: str) -> str:
    return discord.utils.escape_markdown(text)


def _line_text(b: Breakdown, line: Line) -> str:
    parts = [f"{_md(label)} {count}" for label, count in zip(b.labels, line.counts, strict=True) if count]
    if line.not_responded:
        parts.append(f"{line.not_responded} not responded")
    return f"- {_md(line.label)}: " + (" · ".join(parts) if parts else "nothing yet")


def breakdown_blocks(b: Breakdown) -> list[str]:
    """The breakdown as Markdown blocks (a heading and one line per region or stakeholder group)."""
    unit = "organisations" if b.unit == ORGANISATIONS else "members, by the organisation they represent"
    return [
        f"**Support by region** ({unit})",
        *(_line_text(b, line) for line in b.by_region),
        "**Support by stakeholder group**",
        *(_line_text(b, line) for line in b.by_stakeholder),
    ]


def breakdown_fields(embed: discord.Embed, b: Breakdown) -> discord.Embed:
    """The breakdown as two fields of an embed (the caller fits the embed within Discord's limits)."""
    blocks = breakdown_blocks(b)
    split = blocks.index("**Support by stakeholder group**")
    embed.add_field(name=blocks[0].replace("**", ""), value="\n".join(blocks[1:split]) or "—", inline=False)
    embed.add_field(
        name="Support by stakeholder group", value="\n".join(blocks[split + 1 :]) or "—", inline=False
    )
    return embed


def breakdown_png(b: Breakdown, title: str, footer: str) -> bytes:
    """The breakdown as a chart: one bar per region and per stakeholder group, split by choice."""
    choices = list(zip(b.choices, b.labels, strict=True))
    sections = [
        ("By region", [(line.label, line.counts, line.not_responded) for line in b.by_region]),
        (
            "By stakeholder group",
            [(line.label, line.counts, line.not_responded) for line in b.by_stakeholder],
        ),
    ]
    return render_breakdown(title, choices, sections, footer)


def breakdown_file(b: Breakdown, title: str, footer: str, filename: str) -> discord.File:
    """The breakdown's chart as an attachment."""
    return discord.File(io.BytesIO(breakdown_png(b, title, footer)), filename=filename)
