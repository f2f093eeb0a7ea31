"""The sentences of organisations, the decision record, privacy and /about, and the shared page helpers,
go through the translation layer: each refusal is one Text with named placeholders (what a member typed is
a value, never part of the message id), rendered in the reader's language.

The catalogues are filled in a later phase, so a stand-in catalogue (every sentence marked ⟦…⟧ and made half
as long again, as translations often are) shows which words were rendered in the language, nested Texts
included, and that a refusal measured to fit one Discord message still fits once translated.
"""

from __future__ import annotations

import gettext
import json
import string
from collections.abc import Callable, Iterator

import pytest

from cogs.record import alert_message
from cogs.ui.common import mention
from cogs.ui.limits import Pager, embed_pages, fit_list
from domain import i18n, servers
from domain.clock import FakeClock
from domain.errors import DomainError, NotAllowed
from domain.i18n import Text, catalogue
from domain.orgs import (
    REGIONS,
    STAKEHOLDERS,
    STATES,
    Organisations,
    clean_name,
    clean_website,
    parse_country,
    parse_org_csv,
    parse_region,
)
from domain.permissions import Actor, Policy
from domain.privacy import Identities, Privacy
from domain.record import LogTampered
from storage.db import Database
from tests.domain.test_record import SERVER, checkpointed, entry_at, raw_write

GUILD = 1001
ALICE = Actor(GUILD, 20, "Alice")


