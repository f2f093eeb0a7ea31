"""``python -m benchmarks [--quick] [--json]``: run every benchmark and print one table (or JSON object).

The bursts run on SQLite and again on PostgreSQL: a throwaway cluster (``tests.engines.start_cluster``), or
the server of ``CAUCUS_BENCH_POSTGRES=postgresql://user@host:port/`` (its databases are dropped at the end).
Without either, the PostgreSQL figures are left out and the notes say why."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from benchmarks import discord_bench as dbench
from benchmarks import storage_bench as sbench
from benchmarks.report import Report, percentile
from tests import engines

POSTGRES_ENV = "CAUCUS_BENCH_POSTGRES"
T = TypeVar("T")


@dataclass(frozen=True)
class Sizes:
    clicks: int
    reminders: int
    points: int
    positions: int
    growth: tuple[int, ...]
    growth_votes: int
    repeat: int  # bursts of each kind; figures are medians over them
    signatures: int = 300  # representatives of as many organisations signing a statement at once
    servers: int = 10  # section 8: servers clicked at once, each its own poll and ``clicks`` members
    servers_repeat: int = 1  # section 8: rounds per configuration (10,000 clicks each)


FULL = Sizes(clicks=1000, reminders=10_000, points=1000, positions=100, growth=(100, 1_000, 10_000, 100_000),
             growth_votes=200, repeat=3, servers_repeat=1)  # fmt: skip
QUICK = Sizes(
    clicks=200,
    reminders=2_000,
    points=200,
    positions=50,
    growth=(100, 1_000, 10_000),
    growth_votes=50,
    repeat=1,
)


@dataclass
class Postgres:
    """The PostgreSQL server of this run, if any: a throwaway cluster of ours, or CAUCUS_BENCH_POSTGRES."""

    url: str = ""
    ours: bool = False  # a cluster this run started (and stops)
    settings: dict[str, str] = field(default_factory=dict)
    why_not: str = ""  # why there is none

    def describe(self) -> str:
        where = "a throwaway cluster started for this run" if self.ours else f"the server of {POSTGRES_ENV}"
        shown = ", ".join(f"{k}={v}" for k, v in self.settings.items() if k != "server_version")
        return f"PostgreSQL {self.settings.get('server_version', '?')} ({where}; {shown})"


def start_postgres() -> Postgres:
    """CAUCUS_BENCH_POSTGRES if set, else a throwaway cluster (``tests.engines.start_cluster``: fsync=off,
    synchronous_commit=off, full_page_writes=off). The run's default engine stays SQLite."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    pg = Postgres(url=url)
    try:
        if not url:
            pg.url, pg.ours = engines.start_cluster(), True
        engines.use_postgres(pg.url)
        engines.use_sqlite()  # SQLite unless a block says engines.using("postgresql")
        pg.settings = engines.server_settings()
    except Exception as exc:  # no server installed, or it would not start or answer
        if pg.ours:
            engines.stop_cluster()
        engines.use_sqlite()
        return Postgres(why_not=" ".join(f"{type(exc).__name__}: {exc}".split()))
    return pg


def stop_postgres(pg: Postgres) -> None:
    try:
        if pg.ours:
            engines.stop_cluster()
        elif pg.url:
            with engines.using("postgresql"):
                engines.drop_created()  # the databases this run made on someone's server
    finally:
        engines.use_sqlite()


MS = 1000.0


def storage_errors(folder: Path, limit: int = 3) -> str:
    """The distinct database errors (psycopg's, sqlite3's) in the bot logs under ``folder``, for a note."""
    found: list[str] = []
    for log in sorted(folder.rglob("bot.log")):
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(("psycopg.", "sqlite3.")) and line not in found:
                found.append(line)
    shown = "; ".join(found[:limit]) + (f" (and {len(found) - limit} more)" if len(found) > limit else "")
    return f"the bot's log: {shown}" if found else "no database error in the bot's log"


async def attempt(report: Report, what: str, folder: Path, work: Awaitable[T]) -> T | None:
    """A PostgreSQL part of the run: if it fails, the notes say how (and the run goes on without it)."""
    try:
        return await work
    except Exception as exc:
        report.notes.append(f"{what} failed: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}; "
                            f"{storage_errors(folder)}")  # fmt: skip
        print(f"{what} failed: {exc!r}", file=sys.stderr)
        return None


