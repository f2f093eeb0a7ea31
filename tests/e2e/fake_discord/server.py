"""FakeDiscord: the server, its state, and the driver API the tests use."""

from __future__ import annotations

import asyncio
import copy
import mimetypes
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from . import commands as cmds
from .errors import ClientWouldReject, SchemaError
from .gateway import MESSAGE_CONTENT, Gateway, ShardSession, shard_of
from .interaction import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    Interaction,
)
from .models import (
    DM_CHANNEL,
    LOADING,
    TEXT_CHANNEL,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    PresenceUpdate,
    RecordedRequest,
    walk_components,
)
from .permissions import ALL_PERMISSIONS, DEFAULT_BOT, DEFAULT_EVERYONE, MENTION_EVERYONE, compute_permissions
from .util import SnowflakeGenerator, as_id, utcnow

T = TypeVar("T")

Actor = FakeMember | FakeUser
SELECT_TYPES = (3, 5, 6, 7, 8)


@dataclass
class Fault:
    """An injected failure: the next ``remaining`` matching requests get ``status``."""

    method: str
    pattern: re.Pattern[str]
    remaining: int
    status: int
    body: dict[str, Any]
    retry_after: float = 0.0
    #: Handle the request first, then answer the error (Discord did it, but the answer was lost).
    after: bool = False

    def matches(self, method: str, path: str) -> bool:
        return self.remaining > 0 and self.method in ("*", method) and bool(self.pattern.search(path))


