"""Working groups: who is in them, who convenes them, and who may change them.

A group typed by a member resolves by one rule: ``#`` and digits (what autocomplete inserts, see
``group_ref``) is a group id of this server, anything else is a name in any letter case. No group can be
named in the id form, so the two never meet (a group named so before this rule stays reachable through
autocomplete, which offers its id).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from domain.clock import Clock, to_unix
from domain.errors import Closed, Conflict, Invalid, NotAllowed, NotFound, TooLong
from domain.i18n import Text, t
from domain.permissions import Actor, Policy
from domain.text import strip_controls
from domain.timeparse import parse_future
from storage import agenda as agenda_rows
from storage import groups as group_rows
from storage import servers as server_rows
from storage.db import Database
from storage.groups import GroupListRow, MemberRow
from storage.groups import GroupRow as Group

__all__ = [
    "Group", "GroupCard", "GroupListRow", "MemberRow", "WorkingGroups", "NAME_MAX", "DESCRIPTION_MAX",
    "find_group", "group_ref",
]  # fmt: skip

NAME_MAX = 80
DESCRIPTION_MAX = 1000
ID_FORM = re.compile(r"#([0-9]+)")
DUE_MAX = timedelta(days=3653)  # ten years


@dataclass(frozen=True)
class GroupCard:
    """A group with its current members (conveners first)."""

    group: Group
    members: tuple[MemberRow, ...]

    @property
    def conveners(self) -> tuple[MemberRow, ...]:
        return tuple(m for m in self.members if m.is_convener)


@dataclass(frozen=True)
class Target:
    """A member an action is about, as Discord described them."""

    user_id: int
    display_name: str
    is_bot: bool = False


def group_ref(group: Group) -> str:
    """How a group is referred to without its name (what autocomplete inserts): ``#`` and its id."""
    return f"#{group.group_id}"


def clean_name(name: str) -> str:
    """A group name with spaces tidied; raises Invalid or TooLong (also for a name in the id form)."""
    cleaned = " ".join(strip_controls(name).split())
    if not cleaned:
        raise Invalid(t("Give the group a name."))
    if len(cleaned) > NAME_MAX:
        raise TooLong(
            t("A group name can be at most {limit} characters; this one has {count}.", limit=NAME_MAX,
              count=len(cleaned))
        )  # fmt: skip
    if ID_FORM.fullmatch(cleaned):
        raise Invalid(
            t(
                "A group can't be named “{name}”: # followed by digits is how the bot refers to a group by "
                "number. Add a word, e.g. “Group 3”.",
                name=cleaned[:30],
            )
        )
    return cleaned


async def find_group(db: Database, guild_id: int, ref: str) -> Group:
    """A group of this server by the one rule: ``#<id>`` is an id, anything else a name (any case)."""
    text = ref.strip()
    if not text:
        raise Invalid(t("Name a working group."))
    by_id = ID_FORM.fullmatch(text)
    if by_id is not None:
        digits = by_id[1]
        group = await group_rows.get_group(db, guild_id, int(digits)) if len(digits) < 19 else None
        if group is None:
            raise NotFound(t("There is no working group {ref} on this server; see /wg list.", ref=text[:25]))
        return group
    group = await group_rows.find_group_by_name(db, guild_id, text)
    if group is None:
        raise NotFound(
            t("There is no working group “{name}” on this server; see /wg list.", name=text[:NAME_MAX])
        )
    return group


@dataclass(frozen=True)
class _Said:
    """What a membership refusal says about the member it is about: "You are …" to themselves, "Ana is …"
    about someone else (one whole sentence each)."""

    you: bool
    name: str
    group: str

    def not_member(self) -> Text:
        if self.you:
            return t("You are not a member of {group}.", group=self.group)
        return t("{member} is not a member of {group}.", member=self.name, group=self.group)

    def already_member(self) -> Text:
        if self.you:
            return t("You are already a member of {group}.", group=self.group)
        return t("{member} is already a member of {group}.", member=self.name, group=self.group)

    def already_convener(self) -> Text:
        if self.you:
            return t("You are already a convener of {group}.", group=self.group)
        return t("{member} is already a convener of {group}.", member=self.name, group=self.group)

    def already_not_convener(self) -> Text:
        if self.you:
            return t("You are already not a convener of {group}.", group=self.group)
        return t("{member} is already not a convener of {group}.", member=self.name, group=self.group)


