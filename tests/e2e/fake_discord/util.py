"""Small helpers: snowflakes, timestamps and JSON responses."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from aiohttp import web

DISCORD_EPOCH_MS = 1420070400000


class SnowflakeGenerator:
    """Unique, strictly increasing snowflakes derived from the current time."""

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> int:
        now_ms = int(time.time() * 1000)
        candidate = (now_ms - DISCORD_EPOCH_MS) << 22
        if candidate <= self._last:
            candidate = self._last + 1
        self._last = candidate
        return candidate

    def on_shard(self, shard_id: int, shard_count: int) -> int:
        """The next snowflake whose guild events go to shard ``shard_id`` of ``shard_count`` (Discord's
        ``(id >> 22) % shard_count``): its time moves on by at most ``shard_count - 1`` milliseconds."""
        moment = self() >> 22
        moment += (shard_id - moment) % shard_count
        candidate = max(moment << 22, self._last + 1)
        self._last = candidate
        return candidate


def snowflake_time(snowflake: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=dt.UTC)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response whose Content-Type is exactly ``application/json`` (discord.py insists)."""
    all_headers = {"Content-Type": "application/json"}
    if headers:
        all_headers.update(headers)
    return web.Response(status=status, body=json.dumps(data).encode(), headers=all_headers)


def no_content() -> web.Response:
    return web.Response(status=204)


def as_id(value: Any) -> int:
    """Accept a model object with ``.id``, an int or a numeric string."""
    if hasattr(value, "id"):
        return int(value.id)
    return int(value)
