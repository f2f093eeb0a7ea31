"""/poll: quick polls — create, vote by buttons or menu, results (with CSV), list, close, nudge."""

from __future__ import annotations

import asyncio
import io
import logging
import secrets
from collections.abc import Awaitable
from datetime import UTC
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.ui.boundary import (
    NO_PINGS,
    expired,
    guild_id_of,
    reply,
    reply_language,
    send_public,
    sentence_for,
    unexpected,
)
from cogs.ui.chart import render_chart
from cogs.ui.common import actor, clip, group_autocomplete, reachable
from cogs.ui.counting import COUNT_CHOICES, breakdown_png
from cogs.ui.limits import mention_parts, nonce, send_pages
from cogs.ui.polls import (
    VoteButton,
    VoteSelect,
    ballot_text,
    closing_embed,
    label,
    list_pages,
    message_kwargs,
    poll_components,
    poll_embed,
    results_pages,
)
from domain.clock import from_unix
from domain.counting import Breakdown
from domain.i18n import Text, render, t, tn
from domain.polls import CLOSE, Poll, PollView, ballots_csv, org_ballots_csv, results_csv
from domain.posts import SENT, SKIPPED, Post

if TYPE_CHECKING:
    from bot.client import Caucus

log = logging.getLogger(__name__)

ACTIVE_GROUPS = group_autocomplete(include_archived=False)


def _channel(channel_id: int | None) -> str:
    return f"<#{channel_id}>"


async def poll_autocomplete(itx: discord.Interaction[Caucus], current: str) -> list[app_commands.Choice[str]]:
    """This server's polls matching the number or words typed, open ones first."""
    if itx.guild_id is None:
        return []
    polls = await itx.client.polls.suggest(itx.guild_id, current)
    lang = await reply_language(itx) if polls else "en"
    states = {True: t("open").render(lang), False: t("closed").render(lang)}
    return [
        app_commands.Choice(
            name=clip(f"#{p.number} · {states[p.closed_at is None]} · {' '.join(p.question.split())}", 100),
            value=str(p.number),
        )
        for p in polls
    ]


def _file(data: str | bytes, filename: str) -> discord.File:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return discord.File(io.BytesIO(raw), filename=filename)


