"""Consensus items: points and questions, positions, the objection register, outcomes, comment deadlines.

The bot never decides by counting (RFC 7282): it shows a hint to the person who judges.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from domain import counting, record
from domain.clock import Clock, to_unix
from domain.counting import ORGANISATIONS, PEOPLE, Breakdown, OrgCount
from domain.errors import Closed, Conflict, Invalid, NotAllowed, NotFound, TooLong
from domain.groups import Group, WorkingGroups
from domain.i18n import Text, t, tn
from domain.orgs import Org
from domain.permissions import Actor
from domain.refs import by_number, found
from domain.text import quote, strip_controls
from domain.timeparse import looks_like_duration, parse_duration, parse_future
from storage import consensus as consensus_rows
from storage import counting as counting_rows
from storage import groups as group_rows
from storage import posts as post_rows
from storage import servers as server_rows
from storage.consensus import ItemRow as Item
from storage.consensus import ObjectionRow, PositionRow, RevisionRow, Tally
from storage.counting import OrgObjectionRow, OrgPositionRow, PositionOrgRow, Standing
from storage.db import Connection, Database

__all__ = [
    "Item", "ItemView", "ItemDetails", "Consensus", "Tally", "Reminder", "Stated", "Standing", "OrgObjectionRow", "STANCES",
    "POINT_OUTCOMES", "QUESTION_OUTCOMES", "STATUS_LABELS", "STATUS_TEXTS", "STATUS_WORDS", "STANCE_LABELS",
    "STANCE_CHOICES", "hint", "count_positions",
]  # fmt: skip

TEXT_MAX = 1500
REASON_MAX = 1000
NOTE_MAX = 1000
DEADLINE_MAX = timedelta(days=366)
STANCES = ("agree", "stand_aside", "object", "block")
NEEDS_REASON = ("object", "block")
POINT_OUTCOMES = ("consensus", "rough_consensus", "no_consensus", "withdrawn")
QUESTION_OUTCOMES = ("answered", "dropped")
OBJECTION_STATES = ("addressed", "in_the_rough")
#: An item's status as a title or a list names it ("Rough consensus"), rendered in the reader's language.
STATUS_TEXTS: dict[str, Text] = {
    "open": t("Open"),
    "consensus": t("Consensus"),
    "rough_consensus": t("Rough consensus"),
    "no_consensus": t("No consensus"),
    "withdrawn": t("Withdrawn"),
    "answered": t("Answered"),
    "dropped": t("Dropped"),
}
#: The status inside a sentence ("is decided (rough consensus)").
STATUS_WORDS: dict[str, Text] = {
    "open": t("open"),
    "consensus": t("consensus"),
    "rough_consensus": t("rough consensus"),
    "no_consensus": t("no consensus"),
    "withdrawn": t("withdrawn"),
    "answered": t("answered"),
    "dropped": t("dropped"),
}
#: The English names, for the summary export (domain/summary.py, domain/render.py write them as they are).
STATUS_LABELS: dict[str, str] = {key: text.msgid for key, text in STATUS_TEXTS.items()}
STANCE_LABELS: dict[str, Text] = {
    "agree": t("agree"),
    "stand_aside": t("stand aside"),
    "object": t("object"),
    "block": t("block"),
}
STANCE_CHOICES = tuple(STANCE_LABELS.items())  # (key, label) for the breakdown (which keeps them in English)
REMINDER = "item_reminder"
DEADLINE = "item_deadline"


@dataclass(frozen=True)
class ItemView:
    """What an item's message shows."""

    item: Item
    group: Group | None
    tally: Tally
    group_size: int | None
    not_responded: int | None
    orgs: OrgCount | None = None  # counted per organisation: the organisations in scope and who responded

    @property
    def hint(self) -> Text:
        if self.orgs is not None:
            return counting.org_hint(self.tally, len(self.orgs.in_scope), len(self.orgs.not_responded))
        return hint(self.tally, self.not_responded)


