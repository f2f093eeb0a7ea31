"""Working groups and the permission rules, on a real SQLite file."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from domain import servers
from domain.clock import FakeClock
from domain.errors import Closed, Conflict, Invalid, NotAllowed, NotFound, TooLong
from domain.groups import Target, WorkingGroups
from domain.permissions import Actor, Policy
from storage.db import Database
from tests import engines

GUILD = 1001
OTHER_GUILD = 2002
COORD = Actor(GUILD, 10, "Coco", role_names=frozenset({"coordinator"}))
ADMIN = Actor(GUILD, 11, "Ada", manage_guild=True)
ALICE = Actor(GUILD, 20, "Alice")
BOB = Actor(GUILD, 21, "Bob")


@pytest.fixture
def wg(db: Database, clock: FakeClock) -> WorkingGroups:
    return WorkingGroups(db, clock, Policy(("Coordinator", "555")), ZoneInfo("Europe/Paris"))


def rows(db: Database, sql: str) -> list[tuple]:
    return engines.raw_rows(db.path, sql)


def test_policy_roles_by_name_any_case_or_id() -> None:
    policy = Policy(("Coordinator", "555"))
    assert policy.is_coordinator(Actor(1, 1, "a", role_names=frozenset({"COORDINATOR"})))
    assert policy.is_coordinator(Actor(1, 1, "a", role_ids=frozenset({555})))
    assert policy.is_coordinator(Actor(1, 1, "a", manage_guild=True))
    assert not policy.is_coordinator(
        Actor(1, 1, "a", role_names=frozenset({"Member"}), role_ids=frozenset({556}))
    )


async def test_create_and_card(wg: WorkingGroups, clock: FakeClock) -> None:
    group = await wg.create(COORD, "  Principles ", description="Core principles", due="2026-12-20")
    assert group.name == "Principles"
    assert group.guild_id == GUILD
    # a bare due date means the end of that day in the server's zone (Paris, UTC+1 in December)
    assert group.due_at == int(clock.now().replace(month=12, day=20, hour=22, minute=59).timestamp())
    card = await wg.card(GUILD, "principles")
    assert card.group.group_id == group.group_id
    assert card.members == ()


async def test_only_coordinators_create_and_archive(wg: WorkingGroups, db: Database) -> None:
    with pytest.raises(NotAllowed, match="Only coordinators can create"):
        await wg.create(ALICE, "Roadmap")
    assert rows(db, "SELECT count(*) FROM groups") == [(0,)]
    group = await wg.create(ADMIN, "Roadmap")
    with pytest.raises(NotAllowed, match="Only coordinators can archive"):
        await wg.archive(ALICE, group)
    await wg.set_convener(COORD, group, Target(ALICE.user_id, "Alice"))
    with pytest.raises(NotAllowed):  # a convener still cannot archive
        await wg.archive(ALICE, group)
    archived = await wg.archive(COORD, group)
    assert archived.archived_at is not None
    with pytest.raises(Conflict, match="already archived"):
        await wg.archive(COORD, group)


@pytest.mark.parametrize("name", ["principles", "PRINCIPLES", "Principles  ", " PrInCiPlEs"])
async def test_duplicate_names_in_any_case(wg: WorkingGroups, db: Database, name: str) -> None:
    await wg.create(COORD, "Principles")
    with pytest.raises(Conflict, match="already exists"):
        await wg.create(COORD, name)
    assert rows(db, "SELECT count(*) FROM groups") == [(1,)]


async def test_bad_names_and_dates(wg: WorkingGroups, db: Database) -> None:
    with pytest.raises(Invalid, match="name"):
        await wg.create(COORD, "   ")
    with pytest.raises(TooLong, match="at most 80"):
        await wg.create(COORD, "x" * 81)
    with pytest.raises(TooLong, match="1,000"):
        await wg.create(COORD, "Fine", description="d" * 1001)
    with pytest.raises(Invalid, match="past"):
        await wg.create(COORD, "Fine", due="2020-01-01")
    with pytest.raises(Invalid, match="not a real date"):
        await wg.create(COORD, "Fine", due="2026-02-30")
    with pytest.raises(Invalid, match="not a date"):
        await wg.create(COORD, "Fine", due="next friday")
    assert rows(db, "SELECT count(*) FROM groups") == [(0,)]
    await wg.create(COORD, "x" * 80)


async def test_servers_are_isolated(wg: WorkingGroups) -> None:
    group = await wg.create(COORD, "Principles")
    other_coord = Actor(OTHER_GUILD, 10, "Coco", manage_guild=True)
    await wg.create(other_coord, "Principles")  # the same name is fine in another server
    with pytest.raises(NotFound):
        await wg.resolve(OTHER_GUILD, str(group.group_id))
    with pytest.raises(NotFound):
        await wg.card_by_id(OTHER_GUILD, group.group_id)
    assert (await wg.resolve(GUILD, f"#{group.group_id}")).group_id == group.group_id
    assert [g.name for g in await wg.suggest(OTHER_GUILD, "pri")] == ["Principles"]
    assert all(g.guild_id == OTHER_GUILD for g in await wg.suggest(OTHER_GUILD, ""))


async def test_join_leave_and_archived(wg: WorkingGroups) -> None:
    group = await wg.create(COORD, "Principles")
    await wg.join(ALICE, group)
    with pytest.raises(Conflict, match="already a member"):
        await wg.join(ALICE, group)
    card = await wg.card(GUILD, "Principles")
    assert [m.user_id for m in card.members] == [ALICE.user_id]
    await wg.leave(ALICE, group)
    with pytest.raises(NotFound, match="not a member"):
        await wg.leave(ALICE, group)
    await wg.join(BOB, group)
    await wg.archive(COORD, group)
    with pytest.raises(Closed, match="archived"):
        await wg.join(ALICE, group)
    await wg.leave(BOB, group)  # leaving an archived group is allowed


async def test_conveners_manage_only_their_group(wg: WorkingGroups, db: Database) -> None:
    principles = await wg.create(COORD, "Principles")
    roadmap = await wg.create(COORD, "Roadmap")
    await wg.set_convener(COORD, principles, Target(ALICE.user_id, "Alice"))
    await wg.add_member(ALICE, principles, Target(BOB.user_id, "Bob"))
    with pytest.raises(NotAllowed, match="Only conveners of Roadmap"):
        await wg.add_member(ALICE, roadmap, Target(BOB.user_id, "Bob"))
    with pytest.raises(NotAllowed):
        await wg.set_convener(ALICE, roadmap, Target(ALICE.user_id, "Alice"))
    with pytest.raises(NotAllowed):
        await wg.remove_member(BOB, principles, Target(ALICE.user_id, "Alice"))
    assert rows(db, f"SELECT count(*) FROM group_members WHERE group_id = {roadmap.group_id}") == [(0,)]
    card = await wg.card(GUILD, "principles")
    assert [(m.user_id, m.is_convener) for m in card.members] == [(ALICE.user_id, True), (BOB.user_id, False)]
    await wg.remove_member(ALICE, principles, Target(BOB.user_id, "Bob"))
    with pytest.raises(NotFound):
        await wg.remove_member(ALICE, principles, Target(BOB.user_id, "Bob"))
    with pytest.raises(Invalid, match="Bots"):
        await wg.add_member(ALICE, principles, Target(99, "Botty", is_bot=True))
    await wg.set_convener(COORD, principles, Target(ALICE.user_id, "Alice"), convener=False)
    with pytest.raises(NotAllowed):  # no longer a convener
        await wg.add_member(ALICE, principles, Target(BOB.user_id, "Bob"))
    with pytest.raises(Conflict):
        await wg.set_convener(COORD, principles, Target(ALICE.user_id, "Alice"), convener=False)


async def test_concurrent_joins_count_once(wg: WorkingGroups, db: Database) -> None:
    group = await wg.create(COORD, "Principles")
    members = [Actor(GUILD, 1000 + i, f"m{i}") for i in range(100)]
    results = await asyncio.gather(
        *(wg.join(m, group) for m in members),
        *(wg.join(m, group) for m in members[:30]),
        return_exceptions=True,
    )
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(conflicts) == 30
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)]
    assert rows(db, "SELECT count(*), count(DISTINCT user_id) FROM group_members") == [(100, 100)]
    listed = await wg.list_groups(GUILD)
    assert listed[0].member_count == 100


async def test_departed_members_are_not_current(wg: WorkingGroups, db: Database, clock: FakeClock) -> None:
    group = await wg.create(COORD, "Principles")
    await wg.join(ALICE, group)
    await wg.join(BOB, group)
    await servers.member_left(db, clock, GUILD, BOB.user_id)
    card = await wg.card(GUILD, "Principles")
    assert [m.user_id for m in card.members] == [ALICE.user_id]
    assert (await wg.list_groups(GUILD))[0].member_count == 1
    # the record stays: the row is still there for history
    assert rows(db, f"SELECT count(*) FROM group_members WHERE user_id = {BOB.user_id}") == [(1,)]
    clock.advance(timedelta(days=1))
    await servers.member_seen(db, clock, GUILD, BOB.user_id, "Bob again")  # coming back restores them
    assert {m.display_name for m in (await wg.card(GUILD, "Principles")).members} == {"Alice", "Bob again"}


async def test_list_orders_active_first(wg: WorkingGroups) -> None:
    b = await wg.create(COORD, "beta")
    await wg.create(COORD, "Alpha")
    await wg.create(COORD, "gamma")
    await wg.archive(COORD, b)
    assert [r.group.name for r in await wg.list_groups(GUILD)] == ["Alpha", "gamma", "beta"]
    assert [r.group.name for r in await wg.list_groups(GUILD, include_archived=False)] == ["Alpha", "gamma"]