class PollsCog(commands.GroupCog, group_name="poll", group_description="Quick polls"):
    def __init__(self, bot: Caucus) -> None:
        self.bot = bot
        self.updater = bot.message_updater()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(VoteButton.route(self.vote_click), VoteSelect.route(self.vote_click))
        self.bot.posts.handle(CLOSE, self.close_at_deadline)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(VoteButton.unroute(), VoteSelect.unroute())

    # -- the poll message ----------------------------------------------------------------------

    async def render(self, guild_id: int, poll_id: int) -> dict[str, Any]:
        """The poll's message as it is now, in its group's language (else the server's)."""
        view = await self.bot.polls.view_by_id(guild_id, poll_id)
        return message_kwargs(view, self.bot.languages.for_group(view.group))

    def refresh(self, poll: Poll, message: discord.Message | None = None) -> None:
        """Bring the poll's message up to date soon (edits are coalesced under bursts)."""
        channel_id = poll.channel_id or (message.channel.id if message else None)
        message_id = poll.message_id or (message.id if message else None)
        if channel_id and message_id:
            self.updater.request(channel_id, message_id, lambda: self.render(poll.guild_id, poll.poll_id))

    # -- commands ------------------------------------------------------------------------------

    @app_commands.command(description="Open a quick poll in this channel")
    @app_commands.describe(
        question="The question (at most 300 characters)",
        options="2 to 25 options separated by semicolons, e.g. Yes; No; Abstain (each at most 80 characters)",
        duration="How long it runs: 30m, 2h, 3d (default 24h, at most 90 days)",
        closes="Or when it closes: YYYY-MM-DD HH:MM in the server's time zone",
        choices="How many options a member may pick (default 1)",
        anonymous="Nobody, coordinators included, can see who chose what",
        hide_results="Show no results until the poll closes",
        group="Only members of this working group may vote",
        role="Only members with this role may vote",
        count="One ballot per person (default) or per organisation (cast by its voice)",
    )
    @app_commands.choices(count=COUNT_CHOICES)
    @app_commands.autocomplete(group=ACTIVE_GROUPS)
    @app_commands.guild_only()
    async def create(
        self,
        itx: discord.Interaction,
        question: app_commands.Range[str, 1, 300],
        options: str,
        duration: str | None = None,
        closes: str | None = None,
        choices: app_commands.Range[int, 1, 25] = 1,
        anonymous: bool = False,
        hide_results: bool = False,
        group: str | None = None,
        role: discord.Role | None = None,
        count: app_commands.Choice[str] | None = None,
    ) -> None:
        who = await actor(itx)
        limit = role if role is not None and not role.is_default() else None
        poll = await self.bot.polls.create(
            who, question, options, duration=duration, closes=closes, choices=choices, anonymous=anonymous,
            hide_results=hide_results, group=group, role_id=limit.id if limit else None,
            role_name=limit.name if limit else None, count=count.value if count else None,
        )  # fmt: skip
        view = await self.bot.polls.view(poll)
        lang = self.bot.languages.for_group(view.group)  # the poll's message is public
        message = await send_public(itx, embed=poll_embed(view, lang), view=poll_components(view, lang))
        await self.bot.polls.attach_message(poll, message.channel.id, message.id)
        await self.bot.posts.refill()
        log.info("poll %d (#%d) opened in server %d", poll.poll_id, poll.number, poll.guild_id)

    @app_commands.command(description="A poll's results (hidden polls show none before they close)")
    @app_commands.describe(poll="The poll's number", csv="Attach the results as a CSV file")
    @app_commands.autocomplete(poll=poll_autocomplete)
    @app_commands.guild_only()
    async def results(self, itx: discord.Interaction, poll: str, csv: bool = False) -> None:
        found = await self.bot.polls.results(guild_id_of(itx), poll)
        lang = await reply_language(itx)
        view = found.view
        files: list[discord.File] = []
        note = None
        if found.breakdown is not None and found.breakdown.responses:
            await itx.response.defer(ephemeral=True, thinking=True)  # drawing the chart takes a moment
            png = await asyncio.to_thread(_breakdown_chart, view, found.breakdown, lang)
            files.append(_file(png, f"poll-{view.poll.number}-breakdown.png"))
        if csv and view.show_results:
            files.append(_file(results_csv(view), f"poll-{view.poll.number}-results.csv"))
            if view.per_org and not view.poll.anonymous:
                files.append(
                    _file(org_ballots_csv(view, found.org_ballots), f"poll-{view.poll.number}-ballots.csv")
                )
            elif not view.poll.anonymous:
                files.append(_file(ballots_csv(view, found.voters), f"poll-{view.poll.number}-ballots.csv"))
        elif csv:
            note = t("No CSV: the results are hidden until the poll closes.").render(lang)
        await send_pages(itx, results_pages(found, lang), note, files=files, lang=lang)

    @app_commands.command(name="list", description="Open and recently closed polls of this server")
    @app_commands.guild_only()
    async def list_(self, itx: discord.Interaction) -> None:
        polls = await self.bot.polls.list_polls(guild_id_of(itx))
        lang = await reply_language(itx)
        await send_pages(itx, list_pages(polls, lang), lang=lang)

    @app_commands.command(description="Close a poll now (its creator, its group's conveners, coordinators)")
    @app_commands.autocomplete(poll=poll_autocomplete)
    @app_commands.guild_only()
    async def close(self, itx: discord.Interaction, poll: str) -> None:
        await itx.response.defer(ephemeral=True, thinking=True)  # drawing the chart takes a moment
        closed = await self.bot.polls.close(await actor(itx), poll)
        lang = await reply_language(itx)
        try:
            channel_id = await self.announce(closed.guild_id, closed.poll_id, fallback_channel=itx.channel_id)
        except discord.HTTPException as exc:
            log.warning("could not post the result of poll %d: %s", closed.poll_id, exc)
            said = t("{poll} is closed, but I could not post its result in {channel} (can I send messages and attach "
                     "files there?); /poll results shows it.", poll=label(closed), channel=_channel(closed.channel_id))  # fmt: skip
            await reply(itx, said.render(lang), ephemeral=True)
            return
        said = (
            t(
                "{poll} is closed; the result is posted in {channel}.",
                poll=label(closed),
                channel=_channel(channel_id),
            )
            if channel_id
            else t("{poll} is closed; the result is posted.", poll=label(closed))
        )
        await reply(itx, said.render(lang), ephemeral=True)

    @app_commands.command(description="Remind the members who may vote and have not (group or role polls)")
    @app_commands.autocomplete(poll=poll_autocomplete)
    @app_commands.guild_only()
    async def nudge(self, itx: discord.Interaction, poll: str) -> None:
        who = await actor(itx)
        found = await self.bot.polls.resolve(who.guild_id, poll)
        role_members: list[int] | None = None
        if found.role_id is not None and itx.guild is not None:
            role = itx.guild.get_role(found.role_id)
            discord_ids = [m.id for m in role.members if not m.bot] if role is not None else []
            role_members = await self.bot.members.record_ids(who.guild_id, discord_ids)
        nudge = await self.bot.polls.nudge(who, found, role_members)  # decided on the poll resolved here
        target = nudge.poll
        channel_id = target.channel_id or itx.channel_id
        assert channel_id is not None
        link = (
            f" https://discord.com/channels/{target.guild_id}/{target.channel_id}/{target.message_id}"
            if target.message_id
            else ""
        )
        closes = f"<t:{target.closes_at}:R>"
        reminder = (
            t("Reminder from {member}: {poll} closes {when}; it counts one ballot per organisation and yours has not "
              "voted yet: you are its voice.", member=itx.user.mention, poll=label(target), when=closes)
            if nudge.per_org
            else t("Reminder from {member}: {poll} closes {when} and you have not voted yet.", member=itx.user.mention,
                   poll=label(target), when=closes)
        )  # fmt: skip
        head = reminder.render(self.bot.languages.for_group(await self.bot.polls.group_of(target))) + link
        ids = await reachable(self.bot, who.guild_id, nudge.user_ids)
        count = len(ids)
        lang = await reply_language(itx)
        nudging = (
            tn("Nudging {n} voice in {channel}.", "Nudging {n} voices in {channel}.", count, channel=_channel(channel_id))
            if nudge.per_org
            else tn("Nudging {n} member in {channel}.", "Nudging {n} members in {channel}.", count,
                    channel=_channel(channel_id))
        )  # fmt: skip
        await reply(itx, nudging.render(lang), ephemeral=True)
        parts = mention_parts(head, ids)
        channel = self.bot.get_partial_messageable(channel_id)
        for n, part in enumerate(parts, start=1):
            try:
                await channel.send(**part.kwargs())
            except discord.HTTPException as exc:
                log.warning("poll %d: nudge part %d of %d failed: %s", target.poll_id, n, len(parts), exc)
                said = t("I could post only {posted} of the {total} messages of the nudge in {channel} (Discord "
                         "refused the next one); the members in them were reminded, the others were not.",
                         posted=n - 1, total=len(parts), channel=_channel(channel_id))  # fmt: skip
                await reply(itx, said.render(lang), ephemeral=True)
                return
        log.info("poll %d nudged %d members in server %d", target.poll_id, count, target.guild_id)

    # -- votes ---------------------------------------------------------------------------------

    async def vote_click(
        self, itx: discord.Interaction, poll_id: int, picks: list[int], *, toggle: bool
    ) -> None:
        """A button or menu: change the member's ballot, show it to them, refresh the message soon."""
        await self._quietly(itx, self._vote(itx, poll_id, picks, toggle=toggle))

    async def _vote(self, itx: discord.Interaction, poll_id: int, picks: list[int], *, toggle: bool) -> None:
        who = await actor(itx)
        ballot = await self.bot.polls.vote(who, poll_id, picks, toggle=toggle)
        lang = await self.bot.languages.for_reply(who.guild_id, who.user_id, str(itx.locale))
        await itx.response.send_message(ballot_text(ballot, lang), ephemeral=True, allowed_mentions=NO_PINGS)
        if ballot.changed:
            self.refresh(ballot.poll, itx.message)

    async def _quietly(self, itx: discord.Interaction, work: Awaitable[None]) -> None:
        """The error boundary for votes. Unlike the shared one it never logs who clicked or which option:
        in an anonymous poll, a log line with both would undo the anonymity."""
        try:
            await work
        except Exception as exc:
            if expired(exc):  # the ballot is saved; Discord takes no answer any more
                log.warning("answered a poll vote in server %s too late", itx.guild_id)
                return
            sentence, expected = sentence_for(exc)
            if expected:
                log.info("refused a poll vote in server %s", itx.guild_id)
            else:
                ref = secrets.token_hex(3)
                log.error(
                    "unexpected error ref=%s in a poll vote in server %s", ref, itx.guild_id, exc_info=exc
                )
                sentence = unexpected(ref)
            try:
                await reply(itx, render(sentence, await reply_language(itx)), ephemeral=True)
            except Exception as failure:
                log.warning("could not answer a poll vote in server %s: %s", itx.guild_id, failure)

    # -- closing -------------------------------------------------------------------------------

    async def close_at_deadline(self, post: Post) -> str:
        """The scheduled close: closes the poll if it is still open (once), then posts the result once."""
        await self.bot.polls.close_due(post.guild_id, post.ref_id)
        posted = await self.announce(
            post.guild_id, post.ref_id, late=post.late, key=nonce(post.post_id, 1), again=post.attempts > 1
        )
        return SENT if posted else SKIPPED

    async def announce(
        self, guild_id: int, poll_id: int, *, late: bool = False, fallback_channel: int | None = None,
        key: str | None = None, again: bool = False,
    ) -> int | None:  # fmt: skip
        """Post a closed poll's result (bars and a PNG chart) in its channel, replying to the poll; once.

        ``key``: the nonce of the deadline's post, so that ``again`` (its retry after a crash) returns the
        result already posted instead of posting it twice."""
        poll = await self.bot.polls.claim_announcement(guild_id, poll_id, again=again)
        if poll is None:
            return None
        channel_id = poll.channel_id or fallback_channel
        if channel_id is None:
            log.warning("poll %d has no channel to post its result in", poll.poll_id)
            return None
        try:
            view = await self.bot.polls.view(poll)
            lang = self.bot.languages.for_group(view.group)  # the closing post is public
            image = f"poll-{poll.number}.png"
            png = await asyncio.to_thread(_chart, view, lang)
            files = [_file(png, image)]
            if view.per_org:  # where the support comes from, at a glance (none for anonymous polls)
                split = await self.bot.polls.breakdown(view)
                if split is not None and split.responses:
                    chart = await asyncio.to_thread(_breakdown_chart, view, split, lang)
                    files.append(_file(chart, f"poll-{poll.number}-breakdown.png"))
            reference = (
                discord.MessageReference(
                    message_id=poll.message_id,
                    channel_id=channel_id,
                    guild_id=guild_id,
                    fail_if_not_exists=False,
                )
                if poll.message_id and poll.channel_id == channel_id
                else None
            )
            kwargs: dict[str, Any] = {"reference": reference} if reference else {}
            if key is not None:
                kwargs["nonce"] = key
            await self.bot.get_partial_messageable(channel_id).send(
                t("{poll} has closed.", poll=label(poll)).render(lang),
                embed=closing_embed(view, late=late, image=image, lang=lang),
                files=files,
                allowed_mentions=NO_PINGS,
                **kwargs,
            )
        except BaseException:
            await self.bot.polls.release_announcement(poll)
            raise
        self.refresh(poll)
        log.info("poll %d closed in server %d (late=%s)", poll.poll_id, guild_id, late)
        return channel_id


