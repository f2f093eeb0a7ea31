"""`caucus migrate-db` end to end: a coalition built through the real bot on SQLite, every feature in it
(working groups with conveners, points with positions and objections open and resolved, an amendment,
questions, polls open and closed, open and anonymous, per person and per organisation, sessions with
occurrences and subscribers, organisations with representatives and voices, statements open and closed with
signatures, the decision record and its checkpoints, imports, a member's language, an erased member, and a
scheduled post in flight: the bot is killed between sending a reminder and recording it), copied into an
empty PostgreSQL database by the command as an operator runs it. The bot started again on PostgreSQL, in the
same folder with the same key files, gives the same summary export byte for byte in every format (and
`caucus export` the same bytes), `caucus verify` still accepts it, an old poll's buttons still work, a new
poll and a new point get the next numbers, an anonymous poll opened on SQLite still takes and counts a ballot
(the ballot key file still means what it meant), and the post in flight is finished once, on PostgreSQL.
Refusals (a target that is not empty, a missing SQLite file, addresses that are not PostgreSQL's or lead
nowhere, a ballot key that is not the database's, or none) are each one sentence, exit non-zero, and change
nothing in the target; an older SQLite database is brought up to date first."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sqlite3
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from storage.db import Database, load_migrations
from tests import engines
from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import FakeChannel, FakeDiscord, FakeMessage
from tests.e2e.fake_discord.interaction import Interaction
from tests.e2e.fake_discord.models import FakeMember
from tests.e2e.harness import ROOT, BotProcess, write_config
from tests.e2e.helpers import button
from tests.e2e.test_orgs import org_csv
from tests.e2e.test_statements import open_statement, sign

pytestmark = pytest.mark.postgresql_only

FORMATS = ("md", "html", "csv", "json")
AGENDA = "Time | Session\n09:00-10:00 | Welcome\n10:00-11:30 | Policy slam\n"


async def caucus(*args: str) -> tuple[int, str, str]:
    """``caucus ARGS`` as the operator runs it: its own process, no Discord token."""
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=str(ROOT), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def soon(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


def one_sentence(err: str, *fragments: str) -> None:
    """A refusal as the operator reads it: one line on stderr, no traceback, naming what is wrong."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("caucus: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


def sqlite_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%'")]  # fmt: skip
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}  # noqa: S608


def pg_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        names = [r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = current_schema()")]  # fmt: skip
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}  # type: ignore[index]


