"""Queries for sign-on statements, their versions, signatures and messages.

Every write of a member's id for this feature goes through a function of this module. The signing path
(a click) runs whole on the writer's thread (``Database.run``): its functions take a plain sqlite3
connection and end in ``_now``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from storage.db import (
    Connection,
    Database,
    Source,
    SyncConnection,
    fetch_all,
    fetch_one,
    inserted_id,
    new_id,
    row_as,
    rows_as,
    search_params,
)

_SCOPE = "guild_id = :g"
_BY_STATEMENT = "statement_id IN (SELECT statement_id FROM statements WHERE guild_id = :g)"
# Every column of this feature that holds a member's id, with how its row belongs to a server
# (storage/privacy.py rewrites them to the pseudonym when a member is anonymised).
MEMBER_ID_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("statements", "author_id", _SCOPE),
    ("statements", "opened_by", _SCOPE),
    ("statements", "closed_by", _SCOPE),
    ("statement_versions", "created_by", _BY_STATEMENT),
    ("statement_signatures", "signer_id", _SCOPE),
    ("statement_signatures", "confirmed_by", _SCOPE),
    ("statement_signatures", "withdrawn_by", _SCOPE),
)

_STATEMENT = (
    "s.statement_id, s.guild_id, s.number, s.title, s.group_id, s.author_id, s.state, s.version, "
    "s.individuals, s.channel_id, s.created_at, s.opened_by, s.opened_at, s.closes_at, s.closed_by, "
    "s.closed_at, s.close_index, s.close_post_id"
)
_VERSION = "v.version_id, v.statement_id, v.version, v.text, v.fingerprint, v.created_by, v.created_at, v.record_index"
_SIGNATURE = (
    "x.signature_id, x.statement_id, x.guild_id, x.org_id, x.signer_id, x.listed, x.recorded_name, x.pseudonym, "
    "x.version, x.signed_at, x.confirmed_by, x.confirmed_at, x.record_index, x.withdrawn_by, x.withdrawn_at, "
    "x.withdraw_index, o.name AS org_name, o.acronym, o.country, o.region, o.stakeholder, o.state AS org_state"
)
_SIGNATURES = f"SELECT {_SIGNATURE} FROM statement_signatures x LEFT JOIN orgs o ON o.org_id = x.org_id"  # noqa: S608


@dataclass(frozen=True)
class StatementRow:
    statement_id: int
    guild_id: int
    number: int
    title: str
    group_id: int | None
    author_id: int
    state: str  # draft | open | closed
    version: int  # the current version
    individuals: bool  # individuals may sign too
    channel_id: int | None
    created_at: int
    opened_by: int | None
    opened_at: int | None
    closes_at: int | None
    closed_by: int | None
    closed_at: int | None
    close_index: int | None
    close_post_id: int | None


@dataclass(frozen=True)
class VersionRow:
    version_id: int
    statement_id: int
    version: int
    text: str
    fingerprint: str  # SHA-256 of the text's UTF-8 bytes, lowercase hex
    created_by: int
    created_at: int
    record_index: int | None


@dataclass(frozen=True)
class SignatureRow:
    """A signature, with its organisation's details as they are now (all None for an individual)."""

    signature_id: int
    statement_id: int
    guild_id: int
    org_id: int | None
    signer_id: int
    listed: bool
    recorded_name: str | None
    pseudonym: str | None
    version: int
    signed_at: int
    confirmed_by: int | None
    confirmed_at: int | None
    record_index: int
    withdrawn_by: int | None
    withdrawn_at: int | None
    withdraw_index: int | None
    org_name: str | None
    acronym: str | None
    country: str | None
    region: str | None
    stakeholder: str | None
    org_state: str | None

    @property
    def individual(self) -> bool:
        """Signed by a member for themselves, not for an organisation."""
        return self.org_id is None


@dataclass(frozen=True)
class MessageRow:
    statement_id: int
    version: int
    part: int
    channel_id: int
    message_id: int
    card: bool


# -- statements -----------------------------------------------------------------------------------


