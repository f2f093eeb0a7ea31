"""Queries for members' data rights: what the bot holds about a member, anonymising them, purging servers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.shards import Shards
from storage import counting as counting_rows
from storage import orgs as org_rows
from storage import statements as statement_rows
from storage.db import Connection, Database, fetch_all, on_shards
from storage.servers import ANONYMISED_NAME

_ITEM = "item_id IN (SELECT item_id FROM items WHERE guild_id = :g)"
_POLL = "poll_id IN (SELECT poll_id FROM polls WHERE guild_id = :g)"
_GROUP = "group_id IN (SELECT group_id FROM groups WHERE guild_id = :g)"
_SESSION = "session_id IN (SELECT session_id FROM sessions WHERE guild_id = :g)"

# Every column that holds a member's id, in one of three lists (a test checks every table against them).
# Rewritten to the pseudonym at anonymisation: (table, column, how the row belongs to the server, the other
# columns of a unique key that includes the member's column; on a clash the row under the Discord id wins).
ID_COLUMNS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("items", "author_id", "guild_id = :g", ()),
    ("items", "decided_by", "guild_id = :g", ()),
    ("item_revisions", "author_id", _ITEM, ()),
    ("positions", "user_id", _ITEM, ("item_id", "revision")),
    ("objections", "user_id", _ITEM, ("item_id", "revision")),
    ("objections", "resolved_by", _ITEM, ()),
    ("polls", "author_id", "guild_id = :g", ()),
    ("polls", "closed_by", "guild_id = :g", ()),
    ("poll_votes", "user_id", _POLL, ("poll_id",)),
    ("groups", "created_by", "guild_id = :g", ()),
    ("groups", "archived_by", "guild_id = :g", ()),
    ("group_members", "added_by", _GROUP, ()),
    ("sessions", "created_by", "guild_id = :g", ()),
    *((table, column, "guild_id = :g", ()) for table, column in org_rows.MEMBER_ID_COLUMNS),
    # who stated an organisation's position or cast its ballot: the position and ballot stay the organisation's
    *((table, column, _ITEM if where == "item" else _POLL, ())
      for table, column, where in counting_rows.MEMBER_ID_COLUMNS),
    *((table, column, scope, ()) for table, column, scope in statement_rows.MEMBER_ID_COLUMNS),
)  # fmt: skip
# Deleted at anonymisation, under the Discord id and under the pseudonym (what they did since an earlier
# anonymisation): the member leaves their groups and reminder lists, pending imports go, and the row
# with their name goes (the pseudonym's row is named ANONYMISED_NAME, see storage.servers).
DROPPED: tuple[tuple[str, str, str], ...] = (
    ("group_members", "user_id", _GROUP),
    ("session_subscribers", "user_id", _SESSION),
    ("agenda_imports", "user_id", "guild_id = :g"),
    ("member_languages", "user_id", "guild_id = :g"),
    ("members", "user_id", "guild_id = :g"),
)
# Keyed hashes of a member's id: ballots of anonymous polls still open are re-keyed to the pseudonym
# (closed polls' keys were already replaced by random bytes).
REKEYED: tuple[tuple[str, str], ...] = (("poll_secret_ballots", "voter_key"),)
# Not a member's id although named like one: the pseudonyms themselves, and the id of a voice's period.
NOT_MEMBER_IDS: tuple[tuple[str, str], ...] = (("erasures", "pseudo_id"), ("org_voices", "voice_id"))


async def rows_about(db: Database, guild_id: int, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every record of this server that names the member, by kind."""
    p = {"g": guild_id, "u": user_id}

    async def fetch(sql: str) -> list[dict[str, Any]]:
        return [dict(r) for r in await db.fetchall(sql, p)]

    return {
        "member": await fetch(
            "SELECT display_name, seen_at, left_at FROM members WHERE guild_id = :g AND user_id = :u"
        ),
        "groups": await fetch(
            "SELECT g.name AS group_name, gm.is_convener, gm.joined_at FROM group_members gm "
            "JOIN groups g ON g.group_id = gm.group_id WHERE g.guild_id = :g AND gm.user_id = :u ORDER BY g.name_key"
        ),
        "items_proposed": await fetch(
            "SELECT i.number, i.kind, i.status, r.text FROM items i JOIN item_revisions r ON r.item_id = i.item_id "
            "AND r.revision = i.revision WHERE i.guild_id = :g AND i.author_id = :u ORDER BY i.number"
        ),
        "revisions_written": await fetch(
            "SELECT i.number, r.revision, r.text, r.created_at FROM item_revisions r JOIN items i "
            "ON i.item_id = r.item_id WHERE i.guild_id = :g AND r.author_id = :u ORDER BY i.number, r.revision"
        ),
        "positions": await fetch(
            "SELECT i.number, p.revision, p.stance, p.reason, p.updated_at FROM positions p JOIN items i "
            "ON i.item_id = p.item_id WHERE i.guild_id = :g AND p.user_id = :u ORDER BY i.number, p.revision"
        ),
        "objections": await fetch(
            "SELECT i.number, o.revision, o.stance, o.reason, o.state, o.note FROM objections o JOIN items i "
            "ON i.item_id = o.item_id WHERE i.guild_id = :g AND o.user_id = :u ORDER BY i.number, o.revision"
        ),
        "outcomes_called": await fetch(
            "SELECT number, kind, status, decided_at FROM items WHERE guild_id = :g AND decided_by = :u ORDER BY number"
        ),
        "polls_created": await fetch(
            "SELECT number, question, anonymous FROM polls WHERE guild_id = :g AND author_id = :u ORDER BY number"
        ),
        "poll_ballots": await fetch(
            "SELECT p.number, p.question, v.picks, v.updated_at FROM poll_votes v JOIN polls p "
            "ON p.poll_id = v.poll_id WHERE p.guild_id = :g AND v.user_id = :u ORDER BY p.number"
        ),
        "sessions_created": await fetch(
            "SELECT number, title, start_local, zone FROM sessions WHERE guild_id = :g AND created_by = :u "
            "ORDER BY number"
        ),
        "organisations": await org_rows.rows_about(db, guild_id, user_id),
        **await counting_rows.rows_about(db, guild_id, user_id),
        "statements": await statement_rows.rows_about(db, guild_id, user_id),
        "reminder_subscriptions": await fetch(
            "SELECT s.number, s.title FROM session_subscribers x JOIN sessions s ON s.session_id = x.session_id "
            "WHERE s.guild_id = :g AND x.user_id = :u ORDER BY s.number"
        ),
        "language": await fetch(
            "SELECT language, set_at FROM member_languages WHERE guild_id = :g AND user_id = :u"
        ),
    }


