"""The agenda: sessions in wall time and an IANA zone, their occurrences in UTC, reminders, imports, digests."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.clock import Clock, from_unix, to_unix
from domain.errors import Closed, Conflict, Invalid, NotAllowed, NotFound
from domain.groups import Group, WorkingGroups
from domain.i18n import Text, t
from domain.permissions import Actor
from domain.posts import LATE_AFTER, Post
from domain.refs import by_number, found
from domain.text import quote, strip_controls
from domain.timeparse import human, parse_date, parse_duration, parse_offsets, parse_when, parse_zone
from domain.timetable import (
    SESSION_LONGEST,
    TEXT_MAX,
    TimetableRow,
    clean_session_text,
    parse_timetable,
    refuse,
)
from domain.timetable import line as line_at
from storage import agenda as agenda_rows
from storage import groups as group_rows
from storage import posts as post_rows
from storage import servers as server_rows
from storage.agenda import OccurrenceRow as Occurrence
from storage.agenda import SessionRow as Session
from storage.db import Connection, Database

__all__ = [
    "Agenda", "Session", "Occurrence", "SessionSpec", "SessionReminder", "ImportPreview", "Listing", "Digest",
    "wall_start", "next_digest_at",
]  # fmt: skip

REMINDER = "session_reminder"
START = "session_start"
DIGEST = "agenda_digest"
UPCOMING = timedelta(days=30)
#: A daily digest that could not go out at its time (the bot was down) is still worth posting this long after.
DIGEST_USEFUL_FOR = timedelta(hours=1)
MAX_OCCURRENCES = 200
DEFAULT_DURATION = timedelta(hours=1)
SESSIONS_AHEAD = timedelta(days=3653)  # a session starts at most ten years from now
LIST_DAYS_AROUND = timedelta(days=3653)  # /agenda list day: within ten years of today
WALL = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class SessionSpec:
    """What a member typed for a session; None means "not given" (on edit: unchanged)."""

    title: str | None = None
    start: str | None = None
    end: str | None = None
    duration: str | None = None
    zone: str | None = None
    group: str | None = None
    channel_id: int | None = None
    moderators: str | None = None
    note_taker: str | None = None
    location: str | None = None
    notes: str | None = None
    every_days: int | None = None
    until: str | None = None
    reminders: str | None = None


@dataclass(frozen=True)
class SessionReminder:
    """A reminder (or start notice) to post, or why not."""

    session: Session
    occurrence: Occurrence
    kind: str
    channel_id: int | None
    role_id: int | None
    subscribers: tuple[int, ...]
    late: bool
    group_name: str | None
    group: Group | None = None  # whose language the channel's copy speaks


@dataclass(frozen=True)
class Listing:
    """Sessions for /agenda list: one day's (``day`` set) or the upcoming ones (``day`` None)."""

    day: date | None
    sessions: tuple[tuple[Session, Occurrence], ...]
    group: Group | None = None


@dataclass(frozen=True)
class Digest:
    """The daily digest to post: the day (in the server's zone) and its sessions."""

    day: date
    sessions: tuple[tuple[Session, Occurrence], ...]


@dataclass(frozen=True)
class ImportPreview:
    """A parsed timetable waiting for its Confirm button."""

    import_id: int
    zone: str
    rows: tuple[TimetableRow, ...]
    group_name: str | None = None
    starts: tuple[int, ...] = field(default=())


def wall_start(session: Session) -> datetime:
    """The session's first start as a naive wall time."""
    return datetime.fromisoformat(session.start_local)


