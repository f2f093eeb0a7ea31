"""How consensus items look: the item message, its position buttons, the reason form, lists and details."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from cogs.ui.boundary import Routed, guarded
from cogs.ui.common import clip, mention, when
from cogs.ui.counting import breakdown_blocks, mode_tag
from cogs.ui.limits import embed_pages, fit_embed
from domain.consensus import STANCE_LABELS, STATUS_LABELS, Item, ItemDetails, ItemView, Stated
from domain.orgs import REGION_SHORT

if TYPE_CHECKING:
    pass

REASON_ID = re.compile(r"item:reason:v1:(?P<item_id>[0-9]{1,18}):(?P<stance>object|block)")
STANCE_STYLE = {
    "agree": ("Agree", discord.ButtonStyle.success),
    "stand_aside": ("Stand aside", discord.ButtonStyle.secondary),
    "object": ("Object", discord.ButtonStyle.primary),
    "block": ("Block", discord.ButtonStyle.danger),
}
STATUS_COLOUR = {
    "open": discord.Colour.blurple(),
    "consensus": discord.Colour.green(),
    "rough_consensus": discord.Colour.dark_green(),
    "no_consensus": discord.Colour.red(),
    "withdrawn": discord.Colour.dark_grey(),
    "answered": discord.Colour.green(),
    "dropped": discord.Colour.dark_grey(),
}


def label(item: Item) -> str:
    return f"{'Point' if item.kind == 'point' else 'Question'} #{item.number}"


def tally_line(view: ItemView) -> str:
    t = view.tally
    return f"Agree {t.agree} · Stand aside {t.stand_aside} · Object {t.object} · Block {t.block}"


def item_embed(view: ItemView) -> discord.Embed:
    """The item's message. User text goes in the embed as typed; embeds never ping anyone."""
    item = view.item
    status = STATUS_LABELS[item.status]
    embed = discord.Embed(
        title=f"{label(item)} · {status}",
        description=item.text,
        colour=STATUS_COLOUR[item.status],
    )
    if view.group is not None:
        embed.add_field(name="Working group", value=clip(view.group.name, 100))
    embed.add_field(name="Proposed by", value=f"<@{item.author_id}>")
    if item.revision > 1:
        embed.add_field(name="Revision", value=f"{item.revision}")
    if item.kind == "point" and view.orgs is not None:
        orgs = view.orgs
        embed.add_field(name="Positions of organisations (counted)", value=tally_line(view), inline=False)
        embed.add_field(name="Organisations", value=f"{len(orgs.in_scope)} counted · {len(orgs.not_responded)} "
                        "not responded")  # fmt: skip
        embed.add_field(name="Open objections", value=str(view.tally.open_objections))
        embed.add_field(
            name="Shown, not counted",
            value=f"{orgs.other_reps} by representatives who are not the voice · {orgs.unaffiliated} by members "
            "without an organisation",
            inline=False,
        )
        if item.status == "open":
            embed.add_field(name="Hint for the conveners", value=view.hint, inline=False)
    elif item.kind == "point":
        embed.add_field(name="Positions", value=tally_line(view), inline=False)
        embed.add_field(name="Open objections", value=str(view.tally.open_objections))
        if item.status == "open":
            embed.add_field(name="Hint for the conveners", value=view.hint, inline=False)
    if item.deadline_at is not None and item.status == "open":
        embed.add_field(name="Comment deadline", value=when(item.deadline_at), inline=False)
    if item.revision > 1 and item.status == "open":
        embed.add_field(
            name="Amended",
            value=f"The text changed (revision {item.revision}): members need to confirm again.",
            inline=False,
        )
    if item.status != "open":
        called = f"Called by <@{item.decided_by}> <t:{item.decided_at}:f>" if item.decided_by else "Decided"
        outcome = f"**{status}** — {called}"
        if item.answer:
            outcome += f"\nAnswer: {clip(item.answer, 900)}"
        if item.outcome_note:
            outcome += f"\nNote: {clip(item.outcome_note, 900)}"
        embed.add_field(name="Outcome", value=outcome, inline=False)  # fit_embed keeps it within 1,024
    counted = (
        " · counted per organisation: each organisation's voice speaks for it"
        if view.orgs is not None
        else ""
    )
    embed.set_footer(
        text=f"{label(item)}{counted} · /consensus show {item.number} for every position and reason"
    )
    return fit_embed(embed)


