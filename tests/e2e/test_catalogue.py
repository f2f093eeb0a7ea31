"""The bad-input catalogue: every slash command and option the bot registers, every autocomplete, every
attachment option and every button template, fed what a member or a modified client can send: empty and
over-long text, control characters, lone surrogates, zero-width and combining floods, digits other than 0-9,
dates at the calendar's edges, huge durations and numbers, other servers' names and numbers, bad files and
forged ids. Nothing may reach the member as an internal error, and a command added later is covered without
touching this file.

Typed options are of two kinds, told apart by the registered schema alone:
- free text, a string option with a ``max_length`` (titles, texts, notes): any visible text is a fine value.
  What must be refused is strict (over-long, a flood of combining marks past the limit, nothing visible when
  the option is required); the rest ("١٢", "9999-12-31 23:59"…) may be accepted, and is tried last.
- everything else (references, times, durations, zones, option lists, numbers): every case is strict.
A strict case gets one clear ephemeral sentence within Discord's 3 s, and the database is unchanged.
A case that may be accepted must still be answered within 3 s, never as an internal error, and nothing the
database holds afterwards may contain a control, format or lone surrogate character.

The other options of each call get valid values (this server's own group, point, poll and session, a future
start, a readable file), so that a refusal comes from the option under test. Last come the values a poll's
menu and a reason form take, and a coordinator whose nickname holds overrides and zero-width characters acts,
so that the names the bot stores are checked too. The whole sweep (about 1,600 interactions) takes seconds.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import discord

import cogs
from tests import engines
from tests.e2e.conftest import Coalition, eventually, make_coalition
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_discord.models import walk_components
from tests.e2e.harness import BotProcess

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = range(3, 12)
REFERENCES = {
    "group",
    "item",
    "poll",
    "session",
    "org",
    "statement",
    "organisation",
}  # naming this server's things
SKIP_TABLES = {"bot_state"}  # each engine's own tables are not listed (engines.table_names)

SURROGATE = "\ud800"  # JSON carries it as "\ud800"; discord.py decodes it; UTF-8 (and SQLite) cannot hold it
ZERO_WIDTH = "\u200b\u200d\u2060\ufeff" * 1000  # 4,000 invisible characters
OTHER_DIGITS = ["١٢", "１２", "²"]  # Arabic-Indic and full-width twelve, a superscript two
EDGES = ["9999-12-31 23:59", "0000-01-01 00:00"]
NUMBERS_AS_TEXT = ["99999999w", "1e9", "-1"]


def combining_flood(limit: int) -> str:
    """Visible letters, each under a stack of combining marks: longer than ``limit`` however it is counted."""
    return ("a" + "\u0316\u0317\u0318\u0319") * (limit // 4 + 10)


def strict_text_cases(option: dict[str, Any]) -> list[Any]:
    """What every string option must refuse."""
    cases: list[Any] = ["x" * 6001]
    if option.get("max_length"):
        cases.append(combining_flood(option["max_length"]))
    if option.get("required"):
        cases += ["", "\u0000\u202e", ZERO_WIDTH, SURROGATE]
    return cases


def typed_cases(option: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """(strict, maybe accepted) cases for a string or integer option."""
    if option["type"] in (INTEGER, NUMBER):
        return [-(2**53), 2**53, -1, 10**9], []
    strict = strict_text_cases(option)
    odd = [*OTHER_DIGITS, *EDGES, *NUMBERS_AS_TEXT, f"ok{SURROGATE}", "\u202eok\u202c", "ok" + ZERO_WIDTH]
    # a lone surrogate is dropped on arrival: alone in an optional option, it is as if nothing was given
    absent = [] if option.get("required") else [SURROGATE]
    if option.get("max_length"):
        return strict, odd + absent + ([] if option.get("required") else [ZERO_WIDTH])  # free text
    strict += [c for c in odd if c not in strict]
    if not option.get("required"):
        strict.append(ZERO_WIDTH)
    if option["name"] in REFERENCES:
        strict += ["Theirs", "#2", "2", "9" * 30, "#" + "9" * 19]
    return strict, absent


ATTACHMENT_CASES: list[tuple[str, bytes]] = [
    ("big.csv", b"start,end,title\n" + b"x" * 1_000_001),  # 1 MB and more
    ("garbage.bin", bytes(range(256)) * 64),
    ("garbage.csv", bytes(range(256)) * 64),
    ("garbage.ics", b"BEGIN:VCALENDAR\r\n" + bytes(range(256)) * 64),
    ("latin1.md", "Time | Session\n09:00-10:00 | Café\n".encode("latin-1")),
    ("week.csv", b"start,end,title\n2031-03-03 09:00,2031-03-10 09:01,Seven days and a minute\n"),
    ("cell.csv", b"start,end,title,notes\n2031-03-03 09:00,2031-03-03 10:00,Huge," + b"n" * 100_000 + b"\n"),
    ("field.csv", b"start,end,title\n2031-03-03 09:00,2031-03-03 10:00," + b"t" * 200_000 + b"\n"),
    ("rows.csv", b"start,end,title\n" + b"2031-03-03 09:00,2031-03-03 10:00,Slot\n" * 101),
    ("nul.csv", b"start,end,title\n2031-03-03 09:00,2031-03-03 10:00,\x00\n"),
    ("bom.md", b"\xef\xbb\xbf"),
    ("empty.csv", b""),
    ("digits.md", "Time | Session\n٠٩:٠٠-١٠:٠٠ | Opening\n".encode()),
    ("notimes.md", b"Time | Session\nOpening | Hall\nLunch | Hall\n"),
    (
        "weekly.ics",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:Weekly\r\nDTSTART:20310303T090000Z\r\n"
        b"RRULE:FREQ=SOMETIMES;COUNT=-1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    ),
    (
        "many.ics",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        + b"".join(
            b"BEGIN:VEVENT\r\nUID:%d\r\nSUMMARY:S\r\nDTSTART:20310303T090000Z\r\nEND:VEVENT\r\n" % n
            for n in range(3000)
        )
        + b"END:VCALENDAR\r\n",
    ),
    ("past.csv", b"start,end,title\n2001-01-01 09:00,2001-01-01 10:00,Gone\n"),
    ("far.csv", b"start,end,title\n9999-12-31 22:00,9999-12-31 23:00,Far\n"),
]
VALID_FILE = ("day.csv", b"start,end,title\n2031-03-03 09:00,2031-03-03 10:00,Imported\n")
# Attachments that are fine for an option, though bad for a timetable: a statement's text may well be a table.
ACCEPTED_FILES = {("statement edit", "file"): {"digits.md", "notimes.md"}}


def leaves(commands: list[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(path, options) of every invocable command."""
    for top in commands:
        subs = [o for o in top.get("options", []) if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]
        if not subs:
            yield top["name"], top.get("options", [])
        for sub in subs:
            if sub["type"] == SUB_COMMAND:
                yield f"{top['name']} {sub['name']}", sub.get("options", [])
            else:
                for leaf in sub.get("options", []):
                    yield f"{top['name']} {sub['name']} {leaf['name']}", leaf.get("options", [])


