"""How polls look: the poll message with its vote buttons or menu, bars, lists, results, the closing post,
each in the language it is shown in (``lang``)."""

from __future__ import annotations

import re
from typing import Any

import discord

from cogs.ui.boundary import Routed
from cogs.ui.common import clip, mention, when
from cogs.ui.counting import breakdown_fields, mode_tag
from cogs.ui.limits import CONTENT, FIELD_VALUE, describe, embed_pages, fit_embed, fit_list
from domain.i18n import Text, joined, t, tn
from domain.polls import Ballot, Poll, PollView, Results
from domain.text import is_ascii_number

BAR_WIDTH = 12


def _role(role_id: int) -> str:
    return f"<@&{role_id}>"


def _relative(unix: int) -> str:
    """A time as Discord shows it relative to now ("in 2 hours")."""
    return f"<t:{unix}:R>"


def label(poll: Poll) -> Text:
    """ "Poll #3"."""
    return t("Poll #{number}", number=poll.number)


def _md(text: str) -> str:
    return discord.utils.escape_markdown(text)


def bar(votes: int, ballots: int, width: int = BAR_WIDTH) -> str:
    """A text bar of the share of ballots that chose an option."""
    filled = round(width * votes / ballots) if ballots else 0
    if votes and not filled:
        filled = 1
    return "█" * filled + "░" * (width - filled)


def share(votes: int, ballots: int, lang: str = "en") -> str:
    """The share of ballots as a percentage, as the language writes one."""
    return t("{percent}%", percent=round(100 * votes / ballots) if ballots else 0).render(lang)


def result_lines(view: PollView, *, with_bars: bool, lang: str) -> list[str]:
    """One line per option: number and label, and (when results may be shown) a bar and the count."""
    ballots = view.poll.ballots
    lines = []
    for option in view.options:
        head = f"`{option.position:>2}.` {_md(option.label)}"
        if with_bars:
            lines.append(
                f"{head}\n`{bar(option.votes, ballots)}` **{option.votes}** · {share(option.votes, ballots, lang)}"
            )
        else:
            lines.append(head)
    return lines


def ballots_line(view: PollView, lang: str) -> str:
    """How many ballots count: per organisation, out of how many organisations."""
    if view.per_org:
        return tn("{ballots} of {n} organisation", "{ballots} of {n} organisations", len(view.scope),
                  ballots=view.poll.ballots).render(lang)  # fmt: skip
    return str(view.poll.ballots)


def who_votes(view: PollView, lang: str) -> str:
    poll = view.poll
    if view.per_org:
        if view.group is not None:
            return t("the voice of each organisation with a representative in {group}",
                     group=_md(view.group.name)).render(lang)  # fmt: skip
        return t("the voice of each organisation").render(lang)
    if poll.role_id is not None:
        return t("members with {role}", role=_role(poll.role_id)).render(lang)
    if view.group is not None:
        return t("members of {group}", group=_md(view.group.name)).render(lang)
    return t("everyone in the server").render(lang)


def rules_line(view: PollView, lang: str) -> str:
    poll = view.poll
    parts = [
        t("single choice") if poll.choices == 1 else tn("up to {n} choice", "up to {n} choices", poll.choices)
    ]
    if view.per_org:
        parts.append(t("one ballot per organisation, cast by its voice"))
    parts.append(
        t("anonymous: nobody can see who chose what")
        if poll.anonymous
        else t("open: /poll results shows who chose what")
    )
    if poll.hide_results:
        parts.append(t("results hidden until it closes"))
    return " · ".join(part.render(lang) for part in parts)


def poll_embed(view: PollView, lang: str) -> discord.Embed:
    """The poll's message in ``lang``. User text goes in the embed as typed (escaped for markdown); embeds
    never ping."""
    poll = view.poll

    def field(name: Text, value: str, *, inline: bool = True) -> None:
        embed.add_field(name=name.render(lang), value=value, inline=inline)

    state = t("Closed") if view.closed else t("Open")
    lines = [f"**{_md(poll.question)}**", ""]
    lines += result_lines(view, with_bars=view.show_results, lang=lang)
    if not view.show_results:
        lines += ["", t("*Results are hidden until the poll closes.*").render(lang)]
    embed = discord.Embed(
        title=f"{label(poll).render(lang)} · {state.render(lang)}",
        colour=discord.Colour.dark_grey() if view.closed else discord.Colour.blurple(),
    )
    describe(embed, lines)
    if poll.closed_at is not None:
        field(t("Closed"), when(poll.closed_at), inline=False)
    elif view.closed:
        field(t("Closed"), t("at its deadline, {when}", when=when(poll.closes_at)).render(lang), inline=False)
    else:
        field(t("Closes"), when(poll.closes_at), inline=False)
    field(t("Ballots"), ballots_line(view, lang))
    field(t("Who can vote"), who_votes(view, lang))
    field(t("How"), rules_line(view, lang), inline=False)
    field(t("Asked by"), f"<@{poll.author_id}>")
    if view.closed:
        how = t("final result")
    elif not view.uses_buttons:
        how = t("pick in the menu; picking again replaces your ballot")
    elif poll.choices > 1:
        how = t("click an option to add it to your ballot, again to remove it")
    else:
        how = t("click an option to vote, another to change your vote")
    embed.set_footer(text=f"{label(poll).render(lang)} · {how.render(lang)}")
    return fit_embed(embed)


