"""APScheduler wrapper. The database is the truth about what is due; APScheduler only wakes us up."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

log = logging.getLogger(__name__)


class Scheduler:
    """In-memory date jobs with stable ids; lateness is decided by the caller from the database."""

    def __init__(self) -> None:
        # misfire_grace_time=None: a job that fires late still runs (APScheduler's default drops it after 1 s).
        self._scheduler = AsyncIOScheduler(
            timezone="UTC", job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
        )

    def start(self) -> None:
        """Start waking jobs up on the running event loop."""
        self._scheduler.start()

    def shutdown(self) -> None:
        """Stop; pending jobs are forgotten (they live in the database)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def at(self, job_id: str, when: datetime, func: Callable[[], Awaitable[None]]) -> None:
        """Run ``func`` at ``when`` (aware), replacing any job with the same id."""
        self._scheduler.add_job(func, DateTrigger(run_date=when), id=job_id, replace_existing=True)

    def cancel(self, job_id: str) -> None:
        """Forget a job if it is still pending."""
        job = self._scheduler.get_job(job_id)
        if job is not None:
            job.remove()

    def pending(self) -> int:
        """How many jobs are waiting."""
        return len(self._scheduler.get_jobs())
