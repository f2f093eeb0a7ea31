"""Quick polls: one changeable ballot per member, single or up to k choices, open or anonymous,
results live or hidden until close, closing once at a deadline or by hand, nudges for non-voters.

Anonymous polls store only HMAC-SHA256(key, poll id and user id) per ballot, with a key that lives in a
file next to the database and never in it, and no time per ballot; at close even that hash is replaced
by random bytes.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from domain import counting, record
from domain.clock import Clock, to_unix
from domain.counting import ORGANISATIONS, PEOPLE, Breakdown, ScopedOrg
from domain.errors import Closed, Conflict, Invalid, NotAllowed, NotFound, TooLong
from domain.groups import Group, WorkingGroups
from domain.i18n import Text, t, tn
from domain.permissions import Actor
from domain.refs import by_number, found
from domain.text import cell, strip_controls
from domain.timeparse import EndRules, end_time
from storage import counting as counting_rows
from storage import groups as group_rows
from storage import polls as poll_rows
from storage import posts as post_rows
from storage import servers as server_rows
from storage.counting import OrgBallotRow
from storage.db import Connection, Database
from storage.polls import OptionCount, VoterRow
from storage.polls import PollRow as Poll

__all__ = [
    "Poll", "PollView", "Ballot", "Results", "Nudge", "OptionCount", "VoterRow", "Polls", "CLOSE",
    "QUESTION_MAX", "OPTION_MAX", "OPTIONS_MIN", "OPTIONS_MAX", "BUTTONS_UP_TO", "split_options",
    "clean_question", "clean_options", "close_time", "poll_closed", "results_shown", "picks_mask", "mask_positions", "safe_cell",
    "results_csv", "ballots_csv", "org_ballots_csv", "ballot_key", "org_ballot_key", "load_ballot_key",
    "OrgBallotRow",
]  # fmt: skip

QUESTION_MAX = 300
OPTION_MAX = 80
OPTIONS_MIN = 2
OPTIONS_MAX = 25
BUTTONS_UP_TO = 5
DEFAULT_DURATION = timedelta(hours=24)
LONGEST = timedelta(days=90)
NUDGE_EVERY = timedelta(hours=1)
RECENTLY_CLOSED = timedelta(days=7)
CLOSE = "poll_close"
_KEY_CHECK_LABEL = b"caucus ballot key check v1"


# -- values ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PollView:
    """What a poll's message shows: the poll, its options with counts, its group, and what may be shown."""

    poll: Poll  # counted per organisation: its ballots are those that count
    options: tuple[OptionCount, ...]
    group: Group | None
    closed: bool  # closed, or its deadline has passed (no vote counts after it)
    show_results: bool  # results are live, or the poll is closed
    scope: tuple[ScopedOrg, ...] = ()  # counted per organisation: the organisations that count

    @property
    def uses_buttons(self) -> bool:
        return len(self.options) <= BUTTONS_UP_TO

    @property
    def per_org(self) -> bool:
        return self.poll.counting == ORGANISATIONS


@dataclass(frozen=True)
class Ballot:
    """A member's current ballot on a poll: the chosen option positions and their labels."""

    poll: Poll
    positions: tuple[int, ...]
    labels: tuple[str, ...]
    changed: bool
    org_name: str | None = None  # counted per organisation: the ballot is this organisation's


@dataclass(frozen=True)
class Results:
    """/poll results: the view, and who chose what for open polls whose results may be shown (per
    organisation: each organisation's ballot, and who cast it); the breakdown by constituency."""

    view: PollView
    voters: tuple[VoterRow, ...]
    org_ballots: tuple[OrgBallotRow, ...] = ()
    breakdown: Breakdown | None = None


@dataclass(frozen=True)
class Nudge:
    """Whom to remind about a poll: eligible members without a ballot (per organisation: the voices of the
    organisations without one)."""

    poll: Poll
    user_ids: tuple[int, ...]
    per_org: bool = False


# -- parsing and checking input ----------------------------------------------------------------


def split_options(text: str) -> list[str]:
    """The options of a ``;``-separated string, trimmed; empty parts (a trailing ``;``) are dropped."""
    return [part.strip() for part in text.split(";") if part.strip()]


def clean_question(question: str) -> str:
    """The question trimmed; raises Invalid or TooLong."""
    cleaned = strip_controls(question).strip()
    if not cleaned:
        raise Invalid(t("The question is empty; write the question to ask."))
    if len(cleaned) > QUESTION_MAX:
        raise TooLong(
            t("A question can be at most {limit} characters; this one has {length}.", limit=QUESTION_MAX,
              length=len(cleaned))
        )  # fmt: skip
    return cleaned


def _option_key(label: str) -> str:
    return " ".join(label.split()).casefold()


