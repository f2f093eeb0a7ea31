"""``python -m benchmarks [--quick] [--json]``: run every benchmark and print one table (or JSON object)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import discord_bench as dbench
from benchmarks import storage_bench as sbench
from benchmarks.report import Report, percentile


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


FULL = Sizes(clicks=1000, reminders=10_000, points=1000, positions=100, growth=(100, 1_000, 10_000, 100_000),
             growth_votes=200, repeat=3)  # fmt: skip
QUICK = Sizes(
    clicks=200,
    reminders=2_000,
    points=200,
    positions=50,
    growth=(100, 1_000, 10_000),
    growth_votes=50,
    repeat=1,
)

MS = 1000.0


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


async def run(sizes: Sizes, quick: bool, progress: bool) -> Report:
    def step(text: str) -> None:
        if progress:
            print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    report = Report(quick=quick)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="caucus-bench-") as tmp:
        folder = Path(tmp)
        step(f"SQLite upserts ({sizes.clicks:,}): plain sqlite3, then Database.run")
        floor = await asyncio.to_thread(sbench.plain_sqlite_upserts, folder / "floor.db", sizes.clicks)
        our_path = await sbench.database_run_upserts(folder / "upserts.db", sizes.clicks)
        step(f"bare discord.py bot: burst of {sizes.clicks:,} clicks")
        bare = await dbench.run_bare(folder / "bare", sizes.clicks, sizes.repeat)
        step(f"Caucus bot: bursts of {sizes.clicks:,} clicks, memory, vote latency growth")
        caucus = await dbench.run_caucus(
            folder / "caucus", sizes.clicks, sizes.repeat, list(sizes.growth), sizes.growth_votes
        )
        step(f"Caucus bot: bursts of {sizes.signatures:,} signatures")
        signing = await dbench.run_signatures(folder / "signatures", sizes.signatures, sizes.repeat)
        step(f"{sizes.reminders:,} pending reminders due within ~5 s")
        near = await sbench.pending_reminders(folder / "reminders.db", sizes.reminders, far=False)
        step(f"{sizes.reminders:,} pending reminders due in 30+ days")
        far = await sbench.pending_reminders(folder / "reminders-far.db", sizes.reminders, far=True)
        step(f"summary export: {sizes.points:,} points × {sizes.positions} positions")
        export = await sbench.summary_export(folder / "export.db", sizes.points, sizes.positions)

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

    report.section("3. SQLite, same run, same machine: the floor, and our path")
    report.add("sqlite.floor_upserts_per_s", f"plain sqlite3, WAL: upserts/s ({n}, 1 txn each)", floor, "/s",
               digits=0)  # fmt: skip
    report.add("sqlite.db_run_upserts_per_s", f"Database.run, {n} concurrent clicks' upserts: /s", our_path,
               "/s", digits=0)  # fmt: skip
    report.add(
        "sqlite.poll_clicks_share", "poll clicks/s ÷ Database.run upserts/s", caucus.poll.rate / our_path,
        "×", digits=2,
    )  # fmt: skip

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

    report.notes.append(
        f"bursts: {sizes.repeat} of each kind; latency and clicks/s figures are medians over them. "
        f"Load average (1 min) when the run began: {load:.2f}"
    )
    report.notes.append(f"Caucus started in {caucus.start_seconds:.1f} s, the bare bot in {bare.start_seconds:.1f} s "
                        f"(process start to ready, {n} members)")  # fmt: skip
    if caucus.log_tracebacks or signing.log_tracebacks:
        report.notes.append(
            f"the bot's log has {caucus.log_tracebacks + signing.log_tracebacks} traceback(s)"
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
