"""The Caucus bot: wiring of config, storage, scheduler and cogs around discord.py's commands.Bot (or its
AutoShardedBot when [discord] shard_count is set)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.config import Config
from bot.scheduler import PostDispatcher, Scheduler
from cogs.ui.boundary import NO_PINGS, handle_error
from cogs.ui.updater import MessageUpdater
from domain.agenda import Agenda
from domain.clock import Clock, SystemClock
from domain.consensus import Consensus
from domain.groups import WorkingGroups
from domain.languages import Languages
from domain.members import Members
from domain.orgs import Organisations
from domain.permissions import Policy
from domain.polls import Polls, load_ballot_key
from domain.posts import PostBook
from domain.privacy import Identities, Privacy
from domain.record import Record, load_signing_key
from domain.shards import Shards
from domain.signatories import Signatories
from domain.statements import Statements
from domain.summary import Summaries
from domain.text import well_formed
from domain.timeparse import parse_zone
from storage.db import Database

log = logging.getLogger(__name__)

#: Seconds a clean stop waits for scheduled posts being sent (process managers give ~10 s before SIGKILL).
SHUTDOWN_GRACE = 6.0

COGS = (
    "cogs.servers",
    "cogs.about",
    "cogs.groups",
    "cogs.consensus",
    "cogs.polls",
    "cogs.agenda",
    "cogs.export",
    "cogs.privacy",
    "cogs.orgs",
    "cogs.record",
    "cogs.languages",
    "cogs.statements",
)


def apply_endpoints(api_base_url: str, gateway_url: str) -> None:
    """Point discord.py at a Discord-compatible API and gateway (self-hosted, or our tests' fake)."""
    if api_base_url:
        discord.http.Route.BASE = api_base_url
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def _well_formed(data: Any) -> None:
    """Make every string of an interaction's options well-formed text, in place."""
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        if isinstance(value, str):
            data[key] = well_formed(value)
        else:
            _well_formed(value)


class CaucusTree(app_commands.CommandTree["Caucus"]):
    async def interaction_check(self, interaction: discord.Interaction[Caucus], /) -> bool:
        # JSON may carry lone surrogates ("\ud800") that no UTF-8 exists for: SQLite, the logs and replies
        # would fail on them. Commands and autocomplete read their options from this data after this check.
        _well_formed(interaction.data)
        return True

    async def on_error(
        self, interaction: discord.Interaction[Caucus], error: app_commands.AppCommandError
    ) -> None:
        await handle_error(interaction, error)


class Caucus(commands.Bot):
    """The bot on one gateway connection. ``db`` and ``scheduler`` exist from setup_hook on.

    Build it with ``make_bot``: with [discord] shard_count set, that is a ShardedCaucus.
    """

    db: Database
    scheduler: Scheduler
    groups: WorkingGroups
    consensus: Consensus
    polls: Polls
    agenda: Agenda
    privacy: Privacy
    languages: Languages
    orgs: Organisations
    summaries: Summaries
    members: Members
    record: Record
    statements: Statements
    signatories: Signatories
    record_key: bytes
    posts: PostDispatcher

    def __init__(self, config: Config, *, clock: Clock | None = None) -> None:
        intents = discord.Intents.default()
        intents.members = True  # group membership, departures, nudges: privileged, enable it in the portal
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            allowed_mentions=NO_PINGS,
            tree_cls=CaucusTree,
            guild_ready_timeout=config.discord.guild_ready_timeout,
            max_messages=1000,
            **self.shard_options(config),
        )
        self.config = config
        #: The shards this process runs: its servers' scheduled work is its own.
        self.held_shards = (
            Shards(config.discord.shard_count, config.discord.shards)
            if config.discord.shard_count is not None
            else Shards()
        )
        self.clock: Clock = clock or SystemClock()
        self.started_monotonic = time.monotonic()
        self.updaters: list[MessageUpdater] = []
        apply_endpoints(config.discord.api_base_url, config.discord.gateway_url)

    @staticmethod
    def shard_options(config: Config) -> dict[str, Any]:
        """Keyword arguments for discord.py's client: none on one connection."""
        return {}

    async def open_storage(self) -> None:
        """Open and migrate the database, read the record's signing key (before connecting: a broken
        database or key stops the bot at once)."""
        if getattr(self, "db", None) is None:
            self.db = await Database.open(self.config.storage.path, url=self.config.storage.url)
        if getattr(self, "record_key", None) is None:
            # the decision record's Ed25519 key lives next to the database, like the ballot key
            self.record_key = load_signing_key(self.db.path)

    async def setup_hook(self) -> None:
        self.started_monotonic = time.monotonic()
        await self.open_storage()
        where = (
            "PostgreSQL" if self.config.storage.url else self.config.storage.path
        )  # a url may hold a password
        log.info("database %s at schema version %d", where, await self.db.user_version())
        self.policy = Policy(self.config.permissions.coordinator_roles)
        self.zone = parse_zone(self.config.schedule.timezone)
        self.groups = WorkingGroups(self.db, self.clock, self.policy, self.zone)
        # the bot's key (anonymous ballots, pseudonyms of anonymised members) lives next to the database
        secret = load_ballot_key(self.db.path)
        self.identities = Identities(secret)
        # every Actor is built here: the member's record id (their pseudonym once anonymised), and only
        # the roles that may grant privileges
        self.members = Members(self.db, self.identities, self.policy)
        self.consensus = Consensus(
            self.db, self.clock, self.groups, self.zone, self.config.schedule.reminder_offsets
        )
        self.polls = Polls(self.db, self.clock, self.groups, self.zone, secret)
        self.languages = Languages(self.db, self.clock, self.groups, self.config.i18n.language)
        self.privacy = Privacy(self.db, self.clock, self.identities, forget=(self.languages.forget,))
        self.orgs = Organisations(self.db, self.clock, self.policy)
        self.record = Record(self.db, self.clock, self.policy, self.zone, self.record_key)
        self.summaries = Summaries(
            self.db, self.clock, self.groups, self.zone, self.polls.secret_counts, self.record
        )
        self.statements = Statements(self.db, self.clock, self.groups, self.zone)
        # /statement signatories and caucus signatories: one use case, the same bytes
        self.signatories = Signatories(self.statements, self.record)
        self.agenda = Agenda(
            self.db, self.clock, self.groups, self.zone, self.config.schedule.reminder_offsets
        )
        self.scheduler = Scheduler()
        self.scheduler.start()
        self.posts = PostDispatcher(
            self.scheduler, PostBook(self.db, self.clock, self.held_shards), self.clock
        )
        for extension in COGS:
            await self.load_extension(extension)
        await self.posts.start()
        if self.held_shards.registers_commands:
            await self.sync_commands()
        if self.config.discord.api_base_url and not self.config.discord.gateway_url:
            # discord.py never asks /gateway/bot when it knows its shard count (one connection, or [discord]
            # shard_count): a self-hosted API says where its gateway is.
            _, url, _ = await self.http.get_bot_gateway()
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
            log.info("gateway from the API: %s", url)

    async def sync_commands(self) -> None:
        """Register the command tree with Discord, only where it changed since the last sync."""
        targets: list[discord.Object | None] = [discord.Object(g) for g in self.config.discord.guild_ids] or [
            None
        ]
        for guild in targets:
            if guild is not None:
                self.tree.copy_global_to(guild=guild)
            # the payload as Discord gets it, translations included: a changed translation is synced too
            translator = self.tree.translator
            payload: list[dict[str, Any]] = [
                await c.get_translated_payload(self.tree, translator) if translator else c.to_dict(self.tree)
                for c in self.tree.get_commands(guild=guild)
            ]
            digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
            key = f"command_sync:{self.application_id}:{guild.id if guild else 'global'}"
            if await self.db.get_state(key) == digest:
                log.info("commands unchanged for %s: not syncing", guild.id if guild else "global")
                continue
            synced = await self.tree.sync(guild=guild)
            await self.db.set_state(key, digest)
            log.info("synced %d commands to %s", len(synced), guild.id if guild else "global")

    async def on_ready(self) -> None:
        me = self.user.id if self.user else "?"
        if self.config.discord.shard_count is None:
            log.info("ready as %s in %d servers", me, len(self.guilds))
        else:
            log.info("ready as %s in %d servers on shards %s of %d", me, len(self.guilds),
                     list(self.held_shards.ids), self.held_shards.count)  # fmt: skip
        await self.change_presence(
            activity=discord.Activity(type=discord.ActivityType.watching, name="for consensus")
        )
        for guild in self.guilds:
            self.warn_missing_roles(guild)
        for key, channel_id in (
            ("[agenda] digest_channel", self.config.agenda.digest_channel),
            ("[agenda] default_channel", self.config.agenda.default_channel),
            ("[record] channel", self.config.record.channel),
        ):
            if channel_id and self.get_channel(channel_id) is None:
                log.warning("%s %d is not a channel the bot can see", key, channel_id)

    def warn_missing_roles(self, guild: discord.Guild) -> None:
        """Log configured coordinator roles that this server lacks (ids or names)."""
        have = {r.name.casefold() for r in guild.roles} | {str(r.id) for r in guild.roles}
        for wanted in self.config.permissions.coordinator_roles:
            if wanted.casefold() not in have:
                log.warning("server %d has no role %r from [permissions] coordinator_roles", guild.id, wanted)
        for role in guild.roles:
            if role.managed and self.policy.names_coordinator_role(role.id, role.name):
                log.warning(
                    "server %d: role %d from [permissions] coordinator_roles is managed by an integration and "
                    "grants no coordinator rights", guild.id, role.id,
                )  # fmt: skip

    def message_updater(
        self, *, interval: float = 1.0, on_gone: Callable[[int], Awaitable[None]] | None = None
    ) -> MessageUpdater:
        """A coalescing message updater for a cog; every one is drained at shutdown."""
        updater = MessageUpdater(self, interval=interval, on_gone=on_gone)
        self.updaters.append(updater)
        return updater

    async def close(self) -> None:
        try:
            if getattr(self, "scheduler", None) is not None:
                # no new jobs from here on; posts being sent finish (shutdown would cancel them half-done),
                # within a bound: a post still going out then is finished by the next start, same nonces
                self.scheduler.pause()
                await self.posts.drain(grace=SHUTDOWN_GRACE)
                self.scheduler.shutdown()
            for updater in self.updaters:
                await updater.drain()
        except Exception:
            log.exception("while draining before shutdown")
        await super().close()
        if getattr(self, "db", None) is not None:
            await self.db.close()
        log.info("stopped cleanly")


class ShardedCaucus(Caucus, commands.AutoShardedBot):
    """The bot on several gateway connections, one per shard of [discord] shard_ids (every shard by default):
    discord.py's AutoShardedBot, IDENTIFY with ``shard: [id, count]``, each shard's servers on its socket."""

    @staticmethod
    def shard_options(config: Config) -> dict[str, Any]:
        return {"shard_count": config.discord.shard_count, "shard_ids": list(config.discord.shards)}


def make_bot(config: Config, *, clock: Clock | None = None) -> Caucus:
    """The bot for this config: one connection as always, or AutoShardedBot when shard_count is set."""
    cls = ShardedCaucus if config.discord.shard_count is not None else Caucus
    return cls(config, clock=clock)
