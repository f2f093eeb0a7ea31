"""Who may do what: member, convener of a group, coordinator. Checked on every call, server side.

Privileges come only from where the configuration says: a role named in ``[permissions]
coordinator_roles`` (by name, any case, or by id) or the Manage Server permission. A role the bot keeps
for a working group, or one Discord marks as managed by an integration, never grants anything, whatever
its name: ``domain.members`` moves such roles from ``Actor.role_ids``/``role_names`` to ``kept_role_ids``
whenever they could count (a role that could not count anyway may stay where it is).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import NotAllowed
from domain.i18n import Text, t


def role_key(name: str) -> str:
    """The form role and group names are compared in: spaces tidied, any letter case."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class Actor:
    """The member doing something, as the record knows them (see ``domain.members``, which builds it).

    ``user_id`` is the id the record keeps for them: their Discord id, or their pseudonym (a negative
    number) once they asked to be anonymised; ``discord_id`` is their Discord id (None: ``user_id``).
    ``role_ids`` and ``role_names`` are the roles that may grant privileges; ``kept_role_ids`` the roles
    they hold that never do (a working group's role, a role managed by an integration). Both count as
    held for a poll limited to a role.
    """

    guild_id: int
    user_id: int
    display_name: str
    role_ids: frozenset[int] = frozenset()
    role_names: frozenset[str] = frozenset()
    manage_guild: bool = False
    discord_id: int | None = None
    kept_role_ids: frozenset[int] = frozenset()

    @property
    def anonymised(self) -> bool:
        """Whether the record knows this member only by their pseudonym."""
        return self.user_id < 0

    @property
    def on_discord(self) -> int:
        """The member's Discord id (for what happens on Discord: erasing, messages, roles)."""
        return self.user_id if self.discord_id is None else self.discord_id

    def holds_role(self, role_id: int) -> bool:
        """Whether the member holds this role (privileged or not)."""
        return role_id in self.role_ids or role_id in self.kept_role_ids


@dataclass(frozen=True)
class Policy:
    """The server-side rules; ``coordinator_roles`` holds role names (any case) or role ids."""

    coordinator_roles: tuple[str, ...] = ("Coordinator",)

    def names_coordinator_role(self, role_id: int | None, name: str) -> bool:
        """Whether a role with this id and name is one the configuration names as a coordinator role."""
        wanted = {role_key(r) for r in self.coordinator_roles}
        return role_key(name) in wanted or (role_id is not None and str(role_id) in wanted)

    def is_coordinator(self, actor: Actor) -> bool:
        """Coordinators hold a configured role or the Manage Server permission."""
        if actor.manage_guild:
            return True
        wanted = {role_key(r) for r in self.coordinator_roles}
        names = {role_key(n) for n in actor.role_names}
        ids = {str(i) for i in actor.role_ids}
        return bool(wanted & names) or bool(wanted & ids)

    def require_coordinator(self, actor: Actor, doing: Text | str) -> None:
        """Raise NotAllowed unless the actor is a coordinator; ``doing`` is what they may not do, a Text
        such as ``t("create working groups")`` (the refusal: "Only coordinators can create working groups.")."""
        if not self.is_coordinator(actor):
            raise NotAllowed(t("Only coordinators can {doing}.", doing=doing))
