"""Reading the per-server numbers members use for items, polls, sessions and statements (``3`` or ``#3``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from domain.errors import Invalid, NotFound
from domain.i18n import Text, t
from domain.text import is_ascii_number, quote, require_ascii_digits, strip_controls

T = TypeVar("T")
NUMBER_DIGITS_MAX = 9  # a server never numbers a billion things; longer is a typo (or would overflow SQLite)
#: The numbered things, as a refusal names them.
Noun = Literal["an item", "a poll", "a session", "a statement"]


@dataclass(frozen=True)
class _Sentences:
    """What is said about one kind of numbered thing: no number given, not a number, none with that number
    (one whole sentence each, so every language words the noun its own way)."""

    missing: Text
    wrong: Callable[[str | Text], Text]
    absent: Callable[[int, str], Text]


_SAID: dict[Noun, _Sentences] = {
    "an item": _Sentences(
        t("Give an item number, like #3 (autocomplete helps)."),
        lambda ref: t("“{ref}” is not an item number; give it like #3 (autocomplete helps).", ref=ref),
        lambda number, listing: t(
            "There is no item #{number} on this server; see {listing}.", number=number, listing=listing
        ),
    ),
    "a poll": _Sentences(
        t("Give a poll number, like #3 (autocomplete helps)."),
        lambda ref: t("“{ref}” is not a poll number; give it like #3 (autocomplete helps).", ref=ref),
        lambda number, listing: t(
            "There is no poll #{number} on this server; see {listing}.", number=number, listing=listing
        ),
    ),
    "a statement": _Sentences(
        t("Give a statement number, like #3 (autocomplete helps)."),
        lambda ref: t("“{ref}” is not a statement number; give it like #3 (autocomplete helps).", ref=ref),
        lambda number, listing: t(
            "There is no statement #{number} on this server; see {listing}.", number=number, listing=listing
        ),
    ),
    "a session": _Sentences(
        t("Give a session number, like #3 (autocomplete helps)."),
        lambda ref: t("“{ref}” is not a session number; give it like #3 (autocomplete helps).", ref=ref),
        lambda number, listing: t(
            "There is no session #{number} on this server; see {listing}.", number=number, listing=listing
        ),
    ),
}


def number_of(ref: str, noun: Noun) -> int:
    """The number in ``#3``/``3`` (digits 0-9 only); raises Invalid naming what was expected (``noun``: "an item")."""
    digits = strip_controls(ref).strip().removeprefix("#").strip()
    if not digits:
        raise Invalid(_SAID[noun].missing)
    require_ascii_digits(digits, "#3")
    if not is_ascii_number(digits) or len(digits.lstrip("0")) > NUMBER_DIGITS_MAX:
        raise Invalid(_SAID[noun].wrong(quote(ref, 30)))
    return int(digits)


def found(thing: T | None, sentence: Text | str) -> T:
    """The thing looked up, or NotFound with ``sentence`` (what was not found and where to look)."""
    if thing is None:
        raise NotFound(sentence)
    return thing


async def by_number(fetch: Callable[[int], Awaitable[T | None]], ref: str, *, noun: Noun, listing: str) -> T:
    """This server's thing numbered as typed (``#3``/``3``), fetched by ``fetch(number)``; ``noun`` as in
    "an item", ``listing`` the command that lists them."""
    number = number_of(ref, noun)
    return found(await fetch(number), _SAID[noun].absent(number, listing))
