"""The bot process starts, registers its commands, answers /about, stops on SIGTERM and starts again."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests import engines
from tests.e2e.conftest import Coalition
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.harness import ROOT, BotProcess


async def test_about_and_clean_restart(fake: FakeDiscord, coalition: Coalition, bot: BotProcess) -> None:
    names = {c["name"] for c in fake.commands()}
    assert {"about", "wg"} <= names
    assert sum(fake.sync_counts.values()) == 1

    itx = await fake.slash(coalition.guild, coalition.alice, "about")
    await itx.response()
    assert itx.ephemeral
    assert itx.ack_latency is not None and itx.ack_latency < 3
    text = itx.text
    assert "Caucus 0.1.0" in text
    assert "Uptime" in text
    assert str(bot.db_path) in text
    assert "0 working groups" in text
    assert "5 members seen" in text  # the owner, the coordinator and three members; not bots

    code = await bot.stop(signal.SIGTERM, timeout=5)
    assert code == 0
    assert "stopped cleanly" in bot.log()

    await bot.start()
    # the command tree did not change: no second sync
    assert sum(fake.sync_counts.values()) == 1
    itx = await fake.slash(coalition.guild, coalition.bob, "about")
    await itx.response()
    assert "5 members seen" in itx.text
    assert engines.raw_rows(bot.db_path, "SELECT count(*) FROM guilds") == [(1,)]


async def test_sigint_also_stops_cleanly(fake: FakeDiscord, coalition: Coalition, bot: BotProcess) -> None:
    assert await bot.stop(signal.SIGINT, timeout=5) == 0


async def test_guild_ids_sync_to_those_servers(
    fake: FakeDiscord, coalition: Coalition, tmp_path: Path
) -> None:
    process = BotProcess(fake, tmp_path, discord={"guild_ids": [coalition.guild.id]})
    await process.start()
    try:
        assert {c["name"] for c in fake.commands(coalition.guild)} >= {"about", "wg"}
        assert fake.sync_counts[coalition.guild.id] == 1
        itx = await fake.slash(coalition.guild, coalition.alice, "about")
        await itx.response()
        assert "Caucus" in itx.text
    finally:
        assert await process.stop() == 0


async def test_gateway_found_through_the_api(fake: FakeDiscord, coalition: Coalition, tmp_path: Path) -> None:
    """With api_base_url set and gateway_url empty, the bot asks the API's /gateway/bot where to connect."""
    process = BotProcess(fake, tmp_path, discord={"gateway_url": ""})
    await process.start()
    try:
        itx = await fake.slash(coalition.guild, coalition.alice, "about")
        await itx.response()
        assert any(r.path.endswith("/gateway/bot") for r in fake.requests)
    finally:
        assert await process.stop() == 0


def _run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=30,
        env={**base, **(env or {})}, cwd=str(cwd or ROOT),
    )  # fmt: skip


def test_run_without_token_fails_clearly(tmp_path: Path) -> None:
    result = _run_cli("run", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "caucus: [discord] token is missing: set DISCORD_TOKEN or token in the config "
        "(Developer Portal > Bot > Token)"
    ]
    assert "Traceback" not in result.stderr


def test_run_with_broken_config_lists_every_problem(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[discord]\nguild_ids = ["x"]\n[schedule]\ntimezone = "Mars/Base"\n', encoding="utf-8")
    result = _run_cli("run", "--config", str(config), env={"DISCORD_TOKEN": "t.t.t"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("caucus: [discord] guild_ids") and lines[1].startswith(
        "caucus: [schedule] timezone"
    )
    missing = _run_cli("run", "--config", str(tmp_path / "nope.toml"), env={"DISCORD_TOKEN": "t.t.t"})
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_unusable_database_path_fails_clearly(tmp_path: Path) -> None:
    """A database that cannot be opened stops the bot with one line, before it connects anywhere."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    config = tmp_path / "c.toml"
    # an API address nobody listens on: the bot must stop before it tries to connect at all
    config.write_text(f'[discord]\napi_base_url = "http://127.0.0.1:9/api/v10"\n[storage]\npath = "{blocker}/caucus.db"\n',
                      encoding="utf-8")  # fmt: skip
    result = _run_cli("run", "--config", str(config), env={"DISCORD_TOKEN": "t.t.t"})
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "cannot open the database" in result.stderr and "[storage] path" in result.stderr
    assert "cannot reach Discord" not in result.stderr


def test_check_config(tmp_path: Path) -> None:
    ok = _run_cli(
        "check-config", "--config", str(ROOT / "config.example.toml"), env={"DISCORD_TOKEN": "t.t.t"}
    )
    assert ok.returncode == 0, ok.stderr
    assert "config OK" in ok.stdout
    bad = _run_cli("check-config", "--config", str(ROOT / "config.example.toml"))
    assert bad.returncode == 2 and "[discord] token" in bad.stderr


def test_wrong_token_is_reported_without_traceback(tmp_path: Path) -> None:
    """A rejected token stops the bot with one line (exercised against the fake server in a subprocess)."""
    import asyncio

    async def scenario() -> subprocess.CompletedProcess[str]:
        fake = FakeDiscord(token="the-right-token")
        await fake.start()
        try:
            process = BotProcess(fake, tmp_path, discord={"token": "a-wrong-token"})
            await process.start(wait_ready=False)
            assert process.process is not None
            code = await asyncio.wait_for(process.process.wait(), 15)
            return subprocess.CompletedProcess([], code, "", process.log())
        finally:
            await fake.close()

    result = asyncio.run(scenario())
    assert result.returncode == 1
    assert "Discord rejected the token" in result.stderr
    assert "the-right-token" not in result.stderr and "a-wrong-token" not in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.sqlite_only  # `caucus backup` copies the SQLite file (PostgreSQL has pg_dump)
async def test_backup_while_bot_runs(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess, tmp_path: Path
) -> None:
    for name in ("Principles", "Roadmap"):
        itx = await fake.slash(coalition.guild, coalition.coco, "wg create", name=name)
        await itx.response()
    dest = tmp_path / "copy" / "backup.db"
    result = _run_cli("backup", str(dest), "--config", str(bot.config_path))
    assert result.returncode == 0, result.stderr
    key_copy = dest.with_name("backup.db.key")
    assert key_copy.read_bytes() == Path(str(bot.db_path) + ".key").read_bytes()
    assert oct(key_copy.stat().st_mode & 0o777) == "0o600"
    raw = sqlite3.connect(dest)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert sorted(r[0] for r in raw.execute("SELECT name FROM groups")) == ["Principles", "Roadmap"]
    finally:
        raw.close()
