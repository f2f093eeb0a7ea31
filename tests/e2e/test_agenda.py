"""/agenda end to end: sessions, reminders that arrive once across restarts, imports, calendar files, digest."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar

from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import DEFAULT_BOT, MANAGE_ROLES, FakeDiscord
from tests.e2e.fake_discord.permissions import MANAGE_EVENTS
from tests.e2e.harness import BotProcess
from tests.e2e.helpers import db_rows, refused

SAMPLE_TABLE = """Time        | Session
09:00-12:00 | Civil society awareness raising and coordination session 1
12:00-13:00 | Lunch
13:00-14:30 | Policy slam
"""


def snapshot(bot: BotProcess) -> list[tuple]:
    tables = ("sessions", "occurrences", "scheduled_posts", "session_subscribers")
    return [(t, *r) for t in tables for r in db_rows(bot, f"SELECT * FROM {t} ORDER BY 1")]


def soon(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


def unix(wall: str, zone: str) -> int:
    return int(datetime.fromisoformat(wall).replace(tzinfo=ZoneInfo(zone)).timestamp())


async def test_add_show_list_edit_remove(fake: FakeDiscord, coalition: Coalition, bot: BotProcess) -> None:
    c = coalition
    itx = await fake.slash(c.guild, c.coco, "agenda add", title="Roadmap session", start="2030-06-03 09:00",
                           duration="90m", zone="Europe/Paris", moderators="Ana & Raúl", location="Room B")  # fmt: skip
    await itx.response()
    assert not itx.ephemeral
    start = unix("2030-06-03 09:00", "Europe/Paris")
    text = itx.text
    assert f"<t:{start}:F>" in text and f"<t:{start}:R>" in text and f"<t:{start + 5400}:t>" in text
    assert "2030-06-03 09:00 Europe/Paris" in text and "Ana & Raúl" in text and "Room B" in text
    card = itx.message
    assert card is not None and [b[0] for b in card.buttons()] == ["Remind me", "Add to calendar"]
    # reminders planned at the configured offsets (1d, 1h, 10m) and at the start
    assert [r[0] for r in db_rows(bot, "SELECT due_at FROM scheduled_posts ORDER BY due_at")] == [
        start - 86400, start - 3600, start - 600, start,
    ]  # fmt: skip

    itx = await fake.slash(c.guild, c.alice, "agenda list", day="2030-06-03")
    await itx.response()
    assert itx.ephemeral and "#1" in itx.text and "Roadmap session" in itx.text
    itx = await fake.slash(c.guild, c.alice, "agenda show", session="1")
    await itx.response()
    assert f"<t:{start}:F>" in itx.text

    itx = await fake.slash(
        c.guild, c.coco, "agenda edit", session="#1", start="2030-06-03 10:00", reminders="2h"
    )
    await itx.response()
    assert "reminders rescheduled" in itx.text
    new_start = unix("2030-06-03 10:00", "Europe/Paris")
    states = db_rows(bot, "SELECT due_at, state FROM scheduled_posts ORDER BY post_id")
    assert [s for _, s in states[:4]] == ["cancelled"] * 4
    assert sorted(d for d, s in states if s == "pending") == [new_start - 7200, new_start]

    itx = await fake.slash(c.guild, c.coco, "agenda remove", session="1")
    await itx.response()
    assert "removed" in itx.text and "reminders are cancelled" in itx.text
    assert db_rows(bot, "SELECT count(*) FROM sessions") == [(0,)]
    assert db_rows(bot, "SELECT count(*) FROM scheduled_posts WHERE state = 'pending'") == [(0,)]


async def test_reminders_role_ping_and_remind_me(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    fake.update_role(c.guild, c.guild.roles[c.guild.bot_role_id], permissions=DEFAULT_BOT | MANAGE_ROLES)
    room = fake.add_channel(c.guild, "roadmap")
    bot = BotProcess(fake, tmp_path, groups={"manage_roles": True})
    await bot.start()
    try:
        await (await fake.slash(c.guild, c.coco, "wg create", name="Roadmap", home_channel=room)).response()
        await eventually(lambda: db_rows(bot, "SELECT role_id FROM groups")[0][0], what="group role")
        role_id = db_rows(bot, "SELECT role_id FROM groups")[0][0]
        itx = await fake.slash(c.guild, c.coco, "agenda add", title="Roadmap call", start=soon(9), duration="30m",
                               group="Roadmap", reminders="5s")  # fmt: skip
        await itx.response()
        card = itx.message
        assert card is not None
        remind = card.buttons()[0][1]
        press = await fake.click(card, remind, c.alice)
        await press.response()
        assert press.ephemeral and "direct message" in press.text
        fake.close_dms(c.bob)
        press = await fake.click(card, remind, c.bob)
        await press.response()
        assert press.ephemeral and "can't send you direct messages" in press.text
        again = await fake.click(card, remind, c.alice)  # pressed again: stops
        await again.response()
        assert again.ephemeral and "no longer get direct messages" in again.text
        again = await fake.click(card, remind, c.alice)  # and once more: back on the list
        await again.response()
        assert again.ephemeral and "by direct message" in again.text

        await eventually(
            lambda: any("Reminder" in m.text for m in fake.messages(room)), timeout=10, what="reminder"
        )
        reminder = next(m for m in fake.messages(room) if "Reminder" in m.text)
        occ_start = db_rows(bot, "SELECT starts_at FROM occurrences")[0][0]
        assert f"<t:{occ_start}:F>" in reminder.text and f"<t:{occ_start}:R>" in reminder.text
        assert reminder.pings() == {role_id}  # the group's role, nobody else
        assert "Late" not in reminder.text
        await eventually(lambda: any("Reminder" in m.text for m in fake.dms(c.alice)), what="DM reminder")
        await eventually(
            lambda: any("starting now" in m.text for m in fake.messages(room)), timeout=10, what="start"
        )
        assert sum("Reminder" in m.text for m in fake.messages(room)) == 1
    finally:
        assert await bot.stop() == 0


async def test_three_restarts_around_a_reminder(
    fake: FakeDiscord, coalition: Coalition, tmp_path: Path
) -> None:
    c = coalition
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    try:
        await (
            await fake.slash(c.guild, c.coco, "agenda add", title="Plenary", start=soon(12), reminders="6s")
        ).response()
        for _ in range(3):
            await bot.restart()
        await eventually(
            lambda: any("starting now" in m.text for m in fake.messages(c.general)), timeout=15, what="start"
        )
        await asyncio.sleep(1)
        texts = [m.text for m in fake.messages(c.general)]
        assert sum("Reminder: **Plenary**" in t for t in texts) == 1
        assert sum("**Plenary** is starting now" in t for t in texts) == 1
        assert sorted(s for (s,) in db_rows(bot, "SELECT state FROM scheduled_posts")) == ["sent", "sent"]
    finally:
        assert await bot.stop() == 0


async def test_down_across_a_reminder(fake: FakeDiscord, coalition: Coalition, tmp_path: Path) -> None:
    c = coalition
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    try:
        await (
            # its reminder falls due while the bot is down (3 s on), its start after the restart (13 s on),
            # with room for a slower stop and start (PostgreSQL's connections)
            await fake.slash(c.guild, c.coco, "agenda add", title="Late one", start=soon(13), reminders="10s")
        ).response()
        await (
            await fake.slash(c.guild, c.coco, "agenda add", title="Missed one", start=soon(6), reminders="4s")
        ).response()
        assert await bot.stop() == 0
        await asyncio.sleep(7)  # Late one: reminder passed, start ahead. Missed one: started while down.
        await bot.start()
        await eventually(lambda: any("Late one" in m.text and "Late:" in m.text for m in fake.messages(c.general)),
                         timeout=5, what="late reminder")  # fmt: skip
        await eventually(lambda: any("**Late one** is starting now" in m.text for m in fake.messages(c.general)),
                         timeout=8, what="start of the late one")  # fmt: skip
        texts = [m.text for m in fake.messages(c.general) if "Missed one" in m.text and "Added" not in m.text]
        assert texts == []  # its reminder and start passed while down: skipped
        states_sql = (
            "SELECT s.title, p.kind, p.state FROM scheduled_posts p JOIN occurrences o "
            "ON o.occurrence_id = p.ref_id JOIN sessions s ON s.session_id = o.session_id"
        )
        expected = [
            ("Late one", "session_reminder", "sent"),
            ("Late one", "session_start", "sent"),
            ("Missed one", "session_reminder", "skipped"),
            ("Missed one", "session_start", "skipped"),
        ]
        # the post is marked sent just after its message goes out
        await eventually(lambda: sorted(db_rows(bot, states_sql)) == expected, what="post states")  # fmt: skip
    finally:
        assert await bot.stop() == 0


async def test_import_table_csv_ics_and_export(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    itx = await fake.slash(c.guild, c.coco, "agenda import", file=("day.md", SAMPLE_TABLE.encode()), day="2030-11-24",
                           zone="Europe/Paris")  # fmt: skip
    preview = await itx.final()
    assert itx.ephemeral and "Import preview: 3 sessions" in preview.text and "Policy slam" in preview.text
    assert db_rows(bot, "SELECT count(*) FROM sessions") == [(0,)]  # nothing until Confirm
    confirm = await fake.click(preview, preview.buttons()[0][1], c.coco)
    done = await confirm.final()
    assert "Imported 3 sessions" in done.text
    titles = [t for (t,) in db_rows(bot, "SELECT title FROM sessions ORDER BY number")]
    assert titles == ["Civil society awareness raising and coordination session 1", "Lunch", "Policy slam"]
    again = await fake.click(preview, preview.buttons()[0][1], c.coco)
    assert "already confirmed" in (await again.final()).text

    csv_text = "start,end,title,moderator,location\n09:00,10:00,Welcome,Ana,Main hall\n10:00,11:30,WG Principles,Raúl,Room 2\n"
    itx = await fake.slash(
        c.guild, c.coco, "agenda import", file=("day.csv", csv_text.encode()), day="2030-11-25"
    )
    preview = await itx.final()
    await (await fake.click(preview, preview.buttons()[0][1], c.coco)).final()

    cal = icalendar.Calendar()
    cal.add("prodid", "-//test//")
    cal.add("version", "2.0")
    ev = icalendar.Event()
    ev.add("uid", "x@test")
    ev.add("summary", "Session with other stakeholders")
    ev.add("dtstart", datetime(2030, 11, 26, 14, 0, tzinfo=ZoneInfo("America/Sao_Paulo")))
    ev.add("dtend", datetime(2030, 11, 26, 15, 0, tzinfo=ZoneInfo("America/Sao_Paulo")))
    cal.add_component(ev)
    itx = await fake.slash(c.guild, c.coco, "agenda import", file=("in.ics", cal.to_ical()))
    preview = await itx.final()
    await (await fake.click(preview, preview.buttons()[0][1], c.coco)).final()
    assert db_rows(bot, "SELECT count(*) FROM sessions") == [(6,)]
    sao = db_rows(
        bot,
        "SELECT starts_at FROM occurrences o JOIN sessions s USING (session_id) WHERE s.title LIKE 'Session with%'",
    )
    assert sao == [(int(datetime(2030, 11, 26, 17, 0, tzinfo=UTC).timestamp()),)]

    itx = await fake.slash(c.guild, c.alice, "agenda export")
    await itx.response()
    data = itx.message.attachments[0].data
    parsed = icalendar.Calendar.from_ical(data)
    events = list(parsed.walk("VEVENT"))
    assert len(events) == 6
    uids = {str(e["UID"]) for e in events}
    assert len(uids) == 6
    itx = await fake.slash(c.guild, c.alice, "agenda export")
    await itx.response()
    assert {
        str(e["UID"]) for e in icalendar.Calendar.from_ical(itx.message.attachments[0].data).walk("VEVENT")
    } == uids

    # "Add to calendar" on one session
    itx = await fake.slash(c.guild, c.alice, "agenda show", session="2")
    await itx.response()
    click = await fake.click(itx.message, itx.message.buttons()[1][1], c.alice)
    await click.response()
    single = icalendar.Calendar.from_ical(click.message.attachments[0].data)
    assert [str(e["SUMMARY"]) for e in single.walk("VEVENT")] == ["Lunch"]


async def test_recurring_session_keeps_paris_time_across_dst(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    itx = await fake.slash(c.guild, c.coco, "agenda add", title="Weekly WG call", start="2027-10-18 09:00",
                           zone="Europe/Paris", repeat=7, until="2027-11-08")  # fmt: skip
    await itx.response()
    starts = [s for (s,) in db_rows(bot, "SELECT starts_at FROM occurrences ORDER BY starts_at")]
    paris = [
        datetime.fromtimestamp(s, ZoneInfo("Europe/Paris")).strftime("%Y-%m-%d %H:%M %Z") for s in starts
    ]
    assert paris == [
        "2027-10-18 09:00 CEST",
        "2027-10-25 09:00 CEST",
        "2027-11-01 09:00 CET",
        "2027-11-08 09:00 CET",
    ]
    assert starts[2] - starts[1] == 7 * 86400 + 3600  # the UTC gap grows by the hour the clocks went back
    itx = await fake.slash(c.guild, c.alice, "agenda export")
    await itx.response()
    events = list(icalendar.Calendar.from_ical(itx.message.attachments[0].data).walk("VEVENT"))
    assert len(events) == 1 and "RRULE" in events[0]
    assert events[0].decoded("DTSTART").strftime("%H:%M") == "09:00"


async def test_digest(fake: FakeDiscord, coalition: Coalition, tmp_path: Path) -> None:
    c = coalition
    digest_room = fake.add_channel(c.guild, "daily")
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    if midnight - now < timedelta(minutes=5):  # the digest and its session must fall on one day
        await asyncio.sleep((midnight - now).total_seconds() + 1)
    at = (datetime.now(UTC) + timedelta(seconds=6)).strftime("%H:%M:%S")
    bot = BotProcess(fake, tmp_path, agenda={"digest_time": at, "digest_channel": digest_room.id})
    await bot.start()
    try:
        later = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
        if later[:10] != datetime.now(UTC).strftime("%Y-%m-%d"):
            later = (datetime.now(UTC) + timedelta(minutes=2)).strftime("%Y-%m-%d %H:%M:%S")
        await (
            await fake.slash(c.guild, c.coco, "agenda add", title="Evening plenary", start=later)
        ).response()
        await eventually(lambda: fake.messages(digest_room), timeout=10, what="digest")
        digest = fake.messages(digest_room)[0]
        assert "Today's sessions" in digest.text and "Evening plenary" in digest.text
    finally:
        assert await bot.stop() == 0


async def test_refusals_change_nothing(fake: FakeDiscord, coalition: Coalition, bot: BotProcess) -> None:
    c = coalition
    other = make_coalition(fake, "Other coalition")
    await (await fake.slash(c.guild, c.coco, "wg create", name="Principles")).response()
    await (await fake.slash(c.guild, c.coco, "wg create", name="Roadmap")).response()
    await (
        await fake.slash(c.guild, c.coco, "wg set-convener", group="Roadmap", options={"member": c.bob})
    ).response()
    await (await fake.slash(c.guild, c.coco, "agenda add", title="Principles call", start="2030-01-10 10:00",
                            group="Principles")).response()  # fmt: skip
    await (
        await fake.slash(other.guild, other.coco, "agenda add", title="Theirs", start="2030-01-10 10:00")
    ).response()
    before = snapshot(bot)
    cases = [
        (c.coco, "agenda add", {"title": "X", "start": "2026-02-30 25:00"}, "not a real date"),
        (c.coco, "agenda add", {"title": "X", "start": "tomorrow 9am"}, "YYYY-MM-DD"),
        (c.coco, "agenda add", {"title": "X", "start": "2030-01-10 10:00", "zone": "Mars/Olympus"}, "not a time zone"),
        (c.coco, "agenda add", {"title": "X", "start": "2030-01-10 10:00", "end": "09:00"}, "end is before the start"),
        (c.coco, "agenda add", {"title": "X", "start": "2020-01-10 10:00"}, "in the past"),
        (c.coco, "agenda add", {"title": "X", "start": "2030-01-10 10:00", "reminders": "soon"}, "not a duration"),
        (c.coco, "agenda add", {"title": "x" * 201, "start": "2030-01-10 10:00"}, "at most 200"),
        (c.alice, "agenda add", {"title": "X", "start": "2030-01-10 10:00"}, "Only coordinators"),
        (c.bob, "agenda edit", {"session": "1", "title": "Hijack"}, "Only conveners of Principles"),
        (c.bob, "agenda remove", {"session": "1"}, "Only conveners of Principles"),
        (c.coco, "agenda show", {"session": "2"}, "no session #2"),
        (other.coco, "agenda remove", {"session": "#1"}, None),
        (c.coco, "agenda import", {"file": ("t.md", b"09:00-10:00 | Fine\n25:00-26:00 | Broken\n"), "day": "2030-01-11"},
         "line 2"),
        (c.coco, "agenda list", {"day": "someday"}, "not today, upcoming or a date"),
    ]  # fmt: skip
    for member, path, options, fragment in cases:
        guild = other.guild if member is other.coco else c.guild
        itx = await fake.slash(guild, member, path, client_checks=False, **options)
        if fragment is None:  # removing their own #1 is theirs to do: it must not touch ours
            await itx.response()
            continue
        if itx.payload["data"]["options"][0]["name"] == "import":
            await itx.response()
            text = (await itx.final()).text
            assert "Nothing was imported" in text and fragment in text, text
            continue
        await refused(itx, fragment)
    ours = [r for r in snapshot(bot) if r[0] == "sessions" and r[2] == c.guild.id]
    assert ours == [r for r in before if r[0] == "sessions" and r[2] == c.guild.id]
    # a forged Remind me pointing at the other server's session
    their_id = db_rows(bot, "SELECT session_id FROM sessions WHERE guild_id = ?", (other.guild.id,))
    assert their_id == []  # they removed theirs above
    card = fake.messages(c.general)[-1]
    forged = await fake.click(card, "agenda:remind:v1:99999", c.alice, check=False, inject=True)
    await refused(forged, "does not exist on this server")


async def test_sessions_mirrored_as_discord_events(
    fake: FakeDiscord, coalition: Coalition, tmp_path: Path
) -> None:
    c = coalition
    fake.update_role(c.guild, c.guild.roles[c.guild.bot_role_id], permissions=DEFAULT_BOT | MANAGE_EVENTS)
    bot = BotProcess(fake, tmp_path, agenda={"discord_events": True})
    await bot.start()
    try:
        await (await fake.slash(c.guild, c.coco, "agenda add", title="Open forum", start="2030-03-02 14:00",
                                duration="90m", location="Room 4")).response()  # fmt: skip
        await eventually(lambda: len(c.guild.scheduled_events) == 1, what="event created")
        event = next(iter(c.guild.scheduled_events.values()))
        assert event["name"] == "Open forum" and event["entity_metadata"]["location"] == "Room 4"
        assert event["scheduled_start_time"].startswith("2030-03-02T14:00")
        await (
            await fake.slash(c.guild, c.coco, "agenda edit", session="1", start="2030-03-02 15:00")
        ).response()
        await eventually(lambda: next(iter(c.guild.scheduled_events.values()))["scheduled_start_time"]
                         .startswith("2030-03-02T15:00"), what="event moved")  # fmt: skip
        await (await fake.slash(c.guild, c.coco, "agenda remove", session="1")).response()
        await eventually(lambda: not c.guild.scheduled_events, what="event deleted")
    finally:
        assert await bot.stop() == 0


async def test_an_import_is_bounded_and_names_its_bad_lines(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    big = ("big.csv", b"start,end,title\n" + b" " * 1_000_000)
    itx = await fake.slash(c.guild, c.coco, "agenda import", file=big)
    text = await refused(itx, "larger than 1 MB")
    assert "1,000,016 bytes" in text
    assert [a.downloads for a in fake.attachments.values() if a.filename == "big.csv"] == [0]  # never fetched

    week = (
        "start,end,title,notes\n"
        "2030-11-24 09:00,2030-12-01 09:00,Exactly a week,\n"
        "2030-11-24 09:00,2030-12-01 09:01,A week and a minute,\n"
        f"2030-11-24 10:00,2030-11-24 11:00,Long notes,{'n' * 100_000}\n"
    )
    itx = await fake.slash(c.guild, c.coco, "agenda import", file=("week.csv", week.encode()))
    text = await refused(itx, "Nothing was imported", "line 3: the session lasts longer than 7 days",
                         "line 4, column notes: longer than 1,000 characters (it has 100,000)")  # fmt: skip
    assert "line 2" not in text
    assert db_rows(bot, "SELECT count(*) FROM agenda_imports") == [(0,)]  # all or nothing: no preview kept
    assert db_rows(bot, "SELECT count(*) FROM sessions") == [(0,)]


async def test_typed_mentions_in_a_session_ping_nobody_but_the_groups_role(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    c = make_coalition(fake)
    fake.update_role(c.guild, c.guild.roles[c.guild.bot_role_id], permissions=DEFAULT_BOT | MANAGE_ROLES)
    bot = BotProcess(fake, tmp_path, groups={"manage_roles": True})
    await bot.start()
    try:
        await (await fake.slash(c.guild, c.coco, "wg create", name="Roadmap")).response()
        await eventually(lambda: db_rows(bot, "SELECT role_id FROM groups")[0][0], what="group role")
        role_id = db_rows(bot, "SELECT role_id FROM groups")[0][0]
        loud = f"<@{c.alice.id}> @everyone <@&{c.coordinator_role.id}> @here"
        ten = ",".join(f"{n}s" for n in range(5, 15))
        itx = await fake.slash(c.guild, c.coco, "agenda add", title=f"Call {loud}", start=soon(20), group="Roadmap",
                               reminders=ten + ",15s", options={"moderators": loud, "location": loud})  # fmt: skip
        await refused(itx, "at most 10 reminders before its start; 11 were given")
        itx = await fake.slash(c.guild, c.coco, "agenda add", title=f"Call {loud}", start=soon(20), group="Roadmap",
                               reminders=ten, options={"moderators": loud, "location": loud})  # fmt: skip
        await itx.response()
        assert itx.message is not None and itx.message.pings() == set()  # the card: mentions shown, not sent
        assert db_rows(bot, "SELECT offsets FROM sessions") == [(str(list(range(14, 4, -1))),)]
        await eventually(lambda: any("Reminder:" in m.text for m in fake.messages(c.general)), timeout=20,
                         what="reminder")  # fmt: skip
        reminder = next(m for m in fake.messages(c.general) if "Reminder:" in m.text)
        assert loud in reminder.text and reminder.pings() == {role_id}  # the group's role, nobody else
    finally:
        assert await bot.stop() == 0
