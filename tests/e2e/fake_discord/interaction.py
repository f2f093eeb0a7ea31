"""The record of one interaction the driver dispatched, and what the bot answered."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import InteractionFailed
from .models import FakeGuild, FakeMember, FakeMessage

if TYPE_CHECKING:
    from .server import FakeDiscord

# Interaction types (what the user did)
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

# Callback types (what the bot answered)
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

ACK_DEADLINE = 3.0


@dataclass(eq=False)
class Interaction:
    """What the test sees of an interaction: the payload sent and the bot's answers."""

    id: int
    token: str
    kind: int
    guild: FakeGuild | None
    member: FakeMember
    channel_id: int
    payload: dict[str, Any]
    dispatched_at: float
    _fake: FakeDiscord = field(repr=False)
    #: The message a component/modal interaction came from.
    source_message: FakeMessage | None = None
    #: Callback type (4 message, 5 deferred, 6 deferred update, 7 update, 8 choices, 9 modal).
    type: int | None = None
    callback: dict[str, Any] | None = None
    ack_latency: float | None = None
    #: Set when Discord would show "This interaction failed" (no callback within 3 s).
    failed: bool = False
    #: The @original message (the response, the deferred placeholder, or the updated message).
    original: FakeMessage | None = None
    followups: list[FakeMessage] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    choices: list[dict[str, Any]] | None = None
    #: Set once the @original has been edited after the callback (deferred responses).
    original_edited: bool = False

    @property
    def acknowledged(self) -> bool:
        return self.type is not None

    @property
    def message(self) -> FakeMessage | None:
        """The visible response: the message (types 4/7), or the @original once edited (5/6)."""
        if self.type in (CHANNEL_MESSAGE, UPDATE_MESSAGE):
            return self.original
        if self.type in (DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE) and self.original_edited:
            return self.original
        return None

    @property
    def ephemeral(self) -> bool:
        msg = self.original
        return bool(msg is not None and msg.ephemeral)

    @property
    def text(self) -> str:
        msg = self.message
        return msg.text if msg is not None else ""

    async def response(self, timeout: float = ACK_DEADLINE) -> Interaction:
        """Wait for the bot's callback; raise InteractionFailed if none came in time."""
        ok = await self._fake.wait_until(lambda: self.acknowledged, timeout=timeout)
        if not ok:
            if self._fake.elapsed(self.dispatched_at) >= ACK_DEADLINE:
                self.failed = True
            raise InteractionFailed(
                f"interaction {self.id} ({self.describe()}) was not acknowledged within {timeout:.1f}s"
            )
        return self

    async def final(self, timeout: float = 10.0) -> FakeMessage:
        """The final visible message: immediate for types 4/7, after the edit for deferred ones."""
        await self.response(timeout=min(timeout, ACK_DEADLINE))
        if self.type in (AUTOCOMPLETE_RESULT, MODAL):
            raise InteractionFailed(f"interaction {self.id} answered with type {self.type}, not a message")
        ok = await self._fake.wait_until(lambda: self.message is not None, timeout=timeout)
        if not ok or self.message is None:
            raise InteractionFailed(f"deferred interaction {self.id} ({self.describe()}) was never completed")
        return self.message

    async def followup(self, index: int = 0, timeout: float = 10.0) -> FakeMessage:
        """Wait for follow-up number ``index`` (0-based)."""
        ok = await self._fake.wait_until(lambda: len(self.followups) > index, timeout=timeout)
        if not ok:
            raise InteractionFailed(f"interaction {self.id} got no follow-up #{index} within {timeout:.1f}s")
        return self.followups[index]

    def describe(self) -> str:
        data = self.payload.get("data", {})
        return str(data.get("name") or data.get("custom_id") or self.kind)
