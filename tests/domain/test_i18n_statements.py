"""Statements and the exports go through the translation layer.

Refusals of statements are Texts with what was typed as values; the card, its buttons, the closing post and
the answers are built in a language; the summary export and the signatory list render their Markdown and HTML
in a language (CSV and JSON are data: the same bytes in every language), an HTML page saying its language and,
in Arabic, its direction, each value isolated.

The catalogues are filled in a later phase: a stand-in French (every sentence marked ⟦…⟧, see
test_i18n_orgs_record) shows which words went through the catalogue. Removing every marked sentence from a
rendering leaves only what members typed and the markup around it: no word of ours may be left.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import discord
import pytest

from cogs.ui.statements import (
    card_embed,
    card_key,
    card_kwargs,
    card_view,
    choice_view,
    closing_parts,
    post_parts,
    show_pages,
    signed_text,
    superseded_embed,
)
from domain import i18n
from domain.agenda import Agenda, SessionSpec
from domain.clock import FakeClock
from domain.errors import DomainError
from domain.groups import WorkingGroups
from domain.i18n import Text, catalogue
from domain.permissions import Policy
from domain.record import Record
from domain.render import render as render_summary
from domain.signatories import SignatoryList
from domain.signatories import render as render_list
from domain.statements import clean_text, clean_title, clean_typed, close_time, read_upload
from domain.summary import Summaries, Summary
from storage.db import Database
from tests import engines
from tests.domain.test_i18n_orgs_record import Stand_in
from tests.domain.test_statements import (
    ALICE,
    BOB,
    COCO,
    CORA,
    DAN,
    ZONE_NAME,
    World,
    make_world,
    opened,
    signed_world,
)
from tests.scenario import GUILD as SCENARIO
from tests.scenario import ZONE, actor, build_org_scenario

FSI, PDI = "\u2068", "\u2069"
NOW = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
DIGITS = re.compile(r"[0-9.,\s]")
MARKED = re.compile(r"⟦[^⟦⟧]*⟧~*")
# words of ours the exports and posts say: none may be left once the stand-in's sentences are taken out
OUR_WORDS = (
    "Summary", "Exported", "times in", "Filters", "Names of members", "Working group", "Consensus", "consensus",
    "Still open", "Questions", "Polls", "Sessions", "called by", "Note:", "By region", "stakeholder",
    "Stakeholder", "Member organisations", "Decision record", "checkpoint", "Statement #", "Poll #", "version",
    "Version", "fingerprint", "Fingerprint", "ballots", "agree", "stand aside", "not responded", "counted",
    "organisation", "Organisation", "Region", "Individuals", "individual", "Signatories", "signed", "Signed",
    "listed", "moderators", "every 7 days", "Western European", "Civil society", "verified", "closed", "open until",
    "Object", "Block", "revision", "Record", "Acronym", "Country", "When", "Where", "None.", "names are shown",
    "Nothing recorded", "Without a working group", "Text", "Versions", "opened version", "amended version",
    "check it offline", "gives it", "by name", "Sign", "Withdraw", "Confirm", "Listed", "Counted", "Length",
    "How to", "Draft", "characters", "Closed", "Final version", "The signatory list", "From the working group",
    "Replaced by", "Amended", "pending",
)  # fmt: skip


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """French rendered with the stand-in catalogue; English and Arabic from the real ones."""
    monkeypatch.setattr(i18n, "catalogue", lambda lang: Stand_in() if lang == "fr" else catalogue(lang))
    yield


def unmarked(text: str) -> str:
    """What is left of a rendering once every sentence of the stand-in catalogue is taken out (innermost first:
    a sentence holds the sentences of its values)."""
    while True:
        shorter = MARKED.sub("", text)
        if shorter == text:
            return text
        text = shorter


def words_left(text: str, typed: tuple[str, ...]) -> list[str]:
    """Words of ours still in the rendering outside the stand-in's sentences (what members typed aside)."""
    rest = unmarked(text)
    for value in typed:
        rest = rest.replace(value, "")
    return [word for word in OUR_WORDS if word in rest]


def placeholders(msgid: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(msgid) if name}


# -- refusals --------------------------------------------------------------------------------------------------


