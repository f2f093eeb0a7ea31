"""Organisations, representatives and voices, imports, and the queries counting per organisation uses."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from domain import servers
from domain.clock import FakeClock
from domain.errors import Closed, Conflict, Invalid, NotAllowed, NotFound, TooLong
from domain.groups import Target
from domain.orgs import (
    Org,
    Organisations,
    clean_name,
    clean_website,
    country_name,
    parse_country,
    parse_org_csv,
    parse_region,
    parse_stakeholder,
    suggest_countries,
)
from domain.permissions import Actor, Policy
from domain.privacy import Identities, Privacy, purge_removed_servers
from storage import orgs as org_rows
from storage.db import Database
from tests import engines

GUILD = 1001
OTHER_GUILD = 2002
COORD = Actor(GUILD, 10, "Coco", role_names=frozenset({"Coordinator"}))
COORD2 = Actor(GUILD, 11, "Cleo", manage_guild=True)
ALICE = Actor(GUILD, 20, "Alice")
BOB = Actor(GUILD, 21, "Bob")
CAROL = Actor(GUILD, 22, "Carol")
DAVE = Actor(GUILD, 23, "Dave")
THEIR_COORD = Actor(OTHER_GUILD, 10, "Coco", role_names=frozenset({"Coordinator"}))


def t(actor: Actor) -> Target:
    return Target(actor.user_id, actor.display_name)


@pytest.fixture
def orgs(db: Database, clock: FakeClock) -> Organisations:
    return Organisations(db, clock, Policy(("Coordinator",)))


def rows(db: Database, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    return engines.raw_rows(db.path, sql, params)


async def register(orgs: Organisations, actor: Actor, name: str, **kw: str) -> Org:
    details = {"country": "FR", "region": "weog", "stakeholder": "civil_society", **kw}
    return (await orgs.register(actor, name, **details)).org


async def verified_with_voice(orgs: Organisations, name: str, voice: Actor, **kw: str) -> Org:
    """An organisation registered by ``voice`` and verified by a coordinator: ``voice`` is its voice."""
    org = await register(orgs, voice, name, **kw)
    done = await orgs.verify(COORD if voice.guild_id == GUILD else THEIR_COORD, org)
    assert done.voice_id == voice.user_id
    return done.org


# -- reading what members type -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "code"),
    [("fr", "FR"), ("FRA", "FR"), ("france", "FR"), ("  France ", "FR"), ("Côte d'Ivoire", "CI"),
     ("cote d'ivoire", "CI"), ("Korea, Republic of", "KR"), ("South Korea", "KR"), ("bra", "BR"), ("076", "BR")],
)  # fmt: skip
def test_country_by_code_alpha3_or_name_in_any_case(given: str, code: str) -> None:
    assert parse_country(given) == code


def test_unknown_country_is_one_clear_sentence_with_hints() -> None:
    with pytest.raises(Invalid, match="“Narnia” is not a country I know: give an ISO 3166 code"):
        parse_country("Narnia")
    with pytest.raises(Invalid, match=r"Did you mean Russian Federation \(RU\)\?"):
        parse_country("Russia")
    with pytest.raises(Invalid, match="Give the organisation's country"):
        parse_country(" \u0000 ")
    assert country_name("TW") == "Taiwan" and country_name("FR") == "France"
    assert suggest_countries("fra")[0] == ("FR", "France")
    assert ("BR", "Brazil") in suggest_countries("bra")
    assert len(suggest_countries("")) == 25


@pytest.mark.parametrize(
    ("given", "key"),
    [("african", "african"), ("AFRICAN", "african"), ("Africa", "african"), ("asia_pacific", "asia_pacific"),
     ("Asia-Pacific", "asia_pacific"), ("asia pacific", "asia_pacific"), ("Eastern European", "eastern_european"),
     ("EASTERN_EUROPEAN", "eastern_european"), ("grulac", "grulac"), ("GRULAC", "grulac"),
     ("Latin American and Caribbean (GRULAC)", "grulac"), ("latin american and caribbean", "grulac"),
     ("WEOG", "weog"), ("Western European and Others (WEOG)", "weog"), ("western european & others", "weog")],
)  # fmt: skip
def test_region_by_key_label_or_short_form(given: str, key: str) -> None:
    assert parse_region(given) == key


@pytest.mark.parametrize(
    ("given", "key"),
    [("civil_society", "civil_society"), ("Civil Society", "civil_society"), ("ACADEMIA", "academia"),
     ("technical", "technical"), ("Technical community", "technical"), ("private_sector", "private_sector"),
     ("Private-Sector", "private_sector"), ("government", "government"), ("Intergovernmental", "intergovernmental")],
)  # fmt: skip
def test_stakeholder_by_key_or_label(given: str, key: str) -> None:
    assert parse_stakeholder(given) == key


def test_unknown_region_and_stakeholder_are_refused() -> None:
    with pytest.raises(Invalid, match="“Europe” is not a UN regional group: regions are African"):
        parse_region("Europe")
    with pytest.raises(Invalid, match="“media” is not a stakeholder group"):
        parse_stakeholder("media")


def test_names_and_websites() -> None:
    assert clean_name("  Access \u202e Now  ") == "Access Now"
    with pytest.raises(Invalid, match="can't be # followed by digits"):
        clean_name("#12")
    assert clean_name("# 12") == "# 12" and clean_name("#12a") == "#12a"
    with pytest.raises(TooLong, match="at most 120 characters; this one has 121"):
        clean_name("x" * 121)
    with pytest.raises(Invalid, match="Give the organisation a name"):
        clean_name("\u0000")
    assert clean_website("example.org") == "https://example.org"
    assert clean_website("http://example.org/a?b") == "http://example.org/a?b"
    for bad in ("ftp://example.org", "not a site", "https://localhost", "javascript:alert(1)", "http://[::1"):
        with pytest.raises(Invalid):
            clean_website(bad)
    with pytest.raises(TooLong):
        clean_website("https://example.org/" + "a" * 200)


# -- registering, verifying, resolving --------------------------------------------------------------------


async def test_register_creates_a_pending_organisation_and_a_request(
    orgs: Organisations, db: Database
) -> None:
    done = await orgs.register(ALICE, " Access  Now ", country="usa", region="WEOG", stakeholder="Civil society",
                               acronym="AN", website="accessnow.org")  # fmt: skip
    org = done.org
    assert done.requested
    assert (org.name, org.acronym, org.country, org.region, org.stakeholder, org.website, org.state) == (
        "Access Now", "AN", "US", "weog", "civil_society", "https://accessnow.org", "pending",
    )  # fmt: skip
    assert rows(db, "SELECT user_id, state FROM org_reps") == [(ALICE.user_id, "requested")]
    card = await orgs.card(org, COORD)
    assert card.representatives == () and card.voice is None
    assert [r.user_id for r in card.requests] == [ALICE.user_id] and card.requests_visible
    assert not (await orgs.card(org, BOB)).requests_visible


@pytest.mark.parametrize(("first", "second"), [("Access Now", "ACCESS NOW"), ("Ärzte ohne Grenzen", "ÄRZTE OHNE GRENZEN"),
                                               ("Ärzte", "A\u0308rzte"), ("Straße", "STRASSE")])  # fmt: skip
async def test_names_are_unique_in_any_case(
    orgs: Organisations, db: Database, first: str, second: str
) -> None:
    await register(orgs, ALICE, first)
    before = rows(db, "SELECT * FROM orgs")
    with pytest.raises(Conflict, match="already exists on this server"):
        await register(orgs, BOB, second)
    assert rows(db, "SELECT * FROM orgs") == before
    assert rows(db, "SELECT count(*) FROM org_reps WHERE user_id = ?", (BOB.user_id,)) == [(0,)]
    assert (await orgs.resolve(GUILD, second.lower())).name == first


async def test_the_same_name_in_another_server_is_another_organisation(orgs: Organisations) -> None:
    ours = await register(orgs, ALICE, "Derechos Digitales")
    theirs = await register(orgs, THEIR_COORD, "derechos digitales")
    assert ours.org_id != theirs.org_id
    assert (await orgs.resolve(GUILD, "DERECHOS DIGITALES")).org_id == ours.org_id
    assert (await orgs.resolve(GUILD, f"#{ours.org_id}")).org_id == ours.org_id
    with pytest.raises(NotFound, match="no organisation “#2” on this server"):
        await orgs.resolve(GUILD, f"#{theirs.org_id}")
    with pytest.raises(NotFound):
        await orgs.resolve(GUILD, str(ours.org_id))  # typed text is a name, never an id
    with pytest.raises(Invalid):
        await orgs.resolve(GUILD, " ")
    assert [o.name for o in await orgs.suggest(GUILD, "")] == ["Derechos Digitales"]
    # another server's request is not found here, whatever the button says
    their_request = await org_rows.open_rep_of(orgs.db, OTHER_GUILD, THEIR_COORD.user_id)
    assert their_request is not None
    with pytest.raises(NotFound):
        await orgs.decide_request(COORD, their_request.rep_id, approve=True)
    # and another server's organisation handed to a use case directly is not found either
    for attempt in (orgs.verify(COORD, theirs), orgs.join(ALICE, theirs), orgs.leave(COORD, theirs),
                    orgs.edit(COORD, theirs, acronym="X"), orgs.approve(COORD, theirs, t(THEIR_COORD)),
                    orgs.hand_voice(COORD, theirs, t(ALICE)), orgs.remove(COORD, theirs, t(THEIR_COORD))):  # fmt: skip
        with pytest.raises(NotFound):
            await attempt
    assert rows(orgs.db, "SELECT state FROM orgs WHERE org_id = ?", (theirs.org_id,)) == [("pending",)]


async def test_verify_makes_the_registrant_the_voice(orgs: Organisations, db: Database) -> None:
    org = await register(orgs, ALICE, "Article 19")
    with pytest.raises(NotAllowed, match="Only coordinators can verify organisations"):
        await orgs.verify(ALICE, org)
    done = await orgs.verify(COORD, org)
    assert done.org.state == "verified" and done.voice_id == ALICE.user_id and not done.own_request_pending
    rep = await orgs.representation_of(GUILD, ALICE.user_id)
    assert rep is not None and rep.org.org_id == org.org_id and rep.is_voice
    with pytest.raises(Conflict, match="already verified"):
        await orgs.verify(COORD, org)


async def test_a_coordinator_verifying_their_own_registration_does_not_approve_themselves(
    orgs: Organisations, db: Database
) -> None:
    org = await register(orgs, COORD, "Coalition Office")
    done = await orgs.verify(COORD, org)
    assert done.org.state == "verified" and done.voice_id is None and done.own_request_pending
    assert rows(db, "SELECT state FROM org_reps WHERE user_id = ?", (COORD.user_id,)) == [("requested",)]
    with pytest.raises(NotAllowed, match="can't approve your own request"):
        await orgs.approve(COORD, done.org, t(COORD))
    await orgs.approve(COORD2, done.org, t(COORD))
    assert (await orgs.voices(GUILD)) == {org.org_id: COORD.user_id}


async def test_register_while_representing_another_registers_without_a_request(orgs: Organisations) -> None:
    first = await verified_with_voice(orgs, "First", ALICE)
    done = await orgs.register(ALICE, "Second", country="DE", region="weog", stakeholder="academia")
    assert not done.requested and done.already is not None and done.already.org_id == first.org_id


# -- representatives and the voice ------------------------------------------------------------------


async def test_one_organisation_per_member(orgs: Organisations, db: Database) -> None:
    a = await verified_with_voice(orgs, "Org A", ALICE)
    b = await verified_with_voice(orgs, "Org B", BOB)
    await orgs.join(CAROL, a)
    with pytest.raises(Conflict, match="You already asked to represent Org A"):
        await orgs.join(CAROL, a)
    with pytest.raises(Conflict, match="You already asked to represent Org A: one request at a time"):
        await orgs.join(CAROL, b)
    await orgs.approve(ALICE, a, t(CAROL))
    with pytest.raises(Conflict, match="You already represent Org A"):
        await orgs.join(CAROL, a)
    with pytest.raises(Conflict, match="You represent Org A: a member represents one organisation at a time"):
        await orgs.join(CAROL, b)
    # the database refuses it too, whatever the code above does
    with pytest.raises(engines.integrity_errors()):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO org_reps (org_id, guild_id, user_id, state, requested_at, started_at) "
                "VALUES (?, ?, ?, 'active', 0, 0)",
                (b.org_id, GUILD, CAROL.user_id),
            )


async def test_two_approvals_at_once_approve_once(orgs: Organisations, db: Database) -> None:
    a = await verified_with_voice(orgs, "Org A", ALICE)
    request = await orgs.join(CAROL, a)
    results = await asyncio.gather(
        orgs.approve(ALICE, a, t(CAROL)), orgs.decide_request(COORD, request.rep.rep_id, approve=True),
        return_exceptions=True,
    )  # fmt: skip
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Decision"], results
    assert rows(db, "SELECT state FROM org_reps WHERE user_id = ?", (CAROL.user_id,)) == [("active",)]


async def test_joining_two_organisations_at_once_keeps_one(orgs: Organisations, db: Database) -> None:
    a = await verified_with_voice(orgs, "Org A", ALICE)
    b = await verified_with_voice(orgs, "Org B", BOB)
    results = await asyncio.gather(orgs.join(CAROL, a), orgs.join(CAROL, b), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "JoinRequest"], results
    assert rows(db, "SELECT count(*) FROM org_reps WHERE user_id = ?", (CAROL.user_id,)) == [(1,)]


async def test_who_may_approve(orgs: Organisations, db: Database) -> None:
    a = await verified_with_voice(orgs, "Org A", ALICE)
    await orgs.join(BOB, a)
    await orgs.join(CAROL, a)
    before = rows(db, "SELECT * FROM org_reps")
    with pytest.raises(NotAllowed, match="can't approve your own request to represent Org A"):
        await orgs.approve(BOB, a, t(BOB))
    with pytest.raises(NotAllowed, match="Only the voice of Org A or a coordinator can approve"):
        await orgs.approve(CAROL, a, t(BOB))
    with pytest.raises(NotAllowed, match="Only the voice of Org A or a coordinator"):
        await orgs.approve(DAVE, a, t(DAVE))  # no request at all, and not allowed anyway
    assert rows(db, "SELECT * FROM org_reps") == before
    decided = await orgs.approve(ALICE, a, t(BOB))
    assert decided.approved and not decided.became_voice
    # a representative who is not the voice cannot approve either
    with pytest.raises(NotAllowed, match="Only the voice of Org A"):
        await orgs.approve(BOB, a, t(CAROL))
    with pytest.raises(NotFound, match="Dave has not asked to represent Org A"):
        await orgs.approve(COORD, a, t(DAVE))
    with pytest.raises(Conflict, match="Bob already represents Org A"):
        await orgs.approve(COORD, a, t(BOB))
    await orgs.approve(COORD, a, t(CAROL))
    card = await orgs.card(a)
    assert [r.user_id for r in card.representatives] == [ALICE.user_id, BOB.user_id, CAROL.user_id]
    assert card.voice is not None and card.voice.user_id == ALICE.user_id


async def test_requests_to_pending_or_departed_organisations(orgs: Organisations) -> None:
    pending = await register(orgs, ALICE, "Pending Org")
    await orgs.join(BOB, pending)
    with pytest.raises(Invalid, match="Pending Org is not verified yet"):
        await orgs.approve(COORD, pending, t(BOB))
    done = await orgs.verify(COORD, pending)
    assert done.voice_id == ALICE.user_id  # the registrant only; Bob still waits
    assert (await orgs.card(done.org)).requests[0].user_id == BOB.user_id
    await orgs.leave(COORD, done.org)
    with pytest.raises(Closed, match="has left the coalition and takes no new representatives"):
        await orgs.join(CAROL, done.org)


async def test_decline_and_withdraw(orgs: Organisations, db: Database) -> None:
    a = await verified_with_voice(orgs, "Org A", ALICE)
    request = await orgs.join(BOB, a)
    assert request.voice_id == ALICE.user_id
    declined = await orgs.decide_request(ALICE, request.rep.rep_id, approve=False)
    assert not declined.approved
    with pytest.raises(Conflict, match="already declined"):
        await orgs.decide_request(COORD, request.rep.rep_id, approve=True)
    again = await orgs.join(BOB, a)  # a declined request can be made again
    removal = await orgs.remove(BOB, a, t(BOB))
    assert removal.was_request
    with pytest.raises(NotFound, match="You do not represent Org A and have not asked to"):
        await orgs.remove(BOB, a, t(BOB))
    assert rows(db, "SELECT state FROM org_reps WHERE user_id = ? ORDER BY rep_id", (BOB.user_id,)) == [
        ("declined",), ("withdrawn",),
    ]  # fmt: skip
    assert again.rep.rep_id != request.rep.rep_id


async def test_voice_handover(orgs: Organisations, db: Database, clock: FakeClock) -> None:
    a = await verified_with_voice(orgs, "Org A", ALICE)
    for member in (BOB, CAROL):
        await orgs.join(member, a)
        await orgs.approve(ALICE, a, t(member))
    clock.advance(timedelta(hours=1))
    with pytest.raises(NotAllowed, match="Only the voice of Org A or a coordinator can hand its voice"):
        await orgs.hand_voice(BOB, a, t(BOB))
    with pytest.raises(NotFound, match="Dave does not represent Org A"):
        await orgs.hand_voice(ALICE, a, t(DAVE))
    with pytest.raises(Conflict, match="Alice is already the voice of Org A"):
        await orgs.hand_voice(COORD, a, t(ALICE))
    done = await orgs.hand_voice(ALICE, a, t(BOB))
    assert done.previous_id == ALICE.user_id and done.voice_id == BOB.user_id
    clock.advance(timedelta(hours=1))
    await orgs.hand_voice(COORD, a, t(CAROL))  # a coordinator may too
    assert await orgs.voices(GUILD) == {a.org_id: CAROL.user_id}
    history = rows(
        db,
        "SELECT r.user_id, v.ended_at IS NULL FROM org_voices v JOIN org_reps r USING (rep_id) ORDER BY v.voice_id",
    )
    assert history == [(ALICE.user_id, 0), (BOB.user_id, 0), (CAROL.user_id, 1)]
    # who was the voice an hour and a half ago
    past = clock.now() - timedelta(minutes=30)
    then = await orgs.representation_of(GUILD, BOB.user_id, past)
    assert then is not None and then.is_voice
    now = await orgs.representation_of(GUILD, BOB.user_id)
    assert now is not None and not now.is_voice


async def test_voice_passes_to_the_longest_serving_when_the_voice_goes(
    orgs: Organisations, db: Database, clock: FakeClock
) -> None:
    a = await verified_with_voice(orgs, "Org A", ALICE)
    for member in (CAROL, BOB):  # Carol first: she serves longer than Bob
        clock.advance(timedelta(minutes=5))
        await orgs.join(member, a)
        await orgs.approve(ALICE, a, t(member))
    with pytest.raises(NotAllowed, match="Only the voice of Org A or a coordinator can remove"):
        await orgs.remove(BOB, a, t(CAROL))
    gone = await orgs.remove(ALICE, a, t(ALICE))
    assert gone.was_voice and gone.new_voice_id == CAROL.user_id
    assert (await orgs.card(a)).voice.user_id == CAROL.user_id  # type: ignore[union-attr]
    # a non-voice leaving changes nothing about the voice
    bob_gone = await orgs.remove(COORD, a, t(BOB))
    assert not bob_gone.was_voice and bob_gone.new_voice_id is None
    last = await orgs.remove(CAROL, a, t(CAROL))
    assert last.was_voice and last.new_voice_id is None
    card = await orgs.card(a)
    assert card.voice is None and card.representatives == ()
    assert await orgs.voices(GUILD) == {}
    # the record keeps every representation with its dates
    assert rows(db, "SELECT user_id, state, started_at IS NOT NULL, ended_at IS NOT NULL FROM org_reps ORDER BY rep_id") == [
        (ALICE.user_id, "ended", 1, 1), (CAROL.user_id, "ended", 1, 1), (BOB.user_id, "ended", 1, 1),
    ]  # fmt: skip
    # the next one approved becomes the voice again
    await orgs.join(DAVE, a)
    assert (await orgs.approve(COORD, a, t(DAVE))).became_voice


async def test_an_organisation_leaving(orgs: Organisations, db: Database) -> None:
    a = await verified_with_voice(orgs, "Org A", ALICE)
    b = await verified_with_voice(orgs, "Org B", CAROL)
    await orgs.join(BOB, a)
    await orgs.approve(ALICE, a, t(BOB))
    await orgs.join(DAVE, a)
    with pytest.raises(NotAllowed, match="Only the voice of Org A or a coordinator can say it leaves"):
        await orgs.leave(BOB, a)
    done = await orgs.leave(ALICE, a)
    assert done.org.state == "left" and set(done.ended) == {ALICE.user_id, BOB.user_id} and done.declined == 1
    assert [o.org_id for o in await orgs.counted_orgs(GUILD)] == [b.org_id]
    assert await orgs.voices(GUILD) == {b.org_id: CAROL.user_id}
    assert await orgs.representation_of(GUILD, ALICE.user_id) is None
    with pytest.raises(Conflict, match="already left"):
        await orgs.leave(COORD, a)
    with pytest.raises(Closed, match="its record is kept"):
        await orgs.edit(COORD, a, acronym="X")
    # the record stays: the organisation, who represented it and when
    assert rows(db, "SELECT name, state FROM orgs WHERE org_id = ?", (a.org_id,)) == [("Org A", "left")]
    assert rows(db, "SELECT count(*) FROM org_reps WHERE org_id = ?", (a.org_id,)) == [(3,)]
    # now free, Alice may represent another organisation; a coordinator may admit Org A again
    await orgs.join(ALICE, b)
    back = await orgs.verify(COORD, a)
    assert back.readmitted and back.org.state == "verified" and back.org.left_at is not None


async def test_the_database_keeps_the_invariants(orgs: Organisations, db: Database) -> None:
    a = await verified_with_voice(orgs, "Org A", ALICE)
    p = await register(orgs, BOB, "Pending")
    for sql, params in (
        (
            "UPDATE orgs SET state = 'left', left_at = 1 WHERE org_id = ?",
            (a.org_id,),
        ),  # representatives first
        (
            "UPDATE org_reps SET state = 'ended', ended_at = 9999999999 WHERE user_id = ?",
            (ALICE.user_id,),
        ),  # voice first
        (
            "UPDATE org_reps SET state = 'active', started_at = 1 WHERE org_id = ?",
            (p.org_id,),
        ),  # not verified
        ("UPDATE orgs SET region = 'europe' WHERE org_id = ?", (a.org_id,)),
        ("UPDATE orgs SET country = 'fr' WHERE org_id = ?", (a.org_id,)),
    ):
        with pytest.raises(engines.integrity_errors()):
            async with db.transaction() as conn:
                await conn.execute(sql, params)


async def test_edit(orgs: Organisations, db: Database) -> None:
    a = await verified_with_voice(orgs, "Org A", ALICE, acronym="OA", website="https://a.example.org")
    await register(orgs, CAROL, "Ärzte Verein")
    with pytest.raises(NotAllowed, match="Only the voice of Org A or a coordinator can edit it"):
        await orgs.edit(BOB, a, acronym="B")
    with pytest.raises(Conflict, match="“Ärzte Verein” already exists"):
        await orgs.edit(ALICE, a, name="ÄRZTE VEREIN")
    with pytest.raises(Invalid, match="not a country I know"):
        await orgs.edit(ALICE, a, country="Atlantis")
    with pytest.raises(Invalid, match="at least one thing"):
        await orgs.edit(ALICE, a)
    assert rows(db, "SELECT name, acronym FROM orgs WHERE org_id = ?", (a.org_id,)) == [("Org A", "OA")]
    done = await orgs.edit(
        ALICE, a, name="ORG A", acronym="-", country="Brazil", region="grulac", website="-"
    )
    assert (done.org.name, done.org.acronym, done.org.country, done.org.region, done.org.website) == (
        "ORG A",
        "",
        "BR",
        "grulac",
        "",
    )
    assert set(done.changed) == {"name", "acronym", "country", "region", "website"}
    assert (await orgs.resolve(GUILD, "org a")).org_id == a.org_id


async def test_list_filters(orgs: Organisations) -> None:
    await verified_with_voice(orgs, "Alpha", ALICE, region="african", stakeholder="academia")
    await register(orgs, BOB, "Beta", region="grulac")
    rows_ = await orgs.list_orgs(GUILD)
    assert [(r.name, r.rep_count, r.voice_id) for r in rows_] == [
        ("Alpha", 1, ALICE.user_id),
        ("Beta", 0, None),
    ]
    assert [r.name for r in await orgs.list_orgs(GUILD, region="African")] == ["Alpha"]
    assert [r.name for r in await orgs.list_orgs(GUILD, stakeholder="civil society")] == ["Beta"]
    assert [r.name for r in await orgs.list_orgs(GUILD, state="pending")] == ["Beta"]
    assert [o.name for o in await orgs.suggest(GUILD, "ALP")] == ["Alpha"]
    await register(orgs, CAROL, "Electronic Frontier Foundation", acronym="EFF")
    assert [o.name for o in await orgs.suggest(GUILD, "eff")] == ["Electronic Frontier Foundation"]
    assert [o.name for o in await orgs.suggest(GUILD, "ta")] == ["Beta"]  # contains, not only starts with
    await register(orgs, DAVE, "Tango Trust")  # no acronym either: a name that starts with it comes first
    assert [o.name for o in await orgs.suggest(GUILD, "ta")] == ["Tango Trust", "Beta"]
    assert await orgs.list_orgs(OTHER_GUILD) == []


# -- what counting per organisation asks --------------------------------------------------------------


async def test_representation_of_is_one_indexed_lookup(orgs: Organisations, db: Database) -> None:
    a = await verified_with_voice(orgs, "Org A", ALICE, region="asia_pacific", stakeholder="technical")
    await orgs.join(BOB, a)
    assert await orgs.representation_of(GUILD, BOB.user_id) is None  # a request is not a representation
    await orgs.approve(ALICE, a, t(BOB))
    rep = await orgs.representation_of(GUILD, BOB.user_id)
    assert rep is not None and rep.org.region == "asia_pacific" and not rep.is_voice
    assert await orgs.representation_of(OTHER_GUILD, BOB.user_id) is None
    with engines.closing_raw(db.path) as raw:
        if engines.on_postgres():
            # on a few rows the planner rightly scans; whether the query can use the index is what matters
            raw.execute("SET LOCAL enable_seqscan = off")
            plan = raw.rows("EXPLAIN " + org_rows._REPRESENTATION_NOW, {"g": GUILD, "u": BOB.user_id})
            text = " ".join(str(r[0]) for r in plan)
            assert "org_reps_one_current" in text and "Seq Scan on org_reps" not in text, text
        else:
            plan = raw.rows("EXPLAIN QUERY PLAN " + org_rows._REPRESENTATION_NOW, (GUILD, BOB.user_id))
            text = " ".join(str(r[-1]) for r in plan)
            assert "org_reps_one_current" in text and "SCAN r" not in text, text
    # and on the plain connection of a click (Database.run), as the vote of a poll counted per organisation asks
    same = await db.run(lambda conn: org_rows.representation_now(conn, GUILD, BOB.user_id))
    assert same is not None and same.org().org_id == a.org_id


# -- import ------------------------------------------------------------------------------------------

HEADER = "name,acronym,country,region,stakeholder group,website\n"


def csv_of(*lines: str, header: str = HEADER) -> bytes:
    return (header + "\n".join(lines) + "\n").encode()


def test_import_reads_bom_semicolons_and_lenient_values() -> None:
    data = "\ufeffName;Acronym;Country;Region;Stakeholder_Group;Website;Contact\n" \
           "Derechos Digitales;DD;Chile;GRULAC;civil society;derechosdigitales.org;x@y\n" \
           "\n" \
           "\"KICTANet; Kenya\";;KEN;African;Civil Society;;\n"  # fmt: skip
    lines, ignored = parse_org_csv(data.encode("utf-8"), {})
    assert [(x.line, x.name, x.country, x.region, x.stakeholder, x.website) for x in lines] == [
        (2, "Derechos Digitales", "CL", "grulac", "civil_society", "https://derechosdigitales.org"),
        (4, "KICTANet; Kenya", "KE", "african", "civil_society", ""),
    ]
    assert ignored == ["Contact"]
    lines, _ = parse_org_csv(b"sep=;\nname;country;region;stakeholder\nA;FR;weog;academia\n", {})
    assert lines[0].line == 3


def test_import_names_every_bad_line() -> None:
    data = csv_of(
        "Good One,G1,FR,weog,civil society,",  # line 2
        "Bad Country,,Narnia,weog,academia,",  # line 3
        ",,FR,weog,academia,",  # line 4: no name
        "Bad Region,,DE,Europe,academia,",  # line 5
        "good one,,FR,weog,academia,",  # line 6: repeats line 2
        "Taken Here,,FR,weog,academia,",  # line 7
        "X" * 121 + ",,FR,weog,academia,",  # line 8
        "Ärzte,,DE,weog,media,ftp://x",  # line 9
        "ÄRZTE,,DE,weog,academia,",  # line 10: repeats line 9
        "Too, many,FR,weog,academia,,extra",  # line 11
        "#12,,FR,weog,academia,",  # line 12
    )
    with pytest.raises(Invalid) as caught:
        parse_org_csv(data, {org_rows.name_key("TAKEN HERE"): "Taken here"})
    text = str(caught.value)
    assert text.startswith("Nothing was imported: 10 lines have problems.")
    for fragment in ("line 3: unknown country “Narnia”", "line 4: no name", "line 5: unknown region “Europe”",
                     "line 6: “good one” repeats line 2", "line 7: an organisation named “Taken here” already exists",
                     "line 8: the name is longer than 120", "line 9: unknown stakeholder group “media”, the website",
                     "line 10: “ÄRZTE” repeats line 9", "line 11: more cells than the header", "line 12: a name can't be #",
                     "regions are African", "stakeholder groups are civil society"):  # fmt: skip
        assert fragment in text, (fragment, text)
    assert "line 2:" not in text and len(text) < 2000


def test_import_refusals_of_the_whole_file() -> None:
    for data, fragment in (
        (b"x" * 1_000_001, "larger than 1 MB"),
        (b"name,country\x00", "not a text file"),
        ("name,country\nÉcole,FR\n".encode("latin-1"), "not UTF-8"),
        (b"", "the file is empty"),
        (b"x", "missing: name, country, region, stakeholder group"),
        (b"name,country,region\nA,FR,weog\n", "missing: stakeholder group"),
        (b"name,country,region,stakeholder,stakeholder group\n", "names the column stakeholder twice"),
        (HEADER.encode(), "no organisations"),
        (csv_of(*(f"Org {i},,FR,weog,academia," for i in range(2001))), "at most 2,000 organisations"),
    ):
        with pytest.raises(Invalid, match=fragment):
            parse_org_csv(data, {})


def test_import_of_many_bad_lines_stays_one_message() -> None:
    data = csv_of(*(f"Org {i},,Narnia,weog,academia," for i in range(1500)))
    with pytest.raises(Invalid) as caught:
        parse_org_csv(data, {})
    text = str(caught.value)
    assert text.startswith("Nothing was imported: 1,500 lines have problems. line 2: unknown country")
    assert "more lines" in text and len(text) <= 2000


async def test_import_preview_then_confirm(orgs: Organisations, db: Database) -> None:
    await register(orgs, ALICE, "Already Here")
    data = csv_of(*(f"Org {i},O{i},{c},{r},civil society,org{i}.example.org"
                    for i, (c, r) in enumerate([("FR", "weog"), ("KE", "african"), ("IN", "asia_pacific"),
                                                ("PL", "eastern_european"), ("BR", "grulac")] * 3)))  # fmt: skip
    with pytest.raises(NotAllowed, match="Only coordinators can import organisations"):
        await orgs.preview_import(ALICE, data)
    preview = await orgs.preview_import(COORD, data)
    assert len(preview.lines) == 15 and preview.by_region() == dict.fromkeys(
        ("african", "asia_pacific", "eastern_european", "grulac", "weog"), 3
    )
    assert rows(db, "SELECT count(*) FROM orgs") == [(1,)]  # nothing until Confirm
    with pytest.raises(NotAllowed):
        await orgs.confirm_import(ALICE, preview.import_id)
    created = await orgs.confirm_import(COORD, preview.import_id)
    assert len(created) == 15 and {o.state for o in created} == {"verified"}
    assert {o.verified_by for o in created} == {COORD.user_id}
    with pytest.raises(Conflict, match="already confirmed"):
        await orgs.confirm_import(COORD2, preview.import_id)
    with pytest.raises(Conflict, match="already confirmed, or does not exist on this server"):
        await orgs.confirm_import(THEIR_COORD, preview.import_id)
    assert len(await orgs.counted_orgs(GUILD)) == 15


async def test_import_confirm_racing_a_registration(orgs: Organisations, db: Database) -> None:
    preview = await orgs.preview_import(COORD, csv_of("Alpha,,FR,weog,academia,", "Beta,,DE,weog,academia,"))
    # someone registers one of the names between the preview and the Confirm
    await register(orgs, ALICE, "BETA")
    with pytest.raises(
        Conflict, match=r"Nothing was imported: “Beta” \(line 3\) was registered on this server after"
    ):
        await orgs.confirm_import(COORD, preview.import_id)
    assert rows(db, "SELECT name FROM orgs ORDER BY org_id") == [("BETA",)]
    # both at once: exactly one of them gets the name, and the import is whole or absent
    preview = await orgs.preview_import(COORD, csv_of("Gamma,,FR,weog,academia,", "Delta,,DE,weog,academia,"))
    results = await asyncio.gather(
        orgs.confirm_import(COORD, preview.import_id), register(orgs, BOB, "gamma"), return_exceptions=True
    )
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 1 and isinstance(failures[0], Conflict), results
    names = {n for (n,) in rows(db, "SELECT name_key FROM orgs")}
    assert "gamma" in names and (("delta" in names) == isinstance(results[1], Exception))


# -- data rights ----------------------------------------------------------------------------------------


async def test_privacy_export_and_delete(orgs: Organisations, db: Database, clock: FakeClock) -> None:
    identities = Identities(b"k" * 32)
    privacy = Privacy(db, clock, identities)
    a = await verified_with_voice(orgs, "Org A", ALICE)
    await orgs.join(BOB, a)
    await orgs.approve(ALICE, a, t(BOB))
    b = await register(orgs, CAROL, "Org B")
    exported = json.loads(await privacy.export(ALICE))["organisations"]
    assert [(r["organisation"], r["state"], r["is_voice_now"], len(r["voice_periods"]))
            for r in exported if r["record"] == "representation"] == [("Org A", "active", True, 1)]  # fmt: skip
    assert [r for r in exported if r["record"] == "organisation"] == [
        {"record": "organisation", "organisation": "Org A", "registered": True, "verified": False,
         "recorded_leaving": False}
    ]  # fmt: skip
    await privacy.erase(ALICE)
    alias = identities.pseudonym(GUILD, ALICE.user_id)
    assert await orgs.representation_of(GUILD, ALICE.user_id) is None
    assert await orgs.voices(GUILD) == {a.org_id: BOB.user_id}  # the voice passed on
    for table, column in org_rows.MEMBER_ID_COLUMNS:
        assert rows(db, f"SELECT count(*) FROM {table} WHERE {column} = ?", (ALICE.user_id,)) == [(0,)], (
            column
        )
    assert rows(db, "SELECT created_by, state FROM orgs WHERE org_id = ?", (a.org_id,)) == [
        (alias, "verified")
    ]
    await privacy.erase(CAROL)
    assert rows(db, "SELECT state FROM org_reps WHERE org_id = ?", (b.org_id,)) == [("withdrawn",)]
    assert rows(db, "SELECT name, state FROM orgs WHERE org_id = ?", (b.org_id,)) == [("Org B", "pending")]


async def test_a_purged_server_takes_its_organisations_with_it(
    orgs: Organisations, db: Database, clock: FakeClock
) -> None:
    theirs = await verified_with_voice(orgs, "Gone Org", Actor(OTHER_GUILD, 20, "Alice"))
    await orgs.preview_import(THEIR_COORD, csv_of("Listed,,FR,weog,academia,"))
    ours = await verified_with_voice(orgs, "Our Org", ALICE)
    await servers.server_left(db, clock, OTHER_GUILD)
    clock.advance(timedelta(days=31))
    assert await purge_removed_servers(db, clock, timedelta(days=30)) == [OTHER_GUILD]
    assert rows(db, "SELECT org_id FROM orgs") == [(ours.org_id,)]
    assert rows(db, "SELECT count(*) FROM org_reps WHERE org_id = ?", (theirs.org_id,)) == [(0,)]
    assert rows(db, "SELECT count(*) FROM org_voices WHERE org_id = ?", (theirs.org_id,)) == [(0,)]
    assert rows(db, "SELECT count(*) FROM org_imports") == [(0,)]


async def test_verifications_are_in_the_decision_record_with_their_transaction(
    orgs: Organisations, db: Database
) -> None:
    """Each verification (by command or by an import) appends one record entry, in the same transaction:
    the organisation by name, where it is from, its stakeholder group, and nobody's identity."""
    org = await register(orgs, ALICE, "Article 19", country="GB")
    assert rows(db, "SELECT count(*) FROM record_entries") == [(0,)]  # registering decides nothing
    await orgs.verify(COORD, org)
    preview = await orgs.preview_import(
        COORD, csv_of("Alpha,,KE,african,academia,", "Beta,,BR,grulac,technical,")
    )
    await orgs.confirm_import(COORD, preview.import_id)
    entries = [json.loads(bytes(r[0])) for r in rows(db, "SELECT entry FROM record_entries ORDER BY idx")]
    assert [(e["kind"], e["index"], e["facts"]) for e in entries] == [
        ("organisation_verified", 0, {"organisation": "Article 19", "country": "GB", "region": "weog",
                                      "stakeholder": "civil_society"}),
        ("organisation_verified", 1, {"organisation": "Alpha", "country": "KE", "region": "african",
                                      "stakeholder": "academia"}),
        ("organisation_verified", 2, {"organisation": "Beta", "country": "BR", "region": "grulac",
                                      "stakeholder": "technical"}),
    ]  # fmt: skip
    text = b"".join(bytes(r[0]) for r in rows(db, "SELECT entry FROM record_entries"))
    for person in (ALICE, COORD):  # the facts above are all there is: no id, and no name of a person
        assert person.display_name.encode() not in text
    # a verification refused (already verified) leaves no entry behind
    with pytest.raises(Conflict):
        await orgs.verify(COORD, org)
    assert rows(db, "SELECT count(*) FROM record_entries") == [(3,)]
