"""The summary of what a coalition agreed: gathered once, rendered as Markdown, HTML, CSV or JSON.

Order is deterministic and the date is a day, not a time, so two exports of the same data are identical.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from domain import counting
from domain import record as decision_record
from domain.clock import Clock, to_unix
from domain.consensus import STANCE_CHOICES, STANCES, STATUS_LABELS, count_positions
from domain.counting import ORGANISATIONS, PEOPLE, Breakdown, ScopedOrg
from domain.errors import Invalid, NotFound
from domain.groups import Group, WorkingGroups
from domain.i18n import Text, t, tn
from domain.permissions import Actor
from domain.polls import mask_positions, poll_closed, results_shown
from domain.statements import count_signatures
from storage import export as export_rows
from storage import statements as statement_rows
from storage.db import Database
from storage.export import (
    BallotExportRow,
    GroupExportRow,
    ItemExportRow,
    ObjectionExportRow,
    OptionExportRow,
    OrgBallotExportRow,
    OrgExportRow,
    OrgObjectionExportRow,
    OrgPositionExportRow,
    PollExportRow,
    PositionExportRow,
    SessionExportRow,
)

SCHEMA = "caucus-summary/2"
POINT_ORDER = ("consensus", "rough_consensus", "no_consensus", "withdrawn", "open")
FORMATS = ("md", "html", "csv", "json")
R = TypeVar("R")


@dataclass(frozen=True)
class Objection:
    by: str | None
    stance: str
    reason: str
    state: str
    note: str | None
    revision: int
    organisation: str | None = None  # counted per organisation: the objection is this organisation's
    record_index: int | None = (
        None  # the decision record's entry of the ruling on it (caucus verify checks it)
    )


@dataclass(frozen=True)
class Position:
    by: str
    stance: str
    reason: str | None


@dataclass(frozen=True)
class Organisation:
    """A member organisation of the coalition (not personal data: every member may see it)."""

    name: str
    acronym: str
    country: str
    region: str
    stakeholder: str
    state: str
    record_index: int | None = None  # the decision record's entry of its verification


@dataclass(frozen=True)
class OrgPosition:
    """An organisation's position on a point counted per organisation; ``counted``: it counts (verified,
    in scope); ``stated_by``: its voice who stated it, only with names."""

    organisation: str
    acronym: str
    region: str
    stakeholder: str
    stance: str
    reason: str | None
    counted: bool
    stated_by: str | None


@dataclass(frozen=True)
class OrgBallot:
    """An organisation's ballot in an open poll counted per organisation (the options it chose)."""

    organisation: str
    choices: tuple[str, ...]


@dataclass(frozen=True)
class Point:
    number: int
    text: str
    status: str
    revision: int
    proposed_by: str
    decided_by: str | None
    decided_at: str | None
    outcome_note: str | None
    tally: dict[str, int]
    open_objections: int
    objections: tuple[Objection, ...]
    positions: tuple[Position, ...]
    counting: str = PEOPLE
    organisations_in_scope: int | None = None
    organisation_positions: tuple[OrgPosition, ...] = ()
    not_responded: tuple[str, ...] = ()  # counted per organisation: the organisations in scope that have not
    breakdown: Breakdown | None = None
    record_index: int | None = None  # the decision record's entry of its outcome


@dataclass(frozen=True)
class Question:
    number: int
    text: str
    status: str
    answer: str | None
    note: str | None
    proposed_by: str
    decided_by: str | None
    decided_at: str | None
    record_index: int | None = None  # the decision record's entry of its answer


@dataclass(frozen=True)
class PollOption:
    label: str
    votes: int | None
    voters: tuple[str, ...] | None


@dataclass(frozen=True)
class PollResult:
    number: int
    question: str
    anonymous: bool
    closed: bool
    closes_at: str
    ballots: int
    results_hidden: bool
    options: tuple[PollOption, ...]
    counting: str = PEOPLE
    organisations_in_scope: int | None = None
    organisation_ballots: tuple[OrgBallot, ...] | None = None  # open polls per organisation, results shown
    breakdown: Breakdown | None = None
    record_index: int | None = None  # the decision record's entry of its final result


