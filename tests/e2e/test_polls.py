"""/poll end to end: buttons and menus, ballot changes, hidden results, group and role limits, anonymity,
closing by deadline and by command, nudges, CSV, restarts, a burst of 1,000 votes, refusals."""

from __future__ import annotations

import asyncio
import csv
import io
import stat
import time
from pathlib import Path

from tests import engines
from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import FakeDiscord, FakeMessage, InteractionFailed
from tests.e2e.harness import BotProcess
from tests.e2e.helpers import button, db_rows, refused

PNG = b"\x89PNG\r\n\x1a\n"
POLL_TABLES = ("polls", "poll_options", "poll_counts", "poll_votes", "poll_secret_ballots")


def snapshot(bot: BotProcess) -> list[tuple]:
    return [
        (t, *r)
        for t in (*POLL_TABLES, "scheduled_posts")
        for r in db_rows(bot, f"SELECT * FROM {t} ORDER BY 1, 2")
    ]


async def vote(fake: FakeDiscord, message: FakeMessage, label: str, member) -> str:
    itx = await fake.click(message, button(message, label), member)
    await itx.response()
    assert itx.ephemeral, itx.text
    return itx.text


async def create(fake: FakeDiscord, guild, member, **options) -> FakeMessage:
    # "options" is also a keyword of slash() itself, so every option goes in the options= mapping
    itx = await fake.slash(guild, member, "poll create", options=options)
    await itx.response()
    assert not itx.ephemeral and itx.message is not None, itx.text
    return itx.message


def closing_posts(fake: FakeDiscord, channel, number: int) -> list[FakeMessage]:
    return [m for m in fake.messages(channel) if f"Poll #{number} has closed" in m.text]


def check_closing_post(post: FakeMessage, poll_message: FakeMessage) -> None:
    assert post.attachments and post.attachments[0].filename.endswith(".png")
    assert post.attachments[0].data.startswith(PNG)
    assert post.message_reference is not None and int(post.message_reference["message_id"]) == poll_message.id
    assert post.pings() == set() and "█" in post.text