async def insert_statement(
    conn: Connection, *, guild_id: int, title: str, group_id: int | None, author_id: int, text: str,
    fingerprint: str, now: int,
) -> int:  # fmt: skip
    """A draft numbered next in its server, with its first version; returns its id."""
    cursor = await conn.execute(
        "INSERT INTO statements (guild_id, number, title, group_id, author_id, created_at) VALUES (:g, "
        "(SELECT coalesce(max(number), 0) + 1 FROM statements WHERE guild_id = :g), :t, :group, :a, :now) "
        "RETURNING statement_id",
        {"g": guild_id, "t": title, "group": group_id, "a": author_id, "now": now},
    )
    statement_id = await inserted_id(cursor)
    assert statement_id is not None
    await conn.execute(
        "INSERT INTO statement_versions (statement_id, version, text, fingerprint, created_by, created_at) "
        "VALUES (:s, 1, :text, :fp, :a, :now)",
        {"s": statement_id, "text": text, "fp": fingerprint, "a": author_id, "now": now},
    )
    return statement_id


async def get_statement(db: Source, guild_id: int, statement_id: int) -> StatementRow | None:
    """A statement of this server by id (None for unknown ids and other servers' statements)."""
    row = await fetch_one(
        db, f"SELECT {_STATEMENT} FROM statements s WHERE s.guild_id = :g AND s.statement_id = :id",  # noqa: S608
        {"g": guild_id, "id": statement_id},
    )  # fmt: skip
    return None if row is None else row_as(StatementRow, row)


def statement_now(conn: SyncConnection, guild_id: int, statement_id: int) -> StatementRow | None:
    """``get_statement`` on a plain sqlite3 connection (inside Database.run)."""
    row = conn.execute(
        f"SELECT {_STATEMENT} FROM statements s WHERE s.guild_id = :g AND s.statement_id = :id",  # noqa: S608
        {"g": guild_id, "id": statement_id},
    ).fetchone()
    return None if row is None else row_as(StatementRow, row)


async def get_statement_by_number(db: Source, guild_id: int, number: int) -> StatementRow | None:
    """A statement of this server by its number."""
    row = await fetch_one(
        db, f"SELECT {_STATEMENT} FROM statements s WHERE s.guild_id = :g AND s.number = :n",  # noqa: S608
        {"g": guild_id, "n": number},
    )  # fmt: skip
    return None if row is None else row_as(StatementRow, row)


async def search_statements(db: Database, guild_id: int, text: str, limit: int = 25) -> list[StatementRow]:
    """Statements whose number or title matches what was typed: open first, then drafts, newest first."""
    rows = await db.fetchall(
        f"SELECT {_STATEMENT} FROM statements s WHERE s.guild_id = :g AND (CAST(s.number AS TEXT) LIKE :num || '%' "  # noqa: S608
        "OR s.title LIKE :p ESCAPE '\\') ORDER BY s.state = 'closed', s.state = 'draft', s.number DESC LIMIT :limit",
        {"g": guild_id, **search_params(text), "limit": limit},
    )
    return rows_as(StatementRow, rows)


async def statements_of(db: Database, guild_id: int) -> list[StatementRow]:
    """Every statement of this server, by number."""
    rows = await db.fetchall(
        f"SELECT {_STATEMENT} FROM statements s WHERE s.guild_id = :g ORDER BY s.number",  # noqa: S608
        {"g": guild_id},
    )
    return rows_as(StatementRow, rows)


async def set_title(conn: Connection, statement_id: int, title: str) -> None:
    """Change a statement's title (it is not part of the text signed)."""
    await conn.execute(
        "UPDATE statements SET title = :t WHERE statement_id = :s", {"s": statement_id, "t": title}
    )


async def set_draft_text(
    conn: Connection, statement_id: int, text: str, fingerprint: str, by: int, now: int
) -> bool:
    """Replace the text of a draft (its one version); False when it is no longer a draft."""
    cursor = await conn.execute(
        "UPDATE statement_versions SET text = :text, fingerprint = :fp, created_by = :by, created_at = :now "
        "WHERE statement_id = :s AND version = 1 "
        "AND (SELECT state FROM statements WHERE statement_id = :s) = 'draft'",
        {"s": statement_id, "text": text, "fp": fingerprint, "by": by, "now": now},
    )
    return cursor.rowcount == 1


