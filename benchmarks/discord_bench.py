"""Benchmarks through the fake Discord server: click bursts on the real bot and on a bare baseline bot,
the bot's memory, and vote latency as a poll grows."""

from __future__ import annotations

import asyncio
import re
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.bare_bot import CUSTOM_ID, DEFER_ID
from benchmarks.report import percentile
from tests import engines
from tests.e2e.conftest import Coalition, make_coalition
from tests.e2e.fake_discord import FakeDiscord, FakeMember, FakeMessage, Interaction
from tests.e2e.harness import ROOT, BotProcess
from tests.e2e.helpers import seed_orgs

SIGN = "Sign on behalf of your organisation"

TOKEN = "bench-token"
#: As Discord: an interaction not acknowledged within 3 s has failed.
ACK_DEADLINE = 3.0


@dataclass
class Burst:
    """The outcome of one burst of clicks."""

    clicks: int
    acked: int
    latencies: list[float]  # seconds, of acknowledged clicks
    span: float  # first dispatch to last acknowledgement, seconds
    dispatch: float  # how long the driver took to dispatch every click, seconds
    recorded: int | None = None  # what the database holds afterwards (ballots, positions)
    edits: int = 0  # edits of the clicked message by the bot (coalesced updates)

    @property
    def failed(self) -> int:
        return self.clicks - self.acked

    @property
    def rate(self) -> float:
        return self.acked / self.span if self.span > 0 else float("nan")

    def p(self, q: float) -> float:
        return percentile(self.latencies, q)

    @property
    def within_deadline(self) -> bool:
        """The whole burst, first dispatch to last acknowledgement, took at most 3 s, none failed."""
        return self.failed == 0 and self.span <= ACK_DEADLINE


@dataclass
class Bursts:
    """Repeated bursts of the same kind; figures are medians over the bursts (a 2-core machine is noisy)."""

    runs: list[Burst] = field(default_factory=list)

    def _median(self, values: list[float]) -> float:
        return statistics.median(values) if values else float("nan")

    def p(self, q: float) -> float:
        return self._median([b.p(q) for b in self.runs])

    @property
    def worst(self) -> float:
        return max((max(b.latencies, default=float("nan")) for b in self.runs), default=float("nan"))

    @property
    def rate(self) -> float:
        return self._median([b.rate for b in self.runs])

    @property
    def rates(self) -> tuple[float, float]:
        rates = [b.rate for b in self.runs]
        return (min(rates), max(rates)) if rates else (float("nan"), float("nan"))

    @property
    def clicks(self) -> int:
        return sum(b.clicks for b in self.runs)

    @property
    def failed(self) -> int:
        return sum(b.failed for b in self.runs)

    @property
    def recorded(self) -> int:
        return sum(b.recorded or 0 for b in self.runs)

    @property
    def span(self) -> float:
        return max((b.span for b in self.runs), default=float("nan"))

    @property
    def within_deadline(self) -> bool:
        return bool(self.runs) and all(b.within_deadline for b in self.runs)

    @property
    def edits(self) -> int:
        return max((b.edits for b in self.runs), default=0)

    @property
    def dispatch(self) -> float:
        return self._median([b.dispatch for b in self.runs])


@dataclass
class CaucusRun:
    poll: Bursts
    point: Bursts
    rss_idle_mb: float
    org_point: Bursts = field(default_factory=Bursts)  # a point counted per organisation
    org_positions: int = 0  # organisations' positions recorded by those bursts (one per organisation each)
    orgs: int = 0
    rss_after_mb: float = float("nan")
    growth: dict[int, list[float]] = field(default_factory=dict)  # ballots already in the poll -> latencies
    growth_failed: dict[int, int] = field(default_factory=dict)
    start_seconds: float = 0.0
    log_tracebacks: int = 0


@dataclass
class SignatureRun:
    """Bursts of signatures: representatives of as many organisations press Sign (the bot asks: listed by
    name, or counted only?), then Listed by name (the signature and its decision record entry)."""

    prompts: Bursts
    signatures: Bursts
    log_tracebacks: int = 0


