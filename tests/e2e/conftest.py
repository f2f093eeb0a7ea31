"""Fixtures for end-to-end tests: a fake Discord with one coalition server, and the real bot process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_discord.models import FakeChannel, FakeGuild, FakeMember, FakeRole
from tests.e2e.harness import BotProcess

MANAGE_GUILD = 0x20


async def eventually(predicate: Callable[[], object], timeout: float = 5.0, what: str = "condition") -> None:
    """Wait until ``predicate()`` is truthy (for effects the bot makes after it answered)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s")
        await asyncio.sleep(0.02)


@dataclass
class Coalition:
    """One server as a coalition sets it up: a Coordinator role, a coordinator and three members."""

    guild: FakeGuild
    general: FakeChannel
    coordinator_role: FakeRole
    coco: FakeMember  # coordinator (by role)
    alice: FakeMember
    bob: FakeMember
    carol: FakeMember


def make_coalition(
    fake: FakeDiscord, name: str = "Coalition", *, shard: tuple[int, int] | None = None
) -> Coalition:
    """``shard=(id, count)``: a server whose events go to that shard."""
    guild = fake.add_guild(name, shard=shard)
    role = fake.add_role(guild, "Coordinator")
    return Coalition(
        guild=guild,
        general=guild.default_channel,
        coordinator_role=role,
        coco=fake.add_member(guild, "coco", roles=[role]),
        alice=fake.add_member(guild, "alice"),
        bob=fake.add_member(guild, "bob"),
        carol=fake.add_member(guild, "carol"),
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord(token="fake-bot-token-for-tests")
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def coalition(fake: FakeDiscord) -> Coalition:
    return make_coalition(fake)


@pytest.fixture
async def bot(fake: FakeDiscord, coalition: Coalition, tmp_path: Path) -> AsyncIterator[BotProcess]:
    process = BotProcess(fake, tmp_path)
    await process.start()
    yield process
    if process.process is not None and process.process.returncode is None:
        await process.stop()
    assert "Traceback" not in process.log(), process.log()
    assert fake.unhandled == [], fake.unhandled