@dataclass(frozen=True)
class SessionEntry:
    number: int
    title: str
    start: str | None
    end: str | None
    zone: str
    repeats: str | None
    moderators: str
    note_taker: str
    location: str


@dataclass(frozen=True)
class Section:
    group_id: int | None
    group_name: str | None
    description: str
    archived: bool
    points: tuple[Point, ...]
    questions: tuple[Question, ...]
    polls: tuple[PollResult, ...]
    sessions: tuple[SessionEntry, ...]

    @property
    def empty(self) -> bool:
        return not (self.points or self.questions or self.polls or self.sessions)


@dataclass(frozen=True)
class StatementEntry:
    """A statement with its counts (organisations on its current version and on earlier ones)."""

    number: int
    title: str
    group_name: str | None
    state: str  # draft | open | closed
    version: int
    fingerprint: str
    opened_at: str | None
    closes_at: str | None
    closed_at: str | None
    organisations: int
    on_current_version: int
    on_earlier_versions: int
    listed: int
    counted_only: int
    individuals: int
    by_region: dict[str, int]
    by_stakeholder: dict[str, int]


@dataclass(frozen=True)
class Summary:
    server_id: int
    server_name: str
    exported_on: str
    time_zone: str
    group_filter: str | None
    status_filter: str | None
    names_included: bool
    sections: tuple[Section, ...]
    organisations: tuple[Organisation, ...] = ()
    # an optional part: JSON carries the "statements" key only when there is one
    statements: tuple[StatementEntry, ...] = ()
    # the decision record's proofs of the decisions reported (record_index), when the export carries them
    record: dict[str, Any] | None = None


def _when(unix: int | None, zone: ZoneInfo) -> str | None:
    if unix is None:
        return None
    return datetime.fromtimestamp(unix, zone).strftime("%Y-%m-%d %H:%M")


def _matches(status: str, wanted: str | None) -> bool:
    if wanted is None:
        return True
    if wanted == "decided":
        return status != "open"
    return status == wanted


def check_status(status: str | None) -> None:
    """Refuse a status filter that is not a status (or ``decided``)."""
    if status is not None and status != "decided" and status not in STATUS_LABELS:
        raise Invalid(t("“{status}” is not a status: open, consensus, rough_consensus, no_consensus, "
                        "withdrawn, answered, dropped or decided.", status=status[:30]))  # fmt: skip


@dataclass(frozen=True)
class Record:
    """A server's record as the export queries return it, grouped by item and poll."""

    people: dict[int, str]
    items: tuple[ItemExportRow, ...]
    positions: dict[int, list[PositionExportRow]]
    objections: dict[int, list[ObjectionExportRow]]
    polls: tuple[PollExportRow, ...]
    options: dict[int, list[OptionExportRow]]
    ballots: dict[int, list[BallotExportRow]]
    sessions: tuple[SessionExportRow, ...]
    orgs: dict[int, OrgExportRow] = field(default_factory=dict)
    org_positions: dict[int, list[OrgPositionExportRow]] = field(default_factory=dict)
    org_objections: dict[int, list[OrgObjectionExportRow]] = field(default_factory=dict)
    org_ballots: dict[int, list[OrgBallotExportRow]] = field(default_factory=dict)
    item_scopes: dict[int, set[int]] = field(default_factory=dict)  # decided points: who counted then
    poll_scopes: dict[int, set[int]] = field(default_factory=dict)  # closed polls: who counted then
    group_orgs: dict[int, set[int]] = field(default_factory=dict)  # organisations in each group now
    position_orgs: dict[tuple[int, int], int] = field(default_factory=dict)  # (item, member) -> org then
    ballot_orgs: dict[tuple[int, int], int] = field(default_factory=dict)  # (poll, member) -> org then
    secret_counts: dict[int, tuple[int, dict[int, int]]] = field(default_factory=dict)  # open anonymous polls

    def name(self, user_id: int) -> str:
        known = self.people.get(user_id)  # (not .get's default: an f-string built 100,000 times for nothing)
        return known if known is not None else f"member {user_id}"

    @property
    def has_orgs(self) -> bool:
        return bool(self.orgs)

    def counted_now(self, group_id: int | None) -> set[int]:
        """The organisations that count now for a point or poll of this group (or of no group)."""
        verified = {o.org_id for o in self.orgs.values() if o.state == "verified"}
        return verified if group_id is None else verified & self.group_orgs.get(group_id, set())

    def scoped(self, org_ids: Iterable[int]) -> list[ScopedOrg]:
        """Organisations as the breakdown counts them, by name."""
        found = [self.orgs[o] for o in org_ids if o in self.orgs]
        return [ScopedOrg(o.org_id, o.name, o.acronym, o.region, o.stakeholder, None)
                for o in sorted(found, key=lambda o: o.name.casefold())]  # fmt: skip


