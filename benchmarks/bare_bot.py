"""The baseline: a bare discord.py bot that answers a button click and does nothing else.

Two buttons: ``bench:say`` answers with an ephemeral message, as Caucus answers a vote or a position (the
figure Caucus is compared with), and ``bench:ack`` only defers (the protocol's floor, a second line).

Run as ``python -m benchmarks.bare_bot API_BASE_URL GATEWAY_URL TOKEN`` (the benchmark starts it as a
subprocess, like the real bot, so both pay the same process and loopback costs). It uses the same
intents, ready timeout and message cache as Caucus, and a ``DynamicItem`` button as Caucus's buttons do.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import discord
import yarl
from discord.ext import commands

CUSTOM_ID = "bench:say:v1:1"  # answers with an ephemeral message, like Caucus
DEFER_ID = "bench:ack:v1:1"  # only defers


class AckButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"bench:(?P<how>ack|say):v1:(?P<n>\d+)"
):
    def __init__(self, how: str, n: int) -> None:
        super().__init__(discord.ui.Button(label="Ack", custom_id=f"bench:{how}:v1:{n}"))
        self.how = how
        self.n = n

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AckButton:
        return cls(match["how"], int(match["n"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        if self.how == "ack":
            await interaction.response.defer()
            return
        await interaction.response.send_message(
            f"Recorded: agree on Point #{self.n}.",
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )


class BareBot(commands.Bot):
    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.members = True  # as Caucus: the same GUILD_CREATE and member cache
        super().__init__(
            command_prefix=commands.when_mentioned, intents=intents, help_command=None,
            guild_ready_timeout=0.2, max_messages=1000,
        )  # fmt: skip

    async def setup_hook(self) -> None:
        self.add_dynamic_items(AckButton)

    async def on_ready(self) -> None:
        await self.change_presence(activity=discord.Game("acknowledging"))  # the fake's "ready" signal


def main(argv: list[str]) -> None:
    api, gateway, token = argv
    discord.http.Route.BASE = api
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    BareBot().run(token, log_level=logging.WARNING)


if __name__ == "__main__":
    main(sys.argv[1:])