def _chart(view: PollView, lang: str) -> bytes:
    """The result's chart, its words in ``lang`` (the question and options as their authors wrote them)."""
    poll = view.poll
    closed = from_unix(poll.closed_at or poll.closes_at).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    ballots: Text = tn("{n} ballot", "{n} ballots", poll.ballots)
    if view.per_org:
        ballots = tn("{ballots} of {n} organisation voted (one ballot each)",
                     "{ballots} of {n} organisations voted (one ballot each)", len(view.scope), ballots=poll.ballots)  # fmt: skip
    footer = t(
        "Poll #{number} · {ballots} · closed {closed}", number=poll.number, ballots=ballots, closed=closed
    )
    return render_chart(poll.question, [(o.label, o.votes) for o in view.options], poll.ballots, footer, lang)


def _breakdown_chart(view: PollView, split: Breakdown, lang: str) -> bytes:
    poll = view.poll
    unit = t("per organisation") if view.per_org else t("per person, by organisation represented")
    title = t("Poll #{number}: {question}", number=poll.number, question=poll.question)
    footer = t("Poll #{number} · {unit} · {ballots} counted", number=poll.number, unit=unit,
               ballots=tn("{n} ballot", "{n} ballots", poll.ballots))  # fmt: skip
    return breakdown_png(split, title.render(lang), footer.render(lang), lang)


async def setup(bot: Caucus) -> None:
    await bot.add_cog(PollsCog(bot))