@dataclass(frozen=True)
class ItemDetails:
    """Everything /consensus show tells. Counted per organisation: the organisations' positions and
    objection register, and whom each member with a position represents now (to show them apart)."""

    view: ItemView
    revisions: tuple[RevisionRow, ...]
    positions: tuple[PositionRow, ...]
    objections: tuple[ObjectionRow, ...]
    not_responded: tuple[tuple[int, str], ...]
    org_positions: tuple[OrgPositionRow, ...] = ()
    org_objections: tuple[OrgObjectionRow, ...] = ()
    position_orgs: tuple[PositionOrgRow, ...] = ()
    breakdown: Breakdown | None = None


@dataclass(frozen=True)
class Stated:
    """A position recorded: the point, and (counted per organisation) where the member's position stands."""

    item: Item
    standing: Standing | None = None


@dataclass(frozen=True)
class Reminder:
    """A comment-deadline post to send: where, whom to mention, what to say."""

    item: Item
    kind: str
    channel_id: int | None
    mention_ids: tuple[int, ...]
    view: ItemView
    late: bool


def count_positions(stances: Iterable[str], open_objections: int = 0) -> Tally:
    """The tally of a set of positions (what the database counts for a live item)."""
    counts = dict.fromkeys(STANCES, 0)
    for stance in stances:
        counts[stance] += 1
    return Tally(**counts, open_objections=open_objections)


def hint(tally: Tally, not_responded: int | None = None) -> Text:
    """A judge's hint such as "no blocks, 2 objections open, 31 of 34 agree"; never a decision."""
    blocks = t("no blocks") if tally.block == 0 else tn("{n} block", "{n} blocks", tally.block)
    objections = tn("{n} objection open", "{n} objections open", tally.open_objections)
    agree = tn("{n} of {responses} agree", "{n} of {responses} agree", tally.agree, responses=tally.responses)
    parts = [blocks, objections, agree]
    if tally.stand_aside:
        parts.append(tn("{n} stands aside", "{n} stand aside", tally.stand_aside))
    if not_responded:
        parts.append(tn("{n} group member not responded", "{n} group members not responded", not_responded))
    return counting.then(parts)


Written = Literal["note", "reason", "text", "answer"]
#: What is said of a text a member wrote that is empty, or too long (one whole sentence per kind of text).
_EMPTY: dict[Written, Text] = {
    "note": t("The note is empty; write something."),
    "reason": t("The reason is empty; write something."),
    "text": t("The text is empty; write something."),
    "answer": t("The answer is empty; write something."),
}
_TOO_LONG: dict[Written, Callable[[int, int], Text]] = {
    "note": lambda limit, length: t(
        "The note can be at most {limit} characters; this one has {length}.", limit=limit, length=length
    ),
    "reason": lambda limit, length: t(
        "The reason can be at most {limit} characters; this one has {length}.", limit=limit, length=length
    ),
    "text": lambda limit, length: t(
        "The text can be at most {limit} characters; this one has {length}.", limit=limit, length=length
    ),
    "answer": lambda limit, length: t(
        "The answer can be at most {limit} characters; this one has {length}.", limit=limit, length=length
    ),
}


def _clean_text(text: str, what: Written, limit: int) -> str:
    cleaned = strip_controls(text).strip()
    if not cleaned:
        raise Invalid(_EMPTY[what])
    if len(cleaned) > limit:
        raise TooLong(_TOO_LONG[what](limit, len(cleaned)))
    return cleaned


def _clean_note(note: str | None) -> str | None:
    if note is None or not note.strip():
        return None
    return _clean_text(note, "note", NOTE_MAX)


_DEADLINE_RULE = t("a comment deadline is at most {limit} away")


