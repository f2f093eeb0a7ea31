"""/record end to end: a log seeded before the bot starts (decisions are wired to it by their features), the
daily checkpoint and /record checkpoint posted as signed notes that `caucus verify` accepts, /record show,
restarts that keep the key, and a row edited by hand that makes the bot refuse to sign and alert the channel."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain import record
from tests import engines
from tests.e2e.conftest import Coalition, eventually
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.harness import ROOT, BotProcess
from tests.e2e.helpers import db_rows, refused

VKEY = re.compile(r"caucus/discord/\d+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*")


async def seed_record(path: Path, guild_id: int, count: int) -> None:
    """Decisions recorded before the bot starts, through the domain's own append."""
    db = await engines.open_db(path)
    try:
        for n in range(1, count + 1):
            async with db.transaction() as conn:
                event = record.point_decided(item=n, revision=1, text=f"Point {n}", outcome="consensus",
                                             tally={"agree": n, "block": 0})  # fmt: skip
                await record.append(conn, guild_id, event, datetime.now(UTC))
    finally:
        await db.close()


def caucus_verify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "verify", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


async def test_checkpoints_posted_verified_and_refused_after_tampering(
    fake: FakeDiscord, coalition: Coalition, tmp_path: Path
) -> None:
    c = coalition
    room = fake.add_channel(c.guild, "record")
    at = (datetime.now(UTC) + timedelta(seconds=6)).strftime("%H:%M:%S")
    bot = BotProcess(fake, tmp_path, record={"channel": room.id, "daily_time": at})
    await seed_record(bot.db_path, c.guild.id, 3)
    await bot.start()
    try:
        # the daily checkpoint: the log grew (from nothing), so it is signed and posted
        await eventually(lambda: fake.messages(room), timeout=15, what="daily checkpoint")
        daily = fake.messages(room)[0]
        assert "Decision record checkpoint** · 3 entries · daily" in daily.text
        note = daily.attachment(f"caucus-checkpoint-{c.guild.id}-3.txt").data.decode()
        assert note.startswith(f"caucus/discord/{c.guild.id}\n3\n") and "\n\n\u2014 caucus/discord/" in note
        assert note in daily.text and daily.pings() == set()
        await eventually(
            lambda: db_rows(bot, "SELECT state FROM scheduled_posts WHERE kind = 'record_checkpoint' ORDER BY due_at")
            == [("sent",), ("pending",)],
            what="the daily post marked sent and tomorrow's planned",
        )  # fmt: skip

        show = await fake.slash(c.guild, c.alice, "record show")
        await show.response()
        assert show.ephemeral and "Decision record" in show.text and "3 entries, signed" in show.text
        key = VKEY.search(show.text)
        assert key is not None, show.text
        vkey = key.group(0)
        assert note in show.text

        saved = tmp_path / "checkpoint.txt"
        saved.write_text(note, encoding="utf-8")
        checked = caucus_verify(str(saved), "--public-key", vkey)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        name_and_id = "+".join(vkey.split("+", 2)[:2])  # the base64 key may itself hold a '+'
        assert f"ok: signature by {name_and_id} on the checkpoint" in checked.stdout
        wrong = caucus_verify(
            str(saved), "--public-key", record.Signer(f"caucus/discord/{c.guild.id}", bytes(32)).verifier.vkey
        )
        assert wrong.returncode == 1 and "FAILED" in wrong.stdout

        await refused(await fake.slash(c.guild, c.alice, "record checkpoint"), "Only coordinators")
        asked = await fake.slash(c.guild, c.coco, "record checkpoint")
        await asked.response()
        final = await asked.final()
        assert asked.ephemeral and f"posted in <#{room.id}>" in final.text
        await eventually(lambda: len(fake.messages(room)) == 2, what="checkpoint posted")
        again = fake.messages(room)[1]
        assert (
            "3 entries · asked by a coordinator (the record has not grown since it was signed)" in again.text
        )
        assert again.attachment(f"caucus-checkpoint-{c.guild.id}-3.txt").data.decode() == note

        key_file = Path(str(bot.db_path) + ".record-key")
        key_before = key_file.read_bytes()
        await bot.restart()
        show = await fake.slash(c.guild, c.bob, "record show")
        await show.response()
        assert vkey in show.text and key_file.read_bytes() == key_before
        assert db_rows(bot, "SELECT tree_size, message_id FROM record_checkpoints") == [(3, again.id)]

        # someone with the database rewrites decision 2's tally: refused as it stands, so they drop the
        # append-only trigger first
        with engines.closing_raw(bot.db_path, autocommit=True) as raw:
            ((entry,),) = raw.rows("SELECT entry FROM record_entries WHERE idx = 1")
            edit = (
                "UPDATE record_entries SET entry = ? WHERE idx = 1",
                (entry.replace(b'"agree":2', b'"agree":20'),),
            )
            with pytest.raises(engines.integrity_errors(), match="append-only"):
                raw.execute(*edit)
            if engines.on_postgres():
                raw.execute("DROP TRIGGER record_entries_append_only ON record_entries")
            else:
                raw.execute("DROP TRIGGER record_entries_no_update")
            raw.execute(*edit)
        text = await refused(
            await fake.slash(c.guild, c.coco, "record checkpoint"), "no checkpoint was signed"
        )
        assert "entry 1 was changed" in text
        await eventually(lambda: len(fake.messages(room)) == 3, what="alert in the record channel")
        alert = fake.messages(room)[2]
        assert "failed its check" in alert.text and "First entry concerned: 1." in alert.text
        assert "entry 1 was changed" in alert.text.lower() and not alert.attachments
        assert db_rows(bot, "SELECT count(*) FROM record_checkpoints") == [(1,)]
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log()
    assert fake.unhandled == []


