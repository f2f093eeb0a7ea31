"""How statements look: the card (the last part of a statement's post, with its buttons), the parts of its
text, the whole text as ephemeral pages, the closing post, and the buttons, which work after restarts.

Every builder takes the language it speaks (``lang``): a public post its working group's (or the server's),
an answer the member's. The statement's title and text are what members wrote: never translated.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from cogs.ui.boundary import Routed, guarded
from cogs.ui.common import clip, when
from cogs.ui.limits import Part, embed_pages, fit_embed, text_parts
from domain.i18n import LANGUAGES, Text, t, tn
from domain.orgs import REGION_SHORT, STAKEHOLDERS
from domain.statements import Counts, Signed, StatementView, short

SIGN = t("Sign on behalf of your organisation")
INDIVIDUAL = t("Sign as an individual")
CONFIRM = t("Confirm our signature")
WITHDRAW = t("Withdraw our signature")
LISTED = t("Listed by name")
COUNTED = t("Counted only")
STATE_COLOUR = {
    "draft": discord.Colour.gold(),
    "open": discord.Colour.blurple(),
    "closed": discord.Colour.dark_grey(),
}


def esc(text: str) -> str:
    return discord.utils.escape_markdown(text)


def code(text: str) -> str:
    """A fingerprint as inline code (a value of a sentence)."""
    return f"`{text}`"


def channel(channel_id: int | None) -> str:
    """A channel as Discord shows it (a value of a sentence)."""
    return f"<#{channel_id}>"


def fingerprint_code(view: StatementView) -> str:
    return code(short(view.version.fingerprint))


def state_text(view: StatementView) -> Text:
    """Draft, open until…, or closed when."""
    st = view.statement
    if st.state == "draft":
        return t("Draft: not open for signature yet")
    if st.state == "closed":
        return t("Closed {when}", when=when(st.closed_at))
    if view.closed:
        return t("Closed at its deadline, {when}", when=when(st.closes_at))
    return t("Open for signature until {when}", when=when(st.closes_at))


def version_text(view: StatementView) -> Text:
    return t(
        "Version {version_number} · fingerprint {fingerprint}",
        version_number=view.version.version, fingerprint=fingerprint_code(view),
    )  # fmt: skip


def organisations_text(counts: Counts, version: int, lang: str = "en") -> str:
    """The live count of organisations: listed and counted only, and, after an amendment, confirmed and pending."""
    text = t(
        "**{count}** signed ({listed} listed by name, {counted} counted only)",
        count=counts.organisations, listed=counts.listed, counted=counts.counted_only,
    ).render(lang)  # fmt: skip
    if version > 1 or counts.pending:
        text += "\n" + t(
            "**{confirmed}** confirmed on version {version_number} · **{pending}** pending (signed an earlier "
            "version)",
            confirmed=counts.confirmed, version_number=version, pending=counts.pending,
        ).render(lang)  # fmt: skip
    return text


def individuals_text(counts: Counts, version: int, lang: str = "en") -> str:
    text = t("**{count}** signed (names shown only to coordinators)", count=counts.individuals).render(lang)
    if counts.individuals_pending:
        text += "\n" + t(
            "**{confirmed}** confirmed on version {version_number} · **{pending}** pending",
            confirmed=counts.individuals_confirmed, version_number=version, pending=counts.individuals_pending,
        ).render(lang)  # fmt: skip
    return text


def breakdown(counts: Counts, lang: str = "en") -> tuple[str, str]:
    """Per region and per stakeholder group (organisations on the current version)."""
    regions = " · ".join(
        t("{label} {count}", label=REGION_SHORT[k], count=n).render(lang) for k, n in counts.by_region.items()
    )
    groups = " · ".join(
        t("{label} {count}", label=STAKEHOLDERS[k], count=n).render(lang)
        for k, n in counts.by_stakeholder.items()
    )
    return regions, groups


def card_embed(view: StatementView, lang: str = "en") -> discord.Embed:
    """The statement's card in ``lang``: its state, version and fingerprint, the live counts, how to sign."""
    st, counts = view.statement, view.counts
    embed = discord.Embed(
        title=clip(t("Statement #{number} · {title}", number=st.number, title=st.title).render(lang), 256),
        colour=STATE_COLOUR["closed" if view.closed else st.state],
    )
    lines = [state_text(view).render(lang), version_text(view).render(lang)]
    if view.group_name:
        lines.append(t("From the working group **{group}**", group=esc(view.group_name)).render(lang))
    if view.amended and not view.closed:
        lines.append(t(
            "**Amended**: this is version {version_number}. Organisations and individuals who signed an earlier "
            "version: read the new text above and press **{confirm}**.",
            version_number=st.version, confirm=CONFIRM,
        ).render(lang))  # fmt: skip
    embed.description = "\n".join(lines)
    embed.add_field(
        name=t("Organisations").render(lang), value=organisations_text(counts, st.version, lang), inline=False
    )
    if st.individuals:
        embed.add_field(
            name=t("Individuals").render(lang), value=individuals_text(counts, st.version, lang), inline=False
        )
    if not view.closed and st.state == "open":
        embed.add_field(
            name=t("How to sign").render(lang),
            value=t(
                "A representative of a verified member organisation presses **{sign}** (once per organisation) "
                "and chooses whether it is listed by name or counted only. Any representative, or a coordinator, "
                "can withdraw it: **{withdraw}** or /statement withdraw.",
                sign=SIGN, withdraw=WITHDRAW,
            ).render(lang),
            inline=False,
        )  # fmt: skip
    embed.set_footer(
        text=t(
            "Statement #{number} · /statement show for the whole text · /statement signatories",
            number=st.number,
        ).render(lang)
    )
    return fit_embed(embed)


