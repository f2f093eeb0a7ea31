"""Points, questions, polls and the breakdown say every sentence through the translation layer: each refusal
is one Text whose message id is the English sentence with named placeholders (what a member typed is a
value), the judge's hint is clauses with plural forms joined by a pattern, labels are Texts rendered by
whoever shows them, and the builders of cards, buttons and replies take the reader's language.

The catalogues are filled in a later phase, so the stand-in catalogue of the organisations' tests (every
sentence marked ⟦…⟧ and made half as long again) shows which words were rendered in the language.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from cogs.ui.consensus import PositionButton, ReasonModal, item_components, item_embed, recorded_text
from cogs.ui.counting import breakdown_blocks
from cogs.ui.polls import ballot_text, poll_components, poll_embed
from domain.clock import FakeClock
from domain.consensus import (
    STANCE_CHOICES,
    STANCE_LABELS,
    STATUS_LABELS,
    STATUS_TEXTS,
    Consensus,
    Stated,
    Tally,
    hint,
    parse_deadline,
)
from domain.counting import NO_ORG, PEOPLE, Support, breakdown, org_hint, parse_counting
from domain.errors import DomainError
from domain.groups import Target, WorkingGroups
from domain.permissions import Actor, Policy
from domain.polls import Ballot, Polls
from storage.db import Database
from tests.domain.test_i18n_groups_agenda import assert_wrapped, texts
from tests.domain.test_i18n_orgs_record import stand_in

__all__ = ["stand_in"]  # the fixture, used by name

GUILD = 1001
PARIS = ZoneInfo("Europe/Paris")
COORD = Actor(GUILD, 10, "Coco", role_names=frozenset({"coordinator"}))
CORA = Actor(GUILD, 20, "Cora")
ALICE = Actor(GUILD, 30, "Alice")
FSI, PDI = "\u2068", "\u2069"


@pytest.fixture
def wg(db: Database, clock: FakeClock) -> WorkingGroups:
    return WorkingGroups(db, clock, Policy(("Coordinator",)), PARIS)


@pytest.fixture
def cs(db: Database, clock: FakeClock, wg: WorkingGroups) -> Consensus:
    return Consensus(db, clock, wg, PARIS, (timedelta(hours=1),))


@pytest.fixture
def polls(db: Database, clock: FakeClock, wg: WorkingGroups) -> Polls:
    return Polls(db, clock, wg, PARIS, bytes(range(32)))


@pytest.fixture
async def principles(wg: WorkingGroups) -> None:
    group = await wg.create(COORD, "Principles")
    await wg.set_convener(COORD, group, Target(CORA.user_id, CORA.display_name))


Case = Callable[[Consensus, Polls], Awaitable[object]]
# what raises, the English sentence, and what the member typed (never part of a message id)
REFUSALS: dict[str, tuple[Case, str, tuple[str, ...]]] = {
    "question too long": (
        lambda _, polls: polls.create(ALICE, "x" * 301, "Yes; No"),
        "A question can be at most 300 characters; this one has 301.",
        (),
    ),
    "not a deadline": (
        lambda cs, _: cs.propose(ALICE, "point", "Open", deadline="whenever"),
        "“whenever” is not a deadline: give a duration such as 48h or 3d, or a date and time like "
        "2026-12-01 18:00.",
        ("whenever",),
    ),
    "deadline too far": (
        lambda cs, _: cs.propose(ALICE, "point", "Open", deadline="400d"),
        "“400d” is too long: a comment deadline is at most a year away.",
        ("400d",),
    ),
    "not the judge": (
        lambda cs, _: _then(
            cs.propose(ALICE, "point", "Open", group="Principles"), cs.decide(ALICE, "#1", "consensus")
        ),
        "Only conveners of Principles or coordinators can decide #1.",
        ("Principles",),
    ),  # fmt: skip
    "a status": (
        lambda cs, _: cs.list_items(GUILD, status="pending"),
        "“pending” is not a status; pick one from the list.",
        ("pending",),
    ),
    "nobody counts": (
        lambda cs, _: cs.propose(ALICE, "point", "Open", count="organisations"),
        "No organisation counts on this server yet, so a point counted per organisation would count nobody: a "
        "coordinator imports or verifies organisations first (/org import, /org verify).",
        (),
    ),
    "same options": (
        lambda _, polls: polls.create(ALICE, "Where?", "Kyoto; kyoto"),
        "Options 1 and 2 are the same (“kyoto”); make each option different.",
        ("kyoto",),
    ),
    "runs too long": (
        lambda _, polls: polls.create(ALICE, "Where?", "Kyoto; Lima", duration="91d"),
        "“91d” is too long: a poll runs at most 90 days.",
        ("91d",),
    ),
    "not the manager": (
        lambda _, polls: _then(
            polls.create(ALICE, "Where?", "Kyoto; Lima", group="Principles"),
            polls.close(CORA.__class__(GUILD, 99, "Zed"), "#1"),
        ),
        "Only the creator of poll #1, conveners of Principles or coordinators can close it.",
        ("Principles",),
    ),  # fmt: skip
}


async def _then(first: Awaitable[object], second: Awaitable[object]) -> object:
    await first
    return await second


@pytest.mark.parametrize("case", list(REFUSALS))
async def test_a_refusal_is_one_text_with_what_was_typed_as_a_value(
    cs: Consensus, polls: Polls, principles: None, case: str
) -> None:
    make, english, typed = REFUSALS[case]
    with pytest.raises(DomainError) as caught:
        await make(cs, polls)
    assert str(caught.value) == english
    assert_wrapped(caught.value, *typed)  # every message id's fields are its placeholders; renders in "fr"


def test_parsers_of_counting_and_deadlines_refuse_in_texts(clock: FakeClock) -> None:
    with pytest.raises(DomainError) as caught:
        parse_counting("regions")
    assert_wrapped(caught.value, "regions")


def test_a_refusal_renders_in_the_readers_language(clock: FakeClock, stand_in: None) -> None:
    with pytest.raises(DomainError) as long:
        parse_deadline("99999h", PARIS, clock.now())
    assert str(long.value) == "“99999h” is too long: a comment deadline is at most a year away."
    assert long.value.render("fr").startswith("⟦“99999h” is too long: ⟦a comment deadline is at most")


def test_the_hint_is_clauses_with_plural_forms_joined_by_a_pattern(stand_in: None) -> None:
    said = hint(Tally(agree=31, stand_aside=1, object=2, open_objections=2), 3)
    english = "no blocks, 2 objections open, 31 of 34 agree, 1 stands aside, 3 group members not responded"
    assert str(said) == english  # English exactly as it was
    clauses = [t for t in texts(said) if t.msgid != "{hint}, {clause}"]
    assert [t.msgid for t in clauses] == [
        "no blocks", "{n} objection open", "{n} of {responses} agree", "{n} stands aside",
        "{n} group member not responded",
    ]  # fmt: skip
    assert all(t.plural is not None for t in clauses[1:])  # each count has its plural forms
    french = said.render("fr")
    assert french.startswith("⟦⟦⟦⟦⟦no blocks⟧") and "⟦3 group members not responded⟧" in french
    arabic = said.render("ar")
    assert f"يوافق {FSI}31{PDI} من أصل {FSI}34{PDI}" in arabic  # every number isolated in right-to-left text

    per_org = org_hint(Tally(agree=22), 25, 3)
    assert str(per_org) == (
        "no organisation blocks, 0 objections open; 22 of 25 organisations agree, 3 have not responded"
    )
    assert per_org.msgid == "{hint}; {clause}"
    assert "⟦22 of ⟦25 organisations⟧" in per_org.render("fr")  # the nested count in the language too


def test_labels_are_texts_and_the_summary_keeps_its_english(stand_in: None) -> None:
    assert {key: text.msgid for key, text in STATUS_TEXTS.items()} == STATUS_LABELS  # for domain/render.py
    assert STATUS_LABELS["rough_consensus"] == "Rough consensus"
    assert STATUS_TEXTS["rough_consensus"].render("fr").startswith("⟦Rough consensus⟧")
    assert STANCE_LABELS["stand_aside"].render("fr").startswith("⟦stand aside⟧")
    split = breakdown(
        PEOPLE, STANCE_CHOICES, [Support(("agree",), "weog", None), Support(("block",), None, None)]
    )
    assert split.labels == ("agree", "stand aside", "object", "block")  # what exports write
    apart = split.by_region[-1]
    assert (apart.key, apart.label) == (NO_ORG, "No organisation")
    assert apart.shown.render("fr").startswith("⟦No organisation⟧")
    blocks = breakdown_blocks(split, "fr")
    assert blocks[0].startswith("**⟦Support by region (⟦members, by the organisation they represent")
    assert any("⟦WEOG⟧" in block and "⟦agree⟧" in block for block in blocks)
    assert (
        breakdown_blocks(split, "en")[0]
        == "**Support by region (members, by the organisation they represent)**"
    )


async def test_the_builders_take_the_readers_language(
    cs: Consensus, polls: Polls, principles: None, stand_in: None
) -> None:
    item = await cs.propose(ALICE, "point", "We publish all minutes.", group="Principles")
    view = await cs.view(item)
    english, french = item_embed(view, "en"), item_embed(view, "fr")
    assert (
        english.title == "Point #1 · Open"
        and french.title is not None
        and french.title.startswith("⟦Point #1⟧")
    )
    assert [f.name for f in english.fields][:3] == ["Working group", "Proposed by", "Positions"]
    assert all(f.name and f.name.startswith("⟦") for f in french.fields)
    buttons = [c.item.label for c in item_components(item, "fr").children]  # type: ignore[attr-defined]
    assert buttons[0] == "⟦Agree⟧~~" and PositionButton(item.item_id, "block").item.label == "Block"
    modal = ReasonModal(item, "object", "fr")
    assert modal.title.startswith("⟦Object: ⟦Point #1⟧")
    said = recorded_text(Stated(item), "agree", with_reason=False, lang="fr")
    assert said.startswith("⟦Recorded: ⟦agree⟧") and "⟦Point #1⟧" in said

    options = "; ".join(f"{n:02} " + "x" * 77 for n in range(25))
    poll = await polls.create(ALICE, "Which?", options, choices=25)
    pview = await polls.view(poll)
    assert poll_embed(pview, "en").title == "Poll #1 · Open"
    menu = poll_components(pview, "fr").children[0]
    assert menu.item.placeholder.startswith("⟦Choose up to 25 options⟧")  # type: ignore[attr-defined]
    ballot = Ballot(poll, tuple(range(1, 26)), tuple(o.label for o in pview.options), True)
    english_ballot, french_ballot = ballot_text(ballot, "en"), ballot_text(ballot, "fr")
    assert (
        english_ballot.startswith("Your ballot on Poll #1: **00 xxx")
        and "and 4 more (/poll results" in english_ballot
    )
    assert french_ballot.startswith("⟦Your ballot on ⟦Poll #1⟧")
    # 25 options of 80 characters do not fit one message: however long the language, the rest is counted
    assert len(english_ballot) <= 2000 and len(french_ballot) <= 2000
    assert "more (/poll results shows them)⟧" in french_ballot
