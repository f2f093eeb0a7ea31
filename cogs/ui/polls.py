"""How polls look: the poll message with its vote buttons or menu, bars, lists, results, the closing post."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from cogs.ui.boundary import Routed
from cogs.ui.common import clip, mention, when
from cogs.ui.counting import breakdown_fields, mode_tag
from cogs.ui.limits import CONTENT, FIELD_VALUE, describe, embed_pages, fit_embed, fit_list
from domain.polls import Ballot, Poll, PollView, Results
from domain.text import is_ascii_number

if TYPE_CHECKING:
    pass

BAR_WIDTH = 12


def label(poll: Poll) -> str:
    return f"Poll #{poll.number}"


def _md(text: str) -> str:
    return discord.utils.escape_markdown(text)


def bar(votes: int, ballots: int, width: int = BAR_WIDTH) -> str:
    """A text bar of the share of ballots that chose an option."""
    filled = round(width * votes / ballots) if ballots else 0
    if votes and not filled:
        filled = 1
    return "█" * filled + "░" * (width - filled)


def share(votes: int, ballots: int) -> str:
    return f"{100 * votes / ballots:.0f}%" if ballots else "0%"


def result_lines(view: PollView, *, with_bars: bool) -> list[str]:
    """One line per option: number and label, and (when results may be shown) a bar and the count."""
    ballots = view.poll.ballots
    lines = []
    for option in view.options:
        head = f"`{option.position:>2}.` {_md(option.label)}"
        if with_bars:
            lines.append(
                f"{head}\n`{bar(option.votes, ballots)}` **{option.votes}** · {share(option.votes, ballots)}"
            )
        else:
            lines.append(head)
    return lines


def ballots_line(view: PollView) -> str:
    """How many ballots count: per organisation, out of how many organisations."""
    if view.per_org:
        return f"{view.poll.ballots} of {len(view.scope)} organisations"
    return str(view.poll.ballots)


def who_votes(view: PollView) -> str:
    poll = view.poll
    if view.per_org:
        where = f" with a representative in {_md(view.group.name)}" if view.group is not None else ""
        return f"the voice of each organisation{where}"
    if poll.role_id is not None:
        return f"members with <@&{poll.role_id}>"
    if view.group is not None:
        return f"members of {_md(view.group.name)}"
    return "everyone in the server"


def rules_line(view: PollView) -> str:
    poll = view.poll
    parts = ["single choice" if poll.choices == 1 else f"up to {poll.choices} choices"]
    if view.per_org:
        parts.append("one ballot per organisation, cast by its voice")
    parts.append(
        "anonymous: nobody can see who chose what"
        if poll.anonymous
        else "open: /poll results shows who chose what"
    )
    if poll.hide_results:
        parts.append("results hidden until it closes")
    return " · ".join(parts)


def poll_embed(view: PollView) -> discord.Embed:
    """The poll's message. User text goes in the embed as typed (escaped for markdown); embeds never ping."""
    poll = view.poll
    state = "Closed" if view.closed else "Open"
    lines = [f"**{_md(poll.question)}**", ""]
    lines += result_lines(view, with_bars=view.show_results)
    if not view.show_results:
        lines += ["", "*Results are hidden until the poll closes.*"]
    embed = discord.Embed(
        title=f"{label(poll)} · {state}",
        colour=discord.Colour.dark_grey() if view.closed else discord.Colour.blurple(),
    )
    describe(embed, lines)
    if poll.closed_at is not None:
        embed.add_field(name="Closed", value=when(poll.closed_at), inline=False)
    elif view.closed:
        embed.add_field(name="Closed", value=f"at its deadline, {when(poll.closes_at)}", inline=False)
    else:
        embed.add_field(name="Closes", value=when(poll.closes_at), inline=False)
    embed.add_field(name="Ballots", value=ballots_line(view))
    embed.add_field(name="Who can vote", value=who_votes(view))
    embed.add_field(name="How", value=rules_line(view), inline=False)
    embed.add_field(name="Asked by", value=f"<@{poll.author_id}>")
    if not view.uses_buttons:
        how = "pick in the menu; picking again replaces your ballot"
    elif poll.choices > 1:
        how = "click an option to add it to your ballot, again to remove it"
    else:
        how = "click an option to vote, another to change your vote"
    embed.set_footer(text=f"{label(poll)} · {how}" if not view.closed else f"{label(poll)} · final result")
    return fit_embed(embed)