def superseded_embed(view: StatementView, version: int, lang: str = "en") -> discord.Embed:
    """An earlier version's card once the statement was amended: no buttons, a pointer to the new one."""
    st = view.statement
    title = t(
        "Statement #{number} · {title} · version {version_number}",
        number=st.number, title=st.title, version_number=version,
    )  # fmt: skip
    embed = discord.Embed(
        title=clip(title.render(lang), 256),
        description=t(
            "Replaced by version {version_number} (fingerprint {fingerprint}), posted below: sign or confirm your "
            "signature there.",
            version_number=st.version, fingerprint=fingerprint_code(view),
        ).render(lang),
        colour=discord.Colour.dark_grey(),
    )  # fmt: skip
    return fit_embed(embed)


def card_key(view: StatementView, lang: str = "en") -> str:
    """What the card's buttons depend on, as the post's view key: ``card:<id>:<flags>:<language>``."""
    st = view.statement
    flags = ("i" if st.individuals else "") + ("c" if view.amended else "")
    return f"card:{st.statement_id}:{flags or '-'}:{lang}"


def post_parts(view: StatementView, lang: str = "en") -> list[Part]:
    """A version's post: its text in as many messages as it takes, then the card (with the buttons)."""
    st = view.statement
    if st.version > 1:
        head = t(
            "**Statement #{number} · {title}** — version {version_number} (amended)",
            number=st.number, title=esc(st.title), version_number=st.version,
        )  # fmt: skip
    else:
        head = t("**Statement #{number} · {title}**", number=st.number, title=esc(st.title))
    parts = text_parts(f"{head.render(lang)}\n\n{view.version.text}")
    card: dict[str, Any] = dict(card_embed(view, lang).to_dict())
    return [*parts, Part(embeds=(card,), view=card_key(view, lang))]


def show_pages(view: StatementView, lang: str = "en") -> list[discord.Embed]:
    """The whole text for one member: the card without buttons first, then the text over as many pages as it
    takes (each message within Discord's limits)."""
    st, version = view.statement, view.version
    pages = embed_pages(
        t("Statement #{number} · {title}", number=st.number, title=st.title),
        version.text.split("\n") if version.text else [],
        colour=STATE_COLOUR["closed" if view.closed else st.state],
        footer=t(
            "Statement #{number} · version {version_number} · {fingerprint}",
            number=st.number, version_number=version.version, fingerprint=short(version.fingerprint),
        ),
        empty=t("No text yet: add it with /statement edit (attach a .md or .txt file for a long text)."),
        lang=lang,
    )  # fmt: skip
    head = card_embed(view, lang)
    head.add_field(
        name=t("Fingerprint (SHA-256 of the text)").render(lang),
        value=f"`{version.fingerprint}`",
        inline=False,
    )
    # the same in both English forms, as it always said; translators get the plural forms
    length = tn("{n} characters", "{n} characters", len(version.text))
    head.add_field(name=t("Length").render(lang), value=length.render(lang), inline=False)
    return [fit_embed(head), *pages]


def closing_parts(view: StatementView, *, late: bool, lang: str = "en") -> list[Part]:
    """The closing post in ``lang``: the final version, the counts, per region and stakeholder group."""
    st, counts = view.statement, view.counts
    title = esc(st.title)
    closed = (
        t(
            "**Statement #{number} · {title}** is closed (at its deadline, while the bot was offline: posted late).",
            number=st.number, title=title,
        )
        if late
        else t("**Statement #{number} · {title}** is closed.", number=st.number, title=title)
    )  # fmt: skip
    lines = [
        closed,
        t("Final version {version_number} · fingerprint {fingerprint}", version_number=st.version,
          fingerprint=fingerprint_code(view)),
        tn(
            "**{n} organisation** signed the final version ({listed} listed by name, {counted} counted only).",
            "**{n} organisations** signed the final version ({listed} listed by name, {counted} counted only).",
            counts.confirmed, listed=counts.confirmed_listed, counted=counts.confirmed - counts.confirmed_listed,
        ),
    ]  # fmt: skip
    if counts.pending:
        # the same in both English forms, as it always said; translators get the plural forms
        lines.append(tn(
            "{n} more signed an earlier version and did not confirm the final one: they are not counted below.",
            "{n} more signed an earlier version and did not confirm the final one: they are not counted below.",
            counts.pending,
        ))  # fmt: skip
    if st.individuals and counts.individuals_pending:
        lines.append(t(
            "Individuals: {count} on the final version, {pending} on an earlier one.",
            count=counts.individuals_confirmed, pending=counts.individuals_pending,
        ))  # fmt: skip
    elif st.individuals:
        lines.append(t("Individuals: {count} on the final version.", count=counts.individuals_confirmed))
    regions, groups = breakdown(counts, lang)
    lines += [
        t("By region: {regions}", regions=regions),
        t("By stakeholder group: {groups}", groups=groups),
        t("The signatory list: /statement signatories statement:{number} (Markdown, HTML, CSV or JSON).",
          number=st.number),
    ]  # fmt: skip
    return text_parts("\n".join(line.render(lang) for line in lines))


