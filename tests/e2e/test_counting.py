"""Counting per organisation end to end, the real bot process against the fake Discord, at a seed-like size:
60 organisations in the five regions and 150 members (60 voices, 30 other representatives, 60 members who
represent none), seeded with the domain code before the bot starts. A point counted per organisation with
its hint, breakdown (text and chart) and the reminder to the voices of the organisations that have not
responded; the same clicks counted per person; polls per organisation, open and anonymous (checked on the
database), a voice handed over mid-poll, an organisation leaving, a restart in the middle; the export in
all four formats."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

from domain import servers
from domain.clock import SystemClock
from domain.groups import Target
from domain.orgs import Organisations
from domain.permissions import Actor, Policy
from tests import engines
from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import FakeDiscord, FakeMessage
from tests.e2e.fake_discord.models import FakeMember
from tests.e2e.harness import BotProcess
from tests.e2e.helpers import button, db_rows, in_batches, pinged, refused
from tests.e2e.test_export import cli_export
from tests.e2e.test_orgs import org_csv

ORGS = 60
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "domain" / "summary.schema.json").read_text())


@dataclass
class World:
    c: Coalition
    members: list[
        FakeMember
    ]  # 0-59: voice of Organisation i; 60-89: represents Organisation i-60; 90-149: none
    bot: BotProcess

    def voice(self, org: int) -> FakeMember:
        return self.members[org]

    @property
    def others(self) -> list[FakeMember]:
        return self.members[60:90]

    @property
    def unaffiliated(self) -> list[FakeMember]:
        return self.members[90:]


async def seed(path: Path, c: Coalition, members: list[FakeMember]) -> None:
    """The coalition's member list and its representatives, recorded with the domain code (as /org import,
    /org join and /org approve would) before the bot first starts."""
    clock = SystemClock()
    db = await engines.open_db(path)
    try:
        people = [(m.id, m.name) for m in (c.coco, c.alice, c.bob, c.carol, *members)]
        await servers.server_joined(db, clock, c.guild.id, c.guild.name, people)
        orgs = Organisations(db, clock, Policy(("Coordinator",)))
        coco = Actor(c.guild.id, c.coco.id, c.coco.name, role_names=frozenset({"Coordinator"}))
        preview = await orgs.preview_import(coco, org_csv(ORGS))
        created = await orgs.confirm_import(coco, preview.import_id)
        assert len(created) == ORGS
        for n, member in enumerate(members[:90]):
            org = created[n % ORGS]
            await orgs.join(Actor(c.guild.id, member.id, member.name), org)
            await orgs.approve(coco, org, Target(member.id, member.name))
    finally:
        await db.close()


@pytest.fixture
async def world(fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    c = make_coalition(fake)
    members = [fake.add_member(c.guild, f"member{i:03d}") for i in range(150)]
    bot = BotProcess(fake, tmp_path, schedule={"reminder_offsets": ["15s"]})
    await seed(bot.db_path, c, members)
    await bot.start()
    yield World(c, members, bot)
    if bot.process is not None and bot.process.returncode is None:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log(), bot.log()
    assert fake.unhandled == [], fake.unhandled


async def clicks(fake: FakeDiscord, message: FakeMessage, label: str, who: list[FakeMember]) -> list[str]:
    done = await in_batches(fake.click(message, button(message, label), m) for m in who)
    assert all(i.ephemeral for i in done)
    return [i.text for i in done]


async def block(fake: FakeDiscord, message: FakeMessage, member: FakeMember, reason: str) -> str:
    opened = await fake.click(message, button(message, "Block"), member)
    await opened.response()
    assert opened.type == 9
    done = await fake.submit_modal(opened, member, {"reason": reason})
    await done.response()
    return done.text


def org_name(n: int) -> str:
    return f"Organisation {n:03d}"


async def test_a_point_per_organisation_its_hint_breakdown_and_reminder(
    fake: FakeDiscord, world: World
) -> None:
    c, bot = world.c, world.bot
    itx = await fake.slash(c.guild, c.coco, "consensus propose", kind="point", text="Civil society chairs a session",
                           deadline="38s", count="organisations")  # fmt: skip
    point = (await itx.response()).message
    assert point is not None and "counted per organisation" in point.text
    people = (await (await fake.slash(c.guild, c.coco, "consensus propose", kind="point",
                                      text="The same, per person")).response()).message  # fmt: skip
    assert people is not None
    for message in (point, people):
        said = await clicks(fake, message, "Agree", [world.voice(n) for n in range(42)])
        assert all("Recorded: agree" in t for t in said)
        apart = await clicks(fake, message, "Stand aside", world.others)
        unaffiliated = await clicks(fake, message, "Agree", world.unaffiliated[:30])
        blocked = await block(fake, message, world.voice(42), "Not without a budget line.")
        if message is point:
            assert "as the position of **Organisation 000** (you are its voice)" in said[0]
            assert all("shown, but not counted" in t for t in apart)
            assert f"its voice, <@{world.voice(0).id}>, speaks for **Organisation 000**" in apart[0]
            assert all("shown apart, not counted" in t and "represent none" in t for t in unaffiliated)
            assert "in the objection register as **Organisation 042**'s" in blocked
        else:
            assert (
                said[0] == "Recorded: agree on Point #2." and apart[0] == "Recorded: stand aside on Point #2."
            )
    # the message shows what counts: 43 organisations responded of 60
    hint = "1 organisation blocks, 1 objection open; 42 of 60 organisations agree, 17 have not responded"
    await eventually(lambda: hint in point.text, timeout=10, what="the point's message")
    assert "30 by representatives who are not the voice · 30 by members without an organisation" in point.text
    # per person, the same clicks: every member counts
    await eventually(lambda: "1 block, 1 objection open, 72 of 103 agree, 30 stand aside" in people.text,
                     timeout=10, what="the people point's message")  # fmt: skip
    assert db_rows(bot, "SELECT count(*) FROM org_positions") == [(43,)]
    listed = await (await fake.slash(c.guild, c.bob, "consensus list")).final()
    assert "**#1** point · Open · per organisation" in listed.text and "**#2** point · Open —" in listed.text
    card = await fake.slash(c.guild, world.unaffiliated[5], "org info", org=org_name(0))
    await card.response()
    assert (
        "Positions on open points (1)" in card.text
        and f"#1: agree (stated by <@{world.voice(0).id}>" in card.text
    )
    assert db_rows(bot, "SELECT count(*) FROM positions WHERE item_id = 1") == [(103,)]

    # /consensus show: the organisations, who has not responded, the breakdown as text and as a chart
    show = await fake.slash(c.guild, c.alice, "consensus show", item="1")
    shown = await show.final()
    record = shown.attachment("item-1.md").text()  # every page at once
    assert show.ephemeral and "**Organisations not responded yet** (17 of 60)" in record
    assert "Support by region" in record and "- WEOG: agree 8 · 4 not responded" in record, record
    assert f"<@{world.others[0].id}> (member060), Organisation 000 — stand aside" in record
    assert f"<@{world.unaffiliated[0].id}> (member090) — agree" in record
    chart = shown.attachment("point-1-breakdown.png").data
    assert chart.startswith(b"\x89PNG")
    people_show = await (await fake.slash(c.guild, c.alice, "consensus show", item="2")).final()
    people_record = people_show.attachment("item-2.md").text()
    assert "members, by the organisation they represent" in people_record
    assert "- No organisation: agree 30" in people_record
    assert people_show.attachment("point-2-breakdown.png").data.startswith(b"\x89PNG")

    # the comment-period reminder mentions the voices of the 17 silent organisations, each once, nobody else
    silent = {world.voice(n).id for n in range(43, ORGS)}

    def reminders() -> list[FakeMessage]:
        return [m for m in fake.messages(c.general) if m.content.startswith(("Reminder", "Voices of"))]

    await eventually(
        lambda: sum(pinged(reminders()).values()) >= len(silent), timeout=30, what="the reminder"
    )
    assert "17 organisations have not responded" in reminders()[0].content
    assert pinged(reminders()) == Counter({uid: 1 for uid in silent})
    # the conveners' call on an organisation's objection names the organisation; its voice is told
    itx = await fake.slash(c.guild, c.coco, "consensus objection", item="1", state="in_the_rough",
                           organisation=org_name(42), note="The group goes ahead.")  # fmt: skip
    await itx.response()
    assert itx.ephemeral and "**Organisation 042**'s block on Point #1 is marked **in the rough**" in itx.text
    await eventually(lambda: any("in the rough" in m.text for m in fake.dms(world.voice(42))), what="the DM")
    await refused(await fake.slash(c.guild, c.coco, "consensus objection", item="1", state="addressed",
                                   organisation=org_name(43)), "Organisation 043 has no objection")  # fmt: skip
    # an organisation leaving stops counting; its recorded position stays
    await (await fake.slash(c.guild, world.voice(42), "org leave", org=org_name(42))).response()
    hint = "no organisation blocks, 0 objections open; 42 of 59 organisations agree, 17 have not responded"
    refreshed = (
        (await (await fake.slash(c.guild, c.alice, "consensus show", item="1")).final())
        .attachment("item-1.md")
        .text()
    )
    assert hint in refreshed, refreshed
    assert "not counted: it left the coalition" in refreshed
    assert db_rows(bot, "SELECT stance FROM org_positions p JOIN orgs o USING (org_id) WHERE o.name = ?",
                   (org_name(42),)) == [("block",)]  # fmt: skip


async def test_polls_per_organisation_open_and_anonymous(fake: FakeDiscord, world: World) -> None:
    c, bot = world.c, world.bot
    itx = await fake.slash(c.guild, c.coco, "poll create", options={"question": "Host city?",
                           "options": "Geneva; Nairobi", "count": "organisations"})  # fmt: skip
    poll = (await itx.response()).message
    assert poll is not None and "one ballot per organisation, cast by its voice" in poll.text
    said = await clicks(fake, poll, "Geneva", [world.voice(n) for n in range(10)])
    assert "Your organisation's ballot (**Organisation 000**) on Poll #1: **Geneva**" in said[0]
    await clicks(fake, poll, "Nairobi", [world.voice(n) for n in range(10, 15)])
    await refused(await fake.click(poll, button(poll, "Nairobi"), world.others[0]),
                  "only its voice, member000, votes for Organisation 000")  # fmt: skip
    await refused(await fake.click(poll, button(poll, "Geneva"), world.unaffiliated[0]),
                  "you represent no organisation, so you can't vote in it")  # fmt: skip
    assert db_rows(bot, "SELECT count(*), count(*) FILTER (WHERE picks = 1) FROM poll_org_votes") == [
        (15, 10)
    ]

    await bot.restart()  # the vote buttons still work after a restart; the voice changes hands mid-poll
    itx = await fake.slash(c.guild, world.voice(0), "org voice", org=org_name(0), member=world.others[0])
    await itx.response()
    new_voice = world.others[0]
    changed = await fake.click(poll, button(poll, "Nairobi"), new_voice)
    await changed.response()
    assert "Your organisation's ballot (**Organisation 000**) on Poll #1: **Nairobi**" in changed.text
    await refused(await fake.click(poll, button(poll, "Geneva"), world.voice(0)), "only its voice, member060")
    assert db_rows(bot, "SELECT o.name, v.picks, v.cast_by FROM poll_org_votes v JOIN orgs o USING (org_id) "
                        "WHERE o.name = ?", (org_name(0),)) == [(org_name(0), 2, new_voice.id)]  # fmt: skip
    # an organisation leaving: no longer counted (its ballot stays in the record)
    await (await fake.slash(c.guild, world.voice(14), "org leave", org=org_name(14))).response()
    results = await (await fake.slash(c.guild, c.alice, "poll results", poll="1")).final()
    assert "15 of 59 organisations" not in results.text and "14 of 59 organisations" in results.text, (
        results.text
    )
    assert "**Organisation 000** (cast by" in results.text and "Support by region" in results.text
    assert results.attachment("poll-1-breakdown.png").data.startswith(b"\x89PNG")
    listed = await (await fake.slash(c.guild, c.bob, "poll list")).final()
    assert "14 ballots · per organisation" in listed.text, listed.text
    # nudging reaches the voices of the organisations without a ballot, once each
    nudged_before = len(fake.messages(c.general))
    itx = await fake.slash(c.guild, c.coco, "poll nudge", poll="1")
    await itx.response()
    assert "Nudging 45 voices" in itx.text
    await eventually(
        lambda: sum(pinged(fake.messages(c.general)[nudged_before:]).values()) >= 45, what="nudge"
    )
    expected = {world.voice(n).id for n in range(15, ORGS)} - {world.voice(14).id}
    assert pinged(fake.messages(c.general)[nudged_before:]) == Counter({uid: 1 for uid in expected})
    # the close posts the result with its chart and the breakdown's
    close = await fake.slash(c.guild, c.coco, "poll close", poll="1")
    await close.final()
    await eventually(lambda: any("has closed" in m.text for m in fake.messages(c.general)), what="the result")
    closing = next(m for m in fake.messages(c.general) if "has closed" in m.text)
    assert {a.filename for a in closing.attachments} == {"poll-1.png", "poll-1-breakdown.png"}
    assert "14 of 59 organisations" in closing.text

    # anonymous, per organisation: one ballot per organisation, linked to no organisation and no person
    itx = await fake.slash(c.guild, c.coco, "poll create", options={"question": "Endorse the letter?",
                           "options": "Yes; No", "anonymous": True, "count": "organisations"})  # fmt: skip
    secret = (await itx.response()).message
    assert secret is not None
    await clicks(fake, secret, "Yes", [world.voice(n) for n in range(1, 13)] + [new_voice])
    await clicks(fake, secret, "No", [world.voice(n) for n in range(20, 25)])
    await refused(await fake.click(secret, button(secret, "Yes"), world.voice(0)), "only its voice")
    poll_id = int(db_rows(bot, "SELECT poll_id FROM polls WHERE number = 2")[0][0])
    key = (bot.db_path.parent / (bot.db_path.name + ".key")).read_bytes()
    org_ids = {int(o): str(n) for o, n in db_rows(bot, "SELECT org_id, name FROM orgs")}
    by_org = {
        hmac.new(key, f"ballot:{poll_id}:org:{o}".encode(), hashlib.sha256).digest(): n
        for o, n in org_ids.items()
    }
    by_person = {
        hmac.new(key, f"ballot:{poll_id}:{m.id}".encode(), hashlib.sha256).digest() for m in world.members
    }
    stored = [(bytes(k), p) for k, p in db_rows(bot, "SELECT voter_key, picks FROM poll_secret_ballots WHERE poll_id = ?",
                                                (poll_id,))]  # fmt: skip
    assert len(stored) == 18 and all(k in by_org for k, _ in stored)  # only the bot's key links them
    assert not {k for k, _ in stored} & by_person
    assert engines.column_names(bot.db_path, "poll_secret_ballots") == [
        "poll_id",
        "voter_key",
        "picks",
    ]
    assert db_rows(bot, "SELECT count(*) FROM poll_org_votes WHERE poll_id = ?", (poll_id,)) == [(0,)]
    assert db_rows(bot, "SELECT count(*) FROM poll_votes WHERE poll_id = ?", (poll_id,)) == [(0,)]
    voters = [world.voice(n) for n in range(1, 13)] + [new_voice] + [world.voice(n) for n in range(20, 25)]
    assert not re.search("|".join(str(m.id) for m in voters), bot.log())  # nor does the log say who voted
    await (await fake.slash(c.guild, c.coco, "poll close", poll="2")).final()
    after = {bytes(k) for (k,) in db_rows(bot, "SELECT voter_key FROM poll_secret_ballots WHERE poll_id = ?",
                                          (poll_id,))}  # fmt: skip
    assert len(after) == 18 and not after & (set(by_org) | by_person)
    results = await (await fake.slash(c.guild, c.alice, "poll results", poll="2")).final()
    assert "18 of 59 organisations" in results.text and "Support by region" not in results.text


async def test_export_in_four_formats(fake: FakeDiscord, world: World, tmp_path: Path) -> None:
    c = world.c
    point = (await (await fake.slash(c.guild, c.coco, "consensus propose", kind="point", text="Export me",
                                     count="organisations")).response()).message  # fmt: skip
    assert point is not None
    await clicks(fake, point, "Agree", [world.voice(n) for n in range(5)] + world.others[:3])
    files: dict[str, bytes] = {}
    for fmt in ("md", "html", "csv", "json"):
        itx = await fake.slash(c.guild, c.alice, "export summary", format=fmt)
        done = await itx.final()
        files.update({a.filename: a.data for a in done.attachments})
    md = next(v for k, v in files.items() if k.endswith(".md")).decode()
    assert (
        "counted per organisation: 60 organisations count" in md and "**Organisation 000 (O0)**: agree" in md
    )
    assert "member000" not in md  # a member's name needs names; the organisation's position does not
    data = json.loads(next(v for k, v in files.items() if k.endswith(".json")))
    jsonschema.validate(data, SCHEMA)
    assert data["schema"] == "caucus-summary/2" and len(data["organisations"]) == ORGS
    exported = data["sections"][0]["points"][0]
    assert exported["counting"] == "organisations" and exported["tally"]["agree"] == 5
    assert sum(line["counts"][0] for line in exported["breakdown"]["by_region"]) == 5
    assert "Member organisations" in next(v for k, v in files.items() if k.endswith(".html")).decode()
    orgs_csv = next(v for k, v in files.items() if k.endswith("-organisations.csv")).decode()
    assert len(list(csv.DictReader(io.StringIO(orgs_csv)))) == ORGS
    assert any(k.endswith("-breakdown.csv") for k in files)

    # `caucus export` gives the coordinator's bytes, counting an open anonymous poll per organisation as the
    # bot does (with the ballot key beside the database): the ballot of an organisation that left is out
    itx = await fake.slash(c.guild, c.coco, "poll create", options={"question": "Endorse?", "options": "Yes; No",
                           "anonymous": True, "count": "organisations"})  # fmt: skip
    secret = (await itx.response()).message
    assert secret is not None
    await clicks(fake, secret, "Yes", [world.voice(n) for n in range(3)])
    await (await fake.slash(c.guild, world.voice(2), "org leave", org=org_name(2))).response()
    for fmt in ("json", "csv"):
        mine = await (await fake.slash(c.guild, c.coco, "export summary", format=fmt)).final()
        theirs = {a.filename: a.data for a in mine.attachments}
        out = tmp_path / f"cli.{fmt}"
        result = cli_export(world.bot, c.guild.id, fmt, out)
        assert result.returncode == 0, result.stderr
        main = min(theirs, key=len)  # caucus-summary-<server>-<day>.<fmt>; the others add a suffix to it
        assert out.read_bytes() == theirs[main], fmt
        base = main[: -len(fmt) - 1]
        for name, data in theirs.items():
            if name != main:
                assert (tmp_path / f"cli{name[len(base) :]}").read_bytes() == data, name
    data = json.loads((tmp_path / "cli.json").read_bytes())
    endorse = next(p for s in data["sections"] for p in s["polls"] if p["question"] == "Endorse?")
    assert endorse["ballots"] == 2 and endorse["organisations_in_scope"] == ORGS - 1
