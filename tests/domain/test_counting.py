"""Counting per organisation on a real SQLite file with a fake clock: only the voice's position or ballot
counts for its organisation, hand-overs, organisations leaving, scope with working groups, decided points
and closed polls keeping what counted, concurrency, anonymous ballots per organisation, the breakdown by
region and stakeholder group, and data rights."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from domain import servers
from domain.clock import FakeClock
from domain.consensus import Consensus, Tally
from domain.counting import Breakdown, Line, Support, breakdown, org_hint, parse_counting
from domain.errors import Conflict, Invalid, NotAllowed, NotFound
from domain.groups import Group, Target, WorkingGroups
from domain.orgs import Org, Organisations
from domain.permissions import Actor, Policy
from domain.polls import Polls, ballot_key, org_ballot_key
from domain.privacy import Identities, Privacy
from storage.counting import OrgObjectionRow
from storage.db import Database
from tests import engines

GUILD = 1001
ZONE = ZoneInfo("Europe/Paris")
SECRET = bytes(range(32))
POLICY = Policy(("Coordinator",))

COORD = Actor(GUILD, 10, "Coco", role_names=frozenset({"Coordinator"}))
ALICE = Actor(GUILD, 20, "Alice")  # voice of ACME
BOB = Actor(GUILD, 21, "Bob")  # represents ACME, not its voice
CAROL = Actor(GUILD, 22, "Carol")  # voice of Beta
DAVE = Actor(GUILD, 23, "Dave")  # voice of Gamma
EVE = Actor(GUILD, 24, "Eve")  # represents no organisation
PEOPLE = {a.user_id: a.display_name for a in (COORD, ALICE, BOB, CAROL, DAVE, EVE)}


def t(actor: Actor) -> Target:
    return Target(actor.user_id, actor.display_name)


@dataclass
class World:
    db: Database
    clock: FakeClock
    orgs: Organisations
    groups: WorkingGroups
    items: Consensus
    polls: Polls
    acme: Org
    beta: Org
    gamma: Org

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        return engines.raw_rows(self.db.path, sql, params)


async def verified(orgs: Organisations, voice: Actor, name: str, region: str, stakeholder: str) -> Org:
    org = (await orgs.register(voice, name, country="FR", region=region, stakeholder=stakeholder)).org
    return (await orgs.verify(COORD, org)).org


@pytest.fixture
async def w(db: Database, clock: FakeClock) -> World:
    await servers.server_joined(db, clock, GUILD, "Coalition", list(PEOPLE.items()))
    groups = WorkingGroups(db, clock, POLICY, ZONE)
    orgs = Organisations(db, clock, POLICY)
    acme = await verified(orgs, ALICE, "ACME", "weog", "civil_society")
    beta = await verified(orgs, CAROL, "Beta", "african", "academia")
    gamma = await verified(orgs, DAVE, "Gamma", "grulac", "civil_society")
    await orgs.join(BOB, acme)
    await orgs.approve(ALICE, acme, t(BOB))
    clock.advance(timedelta(minutes=1))
    return World(db, clock, orgs, groups, Consensus(db, clock, groups, ZONE, (timedelta(hours=1),)),
                 Polls(db, clock, groups, ZONE, SECRET), acme, beta, gamma)  # fmt: skip


async def point(w: World, *, count: str = "organisations", group: str | None = None, **kw: str) -> int:
    return (
        await w.items.propose(COORD, "point", "Publish the drafts", group=group, count=count, **kw)
    ).item_id


# -- the rules of a point counted per organisation ------------------------------------------------------------


async def test_only_the_voice_counts_and_others_are_shown_apart(w: World) -> None:
    item_id = await point(w)
    bob = await w.items.state_position(BOB, item_id, "agree")
    assert bob.standing is not None and bob.standing.org_name == "ACME"
    assert not bob.standing.is_voice and bob.standing.voice_id == ALICE.user_id
    eve = await w.items.state_position(EVE, item_id, "agree")
    assert eve.standing is not None and eve.standing.org_id is None
    view = await w.items.view(eve.item)
    assert view.tally == Tally()  # two positions shown, none counted
    assert view.orgs is not None and (view.orgs.other_reps, view.orgs.unaffiliated) == (1, 1)
    alice = await w.items.state_position(ALICE, item_id, "object", "Needs a budget line.")
    assert alice.standing is not None and alice.standing.is_voice and alice.standing.in_scope
    await w.items.state_position(CAROL, item_id, "agree")
    view = await w.items.view(alice.item)
    assert view.tally == Tally(agree=1, object=1, open_objections=1)
    assert (
        str(view.hint)
        == "no organisation blocks, 1 objection open; 1 of 3 organisations agree, 1 has not responded"
    )
    assert view.orgs is not None and [o.name for o in view.orgs.not_responded] == ["Gamma"]
    # the register is the organisations': ACME's objection, stated by its voice
    details = await w.items.details(GUILD, "1")
    assert [(o.name, o.stance, o.stated_by, o.state) for o in details.org_objections] == [
        ("ACME", "object", ALICE.user_id, "open")
    ]
    assert details.objections == ()
    assert {p.user_id for p in details.positions} == {ALICE.user_id, BOB.user_id, CAROL.user_id, EVE.user_id}
    # the voice agreeing withdraws the organisation's objection
    await w.items.state_position(ALICE, item_id, "agree")
    assert (await w.items.view(alice.item)).tally == Tally(agree=2, open_objections=0)


async def test_the_same_clicks_counted_per_person_differ(w: World) -> None:
    per_org, per_person = await point(w), await point(w, count="people")
    for item_id in (per_org, per_person):
        await w.items.set_position(ALICE, item_id, "agree")
        await w.items.set_position(BOB, item_id, "block", "Not in our name.")
        await w.items.set_position(EVE, item_id, "agree")
        await w.items.set_position(CAROL, item_id, "stand_aside")
    org_view = await w.items.view(await w.items.by_id(GUILD, per_org))
    person_view = await w.items.view(await w.items.by_id(GUILD, per_person))
    assert org_view.tally == Tally(agree=1, stand_aside=1)  # ACME (Alice) and Beta (Carol); Bob, Eve apart
    assert person_view.tally == Tally(agree=2, stand_aside=1, block=1, open_objections=1)
    assert str(person_view.hint) == "1 block, 1 objection open, 2 of 4 agree, 1 stands aside"
    assert str(org_view.hint).startswith(
        "no organisation blocks, 0 objections open; 1 of 3 organisations agree"
    )


async def test_a_new_voice_keeps_then_changes_the_organisations_position(w: World) -> None:
    item_id = await point(w)
    await w.items.set_position(ALICE, item_id, "agree")
    await w.orgs.hand_voice(ALICE, w.acme, t(BOB))
    item = await w.items.by_id(GUILD, item_id)
    assert (await w.items.view(item)).tally == Tally(agree=1)  # kept when the voice changed hands
    stated = await w.items.state_position(ALICE, item_id, "block", "Changed my mind.")
    assert stated.standing is not None and not stated.standing.is_voice  # no longer the voice
    assert (await w.items.view(item)).tally == Tally(agree=1)
    await w.items.set_position(BOB, item_id, "object", "The new voice objects.")
    assert (await w.items.view(item)).tally == Tally(object=1, open_objections=1)
    assert w.rows("SELECT org_id, stance, stated_by FROM org_positions") == [
        (w.acme.org_id, "object", BOB.user_id)
    ]


async def test_an_organisation_leaving_stops_counting_and_its_position_stays(w: World) -> None:
    item_id = await point(w)
    await w.items.set_position(CAROL, item_id, "block", "No.")
    item = await w.items.by_id(GUILD, item_id)
    assert (await w.items.view(item)).tally == Tally(block=1, open_objections=1)
    await w.orgs.leave(CAROL, w.beta)
    view = await w.items.view(item)
    assert view.tally == Tally() and view.orgs is not None and len(view.orgs.in_scope) == 2
    assert (
        str(view.hint)
        == "no organisation blocks, 0 objections open; 0 of 2 organisations agree, 2 have not responded"
    )
    assert w.rows("SELECT stance FROM org_positions WHERE org_id = ?", (w.beta.org_id,)) == [("block",)]
    details = await w.items.details(GUILD, "1")
    assert [o.state for o in details.org_positions] == ["left"]  # still in the record, marked


async def test_scope_of_a_working_group_is_its_organisations(w: World) -> None:
    principles = await w.groups.create(COORD, "Principles")
    await w.groups.join(BOB, principles)  # ACME is in through Bob, though its voice is not a member
    await w.groups.join(EVE, principles)
    item_id = await point(w, group="Principles")
    item = await w.items.by_id(GUILD, item_id)
    view = await w.items.view(item)
    assert view.orgs is not None and [o.name for o in view.orgs.in_scope] == ["ACME"]
    carol = await w.items.state_position(CAROL, item_id, "agree")  # Beta's voice, Beta not in the group
    assert carol.standing is not None and carol.standing.is_voice and not carol.standing.in_scope
    await w.items.set_position(ALICE, item_id, "agree")
    assert (await w.items.view(item)).tally == Tally(agree=1)  # ACME's; Beta's recorded, not counted
    await w.groups.join(CAROL, principles)
    assert (await w.items.view(item)).tally == Tally(agree=2)
    await w.groups.leave(BOB, await w.groups.resolve(GUILD, "Principles"))
    view = await w.items.view(item)
    assert view.orgs is not None and [o.name for o in view.orgs.in_scope] == ["Beta"]
    assert view.tally == Tally(agree=1)


async def test_a_decided_point_keeps_what_counted_and_reopening_makes_it_live(w: World) -> None:
    item_id = await point(w)
    await w.items.set_position(ALICE, item_id, "agree")
    await w.items.set_position(CAROL, item_id, "agree")
    decided = await w.items.decide(COORD, "1", "consensus")
    before = await w.items.view(decided)
    await w.orgs.leave(CAROL, w.beta)
    after = await w.items.view(await w.items.by_id(GUILD, item_id))
    assert after.tally == before.tally == Tally(agree=2)
    assert after.orgs is not None and len(after.orgs.in_scope) == 3
    reopened = await w.items.reopen(COORD, "1")
    view = await w.items.view(reopened)
    assert view.tally == Tally(agree=1) and view.orgs is not None and len(view.orgs.in_scope) == 2


async def test_two_representatives_clicking_at_once_make_one_organisation_position(w: World) -> None:
    item_id = await point(w)
    for _ in range(5):
        await asyncio.gather(
            w.items.set_position(ALICE, item_id, "block", "Voice says no."),
            w.items.set_position(BOB, item_id, "agree"),
            w.items.set_position(ALICE, item_id, "block", "Voice says no, again."),
        )
    assert w.rows("SELECT org_id, stance, reason, stated_by FROM org_positions") == [
        (w.acme.org_id, "block", "Voice says no, again.", ALICE.user_id)
    ]
    assert w.rows("SELECT count(*) FROM org_objections") == [(1,)]
    assert w.rows("SELECT user_id, stance FROM positions ORDER BY user_id") == [
        (ALICE.user_id, "block"), (BOB.user_id, "agree"),
    ]  # fmt: skip


async def test_an_organisations_objection_is_marked_by_organisation_or_by_member(w: World) -> None:
    item_id = await point(w)
    await w.items.set_position(ALICE, item_id, "object", "Add a budget.")
    await w.items.set_position(CAROL, item_id, "block", "Never.")
    _, entry = await w.items.resolve_objection(COORD, "1", None, "addressed", None, org=w.acme)
    assert isinstance(entry, OrgObjectionRow) and (entry.name, entry.state) == ("ACME", "addressed")
    _, entry = await w.items.resolve_objection(COORD, "1", CAROL.user_id, "in_the_rough", "We go ahead.")
    assert entry.state == "in_the_rough"
    assert (await w.items.view(await w.items.by_id(GUILD, item_id))).tally.open_objections == 0
    with pytest.raises(NotFound, match="Gamma has no objection"):
        await w.items.resolve_objection(COORD, "1", None, "addressed", None, org=w.gamma)
    with pytest.raises(NotFound, match="name the organisation"):
        await w.items.resolve_objection(COORD, "1", EVE.user_id, "addressed", None)
    with pytest.raises(Invalid, match="name the organisation"):
        await w.items.resolve_objection(COORD, "1", None, "addressed", None)


async def test_the_reminder_mentions_the_voices_of_silent_organisations_only(w: World) -> None:
    item_id = await point(w, deadline="48h")
    await w.items.set_position(ALICE, item_id, "agree")
    await w.items.set_position(EVE, item_id, "agree")  # no organisation: not asked, not a response
    reminder = await w.items.reminder(item_id, GUILD, "item_reminder", late=False)
    assert reminder is not None and sorted(reminder.mention_ids) == [CAROL.user_id, DAVE.user_id]
    await w.orgs.remove(DAVE, w.gamma, t(DAVE))  # Gamma has no voice now: nobody to mention for it
    reminder = await w.items.reminder(item_id, GUILD, "item_reminder", late=False)
    assert reminder is not None and reminder.mention_ids == (CAROL.user_id,)
    await w.items.set_position(CAROL, item_id, "agree")
    assert await w.items.reminder(item_id, GUILD, "item_reminder", late=False) is not None  # Gamma silent
    await w.orgs.leave(COORD, w.gamma)
    assert await w.items.reminder(item_id, GUILD, "item_reminder", late=False) is None  # everyone responded


async def test_refusals_of_counting_per_organisation(w: World, db: Database, clock: FakeClock) -> None:
    with pytest.raises(Invalid, match="applies to points"):
        await w.items.propose(COORD, "question", "Who speaks?", count="organisations")
    with pytest.raises(Invalid, match="per person .people. or per organisation"):
        parse_counting("regions")
    with pytest.raises(Invalid, match="not to a role"):
        await w.polls.create(COORD, "Q?", "Yes; No", count="organisations", role_id=5, role_name="Delegates")
    # a server where no organisation counts yet
    await servers.server_joined(db, clock, 3003, "Empty", [(1, "A")])
    with pytest.raises(Invalid, match="No organisation counts on this server yet"):
        await w.items.propose(Actor(3003, 1, "A"), "point", "Text", count="organisations")
    with pytest.raises(Invalid, match="No organisation counts on this server yet"):
        await w.polls.create(Actor(3003, 1, "A"), "Q?", "Yes; No", count="organisations")
    # the mode is fixed once the item or poll exists: the database refuses a change
    item_id = await point(w)
    poll = await w.polls.create(COORD, "Q?", "Yes; No", count="organisations")
    people = await point(w, count="people")
    refused = engines.integrity_errors()
    with engines.closing_raw(db.path, autocommit=True) as raw:
        with pytest.raises(refused, match="counts as it was proposed"):
            raw.execute("UPDATE items SET counting = 'people' WHERE item_id = ?", (item_id,))
        with pytest.raises(refused, match="counts as it was created"):
            raw.execute("UPDATE polls SET counting = 'people' WHERE poll_id = ?", (poll.poll_id,))
        with pytest.raises(refused, match="one ballot per organisation"):
            raw.execute("INSERT INTO poll_votes VALUES (?, 20, 1, 0)", (poll.poll_id,))
        with pytest.raises(refused, match="counted per organisation takes"):
            raw.execute(
                "INSERT INTO org_positions VALUES (?, 1, ?, 'agree', NULL, 20, 0)", (people, w.acme.org_id)
            )


# -- polls counted per organisation ------------------------------------------------------------------------


async def test_one_ballot_per_organisation_cast_by_its_voice(w: World) -> None:
    poll = await w.polls.create(COORD, "Adopt the roadmap?", "Yes; No; Abstain", count="organisations")
    with pytest.raises(NotAllowed, match="only its voice, Alice, votes for ACME"):
        await w.polls.vote(BOB, poll.poll_id, [1], toggle=True)
    with pytest.raises(NotAllowed, match="you represent no organisation, so you can't vote in it"):
        await w.polls.vote(EVE, poll.poll_id, [1], toggle=True)
    ballot = await w.polls.vote(ALICE, poll.poll_id, [1], toggle=True)
    assert ballot.org_name == "ACME" and ballot.labels == ("Yes",) and ballot.changed
    await w.polls.vote(CAROL, poll.poll_id, [2], toggle=True)
    view = await w.polls.view(poll)
    assert view.poll.ballots == 2 and [o.votes for o in view.options] == [1, 1, 0]
    # the voice changes hands mid-poll: the organisation keeps one ballot, changed by the new voice
    await w.orgs.hand_voice(ALICE, w.acme, t(BOB))
    assert (await w.polls.ballot(BOB, poll.poll_id)).labels == ("Yes",)  # the organisation's ballot
    with pytest.raises(NotAllowed, match="only its voice, Bob, votes for ACME"):
        await w.polls.vote(ALICE, poll.poll_id, [3], toggle=True)
    changed = await w.polls.vote(BOB, poll.poll_id, [3], toggle=True)
    assert changed.labels == ("Abstain",) and changed.org_name == "ACME"
    assert w.rows("SELECT org_id, picks, cast_by FROM poll_org_votes ORDER BY org_id") == [
        (w.acme.org_id, 4, BOB.user_id), (w.beta.org_id, 2, CAROL.user_id),
    ]  # fmt: skip
    assert w.rows("SELECT count(*) FROM poll_votes") == [(0,)]
    view = await w.polls.view(poll)
    assert view.poll.ballots == 2 and [o.votes for o in view.options] == [0, 1, 1]
    results = await w.polls.results(GUILD, "1")
    assert [(b.name, b.picks) for b in results.org_ballots] == [("ACME", 4), ("Beta", 2)]


async def test_an_organisation_leaving_mid_poll_is_no_longer_counted_and_the_close_keeps_what_counted(
    w: World,
) -> None:
    poll = await w.polls.create(COORD, "Adopt?", "Yes; No", count="organisations")
    for voice, pick in ((ALICE, 1), (CAROL, 2), (DAVE, 2)):
        await w.polls.vote(voice, poll.poll_id, [pick])
    await w.orgs.leave(DAVE, w.gamma)
    view = await w.polls.view(poll)
    assert view.poll.ballots == 2 and [o.votes for o in view.options] == [1, 1] and len(view.scope) == 2
    assert w.rows("SELECT count(*) FROM poll_org_votes") == [(3,)]  # Gamma's ballot stays in the record
    closed = await w.polls.close(COORD, "1")
    await w.orgs.leave(CAROL, w.beta)  # after the close: the result does not change
    view = await w.polls.view(closed)
    assert view.poll.ballots == 2 and [o.votes for o in view.options] == [1, 1]
    assert [o.name for o in view.scope] == ["ACME", "Beta"]
    listed = await w.polls.list_polls(GUILD)
    assert listed[0][0].ballots == 2


async def test_anonymous_poll_per_organisation_links_no_ballot_to_anyone(w: World) -> None:
    poll = await w.polls.create(COORD, "Sign the letter?", "Yes; No", count="organisations", anonymous=True)
    seen_before = w.rows("SELECT user_id, seen_at FROM members ORDER BY user_id")
    await w.polls.vote(ALICE, poll.poll_id, [1])
    await w.polls.vote(CAROL, poll.poll_id, [2])
    await w.polls.vote(DAVE, poll.poll_id, [1])
    await w.orgs.hand_voice(ALICE, w.acme, t(BOB))
    await w.polls.vote(BOB, poll.poll_id, [2])  # the new voice changes ACME's one ballot
    # what the database holds: three ballots under keyed hashes, no organisation, no member, no time
    assert engines.column_names(w.db.path, "poll_secret_ballots") == [
        "poll_id",
        "voter_key",
        "picks",
    ]
    keys = {bytes(k): int(p) for k, p in w.rows("SELECT voter_key, picks FROM poll_secret_ballots")}
    org_keys = {org_ballot_key(SECRET, poll.poll_id, o.org_id): o.name for o in (w.acme, w.beta, w.gamma)}
    assert set(keys) == set(org_keys)  # only the bot's key links a ballot to an organisation
    assert sorted(keys.values()) == [1, 2, 2]
    person_keys = {ballot_key(SECRET, poll.poll_id, a.user_id) for a in (ALICE, BOB, CAROL, DAVE)}
    plain = {
        hashlib.sha256(f"ballot:{poll.poll_id}:org:{o.org_id}".encode()).digest() for o in (w.acme, w.beta)
    }
    assert not set(keys) & (person_keys | plain)
    assert w.rows("SELECT count(*) FROM poll_org_votes") == [(0,)] and w.rows(
        "SELECT count(*) FROM poll_votes"
    ) == [(0,)]
    assert (
        w.rows("SELECT user_id, seen_at FROM members ORDER BY user_id") == seen_before
    )  # no trace of who, when
    await w.orgs.leave(DAVE, w.gamma)
    view = await w.polls.view(poll)
    assert view.poll.ballots == 2 and [o.votes for o in view.options] == [0, 2]  # Gamma's no longer counts
    # at the close the hashes become random bytes, and the ballot of the organisation that left goes
    await w.polls.close(COORD, "1")
    after = [bytes(k) for (k,) in w.rows("SELECT voter_key FROM poll_secret_ballots")]
    assert len(after) == 2 and not set(after) & (set(org_keys) | person_keys)
    assert w.rows("SELECT position, votes FROM poll_counts WHERE poll_id = ? ORDER BY position", (poll.poll_id,)) == [
        (1, 0), (2, 2),
    ]  # fmt: skip
    assert w.rows("SELECT count(*) FROM poll_org_scope") == [(2,)]  # who could vote, never who voted what
    results = await w.polls.results(GUILD, "1")
    assert results.org_ballots == () and results.breakdown is None


async def test_a_working_groups_poll_per_organisation_and_its_nudge(w: World) -> None:
    principles = await w.groups.create(COORD, "Principles")
    for actor in (BOB, CAROL, EVE):
        await w.groups.join(actor, principles)
    poll = await w.polls.create(COORD, "Adopt?", "Yes; No", count="organisations", group="Principles")
    with pytest.raises(NotAllowed, match="for the organisations of Principles: Gamma has no representative"):
        await w.polls.vote(DAVE, poll.poll_id, [1])
    await w.polls.vote(ALICE, poll.poll_id, [1])  # ACME's voice, not in the group: ACME is, through Bob
    nudge = await w.polls.nudge(COORD, poll)
    assert nudge.per_org and nudge.user_ids == (CAROL.user_id,)
    with pytest.raises(Conflict, match="nudged less than an hour ago"):
        await w.polls.nudge(COORD, poll)
    w.clock.advance(timedelta(hours=2))
    await w.polls.vote(CAROL, poll.poll_id, [2])
    with pytest.raises(Conflict, match="Every organisation that counts in poll #1 has voted"):
        await w.polls.nudge(COORD, poll)
    # a poll per organisation open to the server can be nudged too: every counted organisation's voice
    everyone = await w.polls.create(COORD, "Open?", "Yes; No", count="organisations")
    assert sorted((await w.polls.nudge(COORD, everyone)).user_ids) == [
        ALICE.user_id,
        CAROL.user_id,
        DAVE.user_id,
    ]


# -- the breakdown ------------------------------------------------------------------------------------------


def line(b: Breakdown, dimension: str, key: str) -> Line:
    return next(x for x in getattr(b, dimension) if x.key == key)


async def test_breakdown_per_organisation_and_per_person(w: World) -> None:
    per_org, per_person = await point(w), await point(w, count="people")
    for item_id in (per_org, per_person):
        await w.items.set_position(ALICE, item_id, "agree")
        await w.items.set_position(BOB, item_id, "object", "Too soon.")
        await w.items.set_position(EVE, item_id, "agree")
        await w.items.set_position(DAVE, item_id, "agree")
    org = (await w.items.details(GUILD, "1")).breakdown
    person = (await w.items.details(GUILD, "2")).breakdown
    assert org is not None and person is not None
    assert org.unit == "organisations" and org.choices == ("agree", "stand_aside", "object", "block")
    assert [x.key for x in org.by_region] == ["african", "asia_pacific", "eastern_european", "grulac", "weog"]
    assert line(org, "by_region", "weog").counts == (1, 0, 0, 0)  # ACME, by its voice only
    assert line(org, "by_region", "african") == Line("african", "African", (0, 0, 0, 0), 1)  # Beta silent
    assert line(org, "by_stakeholder", "civil_society").counts == (2, 0, 0, 0)  # ACME and Gamma
    assert [x.key for x in org.by_stakeholder] == ["civil_society", "academia"]  # only groups in scope
    assert org.responses == 2
    # per person: by the organisation each member represented; Eve apart
    assert person.unit == "people"
    assert line(person, "by_region", "weog").counts == (1, 0, 1, 0)  # Alice agrees, Bob objects
    assert line(person, "by_region", "none") == Line("none", "No organisation", (1, 0, 0, 0), None)
    assert person.responses == 4


def test_breakdown_counts_each_choice_and_keeps_empty_regions() -> None:
    supports = [
        Support(("1", "2"), "weog", "academia"),
        Support(("2",), None, None),
        Support(("9",), "weog", "academia"),
    ]
    found = breakdown("people", [("1", "Yes"), ("2", "No")], supports)
    assert [x.total for x in found.by_region] == [0, 0, 0, 0, 2, 1]
    assert found.by_region[4].counts == (1, 1) and found.by_region[-1].counts == (0, 1)
    assert [x.key for x in found.by_stakeholder] == ["academia", "none"]


def test_org_hint_wording() -> None:
    assert str(org_hint(Tally(agree=22), 25, 3)) == (  # a Text, rendered in the reader's language
        "no organisation blocks, 0 objections open; 22 of 25 organisations agree, 3 have not responded"
    )
    assert str(org_hint(Tally(agree=1, stand_aside=1, block=2, open_objections=2), 1, 0)) == (
        "2 organisations block, 2 objections open; 1 of 1 organisation agree, 1 stands aside"
    )


async def test_a_poll_breakdown_per_organisation(w: World) -> None:
    poll = await w.polls.create(COORD, "Adopt?", "Yes; No", count="organisations")
    await w.polls.vote(ALICE, poll.poll_id, [1])
    await w.polls.vote(DAVE, poll.poll_id, [2])
    found = (await w.polls.results(GUILD, "1")).breakdown
    assert found is not None and found.unit == "organisations" and found.labels == ("Yes", "No")
    assert line(found, "by_region", "grulac").counts == (0, 1)
    assert line(found, "by_region", "african").not_responded == 1
    people_poll = await w.polls.create(COORD, "Lunch?", "Yes; No")
    await w.polls.vote(BOB, people_poll.poll_id, [1])
    await w.polls.vote(EVE, people_poll.poll_id, [2])
    found = (await w.polls.results(GUILD, "2")).breakdown
    assert found is not None and line(found, "by_region", "weog").counts == (1, 0)
    assert line(found, "by_region", "none").counts == (0, 1)


async def test_no_breakdown_on_a_server_without_organisations(db: Database, clock: FakeClock) -> None:
    await servers.server_joined(db, clock, 4004, "No orgs", [(1, "A")])
    groups = WorkingGroups(db, clock, POLICY, ZONE)
    items = Consensus(db, clock, groups, ZONE, ())
    created = await items.propose(Actor(4004, 1, "A"), "point", "Text")
    await items.set_position(Actor(4004, 1, "A"), created.item_id, "agree")
    assert (await items.details(4004, "1")).breakdown is None


# -- data rights ----------------------------------------------------------------------------------------------


async def test_erasing_the_voice_keeps_the_organisations_position_under_a_pseudonym(w: World) -> None:
    item_id = await point(w)
    await w.items.set_position(ALICE, item_id, "object", "Needs a budget.")
    poll = await w.polls.create(COORD, "Adopt?", "Yes; No", count="organisations")
    await w.polls.vote(ALICE, poll.poll_id, [1])
    identities = Identities(SECRET)
    privacy = Privacy(w.db, w.clock, identities)
    exported = (await privacy.export(ALICE)).decode()
    assert '"organisation_positions_stated"' in exported and '"organisation_ballots_cast"' in exported
    await privacy.erase(ALICE)
    pseudo = identities.pseudonym(GUILD, ALICE.user_id)
    assert w.rows("SELECT stance, stated_by FROM org_positions") == [("object", pseudo)]
    assert w.rows("SELECT stated_by FROM org_objections") == [(pseudo,)]
    assert w.rows("SELECT cast_by FROM poll_org_votes") == [(pseudo,)]
    item = await w.items.by_id(GUILD, item_id)
    assert (await w.items.view(item)).tally == Tally(object=1, open_objections=1)  # still ACME's
    assert (await w.polls.view(poll)).poll.ballots == 1
    assert hmac.compare_digest(
        org_ballot_key(SECRET, 1, 2), hmac.new(SECRET, b"ballot:1:org:2", hashlib.sha256).digest()
    )


async def test_groups_scope_needs_a_current_member(w: World) -> None:
    principles: Group = await w.groups.create(COORD, "Principles")
    await w.groups.join(CAROL, principles)
    item_id = await point(w, group="Principles")
    view = await w.items.view(await w.items.by_id(GUILD, item_id))
    assert view.orgs is not None and [o.name for o in view.orgs.in_scope] == ["Beta"]
    await w.orgs.remove(CAROL, w.beta, t(CAROL))  # Carol stops representing Beta: Beta has nobody there
    view = await w.items.view(await w.items.by_id(GUILD, item_id))
    assert view.orgs is not None and view.orgs.in_scope == ()
