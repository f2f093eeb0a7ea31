"""How consensus items look: the item message, its position buttons, the reason form, lists and details,
each in the language it is shown in (``lang``)."""

from __future__ import annotations

import re
from typing import Any

import discord

from cogs.ui.boundary import Routed, guarded
from cogs.ui.common import clip, mention, when
from cogs.ui.counting import breakdown_blocks, mode_tag
from cogs.ui.limits import embed_pages, fit_embed
from domain.consensus import STANCE_LABELS, STATUS_TEXTS, Item, ItemDetails, ItemView, Stated
from domain.i18n import Text, t, tn
from domain.orgs import REGION_SHORT

REASON_ID = re.compile(r"item:reason:v1:(?P<item_id>[0-9]{1,18}):(?P<stance>object|block)")
STANCE_STYLE = {
    "agree": (t("Agree"), discord.ButtonStyle.success),
    "stand_aside": (t("Stand aside"), discord.ButtonStyle.secondary),
    "object": (t("Object"), discord.ButtonStyle.primary),
    "block": (t("Block"), discord.ButtonStyle.danger),
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
KINDS = {"point": t("point"), "question": t("question")}


def _user(user_id: int) -> str:
    """A member's mention as markup (never pings here)."""
    return f"<@{user_id}>"


def _time(unix: int | None, style: str = "f") -> str:
    """A time as Discord markup: each member sees it in their own zone."""
    return f"<t:{unix}:{style}>"


def label(item: Item) -> Text:
    """ "Point #3" or "Question #3"."""
    if item.kind == "point":
        return t("Point #{number}", number=item.number)
    return t("Question #{number}", number=item.number)


def tally_line(view: ItemView, lang: str) -> str:
    tally = view.tally
    return t(
        "Agree {agree} · Stand aside {stand_aside} · Object {object} · Block {block}",
        agree=tally.agree,
        stand_aside=tally.stand_aside,
        object=tally.object,
        block=tally.block,
    ).render(lang)


def _said(stance: str, reason: str | None) -> Text:
    """A position as the lists show it: its stance, and its reason if it has one."""
    if reason:
        return t("{stance}: {reason}", stance=STANCE_LABELS[stance], reason=reason)
    return STANCE_LABELS[stance]


def item_embed(view: ItemView, lang: str) -> discord.Embed:
    """The item's message in ``lang``. User text goes in the embed as typed; embeds never ping anyone."""
    item = view.item
    status = STATUS_TEXTS[item.status].render(lang)

    def field(name: Text, value: str, *, inline: bool = True) -> None:
        embed.add_field(name=name.render(lang), value=value, inline=inline)

    embed = discord.Embed(
        title=f"{label(item).render(lang)} · {status}",
        description=item.text,
        colour=STATUS_COLOUR[item.status],
    )
    if view.group is not None:
        field(t("Working group"), clip(view.group.name, 100))
    field(t("Proposed by"), f"<@{item.author_id}>")
    if item.revision > 1:
        field(t("Revision"), f"{item.revision}")
    if item.kind == "point" and view.orgs is not None:
        orgs = view.orgs
        field(t("Positions of organisations (counted)"), tally_line(view, lang), inline=False)
        counted = t("{counted} counted · {silent} not responded", counted=len(orgs.in_scope),
                    silent=len(orgs.not_responded))  # fmt: skip
        field(t("Organisations"), counted.render(lang))
        field(t("Open objections"), str(view.tally.open_objections))
        apart = t("{others} by representatives who are not the voice · {apart} by members without an organisation",
                  others=orgs.other_reps, apart=orgs.unaffiliated)  # fmt: skip
        field(t("Shown, not counted"), apart.render(lang), inline=False)
        if item.status == "open":
            field(t("Hint for the conveners"), view.hint.render(lang), inline=False)
    elif item.kind == "point":
        field(t("Positions"), tally_line(view, lang), inline=False)
        field(t("Open objections"), str(view.tally.open_objections))
        if item.status == "open":
            field(t("Hint for the conveners"), view.hint.render(lang), inline=False)
    if item.deadline_at is not None and item.status == "open":
        field(t("Comment deadline"), when(item.deadline_at), inline=False)
    if item.revision > 1 and item.status == "open":
        changed = t("The text changed (revision {revision_number}): members need to confirm again.",
                    revision_number=item.revision)  # fmt: skip
        field(t("Amended"), changed.render(lang), inline=False)
    if item.status != "open":
        called = (
            t("Called by {member} {time}", member=_user(item.decided_by), time=_time(item.decided_at))
            if item.decided_by
            else t("Decided")
        )
        outcome = f"**{status}** — {called.render(lang)}"
        if item.answer:
            outcome += "\n" + t("Answer: {answer}", answer=clip(item.answer, 900)).render(lang)
        if item.outcome_note:
            outcome += "\n" + t("Note: {note}", note=clip(item.outcome_note, 900)).render(lang)
        field(t("Outcome"), outcome, inline=False)  # fit_embed keeps it within 1,024
    footer = (
        t("{item} · counted per organisation: each organisation's voice speaks for it · /consensus show {number} "
          "for every position and reason", item=label(item), number=item.number)
        if view.orgs is not None
        else t("{item} · /consensus show {number} for every position and reason", item=label(item),
               number=item.number)
    )  # fmt: skip
    embed.set_footer(text=footer.render(lang))
    return fit_embed(embed)


class PositionButton(
    Routed,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"item:pos:v1:(?P<item_id>[0-9]{1,18}):(?P<stance>agree|stand_aside|object|block)",
):
    """Agree / Stand aside / Object / Block on a point's message (labelled in the message's language);
    works after restarts."""

    def __init__(self, item_id: int, stance: str, *, disabled: bool = False, lang: str = "en") -> None:
        text, style = STANCE_STYLE[stance]
        super().__init__(
            discord.ui.Button(
                label=text.render(lang), style=style, custom_id=f"item:pos:v1:{item_id}:{stance}",
                disabled=disabled,
            )
        )  # fmt: skip
        self.item_id = item_id
        self.stance = stance

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PositionButton:
        return cls(int(match["item_id"]), match["stance"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(interaction, self.handle(interaction, self.item_id, self.stance))


def item_components(item: Item, lang: str) -> discord.ui.View:
    """Position buttons for an open point (labelled in ``lang``); none for questions and decided points."""
    view = discord.ui.View(timeout=None)
    if item.kind == "point" and item.status == "open":
        for stance in STANCE_STYLE:
            view.add_item(PositionButton(item.item_id, stance, lang=lang))
    return view


def message_kwargs(view: ItemView, lang: str) -> dict[str, Any]:
    """What an edit of the item message sends (in ``lang``, the message's language)."""
    return {"content": None, "embed": item_embed(view, lang), "view": item_components(view.item, lang)}


class ReasonModal(discord.ui.Modal):
    """Asks for the reason of an objection or block (in the member's language). The submit is handled by
    the cog's listener, by custom_id, so a form opened before a restart still works after it."""

    def __init__(self, item: Item, stance: str, lang: str = "en") -> None:
        title = (
            t("Block: {item}", item=label(item))
            if stance == "block"
            else t("Object: {item}", item=label(item))
        )
        super().__init__(
            title=clip(title.render(lang), 45),
            custom_id=f"item:reason:v1:{item.item_id}:{stance}",
            timeout=900,
        )
        self.add_item(
            discord.ui.TextInput(
                label=t("Your reason (required)").render(lang),
                custom_id="reason",
                style=discord.TextStyle.paragraph,
                min_length=1,
                max_length=1000,
                required=True,
                placeholder=t("What would have to change for you to agree?").render(lang),
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


def list_pages(items: list[Item], title: str, lang: str) -> list[discord.Embed]:
    """/consensus list: one line per item, as many pages as it takes."""
    lines = [
        f"**#{item.number}** {KINDS[item.kind].render(lang)} · {STATUS_TEXTS[item.status].render(lang)}"
        f"{mode_tag(item.counting, lang)} — {clip(' '.join(item.text.split()), 120)}"
        for item in items
    ]
    return embed_pages(
        title, lines, colour=discord.Colour.blurple(), footer=tn("{n} item", "{n} items", len(items)),
        empty=t("No items match. Propose one with /consensus propose."), per_page=10, lang=lang,
    )  # fmt: skip


OBJECTION_STATE = {
    "open": t("open"),
    "addressed": t("addressed"),
    "in_the_rough": t("in the rough"),
    "withdrawn": t("withdrawn"),
}


def _objection(stance: str, revision: int, who: str, reason: str, state: str) -> Text:
    """An objection register's entry: "- rev 2: <who> objects: <reason> — *open*"."""
    if stance == "block":
        return t("- rev {revision_number}: {who} blocks: {reason} — *{state}*", revision_number=revision, who=who,
                 reason=reason, state=OBJECTION_STATE[state])  # fmt: skip
    return t("- rev {revision_number}: {who} objects: {reason} — *{state}*", revision_number=revision, who=who,
             reason=reason, state=OBJECTION_STATE[state])  # fmt: skip


def details_blocks(details: ItemDetails, lang: str) -> list[str]:
    """The full record of an item as Markdown blocks in ``lang`` (an entry each; names are the ones the bot
    recorded, and nothing pings). Every position, reason and objection is there, however many: the caller
    pages it."""
    view = details.view
    item = view.item

    def say(text: Text) -> str:
        return text.render(lang)

    head = [f"**{say(label(item))}** · {say(STATUS_TEXTS[item.status])}"]
    if view.group is not None:
        head.append(say(t("Working group: {group}", group=view.group.name)))
    head.append(
        say(t("Proposed by {member} {time}", member=_user(item.author_id), time=_time(item.created_at)))
    )
    if item.deadline_at:
        head.append(say(t("Comment deadline: {when}", when=when(item.deadline_at))))
    blocks = ["\n".join(head), say(t("**Text**")) + "\n" + item.text]
    if item.answer:
        blocks.append(say(t("**Answer**")) + "\n" + item.answer)
    if item.status != "open" and item.decided_by:
        outcome = say(t("**Outcome**: {status}, called by {member} {time}", status=STATUS_TEXTS[item.status],
                        member=_user(item.decided_by), time=_time(item.decided_at)))  # fmt: skip
        if item.outcome_note:
            outcome += "\n" + say(t("Note: {note}", note=item.outcome_note))
        blocks.append(outcome)
    if item.kind == "point" and view.orgs is not None:
        blocks += _org_blocks(details, lang)
    elif item.kind == "point":
        positions = t("**Positions on revision {revision_number}** ({tally})", revision_number=item.revision,
                      tally=tally_line(view, lang))  # fmt: skip
        blocks.append(say(positions) + "\n" + say(t("Hint: {hint}", hint=view.hint)))
        current = [p for p in details.positions if p.revision == item.revision]
        for p in current:
            said = _said(p.stance, p.reason)
            blocks.append(say(t("- {member} ({name}) — {said}", member=_user(p.user_id), name=p.display_name,
                                said=said)))  # fmt: skip
        if not current:
            blocks.append(say(t("- nobody yet")))
        if details.objections:
            blocks.append(say(t("**Objection register** ({count})", count=len(details.objections))))
            for o in details.objections:
                who = f"<@{o.user_id}> ({o.display_name})"
                entry = say(_objection(o.stance, o.revision, who, o.reason, o.state))
                if o.note:
                    entry += f" ({o.note})"
                blocks.append(entry)
        if view.group is not None:
            missing = " ".join(f"<@{uid}>" for uid, _ in details.not_responded) or say(
                t("everyone has responded")
            )
            blocks.append(say(t("**Not responded yet in {group}** ({count}): {members}", group=view.group.name,
                                count=len(details.not_responded), members=missing)))  # fmt: skip
    if details.breakdown is not None and details.breakdown.responses + sum(
        line.not_responded or 0 for line in details.breakdown.by_region
    ):
        blocks += breakdown_blocks(details.breakdown, lang)
    if len(details.revisions) > 1:
        blocks.append(say(t("**Revision history**")))
        for r in details.revisions:
            blocks.append(say(t("- rev {revision_number} by {member} {time}: {text}", revision_number=r.revision,
                                member=_user(r.author_id), time=_time(r.created_at), text=clip(r.text, 300))))  # fmt: skip
        older = [p for p in details.positions if p.revision != item.revision]
        if older:
            blocks.append(say(tn("({n} position on earlier revisions is kept in history and no longer counts.)",
                                 "({n} positions on earlier revisions are kept in history and no longer count.)",
                                 len(older))))  # fmt: skip
    return blocks


def _org_name(name: str, acronym: str = "") -> str:
    return discord.utils.escape_markdown(name + (f" ({acronym})" if acronym else ""))


def _org_blocks(details: ItemDetails, lang: str) -> list[str]:
    """A point counted per organisation: the organisations' positions (counted or not, and why), who has not
    responded, their objection register, and the members' own positions shown apart."""
    view = details.view
    item = view.item
    orgs = view.orgs
    assert orgs is not None

    def say(text: Text) -> str:
        return text.render(lang)

    counted = {o.org_id for o in orgs.in_scope}
    heading = t("**Positions of organisations on revision {revision_number}** ({tally})",
                revision_number=item.revision, tally=tally_line(view, lang))  # fmt: skip
    blocks = [
        "\n".join((say(heading), say(t("Counted per organisation: only each organisation's voice speaks for it.")),
                   say(t("Hint: {hint}", hint=view.hint))))
    ]  # fmt: skip
    current = [p for p in details.org_positions if p.revision == item.revision]
    for p in current:
        line = t("- **{org}** · {region} — {said} (stated by {member})", org=_org_name(p.name, p.acronym),
                 region=REGION_SHORT[p.region], said=_said(p.stance, p.reason), member=mention(p.stated_by, lang))  # fmt: skip
        if p.org_id not in counted:
            why = (
                t("it left the coalition") if p.state == "left"
                else t("no representative in {group}", group=view.group.name) if view.group
                else t("not verified")
            )  # fmt: skip
            line = t("{position} — *not counted: {why}*", position=line, why=why)
        blocks.append(say(line))
    if not current:
        blocks.append(say(t("- no organisation yet")))
    silent = orgs.not_responded
    names = ", ".join(_org_name(o.name, o.acronym) for o in silent) or say(
        t("every organisation has responded")
    )
    blocks.append(say(t("**Organisations not responded yet** ({count} of {total}): {names}", count=len(silent),
                        total=len(orgs.in_scope), names=names)))  # fmt: skip
    if details.org_objections:
        blocks.append(say(t("**Objection register of the organisations** ({count})",
                            count=len(details.org_objections))))  # fmt: skip
        for o in details.org_objections:
            entry = t("{entry} (stated by {member})", entry=_objection(o.stance, o.revision, f"**{_org_name(o.name)}**",
                      o.reason, o.state), member=mention(o.stated_by, lang))  # fmt: skip
            shown = say(entry)
            if o.note:
                shown += f" ({o.note})"
            blocks.append(shown)
    standing = {r.user_id: r for r in details.position_orgs}
    voices_now = {o.voice_id for o in orgs.in_scope}
    others, apart = [], []
    for own in details.positions:
        if own.revision != item.revision:
            continue
        said = _said(own.stance, own.reason)
        rep = standing.get(own.user_id)
        if rep is None:
            apart.append(say(t("- {member} ({name}) — {said}", member=mention(own.user_id, lang),
                               name=own.display_name, said=said)))  # fmt: skip
        elif not rep.is_voice or own.user_id not in voices_now:
            others.append(say(t("- {member} ({name}), {org} — {said}", member=mention(own.user_id, lang),
                                name=own.display_name, org=_org_name(rep.name), said=said)))  # fmt: skip
    if others:
        blocks.append(say(t("**Other representatives** (shown, not counted: their organisation's voice speaks) "
                            "({count})", count=len(others))))  # fmt: skip
        blocks += others
    if apart:
        blocks.append(say(t("**Members without an organisation** (shown apart, not counted) ({count})",
                            count=len(apart))))  # fmt: skip
        blocks += apart
    return blocks


def details_pages(details: ItemDetails, lang: str) -> list[discord.Embed]:
    """/consensus show: the whole record, over as many pages as it takes."""
    item = details.view.item
    name = label(item).render(lang)
    return embed_pages(
        f"{name} · {STATUS_TEXTS[item.status].render(lang)}", details_blocks(details, lang),
        colour=STATUS_COLOUR[item.status], footer=name, lang=lang,
    )  # fmt: skip


def recorded_text(stated: Stated, stance: str, *, with_reason: bool, lang: str) -> str:
    """What a member sees after stating a position (in their language); per organisation, whether it
    counts, and why not."""
    item, standing = stated.item, stated.standing
    said = STANCE_LABELS[stance]
    point = label(item)
    if standing is None:
        if with_reason:
            return t("Recorded: {stance} on {item}, with your reason. It is in the objection register.",
                     stance=said, item=point).render(lang)  # fmt: skip
        return t("Recorded: {stance} on {item}.", stance=said, item=point).render(lang)
    if standing.org_id is None:
        if with_reason:
            return t("Recorded: {stance} on {item} with your reason. It is shown apart, not counted: {item} counts "
                     "per organisation and you represent none (to speak for yours, ask to represent it with /org "
                     "join).", stance=said, item=point).render(lang)  # fmt: skip
        return t("Recorded: {stance} on {item}. It is shown apart, not counted: {item} counts per organisation and "
                 "you represent none (to speak for yours, ask to represent it with /org join).", stance=said,
                 item=point).render(lang)  # fmt: skip
    org = f"**{discord.utils.escape_markdown(standing.org_name or '')}**"
    if not standing.is_voice:
        return _not_the_voice(said, point, org, standing.voice_id, with_reason=with_reason, lang=lang).render(
            lang
        )
    register = (
        " " + t("With your reason it is in the objection register as {org}'s.", org=org).render(lang)
        if with_reason
        else ""
    )
    if not standing.in_scope:
        return t("Recorded: {stance} on {item} as the position of {org} (you are its voice), but {org} is not "
                 "counted on {item}: none of its representatives is in the point's working group.", stance=said,
                 item=point, org=org).render(lang) + register  # fmt: skip
    return t("Recorded: {stance} on {item} as the position of {org} (you are its voice).", stance=said, item=point,
             org=org).render(lang) + register  # fmt: skip


def _not_the_voice(
    said: Text, point: Text, org: str, voice_id: int | None, *, with_reason: bool, lang: str
) -> Text:
    """A position recorded, not counted: the member's organisation speaks through its voice."""
    if voice_id is not None and with_reason:
        return t("Recorded: {stance} on {item} with your reason. It is shown, but not counted: {item} counts per "
                 "organisation, and its voice, {voice}, speaks for {org}.", stance=said, item=point,
                 voice=mention(voice_id, lang), org=org)  # fmt: skip
    if voice_id is not None:
        return t("Recorded: {stance} on {item}. It is shown, but not counted: {item} counts per organisation, and "
                 "its voice, {voice}, speaks for {org}.", stance=said, item=point, voice=mention(voice_id, lang), org=org)  # fmt: skip
    if with_reason:
        return t("Recorded: {stance} on {item} with your reason. It is shown, but not counted: {item} counts per "
                 "organisation, and its voice speaks for {org}.", stance=said, item=point, org=org)  # fmt: skip
    return t("Recorded: {stance} on {item}. It is shown, but not counted: {item} counts per organisation, and its "
             "voice speaks for {org}.", stance=said, item=point, org=org)  # fmt: skip
