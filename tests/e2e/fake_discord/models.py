"""The state the fake holds: users, guilds, roles, members, channels, messages."""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .util import iso, snowflake_time

EPHEMERAL = 1 << 6
LOADING = 1 << 7

TEXT_CHANNEL = 0
DM_CHANNEL = 1
VOICE_CHANNEL = 2
CATEGORY_CHANNEL = 4
NEWS_CHANNEL = 5


@dataclass(eq=False)
class FakeUser:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    #: When True, the bot cannot DM this user (403, code 50007).
    dms_closed: bool = False

    @property
    def name(self) -> str:
        return self.username

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.global_name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass(eq=False)
class FakeRole:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "hoist": self.hoist,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass(eq=False)
class FakeMember:
    user: FakeUser
    guild_id: int
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.username

    @property
    def mention(self) -> str:
        return f"<@{self.user.id}>"

    def to_dict(self, *, with_user: bool = True, permissions: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.role_ids],
            "nick": self.nick,
            "avatar": None,
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.to_dict()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass(eq=False)
class FakeChannel:
    id: int
    name: str
    type: int = TEXT_CHANNEL
    guild_id: int | None = None
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    permission_overwrites: list[dict[str, Any]] = field(default_factory=list)
    recipient: FakeUser | None = None

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def to_dict(self) -> dict[str, Any]:
        if self.type == DM_CHANNEL:
            return {
                "id": str(self.id),
                "type": DM_CHANNEL,
                "last_message_id": None,
                "recipients": [self.recipient.to_dict()] if self.recipient else [],
                "flags": 0,
            }
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [
                {
                    "id": str(o["id"]),
                    "type": o.get("type", 0),
                    "allow": str(o.get("allow", 0)),
                    "deny": str(o.get("deny", 0)),
                }
                for o in self.permission_overwrites
            ],
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "nsfw": False,
            "flags": 0,
        }
        if self.type in (TEXT_CHANNEL, NEWS_CHANNEL):
            data.update(topic=self.topic, last_message_id=None, rate_limit_per_user=0)
        elif self.type == VOICE_CHANNEL:
            data.update(bitrate=64000, user_limit=0, rtc_region=None, last_message_id=None)
        return data


@dataclass(eq=False)
class FakeGuild:
    id: int
    name: str
    owner_id: int
    bot_role_id: int
    preferred_locale: str = "en-US"
    roles: dict[int, FakeRole] = field(default_factory=dict)
    channels: dict[int, FakeChannel] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)
    scheduled_events: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: Whether the fake sent this guild to the connected bot (GUILD_CREATE).
    available: bool = True

    @property
    def everyone_role(self) -> FakeRole:
        return self.roles[self.id]

    @property
    def bot_role(self) -> FakeRole:
        return self.roles[self.bot_role_id]

    @property
    def default_channel(self) -> FakeChannel:
        return next(c for c in self.channels.values() if c.type == TEXT_CHANNEL)

    def channel(self, name: str) -> FakeChannel:
        for c in self.channels.values():
            if c.name == name:
                return c
        raise KeyError(name)

    def role(self, name: str) -> FakeRole:
        for r in self.roles.values():
            if r.name == name:
                return r
        raise KeyError(name)

    def member(self, name: str) -> FakeMember:
        for m in self.members.values():
            if m.user.username == name:
                return m
        raise KeyError(name)

    def to_dict(self, *, full: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "widget_enabled": False,
            "vanity_url_code": None,
            "application_id": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "preferred_locale": self.preferred_locale,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [r.to_dict() for r in self.roles.values()],
        }
        if full:
            data.update(
                {
                    "joined_at": iso(snowflake_time(self.id)),
                    "large": False,
                    "unavailable": False,
                    "member_count": len(self.members),
                    "members": [m.to_dict() for m in self.members.values()],
                    "channels": [c.to_dict() for c in self.channels.values()],
                    "threads": [],
                    "presences": [],
                    "voice_states": [],
                    "stage_instances": [],
                    "guild_scheduled_events": list(self.scheduled_events.values()),
                    "soundboard_sounds": [],
                }
            )
        return data


@dataclass(eq=False)
class FakeAttachment:
    id: int
    filename: str
    data: bytes
    content_type: str | None
    url: str
    description: str | None = None
    ephemeral: bool = False
    downloads: int = 0  # GETs of its URL (to tell that a bot refused a file without fetching it)

    @property
    def name(self) -> str:
        return self.filename

    @property
    def size(self) -> int:
        return len(self.data)

    def text(self, encoding: str = "utf-8") -> str:
        return self.data.decode(encoding)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
            "ephemeral": self.ephemeral,
        }
        if self.description is not None:
            data["description"] = self.description
        return data


_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


