"""Members' data rights on a real SQLite file: export, anonymisation that keeps counts, purge of servers."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from domain import servers
from domain.agenda import Agenda, SessionSpec
from domain.clock import FakeClock
from domain.consensus import Consensus
from domain.groups import WorkingGroups
from domain.members import Members
from domain.permissions import Actor, Policy
from domain.polls import Polls
from domain.privacy import Identities, Privacy, pseudonym, purge_removed_servers
from domain.summary import build_summary
from storage import privacy as privacy_rows
from storage.db import Database
from storage.servers import ANONYMISED_NAME, UPSERT_MEMBER
from tests import engines
from tests.scenario import GUILD, ZONE, actor, build_scenario
from tests.tally import recount

SECRET = b"k" * 32
# column names that say "a member's id": user_id, author_id, voter_key, signer_id, *_by...
MEMBER_COLUMN = (
    r"(.*_)?(user|author|member|voter|pseudo|signer|voice|person|representative|owner|creator|convener|"
    r"moderator|recipient|actor|objector)_(id|key)|.*_by"
)
OTHER_GUILD = 515151
POLICY = Policy(("Coordinator",))


def rows(db: Database, sql: str, params: tuple = ()) -> list[tuple]:
    return engines.raw_rows(db.path, sql, params)


def test_pseudonyms_are_negative_stable_and_per_server() -> None:
    a = pseudonym(SECRET, 1, 42)
    assert a < 0 and a == pseudonym(SECRET, 1, 42)
    assert a != pseudonym(SECRET, 2, 42) and a != pseudonym(b"other" * 8, 1, 42)


async def test_export_then_erase_keeps_counts(db: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    await build_scenario(db, clock)
    identities = Identities(SECRET)
    privacy = Privacy(db, clock, identities)
    carol = actor(32)
    data = json.loads(await privacy.export(carol))
    assert data["member"][0]["display_name"] == "Carol" and data["anonymised"] is False
    assert {p["stance"] for p in data["positions"]} == {"object", "block"}
    before = await build_summary(db, GUILD, now=clock.now(), zone=ZONE, names=False)

    done = await privacy.erase(carol)
    assert done.records_changed > 0
    for table, column in (("positions", "user_id"), ("objections", "user_id"), ("items", "author_id"),
                          ("poll_votes", "user_id"), ("group_members", "user_id"), ("members", "user_id")):  # fmt: skip
        assert rows(db, f"SELECT count(*) FROM {table} WHERE {column} = 32") == [(0,)], table
    after = await build_summary(db, GUILD, now=clock.now(), zone=ZONE, names=False)
    assert [[p.tally for p in s.points] for s in after.sections] == [
        [p.tally for p in s.points] for s in before.sections
    ]
    assert [[o.votes for p in s.polls for o in p.options] for s in after.sections] == [
        [o.votes for p in s.polls for o in p.options] for s in before.sections
    ]
    named = await build_summary(db, GUILD, now=clock.now(), zone=ZONE, names=True)
    text = json.dumps([str(s) for s in named.sections])
    assert "Carol" not in text and "Former member" in text
    data = json.loads(await privacy.export(carol))
    assert data["anonymised"] is True and data["groups"] == []


async def test_after_erasure_positions_continue_under_the_pseudonym(db: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    await build_scenario(db, clock)
    identities = Identities(SECRET)
    members = Members(db, identities, POLICY)
    groups = WorkingGroups(db, clock, POLICY, ZONE)
    items = Consensus(db, clock, groups, ZONE, ())
    point = (await items.resolve(GUILD, "5")).item_id
    await Privacy(db, clock, identities).erase(actor(31))
    bob = await members.actor(GUILD, 31, "Bob")  # as every interaction builds him
    assert (
        bob.anonymised
        and bob.user_id == identities.pseudonym(GUILD, 31)
        and bob.display_name == "Former member"
    )
    await items.set_position(bob, point, "agree")  # Bob had objected to #5 before
    assert rows(db, "SELECT user_id, stance FROM positions WHERE item_id = ?", (point,)) == [
        (identities.pseudonym(GUILD, 31), "agree")
    ]
    assert rows(db, "SELECT count(*) FROM members WHERE user_id = 31") == [
        (0,)
    ]  # the name is not recorded again


class World:
    """The scenario's coalition with every use case, and a second server where Bob is too."""

    def __init__(self, db: Database, clock: FakeClock) -> None:
        self.db, self.clock = db, clock
        self.identities = Identities(SECRET)
        self.members = Members(db, self.identities, POLICY)
        self.groups = WorkingGroups(db, clock, POLICY, ZONE)
        self.items = Consensus(db, clock, self.groups, ZONE, ())
        self.polls = Polls(db, clock, self.groups, ZONE, SECRET)
        self.agenda = Agenda(db, clock, self.groups, ZONE, (timedelta(hours=1),))
        self.privacy = Privacy(db, clock, self.identities)

    async def bob(self, guild_id: int = GUILD) -> Actor:
        """Bob as an interaction of his builds him (his pseudonym once he is anonymised)."""
        return await self.members.actor(guild_id, 31, "Bob")

    async def export(self, guild_id: int = GUILD) -> dict[str, Any]:
        return json.loads(await self.privacy.export(await self.bob(guild_id)))


