"""/consensus: points and questions, positions by buttons, outcomes, objections, comment deadlines."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.orgs import org_autocomplete
from cogs.ui.boundary import NO_PINGS, guarded, guild_id_of, reply, send_public
from cogs.ui.common import actor, clip, group_autocomplete, reachable, target, when
from cogs.ui.consensus import (
    REASON_ID,
    PositionButton,
    ReasonModal,
    details_blocks,
    details_pages,
    item_components,
    item_embed,
    label,
    list_pages,
    message_kwargs,
    modal_values,
    recorded_text,
)
from cogs.ui.counting import COUNT_CHOICES, breakdown_file
from cogs.ui.limits import Destination, deliver, mention_parts, send_pages
from domain.consensus import DEADLINE, REMINDER, STATUS_LABELS, Item, ItemDetails, OrgObjectionRow
from domain.posts import Post

if TYPE_CHECKING:
    from bot.client import Caucus

log = logging.getLogger(__name__)

ALL_GROUPS = group_autocomplete(include_archived=True)
ORGS = org_autocomplete(include_left=True)
ACTIVE_GROUPS = group_autocomplete(include_archived=False)

KINDS = [app_commands.Choice(name="point of possible consensus", value="point"),
         app_commands.Choice(name="question that needs agreement", value="question")]  # fmt: skip
OUTCOMES = [app_commands.Choice(name=STATUS_LABELS[s], value=s)
            for s in ("consensus", "rough_consensus", "no_consensus", "withdrawn")]  # fmt: skip
STATUSES = [app_commands.Choice(name=label_, value=value) for value, label_ in STATUS_LABELS.items()] + [
    app_commands.Choice(name="Decided (any outcome)", value="decided")
]


async def item_autocomplete(itx: discord.Interaction[Caucus], current: str) -> list[app_commands.Choice[str]]:
    """This server's items matching the number or words typed."""
    if itx.guild_id is None:
        return []
    items = await itx.client.consensus.suggest(itx.guild_id, current)
    return [
        app_commands.Choice(
            name=clip(f"#{i.number} · {STATUS_LABELS[i.status]} · {' '.join(i.text.split())}", 100),
            value=str(i.number),
        )
        for i in items
    ]