def _by(rows: Iterable[R], key: Callable[[R], int]) -> dict[int, list[R]]:
    grouped: dict[int, list[R]] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return grouped


#: The tally of an open anonymous poll counted per organisation, which only the holder of the ballot key
#: can count (the ballots of organisations that no longer count are told apart by their keys): poll id ->
#: (ballots, votes per option position).
SecretCounter = Callable[[int, int], Awaitable[tuple[int, dict[int, int]] | None]]


async def _record(db: Database, guild_id: int, secret_counter: SecretCounter | None = None) -> Record:
    people = await export_rows.names(db, guild_id)
    items = tuple(await export_rows.items(db, guild_id))
    positions = _by(await export_rows.positions(db, guild_id), lambda r: r.item_id)
    objections = _by(await export_rows.objections(db, guild_id), lambda r: r.item_id)
    polls = tuple(await export_rows.polls(db, guild_id))
    options = _by(await export_rows.poll_options(db, guild_id), lambda r: r.poll_id)
    ballots = _by(await export_rows.open_ballots(db, guild_id), lambda r: r.poll_id)
    sessions = tuple(await export_rows.sessions(db, guild_id))
    orgs = await export_rows.organisations(db, guild_id)
    if not orgs:  # a server without organisations: nothing counts per organisation, nothing to break down by
        return Record(people, items, positions, objections, polls, options, ballots, sessions)
    items_frozen, polls_frozen = await export_rows.frozen_scopes(db, guild_id)
    positions_then, ballots_then = await export_rows.response_orgs(db, guild_id)
    secret: dict[int, tuple[int, dict[int, int]]] = {}
    for poll in polls:
        if (
            secret_counter is not None
            and poll.counting == ORGANISATIONS
            and poll.anonymous
            and poll.closed_at is None
        ):
            found = await secret_counter(guild_id, poll.poll_id)
            if found is not None:
                secret[poll.poll_id] = found
    return Record(
        people, items, positions, objections, polls, options, ballots, sessions,
        orgs={o.org_id: o for o in orgs},
        org_positions=_by(await export_rows.org_positions(db, guild_id), lambda r: r.item_id),
        org_objections=_by(await export_rows.org_objections(db, guild_id), lambda r: r.item_id),
        org_ballots=_by(await export_rows.org_ballots(db, guild_id), lambda r: r.poll_id),
        item_scopes=_sets(items_frozen), poll_scopes=_sets(polls_frozen),
        group_orgs=_sets(await export_rows.group_orgs(db, guild_id)),
        position_orgs={(r.ref_id, r.user_id): r.org_id for r in positions_then},
        ballot_orgs={(r.ref_id, r.user_id): r.org_id for r in ballots_then},
        secret_counts=secret,
    )  # fmt: skip


def _sets(rows: Iterable[export_rows.Membership]) -> dict[int, set[int]]:
    grouped: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        grouped[row.ref_id].add(row.org_id)
    return grouped


# -- builders: one per part of a section, each reusing the domain's rules ----------------------