def walk_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every component, depth first, through action rows, containers, sections and labels."""
    for comp in components:
        yield comp
        yield from walk_components(comp.get("components", []) or [])
        for key in ("accessory", "component"):
            child = comp.get(key)
            if isinstance(child, dict):
                yield from walk_components([child])


def components_text(components: list[dict[str, Any]]) -> list[str]:
    return [c["content"] for c in walk_components(components) if c.get("type") == 10 and c.get("content")]


def embeds_text(embeds: list[dict[str, Any]]) -> list[str]:
    parts: list[str] = []
    for embed in embeds:
        for value in (
            (embed.get("author") or {}).get("name"),
            embed.get("title"),
            embed.get("description"),
        ):
            if value:
                parts.append(str(value))
        for fld in embed.get("fields", []) or []:
            parts.extend(str(fld[k]) for k in ("name", "value") if fld.get(k))
        footer = (embed.get("footer") or {}).get("text")
        if footer:
            parts.append(str(footer))
    return parts


@dataclass(eq=False)
class FakeMessage:
    id: int
    channel_id: int
    guild: FakeGuild | None
    author: FakeUser
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[FakeAttachment] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: dict[str, Any] | None = None
    tts: bool = False
    message_reference: dict[str, Any] | None = None
    #: Previous versions, oldest first (each a dict snapshot).
    edits: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    edited_at: dt.datetime | None = None
    #: Set for interaction responses and follow-ups.
    interaction_id: int | None = None
    webhook_id: int | None = None
    message_type: int = 0
    #: Whether the author may ping @everyone/@here and non-mentionable roles here.
    author_can_mention_everyone: bool = True
    #: The nonce the message was created with, if any.
    nonce: str | None = None

    @property
    def guild_id(self) -> int | None:
        return self.guild.id if self.guild else None

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)

    @property
    def text(self) -> str:
        """Content, embed texts and Components V2 text displays joined by newlines."""
        parts = [self.content] if self.content else []
        parts += embeds_text(self.embeds)
        parts += components_text(self.components)
        return "\n".join(parts)

    def buttons(self) -> list[tuple[str | None, str | None, bool]]:
        """``(label, custom_id, disabled)`` of every button (link buttons have no custom_id)."""
        return [
            (c.get("label"), c.get("custom_id"), bool(c.get("disabled", False)))
            for c in walk_components(self.components)
            if c.get("type") == 2
        ]

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in walk_components(self.components) if c.get("custom_id")]

    def component(self, custom_id: str) -> dict[str, Any] | None:
        for comp in walk_components(self.components):
            if comp.get("custom_id") == custom_id:
                return comp
        return None

    def attachment(self, filename: str) -> FakeAttachment:
        for att in self.attachments:
            if att.filename == filename:
                return att
        raise KeyError(filename)

    def pings(self) -> set[int | str]:
        """Who Discord would notify: user ids, role ids, ``"everyone"`` and ``"here"``.

        Honours allowed_mentions (absent = everything parsed), role mentionability and whether
        the author may mention @everyone. Ephemeral messages notify nobody.
        """
        if self.ephemeral:
            return set()
        content = self.content
        users = {int(m) for m in _USER_MENTION.findall(content)}
        roles = {int(m) for m in _ROLE_MENTION.findall(content)}
        everyone = "@everyone" in content
        here = "@here" in content
        am = self.allowed_mentions
        if am is not None:
            parse = set(am.get("parse", []) or [])
            if "users" not in parse:
                users &= {int(u) for u in am.get("users", []) or []}
            if "roles" not in parse:
                roles &= {int(r) for r in am.get("roles", []) or []}
            if "everyone" not in parse:
                everyone = here = False
        if self.guild is not None:
            roles = {
                r
                for r in roles
                if r in self.guild.roles
                and r != self.guild.id
                and (self.guild.roles[r].mentionable or self.author_can_mention_everyone)
            }
        if not self.author_can_mention_everyone:
            everyone = here = False
        result: set[int | str] = set(users) | set(roles)
        if everyone:
            result.add("everyone")
        if here:
            result.add("here")
        return result

    def snapshot(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "embeds": copy.deepcopy(self.embeds),
            "components": copy.deepcopy(self.components),
            "attachments": [a.filename for a in self.attachments],
            "flags": self.flags,
            "allowed_mentions": copy.deepcopy(self.allowed_mentions),
            "edited_at": self.edited_at,
        }

    def to_dict(self) -> dict[str, Any]:
        pings = self.pings()
        mentions: list[dict[str, Any]] = []
        if self.guild is not None:
            for uid in pings:
                if isinstance(uid, int) and uid in self.guild.members:
                    member = self.guild.members[uid]
                    mentions.append({**member.user.to_dict(), "member": member.to_dict(with_user=False)})
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "type": self.message_type,
            "author": self.author.to_dict(),
            "content": self.content,
            "timestamp": iso(self.created_at),
            "edited_timestamp": iso(self.edited_at) if self.edited_at else None,
            "tts": self.tts,
            "mention_everyone": "everyone" in pings or "here" in pings,
            "mentions": mentions,
            "mention_roles": [
                str(r) for r in pings if isinstance(r, int) and self.guild and r in self.guild.roles
            ],
            "attachments": [a.to_dict() for a in self.attachments],
            "embeds": copy.deepcopy(self.embeds),
            "components": copy.deepcopy(self.components),
            "pinned": False,
            "flags": self.flags,
            **({"nonce": self.nonce} if self.nonce is not None else {}),
        }
        if self.guild is not None:
            data["guild_id"] = str(self.guild.id)
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
            data["application_id"] = str(self.webhook_id)
        if self.message_reference is not None:
            data["message_reference"] = self.message_reference
        return data


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    time: float
    json: Any
    status: int = 0
    rate_limited: bool = False


@dataclass
class PresenceUpdate:
    time: float
    data: dict[str, Any]
    connection: int