class VoteButton(
    Routed,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"poll:vote:v1:(?P<poll_id>[0-9]{1,18}):(?P<position>[0-9]{1,18})",
):
    """An option's button on a poll of up to five options; works after restarts."""

    def __init__(self, poll_id: int, position: int, text: str = "Vote", *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=clip(text, 80),
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
    """The option menu of a poll of more than five options; the picks replace the member's ballot."""

    def __init__(
        self, poll_id: int, options: list[discord.SelectOption] | None = None, choices: int = 1
    ) -> None:
        options = options or [discord.SelectOption(label="…", value="0")]
        super().__init__(
            discord.ui.Select(
                custom_id=f"poll:pick:v1:{poll_id}",
                placeholder="Choose an option" if choices == 1 else f"Choose up to {choices} options",
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


def poll_components(view: PollView) -> discord.ui.View:
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
        components.add_item(VoteSelect(poll.poll_id, menu, poll.choices))
    return components


def message_kwargs(view: PollView) -> dict[str, Any]:
    """What an edit of the poll message sends."""
    return {"content": None, "embed": poll_embed(view), "view": poll_components(view)}


def ballot_text(ballot: Ballot) -> str:
    """What a member sees after a click: their current ballot."""
    poll = ballot.poll
    if not ballot.positions:
        if ballot.org_name is not None:
            return f"**{_md(ballot.org_name)}** has no ballot on {label(poll)} now; pick an option to vote for it."
        return f"You have no ballot on {label(poll)} now; pick an option to vote."
    notes = ""
    if not ballot.changed:
        notes += " (unchanged)"
    if poll.choices > 1:
        notes += f" You may choose up to {poll.choices}; click an option again to remove it."
    if poll.anonymous:
        notes += " This poll is anonymous: your ballot is stored without your name."
    if ballot.org_name is not None:
        notes += " It is your organisation's one ballot: you cast it as its voice."
    whose = f"Your organisation's ballot (**{_md(ballot.org_name)}**)" if ballot.org_name else "Your ballot"
    head = f"{whose} on {label(poll)}: "
    # 25 picks of 80 characters (escaped) would not fit one message: the rest is counted
    chosen = fit_list([f"**{_md(text)}**" for text in ballot.labels], CONTENT - len(head) - len(notes) - 1,
                      sep=", ", more="and {n} more (/poll results shows them)")  # fmt: skip
    return f"{head}{chosen}.{notes}"


def closing_embed(view: PollView, *, late: bool, image: str | None) -> discord.Embed:
    """The result at a glance, for the closing post."""
    poll = view.poll
    lines = [f"**{_md(poll.question)}**", ""] + result_lines(view, with_bars=True)
    if late:
        lines += ["", "*The bot was offline at the deadline and closed the poll when it came back; "
                      "no vote was taken after the deadline.*"]  # fmt: skip
    embed = discord.Embed(title=f"{label(poll)} · Result", colour=discord.Colour.green())
    describe(embed, lines)
    embed.add_field(name="Ballots", value=ballots_line(view))
    embed.add_field(name="Closed", value=when(poll.closed_at) if poll.closed_at else "—")
    if poll.closed_by:
        embed.add_field(name="Closed by", value=f"<@{poll.closed_by}>")
    if image:
        embed.set_image(url=f"attachment://{image}")
    embed.set_footer(text=f"{label(poll)} · /poll results {poll.number} for the CSV")
    return fit_embed(embed)


def results_pages(results: Results) -> list[discord.Embed]:
    """/poll results: the tally if it may be shown, and who chose what in open polls — every ballot,
    over as many pages as it takes."""
    view = results.view
    poll = view.poll
    state = "closed" if view.closed else "open"
    embed = discord.Embed(title=f"{label(poll)} · results ({state})", colour=discord.Colour.blurple())
    lines = [f"**{_md(poll.question)}**", ""]
    if view.show_results:
        lines += result_lines(view, with_bars=True)
    else:
        lines += result_lines(view, with_bars=False)
        lines += ["", f"Results are hidden until the poll closes {when(poll.closes_at)}; nobody can see them "
                      "before then, coordinators included."]  # fmt: skip
    describe(embed, lines)
    embed.add_field(name="Ballots", value=ballots_line(view))
    embed.add_field(name="How", value=rules_line(view), inline=False)
    voters: list[str] = []
    if view.show_results and not poll.anonymous:
        labels = {o.position: o.label for o in view.options}
        if view.per_org:
            voters = [
                f"**{_md(b.name)}** (cast by {mention(b.cast_by)}): "
                + ", ".join(_md(labels[p]) for p in _positions(b.picks) if p in labels)
                for b in results.org_ballots
            ]
        else:
            voters = [
                f"<@{v.user_id}>: " + ", ".join(_md(labels[p]) for p in _positions(v.picks) if p in labels)
                for v in results.voters
            ]
        together = "\n".join(voters) or "nobody yet"
        if len(together) <= FIELD_VALUE:
            embed.add_field(name="Who chose what", value=together, inline=False)
            voters = []
        else:
            embed.add_field(
                name="Who chose what",
                value=f"{len(voters)} ballot{'s' if len(voters) != 1 else ''}, on the next pages.",
                inline=False,
            )
    if results.breakdown is not None and results.breakdown.responses:
        breakdown_fields(embed, results.breakdown)
    embed.set_footer(text=label(poll))
    return embed_pages(f"{label(poll)} · who chose what", voters, colour=discord.Colour.blurple(),
                       footer=label(poll), first=embed)  # fmt: skip


def _positions(mask: int) -> list[int]:
    return [n + 1 for n in range(25) if mask >> n & 1]


def list_pages(polls: list[tuple[Poll, bool]]) -> list[discord.Embed]:
    """Open and recently closed polls of this server, one line each (with whether each is closed)."""
    lines = []
    for poll, closed in polls:
        if not closed:
            state = f"open · closes <t:{poll.closes_at}:R>"
        else:
            state = f"closed <t:{poll.closed_at or poll.closes_at}:R>"
        count = f"{poll.ballots} ballot{'s' if poll.ballots != 1 else ''}"
        lines.append(
            f"**#{poll.number}** {state} · {count}{mode_tag(poll.counting)} — "
            f"{clip(_md(' '.join(poll.question.split())), 100)}"
        )
    return embed_pages("Polls", lines, colour=discord.Colour.blurple(), footer=f"{len(polls)} polls",
                       empty="No open or recently closed polls. Open one with /poll create.", per_page=20)  # fmt: skip
