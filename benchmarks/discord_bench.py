"""Benchmarks through the fake Discord server: click bursts on the real bot and on a bare baseline bot,
the bot's memory, and vote latency as a poll grows."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.bare_bot import CUSTOM_ID, DEFER_ID
from benchmarks.report import percentile
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


def build_world(fake: FakeDiscord, members: int) -> tuple[Coalition, list[FakeMember]]:
    """One coalition server with ``members`` extra distinct members (created before any bot connects)."""
    coalition = make_coalition(fake)
    crowd = [fake.add_member(coalition.guild, f"member{n}") for n in range(members)]
    return coalition, crowd


async def seed_org_pairs(path: Path, guild_id: int, members: list[FakeMember]) -> int:
    """Before the bot starts: one verified organisation per two of ``members`` (in the five regions), both
    its representatives, the first its voice, written as the migrations define them. Returns how many."""
    from storage.db import Database

    db = await Database.open(path)  # creates and migrates the file
    try:
        now = int(time.time()) - 60
        regions = ("african", "asia_pacific", "eastern_european", "grulac", "weog")
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO guilds (guild_id, name, joined_at) VALUES (:g, 'Coalition', :now)",
                {"g": guild_id, "now": now},
            )
            for n in range(len(members) // 2):
                cursor = await conn.execute(
                    "INSERT INTO orgs (guild_id, name, name_key, country, region, stakeholder, state, created_by, "
                    "created_at, verified_by, verified_at) VALUES (:g, :name, :key, 'FR', :region, 'civil_society', "
                    "'verified', 1, :now, 1, :now)",
                    {"g": guild_id, "name": f"Organisation {n}", "key": f"organisation {n}", "region": regions[n % 5],
                     "now": now},
                )  # fmt: skip
                org_id = cursor.lastrowid
                for k, member in enumerate(members[2 * n : 2 * n + 2]):
                    rep = await conn.execute(
                        "INSERT INTO org_reps (org_id, guild_id, user_id, state, requested_at, decided_by, started_at) "
                        "VALUES (:o, :g, :u, 'active', :now, 1, :now)",
                        {"o": org_id, "g": guild_id, "u": member.id, "now": now},
                    )
                    if k == 0:
                        await conn.execute(
                            "INSERT INTO org_voices (org_id, rep_id, started_at) VALUES (:o, :r, :now)",
                            {"o": org_id, "r": rep.lastrowid, "now": now},
                        )
        return len(members) // 2
    finally:
        await db.close()


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


def db_value(path: Path, sql: str, params: tuple[object, ...] = ()) -> int:
    conn = sqlite3.connect(path, timeout=15)
    try:
        row = conn.execute(sql, params).fetchone()
        return int(row[0]) if row and row[0] is not None else 0
    finally:
        conn.close()


def prefill_ballots(path: Path, poll_id: int, count: int) -> None:
    """``count`` ballots from made-up voters (user ids 1..count, never a real snowflake), split over two
    options; the migration's triggers keep poll_counts and polls.ballots in step, as for a real vote."""
    conn = sqlite3.connect(path, timeout=15, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO poll_votes (poll_id, user_id, picks, updated_at) VALUES (?, ?, ?, ?)",
            ((poll_id, uid, 1 + (uid % 2), 1_700_000_000) for uid in range(1, count + 1)),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


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
            agree = [cid for _, cid, _ in warm_point.buttons() if cid and cid.endswith(":agree")]
            await warm_up(fake, warm_point, agree[0], [c.alice, c.bob, c.carol])
            warm_org = await slash_message(fake, c.guild, c.coco, "consensus propose", kind="point",
                                           text="Warm-up per organisation", count="organisations")  # fmt: skip
            agree = [cid for _, cid, _ in warm_org.buttons() if cid and cid.endswith(":agree")]
            await warm_up(fake, warm_org, agree[0], [crowd[0], crowd[1], c.alice])
            for n in range(repeat):
                poll_msg = await slash_message(
                    fake, c.guild, c.coco, "poll create", question=f"Burst {n + 1}?", options="Yes; No"
                )
                poll_ids = [cid for _, cid, _ in poll_msg.buttons() if cid]
                poll = await burst(fake, poll_msg, poll_ids, crowd[:clicks])
                poll.recorded = db_value(
                    bot.db_path, "SELECT ballots FROM polls WHERE poll_id = ?", (poll_id_of(poll_ids[0]),)
                )
                point_msg = await slash_message(
                    fake, c.guild, c.coco, "consensus propose", kind="point", text=f"Burst point {n + 1}"
                )
                agree = [cid for _, cid, _ in point_msg.buttons() if cid and cid.endswith(":agree")]
                point = await burst(fake, point_msg, agree, crowd[:clicks])
                point.recorded = db_value(
                    bot.db_path,
                    "SELECT count(*) FROM positions WHERE item_id = ?",
                    (int(agree[0].split(":")[3]),),
                )
                # let the coalesced edits go out before the next burst, and count them
                await asyncio.gather(settle_edits(fake, poll_msg), settle_edits(fake, point_msg))
                poll.edits = fake.message_edits[poll_msg.id]
                point.edits = fake.message_edits[point_msg.id]
                run.poll.runs.append(poll)
                run.point.runs.append(point)
                # the same burst on a point counted per organisation: every click also looks up whom the
                # member represents (in the same transaction); half of them speak for their organisation
                org_msg = await slash_message(fake, c.guild, c.coco, "consensus propose", kind="point",
                                              text=f"Burst point per organisation {n + 1}", count="organisations")  # fmt: skip
                agree = [cid for _, cid, _ in org_msg.buttons() if cid and cid.endswith(":agree")]
                org_point = await burst(fake, org_msg, agree, crowd[:clicks])
                item_id = int(agree[0].split(":")[3])
                org_point.recorded = db_value(
                    bot.db_path, "SELECT count(*) FROM positions WHERE item_id = ?", (item_id,)
                )
                run.org_positions += db_value(
                    bot.db_path, "SELECT count(*) FROM org_positions WHERE item_id = ?", (item_id,)
                )
                await settle_edits(fake, org_msg)
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