VALID_TEXT = {
    "group": "Ours", "item": "#1", "poll": "#1", "session": "#1", "options": "Yes; No",
    "start": "2031-03-03 10:00", "end": "2031-03-03 11:00", "due": "2031-03-03", "closes": "2031-03-03 10:00",
    "deadline": "3d", "duration": "1h", "zone": "UTC", "day": "2031-03-03", "until": "2031-06-01",
    "reminders": "1h", "statement": "#1",
}  # fmt: skip


def valid(option: dict[str, Any], c: Coalition) -> Any:
    """A value the command accepts, so that the option under test is what a refusal is about."""
    if option.get("choices"):
        return option["choices"][0]["value"]
    kind = option["type"]
    if kind == STRING:
        return VALID_TEXT.get(option["name"], "Valid text")
    if kind in (INTEGER, NUMBER):
        return option.get("min_value", 1)
    return {BOOLEAN: False, USER: c.alice, MENTIONABLE: c.alice, CHANNEL: c.general, ROLE: c.coordinator_role,
            ATTACHMENT: VALID_FILE}[kind]  # fmt: skip


def posts_in_flight(db: Path) -> bool:
    """Whether a scheduled post is being sent, or due and about to be."""
    return bool(engines.raw_rows(db, "SELECT count(*) FROM scheduled_posts WHERE state = 'claimed' "
                                 "OR (state = 'pending' AND due_at <= ?)", (int(time.time()),))[0][0])  # fmt: skip


def snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    state = {}
    tables = engines.columns_of(db)
    with engines.closing_raw(db) as raw:
        for table, all_columns in tables.items():
            if table in SKIP_TABLES:
                continue
            columns = [c for c in all_columns if c != "seen_at"]
            order = ", ".join(str(n) for n in range(1, len(columns) + 1))  # every column: ties in no order
            listed = ", ".join(f'"{c}"' for c in columns)
            state[table] = raw.rows(f"SELECT {listed} FROM {table} ORDER BY {order}")  # noqa: S608
    return state


def db_messages(db: Path, table: str) -> list[int | None]:
    """The message id noted for each row of ``table``."""
    return [r[0] for r in engines.raw_rows(db, f"SELECT message_id FROM {table}")]  # noqa: S608


def unclean(state: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    """Stored texts holding a control, format or surrogate character (apart from line breaks, tabs and a
    joiner between two visible characters)."""
    found = []
    for table, rows in state.items():
        for row in rows:
            for value in row:
                if not isinstance(value, str):
                    continue
                for n, ch in enumerate(value):
                    category = unicodedata.category(ch)
                    joiner = (
                        ch in "\u200c\u200d" and 0 < n < len(value) - 1 and value[n + 1] not in "\u200c\u200d"
                    )
                    if category in ("Cc", "Cf", "Cs") and ch not in "\n\t" and not joiner:
                        found.append(f"{table}: {value[:40]!r} holds U+{ord(ch):04X}")
                        break
    return found


async def answer_text(itx: Any) -> str:
    await itx.response(timeout=3.0)  # acknowledged in time, or this raises InteractionFailed
    if itx.type == 8:  # autocomplete never happens here
        return ""
    message = await itx.final(timeout=10)
    if itx.followups:
        message = itx.followups[-1]
    return message.text


def dynamic_templates() -> list[str]:
    for module in pkgutil.walk_packages(cogs.__path__, "cogs."):
        importlib.import_module(module.name)
    found, stack = [], list(discord.ui.DynamicItem.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("cogs."):
            found.append(cls.__discord_ui_compiled_template__.pattern)  # type: ignore[attr-defined]
    return found


def forge(pattern: str, number: str) -> list[str]:
    """custom_ids matching a template, with every id replaced by ``number`` and each alternative tried."""
    groups = re.findall(r"\(\?P<(\w+)>([^)]*)\)", pattern)
    variants = [pattern]
    for _, body in groups:
        choices = body.split("|") if re.fullmatch(r"[a-z_|]+", body) else [number]
        variants = [v.replace(f"(?P<{_}>{body})", choice, 1) for v in variants for choice in choices]
    return [v.replace("\\", "") for v in variants]


async def setup_servers(fake: FakeDiscord, c: Coalition, other: Coalition) -> None:
    """Two of everything in the other server (so #2 and ids 1-2 are theirs), one of everything here."""
    for server, who, count in ((other, other.coco, 2), (c, c.coco, 1)):
        for n in range(count):
            name = ("Theirs" if server is other else "Ours") + (" too" if n else "")
            steps = [
                ("wg create", {"name": name}),
                ("consensus propose", {"kind": "point", "text": f"{name}: a point"}),
                ("poll create", {"options": {"question": f"{name}?", "options": "a; b"}}),
                ("agenda add", {"title": name, "start": "2031-01-01 10:00"}),
                (
                    "org register",
                    {"name": name, "country": "FR", "region": "weog", "stakeholder": "civil_society"},
                ),
                ("org verify", {"org": name}),
                ("statement draft", {"title": name}),
            ]
            for path, values in steps:
                itx = await fake.slash(server.guild, who, path, **values)
                await itx.response()
                # a registration and a draft are the member's own (ephemeral); the rest is shared
                assert itx.ephemeral == (path in ("org register", "statement draft")), (path, itx.text)
                assert "Something went wrong" not in itx.text, (path, itx.text)


async def test_every_command_and_button_refuses_bad_input(fake: FakeDiscord, tmp_path: Path) -> None:
    c = make_coalition(fake)
    other = make_coalition(fake, "Other coalition")
    # a coordinator whose nickname holds an override, a NUL-free zero-width flood and joiners at its edges
    odd = fake.add_member(
        c.guild, "oddnick", roles=[c.coordinator_role], nick="\u202eMal\u200b\u200blory\u200d"
    )
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    try:
        await setup_servers(fake, c, other)
        card = next(
            m for m in fake.messages(c.general) if m.custom_ids() and m.custom_ids()[0].startswith("wg:")
        )

        # the cards are noted just after they are posted: let that settle before taking the snapshot
        def noted() -> bool:
            state = snapshot(bot.db_path)
            messages = [r for table in ("polls", "items") for r in db_messages(bot.db_path, table)]
            return len(state["group_cards"]) == 3 and len(messages) == 6 and None not in messages

        await eventually(noted, what="cards, polls and points noted")

        schema = fake.commands()
        paths = list(leaves(schema))
        assert len(paths) >= 30, [p for p, _ in paths]
        started = time.monotonic()
        strict = lenient = 0
        maybe: list[tuple[str, list[dict[str, Any]], dict[str, Any], Any]] = []
        before = snapshot(bot.db_path)

        async def refuses(
            path: str, options: list[dict[str, Any]], values: dict[str, Any], where: str
        ) -> None:
            itx = await fake.slash(c.guild, c.coco, path, client_checks=False, options=values)
            text = await answer_text(itx)
            assert "Something went wrong" not in text, f"{where}: {text}"
            assert text.strip(), f"{where}: empty answer"
            after = snapshot(bot.db_path)
            assert after == before, f"{where} changed the database: {text}"
            assert itx.ephemeral or (itx.followups and itx.followups[-1].ephemeral), f"{where}: public {text}"

        for path, options in paths:
            required = {o["name"]: valid(o, c) for o in options if o.get("required")}
            for option in options:
                if option["type"] == ATTACHMENT:
                    fine = ACCEPTED_FILES.get((path, option["name"]), set())
                    for filename, data in ATTACHMENT_CASES:
                        values = {**required, option["name"]: (filename, data)}
                        if filename in fine:
                            maybe.append((path, options, values, option["name"]))
                            continue
                        await refuses(path, options, values, f"/{path} {option['name']}={filename}")
                        strict += 1
                    continue
                if option["type"] not in (STRING, INTEGER, NUMBER):
                    continue
                must_refuse, may_accept = typed_cases(option)
                for bad in must_refuse:
                    values = {**required, option["name"]: bad}
                    await refuses(path, options, values, f"/{path} {option['name']}={str(bad)[:20]!r}")
                    strict += 1
                maybe += [
                    (path, options, {**required, option["name"]: bad}, option["name"]) for bad in may_accept
                ]

        # autocomplete: whatever is typed, a list (maybe empty) comes back in time, and no traceback is logged
        for path, options in paths:
            for option in options:
                if not option.get("autocomplete"):
                    continue
                for typed in ["", "x" * 6001, *OTHER_DIGITS, "#" + "9" * 30, "%_\\", SURROGATE, ZERO_WIDTH]:
                    itx = await fake.autocomplete(c.guild, c.coco, path, focused=option["name"],
                                                  options={option["name"]: typed})  # fmt: skip
                    await itx.response(timeout=3.0)
                    assert itx.type == 8, f"/{path} {option['name']} autocomplete: type {itx.type}"
                    strict += 1

        for pattern in dynamic_templates():
            for number in ("424242424242", "1", "9" * 18, "9" * 19, "١"):
                # an id its template refuses never reaches the bot's code (no handler matches it)
                for forged in (f for f in forge(pattern, number) if re.fullmatch(pattern, f)):
                    itx = await fake.click(card, forged, c.alice, check=False, inject=True)
                    text = await answer_text(itx)
                    assert "Something went wrong" not in text, f"{forged}: {text}"
                    assert snapshot(bot.db_path) == before, f"{forged} changed the database"
                    strict += 1
        assert snapshot(bot.db_path) == before

        # last, free text that may well be accepted: never an internal error, never stored uncleaned
        for path, _, values, name in maybe:
            itx = await fake.slash(c.guild, odd, path, client_checks=False, options=values)
            text = await answer_text(itx)
            where = f"/{path} {name}={str(values[name])[:20]!r}"
            assert "Something went wrong" not in text, f"{where}: {text}"
            assert text.strip() or itx.message is not None, f"{where}: empty answer"
            lenient += 1
        # modals (a reason for an objection or block) and menus take typed values too
        poll = await fake.slash(
            c.guild, c.coco, "poll create", options={"question": "Menu?", "options": "a;b;c;d;e;f"}
        )
        await poll.response()
        point = await fake.slash(c.guild, c.coco, "consensus propose", kind="point", text="Modal point")
        await point.response()

        def attached() -> bool:  # both messages are noted just after they are posted
            return poll.message.id in db_messages(bot.db_path, "polls") and point.message.id in db_messages(
                bot.db_path, "items"
            )

        await eventually(attached, what="poll and point messages noted")
        # what the free text above created may have posts going out now (a statement opened): let them
        await eventually(lambda: not posts_in_flight(bot.db_path), timeout=15, what="scheduled posts sent")
        now = snapshot(bot.db_path)
        menu = poll.message.custom_ids()[0]
        for values in (["²"], ["١"], ["99"], ["-1"], [""], ["1", "2"], ["9" * 30], []):
            itx = await fake.select(poll.message, menu, values, c.alice, check=False)
            text = await answer_text(itx)
            assert "Something went wrong" not in text and itx.ephemeral, f"menu {values}: {text}"
            assert snapshot(bot.db_path) == now, f"menu {values} changed the database"
            strict += 1
        for custom_id in point.message.custom_ids():
            opened = await fake.click(point.message, custom_id, c.alice)
            await opened.response(timeout=3.0)
            if opened.type != 9:
                continue
            now = snapshot(bot.db_path)
            for field in (f for f in walk_components(opened.modal["components"]) if f.get("type") == 4):
                limit = field.get("max_length", 4000)
                for bad in ["", "\u0000\u202e", ZERO_WIDTH, SURROGATE, "x" * 6001, combining_flood(limit)]:
                    itx = await fake.submit_modal(opened, c.alice, {field["custom_id"]: bad}, check=False)
                    text = await answer_text(itx)
                    where = f"modal {opened.modal['custom_id']} {field['custom_id']}={bad[:20]!r}"
                    assert "Something went wrong" not in text and itx.ephemeral, f"{where}: {text}"
                    assert snapshot(bot.db_path) == now, f"{where} changed the database: {text}"
                    strict += 1
        stored = snapshot(bot.db_path)
        assert unclean(stored) == [], unclean(stored)[:5]
        assert ("oddnick" not in str(stored["members"])) and "Mallory" in str(stored["members"])

        elapsed = time.monotonic() - started
        print(f"\nbad-input catalogue: {len(paths)} commands, {strict} refusals and {lenient} odd but possible "
              f"values checked in {elapsed:.0f} s")  # fmt: skip
        assert "Traceback" not in bot.log()
        assert fake.unhandled == []
    finally:
        assert await bot.stop() == 0


#: English function words that never appear in a French sentence (the bad values below hold none of them).
ENGLISH_WORDS = (" the ", " is ", " you ", " not ", " must ", " can't ", " with ")


def english_left(text: str) -> list[str]:
    """The English function words in what the bot said (mentions, times, code and command names set aside)."""
    said = re.sub(r"<[@#&:t][^>]*>|`[^`]*`|/[a-z]+(?: [a-z-]+)?", " ", text)
    said = re.sub(r"[*_()\[\]·—:;,.!?«»“”\s]+", " ", f" {said.lower()} ")
    return [word.strip() for word in ENGLISH_WORDS if word in said]


def one_bad_value(option: dict[str, Any]) -> Any:
    """One value of the option's kind that must be refused: over-long free text, another server's reference,
    digits other than 0-9, a huge number, a binary file."""
    if option["type"] == ATTACHMENT:
        return ATTACHMENT_CASES[1]
    if option["type"] in (INTEGER, NUMBER):
        return 10**9
    if option.get("max_length"):
        return "x" * 6001
    return "#2" if option["name"] in REFERENCES else OTHER_DIGITS[0]


async def test_refusals_speak_french(fake: FakeDiscord, tmp_path: Path) -> None:
    """The catalogue's refusals in another language: every command once with one bad value per kind of
    option, and every button template once, each from a French client (``locale="fr"``): a clear sentence
    with no English left in it, never an internal error, and nothing changes."""
    assert english_left("The reason is empty; write something.") == ["the", "is"]  # the check can fail
    c = make_coalition(fake)
    other = make_coalition(fake, "Other coalition")
    bot = BotProcess(fake, tmp_path)
    await bot.start()
    try:
        await setup_servers(fake, c, other)
        card = next(
            m for m in fake.messages(c.general) if m.custom_ids() and m.custom_ids()[0].startswith("wg:")
        )

        def noted() -> bool:
            messages = [r for table in ("polls", "items") for r in db_messages(bot.db_path, table)]
            return len(snapshot(bot.db_path)["group_cards"]) == 3 and None not in messages

        await eventually(noted, what="cards, polls and points noted")
        before = snapshot(bot.db_path)
        checked = 0

        def french(text: str, where: str) -> None:
            assert text.strip(), f"{where}: empty answer"
            assert "Something went wrong" not in text, f"{where}: {text}"
            assert english_left(text) == [], f"{where}: English left {english_left(text)} in {text}"

        for path, options in leaves(fake.commands()):
            required = {o["name"]: valid(o, c) for o in options if o.get("required")}
            kinds: dict[tuple[int, bool, bool], dict[str, Any]] = {}
            for option in options:  # one option of each kind: free text, reference, other text, number, file
                if option["type"] in (STRING, INTEGER, NUMBER, ATTACHMENT):
                    kind = (option["type"], bool(option.get("max_length")), option["name"] in REFERENCES)
                    kinds.setdefault(kind, option)
            for option in kinds.values():
                values = {**required, option["name"]: one_bad_value(option)}
                itx = await fake.slash(
                    c.guild, c.coco, path, client_checks=False, options=values, locale="fr"
                )
                french(await answer_text(itx), f"/{path} {option['name']}")
                checked += 1
        for pattern in dynamic_templates():
            # one id of each template (an id its template refuses never reaches the bot's code)
            forged = next(
                f for n in ("424242424242", "1") for f in forge(pattern, n) if re.fullmatch(pattern, f)
            )
            itx = await fake.click(card, forged, c.alice, check=False, inject=True, locale="fr")
            french(await answer_text(itx), forged)
            checked += 1
        assert snapshot(bot.db_path) == before
        assert checked >= 60, checked
        assert "Traceback" not in bot.log()
    finally:
        assert await bot.stop() == 0
