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
from cogs.ui.boundary import NO_PINGS, guarded, guild_id_of, reply, reply_language, send_public
from cogs.ui.common import actor, clip, group_autocomplete, reachable, target, when
from cogs.ui.consensus import (
    OBJECTION_STATE,
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
from domain.consensus import DEADLINE, REMINDER, STATUS_TEXTS, Item, ItemDetails, OrgObjectionRow
from domain.i18n import Text, t, tn
from domain.posts import Post

if TYPE_CHECKING:
    from bot.client import Caucus

log = logging.getLogger(__name__)

ALL_GROUPS = group_autocomplete(include_archived=True)
ORGS = org_autocomplete(include_left=True)
ACTIVE_GROUPS = group_autocomplete(include_archived=False)

KINDS = [app_commands.Choice(name="point of possible consensus", value="point"),
         app_commands.Choice(name="question that needs agreement", value="question")]  # fmt: skip
# choice names are message ids: the command translator shows them in each member's language
OUTCOMES = [app_commands.Choice(name=STATUS_TEXTS[s].msgid, value=s)
            for s in ("consensus", "rough_consensus", "no_consensus", "withdrawn")]  # fmt: skip
STATUSES = [app_commands.Choice(name=text.msgid, value=value) for value, text in STATUS_TEXTS.items()] + [
    app_commands.Choice(name="Decided (any outcome)", value="decided")
]
DECIDED = t("Decided (any outcome)")
KIND_PLURALS = {"point": t("points"), "question": t("questions")}


def _channel(channel_id: int) -> str:
    return f"<#{channel_id}>"


async def item_autocomplete(itx: discord.Interaction[Caucus], current: str) -> list[app_commands.Choice[str]]:
    """This server's items matching the number or words typed."""
    if itx.guild_id is None:
        return []
    items = await itx.client.consensus.suggest(itx.guild_id, current)
    lang = await reply_language(itx) if items else "en"
    return [
        app_commands.Choice(
            name=clip(
                f"#{i.number} · {STATUS_TEXTS[i.status].render(lang)} · {' '.join(i.text.split())}", 100
            ),
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
        """The item's message as it is now, in its group's language (else the server's)."""
        item = await self.bot.consensus.by_id(guild_id, item_id)
        view = await self.bot.consensus.view(item)
        return message_kwargs(view, self.bot.languages.for_group(view.group))

    async def _public_language(self, item: Item) -> str:
        """The language of a public post about the item: its group's, else the server's."""
        return self.bot.languages.for_group(await self.bot.consensus.group_of(item))

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
        lang = self.bot.languages.for_group(view.group)  # the item's message is public
        embed, buttons = item_embed(view, lang), item_components(item, lang)
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
            said = (
                t("Proposed {item} in {channel}.", item=label(item), channel=_channel(where))
                if where == home
                else t("Proposed {item} in {channel} (I could not post in {home}).", item=label(item),
                       channel=_channel(where), home=_channel(home))
            )  # fmt: skip
            await reply(itx, said.render(await reply_language(itx)), ephemeral=True)
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
        lang = await reply_language(itx)
        status_text = (STATUS_TEXTS.get(status.value) or DECIDED) if status else None
        filters = [
            f
            for f in (
                found.name if found else None,
                status_text.render(lang) if status_text else None,
                KIND_PLURALS[kind.value].render(lang) if kind else None,
            )
            if f
        ]
        title = t("Items ({filters})", filters=", ".join(filters)) if filters else t("Items")
        await send_pages(itx, list_pages(items, title.render(lang), lang), lang=lang)

    @app_commands.command(
        description="Everything about one item: text, revisions, positions, objections, who has not responded"
    )
    @app_commands.autocomplete(item=item_autocomplete)
    @app_commands.guild_only()
    async def show(self, itx: discord.Interaction, item: str) -> None:
        details = await self.bot.consensus.details(guild_id_of(itx), item)
        lang = await reply_language(itx)
        pages = details_pages(details, lang)
        files: list[discord.File] = []
        if details.breakdown is not None and details.breakdown.responses:
            await itx.response.defer(ephemeral=True, thinking=True)  # drawing the chart takes a moment
            files.append(await asyncio.to_thread(_breakdown_chart, details, lang))
        if len(pages) > 1:
            # every page is reachable with Previous/Next; the whole record is attached too, to read at once
            record = "\n\n".join(details_blocks(details, lang)).encode()
            files.append(discord.File(io.BytesIO(record), filename=f"item-{details.view.item.number}.md"))
        extra: dict[str, Any] = {"files": files} if files else {}
        await send_pages(itx, pages, lang=lang, **extra)

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
        said = t("{item} amended by {member} (revision {revision_number}).", item=label(amended),
                 member=itx.user.mention, revision_number=amended.revision)  # fmt: skip
        lang = await self._public_language(amended)  # said in the channel, for everyone
        text = said.render(lang)
        if amended.kind == "point":
            text += " " + t("Members need to confirm their positions again.").render(lang)
        await reply(itx, text)

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
        lang = await self._public_language(decided)  # the outcome is announced in the channel
        said = [t("{item}: **{status}**, called by {member}.", item=label(decided),
                  status=STATUS_TEXTS[decided.status], member=itx.user.mention)]  # fmt: skip
        if decided.outcome_note:
            said.append(t("Note: {note}", note=decided.outcome_note))
        await reply(itx, "\n".join(text.render(lang) for text in said))

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
        lang = await self._public_language(closed)  # the outcome is announced in the channel
        said = [t("{item}: **{status}** ({member}).", item=label(closed), status=STATUS_TEXTS[closed.status],
                  member=itx.user.mention)]  # fmt: skip
        if closed.answer:
            said.append(t("Answer: {answer}", answer=closed.answer))
        await reply(itx, "\n".join(text.render(lang) for text in said))

    @app_commands.command(description="Reopen a decided point or closed question")
    @app_commands.autocomplete(item=item_autocomplete)
    @app_commands.guild_only()
    async def reopen(self, itx: discord.Interaction, item: str) -> None:
        reopened = await self.bot.consensus.reopen(await actor(itx), item)
        self.refresh(reopened)
        if reopened.deadline_at is not None:
            await self.bot.posts.refill()
        said = t("{item} is open again ({member}); positions can change.", item=label(reopened),
                 member=itx.user.mention)  # fmt: skip
        await reply(itx, said.render(await self._public_language(reopened)))

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
        marked = OBJECTION_STATE[state.value]
        if isinstance(entry, OrgObjectionRow):  # an organisation's: its voice who stated it is told
            said = _marked(entry.stance, label(found), marked, org=discord.utils.escape_markdown(entry.name))
            objector_user = member or await self._user(who.guild_id, entry.stated_by)
            objector_id: int | None = objector.user_id if objector else entry.stated_by
        else:
            said = _marked(entry.stance, label(found), marked, member=member.mention if member else None)
            objector_user = member
            objector_id = objector.user_id if objector else None
        if objector_user is not None and objector_id is not None:
            told = await self._tell_objector(objector_user, objector_id, found, marked, entry.note, itx)
        lang = await reply_language(itx)
        text = said.render(lang)
        if not told:
            text += " " + t(
                "(Their direct messages are closed: they will see it in /consensus show.)"
            ).render(lang)
        await reply(itx, text, ephemeral=True)

    async def _user(self, guild_id: int, record_id: int) -> discord.User | None:
        """The member a record id names, if they are still in the server."""
        found = await reachable(self.bot, guild_id, [record_id])
        if not found:
            return None
        try:
            return self.bot.get_user(found[0]) or await self.bot.fetch_user(found[0])
        except discord.HTTPException:
            return None

    async def _tell_objector(self, member: discord.User, record_id: int, item: Item, state: Text,
                             note: str | None, itx: discord.Interaction) -> bool:  # fmt: skip
        """The objector learns by direct message (in their own language: ``record_id`` is theirs) what
        happened to their objection."""
        lang = await self.bot.languages.for_reply(item.guild_id, record_id, None)
        said = [
            t("Your objection on {item} in {server} was marked **{state}** by {member}.", item=label(item),
              server=itx.guild.name, state=state, member=itx.user.display_name)
            if itx.guild
            else t("Your objection on {item} was marked **{state}** by {member}.", item=label(item), state=state,
                   member=itx.user.display_name)
        ]  # fmt: skip
        if note:
            said.append(t("Note: {note}", note=note))
        said.append(t("See /consensus show {number}.", number=item.number))
        text = "\n".join(line.render(lang) for line in said)
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
            await itx.response.send_modal(ReasonModal(item, stance, await reply_language(itx)))
            return
        stated = await self.bot.consensus.state_position(who, item_id, stance)
        text = recorded_text(stated, stance, with_reason=False, lang=await reply_language(itx))
        await itx.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
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
        text = recorded_text(stated, stance, with_reason=True, lang=await reply_language(itx))
        await itx.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
        self.refresh(stated.item)

    # -- comment deadline posts ----------------------------------------------------------------

    async def send_reminder(self, post: Post) -> str:
        """A reminder before the comment deadline, or the notice at it; skipped when no longer useful.

        However many members it mentions, it goes out completely and once (see ``deliver``)."""

        async def build() -> list[Destination] | None:
            reminder = await self.bot.consensus.reminder(post.ref_id, post.guild_id, post.kind, post.late)
            if reminder is None or reminder.channel_id is None:
                return None
            item, hint = reminder.item, reminder.view.hint
            lang = self.bot.languages.for_group(reminder.view.group)  # posted in the channel
            ends = when(item.deadline_at)
            said: Text
            if post.kind == REMINDER and reminder.view.orgs is not None:
                silent = len(reminder.view.orgs.not_responded)
                said = tn("Reminder: the comment period on {item} ends {when}. It counts per organisation: {n} "
                          "organisation has not responded; their voices, please state your organisation's position. "
                          "Hint so far: {hint}.",
                          "Reminder: the comment period on {item} ends {when}. It counts per organisation: {n} "
                          "organisations have not responded; their voices, please state your organisation's "
                          "position. Hint so far: {hint}.", silent, item=label(item), when=ends, hint=hint)  # fmt: skip
                who = t("Voices of organisations not yet responded:")
                again = t("Voices of organisations not yet responded (continued):")
            elif post.kind == REMINDER:
                said = t("Reminder: the comment period on {item} ends {when}. Please state your position. Hint so "
                         "far: {hint}.", item=label(item), when=ends, hint=hint)  # fmt: skip
                who, again = t("Not yet responded:"), t("Not yet responded (continued):")
            else:
                said = t("The comment period on {item} has ended: it is ready for the conveners' call (/consensus "
                         "decide {number}). Hint: {hint}.", item=label(item), number=item.number, hint=hint)  # fmt: skip
                who, again = t("Conveners:"), t("Conveners (continued):")
            head = said.render(lang)
            if reminder.late:
                head = t("(Late: the bot was offline at the planned time.)").render(lang) + " " + head
            ids = await reachable(self.bot, post.guild_id, reminder.mention_ids)  # members still here
            parts = mention_parts(head, ids, label=who.render(lang), continued=again.render(lang))
            return [Destination(reminder.channel_id, parts)]

        return await deliver(self.bot, post, build)


def _marked(
    stance: str, item: Text, state: Text, *, org: str | None = None, member: str | None = None
) -> Text:
    """What the convener is told: whose objection (or block) on the item is marked how."""
    if org is not None:
        if stance == "block":
            return t("**{org}**'s block on {item} is marked **{state}**.", org=org, item=item, state=state)
        return t("**{org}**'s object on {item} is marked **{state}**.", org=org, item=item, state=state)
    if member is not None:
        if stance == "block":
            return t(
                "{member}'s block on {item} is marked **{state}**.", member=member, item=item, state=state
            )
        return t("{member}'s object on {item} is marked **{state}**.", member=member, item=item, state=state)
    if stance == "block":
        return t("The block on {item} is marked **{state}**.", item=item, state=state)
    return t("The object on {item} is marked **{state}**.", item=item, state=state)


def _breakdown_chart(details: ItemDetails, lang: str) -> discord.File:
    item = details.view.item
    assert details.breakdown is not None
    unit = (
        t("per organisation")
        if details.view.orgs is not None
        else t("per person, by organisation represented")
    )
    title = t("Point #{number}: support by region and stakeholder group", number=item.number)
    footer = t("Point #{number} · revision {revision_number} · {unit} · {count} counted", number=item.number,
               revision_number=item.revision, unit=unit, count=details.breakdown.responses)  # fmt: skip
    return breakdown_file(
        details.breakdown, title.render(lang), footer.render(lang), f"point-{item.number}-breakdown.png", lang
    )


async def setup(bot: Caucus) -> None:
    await bot.add_cog(ConsensusCog(bot))