class FakeDiscord:
    """A fake Discord (HTTP API v10 + gateway) for one bot, driven by the test.

    Typical use::

        fake = FakeDiscord(token="test-token")
        await fake.start()
        guild = fake.add_guild("Coalition")
        alice = fake.add_member(guild, "alice")
        ... start the bot pointed at fake.api_base_url / fake.gateway_url ...
        await fake.wait_ready()
        itx = await fake.slash(guild, alice, "wg create", name="Principles")
        await itx.response()
    """

    def __init__(self, token: str = "test-token", *, bot_name: str = "Caucus") -> None:
        self.token = token
        self._ids = SnowflakeGenerator()
        self.application_id = self._ids()
        self.bot_user = FakeUser(id=self.application_id, username=bot_name, bot=True)
        self.app_owner = FakeUser(id=self._ids(), username="app-owner")
        self.users: dict[int, FakeUser] = {u.id: u for u in (self.bot_user, self.app_owner)}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.dm_channels: dict[int, FakeChannel] = {}
        self.all_messages: dict[int, FakeMessage] = {}
        self._channel_messages: dict[int, list[FakeMessage]] = {}
        #: ("create" | "edit" | "delete", message) in the order they happened.
        self.message_log: list[tuple[str, FakeMessage]] = []
        self.message_edits: Counter[int] = Counter()
        self.attachments: dict[int, FakeAttachment] = {}
        self.interactions: dict[int, Interaction] = {}
        self.interactions_by_token: dict[str, Interaction] = {}
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        #: How many times each scope was bulk-overwritten (key None = global commands).
        self.sync_counts: Counter[int | None] = Counter()
        self.requests: list[RecordedRequest] = []
        #: (method, path) of every request no route handled; tests assert it stays empty.
        self.unhandled: list[tuple[str, str]] = []
        self.rate_limited_count = 0
        #: Exceptions raised inside the fake's own handlers (bugs in the fake); should stay empty.
        self.server_errors: list[BaseException] = []
        #: Extra delay (seconds) added to every HTTP request.
        self.latency = 0.0
        self.faults: list[Fault] = []
        #: How long (seconds) a message nonce sent with enforce_nonce is remembered ("a few minutes").
        self.nonce_window = 300.0
        self._nonces: dict[tuple[int, str], tuple[float, int]] = {}
        #: Called with each message the bot creates, once stored and before the bot gets the answer.
        self.on_message_created: list[Callable[[FakeMessage], None]] = []
        self.gateway = Gateway(self)
        #: The shard count GET /gateway/bot recommends.
        self.recommended_shards = 1
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._command_ids: dict[tuple[int | None, str, int], int] = {}

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from .http_api import HttpApi

        app = web.Application(client_max_size=64 * 1024 * 1024)
        api = HttpApi(self)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_route("*", "/{tail:.*}", api.handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server  # noqa: SLF001 - aiohttp exposes no public accessor for the bound port
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self._host = host
        self._port = sockets[0].getsockname()[1]

    async def close(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for _, fut in self._waiters:
            if not fut.done():
                fut.cancel()

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def http_base_url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def api_base_url(self) -> str:
        return f"{self.http_base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self._host}:{self._port}/gateway"

    @property
    def bot_user_id(self) -> int:
        return self.bot_user.id

    @property
    def sync_count(self) -> int:
        return sum(self.sync_counts.values())

    @property
    def presences(self) -> list[PresenceUpdate]:
        return self.gateway.presences

    # -- waiting ------------------------------------------------------------------------------

    def notify(self) -> None:
        """Wake every waiter whose condition now holds (called after each state change)."""
        for predicate, fut in list(self._waiters):
            if fut.done():
                continue
            try:
                ok = predicate()
            except Exception as exc:  # a broken predicate must not hang the test
                fut.set_exception(exc)
                continue
            if ok:
                fut.set_result(None)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float, *, poll: float = 0.05) -> bool:
        """Wait until ``predicate()`` is true; False on timeout.

        Re-checked on every change in the fake and every ``poll`` seconds (for conditions on other state,
        e.g. an in-process bot's cache).
        """
        if predicate():
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        fut: asyncio.Future[None] = loop.create_future()
        entry = (predicate, fut)
        self._waiters.append(entry)
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                done, _ = await asyncio.wait({fut}, timeout=min(poll, remaining))
                if done:
                    fut.result()
                    return True
                if predicate():
                    return True
        finally:
            self._waiters.remove(entry)
            if not fut.done():
                fut.cancel()

    @staticmethod
    def elapsed(since: float) -> float:
        return time.monotonic() - since

    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until the connected bot sent its first presence update on the current connection."""
        if not await self.wait_until(lambda: self.gateway.is_ready, timeout):
            raise TimeoutError(f"bot did not become ready within {timeout}s")

    # -- entity creation ----------------------------------------------------------------------

    def new_id(self) -> int:
        return self._ids()

    def add_user(self, username: str, *, global_name: str | None = None, bot: bool = False) -> FakeUser:
        user = FakeUser(id=self._ids(), username=username, global_name=global_name, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str,
        *,
        owner: str | FakeUser = "owner",
        bot_permissions: int = DEFAULT_BOT,
        everyone_permissions: int = DEFAULT_EVERYONE,
        locale: str = "en-US",
        channels: Iterable[str] = ("general",),
        shard: tuple[int, int] | None = None,
    ) -> FakeGuild:
        """A guild with @everyone, the bot's managed role, the bot, an owner and text channels.

        ``shard=(id, count)`` picks a guild id on that shard. Dispatched as GUILD_CREATE if the bot is
        connected (on the guild's shard).
        """
        gid = self._ids.on_shard(*shard) if shard is not None else self._ids()
        owner_user = owner if isinstance(owner, FakeUser) else self.add_user(owner)
        bot_role = FakeRole(
            id=self._ids(), guild_id=gid, name=self.bot_user.username, permissions=bot_permissions,
            position=1, managed=True, bot_id=self.bot_user.id,
        )  # fmt: skip
        guild = FakeGuild(
            id=gid, name=name, owner_id=owner_user.id, bot_role_id=bot_role.id, preferred_locale=locale
        )
        guild.roles[gid] = FakeRole(id=gid, guild_id=gid, name="@everyone", permissions=everyone_permissions)
        guild.roles[bot_role.id] = bot_role
        guild.members[self.bot_user.id] = FakeMember(user=self.bot_user, guild_id=gid, role_ids=[bot_role.id])
        guild.members[owner_user.id] = FakeMember(user=owner_user, guild_id=gid)
        for position, channel_name in enumerate(channels):
            channel = FakeChannel(id=self._ids(), name=channel_name, guild_id=gid, position=position)
            guild.channels[channel.id] = channel
            self.channels[channel.id] = channel
        self.guilds[gid] = guild
        self.gateway.dispatch("GUILD_CREATE", guild.to_dict())
        return guild

    def remove_guild(self, guild: FakeGuild) -> None:
        """The bot was removed from the guild (GUILD_DELETE without ``unavailable``)."""
        self.guilds.pop(guild.id, None)
        self.gateway.dispatch("GUILD_DELETE", {"id": str(guild.id)})

    def add_channel(
        self,
        guild: FakeGuild,
        name: str,
        *,
        type: int = TEXT_CHANNEL,
        topic: str | None = None,
        parent: FakeChannel | None = None,
        overwrites: list[dict[str, Any]] | None = None,
    ) -> FakeChannel:
        """``overwrites``: ``[{"id": role_or_member_id, "type": 0 role | 1 member, "allow": int, "deny": int}]``."""
        channel = FakeChannel(
            id=self._ids(), name=name, type=type, guild_id=guild.id, position=len(guild.channels), topic=topic,
            parent_id=parent.id if parent else None, permission_overwrites=list(overwrites or []),
        )  # fmt: skip
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        self.gateway.dispatch("CHANNEL_CREATE", channel.to_dict())
        return channel

    def add_role(
        self,
        guild: FakeGuild,
        name: str,
        *,
        permissions: int = 0,
        mentionable: bool = False,
        color: int = 0,
        hoist: bool = False,
    ) -> FakeRole:
        """A role placed at position 1, as Discord places new roles (below the bot's role)."""
        role = FakeRole(
            id=self._ids(), guild_id=guild.id, name=name, permissions=permissions, mentionable=mentionable,
            color=color, hoist=hoist,
        )  # fmt: skip
        self.insert_role(guild, role)
        self.gateway.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.to_dict()})
        return role

    def insert_role(self, guild: FakeGuild, role: FakeRole) -> None:
        for other in guild.roles.values():
            if other.position >= 1:
                other.position += 1
        role.position = 1
        guild.roles[role.id] = role

    def update_role(self, guild: FakeGuild, role: FakeRole, **changes: Any) -> FakeRole:
        """Change a role's attributes (name, permissions, position, mentionable...) and dispatch the update."""
        for key, value in changes.items():
            if not hasattr(role, key):
                raise AttributeError(key)
            setattr(role, key, value)
        self.gateway.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(guild.id), "role": role.to_dict()})
        return role

    def add_member(
        self,
        guild: FakeGuild,
        username: str | FakeUser,
        *,
        roles: Iterable[FakeRole] = (),
        permissions: int | None = None,
        owner: bool = False,
        nick: str | None = None,
    ) -> FakeMember:
        """A member (and its user, unless a FakeUser is given to share it across guilds).

        ``permissions`` creates a personal role holding them; ``owner`` makes them guild owner.
        Dispatched as GUILD_MEMBER_ADD if the bot is connected.
        """
        user = username if isinstance(username, FakeUser) else self.add_user(username)
        role_ids = [r.id for r in roles]
        if permissions is not None:
            role_ids.append(self.add_role(guild, f"{user.username}-permissions", permissions=permissions).id)
        member = FakeMember(user=user, guild_id=guild.id, role_ids=role_ids, nick=nick)
        guild.members[user.id] = member
        if owner:
            guild.owner_id = user.id
            self.gateway.dispatch("GUILD_UPDATE", guild.to_dict(full=False))
        self.gateway.dispatch("GUILD_MEMBER_ADD", {**member.to_dict(), "guild_id": str(guild.id)})
        return member

    def remove_member(self, guild: FakeGuild, member: FakeMember) -> None:
        guild.members.pop(member.id, None)
        self.gateway.dispatch(
            "GUILD_MEMBER_REMOVE", {"guild_id": str(guild.id), "user": member.user.to_dict()}
        )

    def set_member_roles(self, guild: FakeGuild, member: FakeMember, roles: Iterable[FakeRole]) -> None:
        """Replace a member's roles as a moderator would in the Discord client."""
        member.role_ids = [r.id for r in roles]
        self.member_updated(guild, member)

    def member_updated(self, guild: FakeGuild, member: FakeMember) -> None:
        self.gateway.dispatch("GUILD_MEMBER_UPDATE", {**member.to_dict(), "guild_id": str(guild.id)})

    def close_dms(self, user: Actor, closed: bool = True) -> None:
        """Make the bot's DMs to this user fail with 403 code 50007."""
        self._user_of(user).dms_closed = closed

    def permissions_for(self, guild: FakeGuild, who: Actor | int, channel: FakeChannel | None = None) -> int:
        return compute_permissions(guild, as_id(who), channel)

    def guild_of(self, channel_id: int) -> FakeGuild | None:
        channel = self.channels.get(channel_id)
        if channel is None or channel.guild_id is None:
            return None
        return self.guilds.get(channel.guild_id)

    def dm_channel(self, user: Actor | int) -> FakeChannel:
        """The DM channel between the bot and ``user`` (created on first use, as Discord does)."""
        target = self.users[as_id(user)]
        channel = self.dm_channels.get(target.id)
        if channel is None:
            channel = FakeChannel(id=self._ids(), name="", type=DM_CHANNEL, recipient=target)
            self.dm_channels[target.id] = channel
            self.channels[channel.id] = channel
        return channel

    def _user_of(self, actor: Actor | int) -> FakeUser:
        if isinstance(actor, FakeMember):
            return actor.user
        if isinstance(actor, FakeUser):
            return actor
        return self.users[int(actor)]

    # -- gateway helpers ----------------------------------------------------------------------

    def dispatch(self, event: str, data: dict[str, Any]) -> bool:
        """Send any gateway event to the bot (sequenced and buffered for RESUME)."""
        return self.gateway.dispatch(event, data)

    async def drop_gateway(self, code: int | None = 4000, *, shard: int | None = None) -> None:
        """Close the bot's websocket (every shard's, or ``shard``'s); it should reconnect and RESUME.
        ``code=None`` aborts TCP."""
        await self.gateway.drop(code, shard=shard)

    def invalidate_session(self, resumable: bool = False, *, shard: int | None = None) -> None:
        """Send op 9 (on every shard, or ``shard``); with ``resumable=False`` the bot must IDENTIFY again
        (after ~5 s)."""
        self.gateway.invalidate(resumable, shard=shard)

    def request_reconnect(self, *, shard: int | None = None) -> None:
        """Send op 7 RECONNECT (on every shard, or ``shard``)."""
        self.gateway.request_reconnect(shard=shard)

    def session(self, shard_id: int = 0) -> ShardSession:
        """The gateway session of one shard (KeyError if that shard never identified)."""
        return self.gateway.sessions[shard_id]

    @property
    def sessions(self) -> dict[int, ShardSession]:
        """Every shard's gateway session, by shard id ({0: ...} for a bot that does not shard)."""
        return self.gateway.sessions

    def shard_of(self, guild: FakeGuild | int) -> int:
        """The shard a guild's events go to, out of the current sessions' shard count."""
        return shard_of(as_id(guild), self.gateway.shard_count)

    @property
    def identify_count(self) -> int:
        return self.gateway.identify_count

    @property
    def resume_count(self) -> int:
        return self.gateway.resume_count

    @property
    def ready_count(self) -> int:
        return self.gateway.ready_count

    # -- messages -----------------------------------------------------------------------------

    def messages(self, channel: FakeChannel | int, *, include_deleted: bool = False) -> list[FakeMessage]:
        """The channel's messages in order (ephemeral responses excluded)."""
        return [
            m
            for m in self._channel_messages.get(as_id(channel), [])
            if not m.ephemeral and (include_deleted or not m.deleted)
        ]

    def ephemeral_messages(self, channel: FakeChannel | int) -> list[FakeMessage]:
        return [m for m in self._channel_messages.get(as_id(channel), []) if m.ephemeral]

    def dms(self, user: Actor | int) -> list[FakeMessage]:
        """Messages in the bot's DM channel with ``user``."""
        channel = self.dm_channels.get(as_id(user))
        return self.messages(channel) if channel else []

    async def wait_for_message(
        self,
        channel_id: FakeChannel | int | None = None,
        predicate: Callable[[FakeMessage], bool] | None = None,
        timeout: float = 5.0,
        *,
        edits: bool = False,
        dm_to: Actor | int | None = None,
        include_ephemeral: bool = False,
    ) -> FakeMessage:
        """The first message created (or, with ``edits=True``, edited) after this call that matches."""
        start = len(self.message_log)
        wanted_channel = as_id(channel_id) if channel_id is not None else None
        if dm_to is not None:
            wanted_channel = self.dm_channel(dm_to).id
        found: list[FakeMessage] = []

        def check() -> bool:
            for kind, msg in self.message_log[start:]:
                if kind == "delete" or (kind == "edit" and not edits):
                    continue
                if wanted_channel is not None and msg.channel_id != wanted_channel:
                    continue
                if msg.ephemeral and not include_ephemeral:
                    continue
                if predicate is None or predicate(msg):
                    found.append(msg)
                    return True
            return False

        if not await self.wait_until(check, timeout):
            raise TimeoutError(f"no matching message within {timeout}s")
        return found[0]

    def user_message(self, channel: FakeChannel, author: Actor, content: str) -> FakeMessage:
        """A user posts ``content`` in ``channel`` (dispatched as MESSAGE_CREATE)."""
        user = self._user_of(author)
        guild = self.guild_of(channel.id)
        msg = FakeMessage(
            id=self._ids(), channel_id=channel.id, guild=guild, author=user, content=content,
            author_can_mention_everyone=bool(guild and self.permissions_for(guild, user, channel) & MENTION_EVERYONE),
        )  # fmt: skip
        self.store_message(msg)
        return msg

    def store_message(self, msg: FakeMessage) -> None:
        self.all_messages[msg.id] = msg
        self._channel_messages.setdefault(msg.channel_id, []).append(msg)
        self.message_log.append(("create", msg))
        if not msg.ephemeral:
            self.gateway.dispatch("MESSAGE_CREATE", self._message_event(msg))
        self.notify()

    def record_edit(self, msg: FakeMessage, before: dict[str, Any]) -> None:
        msg.edits.append(before)
        self.message_edits[msg.id] += 1
        self.message_log.append(("edit", msg))
        if not msg.ephemeral:
            self.gateway.dispatch("MESSAGE_UPDATE", self._message_event(msg))
        self.notify()

    def record_delete(self, msg: FakeMessage) -> None:
        msg.deleted = True
        self.message_log.append(("delete", msg))
        if not msg.ephemeral:
            data = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild is not None:
                data["guild_id"] = str(msg.guild.id)
            self.gateway.dispatch("MESSAGE_DELETE", data)
        self.notify()

    def _message_event(self, msg: FakeMessage) -> dict[str, Any]:
        data = msg.to_dict()
        if msg.guild is not None and msg.author.id in msg.guild.members:
            data["member"] = msg.guild.members[msg.author.id].to_dict(with_user=False)
        hidden = (
            not self.gateway.intents & MESSAGE_CONTENT
            and msg.author.id != self.bot_user.id
            and msg.guild is not None
            and self.bot_user.id not in msg.pings()
        )
        if hidden:
            data.update(content="", embeds=[], attachments=[], components=[])
        return data

    def store_attachment(
        self, filename: str, data: bytes, content_type: str | None = None, *, description: str | None = None
    ) -> FakeAttachment:
        att_id = self._ids()
        if content_type is None:
            content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        att = FakeAttachment(
            id=att_id, filename=filename, data=data, content_type=content_type,
            url=f"{self.http_base_url}/attachments/{att_id}/{filename}", description=description,
        )  # fmt: skip
        self.attachments[att_id] = att
        return att

    # -- commands -----------------------------------------------------------------------------

    def commands(self, guild: FakeGuild | int | None = None) -> list[dict[str, Any]]:
        """The registered schema: global commands, or a guild's commands."""
        if guild is None:
            return copy.deepcopy(self.global_commands)
        return copy.deepcopy(self.guild_commands.get(as_id(guild), []))

    def command_id(self, scope: int | None, name: str, kind: int) -> int:
        key = (scope, name, kind)
        if key not in self._command_ids:
            self._command_ids[key] = self._ids()
        return self._command_ids[key]

    def _find_command(
        self, guild: FakeGuild | None, path: str
    ) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
        scopes = ([self.guild_commands.get(guild.id, [])] if guild else []) + [self.global_commands]
        first_error: SchemaError | None = None
        for registered in scopes:
            try:
                return cmds.find_command(registered, path)
            except SchemaError as exc:
                if registered and path.split()[0] in {c["name"] for c in registered}:
                    raise
                first_error = first_error or exc
        assert first_error is not None
        raise first_error

    def _resolver(self, guild: FakeGuild | None, channel: FakeChannel) -> cmds.Resolver:
        def user(value: Any) -> tuple[FakeUser, FakeMember | None]:
            target = self._user_of(value) if not isinstance(value, int) else self.users[value]
            member = guild.members.get(target.id) if guild else None
            return target, member

        def role(value: Any) -> FakeRole:
            if guild is None:
                raise KeyError(value)
            return guild.roles[as_id(value)]

        def channel_of(value: Any) -> FakeChannel:
            return self.channels[as_id(value)]

        def member_permissions(member: FakeMember) -> int:
            return self.permissions_for(guild, member, channel) if guild else 0

        def channel_permissions(target: FakeChannel) -> int:
            return self.permissions_for(guild, self.bot_user, target) if guild else 0

        def attachment(filename: str, data: bytes, content_type: str | None) -> dict[str, Any]:
            att = self.store_attachment(filename, data, content_type)
            att.ephemeral = True
            return att.to_dict()

        return cmds.Resolver(
            user=user, role=role, channel=channel_of, member_permissions=member_permissions,
            channel_permissions=channel_permissions, attachment=attachment,
        )  # fmt: skip

    def _check_visible(
        self, cmd: dict[str, Any], guild: FakeGuild | None, actor: Actor, channel: FakeChannel
    ) -> None:
        if guild is None:
            contexts = cmd.get("contexts")
            if (contexts is not None and 1 not in contexts) or cmd.get("dm_permission") is False:
                raise ClientWouldReject(f"/{cmd['name']} is not available in DMs")
            return
        required = cmd.get("default_member_permissions")
        if required is None:
            return
        perms = self.permissions_for(guild, self._user_of(actor), channel)
        needed = int(required)
        if (needed == 0 and perms != ALL_PERMISSIONS) or (perms & needed) != needed:
            raise ClientWouldReject(
                f"/{cmd['name']} is hidden from {self._user_of(actor).username}: lacks {needed:#x}"
            )

    async def slash(
        self,
        guild: FakeGuild | None,
        member: Actor,
        path: str,
        /,
        *,
        channel: FakeChannel | None = None,
        client_checks: bool = True,
        locale: str = "en-US",
        options: Mapping[str, Any] | None = None,
        **values: Any,
    ) -> Interaction:
        """Invoke ``/path`` with option values (``options=`` for names like ``channel``).

        Raises SchemaError for test bugs (unknown command/option, missing required, wrong type)
        and ClientWouldReject for what the Discord client prevents (unless ``client_checks=False``).
        """
        return self._command_interaction(
            APPLICATION_COMMAND,
            guild,
            member,
            path,
            channel,
            client_checks,
            locale,
            {**(options or {}), **values},
        )

    async def autocomplete(
        self,
        guild: FakeGuild | None,
        member: Actor,
        path: str,
        /,
        *,
        focused: str,
        channel: FakeChannel | None = None,
        locale: str = "en-US",
        options: Mapping[str, Any] | None = None,
        **values: Any,
    ) -> Interaction:
        """The user typed into option ``focused``; ``itx.choices`` holds the bot's suggestions."""
        merged = {**(options or {}), **values}
        merged.setdefault(focused, "")
        return self._command_interaction(
            AUTOCOMPLETE, guild, member, path, channel, False, locale, merged, focused=focused
        )

    def _command_interaction(
        self,
        kind: int,
        guild: FakeGuild | None,
        member: Actor,
        path: str,
        channel: FakeChannel | None,
        client_checks: bool,
        locale: str,
        values: Mapping[str, Any],
        *,
        focused: str | None = None,
    ) -> Interaction:
        if channel is None:
            channel = guild.default_channel if guild else self.dm_channel(member)
        top, sub_path, leaf = self._find_command(guild, path)
        if client_checks:
            self._check_visible(top, guild, member, channel)
        resolved = cmds.Resolved()
        leaf_options = cmds.build_options(
            leaf,
            values,
            self._resolver(guild, channel),
            resolved,
            client_checks=client_checks,
            focused=focused,
        )
        data: dict[str, Any] = {
            "id": str(top["id"]),
            "name": top["name"],
            "type": 1,
            "options": cmds.nest_options(sub_path, leaf_options, top),
        }
        if guild is not None and top.get("guild_id"):
            data["guild_id"] = str(guild.id)
        if resolved.to_dict():
            data["resolved"] = resolved.to_dict()
        return self._dispatch_interaction(kind, guild, member, channel, data, locale=locale)

    def _dispatch_interaction(
        self,
        kind: int,
        guild: FakeGuild | None,
        actor: Actor,
        channel: FakeChannel,
        data: dict[str, Any],
        *,
        message: FakeMessage | None = None,
        message_payload: dict[str, Any] | None = None,
        locale: str = "en-US",
    ) -> Interaction:
        user = self._user_of(actor)
        iid = self._ids()
        token = f"itx-{secrets.token_urlsafe(32)}"
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "channel_id": str(channel.id),
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if guild is not None:
            if user.id not in guild.members:
                raise SchemaError(f"{user.username} is not a member of {guild.name}")
            member = guild.members[user.id]
            perms = self.permissions_for(guild, user, channel)
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
                guild_locale=guild.preferred_locale,
                member=member.to_dict(permissions=perms),
                app_permissions=str(self.permissions_for(guild, self.bot_user, channel)),
                channel={**channel.to_dict(), "permissions": str(perms)},
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            payload.update(
                user=user.to_dict(),
                app_permissions=str(ALL_PERMISSIONS),
                channel=channel.to_dict(),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        if message is not None:
            payload["message"] = message_payload if message_payload is not None else message.to_dict()
        member_obj = guild.members[user.id] if guild is not None else FakeMember(user=user, guild_id=0)
        itx = Interaction(
            id=iid, token=token, kind=kind, guild=guild, member=member_obj, channel_id=channel.id,
            payload=payload, dispatched_at=time.monotonic(), _fake=self, source_message=message,
        )  # fmt: skip
        self.interactions[iid] = itx
        self.interactions_by_token[token] = itx
        self.gateway.dispatch("INTERACTION_CREATE", payload)
        return itx

    # -- components ---------------------------------------------------------------------------

    def _component_context(self, message: FakeMessage) -> tuple[FakeGuild | None, FakeChannel]:
        if message.deleted:
            raise SchemaError(f"message {message.id} was deleted")
        return message.guild, self.channels[message.channel_id]

    async def click(
        self,
        message: FakeMessage,
        custom_id: str,
        member: Actor,
        *,
        check: bool = True,
        inject: bool = False,
        locale: str = "en-US",
    ) -> Interaction:
        """Press a button (``locale``: the clicker's Discord language, as for ``slash``).

        ``check=False`` sends a custom_id that is not on the message (forged). Discord then sends the
        real message with the interaction, and discord.py silently drops a DynamicItem click whose
        custom_id is not on that message, so a forged click ends in InteractionFailed. ``inject=True``
        also adds the button to the message payload sent, to simulate a message that really carries it
        (e.g. a stale card) and reach the bot's own validation.
        """
        comp = message.component(custom_id)
        if check:
            if comp is None or comp.get("type") != 2:
                raise SchemaError(
                    f"no button {custom_id!r} on message {message.id} (has {message.custom_ids()})"
                )
            if comp.get("disabled"):
                raise ClientWouldReject(f"button {custom_id!r} is disabled")
        guild, channel = self._component_context(message)
        data = {"custom_id": custom_id, "component_type": 2}
        override = None
        if inject and comp is None:
            override = message.to_dict()
            button = {"type": 2, "style": 1, "label": custom_id, "custom_id": custom_id}
            override["components"] = [*override["components"], {"type": 1, "components": [button]}]
        return self._dispatch_interaction(
            MESSAGE_COMPONENT, guild, member, channel, data, message=message, message_payload=override,
            locale=locale,
        )  # fmt: skip

    async def select(
        self,
        message: FakeMessage,
        custom_id: str,
        values: Iterable[Any],
        member: Actor,
        *,
        check: bool = True,
        locale: str = "en-US",
    ) -> Interaction:
        """Pick ``values`` in a select menu (strings, or users/roles/channels for entity selects)."""
        comp = message.component(custom_id)
        if check and (comp is None or comp.get("type") not in SELECT_TYPES):
            raise SchemaError(f"no select {custom_id!r} on message {message.id} (has {message.custom_ids()})")
        component_type = int(comp["type"]) if comp else 3
        guild, channel = self._component_context(message)
        raw_values, resolved = self._select_values(component_type, list(values), guild, channel)
        if check and comp is not None:
            self._check_select(comp, raw_values)
        data: dict[str, Any] = {
            "custom_id": custom_id,
            "component_type": component_type,
            "values": raw_values,
        }
        if resolved:
            data["resolved"] = resolved
        return self._dispatch_interaction(
            MESSAGE_COMPONENT, guild, member, channel, data, message=message, locale=locale
        )

    def _select_values(
        self, component_type: int, values: list[Any], guild: FakeGuild | None, channel: FakeChannel
    ) -> tuple[list[str], dict[str, Any]]:
        if component_type == 3:
            if not all(isinstance(v, str) for v in values):
                raise SchemaError("string select values must be str")
            return list(values), {}
        resolver = self._resolver(guild, channel)
        resolved = cmds.Resolved()
        kind = {5: cmds.USER, 6: cmds.ROLE, 7: cmds.MENTIONABLE, 8: cmds.CHANNEL}[component_type]
        opt = {"name": "values", "type": kind}
        raw = [cmds.convert(opt, v, resolver, resolved, True) for v in values]
        return raw, resolved.to_dict()

    @staticmethod
    def _check_select(comp: dict[str, Any], values: list[str]) -> None:
        if comp.get("disabled"):
            raise ClientWouldReject(f"select {comp.get('custom_id')!r} is disabled")
        low, high = comp.get("min_values", 1), comp.get("max_values", 1)
        if not low <= len(values) <= high:
            raise ClientWouldReject(f"select needs between {low} and {high} values, got {len(values)}")
        if comp.get("type") == 3:
            allowed = [o["value"] for o in comp.get("options", [])]
            bad = [v for v in values if v not in allowed]
            if bad:
                raise SchemaError(f"{bad} are not options of select {comp.get('custom_id')!r} ({allowed})")

    async def submit_modal(
        self,
        opened_by: Interaction,
        member: Actor,
        values: Mapping[str, Any],
        *,
        check: bool = True,
    ) -> Interaction:
        """Submit the modal that ``opened_by`` answered with: ``{field_custom_id: value}``.

        Text inputs take str; selects inside labels take a list of str. The submission carries the
        locale of the interaction that opened the modal (the same client).
        """
        modal = opened_by.modal
        if modal is None:
            raise SchemaError(
                f"interaction {opened_by.id} did not open a modal (response type {opened_by.type})"
            )
        fields = {
            c["custom_id"]: c for c in walk_components(modal.get("components", [])) if c.get("custom_id")
        }
        unknown = [k for k in values if k not in fields]
        if unknown:
            raise SchemaError(
                f"modal {modal.get('custom_id')!r} has no field(s) {unknown} (has {sorted(fields)})"
            )
        if check:
            for custom_id, comp in fields.items():
                self._check_modal_field(comp, values.get(custom_id))
        components = [self._modal_answer(c, values) for c in modal.get("components", [])]
        data = {"custom_id": modal["custom_id"], "components": [c for c in components if c is not None]}
        guild = opened_by.guild
        channel = self.channels[opened_by.channel_id]
        return self._dispatch_interaction(
            MODAL_SUBMIT, guild, member, channel, data, message=opened_by.source_message,
            locale=opened_by.payload.get("locale", "en-US"),
        )  # fmt: skip

    @staticmethod
    def _check_modal_field(comp: dict[str, Any], value: Any) -> None:
        custom_id = comp.get("custom_id")
        if comp.get("type") == 4:
            text = value if value is not None else comp.get("value") or ""
            if not isinstance(text, str):
                raise SchemaError(f"text input {custom_id!r} takes a str")
            if comp.get("required", True) and not text:
                raise ClientWouldReject(f"text input {custom_id!r} is required")
            if text and len(text) < comp.get("min_length", 0):
                raise ClientWouldReject(f"text input {custom_id!r} shorter than {comp['min_length']}")
            if len(text) > comp.get("max_length", 4000):
                raise ClientWouldReject(
                    f"text input {custom_id!r} longer than {comp.get('max_length', 4000)}"
                )
        elif comp.get("type") == 3 and value is not None:
            FakeDiscord._check_select(comp, list(value))

    def _modal_answer(self, comp: dict[str, Any], values: Mapping[str, Any]) -> dict[str, Any] | None:
        kind = comp.get("type")
        if kind == 1:
            inner = [self._modal_answer(c, values) for c in comp.get("components", [])]
            return {"type": 1, "id": comp.get("id", 0), "components": [c for c in inner if c is not None]}
        if kind == 18:
            child = self._modal_answer(comp["component"], values)
            return None if child is None else {"type": 18, "id": comp.get("id", 0), "component": child}
        if kind == 4:
            value = values.get(comp["custom_id"], comp.get("value") or "")
            return {"type": 4, "id": comp.get("id", 0), "custom_id": comp["custom_id"], "value": value}
        if kind in SELECT_TYPES:
            picked = values.get(comp["custom_id"], [])
            return {
                "type": kind,
                "id": comp.get("id", 0),
                "custom_id": comp["custom_id"],
                "values": list(picked),
            }
        if kind == 10:
            return {"type": 10, "id": comp.get("id", 0), "content": comp.get("content", "")}
        return None

    # -- fault injection ----------------------------------------------------------------------

    def rate_limit(
        self,
        method: str,
        path_regex: str,
        times: int = 1,
        retry_after: float = 0.1,
        *,
        is_global: bool = False,
    ) -> Fault:
        """The next ``times`` requests matching (method, regex on the path after /api/v10) get 429."""
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
        fault = Fault(method.upper(), re.compile(path_regex), times, 429, body, retry_after)
        self.faults.append(fault)
        return fault

    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        code: int = 0,
        message: str = "Injected failure",
        times: int = 1,
        *,
        after: bool = False,
    ) -> Fault:
        """The next ``times`` matching requests answer ``status`` with a Discord-style JSON error.

        ``after``: the request is carried out first (a message is created) and only the answer is the
        error, as when Discord's answer is lost on the way.
        """
        fault = Fault(
            method.upper(), re.compile(path_regex), times, status, {"message": message, "code": code},
            after=after,
        )  # fmt: skip
        self.faults.append(fault)
        return fault

    # -- nonces -------------------------------------------------------------------------------

    def message_for_nonce(self, author_id: int, nonce: str) -> FakeMessage | None:
        """The message this author created with this nonce within the nonce window, if any."""
        found = self._nonces.get((author_id, nonce))
        if found is None or time.monotonic() - found[0] > self.nonce_window:
            return None
        return self.all_messages.get(found[1])

    def remember_nonce(self, msg: FakeMessage) -> None:
        if msg.nonce is not None:
            self._nonces[(msg.author.id, msg.nonce)] = (time.monotonic(), msg.id)

    def message_created(self, msg: FakeMessage) -> None:
        """Run the test's hooks on a message the bot just created."""
        for hook in list(self.on_message_created):
            hook(msg)

    # -- misc ---------------------------------------------------------------------------------

    def loading_cleared(self, msg: FakeMessage) -> None:
        msg.flags &= ~LOADING

    def now(self) -> Any:
        return utcnow()