class VoteButton(
    Routed,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"poll:vote:v1:(?P<poll_id>[0-9]{1,18}):(?P<position>[0-9]{1,18})",
):
    """An option's button on a poll of up to five options (labelled with the option as its author wrote it);
    works after restarts."""

    def __init__(self, poll_id: int, position: int, text: str = "", *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=clip(text, 80) or str(position),  # rebuilt from a click, the label is never shown
                style=discord.ButtonStyle.primary,
                custom_id=f"poll:vote:v1:{poll_id}:{position}",
                disabled=disabled,
            )
        )
        self.poll_id = poll_id
        self.position = position

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> VoteButton:
        return cls(int(match["poll_id"]), int(match["position"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # votes have their own boundary (it never logs who clicked what: see PollsCog.vote_click)
        await self.handle(interaction, self.poll_id, [self.position], toggle=True)


class VoteSelect(
    Routed,
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"poll:pick:v1:(?P<poll_id>[0-9]{1,18})",
):
    """The option menu of a poll of more than five options (its placeholder in the message's language);
    the picks replace the member's ballot."""

    def __init__(
        self,
        poll_id: int,
        options: list[discord.SelectOption] | None = None,
        choices: int = 1,
        lang: str = "en",
    ) -> None:
        options = options or [discord.SelectOption(label="…", value="0")]
        placeholder = (
            t("Choose an option") if choices == 1
            else tn("Choose up to {n} option", "Choose up to {n} options", choices)
        )  # fmt: skip
        super().__init__(
            discord.ui.Select(
                custom_id=f"poll:pick:v1:{poll_id}",
                placeholder=placeholder.render(lang),
                min_values=1,
                max_values=max(1, min(choices, len(options))),
                options=options,
            )
        )
        self.poll_id = poll_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> VoteSelect:
        return cls(int(match["poll_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        data: dict[str, Any] = dict(interaction.data or {})
        picks = [int(v) for v in data.get("values", []) if is_ascii_number(str(v)) and len(str(v)) <= 2]
        if len(picks) != len(data.get("values", [])):
            picks = [0]  # something the menu never offered: the domain refuses it
        await self.handle(interaction, self.poll_id, picks, toggle=False)


def poll_components(view: PollView, lang: str) -> discord.ui.View:
    """Buttons for up to five options, else a menu; nothing once the poll is closed."""
    components = discord.ui.View(timeout=None)
    if view.closed:
        return components
    poll = view.poll
    if view.uses_buttons:
        for option in view.options:
            components.add_item(VoteButton(poll.poll_id, option.position, option.label))
    else:
        menu = [discord.SelectOption(label=clip(o.label, 100), value=str(o.position)) for o in view.options]
        components.add_item(VoteSelect(poll.poll_id, menu, poll.choices, lang))
    return components


def message_kwargs(view: PollView, lang: str) -> dict[str, Any]:
    """What an edit of the poll message sends (in ``lang``, the message's language)."""
    return {"content": None, "embed": poll_embed(view, lang), "view": poll_components(view, lang)}


def _more(n: int) -> Text:
    return tn("and {n} more (/poll results shows them)", "and {n} more (/poll results shows them)", n)


def ballot_text(ballot: Ballot, lang: str) -> str:
    """What a member sees after a click (in their language): their current ballot."""
    poll = ballot.poll
    if not ballot.positions:
        if ballot.org_name is not None:
            return t("**{org}** has no ballot on {poll} now; pick an option to vote for it.",
                     org=_md(ballot.org_name), poll=label(poll)).render(lang)  # fmt: skip
        return t("You have no ballot on {poll} now; pick an option to vote.", poll=label(poll)).render(lang)
    said: list[Text] = []
    if not ballot.changed:
        said.append(t("(unchanged)"))
    if poll.choices > 1:
        said.append(
            t("You may choose up to {count}; click an option again to remove it.", count=poll.choices)
        )
    if poll.anonymous:
        said.append(t("This poll is anonymous: your ballot is stored without your name."))
    if ballot.org_name is not None:
        said.append(t("It is your organisation's one ballot: you cast it as its voice."))
    notes = "".join(" " + note.render(lang) for note in said)

    def sentence(chosen: str) -> Text:
        if ballot.org_name:
            return t("Your organisation's ballot (**{org}**) on {poll}: {choices}.", org=_md(ballot.org_name),
                     poll=label(poll), choices=chosen)  # fmt: skip
        return t("Your ballot on {poll}: {choices}.", poll=label(poll), choices=chosen)

    # 25 picks of 80 characters (escaped) would not fit one message: the rest is counted
    room = CONTENT - len(sentence("").render(lang)) - len(notes)
    chosen = fit_list([f"**{_md(text)}**" for text in ballot.labels], room, sep=", ", more=_more, lang=lang)
    return sentence(chosen).render(lang) + notes


def closing_embed(view: PollView, *, late: bool, image: str | None, lang: str) -> discord.Embed:
    """The result at a glance, for the closing post (in ``lang``, the poll's group's or the server's)."""
    poll = view.poll

    def field(name: Text, value: str, *, inline: bool = True) -> None:
        embed.add_field(name=name.render(lang), value=value, inline=inline)

    lines = [f"**{_md(poll.question)}**", ""] + result_lines(view, with_bars=True, lang=lang)
    if late:
        lines += ["", t("*The bot was offline at the deadline and closed the poll when it came back; no vote was "
                        "taken after the deadline.*").render(lang)]  # fmt: skip
    title = t("{poll} · Result", poll=label(poll))
    embed = discord.Embed(title=title.render(lang), colour=discord.Colour.green())
    describe(embed, lines)
    field(t("Ballots"), ballots_line(view, lang))
    field(t("Closed"), when(poll.closed_at) if poll.closed_at else "—")
    if poll.closed_by:
        field(t("Closed by"), f"<@{poll.closed_by}>")
    if image:
        embed.set_image(url=f"attachment://{image}")
    footer = t("{poll} · /poll results {number} for the CSV", poll=label(poll), number=poll.number)
    embed.set_footer(text=footer.render(lang))
    return fit_embed(embed)


def results_pages(results: Results, lang: str) -> list[discord.Embed]:
    """/poll results in the member's language: the tally if it may be shown, and who chose what in open
    polls — every ballot, over as many pages as it takes."""
    view = results.view
    poll = view.poll
    name = label(poll).render(lang)
    title = (
        t("{poll} · results (closed)", poll=name) if view.closed else t("{poll} · results (open)", poll=name)
    )
    embed = discord.Embed(title=title.render(lang), colour=discord.Colour.blurple())
    lines = [f"**{_md(poll.question)}**", ""]
    if view.show_results:
        lines += result_lines(view, with_bars=True, lang=lang)
    else:
        lines += result_lines(view, with_bars=False, lang=lang)
        hidden = t("Results are hidden until the poll closes {when}; nobody can see them before then, coordinators "
                   "included.", when=when(poll.closes_at))  # fmt: skip
        lines += ["", hidden.render(lang)]
    describe(embed, lines)
    embed.add_field(name=t("Ballots").render(lang), value=ballots_line(view, lang))
    embed.add_field(name=t("How").render(lang), value=rules_line(view, lang), inline=False)
    voters: list[str] = []
    if view.show_results and not poll.anonymous:
        labels = {o.position: o.label for o in view.options}
        if view.per_org:
            voters = [
                t("**{org}** (cast by {member}): {choices}", org=_md(b.name), member=mention(b.cast_by, lang),
                  choices=joined(_md(labels[p]) for p in _positions(b.picks) if p in labels)).render(lang)
                for b in results.org_ballots
            ]  # fmt: skip
        else:
            voters = [
                t("{member}: {choices}", member=f"<@{v.user_id}>",
                  choices=joined(_md(labels[p]) for p in _positions(v.picks) if p in labels)).render(lang)
                for v in results.voters
            ]  # fmt: skip
        together = "\n".join(voters) or t("nobody yet").render(lang)
        who_chose = t("Who chose what").render(lang)
        if len(together) <= FIELD_VALUE:
            embed.add_field(name=who_chose, value=together, inline=False)
            voters = []
        else:
            later = tn("{n} ballot, on the next pages.", "{n} ballots, on the next pages.", len(voters))
            embed.add_field(name=who_chose, value=later.render(lang), inline=False)
    if results.breakdown is not None and results.breakdown.responses:
        breakdown_fields(embed, results.breakdown, lang)
    embed.set_footer(text=name)
    return embed_pages(t("{poll} · who chose what", poll=name), voters, colour=discord.Colour.blurple(),
                       footer=name, first=embed, lang=lang)  # fmt: skip


def _positions(mask: int) -> list[int]:
    return [n + 1 for n in range(25) if mask >> n & 1]


def list_pages(polls: list[tuple[Poll, bool]], lang: str) -> list[discord.Embed]:
    """Open and recently closed polls of this server, one line each (with whether each is closed)."""
    lines = []
    for poll, closed in polls:
        if not closed:
            state = t("open · closes {when}", when=_relative(poll.closes_at))
        else:
            state = t("closed {when}", when=_relative(poll.closed_at or poll.closes_at))
        count = tn("{n} ballot", "{n} ballots", poll.ballots)
        lines.append(
            f"**#{poll.number}** {state.render(lang)} · {count.render(lang)}{mode_tag(poll.counting, lang)} — "
            f"{clip(_md(' '.join(poll.question.split())), 100)}"
        )
    return embed_pages(t("Polls"), lines, colour=discord.Colour.blurple(), footer=tn("{n} poll", "{n} polls", len(polls)),
                       empty=t("No open or recently closed polls. Open one with /poll create."), per_page=20,
                       lang=lang)  # fmt: skip