async def add_version(
    conn: Connection,
    statement_id: int,
    version: int,
    text: str,
    fingerprint: str,
    by: int,
    now: int,
) -> int:
    """A new version of an open statement, which becomes its current one; returns the version's id."""
    cursor = await conn.execute(
        "INSERT INTO statement_versions (statement_id, version, text, fingerprint, created_by, created_at) "
        "VALUES (:s, :v, :text, :fp, :by, :now) RETURNING version_id",
        {"s": statement_id, "v": version, "text": text, "fp": fingerprint, "by": by, "now": now},
    )
    version_id = await new_id(cursor)
    await conn.execute(
        "UPDATE statements SET version = :v WHERE statement_id = :s", {"s": statement_id, "v": version}
    )
    return version_id


async def set_version_index(conn: Connection, statement_id: int, version: int, index: int) -> None:
    """Remember the decision record's entry of a version."""
    await conn.execute(
        "UPDATE statement_versions SET record_index = :i WHERE statement_id = :s AND version = :v",
        {"s": statement_id, "v": version, "i": index},
    )


async def get_version(db: Source, statement_id: int, version: int) -> VersionRow | None:
    """One version of a statement."""
    row = await fetch_one(
        db, f"SELECT {_VERSION} FROM statement_versions v WHERE v.statement_id = :s AND v.version = :n",  # noqa: S608
        {"s": statement_id, "n": version},
    )  # fmt: skip
    return None if row is None else row_as(VersionRow, row)


async def get_version_by_id(db: Source, version_id: int) -> VersionRow | None:
    """A version by its id (the caller checks its statement's server)."""
    row = await fetch_one(
        db, f"SELECT {_VERSION} FROM statement_versions v WHERE v.version_id = :id", {"id": version_id}  # noqa: S608
    )  # fmt: skip
    return None if row is None else row_as(VersionRow, row)


def fingerprint_now(conn: SyncConnection, statement_id: int, version: int) -> str | None:
    """The fingerprint of one version, on a plain sqlite3 connection."""
    row = conn.execute(
        "SELECT fingerprint FROM statement_versions WHERE statement_id = :s AND version = :v",
        {"s": statement_id, "v": version},
    ).fetchone()
    return None if row is None else str(row[0])


async def versions(db: Source, statement_id: int) -> list[VersionRow]:
    """Every version of a statement, first to current."""
    rows = await fetch_all(
        db, f"SELECT {_VERSION} FROM statement_versions v WHERE v.statement_id = :s ORDER BY v.version",  # noqa: S608
        {"s": statement_id},
    )  # fmt: skip
    return rows_as(VersionRow, rows)


async def open_statement(
    conn: Connection, statement_id: int, *, by: int, now: int, closes_at: int, individuals: bool,
    channel_id: int,
) -> bool:  # fmt: skip
    """A draft opens for signature; False when it was no longer a draft."""
    cursor = await conn.execute(
        "UPDATE statements SET state = 'open', opened_by = :by, opened_at = :now, closes_at = :closes, "
        "individuals = :ind, channel_id = :c WHERE statement_id = :s AND state = 'draft'",
        {
            "s": statement_id,
            "by": by,
            "now": now,
            "closes": closes_at,
            "ind": int(individuals),
            "c": channel_id,
        },
    )
    return cursor.rowcount == 1


async def close_statement(
    conn: Connection, statement_id: int, by: int | None, closed_at: int, index: int
) -> bool:
    """An open statement closes (``by`` None: at its deadline) with its record entry; False when it was
    not open."""
    cursor = await conn.execute(
        "UPDATE statements SET state = 'closed', closed_by = :by, closed_at = :at, close_index = :i "
        "WHERE statement_id = :s AND state = 'open'",
        {"s": statement_id, "by": by, "at": closed_at, "i": index},
    )
    return cursor.rowcount == 1


async def claim_announcement(conn: Connection, statement_id: int, post_id: int) -> bool:
    """Take the job of announcing a closed statement for one scheduled post (again for the same post: a
    retry); False when another post has it or the statement is not closed."""
    cursor = await conn.execute(
        "UPDATE statements SET close_post_id = :p WHERE statement_id = :s AND state = 'closed' "
        "AND (close_post_id IS NULL OR close_post_id = :p)",
        {"s": statement_id, "p": post_id},
    )
    return cursor.rowcount == 1


# -- messages -------------------------------------------------------------------------------------


async def add_messages(
    conn: Connection, statement_id: int, version: int, parts: Iterable[tuple[int, int, int, bool]]
) -> None:
    """Remember the messages of one version's post: (part, channel id, message id, is the card)."""
    await conn.executemany(
        "INSERT INTO statement_messages (statement_id, version, part, channel_id, message_id, card) "
        "VALUES (:s, :v, :part, :c, :m, :card) ON CONFLICT (statement_id, version, part) DO NOTHING",
        [{"s": statement_id, "v": version, "part": p, "c": c, "m": m, "card": int(card)}
         for p, c, m, card in parts],
    )  # fmt: skip