def refusal(make: Callable[[], object]) -> DomainError:
    with pytest.raises(DomainError) as caught:
        make()
    return caught.value


async def async_refusal(make: Callable[[], Any]) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await make()
    return caught.value


def check_text(error: DomainError, *typed: str) -> None:
    """A refusal is one Text: its message id has named placeholders only (no value built into it), the values
    fill them, and it renders in another language (the stand-in's French; Spanish is English until the
    catalogues are filled)."""
    assert isinstance(error.text, Text), error
    msgid = error.text.msgid
    assert placeholders(msgid) <= set(error.text.params) | {"n"}, msgid
    for value in typed:
        assert value not in msgid, (value, msgid)
        assert value in str(error), (value, str(error))
    assert error.render("fr").startswith("⟦")  # the stand-in's French: through the catalogue
    if catalogue("es").gettext(msgid) == msgid:  # not translated yet: English words, Spanish numbers
        assert DIGITS.sub("", error.render("es")) == DIGITS.sub("", str(error))


async def test_refusals_of_statements_are_texts_with_what_was_typed_as_values(
    db: Database, clock: FakeClock, stand_in: None
) -> None:
    zone = ZoneInfo(ZONE_NAME)
    now = clock.now()
    check_text(refusal(lambda: clean_title("\u200b")))
    long_title = refusal(lambda: clean_title("t" * 201))
    check_text(long_title)
    assert str(long_title) == "A statement's title can be at most 200 characters; this one has 201."
    check_text(refusal(lambda: clean_text("x" * 20_001)))
    assert "20,001" in str(refusal(lambda: clean_text("x" * 20_001)))  # a count, grouped
    assert str(refusal(lambda: clean_typed("y" * 6001, "introduction"))).startswith(
        "The introduction typed in a command can be at most 6,000 characters; this one has 6,001."
    )
    check_text(refusal(lambda: read_upload("report.pdf", b"%PDF")), "report.pdf")
    check_text(refusal(lambda: read_upload("a.md", b"\xff\xfe")))
    check_text(refusal(lambda: close_time("2d", "2026-12-01 10:00", zone, now)))
    too_far = refusal(lambda: close_time("100d", None, zone, now))
    assert str(too_far) == "“100d” is too long: a sign-on runs at most 90 days."
    # the rule is a Text of its own, and its limit too, in the same language
    assert too_far.render("fr").startswith("⟦“100d” is too long: ⟦a sign-on runs at most ⟦90 days⟧")
    w = await make_world(db, clock)
    st = await opened(w)
    # a member who represents no organisation
    no_org = await async_refusal(lambda: w.st.prepare_org_signature(DAN, st.statement_id))
    check_text(no_org)
    assert no_org.render("fr").startswith("⟦Only representatives of a verified member organisation")
    # not the author, nor a convener: the group's name and the number are values
    draft = (await w.st.draft(CORA, "Ours", group="Principles")).statement
    editor = await async_refusal(lambda: w.st.edit(BOB, draft, title="Mine"))
    check_text(editor, "Principles")
    assert str(editor) == (
        f"Only the author of statement #{draft.number}, the conveners of Principles or coordinators can edit it."
    )
    assert "⟦edit⟧" in editor.render("fr")  # what they may not do: a Text of its own
    await w.st.sign_for_org(ALICE, st.statement_id, w.org["Open Rights"].org_id, 1, listed=True)
    already = await async_refusal(lambda: w.st.prepare_org_signature(ALICE, st.statement_id))
    check_text(already, "Open Rights")
    nothing = await async_refusal(lambda: w.st.withdraw(COCO, st))
    check_text(nothing)
    assert "/statement withdraw statement:1 organisation:…" in str(nothing)  # a coordinator is told how
    listing = await async_refusal(lambda: w.lists.request(COCO, str(draft.number)))
    check_text(listing)


# -- the card, its buttons, the posts and the answers ---------------------------------------------------------


def labels_of(view: discord.ui.View) -> list[str]:
    return [str(getattr(child, "item", child).label) for child in view.children]