class WorkingGroups:
    """Use cases for working groups, every one checked against the policy on the server side."""

    def __init__(self, db: Database, clock: Clock, policy: Policy, zone: ZoneInfo) -> None:
        self.db = db
        self.clock = clock
        self.policy = policy
        self.zone = zone

    # -- reading -------------------------------------------------------------------------------

    async def resolve(self, guild_id: int, ref: str) -> Group:
        """A group of this server: ``#<id>`` (what autocomplete inserts) by id, anything else by name."""
        return await find_group(self.db, guild_id, ref)

    async def resolve_optional(self, guild_id: int, ref: str | Group | None) -> Group | None:
        """A group given as typed text (resolved by the one rule) or already resolved; None for none."""
        if ref is None or (isinstance(ref, str) and not ref.strip()):
            return None
        if isinstance(ref, str):
            return await self.resolve(guild_id, ref)
        if ref.guild_id != guild_id:
            raise NotFound(t("That working group does not exist on this server."))
        return ref

    async def card(self, guild_id: int, ref: str) -> GroupCard:
        """The group's card: the group and its current members."""
        group = await self.resolve(guild_id, ref)
        return GroupCard(group, tuple(await group_rows.members_of(self.db, group.group_id)))

    async def card_by_id(self, guild_id: int, group_id: int) -> GroupCard:
        """The card of a group by id, only if it belongs to this server."""
        group = await group_rows.get_group(self.db, guild_id, group_id)
        if group is None:
            raise NotFound(t("That working group does not exist on this server."))
        return GroupCard(group, tuple(await group_rows.members_of(self.db, group.group_id)))

    async def list_groups(self, guild_id: int, *, include_archived: bool = True) -> list[GroupListRow]:
        """The server's groups, active first, by name, with member counts and conveners."""
        return await group_rows.list_groups(self.db, guild_id, include_archived=include_archived)

    async def suggest(self, guild_id: int, text: str, *, include_archived: bool = False) -> list[Group]:
        """Up to 25 of this server's groups matching what the member has typed, for autocomplete
        (the group whose id form was typed first)."""
        found = await group_rows.search_groups(self.db, guild_id, text, include_archived=include_archived)
        by_id = ID_FORM.fullmatch(text.strip())
        if by_id is not None and len(by_id[1]) < 19:
            group = await group_rows.get_group(self.db, guild_id, int(by_id[1]))
            if group is not None and (include_archived or group.archived_at is None):
                found = [group, *(g for g in found if g.group_id != group.group_id)][:25]
        return found

    async def can_manage(self, actor: Actor, group: Group) -> bool:
        """Coordinators manage every group; conveners manage their own."""
        return self.policy.is_coordinator(actor) or await group_rows.is_convener(
            self.db, group.group_id, actor.user_id
        )

    async def _require_manager(self, actor: Actor, group: Group, refusal: Text) -> None:
        """Refuse with ``refusal`` (one whole sentence) unless the actor manages the group."""
        if not await self.can_manage(actor, group):
            raise NotAllowed(refusal)

    # -- changing ------------------------------------------------------------------------------

    async def create(
        self,
        actor: Actor,
        name: str,
        *,
        description: str = "",
        home_channel_id: int | None = None,
        due: str | None = None,
    ) -> Group:
        """Create a group (coordinators only); the name is unique in the server in any letter case."""
        self.policy.require_coordinator(actor, t("create working groups"))
        name = clean_name(name)
        if self.policy.names_coordinator_role(None, name):
            raise Invalid(
                t(
                    "A group can't be named “{name}”: that is the name of a coordinator role on this server, and "
                    "the group's members must not look like coordinators. Choose another name, e.g. "
                    "“{short_name} working group”.",
                    name=name,
                    short_name=name[:60],
                )
            )
        description = strip_controls(description).strip()
        if len(description) > DESCRIPTION_MAX:
            raise TooLong(
                t("A description can be at most {limit} characters; this one has {count}.",
                  limit=DESCRIPTION_MAX, count=len(description))
            )  # fmt: skip
        now = self.clock.now()
        due_at = (
            to_unix(parse_future(due, self.zone, now, end_of_day=True, within=DUE_MAX,
                                 rule=t("a group's work is due at most {limit} from now")))
            if due and due.strip() else None
        )  # fmt: skip
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            await server_rows.ensure_guild(conn, actor.guild_id, to_unix(now))
            await server_rows.upsert_members(
                conn, actor.guild_id, [(actor.user_id, actor.display_name)], to_unix(now)
            )
            group_id = await group_rows.insert_group(
                conn,
                guild_id=actor.guild_id,
                name=name,
                description=description,
                home_channel_id=home_channel_id,
                due_at=due_at,
                created_by=actor.user_id,
                now=to_unix(now),
            )
            if group_id is None:
                raise Conflict(
                    t("A working group named “{name}” already exists (names ignore letter case).", name=name)
                )
            group = await group_rows.get_group(conn, actor.guild_id, group_id)
        assert group is not None
        return group

    async def _change_membership(
        self, actor: Actor, group: Group, target: Target, *, convener: bool | None, adding: bool
    ) -> Group:
        """Add or remove a member, or set their convener flag, in one transaction."""
        if target.is_bot:
            raise Invalid(t("Bots can't be members of a working group."))
        now = to_unix(self.clock.now())
        async with self.db.transaction(guild_id=group.guild_id) as conn:
            fresh = await group_rows.get_group(conn, group.guild_id, group.group_id)
            if fresh is None:
                raise NotFound(t("That working group no longer exists."))
            if adding and fresh.archived_at is not None:
                raise Closed(t("{group} is archived and takes no new members.", group=fresh.name))
            await server_rows.upsert_members(
                conn,
                group.guild_id,
                {(actor.user_id, actor.display_name), (target.user_id, target.display_name)},
                now,
            )
            current = await group_rows.membership(conn, fresh.group_id, target.user_id)
            said = _Said(target.user_id == actor.user_id, target.display_name, fresh.name)
            if convener is not None:
                if current is None and not convener:
                    raise NotFound(said.not_member())
                if current is None:
                    await group_rows.add_member(
                        conn,
                        fresh.group_id,
                        target.user_id,
                        convener=convener,
                        added_by=actor.user_id,
                        now=now,
                    )
                elif current == convener:
                    raise Conflict(said.already_convener() if convener else said.already_not_convener())
                else:
                    await group_rows.set_convener(conn, fresh.group_id, target.user_id, convener)
            elif adding:
                if not await group_rows.add_member(
                    conn, fresh.group_id, target.user_id, convener=False, added_by=actor.user_id, now=now
                ):
                    raise Conflict(said.already_member())
            elif not await group_rows.remove_member(conn, fresh.group_id, target.user_id):
                raise NotFound(said.not_member())
            else:  # out of the group: no more direct messages about its sessions
                await agenda_rows.unsubscribe_from_group(conn, fresh.group_id, target.user_id)
        return fresh

    async def join(self, actor: Actor, group: Group) -> Group:
        """The actor joins an active group."""
        return await self._change_membership(
            actor, group, Target(actor.user_id, actor.display_name), convener=None, adding=True
        )

    async def leave(self, actor: Actor, group: Group) -> Group:
        """The actor leaves a group (also an archived one)."""
        return await self._change_membership(
            actor, group, Target(actor.user_id, actor.display_name), convener=None, adding=False
        )

    async def add_member(self, actor: Actor, group: Group, target: Target) -> Group:
        """A convener of the group or a coordinator adds a member."""
        await self._require_manager(
            actor, group, t("Only conveners of {group} or coordinators can add members.", group=group.name)
        )
        return await self._change_membership(actor, group, target, convener=None, adding=True)

    async def remove_member(self, actor: Actor, group: Group, target: Target) -> Group:
        """A convener of the group or a coordinator removes a member."""
        await self._require_manager(
            actor, group, t("Only conveners of {group} or coordinators can remove members.", group=group.name)
        )
        return await self._change_membership(actor, group, target, convener=None, adding=False)

    async def set_convener(self, actor: Actor, group: Group, target: Target, convener: bool = True) -> Group:
        """A convener of the group or a coordinator makes a member a convener (adding them if needed), or not."""
        await self._require_manager(
            actor,
            group,
            t("Only conveners of {group} or coordinators can change conveners.", group=group.name),
        )
        return await self._change_membership(actor, group, target, convener=convener, adding=convener)

    async def archive(self, actor: Actor, group: Group) -> Group:
        """Archive a group (coordinators only): it then takes no new members or items."""
        self.policy.require_coordinator(actor, t("archive working groups"))
        async with self.db.transaction(guild_id=group.guild_id) as conn:
            if not await group_rows.archive_group(
                conn, group.group_id, actor.user_id, to_unix(self.clock.now())
            ):
                raise Conflict(t("{group} is already archived.", group=group.name))
            fresh = await group_rows.get_group(conn, group.guild_id, group.group_id)
        assert fresh is not None
        return fresh

    async def attach_card(self, group: Group, channel_id: int, message_id: int) -> None:
        """Remember a message that shows the group's card (it is refreshed when membership changes)."""
        async with self.db.transaction(guild_id=group.guild_id) as conn:
            await group_rows.add_card(conn, group.group_id, channel_id, message_id)

    async def forget_card(self, message_id: int) -> None:
        """A card message that was deleted: stop refreshing it."""
        # no server named: only the message id is known here (the updater's on_gone gives no more); a rare,
        # one-row delete under the lock of every write
        async with self.db.transaction() as conn:
            await group_rows.forget_card(conn, message_id)

    async def cards(self, group: Group) -> list[tuple[int, int]]:
        """(channel id, message id) of the messages showing the group's card, newest first."""
        return await group_rows.cards_of(self.db, group.group_id)

    async def set_role(self, group: Group, role_id: int | None) -> None:
        """Remember the Discord role kept in step with the group."""
        async with self.db.transaction(guild_id=group.guild_id) as conn:
            await group_rows.set_role(conn, group.group_id, role_id)
