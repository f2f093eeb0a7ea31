"""The translation layer and the choice of language: who is answered in which language, how values show."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from domain import servers
from domain.clock import FakeClock
from domain.errors import Invalid, NotAllowed
from domain.groups import Target, WorkingGroups
from domain.i18n import LANGUAGES, joined, language_of, render, t, tn
from domain.languages import Languages, clean_language
from domain.permissions import Actor, Policy
from domain.privacy import Identities, Privacy
from storage.db import Database
from tests import engines

GUILD = 1001
COORD = Actor(GUILD, 10, "Coco", role_names=frozenset({"coordinator"}))
CORA = Actor(GUILD, 20, "Cora")
ALICE = Actor(GUILD, 30, "Alice")


def rows(db: Database, sql: str) -> list[tuple[object, ...]]:
    return engines.raw_rows(db.path, sql)


def test_a_text_renders_its_placeholders_and_plural_forms() -> None:
    assert t("The {what} is empty.", what="text").render("en") == "The text is empty."
    assert str(t("Hello {name}", name="Ana")) == "Hello Ana"
    assert tn("{n} member", "{n} members", 1).render("en") == "1 member"
    assert tn("{n} member", "{n} members", 2).render("en") == "2 members"
    assert render("typed by a member {not a placeholder}", "fr") == "typed by a member {not a placeholder}"


def test_values_are_formatted_for_the_language() -> None:
    big = t("{count} positions", count=12345)
    assert big.render("en") == "12,345 positions"
    assert big.render("fr") == "12\u202f345 positions"  # CLDR's French grouping: a narrow no-break space
    assert t("Point #{number}", number=12345).render("fr") == "Point #12345"  # a name, not a quantity
    choice = t("Pick {options}.", options=joined(["Yes", "No", "Abstain"], style="or"))
    assert choice.render("en") == "Pick Yes, No, or Abstain."
    assert choice.render("es") == "Pick Yes, No o Abstain."
    nested = t("{who} said: {what}", who="Ana", what=t("{n} agree", n=3))
    assert nested.render("en") == "Ana said: 3 agree"


def test_arabic_keeps_numbers_and_mentions_in_order() -> None:
    # every value is isolated, so a number or a mention inside right-to-left text keeps its own direction
    shown = t("{who} · #{number} · {count}", who="<@123>", number=7, count=1500).render("ar")
    assert shown == "\u2068<@123>\u2069 · #\u20687\u2069 · \u20681,500\u2069"


@pytest.mark.parametrize(
    ("choice", "locale", "fallback", "expected"),
    [
        ("ar", "fr", "en", "ar"),  # the member's own choice wins
        (None, "fr", "en", "fr"),
        (None, "es-419", "en", "es"),
        (None, "es-ES", "fr", "es"),
        (None, "pt-BR", "en", "pt"),
        (None, "en-GB", "fr", "en"),
        (None, "de", "fr", "fr"),  # a Discord language Caucus does not speak: the server's
        (None, None, "pt", "pt"),
        (None, None, "xx", "en"),
    ],
)
def test_which_language_a_reply_is_in(
    choice: str | None, locale: str | None, fallback: str, expected: str
) -> None:
    assert language_of(choice, locale, fallback) == expected


def test_language_codes_as_members_type_them() -> None:
    assert [clean_language(c) for c in ("FR", " es ", "pt-BR", "pt_br", "es-419", "ar", "auto", "", None)] == [
        "fr", "es", "pt", "pt", "es", "ar", None, None, None,
    ]  # fmt: skip
    with pytest.raises(Invalid, match="is not a language Caucus speaks"):
        clean_language("klingon")
    assert set(LANGUAGES) == {"en", "fr", "es", "pt", "ar"}


@pytest.fixture
async def setup(db: Database, clock: FakeClock) -> tuple[Languages, WorkingGroups]:
    await servers.server_joined(db, clock, GUILD, "Coalition", [(10, "Coco"), (20, "Cora"), (30, "Alice")])
    groups = WorkingGroups(db, clock, Policy(("Coordinator",)), ZoneInfo("UTC"))
    return Languages(db, clock, groups, "fr"), groups


async def test_a_member_chooses_their_language_and_goes_back(setup: tuple[Languages, WorkingGroups]) -> None:
    languages, _ = setup
    assert await languages.for_reply(GUILD, 30, "es-ES") == "es"
    assert await languages.set_choice(ALICE, "ar") == "ar"
    assert await languages.for_reply(GUILD, 30, "es-ES") == "ar"  # the cache was refreshed
    assert await languages.for_reply(GUILD, 20, None) == "fr"  # others: the server's
    assert await languages.set_choice(ALICE, "auto") is None
    assert await languages.for_reply(GUILD, 30, "es-ES") == "es"
    with pytest.raises(Invalid):
        await languages.set_choice(ALICE, "zz")


async def test_a_group_speaks_its_own_language(setup: tuple[Languages, WorkingGroups], db: Database) -> None:
    languages, groups = setup
    principles = await groups.create(COORD, "Principles")
    await groups.set_convener(COORD, principles, Target(20, "Cora"))
    assert languages.for_group(principles) == "fr" and languages.for_group(None) == "fr"
    with pytest.raises(NotAllowed, match="Only conveners of Principles or coordinators"):
        await languages.set_group_language(ALICE, principles, "pt")
    changed = await languages.set_group_language(CORA, principles, "pt")
    assert changed.language == "pt" and languages.for_group(changed) == "pt"
    assert rows(db, "SELECT name, language FROM groups") == [("Principles", "pt")]
    back = await languages.set_group_language(COORD, changed, "auto")
    assert back.language is None and languages.for_group(back) == "fr"


async def test_erasure_forgets_the_members_choice(
    setup: tuple[Languages, WorkingGroups], db: Database, clock: FakeClock
) -> None:
    languages, _ = setup
    await languages.set_choice(ALICE, "ar")
    privacy = Privacy(db, clock, Identities(b"k" * 32), forget=(languages.forget,))
    exported = (await privacy.export(ALICE)).decode()
    assert '"language": "ar"' in exported
    await privacy.erase(ALICE)
    assert rows(db, "SELECT count(*) FROM member_languages") == [(0,)]
    assert await languages.for_reply(GUILD, 30, None) == "fr"
    clock.advance(timedelta(seconds=1))
