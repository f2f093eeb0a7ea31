"""Scheduled posts: claimed before sending so none goes out twice, retried once, recovered after a crash."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.clock import FakeClock, to_unix
from domain.posts import LATE_AFTER, MAX_ATTEMPTS, SENT, SKIPPED, Post, PostBook
from storage import posts as post_rows
from storage import servers as server_rows
from storage.db import Database
from tests import engines

GUILD = 1001
KIND = "test_post"
T0 = int(datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp())  # the fake clock's start


def rows(db: Database, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows as a second connection sees them."""
    return engines.raw_rows(db.path, sql, params)


def execute(db: Database, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Change the database behind the bot's back (what a process that died would have left)."""
    with engines.closing_raw(db.path) as raw:
        raw.execute(sql, params)


def state(db: Database, post_id: int) -> tuple[str, int, int | None, int | None, int]:
    """(state, attempts, claimed_at, done_at, late) of one post."""
    found = rows(
        db,
        "SELECT state, attempts, claimed_at, done_at, late FROM scheduled_posts WHERE post_id = ?",
        (post_id,),
    )
    assert len(found) == 1
    return found[0]


async def plan(db: Database, due_at: int, ref_id: int = 1, kind: str = KIND) -> int:
    """Plan one post the way the domain does; returns its id."""
    async with db.transaction() as conn:
        await server_rows.ensure_guild(conn, GUILD, T0)
        await post_rows.add_posts(conn, GUILD, kind, ref_id, [due_at])
    planned = [p for p in await post_rows.posts_for(db, kind, ref_id) if p.due_at == due_at]
    assert len(planned) == 1
    return planned[0].post_id


class Recorder:
    """A handler that records the posts it was given and answers ``result`` (or raises)."""

    def __init__(self, result: str = SENT, *, fail: bool = False, pause: float = 0.0) -> None:
        self.result = result
        self.fail = fail
        self.pause = pause
        self.calls: list[Post] = []

    async def __call__(self, post: Post) -> str:
        self.calls.append(post)
        if self.pause:
            await asyncio.sleep(self.pause)
        if self.fail:
            raise RuntimeError("Discord said no")
        return self.result


@pytest.fixture
async def book(db: Database, clock: FakeClock) -> PostBook:
    """The book as the dispatcher uses it: recovered at start-up (which also sets when dispatching began)."""
    started = PostBook(db, clock)
    await started.recover()
    return started


async def test_a_post_is_claimed_handled_and_marked_sent(
    book: PostBook, db: Database, clock: FakeClock
) -> None:
    post_id = await plan(db, T0 + 5)
    assert state(db, post_id) == ("pending", 0, None, None, 0)
    handler = Recorder()
    clock.advance(timedelta(seconds=5))
    assert await book.run_due(T0 + 5, {KIND: handler}) == 1
    assert [(p.post_id, p.kind, p.ref_id, p.due_at, p.state, p.attempts, p.late) for p in handler.calls] == [
        (post_id, KIND, 1, T0 + 5, "claimed", 1, False)
    ]
    assert state(db, post_id) == ("sent", 1, T0 + 5, T0 + 5, 0)
    # running it again does nothing: it is no longer pending
    assert await book.run_due(T0 + 5, {KIND: handler}) == 0
    assert len(handler.calls) == 1
    assert state(db, post_id) == ("sent", 1, T0 + 5, T0 + 5, 0)


async def test_run_due_takes_only_posts_due_by_then(book: PostBook, db: Database, clock: FakeClock) -> None:
    early, later = await plan(db, T0, ref_id=1), await plan(db, T0 + 60, ref_id=2)
    handler = Recorder()
    assert await book.run_due(T0, {KIND: handler}) == 1
    assert [p.post_id for p in handler.calls] == [early]
    assert state(db, later)[0] == "pending"
    assert await book.due_times(T0 + 3600) == [T0 + 60]


async def test_a_handler_can_skip_a_post(book: PostBook, db: Database) -> None:
    post_id = await plan(db, T0)
    assert await book.run_due(T0, {KIND: Recorder(SKIPPED)}) == 1
    assert state(db, post_id)[:2] == ("skipped", 1)


async def test_a_post_without_a_handler_is_skipped(book: PostBook, db: Database) -> None:
    post_id = await plan(db, T0, kind="nobody_handles_this")
    handler = Recorder()
    assert await book.run_due(T0, {KIND: handler}) == 1
    assert state(db, post_id)[:2] == ("skipped", 1)
    assert handler.calls == []


async def test_nothing_due_runs_nothing(book: PostBook, db: Database) -> None:
    handler = Recorder()
    assert await book.run_due(T0 + 3600, {KIND: handler}) == 0
    assert handler.calls == []


async def test_a_cancelled_post_is_not_run(book: PostBook, db: Database) -> None:
    post_id = await plan(db, T0)
    async with db.transaction() as conn:
        await post_rows.cancel_posts(conn, [KIND], 1, T0)
    handler = Recorder()
    assert await book.run_due(T0, {KIND: handler}) == 0
    assert handler.calls == []
    assert state(db, post_id)[0] == "cancelled"
    assert await book.due_times(T0 + 3600) == []


async def test_two_concurrent_runs_call_the_handler_once(book: PostBook, db: Database) -> None:
    post_id = await plan(db, T0)
    handler = Recorder(pause=0.05)
    results = await asyncio.gather(book.run_due(T0, {KIND: handler}), book.run_due(T0, {KIND: handler}))
    assert sorted(results) == [0, 1]
    assert len(handler.calls) == 1
    assert state(db, post_id)[:2] == ("sent", 1)


async def test_many_concurrent_runs_of_many_posts_send_each_once(book: PostBook, db: Database) -> None:
    ids = [await plan(db, T0 - n, ref_id=n) for n in range(1, 21)]
    handler = Recorder(pause=0.001)
    results = await asyncio.gather(*(book.run_due(T0, {KIND: handler}, batch=3) for _ in range(3)))
    assert sum(results) == 20
    assert sorted(p.post_id for p in handler.calls) == sorted(ids)
    assert rows(db, "SELECT state, attempts, count(*) FROM scheduled_posts GROUP BY state, attempts") == [
        ("sent", 1, 20)
    ]


async def test_a_failing_handler_gets_one_retry_then_the_post_is_skipped(
    book: PostBook, db: Database, clock: FakeClock
) -> None:
    assert MAX_ATTEMPTS == 2
    post_id = await plan(db, T0)
    handler = Recorder(fail=True)
    assert await book.run_due(T0, {KIND: handler}) == 1
    assert state(db, post_id) == ("pending", 1, T0, None, 0)  # back for the next refill
    assert await book.due_times(T0) == [T0]

    clock.advance(timedelta(minutes=5))
    assert await book.run_due(T0, {KIND: handler}) == 1
    assert state(db, post_id) == ("skipped", 2, T0 + 300, T0 + 300, 1)  # given up (and it was late by then)
    assert [p.attempts for p in handler.calls] == [1, 2]

    assert await book.run_due(T0, {KIND: handler}) == 0
    assert len(handler.calls) == 2
    assert await book.due_times(T0 + 3600) == []


async def test_a_retry_that_succeeds_is_sent(book: PostBook, db: Database) -> None:
    post_id = await plan(db, T0)
    assert await book.run_due(T0, {KIND: Recorder(fail=True)}) == 1
    assert await book.run_due(T0, {KIND: Recorder()}) == 1
    assert state(db, post_id)[:2] == ("sent", 2)


async def test_recover_puts_a_crashed_claim_back_once(book: PostBook, db: Database, clock: FakeClock) -> None:
    post_id = await plan(db, T0)
    # the process claimed the post (attempt 1) and died before recording the result
    execute(
        db,
        "UPDATE scheduled_posts SET state = 'claimed', attempts = attempts + 1, claimed_at = ? WHERE post_id = ?",
        (T0, post_id),
    )
    clock.advance(timedelta(minutes=10))
    assert await book.recover() == (1, 0)
    assert state(db, post_id)[:2] == ("pending", 1)
    assert await book.recover() == (0, 0)  # nothing left claimed: recovering again changes nothing
    assert state(db, post_id)[:2] == ("pending", 1)

    # the retry claims it (attempt 2) and the process dies again: this time it is given up
    execute(
        db,
        "UPDATE scheduled_posts SET state = 'claimed', attempts = attempts + 1, claimed_at = ? WHERE post_id = ?",
        (T0 + 600, post_id),
    )
    clock.advance(timedelta(minutes=1))
    assert await book.recover() == (0, 1)
    assert state(db, post_id) == ("skipped", 2, T0 + 600, T0 + 660, 0)
    handler = Recorder()
    assert await book.run_due(T0 + 3600, {KIND: handler}) == 0
    assert handler.calls == []


async def test_a_claim_held_by_another_process_is_not_taken(book: PostBook, db: Database) -> None:
    post_id = await plan(db, T0)
    execute(db, "UPDATE scheduled_posts SET state = 'claimed', attempts = 1 WHERE post_id = ?", (post_id,))
    handler = Recorder()
    assert await book.run_due(T0, {KIND: handler}) == 0  # still claimed: nobody else may send it
    assert handler.calls == []
    # the next start recovers it; it goes out, late (it was due before this process began dispatching)
    assert await book.recover() == (1, 0)
    assert await book.run_due(T0, {KIND: handler}) == 1
    assert state(db, post_id)[:2] == ("sent", 2)
    assert handler.calls[0].late is False  # due at the very second dispatching began: not late


async def test_a_post_due_while_the_bot_was_down_goes_out_late(db: Database, clock: FakeClock) -> None:
    post_id = await plan(db, T0 - 30)  # due 30 s before this process started
    book = PostBook(db, clock)
    await book.recover()
    handler = Recorder()
    assert await book.run_due(T0, {KIND: handler}) == 1
    assert handler.calls[0].late is True
    assert state(db, post_id) == ("sent", 1, T0, T0, 1)


async def test_recover_leaves_other_states_alone(book: PostBook, db: Database) -> None:
    sent = await plan(db, T0 - 1, ref_id=2)
    await book.run_due(T0 - 1, {KIND: Recorder()})
    pending = await plan(db, T0, ref_id=1)
    cancelled = await plan(db, T0, ref_id=3)
    async with db.transaction() as conn:
        await post_rows.cancel_posts(conn, [KIND], 3, T0)
    before = rows(db, "SELECT * FROM scheduled_posts ORDER BY post_id")
    assert await book.recover() == (0, 0)
    assert rows(db, "SELECT * FROM scheduled_posts ORDER BY post_id") == before
    assert [state(db, i)[0] for i in (pending, sent, cancelled)] == ["pending", "sent", "cancelled"]


@pytest.mark.parametrize(("delay", "late"), [(0, False), (60, False), (61, True), (3600, True)])
async def test_late_is_set_more_than_a_minute_after_due(
    book: PostBook, db: Database, clock: FakeClock, delay: int, late: bool
) -> None:
    assert LATE_AFTER.total_seconds() == 60
    post_id = await plan(db, T0)
    clock.advance(timedelta(seconds=delay))
    handler = Recorder()
    assert await book.run_due(T0, {KIND: handler}) == 1
    assert handler.calls[0].late is late
    assert state(db, post_id) == ("sent", 1, T0 + delay, T0 + delay, int(late))


async def test_due_times_pages_through_distinct_times(book: PostBook, db: Database, clock: FakeClock) -> None:
    for n in range(1, 6):
        await plan(db, T0 + n * 60, ref_id=n)
    await plan(db, T0 + 60, ref_id=99)  # a second post in the same second: one wake-up
    assert await book.due_times(T0 + 4 * 60) == [T0 + 60, T0 + 120, T0 + 180, T0 + 240]
    first = await book.due_times(T0 + 3600, limit=2)
    rest = await book.due_times(T0 + 3600, after=first[-1], limit=2)
    last = await book.due_times(T0 + 3600, after=rest[-1], limit=2)
    assert first + rest + last == [T0 + n * 60 for n in range(1, 6)]
    assert to_unix(clock.now()) == T0


async def test_run_due_claims_a_second_together_and_sends_each_once(db: Database, clock: FakeClock) -> None:
    book = PostBook(db, clock)
    await book.recover()
    now = int(clock.now().timestamp())
    async with db.transaction() as conn:
        await server_rows.ensure_guild(conn, 1, now)
        for ref in range(250):
            await post_rows.add_posts(conn, 1, "demo", ref, [now + 10])
        await post_rows.add_posts(conn, 1, "demo", 999, [now + 20])
    seen: list[int] = []

    async def handler(post: Post) -> str:
        seen.append(post.ref_id)
        return SENT

    clock.advance(timedelta(seconds=10))
    results = await asyncio.gather(
        book.run_due(now + 10, {"demo": handler}), book.run_due(now + 10, {"demo": handler})
    )
    assert sum(results) == 250 and sorted(seen) == list(range(250))  # both ran, each post once
    assert await book.due_times(now + 100) == [now + 20]


async def test_the_dispatcher_wakes_for_due_posts_and_sends_each_once(db: Database) -> None:
    """The production wiring: PostDispatcher registers wake-ups from the database and runs run_due."""
    from bot.scheduler import PostDispatcher, Scheduler
    from domain.clock import SystemClock

    clock = SystemClock()
    now = to_unix(clock.now())
    async with db.transaction() as conn:
        await server_rows.ensure_guild(conn, GUILD, now)
        for ref in range(5):
            await post_rows.add_posts(conn, GUILD, KIND, ref, [now + 1])
        await post_rows.add_posts(conn, GUILD, KIND, 99, [now - 5])  # due while "down": sent at start, late
    scheduler = Scheduler()
    scheduler.start()
    try:
        dispatcher = PostDispatcher(scheduler, PostBook(db, clock), clock)
        handler = Recorder()
        dispatcher.handle(KIND, handler)
        assert await dispatcher.start() == 2  # two distinct due seconds
        for _ in range(200):
            if len(handler.calls) == 6:
                break
            await asyncio.sleep(0.02)
        await dispatcher.drain(grace=2.0)
    finally:
        scheduler.shutdown()
    assert sorted(p.ref_id for p in handler.calls) == [0, 1, 2, 3, 4, 99]
    assert {p.ref_id: p.late for p in handler.calls}[99] is True
    assert rows(db, "SELECT state, count(*) FROM scheduled_posts GROUP BY state") == [("sent", 6)]


async def test_a_post_planned_for_the_second_being_sent_is_sent_too(db: Database) -> None:
    """A handler (or a command while one runs) plans a post due now, in the very second being sent: its wake-up
    must not be dropped because a wake-up for that second is still running (APScheduler runs one instance per
    job id), nor be forgotten for good."""
    from bot.scheduler import PostDispatcher, Scheduler
    from domain.clock import SystemClock

    clock = SystemClock()
    now = to_unix(clock.now())
    async with db.transaction() as conn:
        await server_rows.ensure_guild(conn, GUILD, now)
        await post_rows.add_posts(conn, GUILD, KIND, 1, [now])
    scheduler = Scheduler()
    scheduler.start()
    seen: list[int] = []
    try:
        dispatcher = PostDispatcher(scheduler, PostBook(db, clock), clock)

        async def handler(post: Post) -> str:
            seen.append(post.ref_id)
            if (
                post.ref_id == 1
            ):  # plans the next one for the same second, as a statement's post plans its DMs
                async with db.transaction() as conn:
                    await post_rows.add_posts(conn, GUILD, KIND, 2, [post.due_at])
                await dispatcher.refill()
                await asyncio.sleep(0.1)  # still sending when the new wake-up comes
            return SENT

        dispatcher.handle(KIND, handler)
        await dispatcher.start()
        for _ in range(200):
            if len(seen) == 2:
                break
            await asyncio.sleep(0.02)
        await dispatcher.drain(grace=2.0)
    finally:
        scheduler.shutdown()
    assert seen == [1, 2]
    assert rows(db, "SELECT state, count(*) FROM scheduled_posts GROUP BY state") == [("sent", 2)]


# -- the parts of a post -------------------------------------------------------------------------


def parts(db: Database, post_id: int) -> list[tuple[Any, ...]]:
    return rows(db, "SELECT seq, target, direct, part, payload, message_id FROM post_parts WHERE post_id = ?",
                (post_id,))  # fmt: skip


async def test_the_parts_of_a_post_are_decided_once_and_recorded_one_by_one(
    book: PostBook, db: Database, clock: FakeClock
) -> None:
    post_id = await plan(db, T0)
    assert await book.parts(post_id) == []
    first = [(10, False, 1, "part one"), (10, False, 2, "part two"), (77, True, 1, "a direct message")]
    decided = await book.decide_parts(post_id, first)
    assert [(p.seq, p.target, p.direct, p.part, p.payload, p.message_id) for p in decided] == [
        (1, 10, False, 1, "part one", None), (2, 10, False, 2, "part two", None),
        (3, 77, True, 1, "a direct message", None),
    ]  # fmt: skip
    # a later attempt that would split differently gets the first decision: same parts, same nonces
    again = await book.decide_parts(post_id, [(10, False, 1, "everything in one")])
    assert again == decided
    await book.part_sent(post_id, 1, 5001)
    await book.part_sent(post_id, 3, 0)  # given up (closed DMs)
    assert [p.message_id for p in await book.parts(post_id)] == [5001, None, 0]
    assert [r[5] for r in parts(db, post_id)] == [5001, None, 0]  # as a second connection sees them


async def test_parts_are_kept_for_a_retry_and_forgotten_once_the_post_is_finished(
    book: PostBook, db: Database, clock: FakeClock
) -> None:
    post_id = await plan(db, T0)

    async def fails_after_one_part(post: Post) -> str:
        await book.decide_parts(post.post_id, [(10, False, 1, "one"), (10, False, 2, "two")])
        await book.part_sent(post.post_id, 1, 5001)
        raise RuntimeError("part two refused")

    failed: list[int] = []
    assert await book.run_due(T0, {KIND: fails_after_one_part}, failed=failed) == 1 and failed == [post_id]
    assert state(db, post_id)[:2] == ("pending", 1) and len(parts(db, post_id)) == 2  # kept for the retry

    async def sends_the_rest(post: Post) -> str:
        assert [p.message_id for p in await book.parts(post.post_id)] == [5001, None]
        return SENT

    assert await book.run_due(T0, {KIND: sends_the_rest}) == 1
    assert (
        state(db, post_id)[:2] == ("sent", 2) and parts(db, post_id) == []
    )  # a finished post keeps no parts (they name members)
    # a post given up after its last attempt forgets them too
    other = await plan(db, T0 + 60, ref_id=2)
    execute(db, "UPDATE scheduled_posts SET attempts = ? WHERE post_id = ?", (MAX_ATTEMPTS - 1, other))
    assert await book.run_due(T0 + 60, {KIND: fails_after_one_part}) == 1
    assert state(db, other)[0] == "skipped" and parts(db, other) == []
    # so does the recovery after a crash, for posts that are not pending any more
    third = await plan(db, T0 + 120, ref_id=3)
    await book.decide_parts(third, [(10, False, 1, "one")])
    execute(db, "UPDATE scheduled_posts SET state = 'cancelled' WHERE post_id = ?", (third,))
    await book.recover()
    assert parts(db, third) == []


async def test_a_post_due_in_the_second_the_bot_started_is_late(db: Database, clock: FakeClock) -> None:
    clock.advance(timedelta(milliseconds=400))  # started at 12:00:00.4; the post was due at 12:00:00
    book = PostBook(db, clock)
    await book.recover()
    post_id = await plan(db, T0)
    seen: list[Post] = []

    async def handler(post: Post) -> str:
        seen.append(post)
        return SENT

    await book.run_due(T0 + 1, {KIND: handler})
    assert [p.late for p in seen] == [True] and state(db, post_id)[4] == 1