def signed_text(signed: Signed, lang: str = "en") -> str:
    """What the member who signed is told (an answer: in their language)."""
    st = signed.statement
    said = {"number": st.number, "version_number": signed.version, "fingerprint": code(short(signed.fingerprint)),
            "withdraw": WITHDRAW}  # fmt: skip
    if signed.org_name is None:
        text = t(
            "You signed statement #{number} (version {version_number}, fingerprint {fingerprint}) as an "
            "individual: your name is shown only to coordinators. Withdraw it with **{withdraw}** or /statement "
            "withdraw while the statement is open.",
            **said,
        )
    elif signed.listed:
        text = t(
            "**{org}** signed statement #{number} (version {version_number}, fingerprint {fingerprint}), listed by "
            "name. Withdraw it with **{withdraw}** or /statement withdraw while the statement is open.",
            org=esc(signed.org_name), **said,
        )  # fmt: skip
    else:
        text = t(
            "**{org}** signed statement #{number} (version {version_number}, fingerprint {fingerprint}), counted "
            "only (its name is not published). Withdraw it with **{withdraw}** or /statement withdraw while the "
            "statement is open.",
            org=esc(signed.org_name), **said,
        )  # fmt: skip
    return text.render(lang)


# -- buttons ------------------------------------------------------------------------------------------


class CardButton(
    Routed,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"statement:card:(?P<action>sign|individual|confirm|withdraw):v1:(?P<statement_id>[0-9]{1,18})",
):
    """A button of a statement's card; the custom_id holds only the statement's id (the label is in the
    card's language)."""

    LABELS = {
        "sign": (SIGN, discord.ButtonStyle.primary),
        "individual": (INDIVIDUAL, discord.ButtonStyle.secondary),
        "confirm": (CONFIRM, discord.ButtonStyle.success),
        "withdraw": (WITHDRAW, discord.ButtonStyle.secondary),
    }

    def __init__(self, action: str, statement_id: int, lang: str = "en") -> None:
        text, style = self.LABELS[action]
        super().__init__(
            discord.ui.Button(
                label=text.render(lang), style=style, custom_id=f"statement:card:{action}:v1:{statement_id}"
            )
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

    def __init__(self, choice: str, statement_id: int, org_id: int, version: int, lang: str = "en") -> None:
        text, style = (
            (LISTED, discord.ButtonStyle.success)
            if choice == "listed"
            else (COUNTED, discord.ButtonStyle.primary)
        )
        super().__init__(discord.ui.Button(
            label=text.render(lang), style=style,
            custom_id=f"statement:choice:{choice}:v1:{statement_id}:{org_id}:{version}",
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
    """The card's buttons from its view key (see ``card_key``; a key kept before labels had a language has
    none: English); None for anything else."""
    match = re.fullmatch(r"card:([0-9]{1,18}):([ic-]{1,2})(?::([a-z]{2}))?", key)
    if match is None:
        return None
    statement_id, flags = int(match[1]), match[2]
    lang = match[3] if match[3] in LANGUAGES else "en"
    view = discord.ui.View(timeout=None)
    view.add_item(CardButton("sign", statement_id, lang))
    if "i" in flags:
        view.add_item(CardButton("individual", statement_id, lang))
    if "c" in flags:
        view.add_item(CardButton("confirm", statement_id, lang))
    view.add_item(CardButton("withdraw", statement_id, lang))
    return view


def card_kwargs(view: StatementView, lang: str = "en") -> dict[str, Any]:
    """What the card is edited to, in ``lang``: its embed, and its buttons while it is open (none once closed)."""
    buttons = None if view.closed or view.statement.state != "open" else card_view(card_key(view, lang))
    return {"embed": card_embed(view, lang), "view": buttons}


def choice_view(statement_id: int, org_id: int, version: int, lang: str = "en") -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ChoiceButton("listed", statement_id, org_id, version, lang))
    view.add_item(ChoiceButton("counted", statement_id, org_id, version, lang))
    return view
