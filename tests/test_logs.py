"""Tokens never reach the logs."""

from __future__ import annotations

import logging

from bot.logs import RedactingFormatter, redact

BOT_TOKEN = "MTA4NjQ1NzY5MzEyNzY1MzQ1Ng.GhJkLm.abcdefghijklmnopqrstuvwxyz0123456789AB"


def test_interaction_and_webhook_tokens_are_redacted() -> None:
    line = (
        "POST https://discord.com/api/v10/interactions/1234567890/aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDp0b2tlbg/callback "
        "PATCH https://discord.com/api/v10/webhooks/111/aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDp0b2tlbg/messages/@original"
    )
    out = redact(line)
    assert "aW50ZXJhY3Rpb246" not in out
    assert "/interactions/1234567890/[token]/callback" in out
    assert "/webhooks/111/[token]/messages/@original" in out


def test_payload_tokens_are_redacted() -> None:
    line = "WebSocket Event: {'op': 0, 'd': {'token': 'itx-abcDEF123_-', 'id': '5'}} {\"token\": \"secret.bot.token\"}"
    out = redact(line)
    assert "itx-abcDEF123_-" not in out and "secret.bot.token" not in out
    assert "'token': '[token]'" in out and "'id': '5'" in out


def test_bot_token_redacted_in_messages_and_tracebacks() -> None:
    formatter = RedactingFormatter("%(message)s", secrets=("plain-secret-token",))
    try:
        raise ValueError(f"failed with {BOT_TOKEN} and plain-secret-token")
    except ValueError as exc:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "token was %s", (BOT_TOKEN,), (type(exc), exc, exc.__traceback__)
        )
    out = formatter.format(record)
    assert BOT_TOKEN not in out
    assert "plain-secret-token" not in out
    assert "[token]" in out