def clean_options(options: Iterable[str]) -> list[str]:
    """2 to 25 distinct options (ignoring letter case), each at most 80 characters; raises otherwise."""
    labels = [" ".join(strip_controls(o).split()) for o in options if strip_controls(o).strip()]
    if len(labels) < OPTIONS_MIN:
        raise Invalid(t("A poll needs at least 2 options, separated by semicolons, e.g. “Yes; No; Abstain”."))
    if len(labels) > OPTIONS_MAX:
        raise Invalid(
            t(
                "A poll can have at most {limit} options; this one has {count}.",
                limit=OPTIONS_MAX,
                count=len(labels),
            )
        )
    seen: dict[str, int] = {}
    for n, label in enumerate(labels, start=1):
        if len(label) > OPTION_MAX:
            raise TooLong(
                t("An option can be at most {limit} characters; option {option_number} has {length}.",
                  limit=OPTION_MAX, option_number=n, length=len(label))
            )  # fmt: skip
        key = _option_key(label)
        if key in seen:
            raise Invalid(
                t("Options {first_number} and {second_number} are the same (“{option}”); make each option "
                  "different.", first_number=seen[key], second_number=n, option=label[:40])
            )  # fmt: skip
        seen[key] = n
    return labels


#: What a poll says of its end.
END_RULES = EndRules(
    both=t("Give either a duration or a close time, not both."),
    closes_within=t("a poll closes at most {limit} from now"),
    runs_within=t("a poll runs at most {limit}"),
    no_time=t("A poll must run for some time; give a duration like 30m, 2h or 3d."),
)


def close_time(duration: str | None, closes: str | None, zone: ZoneInfo, now: datetime) -> datetime:
    """When a poll closes: after a duration (default 24 h), or at a wall time in ``zone``; at most 90 days away."""
    return end_time(duration, closes, zone, now, default=DEFAULT_DURATION, longest=LONGEST, rules=END_RULES)


def poll_closed(closed_at: int | None, closes_at: int, now: int) -> bool:
    """A poll is closed once closed, or from its deadline on (even before its close has run)."""
    return closed_at is not None or now >= closes_at


def results_shown(closed: bool, hide_results: bool) -> bool:
    """Results are shown live, or only after the close when the poll hides them."""
    return closed or not hide_results


def picks_mask(positions: Iterable[int]) -> int:
    """The bit mask of option positions (1-based)."""
    mask = 0
    for position in positions:
        mask |= 1 << (position - 1)
    return mask


def mask_positions(mask: int) -> tuple[int, ...]:
    """The option positions (1-based) set in a bit mask, in order."""
    return tuple(n + 1 for n in range(OPTIONS_MAX) if mask >> n & 1)


def ballot_key(secret: bytes, poll_id: int, user_id: int) -> bytes:
    """What an anonymous ballot is stored under: HMAC-SHA256 of the poll and member with the bot's key."""
    return hmac.new(secret, f"ballot:{poll_id}:{user_id}".encode(), hashlib.sha256).digest()


def org_ballot_key(secret: bytes, poll_id: int, org_id: int) -> bytes:
    """What an organisation's anonymous ballot is stored under: HMAC-SHA256 of the poll and organisation
    with the bot's key (nothing in the database links it to the organisation or to who cast it)."""
    return hmac.new(secret, f"ballot:{poll_id}:org:{org_id}".encode(), hashlib.sha256).digest()


def key_check(secret: bytes) -> bytes:
    """The value an anonymous poll keeps of the ballot key it opened under (a replaced key file shows)."""
    return hmac.new(secret, _KEY_CHECK_LABEL, hashlib.sha256).digest()


def load_ballot_key(db_path: str) -> bytes:
    """The bot's ballot key, from ``<db path>.key`` (created with mode 0600 on first start)."""
    return poll_rows.load_or_create_key(db_path)


