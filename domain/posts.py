"""Scheduled posts: planned in the database, claimed before sending, marked after; never sent twice."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from domain.clock import Clock, to_unix
from storage import posts as post_rows
from storage.db import Database
from storage.posts import Post

__all__ = ["Post", "PostBook", "Handler", "SENT", "SKIPPED", "LATE_AFTER"]

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


class PostBook:
    """The database side of scheduling: what is due, claiming, finishing."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.started_at = to_unix(clock.now())

    async def recover(self) -> tuple[int, int]:
        """At start-up: posts claimed by a process that died go back to pending once.

        Posts due before this moment were due while the bot was down: they go out marked late.
        """
        self.started_at = to_unix(self.clock.now())
        async with self.db.transaction() as conn:
            return await post_rows.recover_claimed(conn, MAX_ATTEMPTS, to_unix(self.clock.now()))

    async def run_due(self, until: int, handlers: dict[str, Handler], *, batch: int = 200) -> int:
        """Claim every post due before ``until`` (a batch per transaction) and send them; returns how many ran.

        Each post is marked sent or skipped right after its handler, so a crash re-sends at most the one
        post it interrupted (and that one at most once).
        """
        ran = 0
        while True:
            now = to_unix(self.clock.now())
            async with self.db.transaction() as conn:
                posts = await post_rows.claim_due(
                    conn, until, now, self.started_at, int(LATE_AFTER.total_seconds()), batch
                )
            for post in posts:
                await self._send(post, handlers)
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
                async with self.db.transaction() as conn:
                    await post_rows.release(conn, post.post_id, MAX_ATTEMPTS, to_unix(self.clock.now()))
                return None
        async with self.db.transaction() as conn:
            await post_rows.finish(conn, post.post_id, result, to_unix(self.clock.now()))
        return result

    async def due_times(self, until: int, *, after: int = -1, limit: int = 1000) -> list[int]:
        """Distinct times at which pending posts fall due, up to ``until``."""
        return await post_rows.due_times(self.db, until, after=after, limit=limit)
