"""The HTTP API v10 routes a discord.py bot uses, served from the fake's state."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from . import interaction as itx_types
from .errors import ApiError, form_error, invalid_form_body, missing_permissions, unknown
from .interaction import Interaction
from .models import (
    DM_CHANNEL,
    EPHEMERAL,
    LOADING,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMessage,
    FakeRole,
    RecordedRequest,
)
from .permissions import (
    ADMINISTRATOR,
    CREATE_EVENTS,
    MANAGE_EVENTS,
    MANAGE_MESSAGES,
    MANAGE_ROLES,
    MENTION_EVERYONE,
    SEND_MESSAGES,
    VIEW_CHANNEL,
)
from .util import json_response, no_content, utcnow
from .validation import validate_choices, validate_commands, validate_message

if TYPE_CHECKING:
    from .server import FakeDiscord, Fault

log = logging.getLogger(__name__)

_API_PREFIX = re.compile(r"^/api/v(?:9|10)(/.*)$")


@dataclass
class Call:
    request: web.Request
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    json: Any
    files: list[tuple[str, bytes, str | None]] = field(default_factory=list)

    def int_param(self, name: str) -> int:
        try:
            return int(self.params[name])
        except ValueError:
            raise ApiError(404, 0, "404: Not Found") from None

    @property
    def body(self) -> dict[str, Any]:
        return self.json if isinstance(self.json, dict) else {}


Handler = Callable[[Call], Awaitable[web.StreamResponse]]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: bool = True


def _compile(template: str) -> re.Pattern[str]:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return re.compile(f"^{regex}$")


class HttpApi:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.routes: list[Route] = []
        add = self._add
        add("GET", "/users/@me", self.get_me)
        add("GET", "/users/{user_id}", self.get_user)
        add("GET", "/oauth2/applications/@me", self.get_application)
        add("GET", "/applications/@me", self.get_application)
        add("GET", "/gateway", self.get_gateway)
        add("GET", "/gateway/bot", self.get_gateway)
        add("GET", "/applications/{app_id}/commands", self.get_commands)
        add("PUT", "/applications/{app_id}/commands", self.put_commands)
        add("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self.get_commands)
        add("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self.put_commands)
        add("POST", "/interactions/{itx_id}/{token}/callback", self.interaction_callback, auth=False)
        add("GET", "/webhooks/{app_id}/{token}/messages/{message_id}", self.get_webhook_message, auth=False)
        add(
            "PATCH", "/webhooks/{app_id}/{token}/messages/{message_id}", self.edit_webhook_message, auth=False
        )
        add(
            "DELETE",
            "/webhooks/{app_id}/{token}/messages/{message_id}",
            self.delete_webhook_message,
            auth=False,
        )
        add("POST", "/webhooks/{app_id}/{token}", self.post_followup, auth=False)
        add("POST", "/users/@me/channels", self.create_dm)
        add("GET", "/channels/{channel_id}", self.get_channel)
        add("POST", "/channels/{channel_id}/typing", self.typing)
        add("GET", "/channels/{channel_id}/messages", self.list_messages)
        add("POST", "/channels/{channel_id}/messages", self.post_message)
        add("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message)
        add("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message)
        add("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message)
        add("GET", "/guilds/{guild_id}", self.get_guild)
        add("GET", "/guilds/{guild_id}/channels", self.get_guild_channels)
        add("GET", "/guilds/{guild_id}/roles", self.get_roles)
        add("POST", "/guilds/{guild_id}/roles", self.create_role)
        add("PATCH", "/guilds/{guild_id}/roles/{role_id}", self.edit_role)
        add("DELETE", "/guilds/{guild_id}/roles/{role_id}", self.delete_role)
        add("GET", "/guilds/{guild_id}/members", self.list_members)
        add("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member)
        add("PATCH", "/guilds/{guild_id}/members/{user_id}", self.edit_member)
        add("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self.add_member_role)
        add("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self.remove_member_role)
        add("GET", "/guilds/{guild_id}/scheduled-events", self.list_events)
        add("POST", "/guilds/{guild_id}/scheduled-events", self.create_event)
        add("GET", "/guilds/{guild_id}/scheduled-events/{event_id}", self.get_event)
        add("PATCH", "/guilds/{guild_id}/scheduled-events/{event_id}", self.edit_event)
        add("DELETE", "/guilds/{guild_id}/scheduled-events/{event_id}", self.delete_event)

    def _add(self, method: str, template: str, handler: Handler, *, auth: bool = True) -> None:
        self.routes.append(Route(method, _compile(template), handler, auth))

    # -- plumbing -----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        fake = self.fake
        if request.method == "GET" and request.path.startswith("/attachments/"):
            return self.serve_attachment(request)
        match = _API_PREFIX.match(request.path)
        path = match.group(1) if match else request.path
        payload, files = await self._read_body(request)
        record = fake_record(fake, request.method, path, dict(request.query), payload)
        if fake.latency:
            await asyncio.sleep(fake.latency)
        response = await self._respond(request, match is not None, path, payload, files, record)
        record.status = response.status
        fake.notify()
        return response

    async def _respond(
        self,
        request: web.Request,
        is_api: bool,
        path: str,
        payload: Any,
        files: list[tuple[str, bytes, str | None]],
        record: RecordedRequest,
    ) -> web.StreamResponse:
        fake = self.fake
        route, params = self._match(request.method, path) if is_api else (None, {})
        if route is None:
            fake.unhandled.append((request.method, path))
            return json_response({"message": "Unknown route (fake)", "code": 0}, status=404)
        if route.auth and request.headers.get("Authorization") != f"Bot {fake.token}":
            return json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        late: Fault | None = None
        for fault in fake.faults:
            if fault.matches(request.method, path):
                fault.remaining -= 1
                if fault.status == 429:
                    fake.rate_limited_count += 1
                    record.rate_limited = True
                    return self._rate_limited(fault.retry_after, bool(fault.body.get("global")))
                if fault.after:
                    late = fault
                    break
                return json_response(fault.body, status=fault.status)
        call = Call(request, request.method, path, params, dict(request.query), payload, files)
        try:
            response = await route.handler(call)
            if late is not None:  # done, but the answer is lost: the client sees the error
                return json_response(late.body, status=late.status)
            return response
        except ApiError as exc:
            return json_response(exc.body(), status=exc.status)
        except Exception as exc:  # a bug in the fake: surface it to the test instead of hiding it
            log.exception("fake discord crashed on %s %s", request.method, path)
            fake.server_errors.append(exc)
            return json_response({"message": f"fake crashed: {exc!r}", "code": 0}, status=500)

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for route in self.routes:
            if route.method != method:
                continue
            m = route.pattern.match(path)
            if m:
                return route, m.groupdict()
        return None, {}

    @staticmethod
    def _rate_limited(retry_after: float, is_global: bool) -> web.Response:
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(max(1, round(retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Scope": "global" if is_global else "user",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
        return json_response(body, status=429, headers=headers)

    @staticmethod
    async def _read_body(request: web.Request) -> tuple[Any, list[tuple[str, bytes, str | None]]]:
        files: list[tuple[str, bytes, str | None]] = []
        if request.content_type.startswith("multipart/"):
            payload: Any = None
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):
                    continue
                data = await part.read()
                if part.name == "payload_json":
                    payload = json.loads(data)
                elif part.name and part.name.startswith("files["):
                    index = int(part.name[6:-1])
                    while len(files) <= index:
                        files.append(("", b"", None))
                    files[index] = (
                        part.filename or f"file{index}",
                        bytes(data),
                        part.headers.get("Content-Type"),
                    )
            return payload, files
        raw = await request.read()
        if not raw:
            return None, files
        try:
            return json.loads(raw), files
        except ValueError:
            return raw.decode(errors="replace"), files

    def serve_attachment(self, request: web.Request) -> web.Response:
        parts = request.path.split("/")
        try:
            att = self.fake.attachments[int(parts[2])]
        except (IndexError, ValueError, KeyError):
            return json_response({"message": "404: Not Found", "code": 0}, status=404)
        att.downloads += 1
        return web.Response(
            body=att.data, headers={"Content-Type": att.content_type or "application/octet-stream"}
        )

    # -- lookups ------------------------------------------------------------------------------

    def _guild(self, call: Call) -> FakeGuild:
        guild = self.fake.guilds.get(call.int_param("guild_id"))
        if guild is None:
            raise unknown("Guild", 10004)
        return guild

    def _channel(self, call: Call) -> FakeChannel:
        channel = self.fake.channels.get(call.int_param("channel_id"))
        if channel is None or (channel.guild_id is not None and channel.guild_id not in self.fake.guilds):
            raise unknown("Channel", 10003)
        return channel

    def _role(self, guild: FakeGuild, call: Call) -> FakeRole:
        role = guild.roles.get(call.int_param("role_id"))
        if role is None:
            raise unknown("Role", 10011)
        return role

    def _bot_perms(self, guild: FakeGuild, channel: FakeChannel | None = None) -> int:
        return self.fake.permissions_for(guild, self.fake.bot_user, channel)

    def _require(self, guild: FakeGuild, perm: int, channel: FakeChannel | None = None) -> None:
        perms = self._bot_perms(guild, channel)
        if not perms & (perm | ADMINISTRATOR):
            raise missing_permissions()

    def _bot_top_position(self, guild: FakeGuild) -> int:
        if guild.owner_id == self.fake.bot_user.id:
            return 1 << 30
        member = guild.members[self.fake.bot_user.id]
        return max((guild.roles[r].position for r in member.role_ids if r in guild.roles), default=0)

    def _require_manageable(self, guild: FakeGuild, role: FakeRole) -> None:
        self._require(guild, MANAGE_ROLES)
        if role.managed or role.position >= self._bot_top_position(guild):
            raise missing_permissions()

    # -- identity -----------------------------------------------------------------------------

    async def get_me(self, call: Call) -> web.Response:
        me = self.fake.bot_user
        return json_response(
            {**me.to_dict(), "verified": True, "mfa_enabled": False, "flags": 0, "locale": "en-US"}
        )

    async def get_user(self, call: Call) -> web.Response:
        user = self.fake.users.get(call.int_param("user_id"))
        if user is None:
            raise unknown("User", 10013)
        return json_response(user.to_dict())

    async def get_application(self, call: Call) -> web.Response:
        fake = self.fake
        return json_response(
            {
                "id": str(fake.application_id),
                "name": fake.bot_user.username,
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": fake.app_owner.to_dict(),
                "verify_key": "0" * 64,
                "flags": 0,
                "team": None,
                "bot": fake.bot_user.to_dict(),
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "tags": [],
            }
        )

    async def get_gateway(self, call: Call) -> web.Response:
        return json_response(
            {
                "url": self.fake.gateway_url,
                "shards": self.fake.recommended_shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    # -- application commands -----------------------------------------------------------------

    def _check_app(self, call: Call) -> None:
        if call.int_param("app_id") != self.fake.application_id:
            raise ApiError(403, 50001, "Missing Access")

    async def get_commands(self, call: Call) -> web.Response:
        self._check_app(call)
        if "guild_id" in call.params:
            guild = self._guild(call)
            return json_response(self.fake.guild_commands.get(guild.id, []))
        return json_response(self.fake.global_commands)

    async def put_commands(self, call: Call) -> web.Response:
        self._check_app(call)
        body = call.json
        if not isinstance(body, list):
            raise invalid_form_body(form_error("_", "BASE_TYPE_ARRAY", "Must be an array"))
        validate_commands(body)
        fake = self.fake
        scope: int | None = None
        if "guild_id" in call.params:
            scope = self._guild(call).id
        stored: list[dict[str, Any]] = []
        for cmd in body:
            kind = cmd.get("type", 1)
            entry = {
                "type": kind,
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                "contexts": None,
                "integration_types": [0],
                **cmd,
                "id": str(fake.command_id(scope, cmd["name"], kind)),
                "application_id": str(fake.application_id),
                "version": str(fake.new_id()),
            }
            if scope is not None:
                entry["guild_id"] = str(scope)
            stored.append(entry)
        if scope is None:
            fake.global_commands = stored
        else:
            fake.guild_commands[scope] = stored
        fake.sync_counts[scope] += 1
        return json_response(stored)

    # -- interactions -------------------------------------------------------------------------

    async def interaction_callback(self, call: Call) -> web.StreamResponse:
        fake = self.fake
        itx = fake.interactions.get(call.int_param("itx_id"))
        if itx is None or itx.token != call.params["token"]:
            raise ApiError(404, 10062, "Unknown interaction")
        if itx.acknowledged:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if itx.failed or fake.elapsed(itx.dispatched_at) > itx_types.ACK_DEADLINE:
            itx.failed = True
            raise ApiError(404, 10062, "Unknown interaction")
        body = call.body
        kind = body.get("type")
        data = body.get("data") or {}
        message = self._apply_callback(itx, kind, data, call)
        itx.type = kind
        itx.callback = body
        itx.ack_latency = fake.elapsed(itx.dispatched_at)
        fake.notify()
        if call.query.get("with_response") not in ("1", "true", "True"):
            return no_content()
        info: dict[str, Any] = {"id": str(itx.id), "type": itx.kind}
        resource: dict[str, Any] = {"type": kind}
        if message is not None:
            info.update(
                response_message_id=str(message.id),
                response_message_loading=message.loading,
                response_message_ephemeral=message.ephemeral,
            )
            resource["message"] = message.to_dict()
        return json_response({"interaction": info, "resource": resource})

    def _apply_callback(
        self, itx: Interaction, kind: Any, data: dict[str, Any], call: Call
    ) -> FakeMessage | None:
        fake = self.fake
        channel = fake.channels[itx.channel_id]
        from_message = itx.kind == itx_types.MESSAGE_COMPONENT or (
            itx.kind == itx_types.MODAL_SUBMIT and itx.source_message is not None
        )
        bad_type = ApiError(
            400,
            50035,
            "Invalid Form Body",
            form_error("type", "INTERACTION_RESPONSE_TYPE_INVALID", "invalid"),
        )
        if itx.kind == itx_types.AUTOCOMPLETE:
            if kind != itx_types.AUTOCOMPLETE_RESULT:
                raise bad_type
            choices = data.get("choices") or []
            validate_choices(choices)
            itx.choices = choices
            return None
        if kind == itx_types.CHANNEL_MESSAGE:
            msg = self._create(channel, data, call.files, interaction=itx)
            itx.original = msg
            return msg
        if kind == itx_types.DEFERRED_CHANNEL_MESSAGE:
            flags = (int(data.get("flags") or 0) & EPHEMERAL) | LOADING
            msg = self._create(channel, {"content": "", "flags": flags}, [], interaction=itx, validate=False)
            itx.original = msg
            return msg
        if kind in (itx_types.DEFERRED_UPDATE_MESSAGE, itx_types.UPDATE_MESSAGE):
            if not from_message or itx.source_message is None:
                raise bad_type
            itx.original = itx.source_message
            if kind == itx_types.UPDATE_MESSAGE:
                self._edit(itx.source_message, data, call.files)
            return itx.source_message
        if kind == itx_types.MODAL:
            if itx.kind == itx_types.MODAL_SUBMIT:
                raise bad_type
            if not data.get("custom_id") or not data.get("title") or not data.get("components"):
                raise invalid_form_body(form_error("data", "BASE_TYPE_REQUIRED", "This field is required"))
            if len(data["title"]) > 45:
                raise invalid_form_body(
                    form_error("data.title", "BASE_TYPE_MAX_LENGTH", "Must be 45 or fewer in length.")
                )
            itx.modal = data
            return None
        raise bad_type

    def _itx_for_webhook(self, call: Call) -> Interaction:
        itx = self.fake.interactions_by_token.get(call.params["token"])
        if itx is None or call.int_param("app_id") != self.fake.application_id:
            raise unknown("Webhook", 10015)
        return itx

    def _webhook_message(self, itx: Interaction, message_id: str) -> FakeMessage:
        if message_id == "@original":
            msg = itx.original
        else:
            msg = self.fake.all_messages.get(int(message_id)) if message_id.isdigit() else None
            if msg is not None and msg is not itx.original and msg not in itx.followups:
                msg = None
        if msg is None or msg.deleted:
            raise unknown("Message", 10008)
        return msg

    async def get_webhook_message(self, call: Call) -> web.Response:
        itx = self._itx_for_webhook(call)
        return json_response(self._webhook_message(itx, call.params["message_id"]).to_dict())

    async def edit_webhook_message(self, call: Call) -> web.Response:
        itx = self._itx_for_webhook(call)
        msg = self._webhook_message(itx, call.params["message_id"])
        self._edit(msg, call.body, call.files)
        if msg is itx.original:
            itx.original_edited = True
        self.fake.notify()
        return json_response(msg.to_dict())

    async def delete_webhook_message(self, call: Call) -> web.Response:
        itx = self._itx_for_webhook(call)
        msg = self._webhook_message(itx, call.params["message_id"])
        self.fake.record_delete(msg)
        return no_content()

    async def post_followup(self, call: Call) -> web.StreamResponse:
        itx = self._itx_for_webhook(call)
        if not itx.acknowledged:
            raise unknown("Webhook", 10015)
        original = itx.original
        if itx.type == itx_types.DEFERRED_CHANNEL_MESSAGE and original is not None and original.loading:
            # Discord: the first follow-up after a deferred response replaces the "thinking" message.
            payload = {k: v for k, v in call.body.items() if k != "flags"}
            self._edit(original, payload, call.files)
            itx.original_edited = True
            msg = original
        else:
            channel = self.fake.channels[itx.channel_id]
            msg = self._create(channel, call.body, call.files, interaction=itx)
        itx.followups.append(msg)
        self.fake.notify()
        if call.query.get("wait") in ("1", "true", "True"):
            return json_response(msg.to_dict())
        return no_content()

    # -- messages -----------------------------------------------------------------------------

    def _create(
        self,
        channel: FakeChannel,
        payload: dict[str, Any],
        files: list[tuple[str, bytes, str | None]],
        *,
        interaction: Interaction | None = None,
        validate: bool = True,
    ) -> FakeMessage:
        fake = self.fake
        if validate:
            validate_message(payload, has_files=bool(files), creating=True)
        guild = fake.guild_of(channel.id)
        msg = FakeMessage(
            id=fake.new_id(), channel_id=channel.id, guild=guild, author=fake.bot_user,
            content=str(payload.get("content") or ""), embeds=list(payload.get("embeds") or []),
            components=list(payload.get("components") or []), flags=int(payload.get("flags") or 0),
            allowed_mentions=payload.get("allowed_mentions"), tts=bool(payload.get("tts")),
            message_reference=payload.get("message_reference"),
            nonce=None if payload.get("nonce") is None else str(payload["nonce"]),
            author_can_mention_everyone=guild is None or bool(self._bot_perms(guild, channel) & (MENTION_EVERYONE | ADMINISTRATOR)),
        )  # fmt: skip
        msg.attachments = self._attachments(payload, files, [], ephemeral=msg.ephemeral)
        if interaction is not None:
            msg.interaction_id = interaction.id
            msg.webhook_id = fake.application_id
            msg.message_type = 20 if interaction.kind == itx_types.APPLICATION_COMMAND else 0
        if payload.get("enforce_nonce"):
            fake.remember_nonce(msg)
        fake.store_message(msg)
        fake.message_created(msg)
        return msg

    def _edit(
        self, msg: FakeMessage, payload: dict[str, Any], files: list[tuple[str, bytes, str | None]]
    ) -> None:
        validate_message(payload, has_files=bool(files), creating=False)
        before = msg.snapshot()
        if "content" in payload:
            msg.content = str(payload["content"] or "")
        if "embeds" in payload:
            msg.embeds = list(payload["embeds"] or [])
        if "components" in payload:
            msg.components = list(payload["components"] or [])
        if "allowed_mentions" in payload:
            msg.allowed_mentions = payload["allowed_mentions"]
        if "flags" in payload and payload["flags"] is not None:
            # only SUPPRESS_EMBEDS / IS_COMPONENTS_V2 may change; ephemeral is fixed
            keep = msg.flags & EPHEMERAL
            msg.flags = (int(payload["flags"]) & ~(EPHEMERAL | LOADING)) | keep | (msg.flags & LOADING)
        if "attachments" in payload or files:
            msg.attachments = self._attachments(payload, files, msg.attachments, ephemeral=msg.ephemeral)
        msg.flags &= ~LOADING
        msg.edited_at = utcnow()
        self.fake.record_edit(msg, before)

    def _attachments(
        self,
        payload: dict[str, Any],
        files: list[tuple[str, bytes, str | None]],
        existing: list[FakeAttachment],
        *,
        ephemeral: bool,
    ) -> list[FakeAttachment]:
        by_id = {a.id: a for a in existing}
        result: list[FakeAttachment] = []
        used: set[int] = set()
        spec = payload.get("attachments")
        if spec is None:
            result = list(existing)
            spec = [{"id": i} for i in range(len(files))]
        for item in spec:
            ident = int(item.get("id", -1))
            if ident in by_id:
                result.append(by_id[ident])
            elif 0 <= ident < len(files) and ident not in used:
                used.add(ident)
                filename, data, content_type = files[ident]
                att = self.fake.store_attachment(
                    item.get("filename") or filename, data, content_type, description=item.get("description")
                )
                att.ephemeral = ephemeral
                result.append(att)
        for index, (filename, data, content_type) in enumerate(files):
            if index not in used and not any(int(i.get("id", -1)) == index for i in spec):
                att = self.fake.store_attachment(filename, data, content_type)
                att.ephemeral = ephemeral
                result.append(att)
        return result

    def _visible_message(self, call: Call, channel: FakeChannel) -> FakeMessage:
        msg = self.fake.all_messages.get(call.int_param("message_id"))
        if msg is None or msg.channel_id != channel.id or msg.deleted or msg.ephemeral:
            raise unknown("Message", 10008)
        return msg

    async def post_message(self, call: Call) -> web.Response:
        channel = self._channel(call)
        if channel.type == DM_CHANNEL:
            if channel.recipient is not None and channel.recipient.dms_closed:
                raise ApiError(403, 50007, "Cannot send messages to this user")
        else:
            guild = self.fake.guilds[channel.guild_id or 0]
            perms = self._bot_perms(guild, channel)
            if not perms & ADMINISTRATOR and (perms & (VIEW_CHANNEL | SEND_MESSAGES)) != (
                VIEW_CHANNEL | SEND_MESSAGES
            ):
                raise missing_permissions()
        body = dict(call.body)
        body["flags"] = int(body.get("flags") or 0) & ~EPHEMERAL
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            validate_message(body, has_files=bool(call.files), creating=True)
            # Discord: the same author and nonce within a few minutes returns that message; nothing is created
            existing = self.fake.message_for_nonce(self.fake.bot_user.id, str(nonce))
            if existing is not None:
                return json_response(existing.to_dict())
        msg = self._create(channel, body, call.files)
        return json_response(msg.to_dict())

    async def get_message(self, call: Call) -> web.Response:
        channel = self._channel(call)
        return json_response(self._visible_message(call, channel).to_dict())

    async def edit_message(self, call: Call) -> web.Response:
        channel = self._channel(call)
        msg = self._visible_message(call, channel)
        if msg.author.id != self.fake.bot_user.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._edit(msg, call.body, call.files)
        return json_response(msg.to_dict())

    async def delete_message(self, call: Call) -> web.Response:
        channel = self._channel(call)
        msg = self._visible_message(call, channel)
        if msg.author.id != self.fake.bot_user.id:
            guild = self.fake.guild_of(channel.id)
            if guild is None:
                raise ApiError(403, 50003, "Cannot execute action on a DM channel")
            self._require(guild, MANAGE_MESSAGES, channel)
        self.fake.record_delete(msg)
        return no_content()

    async def list_messages(self, call: Call) -> web.Response:
        channel = self._channel(call)
        msgs = self.fake.messages(channel)
        limit = max(1, min(100, int(call.query.get("limit", 50))))
        if "before" in call.query:
            msgs = [m for m in msgs if m.id < int(call.query["before"])]
        if "after" in call.query:
            after = [m for m in msgs if m.id > int(call.query["after"])]
            return json_response([m.to_dict() for m in reversed(after[:limit])])
        if "around" in call.query:
            around = int(call.query["around"])
            older = [m for m in msgs if m.id <= around][-(limit // 2 + 1) :]
            newer = [m for m in msgs if m.id > around][: limit - len(older)]
            msgs = older + newer
        return json_response([m.to_dict() for m in reversed(msgs[-limit:])])

    async def typing(self, call: Call) -> web.Response:
        self._channel(call)
        return no_content()

    async def create_dm(self, call: Call) -> web.Response:
        try:
            user_id = int(call.body.get("recipient_id", 0))
        except (TypeError, ValueError):
            user_id = 0
        if user_id not in self.fake.users:
            raise invalid_form_body(
                form_error("recipient_id", "NUMBER_TYPE_COERCE", "Value is not snowflake.")
            )
        return json_response(self.fake.dm_channel(user_id).to_dict())

    async def get_channel(self, call: Call) -> web.Response:
        return json_response(self._channel(call).to_dict())

    # -- guilds, roles, members ---------------------------------------------------------------

    async def get_guild(self, call: Call) -> web.Response:
        guild = self._guild(call)
        data = guild.to_dict(full=False)
        data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return json_response(data)

    async def get_guild_channels(self, call: Call) -> web.Response:
        return json_response([c.to_dict() for c in self._guild(call).channels.values()])

    async def get_roles(self, call: Call) -> web.Response:
        return json_response([r.to_dict() for r in self._guild(call).roles.values()])

    async def create_role(self, call: Call) -> web.Response:
        fake = self.fake
        guild = self._guild(call)
        self._require(guild, MANAGE_ROLES)
        body = call.body
        role = FakeRole(
            id=fake.new_id(), guild_id=guild.id, name=str(body.get("name") or "new role"),
            # as on Discord: without permissions, a new role gets @everyone's
            permissions=int(body["permissions"]) if body.get("permissions") is not None
            else guild.roles[guild.id].permissions, color=int(body.get("color") or 0),
            hoist=bool(body.get("hoist")), mentionable=bool(body.get("mentionable")),
        )  # fmt: skip
        if len(role.name) > 100:
            raise invalid_form_body(
                form_error("name", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
            )
        fake.insert_role(guild, role)
        fake.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.to_dict()})
        return json_response(role.to_dict())

    async def edit_role(self, call: Call) -> web.Response:
        guild = self._guild(call)
        role = self._role(guild, call)
        self._require_manageable(guild, role)
        body = call.body
        for key in ("name", "hoist", "mentionable"):
            if key in body:
                setattr(role, key, body[key])
        if "permissions" in body:
            role.permissions = int(body["permissions"] or 0)
        if "color" in body:
            role.color = int(body["color"] or 0)
        self.fake.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(guild.id), "role": role.to_dict()})
        return json_response(role.to_dict())

    async def delete_role(self, call: Call) -> web.Response:
        guild = self._guild(call)
        role = self._role(guild, call)
        if role.id == guild.id:
            raise ApiError(400, 50028, "Invalid Role")
        self._require_manageable(guild, role)
        del guild.roles[role.id]
        for member in guild.members.values():
            if role.id in member.role_ids:
                member.role_ids.remove(role.id)
        self.fake.dispatch("GUILD_ROLE_DELETE", {"guild_id": str(guild.id), "role_id": str(role.id)})
        return no_content()

    def _member(self, guild: FakeGuild, call: Call) -> Any:
        member = guild.members.get(call.int_param("user_id"))
        if member is None:
            raise unknown("Member", 10007)
        return member

    async def list_members(self, call: Call) -> web.Response:
        guild = self._guild(call)
        limit = max(1, min(1000, int(call.query.get("limit", 1))))
        after = int(call.query.get("after", 0))
        members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)[:limit]
        return json_response([m.to_dict() for m in members])

    async def get_member(self, call: Call) -> web.Response:
        guild = self._guild(call)
        return json_response(self._member(guild, call).to_dict())

    async def edit_member(self, call: Call) -> web.Response:
        guild = self._guild(call)
        member = self._member(guild, call)
        body = call.body
        if "roles" in body:
            new = [int(r) for r in body["roles"] or []]
            changed = set(new) ^ set(member.role_ids)
            for role_id in changed:
                role = guild.roles.get(role_id)
                if role is None:
                    raise unknown("Role", 10011)
                self._require_manageable(guild, role)
            member.role_ids = new
        if "nick" in body:
            member.nick = body["nick"]
        self.fake.member_updated(guild, member)
        return json_response(member.to_dict())

    async def add_member_role(self, call: Call) -> web.Response:
        guild = self._guild(call)
        member = self._member(guild, call)
        role = self._role(guild, call)
        self._require_manageable(guild, role)
        if role.id not in member.role_ids:
            member.role_ids.append(role.id)
            self.fake.member_updated(guild, member)
        return no_content()

    async def remove_member_role(self, call: Call) -> web.Response:
        guild = self._guild(call)
        member = self._member(guild, call)
        role = self._role(guild, call)
        self._require_manageable(guild, role)
        if role.id in member.role_ids:
            member.role_ids.remove(role.id)
            self.fake.member_updated(guild, member)
        return no_content()

    # -- scheduled events ---------------------------------------------------------------------

    def _event(self, guild: FakeGuild, call: Call) -> dict[str, Any]:
        event = guild.scheduled_events.get(call.int_param("event_id"))
        if event is None:
            raise unknown("Guild Scheduled Event", 10070)
        return event

    async def list_events(self, call: Call) -> web.Response:
        return json_response(list(self._guild(call).scheduled_events.values()))

    async def get_event(self, call: Call) -> web.Response:
        guild = self._guild(call)
        return json_response(self._event(guild, call))

    async def create_event(self, call: Call) -> web.Response:
        fake = self.fake
        guild = self._guild(call)
        if not self._bot_perms(guild) & (MANAGE_EVENTS | CREATE_EVENTS | ADMINISTRATOR):
            raise missing_permissions()
        body = call.body
        for key in ("name", "privacy_level", "scheduled_start_time", "entity_type"):
            if body.get(key) in (None, ""):
                raise invalid_form_body(form_error(key, "BASE_TYPE_REQUIRED", "This field is required"))
        self._validate_event(body)
        event: dict[str, Any] = {
            "id": str(fake.new_id()),
            "guild_id": str(guild.id),
            "channel_id": None,
            "creator_id": str(fake.bot_user.id),
            "creator": fake.bot_user.to_dict(),
            "description": None,
            "scheduled_end_time": None,
            "entity_id": None,
            "entity_metadata": None,
            "status": 1,
            "user_count": 0,
            "image": None,
            "recurrence_rule": None,
        }
        event.update({k: v for k, v in body.items() if k in _EVENT_FIELDS})
        guild.scheduled_events[int(event["id"])] = event
        fake.dispatch("GUILD_SCHEDULED_EVENT_CREATE", event)
        return json_response(event)

    async def edit_event(self, call: Call) -> web.Response:
        guild = self._guild(call)
        event = self._event(guild, call)
        if not self._bot_perms(guild) & (MANAGE_EVENTS | ADMINISTRATOR):
            raise missing_permissions()
        merged = {**event, **{k: v for k, v in call.body.items() if k in _EVENT_FIELDS}}
        if "scheduled_start_time" in call.body and event["status"] == 1:
            self._validate_event(merged)
        event.update(merged)
        self.fake.dispatch("GUILD_SCHEDULED_EVENT_UPDATE", event)
        return json_response(event)

    async def delete_event(self, call: Call) -> web.Response:
        guild = self._guild(call)
        event = self._event(guild, call)
        if not self._bot_perms(guild) & (MANAGE_EVENTS | ADMINISTRATOR):
            raise missing_permissions()
        del guild.scheduled_events[int(event["id"])]
        self.fake.dispatch("GUILD_SCHEDULED_EVENT_DELETE", event)
        return no_content()

    @staticmethod
    def _validate_event(body: dict[str, Any]) -> None:
        start = _parse_time(body["scheduled_start_time"])
        if start < utcnow() - dt.timedelta(minutes=1):
            raise invalid_form_body(
                form_error(
                    "scheduled_start_time",
                    "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST",
                    "Cannot schedule event in the past.",
                )
            )
        end = body.get("scheduled_end_time")
        if body.get("entity_type") == 3:
            if not (body.get("entity_metadata") or {}).get("location"):
                raise invalid_form_body(
                    form_error("entity_metadata.location", "BASE_TYPE_REQUIRED", "This field is required")
                )
            if not end:
                raise invalid_form_body(
                    form_error("scheduled_end_time", "BASE_TYPE_REQUIRED", "This field is required")
                )
        if end and _parse_time(end) < start:
            raise invalid_form_body(
                form_error("scheduled_end_time", "BASE_TYPE_BAD_VALUE", "End before start.")
            )


def _parse_time(value: Any) -> dt.datetime:
    moment = dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


_EVENT_FIELDS = {
    "name",
    "description",
    "privacy_level",
    "scheduled_start_time",
    "scheduled_end_time",
    "entity_type",
    "entity_metadata",
    "channel_id",
    "status",
    "image",
    "recurrence_rule",
}


def fake_record(
    fake: FakeDiscord, method: str, path: str, query: dict[str, str], payload: Any
) -> RecordedRequest:
    record = RecordedRequest(method=method, path=path, query=query, time=time.monotonic(), json=payload)
    fake.requests.append(record)
    return record
