"""Errors the domain raises. Each carries one plain sentence that is safe to show a member."""

from __future__ import annotations

from domain.i18n import Text, render


class DomainError(Exception):
    """A refusal the member can act on: one sentence, a ``Text`` rendered in the reader's language
    (``error.render(lang)``); ``str(error)`` is the English sentence (for logs and the command line)."""

    def __init__(self, message: str | Text) -> None:
        super().__init__(str(message))
        self.text = message
        self.message = str(message)

    def render(self, lang: str) -> str:
        """The sentence in ``lang``."""
        return render(self.text, lang)

    def __str__(self) -> str:
        return self.message


class NotAllowed(DomainError):
    """The member may not do this."""


class NotFound(DomainError):
    """The thing named does not exist on this server."""


class Invalid(DomainError):
    """The input cannot be used as given."""


class TooLong(Invalid):
    """A text is longer than its limit."""


class Conflict(DomainError):
    """The change clashes with what already exists."""


class Closed(DomainError):
    """The thing is closed, decided or archived and takes no more changes."""


class Unavailable(DomainError):
    """The bot cannot do this right now (storage full or read-only); trying later may work."""
