"""Statements on a real SQLite file with a fake clock: drafts from a group's decided points, versions and
fingerprints, opening, signing for organisations (listed or counted only) and as individuals, concurrency,
amendments and confirmation, withdrawal, closing once, the signatory list in four formats checked by
``caucus verify``'s own code, the summary's statements, and members' data rights."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from domain import servers
from domain.clock import FakeClock, to_unix
from domain.consensus import Consensus
from domain.errors import Closed, Conflict, DomainError, Invalid, NotAllowed, NotFound, TooLong
from domain.groups import Target, WorkingGroups
from domain.orgs import Org, Organisations
from domain.permissions import Actor, Policy
from domain.privacy import Identities, Privacy
from domain.record import Record, verify_document
from domain.render import render as render_summary
from domain.render import render_json as render_summary_json
from domain.signatories import Signatories, render, render_csv, render_html, render_markdown, signatory_dict
from domain.statements import (
    CLOSE,
    CONFIRM,
    POST,
    Statement,
    Statements,
    clean_text,
    clean_title,
    close_time,
    fingerprint,
    read_upload,
    short,
    starting_text,
)
from domain.summary import build_summary
from storage import posts as post_rows
from storage.db import Database
from tests import engines

GUILD = 515001
OTHER = 515002
ZONE_NAME = "Europe/Paris"
POLICY = Policy(("Coordinator",))
SECRET = b"s" * 32
ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "domain" / "signatories.schema.json").read_text(encoding="utf-8"))
SUMMARY_SCHEMA = json.loads((ROOT / "domain" / "summary.schema.json").read_text(encoding="utf-8"))
NAMES = {10: "Coco", 11: "Cora", 20: "Alice", 21: "Alma", 22: "Bob", 23: "Carol", 24: "Dan", 25: "Eve",
         26: "Finn", 27: "Gus", 30: "Zed"}  # fmt: skip


def person(user_id: int, guild_id: int = GUILD, *, coordinator: bool = False) -> Actor:
    roles = frozenset({"Coordinator"}) if coordinator else frozenset()
    return Actor(guild_id, user_id, NAMES[user_id], role_names=roles)


COCO = person(10, coordinator=True)
CORA = person(11)  # convener of Principles
ALICE, ALMA = person(20), person(21)  # both represent Open Rights (Alice its voice)
BOB = person(22)  # represents Data Justice Africa
CAROL = person(23)  # represents Red Libre
DAN = person(24)  # represents nobody
EVE = person(25)  # registered Pending Org, not verified
FINN, GUS = person(26), person(27)  # represent Asia Net, Tech Commons
ZED = person(30)
THEIR_COCO = person(10, OTHER, coordinator=True)


def rows(db: Database, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    return engines.raw_rows(db.path, sql, params)


def snapshot(db: Database) -> list[list[tuple[Any, ...]]]:
    """Everything a refusal must leave as it was."""
    tables = ("statements", "statement_versions", "statement_signatures", "statement_messages", "record_entries",
              "scheduled_posts", "members")  # fmt: skip
    return [rows(db, f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables]  # noqa: S608


@dataclass
class World:
    db: Database
    clock: FakeClock
    groups: WorkingGroups
    items: Consensus
    orgs: Organisations
    st: Statements
    record: Record
    lists: Signatories
    org: dict[str, Org]


@pytest.fixture
async def world(db: Database, clock: FakeClock) -> World:
    return await make_world(db, clock)


async def make_world(db: Database, clock: FakeClock) -> World:
    """Coalition's organisations (verified, each with its representatives; one pending), its working group
    Principles (Cora convenes it), and the use cases of statements on it."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(ZONE_NAME)
    groups = WorkingGroups(db, clock, POLICY, zone)
    items = Consensus(db, clock, groups, zone, (timedelta(days=1),))
    orgs = Organisations(db, clock, POLICY)
    st = Statements(db, clock, groups, zone)
    record = Record(db, clock, POLICY, zone, b"r" * 32)
    await servers.server_joined(db, clock, GUILD, "Coalition", list(NAMES.items()))
    await servers.server_joined(db, clock, OTHER, "Other coalition", [(10, "Coco")])
    principles = await groups.create(COCO, "Principles")
    await groups.set_convener(COCO, principles, Target(11, "Cora"))
    csv_text = "name,acronym,country,region,stakeholder\n" + "\n".join([
        "Open Rights,OR,FR,weog,civil_society", "Data Justice Africa,DJA,KE,african,academia",
        "Red Libre,,BR,grulac,civil_society", "Asia Net,AN,IN,asia_pacific,technical",
        "Tech Commons,TC,PL,eastern_european,technical", "=HYPERLINK(1),,DE,weog,private_sector",
    ]) + "\n"  # fmt: skip
    preview = await orgs.preview_import(COCO, csv_text.encode())
    made = {o.name: o for o in await orgs.confirm_import(COCO, preview.import_id)}
    for who, name in ((ALICE, "Open Rights"), (ALMA, "Open Rights"), (BOB, "Data Justice Africa"),
                      (CAROL, "Red Libre"), (FINN, "Asia Net"), (GUS, "Tech Commons"), (ZED, "=HYPERLINK(1)")):  # fmt: skip
        await orgs.join(who, made[name])
        await orgs.approve(COCO, made[name], Target(who.user_id, who.display_name))
    made["Pending Org"] = (
        await orgs.register(EVE, "Pending Org", country="FR", region="weog", stakeholder="academia")
    ).org
    return World(db, clock, groups, items, orgs, st, record, Signatories(st, record), made)