def ids_everywhere(db: Database, user_id: int) -> list[tuple[str, str, int]]:
    """(table, column, rows) for every member-id column that holds ``user_id``."""
    found = []
    for table, column in member_id_columns(db):
        # compared as text: the columns are integers, bytes (a voter key) or text, and PostgreSQL compares
        # no two of those types (SQLite's answer is the same: no key equals an id)
        sql = f"SELECT count(*) FROM {table} WHERE CAST({column} AS TEXT) = ?"
        count = rows(db, sql, (str(user_id),))[0][0]
        if count:
            found.append((table, column, count))
    return found


def member_id_columns(db: Database) -> list[tuple[str, str]]:
    """Every column of every table whose name says it holds a member: user_id, author_id, *_by, ..."""
    shape = re.compile(MEMBER_COLUMN)
    return [
        (table, column)
        for table in engines.table_names(db.path)
        for column in engines.column_names(db.path, table)
        if shape.fullmatch(column)
    ]


def test_every_member_id_column_is_handled_at_anonymisation(db: Database) -> None:
    # a new migration with a member-id column fails here until storage/privacy.py says what erasure does with it
    covered = (
        {(t, c) for t, c, _, _ in privacy_rows.ID_COLUMNS}
        | {(t, c) for t, c, _ in privacy_rows.DROPPED}
        | set(privacy_rows.REKEYED)
        | set(privacy_rows.NOT_MEMBER_IDS)
    )
    found = set(member_id_columns(db))
    assert found - covered == set(), "member-id columns that /privacy delete does not handle"
    assert covered - found == set(), "storage/privacy.py names columns that do not exist"
    assert ("group_members", "added_by") in found and ("poll_secret_ballots", "voter_key") in found