async def test_the_card_and_the_posts_are_built_in_the_language(
    db: Database, clock: FakeClock, stand_in: None
) -> None:
    w = await make_world(db, clock)
    st = await opened(w, individuals=True)
    signed = await w.st.sign_for_org(ALICE, st.statement_id, w.org["Open Rights"].org_id, 1, listed=False)
    await w.st.edit(COCO, st, text="Version two.")
    view = await w.st.view(st)
    title = view.statement.title
    typed = (title, "Version two.", "Coalition", "Principles")
    card = card_embed(view, "fr")
    shown = "\n".join([card.title or "", card.description or "", card.footer.text or ""]
                      + [f"{f.name}\n{f.value}" for f in card.fields])  # fmt: skip
    assert words_left(shown, typed) == [], shown
    english = card_embed(view, "en")
    assert english.fields[0].name == "Organisations" and "⟦" not in str(english.to_dict())
    # the buttons: labelled in the language of the card's key; a key kept before keys had one: English
    buttons = card_view(card_key(view, "fr"))
    assert buttons is not None
    assert labels_of(buttons) and all(label.startswith("⟦") for label in labels_of(buttons))
    assert card_key(view, "fr").endswith(":fr")
    old = card_view(f"card:{st.statement_id}:ic")
    assert old is not None and labels_of(old)[0] == "Sign on behalf of your organisation"
    assert card_kwargs(view, "fr")["view"] is not None
    choices = choice_view(st.statement_id, 1, 2, "fr")
    assert all(label.startswith("⟦") for label in labels_of(choices))
    # the post, the earlier card, the pages, the closing post and an answer
    post = post_parts(view, "fr")
    assert post[0].content.startswith(f"⟦**Statement #{st.number} · {title}** — version 2 (amended)⟧")
    assert post[-1].view == card_key(view, "fr")
    replaced = superseded_embed(view, 1, "fr")
    assert words_left(f"{replaced.title}\n{replaced.description}", typed) == []
    pages = show_pages(view, "fr")
    assert all(words_left(f"{p.title}\n{p.footer.text or ''}", typed) == [] for p in pages)
    closed = await w.st.close(COCO, st)
    final = await w.st.view(closed)
    closing = "\n".join(p.content for p in closing_parts(final, late=True, lang="fr"))
    assert words_left(closing, typed) == [], closing
    assert words_left(signed_text(signed, "fr"), typed) == []
    # Arabic (the real catalogue, English words until translated): every value isolated
    arabic = card_embed(view, "ar")
    assert f"{FSI}2{PDI}" in (arabic.description or "") and FSI not in (english.description or "")


# -- the exports ---------------------------------------------------------------------------------------------


@pytest.fixture
async def org_world(tmp_path: Path) -> Summary:
    """The summary scenario with organisations, a repeating session and its decision record's proofs."""
    db = await engines.open_db(tmp_path / "orgs.db")
    clock = FakeClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    await build_org_scenario(db, clock)
    policy = Policy(("Coordinator",))
    groups = WorkingGroups(db, clock, policy, ZONE)
    agenda = Agenda(db, clock, groups, ZONE, (timedelta(hours=1),))
    await agenda.add(actor(10, coordinator=True), SessionSpec(
        title="Weekly call", start="2026-12-07 09:00", duration="1h", every_days=7, until="2027-01-31",
        moderators="Cora", note_taker="Otto", location="Room B",
    ))  # fmt: skip
    record = Record(db, clock, policy, ZONE, b"s" * 32)
    summary = await Summaries(db, clock, groups, ZONE, record=record).for_operator(SCENARIO)
    await db.close()
    assert summary.record is not None and summary.organisations
    return summary


def typed_in(summary: Summary) -> tuple[str, ...]:
    """Everything members typed (and names) that the summary shows as it is."""
    values: list[str] = [summary.server_name, summary.time_zone]
    for sec in summary.sections:
        values += [sec.group_name or "", sec.description]
        for p in sec.points:
            values += [p.text, p.outcome_note or "", p.decided_by or "", *p.not_responded]
            values += [
                x for o in p.objections for x in (o.reason, o.note or "", o.by or "", o.organisation or "")
            ]
            values += [x for o in p.positions for x in (o.by, o.reason or "")]
            values += [
                x
                for o in p.organisation_positions
                for x in (o.organisation, o.reason or "", o.stated_by or "")
            ]
        for q in sec.questions:
            values += [q.text, q.answer or "", q.note or ""]
        for poll in sec.polls:
            values += [poll.question, *(o.label for o in poll.options)]
            values += [v for o in poll.options for v in o.voters or ()]
            values += [b.organisation for b in poll.organisation_ballots or ()]
        for ses in sec.sessions:
            values += [ses.title, ses.moderators, ses.note_taker, ses.location, ses.zone]
    values += [o.name for o in summary.organisations] + [st.title for st in summary.statements]
    return tuple(sorted({v for v in values if v}, key=len, reverse=True))