async def messages(db: Source, statement_id: int) -> list[MessageRow]:
    """Every message posted for a statement, by version and part."""
    rows = await fetch_all(
        db,
        "SELECT statement_id, version, part, channel_id, message_id, card FROM statement_messages "
        "WHERE statement_id = :s ORDER BY version, part",
        {"s": statement_id},
    )
    return rows_as(MessageRow, rows)


# -- signatures -----------------------------------------------------------------------------------


def live_org_signature_now(conn: SyncConnection, statement_id: int, org_id: int) -> SignatureRow | None:
    """The organisation's signature on a statement that stands (not withdrawn), on a plain connection."""
    row = conn.execute(
        f"{_SIGNATURES} WHERE x.statement_id = :s AND x.org_id = :o AND x.withdrawn_at IS NULL",
        {"s": statement_id, "o": org_id},
    ).fetchone()
    return None if row is None else row_as(SignatureRow, row)


def live_individual_signature_now(
    conn: SyncConnection, statement_id: int, user_id: int
) -> SignatureRow | None:
    """The member's own signature as an individual that stands, on a plain connection."""
    row = conn.execute(
        f"{_SIGNATURES} WHERE x.statement_id = :s AND x.org_id IS NULL AND x.signer_id = :u "
        "AND x.withdrawn_at IS NULL",
        {"s": statement_id, "u": user_id},
    ).fetchone()
    return None if row is None else row_as(SignatureRow, row)


def insert_signature_now(conn: SyncConnection, values: dict[str, Any]) -> int | None:
    """Store a signature; None when one already stands for this organisation (or this individual)."""
    cursor = conn.execute(
        "INSERT INTO statement_signatures (statement_id, guild_id, org_id, signer_id, listed, recorded_name, "
        "pseudonym, version, signed_at, record_index) VALUES (:statement_id, :guild_id, :org_id, :signer_id, "
        ":listed, :recorded_name, :pseudonym, :version, :signed_at, :record_index) ON CONFLICT DO NOTHING "
        "RETURNING signature_id",
        values,
    )
    row = cursor.fetchone()
    return None if row is None else int(row[0])


async def live_signatures(db: Source, statement_id: int) -> list[SignatureRow]:
    """The signatures of a statement that stand, organisations by name then individuals, oldest first."""
    rows = await fetch_all(
        db,
        f"{_SIGNATURES} WHERE x.statement_id = :s AND x.withdrawn_at IS NULL "
        "ORDER BY x.org_id IS NULL, o.name_key, x.signed_at, x.signature_id",
        {"s": statement_id},
    )
    return rows_as(SignatureRow, rows)


async def live_org_signature(db: Source, statement_id: int, org_id: int) -> SignatureRow | None:
    """The organisation's signature on a statement that stands."""
    row = await fetch_one(
        db, f"{_SIGNATURES} WHERE x.statement_id = :s AND x.org_id = :o AND x.withdrawn_at IS NULL",
        {"s": statement_id, "o": org_id},
    )  # fmt: skip
    return None if row is None else row_as(SignatureRow, row)


async def live_individual_signature(db: Source, statement_id: int, user_id: int) -> SignatureRow | None:
    """The member's own signature as an individual that stands."""
    row = await fetch_one(
        db,
        f"{_SIGNATURES} WHERE x.statement_id = :s AND x.org_id IS NULL AND x.signer_id = :u "
        "AND x.withdrawn_at IS NULL",
        {"s": statement_id, "u": user_id},
    )
    return None if row is None else row_as(SignatureRow, row)


async def withdraw_signature(conn: Connection, signature_id: int, by: int, now: int, index: int) -> bool:
    """A standing signature is withdrawn (kept, marked); False when it already was."""
    cursor = await conn.execute(
        "UPDATE statement_signatures SET withdrawn_by = :by, withdrawn_at = :now, withdraw_index = :i "
        "WHERE signature_id = :id AND withdrawn_at IS NULL",
        {"id": signature_id, "by": by, "now": now, "i": index},
    )
    return cursor.rowcount == 1