class Stand_in(gettext.NullTranslations):  # noqa: N801 - a test double named for what it is
    """Every sentence "translated": marked, and half as long again."""

    def gettext(self, message: str) -> str:
        return f"⟦{message}⟧" + "~" * (len(message) // 2)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return self.gettext(msgid1 if n == 1 else msgid2)


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """French rendered with the stand-in catalogue; English stays the source."""
    monkeypatch.setattr(i18n, "catalogue", lambda lang: Stand_in() if lang == "fr" else catalogue(lang))
    yield


def csv_of(*lines: str) -> bytes:
    return ("name,acronym,country,region,stakeholder group,website\n" + "\n".join(lines) + "\n").encode()


def refusal(make: Callable[[], object]) -> DomainError:
    with pytest.raises(DomainError) as caught:
        make()
    return caught.value


def placeholders(msgid: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(msgid) if name}


REFUSALS: dict[str, tuple[Callable[[], object], str]] = {  # what raises, and what the member typed
    "country": (lambda: parse_country("Narnia"), "Narnia"),
    "country, with a guess": (lambda: parse_country("Germa"), "Germa"),
    "region": (lambda: parse_region("Oceania"), "Oceania"),
    "name too long": (lambda: clean_name("X" * 130), "X" * 130),
    "website": (lambda: clean_website("ftp://files.example.org"), "ftp://files.example.org"),
    "import header": (lambda: parse_org_csv(b"title,country\nA,FR\n", {}), "title"),
    "import lines": (
        lambda: parse_org_csv(csv_of("Narnia Watch,,Narnia,weog,academia,"), {}),
        "Narnia Watch",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refusal_is_one_text_with_what_was_typed_as_a_value(case: str) -> None:
    make, typed = REFUSALS[case]
    error = refusal(make)
    assert isinstance(error.text, Text)
    assert typed not in error.text.msgid  # no f-string left: what was typed is a value
    assert placeholders(error.text.msgid) <= {*error.text.params, "n"}
    # French says it in a sentence of its own (the catalogue is complete), filled with the same values
    assert catalogue("fr").gettext(error.text.msgid) != error.text.msgid
    assert error.render("fr") != str(error)


def test_the_import_refusal_names_each_line_in_the_readers_language(stand_in: None) -> None:
    data = csv_of(
        "Good One,,FR,weog,academia,",  # line 2
        "Narnia Watch,,Narnia,weog,academia,",  # line 3
        "good one,,DE,Europe,media,",  # line 4: repeats line 2, region, stakeholder group
    )
    error = refusal(lambda: parse_org_csv(data, {}))
    english = str(error)
    assert english == (
        "Nothing was imported: 2 lines have problems. line 3: unknown country “Narnia”; line 4: “good one” "
        "repeats line 2 (names ignore letter case), unknown region “Europe”, unknown stakeholder group “media” "
        "(regions are African, Asia-Pacific, Eastern European, GRULAC or WEOG; stakeholder groups are civil "
        "society, academia, technical community, private sector, government or intergovernmental). Fix the file "
        "and import it again."
    )
    french = error.render("fr")
    # the whole sentence, each line, each problem and each hint: all rendered in the language
    assert french.startswith(
        "⟦Nothing was imported: 2 lines have problems. ⟦line 3: ⟦unknown country “Narnia”⟧"
    )
    assert "⟦“good one” repeats line 2 (names ignore letter case)⟧" in french
    assert "⟦unknown stakeholder group “media”⟧" in french and "⟦regions are African" in french


def test_a_long_import_refusal_fits_one_message_in_a_longer_language(stand_in: None) -> None:
    error = refusal(
        lambda: parse_org_csv(csv_of(*(f"Org {i},,Narnia,weog,academia," for i in range(1500))), {})
    )
    english, french = str(error), error.render("fr")
    assert english.startswith("Nothing was imported: 1,500 lines have problems. line 2: unknown country")
    assert french.startswith("⟦Nothing was imported: 1\u202f500 lines have problems.")  # French grouping
    assert len(english) <= 2000 and len(french) <= 2000
    # the translation is longer, so fewer lines are named, and it says how many more there are
    named = french.count("⟦line ")
    assert 10 < named < english.count("line ")
    assert f"⟦and 1\u202f{1500 - named - 1000} more lines⟧" in french


def test_labels_are_texts_whose_message_id_is_the_english_label(stand_in: None) -> None:
    assert REGIONS["weog"].msgid == str(REGIONS["weog"]) == "Western European and Others (WEOG)"
    assert REGIONS["weog"].render("fr").startswith("⟦Western European and Others (WEOG)⟧")
    assert STAKEHOLDERS["civil_society"].render("en") == "Civil society"
    assert STATES["left"].render("fr").startswith("⟦left⟧")
    assert parse_region("Western European and Others (WEOG)") == "weog"  # the English label still reads


async def test_a_refusal_of_a_use_case_renders_in_the_readers_language(
    db: Database, clock: FakeClock, stand_in: None
) -> None:
    orgs = Organisations(db, clock, Policy(("Coordinator",)))
    with pytest.raises(NotAllowed) as caught:
        await orgs.preview_import(ALICE, csv_of("A,,FR,weog,academia,"))
    assert str(caught.value) == "Only coordinators can import organisations."
    assert caught.value.render("fr").startswith("⟦Only coordinators can import organisations.⟧")
    with pytest.raises(DomainError) as unknown:
        await orgs.resolve(GUILD, "Nowhere Institute")
    assert unknown.value.render("fr").startswith(
        "⟦There is no organisation “Nowhere Institute” on this server"
    )


async def test_the_tamper_alert_is_rendered_in_the_servers_language(
    db: Database, clock: FakeClock, stand_in: None
) -> None:
    rec = await checkpointed(db, clock)
    raw_write(db, ("UPDATE record_entries SET entry = ? WHERE idx = 5", (entry_at(db, 5) + b" ",)))
    with pytest.raises(LogTampered) as caught:
        await rec.checkpoint(SERVER)
    error = caught.value
    assert isinstance(error.text, Text) and isinstance(error.integrity.text, Text)
    assert error.integrity.message == "entry 5 was changed: its bytes no longer match its hash."
    assert alert_message(error) == (
        "⚠️ **The decision record failed its check** (`leaf_hash`), so no checkpoint was signed. First entry "
        "concerned: 5.\nEntry 5 was changed: its bytes no longer match its hash.\nCoordinators: restore the "
        "database and its key files from a backup, or ask whoever runs the bot what changed. Checkpoints already "
        "published stay valid; nothing new is signed until the record matches them."
    )
    french = alert_message(error, "fr").split("\n")
    assert french[0].startswith("⟦⚠️ **The decision record failed its check**") and "⟦First entry" in french[0]
    assert french[1].startswith(
        "⟦entry 5 was changed"
    )  # the stand-in's mark comes first: nothing to capitalise
    assert french[2].startswith("⟦Coordinators:")
    refused = error.render("fr")
    assert refused.startswith("⟦The decision record failed its check") and "⟦entry 5 was changed" in refused


async def test_the_data_export_says_what_it_is_in_the_members_language(
    db: Database, clock: FakeClock, stand_in: None
) -> None:
    await servers.server_joined(db, clock, GUILD, "Coalition", [(20, "Alice")])
    privacy = Privacy(db, clock, Identities(b"k" * 32))
    english = json.loads(await privacy.export(ALICE))
    french = json.loads(await privacy.export(ALICE, lang="fr"))
    assert english["about"] == "What the Caucus bot holds about you in this Discord server."
    assert french["about"].startswith("⟦What the Caucus bot holds about you")
    assert {k: v for k, v in french.items() if k != "about"} == {
        k: v for k, v in english.items() if k != "about"
    }


async def test_about_counts_read_in_the_language(db: Database, clock: FakeClock, stand_in: None) -> None:
    await servers.server_joined(db, clock, GUILD, "Coalition", [(20, "Alice")])
    held = await servers.holdings(db, GUILD)
    reads = {text.render("en"): count for text, count in held.counts}
    assert reads["1 member seen"] == 1 and reads["0 working groups"] == 0
    assert held.counts[0][0].render("fr").startswith("⟦0 working groups⟧")


async def test_the_shared_page_helpers_take_the_language(stand_in: None) -> None:
    pages = embed_pages(
        "Points", [f"line {n} " + "x" * 900 for n in range(12)], footer="Coalition", lang="fr"
    )
    assert len(pages) > 1 and all(
        p.footer.text and p.footer.text.startswith("⟦Coalition · Page ") for p in pages
    )
    english = embed_pages("Points", [f"line {n} " + "x" * 900 for n in range(12)], footer="Coalition")
    assert english[0].footer.text == f"Coalition · Page 1 of {len(english)}"
    assert embed_pages("Points", [], lang="fr")[0].description == "⟦Nothing yet.⟧" + "~" * 6
    pager = Pager(pages, lang="fr")
    assert (pager.previous.label, pager.next.label) == ("⟦Previous⟧~~~~", "⟦Next⟧~~")
    assert Pager(pages).next.label == "Next"
    many = [f"<@{n}>" for n in range(1, 1400)]
    assert fit_list(many, 200).endswith(" more") and "and 1,3" in fit_list(many, 200)
    assert "⟦and 1\u202f3" in fit_list(many, 200, lang="fr")
    assert mention(-12, "fr").startswith("⟦a former member⟧") and mention(12, "fr") == "<@12>"
