"""The one translation layer: every sentence the bot says is a ``Text`` rendered in a language.

A ``Text`` is made where the sentence is written (``t("The {what} is empty.", what=...)``, or
``tn(singular, plural, n, ...)`` for plural forms) and rendered where the language is known: a reply in
the member's language, a public post in the server's or the working group's. The domain raises errors
carrying a Text and never needs to know who reads them.

Catalogues: gettext ``.po`` files under ``domain/locale/<lang>/LC_MESSAGES/caucus.po``, extracted and
compiled with Babel (``pybabel extract -F pyproject.toml -k t -k tn:1,2 -k locale_str``, see README),
their ``.mo`` committed beside them and checked to be current by the tests. Placeholders are named
(``{count}``) and identical in every language.

Parameters are formatted for the language: numbers with Babel (``1,234`` / ``1 234``), except those
named ``number`` or ending in ``_number`` or ``_id`` (an item's ``#1234`` is a name, not a quantity);
a Text inside a Text is rendered in the same language; a list of texts with ``joined()`` becomes the
language's own list ("a, b and c" / "a, b et c"). In Arabic, every parameter is wrapped in Unicode
isolates so numbers, mentions and times embedded in right-to-left text keep their order.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Literal

from babel.lists import format_list
from babel.numbers import format_decimal

#: The languages shipped, English first (the source language).
LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "pt", "ar")
#: How each language is named in its own words (for /language set and its answers).
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "es": "Español", "pt": "Português", "ar": "العربية"}
#: Right-to-left languages.
RTL = frozenset({"ar"})
#: Babel locales of the shipped languages (Portuguese is Brazil's).
BABEL_LOCALES = {"en": "en", "fr": "fr", "es": "es", "pt": "pt_BR", "ar": "ar"}
#: Discord's locales (what an interaction carries) mapped to the shipped languages; others fall back.
DISCORD_LOCALES = {
    "en-US": "en", "en-GB": "en", "fr": "fr", "es-ES": "es", "es-419": "es", "pt-BR": "pt",
}  # fmt: skip
DOMAIN = "caucus"
ListStyle = Literal["standard", "or"]
_FSI, _PDI = "\u2068", "\u2069"  # first-strong isolate, pop directional isolate


@dataclass(frozen=True)
class Text:
    """A sentence to say: its source (English) message id with named placeholders, and their values."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)
    plural: str | None = None
    n: int | None = None

    def pattern(self, lang: str) -> str:
        """The sentence's pattern in ``lang``, placeholders not filled in (the plural form chosen by ``n``)."""
        translations = catalogue(lang if lang in LANGUAGES else "en")
        if self.plural is not None and self.n is not None:
            return translations.ngettext(self.msgid, self.plural, self.n)
        return translations.gettext(self.msgid)

    def render(self, lang: str = "en") -> str:
        """The sentence in ``lang`` (an unknown language: English)."""
        pattern = self.pattern(lang)
        values = {key: _shown(key, value, lang) for key, value in self.params.items()}
        if self.n is not None and "n" not in values:
            values["n"] = _shown("n", self.n, lang)
        return pattern.format(**values) if values else pattern

    def __str__(self) -> str:
        return self.render("en")


@dataclass(frozen=True)
class Joined:
    """Several values shown as one list in the language's own way ("a, b and c")."""

    items: tuple[Any, ...]
    style: ListStyle = "standard"  # "a, b and c", or "or": "a, b or c"


def t(msgid: str, **params: Any) -> Text:
    """A sentence to translate (the literal is what ``pybabel extract`` collects)."""
    return Text(msgid, params)


def tn(singular: str, plural: str, n: int, **params: Any) -> Text:
    """A sentence with plural forms chosen by ``n`` (also available as ``{n}`` in the pattern)."""
    return Text(singular, params, plural, n)


def joined(items: Iterable[Any], *, style: ListStyle = "standard") -> Joined:
    """A list of values (texts, names, numbers) shown as one, in the language's own way."""
    return Joined(tuple(items), style)


def render(value: Text | str, lang: str) -> str:
    """A Text in ``lang``; a plain string as it is (text members typed, ids)."""
    return value.render(lang) if isinstance(value, Text) else value


def shown_value(key: str, value: Any, lang: str) -> str:
    """A placeholder's value as a sentence shows it in ``lang`` (numbers the language's way, isolated in
    right-to-left text)."""
    return _shown(key, value, lang)


def _shown(key: str, value: Any, lang: str) -> str:
    if isinstance(value, Text):
        shown = value.render(lang)
    elif isinstance(value, Joined):
        parts = [_shown(key, item, lang) for item in value.items]
        shown = format_list(parts, style=value.style, locale=BABEL_LOCALES[_known(lang)]) if parts else ""
    elif (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or key == "number"
        or key.endswith(("_number", "_id"))
    ):
        shown = str(value)
    else:
        shown = _number(value, _known(lang))
    return f"{_FSI}{shown}{_PDI}" if lang in RTL else shown


# Babel's formatting is slow, and an export says the same counts thousands of times
@lru_cache(maxsize=4096, typed=True)
def _number(value: int | float, lang: str) -> str:
    return str(format_decimal(value, locale=BABEL_LOCALES[lang]))


def _known(lang: str) -> str:
    return lang if lang in LANGUAGES else "en"


@cache
def catalogue(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of a language (English, the source, needs none)."""
    if lang == "en":
        return gettext.NullTranslations()
    path = resources.files("domain") / "locale" / BABEL_LOCALES[lang] / "LC_MESSAGES" / f"{DOMAIN}.mo"
    with resources.as_file(path) as mo:
        if not mo.exists():
            return gettext.NullTranslations()
        with mo.open("rb") as handle:
            return gettext.GNUTranslations(handle)


def language_of(choice: str | None, discord_locale: str | None, fallback: str) -> str:
    """The language of a reply: the member's own choice, else their Discord language if shipped, else
    ``fallback`` (the server's)."""
    if choice in LANGUAGES:
        return choice
    if discord_locale is not None and discord_locale in DISCORD_LOCALES:
        return DISCORD_LOCALES[discord_locale]
    if discord_locale is not None and discord_locale.split("-")[0] in LANGUAGES:
        return discord_locale.split("-")[0]
    return fallback if fallback in LANGUAGES else "en"
