"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Iterable
from pathlib import Path
from typing import Any

from tests.e2e.fake_discord import FakeDiscord, FakeMember, FakeMessage
from tests.e2e.fake_discord.interaction import Interaction
from tests.e2e.harness import BotProcess


def db_rows(where: BotProcess | Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows from the bot's database, read through a connection of our own (WAL: safe while it runs)."""
    path = where.db_path if isinstance(where, BotProcess) else where
    raw = sqlite3.connect(path, timeout=30)
    try:
        return raw.execute(sql, params).fetchall()
    finally:
        raw.close()


async def refused(itx: Interaction, *fragments: str) -> str:
    """Assert the member got a clear ephemeral refusal containing every fragment; returns its text."""
    await itx.response()
    if itx.type == 5:  # deferred first: the refusal is the follow-up
        await itx.final()
    assert itx.ephemeral, itx.text
    for fragment in fragments:
        assert fragment in itx.text, itx.text
    assert "Something went wrong" not in itx.text
    return itx.text


def button(message: FakeMessage, label: str) -> str:
    """The custom_id of the button with this label."""
    return next(cid for text, cid, _ in message.buttons() if text == label)


async def in_batches(calls: Iterable[Awaitable[Interaction]], size: int = 50) -> list[Interaction]:
    """Send interactions in bursts and wait for every answer."""
    done: list[Interaction] = []
    pending = list(calls)
    for start in range(0, len(pending), size):
        sent = await asyncio.gather(*pending[start : start + size])
        await asyncio.gather(*(itx.response(timeout=10) for itx in sent))
        done += sent
    return done


async def every_page(fake: FakeDiscord, message: FakeMessage, member: FakeMember) -> list[str]:
    """The text of every page of an ephemeral answer, clicking Next until it is disabled."""
    texts = [message.text]
    while True:
        found = [(cid, disabled) for label, cid, disabled in message.buttons() if label == "Next"]
        if not found or found[0][1]:
            return texts
        click = await fake.click(message, found[0][0], member)
        await click.response()
        assert click.type == 7, click.text
        texts.append(message.text)


def pinged(messages: Iterable[FakeMessage]) -> Counter[int | str]:
    """How many times each user or role was pinged over these messages."""
    count: Counter[int | str] = Counter()
    for message in messages:
        count.update(message.pings())
    return count