@dataclass
class BareRun:
    bursts: Bursts  # answered with an ephemeral message, as Caucus answers
    deferred: Bursts  # only deferred: the protocol's floor
    rss_mb: float
    start_seconds: float


def build_world(
    fake: FakeDiscord, members: int, name: str = "Coalition", *, shard: tuple[int, int] | None = None
) -> tuple[Coalition, list[FakeMember]]:
    """One coalition server with ``members`` extra distinct members (created before any bot connects);
    ``shard=(id, count)``: a server whose events go to that shard."""
    coalition = make_coalition(fake, name, shard=shard)
    crowd = [fake.add_member(coalition.guild, f"member{n}") for n in range(members)]
    return coalition, crowd


async def seed_org_pairs(path: Path, guild_id: int, members: list[FakeMember]) -> int:
    """Before the bot starts: one verified organisation per two of ``members`` (in the five regions), both
    its representatives, the first its voice, written as the migrations define them (on the run's engine,
    ``tests.engines``). Returns how many."""
    db = await engines.open_db(path)  # creates and migrates the database as the bot would
    await db.close()
    now = int(time.time()) - 60
    regions = ("african", "asia_pacific", "eastern_european", "grulac", "weog")
    with engines.closing_raw(path) as raw:
        raw.execute(
            "INSERT INTO guilds (guild_id, name, joined_at) VALUES (?, 'Coalition', ?) ON CONFLICT DO NOTHING",
            (guild_id, now),
        )
        for n in range(len(members) // 2):
            org_id = raw.rows(
                "INSERT INTO orgs (guild_id, name, name_key, country, region, stakeholder, state, created_by, "
                "created_at, verified_by, verified_at) VALUES (?, ?, ?, 'FR', ?, 'civil_society', 'verified', 1, ?, "
                "1, ?) RETURNING org_id",
                (guild_id, f"Organisation {n}", f"organisation {n}", regions[n % 5], now, now),
            )[0][0]  # fmt: skip
            for k, member in enumerate(members[2 * n : 2 * n + 2]):
                rep_id = raw.rows(
                    "INSERT INTO org_reps (org_id, guild_id, user_id, state, requested_at, decided_by, started_at) "
                    "VALUES (?, ?, ?, 'active', ?, 1, ?) RETURNING rep_id",
                    (org_id, guild_id, member.id, now, now),
                )[0][0]
                if k == 0:
                    raw.execute(
                        "INSERT INTO org_voices (org_id, rep_id, started_at) VALUES (?, ?, ?)",
                        (org_id, rep_id, now),
                    )
    return len(members) // 2


def rss_mb(pid: int) -> float:
    """Resident memory of a process (VmRSS from /proc), in MB (10^6 bytes)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


async def burst(
    fake: FakeDiscord, message: FakeMessage, custom_ids: list[str], crowd: list[FakeMember]
) -> Burst:
    """Every member clicks once, all dispatched at once; wait until each is acknowledged or has failed."""
    plan = [(message, custom_ids[n % len(custom_ids)], m) for n, m in enumerate(crowd)]
    return (await clicks_at_once(fake, plan, message))[0]


async def clicks_at_once(
    fake: FakeDiscord, plan: list[tuple[FakeMessage, str, FakeMember]], watched: FakeMessage
) -> tuple[Burst, list[Interaction]]:
    """Each (message, button, member) clicked, all dispatched at once; wait until each is acknowledged or has
    failed. ``watched`` is the message whose edits are counted."""
    edits_before = fake.message_edits[watched.id]
    started = time.perf_counter()
    clicks: list[Interaction] = list(
        await asyncio.gather(*(fake.click(message, custom_id, m) for message, custom_id, m in plan))
    )
    dispatch = time.perf_counter() - started
    # Poll a counter rather than registering 1,000 waiters: the fake re-checks every waiter on each
    # request it serves, and that would slow down the server we measure through.
    last_dispatch = max(i.dispatched_at for i in clicks)
    while sum(i.acknowledged for i in clicks) < len(clicks):
        if time.monotonic() > last_dispatch + ACK_DEADLINE + 0.5:
            break
        await asyncio.sleep(0.02)
    acked = [i for i in clicks if i.acknowledged and i.ack_latency is not None]
    first = min(i.dispatched_at for i in clicks)
    last = max((i.dispatched_at + (i.ack_latency or 0.0) for i in acked), default=first)
    return Burst(
        clicks=len(clicks), acked=len(acked), latencies=[i.ack_latency or 0.0 for i in acked],
        span=last - first, dispatch=dispatch, edits=fake.message_edits[watched.id] - edits_before,
    ), clicks  # fmt: skip


async def settle_edits(
    fake: FakeDiscord, message: FakeMessage, quiet: float = 1.6, limit: float = 8.0
) -> None:
    """Wait until the bot stopped editing a message (its updater edits at most once a second)."""
    deadline = time.monotonic() + limit
    last_count, last_change = fake.message_edits[message.id], time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        count = fake.message_edits[message.id]
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        elif time.monotonic() - last_change >= quiet:
            return


async def slash_message(
    fake: FakeDiscord, guild: object, member: FakeMember, path: str, **options: object
) -> FakeMessage:
    itx = await fake.slash(guild, member, path, options=options)  # type: ignore[arg-type]
    await itx.response(timeout=5.0)
    if itx.message is None:
        raise RuntimeError(f"/{path} gave no message: {itx.text!r}")
    return itx.message


def agree_ids(message: FakeMessage) -> list[str]:
    """The Agree button of a point's card; a card without one (the bot answered with an error) stops the run
    with what the bot said."""
    found = [cid for _, cid, _ in message.buttons() if cid and cid.endswith(":agree")]
    if not found:
        raise RuntimeError(f"no Agree button on the bot's answer: {message.text[:300]!r}")
    return found


def db_value(path: Path, sql: str, params: tuple[object, ...] = ()) -> int:
    """One number from the bot's database (SQLite or PostgreSQL: ``tests.engines``), read apart from the bot."""
    rows = engines.raw_rows(path, sql, params)
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def prefill_ballots(path: Path, poll_id: int, count: int) -> None:
    """``count`` ballots from made-up voters (user ids 1..count, never a real snowflake), split over two
    options, in one statement both engines read; the migration's triggers keep poll_counts and
    polls.ballots in step, as for a real vote."""
    with engines.closing_raw(path) as raw:
        raw.execute(
            "WITH RECURSIVE voter (uid) AS (SELECT 1 UNION ALL SELECT uid + 1 FROM voter WHERE uid < ?) "
            "INSERT INTO poll_votes (poll_id, user_id, picks, updated_at) "
            "SELECT ?, uid, 1 + uid % 2, 1700000000 FROM voter",
            (count, poll_id),
        )


async def warm_up(fake: FakeDiscord, message: FakeMessage, custom_id: str, members: list[FakeMember]) -> None:
    """A few clicks first, so first-use costs (imports, caches) are not in the burst."""
    for member in members:
        itx = await fake.click(message, custom_id, member)
        await itx.response(timeout=5.0)


async def run_caucus(
    folder: Path, clicks: int, repeat: int, growth_sizes: list[int], growth_votes: int
) -> CaucusRun:
    """The real bot (``python -m bot run``) against a fake with ``clicks`` members: ``repeat`` poll and
    point bursts (a fresh poll and point each time), RSS idle and after, then vote latency growth."""
    folder.mkdir(parents=True, exist_ok=True)
    async with FakeDiscord(token=TOKEN) as fake:
        c, crowd = build_world(fake, max(clicks, growth_votes))
        bot = BotProcess(fake, folder)
        orgs = await seed_org_pairs(bot.db_path, c.guild.id, crowd[:clicks])
        started = time.perf_counter()
        await bot.start(timeout=60.0)
        start_seconds = time.perf_counter() - started
        assert bot.process is not None
        pid = bot.process.pid
        try:
            await asyncio.sleep(1.0)
            run = CaucusRun(Bursts(), Bursts(), rss_mb(pid), start_seconds=start_seconds, orgs=orgs)
            warm_poll = await slash_message(
                fake, c.guild, c.coco, "poll create", question="Warm-up?", options="A; B"
            )
            await warm_up(fake, warm_poll, warm_poll.buttons()[0][1] or "", [c.alice, c.bob, c.carol])
            warm_point = await slash_message(
                fake, c.guild, c.coco, "consensus propose", kind="point", text="Warm-up point"
            )
            agree = agree_ids(warm_point)
            await warm_up(fake, warm_point, agree[0], [c.alice, c.bob, c.carol])
            warm_org = await slash_message(fake, c.guild, c.coco, "consensus propose", kind="point",
                                           text="Warm-up per organisation", count="organisations")  # fmt: skip
            agree = agree_ids(warm_org)
            await warm_up(fake, warm_org, agree[0], [crowd[0], crowd[1], c.alice])
            for n in range(repeat):
                poll_msg = await slash_message(
                    fake, c.guild, c.coco, "poll create", question=f"Burst {n + 1}?", options="Yes; No"
                )
                poll_ids = [cid for _, cid, _ in poll_msg.buttons() if cid]
                poll = await burst(fake, poll_msg, poll_ids, crowd[:clicks])
                point_msg = await slash_message(
                    fake, c.guild, c.coco, "consensus propose", kind="point", text=f"Burst point {n + 1}"
                )
                agree = agree_ids(point_msg)
                point = await burst(fake, point_msg, agree, crowd[:clicks])
                # let the coalesced edits go out before the next burst, and count them; what is recorded is
                # read after them, so a click answered too late (its vote still recorded) is counted too
                await asyncio.gather(settle_edits(fake, poll_msg), settle_edits(fake, point_msg))
                poll.recorded = db_value(
                    bot.db_path, "SELECT ballots FROM polls WHERE poll_id = ?", (poll_id_of(poll_ids[0]),)
                )
                point.recorded = db_value(
                    bot.db_path,
                    "SELECT count(*) FROM positions WHERE item_id = ?",
                    (int(agree[0].split(":")[3]),),
                )
                poll.edits = fake.message_edits[poll_msg.id]
                point.edits = fake.message_edits[point_msg.id]
                run.poll.runs.append(poll)
                run.point.runs.append(point)
                # the same burst on a point counted per organisation: every click also looks up whom the
                # member represents (in the same transaction); half of them speak for their organisation
                org_msg = await slash_message(fake, c.guild, c.coco, "consensus propose", kind="point",
                                              text=f"Burst point per organisation {n + 1}", count="organisations")  # fmt: skip
                agree = agree_ids(org_msg)
                org_point = await burst(fake, org_msg, agree, crowd[:clicks])
                item_id = int(agree[0].split(":")[3])
                await settle_edits(fake, org_msg)
                org_point.recorded = db_value(
                    bot.db_path, "SELECT count(*) FROM positions WHERE item_id = ?", (item_id,)
                )
                run.org_positions += db_value(
                    bot.db_path, "SELECT count(*) FROM org_positions WHERE item_id = ?", (item_id,)
                )
                org_point.edits = fake.message_edits[org_msg.id]
                run.org_point.runs.append(org_point)
            run.rss_after_mb = rss_mb(pid)
            await vote_growth(fake, bot, c, crowd[:growth_votes], growth_sizes, run)
        finally:
            code = await bot.stop()
            if code != 0:
                print(f"the bot exited with {code}; its log: {bot.log_path}", file=sys.stderr)
        run.log_tracebacks = bot.log().count("Traceback")
        return run


async def vote_growth(
    fake: FakeDiscord,
    bot: BotProcess,
    c: Coalition,
    voters: list[FakeMember],
    sizes: list[int],
    run: CaucusRun,
) -> None:
    """For each size, a poll pre-filled with that many ballots, then ``len(voters)`` votes one after another."""
    polls: dict[int, tuple[FakeMessage, list[str], int]] = {}
    for size in sizes:
        msg = await slash_message(fake, c.guild, c.coco, "poll create", question=f"Poll with {size} ballots?",
                                  options="Yes; No")  # fmt: skip
        ids = [cid for _, cid, _ in msg.buttons() if cid]
        poll_id = poll_id_of(ids[0])
        await asyncio.to_thread(prefill_ballots, bot.db_path, poll_id, size)
        polls[size] = (msg, ids, poll_id)
    for size in sizes:
        msg, ids, _ = polls[size]
        latencies: list[float] = []
        failed = 0
        for n, member in enumerate(voters):
            itx = await fake.click(msg, ids[n % 2], member)
            await fake.wait_until(lambda i=itx: i.acknowledged, timeout=ACK_DEADLINE + 0.5)  # type: ignore[misc]
            if itx.acknowledged and itx.ack_latency is not None:
                latencies.append(itx.ack_latency)
            else:
                failed += 1
        run.growth[size] = latencies
        run.growth_failed[size] = failed
        await settle_edits(fake, msg, quiet=1.2, limit=4.0)


async def run_bare(folder: Path, clicks: int, repeat: int) -> BareRun:
    """The baseline: the same world and burst, answered by a bare discord.py bot in its own process."""
    async with FakeDiscord(token=TOKEN) as fake:
        c, crowd = build_world(fake, clicks)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        with (folder / "bare.log").open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "benchmarks.bare_bot", fake.api_base_url, fake.gateway_url, TOKEN,
                cwd=str(ROOT), stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            )  # fmt: skip
        try:
            await fake.wait_ready(timeout=60.0)
            start_seconds = time.perf_counter() - started
            buttons = [
                {"type": 2, "style": 1, "label": "Ack", "custom_id": cid} for cid in (CUSTOM_ID, DEFER_ID)
            ]
            message = FakeMessage(
                id=fake.new_id(), channel_id=c.general.id, guild=c.guild, author=fake.bot_user, content="Ack",
                components=[{"type": 1, "components": buttons}],
            )  # fmt: skip
            fake.store_message(message)
            await warm_up(fake, message, CUSTOM_ID, [c.alice, c.bob, c.carol])
            await warm_up(fake, message, DEFER_ID, [c.alice, c.bob, c.carol])
            answered, deferred = Bursts(), Bursts()
            for _ in range(repeat):
                answered.runs.append(await burst(fake, message, [CUSTOM_ID], crowd))
                await asyncio.sleep(1.0)  # as long a pause as the real bot gets between bursts
                deferred.runs.append(await burst(fake, message, [DEFER_ID], crowd))
                await asyncio.sleep(1.0)
            return BareRun(answered, deferred, rss_mb(process.pid), start_seconds)
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 10.0)
                except TimeoutError:
                    process.kill()
                    await process.wait()


