"""Coalesced message edits: many changes in a burst become a few edits showing the latest state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from cogs.ui.boundary import NO_PINGS

log = logging.getLogger(__name__)

#: How long a clean stop waits for coalesced edits still pending.
DRAIN_GRACE = 2.0

Render = Callable[[], Awaitable[dict[str, Any]]]


class MessageUpdater:
    """Edits a message at most once per ``interval``, always rendering the state at edit time.

    A burst of 200 clicks becomes a handful of edits, the last of which shows the true final state,
    and the bot stays within Discord's per-channel edit rate limit.
    """

    def __init__(
        self,
        client: discord.Client,
        interval: float = 1.0,
        on_gone: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self.client = client
        self.interval = interval
        self.on_gone = on_gone  # told the id of a message that no longer exists
        self.edits = 0
        self._pending: dict[int, tuple[int, Render]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._hurry = asyncio.Event()

    def request(self, channel_id: int, message_id: int, render: Render) -> None:
        """Ask for the message to show the current state soon."""
        self._pending[message_id] = (channel_id, render)
        if message_id not in self._tasks:
            self._tasks[message_id] = asyncio.create_task(self._run(message_id))

    async def _pause(self) -> None:
        """Wait one interval, or less once a flush has asked to hurry."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._hurry.wait(), timeout=self.interval)

    async def _run(self, message_id: int) -> None:
        try:
            while message_id in self._pending:
                await self._pause()  # let the burst gather, and keep to the edit rate
                entry = self._pending.pop(message_id, None)
                if entry is None:
                    return
                channel_id, render = entry
                try:
                    kwargs = await render()
                    message = self.client.get_partial_messageable(channel_id).get_partial_message(message_id)
                    await message.edit(allowed_mentions=NO_PINGS, **kwargs)
                    self.edits += 1
                except discord.NotFound:
                    log.info("message %d is gone; not updating it", message_id)
                    if self.on_gone is not None:
                        await self.on_gone(message_id)
                    return
                except Exception:
                    log.exception("could not update message %d", message_id)
        finally:
            self._tasks.pop(message_id, None)

    async def drain(self) -> None:
        """At shutdown: let pending updates go out (for at most DRAIN_GRACE), so messages show the final state."""
        try:
            await asyncio.wait_for(self.flush(), timeout=DRAIN_GRACE)
        except TimeoutError:
            log.warning("message updates still pending at shutdown; they show after the next change")

    async def flush(self) -> None:
        """Send every pending update now (at shutdown, and in benchmarks)."""
        self._hurry.set()
        try:
            while self._tasks:
                await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
        finally:
            self._hurry.clear()
