"""How statements look: the card (the last part of a statement's post, with its buttons), the parts of its
text, the whole text as ephemeral pages, the closing post, and the buttons, which work after restarts."""

from __future__ import annotations

import re
from typing import Any

import discord

from cogs.ui.boundary import Routed, guarded
from cogs.ui.common import clip, when
from cogs.ui.limits import Part, embed_pages, fit_embed, text_parts
from domain.orgs import REGION_SHORT, STAKEHOLDERS
from domain.statements import Counts, Signed, StatementView, short

SIGN = "Sign on behalf of your organisation"
INDIVIDUAL = "Sign as an individual"
CONFIRM = "Confirm our signature"
WITHDRAW = "Withdraw our signature"
LISTED = "Listed by name"
COUNTED = "Counted only"
STATE_COLOUR = {
    "draft": discord.Colour.gold(),
    "open": discord.Colour.blurple(),
    "closed": discord.Colour.dark_grey(),
}


def esc(text: str) -> str:
    return discord.utils.escape_markdown(text)


def label(view: StatementView) -> str:
    return f"Statement #{view.statement.number}"


def state_text(view: StatementView) -> str:
    """Draft, open until…, or closed when."""
    st = view.statement
    if st.state == "draft":
        return "Draft: not open for signature yet"
    if st.state == "closed":
        return f"Closed {when(st.closed_at)}"
    if view.closed:
        return f"Closed at its deadline, {when(st.closes_at)}"
    return f"Open for signature until {when(st.closes_at)}"


def version_text(view: StatementView) -> str:
    return f"Version {view.version.version} · fingerprint `{short(view.version.fingerprint)}`"


def organisations_text(counts: Counts, version: int) -> str:
    """The live count of organisations: listed and counted only, and, after an amendment, confirmed and pending."""
    text = f"**{counts.organisations}** signed ({counts.listed} listed by name, {counts.counted_only} counted only)"
    if version > 1 or counts.pending:
        text += (
            f"\n**{counts.confirmed}** confirmed on version {version} · **{counts.pending}** pending "
            "(signed an earlier version)"
        )
    return text


def individuals_text(counts: Counts, version: int) -> str:
    text = f"**{counts.individuals}** signed (names shown only to coordinators)"
    if counts.individuals_pending:
        text += (
            f"\n**{counts.individuals_confirmed}** confirmed on version {version} · "
            f"**{counts.individuals_pending}** pending"
        )
    return text


def breakdown(counts: Counts) -> tuple[str, str]:
    """Per region and per stakeholder group (organisations on the current version)."""
    regions = " · ".join(f"{REGION_SHORT[k]} {n}" for k, n in counts.by_region.items())
    groups = " · ".join(f"{STAKEHOLDERS[k]} {n}" for k, n in counts.by_stakeholder.items())
    return regions, groups


def card_embed(view: StatementView) -> discord.Embed:
    """The statement's card: its state, version and fingerprint, the live counts, how to sign."""
    st, counts = view.statement, view.counts
    embed = discord.Embed(
        title=clip(f"{label(view)} · {st.title}", 256),
        colour=STATE_COLOUR["closed" if view.closed else st.state],
    )
    lines = [state_text(view), version_text(view)]
    if view.group_name:
        lines.append(f"From the working group **{esc(view.group_name)}**")
    if view.amended and not view.closed:
        lines.append(
            f"**Amended**: this is version {st.version}. Organisations and individuals who signed an earlier "
            "version: read the new text above and press **Confirm our signature**."
        )
    embed.description = "\n".join(lines)
    embed.add_field(name="Organisations", value=organisations_text(counts, st.version), inline=False)
    if st.individuals:
        embed.add_field(name="Individuals", value=individuals_text(counts, st.version), inline=False)
    if not view.closed and st.state == "open":
        embed.add_field(
            name="How to sign",
            value=(
                f"A representative of a verified member organisation presses **{SIGN}** (once per organisation) "
                "and chooses whether it is listed by name or counted only. Any representative, or a coordinator, "
                f"can withdraw it: **{WITHDRAW}** or /statement withdraw."
            ),
            inline=False,
        )
    embed.set_footer(text=f"{label(view)} · /statement show for the whole text · /statement signatories")
    return fit_embed(embed)


