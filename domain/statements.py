"""Sign-on statements: what the coalition publishes, and the organisations (and individuals) behind it.

A statement is numbered per server (#1, #2…), has a title (≤ 200 characters, not part of what is signed)
and a text (≤ 20,000 characters after cleaning). Its lifecycle is draft → open → closed:

* a **draft** may start from a working group's points decided as consensus or rough consensus (their final
  text, in order of number, each marked "#4"), after an introduction; its author, the group's conveners
  and coordinators edit it (a long text comes as a .md or .txt file) and open it;
* each **version** has a fingerprint, the SHA-256 (hex) of its text's UTF-8 bytes, shown short (12 hex
  digits). While a draft, edits change its one version; once open, a new text makes a new version (an
  *amendment*). A new title alone makes no new version: the fingerprint is of the text;
* an **open** statement runs until its deadline (the same time rules as polls: a duration, default
  7 days, or a wall time; at most 90 days) or until its author, the group's conveners or a coordinator
  close it. A representative of a verified organisation signs on its behalf, once per organisation,
  choosing whether it is listed by name or counted only; if the statement allows it, members sign as
  individuals (their names are shown only to coordinators). Any representative of the organisation, or a
  coordinator, withdraws its signature;
* every signature keeps the version it was given to: after an amendment, earlier signers are asked to
  confirm the new text, and counts show confirmed (current version) and pending signatures apart;
* **closed**: signatures are final.

Each decision goes to the decision record in the transaction that makes it: a version opened, amended or
closed, a signature given (also a confirmation: given again, to the new fingerprint) or withdrawn. The
record never holds a person: an organisation listed by name appears by its name, one counted only and
every individual by a random pseudonym (``anon-`` and 16 hex digits) kept with the signature.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from domain import record
from domain.clock import Clock, from_unix, to_unix
from domain.errors import Closed, Conflict, Invalid, NotAllowed, NotFound, TooLong
from domain.groups import Group, WorkingGroups
from domain.i18n import Text, t, tn
from domain.orgs import REGIONS, STAKEHOLDERS, Org
from domain.permissions import Actor
from domain.refs import number_of
from domain.text import quote, strip_controls
from domain.timeparse import EndRules, end_time
from storage import consensus as consensus_rows
from storage import groups as group_rows
from storage import orgs as org_rows
from storage import posts as post_rows
from storage import servers as server_rows
from storage import statements as statement_rows
from storage.db import Connection, Database, SyncConnection
from storage.servers import UPSERT_MEMBER
from storage.statements import MessageRow, SignatureRow, VersionRow
from storage.statements import StatementRow as Statement

__all__ = [
    "Statement", "VersionRow", "SignatureRow", "MessageRow", "Statements", "Counts", "StatementView", "Draft",
    "Edited", "Opened", "SignPrompt", "Signed", "Confirmed", "Withdrawn", "Amendment", "CLOSE", "POST", "CONFIRM",
    "TITLE_MAX", "TEXT_MAX", "TYPED_MAX", "FILE_MAX_BYTES", "DEFAULT_DURATION", "LONGEST",
    "fingerprint", "short", "clean_title", "clean_text", "clean_typed", "read_upload", "starting_text", "close_time",
    "count_signatures",
]  # fmt: skip

TITLE_MAX = 200
TEXT_MAX = 20_000
TYPED_MAX = 6000  # what one slash-command option carries (an introduction, a text typed); a file takes 20,000
FILE_MAX_BYTES = 4 * TEXT_MAX + 3  # 20,000 characters of up to 4 UTF-8 bytes each, and a byte order mark
FILE_SUFFIXES = (".md", ".txt")
SHORT = 12  # hex digits of a fingerprint shown
DEFAULT_DURATION = timedelta(days=7)  # a sign-on period: a week, unless a duration or time is given
LONGEST = timedelta(days=90)
#: Scheduled posts: the close at the deadline (ref: statement id); a version's post in its channel, its
#: text and its card (ref: version id); the direct messages asking earlier signers to confirm (ref: version id).
CLOSE = "statement_close"
POST = "statement_post"
CONFIRM = "statement_confirm"
DECIDED = ("consensus", "rough_consensus")
#: The texts a limit is told about: a statement's text, the introduction of a draft, a new text typed.
Typed = Literal["statement", "introduction", "text"]
NO_SUCH_STATEMENT = t("That statement does not exist on this server.")
SIGN = t("sign")  # what nobody can do to a closed statement (the default of the refusal)


# -- values -------------------------------------------------------------------------------------------


def fingerprint(text: str) -> str:
    """A version's fingerprint: the SHA-256 of its text's UTF-8 bytes, in lowercase hex (64 digits)."""
    return record.sha256_hex(text)


def short(full: str) -> str:
    """A fingerprint as it is shown: its first 12 hex digits."""
    return full[:SHORT]


def clean_title(title: str) -> str:
    """A statement's title, spaces tidied; raises Invalid or TooLong."""
    cleaned = " ".join(strip_controls(title).split())
    if not cleaned:
        raise Invalid(t("Give the statement a title."))
    if len(cleaned) > TITLE_MAX:
        raise TooLong(t(
            "A statement's title can be at most {limit} characters; this one has {count}.",
            limit=TITLE_MAX, count=len(cleaned),
        ))  # fmt: skip
    return cleaned


def _too_long(what: Typed, count: int) -> Text:
    if what == "introduction":
        return t("The introduction can be at most {limit} characters; this one has {count}.",
                 limit=TEXT_MAX, count=count)  # fmt: skip
    if what == "text":
        return t(
            "The text can be at most {limit} characters; this one has {count}.", limit=TEXT_MAX, count=count
        )
    return t("A statement's text can be at most {limit} characters; this one has {count}.",
             limit=TEXT_MAX, count=count)  # fmt: skip


