"""Who may do what: member, convener of a group, coordinator. Checked on every call, server side."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import NotAllowed


@dataclass(frozen=True)
class Actor:
    """The member doing something, as Discord described them on this interaction."""

    guild_id: int
    user_id: int
    display_name: str
    role_ids: frozenset[int] = frozenset()
    role_names: frozenset[str] = frozenset()
    manage_guild: bool = False


@dataclass(frozen=True)
class Policy:
    """The server-side rules; ``coordinator_roles`` holds role names (any case) or role ids."""

    coordinator_roles: tuple[str, ...] = ("Coordinator",)

    def is_coordinator(self, actor: Actor) -> bool:
        """Coordinators hold a configured role or the Manage Server permission."""
        if actor.manage_guild:
            return True
        wanted = {r.casefold() for r in self.coordinator_roles}
        names = {n.casefold() for n in actor.role_names}
        ids = {str(i) for i in actor.role_ids}
        return bool(wanted & names) or bool(wanted & ids)

    def require_coordinator(self, actor: Actor, doing: str) -> None:
        """Raise NotAllowed unless the actor is a coordinator."""
        if not self.is_coordinator(actor):
            raise NotAllowed(f"Only coordinators can {doing}.")