def superseded_embed(view: StatementView, version: int) -> discord.Embed:
    """An earlier version's card once the statement was amended: no buttons, a pointer to the new one."""
    st = view.statement
    embed = discord.Embed(
        title=clip(f"{label(view)} · {st.title} · version {version}", 256),
        description=(
            f"Replaced by version {st.version} (fingerprint `{short(view.version.fingerprint)}`), posted below: "
            "sign or confirm your signature there."
        ),
        colour=discord.Colour.dark_grey(),
    )
    return fit_embed(embed)


def card_key(view: StatementView) -> str:
    """What the card's buttons depend on, as the post's view key: ``card:<id>:<flags>``."""
    st = view.statement
    flags = ("i" if st.individuals else "") + ("c" if view.amended else "")
    return f"card:{st.statement_id}:{flags or '-'}"


def post_parts(view: StatementView) -> list[Part]:
    """A version's post: its text in as many messages as it takes, then the card (with the buttons)."""
    st = view.statement
    amended = f" — version {st.version} (amended)" if st.version > 1 else ""
    head = f"**{label(view)} · {esc(st.title)}**{amended}"
    parts = text_parts(f"{head}\n\n{view.version.text}")
    card: dict[str, Any] = dict(card_embed(view).to_dict())
    return [*parts, Part(embeds=(card,), view=card_key(view))]


def show_pages(view: StatementView) -> list[discord.Embed]:
    """The whole text for one member: the card without buttons first, then the text over as many pages as it
    takes (each message within Discord's limits)."""
    pages = embed_pages(
        clip(f"{label(view)} · {view.statement.title}", 256),
        view.version.text.split("\n") if view.version.text else [],
        colour=STATE_COLOUR["closed" if view.closed else view.statement.state],
        footer=f"{label(view)} · version {view.version.version} · {short(view.version.fingerprint)}",
        empty="No text yet: add it with /statement edit (attach a .md or .txt file for a long text).",
    )
    head = card_embed(view)
    head.add_field(
        name="Fingerprint (SHA-256 of the text)", value=f"`{view.version.fingerprint}`", inline=False
    )
    head.add_field(name="Length", value=f"{len(view.version.text):,} characters", inline=False)
    return [fit_embed(head), *pages]


def closing_parts(view: StatementView, *, late: bool) -> list[Part]:
    """The closing post: the final version, the counts, per region and stakeholder group."""
    st, counts = view.statement, view.counts
    when_closed = " (at its deadline, while the bot was offline: posted late)" if late else ""
    lines = [
        f"**{label(view)} · {esc(st.title)}** is closed{when_closed}.",
        f"Final version {st.version} · fingerprint `{short(view.version.fingerprint)}`",
        f"**{counts.confirmed} organisation{'s' if counts.confirmed != 1 else ''}** signed the final version "
        f"({counts.confirmed_listed} listed by name, {counts.confirmed - counts.confirmed_listed} counted only).",
    ]
    if counts.pending:
        lines.append(
            f"{counts.pending} more signed an earlier version and did not confirm the final one: they are not "
            "counted below."
        )
    if st.individuals:
        lines.append(
            f"Individuals: {counts.individuals_confirmed} on the final version"
            + (f", {counts.individuals_pending} on an earlier one" if counts.individuals_pending else "")
            + "."
        )
    regions, groups = breakdown(counts)
    lines += [f"By region: {regions}", f"By stakeholder group: {groups}",
              f"The signatory list: /statement signatories statement:{st.number} (Markdown, HTML, CSV or JSON)."]  # fmt: skip
    return text_parts("\n".join(lines))