def _instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall time in a zone.

    A wall time in a spring-forward gap is read with the offset before the gap, as RFC 5545 does
    (02:30 on the night Paris skips to 03:00 is 03:30 summer time); zoneinfo's fold=0 does exactly that.
    """
    return wall.replace(tzinfo=zone).astimezone(UTC)


def expand(
    start: datetime, zone: ZoneInfo, duration: timedelta, every_days: int | None, until: date | None
) -> list[tuple[int, int]]:
    """Occurrences as (start, end) Unix seconds: the same wall time in ``zone`` every ``every_days`` until ``until``."""
    spans: list[tuple[int, int]] = []
    wall = start
    while True:
        begin = _instant(wall, zone)
        spans.append((to_unix(begin), to_unix(begin + duration)))
        if not every_days or len(spans) >= MAX_OCCURRENCES:
            return spans
        wall += timedelta(days=every_days)
        if until is not None and wall.date() > until:
            return spans


def next_digest_at(now: datetime, zone: ZoneInfo, at: str) -> datetime:
    """The next time after ``now`` that the wall clock in ``zone`` reads ``at`` (``HH:MM`` or ``HH:MM:SS``)."""
    hour, minute, second = ([int(x) for x in at.split(":")] + [0])[:3]
    today = now.astimezone(zone).date()
    for day in (today, today + timedelta(days=1), today + timedelta(days=2)):
        # a wall time in a spring-forward gap is read as _instant reads it (RFC 5545)
        when = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone).astimezone(UTC)
        if when > now:
            return when
    raise AssertionError("unreachable: a wall time recurs every day")


def _offsets(text: str | None, default: tuple[timedelta, ...]) -> tuple[int, ...]:
    if text is None or not text.strip():
        return tuple(int(o.total_seconds()) for o in default)
    if text.strip().lower() in ("none", "no", "0"):
        return ()
    parts = [part for part in text.replace(";", ",").split(",") if part.strip()]
    return tuple(int(o.total_seconds()) for o in parse_offsets(parts))


def _too_far(wall: datetime, zone: ZoneInfo) -> Invalid:
    return Invalid(
        t(
            "{start} ({zone}) is too far ahead: a session starts at most {limit} from now.",
            start=wall.strftime("%Y-%m-%d %H:%M"),
            zone=zone.key,
            limit=human(SESSIONS_AHEAD),
        )
    )


def _start_of(
    spec: SessionSpec, base: Session | None, zone: ZoneInfo, now: datetime
) -> tuple[datetime, datetime]:
    """The first start: its wall time in ``zone`` and its UTC instant (the one given, or the session's own)."""
    if spec.start is not None:
        start_utc = parse_when(spec.start, zone)
        wall = start_utc.astimezone(zone).replace(tzinfo=None)
        if start_utc - now > SESSIONS_AHEAD:
            raise _too_far(wall, zone)
        return wall, start_utc
    if base is None:
        raise Invalid(t("Give the session a start, e.g. 2026-12-01 09:00."))
    wall = wall_start(base)
    start_utc = _instant(wall, zone)
    if start_utc.astimezone(zone).replace(tzinfo=None) != wall:  # a new zone whose clocks skip it
        raise Invalid(
            t(
                "{start} does not exist in {zone} (the clocks skip it); give a start too.",
                start=wall.strftime("%Y-%m-%d %H:%M"),
                zone=zone.key,
            )
        )
    return wall, start_utc


def _duration_of(
    spec: SessionSpec, base: Session | None, wall: datetime, start_utc: datetime, zone: ZoneInfo
) -> timedelta:
    """How long each occurrence lasts: from an end, a duration, the session's own, or the default."""
    if spec.end and spec.duration:
        raise Invalid(t("Give an end or a duration, not both."))
    if spec.end:
        end_text = strip_controls(spec.end).strip()
        if len(end_text) <= 5 and ":" in end_text:  # "12:00": the same day as the start
            end_text = f"{wall.date().isoformat()} {end_text}"
        end_utc = parse_when(end_text, zone)
        if end_utc <= start_utc:
            raise Invalid(t("The end is before the start; check both times."))
        duration = end_utc - start_utc
    elif spec.duration:
        duration = parse_duration(
            spec.duration, longest=SESSION_LONGEST, rule=t("a session lasts at most {limit}")
        )
    elif base is not None:
        duration = timedelta(minutes=base.duration_min)
    else:
        duration = DEFAULT_DURATION
    if duration <= timedelta(0) or duration > SESSION_LONGEST:
        raise Invalid(t("A session lasts more than 0 minutes and at most 7 days."))
    return duration


def _repetition_of(spec: SessionSpec, base: Session | None, wall: datetime) -> tuple[int | None, date | None]:
    """Every how many days the session repeats (None: it does not), and until which date."""
    every = spec.every_days if spec.every_days is not None else (base.recur_days if base else None)
    if every is not None and not 0 <= every <= 365:
        raise Invalid(t("Repeat every 1 to 365 days (7 for weekly)."))
    every = every or None
    if spec.until is not None and spec.until.strip() and not every:
        parse_date(spec.until, "2027-03-31")  # a bad date is named first, whatever else is wrong
        raise Invalid(t("An end date (until) is for a repeating session; choose how it repeats too."))
    until_text = spec.until if spec.until is not None else (base.recur_until if base else None)
    if every and until_text and until_text.strip():
        until = parse_date(until_text, "2027-03-31")
        if until < wall.date():
            raise Invalid(t("The repetition ends before the first session."))
        return every, until
    return every, ((wall + timedelta(days=365)).date() if every else None)


def _texts_of(spec: SessionSpec) -> dict[str, str]:
    """The session's texts that were given, cleaned and checked against their limits."""
    values = {
        key: clean_session_text(key, value) for key in TEXT_MAX if (value := getattr(spec, key)) is not None
    }
    if "title" in values and not values["title"]:
        raise Invalid(t("Give the session a title."))
    return values


def _import_refusal(group: Group | None) -> Text:
    """Who may import sessions (for a group, or without one), as a refusal."""
    if group is not None:
        return t(
            "Only conveners of {group} or coordinators can import sessions for {group}.", group=group.name
        )
    return t("Only coordinators can import sessions.")


class Agenda:
    """Use cases for the agenda, each checked on the server side."""

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

    async def resolve(self, guild_id: int, ref: str) -> Session:
        """A session of this server by number (``3`` or ``#3``)."""
        return await by_number(
            lambda number: agenda_rows.get_session_by_number(self.db, guild_id, number),
            ref,
            noun="a session",
            listing="/agenda list",
        )

    async def by_id(self, guild_id: int, session_id: int) -> Session:
        """A session by id, only if it belongs to this server."""
        return found(
            await agenda_rows.get_session(self.db, guild_id, session_id),
            t("That session does not exist on this server."),
        )

    async def occurrences(self, session: Session) -> list[Occurrence]:
        """The session's occurrences by time."""
        return await agenda_rows.occurrences_of(self.db, session.session_id)

    async def next_occurrence(self, session: Session) -> Occurrence | None:
        """The first occurrence that has not ended, else the last one."""
        all_ = await self.occurrences(session)
        now = to_unix(self.clock.now())
        return next((o for o in all_ if o.ends_at > now), all_[-1] if all_ else None)

    async def group_of(self, session: Session) -> Group | None:
        """The session's working group, if any."""
        return (
            None
            if session.group_id is None
            else await group_rows.get_group(self.db, session.guild_id, session.group_id)
        )

    async def between(
        self, guild_id: int, start: datetime, end: datetime, *, group: str | Group | None = None
    ) -> list[tuple[Session, Occurrence]]:
        """Occurrences overlapping a period, optionally one group's (typed, or already resolved)."""
        found = await self.groups.resolve_optional(guild_id, group)
        group_id = found.group_id if found else None
        return await agenda_rows.occurrences_between(
            self.db, guild_id, to_unix(start), to_unix(end), group_id=group_id
        )

    async def day(
        self, guild_id: int, day: date, *, group: str | Group | None = None
    ) -> list[tuple[Session, Occurrence]]:
        """The occurrences on one day of the server's zone."""
        start = datetime.combine(day, datetime.min.time(), tzinfo=self.zone)
        return await self.between(guild_id, start, start + timedelta(days=1), group=group)

    def today(self) -> date:
        """Today in the server's zone."""
        return self.clock.now().astimezone(self.zone).date()

    def listing_day(self, text: str) -> date | None:
        """The day /agenda list asks for: None for ``upcoming``, today, or a date within ten years of today."""
        which = strip_controls(text).strip().lower()
        if which == "upcoming":
            return None
        if which == "today":
            return self.today()
        if not which[:1].isdigit():
            raise Invalid(
                t("“{text}” is not today, upcoming or a date like 2026-11-24.", text=quote(text, 20))
            )
        day = parse_date(which)
        if abs(day - self.today()) > LIST_DAYS_AROUND:
            raise Invalid(
                t(
                    "Pick a day within {limit} of today; {day} is not.",
                    limit=human(LIST_DAYS_AROUND),
                    day=day.isoformat(),
                )
            )
        return day

    async def listing(self, guild_id: int, which: str, *, group: str | Group | None = None) -> Listing:
        """What /agenda list shows for ``which``: ``upcoming`` (the next 30 days), ``today``, or a date;
        optionally one group's (resolved once)."""
        found = await self.groups.resolve_optional(guild_id, group)
        the_day = self.listing_day(which)
        if the_day is None:
            now = self.clock.now()
            upcoming = await self.between(guild_id, now, now + UPCOMING, group=found)
            return Listing(None, tuple(upcoming), found)
        return Listing(the_day, tuple(await self.day(guild_id, the_day, group=found)), found)

    async def sessions(self, guild_id: int, *, group: str | Group | None = None) -> list[Session]:
        """Every session of the server (or of one group, typed or already resolved)."""
        found = await self.groups.resolve_optional(guild_id, group)
        group_id = found.group_id if found else None
        return await agenda_rows.sessions_of(self.db, guild_id, group_id=group_id)

    async def suggest(self, guild_id: int, text: str) -> list[Session]:
        """Up to 25 sessions matching what was typed."""
        return await agenda_rows.search_sessions(self.db, guild_id, text)

    # -- who may ---------------------------------------------------------------------------------

    async def _require_manager(self, actor: Actor, group: Group | None, refusal: Text) -> None:
        """Refuse with ``refusal`` (one whole sentence, naming the group's conveners when there is a group)
        unless the actor is a coordinator or a convener of ``group``."""
        if self.groups.policy.is_coordinator(actor):
            return
        if group is not None and await group_rows.is_convener(self.db, group.group_id, actor.user_id):
            return
        raise NotAllowed(refusal)

    # -- changing ------------------------------------------------------------------------------

    def _shape(
        self, spec: SessionSpec, base: Session | None, now: datetime
    ) -> tuple[dict[str, object], list[tuple[int, int]], tuple[int, ...]]:
        """Validate a spec (over an existing session when editing) into column values and occurrence spans."""
        zone = parse_zone(spec.zone) if spec.zone else (ZoneInfo(base.zone) if base else self.zone)
        wall, start_utc = _start_of(spec, base, zone, now)
        duration = _duration_of(spec, base, wall, start_utc, zone)
        every, until = _repetition_of(spec, base, wall)
        spans = expand(wall, zone, duration, every, until)
        if every and len(spans) == MAX_OCCURRENCES:  # capped: say so in the stored end (and the .ics RRULE)
            until = (wall + timedelta(days=every * (MAX_OCCURRENCES - 1))).date()
        if spans[-1][0] <= to_unix(now):
            raise Invalid(
                t(
                    "{start} ({zone}) is in the past; give a future start.",
                    start=wall.strftime("%Y-%m-%d %H:%M"),
                    zone=zone.key,
                )
            )
        offsets = (
            _offsets(spec.reminders, self.offsets) if spec.reminders is not None or base is None
            else tuple(json.loads(base.offsets))
        )  # fmt: skip
        values: dict[str, object] = {
            "start_local": wall.strftime(WALL),
            "zone": zone.key,
            "duration_min": max(1, int(duration.total_seconds() // 60)),
            "recur_days": every,
            "recur_until": until.isoformat() if until else None,
            "offsets": json.dumps(list(offsets)),
            **_texts_of(spec),
        }
        return values, spans, offsets

    async def _plan(
        self,
        conn: Connection,
        guild_id: int,
        occurrences: list[Occurrence],
        offsets: tuple[int, ...],
        now: int,
    ) -> None:
        for occ in occurrences:
            if occ.starts_at <= now:
                continue
            await post_rows.add_posts(
                conn,
                guild_id,
                REMINDER,
                occ.occurrence_id,
                [occ.starts_at - o for o in offsets if occ.starts_at - o > now],
            )
            await post_rows.add_posts(conn, guild_id, START, occ.occurrence_id, [occ.starts_at])

    async def add(
        self, actor: Actor, spec: SessionSpec, *, fallback_channel_id: int | None = None
    ) -> Session:
        """Add a session (coordinators; conveners for their group's sessions) and plan its reminders."""
        group = (
            await self.groups.resolve(actor.guild_id, spec.group)
            if spec.group and spec.group.strip()
            else None
        )
        await self._require_manager(
            actor,
            group,
            t("Only conveners of {group} or coordinators can add sessions for {group}.", group=group.name)
            if group
            else t("Only coordinators can add sessions without a group."),
        )
        if group is not None and group.archived_at is not None:
            raise Closed(t("{group} is archived and takes no new sessions.", group=group.name))
        if not spec.title or not spec.title.strip():
            raise Invalid(t("Give the session a title."))
        now = self.clock.now()
        values, spans, offsets = self._shape(spec, None, now)
        channel_id = spec.channel_id or (group.home_channel_id if group else None) or fallback_channel_id
        row = {
            "guild_id": actor.guild_id, "uid": f"{uuid.uuid4()}@caucus", "group_id": group.group_id if group else None,
            "channel_id": channel_id, "moderators": "", "note_taker": "", "location": "", "notes": "",
            "created_by": actor.user_id, "created_at": to_unix(now), **values,
        }  # fmt: skip
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            await server_rows.ensure_guild(conn, actor.guild_id, to_unix(now))
            await server_rows.upsert_members(
                conn, actor.guild_id, [(actor.user_id, actor.display_name)], to_unix(now)
            )
            session_id = await agenda_rows.insert_session(conn, row)
            occurrences = await agenda_rows.replace_occurrences(conn, session_id, spans, to_unix(now))
            await self._plan(conn, actor.guild_id, occurrences, offsets, to_unix(now))
            session = await agenda_rows.get_session(conn, actor.guild_id, session_id)
        assert session is not None
        return session

    async def edit(self, actor: Actor, ref: str, spec: SessionSpec) -> Session:
        """Change a session; its pending reminders are replaced in the same transaction."""
        session = await self.resolve(actor.guild_id, ref)
        group = await self.group_of(session)
        await self._require_manager(
            actor,
            group,
            t(
                "Only conveners of {group} or coordinators can edit session #{number}.",
                group=group.name,
                number=session.number,
            )
            if group
            else t("Only coordinators can edit session #{number}.", number=session.number),
        )
        new_group = group
        if spec.group is not None and spec.group.strip():
            new_group = await self.groups.resolve(actor.guild_id, spec.group)
            await self._require_manager(
                actor,
                new_group,
                t(
                    "Only conveners of {group} or coordinators can move sessions to {group}.",
                    group=new_group.name,
                ),
            )
        if spec == SessionSpec():
            raise Invalid(t("Nothing to change: give at least one field."))
        now = self.clock.now()
        values, spans, offsets = self._shape(spec, session, now)
        values["group_id"] = new_group.group_id if new_group else None
        if spec.channel_id is not None:
            values["channel_id"] = spec.channel_id
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            if await agenda_rows.get_session(conn, actor.guild_id, session.session_id) is None:
                raise NotFound(t("Session #{number} was removed in the meantime.", number=session.number))
            await agenda_rows.update_session(conn, session.session_id, values)
            occurrences = await agenda_rows.replace_occurrences(conn, session.session_id, spans, to_unix(now))
            await self._plan(conn, actor.guild_id, occurrences, offsets, to_unix(now))
            edited = await agenda_rows.get_session(conn, actor.guild_id, session.session_id)
        assert edited is not None
        return edited

    async def remove(self, actor: Actor, ref: str) -> Session:
        """Remove a session and cancel its pending reminders, atomically."""
        session = await self.resolve(actor.guild_id, ref)
        group = await self.group_of(session)
        await self._require_manager(
            actor,
            group,
            t(
                "Only conveners of {group} or coordinators can remove session #{number}.",
                group=group.name,
                number=session.number,
            )
            if group
            else t("Only coordinators can remove session #{number}.", number=session.number),
        )
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            await agenda_rows.replace_occurrences(conn, session.session_id, [], to_unix(self.clock.now()))
            await agenda_rows.delete_session(conn, session.session_id)
        return session

    async def set_event(self, session: Session, event_id: int | None) -> None:
        """Remember the Discord scheduled event mirroring the session."""
        async with self.db.transaction(guild_id=session.guild_id) as conn:
            await agenda_rows.set_event(conn, session.session_id, event_id)

    async def subscribe(self, actor: Actor, session_id: int) -> tuple[Session, bool]:
        """The actor gets direct messages with this session's next reminders; False if already subscribed."""
        session = await self.by_id(actor.guild_id, session_id)
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            if await agenda_rows.get_session(conn, actor.guild_id, session.session_id) is None:
                raise NotFound(t("That session was removed in the meantime."))
            added = await agenda_rows.subscribe(conn, session.session_id, actor.user_id)
        return session, added

    async def unsubscribe(self, actor: Actor, session_id: int) -> Session:
        """Stop the direct messages for a session."""
        session = await self.by_id(actor.guild_id, session_id)
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            if not await agenda_rows.unsubscribe(conn, session.session_id, actor.user_id):
                raise Conflict(t("You were not subscribed to this session's reminders."))
        return session

    async def toggle_reminders(self, actor: Actor, session_id: int) -> tuple[Session, bool]:
        """The actor pressed "Remind me": subscribed now, or unsubscribed if they were; True when subscribed."""
        session = await self.by_id(actor.guild_id, session_id)
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            if await agenda_rows.get_session(conn, actor.guild_id, session.session_id) is None:
                raise NotFound(t("That session was removed in the meantime."))
            if await agenda_rows.unsubscribe(conn, session.session_id, actor.user_id):
                return session, False
            await agenda_rows.subscribe(conn, session.session_id, actor.user_id)
        return session, True

    async def reminder(self, occurrence_id: int, kind: str, late: bool) -> SessionReminder | None:
        """What to post for a reminder or start notice, or None when it is no longer useful."""
        found = await agenda_rows.occurrence(self.db, occurrence_id)
        if found is None:
            return None
        session, occ = found
        now = to_unix(self.clock.now())
        if kind == REMINDER and now >= occ.starts_at:
            return None  # the session has started: a reminder would be noise
        if kind == START and (late or now - occ.starts_at > LATE_AFTER.total_seconds()):
            return None  # a start notice after the bot was down, or long after the start, helps nobody
        group = await self.group_of(session)
        return SessionReminder(
            session=session, occurrence=occ, kind=kind, channel_id=session.channel_id,
            role_id=group.role_id if group else None, subscribers=tuple(await agenda_rows.subscribers(self.db, session.session_id)),
            late=late, group_name=group.name if group else None, group=group,
        )  # fmt: skip

    # -- import ----------------------------------------------------------------------------------

    async def preview_import(
        self, actor: Actor, data: bytes, filename: str, *, day: str | None, zone: str | None, group: str | None,
        channel_id: int | None,
    ) -> ImportPreview:  # fmt: skip
        """Read a timetable all-or-nothing and keep it until confirmed; nothing is created yet."""
        found = await self.groups.resolve(actor.guild_id, group) if group and group.strip() else None
        await self._require_manager(actor, found, _import_refusal(found))
        tz = parse_zone(zone) if zone else self.zone
        the_day = parse_date(day) if day and day.strip() else None
        rows = parse_timetable(data, filename, the_day, tz)
        now = self.clock.now()
        starts: list[int] = []
        errors: list[Text] = []
        for row in rows:
            where, wall = line_at(row.line), f"{row.start:%Y-%m-%d %H:%M}"
            try:
                start = _instant(row.start, tz)
                real = start.astimezone(tz).replace(tzinfo=None) == row.start
            except OverflowError:
                errors.append(
                    t("{where}: {start} is outside the calendar I can use", where=where, start=wall)
                )
                continue
            if not real:
                errors.append(
                    t("{where}: {start} does not exist in {zone} (the clocks skip it)", where=where, start=wall,
                      zone=tz.key)
                )  # fmt: skip
            elif start <= now:
                errors.append(t("{where}: {start} is in the past", where=where, start=wall))
            elif start - now > SESSIONS_AHEAD:
                errors.append(
                    t("{where}: {start} is more than {limit} ahead", where=where, start=wall,
                      limit=human(SESSIONS_AHEAD))
                )  # fmt: skip
            starts.append(to_unix(start))
        refuse(errors)
        payload = {
            "zone": tz.key, "group_id": found.group_id if found else None, "channel_id": channel_id,
            "rows": [{**asdict(r), "start": r.start.strftime(WALL), "end": r.end.strftime(WALL)} for r in rows],
        }  # fmt: skip
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            await server_rows.ensure_guild(conn, actor.guild_id, to_unix(now))
            import_id = await agenda_rows.insert_import(
                conn, actor.guild_id, actor.user_id, json.dumps(payload), to_unix(now)
            )
        return ImportPreview(import_id, tz.key, tuple(rows), found.name if found else None, tuple(starts))

    async def confirm_import(self, actor: Actor, import_id: int) -> list[Session]:
        """Create every session of a previewed import in one transaction, or none."""
        now = self.clock.now()
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            taken = await agenda_rows.take_import(conn, actor.guild_id, import_id, to_unix(now))
            if taken is None:
                raise Conflict(t("This import was already confirmed, or does not exist on this server."))
            user_id, payload_text, _ = taken
            if user_id != actor.user_id and not self.groups.policy.is_coordinator(actor):
                raise NotAllowed(
                    t("Only the member who previewed this import (or a coordinator) can confirm it.")
                )
            payload = json.loads(payload_text)
            group = (
                await group_rows.get_group(conn, actor.guild_id, payload["group_id"])
                if payload["group_id"]
                else None
            )
            if payload["group_id"] and group is None:
                raise NotFound(t("The working group of this import no longer exists."))
            await self._require_manager(actor, group, _import_refusal(group))
            tz = ZoneInfo(payload["zone"])
            channel_id = payload["channel_id"] or (group.home_channel_id if group else None)
            created: list[Session] = []
            await server_rows.ensure_guild(conn, actor.guild_id, to_unix(now))
            for row in payload["rows"]:
                start = datetime.fromisoformat(row["start"])
                end = datetime.fromisoformat(row["end"])
                if _instant(start, tz) <= now:
                    raise Invalid(
                        t("Nothing was imported: line {line_number} has started in the meantime.",
                          line_number=row["line"])
                    )  # fmt: skip
                spans = expand(start, tz, end - start, None, None)
                values = {
                    "guild_id": actor.guild_id, "uid": f"{uuid.uuid4()}@caucus", "title": row["title"],
                    "start_local": row["start"], "zone": tz.key,
                    "duration_min": max(1, int((end - start).total_seconds() // 60)),
                    "group_id": group.group_id if group else None, "channel_id": channel_id,
                    "moderators": row["moderators"], "note_taker": "", "location": row["location"],
                    "notes": row["notes"], "recur_days": None, "recur_until": None,
                    "offsets": json.dumps([int(o.total_seconds()) for o in self.offsets]),
                    "created_by": actor.user_id, "created_at": to_unix(now),
                }  # fmt: skip
                session_id = await agenda_rows.insert_session(conn, values)
                occurrences = await agenda_rows.replace_occurrences(conn, session_id, spans, to_unix(now))
                await self._plan(conn, actor.guild_id, occurrences,
                                 tuple(int(o.total_seconds()) for o in self.offsets), to_unix(now))  # fmt: skip
                session = await agenda_rows.get_session(conn, actor.guild_id, session_id)
                assert session is not None
                created.append(session)
        return created

    # -- the daily digest ------------------------------------------------------------------------

    async def plan_digest(self, guild_id: int, at: str) -> int:
        """Plan the digest of the next day whose ``at`` (server's zone) is still to come; returns its Unix time.

        One digest per day: planning again for the same day changes nothing.
        """
        when = next_digest_at(self.clock.now(), self.zone, at)
        day_key = int(when.astimezone(self.zone).strftime("%Y%m%d"))
        async with self.db.transaction(guild_id=guild_id) as conn:
            await server_rows.ensure_guild(conn, guild_id, to_unix(self.clock.now()))
            await post_rows.add_posts(conn, guild_id, DIGEST, day_key, [to_unix(when)])
        return to_unix(when)

    async def digest(self, post: Post) -> Digest | None:
        """The digest a planned post stands for, or None when it is too late to be useful (the bot was down)."""
        if post.late and to_unix(self.clock.now()) - post.due_at > DIGEST_USEFUL_FOR.total_seconds():
            return None
        key = str(post.ref_id)
        day = date(int(key[:4]), int(key[4:6]), int(key[6:8]))
        return Digest(day, tuple(await self.day(post.guild_id, day)))

    # -- time helpers for the cog -----------------------------------------------------------------

    def instant(self, session: Session) -> datetime:
        """The first start of a session as an aware UTC datetime."""
        return _instant(wall_start(session), ZoneInfo(session.zone))

    @staticmethod
    def as_datetime(unix: int) -> datetime:
        """Unix seconds as an aware UTC datetime."""
        return from_unix(unix)
