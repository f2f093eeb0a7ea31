"""Logging to stderr with secrets removed: the bot token and interaction/webhook tokens never reach a log."""

from __future__ import annotations

import logging
import re
import sys

# discord.py's debug logs print request URLs; interaction callbacks and webhooks carry a token in the path.
_URL_TOKENS = re.compile(r"(/(?:interactions|webhooks)/\d+/)[A-Za-z0-9_.\-]{20,}")
# Gateway debug lines print whole payloads: interaction tokens (and the bot token in IDENTIFY) as "token" keys.
_TOKEN_KEYS = re.compile(r"""(['"]token['"]\s*:\s*['"])[^'"]+""")
# Bot tokens look like three base64url parts joined by dots.
_BOT_TOKEN = re.compile(r"\b[A-Za-z0-9_\-]{23,28}\.[A-Za-z0-9_\-]{6,7}\.[A-Za-z0-9_\-]{27,}\b")


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes tokens from the whole line, tracebacks included."""

    def __init__(self, fmt: str, secrets: tuple[str, ...] = ()) -> None:
        super().__init__(fmt)
        self.secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """The text with known secrets, bot tokens and interaction/webhook tokens replaced."""
    for secret in secrets:
        text = text.replace(secret, "[token]")
    text = _URL_TOKENS.sub(r"\1[token]", text)
    text = _TOKEN_KEYS.sub(r"\1[token]", text)
    return _BOT_TOKEN.sub("[token]", text)


def setup_logging(level: str, secrets: tuple[str, ...] = ()) -> None:
    """One stderr handler on the root logger with the redacting formatter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # discord.py's HTTP debug lines are noisy; they follow the configured level only when it is DEBUG.
    if level != "DEBUG":
        logging.getLogger("discord.http").setLevel(logging.WARNING)
        logging.getLogger("discord.gateway").setLevel(logging.WARNING)