def signed_text(signed: Signed) -> str:
    st = signed.statement
    if signed.org_name is None:
        who = "You signed"
        how = " as an individual: your name is shown only to coordinators"
    else:
        who = f"**{esc(signed.org_name)}** signed"
        how = ", listed by name" if signed.listed else ", counted only (its name is not published)"
    return (
        f"{who} statement #{st.number} (version {signed.version}, fingerprint `{short(signed.fingerprint)}`){how}. "
        f"Withdraw it with **{WITHDRAW}** or /statement withdraw while the statement is open."
    )


# -- buttons ------------------------------------------------------------------------------------------


class CardButton(
    Routed,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"statement:card:(?P<action>sign|individual|confirm|withdraw):v1:(?P<statement_id>[0-9]{1,18})",
):
    """A button of a statement's card; the custom_id holds only the statement's id."""

    LABELS = {
        "sign": (SIGN, discord.ButtonStyle.primary),
        "individual": (INDIVIDUAL, discord.ButtonStyle.secondary),
        "confirm": (CONFIRM, discord.ButtonStyle.success),
        "withdraw": (WITHDRAW, discord.ButtonStyle.secondary),
    }

    def __init__(self, action: str, statement_id: int) -> None:
        text, style = self.LABELS[action]
        super().__init__(
            discord.ui.Button(label=text, style=style, custom_id=f"statement:card:{action}:v1:{statement_id}")
        )
        self.action = action
        self.statement_id = statement_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CardButton:
        return cls(match["action"], int(match["statement_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(interaction, self.handle(interaction, self.action, self.statement_id))


class ChoiceButton(
    Routed,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=(
        r"statement:choice:(?P<choice>listed|counted):v1:(?P<statement_id>[0-9]{1,18}):(?P<org_id>[0-9]{1,18})"
        r":(?P<version>[0-9]{1,9})"
    ),
):
    """Listed by name / Counted only, asked before an organisation signs: the statement, the organisation and
    the version the representative was shown (a button pressed after an amendment signs nothing)."""

    def __init__(self, choice: str, statement_id: int, org_id: int, version: int) -> None:
        text, style = (
            (LISTED, discord.ButtonStyle.success)
            if choice == "listed"
            else (COUNTED, discord.ButtonStyle.primary)
        )
        super().__init__(discord.ui.Button(
            label=text, style=style, custom_id=f"statement:choice:{choice}:v1:{statement_id}:{org_id}:{version}",
        ))  # fmt: skip
        self.choice = choice
        self.statement_id = statement_id
        self.org_id = org_id
        self.version = version

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ChoiceButton:
        return cls(match["choice"], int(match["statement_id"]), int(match["org_id"]), int(match["version"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await guarded(
            interaction,
            self.handle(
                interaction, self.statement_id, self.org_id, self.version, listed=self.choice == "listed"
            ),
        )


def card_view(key: str) -> discord.ui.View | None:
    """The card's buttons from its view key (see ``card_key``); None for anything else."""
    match = re.fullmatch(r"card:([0-9]{1,18}):([ic-]{1,2})", key)
    if match is None:
        return None
    statement_id, flags = int(match[1]), match[2]
    view = discord.ui.View(timeout=None)
    view.add_item(CardButton("sign", statement_id))
    if "i" in flags:
        view.add_item(CardButton("individual", statement_id))
    if "c" in flags:
        view.add_item(CardButton("confirm", statement_id))
    view.add_item(CardButton("withdraw", statement_id))
    return view


def card_kwargs(view: StatementView) -> dict[str, Any]:
    """What the card is edited to: its embed, and its buttons while it is open (none once closed)."""
    buttons = None if view.closed or view.statement.state != "open" else card_view(card_key(view))
    return {"embed": card_embed(view), "view": buttons}


def choice_view(statement_id: int, org_id: int, version: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ChoiceButton("listed", statement_id, org_id, version))
    view.add_item(ChoiceButton("counted", statement_id, org_id, version))
    return view
