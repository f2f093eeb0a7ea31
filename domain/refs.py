"""Reading the per-server numbers members use for items, polls and sessions (``3`` or ``#3``)."""

from __future__ import annotations

from domain.errors import Invalid


def number_of(ref: str, noun: str) -> int:
    """The number in ``#3``/``3``; raises Invalid naming what was expected (``noun``: "an item")."""
    digits = ref.strip().lstrip("#").strip()
    if not digits.isdigit() or len(digits) > 9:
        raise Invalid(f"“{ref[:30]}” is not {noun} number; give it like #3 (autocomplete helps).")
    return int(digits)
