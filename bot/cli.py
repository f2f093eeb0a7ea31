"""The `caucus` command line: run, check-config, backup, export, signatories, verify, migrate-db."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Iterable, Sequence

from bot import __version__
from bot.config import Config, ConfigError, load_config
from domain.i18n import LANGUAGES
from storage.db import masked_url

#: The language of an export's Markdown and HTML (CSV and JSON are data, the same in every language).
LANGUAGE_HELP = (
    "the language of Markdown and HTML (default: the working group's, if it has one, else [i18n] language)"
)

log = logging.getLogger("caucus")

EXIT_CONFIG = 2


def _fail(lines: Sequence[str]) -> int:
    for line in lines:
        print(f"caucus: {line}", file=sys.stderr)
    return EXIT_CONFIG


def _load(path: str | None) -> Config | None:
    try:
        return load_config(path)
    except ConfigError as exc:
        _fail(exc.problems)
        return None


async def _run_bot(config: Config) -> int:
    import sqlite3

    import discord

    from bot.client import make_bot
    from storage.db import MigrationError
    from storage.polls import BallotKeyError
    from storage.record import RecordKeyError

    bot = make_bot(config)
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []

    def stop(signame: str) -> None:
        if not stopping:
            log.info("received %s: shutting down", signame)
            stopping.append(loop.create_task(bot.close()))

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig.name)
    try:
        await bot.open_storage()
    except (OSError, sqlite3.Error, MigrationError, BallotKeyError, RecordKeyError) as exc:
        print(
            f"caucus: cannot open the database {config.storage.path!r} ([storage] path): {exc}",
            file=sys.stderr,
        )
        return 1
    try:
        async with bot:
            await bot.start(config.discord.token)
    except discord.LoginFailure:
        print(
            "caucus: Discord rejected the token ([discord] token or DISCORD_TOKEN): check it in the Developer Portal",
            file=sys.stderr,
        )
        return 1
    except discord.PrivilegedIntentsRequired:
        print(
            "caucus: enable the Server Members intent for this bot in the Developer Portal (Bot > Privileged "
            "Gateway Intents)",
            file=sys.stderr,
        )
        return 1
    except (OSError, discord.GatewayNotFound, discord.HTTPException) as exc:
        print(f"caucus: cannot reach Discord: {exc}", file=sys.stderr)
        return 1
    if stopping:
        await stopping[0]
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return EXIT_CONFIG
    from bot.logs import setup_logging

    setup_logging(config.logging.level, secrets=(config.discord.token,))
    log.info("Caucus %s starting (config: %s)", __version__, config.source)
    for warning in config.warnings:
        log.warning("config: %s", warning)
    return asyncio.run(_run_bot(config))


def cmd_check_config(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return EXIT_CONFIG
    guilds = ", ".join(map(str, config.discord.guild_ids)) or "global"
    for warning in config.warnings:
        print(f"caucus: warning: {warning}", file=sys.stderr)
    count = config.discord.shard_count
    gateway = (
        "one gateway connection" if count is None else f"shards {list(config.discord.shards)} of {count}"
    )
    database = (
        f"PostgreSQL {masked_url(config.storage.url)} (key files beside {config.storage.path})"
        if config.storage.url
        else config.storage.path
    )
    print(
        f"config OK ({config.source}): database {database}, commands synced to {guilds}, "
        f"time zone {config.schedule.timezone}, {gateway}"
    )
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    import os
    import shutil

    from storage.db import backup_database
    from storage.polls import key_path
    from storage.record import signing_key_path

    try:
        config = load_config(args.config, env={"DISCORD_TOKEN": "not-needed-for-backup"})
    except ConfigError as exc:
        return _fail(exc.problems)
    if config.storage.url:
        print(
            "caucus: backup copies the SQLite file, and this configuration uses PostgreSQL ([storage] url): "
            "back it up with pg_dump, and keep a copy of the key files beside [storage] path "
            f"({key_path(config.storage.path)}, {signing_key_path(config.storage.path)})",
            file=sys.stderr,
        )
        return 1
    copied = []
    try:
        backup_database(config.storage.path, args.destination)
        # the key of anonymous ballots and pseudonyms, and the decision record's signing key, live next to
        # the database: a restore needs all of them
        for where in (key_path, signing_key_path):
            key, key_copy = where(config.storage.path), where(args.destination)
            if key.exists():
                shutil.copyfile(key, key_copy)
                os.chmod(key_copy, 0o600)
                copied.append(str(key_copy))
    except (OSError, Exception) as exc:  # sqlite3.Error included: one clear line, no traceback
        print(f"caucus: backup failed: {exc}", file=sys.stderr)
        return 1
    extra = f" (and its keys to {', '.join(copied)})" if copied else ""
    print(f"backed up {config.storage.path} to {args.destination}{extra}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """The same summary as /export summary by a coordinator, straight from the database."""
    import sqlite3
    from pathlib import Path

    from domain.clock import SystemClock
    from domain.errors import DomainError
    from domain.groups import WorkingGroups
    from domain.languages import Languages
    from domain.permissions import Policy
    from domain.polls import Polls, load_ballot_key
    from domain.record import Record, load_signing_key
    from domain.render import render
    from domain.summary import Summaries
    from domain.timeparse import parse_zone
    from storage.db import Database
    from storage.polls import key_path

    try:
        config = load_config(args.config, env={"DISCORD_TOKEN": "not-needed-for-export"})
    except ConfigError as exc:
        return _fail(exc.problems)
    if not config.storage.url and not Path(config.storage.path).exists():
        return _fail([f"[storage] path: the database {config.storage.path!r} does not exist"])

    async def run() -> list[tuple[str, bytes]]:
        zone = parse_zone(config.schedule.timezone)
        clock = SystemClock()
        db = await Database.open(config.storage.path, url=config.storage.url)
        try:
            groups = WorkingGroups(db, clock, Policy(config.permissions.coordinator_roles), zone)
            # with the ballot key next to the database (never created here), open anonymous polls per
            # organisation count only the organisations that still count, as /poll results does
            counter = None
            if key_path(config.storage.path).exists():
                counter = Polls(db, clock, groups, zone, load_ballot_key(config.storage.path)).secret_counts
            # the decisions reported carry their record proofs, signed with the key beside the database
            record = Record(db, clock, groups.policy, zone, load_signing_key(db.path))
            summary = await Summaries(db, clock, groups, zone, counter, record).for_operator(
                args.guild, group=args.group, status=args.status
            )
            # as /export summary: the language asked for, else the group's, else the server's
            lang = args.language
            if lang is None:
                found = await groups.resolve_optional(args.guild, args.group) if args.group else None
                lang = Languages(db, clock, groups, config.i18n.language).for_group(found)
        finally:
            await db.close()
        return render(summary, args.format, lang)

    try:
        files = asyncio.run(run())
    except DomainError as exc:
        print(f"caucus: {exc}", file=sys.stderr)
        return 1
    except (OSError, sqlite3.Error) as exc:
        print(f"caucus: export failed: {exc}", file=sys.stderr)
        return 1
    if args.output is None:
        for _, data in files:
            sys.stdout.buffer.write(data)
        return 0
    target = Path(args.output)
    stem = target.with_suffix("") if target.suffix else target
    for n, (suffix, data) in enumerate(files):
        path = target if n == 0 else stem.with_name(stem.name + suffix)
        path.write_bytes(data)
        print(f"wrote {path}", file=sys.stderr)
    return 0


def cmd_signatories(args: argparse.Namespace) -> int:
    """The same signatory list as /statement signatories by a coordinator, straight from the database."""
    import sqlite3
    from pathlib import Path

    from domain.clock import SystemClock
    from domain.errors import DomainError
    from domain.groups import WorkingGroups
    from domain.languages import Languages
    from domain.permissions import Policy
    from domain.record import Record, load_signing_key
    from domain.signatories import Signatories, render
    from domain.statements import Statements
    from domain.timeparse import parse_zone
    from storage.db import Database
    from storage.record import RecordKeyError

    try:
        config = load_config(args.config, env={"DISCORD_TOKEN": "not-needed-for-signatories"})
    except ConfigError as exc:
        return _fail(exc.problems)
    if not config.storage.url and not Path(config.storage.path).exists():
        return _fail([f"[storage] path: the database {config.storage.path!r} does not exist"])

    async def run() -> bytes:
        zone = parse_zone(config.schedule.timezone)
        clock = SystemClock()
        policy = Policy(config.permissions.coordinator_roles)
        db = await Database.open(config.storage.path, url=config.storage.url)
        try:
            groups = WorkingGroups(db, clock, policy, zone)
            statements = Statements(db, clock, groups, zone)
            record = Record(db, clock, policy, zone, load_signing_key(db.path))
            found = await Signatories(statements, record).for_operator(args.guild, str(args.statement))
            # as /statement signatories: the language asked for, else the statement's group's, else the server's
            lang = args.language
            if lang is None:
                group = await statements.group_of(await statements.resolve(args.guild, str(args.statement)))
                lang = Languages(db, clock, groups, config.i18n.language).for_group(group)
        finally:
            await db.close()
        return render(found, args.format, lang)[1]

    try:
        data = asyncio.run(run())
    except DomainError as exc:
        print(f"caucus: {exc}", file=sys.stderr)
        return 1
    except (OSError, sqlite3.Error, RecordKeyError) as exc:
        print(f"caucus: signatories failed: {exc}", file=sys.stderr)
        return 1
    if args.output is None:
        sys.stdout.buffer.write(data)
        return 0
    Path(args.output).write_bytes(data)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


EXIT_MISMATCH = 1
EXIT_UNREADABLE = 2


def cmd_verify(args: argparse.Namespace) -> int:
    """Check an export or checkpoint against the decision record, offline: no Discord, no database."""
    from pathlib import Path

    from domain.record import Unreadable, read_document, verify_document

    try:
        doc = read_document(Path(args.file).read_bytes())
        since = read_document(Path(args.since).read_bytes()) if args.since else None
        checks = verify_document(doc, public_key=args.public_key, since=since)
    except OSError as exc:
        print(f"caucus: cannot read {exc.filename or args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_UNREADABLE
    except Unreadable as exc:
        print(f"caucus: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    for check in checks:
        print(check.line)
    failed = sum(not c.ok for c in checks)
    if failed:
        print(f"{failed} check(s) FAILED", file=sys.stderr)
        return EXIT_MISMATCH
    print(f"all {len(checks)} checks passed")
    return 0


def cmd_migrate_db(args: argparse.Namespace) -> int:
    """Copy the SQLite database of the config into an empty PostgreSQL database, checked row for row."""
    from pathlib import Path

    from domain.polls import key_check
    from domain.record import NoteError, Signer, open_note, origin_of

    try:
        config = load_config(args.config, env={"DISCORD_TOKEN": "not-needed-for-migrate-db"})
    except ConfigError as exc:
        return _fail(exc.problems)
    if not Path(config.storage.path).is_file():
        return _fail(
            [f"[storage] path: the SQLite database {config.storage.path!r} does not exist: nothing to copy"]
        )
    try:
        from storage.migrate import KeyChecks, MigrateError, migrate_to_postgres
    except ImportError:
        print("caucus: migrate-db needs psycopg: pip install 'caucus[postgresql]'", file=sys.stderr)
        return 1

    def signed(guild_id: int, seed: bytes, note: str) -> bool:
        try:
            open_note(note, [Signer(origin_of(guild_id), seed).verifier])
        except NoteError:
            return False
        return True

    try:
        done = asyncio.run(
            migrate_to_postgres(config.storage.path, args.to, KeyChecks(ballot=key_check, record=signed))
        )
    except MigrateError as exc:
        print(f"caucus: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"caucus: migrate-db failed: {exc}", file=sys.stderr)
        return 1
    upgraded = (
        f"; brought up from version {done.upgraded_from} first" if done.upgraded_from != done.version else ""
    )
    print(
        f"copied {done.source} (SQLite, version {done.version}{upgraded}) to {done.target} in {done.seconds:.2f} s"
    )
    print(
        f"{len(done.tables)} tables, {done.rows} row{'s' if done.rows != 1 else ''}, each table checked row for row (the same count and the same "
        "digest of its rows on both engines):"
    )
    for line in _wrapped(f"{t.name} {t.rows}" for t in sorted(done.tables, key=lambda t: t.name)):
        print(f"  {line}")
    if done.next_ids:
        for line in _wrapped((f"{table} {next_id}" for table, next_id in done.next_ids), first="next ids: "):
            print(f"  {line}")
    for key in done.keys:
        print(f"  {key.what} {key.path}: {key.note}")
    url = masked_url(args.to)
    where = config.source if not config.source.startswith("defaults") else "config.toml, none exists yet"
    print()
    print(f"Now change the config ({where}):")
    print("  [storage]")
    hint = "  # put the password back where *** stands" if url != args.to else ""
    print(f"  url = {_toml_string(url)}{hint}")
    print(f"  path = {_toml_string(config.storage.path)}  # keep it: the key files stay there, as files")
    present = [str(key.path) for key in done.keys if key.present]
    if present:
        print(
            f"Copy the key files ({', '.join(present)}) to every host that runs a Caucus process, at that same "
            "[storage] path, before starting it."
        )
    else:
        print(
            "No key file exists yet: the first process to start makes them beside [storage] path; copy them from "
            "there to every other host that runs a Caucus process before starting it."
        )
    print(
        "Keep the bot on SQLite stopped from now on: what it would write there is not in PostgreSQL. The SQLite "
        "file is not read once url is set; keep it as a backup."
    )
    return 0


def _wrapped(items: Iterable[str], *, first: str = "", width: int = 104) -> list[str]:
    """``items`` joined by commas in lines of at most ``width`` characters, never splitting an item."""
    lines: list[str] = []
    line = first
    for item in items:
        piece = item if line in ("", first) else f", {item}"
        if len(line) + len(piece) > width and line not in ("", first):
            lines.append(line + ",")
            line, piece = "", item
        line += piece
    if line:
        lines.append(line)
    return lines


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="caucus", description="Caucus: consensus for coalitions on Discord."
    )
    parser.add_argument("--version", action="version", version=f"caucus {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--config",
            metavar="PATH",
            default=None,
            help="config file (default: config.toml if present, else built-in defaults)",
        )

    run = sub.add_parser("run", help="run the bot")
    with_config(run)
    run.set_defaults(func=cmd_run)
    check = sub.add_parser("check-config", help="check the configuration and exit")
    with_config(check)
    check.set_defaults(func=cmd_check_config)
    backup = sub.add_parser("backup", help="make a consistent copy of the database, even while the bot runs")
    backup.add_argument("destination", metavar="PATH")
    with_config(backup)
    backup.set_defaults(func=cmd_backup)
    export = sub.add_parser(
        "export", help="the summary of what a server agreed, from the database (no Discord)"
    )
    with_config(export)
    export.add_argument("--guild", type=int, required=True, metavar="ID", help="the Discord server id")
    export.add_argument("--group", default=None, metavar="NAME", help="only this working group")
    export.add_argument("--status", default=None, help="only items with this status (or 'decided')")
    export.add_argument("--format", choices=("md", "html", "csv", "json"), default="md")
    export.add_argument("--language", choices=LANGUAGES, default=None, help=LANGUAGE_HELP)
    export.add_argument(
        "--output",
        default=None,
        metavar="FILE",
        help="write here (CSV also writes FILE-positions.csv); default: standard output",
    )
    export.set_defaults(func=cmd_export)
    signatories = sub.add_parser(
        "signatories",
        help="a statement's signatory list, from the database (no Discord), as /statement signatories",
    )
    with_config(signatories)
    signatories.add_argument("--guild", type=int, required=True, metavar="ID", help="the Discord server id")
    signatories.add_argument(
        "--statement", type=int, required=True, metavar="N", help="the statement's number"
    )
    signatories.add_argument("--format", choices=("md", "html", "csv", "json"), default="md")
    signatories.add_argument("--language", choices=LANGUAGES, default=None, help=LANGUAGE_HELP)
    signatories.add_argument(
        "--output", default=None, metavar="FILE", help="write here; default: standard output"
    )
    signatories.set_defaults(func=cmd_signatories)
    verify = sub.add_parser(
        "verify",
        help="check an export or checkpoint against the decision record, offline (exit 1: a mismatch, 2: unreadable)",
    )
    verify.add_argument("file", metavar="FILE", help="a checkpoint file, or a JSON export or proof bundle")
    verify.add_argument(
        "--public-key",
        default=None,
        metavar="KEY",
        help="the verifier key /record show gives (without it, the key in the file itself is used)",
    )
    verify.add_argument(
        "--since",
        default=None,
        metavar="FILE",
        help="an earlier checkpoint or export: check the record only grew",
    )
    verify.set_defaults(func=cmd_verify)
    migrate = sub.add_parser(
        "migrate-db",
        help="copy the SQLite database into an empty PostgreSQL database, checked row for row (stop the bot first)",
    )
    with_config(migrate)
    migrate.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="the empty PostgreSQL database, postgresql://user@host/name",
    )
    migrate.set_defaults(func=cmd_migrate_db)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `caucus` console script."""
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result
