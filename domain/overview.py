"""A working group at a glance: its card plus its open points and questions, open polls, next sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain.agenda import Agenda, Occurrence, Session
from domain.consensus import Consensus, Item
from domain.groups import GroupCard, WorkingGroups
from domain.polls import Poll, Polls

UPCOMING = timedelta(days=30)


@dataclass(frozen=True)
class GroupOverview:
    card: GroupCard
    open_items: tuple[Item, ...]
    open_polls: tuple[Poll, ...]
    next_sessions: tuple[tuple[Session, Occurrence], ...]


async def group_overview(
    groups: WorkingGroups, items: Consensus, polls: Polls, agenda: Agenda, guild_id: int, group_id: int
) -> GroupOverview:
    """The group's card with what is open in it and its sessions of the next 30 days."""
    card = await groups.card_by_id(guild_id, group_id)
    open_items = await items.list_items(guild_id, group=card.group, status="open")
    open_polls = [
        p for p, closed in await polls.list_polls(guild_id) if not closed and p.group_id == group_id
    ]
    now = groups.clock.now()
    sessions = await agenda.between(guild_id, now, now + UPCOMING, group=card.group)
    return GroupOverview(card, tuple(open_items), tuple(open_polls), tuple(sessions[:5]))
