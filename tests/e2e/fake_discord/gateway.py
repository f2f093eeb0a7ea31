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


#: Close codes Discord uses for a bad ``shard`` in IDENTIFY.
INVALID_SHARD = 4010
SHARDING_REQUIRED = 4011

#: Events about one guild whose guild id is the payload's ``id`` (the others carry ``guild_id``).
_GUILD_ID_IS_ID = {"GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"}


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's rule: a guild's events go to shard ``(guild_id >> 22) % shard_count``."""
    return (guild_id >> 22) % shard_count


def guild_of_event(event: str, data: dict[str, Any]) -> int | None:
    """The guild an event is about, or None (DMs, READY...): those go to shard 0, as on Discord."""
    raw = data.get("id") if event in _GUILD_ID_IS_ID else data.get("guild_id")
    return int(raw) if raw is not None else None


@dataclass(eq=False)
class ShardSession:
    """One shard's gateway session: what IDENTIFY created, its sequence, its buffer for RESUME."""

    shard_id: int
    shard_count: int
    session_id: str | None = None
    seq: int = 0
    buffer: list[dict[str, Any]] = field(default_factory=list)
    intents: int = 0
    active: Connection | None = None
    identify_count: int = 0
    resume_count: int = 0
    ready_count: int = 0
    identify_payloads: list[dict[str, Any]] = field(default_factory=list)
    #: The guild ids sent in GUILD_CREATE on this session, in order (READY's and later joins).
    guild_ids: list[int] = field(default_factory=list)
    _ready_connection: int = -1

    @property
    def shard(self) -> tuple[int, int]:
        return (self.shard_id, self.shard_count)

    @property
    def connected(self) -> bool:
        return self.active is not None and not self.active.ws.closed

    @property
    def is_ready(self) -> bool:
        return self.connected and self.active is not None and self._ready_connection == self.active.number

    def events(self, event: str) -> list[dict[str, Any]]:
        """The data of every ``event`` dispatched on the current session (its RESUME buffer)."""
        return [p["d"] for p in self.buffer if p["t"] == event]