def _too_long_typed(what: Typed, count: int) -> Text:
    if what == "introduction":
        return t(
            "The introduction typed in a command can be at most {limit} characters; this one has {count}. Attach "
            "a longer text as a .md or .txt file with /statement edit (up to {most}).",
            limit=TYPED_MAX, count=count, most=TEXT_MAX,
        )  # fmt: skip
    return t(
        "The text typed in a command can be at most {limit} characters; this one has {count}. Attach a longer "
        "text as a .md or .txt file with /statement edit (up to {most}).",
        limit=TYPED_MAX, count=count, most=TEXT_MAX,
    )  # fmt: skip


def clean_text(text: str, *, what: Typed = "statement") -> str:
    """A text as stored and fingerprinted: line breaks made ``\\n``, control and format characters removed,
    NFC, blank lines at both ends dropped; at most 20,000 characters (may be empty)."""
    unified = text.replace("\r\n", "\n").replace("\r", "\n")
    cleaned = "\n".join(line.rstrip() for line in strip_controls(unified).split("\n")).strip("\n")
    if not cleaned.strip():
        return ""
    if len(cleaned) > TEXT_MAX:
        raise TooLong(_too_long(what, len(cleaned)))
    return cleaned


def clean_typed(text: str, what: Typed) -> str:
    """A text typed in a command option (at most 6,000 characters after cleaning; a file takes more)."""
    cleaned = clean_text(text, what=what)
    if len(cleaned) > TYPED_MAX:
        raise TooLong(_too_long_typed(what, len(cleaned)))
    return cleaned


def not_a_text_file(name: str | Text) -> Text:
    """The refusal of an attachment that is no .md or .txt file (``name``: as it was called, cut short)."""
    return t("Attach the text as a .md or .txt file (UTF-8 text); “{name}” is neither.", name=name)


def file_too_large(size: int) -> Text:
    """The refusal of an attachment larger than a statement's text can be (``size`` in bytes)."""
    return t("The file is too large ({size} bytes): a statement's text is at most {limit} characters.",
             size=size, limit=TEXT_MAX)  # fmt: skip


def read_upload(filename: str, data: bytes) -> str:
    """The text of an attached .md or .txt file (UTF-8), cleaned; raises Invalid or TooLong otherwise."""
    name = strip_controls(filename).strip()
    if not name.lower().endswith(FILE_SUFFIXES):
        raise Invalid(not_a_text_file(quote(name, 40)))
    if len(data) > FILE_MAX_BYTES:
        raise TooLong(file_too_large(len(data)))
    if b"\x00" in data:
        raise Invalid(
            t("The file is not text (it holds binary data); save the statement as a .md or .txt file.")
        )
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid(
            t("The file is not UTF-8 text; save it as UTF-8 (“Unicode (UTF-8)” in most editors).")
        ) from None
    cleaned = clean_text(decoded)
    if not cleaned:
        raise Invalid(t("The file holds no text; attach the statement's text."))
    return cleaned


def starting_text(introduction: str, points: Sequence[tuple[int, str]]) -> str:
    """A draft's first text: the introduction, then each decided point marked with its number (``#4 …``)."""
    blocks = [introduction] if introduction else []
    blocks += [f"#{number} {' '.join(text.split())}" for number, text in points]
    return "\n\n".join(blocks)


#: What a sign-on says of its end.
END_RULES = EndRules(
    both=t("Give either a duration or a closing time, not both."),
    closes_within=t("a statement closes at most {limit} from now"),
    runs_within=t("a sign-on runs at most {limit}"),
    no_time=t("A sign-on must run for some time; give a duration like 2d or 1w."),
)


def close_time(duration: str | None, closes: str | None, zone: ZoneInfo, now: datetime) -> datetime:
    """When a sign-on ends: after a duration (default 7 days) or at a wall time in ``zone``; at most 90 days
    away (the rules of polls)."""
    return end_time(duration, closes, zone, now, default=DEFAULT_DURATION, longest=LONGEST, rules=END_RULES)


@dataclass(frozen=True)
class Counts:
    """The signatures that stand, on the current version (confirmed) and on earlier ones (pending)."""

    organisations: int
    confirmed: int  # organisations whose signature is on the current version
    listed: int
    counted_only: int
    confirmed_listed: int  # of the confirmed, those listed by name (the others are counted only)
    individuals: int
    individuals_confirmed: int
    by_region: dict[str, int]  # confirmed organisations, every region in order
    by_stakeholder: dict[str, int]  # confirmed organisations, every stakeholder group in order

    @property
    def pending(self) -> int:
        """Organisations that signed an earlier version and have not confirmed the current one."""
        return self.organisations - self.confirmed

    @property
    def individuals_pending(self) -> int:
        """Individuals who signed an earlier version and have not confirmed the current one."""
        return self.individuals - self.individuals_confirmed


def count_signatures(signatures: Iterable[SignatureRow], version: int) -> Counts:
    """How many organisations (listed, counted only) and individuals stand, and how many are on ``version``;
    per region and stakeholder group, the organisations on ``version``."""
    orgs = [s for s in signatures if not s.individual]
    people = [s for s in signatures if s.individual]
    current = [s for s in orgs if s.version == version]
    regions = Counter(s.region for s in current)
    stakeholders = Counter(s.stakeholder for s in current)
    return Counts(
        organisations=len(orgs), confirmed=len(current), listed=sum(s.listed for s in orgs),
        counted_only=sum(not s.listed for s in orgs), confirmed_listed=sum(s.listed for s in current), individuals=len(people),
        individuals_confirmed=sum(s.version == version for s in people),
        by_region={k: regions[k] for k in REGIONS}, by_stakeholder={k: stakeholders[k] for k in STAKEHOLDERS},
    )  # fmt: skip


