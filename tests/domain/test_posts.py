"""Scheduled posts: claimed before sending so none goes out twice, retried once, recovered after a crash."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.clock import FakeClock, to_unix
from domain.posts import LATE_AFTER, MAX_ATTEMPTS, SENT, SKIPPED, Post, PostBook
from storage import posts as post_rows
from storage import servers as server_rows
from storage.db import Database

GUILD = 1001
KIND = "test_post"
T0 = int(datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp())  # the fake clock's start


def rows(db: Database, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows as a second connection sees them."""
    raw = sqlite3.connect(db.path)
    try:
        return raw.execute(sql, params).fetchall()
    finally:
        raw.close()


def execute(db: Database, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Change the file behind the bot's back (what a process that died would have left)."""
    raw = sqlite3.connect(db.path)
    try:
        with raw:
            raw.execute(sql, params)
    finally:
        raw.close()


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
def book(db: Database, clock: FakeClock) -> PostBook:
    return PostBook(db, clock)


async def test_a_post_is_claimed_handled_and_marked_sent(
    book: PostBook, db: Database, clock: FakeClock
) -> None:
    post_id = await plan(db, T0)
    assert state(db, post_id) == ("pending", 0, None, None, 0)
    handler = Recorder()
    clock.advance(timedelta(seconds=5))
    assert await book.run(post_id, {KIND: handler}) == SENT
    assert [(p.post_id, p.kind, p.ref_id, p.due_at, p.state, p.attempts, p.late) for p in handler.calls] == [
        (post_id, KIND, 1, T0, "claimed", 1, False)
    ]
    assert state(db, post_id) == ("sent", 1, T0 + 5, T0 + 5, 0)
    # running it again does nothing: it is no longer pending
    assert await book.run(post_id, {KIND: handler}) is None
    assert len(handler.calls) == 1
    assert state(db, post_id) == ("sent", 1, T0 + 5, T0 + 5, 0)


async def test_a_handler_can_skip_a_post(book: PostBook, db: Database) -> None:
    post_id = await plan(db, T0)
    assert await book.run(post_id, {KIND: Recorder(SKIPPED)}) == SKIPPED
    assert state(db, post_id)[:2] == ("skipped", 1)


async def test_a_post_without_a_handler_is_skipped(book: PostBook, db: Database) -> None:
    post_id = await plan(db, T0, kind="nobody_handles_this")
    assert await book.run(post_id, {KIND: Recorder()}) == SKIPPED
    assert state(db, post_id)[:2] == ("skipped", 1)


async def test_an_unknown_post_id_is_ignored(book: PostBook, db: Database) -> None:
    handler = Recorder()
    assert await book.run(12345, {KIND: handler}) is None
    assert handler.calls == []


async def test_a_cancelled_post_is_not_run(book: PostBook, db: Database) -> None:
    post_id = await plan(db, T0)
    async with db.transaction() as conn:
        await post_rows.cancel_posts(conn, [KIND], 1, T0)
    handler = Recorder()
    assert await book.run(post_id, {KIND: handler}) is None
    assert handler.calls == []
    assert state(db, post_id)[0] == "cancelled"


async def test_two_concurrent_runs_call_the_handler_once(book: PostBook, db: Database) -> None:
    post_id = await plan(db, T0)
    handler = Recorder(pause=0.05)
    results = await asyncio.gather(book.run(post_id, {KIND: handler}), book.run(post_id, {KIND: handler}))
    assert sorted(results, key=str) == [None, SENT]
    assert len(handler.calls) == 1
    assert state(db, post_id)[:2] == ("sent", 1)


async def test_many_concurrent_runs_of_many_posts_send_each_once(book: PostBook, db: Database) -> None:
    ids = [await plan(db, T0, ref_id=n) for n in range(1, 21)]
    handler = Recorder(pause=0.001)
    results = await asyncio.gather(*(book.run(i, {KIND: handler}) for i in ids for _ in range(3)))
    assert results.count(SENT) == 20 and results.count(None) == 40
    assert sorted(p.post_id for p in handler.calls) == ids
    assert rows(db, "SELECT state, attempts, count(*) FROM scheduled_posts GROUP BY state, attempts") == [
        ("sent", 1, 20)
    ]


async def test_a_failing_handler_gets_one_retry_then_the_post_is_skipped(
    book: PostBook, db: Database, clock: FakeClock
) -> None:
    assert MAX_ATTEMPTS == 2
    post_id = await plan(db, T0)
    handler = Recorder(fail=True)
    assert await book.run(post_id, {KIND: handler}) is None
    assert state(db, post_id) == ("pending", 1, T0, None, 0)  # back for the next refill
    assert [p.post_id for p in await book.due_before(T0)] == [post_id]

    clock.advance(timedelta(minutes=5))
    assert await book.run(post_id, {KIND: handler}) is None
    assert state(db, post_id) == ("skipped", 2, T0 + 300, T0 + 300, 1)  # given up (and it was late by then)
    assert [p.attempts for p in handler.calls] == [1, 2]

    assert await book.run(post_id, {KIND: handler}) is None
    assert len(handler.calls) == 2
    assert await book.due_before(T0 + 3600) == []


async def test_a_retry_that_succeeds_is_sent(book: PostBook, db: Database) -> None:
    post_id = await plan(db, T0)
    assert await book.run(post_id, {KIND: Recorder(fail=True)}) is None
    assert await book.run(post_id, {KIND: Recorder()}) == SENT
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
    assert await book.run(post_id, {KIND: handler}) is None
    assert handler.calls == []


async def test_recover_then_run_sends_the_post(book: PostBook, db: Database) -> None:
    post_id = await plan(db, T0)
    execute(db, "UPDATE scheduled_posts SET state = 'claimed', attempts = 1 WHERE post_id = ?", (post_id,))
    handler = Recorder()
    assert await book.run(post_id, {KIND: handler}) is None  # still claimed: nobody else may send it
    assert handler.calls == []
    await book.recover()
    assert await book.run(post_id, {KIND: handler}) == SENT
    assert state(db, post_id)[:2] == ("sent", 2)


async def test_recover_leaves_other_states_alone(book: PostBook, db: Database) -> None:
    pending = await plan(db, T0, ref_id=1)
    sent = await plan(db, T0, ref_id=2)
    cancelled = await plan(db, T0, ref_id=3)
    await book.run(sent, {KIND: Recorder()})
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
    assert await book.run(post_id, {KIND: handler}) == SENT
    assert handler.calls[0].late is late
    assert state(db, post_id) == ("sent", 1, T0 + delay, T0 + delay, int(late))


async def test_due_before_pages_through_pending_posts(book: PostBook, db: Database, clock: FakeClock) -> None:
    ids = [await plan(db, T0 + n * 60, ref_id=n) for n in range(1, 6)]
    await book.run(ids[0], {KIND: Recorder()})  # sent: no longer due
    due = await book.due_before(T0 + 4 * 60)
    assert [p.post_id for p in due] == ids[1:4]
    assert all(p.state == "pending" for p in due)
    first = await book.due_before(T0 + 3600, limit=2)
    rest = await book.due_before(T0 + 3600, after_id=first[-1].post_id, limit=2)
    assert [p.post_id for p in first + rest] == ids[1:]
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

    assert await book.run(post_id, {KIND: fails_after_one_part}) is None
    assert state(db, post_id)[:2] == ("pending", 1) and len(parts(db, post_id)) == 2  # kept for the retry

    async def sends_the_rest(post: Post) -> str:
        assert [p.message_id for p in await book.parts(post.post_id)] == [5001, None]
        return SENT

    assert await book.run(post_id, {KIND: sends_the_rest}) == SENT
    assert parts(db, post_id) == []  # a finished post keeps no parts (they name members)
    # a post given up after its last attempt forgets them too
    other = await plan(db, T0 + 60, ref_id=2)
    execute(db, "UPDATE scheduled_posts SET attempts = ? WHERE post_id = ?", (MAX_ATTEMPTS - 1, other))
    assert await book.run(other, {KIND: fails_after_one_part}) is None
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
