"""Reading the per-server numbers members use for items, polls and sessions (``3`` or ``#3``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from domain.errors import Invalid, NotFound
from domain.text import is_ascii_number, quote, require_ascii_digits, strip_controls

T = TypeVar("T")
NUMBER_DIGITS_MAX = 9  # a server never numbers a billion things; longer is a typo (or would overflow SQLite)


def number_of(ref: str, noun: str) -> int:
    """The number in ``#3``/``3`` (digits 0-9 only); raises Invalid naming what was expected (``noun``: "an item")."""
    digits = strip_controls(ref).strip().removeprefix("#").strip()
    if not digits:
        raise Invalid(f"Give {noun} number, like #3 (autocomplete helps).")
    require_ascii_digits(digits, "#3")
    if not is_ascii_number(digits) or len(digits.lstrip("0")) > NUMBER_DIGITS_MAX:
        raise Invalid(f"“{quote(ref, 30)}” is not {noun} number; give it like #3 (autocomplete helps).")
    return int(digits)


def found(thing: T | None, sentence: str) -> T:
    """The thing looked up, or NotFound with ``sentence`` (what was not found and where to look)."""
    if thing is None:
        raise NotFound(sentence)
    return thing


async def by_number(fetch: Callable[[int], Awaitable[T | None]], ref: str, *, noun: str, listing: str) -> T:
    """This server's thing numbered as typed (``#3``/``3``), fetched by ``fetch(number)``; ``noun`` as in
    "an item", ``listing`` the command that lists them."""
    number = number_of(ref, noun)
    label = noun.split(" ", 1)[1]
    return found(await fetch(number), f"There is no {label} #{number} on this server; see {listing}.")