# -- results of the use cases -------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementView:
    """A statement with its current version, its group's name and its counts."""

    statement: Statement
    version: VersionRow
    group_name: str | None
    counts: Counts
    closed: bool  # closed, or past its deadline (its close may not have run yet)
    group: Group | None = None  # its working group (its public posts speak the group's language)

    @property
    def amended(self) -> bool:
        """The statement was amended since it opened (its current version is not the first)."""
        return self.statement.version > 1


@dataclass(frozen=True)
class Draft:
    statement: Statement
    group: Group | None
    points: tuple[int, ...]  # the numbers of the decided points it starts from


@dataclass(frozen=True)
class Edited:
    statement: Statement
    version: VersionRow
    title_changed: bool
    text_changed: bool
    new_version: bool  # an amendment of an open statement


@dataclass(frozen=True)
class Opened:
    statement: Statement
    version: VersionRow


@dataclass(frozen=True)
class SignPrompt:
    """What a representative is asked before signing for their organisation."""

    statement: Statement
    version: VersionRow
    org: Org


@dataclass(frozen=True)
class Signed:
    statement: Statement
    version: int  # the version signed
    fingerprint: str
    org_name: str | None  # None: signed as an individual
    listed: bool


@dataclass(frozen=True)
class Confirmed:
    statement: Statement
    version: VersionRow
    org_name: str | None  # the organisation whose signature was confirmed, if any
    individual: bool  # the member's own signature as an individual was confirmed


@dataclass(frozen=True)
class Withdrawn:
    statement: Statement
    org_name: str | None  # None: an individual's signature (the member's own)
    version: int  # the version it had been given to


@dataclass(frozen=True)
class Amendment:
    """Who is asked to confirm a new version: the record ids to write to, with the organisation each signed
    for (None: as an individual), and where the statement's card is."""

    statement: Statement
    version: VersionRow
    recipients: tuple[tuple[int, str | None], ...]
    card: MessageRow | None


# -- use cases ----------------------------------------------------------------------------------------