def build_point(it: ItemExportRow, record: Record, zone: ZoneInfo, names: bool) -> Point:
    """A point with its tally (current revision), its objection register and, with ``names``, positions;
    counted per organisation, the organisations' positions and register (visible to every member: an
    organisation's position is not personal data); and its breakdown by region and stakeholder group."""
    if it.counting == ORGANISATIONS:
        return _org_point(it, record, zone, names)
    current = record.positions.get(it.item_id, [])
    register = record.objections.get(it.item_id, [])
    still_open = sum(1 for o in register if o.state == "open" and o.revision == it.revision)
    tally = count_positions((p.stance for p in current), still_open)
    split = None
    if record.has_orgs:
        supports = [
            _support(p.stance, record, record.position_orgs.get((it.item_id, p.user_id))) for p in current
        ]
        split = counting.breakdown(PEOPLE, STANCE_CHOICES, supports)
    return Point(
        number=it.number, text=it.text, status=it.status, revision=it.revision,
        proposed_by=record.name(it.author_id),
        decided_by=record.name(it.decided_by) if it.decided_by else None,
        decided_at=_when(it.decided_at, zone), outcome_note=it.outcome_note,
        tally={stance: getattr(tally, stance) for stance in STANCES}, open_objections=tally.open_objections,
        objections=tuple(
            Objection(by=record.name(o.user_id) if names else None, stance=o.stance, reason=o.reason,
                      state=o.state, note=o.note, revision=o.revision, record_index=o.record_index)
            for o in register if o.state != "withdrawn"
        ),
        positions=tuple(Position(record.name(p.user_id), p.stance, p.reason) for p in current) if names else (),
        breakdown=split, record_index=it.record_index,
    )  # fmt: skip


def _support(stance: str, record: Record, org_id: int | None) -> counting.Support:
    org = record.orgs.get(org_id) if org_id is not None else None
    return counting.Support((stance,), org.region if org else None, org.stakeholder if org else None)


def _org_point(it: ItemExportRow, record: Record, zone: ZoneInfo, names: bool) -> Point:
    counted = (
        record.counted_now(it.group_id) if it.status == "open" else record.item_scopes.get(it.item_id, set())
    )
    current = record.org_positions.get(it.item_id, [])
    register = [o for o in record.org_objections.get(it.item_id, []) if o.state != "withdrawn"]
    still_open = [o.org_id for o in register if o.state == "open" and o.revision == it.revision]
    tally, responded = counting.org_tally(counted, ((p.org_id, p.stance) for p in current), still_open)
    scope = record.scoped(counted)
    split = counting.breakdown(
        ORGANISATIONS,
        STANCE_CHOICES,
        [_support(p.stance, record, p.org_id) for p in current if p.org_id in counted],
        scope=scope,
        responded=responded,
    )

    def org(org_id: int) -> OrgExportRow:
        return record.orgs[org_id]

    return Point(
        number=it.number, text=it.text, status=it.status, revision=it.revision,
        proposed_by=record.name(it.author_id),
        decided_by=record.name(it.decided_by) if it.decided_by else None,
        decided_at=_when(it.decided_at, zone), outcome_note=it.outcome_note,
        tally={stance: getattr(tally, stance) for stance in STANCES}, open_objections=tally.open_objections,
        objections=tuple(
            Objection(by=record.name(o.stated_by) if names else None, stance=o.stance, reason=o.reason,
                      state=o.state, note=o.note, revision=o.revision, organisation=org(o.org_id).name,
                      record_index=o.record_index)
            for o in register
        ),
        positions=tuple(Position(record.name(p.user_id), p.stance, p.reason)
                        for p in record.positions.get(it.item_id, [])) if names else (),
        counting=ORGANISATIONS, organisations_in_scope=len(counted),
        organisation_positions=tuple(
            OrgPosition(org(p.org_id).name, org(p.org_id).acronym, org(p.org_id).region, org(p.org_id).stakeholder,
                        p.stance, p.reason, p.org_id in counted, record.name(p.stated_by) if names else None)
            for p in current
        ),
        not_responded=tuple(o.name for o in scope if o.org_id not in responded),
        breakdown=split, record_index=it.record_index,
    )  # fmt: skip


