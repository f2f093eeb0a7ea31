"""Servers and members as the bot sees them, and what it holds for each server."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from domain.clock import Clock, to_unix
from domain.i18n import Text, tn
from domain.text import strip_controls
from storage import agenda as agenda_rows
from storage import servers as server_rows
from storage.db import Database

# What /about counts, in the order it shows them: (table, how a count of it reads). Features add theirs as they land.
HELD: tuple[tuple[str, Callable[[int], Text]], ...] = (
    ("groups", lambda n: tn("{n} working group", "{n} working groups", n)),
    ("items", lambda n: tn("{n} point or question", "{n} points and questions", n)),
    ("polls", lambda n: tn("{n} poll", "{n} polls", n)),
    ("sessions", lambda n: tn("{n} agenda session", "{n} agenda sessions", n)),
    ("orgs", lambda n: tn("{n} organisation", "{n} organisations", n)),
    ("statements", lambda n: tn("{n} statement", "{n} statements", n)),
    ("statement_signatures", lambda n: tn("{n} signature of a statement", "{n} signatures of statements", n)),
    ("members", lambda n: tn("{n} member seen", "{n} members seen", n)),
    ("erasures", lambda n: tn("{n} anonymised member", "{n} anonymised members", n)),
    ("record_entries", lambda n: tn("{n} decision record entry", "{n} decision record entries", n)),
)


@dataclass(frozen=True)
class ServerHoldings:
    guild_id: int
    counts: tuple[tuple[Text, int], ...]  # (the count as it reads, e.g. "3 working groups"; the count)
    schema_version: int


async def server_joined(
    db: Database, clock: Clock, guild_id: int, name: str, members: Iterable[tuple[int, str]]
) -> None:
    """Record that the bot is in a server, with its current members, in one transaction."""
    now = to_unix(clock.now())
    async with db.transaction(guild_id=guild_id) as conn:
        await server_rows.upsert_guild(conn, guild_id, strip_controls(name), now)
        await server_rows.upsert_members(conn, guild_id, [(m, strip_controls(n)) for m, n in members], now)


async def server_left(db: Database, clock: Clock, guild_id: int) -> None:
    """Record that the bot was removed from a server."""
    async with db.transaction(guild_id=guild_id) as conn:
        await server_rows.mark_guild_removed(conn, guild_id, to_unix(clock.now()))


async def member_seen(db: Database, clock: Clock, guild_id: int, user_id: int, display_name: str) -> None:
    """Record a member joining or being renamed (``user_id`` is the record's id: for a pseudonym no name
    is written)."""
    now = to_unix(clock.now())
    async with db.transaction(guild_id=guild_id) as conn:
        await server_rows.ensure_guild(conn, guild_id, now)
        await server_rows.upsert_members(conn, guild_id, [(user_id, strip_controls(display_name))], now)


async def member_left(db: Database, clock: Clock, guild_id: int, user_id: int) -> None:
    """Record that a member left: their record stays, they no longer count as present, and they leave the
    server's reminder lists (no more direct messages about its sessions)."""
    async with db.transaction(guild_id=guild_id) as conn:
        await server_rows.ensure_guild(conn, guild_id, to_unix(clock.now()))
        await server_rows.mark_member_left(conn, guild_id, user_id, to_unix(clock.now()))
        await agenda_rows.unsubscribe_everywhere(conn, guild_id, user_id)


async def holdings(db: Database, guild_id: int) -> ServerHoldings:
    """What the bot holds for one server, counted per kind."""
    counts = await server_rows.count_rows(db, guild_id, [table for table, _ in HELD])
    return ServerHoldings(
        guild_id=guild_id,
        counts=tuple((reads(counts[table]), counts[table]) for table, reads in HELD),
        schema_version=await db.user_version(),
    )