def pg_rows(url: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()  # type: ignore[arg-type]


class Member:
    """What a coalition member does through the bot: commands, clicks and the reason modal."""

    def __init__(self, fake: FakeDiscord, c: Coalition) -> None:
        self.fake, self.c = fake, c

    async def slash(self, who: FakeMember, command: str, /, **options: object) -> Interaction:
        itx = await self.fake.slash(self.c.guild, who, command, options=options)
        await itx.response()
        if itx.type == 5:
            await itx.final()
        assert "Something went wrong" not in itx.text, itx.text
        return itx

    async def press(self, message: FakeMessage, label: str, who: FakeMember) -> str:
        itx = await self.fake.click(message, button(message, label), who)
        await itx.response()
        if itx.type == 5:
            await itx.final()
        assert "Something went wrong" not in itx.text, itx.text
        return itx.text

    async def with_reason(self, message: FakeMessage, label: str, who: FakeMember, reason: str) -> str:
        opened = await self.fake.click(message, button(message, label), who)
        await opened.response()
        assert opened.type == 9, opened.text
        done = await self.fake.submit_modal(opened, who, {"reason": reason})
        await done.response()
        assert "Something went wrong" not in done.text, done.text
        return done.text


@dataclass
class Built:
    letter: FakeMessage  # the anonymous poll, open
    host: FakeMessage  # the poll per organisation, open
    checkin: FakeChannel  # where the reminder in flight goes


async def build_coalition(fake: FakeDiscord, c: Coalition, people: dict[str, FakeMember]) -> Built:
    """Every feature, through the bot, as members and coordinators use it. Last, a session whose reminder is
    due about 20 s later (the reminder is what is in flight when the bot on SQLite is killed)."""
    m = Member(fake, c)
    alice, bob, carol, dan, erin = (people[n] for n in ("alice", "bob", "carol", "dan", "erin"))
    coco = c.coco
    # working groups, members, conveners; a member's language
    await m.slash(coco, "wg create", name="Principles", description="Core principles")
    await m.slash(coco, "wg create", name="Roadmap")
    await m.slash(coco, "wg set-convener", group="Roadmap", member=bob)
    for who in (alice, carol, dan):
        await m.slash(who, "wg join", group="Principles")
    await m.slash(coco, "wg add-member", group="Roadmap", member=carol)
    await m.slash(erin, "language set", language="fr")
    # organisations: two registered and verified (their registrants are their voices), a representative
    # approved, three more imported
    await m.slash(
        alice, "org register", name="Open Rights", country="FR", region="weog", stakeholder="civil_society"
    )
    await m.slash(coco, "org verify", org="Open Rights")
    await m.slash(
        dan, "org register", name="Beta University", country="KE", region="african", stakeholder="academia"
    )
    await m.slash(coco, "org verify", org="Beta University")
    await m.slash(bob, "org join", org="Open Rights")
    await m.slash(coco, "org approve", org="Open Rights", member=bob)
    preview = (await m.slash(coco, "org import", file=("members.csv", org_csv(3)))).message
    assert "Imported" in await m.press(preview, "Confirm import", coco)

    # points: #1 decided after an objection ruled in the rough, #2 amended with an open block, #3 counted
    # per organisation and decided; questions: #4 answered, #5 open
    one = (await m.slash(alice, "consensus propose", kind="point", group="Principles",
                         text="The Internet must remain open and interoperable.")).message  # fmt: skip
    await m.press(one, "Agree", alice)
    await m.press(one, "Agree", dan)
    await m.with_reason(one, "Object", carol, "Add encryption.")
    await m.slash(coco, "consensus objection", item="1", member=carol, state="in_the_rough",
                  note="Raised twice; the group goes ahead.")  # fmt: skip
    await m.slash(coco, "consensus decide", item="1", outcome="rough_consensus")
    two = (await m.slash(carol, "consensus propose", kind="point", group="Roadmap",
                         text="Publish every draft weekly.")).message  # fmt: skip
    await m.slash(carol, "consensus amend", item="2", text="Publish every draft weekly, in three languages.")
    await m.press(two, "Agree", carol)
    await m.with_reason(two, "Block", dan, "Too much work for volunteers.")
    await m.with_reason(two, "Object", bob, "Two languages are enough.")
    three = (await m.slash(coco, "consensus propose", kind="point", text="Civil society chairs one session.",
                           count="organisations")).message  # fmt: skip
    await m.press(three, "Agree", alice)
    await m.with_reason(three, "Object", dan, "Academia too.")
    await m.slash(coco, "consensus decide", item="3", outcome="rough_consensus", note="Beta's concern noted.")
    await m.slash(bob, "consensus propose", kind="question", text="Who speaks for us at the open forum?")
    await m.slash(coco, "consensus answer", item="4", answer="Alice does.")
    await m.slash(carol, "consensus propose", kind="question", text="Do we endorse the WSIS+20 text?")

    # polls: #1 open and closed, #2 anonymous and open, #3 per organisation and open, #4 anonymous per
    # organisation and closed
    call = (
        await m.slash(coco, "poll create", question="Call day?", options="Mon; Fri", group="Principles")
    ).message
    await m.press(call, "Mon", alice)
    await m.press(call, "Fri", carol)
    await m.slash(coco, "poll close", poll="1")
    letter = (await m.slash(coco, "poll create", question="Sign the letter?", options="Yes; No",
                            anonymous=True)).message  # fmt: skip
    await m.press(letter, "Yes", alice)
    await m.press(letter, "No", bob)
    host = (await m.slash(coco, "poll create", question="Host city?", options="Geneva; Nairobi",
                          count="organisations")).message  # fmt: skip
    await m.press(host, "Geneva", alice)
    endorse = (await m.slash(coco, "poll create", question="Endorse?", options="Yes; No", anonymous=True,
                             count="organisations")).message  # fmt: skip
    await m.press(endorse, "Yes", alice)
    await m.press(endorse, "No", dan)
    await m.slash(coco, "poll close", poll="4")

    # the agenda: a weekly session with subscribers, a day imported
    session = (await m.slash(coco, "agenda add", title="Principles drafting", start="2030-06-03 09:00",
                             duration="2h", group="Principles", moderators="Alice", location="Room B",
                             every_days=7, until="2030-06-24")).message  # fmt: skip
    await m.press(session, "Remind me", alice)
    await m.press(session, "Remind me", carol)
    preview = (
        await m.slash(coco, "agenda import", file=("day.md", AGENDA.encode()), day="2030-11-24")
    ).message
    confirm = await fake.click(preview, preview.buttons()[0][1], coco)
    assert "Imported 2 sessions" in (await confirm.final()).text

    # statements: #1 signed by both organisations (one by name, one counted only) and closed, #2 open
    card = await open_statement(fake, c, duration="1d")
    await sign(fake, card, [alice, dan], [True, False])
    await m.slash(coco, "statement close", statement="1")
    card = await open_statement(fake, c, duration="2d", text="We call for meaningful participation.")
    await sign(fake, card, [alice], [True])

    # the record: a checkpoint posted; then Carol, who objected, voted and subscribed, is anonymised
    await m.slash(coco, "record checkpoint")
    asked = await m.slash(carol, "privacy delete")
    assert asked.message is not None
    done = await fake.click(asked.message, asked.message.buttons()[0][1], carol)
    await done.response()
    assert "anonymised" in asked.message.text, asked.message.text

    checkin = fake.add_channel(c.guild, "check-in")
    await m.slash(coco, "agenda add", title="Check-in", start=soon(100), duration="30m", reminders="80s",
                  channel=checkin)  # fmt: skip
    return Built(letter, host, checkin)


async def summaries(fake: FakeDiscord, c: Coalition) -> dict[str, dict[str, bytes]]:
    """/export summary by the coordinator in every format: the files Discord would hand them."""
    found: dict[str, dict[str, bytes]] = {}
    for fmt in FORMATS:
        itx = await fake.slash(c.guild, c.coco, "export summary", format=fmt)
        message = await itx.final()
        assert itx.ephemeral and message.attachments, message.text
        found[fmt] = {a.filename: a.data for a in message.attachments}
    return found


async def cli_exports(config: Path, guild_id: int, folder: Path) -> dict[str, bytes]:
    """`caucus export` in every format, the CSV's positions file included."""
    folder.mkdir()
    found: dict[str, bytes] = {}
    for fmt in FORMATS:
        code, _, err = await caucus("export", "--config", str(config), "--guild", str(guild_id), "--format", fmt,
                                    "--output", str(folder / f"summary.{fmt}"))  # fmt: skip
        assert code == 0, err
    for path in sorted(folder.iterdir()):
        found[path.name] = path.read_bytes()
    return found


async def test_a_coalition_moves_to_postgresql_and_the_bot_shows_the_same(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    c = make_coalition(fake)
    people = {"alice": c.alice, "bob": c.bob, "carol": c.carol, "dan": fake.add_member(c.guild, "dan"),
              "erin": fake.add_member(c.guild, "erin"), "frank": fake.add_member(c.guild, "frank")}  # fmt: skip
    folder = tmp_path / "coalition"
    folder.mkdir()
    on_sqlite = BotProcess(fake, folder, storage={"url": ""})
    await on_sqlite.start()
    try:
        built = await build_coalition(fake, c, people)
        process = on_sqlite.process
        assert process is not None

        def kill_on_the_reminder(message: FakeMessage) -> None:
            if message.channel_id == built.checkin.id and "Reminder" in message.text:
                fake.on_message_created.remove(kill_on_the_reminder)
                process.kill()  # the part is out, the bot never records it: a post in flight

        fake.on_message_created.append(kill_on_the_reminder)
        before = await summaries(fake, c)
        await eventually(lambda: process.returncode is not None, timeout=40, what="the kill on the reminder")
    finally:
        await on_sqlite.stop()
    assert process.returncode == -signal.SIGKILL
    assert "Traceback" not in on_sqlite.log(), on_sqlite.log()
    reminders = [m for m in fake.messages(built.checkin) if "Reminder" in m.text]
    assert len(reminders) == 1
    with sqlite3.connect(on_sqlite.db_path) as conn:
        in_flight = conn.execute("SELECT p.state, count(*), count(r.message_id) FROM scheduled_posts p "
                                 "JOIN post_parts r USING (post_id) GROUP BY p.post_id").fetchall()  # fmt: skip
    assert in_flight == [("claimed", 1, 0)], in_flight
    cli_before = await cli_exports(on_sqlite.config_path, c.guild.id, tmp_path / "cli-sqlite")
    json_before = tmp_path / "summary-sqlite.json"
    json_before.write_bytes(before["json"][next(iter(before["json"]))])

    # every table of the schema holds rows: the copy is tested on every feature
    counts = sqlite_counts(on_sqlite.db_path)
    assert len(counts) == 38 and [t for t, n in counts.items() if n == 0] == [], counts
    keys = {p.name: p.read_bytes() for p in folder.glob("caucus.db.*key")}
    assert sorted(keys) == ["caucus.db.key", "caucus.db.record-key"]

    # the copy, as the operator runs it
    target = engines.empty_url_for(tmp_path / "target")
    code, out, err = await caucus("migrate-db", "--config", str(on_sqlite.config_path), "--to", target)
    assert code == 0, out + err
    rows = sum(counts.values())
    assert f"38 tables, {rows} rows, each table checked row for row" in out, out
    assert f'url = "{target}"' in out and f'path = "{on_sqlite.db_path}"' in out, out
    assert "ballot key" in out and "opens all 2 anonymous polls" in out, out
    assert "signed the latest checkpoint of 1 server" in out, out
    assert "Copy the key files" in out and "every host" in out, out
    seconds = re.search(r" in ([0-9.]+) s\n", out)
    assert seconds is not None, out
    print(f"migrate-db: {rows} rows in 38 tables, {seconds[1]} s")  # noqa: T201 (the figure, with -s)
    copied = pg_counts(target)
    assert copied == {**counts, "schema_migrations": 1}, copied
    assert pg_rows(target, "SELECT max(version) FROM schema_migrations") == [(14,)]
    assert {p.name: p.read_bytes() for p in folder.glob("caucus.db.*key")} == keys  # files, untouched
    for key in keys.values():  # and in no row of the target
        for table in copied:
            for row in pg_rows(target, f'SELECT * FROM "{table}"'):  # noqa: S608
                assert not any(isinstance(v, bytes) and key in v for v in row), table

    # a target that now holds a coalition is refused, and left as it was
    code, out, err = await caucus("migrate-db", "--config", str(on_sqlite.config_path), "--to", target)
    assert code == 1 and out == ""
    one_sentence(err, "is not empty", "39 tables", "create a new one")
    assert pg_counts(target) == copied

    # the bot on PostgreSQL, in the same folder with the same key files
    on_postgres = BotProcess(fake, folder, storage={"url": target})
    assert on_postgres.db_path == on_sqlite.db_path
    await on_postgres.start()
    try:
        after = await summaries(fake, c)
        assert after == before  # every format, byte for byte
        cli_after = await cli_exports(on_postgres.config_path, c.guild.id, tmp_path / "cli-postgresql")
        assert cli_after == cli_before
        assert cli_after["summary.md"] == before["md"][next(iter(before["md"]))]
        json_after = tmp_path / "summary-postgresql.json"
        json_after.write_bytes(after["json"][next(iter(after["json"]))])
        code, out, err = await caucus("verify", str(json_after), "--since", str(json_before))
        assert code == 0 and "all " in out and "checks passed" in out, out + err

        m = Member(fake, c)
        host, letter = built.host, built.letter
        # the post in flight on SQLite is finished on PostgreSQL, its part not posted twice
        await eventually(
            lambda: pg_rows(target, "SELECT count(*) FROM post_parts") == [(0,)], timeout=15, what="the post"
        )
        assert [m.id for m in fake.messages(built.checkin) if "Reminder" in m.text] == [reminders[0].id]
        # an old poll's buttons: Beta University's voice votes in the poll per organisation opened on SQLite
        said = await m.press(host, "Nairobi", people["dan"])
        assert "Nairobi" in said, said
        assert pg_rows(target, "SELECT ballots FROM polls WHERE number = 3") == [(2,)]
        # the anonymous poll opened on SQLite takes a new ballot and counts it: the ballot key still opens it
        said = await m.press(letter, "Yes", people["frank"])
        assert "stored without your name" in said, said
        assert pg_rows(target, "SELECT ballots FROM polls WHERE number = 2") == [(3,)]
        assert pg_rows(target, "SELECT position, votes FROM poll_counts JOIN polls USING (poll_id) "
                               "WHERE number = 2 ORDER BY position") == [(1, 2), (2, 1)]  # fmt: skip
        await eventually(lambda: "Ballots\n3" in letter.text, what="the anonymous poll's tally")
        # a new poll and a new point get the next numbers, and the ids SQLite would have given
        made = await m.slash(c.coco, "poll create", question="Lunch?", options="Yes; No")
        assert made.message is not None and "Poll #5" in made.message.text, made.message.text
        proposed = await m.slash(people["alice"], "consensus propose", kind="point", text="Meet monthly.")
        assert "#6" in proposed.text, proposed.text
        assert pg_rows(target, "SELECT max(poll_id) FROM polls") == [(5,)]
        assert pg_rows(target, "SELECT max(item_id) FROM items") == [(6,)]
    finally:
        assert await on_postgres.stop() == 0
    assert "Traceback" not in on_postgres.log(), on_postgres.log()
    assert fake.unhandled == [], fake.unhandled


async def test_refusals_are_one_sentence_and_change_nothing(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    folder = tmp_path / "coalition"
    folder.mkdir()
    bot = BotProcess(fake, folder, storage={"url": ""})
    await bot.start()
    try:
        m = Member(fake, c)
        secret = (
            await m.slash(c.coco, "poll create", question="Endorse?", options="Yes; No", anonymous=True)
        ).message
        await m.press(secret, "Yes", c.alice)
    finally:
        assert await bot.stop() == 0
    config = bot.config_path

    # no SQLite file at [storage] path
    missing = write_config(tmp_path / "missing.toml", {"storage": {"path": str(tmp_path / "nowhere.db")}})
    target = engines.empty_url_for(tmp_path / "target")
    code, out, err = await caucus("migrate-db", "--config", str(missing), "--to", target)
    assert code == 2 and out == ""
    one_sentence(err, "nowhere.db", "does not exist")
    assert not (tmp_path / "nowhere.db").exists()
    assert pg_counts(target) == {}

    # addresses that are not PostgreSQL's, or lead nowhere (the password never shown)
    for url, fragment in (
        ("mysql://caucus@db.example.org/caucus", "is not a PostgreSQL address"),
        ("postgresql://a b", "is not a PostgreSQL address psycopg can read"),
        (
            "postgresql://caucus:s3cret@127.0.0.1:1/caucus",
            "cannot connect to PostgreSQL at postgresql://caucus:***@",
        ),
    ):
        code, out, err = await caucus("migrate-db", "--config", str(config), "--to", url)
        assert code == 1 and out == "", err
        one_sentence(err, fragment)
        assert "s3cret" not in err

    # a ballot key that is not this database's: refused after the copy, which is rolled back whole
    other = tmp_path / "other"
    other.mkdir()
    shutil.copyfile(bot.db_path, other / "caucus.db")
    (other / "caucus.db.key").write_bytes(b"k" * 32)
    moved = write_config(tmp_path / "other.toml", {"storage": {"path": str(other / "caucus.db")}})
    code, out, err = await caucus("migrate-db", "--config", str(moved), "--to", target)
    assert code == 1 and out == ""
    one_sentence(err, "opens none of the database's 1 anonymous polls", "rolled back, nothing changed")
    assert pg_counts(target) == {}  # not one table left behind
    # without any ballot key beside it
    (other / "caucus.db.key").unlink()
    code, out, err = await caucus("migrate-db", "--config", str(moved), "--to", target)
    assert code == 1
    one_sentence(err, "no ballot key at", "caucus.db.key")
    assert pg_counts(target) == {}

    # the right key: the same target takes the copy
    code, out, err = await caucus("migrate-db", "--config", str(config), "--to", target)
    assert code == 0, err
    assert "opens the anonymous poll" in out, out


async def test_an_older_sqlite_database_is_brought_up_to_date_first(tmp_path: Path) -> None:
    """A database the bot last ran on at version 12 is migrated as the bot's start would, then copied."""
    path = tmp_path / "caucus.db"
    older = await Database.open(path, migrations=load_migrations()[:12])  # SQLite: no url
    try:
        async with older.transaction() as conn:
            await conn.execute(
                "INSERT INTO guilds (guild_id, name, joined_at) VALUES (42, 'Old coalition', 1700000000)"
            )
    finally:
        await older.close()
    config = write_config(tmp_path / "config.toml", {"storage": {"path": str(path)}})
    target = engines.empty_url_for(tmp_path / "target")
    code, out, err = await caucus("migrate-db", "--config", str(config), "--to", target)
    assert code == 0, err
    assert "(SQLite, version 14; brought up from version 12 first)" in out, out
    assert "38 tables, 1 row, each table checked row for row" in out and "No key file exists yet" in out, out
    assert pg_rows(target, "SELECT guild_id, name FROM guilds") == [(42, "Old coalition")]