async def test_single_choice_by_buttons_results_csv_and_close_by_command(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    msg = await create(
        fake, c.guild, c.alice, question="Where do we meet? @everyone", options="Geneva; Nairobi; Kyoto"
    )
    assert "Poll #1 · Open" in msg.text and "Where do we meet? @everyone" in msg.text and msg.pings() == set()
    assert "<t:" in msg.text and ":R>" in msg.text and ":F>" in msg.text and "Ballots\n0" in msg.text
    assert [label for label, _, _ in msg.buttons()] == ["Geneva", "Nairobi", "Kyoto"]
    assert all(cid.startswith("poll:vote:v1:") for _, cid, _ in msg.buttons())

    assert "Your ballot on Poll #1: **Geneva**." in await vote(fake, msg, "Geneva", c.alice)
    assert "**Nairobi**" in await vote(fake, msg, "Nairobi", c.bob)
    assert "**Nairobi**" in await vote(fake, msg, "Nairobi", c.carol)
    assert "Your ballot on Poll #1: **Kyoto**." in await vote(fake, msg, "Kyoto", c.alice)  # changed
    await eventually(lambda: "Ballots\n3" in msg.text and "**2** · 67%" in msg.text, what="live tally")
    assert "`████░░░░░░░░` **1** · 33%" in msg.text
    assert db_rows(bot, "SELECT user_id, picks FROM poll_votes ORDER BY user_id") == sorted(
        [(c.alice.id, 0b100), (c.bob.id, 0b010), (c.carol.id, 0b010)]
    )

    itx = await fake.slash(c.guild, c.bob, "poll results", poll="1", csv=True)
    await itx.response()
    assert itx.ephemeral and "**2** · 67%" in itx.text and f"<@{c.alice.id}>: Kyoto" in itx.text
    table = list(csv.reader(io.StringIO(itx.message.attachment("poll-1-results.csv").text())))
    assert table[0][:5] == ["poll", "question", "option", "label", "votes"]
    assert [(r[3], r[4]) for r in table[1:]] == [("Geneva", "0"), ("Nairobi", "2"), ("Kyoto", "1")]
    ballots = list(csv.reader(io.StringIO(itx.message.attachment("poll-1-ballots.csv").text())))
    assert sorted((r[1], r[3]) for r in ballots[1:]) == sorted(
        [(str(c.alice.id), "Kyoto"), (str(c.bob.id), "Nairobi"), (str(c.carol.id), "Nairobi")]
    )

    itx = await fake.autocomplete(c.guild, c.bob, "poll results", focused="poll", poll="meet")
    await itx.response()
    assert [ch["value"] for ch in itx.choices] == ["1"]
    itx = await fake.slash(c.guild, c.bob, "poll list")
    await itx.response()
    assert "**#1** open" in itx.text and "3 ballots" in itx.text

    await refused(await fake.slash(c.guild, c.bob, "poll close", poll="1"), "Only the creator of poll #1")
    itx = await fake.slash(c.guild, c.alice, "poll close", poll="#1")
    await itx.final()
    assert itx.ephemeral and "Poll #1 is closed" in itx.text
    post = closing_posts(fake, c.general, 1)[0]
    check_closing_post(post, msg)
    assert "Nairobi" in post.text and "**2** · 67%" in post.text
    await eventually(
        lambda: "Poll #1 · Closed" in msg.text and msg.buttons() == [], what="poll message closed"
    )
    await refused(await fake.slash(c.guild, c.coco, "poll close", poll="1"), "already closed")
    assert len(closing_posts(fake, c.general, 1)) == 1
    assert db_rows(bot, "SELECT state FROM scheduled_posts WHERE kind = 'poll_close'") == [("cancelled",)]


async def test_multiple_choice_buttons_select_menu_and_hidden_results(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    msg = await create(
        fake, c.guild, c.alice, question="Two topics?", options="Access; Rights; Security", choices=2
    )
    assert "up to 2 choices" in msg.text
    assert "**Access**" in await vote(fake, msg, "Access", c.bob)
    assert "**Access**, **Security**" in await vote(fake, msg, "Security", c.bob)
    assert "at most 2 options" in await vote(fake, msg, "Rights", c.bob)  # a third is refused
    assert "Your ballot on Poll #1: **Security**." in await vote(fake, msg, "Access", c.bob)  # toggled off
    await eventually(lambda: "Ballots\n1" in msg.text and "**1** · 100%" in msg.text, what="multi tally")

    options = "; ".join(f"Session {n}" for n in range(1, 9))
    hidden = await create(
        fake, c.guild, c.alice, question="Which sessions?", options=options, choices=3, hide_results=True
    )
    menu = hidden.component(hidden.custom_ids()[0])
    assert hidden.buttons() == [] and menu["type"] == 3 and menu["custom_id"].startswith("poll:pick:v1:")
    assert (menu["min_values"], menu["max_values"], len(menu["options"])) == (1, 3, 8)
    assert "Results are hidden until the poll closes" in hidden.text
    itx = await fake.select(hidden, menu["custom_id"], ["1", "2", "8"], c.bob)
    await itx.response()
    assert itx.ephemeral and "**Session 1**, **Session 2**, **Session 8**" in itx.text
    itx = await fake.select(hidden, menu["custom_id"], ["5"], c.bob)  # the menu replaces the whole ballot
    await itx.response()
    assert "Your ballot on Poll #2: **Session 5**." in itx.text
    itx = await fake.select(hidden, menu["custom_id"], ["5", "6"], c.carol)
    await itx.response()
    await eventually(lambda: "Ballots\n2" in hidden.text, what="ballot count on a hidden poll")
    assert "█" not in hidden.text and "%" not in hidden.text
    assert db_rows(bot, "SELECT position, votes FROM poll_counts WHERE votes > 0 AND poll_id = 2") == [
        (5, 2),
        (6, 1),
    ]

    for member in (c.carol, c.coco):  # nobody sees results before close, coordinators included
        itx = await fake.slash(c.guild, member, "poll results", poll="2", csv=True)
        await itx.response()
        assert itx.ephemeral and "hidden until the poll closes" in itx.text and "No CSV" in itx.text
        assert "█" not in itx.text and itx.message.attachments == []
    await (await fake.slash(c.guild, c.coco, "poll close", poll="2")).final()
    await eventually(
        lambda: "**2** · 100%" in hidden.text and hidden.custom_ids() == [], what="revealed at close"
    )
    itx = await fake.slash(c.guild, c.carol, "poll results", poll="2")
    await itx.response()
    assert "**2** · 100%" in itx.text


async def test_group_and_role_limited_votes_and_nudges(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    c = coalition
    delegates = fake.add_role(c.guild, "Delegates")
    dave = fake.add_member(c.guild, "dave", roles=[delegates])
    fake.set_member_roles(c.guild, c.carol, [delegates])
    await (await fake.slash(c.guild, c.coco, "wg create", name="Principles")).response()
    await (
        await fake.slash(c.guild, c.coco, "wg set-convener", group="Principles", options={"member": c.coco})
    ).response()
    for m in (c.alice, c.bob):
        await (await fake.slash(c.guild, m, "wg join", group="Principles")).response()

    group_poll = await create(
        fake, c.guild, c.alice, question="Adopt the text?", options="Yes; No", group="Principles"
    )
    assert "members of Principles" in group_poll.text
    refusal = await vote(fake, group_poll, "Yes", c.carol)
    assert "Only members of Principles can vote in poll #1" in refusal
    assert "Your ballot" in await vote(fake, group_poll, "Yes", c.alice)
    await refused(await fake.slash(c.guild, c.bob, "poll nudge", poll="1"), "Only the creator of poll #1")
    itx = await fake.slash(c.guild, c.alice, "poll nudge", poll="1")
    await itx.response()
    assert itx.ephemeral and "Nudging 2 members" in itx.text
    nudge = await fake.wait_for_message(
        c.general.id, lambda m: "Reminder from" in m.text and "Poll #1" in m.text
    )
    assert nudge.pings() == {c.bob.id, c.coco.id}  # exactly the group's members who have not voted
    await refused(await fake.slash(c.guild, c.coco, "poll nudge", poll="1"), "less than an hour ago")

    role_poll = await create(
        fake, c.guild, c.coco, question="Delegates only?", options="A; B", role=delegates
    )
    assert f"<@&{delegates.id}>" in role_poll.text and role_poll.pings() == set()
    assert "Only members with the Delegates role can vote in poll #2" in await vote(
        fake, role_poll, "A", c.alice
    )
    assert "Your ballot" in await vote(fake, role_poll, "B", c.carol)
    itx = await fake.slash(c.guild, c.coco, "poll nudge", poll="2")
    await itx.response()
    nudge = await fake.wait_for_message(
        c.general.id, lambda m: "Reminder from" in m.text and "Poll #2" in m.text
    )
    assert nudge.pings() == {dave.id}

    await create(fake, c.guild, c.alice, question="Everyone?", options="A; B")
    await refused(
        await fake.slash(c.guild, c.alice, "poll nudge", poll="3"),
        "Nudging needs a poll limited to a working group or a role",
    )
    assert db_rows(bot, "SELECT number, nudged_at IS NOT NULL FROM polls ORDER BY number") == [
        (1, 1),
        (2, 1),
        (3, 0),
    ]


async def test_anonymous_poll_stores_no_one(fake: FakeDiscord, coalition: Coalition, bot: BotProcess) -> None:
    c = coalition
    msg = await create(
        fake, c.guild, c.coco, question="Endorse the statement?", options="Yes; No; Abstain", anonymous=True
    )
    assert "anonymous: nobody can see who chose what" in msg.text
    assert "stored without your name" in await vote(fake, msg, "Yes", c.alice)
    await vote(fake, msg, "No", c.bob)
    await vote(fake, msg, "No", c.carol)
    assert "Your ballot on Poll #1: **Abstain**." in await vote(
        fake, msg, "Abstain", c.alice
    )  # still changeable
    await eventually(lambda: "Ballots\n3" in msg.text, what="anonymous tally")

    voters = {c.alice.id, c.bob.id, c.carol.id}
    assert db_rows(bot, "SELECT count(*) FROM poll_votes") == [(0,)]
    keys = db_rows(bot, "SELECT voter_key, picks FROM poll_secret_ballots")
    assert len(keys) == 3 and all(len(k) == 32 for k, _ in keys)
    assert sorted(p for _, p in keys) == [0b010, 0b010, 0b100]
    for table in POLL_TABLES:
        for row in db_rows(bot, f"SELECT * FROM {table}"):
            for value in row:
                assert value not in voters and not any(str(v) in str(value) for v in voters), (table, row)
    key_file = Path(str(bot.db_path) + ".key")
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_bytes()
    for table in engines.table_names(bot.db_path):  # the key is in no row of the database
        for row in db_rows(bot, f"SELECT * FROM {table}"):
            assert not any(key in v if isinstance(v, bytes) else key.hex() in str(v) for v in row), table
    if not engines.on_postgres():  # nor anywhere in SQLite's file (free pages included)
        assert key not in bot.db_path.read_bytes()

    itx = await fake.slash(c.guild, c.coco, "poll results", poll="1", csv=True)
    await itx.response()
    assert "**2** · 67%" in itx.text and "Who chose what" not in itx.text
    assert not any(str(v) in itx.text for v in voters)
    assert [a.filename for a in itx.message.attachments] == ["poll-1-results.csv"]  # no ballots file
    exported = itx.message.attachment("poll-1-results.csv").text()
    assert list(csv.reader(io.StringIO(exported)))[2][3:5] == ["No", "2"]
    assert not any(str(v) in exported for v in voters)
    assert not any(str(v) in bot.log() for v in voters)  # no log line names a voter


async def test_closing_by_deadline_across_restarts(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    try:
        on_time = await create(
            fake, c.guild, c.alice, question="Closes on time?", options="Yes; No", duration="6s"
        )
        down = await create(
            fake, c.guild, c.alice, question="Closes while down?", options="Yes; No", duration="8s"
        )
        await vote(fake, on_time, "Yes", c.bob)
        await vote(fake, down, "No", c.bob)
        started = time.monotonic()

        await bot.restart()  # before either deadline
        assert "Your ballot on Poll #1: **No**." in await vote(
            fake, on_time, "No", c.carol
        )  # old buttons work
        await eventually(lambda: closing_posts(fake, c.general, 1), timeout=10, what="close at the deadline")
        post = closing_posts(fake, c.general, 1)[0]
        assert time.monotonic() - started < 8.5 and "offline" not in post.text
        check_closing_post(post, on_time)
        await eventually(lambda: "Poll #1 · Closed" in on_time.text, what="poll 1 message closed")

        assert await bot.stop() == 0  # down across poll 2's deadline
        await asyncio.sleep(max(0.0, started + 8.5 - time.monotonic()))
        await bot.start()
        await eventually(lambda: closing_posts(fake, c.general, 2), timeout=10, what="close at start-up")
        post = closing_posts(fake, c.general, 2)[0]
        assert "offline at the deadline" in post.text
        check_closing_post(post, down)
        await eventually(
            lambda: "Poll #2 · Closed" in down.text and down.buttons() == [], what="poll 2 closed"
        )

        await bot.restart()
        await asyncio.sleep(1.0)
        assert len(closing_posts(fake, c.general, 1)) == 1 and len(closing_posts(fake, c.general, 2)) == 1
        assert db_rows(bot, "SELECT state, late FROM scheduled_posts ORDER BY ref_id") == [
            ("sent", 0),
            ("sent", 1),
        ]
        assert db_rows(bot, "SELECT closed_at = closes_at, closed_by FROM polls ORDER BY number") == [
            (1, None),
            (1, None),
        ]
        stale = await fake.click(down, "poll:vote:v1:2:1", c.carol, check=False, inject=True)
        await refused(stale, "Poll #2 is closed")
    finally:
        if bot.process is not None and bot.process.returncode is None:
            assert await bot.stop() == 0
    assert "Traceback" not in bot.log()


async def test_burst_of_1000_votes(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    crowd = [fake.add_member(c.guild, f"voter{n}") for n in range(1000)]
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    try:
        msg = await create(fake, c.guild, c.alice, question="Burst?", options="A; B; C; D")
        ids = [cid for _, cid, _ in msg.buttons()]
        clicks = await asyncio.gather(*(fake.click(msg, ids[n % 4], m) for n, m in enumerate(crowd)))
        results = await asyncio.gather(*(i.response(timeout=3.0) for i in clicks), return_exceptions=True)
        failed = [r for r in results if isinstance(r, InteractionFailed)]
        assert not failed, f"{len(failed)} clicks not acknowledged within 3 s"
        assert all("Your ballot" in i.text for i in clicks)
        assert db_rows(bot, "SELECT position, votes FROM poll_counts ORDER BY position") == [
            (1, 250), (2, 250), (3, 250), (4, 250),
        ]  # fmt: skip
        assert db_rows(bot, "SELECT count(*), count(DISTINCT user_id) FROM poll_votes") == [(1000, 1000)]
        assert db_rows(bot, "SELECT ballots FROM polls") == [(1000,)]
        await eventually(
            lambda: "Ballots\n1000" in msg.text and "**250** · 25%" in msg.text, timeout=10, what="final"
        )
        latencies = sorted(i.ack_latency for i in clicks if i.ack_latency is not None)
        edits = fake.message_edits[msg.id]
        print(
            f"\n1000-vote burst: ack p50 {latencies[499]:.3f}s p99 {latencies[989]:.3f}s max {latencies[-1]:.3f}s; "
            f"{edits} message edits"
        )
        assert edits < 30
    finally:
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log()


async def test_refusals_change_nothing(fake: FakeDiscord, coalition: Coalition, bot: BotProcess) -> None:
    c = coalition
    other = make_coalition(fake, "Other")
    msg = await create(fake, c.guild, c.alice, question="Ours?", options="Yes; No")
    closed = await create(fake, c.guild, c.alice, question="Closed?", options="Yes; No")
    await (await fake.slash(c.guild, c.alice, "poll close", poll="2")).final()
    await create(fake, other.guild, other.alice, question="Theirs?", options="A; B; C")
    await eventually(
        lambda: not db_rows(bot, "SELECT 1 FROM polls WHERE message_id IS NULL"), what="messages noted"
    )
    await eventually(lambda: closed.buttons() == [], what="closed poll message")
    before = snapshot(bot)

    many = "; ".join(f"o{n}" for n in range(26))
    cases = [
        ({"question": "Q?", "options": "Only one"}, "at least 2 options"),
        ({"question": "Q?", "options": many}, "at most 25 options; this one has 26"),
        ({"question": "Q?", "options": "Yes; No; YES"}, "Options 1 and 3 are the same"),
        ({"question": "q" * 301, "options": "A; B"}, "at most 300 characters; this one has 301"),
        ({"question": "Q?", "options": "A; " + "b" * 81}, "option 2 has 81"),
        ({"question": "Q?", "options": "A; B", "duration": "0m"}, "must run for some time"),
        ({"question": "Q?", "options": "A; B", "duration": "-2h"}, "can't be negative"),
        ({"question": "Q?", "options": "A; B", "closes": "2020-01-01 10:00"}, "in the past"),
        ({"question": "Q?", "options": "A; B", "duration": "91d"}, "at most 90 days"),
        ({"question": "Q?", "options": "A; B", "choices": 3}, "from 1 to 2"),
        ({"question": "Q?", "options": "A; B", "group": "Nope"}, "no working group"),
    ]
    for options, fragment in cases:
        await refused(
            await fake.slash(c.guild, c.alice, "poll create", client_checks=False, options=options), fragment
        )
    await refused(await fake.slash(c.guild, c.bob, "poll close", poll="1"), "Only the creator of poll #1")
    await refused(await fake.slash(c.guild, c.alice, "poll results", poll="9"), "no poll #9")
    await refused(await fake.slash(other.guild, other.coco, "poll close", poll="2"), "no poll #2")
    # voting on a closed poll (a stale message still showing its buttons)
    await refused(
        await fake.click(closed, "poll:vote:v1:2:1", c.bob, check=False, inject=True), "Poll #2 is closed"
    )
    # forged custom_ids: another server's poll, an option the poll does not have, a malformed menu value
    their_id = db_rows(bot, "SELECT poll_id FROM polls WHERE guild_id = ?", (other.guild.id,))[0][0]
    forged = await fake.click(msg, f"poll:vote:v1:{their_id}:1", c.alice, check=False, inject=True)
    await refused(forged, "does not exist on this server")
    await refused(
        await fake.click(msg, "poll:vote:v1:1:7", c.alice, check=False, inject=True), "not on poll #1"
    )
    assert snapshot(bot) == before


async def test_a_poll_speaks_its_groups_language_and_answers_each_voter_in_theirs(
    fake: FakeDiscord, coalition: Coalition, bot: BotProcess
) -> None:
    # The group chose Arabic: the card and the closing post read Arabic (each value wrapped in Unicode
    # isolates); Alice chose Arabic and is answered in it, Bob's client is English, then French.
    fsi, pdi = "\u2068", "\u2069"
    c = coalition
    await (await fake.slash(c.guild, c.coco, "wg create", name="Venue")).response()
    for m in (c.alice, c.bob):
        await (await fake.slash(c.guild, m, "wg join", group="Venue")).response()
    await (await fake.slash(c.guild, c.coco, "wg language", group="Venue", language="ar")).response()
    await (await fake.slash(c.guild, c.alice, "language set", language="ar")).response()

    msg = await create(fake, c.guild, c.coco, question="Where?", options="Geneva; Nairobi", group="Venue")
    assert msg.text.startswith(f"الاستطلاع #{fsi}1{pdi} · مفتوح")  # "Poll #1 · open": the group's Arabic
    assert [label for label, _, _ in msg.buttons()] == ["Geneva", "Nairobi"]
    assert await vote(fake, msg, "Geneva", c.bob) == "Your ballot on Poll #1: **Geneva**."  # his client's
    said = await vote(fake, msg, "Nairobi", c.alice)  # her own choice: "Your ballot on Poll #1: **Nairobi**."
    assert said == f"صوتك في {fsi}الاستطلاع #{fsi}1{pdi}{pdi}: {fsi}**Nairobi**{pdi}."

    itx = await fake.slash(c.guild, c.bob, "poll results", poll="1", locale="fr")
    await itx.response()
    assert itx.ephemeral and "Sondage #1 · résultats (en cours)" in itx.text and fsi not in itx.text
    itx = await fake.slash(c.guild, c.coco, "poll close", poll="1")
    await itx.response()
    said = (await itx.final()).text
    assert said.startswith("Poll #1 is closed; the result is posted") and fsi not in said
    closed = f"أُغلق {fsi}الاستطلاع #{fsi}1{pdi}{pdi}."  # "Poll #1 has closed.": the group's language
    posts = [m for m in fake.messages(c.general) if closed in m.text]
    assert len(posts) == 1
    assert posts[0].attachments and posts[0].attachments[0].data.startswith(PNG)