class ConsensusCog(
    commands.GroupCog, group_name="consensus", group_description="Points of consensus and open questions"
):
    def __init__(self, bot: Caucus) -> None:
        self.bot = bot
        self.updater = bot.message_updater()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(PositionButton.route(self.position_click))
        self.bot.posts.handle(REMINDER, self.send_reminder)
        self.bot.posts.handle(DEADLINE, self.send_reminder)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(PositionButton.unroute())

    # -- the item message ----------------------------------------------------------------------

    async def render(self, item_id: int, guild_id: int) -> dict[str, Any]:
        item = await self.bot.consensus.by_id(guild_id, item_id)
        return message_kwargs(await self.bot.consensus.view(item))

    def refresh(self, item: Item) -> None:
        """Bring the item's message up to date soon (edits are coalesced under bursts)."""
        if item.channel_id and item.message_id:
            self.updater.request(
                item.channel_id, item.message_id, lambda: self.render(item.item_id, item.guild_id)
            )

    # -- commands ------------------------------------------------------------------------------

    @app_commands.command(
        description="Propose a point of possible consensus, or a question that needs agreement"
    )
    @app_commands.describe(
        kind="A point to agree on, or an open question",
        text="The text (at most 1,500 characters)",
        group="The working group it belongs to",
        deadline="Comment deadline: 48h, 3d, or YYYY-MM-DD HH:MM in the server's time zone",
        count="Count per person (default) or per organisation (only each organisation's voice counts)",
    )
    @app_commands.choices(kind=KINDS, count=COUNT_CHOICES)
    @app_commands.autocomplete(group=ACTIVE_GROUPS)
    @app_commands.guild_only()
    async def propose(
        self,
        itx: discord.Interaction,
        kind: app_commands.Choice[str],
        text: app_commands.Range[str, 1, 1500],
        group: str | None = None,
        deadline: str | None = None,
        count: app_commands.Choice[str] | None = None,
    ) -> None:
        who = await actor(itx)
        item = await self.bot.consensus.propose(
            who, kind.value, text, group=group, deadline=deadline, count=count.value if count else None
        )
        view = await self.bot.consensus.view(item)
        embed, buttons = item_embed(view), item_components(item)
        home = view.group.home_channel_id if view.group else None
        message: discord.Message | discord.InteractionMessage
        if home and home != itx.channel_id:
            # two messages to send: acknowledge first, so Discord's 3 seconds never run out
            await itx.response.defer(ephemeral=True, thinking=True)
            where = home
            try:
                message = await self.bot.get_partial_messageable(home).send(
                    embed=embed, view=buttons, allowed_mentions=NO_PINGS
                )
            except discord.HTTPException as exc:
                log.warning("cannot post item %d in home channel %d: %s", item.item_id, home, exc)
                where = itx.channel_id or home
                message = await self.bot.get_partial_messageable(where).send(
                    embed=embed, view=buttons, allowed_mentions=NO_PINGS
                )
            note = "" if where == home else f" (I could not post in <#{home}>)"
            await reply(itx, f"Proposed {label(item)} in <#{where}>{note}.", ephemeral=True)
        else:
            message = await send_public(itx, embed=embed, view=buttons)
        await self.bot.consensus.attach_message(item, message.channel.id, message.id)
        if item.deadline_at is not None:
            await self.bot.posts.refill()
        log.info("item %d (#%d) proposed in server %d", item.item_id, item.number, item.guild_id)

    @app_commands.command(name="list", description="Points and questions of this server")
    @app_commands.describe(
        group="Only this working group", status="Only this status", kind="Only points or questions"
    )
    @app_commands.choices(status=STATUSES, kind=KINDS)
    @app_commands.autocomplete(group=ALL_GROUPS)
    @app_commands.guild_only()
    async def list_(
        self,
        itx: discord.Interaction,
        group: str | None = None,
        status: app_commands.Choice[str] | None = None,
        kind: app_commands.Choice[str] | None = None,
    ) -> None:
        found = await self.bot.groups.resolve(guild_id_of(itx), group) if group and group.strip() else None
        items = await self.bot.consensus.list_items(
            guild_id_of(itx),
            group=found,
            status=status.value if status else None,
            kind=kind.value if kind else None,
        )
        shown = found.name if found else None
        filters = [
            f for f in (shown, status.name if status else None, f"{kind.value}s" if kind else None) if f
        ]
        title = "Items" + (f" ({', '.join(filters)})" if filters else "")
        await send_pages(itx, list_pages(items, title))

    @app_commands.command(
        description="Everything about one item: text, revisions, positions, objections, who has not responded"
    )
    @app_commands.autocomplete(item=item_autocomplete)
    @app_commands.guild_only()
    async def show(self, itx: discord.Interaction, item: str) -> None:
        details = await self.bot.consensus.details(guild_id_of(itx), item)
        pages = details_pages(details)
        files: list[discord.File] = []
        if details.breakdown is not None and details.breakdown.responses:
            await itx.response.defer(ephemeral=True, thinking=True)  # drawing the chart takes a moment
            files.append(await asyncio.to_thread(_breakdown_chart, details))
        if len(pages) > 1:
            # every page is reachable with Previous/Next; the whole record is attached too, to read at once
            record = "\n\n".join(details_blocks(details)).encode()
            files.append(discord.File(io.BytesIO(record), filename=f"item-{details.view.item.number}.md"))
        extra: dict[str, Any] = {"files": files} if files else {}
        await send_pages(itx, pages, **extra)

    @app_commands.command(
        description="Amend an item's text: a new revision that members need to confirm again"
    )
    @app_commands.autocomplete(item=item_autocomplete)
    @app_commands.guild_only()
    async def amend(
        self, itx: discord.Interaction, item: str, text: app_commands.Range[str, 1, 1500]
    ) -> None:
        amended = await self.bot.consensus.amend(await actor(itx), item, text)
        self.refresh(amended)
        note = " Members need to confirm their positions again." if amended.kind == "point" else ""
        await reply(
            itx, f"{label(amended)} amended by {itx.user.mention} (revision {amended.revision}).{note}"
        )

    @app_commands.command(description="Declare a point's outcome (the group's conveners, coordinators)")
    @app_commands.describe(
        outcome="What the group reached; the bot never decides by counting", note="Why, for the record"
    )
    @app_commands.choices(outcome=OUTCOMES)
    @app_commands.autocomplete(item=item_autocomplete)
    @app_commands.guild_only()
    async def decide(
        self,
        itx: discord.Interaction,
        item: str,
        outcome: app_commands.Choice[str],
        note: app_commands.Range[str, 0, 1000] | None = None,
    ) -> None:
        decided = await self.bot.consensus.decide(await actor(itx), item, outcome.value, note)
        self.refresh(decided)
        await reply(itx, f"{label(decided)}: **{STATUS_LABELS[decided.status]}**, called by {itx.user.mention}."
                    + (f"\nNote: {decided.outcome_note}" if decided.outcome_note else ""))  # fmt: skip

    @app_commands.command(description="Close a question with its agreed answer, or drop it")
    @app_commands.describe(
        answer="The agreed answer (or, when dropping, why)", dropped="Drop the question instead"
    )
    @app_commands.autocomplete(item=item_autocomplete)
    @app_commands.guild_only()
    async def answer(
        self,
        itx: discord.Interaction,
        item: str,
        answer: app_commands.Range[str, 0, 1500] | None = None,
        dropped: bool = False,
    ) -> None:
        closed = await self.bot.consensus.answer(await actor(itx), item, answer, dropped=dropped)
        self.refresh(closed)
        detail = f"\nAnswer: {closed.answer}" if closed.answer else ""
        await reply(itx, f"{label(closed)}: **{STATUS_LABELS[closed.status]}** ({itx.user.mention}).{detail}")

    @app_commands.command(description="Reopen a decided point or closed question")
    @app_commands.autocomplete(item=item_autocomplete)
    @app_commands.guild_only()
    async def reopen(self, itx: discord.Interaction, item: str) -> None:
        reopened = await self.bot.consensus.reopen(await actor(itx), item)
        self.refresh(reopened)
        if reopened.deadline_at is not None:
            await self.bot.posts.refill()
        await reply(itx, f"{label(reopened)} is open again ({itx.user.mention}); positions can change.")

    @app_commands.command(description="Mark an objection addressed, or in the rough (the group goes ahead)")
    @app_commands.describe(
        member="Who objected (on a point counted per organisation: its voice who stated it)",
        state="Addressed (they agree now) or in the rough",
        note="What was done, or why the group goes ahead",
        organisation="On a point counted per organisation: the organisation that objected",
    )
    @app_commands.choices(state=[app_commands.Choice(name="addressed", value="addressed"),
                                 app_commands.Choice(name="in the rough", value="in_the_rough")])  # fmt: skip
    @app_commands.autocomplete(item=item_autocomplete, organisation=ORGS)
    @app_commands.guild_only()
    async def objection(
        self,
        itx: discord.Interaction,
        item: str,
        state: app_commands.Choice[str],
        member: discord.User | None = None,
        note: app_commands.Range[str, 0, 1000] | None = None,
        organisation: str | None = None,
    ) -> None:
        who = await actor(itx)
        objector = await target(itx, member) if member is not None else None  # as the record knows them
        org = await self.bot.orgs.resolve(who.guild_id, organisation) if organisation else None
        found, entry = await self.bot.consensus.resolve_objection(
            who, item, objector.user_id if objector else None, state.value, note, org=org
        )
        self.refresh(found)
        told = True
        if isinstance(entry, OrgObjectionRow):  # an organisation's: its voice who stated it is told
            whose = f"**{discord.utils.escape_markdown(entry.name)}**'s"
            objector_user = member or await self._user(who.guild_id, entry.stated_by)
        else:
            whose = f"{member.mention}'s" if member else "The"
            objector_user = member
        if objector_user is not None:
            told = await self._tell_objector(objector_user, found, state.name, entry.note, itx)
        await reply(itx, f"{whose} {entry.stance} on {label(found)} is marked **{state.name}**."
                    + ("" if told else " (Their direct messages are closed: they will see it in /consensus show.)"),
                    ephemeral=True)  # fmt: skip

    async def _user(self, guild_id: int, record_id: int) -> discord.User | None:
        """The member a record id names, if they are still in the server."""
        found = await reachable(self.bot, guild_id, [record_id])
        if not found:
            return None
        try:
            return self.bot.get_user(found[0]) or await self.bot.fetch_user(found[0])
        except discord.HTTPException:
            return None

    async def _tell_objector(self, member: discord.User, item: Item, state: str, note: str | None,
                             itx: discord.Interaction) -> bool:  # fmt: skip
        """The objector learns by direct message what happened to their objection."""
        where = f" in {itx.guild.name}" if itx.guild else ""
        text = (f"Your objection on {label(item)}{where} was marked **{state}** by {itx.user.display_name}."
                + (f"\nNote: {note}" if note else "") + f"\nSee /consensus show {item.number}.")  # fmt: skip
        try:
            await member.send(text, allowed_mentions=NO_PINGS)
            return True
        except discord.HTTPException:
            log.info("could not DM objector %d about item %d", member.id, item.item_id)
            return False

    # -- buttons and the reason form -----------------------------------------------------------

    async def position_click(self, itx: discord.Interaction, item_id: int, stance: str) -> None:
        """A position button: agree and stand aside are recorded at once; object and block ask for a reason."""
        who = await actor(itx)
        if stance in ("object", "block"):
            item = await self.bot.consensus.open_point(who.guild_id, item_id)
            await itx.response.send_modal(ReasonModal(item, stance))
            return
        stated = await self.bot.consensus.state_position(who, item_id, stance)
        await itx.response.send_message(
            recorded_text(stated, stance, with_reason=False), ephemeral=True, allowed_mentions=NO_PINGS
        )
        self.refresh(stated.item)

    @commands.Cog.listener()
    async def on_interaction(self, itx: discord.Interaction) -> None:
        """Reason forms are handled here by custom_id, so one opened before a restart still works after it."""
        if itx.type is not discord.InteractionType.modal_submit or not isinstance(itx.data, dict):
            return
        match = REASON_ID.fullmatch(str(itx.data.get("custom_id", "")))
        if match:
            await guarded(itx, self.reason_submitted(itx, int(match["item_id"]), match["stance"]))

    async def reason_submitted(self, itx: discord.Interaction, item_id: int, stance: str) -> None:
        reason = modal_values(dict(itx.data or {})).get("reason", "")
        stated = await self.bot.consensus.state_position(await actor(itx), item_id, stance, reason)
        await itx.response.send_message(
            recorded_text(stated, stance, with_reason=True), ephemeral=True, allowed_mentions=NO_PINGS
        )
        self.refresh(stated.item)

    # -- comment deadline posts ----------------------------------------------------------------

    async def send_reminder(self, post: Post) -> str:
        """A reminder before the comment deadline, or the notice at it; skipped when no longer useful.

        However many members it mentions, it goes out completely and once (see ``deliver``)."""

        async def build() -> list[Destination] | None:
            reminder = await self.bot.consensus.reminder(post.ref_id, post.guild_id, post.kind, post.late)
            if reminder is None or reminder.channel_id is None:
                return None
            item = reminder.item
            late = "(Late: the bot was offline at the planned time.) " if reminder.late else ""
            if post.kind == REMINDER and reminder.view.orgs is not None:
                silent = len(reminder.view.orgs.not_responded)
                head = (f"{late}Reminder: the comment period on {label(item)} ends {when(item.deadline_at)}. It counts "
                        f"per organisation: {silent} organisation{'s have' if silent != 1 else ' has'} not responded; "
                        f"their voices, please state your organisation's position. Hint so far: {reminder.view.hint}.")  # fmt: skip
                who = "Voices of organisations not yet responded:"
            elif post.kind == REMINDER:
                head = (f"{late}Reminder: the comment period on {label(item)} ends {when(item.deadline_at)}. "
                        f"Please state your position. Hint so far: {reminder.view.hint}.")  # fmt: skip
                who = "Not yet responded:"
            else:
                head = (f"{late}The comment period on {label(item)} has ended: it is ready for the conveners' call "
                        f"(/consensus decide {item.number}). Hint: {reminder.view.hint}.")  # fmt: skip
                who = "Conveners:"
            ids = await reachable(self.bot, post.guild_id, reminder.mention_ids)  # members still here
            parts = mention_parts(head, ids, label=who, continued=f"{who[:-1]} (continued):")
            return [Destination(reminder.channel_id, parts)]

        return await deliver(self.bot, post, build)


def _breakdown_chart(details: ItemDetails) -> discord.File:
    item = details.view.item
    assert details.breakdown is not None
    unit = "per organisation" if details.view.orgs is not None else "per person, by organisation represented"
    return breakdown_file(
        details.breakdown, f"Point #{item.number}: support by region and stakeholder group",
        f"Point #{item.number} · revision {item.revision} · {unit} · {details.breakdown.responses} counted",
        f"point-{item.number}-breakdown.png",
    )  # fmt: skip


async def setup(bot: Caucus) -> None:
    await bot.add_cog(ConsensusCog(bot))