async def decided_points(w: World) -> list[int]:
    """Points of Principles: #1 consensus (amended first), #2 no consensus, #3 rough consensus, #4 open,
    #5 consensus; and #6 in no group, decided."""
    numbers = []
    for text in ("Open by default.", "Close the registry.", "Civil society seats in every process.",
                 "Still discussed.", "Encryption protects everyone."):  # fmt: skip
        numbers.append((await w.items.propose(ALICE, "point", text, group="Principles")).number)
    await w.items.amend(ALICE, "#1", "The Internet must remain open and interoperable.")
    await w.items.decide(CORA, "#1", "consensus")
    await w.items.decide(CORA, "#2", "no_consensus")
    await w.items.decide(CORA, "#3", "rough_consensus", "Two objections in the rough")
    await w.items.decide(CORA, "#5", "consensus")
    await w.items.propose(ALICE, "point", "Outside any group.")
    await w.items.decide(COCO, "#6", "consensus")
    return numbers


async def opened(
    w: World, text: str = "We, the undersigned, call for an open Internet.", **kw: Any
) -> Statement:
    draft = await w.st.draft(COCO, "Joint statement")
    await w.st.edit(COCO, draft.statement, text=text)
    return (await w.st.open(COCO, draft.statement, channel_id=777, **kw)).statement


async def entries(w: World) -> list[dict[str, Any]]:
    return [json.loads(r[0]) for r in rows(w.db, "SELECT entry FROM record_entries ORDER BY guild_id, idx")]


# -- values ------------------------------------------------------------------------------------------------


