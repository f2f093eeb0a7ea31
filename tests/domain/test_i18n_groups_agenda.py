"""Working groups, the agenda, imports and the parsers say every sentence through the translation layer: a
refusal carries a Text whose message id is the English sentence with named placeholders (no value baked into
it), renders in any language, and keeps item and line numbers as names, not quantities."""

from __future__ import annotations

import string
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.agenda import Agenda, SessionSpec
from domain.clock import FakeClock
from domain.errors import DomainError, Invalid, NotAllowed, NotFound, TooLong
from domain.groups import Target, WorkingGroups
from domain.i18n import Joined, Text, t
from domain.permissions import Actor, Policy
from domain.refs import number_of
from domain.text import quote
from domain.timeparse import parse_duration, parse_when
from domain.timetable import parse_csv, parse_table
from storage.db import Database

GUILD = 1001
PARIS = ZoneInfo("Europe/Paris")
COORD = Actor(GUILD, 10, "Coco", role_names=frozenset({"coordinator"}))
ALICE = Actor(GUILD, 20, "Alice")
FSI, PDI = "\u2068", "\u2069"


@pytest.fixture
def wg(db: Database, clock: FakeClock) -> WorkingGroups:
    return WorkingGroups(db, clock, Policy(("Coordinator",)), PARIS)


@pytest.fixture
def agenda(db: Database, clock: FakeClock, wg: WorkingGroups) -> Agenda:
    return Agenda(db, clock, wg, PARIS, (timedelta(hours=1),))


def texts(value: Any) -> list[Text]:
    """Every Text in a sentence, the sentence first, then those in its placeholders (and lists)."""
    if isinstance(value, Text):
        return [value] + [inner for param in value.params.values() for inner in texts(param)]
    if isinstance(value, Joined):
        return [inner for item in value.items for inner in texts(item)]
    return []


def assert_wrapped(error: DomainError, *typed: str) -> list[Text]:
    """The refusal is a Text all the way down: each message id's fields are exactly its placeholders, what
    the member typed is a placeholder value and never part of a message id, and it renders in another
    language (French: a sentence of its own, filled with the same values)."""
    assert isinstance(error.text, Text), error.text
    found = texts(error.text)
    for text in found:
        fields = {name for _, name, _, _ in string.Formatter().parse(text.msgid) if name}
        given = set(text.params) | ({"n"} if text.n is not None else set())
        assert fields == given, (text.msgid, given)
        for value in typed:
            assert value not in text.msgid, text.msgid
    assert error.render("en") == str(error)
    french = error.render("fr")
    assert french.strip(), french
    return found


async def test_group_refusals_are_texts(wg: WorkingGroups) -> None:
    with pytest.raises(TooLong) as long:
        await wg.create(COORD, "x" * 81)
    assert_wrapped(long.value)
    assert str(long.value) == "A group name can be at most 80 characters; this one has 81."

    with pytest.raises(NotAllowed) as refused:
        await wg.create(ALICE, "Principles")
    found = assert_wrapped(refused.value)
    assert str(refused.value) == "Only coordinators can create working groups."
    assert [t.msgid for t in found] == ["Only coordinators can {doing}.", "create working groups"]

    with pytest.raises(NotFound) as missing:
        await wg.resolve(GUILD, "Roadmap drafting")
    assert_wrapped(missing.value, "Roadmap drafting")

    group = await wg.create(COORD, "Principles")
    with pytest.raises(NotAllowed) as not_convener:
        await wg.add_member(ALICE, group, Target(30, "Bruno"))
    assert_wrapped(not_convener.value, "Principles")
    assert str(not_convener.value) == "Only conveners of Principles or coordinators can add members."


async def test_agenda_refusals_are_texts(agenda: Agenda, wg: WorkingGroups) -> None:
    with pytest.raises(Invalid) as past:
        await agenda.add(COORD, SessionSpec(title="Roadmap", start="2026-01-05 09:00"))
    assert_wrapped(past.value, "2026-01-05 09:00")
    assert str(past.value) == "2026-01-05 09:00 (Europe/Paris) is in the past; give a future start."

    group = await wg.create(COORD, "Roadmap")
    with pytest.raises(NotAllowed) as refused:
        await agenda.add(ALICE, SessionSpec(title="Call", start="2026-12-03 09:00", group="Roadmap"))
    assert_wrapped(refused.value, "Roadmap")
    assert (
        str(refused.value)
        == f"Only conveners of {group.name} or coordinators can add sessions for {group.name}."
    )

    with pytest.raises(NotFound) as absent:
        await agenda.resolve(GUILD, "#41")
    assert_wrapped(absent.value)
    assert str(absent.value) == "There is no session #41 on this server; see /agenda list."


def test_parsers_fill_their_rules_and_limits_in() -> None:
    with pytest.raises(Invalid) as long:
        parse_duration("9w", longest=timedelta(days=7), rule=t("a session lasts at most {limit}"))
    assert str(long.value) == "“9w” is too long: a session lasts at most 7 days."
    found = assert_wrapped(long.value, "9w")
    assert [t.msgid for t in found] == [
        "“{text}” is too long: {rule}.",
        "a session lasts at most {limit}",
        "{n} day",
    ]

    with pytest.raises(Invalid) as gap:
        parse_when("2027-03-28 02:30", PARIS)
    assert_wrapped(gap.value, "2027-03-28 02:30", "Europe/Paris")

    with pytest.raises(Invalid) as wrong:
        number_of("three", "a poll")
    assert str(wrong.value) == "“three” is not a poll number; give it like #3 (autocomplete helps)."
    assert_wrapped(wrong.value, "three")

    invisible = quote("\u200b\u200b")
    assert isinstance(invisible, Text) and invisible.render("fr") == "caractères invisibles"


def test_each_bad_import_line_is_its_own_text_and_line_numbers_are_names() -> None:
    # 1,500 blank lines first: the bad lines are numbered 1501 and 1502, names that are never grouped ("1,501")
    table = "\n" * 1500 + "09:00-08:00 | Backwards\nlunch | Lunch\n"
    with pytest.raises(Invalid) as err:
        parse_table(table, None)
    found = assert_wrapped(err.value)
    lines = [t for t in found if t.msgid == "line {line_number}"]
    assert [t.params["line_number"] for t in lines] == [1501, 1502]
    english = str(err.value)
    assert english == (
        "Nothing was imported. line 1501: the table has times but no date: give the import's date option; "
        "line 1502: “lunch” is not a time range like 09:00-12:00."
    )
    # in Arabic every value is isolated, the line numbers too, and still not grouped
    arabic = err.value.render("ar")
    assert f"{FSI}1501{PDI}" in arabic and "1,501" not in arabic

    many = "start,end,title,date\n" + "".join(f"09:00,10:00,,2026-12-{n:02}\n" for n in range(1, 12))
    with pytest.raises(Invalid) as err:
        parse_csv(many, None)
    assert_wrapped(err.value)
    assert str(err.value).endswith("line 9: the session has no title; and 3 more.")
    assert err.value.text.plural is not None and err.value.text.n == 3  # "and N more" has plural forms