async def test_without_a_record_channel_the_checkpoint_is_posted_here(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    show = await fake.slash(c.guild, c.alice, "record show")
    await show.response()
    assert show.ephemeral and "none yet" in show.text and VKEY.search(show.text)
    await refused(
        await fake.slash(c.guild, c.coco, "record checkpoint"), "Nothing is in the decision record yet"
    )
    assert fake.messages(c.general) == []
    assert db_rows(bot, "SELECT count(*) FROM scheduled_posts") == [(0,)]  # no channel: no daily post

    assert await bot.stop() == 0
    await seed_record(bot.db_path, c.guild.id, 2)
    await bot.start()
    asked = await fake.slash(c.guild, c.coco, "record checkpoint")
    await asked.response()
    assert asked.ephemeral and f"posted in <#{c.general.id}>" in (await asked.final()).text
    await eventually(lambda: fake.messages(c.general), what="checkpoint posted here")
    posted = fake.messages(c.general)[0]
    assert not posted.ephemeral and "2 entries · asked by a coordinator" in posted.text
    assert db_rows(bot, "SELECT tree_size, channel_id, message_id FROM record_checkpoints") == [
        (2, c.general.id, posted.id)
    ]


async def export(
    fake: FakeDiscord, guild: object, member: object, path: str, folder: Path, name: str, **options: object
) -> Path:
    """A JSON export asked through the bot, saved to a file as the member would download it."""
    itx = await fake.slash(guild, member, path, options={"format": "json", **options})  # type: ignore[arg-type]
    await itx.response()
    message = await itx.final()
    assert "Something went wrong" not in message.text, message.text
    (attachment,) = message.attachments
    saved = folder / name
    saved.write_bytes(attachment.data)
    return saved


async def test_decisions_of_every_feature_are_recorded_and_exports_verify(
    fake: FakeDiscord, coalition: Coalition, tmp_path: Path
) -> None:
    """Points, an objection ruled in the rough, a poll, an organisation and a statement: every decision is in
    the record; the summary and the signatory list verify offline with `caucus verify`, also after a restart
    and after the signer asked to be anonymised (the record only grew); a decision changed by hand fails."""
    from tests.e2e.test_statements import open_statement, sign

    c = coalition
    room = fake.add_channel(c.guild, "record")
    bot = BotProcess(fake, tmp_path, record={"channel": room.id})
    await bot.start()
    try:
        # an organisation, verified: Alice registered it and is its voice
        await (await fake.slash(c.guild, c.alice, "org register", name="Open Rights", country="FR",
                                region="weog", stakeholder="civil_society")).response()  # fmt: skip
        await (await fake.slash(c.guild, c.coco, "org verify", org="Open Rights")).response()
        # a point decided after an objection ruled in the rough, a question answered
        await (
            await fake.slash(c.guild, c.alice, "consensus propose", kind="point", text="Open standards.")
        ).final()
        point = next(m for m in fake.messages(c.general) if "Point #1" in m.text and m.buttons())
        await (
            await fake.click(point, next(cid for t, cid, _ in point.buttons() if t == "Agree"), c.alice)
        ).response()
        opened = await fake.click(point, next(cid for t, cid, _ in point.buttons() if t == "Object"), c.bob)
        await opened.response()
        await (await fake.submit_modal(opened, c.bob, {"reason": "Too vague."})).response()
        ruled = await fake.slash(c.guild, c.coco, "consensus objection", item="1", member=c.bob,
                                 state="in_the_rough", note="Raised twice; the group goes ahead.")  # fmt: skip
        await ruled.response()
        assert "in the rough" in ruled.text, ruled.text
        await (
            await fake.slash(c.guild, c.coco, "consensus decide", item="1", outcome="rough_consensus")
        ).final()
        await (
            await fake.slash(c.guild, c.bob, "consensus propose", kind="question", text="Who speaks?")
        ).final()
        await (await fake.slash(c.guild, c.coco, "consensus answer", item="2", answer="Alice does.")).final()
        # a poll closed
        made = await fake.slash(
            c.guild, c.coco, "poll create", options={"question": "Call day?", "options": "Mon; Fri"}
        )
        await made.response()
        assert made.message is not None
        await (await fake.click(made.message, made.message.buttons()[1][1], c.carol)).response()
        await (await fake.slash(c.guild, c.coco, "poll close", poll="1")).final()
        # a statement signed by Open Rights and closed: its close posts a checkpoint in the record channel
        card = await open_statement(fake, c, duration="1d")
        await sign(fake, card, [c.alice], [True])
        await (await fake.slash(c.guild, c.coco, "statement close", statement="1")).final()
        await eventually(lambda: fake.messages(room), timeout=15, what="the checkpoint of the close")
        kinds = [
            json.loads(r[0])["kind"] for r in db_rows(bot, "SELECT entry FROM record_entries ORDER BY idx")
        ]
        assert kinds == ["organisation_verified", "objection_ruled", "point_decided", "question_answered",
                         "poll_closed", "statement_version", "signature", "statement_version"], kinds  # fmt: skip

        await bot.restart()
        show = await fake.slash(c.guild, c.alice, "record show")
        await show.response()
        found = VKEY.search(show.text)
        assert found is not None, show.text
        vkey = found.group(0)

        summary = await export(fake, c.guild, c.coco, "export summary", tmp_path, "summary.json")
        checked = caucus_verify(str(summary), "--public-key", vkey)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        # the organisation, the ruling, the outcome, the answer and the poll: each row matches its entry
        assert checked.stdout.count("matches the record") == 5, checked.stdout
        signatories = await export(fake, c.guild, c.coco, "statement signatories", tmp_path, "signatories.json",
                                   statement="1")  # fmt: skip
        checked = caucus_verify(str(signatories), "--public-key", vkey)
        assert checked.returncode == 0, checked.stdout + checked.stderr

        # Alice, who signed for Open Rights, is anonymised: the record is untouched and still verifies
        asked = await fake.slash(c.guild, c.alice, "privacy delete")
        await asked.response()
        await (await fake.click(asked.message, asked.message.buttons()[0][1], c.alice)).response()
        await (
            await fake.slash(c.guild, c.bob, "consensus propose", kind="point", text="After the erasure.")
        ).final()
        await (await fake.slash(c.guild, c.coco, "consensus decide", item="3", outcome="consensus")).final()
        later = await export(fake, c.guild, c.coco, "export summary", tmp_path, "later.json")
        checked = caucus_verify(str(later), "--public-key", vkey, "--since", str(summary))
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "extends" in checked.stdout  # the record only grew since the first export
        entries = b"".join(r[0] for r in db_rows(bot, "SELECT entry FROM record_entries"))
        assert b"alice" not in entries.lower() and str(c.alice.id).encode() not in entries

        # the outcome turned into consensus by hand: caught, naming the entry
        data = json.loads(summary.read_text(encoding="utf-8"))
        changed = next(p for s in data["sections"] for p in s["points"] if p["record_index"] is not None)
        changed["status"] = "consensus"
        forged = tmp_path / "forged.json"
        forged.write_text(json.dumps(data), encoding="utf-8")
        checked = caucus_verify(str(forged), "--public-key", vkey)
        assert checked.returncode == 1 and f"entry {changed['record_index']}" in checked.stdout, (
            checked.stdout
        )
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log()
    assert fake.unhandled == []