def poll_id_of(custom_id: str) -> int:
    match = re.fullmatch(r"poll:vote:v1:(\d+):\d+", custom_id)
    if match is None:
        raise ValueError(custom_id)
    return int(match.group(1))


async def open_statement(fake: FakeDiscord, c: Coalition, number: int) -> FakeMessage:
    """Statement ``number`` drafted, given a text and opened in #general; returns its card."""
    for path, options in (("statement draft", {"title": f"Burst statement {number}"}),
                          ("statement edit", {"statement": str(number), "text": "We sign this."}),
                          ("statement open", {"statement": str(number), "duration": "1d"})):  # fmt: skip
        itx = await fake.slash(c.guild, c.coco, path, options=options)
        await itx.response(timeout=5.0)
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        cards = [m for m in fake.messages(c.general) if f"Statement #{number} ·" in m.text and m.buttons()]
        if cards:
            return cards[-1]
        await asyncio.sleep(0.05)
    raise RuntimeError(f"statement #{number} was never posted")


def label_id(message: FakeMessage, label: str) -> str:
    return next(cid for text, cid, _ in message.buttons() if text == label and cid)


async def sign_burst(fake: FakeDiscord, card: FakeMessage, crowd: list[FakeMember]) -> tuple[Burst, Burst]:
    """Everyone presses Sign at once, then Listed by name on the question they got, at once."""
    prompted, prompts = await clicks_at_once(fake, [(card, label_id(card, SIGN), m) for m in crowd], card)
    answerable = [(p.message, label_id(p.message, "Listed by name"), m) for p, m in zip(prompts, crowd, strict=True)
                  if p.message is not None and p.message.buttons()]  # fmt: skip
    signed, _ = await clicks_at_once(fake, answerable, card)
    return prompted, signed