class Gateway:
    """The bot's gateway sessions, one per shard ([0, 1] for a bot that does not shard).

    The attributes of a one-shard bot (``session_id``, ``seq``, ``buffer``, ``intents``, ``active``) are
    those of shard 0; the counters (``identify_count``, ``resume_count``) add up every shard's.
    ``ready_count`` counts the times the whole bot became ready: every shard's session sent a presence on
    its current connection.
    """

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.sessions: dict[int, ShardSession] = {}
        #: Refuse IDENTIFY (close 4011, "sharding required") when a session would hold more guilds.
        self.max_guilds_per_shard: int | None = None
        self.connections = 0
        self.ready_count = 0
        self.presences: list[PresenceUpdate] = []
        self.identify_payloads: list[dict[str, Any]] = []
        #: Close codes with which IDENTIFYs were refused (4004, 4010, 4011), in order.
        self.refused: list[int] = []
        self._all: set[Connection] = set()

    # -- state --------------------------------------------------------------------------------

    @property
    def shard_count(self) -> int:
        """The shard count of the current sessions (1 before any IDENTIFY)."""
        for session in self.sessions.values():
            return session.shard_count
        return 1

    def session_of(self, guild_id: int | None) -> ShardSession | None:
        """The session a guild's events go to (shard 0 for DMs), if that shard identified."""
        shard_id = 0 if guild_id is None else shard_of(guild_id, self.shard_count)
        return self.sessions.get(shard_id)

    def _main(self) -> ShardSession | None:
        return self.sessions.get(0)

    @property
    def session_id(self) -> str | None:
        main = self._main()
        return main.session_id if main else None

    @property
    def seq(self) -> int:
        main = self._main()
        return main.seq if main else 0

    @property
    def buffer(self) -> list[dict[str, Any]]:
        main = self._main()
        return main.buffer if main else []

    @property
    def intents(self) -> int:
        main = self._main()
        return main.intents if main else 0

    @property
    def active(self) -> Connection | None:
        main = self._main()
        return main.active if main else None

    @property
    def identify_count(self) -> int:
        return sum(s.identify_count for s in self.sessions.values())

    @property
    def resume_count(self) -> int:
        return sum(s.resume_count for s in self.sessions.values())

    def _complete(self) -> bool:
        return bool(self.sessions) and len(self.sessions) == self.shard_count

    @property
    def connected(self) -> bool:
        return self._complete() and all(s.connected for s in self.sessions.values())

    @property
    def is_ready(self) -> bool:
        return self._complete() and all(s.is_ready for s in self.sessions.values())

    # -- sending ------------------------------------------------------------------------------

    def dispatch(self, event: str, data: dict[str, Any]) -> bool:
        """Send a DISPATCH to the session of the event's guild (shard 0 for DMs), buffered for RESUME.

        Returns False if that shard has no session or its intents filter the event.
        """
        session = self.session_of(guild_of_event(event, data))
        if session is None:
            return False
        return self._send(session, event, data)

    def _send(self, session: ShardSession, event: str, data: dict[str, Any]) -> bool:
        if session.session_id is None:
            return False
        needed = EVENT_INTENTS.get(event)
        if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE"):
            needed = GUILD_MESSAGES if data.get("guild_id") else DIRECT_MESSAGES
        if needed is not None and not session.intents & needed:
            return False
        session.seq += 1
        payload = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.buffer.append(payload)
        if event == "GUILD_CREATE":
            session.guild_ids.append(int(data["id"]))
        if session.active is not None:
            session.active.send(payload)
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
            for session in self.sessions.values():
                if session.active is conn:
                    session.active = None
            self._all.discard(conn)
            self.fake.notify()
        return ws

    def _session_on(self, conn: Connection) -> ShardSession | None:
        for session in self.sessions.values():
            if session.active is conn:
                return session
        return None

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
            session = self._session_on(conn)
            if session is not None and not conn.presence_seen:
                conn.presence_seen = True
                session._ready_connection = conn.number
                session.ready_count += 1
                if self.is_ready:
                    self.ready_count += 1
            self.fake.notify()
        elif op == REQUEST_GUILD_MEMBERS:
            self._request_members(data or {})
        else:
            log.debug("fake gateway ignoring op %s", op)

    def _take_over(self, session: ShardSession, conn: Connection) -> None:
        old = session.active
        if old is not None and old is not conn:
            old.send(None)
            asyncio.get_running_loop().create_task(old.ws.close(code=4000))
        self.connections += 1
        conn.number = self.connections
        session.active = conn

    def _shard_problem(self, shard: Any) -> tuple[int, bytes] | None:
        """Why Discord would refuse this ``shard`` in IDENTIFY: (close code, reason), or None."""
        valid = (
            isinstance(shard, list)
            and len(shard) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in shard)
            and shard[1] >= 1
            and 0 <= shard[0] < shard[1]
        )
        if not valid:
            return INVALID_SHARD, b"Invalid shard."
        shard_id, count = shard
        live = {s.shard_count for s in self.sessions.values() if s.connected and s.shard_id != shard_id}
        if live and live != {count}:
            return INVALID_SHARD, b"Invalid shard."
        limit = self.max_guilds_per_shard
        if limit is not None and sum(shard_of(g, count) == shard_id for g in self.fake.guilds) > limit:
            return SHARDING_REQUIRED, b"Sharding required."
        return None

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> None:
        if data.get("token") != self.fake.token:
            self.refused.append(4004)
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        shard = data.get("shard", [0, 1])
        problem = self._shard_problem(shard)
        if problem is not None:
            self.refused.append(problem[0])
            await conn.ws.close(code=problem[0], message=problem[1])
            self.fake.notify()
            return
        shard_id, count = shard
        if count != self.shard_count:
            # the bot came back with another shard count: the old sessions (none still connected) are gone
            self.sessions.clear()
        session = self.sessions.get(shard_id)
        if session is None:
            session = self.sessions[shard_id] = ShardSession(shard_id=shard_id, shard_count=count)
        session.identify_count += 1
        session.identify_payloads.append(data)
        self.identify_payloads.append(data)
        session.intents = int(data.get("intents", 0))
        session.session_id = secrets.token_hex(16)
        session.seq = 0
        session.buffer = []
        session.guild_ids = []
        self._take_over(session, conn)
        fake = self.fake
        guilds = [g for g in fake.guilds.values() if shard_of(g.id, count) == shard_id]
        for guild in guilds:
            guild.available = True
        self._send(
            session,
            "READY",
            {
                "v": 10,
                "user": {**fake.bot_user.to_dict(), "verified": True, "mfa_enabled": False, "flags": 0},
                "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
                "session_id": session.session_id,
                "session_type": "normal",
                "resume_gateway_url": fake.gateway_url,
                "shard": [shard_id, count],
                "application": {"id": str(fake.application_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "user_settings": {},
                "presences": [],
                "geo_ordered_rtc_regions": [],
                "guild_join_requests": [],
            },
        )
        for guild in guilds:
            self._send(session, "GUILD_CREATE", guild.to_dict())
        fake.notify()

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        seq = data.get("seq")
        session = next(
            (s for s in self.sessions.values() if s.session_id and s.session_id == data.get("session_id")),
            None,
        )
        if (
            data.get("token") != self.fake.token
            or session is None
            or not isinstance(seq, int)
            or seq > session.seq
        ):
            conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        session.resume_count += 1
        self._take_over(session, conn)
        for payload in session.buffer:
            if payload["s"] > seq:
                conn.send(payload)
        self._send(session, "RESUMED", {})
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

    def _targets(self, shard: int | None) -> list[ShardSession]:
        if shard is None:
            return list(self.sessions.values())
        return [self.sessions[shard]] if shard in self.sessions else []

    async def drop(self, code: int | None = 4000, *, shard: int | None = None) -> None:
        """Close the bot's socket (so it RESUMEs) — every shard's, or ``shard``'s. ``code=None`` kills the TCP
        connection instead."""
        for session in self._targets(shard):
            conn = session.active
            session.active = None
            if conn is None:
                continue
            conn.send(None)
            if code is None:
                if isinstance(conn.transport, asyncio.WriteTransport):
                    conn.transport.abort()
                continue
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.ws.close(code=code, message=b"fake drop"), timeout=2.0)

    def invalidate(self, resumable: bool = False, *, shard: int | None = None) -> None:
        for session in self._targets(shard):
            if session.active is not None:
                session.active.send({"op": INVALID_SESSION, "d": resumable, "s": None, "t": None})
            if not resumable:
                session.session_id = None
                session.buffer = []

    def request_reconnect(self, *, shard: int | None = None) -> None:
        for session in self._targets(shard):
            if session.active is not None:
                session.active.send({"op": RECONNECT, "d": None, "s": None, "t": None})

    async def close_all(self) -> None:
        for conn in list(self._all):
            conn.send(None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.ws.close(code=1001), timeout=1.0)
            if conn.writer is not None:
                conn.writer.cancel()