def build_question(it: ItemExportRow, record: Record, zone: ZoneInfo) -> Question:
    """A question with its answer or why it was dropped."""
    return Question(
        number=it.number, text=it.text, status=it.status, answer=it.answer, note=it.outcome_note,
        proposed_by=record.name(it.author_id),
        decided_by=record.name(it.decided_by) if it.decided_by else None, decided_at=_when(it.decided_at, zone),
        record_index=it.record_index,
    )  # fmt: skip


def build_poll(poll: PollExportRow, record: Record, zone: ZoneInfo, now: int, names: bool) -> PollResult:
    """A poll's result as a member may see it: none while hidden, voters only for open polls with ``names``;
    counted per organisation, the ballots that count (organisations' ballots of open polls for everyone);
    the breakdown by region and stakeholder group (never for anonymous polls: their ballots link to nobody)."""
    # past its deadline a poll is closed, even if the closing post has not run yet
    closed = poll_closed(poll.closed_at, poll.closes_at, now)
    shown = results_shown(closed, poll.hide_results)
    labels = record.options.get(poll.poll_id, [])
    choices = [(str(o.position), o.label) for o in labels]
    votes = {o.position: o.votes for o in labels}
    ballots = poll.ballots
    in_scope: int | None = None
    org_ballots: tuple[OrgBallot, ...] | None = None
    split: Breakdown | None = None
    if poll.counting == ORGANISATIONS:
        counted = (
            record.poll_scopes.get(poll.poll_id, set())
            if poll.closed_at is not None
            else record.counted_now(poll.group_id)
        )
        in_scope = len(counted)
        cast = [b for b in record.org_ballots.get(poll.poll_id, []) if b.org_id in counted]
        if not poll.anonymous:
            ballots, votes = len(cast), dict(Counter(p for b in cast for p in mask_positions(b.picks)))
            if shown:
                names_of = {o.position: o.label for o in labels}
                org_ballots = tuple(OrgBallot(record.orgs[b.org_id].name,
                                              tuple(names_of[p] for p in mask_positions(b.picks) if p in names_of))
                                    for b in cast)  # fmt: skip
                split = counting.breakdown(
                    ORGANISATIONS, choices,
                    [counting.picks_support(b.picks, record.orgs[b.org_id].region, record.orgs[b.org_id].stakeholder)
                     for b in cast],
                    scope=record.scoped(counted), responded={b.org_id for b in cast},
                )  # fmt: skip
        elif poll.poll_id in record.secret_counts:  # open: only the ballot key tells which ballots count
            ballots, votes = record.secret_counts[poll.poll_id]
    elif record.has_orgs and shown and not poll.anonymous:
        supports = []
        for b in record.ballots.get(poll.poll_id, []):
            org = record.orgs.get(record.ballot_orgs.get((poll.poll_id, b.user_id), 0))
            supports.append(
                counting.picks_support(b.picks, org.region if org else None, org.stakeholder if org else None)
            )
        split = counting.breakdown(PEOPLE, choices, supports)
    chose: dict[int, list[str]] = defaultdict(list)
    if names and not poll.anonymous and shown:
        for ballot in record.ballots.get(poll.poll_id, []):
            for position in mask_positions(ballot.picks):
                chose[position].append(record.name(ballot.user_id))
    options = tuple(
        PollOption(
            o.label,
            votes.get(o.position, 0) if shown else None,
            tuple(sorted(chose[o.position])) if names and not poll.anonymous and shown else None,
        )
        for o in labels
    )
    return PollResult(
        number=poll.number, question=poll.question, anonymous=poll.anonymous, closed=closed,
        closes_at=_when(poll.closed_at or poll.closes_at, zone) or "", ballots=ballots,
        results_hidden=not shown, options=options, counting=poll.counting, organisations_in_scope=in_scope,
        organisation_ballots=org_ballots, breakdown=split, record_index=poll.record_index,
    )  # fmt: skip


_REPEATS = re.compile(r"every ([0-9]+) days until (.+)")


def repeats(days: int, until: str) -> str:
    """How a session repeats, as the summary's data holds it (English words: the JSON is for tools)."""
    return f"every {days} days until {until}"