def inert(text: str) -> str:
    """HTML or Markdown without its markup and escapes, to look for words."""
    text = re.sub(r"<style>.*?</style>", "", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text).replace("&#x27;", "'").replace("&quot;", '"').replace("&amp;", "&")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("\\", "")


async def test_the_summary_in_french_says_every_word_through_the_catalogue(
    org_world: Summary, stand_in: None
) -> None:
    summary = org_world
    typed = typed_in(summary)
    markdown = render_summary(summary, "md", "fr")[0][1].decode()
    assert markdown.startswith(f"# ⟦Summary of {summary.server_name}⟧")
    assert "### ⟦Consensus⟧" in markdown and "## ⟦Member organisations⟧" in markdown
    assert "(⟦every 7 days until 2027-01-31⟧" in markdown and "## ⟦Decision record⟧" in markdown
    assert words_left(inert(markdown), typed) == [], unmarked(inert(markdown))
    page = render_summary(summary, "html", "fr")[0][1].decode()
    assert '<html lang="fr" dir="ltr">' in page and "<bdi>" not in page
    assert words_left(inert(page.split("<body>")[1]), typed) == [], unmarked(inert(page.split("<body>")[1]))
    assert f"<title>⟦Summary of {summary.server_name}⟧" in page
    # English stays as it was (the golden files), CSV and JSON are data: the same in every language
    english = render_summary(summary, "md")[0][1].decode()
    assert english.startswith("# Summary of ") and "⟦" not in english
    for fmt in ("csv", "json"):
        assert (
            render_summary(summary, fmt, "fr")
            == render_summary(summary, fmt, "ar")
            == render_summary(summary, fmt)
        )


async def test_the_summary_in_arabic_reads_right_to_left(org_world: Summary) -> None:
    summary = org_world
    page = render_summary(summary, "html", "ar")[0][1].decode()
    assert '<html lang="ar" dir="rtl">' in page and "td,th{text-align:right}" in page
    point = summary.sections[0].points[0]
    assert f"<bdi>{point.text}</bdi>" in page  # what a member typed, isolated
    assert f"<td><bdi>{summary.organisations[0].name}</bdi></td>" in page
    assert f"{FSI}2{PDI}" in page  # numbers of our sentences isolated by the Text layer
    assert "<bdi><code>" in page  # the record's root, as code, isolated
    markdown = render_summary(summary, "md", "ar")[0][1].decode()
    assert markdown.startswith(f"# ملخّص {FSI}{summary.server_name}{PDI}")
    assert f"{FSI}{summary.time_zone}{PDI}" in markdown and "<bdi>" not in markdown
    english = render_summary(summary, "html")[0][1].decode()
    assert english.startswith('<!DOCTYPE html>\n<html lang="en"><head>') and "<bdi>" not in english


async def a_list(w: World) -> SignatoryList:
    await signed_world(w)
    return await w.lists.build(await w.lists.request(COCO, "1"))


def typed_in_list(found: SignatoryList) -> tuple[str, ...]:
    values = [found.server_name, found.time_zone, found.title, found.text, *(found.individual_names or ())]
    values += [x for o in found.organisations for x in (o.name, o.acronym, o.country_name)]
    values += [line.strip() for line in found.text.split("\n")]
    values.append("Version two")  # the text's first words, before what the export escapes in it
    return tuple(sorted({v for v in values if v}, key=len, reverse=True))


