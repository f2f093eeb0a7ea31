"""Who is acting, as the record knows them: the one place where a member on Discord becomes an Actor.

Every use case receives an Actor (or a Target) built here, so that
- a member who asked to be anonymised acts under their pseudonym and their name is never recorded
  again: what they do after ``/privacy delete`` is stored under it, counts once, and is in their export;
- the roles the bot keeps for working groups and the roles Discord marks as managed by an integration
  never count for privileges, whatever their names (``domain.permissions``).

What must reach a member on Discord (a direct message, a mention, a role) goes the other way, through
``reach``: a pseudonym is matched to a current member of the server by computing theirs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.groups import Target
from domain.permissions import Actor, Policy
from domain.privacy import Identities
from domain.text import strip_controls
from storage import groups as group_rows
from storage.db import Database
from storage.servers import ANONYMISED_NAME

__all__ = ["ANONYMISED_NAME", "HeldRole", "Members"]


@dataclass(frozen=True)
class HeldRole:
    """A role a member holds, as Discord describes it."""

    role_id: int
    name: str
    managed: bool = False  # managed by an integration or a bot (Discord's ``managed`` flag)


class Members:
    """Builds Actors and Targets with the ids the record keeps, and finds members again on Discord."""

    def __init__(self, db: Database, identities: Identities, policy: Policy) -> None:
        self.db = db
        self.identities = identities
        self.policy = policy

    async def record_id(self, guild_id: int, discord_id: int) -> int:
        """The id the record keeps for a member: their Discord id, or their pseudonym once anonymised."""
        return await self.identities.storage_id(self.db, guild_id, discord_id)

    async def record_ids(self, guild_id: int, discord_ids: Iterable[int]) -> list[int]:
        """``record_id`` of each member, in order."""
        return [await self.record_id(guild_id, d) for d in discord_ids]

    async def actor(
        self,
        guild_id: int,
        discord_id: int,
        display_name: str,
        roles: Iterable[HeldRole] = (),
        *,
        manage_guild: bool = False,
    ) -> Actor:
        """The member as every use case sees them: their record id, and only the roles that may grant."""
        record_id = await self.record_id(guild_id, discord_id)
        held = list(roles)
        kept = {r.role_id for r in held if r.managed}
        # the database is read only when a role could grant something: most clicks pay nothing
        if any(self.policy.names_coordinator_role(r.role_id, r.name) for r in held if r.role_id not in kept):
            kept |= set(await group_rows.role_ids(self.db, guild_id))
        granting = [r for r in held if r.role_id not in kept]
        return Actor(
            guild_id=guild_id,
            user_id=record_id,
            display_name=ANONYMISED_NAME if record_id != discord_id else strip_controls(display_name),
            role_ids=frozenset(r.role_id for r in granting),
            role_names=frozenset(r.name for r in granting),
            manage_guild=manage_guild,
            discord_id=discord_id,
            kept_role_ids=frozenset(r.role_id for r in held if r.role_id in kept),
        )

    async def target(
        self, guild_id: int, discord_id: int, display_name: str, *, is_bot: bool = False
    ) -> Target:
        """A member an action is about, under the id the record keeps for them."""
        record_id = await self.record_id(guild_id, discord_id)
        name = ANONYMISED_NAME if record_id != discord_id else strip_controls(display_name)  # typed text too
        return Target(record_id, name, is_bot)

    async def reach(
        self, guild_id: int, record_ids: Iterable[int], present: Iterable[int] | None
    ) -> list[int]:
        """The Discord ids to reach these members by, in order, once each.

        ``present`` are the Discord ids of the server's current members (None: not known): members not
        among them are left out, and a pseudonym is matched to the present member it belongs to.
        """
        present_ids = None if present is None else set(present)
        revealed = {} if present_ids is None else await self.identities.reveal(self.db, guild_id, present_ids)
        found: dict[int, None] = {}  # ordered, once each
        for record_id in record_ids:
            discord_id = revealed.get(record_id) if record_id < 0 else record_id
            if discord_id is not None and (present_ids is None or discord_id in present_ids):
                found[discord_id] = None
        return list(found)