def add_burst(report: Report, key: str, what: str, b: dbench.Bursts, bare: dbench.Bursts | None) -> None:
    report.add(f"{key}.ack_p50_ms", f"{what}: ack latency p50", b.p(50) * MS, "ms")
    report.add(f"{key}.ack_p99_ms", f"{what}: ack latency p99", b.p(99) * MS, "ms")
    report.add(f"{key}.ack_max_ms", f"{what}: ack latency max (worst burst)", b.worst * MS, "ms")
    report.add(f"{key}.clicks_per_s", f"{what}: clicks/s (1st dispatch→last ack)", b.rate, "/s", digits=0)
    low, high = b.rates
    report.add(f"{key}.clicks_per_s_range", f"{what}: clicks/s, slowest–fastest burst", f"{low:,.0f}–{high:,.0f}",
               "/s")  # fmt: skip
    report.add(f"{key}.failed", f"{what}: not acknowledged within 3 s", b.failed, f"of {b.clicks:,}",
               target="0", met=b.failed == 0)  # fmt: skip
    report.add(f"{key}.span_s", f"{what}: whole burst acknowledged in (worst)", b.span, "s", target="≤ 3 s",
               met=b.within_deadline, digits=2)  # fmt: skip
    if bare is not None:  # a Caucus burst (the bare bot stores and edits nothing)
        report.add(f"{key}.recorded", f"{what}: recorded in the database", b.recorded, f"of {b.clicks:,}",
                   target=f"{b.clicks:,}", met=b.recorded == b.clicks)  # fmt: skip
        report.add(f"{key}.message_edits", f"{what}: edits of the message (coalesced)", b.edits)
        ratio = b.rate / bare.rate
        report.add(f"{key}.throughput_vs_bare", f"{what}: throughput ÷ bare bot's", ratio, "×",
                   target="≥ 0.8×", met=ratio >= 0.8, digits=2)  # fmt: skip
        p99 = b.p(99) / bare.p(99)
        report.add(f"{key}.p99_vs_bare", f"{what}: p99 ÷ bare bot's p99", p99, "×", target="≤ 1.25×",
                   met=p99 <= 1.25, digits=2)  # fmt: skip


def add_servers(report: Report, key: str, what: str, run: dbench.ServersRun) -> None:
    b, a = run.bursts, run.answers
    report.add(f"{key}.answers_per_s", f"{what}: clicks answered/s, in time or late (1st dispatch→last answer)",
               a.rate, "/s", digits=0)  # fmt: skip
    report.add(f"{key}.answer_p50_ms", f"{what}: answer latency p50 (in time or late)", a.p(50) * MS, "ms")
    report.add(f"{key}.answer_p99_ms", f"{what}: answer latency p99 (in time or late)", a.p(99) * MS, "ms")
    report.add(f"{key}.unanswered", f"{what}: never answered", a.failed, f"of {a.clicks:,}", target="0",
               met=a.failed == 0)  # fmt: skip
    report.add(f"{key}.clicks_per_s", f"{what}: clicks/s acknowledged in time (1st dispatch→last ack)", b.rate,
               "/s", digits=0)  # fmt: skip
    report.add(f"{key}.ack_p50_ms", f"{what}: ack latency p50 (acknowledged in time)", b.p(50) * MS, "ms")
    report.add(f"{key}.ack_p99_ms", f"{what}: ack latency p99 (acknowledged in time)", b.p(99) * MS, "ms")
    report.add(f"{key}.failed", f"{what}: not acknowledged within 3 s", b.failed, f"of {b.clicks:,}",
               target="0", met=b.failed == 0)  # fmt: skip
    report.add(f"{key}.recorded", f"{what}: ballots recorded in the database", b.recorded, f"of {b.clicks:,}",
               target=f"{b.clicks:,}", met=b.recorded == b.clicks)  # fmt: skip
    report.add(f"{key}.recorded_per_s", f"{what}: ballots recorded/s (1st dispatch→last ballot)",
               run.record_rate, "/s", digits=0)  # fmt: skip
    report.add(f"{key}.recorded_in_s", f"{what}: every ballot recorded in (worst)", max(run.record_spans,
               default=float("nan")), "s", digits=2)  # fmt: skip
    report.add(f"{key}.start_s", f"{what}: process start to every shard ready", run.start_seconds, "s",
               digits=1)  # fmt: skip
    report.add(f"{key}.servers_per_process", f"{what}: servers each process held",
               " / ".join(str(n) for n in run.per_process))  # fmt: skip


