"""Members' data rights: see what the bot holds about you, be anonymised; servers purged after removal.

Anonymising replaces the member's id by a pseudonym derived with the bot's key (kept next to the
database, not in it): their positions and ballots still count, their name and authorship are gone,
and what they do afterwards is stored under the same pseudonym (``domain.members`` builds every Actor
with it), so nothing is ever counted twice. Anonymising again is always possible: it removes what they
joined since (groups, reminder lists) and brings anything still under their Discord id to the pseudonym.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from domain.clock import Clock, to_unix
from domain.i18n import t
from domain.permissions import Actor
from domain.polls import ballot_key
from domain.shards import Shards
from storage import privacy as privacy_rows
from storage.db import Connection, Database

PSEUDONYM_BITS = 56


def pseudonym(secret: bytes, guild_id: int, user_id: int) -> int:
    """The negative id a member is stored under once anonymised (the same for the bot, unknowable without the key)."""
    digest = hmac.new(secret, f"erased:{guild_id}:{user_id}".encode(), hashlib.sha256).digest()
    return -(int.from_bytes(digest[:7], "big") + 1)


class Identities:
    """Which id a member's positions and ballots are stored under: their own, or their pseudonym if anonymised."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        # Pseudonyms of anonymised members, per server, loaded once: a click must not pay a query for a
        # rare case. This process is the only writer of erasures and updates the cache as it writes.
        self._erased: dict[int, set[int]] = {}

    def pseudonym(self, guild_id: int, user_id: int) -> int:
        """The member's pseudonym in this server."""
        return pseudonym(self._secret, guild_id, user_id)

    async def _erased_in(self, conn: Connection | Database, guild_id: int) -> set[int]:
        if guild_id not in self._erased:
            self._erased[guild_id] = set(await privacy_rows.erased_in(conn, guild_id))
        return self._erased[guild_id]

    async def storage_id(self, conn: Connection | Database, guild_id: int, user_id: int) -> int:
        """The id the record keeps for a member: their pseudonym once anonymised, else their Discord id."""
        erased = await self._erased_in(conn, guild_id)
        if not erased:  # most servers have erased nobody: a click pays no HMAC
            return user_id
        alias = self.pseudonym(guild_id, user_id)
        return alias if alias in erased else user_id

    async def reveal(
        self, conn: Connection | Database, guild_id: int, present: Iterable[int]
    ) -> dict[int, int]:
        """Pseudonym -> Discord id for the anonymised members among ``present`` (Discord ids of current members)."""
        erased = await self._erased_in(conn, guild_id)
        if not erased:
            return {}
        return {
            alias: user_id for user_id in present if (alias := self.pseudonym(guild_id, user_id)) in erased
        }

    def ballot_keys(
        self, poll_ids: Iterable[int], user_id: int, alias: int
    ) -> list[tuple[int, bytes, bytes]]:
        """(poll id, anonymous ballot key of the Discord id, key of the pseudonym) for each poll."""
        return [
            (poll_id, ballot_key(self._secret, poll_id, user_id), ballot_key(self._secret, poll_id, alias))
            for poll_id in poll_ids
        ]

    def forget_cache(self, guild_id: int) -> None:
        """Drop a server's cached erasures (after an anonymisation or a purge)."""
        self._erased.pop(guild_id, None)


@dataclass(frozen=True)
class Erasure:
    records_changed: int


class Privacy:
    """/privacy export and delete."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        identities: Identities,
        forget: Sequence[Callable[[int], None]] = (),
    ) -> None:
        self.db = db
        self.clock = clock
        self.identities = identities
        # what else caches members of a server and must forget it after an erasure or a purge
        self._forget = (identities.forget_cache, *forget)

    def _forget_server(self, guild_id: int) -> None:
        for forget in self._forget:
            forget(guild_id)

    async def export(self, actor: Actor, extra: dict[str, Any] | None = None, *, lang: str = "en") -> bytes:
        """A JSON document of everything this server's record holds about the actor (under their pseudonym
        too); its one sentence in ``lang``, its keys and values as stored."""
        discord_id = actor.on_discord
        stored_as = await self.identities.storage_id(self.db, actor.guild_id, discord_id)
        records = await privacy_rows.rows_about(self.db, actor.guild_id, stored_as)
        document = {
            "about": t("What the Caucus bot holds about you in this Discord server.").render(lang),
            "server_id": str(actor.guild_id),
            "user_id": str(discord_id),
            "anonymised": stored_as != discord_id,
            "exported_at": self.clock.now().isoformat(timespec="seconds"),
            **records,
            **(extra or {}),
        }
        return (json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n").encode("utf-8")

    async def purge_removed_servers(self, after: timedelta, shards: Shards | None = None) -> list[int]:
        """Delete the data of servers removed longer than ``after`` ago (those on ``shards``, when given: this
        process's), and forget what was cached about them."""
        purged = await purge_removed_servers(self.db, self.clock, after, shards)
        for guild_id in purged:
            self._forget_server(guild_id)
        return purged

    async def erase(self, actor: Actor) -> Erasure:
        """Anonymise the actor in this server, in one transaction; again at any time, and it succeeds."""
        discord_id = actor.on_discord
        alias = self.identities.pseudonym(actor.guild_id, discord_id)
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            # their ballots in anonymous polls still open follow them to the pseudonym, so a vote after
            # this changes that ballot instead of adding a second one
            polls = await privacy_rows.open_anonymous_polls(conn, actor.guild_id)
            changed = await privacy_rows.anonymise(
                conn, actor.guild_id, discord_id, alias, to_unix(self.clock.now()),
                self.identities.ballot_keys(polls, discord_id, alias),
            )  # fmt: skip
        self._forget_server(actor.guild_id)
        return Erasure(changed)


async def purge_removed_servers(
    db: Database, clock: Clock, after: timedelta, shards: Shards | None = None
) -> list[int]:
    """Delete the data of servers the bot was removed from longer than ``after`` ago (not those it came back
    to; only those on ``shards``, when given)."""
    # no server named: one purge deletes the data of every server removed long enough ago
    async with db.transaction() as conn:
        return await privacy_rows.purge_removed(conn, to_unix(clock.now() - after), shards)
