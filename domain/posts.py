"""Scheduled posts: planned in the database, claimed before sending, marked after; never sent twice."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from datetime import timedelta

from domain.clock import Clock, to_unix
from domain.shards import Shards
from storage import posts as post_rows
from storage.db import Database
from storage.posts import PartRow, Post

__all__ = ["Post", "PostBook", "PartRow", "Handler", "SENT", "SKIPPED", "LATE_AFTER"]

log = logging.getLogger(__name__)

SENT = "sent"
SKIPPED = "skipped"
# A post is late when its time passed while the bot was down (it was due before this process started
# dispatching), or when it goes out more than this after its time (the bot was busy).
LATE_AFTER = timedelta(seconds=60)
# A post claimed when the process died is sent again at most once.
MAX_ATTEMPTS = 2

#: A handler sends one post and says whether it was sent or skipped (no longer useful).
Handler = Callable[[Post], Awaitable[str]]


def _started(clock: Clock) -> int:
    """The start of dispatching in whole seconds, rounded up: a post due at 12:00:00 is due while the bot was
    down if it started at 12:00:00.4 (rounding down would call it on time)."""
    return math.ceil(clock.now().timestamp())


class PostBook:
    """The database side of scheduling: what is due, claiming, finishing — for the servers on ``shards``
    (those whose events this process receives; every server when it runs every shard)."""

    def __init__(self, db: Database, clock: Clock, shards: Shards | None = None) -> None:
        self.db = db
        self.clock = clock
        self.shards = shards or Shards()
        self.started_at = _started(clock)

    async def recover(self) -> tuple[int, int]:
        """At start-up: posts of this process's servers claimed by a process that died go back to pending once.

        Posts due before this moment were due while the bot was down: they go out marked late.
        """
        self.started_at = _started(self.clock)
        # no server named: it recovers the posts of every server on this process's shards
        async with self.db.transaction() as conn:
            return await post_rows.recover_claimed(conn, MAX_ATTEMPTS, to_unix(self.clock.now()), self.shards)

    async def run_due(
        self, until: int, handlers: dict[str, Handler], *, batch: int = 200, failed: list[int] | None = None
    ) -> int:
        """Claim every post due before ``until`` (a batch per transaction) and send them; returns how many ran.

        Each post is marked sent or skipped right after its handler, so a crash re-sends at most the one
        post it interrupted (and that one at most once, with the same parts and nonces). The ids of posts
        whose handler failed (released for another attempt or given up) are appended to ``failed``.
        """
        ran = 0
        while True:
            now = to_unix(self.clock.now())
            # no server named: one claim takes the due posts of every server on this process's shards
            async with self.db.transaction() as conn:
                posts = await post_rows.claim_due(
                    conn, until, now, self.started_at, int(LATE_AFTER.total_seconds()), batch, self.shards
                )
            for post in posts:
                if await self._send(post, handlers) is None and failed is not None:
                    failed.append(post.post_id)
                ran += 1
            if len(posts) < batch:
                return ran

    async def _send(self, post: Post, handlers: dict[str, Handler]) -> str | None:
        handler = handlers.get(post.kind)
        if handler is None:
            log.error("no handler for scheduled post kind %s (post %d)", post.kind, post.post_id)
            result = SKIPPED
        else:
            try:
                result = await handler(post)
            except Exception:
                # Not sent: back to pending for the next refill while attempts remain, else given up.
                log.exception(
                    "scheduled post %d (%s) failed on attempt %d", post.post_id, post.kind, post.attempts
                )
                async with self.db.transaction(guild_id=post.guild_id) as conn:
                    await post_rows.release(conn, post.post_id, MAX_ATTEMPTS, to_unix(self.clock.now()))
                return None
        async with self.db.transaction(guild_id=post.guild_id) as conn:
            await post_rows.finish(conn, post.post_id, result, to_unix(self.clock.now()))
        return result

    # -- the parts of a post ---------------------------------------------------------------------
    # A post too big for one message goes out as several parts. They are decided once, at the first attempt,
    # and each is recorded when it is out: a later attempt (after a failure, a crash or a stop) sends the
    # same parts with the same nonces and skips those already out, so no part goes out twice and none is lost.

    async def parts(self, post_id: int) -> list[PartRow]:
        """The parts decided for a post, in sending order; empty before its first attempt."""
        return await post_rows.parts_of(self.db, post_id)

    async def decide_parts(
        self, post_id: int, parts: list[tuple[int, bool, int, str]], *, guild_id: int | None = None
    ) -> list[PartRow]:
        """Keep a post's parts, (target, direct, part number, payload) in sending order; the first decision
        wins (a concurrent or earlier attempt's parts are returned instead). ``guild_id``: the post's server
        (its transaction then waits only for that server's, not for every write)."""
        async with self.db.transaction(guild_id=guild_id) as conn:
            return await post_rows.add_parts(conn, post_id, parts)

    async def part_sent(
        self, post_id: int, seq: int, message_id: int, *, guild_id: int | None = None
    ) -> None:
        """Record that one part is out (message_id 0: given up for good, e.g. a DM to closed DMs); ``guild_id``
        as for ``decide_parts``."""
        async with self.db.transaction(guild_id=guild_id) as conn:
            await post_rows.part_sent(conn, post_id, seq, message_id)

    async def due_times(self, until: int, *, after: int = -1, limit: int = 1000) -> list[int]:
        """Distinct times at which pending posts of this process's servers fall due, up to ``until``."""
        return await post_rows.due_times(self.db, until, after=after, limit=limit, shards=self.shards)