def parse_deadline(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """A comment deadline: a duration from now (``48h``, ``3d``) or a date and time in ``zone``; at most a year away."""
    stripped = strip_controls(text).strip()
    if looks_like_duration(stripped):
        delta = parse_duration(stripped, longest=DEADLINE_MAX, rule=_DEADLINE_RULE)
        if delta <= timedelta(0):
            raise Invalid(t("A comment deadline must be in the future."))
        return now + delta
    if not re.match(r"\s*\d{4}-", stripped):
        raise Invalid(
            t(
                "“{text}” is not a deadline: give a duration such as 48h or 3d, or a date and time like "
                "2026-12-01 18:00.",
                text=quote(text),
            )
        )
    return parse_future(stripped, zone, now, within=DEADLINE_MAX, rule=_DEADLINE_RULE)


def _a_question(item: Item) -> Text:
    return t("#{number} is a question: positions are taken on points.", number=item.number)


def _frozen(item: Item) -> Text:
    return t("Point #{number} is decided ({status}); positions are frozen.", number=item.number,
             status=STATUS_WORDS[item.status])  # fmt: skip


def _no_objection_of(org: str, item: Item) -> Text:
    return t("{org} has no objection or block on the current text of #{number}.", org=org, number=item.number)


Judging = Literal["decide", "answer", "reopen", "handle objections on"]


def _not_judge(doing: Judging, number: int, group: str | None) -> Text:
    """The refusal of a member who may not judge an item (one whole sentence per act, with or without the
    item's group)."""
    if group is not None:
        return {
            "decide": t("Only conveners of {group} or coordinators can decide #{number}.", group=group,
                        number=number),
            "answer": t("Only conveners of {group} or coordinators can answer #{number}.", group=group,
                        number=number),
            "reopen": t("Only conveners of {group} or coordinators can reopen #{number}.", group=group,
                        number=number),
            "handle objections on": t("Only conveners of {group} or coordinators can handle objections on "
                                      "#{number}.", group=group, number=number),
        }[doing]  # fmt: skip
    return {
        "decide": t("Only coordinators can decide #{number}.", number=number),
        "answer": t("Only coordinators can answer #{number}.", number=number),
        "reopen": t("Only coordinators can reopen #{number}.", number=number),
        "handle objections on": t("Only coordinators can handle objections on #{number}.", number=number),
    }[doing]


async def _outcome_event(
    conn: Connection, item: Item, status: str, note: str | None, answer: str | None, scope_ids: list[int]
) -> record.Event:
    """The record's entry of an outcome: the point's tally as it stands when decided (per organisation:
    the organisations in scope), or the question's answer."""
    if item.kind == "question":
        return record.question_answered(
            item=item.number, revision=item.revision, text=item.text, outcome=status, answer=answer
        )
    if item.counting == ORGANISATIONS:
        positions = await counting_rows.org_positions(conn, item.item_id, item.revision)
        register = await counting_rows.org_objections(conn, item.item_id)
        still_open = [o.org_id for o in register if o.revision == item.revision and o.state == "open"]
        tally, _ = counting.org_tally(set(scope_ids), ((p.org_id, p.stance) for p in positions), still_open)
    else:
        tally = await consensus_rows.tally(conn, item.item_id, item.revision)
    return record.point_decided(
        item=item.number, revision=item.revision, text=item.text, outcome=status,
        tally={stance: getattr(tally, stance) for stance in STANCES}, note=note,
    )  # fmt: skip


class Consensus:
    """Use cases for points and questions, each checked against the rules on the server side."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        groups: WorkingGroups,
        zone: ZoneInfo,
        offsets: tuple[timedelta, ...],
    ) -> None:
        self.db = db
        self.clock = clock
        self.groups = groups
        self.zone = zone
        self.offsets = offsets

    # -- reading -------------------------------------------------------------------------------

    async def resolve(self, guild_id: int, ref: str) -> Item:
        """An item of this server by number (``3`` or ``#3``)."""
        return await by_number(
            lambda number: consensus_rows.get_item_by_number(self.db, guild_id, number),
            ref,
            noun="an item",
            listing="/consensus list",
        )

    async def by_id(self, guild_id: int, item_id: int) -> Item:
        """An item by database id, only if it belongs to this server."""
        return found(
            await consensus_rows.get_item(self.db, guild_id, item_id),
            t("That item does not exist on this server."),
        )

    async def group_of(self, item: Item) -> Group | None:
        """The item's working group, if any (its public posts speak the group's language)."""
        return await self._group(item)

    async def _group(self, item: Item) -> Group | None:
        return (
            None
            if item.group_id is None
            else await group_rows.get_group(self.db, item.guild_id, item.group_id)
        )

    async def view(self, item: Item) -> ItemView:
        """The item with its group, tally and response counts (per organisation: the organisations')."""
        group = await self._group(item)
        if item.counting == ORGANISATIONS:
            return await self._org_view(item, group)
        tally = await consensus_rows.tally(self.db, item.item_id, item.revision)
        size = missing = None
        if group is not None:
            size = await consensus_rows.group_member_count(self.db, item.guild_id, group.group_id)
            missing = len(
                await consensus_rows.non_responders(
                    self.db, item.guild_id, group.group_id, item.item_id, item.revision
                )
            )
        return ItemView(item, group, tally, size, missing)

    async def _org_view(self, item: Item, group: Group | None) -> ItemView:
        scope = await counting.item_scope(
            self.db, item.guild_id, item.item_id, item.group_id, item.status == "open"
        )
        positions = await counting_rows.org_positions(self.db, item.item_id, item.revision)
        register = await counting_rows.org_objections(self.db, item.item_id)
        still_open = [o.org_id for o in register if o.revision == item.revision and o.state == "open"]
        tally, responded = counting.org_tally(
            {o.org_id for o in scope}, ((p.org_id, p.stance) for p in positions), still_open
        )
        other, unaffiliated = await counting_rows.positions_apart(
            self.db, item.guild_id, item.item_id, item.revision
        )
        size = (
            None
            if group is None
            else await consensus_rows.group_member_count(self.db, item.guild_id, group.group_id)
        )
        return ItemView(
            item, group, tally, size, None, OrgCount(tuple(scope), responded, other, unaffiliated)
        )

    async def breakdown(self, view: ItemView) -> Breakdown | None:
        """Support on the current revision by region and stakeholder group (None on a server without
        organisations): per organisation in scope, or per person by the organisation they represented."""
        item = view.item
        if item.kind != "point" or not await counting_rows.has_orgs(self.db, item.guild_id):
            return None
        if view.orgs is not None:
            counted = {o.org_id for o in view.orgs.in_scope}
            positions = await counting_rows.org_positions(self.db, item.item_id, item.revision)
            supports = [counting.stance_support(p) for p in positions if p.org_id in counted]
            return counting.breakdown(ORGANISATIONS, STANCE_CHOICES, supports, scope=view.orgs.in_scope,
                                      responded=view.orgs.responded)  # fmt: skip
        rows = await counting_rows.people_supports_of_item(
            self.db, item.guild_id, item.item_id, item.revision
        )
        return counting.breakdown(PEOPLE, STANCE_CHOICES, [counting.stance_support(r) for r in rows])

    async def details(self, guild_id: int, ref: str) -> ItemDetails:
        """The full record of an item for /consensus show."""
        item = await self.resolve(guild_id, ref)
        view = await self.view(item)
        missing: list[tuple[int, str]] = []
        if item.group_id is not None and item.counting == PEOPLE:
            missing = await consensus_rows.non_responders(
                self.db, guild_id, item.group_id, item.item_id, item.revision
            )
        per_org = item.counting == ORGANISATIONS
        return ItemDetails(
            view=view,
            revisions=tuple(await consensus_rows.revisions(self.db, item.item_id)),
            positions=tuple(await consensus_rows.positions(self.db, guild_id, item.item_id)),
            objections=()
            if per_org
            else tuple(await consensus_rows.objections(self.db, guild_id, item.item_id)),
            not_responded=() if per_org else tuple(missing),
            org_positions=tuple(await counting_rows.org_positions(self.db, item.item_id)) if per_org else (),
            org_objections=tuple(await counting_rows.org_objections(self.db, item.item_id))
            if per_org
            else (),
            position_orgs=tuple(await counting_rows.position_orgs(self.db, guild_id, item.item_id))
            if per_org
            else (),
            breakdown=await self.breakdown(view),
        )

    async def org_positions_on_open_points(self, org: Org) -> list[counting_rows.OpenPositionRow]:
        """An organisation's positions on the open points counted per organisation (its card shows them:
        an organisation's position is not personal data)."""
        return await counting_rows.open_positions_of(self.db, org.org_id)

    async def list_items(
        self,
        guild_id: int,
        *,
        group: str | Group | None = None,
        status: str | None = None,
        kind: str | None = None,
    ) -> list[Item]:
        """This server's items, filtered (a group typed or already resolved); ``status`` may be ``decided``."""
        found = await self.groups.resolve_optional(guild_id, group)
        group_id = found.group_id if found else None
        statuses: tuple[str, ...] = ()
        if status == "decided":
            statuses = tuple(s for s in STATUS_LABELS if s != "open")
        elif status:
            if status not in STATUS_LABELS:
                raise Invalid(t("“{status}” is not a status; pick one from the list.", status=status[:30]))
            statuses = (status,)
        if kind is not None and kind not in ("point", "question"):
            raise Invalid(t("The kind is point or question."))
        return await consensus_rows.list_items(
            self.db, guild_id, group_id=group_id, statuses=statuses, kind=kind
        )

    async def suggest(self, guild_id: int, text: str) -> list[Item]:
        """Up to 25 items matching what was typed, for autocomplete."""
        return await consensus_rows.search_items(self.db, guild_id, text)

    async def can_judge(self, actor: Actor, item: Item) -> bool:
        """Conveners of the item's group and coordinators declare outcomes."""
        if self.groups.policy.is_coordinator(actor):
            return True
        group = await self._group(item)
        return group is not None and await group_rows.is_convener(self.db, group.group_id, actor.user_id)

    async def _require_judge(self, actor: Actor, item: Item, doing: Judging) -> None:
        if not await self.can_judge(actor, item):
            group = await self._group(item)
            raise NotAllowed(_not_judge(doing, item.number, group.name if group else None))

    # -- changing ------------------------------------------------------------------------------

    def _reminder_times(self, deadline_at: int, now: int) -> list[int]:
        times = [deadline_at - int(o.total_seconds()) for o in self.offsets]
        return sorted(t for t in times if t > now)

    async def propose(
        self, actor: Actor, kind: str, text: str, *, group: str | None = None, deadline: str | None = None,
        count: str | None = None,
    ) -> Item:  # fmt: skip
        """Propose a point or a question, numbered next in the server; plans the comment-deadline posts.
        ``count``: per person (the default) or per organisation, fixed from now on."""
        if kind not in ("point", "question"):
            raise Invalid(t("An item is a point or a question."))
        mode = counting.parse_counting(count)
        if mode == ORGANISATIONS and kind == "question":
            raise Invalid(
                t(
                    "Counting per organisation applies to points (positions are taken on points, not questions)."
                )
            )
        text = _clean_text(text, "text", TEXT_MAX)
        now = self.clock.now()
        found = await self.groups.resolve(actor.guild_id, group) if group and group.strip() else None
        if found is not None and found.archived_at is not None:
            raise Closed(t("{group} is archived and takes no new items.", group=found.name))
        deadline_at = None
        if deadline and deadline.strip() and kind == "question":
            raise Invalid(
                t("A comment deadline applies to points (positions are taken on points, not questions).")
            )
        if deadline and deadline.strip():
            deadline_at = to_unix(parse_deadline(deadline, self.zone, now))
        if mode == ORGANISATIONS:
            await counting.require_counted_orgs(self.db, actor.guild_id, "point")
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            await server_rows.ensure_guild(conn, actor.guild_id, to_unix(now))
            await server_rows.upsert_members(
                conn, actor.guild_id, [(actor.user_id, actor.display_name)], to_unix(now)
            )
            if found is not None:
                fresh = await group_rows.get_group(conn, actor.guild_id, found.group_id)
                if fresh is None or fresh.archived_at is not None:
                    raise Closed(t("{group} is archived and takes no new items.", group=found.name))
            item_id = await consensus_rows.insert_item(
                conn, guild_id=actor.guild_id, kind=kind, group_id=found.group_id if found else None,
                author_id=actor.user_id, text=text, deadline_at=deadline_at, now=to_unix(now), counting=mode,
            )  # fmt: skip
            if deadline_at is not None:
                await post_rows.add_posts(
                    conn, actor.guild_id, REMINDER, item_id, self._reminder_times(deadline_at, to_unix(now))
                )
                await post_rows.add_posts(conn, actor.guild_id, DEADLINE, item_id, [deadline_at])
            item = await consensus_rows.get_item(conn, actor.guild_id, item_id)
        assert item is not None
        return item

    async def attach_message(self, item: Item, channel_id: int, message_id: int) -> None:
        """Remember the message that shows the item."""
        async with self.db.transaction(guild_id=item.guild_id) as conn:
            await consensus_rows.set_message(conn, item.item_id, channel_id, message_id)

    async def open_point(self, guild_id: int, item_id: int) -> Item:
        """The point if positions can be taken on it now (before asking a member for a reason)."""
        item = await self.by_id(guild_id, item_id)
        if item.kind != "point":
            raise Invalid(_a_question(item))
        if item.status != "open":
            raise Closed(_frozen(item))
        return item

    async def set_position(self, actor: Actor, item_id: int, stance: str, reason: str | None = None) -> Item:
        """Record the actor's position on the current revision of an open point (object/block need a reason)."""
        return (await self.state_position(actor, item_id, stance, reason)).item

    async def state_position(
        self, actor: Actor, item_id: int, stance: str, reason: str | None = None
    ) -> Stated:
        """Record the actor's position on the current revision of an open point (object/block need a reason).

        Counted per organisation, every member's position is recorded and shown; it becomes their
        organisation's position only if they are its voice (looked up in the same transaction)."""
        if stance not in STANCES:
            raise Invalid(t("A position is agree, stand aside, object or block."))
        clean_reason: str | None = None
        if stance in NEEDS_REASON:
            clean_reason = _clean_text(reason or "", "reason", REASON_MAX)
        now = to_unix(self.clock.now())

        def check(item: Item | None) -> Item:
            if item is None:
                raise NotFound(t("That item does not exist on this server."))
            if item.kind != "point":
                raise Invalid(_a_question(item))
            if item.status != "open":
                raise Closed(_frozen(item))
            return item

        # a click is the hot path: the whole change runs in one trip to the database thread
        item, standing = await self.db.run(
            lambda conn: consensus_rows.record_position(
                conn, guild_id=actor.guild_id, item_id=item_id, user_id=actor.user_id, stance=stance,
                reason=clean_reason, now=now, name=actor.display_name, check=check,
            ),
            guild_id=actor.guild_id,
        )  # fmt: skip
        return Stated(item, standing)

    async def amend(self, actor: Actor, ref: str, text: str) -> Item:
        """New text makes a new revision; positions on earlier revisions stay in history but no longer count."""
        item = await self.resolve(actor.guild_id, ref)
        text = _clean_text(text, "text", TEXT_MAX)
        if item.author_id != actor.user_id and not await self.can_judge(actor, item):
            raise NotAllowed(
                t("Only the author of #{number}, its group's conveners or coordinators can amend it.",
                  number=item.number)
            )  # fmt: skip
        now = to_unix(self.clock.now())
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            fresh = await consensus_rows.get_item(conn, actor.guild_id, item.item_id)
            assert fresh is not None
            if fresh.status != "open":
                raise Closed(t("#{number} is decided; reopen it before amending.", number=item.number))
            if fresh.text == text:
                raise Conflict(t("That is already the text of #{number}.", number=item.number))
            await server_rows.upsert_members(conn, actor.guild_id, [(actor.user_id, actor.display_name)], now)
            await consensus_rows.add_revision(conn, item.item_id, text, actor.user_id, now)
            amended = await consensus_rows.get_item(conn, actor.guild_id, item.item_id)
        assert amended is not None
        return amended

    async def decide(self, actor: Actor, ref: str, outcome: str, note: str | None = None) -> Item:
        """Declare a point's outcome (its group's conveners, coordinators); positions freeze."""
        item = await self.resolve(actor.guild_id, ref)
        if item.kind != "point":
            raise Invalid(t("#{number} is a question: close it with /consensus answer.", number=item.number))
        if outcome not in POINT_OUTCOMES:
            raise Invalid(t("The outcome is consensus, rough consensus, no consensus or withdrawn."))
        await self._require_judge(actor, item, "decide")
        return await self._close(actor, item, outcome, note=_clean_note(note))

    async def answer(self, actor: Actor, ref: str, answer: str | None, *, dropped: bool = False) -> Item:
        """Close a question with its agreed answer, or drop it."""
        item = await self.resolve(actor.guild_id, ref)
        if item.kind != "question":
            raise Invalid(
                t("#{number} is a point: declare its outcome with /consensus decide.", number=item.number)
            )
        await self._require_judge(actor, item, "answer")
        if dropped:
            return await self._close(actor, item, "dropped", note=_clean_note(answer))
        return await self._close(
            actor, item, "answered", answer=_clean_text(answer or "", "answer", TEXT_MAX)
        )

    async def _close(
        self, actor: Actor, item: Item, status: str, *, note: str | None = None, answer: str | None = None
    ) -> Item:
        now = to_unix(self.clock.now())
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            fresh = await consensus_rows.get_item(conn, actor.guild_id, item.item_id)
            assert fresh is not None
            if fresh.status != "open":
                raise Conflict(
                    t("#{number} is already decided ({status}); reopen it first.", number=item.number,
                      status=STATUS_WORDS[fresh.status])
                )  # fmt: skip
            await server_rows.upsert_members(conn, actor.guild_id, [(actor.user_id, actor.display_name)], now)
            await consensus_rows.set_status(
                conn, item.item_id, status, by=actor.user_id, at=now, note=note, answer=answer
            )
            scope_ids: list[int] = []
            if fresh.counting == ORGANISATIONS:  # which organisations counted, as they were when decided
                scope = await counting_rows.live_scope(conn, fresh.guild_id, fresh.group_id)
                scope_ids = [o.org_id for o in scope]
                await counting_rows.freeze_item_scope(conn, item.item_id, scope_ids)
            # the decision record's entry commits with the decision, or neither does
            index = await record.append(
                conn, actor.guild_id, await _outcome_event(conn, fresh, status, note, answer, scope_ids),
                self.clock.now(),
            )  # fmt: skip
            await consensus_rows.set_item_record(conn, item.item_id, index)
            await post_rows.cancel_posts(conn, (REMINDER, DEADLINE), item.item_id, now)
            closed = await consensus_rows.get_item(conn, actor.guild_id, item.item_id)
        assert closed is not None
        return closed

    async def reopen(self, actor: Actor, ref: str) -> Item:
        """Undo an outcome: the item is open again, positions can change, a future deadline is planned again."""
        item = await self.resolve(actor.guild_id, ref)
        await self._require_judge(actor, item, "reopen")
        now = to_unix(self.clock.now())
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            fresh = await consensus_rows.get_item(conn, actor.guild_id, item.item_id)
            assert fresh is not None
            if fresh.status == "open":
                raise Conflict(t("#{number} is already open.", number=item.number))
            await consensus_rows.set_status(conn, item.item_id, "open", by=None, at=None)
            await consensus_rows.set_item_record(conn, item.item_id, None)  # no outcome stands now
            await counting_rows.thaw_item_scope(conn, item.item_id)
            if fresh.deadline_at is not None and fresh.deadline_at > now:
                await post_rows.add_posts(
                    conn, actor.guild_id, REMINDER, item.item_id, self._reminder_times(fresh.deadline_at, now)
                )
                await post_rows.add_posts(conn, actor.guild_id, DEADLINE, item.item_id, [fresh.deadline_at])
            reopened = await consensus_rows.get_item(conn, actor.guild_id, item.item_id)
        assert reopened is not None
        return reopened

    async def resolve_objection(
        self, actor: Actor, ref: str, objector_id: int | None, state: str, note: str | None, *,
        org: Org | None = None,
    ) -> tuple[Item, ObjectionRow | OrgObjectionRow]:  # fmt: skip
        """Mark an objection on the current revision addressed, or in the rough (with the convener's reason).

        Counted per organisation the objection is an organisation's: the one given, or the one whose
        objection the member stated, or the one the member represents."""
        item = await self.resolve(actor.guild_id, ref)
        if state not in OBJECTION_STATES:
            raise Invalid(t("An objection is marked addressed or in the rough."))
        await self._require_judge(actor, item, "handle objections on")
        clean = _clean_note(note)
        if state == "in_the_rough" and clean is None:
            raise Invalid(t("Say why the group goes ahead: a note is required for “in the rough”."))
        if item.status != "open":
            raise Closed(
                t("#{number} is decided; reopen it to change its objection register.", number=item.number)
            )
        if item.counting == ORGANISATIONS:
            return item, await self._resolve_org_objection(actor, item, objector_id, org, state, clean)
        if objector_id is None:
            raise Invalid(t("Name the member whose objection on #{number} it is.", number=item.number))
        now = to_unix(self.clock.now())
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            done = await consensus_rows.resolve_objection(
                conn, item.item_id, item.revision, objector_id, state, clean, actor.user_id, now
            )
            if done:
                stance = await consensus_rows.objection_stance(conn, item.item_id, item.revision, objector_id)
                event = record.objection_ruled(
                    item=item.number, revision=item.revision, stance=stance, state=state, note=clean
                )
                index = await record.append(conn, actor.guild_id, event, self.clock.now())
                await consensus_rows.set_objection_record(
                    conn, item.item_id, item.revision, objector_id, index
                )
        if not done:
            raise NotFound(
                t(
                    "That member has no objection or block on the current text of #{number}.",
                    number=item.number,
                )
            )
        entry = next(
            o for o in await consensus_rows.objections(self.db, actor.guild_id, item.item_id)
            if o.user_id == objector_id and o.revision == item.revision
        )  # fmt: skip
        return item, entry

    async def _resolve_org_objection(
        self, actor: Actor, item: Item, objector_id: int | None, org: Org | None, state: str, note: str | None
    ) -> OrgObjectionRow:
        register = [o for o in await counting_rows.org_objections(self.db, item.item_id)
                    if o.revision == item.revision and o.state != "withdrawn"]  # fmt: skip
        if org is not None:
            if org.guild_id != actor.guild_id:
                raise NotFound(t("That organisation does not exist on this server."))
            wanted = [o for o in register if o.org_id == org.org_id]
            missing = _no_objection_of(org.name, item)
        elif objector_id is not None:
            wanted = [o for o in register if o.stated_by == objector_id]
            if not wanted:
                mine = await counting_rows.representation_org(self.db, actor.guild_id, objector_id)
                wanted = [o for o in register if o.org_id == mine]
            missing = t("That member stated no organisation's objection on the current text of #{number}, and "
                        "their organisation has none; name the organisation.", number=item.number)  # fmt: skip
        else:
            raise Invalid(
                t("#{number} counts per organisation: name the organisation whose objection it is.",
                  number=item.number)
            )  # fmt: skip
        if not wanted:
            raise NotFound(missing)
        entry = wanted[0]
        now = to_unix(self.clock.now())
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            await server_rows.upsert_members(conn, actor.guild_id, [(actor.user_id, actor.display_name)], now)
            done = await counting_rows.resolve_org_objection(
                conn, item.item_id, item.revision, entry.org_id, state, note, actor.user_id, now
            )
            if done:
                event = record.objection_ruled(
                    item=item.number, revision=item.revision, stance=entry.stance, state=state, note=note
                )
                index = await record.append(conn, actor.guild_id, event, self.clock.now())
                await counting_rows.set_org_objection_record(
                    conn, item.item_id, item.revision, entry.org_id, index
                )
        if not done:
            raise NotFound(_no_objection_of(entry.name, item))
        return next(o for o in await counting_rows.org_objections(self.db, item.item_id)
                    if o.org_id == entry.org_id and o.revision == item.revision)  # fmt: skip

    async def reminder(self, item_id: int, guild_id: int, kind: str, late: bool) -> Reminder | None:
        """What to post for a comment-deadline post, or None when it is no longer useful."""
        item = await consensus_rows.get_item(self.db, guild_id, item_id)
        if item is None or item.status != "open" or item.deadline_at is None:
            return None
        now = to_unix(self.clock.now())
        view = await self.view(item)
        group = view.group
        channel_id = (group.home_channel_id if group else None) or item.channel_id
        if kind == REMINDER:
            if now >= item.deadline_at:
                return None  # the comment period is over: a reminder would only confuse
            mention: tuple[int, ...] = ()
            if view.orgs is not None:
                # per organisation: the voices of the organisations in scope that have not responded
                silent = view.orgs.not_responded
                if not silent:
                    return None
                mention = tuple(o.voice_id for o in silent if o.voice_id is not None)
            elif group is not None:
                missing = await consensus_rows.non_responders(
                    self.db, guild_id, group.group_id, item.item_id, item.revision
                )
                if not missing:
                    return None
                mention = tuple(uid for uid, _ in missing)
            return Reminder(item, kind, channel_id, mention, view, late)
        conveners: tuple[int, ...] = ()
        if group is not None:
            conveners = tuple(
                m.user_id for m in await group_rows.members_of(self.db, group.group_id) if m.is_convener
            )
        return Reminder(item, kind, channel_id, conveners, view, late)