async def test_an_erased_member_goes_on_under_the_pseudonym_counted_once(db: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    await build_scenario(db, clock)
    w = World(db, clock)
    coco = actor(10, coordinator=True)
    await servers.server_joined(db, clock, OTHER_GUILD, "Other", [(31, "Bob"), (40, "Eve")])
    other_poll = await w.polls.create(Actor(OTHER_GUILD, 40, "Eve"), "Elsewhere?", "Yes; No")
    await w.polls.vote(await w.bob(OTHER_GUILD), other_poll.poll_id, [1])
    roadmap = await w.groups.resolve(GUILD, "Roadmap")
    # before: Bob voted in an open and in an anonymous poll, both still open, and took a position
    open_poll = await w.polls.create(coco, "Which venue?", "Geneva; Nairobi; Online")
    secret = await w.polls.create(coco, "Endorse the text?", "Yes; No; Abstain", anonymous=True)
    await w.polls.vote(await w.bob(), open_poll.poll_id, [1])
    await w.polls.vote(await w.bob(), secret.poll_id, [1])
    point = await w.items.propose(coco, "point", "Open standards first.", group="Principles")
    await w.items.set_position(await w.bob(), point.item_id, "agree")
    session = await w.agenda.add(
        coco, SessionSpec(title="Roadmap call", start="2026-12-10 09:00", group="Roadmap")
    )

    await w.privacy.erase(actor(31))
    alias = w.identities.pseudonym(GUILD, 31)
    bob = await w.bob()
    assert bob.user_id == alias and bob.on_discord == 31

    # after: every feature stores what he does under the pseudonym, counted once
    assert (await w.polls.vote(bob, open_poll.poll_id, [2])).changed
    assert (await w.polls.vote(bob, secret.poll_id, [3])).changed
    assert (await w.polls.by_id(GUILD, open_poll.poll_id)).ballots == 1
    assert (await w.polls.by_id(GUILD, secret.poll_id)).ballots == 1
    assert await recount(db, secret.poll_id) == {1: 0, 2: 0, 3: 1}
    assert (await w.polls.ballot(bob, secret.poll_id)).positions == (3,)  # his ballot is found again
    await w.items.set_position(bob, point.item_id, "object", "Not without a review.")
    assert rows(db, "SELECT user_id, stance FROM positions WHERE item_id = ?", (point.item_id,)) == [
        (alias, "object")
    ]
    await w.groups.join(bob, roadmap)
    assert (await w.agenda.toggle_reminders(bob, session.session_id))[1]
    proposed = await w.items.propose(bob, "point", "Publish the minutes.", group="Roadmap")
    amended = await w.items.amend(bob, str(proposed.number), "Publish the minutes weekly.")
    assert amended.revision == 2  # still the author: the pseudonym is the author
    poll = await w.polls.create(bob, "Lunch?", "Yes; No", group="Roadmap")
    await w.polls.vote(bob, poll.poll_id, [1])
    await w.polls.close(bob, str(poll.number))  # its creator closes it

    # his Discord id is nowhere in this server's record (the two rows left are the other server's, below)...
    assert ids_everywhere(db, 31) == [("members", "user_id", 1), ("poll_votes", "user_id", 1)]
    assert rows(
        db, "SELECT display_name FROM members WHERE guild_id = ? AND user_id IN (?, ?)", (GUILD, 31, alias)
    ) == [("Former member",)]  # ...and his name is not written back
    assert await w.agenda.reminder(
        (await w.agenda.occurrences(session))[0].occurrence_id, "session_reminder", False
    )
    data = await w.export()
    assert data["anonymised"] is True and data["user_id"] == "31"
    assert [g["group_name"] for g in data["groups"]] == ["Roadmap"]
    assert [p["stance"] for p in data["positions"] if p["number"] == point.number] == ["object"]
    assert {b["number"] for b in data["poll_ballots"]} == {
        1,
        open_poll.number,
        poll.number,
    }  # 1: the scenario's
    assert [s["title"] for s in data["reminder_subscriptions"]] == ["Roadmap call"]
    assert [i["number"] for i in data["items_proposed"]] == [2, 7, proposed.number]  # 2, 7: the scenario's
    assert [p["number"] for p in data["polls_created"]] == [poll.number]
    assert "Bob" not in json.dumps(data)
    # the other server is untouched: Bob is himself there, with his name
    assert rows(
        db, "SELECT display_name FROM members WHERE guild_id = ? AND user_id = 31", (OTHER_GUILD,)
    ) == [("Bob",)]
    assert rows(db, "SELECT user_id FROM poll_votes WHERE poll_id = ?", (other_poll.poll_id,)) == [(31,)]
    assert (await w.export(OTHER_GUILD))["anonymised"] is False


async def test_erased_twice_removes_what_was_joined_since(db: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    await build_scenario(db, clock)
    w = World(db, clock)
    coco = actor(10, coordinator=True)
    roadmap = await w.groups.resolve(GUILD, "Roadmap")
    session = await w.agenda.add(
        coco, SessionSpec(title="Roadmap call", start="2026-12-10 09:00", group="Roadmap")
    )
    secret = await w.polls.create(coco, "Endorse?", "Yes; No", anonymous=True)
    point = await w.items.propose(coco, "point", "Open standards first.")
    await w.privacy.erase(await w.bob())
    alias = w.identities.pseudonym(GUILD, 31)
    await w.groups.join(await w.bob(), roadmap)
    await w.agenda.toggle_reminders(await w.bob(), session.session_id)
    await w.polls.vote(await w.bob(), secret.poll_id, [2])
    await w.items.set_position(await w.bob(), point.item_id, "agree")

    again = await w.privacy.erase(await w.bob())  # the second time succeeds too
    assert again.records_changed >= 2
    assert rows(db, "SELECT count(*) FROM group_members WHERE user_id = ?", (alias,)) == [(0,)]
    assert rows(db, "SELECT count(*) FROM session_subscribers WHERE user_id = ?", (alias,)) == [(0,)]
    assert rows(db, "SELECT user_id FROM positions WHERE item_id = ?", (point.item_id,)) == [
        (alias,)
    ]  # still counts
    assert await recount(db, secret.poll_id) == {1: 0, 2: 1}
    assert (await w.polls.ballot(await w.bob(), secret.poll_id)).positions == (2,)
    assert (await w.export())["groups"] == []
    await w.privacy.erase(await w.bob())  # and a third time, with nothing new: still fine


async def test_a_second_erasure_brings_stray_rows_to_the_pseudonym_without_counting_twice(
    db: Database,
) -> None:
    # rows under the Discord id written after an erasure (by an older version of the bot) join the pseudonym's
    clock = FakeClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    await build_scenario(db, clock)
    w = World(db, clock)
    coco = actor(10, coordinator=True)
    open_poll = await w.polls.create(coco, "Which venue?", "Geneva; Nairobi")
    secret = await w.polls.create(coco, "Endorse?", "Yes; No", anonymous=True)
    point = await w.items.propose(coco, "point", "Open standards first.")
    raw_bob = actor(31)  # the Discord id, as the old code stored it
    for who in (raw_bob,):
        await w.polls.vote(who, open_poll.poll_id, [1])
        await w.polls.vote(who, secret.poll_id, [1])
        await w.items.set_position(who, point.item_id, "object", "Too vague.")
    await w.privacy.erase(raw_bob)
    for who in (raw_bob, await w.bob()):  # the old code went on under the Discord id; then the pseudonym
        await w.polls.vote(who, open_poll.poll_id, [2])
        await w.items.set_position(who, point.item_id, "agree")
        await w.polls.vote(who, secret.poll_id, [2])
    assert (await w.polls.by_id(GUILD, open_poll.poll_id)).ballots == 2  # counted twice: the old defect
    await w.privacy.erase(await w.bob())
    assert (await w.polls.by_id(GUILD, open_poll.poll_id)).ballots == 1
    assert await recount(db, open_poll.poll_id) == {1: 0, 2: 1}
    assert (await w.polls.by_id(GUILD, secret.poll_id)).ballots == 1
    assert await recount(db, secret.poll_id) == {1: 0, 2: 1}
    assert rows(db, "SELECT user_id, stance FROM positions WHERE item_id = ?", (point.item_id,)) == [
        (w.identities.pseudonym(GUILD, 31), "agree")
    ]
    assert ids_everywhere(db, 31) == []


async def test_the_record_of_members_never_takes_a_name_for_a_pseudonym(
    db: Database, clock: FakeClock
) -> None:
    identities = Identities(SECRET)
    members = Members(db, identities, POLICY)
    await servers.server_joined(db, clock, GUILD, "Coalition", [(31, "Bob")])
    await Privacy(db, clock, identities).erase(Actor(GUILD, 31, "Bob"))
    # GUILD_CREATE after a restart, a rename, a return to the server: all under the record's id
    ids = await members.record_ids(GUILD, [31, 32])
    await servers.server_joined(db, clock, GUILD, "Coalition", list(zip(ids, ["Bob", "Carol"], strict=True)))
    await servers.member_seen(db, clock, GUILD, ids[0], "Bob (renamed)")
    assert rows(db, "SELECT user_id, display_name FROM members WHERE guild_id = ? ORDER BY user_id", (GUILD,)) == [
        (ids[0], "Former member"), (32, "Carol"),
    ]  # fmt: skip
    assert f"'{ANONYMISED_NAME}'" in UPSERT_MEMBER  # the statement's literal is the constant
    # a pseudonym is found again among the members present, for a message or a mention
    assert await members.reach(GUILD, [ids[0], 32, 99], present=[31, 32]) == [31, 32]
    assert await members.reach(GUILD, [ids[0], 32], present=None) == [32]


async def test_purge_only_servers_gone_long_enough(db: Database, clock: FakeClock) -> None:
    await servers.server_joined(db, clock, 1, "Gone", [(5, "Eve")])
    await servers.server_joined(db, clock, 2, "Back soon", [(6, "Fay")])
    await servers.server_joined(db, clock, 3, "Stays", [(7, "Gus")])
    await servers.server_left(db, clock, 1)
    clock.advance(timedelta(days=20))
    await servers.server_left(db, clock, 2)
    clock.advance(timedelta(days=11))
    assert await purge_removed_servers(db, clock, timedelta(days=30)) == [1]
    assert rows(db, "SELECT guild_id FROM guilds ORDER BY guild_id") == [(2,), (3,)]
    assert rows(db, "SELECT count(*) FROM members WHERE guild_id = 1") == [(0,)]
    await servers.server_joined(db, clock, 2, "Back soon", [(6, "Fay")])  # it came back: kept
    clock.advance(timedelta(days=40))
    assert await purge_removed_servers(db, clock, timedelta(days=30)) == []


async def test_purging_a_server_forgets_its_cached_erasures(db: Database, clock: FakeClock) -> None:
    """The use case the cog runs: a purged server's pseudonyms leave the cache, so if the server comes back
    later (a new record) its members are stored under their own ids again."""
    identities = Identities(b"k" * 32)
    privacy = Privacy(db, clock, identities)
    await servers.server_joined(db, clock, 1, "Gone", [(5, "Eve")])
    await privacy.erase(Actor(1, 5, "Eve"))
    alias = identities.pseudonym(1, 5)
    assert await identities.storage_id(db, 1, 5) == alias  # cached now
    await servers.server_left(db, clock, 1)
    clock.advance(timedelta(days=31))
    assert await privacy.purge_removed_servers(timedelta(days=30)) == [1]
    assert rows(db, "SELECT count(*) FROM erasures WHERE guild_id = 1") == [(0,)]
    assert await identities.storage_id(db, 1, 5) == 5  # the cache did not keep the purged erasure