class Statements:
    """Use cases for statements, each checked on the server side, on the statement resolved."""

    def __init__(self, db: Database, clock: Clock, groups: WorkingGroups, zone: ZoneInfo) -> None:
        self.db = db
        self.clock = clock
        self.groups = groups
        self.policy = groups.policy
        self.zone = zone

    # -- reading --------------------------------------------------------------------------------------

    def is_closed(self, statement: Statement) -> bool:
        """Closed, or open past its deadline (no signature counts after it, even before its close runs)."""
        if statement.state == "closed":
            return True
        return statement.state == "open" and to_unix(self.clock.now()) >= (statement.closes_at or 0)

    async def resolve(self, guild_id: int, ref: str) -> Statement:
        """A statement of this server by number (``3`` or ``#3``)."""
        number = number_of(ref, "a statement")
        found = await statement_rows.get_statement_by_number(self.db, guild_id, number)
        if found is None:
            raise NotFound(
                t("There is no statement #{number} on this server (autocomplete lists them).", number=number)
            )
        return found

    async def by_id(self, guild_id: int, statement_id: int) -> Statement:
        """A statement by database id (a button's), only if it belongs to this server."""
        found = await statement_rows.get_statement(self.db, guild_id, statement_id)
        if found is None:
            raise NotFound(NO_SUCH_STATEMENT)
        return found

    async def suggest(self, guild_id: int, text: str) -> list[Statement]:
        """Up to 25 statements matching the number or words typed, for autocomplete."""
        return await statement_rows.search_statements(self.db, guild_id, strip_controls(text)[:100])

    async def current_version(self, statement: Statement) -> VersionRow:
        """The statement's current version."""
        found = await statement_rows.get_version(self.db, statement.statement_id, statement.version)
        assert found is not None
        return found

    async def view(self, statement: Statement) -> StatementView:
        """The statement as it is now: its current version, its group, its counts."""
        fresh = await self.by_id(statement.guild_id, statement.statement_id)
        group = (
            None
            if fresh.group_id is None
            else await group_rows.get_group(self.db, fresh.guild_id, fresh.group_id)
        )
        signatures = await statement_rows.live_signatures(self.db, fresh.statement_id)
        return StatementView(
            fresh, await self.current_version(fresh), group.name if group else None,
            count_signatures(signatures, fresh.version), self.is_closed(fresh), group,
        )  # fmt: skip

    async def view_by_id(self, guild_id: int, statement_id: int) -> StatementView:
        """``view`` of a statement of this server by id."""
        return await self.view(await self.by_id(guild_id, statement_id))

    async def group_of(self, statement: Statement) -> Group | None:
        """The statement's working group (its public posts and files speak the group's language), if any."""
        if statement.group_id is None:
            return None
        return await group_rows.get_group(self.db, statement.guild_id, statement.group_id)

    async def signatures(self, statement: Statement) -> list[SignatureRow]:
        """The signatures that stand: organisations by name, then individuals."""
        return await statement_rows.live_signatures(self.db, statement.statement_id)

    async def versions(self, statement: Statement) -> list[VersionRow]:
        """Every version of the statement, first to current."""
        return await statement_rows.versions(self.db, statement.statement_id)

    async def can_edit(self, actor: Actor, statement: Statement) -> bool:
        """Its author, the conveners of its working group, and coordinators."""
        if statement.author_id == actor.user_id or self.policy.is_coordinator(actor):
            return True
        return statement.group_id is not None and await group_rows.is_convener(
            self.db, statement.group_id, actor.user_id
        )

    async def _require_editor(self, actor: Actor, statement: Statement, doing: Text) -> None:
        """Refuse unless the actor may edit the statement; ``doing``: what they may not do to it, a Text
        such as ``t("close")`` ("… or coordinators can close it.")."""
        if await self.can_edit(actor, statement):
            return
        group = (
            None
            if statement.group_id is None
            else await group_rows.get_group(self.db, statement.guild_id, statement.group_id)
        )
        if group is not None:
            raise NotAllowed(t(
                "Only the author of statement #{number}, the conveners of {group} or coordinators can {doing} it.",
                number=statement.number, group=group.name, doing=doing,
            ))  # fmt: skip
        raise NotAllowed(t(
            "Only the author of statement #{number} or coordinators can {doing} it.",
            number=statement.number, doing=doing,
        ))  # fmt: skip

    async def _fresh(self, conn: Connection, actor: Actor, statement: Statement) -> Statement:
        found = await statement_rows.get_statement(conn, actor.guild_id, statement.statement_id)
        if found is None:
            raise NotFound(NO_SUCH_STATEMENT)
        return found

    def _require_open(self, statement: Statement, doing: Text = SIGN) -> None:
        """Refuse unless the statement is open now; ``doing``: what nobody can do to it once closed."""
        if statement.state == "draft":
            raise Closed(
                t(
                    "Statement #{number} is a draft: it is not open for signature yet.",
                    number=statement.number,
                )
            )
        if self.is_closed(statement):
            raise Closed(t(
                "Statement #{number} is closed; its signatories are final, nobody can {doing} it now.",
                number=statement.number, doing=doing,
            ))  # fmt: skip

    # -- drafting and editing -------------------------------------------------------------------------

    async def draft(
        self, actor: Actor, title: str, *, group: str | Group | None = None, introduction: str | None = None
    ) -> Draft:
        """A new draft numbered next in the server; with a group, its text starts with the group's points
        decided as consensus or rough consensus (final text, by number), after the introduction."""
        title = clean_title(title)
        intro = clean_typed(introduction or "", "introduction")
        found = await self.groups.resolve_optional(actor.guild_id, group)
        points: list[tuple[int, str]] = []
        if found is not None:
            items = await consensus_rows.list_items(
                self.db, actor.guild_id, group_id=found.group_id, statuses=DECIDED, kind="point"
            )
            points = [(it.number, it.text) for it in items]
        text = starting_text(intro, points)
        if len(text) > TEXT_MAX:
            raise TooLong(tn(
                "The introduction and the {n} decided point of {group} make {count} characters; a statement's text "
                "is at most {limit}. Shorten the introduction, or draft without the group and attach the text as a "
                "file with /statement edit.",
                "The introduction and the {n} decided points of {group} make {count} characters; a statement's "
                "text is at most {limit}. Shorten the introduction, or draft without the group and attach the text "
                "as a file with /statement edit.",
                len(points), group=found.name if found else "", count=len(text), limit=TEXT_MAX,
            ))  # fmt: skip
        now = to_unix(self.clock.now())
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            await server_rows.ensure_guild(conn, actor.guild_id, now)
            await server_rows.upsert_members(conn, actor.guild_id, [(actor.user_id, actor.display_name)], now)
            statement_id = await statement_rows.insert_statement(
                conn, guild_id=actor.guild_id, title=title, group_id=found.group_id if found else None,
                author_id=actor.user_id, text=text, fingerprint=fingerprint(text), now=now,
            )  # fmt: skip
            made = await statement_rows.get_statement(conn, actor.guild_id, statement_id)
        assert made is not None
        return Draft(made, found, tuple(n for n, _ in points))

    async def edit(
        self, actor: Actor, statement: Statement, *, title: str | None = None, text: str | None = None,
        file: tuple[str, bytes] | None = None,
    ) -> Edited:  # fmt: skip
        """Change the title and/or the text (typed, or an attached .md or .txt file). A draft's text is
        replaced; an open statement's new text is a new version (recorded, posted, earlier signers asked to
        confirm). Its author, its group's conveners and coordinators; never once closed."""
        if text is not None and file is not None:
            raise Invalid(t("Give the new text either typed or as a file, not both."))
        new_title = clean_title(title) if title is not None else None
        new_text: str | None = None
        if file is not None:
            new_text = read_upload(*file)
        elif text is not None:
            new_text = clean_typed(text, "text")
            if not new_text:
                raise Invalid(t("Give the new text (or attach it as a .md or .txt file)."))
        if new_title is None and new_text is None:
            raise Invalid(t("Give a new title, a new text, or a .md or .txt file with the text."))
        now = self.clock.now()
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            fresh = await self._fresh(conn, actor, statement)
            await self._require_editor(actor, fresh, t("edit"))
            if self.is_closed(fresh):
                raise Closed(
                    t("Statement #{number} is closed: its title and text are final.", number=fresh.number)
                )
            current = await statement_rows.get_version(conn, fresh.statement_id, fresh.version)
            assert current is not None
            title_changed = new_title is not None and new_title != fresh.title
            text_changed = new_text is not None and new_text != current.text
            if not title_changed and not text_changed:
                raise Conflict(
                    t(
                        "That is already the text of statement #{number}; nothing changed.",
                        number=fresh.number,
                    )
                    if new_text is not None
                    else t(
                        "That is already the title of statement #{number}; nothing changed.",
                        number=fresh.number,
                    )
                )
            await server_rows.upsert_members(
                conn, actor.guild_id, [(actor.user_id, actor.display_name)], to_unix(now)
            )
            if title_changed:
                assert new_title is not None
                await statement_rows.set_title(conn, fresh.statement_id, new_title)
            new_version = False
            if text_changed and new_text is not None:
                fp = fingerprint(new_text)
                if fresh.state == "draft":
                    await statement_rows.set_draft_text(conn, fresh.statement_id, new_text, fp, actor.user_id,
                                                        to_unix(now))  # fmt: skip
                else:
                    number = fresh.version + 1
                    version_id = await statement_rows.add_version(
                        conn, fresh.statement_id, number, new_text, fp, actor.user_id, to_unix(now)
                    )
                    index = await record.append(conn, actor.guild_id, record.statement_version(
                        statement=fresh.number, version=number, fingerprint=fp, state="amended"), now)  # fmt: skip
                    await statement_rows.set_version_index(conn, fresh.statement_id, number, index)
                    await post_rows.add_posts(conn, actor.guild_id, POST, version_id, [to_unix(now)])
                    new_version = True
            edited = await self._fresh(conn, actor, fresh)
            version = await statement_rows.get_version(conn, edited.statement_id, edited.version)
        assert version is not None
        return Edited(edited, version, title_changed, text_changed, new_version)

    async def open(
        self, actor: Actor, statement: Statement, *, channel_id: int, duration: str | None = None,
        closes: str | None = None, individuals: bool = False,
    ) -> Opened:  # fmt: skip
        """Open a draft for signature until its deadline, posted in ``channel_id`` (its text, then its card
        with the buttons): recorded, its post and its close planned, in one transaction."""
        now = self.clock.now()
        closes_at = to_unix(close_time(duration, closes, self.zone, now))
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            fresh = await self._fresh(conn, actor, statement)
            await self._require_editor(actor, fresh, t("open"))
            if fresh.state == "open":
                raise Conflict(t("Statement #{number} is already open for signature.", number=fresh.number))
            if fresh.state == "closed":
                raise Closed(_final(fresh))
            version = await statement_rows.get_version(conn, fresh.statement_id, fresh.version)
            assert version is not None
            if not version.text:
                raise Invalid(t(
                    "Statement #{number} has no text yet: add it with /statement edit (attach a .md or .txt file "
                    "for a long text).",
                    number=fresh.number,
                ))  # fmt: skip
            await server_rows.upsert_members(
                conn, actor.guild_id, [(actor.user_id, actor.display_name)], to_unix(now)
            )
            await statement_rows.open_statement(
                conn, fresh.statement_id, by=actor.user_id, now=to_unix(now), closes_at=closes_at,
                individuals=individuals, channel_id=channel_id,
            )  # fmt: skip
            index = await record.append(conn, actor.guild_id, record.statement_version(
                statement=fresh.number, version=version.version, fingerprint=version.fingerprint, state="opened",
            ), now)  # fmt: skip
            await statement_rows.set_version_index(conn, fresh.statement_id, version.version, index)
            await post_rows.add_posts(conn, actor.guild_id, POST, version.version_id, [to_unix(now)])
            await post_rows.add_posts(conn, actor.guild_id, CLOSE, fresh.statement_id, [closes_at])
            opened = await self._fresh(conn, actor, fresh)
        return Opened(opened, version)

    # -- signing --------------------------------------------------------------------------------------

    async def prepare_org_signature(self, actor: Actor, statement_id: int) -> SignPrompt:
        """Check that the member may sign for their organisation now (nothing is written): the statement is
        open, they represent a verified organisation, and it has not signed yet."""
        statement = await self.by_id(actor.guild_id, statement_id)
        self._require_open(statement)
        rep = await org_rows.representation(self.db, actor.guild_id, actor.user_id)
        if rep is None:
            raise NotAllowed(self._no_org(statement))
        org = rep.org()
        if org.state != "verified":
            raise NotAllowed(_not_verified(org.name))
        signed = await statement_rows.live_org_signature(self.db, statement.statement_id, org.org_id)
        if signed is not None:
            raise Conflict(self._already(statement, org.name, signed))
        return SignPrompt(statement, await self.current_version(statement), org)

    def _no_org(self, statement: Statement) -> Text:
        if statement.individuals:
            return t(
                "Only representatives of a verified member organisation can sign on its behalf, and you represent "
                "none; ask to represent yours with /org join. You can sign as an individual instead."
            )
        return t(
            "Only representatives of a verified member organisation can sign on its behalf, and you represent "
            "none; ask to represent yours with /org join."
        )

    def _already(self, statement: Statement, org_name: str, signed: SignatureRow) -> Text:
        day = from_unix(signed.signed_at).astimezone(self.zone).date().isoformat()
        if signed.version < statement.version:
            return t(
                "{org} already signed statement #{number} (version {version_number}, on {day}): one signature per "
                "organisation. Confirm it for version {current_number} with **Confirm our signature** on the "
                "statement.",
                org=org_name, number=statement.number, version_number=signed.version, day=day,
                current_number=statement.version,
            )  # fmt: skip
        return t(
            "{org} already signed statement #{number} (version {version_number}, on {day}): one signature per "
            "organisation.",
            org=org_name, number=statement.number, version_number=signed.version, day=day,
        )  # fmt: skip

    async def sign_for_org(
        self, actor: Actor, statement_id: int, org_id: int, version: int, *, listed: bool
    ) -> Signed:
        """Sign the statement's ``version`` on behalf of the actor's organisation, listed by name or counted
        only: checked and written in one transaction (the signature and its record entry together)."""
        now = self.clock.now()

        def work(conn: SyncConnection) -> Signed:
            statement = self._open_now(conn, actor, statement_id, version)
            rep = org_rows.representation_now(conn, actor.guild_id, actor.user_id)
            if rep is None:
                raise NotAllowed(self._no_org(statement))
            if rep.org_id != org_id:
                raise NotAllowed(t(
                    "You represent {org}, not the organisation this button was for; press **Sign on behalf of your "
                    "organisation** again.",
                    org=rep.name,
                ))  # fmt: skip
            if rep.state != "verified":
                raise NotAllowed(_not_verified(rep.name))
            signed = statement_rows.live_org_signature_now(conn, statement_id, org_id)
            if signed is not None:
                raise Conflict(self._already(statement, rep.name, signed))
            return self._insert_now(
                conn, actor, statement, now, org_id=org_id, org_name=rep.name, listed=listed
            )

        return await self.db.run(work, guild_id=actor.guild_id)

    async def sign_as_individual(self, actor: Actor, statement_id: int) -> Signed:
        """Sign the statement's current version as an individual (when it allows individuals), once."""
        now = self.clock.now()

        def work(conn: SyncConnection) -> Signed:
            statement = self._open_now(conn, actor, statement_id, None)
            if not statement.individuals:
                raise NotAllowed(t(
                    "Statement #{number} takes signatures from member organisations only, not from individuals.",
                    number=statement.number,
                ))  # fmt: skip
            signed = statement_rows.live_individual_signature_now(conn, statement_id, actor.user_id)
            if signed is not None:
                raise Conflict(
                    t("You already signed statement #{number} as an individual.", number=statement.number)
                )
            return self._insert_now(conn, actor, statement, now, org_id=None, org_name=None, listed=False)

        return await self.db.run(work, guild_id=actor.guild_id)

    def _open_now(
        self, conn: SyncConnection, actor: Actor, statement_id: int, version: int | None
    ) -> Statement:
        statement = statement_rows.statement_now(conn, actor.guild_id, statement_id)
        if statement is None:
            raise NotFound(NO_SUCH_STATEMENT)
        self._require_open(statement)
        if version is not None and version != statement.version:
            raise Conflict(t(
                "Statement #{number} was amended since you pressed Sign: press **Sign on behalf of your "
                "organisation** again to sign version {version_number}.",
                number=statement.number, version_number=statement.version,
            ))  # fmt: skip
        return statement

    def _insert_now(
        self, conn: SyncConnection, actor: Actor, statement: Statement, now: datetime, *, org_id: int | None,
        org_name: str | None, listed: bool,
    ) -> Signed:  # fmt: skip
        fp = statement_rows.fingerprint_now(conn, statement.statement_id, statement.version)
        assert fp is not None
        pseudonym = None if listed else f"anon-{secrets.token_hex(8)}"
        event = record.signature(statement=statement.number, fingerprint=fp, action="given",
                                 organisation=org_name if listed else None, pseudonym=pseudonym)  # fmt: skip
        index = _append_now(conn, actor.guild_id, event, now, org_name)
        unix = to_unix(now)
        conn.execute(UPSERT_MEMBER, {"g": actor.guild_id, "u": actor.user_id,
                                     "n": actor.display_name[:100] or str(actor.user_id), "now": unix})  # fmt: skip
        added = statement_rows.insert_signature_now(conn, {
            "statement_id": statement.statement_id, "guild_id": actor.guild_id, "org_id": org_id,
            "signer_id": actor.user_id, "listed": int(listed), "recorded_name": org_name if listed else None,
            "pseudonym": pseudonym, "version": statement.version, "signed_at": unix, "record_index": index,
        })  # fmt: skip
        if added is None:  # the indexes refuse a second standing signature (nothing is written)
            raise Conflict(t("Statement #{number} already has this signature.", number=statement.number))
        return Signed(statement, statement.version, fp, org_name, listed)

    async def confirm(self, actor: Actor, statement_id: int) -> Confirmed:
        """Confirm for the current version the signature the actor's organisation gave to an earlier one
        (any current representative), and the actor's own as an individual: recorded as given again."""
        now = self.clock.now()
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            statement = await statement_rows.get_statement(conn, actor.guild_id, statement_id)
            if statement is None:
                raise NotFound(NO_SUCH_STATEMENT)
            self._require_open(statement, t("confirm signatures of"))
            version = await statement_rows.get_version(conn, statement.statement_id, statement.version)
            assert version is not None
            rep = await org_rows.representation(conn, actor.guild_id, actor.user_id)
            org_sig = None if rep is None else await statement_rows.live_org_signature(
                conn, statement.statement_id, rep.org_id)  # fmt: skip
            own = await statement_rows.live_individual_signature(conn, statement.statement_id, actor.user_id)
            org_pending = org_sig is not None and org_sig.version < statement.version
            own_pending = own is not None and own.version < statement.version
            pending = [s for s, due in ((org_sig, org_pending), (own, own_pending)) if s is not None and due]
            if not pending:
                if org_sig is not None:
                    raise Conflict(t(
                        "{org} is already on version {version_number}, the current one; nothing to confirm.",
                        org=org_sig.org_name, version_number=statement.version,
                    ))  # fmt: skip
                if own is not None:
                    raise Conflict(t(
                        "Your signature is already on version {version_number}, the current one; nothing to confirm.",
                        version_number=statement.version,
                    ))  # fmt: skip
                raise NotFound(t(
                    "Neither your organisation nor you signed statement #{number}, so there is nothing to confirm; "
                    "sign it with the buttons on the statement.",
                    number=statement.number,
                ))  # fmt: skip
            for sig in pending:
                index = await _append(conn, actor.guild_id, record.signature(
                    statement=statement.number, fingerprint=version.fingerprint, action="given",
                    organisation=sig.recorded_name, pseudonym=sig.pseudonym), now)  # fmt: skip
                await statement_rows.confirm_signature(conn, sig.signature_id, statement.version, actor.user_id,
                                                       to_unix(now), index)  # fmt: skip
            await server_rows.upsert_members(conn, actor.guild_id, [(actor.user_id, actor.display_name)],
                                             to_unix(now))  # fmt: skip
        return Confirmed(statement, version, org_sig.org_name if org_sig is not None and org_pending else None,
                         own_pending)  # fmt: skip

    async def withdraw(
        self, actor: Actor, statement: Statement | int, *, org: Org | None = None, individual: bool = False
    ) -> Withdrawn:
        """Withdraw a signature: an organisation's (any current representative of it, or a coordinator; by
        default the actor's own organisation's), or with ``individual`` the actor's own. Recorded."""
        now = self.clock.now()
        statement_id = statement if isinstance(statement, int) else statement.statement_id
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            fresh = await statement_rows.get_statement(conn, actor.guild_id, statement_id)
            if fresh is None:
                raise NotFound(NO_SUCH_STATEMENT)
            number = fresh.number
            if fresh.state == "draft":
                raise Invalid(t("Statement #{number} is a draft: nobody has signed it yet.", number=number))
            if self.is_closed(fresh):
                raise Closed(_final(fresh))
            rep = await org_rows.representation(conn, actor.guild_id, actor.user_id)
            sig: SignatureRow | None
            if individual:
                sig = await statement_rows.live_individual_signature(conn, fresh.statement_id, actor.user_id)
                if sig is None:
                    raise NotFound(
                        t("You have not signed statement #{number} as an individual.", number=number)
                    )
            elif org is not None:
                if org.guild_id != actor.guild_id:
                    raise NotFound(t("That organisation does not exist on this server."))
                if not self.policy.is_coordinator(actor) and (rep is None or rep.org_id != org.org_id):
                    raise NotAllowed(t(
                        "Only representatives of {org} or a coordinator can withdraw its signature.", org=org.name
                    ))  # fmt: skip
                sig = await statement_rows.live_org_signature(conn, fresh.statement_id, org.org_id)
                if sig is None:
                    raise NotFound(
                        t("{org} has not signed statement #{number}.", org=org.name, number=number)
                    )
            else:
                sig = None if rep is None else await statement_rows.live_org_signature(
                    conn, fresh.statement_id, rep.org_id)  # fmt: skip
                if sig is None:
                    sig = await statement_rows.live_individual_signature(
                        conn, fresh.statement_id, actor.user_id
                    )
                if sig is None:
                    raise NotFound(_nothing_to_withdraw(number, rep.name if rep else None,
                                                        self.policy.is_coordinator(actor)))  # fmt: skip
            given = await statement_rows.get_version(conn, fresh.statement_id, sig.version)
            assert given is not None
            index = await _append(conn, actor.guild_id, record.signature(
                statement=fresh.number, fingerprint=given.fingerprint, action="withdrawn",
                organisation=sig.recorded_name, pseudonym=sig.pseudonym), now)  # fmt: skip
            if not await statement_rows.withdraw_signature(
                conn, sig.signature_id, actor.user_id, to_unix(now), index
            ):
                raise Conflict(t("That signature was already withdrawn."))
            await server_rows.upsert_members(conn, actor.guild_id, [(actor.user_id, actor.display_name)],
                                             to_unix(now))  # fmt: skip
        return Withdrawn(fresh, sig.org_name, sig.version)

    # -- closing --------------------------------------------------------------------------------------

    async def close(self, actor: Actor, statement: Statement) -> Statement:
        """Close an open statement now (its author, its group's conveners, coordinators): recorded, and its
        closing post planned for now (the deadline's is cancelled)."""
        now = self.clock.now()
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            fresh = await self._fresh(conn, actor, statement)
            await self._require_editor(actor, fresh, t("close"))
            if fresh.state == "draft":
                raise Invalid(
                    t("Statement #{number} is a draft: open it for signature first.", number=fresh.number)
                )
            if fresh.state == "closed":
                raise Conflict(_already_closed(fresh))
            closed_at = min(to_unix(now), fresh.closes_at or to_unix(now))
            closed = await self._close(conn, fresh, actor.user_id, closed_at)
            await post_rows.cancel_posts(conn, (CLOSE,), fresh.statement_id, to_unix(now))
            await post_rows.add_posts(conn, actor.guild_id, CLOSE, fresh.statement_id, [to_unix(now)])
        return closed

    async def _close(
        self, conn: Connection, statement: Statement, by: int | None, closed_at: int
    ) -> Statement:
        version = await statement_rows.get_version(conn, statement.statement_id, statement.version)
        assert version is not None
        index = await record.append(conn, statement.guild_id, record.statement_version(
            statement=statement.number, version=version.version, fingerprint=version.fingerprint, state="closed",
        ), from_unix(closed_at))  # fmt: skip
        if not await statement_rows.close_statement(conn, statement.statement_id, by, closed_at, index):
            raise Conflict(_already_closed(statement))
        closed = await statement_rows.get_statement(conn, statement.guild_id, statement.statement_id)
        assert closed is not None
        return closed

    async def close_due(self, guild_id: int, statement_id: int) -> Statement | None:
        """Close a statement at its deadline (also late, after a restart), once; None when it was not open."""
        async with self.db.transaction(guild_id=guild_id) as conn:
            found = await statement_rows.get_statement(conn, guild_id, statement_id)
            if found is None or found.state != "open" or found.closes_at is None:
                return None
            return await self._close(conn, found, None, found.closes_at)

    async def claim_announcement(self, guild_id: int, statement_id: int, post_id: int) -> Statement | None:
        """Take the job of posting a closed statement's closing post for this scheduled post (a retry of
        the same post takes it again); None when another post has it or the statement is not closed."""
        async with self.db.transaction(guild_id=guild_id) as conn:
            if not await statement_rows.claim_announcement(conn, statement_id, post_id):
                return None
            return await statement_rows.get_statement(conn, guild_id, statement_id)

    # -- the messages of a statement --------------------------------------------------------------------

    async def version_by_id(self, guild_id: int, version_id: int) -> tuple[Statement, VersionRow] | None:
        """A version (a scheduled post's) and its statement, if it belongs to this server."""
        version = await statement_rows.get_version_by_id(self.db, version_id)
        if version is None:
            return None
        statement = await statement_rows.get_statement(self.db, guild_id, version.statement_id)
        return None if statement is None else (statement, version)

    async def attach_messages(
        self, statement: Statement, version: VersionRow, parts: Sequence[tuple[int, int, int, bool]]
    ) -> None:
        """Remember the messages of a version's post, (part, channel, message, is the card); for an amendment,
        plan the direct messages that ask earlier signers to confirm."""
        now = to_unix(self.clock.now())
        async with self.db.transaction(guild_id=statement.guild_id) as conn:
            await statement_rows.add_messages(conn, statement.statement_id, version.version, parts)
            if version.version > 1:
                await post_rows.add_posts(conn, statement.guild_id, CONFIRM, version.version_id, [now])

    async def messages(self, statement: Statement) -> list[MessageRow]:
        """Every message posted for the statement, by version and part."""
        return await statement_rows.messages(self.db, statement.statement_id)

    async def card(self, statement: Statement) -> MessageRow | None:
        """The card of the statement's current version (the message with the buttons), once posted."""
        cards = [m for m in await self.messages(statement) if m.card and m.version == statement.version]
        return cards[-1] if cards else None

    async def amendment(self, guild_id: int, version_id: int) -> Amendment | None:
        """Who is asked to confirm a new version: for each standing signature given to an earlier version,
        the member who signed if they still represent that organisation (else its longest-serving current
        representative), or the individual; once each."""
        found = await self.version_by_id(guild_id, version_id)
        if found is None:
            return None
        statement, version = found
        if statement.state != "open" or statement.version != version.version:
            return None  # closed or amended again since: the next version asks
        pending = [s for s in await self.signatures(statement) if s.version < version.version]
        reps = await statement_rows.current_reps(self.db, [s.org_id for s in pending if s.org_id is not None])
        recipients: dict[int, str | None] = {}
        for sig in pending:
            if sig.org_id is None:
                recipients.setdefault(sig.signer_id, None)
                continue
            current = reps.get(sig.org_id, [])
            who = sig.signer_id if sig.signer_id in current else (current[0] if current else None)
            if who is not None:
                recipients.setdefault(who, sig.org_name)
        return Amendment(statement, version, tuple(recipients.items()), await self.card(statement))


