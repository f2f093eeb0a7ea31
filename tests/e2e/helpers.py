"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Iterable
from pathlib import Path
from typing import Any

from storage.orgs import name_key
from tests import engines
from tests.e2e.fake_discord import FakeDiscord, FakeMember, FakeMessage
from tests.e2e.fake_discord.interaction import Interaction
from tests.e2e.fake_discord.models import FakeGuild
from tests.e2e.harness import BotProcess


def db_rows(where: BotProcess | Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows from the bot's database, read through a connection of our own (WAL: safe while it runs)."""
    path = where.db_path if isinstance(where, BotProcess) else where
    return engines.raw_rows(path, sql, params)


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


def labels(message: FakeMessage) -> list[str | None]:
    """The labels of a message's buttons, in order."""
    return [label for label, _, _ in message.buttons()]


def description_in(commands: list[dict[str, Any]], path: str, locale: str) -> str:
    """The description Discord shows a client in ``locale`` for ``/path`` (a command or a subcommand), from
    the synced commands."""
    top, *sub = path.split()
    node = next(c for c in commands if c["name"] == top)
    for name in sub:
        node = next(o for o in node.get("options", []) if o["name"] == name)
    return str((node.get("description_localizations") or {}).get(locale))


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


SEED_REGIONS = ("african", "asia_pacific", "eastern_european", "grulac", "weog")
SEED_COUNTRIES = {
    "african": "KE",
    "asia_pacific": "IN",
    "eastern_european": "PL",
    "grulac": "BR",
    "weog": "FR",
}
SEED_STAKEHOLDERS = (
    "civil_society",
    "academia",
    "technical",
    "private_sector",
    "government",
    "intergovernmental",
)


def org_name(n: int) -> str:
    """The name of the ``n``-th organisation seed_orgs writes."""
    return f"Organisation {n:03d}"


async def seed_orgs(path: Path, guild: FakeGuild, reps: Iterable[FakeMember], *, first: int = 0) -> None:
    """Verified organisations, one per representative (who is its voice), written into the bot's database
    before it starts (faster than 2 commands each): ``Organisation <n>`` from ``first`` on, over the five
    regions and six stakeholder groups in turn."""
    db = await engines.open_db(path)  # creates and migrates the database as the bot would
    await db.close()
    with engines.closing_raw(path) as raw:
        raw.execute("INSERT INTO guilds (guild_id, name, joined_at) VALUES (?, ?, 1700000000) ON CONFLICT DO NOTHING",
                    (guild.id, guild.name))  # fmt: skip
        for n, rep in enumerate(reps, start=first):
            region = SEED_REGIONS[n % 5]
            org_id = raw.rows(
                "INSERT INTO orgs (guild_id, name, name_key, acronym, country, region, stakeholder, state, created_by, "
                "created_at, verified_by, verified_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'verified', ?, 1700000000, ?, "
                "1700000000) RETURNING org_id",
                (guild.id, org_name(n), name_key(org_name(n)), f"O{n}", SEED_COUNTRIES[region], region,
                 SEED_STAKEHOLDERS[n % 6], rep.id, rep.id),
            )[0][0]  # fmt: skip
            rep_id = raw.rows(
                "INSERT INTO org_reps (org_id, guild_id, user_id, state, requested_at, decided_by, started_at) "
                "VALUES (?, ?, ?, 'active', 1700000000, ?, 1700000000) RETURNING rep_id",
                (org_id, guild.id, rep.id, rep.id),
            )[0][0]
            raw.execute("INSERT INTO org_voices (org_id, rep_id, started_at) VALUES (?, ?, 1700000000)",
                        (org_id, rep_id))  # fmt: skip
