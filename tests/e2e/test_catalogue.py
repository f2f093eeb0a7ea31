"""The bad-input catalogue: every slash command and option the bot registers, and every button template,
fed empty, over-long, wrong-typed, other-server and forged values. Each must get a clear ephemeral answer
within Discord's 3 s, never "Something went wrong", and change nothing. A command added later is covered
without touching this file."""

from __future__ import annotations

import importlib
import pkgutil
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import discord

import cogs
from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.harness import BotProcess

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = range(3, 12)
REFERENCES = {"group", "item", "poll", "session", "org"}  # options naming this server's things
SKIP_TABLES = {"bot_state", "sqlite_sequence"}


def leaves(commands: list[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(path, options) of every invocable command."""
    for top in commands:
        subs = [o for o in top.get("options", []) if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]
        if not subs:
            yield top["name"], top.get("options", [])
        for sub in subs:
            if sub["type"] == SUB_COMMAND:
                yield f"{top['name']} {sub['name']}", sub.get("options", [])
            else:
                for leaf in sub.get("options", []):
                    yield f"{top['name']} {sub['name']} {leaf['name']}", leaf.get("options", [])


def placeholder(option: dict[str, Any], c: Coalition) -> Any:
    if option.get("choices"):
        return option["choices"][0]["value"]
    kind = option["type"]
    if kind == STRING:
        return "x"
    if kind in (INTEGER, NUMBER):
        return option.get("min_value", 1)
    return {BOOLEAN: False, USER: c.alice, MENTIONABLE: c.alice, CHANNEL: c.general, ROLE: c.coordinator_role,
            ATTACHMENT: ("x.txt", b"x")}[kind]  # fmt: skip


def snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    raw = sqlite3.connect(db)
    try:
        tables = [r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        state = {}
        for table in tables:
            if table in SKIP_TABLES:
                continue
            columns = [r[1] for r in raw.execute(f"PRAGMA table_info({table})") if r[1] != "seen_at"]
            state[table] = raw.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1, 2").fetchall()
        return state
    finally:
        raw.close()


async def answer_text(itx: Any) -> str:
    await itx.response(timeout=3.0)  # acknowledged in time, or this raises InteractionFailed
    if itx.type == 8:  # autocomplete never happens here
        return ""
    message = await itx.final(timeout=10)
    if itx.followups:
        message = itx.followups[-1]
    return message.text


def dynamic_templates() -> list[str]:
    for module in pkgutil.walk_packages(cogs.__path__, "cogs."):
        importlib.import_module(module.name)
    found, stack = [], list(discord.ui.DynamicItem.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("cogs."):
            found.append(cls.__discord_ui_compiled_template__.pattern)  # type: ignore[attr-defined]
    return found


def forge(pattern: str, number: int) -> list[str]:
    """custom_ids matching a template, with every id replaced by ``number`` and each alternative tried."""
    groups = re.findall(r"\(\?P<(\w+)>([^)]*)\)", pattern)
    variants = [pattern]
    for _, body in groups:
        choices = body.split("|") if re.fullmatch(r"[a-z_|]+", body) else [str(number)]
        variants = [v.replace(f"(?P<{_}>{body})", choice, 1) for v in variants for choice in choices]
    return [v.replace("\\", "") for v in variants]


async def test_every_command_and_button_refuses_bad_input(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    other = make_coalition(fake, "Other coalition")
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    try:
        # the other server has one of everything, so its names and numbers can be tried here
        await (await fake.slash(other.guild, other.coco, "wg create", name="Theirs")).response()
        await (
            await fake.slash(other.guild, other.coco, "consensus propose", kind="point", text="Theirs")
        ).response()
        await (
            await fake.slash(
                other.guild, other.coco, "poll create", options={"question": "Theirs?", "options": "a; b"}
            )
        ).response()
        await (
            await fake.slash(other.guild, other.coco, "agenda add", title="Theirs", start="2030-01-01 10:00")
        ).response()
        await (
            await fake.slash(other.guild, other.coco, "org register", name="Theirs", country="FR", region="weog",
                             stakeholder="civil_society")
        ).response()  # fmt: skip
        await (await fake.slash(other.guild, other.coco, "org verify", org="Theirs")).response()
        # ids 1 now belong to the other server; this server has a group card to click on
        await (await fake.slash(c.guild, c.coco, "wg create", name="Ours")).response()
        card = fake.messages(c.general)[-1]
        # the cards are noted just after they are posted: let that settle before taking the snapshot
        await eventually(lambda: len(snapshot(bot.db_path)["group_cards"]) == 2, what="cards noted")

        schema = fake.commands()
        paths = list(leaves(schema))
        assert len(paths) >= 30, [p for p, _ in paths]
        tried = 0
        before = snapshot(bot.db_path)
        for path, options in paths:
            for option in options:
                if option["type"] not in (STRING, INTEGER):
                    continue
                # over-long is wrong for every text; empty (or only control characters) for required ones
                bad_values: list[Any] = ["x" * 6001] if option["type"] == STRING else [-(2**53), 2**53]
                if option["type"] == STRING and option.get("required"):
                    bad_values += ["", "\u0000\u202e"]
                if option["name"] in REFERENCES:
                    bad_values += ["Theirs", "#1", "1", "9" * 30, "#" + "9" * 30]
                for bad in bad_values:
                    values = {o["name"]: placeholder(o, c) for o in options if o.get("required")}
                    values[option["name"]] = bad
                    itx = await fake.slash(c.guild, c.coco, path, client_checks=False, options=values)
                    text = await answer_text(itx)
                    where = f"/{path} {option['name']}={str(bad)[:20]!r}"
                    assert "Something went wrong" not in text, f"{where}: {text}"
                    assert text.strip(), f"{where}: empty answer"
                    after = snapshot(bot.db_path)
                    assert after == before, f"{where} changed the database: {text}"
                    assert itx.ephemeral or (itx.followups and itx.followups[-1].ephemeral), (
                        f"{where}: public {text}"
                    )
                    tried += 1
        for pattern in dynamic_templates():
            for forged in forge(pattern, 424242424242) + forge(pattern, 1):
                itx = await fake.click(card, forged, c.alice, check=False, inject=True)
                text = await answer_text(itx)
                assert "Something went wrong" not in text, f"{forged}: {text}"
                assert snapshot(bot.db_path) == before, f"{forged} changed the database"
                tried += 1
        print(f"\nbad-input catalogue: {len(paths)} commands, {tried} refusals checked")
        assert "Traceback" not in bot.log()
    finally:
        assert await bot.stop() == 0