def _final(statement: Statement) -> Text:
    return t("Statement #{number} is closed; its signatories are final.", number=statement.number)


def _already_closed(statement: Statement) -> Text:
    return t("Statement #{number} is already closed.", number=statement.number)


def _not_verified(org_name: str) -> Text:
    return t("{org} is not verified, so it can't sign; a coordinator verifies it first.", org=org_name)


def _nothing_to_withdraw(number: int, org_name: str | None, coordinator: bool) -> Text:
    """Nothing of the member's (or of their organisation, ``org_name``) to withdraw; a coordinator is told how
    to name an organisation."""
    if org_name is not None and coordinator:
        return t(
            "{org} has not signed statement #{number}, so there is no signature to withdraw. To withdraw an "
            "organisation's signature, name it: /statement withdraw statement:{number} organisation:…",
            org=org_name, number=number,
        )  # fmt: skip
    if org_name is not None:
        return t(
            "{org} has not signed statement #{number}, so there is no signature to withdraw.",
            org=org_name, number=number,
        )  # fmt: skip
    if coordinator:
        return t(
            "You have not signed statement #{number}, so there is no signature to withdraw. To withdraw an "
            "organisation's signature, name it: /statement withdraw statement:{number} organisation:…",
            number=number,
        )
    return t("You have not signed statement #{number}, so there is no signature to withdraw.", number=number)


def _event_refused(org_name: str | None) -> Invalid:
    if org_name:
        return Invalid(t(
            "{org} can't be listed by name: its name looks like a Discord id or mention, which the decision record "
            "never holds. Choose **Counted only**, or ask a coordinator to rename it.",
            org=org_name,
        ))  # fmt: skip
    return Invalid(
        t(
            "This organisation can't be listed by name: its name looks like a Discord id or mention, which the "
            "decision record never holds. Choose **Counted only**, or ask a coordinator to rename it."
        )
    )


def _append_now(
    conn: SyncConnection, guild_id: int, event: record.Event, now: datetime, org: str | None
) -> int:
    try:
        return record.append_now(conn, guild_id, event, now)
    except record.InvalidEvent:
        raise _event_refused(org) from None


async def _append(conn: Connection, guild_id: int, event: record.Event, now: datetime) -> int:
    try:
        return await record.append(conn, guild_id, event, now)
    except record.InvalidEvent:
        raise _event_refused(str(event.facts.get("organisation", ""))) from None
