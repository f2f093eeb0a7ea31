"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.e2e.fake_discord import FakeMessage
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
