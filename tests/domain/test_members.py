"""Who is acting and what a typed reference means, on a real SQLite file.

Privileges come only from the configuration: a role the bot keeps for a working group, or one Discord
marks as managed, never grants anything, whatever its name. A group reference means one thing: ``#<id>``
is an id of this server, anything else a name; no group can be named in the id form.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.agenda import Agenda, SessionSpec
from domain.clock import FakeClock
from domain.consensus import Consensus
from domain.errors import Invalid, NotAllowed, NotFound
from domain.groups import Target, WorkingGroups, group_ref
from domain.members import HeldRole, Members
from domain.permissions import Actor, Policy
from domain.privacy import Identities
from domain.summary import Summaries
from storage.db import Database
from tests import engines

GUILD = 1001
OTHER_GUILD = 2002
ZONE = ZoneInfo("Europe/Paris")
SECRET = b"s" * 32
ADMIN = Actor(GUILD, 11, "Ada", manage_guild=True)
POLICY = Policy(("Coordinator", "555"))


@pytest.fixture
def wg(db: Database, clock: FakeClock) -> WorkingGroups:
    return WorkingGroups(db, clock, POLICY, ZONE)


@pytest.fixture
def members(db: Database) -> Members:
    return Members(db, Identities(SECRET), POLICY)


def rows(db: Database, sql: str, params: tuple = ()) -> list[tuple]:
    return engines.raw_rows(db.path, sql, params)


def legacy_group(db: Database, name: str, role_id: int | None = None) -> int:
    """A group written as an older version could have: its name was not checked then."""
    with engines.closing_raw(db.path) as raw:
        raw.execute(
            "INSERT INTO guilds (guild_id, name, joined_at) VALUES (?, 'Coalition', 0) ON CONFLICT DO NOTHING",
            (GUILD,),
        )
        (group_id,) = raw.rows(
            "INSERT INTO groups (guild_id, name, name_key, role_id, created_by, created_at) VALUES (?, ?, ?, ?, 11, 0) "
            "RETURNING group_id",
            (GUILD, name, " ".join(name.split()).casefold(), role_id),
        )[0]
    return int(group_id)


# -- privileges ----------------------------------------------------------------------------------


async def test_the_configured_roles_grant_by_name_any_case_and_by_id(members: Members) -> None:
    by_name = await members.actor(GUILD, 10, "Coco", [HeldRole(900, "  COORDINATOR ")])
    by_id = await members.actor(GUILD, 12, "Cy", [HeldRole(555, "Staff")])
    plain = await members.actor(GUILD, 20, "Alice", [HeldRole(901, "Member")])
    assert POLICY.is_coordinator(by_name) and POLICY.is_coordinator(by_id)
    assert not POLICY.is_coordinator(plain)
    assert plain.holds_role(901) and plain.user_id == 20 and plain.on_discord == 20


async def test_a_group_role_never_grants_whatever_its_name(
    members: Members, wg: WorkingGroups, db: Database, clock: FakeClock
) -> None:
    # a group named "Coordinator" before names were checked, whose Discord role the bot keeps
    group_id = legacy_group(db, "Coordinator", role_id=777)
    group = await wg.card_by_id(GUILD, group_id)
    alice = await members.actor(GUILD, 20, "Alice", [HeldRole(777, "Coordinator")])
    await wg.join(alice, group.group)
    assert not POLICY.is_coordinator(alice)
    assert alice.holds_role(777)  # still held: a poll limited to that role takes her vote
    with pytest.raises(NotAllowed, match="Only coordinators can create"):
        await wg.create(alice, "Roadmap")
    # nor can she decide a point: she convenes nothing
    consensus = Consensus(db, clock, wg, ZONE, ())
    point = await consensus.propose(alice, "point", "We agree.")
    with pytest.raises(NotAllowed, match="Only coordinators can decide"):
        await consensus.decide(alice, str(point.number), "consensus")
    # a group role whose id is configured as a coordinator role grants nothing either
    await wg.set_role(group.group, 555)
    held = await members.actor(GUILD, 21, "Bob", [HeldRole(555, "Coordinator")])
    assert not POLICY.is_coordinator(held)
    # while the real coordinator role, with the same name, still grants
    coco = await members.actor(
        GUILD, 10, "Coco", [HeldRole(900, "Coordinator"), HeldRole(555, "Coordinator")]
    )
    assert POLICY.is_coordinator(coco)
    # another server's group roles are not this server's
    elsewhere = await members.actor(OTHER_GUILD, 20, "Alice", [HeldRole(777, "Coordinator")])
    assert POLICY.is_coordinator(elsewhere)


async def test_a_managed_role_never_grants(members: Members) -> None:
    booster = await members.actor(GUILD, 20, "Alice", [HeldRole(900, "Coordinator", managed=True)])
    by_id = await members.actor(GUILD, 21, "Bob", [HeldRole(555, "Anything", managed=True)])
    assert not POLICY.is_coordinator(booster) and not POLICY.is_coordinator(by_id)
    assert booster.holds_role(900) and by_id.holds_role(555)


@pytest.mark.parametrize("name", ["Coordinator", "coordinator", "  COORDINATOR  ", "555"])
async def test_a_group_named_like_a_coordinator_role_is_refused(
    wg: WorkingGroups, db: Database, name: str
) -> None:
    with pytest.raises(Invalid, match="name of a coordinator role"):
        await wg.create(ADMIN, name)
    assert rows(db, "SELECT count(*) FROM groups") == [(0,)]
    await wg.create(ADMIN, "Coordination")  # a different name is fine


# -- references -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["#3", "#0", "#0012", " #12 ", "#99999999999999999999"])
async def test_an_id_shaped_name_is_refused(wg: WorkingGroups, db: Database, name: str) -> None:
    with pytest.raises(Invalid, match="# followed by digits"):
        await wg.create(ADMIN, name)
    assert rows(db, "SELECT count(*) FROM groups") == [(0,)]


@pytest.mark.parametrize("name", ["2", "Group #3", "# 3", "#3a", "＃3"])
async def test_names_that_are_not_the_id_form_are_names(wg: WorkingGroups, name: str) -> None:
    group = await wg.create(ADMIN, name)
    assert (await wg.resolve(GUILD, name)).group_id == group.group_id


async def test_a_group_named_2_and_the_group_with_id_2_are_never_confused(wg: WorkingGroups) -> None:
    principles = await wg.create(ADMIN, "Principles")
    roadmap = await wg.create(ADMIN, "Roadmap")
    assert roadmap.group_id == 2
    two = await wg.create(ADMIN, "2")
    assert (await wg.resolve(GUILD, "2")).group_id == two.group_id
    assert (await wg.resolve(GUILD, " 2 ")).group_id == two.group_id
    assert (await wg.resolve(GUILD, "#2")).group_id == roadmap.group_id
    assert (await wg.resolve(GUILD, group_ref(two))).group_id == two.group_id
    with pytest.raises(NotFound, match="no working group “1”"):
        await wg.resolve(GUILD, "1")  # a bare number is a name: there is no group named "1"
    assert (await wg.resolve(GUILD, "#1")).group_id == principles.group_id
    with pytest.raises(NotFound):
        await wg.resolve(OTHER_GUILD, "#2")  # another server's id is not this server's
    with pytest.raises(NotFound):
        await wg.resolve(GUILD, "#999999999999999999999")


async def test_a_group_named_like_an_id_from_before_stays_reachable_by_its_id(
    wg: WorkingGroups, db: Database
) -> None:
    principles = await wg.create(ADMIN, "Principles")
    legacy = legacy_group(db, f"#{principles.group_id}")
    # typed, "#1" is the id form: group 1, never the legacy group named "#1"
    assert (await wg.resolve(GUILD, f"#{principles.group_id}")).group_id == principles.group_id
    # autocomplete offers the legacy group under its own id form, which finds exactly it
    offered = await wg.suggest(GUILD, "#")
    assert [group_ref(g) for g in offered if g.group_id == legacy] == [f"#{legacy}"]
    assert (await wg.resolve(GUILD, f"#{legacy}")).name == f"#{principles.group_id}"


async def test_autocomplete_value_then_the_command_finds_the_chosen_group(wg: WorkingGroups) -> None:
    created = [await wg.create(ADMIN, name) for name in ("Principles", "Principles of access", "3")]
    for group in created:
        offered = await wg.suggest(GUILD, group.name[:5])
        chosen = next(g for g in offered if g.group_id == group.group_id)
        assert (await wg.resolve(GUILD, group_ref(chosen))).group_id == group.group_id
    # the id form typed by hand is offered first
    assert (await wg.suggest(GUILD, f"#{created[2].group_id}"))[0].group_id == created[2].group_id


async def test_the_summary_names_are_decided_on_the_group_exported(
    wg: WorkingGroups, db: Database, clock: FakeClock, members: Members
) -> None:
    a = await wg.create(ADMIN, "Principles")
    b = await wg.create(ADMIN, "Roadmap")
    named_like_b = await wg.create(ADMIN, str(b.group_id))  # a group named "2"
    cora = Actor(GUILD, 20, "Cora")
    await wg.set_convener(ADMIN, a, Target(20, "Cora"))
    await wg.set_convener(ADMIN, named_like_b, Target(20, "Cora"))
    consensus = Consensus(db, clock, wg, ZONE, ())
    for group in (a, b, named_like_b):
        point = await consensus.propose(ADMIN, "point", f"A point of {group.name}", group=group_ref(group))
        await consensus.set_position(Actor(GUILD, 30, "Alice"), point.item_id, "agree")

    summaries = Summaries(db, clock, wg, ZONE)

    async def export(ref: str) -> tuple[list[str | None], bool]:
        summary = await summaries.build(await summaries.request(cora, group=ref))
        return [s.group_name for s in summary.sections], summary.names_included

    assert await export(group_ref(a)) == (["Principles"], True)  # her own group: names
    assert await export(group_ref(b)) == (["Roadmap"], False)  # B's id: not hers, no names
    assert await export(str(b.group_id)) == ([str(b.group_id)], True)  # the group NAMED "2" is hers
    summary = await summaries.build(await summaries.request(cora, group=group_ref(b)))
    assert all(p.positions == () for s in summary.sections for p in s.points)
    assert await export("") == ([str(b.group_id), "Principles", "Roadmap"], False)  # every group: not hers


async def test_an_agenda_listing_of_a_group_is_that_group(
    wg: WorkingGroups, db: Database, clock: FakeClock
) -> None:
    roadmap = await wg.create(ADMIN, "Roadmap")
    legacy = legacy_group(db, f"#{roadmap.group_id}")
    agenda = Agenda(db, clock, wg, ZONE, (timedelta(hours=1),))
    await agenda.add(
        ADMIN, SessionSpec(title="Roadmap call", start="2026-12-08 09:00", group=group_ref(roadmap))
    )
    await agenda.add(ADMIN, SessionSpec(title="Legacy call", start="2026-12-09 09:00", group=f"#{legacy}"))
    assert [s.title for s in await agenda.sessions(GUILD, group=f"#{roadmap.group_id}")] == ["Roadmap call"]
    assert [s.title for s in await agenda.sessions(GUILD, group=f"#{legacy}")] == ["Legacy call"]
