"""A poll's result as a PNG bar chart, drawn with a system font that has accented and Arabic letters
(DejaVu Sans and the like), else Pillow's built-in font (no font files to ship)."""

from __future__ import annotations

import functools
import io
import textwrap
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from domain.i18n import Text, render, t

WIDTH = 900
MARGIN = 28
ROW = 38
LABEL_WIDTH = 330
COUNT_WIDTH = 130
BACKGROUND = (255, 255, 255)
TEXT = (35, 39, 42)
MUTED = (110, 115, 125)
TRACK = (232, 234, 240)
BAR = (88, 101, 242)  # Discord blurple
LEADER = (59, 165, 93)  # the leading option(s)


#: Fonts with accented Latin letters and Arabic, looked for in the system's font folders. Pillow's own
#: font has plain ASCII only: "é", "ã" or any Arabic letter would be drawn as a box.
FONTS = ("DejaVuSans.ttf", "NotoSans-Regular.ttf", "LiberationSans-Regular.ttf", "Arial.ttf")


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in FONTS:
        try:
            return ImageFont.truetype(name, size)
        except OSError:  # not installed here
            continue
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # a Pillow without FreeType: the small bitmap font still works
        return ImageFont.load_default()


def _fit(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int
) -> str:
    """The text cut with an ellipsis to fit ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def render_chart(
    title: str, options: Sequence[tuple[str, int]], ballots: int, footer: str | Text, lang: str = "en"
) -> bytes:
    """A horizontal bar chart of votes per option (share of ballots), as PNG bytes; its own words (each
    option's votes and share, the footer) in ``lang``. The title and the options are what members wrote."""
    footer = render(footer, lang)
    title_font, font, small = _font(22), _font(17), _font(14)
    title_lines = textwrap.wrap(" ".join(title.split()), width=70)[:3] or [""]
    top = MARGIN + 30 * len(title_lines) + 14
    height = top + ROW * len(options) + 24 + MARGIN
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(title_lines):
        draw.text(
            (MARGIN, MARGIN + 30 * n),
            _fit(draw, line, title_font, WIDTH - 2 * MARGIN),
            font=title_font,
            fill=TEXT,
        )
    most = max((votes for _, votes in options), default=0)
    bar_left = MARGIN + LABEL_WIDTH + 12
    bar_width = WIDTH - MARGIN - COUNT_WIDTH - bar_left
    for n, (label, votes) in enumerate(options):
        y = top + ROW * n
        draw.text((MARGIN, y + 8), _fit(draw, f"{n + 1}. {label}", font, LABEL_WIDTH), font=font, fill=TEXT)
        draw.rectangle((bar_left, y + 6, bar_left + bar_width, y + ROW - 8), fill=TRACK)
        if votes and ballots:
            length = max(2, round(bar_width * votes / ballots))
            colour = LEADER if votes == most else BAR
            draw.rectangle((bar_left, y + 6, bar_left + length, y + ROW - 8), fill=colour)
        share = (
            t("{votes} ({percent}%)", votes=votes, percent=round(100 * votes / ballots)).render(lang)
            if ballots
            else "0"
        )
        draw.text((bar_left + bar_width + 12, y + 8), share, font=font, fill=TEXT)
    draw.text(
        (MARGIN, height - MARGIN - 10), _fit(draw, footer, small, WIDTH - 2 * MARGIN), font=small, fill=MUTED
    )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


# -- support by constituency ------------------------------------------------------------------------------

STANCE_COLOURS = {
    "agree": (59, 165, 93),
    "stand_aside": (148, 155, 164),
    "object": (250, 166, 26),
    "block": (237, 66, 69),
}
PALETTE = ((88, 101, 242), (59, 165, 93), (250, 166, 26), (237, 66, 69), (155, 89, 182), (26, 188, 156),
           (233, 30, 99), (52, 73, 94), (241, 196, 15), (127, 140, 141))  # fmt: skip
SILENT = (205, 208, 214)  # organisations in scope that have not responded
SECTION = 34
LEGEND = 30


def _colour(key: str, n: int) -> tuple[int, int, int]:
    return STANCE_COLOURS.get(key) or PALETTE[n % len(PALETTE)]


def render_breakdown(
    title: str,
    choices: Sequence[tuple[str, str]],
    sections: Sequence[tuple[str, Sequence[tuple[str, Sequence[int], int | None]]]],
    footer: str | Text,
    lang: str = "en",
) -> bytes:
    """Stacked horizontal bars, one per line (a region, a stakeholder group), split by choice; ``choices``
    are (key, label), ``sections`` (heading, [(line label, counts per choice, not responded or None)]), all
    as they are shown; the chart's own words (the legend of silence, the counts, the footer) in ``lang``.
    Bars share one scale (the longest line), so regions can be compared at a glance. PNG bytes."""
    footer = render(footer, lang)
    title_font, font, small = _font(22), _font(17), _font(14)
    title_lines = textwrap.wrap(" ".join(title.split()), width=70)[:2] or [""]
    silent_used = any(s for _, lines in sections for _, _, s in lines)
    legend = [(label, _colour(key, n)) for n, (key, label) in enumerate(choices)]
    if silent_used:
        legend.append((t("not responded").render(lang), SILENT))
    legend_rows: list[list[tuple[str, tuple[int, int, int]]]] = [[]]
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    used = 0
    for label, colour in legend:
        width = 26 + min(int(probe.textlength(label, font=small)), 240) + 22
        if used + width > WIDTH - 2 * MARGIN and legend_rows[-1]:
            legend_rows.append([])
            used = 0
        legend_rows[-1].append((label, colour))
        used += width
    rows = sum(len(lines) for _, lines in sections)
    top = MARGIN + 30 * len(title_lines) + 8
    height = top + LEGEND * len(legend_rows) + SECTION * len(sections) + ROW * rows + 24 + MARGIN
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(title_lines):
        draw.text((MARGIN, MARGIN + 30 * n), _fit(draw, line, title_font, WIDTH - 2 * MARGIN), font=title_font,
                  fill=TEXT)  # fmt: skip
    y = top
    for legend_row in legend_rows:
        x = MARGIN
        for label, colour in legend_row:
            draw.rectangle((x, y + 6, x + 16, y + 22), fill=colour)
            text = _fit(draw, label, small, 240)
            draw.text((x + 22, y + 6), text, font=small, fill=TEXT)
            x += 26 + int(draw.textlength(text, font=small)) + 22
        y += LEGEND
    longest = max((sum(c) + (s or 0) for _, lines in sections for _, c, s in lines), default=0) or 1
    bar_left = MARGIN + LABEL_WIDTH - 90 + 12
    bar_width = WIDTH - MARGIN - COUNT_WIDTH - bar_left
    for heading, lines in sections:
        draw.text((MARGIN, y + 8), heading, font=font, fill=MUTED)
        y += SECTION
        for label, counts, silent in lines:
            draw.text((MARGIN, y + 8), _fit(draw, label, font, LABEL_WIDTH - 90), font=font, fill=TEXT)
            draw.rectangle((bar_left, y + 6, bar_left + bar_width, y + ROW - 8), fill=TRACK)
            start = float(bar_left)
            segments = [
                (count, _colour(key, n))
                for n, ((key, _), count) in enumerate(zip(choices, counts, strict=True))
            ]
            if silent:
                segments.append((silent, SILENT))
            for count, colour in segments:
                if count:
                    length = bar_width * count / longest
                    draw.rectangle((round(start), y + 6, max(round(start) + 2, round(start + length)), y + ROW - 8),
                                   fill=colour)  # fmt: skip
                    start += length
            total = sum(counts)
            note = (
                t("{total} (+{silent} silent)", total=total, silent=silent).render(lang)
                if silent
                else f"{total}"
            )
            draw.text((bar_left + bar_width + 12, y + 8), _fit(draw, note, small, COUNT_WIDTH - 14), font=small,
                      fill=TEXT)  # fmt: skip
            y += ROW
    draw.text(
        (MARGIN, height - MARGIN - 10), _fit(draw, footer, small, WIDTH - 2 * MARGIN), font=small, fill=MUTED
    )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
