"""The gateway websocket: hello, identify/resume, heartbeats, dispatches with sequence numbers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .models import PresenceUpdate

if TYPE_CHECKING:
    from .server import FakeDiscord

log = logging.getLogger(__name__)

DISPATCH = 0
HEARTBEAT = 1
IDENTIFY = 2
PRESENCE_UPDATE = 3
RESUME = 6
RECONNECT = 7
REQUEST_GUILD_MEMBERS = 8
INVALID_SESSION = 9
HELLO = 10
HEARTBEAT_ACK = 11

GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
GUILD_SCHEDULED_EVENTS = 1 << 16

#: Which intent an event needs; events not listed are always sent.
EVENT_INTENTS = {
    "GUILD_CREATE": GUILDS,
    "GUILD_UPDATE": GUILDS,
    "GUILD_DELETE": GUILDS,
    "GUILD_ROLE_CREATE": GUILDS,
    "GUILD_ROLE_UPDATE": GUILDS,
    "GUILD_ROLE_DELETE": GUILDS,
    "CHANNEL_CREATE": GUILDS,
    "CHANNEL_UPDATE": GUILDS,
    "CHANNEL_DELETE": GUILDS,
    "GUILD_MEMBER_ADD": GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": GUILD_MEMBERS,
    "GUILD_SCHEDULED_EVENT_CREATE": GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_UPDATE": GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_DELETE": GUILD_SCHEDULED_EVENTS,
}


@dataclass(eq=False)
class Connection:
    ws: web.WebSocketResponse
    transport: asyncio.BaseTransport | None = None
    number: int = 0
    queue: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)
    writer: asyncio.Task[None] | None = None
    presence_seen: bool = False
    received: list[dict[str, Any]] = field(default_factory=list)

    def send(self, payload: dict[str, Any] | None) -> None:
        self.queue.put_nowait(payload)

    async def write_loop(self) -> None:
        while True:
            payload = await self.queue.get()
            if payload is None or self.ws.closed:
                return
            try:
                await self.ws.send_str(json.dumps(payload))
            except (ConnectionError, RuntimeError):
                return


class Gateway:
    """Holds the single session of the (one-shard) bot and its event buffer."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.session_id: str | None = None
        self.seq = 0
        self.buffer: list[dict[str, Any]] = []
        self.intents = 0
        self.active: Connection | None = None
        self.connections = 0
        self.identify_count = 0
        self.resume_count = 0
        self.ready_count = 0
        self._ready_connection = -1
        self.presences: list[PresenceUpdate] = []
        self.identify_payloads: list[dict[str, Any]] = []
        self._all: set[Connection] = set()

    # -- state --------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.active is not None and not self.active.ws.closed

    @property
    def is_ready(self) -> bool:
        return self.connected and self.active is not None and self._ready_connection == self.active.number

    # -- sending ------------------------------------------------------------------------------

    def dispatch(self, event: str, data: dict[str, Any]) -> bool:
        """Send a DISPATCH (buffered for RESUME). Returns False if no session or intent filtered it."""
        if self.session_id is None:
            return False
        needed = EVENT_INTENTS.get(event)
        if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE"):
            needed = GUILD_MESSAGES if data.get("guild_id") else DIRECT_MESSAGES
        if needed is not None and not self.intents & needed:
            return False
        self.seq += 1
        payload = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
        self.buffer.append(payload)
        if self.active is not None:
            self.active.send(payload)
        return True

    # -- websocket handler --------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        conn = Connection(ws=ws, transport=request.transport)
        conn.writer = asyncio.create_task(conn.write_loop())
        self._all.add(conn)
        conn.send({"op": HELLO, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    try:
                        frame = json.loads(msg.data)
                    except ValueError:
                        await ws.close(code=4002, message=b"Error while decoding payload.")
                        break
                    conn.received.append(frame)
                    await self._on_frame(conn, frame)
        finally:
            conn.send(None)
            if self.active is conn:
                self.active = None
            self._all.discard(conn)
            self.fake.notify()
        return ws

    async def _on_frame(self, conn: Connection, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        data = frame.get("d")
        if op == HEARTBEAT:
            conn.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            await self._identify(conn, data or {})
        elif op == RESUME:
            await self._resume(conn, data or {})
        elif op == PRESENCE_UPDATE:
            self.presences.append(
                PresenceUpdate(time=time.monotonic(), data=data or {}, connection=conn.number)
            )
            if conn is self.active and not conn.presence_seen:
                conn.presence_seen = True
                self._ready_connection = conn.number
                self.ready_count += 1
            self.fake.notify()
        elif op == REQUEST_GUILD_MEMBERS:
            self._request_members(data or {})
        else:
            log.debug("fake gateway ignoring op %s", op)

    def _take_over(self, conn: Connection) -> None:
        old = self.active
        if old is not None and old is not conn:
            old.send(None)
            asyncio.get_running_loop().create_task(old.ws.close(code=4000))
        self.connections += 1
        conn.number = self.connections
        self.active = conn

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> None:
        if data.get("token") != self.fake.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identify_count += 1
        self.identify_payloads.append(data)
        self.intents = int(data.get("intents", 0))
        self.session_id = secrets.token_hex(16)
        self.seq = 0
        self.buffer = []
        self._take_over(conn)
        fake = self.fake
        for guild in fake.guilds.values():
            guild.available = True
        self.dispatch(
            "READY",
            {
                "v": 10,
                "user": {**fake.bot_user.to_dict(), "verified": True, "mfa_enabled": False, "flags": 0},
                "guilds": [{"id": str(g.id), "unavailable": True} for g in fake.guilds.values()],
                "session_id": self.session_id,
                "session_type": "normal",
                "resume_gateway_url": fake.gateway_url,
                "shard": [0, 1],
                "application": {"id": str(fake.application_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "user_settings": {},
                "presences": [],
                "geo_ordered_rtc_regions": [],
                "guild_join_requests": [],
            },
        )
        for guild in fake.guilds.values():
            self.dispatch("GUILD_CREATE", guild.to_dict())
        fake.notify()

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        seq = data.get("seq")
        if (
            data.get("token") != self.fake.token
            or self.session_id is None
            or data.get("session_id") != self.session_id
            or not isinstance(seq, int)
            or seq > self.seq
        ):
            conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        self.resume_count += 1
        self._take_over(conn)
        for payload in self.buffer:
            if payload["s"] > seq:
                conn.send(payload)
        self.dispatch("RESUMED", {})
        self.fake.notify()

    def _request_members(self, data: dict[str, Any]) -> None:
        guild_ids = data.get("guild_id")
        if not isinstance(guild_ids, list):
            guild_ids = [guild_ids]
        query = (data.get("query") or "").lower()
        user_ids = data.get("user_ids")
        if user_ids is not None and not isinstance(user_ids, list):
            user_ids = [user_ids]
        wanted = {int(u) for u in user_ids} if user_ids is not None else None
        limit = int(data.get("limit") or 0)
        for gid in guild_ids:
            guild = self.fake.guilds.get(int(gid))
            if guild is None:
                continue
            members = [
                m
                for m in guild.members.values()
                if (wanted is None or m.id in wanted) and m.user.username.lower().startswith(query)
            ]
            if limit:
                members = members[:limit]
            chunk: dict[str, Any] = {
                "guild_id": str(guild.id),
                "members": [m.to_dict() for m in members],
                "chunk_index": 0,
                "chunk_count": 1,
            }
            if wanted is not None:
                chunk["not_found"] = [str(u) for u in wanted - {m.id for m in members}]
            if data.get("nonce") is not None:
                chunk["nonce"] = data["nonce"]
            self.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    # -- faults -------------------------------------------------------------------------------

    async def drop(self, code: int | None = 4000) -> None:
        """Close the bot's socket (so it RESUMEs). ``code=None`` kills the TCP connection instead."""
        conn = self.active
        self.active = None
        if conn is None:
            return
        conn.send(None)
        if code is None:
            if isinstance(conn.transport, asyncio.WriteTransport):
                conn.transport.abort()
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.ws.close(code=code, message=b"fake drop"), timeout=2.0)

    def invalidate(self, resumable: bool = False) -> None:
        if self.active is not None:
            self.active.send({"op": INVALID_SESSION, "d": resumable, "s": None, "t": None})
        if not resumable:
            self.session_id = None
            self.buffer = []

    def request_reconnect(self) -> None:
        if self.active is not None:
            self.active.send({"op": RECONNECT, "d": None, "s": None, "t": None})

    async def close_all(self) -> None:
        for conn in list(self._all):
            conn.send(None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.ws.close(code=1001), timeout=1.0)
            if conn.writer is not None:
                conn.writer.cancel()
