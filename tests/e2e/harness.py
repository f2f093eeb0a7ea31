"""Running the real Caucus bot process against the fake Discord server."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

from tests import engines
from tests.e2e.fake_discord import FakeDiscord

ROOT = Path(__file__).resolve().parents[2]


def toml_value(value: Any) -> str:
    """A TOML literal for the simple values our config uses."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def write_config(path: Path, sections: dict[str, dict[str, Any]]) -> Path:
    """Write a config.toml from nested dicts."""
    lines: list[str] = []
    for section, keys in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in keys.items())
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


class BotProcess:
    """The bot as users run it: `python -m bot run --config PATH`, in its own process.

    Its stderr goes to ``log_path`` so a failing test can show what the bot logged.
    """

    def __init__(self, fake: FakeDiscord, folder: Path, **overrides: dict[str, Any]) -> None:
        self.fake = fake
        self.folder = folder
        self.db_path = folder / "caucus.db"
        self.log_path = folder / "bot.log"
        sections: dict[str, dict[str, Any]] = {
            "discord": {
                "token": fake.token,
                "api_base_url": fake.api_base_url,
                "gateway_url": fake.gateway_url,
                "guild_ready_timeout": 0.2,
            },
            "storage": {"path": str(self.db_path), "url": engines.url_for(self.db_path)},
            "logging": {"level": "INFO"},
        }
        for section, keys in overrides.items():
            sections.setdefault(section, {}).update(keys)
        self.config_path = write_config(folder / "config.toml", sections)
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self, *, wait_ready: bool = True, timeout: float = 20.0) -> None:
        """Start the process; by default wait until it told the gateway it is ready."""
        env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
        env["PYTHONUNBUFFERED"] = "1"
        log = self.log_path.open("ab")
        log.write(f"--- start {self.starts + 1} ---\n".encode())
        log.flush()
        ready_before = self.fake.gateway.ready_count if hasattr(self.fake.gateway, "ready_count") else None
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--config", str(self.config_path),
            cwd=str(ROOT), env=env, stdout=log, stderr=log, stdin=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        log.close()
        self.starts += 1
        if wait_ready:
            await self.wait_ready(timeout, ready_before)

    async def wait_ready(self, timeout: float, ready_before: int | None) -> None:
        async def ready() -> None:
            if ready_before is None:
                await self.fake.wait_ready(timeout)
                return
            while self.fake.gateway.ready_count <= ready_before:
                if self.process is not None and self.process.returncode is not None:
                    raise RuntimeError(f"bot exited with {self.process.returncode}:\n{self.log()}")
                await asyncio.sleep(0.02)

        try:
            await asyncio.wait_for(ready(), timeout)
        except TimeoutError:
            raise TimeoutError(f"bot not ready within {timeout}s:\n{self.log()}") from None

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Send a signal and wait for the exit code."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
                raise AssertionError(
                    f"bot did not stop within {timeout}s after {sig}:\n{self.log()}"
                ) from None
        code = self.process.returncode
        assert code is not None
        return code

    async def kill(self) -> None:
        """SIGKILL: no clean shutdown at all."""
        await self.stop(signal.SIGKILL)

    async def restart(self) -> None:
        """A clean stop and a start on the same database."""
        code = await self.stop()
        assert code == 0, self.log()
        await self.start()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