async def confirm_signature(
    conn: Connection, signature_id: int, version: int, by: int, now: int, index: int
) -> bool:
    """A standing signature given to an earlier version is confirmed for ``version``; False otherwise."""
    cursor = await conn.execute(
        "UPDATE statement_signatures SET version = :v, confirmed_by = :by, confirmed_at = :now, record_index = :i "
        "WHERE signature_id = :id AND withdrawn_at IS NULL AND version < :v",
        {"id": signature_id, "v": version, "by": by, "now": now, "i": index},
    )
    return cursor.rowcount == 1


async def current_reps(db: Source, org_ids: Iterable[int]) -> dict[int, list[int]]:
    """The current representatives (user ids) of each organisation, longest-serving first."""
    wanted = sorted(set(org_ids))
    if not wanted:
        return {}
    marks = ", ".join(f":o{i}" for i in range(len(wanted)))
    rows = await fetch_all(
        db,
        f"SELECT org_id, user_id FROM org_reps WHERE state = 'active' AND org_id IN ({marks}) "  # noqa: S608
        "ORDER BY started_at, rep_id",
        {f"o{i}": o for i, o in enumerate(wanted)},
    )
    found: dict[int, list[int]] = {}
    for r in rows:
        found.setdefault(int(r["org_id"]), []).append(int(r["user_id"]))
    return found


# -- members' data --------------------------------------------------------------------------------


async def rows_about(db: Database, guild_id: int, user_id: int) -> list[dict[str, Any]]:
    """The signatures a member gave (for an organisation or as an individual), confirmed or withdrew, and
    the statements they drafted, for /privacy export."""
    p = {"g": guild_id, "u": user_id}
    signed = await db.fetchall(
        "SELECT 'signature' AS record, s.number AS statement, s.title, o.name AS organisation, x.org_id IS NULL AS as_individual, "
        "x.listed, x.version, x.signed_at, x.signer_id = :u AS signed_it, "
        "(x.confirmed_by IS NOT NULL AND x.confirmed_by = :u) AS confirmed_it, x.confirmed_at, "
        "(x.withdrawn_by IS NOT NULL AND x.withdrawn_by = :u) AS withdrew_it, x.withdrawn_at "
        "FROM statement_signatures x JOIN statements s ON s.statement_id = x.statement_id "
        "LEFT JOIN orgs o ON o.org_id = x.org_id WHERE x.guild_id = :g "
        "AND (x.signer_id = :u OR x.confirmed_by = :u OR x.withdrawn_by = :u) ORDER BY s.number, x.signature_id",
        p,
    )
    drafted = await db.fetchall(
        "SELECT 'statement' AS record, number AS statement, title, state, author_id = :u AS drafted_it, "
        "(opened_by IS NOT NULL AND opened_by = :u) AS opened_it, "
        "(closed_by IS NOT NULL AND closed_by = :u) AS closed_it FROM statements WHERE guild_id = :g "
        "AND (author_id = :u OR opened_by = :u OR closed_by = :u) ORDER BY number",
        p,
    )
    flags = (
        "as_individual",
        "listed",
        "signed_it",
        "confirmed_it",
        "withdrew_it",
        "drafted_it",
        "opened_it",
        "closed_it",
    )
    out: list[dict[str, Any]] = []
    for row in [*signed, *drafted]:
        values: dict[str, Any] = dict(row)
        for key in flags:
            if key in values:
                values[key] = bool(values[key])
        out.append(values)
    return out


async def anonymise(conn: Connection, guild_id: int, user_id: int, pseudo_id: int, now: int) -> int:
    """Before the member's ids become the pseudonym (storage/privacy.py): where both their Discord id and
    their pseudonym hold a standing individual signature on one statement (only a stale process could
    make that), the pseudonym's is marked withdrawn, so that one signature per individual stands."""
    cursor = await conn.execute(
        "UPDATE statement_signatures SET withdrawn_by = :p, withdrawn_at = :now WHERE guild_id = :g "
        "AND org_id IS NULL AND signer_id = :p AND withdrawn_at IS NULL AND statement_id IN "
        "(SELECT statement_id FROM statement_signatures WHERE guild_id = :g AND org_id IS NULL "
        " AND signer_id = :u AND withdrawn_at IS NULL)",
        {"g": guild_id, "u": user_id, "p": pseudo_id, "now": now},
    )
    return cursor.rowcount