async def run_signatures(folder: Path, signers: int, repeat: int) -> SignatureRun:
    """The real bot, ``signers`` organisations each with one representative (written into the database before
    it starts): ``repeat`` bursts, each on a fresh statement."""
    folder.mkdir(parents=True, exist_ok=True)
    async with FakeDiscord(token=TOKEN) as fake:
        c, crowd = build_world(fake, signers)
        bot = BotProcess(fake, folder)
        await seed_orgs(bot.db_path, c.guild, crowd)
        await bot.start(timeout=60.0)
        run = SignatureRun(Bursts(), Bursts())
        try:
            warm = await open_statement(fake, c, 1)  # first-use costs out of the bursts
            await sign_burst(fake, warm, crowd[:3])
            for n in range(repeat):
                card = await open_statement(fake, c, n + 2)
                prompted, signed = await sign_burst(fake, card, crowd)
                statement_id = int(label_id(card, SIGN).rsplit(":", 1)[1])
                signed.recorded = db_value(
                    bot.db_path,
                    "SELECT count(*) FROM statement_signatures WHERE statement_id = ?",
                    (statement_id,),
                )
                await settle_edits(fake, card)
                signed.edits = fake.message_edits[card.id]
                run.prompts.runs.append(prompted)
                run.signatures.runs.append(signed)
        finally:
            code = await bot.stop()
            if code != 0:
                print(f"the bot exited with {code}; its log: {bot.log_path}", file=sys.stderr)
        run.log_tracebacks = bot.log().count("Traceback")
        return run


