"""Faults lose nothing: a killed process, a dropped gateway, rate limits, a locked database, a full disk."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests import engines
from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import FakeDiscord, FakeMessage, InteractionFailed
from tests.e2e.harness import ROOT, BotProcess
from tests.e2e.helpers import button, db_rows


async def propose(fake: FakeDiscord, c: Coalition) -> FakeMessage:
    itx = await fake.slash(c.guild, c.alice, "consensus propose", kind="point", text="Fault-tolerant point")
    await itx.response()
    assert itx.message is not None
    return itx.message


async def test_sigkill_in_the_middle_of_a_burst(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    crowd = [fake.add_member(c.guild, f"voter{n}") for n in range(500)]
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    msg = await propose(fake, c)
    agree = button(msg, "Agree")
    clicks = list(await asyncio.gather(*(fake.click(msg, agree, m) for m in crowd)))
    await eventually(lambda: sum(i.acknowledged for i in clicks) >= 150, timeout=10, what="half the burst")
    bot.process.send_signal(signal.SIGKILL)  # mid-burst, no clean shutdown
    await bot.process.wait()
    acknowledged = {i.member.id for i in clicks if i.acknowledged}
    assert 0 < len(acknowledged) < 500
    rows = db_rows(bot.db_path, "SELECT user_id FROM positions")
    stored = [r[0] for r in rows]
    assert len(stored) == len(set(stored))  # nothing counted twice
    assert acknowledged <= set(stored)  # every acknowledged click is in the database
    await bot.start()
    # the next change brings the message up to date with the true tally
    await (await fake.click(msg, agree, c.bob)).response()
    total = db_rows(bot.db_path, "SELECT count(*) FROM positions")[0][0]
    await eventually(lambda: f"Agree {total} ·" in msg.text, timeout=10, what="true tally shown")
    assert await bot.stop() == 0
    print(f"\nSIGKILL mid-burst: {len(acknowledged)} acknowledged, {len(stored)} stored before restart")


async def test_gateway_drop_in_the_middle_of_a_burst(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    members = [fake.add_member(c.guild, f"m{n}") for n in range(40)]
    msg = await propose(fake, c)
    agree = button(msg, "Agree")
    first = [await fake.click(msg, agree, m) for m in members[:20]]
    resumes = fake.resume_count + fake.identify_count
    await fake.drop_gateway(code=None)  # the TCP connection dies
    await eventually(lambda: fake.resume_count + fake.identify_count > resumes, timeout=15, what="reconnect")
    later = [await fake.click(msg, agree, m) for m in members[20:]]
    for itx in later:
        await itx.response(timeout=5)
    answered_first = sum(1 for i in first if i.acknowledged)
    stored = db_rows(bot.db_path, "SELECT count(*) FROM positions")[0][0]
    assert stored == answered_first + len(later)
    await eventually(lambda: f"Agree {stored} ·" in msg.text, timeout=10, what="tally after reconnect")


async def test_rate_limited_edits_lose_no_update(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    members = [fake.add_member(c.guild, f"r{n}") for n in range(30)]
    msg = await propose(fake, c)
    fake.rate_limit("PATCH", r"/channels/\d+/messages/\d+", times=4, retry_after=0.4)
    agree, aside = button(msg, "Agree"), button(msg, "Stand aside")
    for n, m in enumerate(members):
        await (await fake.click(msg, agree if n % 3 else aside, m)).response()
        await asyncio.sleep(0.05)
    await eventually(
        lambda: "Agree 20 · Stand aside 10" in msg.text, timeout=15, what="final tally despite 429s"
    )
    assert fake.rate_limited_count >= 1


@pytest.mark.sqlite_only  # locks the SQLite file, and `caucus backup` copies it
async def test_locked_database_and_backup_during_a_burst(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess, tmp_path: Path
) -> None:
    c = coalition
    members = [fake.add_member(c.guild, f"l{n}") for n in range(60)]
    msg = await propose(fake, c)
    agree = button(msg, "Agree")
    locker = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, time, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
        "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(2); c.execute('ROLLBACK')"
    ), str(bot.db_path)], stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    backup = subprocess.Popen([sys.executable, "-m", "bot", "backup", str(tmp_path / "copy.db"), "--config",
                               str(bot.config_path)], cwd=str(ROOT), env=env, stderr=subprocess.PIPE, text=True)  # fmt: skip
    clicks = [await fake.click(msg, agree, m) for m in members]
    results = await asyncio.gather(*(i.response(timeout=3.0) for i in clicks), return_exceptions=True)
    assert not [r for r in results if isinstance(r, InteractionFailed)]
    assert all("Something went wrong" not in i.text and "cannot save" not in i.text for i in clicks)
    assert locker.wait(10) == 0
    assert backup.wait(30) == 0, backup.stderr.read() if backup.stderr else ""
    assert db_rows(bot.db_path, "SELECT count(*) FROM positions")[0][0] == 60
    assert db_rows(tmp_path / "copy.db", "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.postgresql_only  # SQLite's counterpart: test_locked_database_and_backup_during_a_burst
async def test_write_lock_held_elsewhere_during_a_burst(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    """Another process holds PostgreSQL's write lock for 2 s (as a second bot's write would): every click of
    a burst waits its turn and is answered and counted, none fails."""
    from storage.postgres import WRITE_LOCK

    c = coalition
    members = [fake.add_member(c.guild, f"l{n}") for n in range(60)]
    msg = await propose(fake, c)
    agree = button(msg, "Agree")
    locker = subprocess.Popen([sys.executable, "-c", (
        "import psycopg, time, sys; c = psycopg.connect(sys.argv[1]); "
        f"c.execute('SELECT pg_advisory_xact_lock({WRITE_LOCK})'); print('locked', flush=True); time.sleep(2); "
        "c.rollback()"
    ), engines.url_for(bot.db_path)], stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
    clicks = [await fake.click(msg, agree, m) for m in members]
    results = await asyncio.gather(*(i.response(timeout=3.0) for i in clicks), return_exceptions=True)
    assert not [r for r in results if isinstance(r, InteractionFailed)]
    assert all("Something went wrong" not in i.text and "cannot save" not in i.text for i in clicks)
    assert locker.wait(10) == 0
    assert db_rows(bot.db_path, "SELECT count(*) FROM positions")[0][0] == 60


async def test_storage_failure_is_a_clear_error_and_the_bot_recovers(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    """The database itself refuses writes as a full disk does (SQLite: SQLITE_FULL's message; PostgreSQL:
    SQLSTATE 53100 disk_full), then recovers."""
    c = coalition
    msg = await propose(fake, c)
    with engines.closing_raw(bot.db_path) as raw:
        if engines.on_postgres():
            raw.execute("CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        "RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; "
                        "END $$")  # fmt: skip
            raw.execute(
                "CREATE TRIGGER disk_full BEFORE INSERT ON positions FOR EACH ROW EXECUTE FUNCTION disk_full()"
            )
        else:
            raw.execute("CREATE TRIGGER disk_full BEFORE INSERT ON positions BEGIN "
                        "SELECT RAISE(ABORT, 'database or disk is full'); END")  # fmt: skip
    itx = await fake.click(msg, button(msg, "Agree"), c.bob)
    await itx.response()
    assert itx.ephemeral and "cannot save right now" in itx.text
    with engines.closing_raw(bot.db_path) as raw:
        raw.execute(
            "DROP TRIGGER disk_full ON positions" if engines.on_postgres() else "DROP TRIGGER disk_full"
        )
    itx = await fake.click(msg, button(msg, "Agree"), c.bob)
    await itx.response()
    assert "Recorded: agree" in itx.text
    assert bot.process is not None and bot.process.returncode is None


@pytest.mark.sqlite_only  # fills the disk under the SQLite file (PostgreSQL's files are the server's)
async def test_a_really_full_disk(fake: FakeDiscord, coalition: Coalition, tmp_path: Path) -> None:
    """The database on a tiny tmpfs that fills up: clear errors, then recovery once space is freed."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(
            f"SKIPPED: cannot mount a tmpfs here ({made.stderr.decode().strip()[:80]}); the trigger test covers it"
        )
    try:
        bot = BotProcess(fake, tmp_path)
        bot.db_path = mount / "caucus.db"
        bot.config_path.write_text(
            bot.config_path.read_text().replace(str(tmp_path / "caucus.db"), str(bot.db_path))
        )
        await bot.start()
        msg = await propose(fake, coalition)
        filler = mount / "filler"
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k", "count=100"], capture_output=True)
        members = [fake.add_member(coalition.guild, f"f{n}" + "x" * 80) for n in range(40)]
        answers = []
        for m in members:
            itx = await fake.click(msg, button(msg, "Object"), m)
            await itx.response()
            submit = await fake.submit_modal(itx, m, {"reason": "r" * 1000})
            await submit.response()
            answers.append(submit.text)
        assert any("cannot save right now" in a for a in answers), answers[-3:]
        assert not any("Something went wrong" in a for a in answers)
        filler.unlink()
        itx = await fake.click(msg, button(msg, "Agree"), coalition.bob)
        await itx.response()
        assert "Recorded: agree" in itx.text
        assert await bot.stop() == 0
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)
