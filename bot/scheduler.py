"""Waking up for scheduled posts. The database is the truth about what is due; APScheduler only wakes us."""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from domain.clock import Clock, from_unix, to_unix
from domain.posts import Handler, PostBook

log = logging.getLogger(__name__)


class Scheduler:
    """In-memory jobs with stable ids; lateness is decided from the database, not by APScheduler."""

    def __init__(self) -> None:
        # misfire_grace_time=None: a job that fires late still runs (APScheduler's default drops it after 1 s).
        self._scheduler = AsyncIOScheduler(
            timezone="UTC", job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
        )

    def start(self) -> None:
        """Start waking jobs up on the running event loop."""
        self._scheduler.start()

    def pause(self) -> None:
        """Start no more jobs (those running go on)."""
        if self._scheduler.running:
            self._scheduler.pause()

    def shutdown(self) -> None:
        """Stop; pending jobs are forgotten (they live in the database)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def at(self, job_id: str, when: datetime, func: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run the coroutine function ``func(*args)`` at ``when`` (aware), replacing a job with the same id."""
        self._scheduler.add_job(
            functools.partial(func, *args), DateTrigger(run_date=when), id=job_id, replace_existing=True
        )

    def every(self, job_id: str, interval: timedelta, func: Callable[[], Awaitable[Any]]) -> None:
        """Run ``func`` every ``interval``."""
        self._scheduler.add_job(
            func, IntervalTrigger(seconds=interval.total_seconds()), id=job_id, replace_existing=True
        )

    def cancel(self, job_id: str) -> None:
        """Forget a job if it is still pending."""
        job = self._scheduler.get_job(job_id)
        if job is not None:
            job.remove()

    def pending(self) -> int:
        """How many jobs are waiting."""
        return len(self._scheduler.get_jobs())


class PostDispatcher:
    """Registers wake-ups for a window of upcoming posts from the database and runs each through its handler.

    Only the next ``window`` is held in memory (one job per distinct due second, registered in chunks that
    yield to the event loop) and refilled as it drains: 100,000 planned reminders cost nothing until near.
    """

    WINDOW = timedelta(hours=1)
    REFILL_EVERY = timedelta(minutes=5)
    RETRY_AFTER = timedelta(seconds=5)  # a post whose handler failed is tried again this soon
    CHUNK = 500

    def __init__(self, scheduler: Scheduler, book: PostBook, clock: Clock) -> None:
        self.scheduler = scheduler
        self.book = book
        self.clock = clock
        self.handlers: dict[str, Handler] = {}
        self.registered: set[int] = set()  # due times with a wake-up job
        # each wake-up its own job id: APScheduler skips a job whose id is still running, so a post planned for
        # the second being sent (by its handler, or a command meanwhile) would otherwise never wake anyone
        self._wakeups = itertools.count(1)
        self._refill_lock = asyncio.Lock()
        self._running: set[asyncio.Task[Any]] = set()
        self._stopping = False  # drain() cancelled the posts still being sent

    def handle(self, kind: str, handler: Handler) -> None:
        """Name the handler for one kind of post."""
        self.handlers[kind] = handler

    async def start(self) -> int:
        """Recover posts a dead process had claimed, register the window, and keep refilling it."""
        retried, given_up = await self.book.recover()
        if retried or given_up:
            log.warning(
                "after an unclean stop: %d posts will be retried once, %d given up", retried, given_up
            )
        count = await self.refill()
        self.scheduler.every("posts:refill", self.REFILL_EVERY, self.refill)
        return count

    async def refill(self) -> int:
        """Register one wake-up per distinct time at which pending posts fall due within the window.

        Posts due at the same second are claimed together in one statement when it comes.
        """
        async with self._refill_lock:
            until = to_unix(self.clock.now() + self.WINDOW)
            after, added = -1, 0
            while True:
                times = await self.book.due_times(until, after=after, limit=self.CHUNK)
                for due in times:
                    if due not in self.registered:
                        self.registered.add(due)
                        self.scheduler.at(
                            f"posts:{due}:{next(self._wakeups)}", from_unix(due), self._fire, due
                        )
                        added += 1
                if len(times) < self.CHUNK:
                    return added
                after = times[-1]
                await asyncio.sleep(0)  # let interactions through between chunks

    async def _fire(self, due: int) -> None:
        self.registered.discard(due)
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        failed: list[int] = []
        try:
            await self.book.run_due(due, self.handlers, failed=failed)
        except Exception:
            log.exception("scheduled posts due at %d could not be run", due)
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # drain() gave up waiting: the post stays claimed, and the next start sends what is missing
            log.info("scheduled posts due at %d stopped at shutdown", due)
        finally:
            if task is not None:
                self._running.discard(task)
        if failed:
            # another attempt soon, while Discord still remembers the nonces of the parts already out
            retry = self.clock.now() + self.RETRY_AFTER
            self.scheduler.at(f"posts:retry:{to_unix(retry)}", retry, self.refill)

    async def drain(self, grace: float) -> None:
        """At a clean stop: let posts being sent finish, for at most ``grace`` seconds.

        A post still going out after that is cancelled between two parts' requests and left claimed: the
        next start sends its remaining parts with the same nonces, so it is neither cut in half nor doubled.
        """
        running = list(self._running)
        if not running:
            return
        _, pending = await asyncio.wait(running, timeout=grace)
        if pending:
            log.warning(
                "%d scheduled posts still being sent at shutdown: the next start finishes them", len(pending)
            )
            self._stopping = True
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=5.0)