# -- several servers at once, on one or several bot processes ---------------------------------------


@dataclass
class ServersRun:
    """Bursts on ``servers`` servers at once (each server's own poll, clicked by its own members), answered by
    ``processes`` bot processes sharing one database, each holding its share of ``shards`` shards."""

    servers: int
    processes: int
    shards: int
    #: a Burst per round, every server's clicks together: acknowledged within Discord's 3 s
    bursts: Bursts = field(default_factory=Bursts)
    #: the same rounds counting every answer the bot sent, in time or refused as too late (Unknown
    #: interaction): ``acked`` is how many it answered at all, ``rate`` its answering throughput
    answers: Bursts = field(default_factory=Bursts)
    #: per round: ballots in the database ÷ (first dispatch → the last ballot recorded), /s
    record_rates: list[float] = field(default_factory=list)
    #: per round: first dispatch → every ballot recorded (or the last one seen), s
    record_spans: list[float] = field(default_factory=list)
    per_process: list[int] = field(default_factory=list)  # servers each process held
    start_seconds: float = 0.0
    log_tracebacks: int = 0
    late_answers: int = 0  # answers refused as too late (Unknown interaction), counted in the logs

    @property
    def record_rate(self) -> float:
        return statistics.median(self.record_rates) if self.record_rates else float("nan")


