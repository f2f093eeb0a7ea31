"""Counting a poll's ballots by hand: the check on the tally the triggers keep (never on the vote path)."""

from __future__ import annotations

from storage.db import Database


async def recount(db: Database, poll_id: int) -> dict[int, int]:
    """Votes per option counted from the ballots themselves (the check on the tally the triggers keep)."""
    rows = await db.fetchall(
        "SELECT o.position, (SELECT count(*) FROM poll_votes v WHERE v.poll_id = o.poll_id "
        "AND (v.picks >> CAST(o.position - 1 AS INTEGER)) & 1 = 1) + (SELECT count(*) FROM poll_secret_ballots s "
        "WHERE s.poll_id = o.poll_id AND (s.picks >> CAST(o.position - 1 AS INTEGER)) & 1 = 1) FROM poll_options o "
        "WHERE o.poll_id = :p ORDER BY o.position",
        {"p": poll_id},
    )
    return {int(r[0]): int(r[1]) for r in rows}