def repeats_words(data: str) -> Text | str:
    """How a session repeats (``repeats``' words), as words to say in a language."""
    found = _REPEATS.fullmatch(data)
    if found is None:
        return data
    # the same in both English forms, as it always said; translators get the plural forms
    return tn("every {n} days until {date}", "every {n} days until {date}", int(found[1]), date=found[2])


def build_session(s: SessionExportRow) -> SessionEntry:
    """A session in its own zone, with its repetition."""
    zone = ZoneInfo(s.zone)
    end = None if s.starts_at is None else s.starts_at + s.duration_min * 60
    return SessionEntry(
        number=s.number, title=s.title, start=_when(s.starts_at, zone), end=_when(end, zone), zone=s.zone,
        repeats=repeats(s.recur_days, str(s.recur_until)) if s.recur_days else None,
        moderators=s.moderators, note_taker=s.note_taker, location=s.location,
    )  # fmt: skip


def build_section(
    group: GroupExportRow | None, record: Record, *, zone: ZoneInfo, now: int, status: str | None, names: bool
) -> Section:
    """One working group's part of the summary (or, with ``group`` None, what belongs to no group)."""
    group_id = group.group_id if group else None
    chosen = [it for it in record.items if it.group_id == group_id and _matches(it.status, status)]
    points = sorted(
        (build_point(it, record, zone, names) for it in chosen if it.kind == "point"),
        key=lambda p: (POINT_ORDER.index(p.status), p.number),
    )
    return Section(
        group_id=group_id, group_name=group.name if group else None,
        description=group.description if group else "", archived=bool(group and group.archived_at is not None),
        points=tuple(points),
        questions=tuple(build_question(it, record, zone) for it in chosen if it.kind == "question"),
        polls=tuple(build_poll(p, record, zone, now, names) for p in record.polls if p.group_id == group_id),
        sessions=tuple(build_session(s) for s in record.sessions if s.group_id == group_id),
    )  # fmt: skip


async def build_statements(
    db: Database, guild_id: int, *, zone: ZoneInfo, group: Group | None = None
) -> tuple[StatementEntry, ...]:
    """Every statement of the server (or of one group), by number, with its counts as the card shows them."""
    names = {g.group_id: g.name for g in await export_rows.groups(db, guild_id)}
    entries = []
    for st in await statement_rows.statements_of(db, guild_id):
        if group is not None and st.group_id != group.group_id:
            continue
        version = await statement_rows.get_version(db, st.statement_id, st.version)
        assert version is not None
        counts = count_signatures(await statement_rows.live_signatures(db, st.statement_id), st.version)
        entries.append(StatementEntry(
            number=st.number, title=st.title, group_name=names.get(st.group_id) if st.group_id else None,
            state=st.state, version=st.version, fingerprint=version.fingerprint,
            opened_at=_when(st.opened_at, zone), closes_at=_when(st.closes_at, zone), closed_at=_when(st.closed_at, zone),
            organisations=counts.organisations, on_current_version=counts.confirmed, on_earlier_versions=counts.pending,
            listed=counts.listed, counted_only=counts.counted_only, individuals=counts.individuals,
            by_region=counts.by_region, by_stakeholder=counts.by_stakeholder,
        ))  # fmt: skip
    return tuple(entries)


