"""A fake Discord (HTTP API v10 + gateway) for end-to-end tests of a discord.py bot.

See tests/e2e/README.md for how to drive it.
"""

from .errors import ClientWouldReject, FakeDiscordError, InteractionFailed, SchemaError
from .gateway import ShardSession, shard_of
from .interaction import Interaction
from .models import (
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    PresenceUpdate,
    RecordedRequest,
)
from .permissions import ADMINISTRATOR, DEFAULT_BOT, MANAGE_GUILD, MANAGE_ROLES
from .server import FakeDiscord, Fault

__all__ = [
    "ADMINISTRATOR",
    "DEFAULT_BOT",
    "MANAGE_GUILD",
    "MANAGE_ROLES",
    "ClientWouldReject",
    "FakeAttachment",
    "FakeChannel",
    "FakeDiscord",
    "FakeDiscordError",
    "FakeGuild",
    "FakeMember",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "Fault",
    "Interaction",
    "InteractionFailed",
    "PresenceUpdate",
    "RecordedRequest",
    "SchemaError",
    "ShardSession",
    "shard_of",
]