# -- exports -----------------------------------------------------------------------------------


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (the summary export's rule: domain.text.cell)."""
    return str(cell(str(value)))


def _csv(rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def _share(votes: int, ballots: int) -> str:
    return f"{100 * votes / ballots:.1f}" if ballots else "0.0"


def results_csv(view: PollView) -> str:
    """The result per option as CSV (only when results may be shown); no member appears in it."""
    poll = view.poll
    rows: list[Sequence[object]] = [
        ("poll", "question", "option", "label", "votes", "percent_of_ballots", "ballots")
    ]
    for option in view.options:
        rows.append((poll.number, poll.question, option.position, option.label, option.votes,
                     _share(option.votes, poll.ballots), poll.ballots))  # fmt: skip
    return _csv(rows)


def org_ballots_csv(view: PollView, ballots: Iterable[OrgBallotRow]) -> str:
    """Which organisation chose what in an open poll counted per organisation (and who cast it), as CSV."""
    labels = {o.position: o.label for o in view.options}
    rows: list[Sequence[object]] = [("poll", "organisation", "acronym", "region", "stakeholder", "choices",
                                     "cast_by_user_id", "updated_at")]  # fmt: skip
    for b in ballots:
        chosen = " | ".join(labels[p] for p in mask_positions(b.picks) if p in labels)
        rows.append(
            (view.poll.number, b.name, b.acronym, b.region, b.stakeholder, chosen, b.cast_by, b.updated_at)
        )
    return _csv(rows)


def ballots_csv(view: PollView, voters: Iterable[VoterRow]) -> str:
    """Who chose what in an open poll, one row per ballot, as CSV."""
    labels = {o.position: o.label for o in view.options}
    rows: list[Sequence[object]] = [("poll", "user_id", "name", "choices", "updated_at")]
    for voter in voters:
        chosen = " | ".join(labels[p] for p in mask_positions(voter.picks) if p in labels)
        rows.append((view.poll.number, voter.user_id, voter.display_name, chosen, voter.updated_at))
    return _csv(rows)


# -- use cases ---------------------------------------------------------------------------------

Managing = Literal["close", "nudge voters of"]


def _not_manager(doing: Managing, number: int, group: str | None) -> Text:
    """The refusal of a member who may not manage a poll (one whole sentence per act, with or without the
    poll's group)."""
    if group is not None:
        if doing == "close":
            return t("Only the creator of poll #{number}, conveners of {group} or coordinators can close it.",
                     number=number, group=group)  # fmt: skip
        return t("Only the creator of poll #{number}, conveners of {group} or coordinators can nudge voters of it.",
                 number=number, group=group)  # fmt: skip
    if doing == "close":
        return t("Only the creator of poll #{number} or coordinators can close it.", number=number)
    return t("Only the creator of poll #{number} or coordinators can nudge voters of it.", number=number)


def _nobody_left(poll: Poll) -> Text:
    return t("Poll #{number} is closed; there is nobody left to nudge.", number=poll.number)


async def _result_event(conn: Connection, poll: Poll) -> record.Event:
    """The record's entry of a closed poll: votes per option and ballots, as they count (per organisation:
    the ballots of organisations in the scope kept at the close)."""
    options = await poll_rows.options(conn, poll.poll_id)
    votes = {o.position: o.votes for o in options}
    ballots = poll.ballots
    if poll.counting == ORGANISATIONS and not poll.anonymous:
        counted = {o.org_id for o in await counting_rows.frozen_poll_scope(conn, poll.poll_id)}
        cast = [b for b in await counting_rows.org_ballots(conn, poll.poll_id) if b.org_id in counted]
        ballots, votes = len(cast), dict(Counter(p for b in cast for p in mask_positions(b.picks)))
    return record.poll_closed(
        poll=poll.number, question=poll.question, ballots=ballots,
        options=[(o.label, votes.get(o.position, 0)) for o in options],
    )  # fmt: skip


class Polls:
    """Use cases for quick polls, each checked on the server side."""

    def __init__(
        self, db: Database, clock: Clock, groups: WorkingGroups, zone: ZoneInfo, secret: bytes
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the ballot key is too short")
        self.db = db
        self.clock = clock
        self.groups = groups
        self.zone = zone
        self._secret = secret
        self._check = key_check(secret)
        # Options and key checks never change once a poll exists: cached, so a vote reads only the poll.
        self._labels: dict[int, dict[int, str]] = {}
        self._key_ok: set[int] = set()

    # -- reading -------------------------------------------------------------------------------

    def is_closed(self, poll: Poll) -> bool:
        """Closed, or past its deadline (the close itself may not have run yet: no vote counts after it)."""
        return poll_closed(poll.closed_at, poll.closes_at, to_unix(self.clock.now()))

    async def resolve(self, guild_id: int, ref: str) -> Poll:
        """A poll of this server by number (``3`` or ``#3``)."""
        return await by_number(
            lambda number: poll_rows.get_poll_by_number(self.db, guild_id, number),
            ref,
            noun="a poll",
            listing="/poll list",
        )

    async def by_id(self, guild_id: int, poll_id: int) -> Poll:
        """A poll by database id, only if it belongs to this server."""
        return found(
            await poll_rows.get_poll(self.db, guild_id, poll_id),
            t("That poll does not exist on this server."),
        )

    async def group_of(self, poll: Poll) -> Group | None:
        """The poll's working group, if any (its public posts speak the group's language)."""
        return (
            None
            if poll.group_id is None
            else await group_rows.get_group(self.db, poll.guild_id, poll.group_id)
        )

    async def view(self, poll: Poll) -> PollView:
        """The poll with its options, tally and group (per organisation: the tally that counts)."""
        group = (
            None
            if poll.group_id is None
            else await group_rows.get_group(self.db, poll.guild_id, poll.group_id)
        )
        closed = self.is_closed(poll)
        counted, options, scope = await self.counted(poll)
        return PollView(
            poll=counted,
            options=options,
            group=group,
            closed=closed,
            show_results=results_shown(closed, poll.hide_results),
            scope=tuple(scope),
        )

    async def counted(self, poll: Poll) -> tuple[Poll, tuple[OptionCount, ...], list[ScopedOrg]]:
        """The poll with the ballots that count, its options with their counts, and (per organisation) the
        organisations that count. Per person every ballot counts. Per organisation only the ballots of the
        organisations in scope: counted and, for a working group's poll, with a representative in it —
        now, or as they were at the close."""
        options = tuple(await poll_rows.options(self.db, poll.poll_id))
        if poll.counting != ORGANISATIONS:
            return poll, options, []
        scope = await counting.poll_scope(
            self.db, poll.guild_id, poll.poll_id, poll.group_id, poll.closed_at is not None
        )
        if poll.anonymous and poll.closed_at is not None:
            return poll, options, scope  # what no longer counted was taken out at the close
        in_scope = {o.org_id for o in scope}
        if poll.anonymous:
            keys = {org_ballot_key(self._secret, poll.poll_id, org_id) for org_id in in_scope}
            masks = [
                picks
                for key, picks in await counting_rows.secret_ballots(self.db, poll.poll_id)
                if key in keys
            ]
        else:
            masks = [
                b.picks
                for b in await counting_rows.org_ballots(self.db, poll.poll_id)
                if b.org_id in in_scope
            ]
        votes: Counter[int] = Counter(p for mask in masks for p in mask_positions(mask))
        return (
            replace(poll, ballots=len(masks)),
            tuple(OptionCount(o.position, o.label, votes[o.position]) for o in options),
            scope,
        )

    async def secret_counts(self, guild_id: int, poll_id: int) -> tuple[int, dict[int, int]] | None:
        """The ballots that count and the votes per option of a poll of this server (for the summary of an
        open anonymous poll per organisation, which only the ballot key can count); None if unknown."""
        poll = await poll_rows.get_poll(self.db, guild_id, poll_id)
        if poll is None:
            return None
        counted, options, _ = await self.counted(poll)
        return counted.ballots, {o.position: o.votes for o in options}

    async def view_by_id(self, guild_id: int, poll_id: int) -> PollView:
        """The current view of a poll of this server."""
        return await self.view(await self.by_id(guild_id, poll_id))

    async def suggest(self, guild_id: int, text: str) -> list[Poll]:
        """Up to 25 polls matching what was typed, for autocomplete."""
        return await poll_rows.search_polls(self.db, guild_id, text)

    async def list_polls(self, guild_id: int) -> list[tuple[Poll, bool]]:
        """Open polls of this server, then those closed in the last seven days; each with whether it is
        closed (per organisation, with the ballots that count)."""
        since = to_unix(self.clock.now() - RECENTLY_CLOSED)
        found = []
        for p in await poll_rows.list_polls(self.db, guild_id, closed_since=since):
            counted = (await self.counted(p))[0] if p.counting == ORGANISATIONS else p
            found.append((counted, self.is_closed(p)))
        return found

    async def results(self, guild_id: int, ref: str) -> Results:
        """The results if they may be shown (hidden polls show none before close, to anyone); open polls name voters."""
        poll = await self.resolve(guild_id, ref)
        view = await self.view(poll)
        voters: tuple[VoterRow, ...] = ()
        ballots: tuple[OrgBallotRow, ...] = ()
        if view.show_results and not poll.anonymous:
            if view.per_org:
                counted = {o.org_id for o in view.scope}
                ballots = tuple(
                    b for b in await counting_rows.org_ballots(self.db, poll.poll_id) if b.org_id in counted
                )
            else:
                voters = tuple(await poll_rows.voters(self.db, guild_id, poll.poll_id))
        return Results(view, voters, ballots, await self.breakdown(view, ballots))

    async def breakdown(
        self, view: PollView, ballots: Sequence[OrgBallotRow] | None = None
    ) -> Breakdown | None:
        """The ballots by region and stakeholder group (None when results are hidden, in anonymous polls —
        a ballot is linked to nobody —, and on a server without organisations)."""
        poll = view.poll
        if (
            poll.anonymous
            or not view.show_results
            or not await counting_rows.has_orgs(self.db, poll.guild_id)
        ):
            return None
        choices = [(str(o.position), o.label) for o in view.options]
        if view.per_org:
            if ballots is None:
                counted = {o.org_id for o in view.scope}
                ballots = [
                    b for b in await counting_rows.org_ballots(self.db, poll.poll_id) if b.org_id in counted
                ]
            supports = [counting.picks_support(b.picks, b.region, b.stakeholder) for b in ballots]
            return counting.breakdown(ORGANISATIONS, choices, supports, scope=view.scope,
                                      responded={b.org_id for b in ballots})  # fmt: skip
        rows = await counting_rows.people_supports_of_poll(self.db, poll.guild_id, poll.poll_id)
        return counting.breakdown(PEOPLE, choices, [counting.picks_support(r.picks or 0, r.region, r.stakeholder)
                                                    for r in rows])  # fmt: skip

    async def can_manage(self, actor: Actor, poll: Poll) -> bool:
        """The creator, a convener of the poll's group, or a coordinator."""
        if poll.author_id == actor.user_id or self.groups.policy.is_coordinator(actor):
            return True
        if poll.group_id is None:
            return False
        return await group_rows.is_convener(self.db, poll.group_id, actor.user_id)

    async def _require_manager(self, actor: Actor, poll: Poll, doing: Managing) -> None:
        if not await self.can_manage(actor, poll):
            group = (
                None
                if poll.group_id is None
                else await group_rows.get_group(self.db, poll.guild_id, poll.group_id)
            )
            raise NotAllowed(_not_manager(doing, poll.number, group.name if group else None))

    # -- creating ------------------------------------------------------------------------------

    async def create(
        self,
        actor: Actor,
        question: str,
        options: str | Sequence[str],
        *,
        duration: str | None = None,
        closes: str | None = None,
        choices: int = 1,
        anonymous: bool = False,
        hide_results: bool = False,
        group: str | None = None,
        role_id: int | None = None,
        role_name: str | None = None,
        count: str | None = None,
    ) -> Poll:
        """Open a poll numbered next in the server, and plan its close at the deadline, in one transaction.
        ``count``: one ballot per person (the default) or per organisation, fixed from now on."""
        mode = counting.parse_counting(count)
        if mode == ORGANISATIONS and role_id is not None:
            raise Invalid(
                t("A poll counted per organisation can be limited to a working group (its organisations), not "
                  "to a role; leave the role out.")
            )  # fmt: skip
        question = clean_question(question)
        labels = clean_options(split_options(options) if isinstance(options, str) else options)
        if not 1 <= choices <= len(labels):
            raise Invalid(
                t("Choices is how many options a member may pick: from 1 to {count} for this poll.",
                  count=len(labels))
            )  # fmt: skip
        now = self.clock.now()
        closes_at = to_unix(close_time(duration, closes, self.zone, now))
        found = await self.groups.resolve(actor.guild_id, group) if group and group.strip() else None
        if found is not None and role_id is not None:
            raise Invalid(t("Limit a poll to a working group or to a role, not both."))
        if found is not None and found.archived_at is not None:
            raise Closed(t("{group} is archived and takes no new polls.", group=found.name))
        if mode == ORGANISATIONS:
            await counting.require_counted_orgs(self.db, actor.guild_id, "poll")
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            await server_rows.ensure_guild(conn, actor.guild_id, to_unix(now))
            await server_rows.upsert_members(
                conn, actor.guild_id, [(actor.user_id, actor.display_name)], to_unix(now)
            )
            if found is not None:
                fresh = await group_rows.get_group(conn, actor.guild_id, found.group_id)
                if fresh is None or fresh.archived_at is not None:
                    raise Closed(t("{group} is archived and takes no new polls.", group=found.name))
            poll_id = await poll_rows.insert_poll(
                conn, guild_id=actor.guild_id, question=question, options=labels, author_id=actor.user_id,
                group_id=found.group_id if found else None, role_id=role_id,
                role_name=(strip_controls(role_name or "") or str(role_id))[:100] if role_id is not None else None, choices=choices,
                anonymous=anonymous, hide_results=hide_results, key_check=self._check if anonymous else None,
                closes_at=closes_at, now=to_unix(now), counting=mode,
            )  # fmt: skip
            await post_rows.add_posts(conn, actor.guild_id, CLOSE, poll_id, [closes_at])
            poll = await poll_rows.get_poll(conn, actor.guild_id, poll_id)
        assert poll is not None
        return poll

    async def attach_message(self, poll: Poll, channel_id: int, message_id: int) -> None:
        """Remember the message that shows the poll."""
        async with self.db.transaction(guild_id=poll.guild_id) as conn:
            await poll_rows.set_message(conn, poll.poll_id, channel_id, message_id)

    # -- voting --------------------------------------------------------------------------------

    def _voter(self, poll: Poll, user_id: int) -> int | bytes:
        """What a ballot is stored under: the keyed hash for anonymous polls, else the user id."""
        return ballot_key(self._secret, poll.poll_id, user_id) if poll.anonymous else user_id

    async def vote(
        self, actor: Actor, poll_id: int, positions: Collection[int], *, toggle: bool = False
    ) -> Ballot:
        """Set the actor's ballot to ``positions`` (a select), or with ``toggle`` flip one option in it (a button).

        One ballot per member, replaced on every change; the tally changes in the same transaction.
        """
        wanted = set(positions)
        if toggle and len(wanted) != 1:
            raise Invalid(t("Pick one option at a time."))
        if not wanted:
            raise Invalid(t("Choose at least one option."))
        now = to_unix(self.clock.now())
        key = ballot_key(self._secret, poll_id, actor.user_id)

        def decide(ctx: poll_rows.VoteContext) -> tuple[Poll, int]:
            poll = ctx.poll
            if poll is None:
                raise NotFound(t("That poll does not exist on this server."))
            if poll.closed_at is not None or now >= poll.closes_at:
                raise Closed(t("Poll #{number} is closed; its result is final.", number=poll.number))
            if poll.anonymous and poll.poll_id not in self._key_ok:
                if ctx.key_check() != self._check:
                    raise Closed(
                        t("Anonymous poll #{number} can't take votes: the bot's ballot key changed since it "
                          "opened, so ballots can't be recognised. Its creator or a coordinator can close it.",
                          number=poll.number)
                    )  # fmt: skip
                self._key_ok.add(poll.poll_id)
            if any(not 1 <= p <= poll.option_count for p in wanted):
                raise Invalid(
                    t(
                        "That option is not on poll #{number}; use the poll's buttons or menu.",
                        number=poll.number,
                    )
                )
            if poll.counting == ORGANISATIONS:
                self._check_org_voter(poll, ctx)
            elif poll.role_id is not None and not actor.holds_role(poll.role_id):
                raise NotAllowed(
                    t("Only members with the {role} role can vote in poll #{number}.", role=poll.role_name,
                      number=poll.number)
                )  # fmt: skip
            elif poll.group_id is not None and not ctx.is_member(poll.group_id):
                raise NotAllowed(
                    t("Only members of {group} can vote in poll #{number}; join the group with /wg join first.",
                      group=ctx.group_name(poll.group_id), number=poll.number)
                )  # fmt: skip
            # multiple choice: a click adds or removes one option; a single-choice click or a select replaces
            new = ctx.current ^ picks_mask(wanted) if toggle and poll.choices > 1 else picks_mask(wanted)
            if len(mask_positions(new)) > poll.choices:
                # English says "options" whatever the number (as it always did); other languages choose
                raise Invalid(
                    tn("You can choose at most {n} options in poll #{number}; click one of yours again to remove "
                       "it first.", "You can choose at most {n} options in poll #{number}; click one of yours "
                       "again to remove it first.", poll.choices, number=poll.number)
                    if toggle
                    else tn("You can choose at most {n} options in poll #{number}.",
                            "You can choose at most {n} options in poll #{number}.", poll.choices, number=poll.number)
                )  # fmt: skip
            return poll, new

        def org_key(org_id: int) -> bytes:
            return org_ballot_key(self._secret, poll_id, org_id)

        # a click is the hot path: the whole vote (and, per organisation, whom the member represents) runs in
        # one trip to the database thread
        done = await self.db.run(
            lambda conn: poll_rows.record_vote(
                conn, guild_id=actor.guild_id, poll_id=poll_id, user_id=actor.user_id, voter_key=key, now=now,
                name=actor.display_name, decide=decide, org_key=org_key,
            ),
            guild_id=actor.guild_id,
        )  # fmt: skip
        ballot = await self._ballot(done.poll, done.new, changed=done.new != done.old)
        return replace(ballot, org_name=done.org.name) if done.org is not None else ballot

    @staticmethod
    def _check_org_voter(poll: Poll, ctx: poll_rows.VoteContext) -> None:
        """Per organisation, only the voice of an organisation in scope votes, for its organisation."""
        rep = ctx.representation
        if rep is None:
            raise NotAllowed(
                t("Poll #{number} counts one ballot per organisation, cast by its voice: you represent no "
                  "organisation, so you can't vote in it. To vote for yours, ask to represent it with /org join.",
                  number=poll.number)
            )  # fmt: skip
        if not rep.is_voice:
            voice = ctx.voice_name(rep.org_id)
            raise NotAllowed(
                t("Poll #{number} counts one ballot per organisation: only its voice, {voice}, votes for {org}, "
                  "and your click changed nothing. Ask them, or ask a coordinator to hand you the voice "
                  "(/org voice).", number=poll.number, voice=voice, org=rep.name)
                if voice
                else t("Poll #{number} counts one ballot per organisation: only its voice votes for {org}, and "
                       "your click changed nothing. Ask them, or ask a coordinator to hand you the voice "
                       "(/org voice).", number=poll.number, org=rep.name)
            )  # fmt: skip
        if poll.group_id is not None and not ctx.org_in_group(rep.org_id, poll.group_id):
            raise NotAllowed(
                t("Poll #{number} is for the organisations of {group}: {org} has no representative in that group "
                  "(one of them joins it with /wg join).", number=poll.number, group=ctx.group_name(poll.group_id),
                  org=rep.name)
            )  # fmt: skip

    async def _ballot(self, poll: Poll, picks: int, *, changed: bool) -> Ballot:
        labels = self._labels.get(poll.poll_id)
        if labels is None:
            labels = {o.position: o.label for o in await poll_rows.options(self.db, poll.poll_id)}
            self._labels[poll.poll_id] = labels
        chosen = mask_positions(picks)
        return Ballot(poll, chosen, tuple(labels[p] for p in chosen), changed)

    async def ballot(self, actor: Actor, poll_id: int) -> Ballot:
        """The actor's current ballot on a poll of this server (per organisation: their organisation's)."""
        poll = await self.by_id(actor.guild_id, poll_id)
        if poll.counting == ORGANISATIONS:
            rep = await counting_rows.representation_org(self.db, actor.guild_id, actor.user_id)
            if rep is None:
                return await self._ballot(poll, 0, changed=False)
            if poll.anonymous:
                picks = await poll_rows.picks_of(
                    self.db, poll.poll_id, org_ballot_key(self._secret, poll.poll_id, rep)
                )
            else:
                picks = next((b.picks for b in await counting_rows.org_ballots(self.db, poll.poll_id)
                              if b.org_id == rep), 0)  # fmt: skip
            return await self._ballot(poll, picks, changed=False)
        picks = await poll_rows.picks_of(self.db, poll.poll_id, self._voter(poll, actor.user_id))
        return await self._ballot(poll, picks, changed=False)

    # -- closing -------------------------------------------------------------------------------

    async def _close(self, guild_id: int, poll_id: int, closed_at: int, closed_by: int | None) -> Poll | None:
        async with self.db.transaction(guild_id=guild_id) as conn:
            if not await poll_rows.close_poll(conn, poll_id, closed_at, closed_by):
                return None
            await post_rows.cancel_posts(conn, (CLOSE,), poll_id, closed_at)
            poll = await poll_rows.get_poll(conn, guild_id, poll_id)
            assert poll is not None
            if poll.counting == ORGANISATIONS:
                # which organisations counted, as they were at the close; an anonymous ballot of one that no
                # longer counts can't be kept apart without linking it, so it goes before the keys do
                scope = [o.org_id for o in await counting_rows.live_scope(conn, guild_id, poll.group_id)]
                await counting_rows.freeze_poll_scope(conn, poll_id, scope)
                if poll.anonymous:
                    keep = {org_ballot_key(self._secret, poll_id, org_id) for org_id in scope}
                    gone = [k for k, _ in await counting_rows.secret_ballots(conn, poll_id) if k not in keep]
                    await counting_rows.drop_secret_ballots(conn, poll_id, gone)
            # the final result, as it counts, into the decision record with the close
            final = await poll_rows.get_poll(conn, guild_id, poll_id)
            assert final is not None
            index = await record.append(conn, guild_id, await _result_event(conn, final), self.clock.now())
            await poll_rows.set_poll_record(conn, poll_id, index)
            if poll.anonymous:
                await poll_rows.forget_voter_keys(conn, poll_id)
            poll = await poll_rows.get_poll(conn, guild_id, poll_id)
            assert poll is not None
        return poll

    async def close(self, actor: Actor, ref: str) -> Poll:
        """Close a poll by hand (its creator, conveners of its group, coordinators); it closes once."""
        poll = await self.resolve(actor.guild_id, ref)
        await self._require_manager(actor, poll, "close")
        now = to_unix(self.clock.now())
        closed = await self._close(poll.guild_id, poll.poll_id, min(now, poll.closes_at), actor.user_id)
        if closed is None:
            raise Conflict(t("Poll #{number} is already closed.", number=poll.number))
        return closed

    async def close_due(self, guild_id: int, poll_id: int) -> Poll | None:
        """Close a poll at its deadline (also late, after a restart); None when it was already closed."""
        poll = await poll_rows.get_poll(self.db, guild_id, poll_id)
        if poll is None or poll.closed_at is not None:
            return None
        return await self._close(guild_id, poll_id, poll.closes_at, None)

    async def claim_announcement(self, guild_id: int, poll_id: int, *, again: bool = False) -> Poll | None:
        """Take the job of posting a closed poll's result; None when it is not closed or someone has it.

        ``again``: a retry of the deadline's post (after a crash between its send and its record) takes the
        job back for a poll closed at its deadline, and sends with the same nonce."""
        async with self.db.transaction(guild_id=guild_id) as conn:
            if not await poll_rows.claim_announcement(conn, poll_id, to_unix(self.clock.now()), again=again):
                return None
            poll = await poll_rows.get_poll(conn, guild_id, poll_id)
        return poll

    async def release_announcement(self, poll: Poll) -> None:
        """The result could not be posted: let a later attempt post it."""
        async with self.db.transaction(guild_id=poll.guild_id) as conn:
            await poll_rows.release_announcement(conn, poll.poll_id)

    # -- nudging -------------------------------------------------------------------------------

    async def nudge(
        self, actor: Actor, poll: Poll | str, role_member_ids: Collection[int] | None = None
    ) -> Nudge:
        """Who to remind: eligible members without a ballot (a group's members, or the role's members as
        Discord lists them, under their record ids); the creator, conveners of its group or coordinators,
        at most once an hour. ``poll`` is the poll already resolved (or its number as typed)."""
        if isinstance(poll, str):
            poll = await self.resolve(actor.guild_id, poll)
        elif poll.guild_id != actor.guild_id:
            raise NotFound(t("That poll does not exist on this server."))
        await self._require_manager(actor, poll, "nudge voters of")
        if self.is_closed(poll):
            raise Closed(_nobody_left(poll))
        if poll.group_id is None and poll.role_id is None and poll.counting == PEOPLE:
            raise Invalid(
                t("Nudging needs a poll limited to a working group or a role; poll #{number} is open to "
                  "everyone, so there is no list of who should vote.", number=poll.number)
            )  # fmt: skip
        now = to_unix(self.clock.now())
        every = int(NUDGE_EVERY.total_seconds())
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            fresh = await poll_rows.get_poll(conn, actor.guild_id, poll.poll_id)
            assert fresh is not None
            if fresh.closed_at is not None:
                raise Closed(_nobody_left(poll))
            if fresh.nudged_at is not None and now - fresh.nudged_at < every:
                minutes = max(1, (fresh.nudged_at + every - now + 59) // 60)
                raise Conflict(
                    tn("Poll #{number} was nudged less than an hour ago; you can nudge again in {n} minute.",
                       "Poll #{number} was nudged less than an hour ago; you can nudge again in {n} minutes.",
                       minutes, number=poll.number)
                )  # fmt: skip
            if fresh.counting == ORGANISATIONS:
                missing = await self._silent_voices(conn, fresh)
            else:
                missing = await self._silent_members(conn, fresh, role_member_ids)
            if not missing:
                raise Conflict(
                    t("Every organisation that counts in poll #{number} has voted; there is nobody to nudge.",
                      number=poll.number)
                    if fresh.counting == ORGANISATIONS
                    else t("Everyone who can vote in poll #{number} has voted; there is nobody to nudge.",
                           number=poll.number)
                )  # fmt: skip
            if not await poll_rows.claim_nudge(conn, fresh.poll_id, now, every):
                raise Conflict(
                    t("Poll #{number} was nudged less than an hour ago; try again later.", number=poll.number)
                )
        return Nudge(fresh, tuple(missing), fresh.counting == ORGANISATIONS)

    async def _silent_members(
        self, conn: Connection, poll: Poll, role_member_ids: Collection[int] | None
    ) -> list[int]:
        """The eligible members (the group's, or the role's) who have no ballot in the poll."""
        if poll.group_id is not None:
            eligible = [m.user_id for m in await group_rows.members_of(self.db, poll.group_id)]
        else:
            eligible = sorted(set(role_member_ids or ()))
        if poll.anonymous:
            keys = await poll_rows.voter_keys(conn, poll.poll_id)
            return [u for u in eligible if ballot_key(self._secret, poll.poll_id, u) not in keys]
        voted = await poll_rows.voted_user_ids(conn, poll.poll_id)
        return [u for u in eligible if u not in voted]

    async def _silent_voices(self, conn: Connection, poll: Poll) -> list[int]:
        """The voices of the organisations in scope that have no ballot in the poll."""
        scope = await counting_rows.live_scope(conn, poll.guild_id, poll.group_id)
        if poll.anonymous:
            keys = await poll_rows.voter_keys(conn, poll.poll_id)
            voted = {o.org_id for o in scope if org_ballot_key(self._secret, poll.poll_id, o.org_id) in keys}
        else:
            voted = {b.org_id for b in await counting_rows.org_ballots(conn, poll.poll_id)}
        return [o.voice_id for o in scope if o.org_id not in voted and o.voice_id is not None]
