"""Exceptions raised by the fake Discord driver (in the test, never in the bot)."""

from __future__ import annotations

from typing import Any


class FakeDiscordError(Exception):
    """Base class of every error the driver raises in a test."""


class SchemaError(FakeDiscordError):
    """The test asked for something the registered schema or message does not have (a test bug)."""


class ClientWouldReject(FakeDiscordError):
    """The official Discord client would refuse to send this (choices, lengths, ranges, types...)."""


class InteractionFailed(FakeDiscordError):
    """The bot did not acknowledge an interaction in time: the user sees "This interaction failed"."""


class ApiError(Exception):
    """Raised inside a route handler to answer with a Discord-style JSON error."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def unknown(kind: str, code: int) -> ApiError:
    return ApiError(404, code, f"Unknown {kind}")


def missing_permissions() -> ApiError:
    return ApiError(403, 50013, "Missing Permissions")


def invalid_form_body(errors: dict[str, Any]) -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body", errors)


def form_error(path: str, code: str, message: str) -> dict[str, Any]:
    """Build Discord's nested ``errors`` object for a dotted path such as ``embeds.0.title``."""
    leaf: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(path.split(".")):
        leaf = {part: leaf}
    return leaf