async def build_summary(
    db: Database,
    guild_id: int,
    *,
    now: datetime,
    zone: ZoneInfo,
    group: Group | None = None,
    status: str | None = None,
    names: bool = False,
    secret_counter: SecretCounter | None = None,
) -> Summary:
    """A server's record (or one resolved group's); ``names`` adds who took which position and who voted what
    in open polls. Who may see names is decided by the caller (see Summaries). ``secret_counter`` counts open
    anonymous polls per organisation (without it, every ballot cast in them counts until they close)."""
    server = await export_rows.guild_name(db, guild_id)
    if server is None:
        raise NotFound(t("The bot has no record of that server."))
    check_status(status)
    if group is not None and group.guild_id != guild_id:
        raise NotFound(t("That working group does not exist on this server."))
    groups: Sequence[GroupExportRow] = await export_rows.groups(db, guild_id)
    if group is not None:
        groups = [g for g in groups if g.group_id == group.group_id]
    record = await _record(db, guild_id, secret_counter)
    unix = to_unix(now)
    sections = [build_section(g, record, zone=zone, now=unix, status=status, names=names) for g in groups]
    if group is None:
        sections.append(build_section(None, record, zone=zone, now=unix, status=status, names=names))
    return Summary(
        server_id=guild_id, server_name=server, exported_on=now.astimezone(zone).date().isoformat(),
        time_zone=zone.key, group_filter=group.name if group is not None else None, status_filter=status,
        names_included=names, sections=tuple(s for s in sections if not s.empty or s.group_id is not None),
        organisations=tuple(Organisation(o.name, o.acronym, o.country, o.region, o.stakeholder, o.state,
                                         o.record_index)
                            for o in record.orgs.values()),
        statements=await build_statements(db, guild_id, zone=zone, group=group),
    )  # fmt: skip


@dataclass(frozen=True)
class Request:
    """A summary asked for: the server, the group resolved (or all), the status filter, whether names show."""

    guild_id: int
    group: Group | None
    status: str | None
    names: bool


def cited_entries(summary: Summary) -> Iterator[int]:
    """The record entries a summary reports: every decision in it that names its entry."""
    for org in summary.organisations:
        if org.record_index is not None:
            yield org.record_index
    for section in summary.sections:
        for point in section.points:
            if point.record_index is not None:
                yield point.record_index
            yield from (o.record_index for o in point.objections if o.record_index is not None)
        yield from (q.record_index for q in section.questions if q.record_index is not None)
        yield from (p.record_index for p in section.polls if p.record_index is not None)


class Summaries:
    """The summary export as members and the operator ask for it; who may see names is decided here."""

    def __init__(
        self, db: Database, clock: Clock, groups: WorkingGroups, zone: ZoneInfo,
        secret_counter: SecretCounter | None = None, record: decision_record.Record | None = None,
    ) -> None:  # fmt: skip
        self.db = db
        self.clock = clock
        self.groups = groups
        self.zone = zone
        self.secret_counter = secret_counter
        self.record = record  # None: exports carry no proofs (no signing key at hand)

    async def may_see_names(self, actor: Actor, group: Group | None) -> bool:
        """Coordinators see names; a group's conveners see them in that group's summary; others see tallies."""
        if self.groups.policy.is_coordinator(actor):
            return True
        return group is not None and await self.groups.can_manage(actor, group)

    async def request(
        self, actor: Actor, *, group: str | Group | None = None, status: str | None = None
    ) -> Request:
        """What a member asked for, checked and resolved once; names only if they may see them for the group
        actually resolved. (Cheap: the cog asks this before it defers, so a refusal stays private.)"""
        check_status(status)
        found = await self.groups.resolve_optional(actor.guild_id, group)
        return Request(actor.guild_id, found, status, await self.may_see_names(actor, found))

    async def build(self, request: Request) -> Summary:
        """The summary of a checked request, carrying the decision record's proofs of the decisions it
        reports (a checkpoint is signed now if the record grew since the last one)."""
        summary = await build_summary(
            self.db, request.guild_id, now=self.clock.now(), zone=self.zone, group=request.group,
            status=request.status, names=request.names, secret_counter=self.secret_counter,
        )  # fmt: skip
        cited = sorted(set(cited_entries(summary)))
        if self.record is None or not cited:
            return summary
        bundle = await self.record.proof_bundle(request.guild_id, cited)
        bundle.pop("checkpoint_new", None)  # the same bytes whoever exports first
        return replace(summary, record=bundle)

    async def for_operator(
        self, guild_id: int, *, group: str | None = None, status: str | None = None
    ) -> Summary:
        """The summary for whoever runs the bot and holds its database (``caucus export``): names included."""
        check_status(status)
        found = await self.groups.resolve_optional(guild_id, group)
        return await self.build(Request(guild_id, found, status, names=True))