class PositionButton(
    Routed,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"item:pos:v1:(?P<item_id>[0-9]{1,18}):(?P<stance>agree|stand_aside|object|block)",
):
    """Agree / Stand aside / Object / Block on a point's message; works after restarts."""

    def __init__(self, item_id: int, stance: str, *, disabled: bool = False) -> None:
        text, style = STANCE_STYLE[stance]
        super().__init__(
            discord.ui.Button(
                label=text, style=style, custom_id=f"item:pos:v1:{item_id}:{stance}", disabled=disabled
            )
        )
        self.item_id = item_id
        self.stance = stance

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PositionButton:
        return cls(int(match["item_id"]), match["stance"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(interaction, self.handle(interaction, self.item_id, self.stance))


def item_components(item: Item) -> discord.ui.View:
    """Position buttons for an open point; none for questions and decided points."""
    view = discord.ui.View(timeout=None)
    if item.kind == "point" and item.status == "open":
        for stance in STANCE_STYLE:
            view.add_item(PositionButton(item.item_id, stance))
    return view


def message_kwargs(view: ItemView) -> dict[str, Any]:
    """What an edit of the item message sends."""
    return {"content": None, "embed": item_embed(view), "view": item_components(view.item)}


class ReasonModal(discord.ui.Modal):
    """Asks for the reason of an objection or block. The submit is handled by the cog's listener, by custom_id,
    so a form opened before a restart still works after it."""

    def __init__(self, item: Item, stance: str) -> None:
        super().__init__(
            title=clip(f"{STANCE_LABELS[stance].capitalize()}: {label(item)}", 45),
            custom_id=f"item:reason:v1:{item.item_id}:{stance}",
            timeout=900,
        )
        self.add_item(
            discord.ui.TextInput(
                label="Your reason (required)",
                custom_id="reason",
                style=discord.TextStyle.paragraph,
                min_length=1,
                max_length=1000,
                required=True,
                placeholder="What would have to change for you to agree?",
            )
        )


def modal_values(data: dict[str, Any]) -> dict[str, str]:
    """The text fields of a modal submission, by custom_id (action rows or labels)."""
    values: dict[str, str] = {}

    def walk(components: list[dict[str, Any]]) -> None:
        for comp in components:
            if "custom_id" in comp and "value" in comp:
                values[str(comp["custom_id"])] = str(comp["value"])
            if "components" in comp:
                walk(comp["components"])
            if "component" in comp:
                walk([comp["component"]])

    walk(list(data.get("components", [])))
    return values


def list_pages(items: list[Item], title: str) -> list[discord.Embed]:
    """/consensus list: one line per item, as many pages as it takes."""
    lines = [
        f"**#{item.number}** {item.kind} · {STATUS_LABELS[item.status]}{mode_tag(item.counting)} — "
        f"{clip(' '.join(item.text.split()), 120)}"
        for item in items
    ]
    return embed_pages(
        title, lines, colour=discord.Colour.blurple(), footer=f"{len(items)} items",
        empty="No items match. Propose one with /consensus propose.", per_page=10,
    )  # fmt: skip


OBJECTION_STATE = {
    "open": "open",
    "addressed": "addressed",
    "in_the_rough": "in the rough",
    "withdrawn": "withdrawn",
}


def details_blocks(details: ItemDetails) -> list[str]:
    """The full record of an item as Markdown blocks (an entry each; names are the ones the bot recorded,
    and nothing pings). Every position, reason and objection is there, however many: the caller pages it."""
    view = details.view
    item = view.item
    head = [f"**{label(item)}** · {STATUS_LABELS[item.status]}"]
    if view.group is not None:
        head.append(f"Working group: {view.group.name}")
    head.append(f"Proposed by <@{item.author_id}> <t:{item.created_at}:f>")
    if item.deadline_at:
        head.append(f"Comment deadline: {when(item.deadline_at)}")
    blocks = ["\n".join(head), "**Text**\n" + item.text]
    if item.answer:
        blocks.append("**Answer**\n" + item.answer)
    if item.status != "open" and item.decided_by:
        outcome = f"**Outcome**: {STATUS_LABELS[item.status]}, called by <@{item.decided_by}> <t:{item.decided_at}:f>"
        if item.outcome_note:
            outcome += f"\nNote: {item.outcome_note}"
        blocks.append(outcome)
    if item.kind == "point" and view.orgs is not None:
        blocks += _org_blocks(details)
    elif item.kind == "point":
        blocks.append(f"**Positions on revision {item.revision}** ({tally_line(view)})\nHint: {view.hint}")
        current = [p for p in details.positions if p.revision == item.revision]
        for p in current:
            reason = f": {p.reason}" if p.reason else ""
            blocks.append(f"- <@{p.user_id}> ({p.display_name}) — {STANCE_LABELS[p.stance]}{reason}")
        if not current:
            blocks.append("- nobody yet")
        if details.objections:
            blocks.append(f"**Objection register** ({len(details.objections)})")
            for o in details.objections:
                entry = f"- rev {o.revision}: <@{o.user_id}> ({o.display_name}) {o.stance}s: {o.reason} — *{OBJECTION_STATE[o.state]}*"
                if o.note:
                    entry += f" ({o.note})"
                blocks.append(entry)
        if view.group is not None:
            missing = " ".join(f"<@{uid}>" for uid, _ in details.not_responded) or "everyone has responded"
            blocks.append(
                f"**Not responded yet in {view.group.name}** ({len(details.not_responded)}): {missing}"
            )
    if details.breakdown is not None and details.breakdown.responses + sum(
        line.not_responded or 0 for line in details.breakdown.by_region
    ):
        blocks += breakdown_blocks(details.breakdown)
    if len(details.revisions) > 1:
        blocks.append("**Revision history**")
        for r in details.revisions:
            blocks.append(f"- rev {r.revision} by <@{r.author_id}> <t:{r.created_at}:f>: {clip(r.text, 300)}")
        older = [p for p in details.positions if p.revision != item.revision]
        if older:
            blocks.append(
                f"({len(older)} positions on earlier revisions are kept in history and no longer count.)"
            )
    return blocks


def _org_name(name: str, acronym: str = "") -> str:
    return discord.utils.escape_markdown(name + (f" ({acronym})" if acronym else ""))


def _org_blocks(details: ItemDetails) -> list[str]:
    """A point counted per organisation: the organisations' positions (counted or not, and why), who has not
    responded, their objection register, and the members' own positions shown apart."""
    view = details.view
    item = view.item
    orgs = view.orgs
    assert orgs is not None
    counted = {o.org_id for o in orgs.in_scope}
    group = f"in {view.group.name}" if view.group else ""
    blocks = [f"**Positions of organisations on revision {item.revision}** ({tally_line(view)})\n"
              f"Counted per organisation: only each organisation's voice speaks for it.\nHint: {view.hint}"]  # fmt: skip
    current = [p for p in details.org_positions if p.revision == item.revision]
    for p in current:
        reason = f": {p.reason}" if p.reason else ""
        why = ""
        if p.org_id not in counted:
            why = " — *not counted: " + ("it left the coalition" if p.state == "left" else
                                          f"no representative {group}" if group else "not verified") + "*"  # fmt: skip
        blocks.append(f"- **{_org_name(p.name, p.acronym)}** · {REGION_SHORT[p.region]} — {STANCE_LABELS[p.stance]}"
                      f"{reason} (stated by {mention(p.stated_by)}){why}")  # fmt: skip
    if not current:
        blocks.append("- no organisation yet")
    silent = orgs.not_responded
    names = ", ".join(_org_name(o.name, o.acronym) for o in silent) or "every organisation has responded"
    blocks.append(f"**Organisations not responded yet** ({len(silent)} of {len(orgs.in_scope)}): {names}")
    if details.org_objections:
        blocks.append(f"**Objection register of the organisations** ({len(details.org_objections)})")
        for o in details.org_objections:
            entry = (f"- rev {o.revision}: **{_org_name(o.name)}** {o.stance}s: {o.reason} — "
                     f"*{OBJECTION_STATE[o.state]}* (stated by {mention(o.stated_by)})")  # fmt: skip
            if o.note:
                entry += f" ({o.note})"
            blocks.append(entry)
    standing = {r.user_id: r for r in details.position_orgs}
    voices_now = {o.voice_id for o in orgs.in_scope}
    others, apart = [], []
    for own in details.positions:
        if own.revision != item.revision:
            continue
        said = STANCE_LABELS[own.stance] + (f": {own.reason}" if own.reason else "")
        rep = standing.get(own.user_id)
        if rep is None:
            apart.append(f"- {mention(own.user_id)} ({own.display_name}) — {said}")
        elif not rep.is_voice or own.user_id not in voices_now:
            others.append(f"- {mention(own.user_id)} ({own.display_name}), {_org_name(rep.name)} — {said}")
    if others:
        blocks.append(
            f"**Other representatives** (shown, not counted: their organisation's voice speaks) ({len(others)})"
        )
        blocks += others
    if apart:
        blocks.append(f"**Members without an organisation** (shown apart, not counted) ({len(apart)})")
        blocks += apart
    return blocks


def details_pages(details: ItemDetails) -> list[discord.Embed]:
    """/consensus show: the whole record, over as many pages as it takes."""
    item = details.view.item
    return embed_pages(
        f"{label(item)} · {STATUS_LABELS[item.status]}", details_blocks(details),
        colour=STATUS_COLOUR[item.status], footer=label(item),
    )  # fmt: skip


def recorded_text(stated: Stated, stance: str, *, with_reason: bool) -> str:
    """What a member sees after stating a position; per organisation, whether it counts, and why not."""
    item, standing = stated.item, stated.standing
    what = f"Recorded: {STANCE_LABELS[stance]} on {label(item)}"
    if standing is None:
        if with_reason:
            return f"{what}, with your reason. It is in the objection register."
        return f"{what}."
    reason = " with your reason" if with_reason else ""
    if standing.org_id is None:
        return (f"{what}{reason}. It is shown apart, not counted: {label(item)} counts per organisation and you "
                "represent none (to speak for yours, ask to represent it with /org join).")  # fmt: skip
    org = f"**{discord.utils.escape_markdown(standing.org_name or '')}**"
    if not standing.is_voice:
        voice = f"its voice, {mention(standing.voice_id)}," if standing.voice_id is not None else "its voice"
        return (f"{what}{reason}. It is shown, but not counted: {label(item)} counts per organisation, and {voice} "
                f"speaks for {org}.")  # fmt: skip
    register = f" With your reason it is in the objection register as {org}'s." if with_reason else ""
    if not standing.in_scope:
        return (f"{what} as the position of {org} (you are its voice), but {org} is not counted on {label(item)}: "
                f"none of its representatives is in the point's working group.{register}")  # fmt: skip
    return f"{what} as the position of {org} (you are its voice).{register}"