async def shards_ready(fake: FakeDiscord, holders: dict[int, BotProcess], timeout: float = 60.0) -> None:
    """Wait until each shard's session is ready (its process said so on the gateway), as test_processes."""
    deadline = time.monotonic() + timeout
    while True:
        waiting = [s for s in holders if not ((session := fake.gateway.sessions.get(s)) and session.is_ready)]
        if not waiting:
            return
        for bot in set(holders.values()):
            if bot.process is not None and bot.process.returncode is not None:
                raise RuntimeError(f"bot exited with {bot.process.returncode}:\n{bot.log()[-4000:]}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"shards {waiting} not ready within {timeout}s")
        await asyncio.sleep(0.05)


async def watch_ballots(
    path: Path, poll_ids: list[int], expected: int, stop: asyncio.Event, quiet: float = 10.0
) -> tuple[int, float]:
    """Sample the ballots of these polls in the database every 0.1 s, on one connection of our own and a
    thread of its own (the fake shares this event loop), until ``expected`` are there, or none came for
    ``quiet`` s after ``stop``; returns (ballots, when the count was last seen rising: monotonic)."""
    sql = f"SELECT coalesce(sum(ballots), 0) FROM polls WHERE poll_id IN ({', '.join('?' * len(poll_ids))})"
    loop = asyncio.get_running_loop()
    thread = ThreadPoolExecutor(1, thread_name_prefix="bench-ballots")  # SQLite: one connection, one thread
    raw = await loop.run_in_executor(thread, lambda: engines.Raw(path, autocommit=True))

    def count() -> int:
        rows = raw.rows(sql, tuple(poll_ids))
        return int(rows[0][0] or 0) if rows else 0

    seen, rose = 0, time.monotonic()
    try:
        while True:
            value = await loop.run_in_executor(thread, count)
            now = time.monotonic()
            if value != seen:
                seen, rose = value, now
            if seen >= expected or (stop.is_set() and now - rose > quiet):
                return seen, rose
            await asyncio.sleep(0.1)
    finally:
        await loop.run_in_executor(thread, raw.close)
        thread.shutdown(wait=False)


async def clicks_and_answers(
    fake: FakeDiscord,
    plan: list[tuple[FakeMessage, str, FakeMember]],
    quiet: float = 10.0,
    limit: float = 300.0,
) -> tuple[Burst, Burst, list[Interaction]]:
    """Each (message, button, member) clicked, all dispatched at once; wait until the bot answered every one,
    in time or too late (the fake refuses an answer after 3 s, and marks the click failed, as Discord), or
    gave none for ``quiet`` s. Returns the clicks acknowledged in time, and every answer (a late answer's
    time is when it was seen refused: sampled every 50 ms)."""
    started = time.perf_counter()
    itxs: list[Interaction] = list(
        await asyncio.gather(*(fake.click(message, custom_id, m) for message, custom_id, m in plan))
    )
    dispatch = time.perf_counter() - started
    first = min(i.dispatched_at for i in itxs)
    answered_at: dict[int, float] = {}
    pending = set(range(len(itxs)))
    last_change = time.monotonic()
    while pending:
        now = time.monotonic()
        done = [n for n in pending if itxs[n].acknowledged or itxs[n].failed]
        for n in done:
            itx = itxs[n]
            answered_at[n] = itx.dispatched_at + itx.ack_latency if itx.ack_latency is not None else now
        pending.difference_update(done)
        if done:
            last_change = now
        elif now - last_change > quiet or now - first > limit:
            break
        await asyncio.sleep(0.05)
    acked = [i for i in itxs if i.acknowledged and i.ack_latency is not None]
    in_time = Burst(
        clicks=len(itxs), acked=len(acked), latencies=[i.ack_latency or 0.0 for i in acked],
        span=max((i.dispatched_at + (i.ack_latency or 0.0) for i in acked), default=first) - first,
        dispatch=dispatch,
    )  # fmt: skip
    every = Burst(
        clicks=len(itxs), acked=len(answered_at), latencies=[t - itxs[n].dispatched_at for n, t in answered_at.items()],
        span=max(answered_at.values(), default=first) - first, dispatch=dispatch,
    )  # fmt: skip
    return in_time, every, itxs


async def run_servers(
    folder: Path, servers: int, clicks: int, repeat: int, *, processes: int, shards: int = 2
) -> ServersRun:
    """``servers`` servers (split evenly over ``shards`` shards), each with ``clicks`` distinct members; bot
    processes sharing one database (PostgreSQL or SQLite, as ``tests.engines`` runs), one holding every
    shard or one per shard; ``repeat`` rounds, each a fresh poll in every server and every member of every
    server clicking at once (interleaved across servers)."""
    if processes not in (1, shards):
        raise ValueError("one process holding every shard, or one process per shard")
    folder.mkdir(parents=True, exist_ok=True)
    async with FakeDiscord(token=TOKEN) as fake:
        worlds = [
            build_world(fake, clicks, f"Coalition {k}", shard=(k % shards, shards)) for k in range(servers)
        ]
        shared = folder / "shared" / "caucus.db"  # the key files' place, the same for every process
        shared.parent.mkdir(exist_ok=True)
        storage = {"path": str(shared), "url": engines.url_for(shared)}
        held = [list(range(shards))] if processes == 1 else [[s] for s in range(shards)]
        for n in range(len(held)):
            (folder / f"process{n}").mkdir(exist_ok=True)
        bots = [
            BotProcess(fake, folder / f"process{n}", discord={"shard_count": shards, "shard_ids": ids},
                       storage=storage)
            for n, ids in enumerate(held)
        ]  # fmt: skip
        run = ServersRun(servers, processes, shards)
        run.per_process = [sum((c.guild.id >> 22) % shards in ids for c, _ in worlds) for ids in held]
        started = time.perf_counter()
        await asyncio.gather(*(bot.start(wait_ready=False) for bot in bots))
        try:
            await shards_ready(fake, {s: bot for bot, ids in zip(bots, held, strict=True) for s in ids})
            run.start_seconds = time.perf_counter() - started
            await asyncio.sleep(1.0)

            async def warm(c: Coalition) -> None:
                msg = await slash_message(
                    fake, c.guild, c.coco, "poll create", question="Warm-up?", options="A; B"
                )
                await warm_up(fake, msg, msg.buttons()[0][1] or "", [c.alice, c.bob, c.carol])

            await asyncio.gather(*(warm(c) for c, _ in worlds))
            for n in range(repeat):
                messages = await asyncio.gather(*(
                    slash_message(fake, c.guild, c.coco, "poll create", question=f"Burst {n + 1}?", options="Yes; No")
                    for c, _ in worlds
                ))  # fmt: skip
                buttons = [[cid for _, cid, _ in m.buttons() if cid] for m in messages]
                poll_ids = [poll_id_of(ids[0]) for ids in buttons]
                plan = [
                    (messages[k], buttons[k][i % len(buttons[k])], crowd[i])
                    for i in range(clicks)
                    for k, (_, crowd) in enumerate(worlds)
                ]
                expected = len(plan)
                answered = asyncio.Event()
                watcher = asyncio.create_task(watch_ballots(shared, poll_ids, expected, answered))
                try:
                    result, answers, itxs = await clicks_and_answers(fake, plan)
                finally:
                    answered.set()
                recorded, last = await watcher
                first = min(i.dispatched_at for i in itxs)
                result.recorded = answers.recorded = recorded
                span = last - first
                run.record_spans.append(span)
                run.record_rates.append(recorded / span if span > 0 else float("nan"))
                await asyncio.gather(*(settle_edits(fake, m) for m in messages))
                result.edits = max(fake.message_edits[m.id] for m in messages)
                run.bursts.runs.append(result)
                run.answers.runs.append(answers)
        finally:
            codes = await asyncio.gather(*(bot.stop() for bot in bots), return_exceptions=True)
            for bot, code in zip(bots, codes, strict=True):
                if code != 0:
                    print(f"a bot exited with {code}; its log: {bot.log_path}", file=sys.stderr)
        logs = [bot.log() for bot in bots]
        run.log_tracebacks = sum(log.count("Traceback") for log in logs)
        run.late_answers = sum(log.count("Unknown interaction") for log in logs)
        return run