async def test_the_signatory_list_in_french_and_in_arabic(
    db: Database, clock: FakeClock, stand_in: None
) -> None:
    w = await make_world(db, clock)
    found = await a_list(w)
    typed = typed_in_list(found)
    markdown = render_list(found, "md", "fr")[1].decode()
    assert markdown.startswith(f"# ⟦Statement #1: {found.title}⟧") and "## ⟦Signatories⟧" in markdown
    assert re.search(r"^\| ⟦Organisation⟧~* \| ⟦Acronym⟧~* \|", markdown, re.M)
    assert words_left(inert(markdown), typed) == [], unmarked(inert(markdown))
    page = render_list(found, "html", "fr")[1].decode()
    assert '<html lang="fr" dir="ltr">' in page
    assert words_left(inert(page.split("<body>")[1]), typed) == [], unmarked(inert(page.split("<body>")[1]))
    for fmt in ("csv", "json"):
        assert render_list(found, fmt, "fr") == render_list(found, fmt, "ar") == render_list(found, fmt)
    arabic = render_list(found, "html", "ar")[1].decode()
    assert '<html lang="ar" dir="rtl">' in arabic and '<div class="text" dir="auto">' in arabic
    assert "<td><bdi>Open Rights</bdi></td>" in arabic and f"{FSI}4{PDI}" in arabic
    assert f"<bdi><code>{found.fingerprint}</code></bdi>" in arabic
    assert render_list(found, "md", "ar")[1].decode().startswith(f"# البيان #{FSI}1{PDI}: {FSI}")
    english = render_list(found, "html")[1].decode()
    assert '<html lang="en"><head>' in english and "<bdi>" not in english


async def test_the_arabic_pages_in_a_real_browser(org_world: Summary, db: Database, clock: FakeClock,
                                                  tmp_path: Path) -> None:  # fmt: skip
    from tests.browser import chromium_path, open_page

    if chromium_path() is None:
        pytest.skip("SKIPPED: no Chromium on this machine (apt-get install chromium); .ci/run installs it")
    w = await make_world(db, clock)
    pages = {
        "summary": render_summary(org_world, "html", "ar")[0][1],
        "signatories": render_list(await a_list(w), "html", "ar")[1],
    }
    looks = (
        "document.documentElement.dir", "document.documentElement.lang", "getComputedStyle(document.body).direction",
        "getComputedStyle(document.querySelector('td')).textAlign",
        "getComputedStyle(document.querySelector('code')).direction",
        "document.querySelectorAll('bdi').length",
        # right to left: the title starts at the right edge of the page
        "Math.round(document.body.getBoundingClientRect().right - document.querySelector('h1 bdi, h1')"
        ".getBoundingClientRect().right) < 40",
    )  # fmt: skip
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    for name, data in pages.items():
        page = tmp_path / f"{name}-ar.html"
        page.write_bytes(data)
        report = await open_page(page, evaluate=looks)
        assert report.errors == [] and [u for u in report.requests if not u.startswith("file:")] == []
        values = report.values
        assert (
            values["document.documentElement.dir"] == "rtl"
            and values["document.documentElement.lang"] == "ar"
        )
        assert values["getComputedStyle(document.body).direction"] == "rtl"
        assert values["getComputedStyle(document.querySelector('td')).textAlign"] == "right"
        assert values["getComputedStyle(document.querySelector('code')).direction"] == "ltr"
        assert values["document.querySelectorAll('bdi').length"] > 10
        assert values[looks[-1]] is True, values
        for width, png in report.screenshots.items():
            assert png.startswith(b"\x89PNG")
            (artifacts / f"{name}-ar-{width}.png").write_bytes(png)


def test_the_command_descriptions_name_the_limits_as_they_are() -> None:
    """Descriptions are plain strings (the extractor finds them for the command translator): the limits they
    write out are the domain's."""
    from cogs.statements import StatementsCog
    from domain.statements import TEXT_MAX, TITLE_MAX, TYPED_MAX

    draft = {p.name: p.description for p in StatementsCog.draft.parameters}
    edit = {p.name: p.description for p in StatementsCog.edit.parameters}
    assert (
        f"at most {TITLE_MAX} characters" in draft["title"]
        and f"at most {TITLE_MAX} characters" in edit["title"]
    )
    assert f"at most {TYPED_MAX:,} characters" in edit["text"]
    assert f"at most {TEXT_MAX:,} characters" in edit["file"]
