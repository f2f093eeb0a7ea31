"""The summary of what a coalition agreed: gathered once, rendered as Markdown, HTML, CSV or JSON.

Order is deterministic and the date is a day, not a time, so two exports of the same data are identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.consensus import STATUS_LABELS
from domain.errors import Invalid, NotFound
from domain.groups import Group, WorkingGroups, find_group
from domain.permissions import Actor
from storage import export as export_rows
from storage.db import Database

SCHEMA = "caucus-summary/1"
POINT_ORDER = ("consensus", "rough_consensus", "no_consensus", "withdrawn", "open")
FORMATS = ("md", "html", "csv", "json")


@dataclass(frozen=True)
class Objection:
    by: str | None
    stance: str
    reason: str
    state: str
    note: str | None
    revision: int


@dataclass(frozen=True)
class Position:
    by: str
    stance: str
    reason: str | None


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
class Summary:
    server_id: int
    server_name: str
    exported_on: str
    time_zone: str
    group_filter: str | None
    status_filter: str | None
    names_included: bool
    sections: tuple[Section, ...]


def _when(unix: object, zone: ZoneInfo) -> str | None:
    if unix is None:
        return None
    return datetime.fromtimestamp(int(str(unix)), zone).strftime("%Y-%m-%d %H:%M")


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def _matches(status: str, wanted: str | None) -> bool:
    if wanted is None:
        return True
    if wanted == "decided":
        return status != "open"
    return status == wanted


async def export_summary(
    groups: WorkingGroups,
    actor: Actor,
    group: str | Group | None,
    *,
    now: datetime,
    zone: ZoneInfo,
    status: str | None = None,
) -> Summary:
    """/export summary: names (who took which position, who voted what) go to coordinators, and to conveners
    for their own group; everyone else gets tallies. Decided on the group object that is exported (a typed
    group is resolved once, by the one rule)."""
    found = await groups.resolve_optional(actor.guild_id, group)
    names = groups.policy.is_coordinator(actor) or (
        found is not None and await groups.can_manage(actor, found)
    )
    return await _gather(
        groups.db, actor.guild_id, now=now, zone=zone, group=found, status=status, names=names
    )


async def build_summary(
    db: Database,
    guild_id: int,
    *,
    now: datetime,
    zone: ZoneInfo,
    group: str | None = None,
    status: str | None = None,
    names: bool = False,
) -> Summary:
    """Gather a server's record (one group's, typed as members type it: ``#<id>`` or a name); ``names``
    includes who took which position and who voted what in open polls."""
    found = await find_group(db, guild_id, group) if group is not None else None
    return await _gather(db, guild_id, now=now, zone=zone, group=found, status=status, names=names)


async def _gather(
    db: Database,
    guild_id: int,
    *,
    now: datetime,
    zone: ZoneInfo,
    group: Group | None,
    status: str | None,
    names: bool,
) -> Summary:
    server = await export_rows.guild_name(db, guild_id)
    if server is None:
        raise NotFound("The bot has no record of that server.")
    if status is not None and status != "decided" and status not in STATUS_LABELS:
        raise Invalid(f"“{status[:30]}” is not a status: open, consensus, rough_consensus, no_consensus, "
                      "withdrawn, answered, dropped or decided.")  # fmt: skip
    people = await export_rows.names(db, guild_id)

    def name(user_id: object) -> str:
        return people.get(int(str(user_id)), f"member {user_id}")

    all_groups = await export_rows.groups(db, guild_id)
    if group is not None:  # exactly the group resolved by the caller
        all_groups = [g for g in all_groups if g[0] == group.group_id and group.guild_id == guild_id]
        if not all_groups:
            raise NotFound("That working group does not exist on this server.")
    positions_by_item: dict[int, list[tuple[int, int, int, str, str | None, int]]] = {}
    for p in await export_rows.positions(db, guild_id):
        positions_by_item.setdefault(p[0], []).append(p)
    objections_by_item: dict[int, list[dict[str, object]]] = {}
    for o in await export_rows.objections(db, guild_id):
        objections_by_item.setdefault(int(str(o["item_id"])), []).append(o)
    items = await export_rows.items(db, guild_id)
    polls = await export_rows.polls(db, guild_id)
    sessions = await export_rows.sessions(db, guild_id)

    def section(group_id: int | None, group_name: str | None, description: str, archived: bool) -> Section:
        points: list[Point] = []
        questions: list[Question] = []
        for it in items:
            if it["group_id"] != group_id or not _matches(str(it["status"]), status):
                continue
            if it["kind"] == "question":
                questions.append(Question(
                    number=int(str(it["number"])), text=str(it["text"]), status=str(it["status"]),
                    answer=_opt(it["answer"]), note=_opt(it["outcome_note"]),
                    proposed_by=name(it["author_id"]), decided_by=name(it["decided_by"]) if it["decided_by"] else None,
                    decided_at=_when(it["decided_at"], zone),
                ))  # fmt: skip
                continue
            item_id = int(str(it["item_id"]))
            current = positions_by_item.get(item_id, [])
            tally = {
                s: sum(1 for p in current if p[3] == s) for s in ("agree", "stand_aside", "object", "block")
            }
            register = objections_by_item.get(item_id, [])
            points.append(Point(
                number=int(str(it["number"])), text=str(it["text"]), status=str(it["status"]),
                revision=int(str(it["revision"])), proposed_by=name(it["author_id"]),
                decided_by=name(it["decided_by"]) if it["decided_by"] else None,
                decided_at=_when(it["decided_at"], zone), outcome_note=_opt(it["outcome_note"]),
                tally=tally,
                open_objections=sum(1 for o in register if o["state"] == "open" and o["revision"] == it["revision"]),
                objections=tuple(
                    Objection(by=name(o["user_id"]) if names else None, stance=str(o["stance"]), reason=str(o["reason"]),
                              state=str(o["state"]), note=_opt(o["note"]), revision=int(str(o["revision"])))
                    for o in register if o["state"] != "withdrawn"
                ),
                positions=tuple(Position(name(p[2]), p[3], p[4]) for p in current) if names else (),
            ))  # fmt: skip
        points.sort(key=lambda p: (POINT_ORDER.index(p.status), p.number))
        poll_results = []
        for poll in polls:
            if poll["group_id"] != group_id:
                continue
            # past its deadline a poll is closed, even if the closing post has not run yet
            closed = poll["closed_at"] is not None or int(str(poll["closes_at"])) <= int(now.timestamp())
            hidden = bool(poll["hide_results"]) and not closed
            options = []
            raw_options: list[tuple[int, str, int]] = poll["options"]  # type: ignore[assignment]
            voters: list[tuple[int, int]] = poll["voters"]  # type: ignore[assignment]
            for position, label, votes in raw_options:
                who: tuple[str, ...] | None = None
                if names and not poll["anonymous"] and not hidden:
                    who = tuple(sorted(name(uid) for uid, picks in voters if picks >> (position - 1) & 1))
                options.append(PollOption(label, None if hidden else votes, who))
            poll_results.append(PollResult(
                number=int(str(poll["number"])), question=str(poll["question"]), anonymous=bool(poll["anonymous"]),
                closed=closed, closes_at=_when(poll["closed_at"] or poll["closes_at"], zone) or "",
                ballots=int(str(poll["ballots"])), results_hidden=hidden, options=tuple(options),
            ))  # fmt: skip
        session_entries = []
        for s in sessions:
            if s["group_id"] != group_id:
                continue
            start = s["starts_at"]
            end = None if start is None else int(str(start)) + int(str(s["duration_min"])) * 60
            every = s["recur_days"]
            session_entries.append(SessionEntry(
                number=int(str(s["number"])), title=str(s["title"]),
                start=_when(start, ZoneInfo(str(s["zone"]))), end=_when(end, ZoneInfo(str(s["zone"]))),
                zone=str(s["zone"]),
                repeats=(f"every {every} days until {s['recur_until']}" if every else None),
                moderators=str(s["moderators"]), note_taker=str(s["note_taker"]), location=str(s["location"]),
            ))  # fmt: skip
        return Section(group_id, group_name, description, archived, tuple(points), tuple(questions),
                       tuple(poll_results), tuple(session_entries))  # fmt: skip

    sections = [section(g[0], g[1], g[2], g[3] is not None) for g in all_groups]
    if group is None:
        sections.append(section(None, None, "", False))
    return Summary(
        server_id=guild_id, server_name=server, exported_on=now.astimezone(zone).date().isoformat(),
        time_zone=zone.key, group_filter=all_groups[0][1] if group is not None else None, status_filter=status,
        names_included=names, sections=tuple(s for s in sections if not s.empty or s.group_id is not None),
    )  # fmt: skip