async def erased_in(db: Database | Connection, guild_id: int) -> list[int]:
    """The pseudonyms of this server's anonymised members."""
    sql = "SELECT pseudo_id FROM erasures WHERE guild_id = :g"
    params = {"g": guild_id}
    return [int(r["pseudo_id"]) for r in await fetch_all(db, sql, params)]


async def open_anonymous_polls(conn: Connection, guild_id: int) -> list[int]:
    """Ids of this server's anonymous polls that still hold voter keys (not closed yet)."""
    rows = await (
        await conn.execute(
            "SELECT poll_id FROM polls WHERE guild_id = :g AND anonymous = 1 AND closed_at IS NULL ORDER BY poll_id",
            {"g": guild_id},
        )
    ).fetchall()
    return [int(r[0]) for r in rows]


async def anonymise(
    conn: Connection,
    guild_id: int,
    user_id: int,
    pseudo_id: int,
    now: int,
    ballot_keys: Sequence[tuple[int, bytes, bytes]] = (),
) -> int:
    """Replace the member's id by the pseudonym everywhere in this server; drop memberships and their name.

    Safe to run again: rows under the pseudonym stay (memberships and subscriptions made since go), and
    anything still under the Discord id joins them. ``ballot_keys`` are (poll id, key of the Discord id,
    key of the pseudonym) for the anonymous polls still open.
    """
    changed = await org_rows.anonymise(conn, guild_id, user_id, pseudo_id, now)
    changed += await statement_rows.anonymise(conn, guild_id, user_id, pseudo_id, now)
    p = {"g": guild_id, "u": user_id, "p": pseudo_id}
    for table, column, scope, key in ID_COLUMNS:
        if key:  # one row per member and key: the pseudonym's row gives way to the Discord id's
            cols = ", ".join(key)
            changed += (
                await conn.execute(
                    f"DELETE FROM {table} WHERE {column} = :p AND {scope} AND ({cols}) IN "  # noqa: S608 (fixed names)
                    f"(SELECT {cols} FROM {table} WHERE {column} = :u)",
                    p,
                )
            ).rowcount
        cursor = await conn.execute(
            f"UPDATE {table} SET {column} = :p WHERE {column} = :u AND {scope}",  # noqa: S608 (fixed names)
            p,
        )
        changed += cursor.rowcount
    for table, column, scope in DROPPED:
        who = "= :u" if table == "members" else "IN (:u, :p)"
        changed += (
            await conn.execute(f"DELETE FROM {table} WHERE {column} {who} AND {scope}", p)  # noqa: S608
        ).rowcount
    for poll_id, old, new in ballot_keys:
        k = {"poll": poll_id, "old": old, "new": new}
        await conn.execute(
            "DELETE FROM poll_secret_ballots WHERE poll_id = :poll AND voter_key = :new AND EXISTS "
            "(SELECT 1 FROM poll_secret_ballots WHERE poll_id = :poll AND voter_key = :old)",
            k,
        )
        changed += (
            await conn.execute(
                "UPDATE poll_secret_ballots SET voter_key = :new WHERE poll_id = :poll AND voter_key = :old",
                k,
            )
        ).rowcount
    await conn.execute(
        "INSERT INTO members (guild_id, user_id, display_name, seen_at) VALUES (:g, :p, :name, :now) "
        "ON CONFLICT (guild_id, user_id) DO NOTHING",
        {**p, "now": now, "name": ANONYMISED_NAME},
    )
    await conn.execute(
        "INSERT INTO erasures (guild_id, pseudo_id, erased_at) VALUES (:g, :p, :now) ON CONFLICT DO NOTHING",
        {**p, "now": now},
    )
    return changed


async def purge_removed(conn: Connection, before: int, shards: Shards | None = None) -> list[int]:
    """Delete every server the bot was removed from before ``before`` (on ``shards`` only, when given), with
    everything it held."""
    rows = await (
        await conn.execute(
            "SELECT guild_id FROM guilds WHERE removed_at IS NOT NULL AND removed_at < :b"  # noqa: S608
            f"{on_shards(shards)}",
            {"b": before},
        )
    ).fetchall()
    ids = [int(r[0]) for r in rows]
    for guild_id in ids:
        await conn.execute("DELETE FROM guilds WHERE guild_id = :g", {"g": guild_id})
    return ids