def test_fingerprint_is_the_sha256_of_the_utf8_text_shown_short() -> None:
    text = "Ärzte für Digitale Rechte — ça va ✓"
    assert fingerprint(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert len(fingerprint(text)) == 64 and short(fingerprint(text)) == fingerprint(text)[:12]
    assert fingerprint("a") != fingerprint("a ")


def test_texts_are_cleaned_before_they_are_measured_and_fingerprinted() -> None:
    assert (
        clean_text("\r\n\r\nFirst line  \r\nSecond\u202e line\u200b\rThird\n\n")
        == "First line\nSecond line\nThird"
    )
    assert clean_text("e\u0301") == "\u00e9"  # composed: the fingerprint does not depend on how it was typed
    assert clean_text("  \u200b\n\t ") == ""
    assert len(clean_text("x" * 20_000)) == 20_000
    with pytest.raises(TooLong, match="at most 20,000 characters; this one has 20,001"):
        clean_text("x" * 20_001)
    assert clean_title("  Joint \n statement ") == "Joint statement"
    with pytest.raises(Invalid, match="Give the statement a title"):
        clean_title("\u200b\u202e")
    with pytest.raises(TooLong, match="at most 200 characters"):
        clean_title("t" * 201)


def test_uploads_are_md_or_txt_utf8_text_of_at_most_20000_characters() -> None:
    assert read_upload("statement.MD", "\ufeff# Title\r\n\r\nText é".encode()) == "# Title\n\nText é"
    assert read_upload("s.txt", b"plain") == "plain"
    for name, data, fragment in (
        ("statement.pdf", b"%PDF-1.7", "as a .md or .txt file"),
        ("statement.docx", b"PK\x03\x04", "as a .md or .txt file"),
        ("s.md", b"text\x00more", "not text (it holds binary data)"),
        ("s.md", "Café".encode("latin-1"), "not UTF-8 text"),
        ("s.md", b"\xef\xbb\xbf", "holds no text"),
        ("s.md", ("é" * 20_001).encode(), "at most 20,000 characters; this one has 20,001"),
        ("s.md", b"x" * 80_004, "too large (80,004 bytes)"),
    ):
        with pytest.raises(Invalid, match=fragment.replace("(", r"\(").replace(")", r"\)")):
            read_upload(name, data)


def test_the_deadline_follows_the_polls_rules(clock: FakeClock) -> None:
    from zoneinfo import ZoneInfo

    zone, now = ZoneInfo(ZONE_NAME), clock.now()
    assert close_time(None, None, zone, now) == now + timedelta(days=7)
    assert close_time("90d", None, zone, now) == now + timedelta(days=90)
    assert close_time(None, "2026-12-01 18:00", zone, now) == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    for duration, closes, fragment in (("91d", None, "at most 90 days"), ("0m", None, "must run for some time"),
                                       ("-1d", None, "can't be negative"), ("2d", "2026-12-01 18:00", "not both"),
                                       (None, "2026-11-01 10:00", "in the past"), ("١d", None, "digits other than 0-9"),
                                       (None, "2027-06-01 10:00", "at most 90 days")):  # fmt: skip
        with pytest.raises(Invalid, match=fragment):
            close_time(duration, closes, zone, now)


def test_a_starting_text_is_the_introduction_then_each_point_with_its_number() -> None:
    assert (
        starting_text("We agree:", [(1, "Open."), (4, "Plural\n  seats.")])
        == "We agree:\n\n#1 Open.\n\n#4 Plural seats."
    )
    assert starting_text("", []) == ""


# -- drafting ------------------------------------------------------------------------------------------------


async def test_a_draft_starts_from_the_groups_decided_points_in_order(world: World) -> None:
    w = world
    await decided_points(w)
    entries_before = rows(w.db, "SELECT count(*) FROM record_entries")  # the organisations' verifications
    done = await w.st.draft(
        CORA, "Principles for the IGF", group="principles", introduction="We, the undersigned:"
    )
    assert done.statement.number == 1 and done.statement.state == "draft" and done.points == (1, 3, 5)
    view = await w.st.view(done.statement)
    assert view.version.text == (
        "We, the undersigned:\n\n#1 The Internet must remain open and interoperable.\n\n"
        "#3 Civil society seats in every process.\n\n#5 Encryption protects everyone."
    )  # the final revision of #1; no consensus (#2), open (#4) and other groups' points (#6) left out
    assert view.version.fingerprint == fingerprint(view.version.text) and view.version.version == 1
    assert view.group_name == "Principles"
    # numbered per server
    assert (await w.st.draft(ALICE, "Another")).statement.number == 2
    assert (await w.st.draft(THEIR_COCO, "Theirs")).statement.number == 1
    assert rows(w.db, "SELECT count(*) FROM record_entries") == entries_before  # a draft is not a decision


async def test_who_may_edit_a_draft_and_how_it_changes(world: World) -> None:
    w = world
    await decided_points(w)
    entries_before = rows(w.db, "SELECT count(*) FROM record_entries")  # the organisations' verifications
    draft = (await w.st.draft(DAN, "Draft by a member", group="Principles")).statement
    first = (await w.st.view(draft)).version
    before = snapshot(w.db)
    with pytest.raises(
        NotAllowed, match="Only the author of statement #1, the conveners of Principles or coordinators"
    ):
        await w.st.edit(BOB, draft, title="Hijacked")
    with pytest.raises(Invalid, match="Give a new title, a new text"):
        await w.st.edit(DAN, draft)
    with pytest.raises(Invalid, match="either typed or as a file"):
        await w.st.edit(DAN, draft, text="a", file=("s.md", b"b"))
    with pytest.raises(TooLong, match="typed in a command can be at most 6,000"):
        await w.st.edit(DAN, draft, text="x" * 6001)
    with pytest.raises(Conflict, match="already the text"):
        await w.st.edit(DAN, draft, text=first.text)
    assert snapshot(w.db) == before
    for who, title in ((DAN, "By its author"), (CORA, "By the convener"), (COCO, "By a coordinator")):
        done = await w.st.edit(who, draft, title=title)
        assert done.title_changed and not done.new_version and done.statement.title == title
    long = "Paragraph.\n\n" * 1500 + "End."
    done = await w.st.edit(DAN, draft, file=("statement.md", long.encode()))
    assert done.text_changed and not done.new_version and done.version.version == 1  # a draft has one version
    assert done.version.text == long.strip() and done.version.fingerprint == fingerprint(long.strip())
    assert rows(w.db, "SELECT count(*) FROM statement_versions") == [(1,)]
    assert rows(w.db, "SELECT count(*) FROM record_entries") == entries_before  # drafts decide nothing


# -- opening ------------------------------------------------------------------------------------------------


async def test_opening_records_the_version_and_plans_the_post_and_the_close(world: World) -> None:
    w = world
    draft = (await w.st.draft(COCO, "Joint statement")).statement
    before = snapshot(w.db)
    with pytest.raises(Invalid, match="has no text yet"):
        await w.st.open(COCO, draft, channel_id=777)
    await w.st.edit(COCO, draft, text="Text.")
    before = snapshot(w.db)
    with pytest.raises(NotAllowed, match="Only the author"):
        await w.st.open(BOB, draft, channel_id=777)
    with pytest.raises(Invalid, match="at most 90 days"):
        await w.st.open(COCO, draft, channel_id=777, duration="91d")
    assert snapshot(w.db) == before
    done = await w.st.open(COCO, draft, channel_id=777, duration="3d", individuals=True)
    st = done.statement
    assert st.state == "open" and st.individuals and st.channel_id == 777
    assert st.closes_at == to_unix(w.clock.now() + timedelta(days=3))
    assert (await entries(w))[-1]["facts"] == {"statement": 1, "version": 1, "fingerprint": fingerprint("Text."),
                                              "state": "opened"}  # fmt: skip
    posts = {(p.kind, p.due_at) for p in await post_rows.posts_for(w.db, POST, done.version.version_id)}
    assert posts == {(POST, to_unix(w.clock.now()))}
    assert [p.due_at for p in await post_rows.posts_for(w.db, CLOSE, st.statement_id)] == [st.closes_at]
    with pytest.raises(Conflict, match="already open"):
        await w.st.open(COCO, st, channel_id=777)


# -- signing ------------------------------------------------------------------------------------------------


async def test_organisations_sign_once_listed_or_counted_only(world: World) -> None:
    w = world
    st = await opened(w)
    prompt = await w.st.prepare_org_signature(ALICE, st.statement_id)
    assert prompt.org.name == "Open Rights" and prompt.version.version == 1
    signed = await w.st.sign_for_org(ALICE, st.statement_id, prompt.org.org_id, 1, listed=True)
    assert (
        signed.org_name == "Open Rights"
        and signed.listed
        and signed.fingerprint == fingerprint("We, the undersigned, call for an open Internet.")
    )
    bob_org = w.org["Data Justice Africa"].org_id
    await w.st.sign_for_org(BOB, st.statement_id, bob_org, 1, listed=False)
    given = [e for e in await entries(w) if e["kind"] == "signature"]
    assert given[0]["facts"]["organisation"] == "Open Rights" and "pseudonym" not in given[0]["facts"]
    assert given[1]["facts"]["pseudonym"].startswith("anon-") and "organisation" not in given[1]["facts"]
    # counted only: no signature entry names it (its verification, like every member organisation's, does)
    assert "Data Justice" not in json.dumps(
        [e for e in await entries(w) if e["kind"] != "organisation_verified"]
    )
    stored = rows(w.db, "SELECT org_id, signer_id, listed, recorded_name, version FROM statement_signatures "
                        "ORDER BY signature_id")  # fmt: skip
    assert stored == [(w.org["Open Rights"].org_id, 20, 1, "Open Rights", 1), (bob_org, 22, 0, None, 1)]

    before = snapshot(w.db)
    refusals: list[tuple[Any, type[DomainError], str]] = [
        (w.st.prepare_org_signature(ALMA, st.statement_id), Conflict,
         "Open Rights already signed statement #1 (version 1, on 2026-11-30): one signature per organisation."),
        (w.st.sign_for_org(ALMA, st.statement_id, w.org["Open Rights"].org_id, 1, listed=False), Conflict,
         "Open Rights already signed statement #1"),
        (w.st.prepare_org_signature(DAN, st.statement_id), NotAllowed, "you represent none"),
        (w.st.prepare_org_signature(EVE, st.statement_id), NotAllowed, "you represent none"),  # registrant of a pending org
        (w.st.sign_for_org(DAN, st.statement_id, w.org["Red Libre"].org_id, 1, listed=True), NotAllowed, "represent none"),
        (w.st.sign_for_org(CAROL, st.statement_id, w.org["Asia Net"].org_id, 1, listed=True), NotAllowed,
         "You represent Red Libre, not the organisation this button was for"),
        (w.st.sign_for_org(CAROL, st.statement_id, w.org["Red Libre"].org_id, 2, listed=True), Conflict,
         "was amended since you pressed Sign"),
        (w.st.sign_as_individual(DAN, st.statement_id), NotAllowed, "member organisations only"),
        (w.st.prepare_org_signature(ALICE, 999), NotFound, "does not exist on this server"),
        (w.st.prepare_org_signature(person(20, OTHER), st.statement_id), NotFound, "does not exist on this server"),
    ]  # fmt: skip
    for call, error, fragment in refusals:
        with pytest.raises(error) as caught:
            await call
        assert fragment in str(caught.value)
    assert snapshot(w.db) == before


async def test_two_representatives_signing_at_once_give_one_signature(world: World) -> None:
    w = world
    st = await opened(w)
    org_id = w.org["Open Rights"].org_id
    results = await asyncio.gather(
        w.st.sign_for_org(ALICE, st.statement_id, org_id, 1, listed=True),
        w.st.sign_for_org(ALMA, st.statement_id, org_id, 1, listed=False),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Signed"]
    assert rows(w.db, "SELECT count(*) FROM statement_signatures") == [(1,)]
    assert [e["kind"] for e in await entries(w)].count("signature") == 1
    # the database itself refuses a second standing signature of one organisation
    with engines.closing_raw(w.db.path) as raw, pytest.raises(engines.integrity_errors()):
        raw.execute("INSERT INTO statement_signatures (statement_id, guild_id, org_id, signer_id, listed, pseudonym, "
                    "version, signed_at, record_index) SELECT statement_id, guild_id, org_id, 21, 0, "
                    "'anon-0123456789abcdef', version, signed_at, 99 FROM statement_signatures")  # fmt: skip


async def test_individuals_sign_once_when_allowed(world: World) -> None:
    w = world
    st = await opened(w, individuals=True)
    signed = await w.st.sign_as_individual(DAN, st.statement_id)
    assert signed.org_name is None and not signed.listed
    await w.st.sign_as_individual(ALICE, st.statement_id)  # a representative may also sign for themselves
    before = snapshot(w.db)
    with pytest.raises(Conflict, match="You already signed statement #1 as an individual"):
        await w.st.sign_as_individual(DAN, st.statement_id)
    assert snapshot(w.db) == before
    facts = [e["facts"] for e in await entries(w) if e["kind"] == "signature"]
    assert all(set(f) == {"statement", "fingerprint", "action", "pseudonym"} for f in facts)
    assert "Dan" not in json.dumps(facts)  # and no id: the keys above are all there is
    counts = (await w.st.view(st)).counts
    assert (counts.individuals, counts.organisations) == (2, 0)


async def test_drafts_closed_and_past_deadline_statements_take_no_signature(world: World) -> None:
    w = world
    draft = (await w.st.draft(COCO, "Not yet")).statement
    with pytest.raises(Closed, match="is a draft: it is not open for signature yet"):
        await w.st.prepare_org_signature(ALICE, draft.statement_id)
    with pytest.raises(Closed, match="is a draft"):
        await w.st.sign_for_org(ALICE, draft.statement_id, w.org["Open Rights"].org_id, 1, listed=True)
    st = await opened(w, duration="1d")
    w.clock.advance(timedelta(days=1))  # at the deadline, before its close has run
    with pytest.raises(Closed, match="is closed; its signatories are final"):
        await w.st.sign_for_org(ALICE, st.statement_id, w.org["Open Rights"].org_id, 1, listed=True)
    closed = await w.st.close_due(GUILD, st.statement_id)
    assert closed is not None and closed.state == "closed"
    before = snapshot(w.db)
    for call in (w.st.prepare_org_signature(ALICE, st.statement_id),
                 w.st.sign_for_org(ALICE, st.statement_id, w.org["Open Rights"].org_id, 1, listed=True),
                 w.st.withdraw(ALICE, st), w.st.confirm(ALICE, st.statement_id)):  # fmt: skip
        with pytest.raises(Closed, match="is closed"):
            await call
    with pytest.raises(Closed, match="title and text are final"):
        await w.st.edit(COCO, st, title="Late")
    assert snapshot(w.db) == before


async def test_a_name_the_record_would_refuse_is_refused_at_registration(world: World) -> None:
    """The record names organisations and never people: a name that looks like a Discord id or a mention
    is refused when the organisation is registered, so its verification and signatures can be recorded."""
    w = world
    before = snapshot(w.db)
    for name in ("123456789012345678", "Friends of <@123>"):
        with pytest.raises(Invalid, match="can't be a long number or a mention"):
            await w.orgs.register(DAN, name, country="FR", region="weog", stakeholder="academia")
    assert snapshot(w.db) == before


# -- withdrawal ---------------------------------------------------------------------------------------------


async def test_representatives_or_coordinators_withdraw_and_may_sign_again(world: World) -> None:
    w = world
    st = await opened(w, individuals=True)
    for who, org, listed in ((ALICE, "Open Rights", True), (BOB, "Data Justice Africa", False)):
        await w.st.sign_for_org(who, st.statement_id, w.org[org].org_id, 1, listed=listed)
    await w.st.sign_as_individual(DAN, st.statement_id)
    before = snapshot(w.db)
    for who, kwargs, error, fragment in (
        (CAROL, {"org": w.org["Open Rights"]}, NotAllowed, "Only representatives of Open Rights or a coordinator"),
        (DAN, {"org": w.org["Data Justice Africa"]}, NotAllowed, "Only representatives of Data Justice Africa"),
        (CAROL, {}, NotFound, "Red Libre has not signed statement #1"),
        (EVE, {}, NotFound, "You have not signed statement #1"),
        (ALICE, {"individual": True}, NotFound, "You have not signed statement #1 as an individual"),
        (COCO, {"org": w.org["Red Libre"]}, NotFound, "Red Libre has not signed statement #1"),
    ):  # fmt: skip
        with pytest.raises(error, match=fragment):
            await w.st.withdraw(who, st, **kwargs)
    assert snapshot(w.db) == before

    done = await w.st.withdraw(ALMA, st)  # another representative of Open Rights
    assert done.org_name == "Open Rights"
    done = await w.st.withdraw(COCO, st, org=w.org["Data Justice Africa"])  # a coordinator
    assert done.org_name == "Data Justice Africa"
    assert (await w.st.withdraw(DAN, st.statement_id)).org_name is None  # the card's button: one's own
    withdrawn = [
        e["facts"]
        for e in await entries(w)
        if e["kind"] == "signature" and e["facts"]["action"] == "withdrawn"
    ]
    given = [
        e["facts"] for e in await entries(w) if e["kind"] == "signature" and e["facts"]["action"] == "given"
    ]
    assert withdrawn[0]["organisation"] == "Open Rights"
    assert withdrawn[1]["pseudonym"] == given[1]["pseudonym"]  # the same pseudonym as when it was given
    assert (await w.st.view(st)).counts.organisations == 0
    assert rows(w.db, "SELECT count(*) FROM statement_signatures WHERE withdrawn_at IS NOT NULL") == [(3,)]
    again = await w.st.sign_for_org(ALICE, st.statement_id, w.org["Open Rights"].org_id, 1, listed=False)
    assert again.org_name == "Open Rights"
    assert (await w.st.view(st)).counts.counted_only == 1


# -- amendments -----------------------------------------------------------------------------------------------


async def test_an_amendment_is_a_new_version_that_earlier_signers_confirm(world: World) -> None:
    w = world
    st = await opened(w, individuals=True)
    for who, org, listed in ((ALICE, "Open Rights", True), (BOB, "Data Justice Africa", False),
                             (CAROL, "Red Libre", True)):  # fmt: skip
        await w.st.sign_for_org(who, st.statement_id, w.org[org].org_id, 1, listed=listed)
    await w.st.sign_as_individual(DAN, st.statement_id)
    # a new title alone makes no new version
    title = await w.st.edit(COCO, st, title="Joint statement, final")
    assert not title.new_version and title.version.version == 1
    done = await w.st.edit(COCO, st, text="We, the undersigned, call for an open and secure Internet.")
    assert done.new_version and done.version.version == 2 and done.statement.version == 2
    assert done.version.fingerprint == fingerprint(
        "We, the undersigned, call for an open and secure Internet."
    )
    assert (await entries(w))[-1]["facts"] == {"statement": 1, "version": 2, "fingerprint": done.version.fingerprint,
                                              "state": "amended"}  # fmt: skip
    assert [p.kind for p in await post_rows.posts_for(w.db, POST, done.version.version_id)] == [POST]
    counts = (await w.st.view(st)).counts
    assert (counts.organisations, counts.confirmed, counts.pending) == (3, 0, 3)
    assert (counts.individuals, counts.individuals_confirmed) == (1, 0)
    assert rows(w.db, "SELECT version FROM statement_signatures ORDER BY signature_id") == [
        (1,),
        (1,),
        (1,),
        (1,),
    ]
    # signing now takes the new version; a prompt from before the amendment signs nothing
    with pytest.raises(Conflict, match="was amended since you pressed Sign"):
        await w.st.sign_for_org(FINN, st.statement_id, w.org["Asia Net"].org_id, 1, listed=True)
    await w.st.sign_for_org(FINN, st.statement_id, w.org["Asia Net"].org_id, 2, listed=True)

    # who is asked: the signer while they represent it, else a current representative; individuals too
    await w.orgs.remove(ALICE, w.org["Open Rights"], Target(20, "Alice"))  # Alice stops representing
    await w.st.attach_messages(done.statement, done.version, [(1, 777, 5001, False), (2, 777, 5002, True)])
    assert [p.kind for p in await post_rows.posts_for(w.db, CONFIRM, done.version.version_id)] == [CONFIRM]
    amendment = await w.st.amendment(GUILD, done.version.version_id)
    assert amendment is not None and amendment.card is not None and amendment.card.message_id == 5002
    assert dict(amendment.recipients) == {
        21: "Open Rights",
        22: "Data Justice Africa",
        23: "Red Libre",
        24: None,
    }

    confirmed = await w.st.confirm(ALMA, st.statement_id)  # any current representative confirms
    assert confirmed.org_name == "Open Rights" and not confirmed.individual
    before = snapshot(w.db)
    with pytest.raises(Conflict, match="Open Rights is already on version 2"):
        await w.st.confirm(ALMA, st.statement_id)
    with pytest.raises(NotFound, match="Neither your organisation nor you signed statement #1"):
        await w.st.confirm(GUS, st.statement_id)
    assert snapshot(w.db) == before
    assert (await w.st.confirm(DAN, st.statement_id)).individual
    counts = (await w.st.view(st)).counts
    assert (counts.organisations, counts.confirmed, counts.pending, counts.individuals_confirmed) == (
        4,
        2,
        2,
        1,
    )
    regrant = [e["facts"] for e in await entries(w) if e["kind"] == "signature"][-2]
    assert regrant == {"statement": 1, "fingerprint": done.version.fingerprint, "action": "given",
                       "organisation": "Open Rights"}  # fmt: skip
    # withdrawing a pending signature records the fingerprint it was given to
    await w.st.withdraw(BOB, st)
    last = (await entries(w))[-1]["facts"]
    assert last["action"] == "withdrawn" and last["fingerprint"] == fingerprint(
        "We, the undersigned, call for an open Internet."
    )


# -- closing ---------------------------------------------------------------------------------------------------


async def test_a_statement_closes_once_by_hand_or_at_its_deadline(world: World) -> None:
    w = world
    st = await opened(w, duration="2d")
    before = snapshot(w.db)
    with pytest.raises(NotAllowed, match="Only the author"):
        await w.st.close(ALICE, st)
    assert snapshot(w.db) == before
    closed = await w.st.close(COCO, st)
    assert closed.state == "closed" and closed.closed_by == 10 and closed.close_index is not None
    states = [e["facts"]["state"] for e in await entries(w) if e["kind"] == "statement_version"]
    assert states == ["opened", "closed"]
    deadline, now_post = sorted(
        await post_rows.posts_for(w.db, CLOSE, st.statement_id), key=lambda p: p.due_at
    )[::-1]
    assert deadline.state == "cancelled" and now_post.state == "pending"
    with pytest.raises(Conflict, match="already closed"):
        await w.st.close(COCO, st)
    assert await w.st.close_due(GUILD, st.statement_id) is None  # the post finds it closed: closes nothing
    assert (await w.st.claim_announcement(GUILD, st.statement_id, now_post.post_id)) is not None
    assert (await w.st.claim_announcement(GUILD, st.statement_id, now_post.post_id)) is not None  # its retry
    assert (await w.st.claim_announcement(GUILD, st.statement_id, deadline.post_id)) is None  # never another
    assert [e["facts"]["state"] for e in await entries(w) if e["kind"] == "statement_version"] == [
        "opened",
        "closed",
    ]

    other = await opened(w, duration="1d")
    w.clock.advance(timedelta(days=3))  # the bot was down across the deadline
    done = await w.st.close_due(GUILD, other.statement_id)
    assert done is not None and done.closed_at == other.closes_at and done.closed_by is None
    assert await w.st.close_due(GUILD, other.statement_id) is None
    assert [e["facts"]["state"] for e in await entries(w) if e["kind"] == "statement_version"][-1] == "closed"


# -- the signatory list ------------------------------------------------------------------------------------------


async def signed_world(w: World) -> Statement:
    """An amended, closed statement: listed and counted organisations, one pending, individuals."""
    st = await opened(w, individuals=True)
    for who, org, listed in ((ALICE, "Open Rights", True), (BOB, "Data Justice Africa", False),
                             (CAROL, "Red Libre", True), (FINN, "Asia Net", False), (ZED, "=HYPERLINK(1)", True)):  # fmt: skip
        await w.st.sign_for_org(who, st.statement_id, w.org[org].org_id, 1, listed=listed)
    await w.st.sign_as_individual(DAN, st.statement_id)
    await w.st.sign_as_individual(EVE, st.statement_id)
    w.clock.advance(timedelta(days=1))
    await w.st.edit(
        COCO, st, text="Version two <script>alert(1)</script> @everyone\n\n# not a heading\n| pipe |"
    )
    for who in (ALICE, BOB, ZED, DAN):
        await w.st.confirm(who, st.statement_id)
    await w.st.sign_for_org(GUS, st.statement_id, w.org["Tech Commons"].org_id, 2, listed=True)
    return await w.st.close(COCO, st)


async def test_the_signatory_list_in_four_formats(world: World, tmp_path: Path) -> None:
    w = world
    await signed_world(w)
    coordinator = await w.lists.build(await w.lists.request(COCO, "#1"))
    member = await w.lists.build(await w.lists.request(DAN, "1"))
    public = await w.lists.build(await w.lists.request(COCO, "1", public=True))
    assert coordinator.individual_names == ("Dan", "Eve") and member.individual_names is None
    assert public.individual_names is None
    assert [o.name for o in coordinator.organisations] == [
        "=HYPERLINK(1)",
        "Open Rights",
        "Red Libre",
        "Tech Commons",
    ]
    assert [(o.name, o.version, o.current) for o in coordinator.organisations if not o.current] == [
        ("Red Libre", 1, False)
    ]
    c = coordinator.counts
    assert (c.organisations, c.confirmed, c.pending, c.listed, c.counted_only) == (6, 4, 2, 4, 2)
    # on the final version: Open Rights and the =HYPERLINK one (WEOG), Data Justice Africa, Tech Commons
    assert c.by_region == {"african": 1, "asia_pacific": 0, "eastern_european": 1, "grulac": 0, "weog": 2}
    assert c.by_stakeholder == {"civil_society": 1, "academia": 1, "technical": 1, "private_sector": 1,
                                "government": 0, "intergovernmental": 0}  # fmt: skip
    assert len(coordinator.counted_only) == 2 and len(coordinator.individuals) == 2
    assert [e.state for e in coordinator.versions] == ["opened", "amended", "closed"]

    # deterministic: built again later (a checkpoint already signed), the same bytes
    w.clock.advance(timedelta(days=2))
    again = await w.lists.build(await w.lists.request(COCO, "#1"))
    operator = await w.lists.for_operator(GUILD, "1")
    assert coordinator.checkpoint_new and not again.checkpoint_new
    for fmt in ("md", "html", "csv", "json"):
        assert render(coordinator, fmt) == render(again, fmt) == render(operator, fmt), fmt

    data = json.loads(render(coordinator, "json")[1])
    jsonschema.validate(data, SCHEMA)
    assert data["statement"]["text"].startswith("Version two") and data["statement"][
        "fingerprint"
    ] == fingerprint(data["statement"]["text"])
    checks = verify_document(data)
    assert all(ch.ok for ch in checks), [ch.line for ch in checks if not ch.ok]
    assert (
        sum("matches the record" in ch.line for ch in checks) == 3 + 6 + 2
    )  # versions, organisations, individuals
    # one listed organisation taken out by hand: caucus verify names it
    cut = json.loads(render(coordinator, "json")[1])
    cut["organisations"] = [o for o in cut["organisations"] if o["name"] != "Red Libre"]
    failed = [ch.line for ch in verify_document(cut) if not ch.ok]
    assert len(failed) == 1 and "by Red Libre) is in the record but missing from the export" in failed[0]
    # a listed organisation renamed by hand in the file: the record disagrees
    forged = json.loads(render(coordinator, "json")[1])
    forged["organisations"][1]["organisation"] = "Closed Rights"
    assert any("the record says 'Open Rights'" in ch.line for ch in verify_document(forged) if not ch.ok)
    member_data = json.loads(render(member, "json")[1])
    jsonschema.validate(member_data, SCHEMA)
    assert member_data["individuals"]["names"] is None and "Dan" not in render(member, "json")[1].decode()

    md = render_markdown(coordinator)
    assert "| Open Rights | OR | France (FR) | Western European and Others (WEOG) | Civil society |" in md
    assert "Organisations counted without their name: 2" in md and "- Dan" in md
    assert (
        "&lt;script&gt;" in md
        and "<script>" not in md
        and "@everyone" not in md
        and "\\# not a heading" in md
    )
    assert "\\| pipe \\|" in md and coordinator.fingerprint in md and "caucus verify" in md
    assert "- Dan" not in render_markdown(member) and "shown only to coordinators" in render_markdown(member)
    page = render_html(coordinator)
    assert "<script>" not in page and "&lt;script&gt;" in page and "@everyone" not in page
    assert "<title>Statement #1: Joint statement</title>" in page and "src=" not in page
    table = list(csv.reader(io.StringIO(render_csv(coordinator).decode())))
    assert table[0][:3] == ["section", "name", "acronym"]
    orgs = [r for r in table if r[0] == "organisation"]
    assert [r[1] for r in orgs][0] == "'=HYPERLINK(1)"  # formula-safe
    assert ["organisations_counted_only", "", "", "", "", "", "", "", "", "", "2"] in table
    assert ["region", "", "", "", "Western European and Others (WEOG)", "", "", "2", "", "", "2"] in table
    assert [r[1] for r in table if r[0] == "individual"] == ["Dan", "Eve"]
    assert [r for r in csv.reader(io.StringIO(render_csv(member).decode())) if r[0] == "individual"] == []
    assert signatory_dict(coordinator)["record"]["format"] == "caucus-record/1"
    # a draft has no signatory list
    draft = (await w.st.draft(COCO, "Draft")).statement
    with pytest.raises(Invalid, match="is a draft: it has no signatories"):
        await w.lists.request(COCO, str(draft.number))
    with pytest.raises(NotFound):
        await w.lists.for_operator(OTHER, "1")


async def test_the_signatory_page_in_a_real_browser(world: World, tmp_path: Path) -> None:
    from tests.browser import chromium_path, open_page

    if chromium_path() is None:
        pytest.skip("SKIPPED: no Chromium on this machine (apt-get install chromium); .ci/run installs it")
    await signed_world(world)
    found = await world.lists.build(await world.lists.request(COCO, "1"))
    page = tmp_path / "signatories.html"
    page.write_text(render_html(found), encoding="utf-8")
    report = await open_page(page)
    assert report.errors == []
    assert report.title == "Statement #1: Joint statement"
    assert [u for u in report.requests if not u.startswith("file:")] == []
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    for width, png in report.screenshots.items():
        assert png.startswith(b"\x89PNG")
        (artifacts / f"signatories-{width}.png").write_bytes(png)


# -- the summary and members' data ------------------------------------------------------------------------------


async def test_the_summary_has_a_statements_part_only_when_there_are_statements(world: World) -> None:
    from zoneinfo import ZoneInfo

    w = world
    zone = ZoneInfo(ZONE_NAME)
    empty = await build_summary(w.db, GUILD, now=w.clock.now(), zone=zone)
    assert empty.statements == () and "statements" not in json.loads(render_summary_json(empty))
    assert "-statements.csv" not in [suffix for suffix, _ in render_summary(empty, "csv")]
    await signed_world(w)
    await w.st.draft(CORA, "A later draft", group="Principles")
    summary = await build_summary(w.db, GUILD, now=w.clock.now(), zone=zone)
    first, second = summary.statements
    assert (first.number, first.state, first.version, first.on_current_version, first.on_earlier_versions) == (
        1, "closed", 2, 4, 2)  # fmt: skip
    assert (first.listed, first.counted_only, first.individuals) == (4, 2, 2)
    assert (second.state, second.group_name) == ("draft", "Principles")
    data = json.loads(render_summary_json(summary))
    jsonschema.validate(data, SUMMARY_SCHEMA)
    assert data["schema"] == "caucus-summary/2" and [s["number"] for s in data["statements"]] == [1, 2]
    md = dict(render_summary(summary, "md"))[".md"].decode()
    assert "## Statements" in md and "**Statement #1** Joint statement — closed" in md
    assert "4 organisations on version 2" in md and "2 on an earlier version" in md
    files = dict(render_summary(summary, "csv"))
    assert files["-statements.csv"].decode().splitlines()[1].startswith("1,Joint statement,,closed,2,")
    assert "Statement #2" in dict(render_summary(summary, "html"))[".html"].decode()
    grouped = await build_summary(w.db, GUILD, now=w.clock.now(), zone=zone,
                                  group=await w.groups.resolve(GUILD, "Principles"))  # fmt: skip
    assert [s.number for s in grouped.statements] == [2]


async def test_erasing_a_signer_keeps_the_signature_and_drops_the_name(world: World) -> None:
    w = world
    st = await opened(w, individuals=True)
    await w.st.sign_for_org(BOB, st.statement_id, w.org["Data Justice Africa"].org_id, 1, listed=True)
    await w.st.sign_as_individual(DAN, st.statement_id)
    identities = Identities(SECRET)
    privacy = Privacy(w.db, w.clock, identities)
    exported = json.loads(await privacy.export(BOB))
    assert [(s["statement"], s["organisation"], s["signed_it"]) for s in exported["statements"]] == [
        (1, "Data Justice Africa", True)
    ]
    assert json.loads(await privacy.export(DAN))["statements"][0]["as_individual"] is True
    assert json.loads(await privacy.export(COCO))["statements"][0]["drafted_it"] is True
    for who in (BOB, DAN):
        await privacy.erase(who)
    alias_bob, alias_dan = identities.pseudonym(GUILD, 22), identities.pseudonym(GUILD, 24)
    assert rows(w.db, "SELECT signer_id, org_id IS NOT NULL FROM statement_signatures ORDER BY signature_id") == [
        (alias_bob, 1), (alias_dan, 0)]  # fmt: skip
    assert rows(w.db, "SELECT count(*) FROM statement_signatures WHERE signer_id IN (22, 24)") == [(0,)]
    counts = (await w.st.view(st)).counts
    assert (counts.organisations, counts.individuals) == (1, 1)  # both still count
    found = await w.lists.build(await w.lists.request(COCO, "1"))
    assert [o.name for o in found.organisations] == ["Data Justice Africa"]
    assert found.individual_names == ("Former member",)
    # erasing again succeeds and changes nothing more about the signatures
    await privacy.erase(DAN)
    assert rows(w.db, "SELECT count(*) FROM statement_signatures WHERE withdrawn_at IS NULL") == [(2,)]
    # the anonymised member signs under the pseudonym: once, still
    with pytest.raises(Conflict, match="already signed statement #1 as an individual"):
        await w.st.sign_as_individual(Actor(GUILD, alias_dan, "Former member"), st.statement_id)


async def test_the_record_never_holds_a_member(world: World) -> None:
    w = world
    await signed_world(w)
    found = await entries(w)
    text = json.dumps(found)
    for name in NAMES.values():
        assert name not in text, name
    for entry in found:
        facts = entry["facts"]
        assert set(facts) <= {
            "statement",
            "version",
            "fingerprint",
            "state",
            "action",
            "organisation",
            "pseudonym",
            "country",  # an organisation's verification: where it is from and its stakeholder group
            "region",
            "stakeholder",
        }
        assert all(
            not isinstance(v, int) or v < 10 for v in facts.values()
        )  # numbers of statements, versions
    kinds = [e["kind"] for e in await entries(w)]
    assert kinds.count("statement_version") == 3 and kinds.count("signature") == 7 + 4 + 1