async def run(sizes: Sizes, quick: bool, progress: bool) -> Report:
    def step(text: str) -> None:
        if progress:
            print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    report = Report(quick=quick)
    load = os.getloadavg()[0]
    step(
        f"PostgreSQL: {'the server of ' + POSTGRES_ENV if os.environ.get(POSTGRES_ENV) else 'a throwaway cluster'}"
    )
    pg = await asyncio.to_thread(start_postgres)
    pg_floor = pg_path = float("nan")
    pg_caucus: dbench.CaucusRun | None = None
    pg_one = pg_two = None
    try:
        with tempfile.TemporaryDirectory(prefix="caucus-bench-") as tmp:
            folder = Path(tmp)
            step(f"SQLite upserts ({sizes.clicks:,}): plain sqlite3, then Database.run")
            floor = await asyncio.to_thread(sbench.plain_sqlite_upserts, folder / "floor.db", sizes.clicks)
            our_path = await sbench.database_run_upserts(folder / "upserts.db", sizes.clicks)
            if pg.url:
                step(f"PostgreSQL upserts ({sizes.clicks:,}): plain psycopg, then Database.run")
                with engines.using("postgresql"):
                    pg_floor = await attempt(report, "PostgreSQL: plain upserts", folder, asyncio.to_thread(
                        sbench.plain_postgres_upserts, folder / "floor-pg.db", sizes.clicks
                    )) or float("nan")  # fmt: skip
                    pg_path = await attempt(report, "PostgreSQL: Database.run upserts", folder,
                                            sbench.database_run_upserts(folder / "upserts-pg.db", sizes.clicks)
                                            ) or float("nan")  # fmt: skip
            step(f"bare discord.py bot: burst of {sizes.clicks:,} clicks")
            bare = await dbench.run_bare(folder / "bare", sizes.clicks, sizes.repeat)
            step(f"Caucus bot on SQLite: bursts of {sizes.clicks:,} clicks, memory, vote latency growth")
            caucus = await dbench.run_caucus(
                folder / "caucus", sizes.clicks, sizes.repeat, list(sizes.growth), sizes.growth_votes
            )
            if pg.url:
                step(f"Caucus bot on PostgreSQL: bursts of {sizes.clicks:,} clicks")
                with engines.using("postgresql"):
                    pg_caucus = await attempt(report, "PostgreSQL: the bursts of 1a", folder / "caucus-pg",
                                              dbench.run_caucus(folder / "caucus-pg", sizes.clicks, sizes.repeat, [],
                                                                sizes.growth_votes))  # fmt: skip
            step(f"Caucus bot: bursts of {sizes.signatures:,} signatures")
            signing = await dbench.run_signatures(folder / "signatures", sizes.signatures, sizes.repeat)
            step(f"{sizes.reminders:,} pending reminders due within ~5 s")
            near = await sbench.pending_reminders(folder / "reminders.db", sizes.reminders, far=False)
            step(f"{sizes.reminders:,} pending reminders due in 30+ days")
            far = await sbench.pending_reminders(folder / "reminders-far.db", sizes.reminders, far=True)
            step(f"summary export: {sizes.points:,} points × {sizes.positions} positions")
            export = await sbench.summary_export(folder / "export.db", sizes.points, sizes.positions)
            many = f"{sizes.servers} servers × {sizes.clicks:,} clicks"
            if pg.url:
                with engines.using("postgresql"):
                    step(f"{many} on PostgreSQL: one bot process holding both shards")
                    pg_one = await attempt(report, f"PostgreSQL: {many}, one process", folder / "servers-pg-1",
                                           dbench.run_servers(folder / "servers-pg-1", sizes.servers, sizes.clicks,
                                                              sizes.servers_repeat, processes=1))  # fmt: skip
                    step(f"{many} on PostgreSQL: two bot processes, one shard each")
                    pg_two = await attempt(report, f"PostgreSQL: {many}, two processes", folder / "servers-pg-2",
                                           dbench.run_servers(folder / "servers-pg-2", sizes.servers, sizes.clicks,
                                                              sizes.servers_repeat, processes=2))  # fmt: skip
            step(f"{many} on SQLite: one bot process holding both shards")
            sqlite_one = await dbench.run_servers(
                folder / "servers-sqlite-1", sizes.servers, sizes.clicks, sizes.servers_repeat, processes=1
            )
    finally:
        await asyncio.to_thread(stop_postgres, pg)

    n = f"{sizes.clicks:,}"
    report.section(
        f"1. burst of {n} clicks by {n} distinct members, all dispatched at once (real bot process); the third "
        f"on a point counted per organisation ({sizes.clicks // 2:,} organisations, two representatives each)"
    )
    add_burst(report, "poll_burst", "poll vote", caucus.poll, bare.bursts)
    add_burst(report, "point_burst", "consensus Agree", caucus.point, bare.bursts)
    add_burst(report, "org_point_burst", f"Agree per organisation ({caucus.orgs:,} orgs × 2)", caucus.org_point,
              bare.bursts)  # fmt: skip
    expected = caucus.orgs * len(caucus.org_point.runs)
    report.add("org_point_burst.org_positions", "per organisation: organisations' positions recorded",
               caucus.org_positions, f"of {expected:,}", target=f"{expected:,}", met=caucus.org_positions == expected)  # fmt: skip

    if pg_caucus is not None:
        report.section(
            f"1a. the same bursts, the bot on {pg.describe()}; SQLite in 1: WAL, synchronous=NORMAL"
        )
        add_burst(report, "pg_poll_burst", "PostgreSQL poll vote", pg_caucus.poll, bare.bursts)
        add_burst(report, "pg_point_burst", "PostgreSQL consensus Agree", pg_caucus.point, bare.bursts)
        add_burst(report, "pg_org_point_burst", f"PostgreSQL Agree per organisation ({pg_caucus.orgs:,} orgs × 2)",
                  pg_caucus.org_point, bare.bursts)  # fmt: skip
        expected = pg_caucus.orgs * len(pg_caucus.org_point.runs)
        report.add("pg_org_point_burst.org_positions", "PostgreSQL per organisation: organisations' positions "
                   "recorded", pg_caucus.org_positions, f"of {expected:,}", target=f"{expected:,}",
                   met=pg_caucus.org_positions == expected)  # fmt: skip
        for key, what, ours, theirs in (("poll", "poll vote", pg_caucus.poll, caucus.poll),
                                        ("point", "consensus Agree", pg_caucus.point, caucus.point),
                                        ("org_point", "per organisation", pg_caucus.org_point, caucus.org_point)):  # fmt: skip
            report.add(f"pg_{key}_burst.throughput_vs_sqlite", f"PostgreSQL ÷ SQLite, {what}: clicks/s",
                       ours.rate / theirs.rate, "×", digits=2)  # fmt: skip
        report.add("pg.rss_idle_mb", f"PostgreSQL: bot's memory idle after start ({n} members)",
                   pg_caucus.rss_idle_mb, "MB", target="< 120 MB", met=pg_caucus.rss_idle_mb < 120)  # fmt: skip

    s = f"{sizes.signatures:,}"
    report.section(
        f"1b. burst of {s} signatures: representatives of {s} organisations press Sign at once (the bot asks: "
        "listed by name or counted only?), then Listed by name at once (the signature and its record entry)"
    )
    add_burst(report, "sign_prompt", "Sign: the question", signing.prompts, None)
    add_burst(report, "signature", "Listed by name: the signature", signing.signatures, None)
    report.add("signature.signatures_per_s", "signatures/s (1st dispatch→last ack)", signing.signatures.rate, "/s",
               digits=0)  # fmt: skip
    report.add("signature.recorded", "signatures recorded in the database", signing.signatures.recorded,
               f"of {signing.signatures.clicks:,}", target=f"{signing.signatures.clicks:,}",
               met=signing.signatures.recorded == signing.signatures.clicks)  # fmt: skip
    report.add("signature.card_edits", "edits of the statement's card (coalesced)", signing.signatures.edits)

    report.section(
        "2. the same burst on a bare discord.py bot (DynamicItem): answered like Caucus, and only deferred"
    )
    add_burst(report, "bare", "bare bot, ephemeral answer", bare.bursts, None)
    add_burst(report, "bare_defer", "bare bot, defer only", bare.deferred, None)
    report.add(
        "driver.dispatch_s", "driver: time to dispatch one burst (bare)", bare.bursts.dispatch, "s", digits=2
    )

    report.section("3. SQLite (and PostgreSQL, as in 1a), same run, same machine: the floor, and our path")
    report.add("sqlite.floor_upserts_per_s", f"plain sqlite3, WAL: upserts/s ({n}, 1 txn each)", floor, "/s",
               digits=0)  # fmt: skip
    report.add("sqlite.db_run_upserts_per_s", f"Database.run, {n} concurrent clicks' upserts: /s", our_path,
               "/s", digits=0)  # fmt: skip
    report.add(
        "sqlite.poll_clicks_share", "poll clicks/s ÷ Database.run upserts/s", caucus.poll.rate / our_path,
        "×", digits=2,
    )  # fmt: skip
    if pg.url:
        report.add("postgres.floor_upserts_per_s", f"plain psycopg, PostgreSQL: upserts/s ({n}, 1 txn each)",
                   pg_floor, "/s", digits=0)  # fmt: skip
        report.add("postgres.db_run_upserts_per_s", f"Database.run on PostgreSQL, {n} concurrent clicks' upserts: /s",
                   pg_path, "/s", digits=0)  # fmt: skip

    r = f"{sizes.reminders:,}"
    report.section(f"4. {r} pending reminders (in-process PostDispatcher, real Database)")
    report.add("reminders.start_s", f"start(): {r} due within ~5 s, scheduled in", near.start_seconds, "s",
               target="< 3 s", met=near.start_seconds < 3.0, digits=2)  # fmt: skip
    report.add(
        "reminders.registered",
        "start(): wake-ups registered (one per due second)",
        near.registered,
        f"for {r}",
    )
    report.add("reminders.fired", "posts run by their handler", near.fired, f"of {r}", target=r,
               met=near.fired == sizes.reminders)  # fmt: skip
    report.add(
        "reminders.late_p50_s", "lateness p50 (run − due)", percentile(near.lateness, 50), "s", digits=2
    )
    report.add("reminders.late_p99_s", "lateness p99 (run − due)", percentile(near.lateness, 99), "s",
               target="< 1 s", met=percentile(near.lateness, 99) < 1.0, digits=2)  # fmt: skip
    report.add(
        "reminders.late_max_s", "lateness max", max(near.lateness, default=float("nan")), "s", digits=2
    )
    report.add("reminders.far_start_s", f"start(): {r} due in 30+ days, in", far.start_seconds, "s",
               target="< 3 s", met=far.start_seconds < 3.0, digits=3)  # fmt: skip
    report.add("reminders.far_registered", "start(): registered (far posts)", far.registered, f"of {r}")

    report.section(
        f"5. summary export, {sizes.points:,} points × {sizes.positions} positions, names included"
    )
    for fmt, seconds in export.seconds.items():
        report.add(f"export.{fmt}_s", f"build_summary + render {fmt} ({export.sizes[fmt] / 1e6:.1f} MB)",
                   seconds, "s", target="< 1 s", met=seconds < 1.0, digits=2)  # fmt: skip
    report.add("export.build_s", "build_summary alone (first, cold)", export.build_seconds, "s", digits=2)

    report.section("6. bot process resident memory (VmRSS)")
    report.add("rss.idle_mb", f"idle after start ({n} members)", caucus.rss_idle_mb, "MB", target="< 120 MB",
               met=caucus.rss_idle_mb < 120)  # fmt: skip
    report.add("rss.after_mb", "after both bursts", caucus.rss_after_mb, "MB")
    report.add("rss.bare_mb", "bare discord.py bot after its burst", bare.rss_mb, "MB")

    report.section(
        f"7. vote latency as the poll grows ({sizes.growth_votes} votes one after another per size)"
    )
    first = percentile(caucus.growth.get(sizes.growth[0], []), 50)
    for size in sizes.growth:
        lat = caucus.growth.get(size, [])
        p50 = percentile(lat, 50)
        report.add(f"growth.{size}.p50_ms", f"{size:,} ballots: ack p50", p50 * MS, "ms",
                   target=f"≤ 2× {sizes.growth[0]}-ballot p50" if size != sizes.growth[0] else "",
                   met=(p50 <= 2 * first) if size != sizes.growth[0] else None)  # fmt: skip
        report.add(f"growth.{size}.p99_ms", f"{size:,} ballots: ack p99", percentile(lat, 99) * MS, "ms")
        if caucus.growth_failed.get(size):
            report.add(f"growth.{size}.failed", f"{size:,} ballots: failed votes", caucus.growth_failed[size])

    many = f"{sizes.servers} servers × {sizes.clicks:,} clicks"
    report.section(
        f"8. {many} at once: each server its own poll and {sizes.clicks:,} distinct members, the servers split "
        f"evenly over 2 shards, every member of every server clicking at once; the bot processes share one "
        f"database ({pg.describe() if pg.url else 'PostgreSQL: none in this run'}; SQLite as a reference)"
    )
    configs = [("servers_pg_1", "PostgreSQL, 1 process (2 shards)", pg_one),
               ("servers_pg_2", "PostgreSQL, 2 processes (1 shard each)", pg_two),
               ("servers_sqlite_1", "SQLite, 1 process (2 shards)", sqlite_one)]  # fmt: skip
    for key, what, servers in configs:
        if servers is not None:
            add_servers(report, key, what, servers)
    if pg_one is not None and pg_two is not None:
        report.add("servers.two_vs_one_answers", "PostgreSQL: 2 processes ÷ 1 process, clicks answered/s",
                   pg_two.answers.rate / pg_one.answers.rate, "×", digits=2)  # fmt: skip
        report.add("servers.two_vs_one_clicks", "PostgreSQL: 2 processes ÷ 1 process, clicks/s acknowledged in "
                   "time", pg_two.bursts.rate / pg_one.bursts.rate, "×", digits=2)  # fmt: skip
        report.add("servers.two_vs_one_recorded", "PostgreSQL: 2 processes ÷ 1 process, ballots recorded/s",
                   pg_two.record_rate / pg_one.record_rate, "×", digits=2)  # fmt: skip
        report.add("servers.pg_vs_sqlite_answers", "1 process: PostgreSQL ÷ SQLite, clicks answered/s",
                   pg_one.answers.rate / sqlite_one.answers.rate, "×", digits=2)  # fmt: skip

    if pg.url:
        said = ", ".join(f"{k}={v}" for k, v in pg.settings.items() if k != "server_version")
        durable = (
            "the throwaway cluster (tests.engines.start_cluster) never waits for the disk, so its commits cost "
            "less than a durable server's"
            if pg.ours
            else f"as {POSTGRES_ENV}'s server reports them"
        )
        report.notes.append(
            f"PostgreSQL {pg.settings.get('server_version', '?')}: {said} ({durable}); SQLite: WAL, "
            "synchronous=NORMAL (no fsync per commit either, yet a crash-safe file)"
        )
    else:
        report.notes.append(f"no PostgreSQL in this run ({pg.why_not}); set {POSTGRES_ENV}=postgresql://… or "
                            "install the server (Debian: postgresql): section 1a and 8's PostgreSQL lines left out")  # fmt: skip
    report.notes.append(
        f"section 8: {sizes.servers_repeat} round(s) per configuration, medians. A click the bot answers "
        "after 3 s is refused (Unknown interaction) but its vote is recorded: 'clicks answered/s' and 'ballots "
        "recorded/s' are the throughput whether or not the bot keeps up (late answers are seen within 50 ms, "
        "ballots sampled every 0.1 s); 'acknowledged in time' counts only the clicks answered within 3 s"
    )
    report.notes.append(
        f"bursts: {sizes.repeat} of each kind; latency and clicks/s figures are medians over them. "
        f"Load average (1 min) when the run began: {load:.2f}"
    )
    report.notes.append(f"Caucus started in {caucus.start_seconds:.1f} s, the bare bot in {bare.start_seconds:.1f} s "
                        f"(process start to ready, {n} members)")  # fmt: skip
    tracebacks = (
        caucus.log_tracebacks + signing.log_tracebacks + (pg_caucus.log_tracebacks if pg_caucus else 0)
    )
    if tracebacks:
        report.notes.append(f"the bot's log has {tracebacks} traceback(s) in sections 1–7")
    for _, what, servers in configs:
        if servers is not None and (servers.log_tracebacks or servers.late_answers):
            report.notes.append(
                f"section 8, {what}: the bots' logs have {servers.log_tracebacks} traceback(s), "
                f"{servers.late_answers} mention(s) of Unknown interaction (answers after 3 s)"
            )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (under a minute)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    started = time.perf_counter()
    report = asyncio.run(run(sizes, args.quick, not args.quiet))
    report.notes.append(f"whole run: {time.perf_counter() - started:.0f} s")
    print(report.as_json() if args.json else report.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
