"""/org: member organisations — register, import, list, info, join, approve, remove, voice, verify, edit, leave."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.ui.boundary import NO_PINGS, guild_id_of, reply, reply_language
from cogs.ui.common import actor, clip, mention, reachable, target
from cogs.ui.limits import FIELD_VALUE, fit_list, send_pages
from cogs.ui.orgs import OrgButton, card_embed, confirm_view, esc, list_pages, preview_embed, request_view
from domain.consensus import STANCE_LABELS
from domain.errors import Invalid, NotAllowed
from domain.i18n import Text, render, t, tn
from domain.orgs import (
    ACRONYM_MAX,
    FIELDS,
    NAME_MAX,
    REGIONS,
    STAKEHOLDERS,
    STATES,
    WEBSITE_MAX,
    Org,
    suggest_countries,
)
from domain.permissions import Actor

if TYPE_CHECKING:
    from bot.client import Caucus

log = logging.getLogger(__name__)

# choice names are the English labels; the command translator finds them in the catalogues (they are msgids)
REGION_CHOICES = [app_commands.Choice(name=label.msgid, value=key) for key, label in REGIONS.items()]
STAKEHOLDER_CHOICES = [
    app_commands.Choice(name=label.msgid, value=key) for key, label in STAKEHOLDERS.items()
]
STATE_CHOICES = [app_commands.Choice(name=label.msgid, value=key) for key, label in STATES.items()]


def org_autocomplete(*, include_left: bool):  # type: ignore[no-untyped-def]
    """Offers this server's organisations whose name or acronym contains what was typed; inserts ``#id``."""

    async def complete(itx: discord.Interaction[Caucus], current: str) -> list[app_commands.Choice[str]]:
        if itx.guild_id is None:
            return []
        found = await itx.client.orgs.suggest(itx.guild_id, current, include_left=include_left)
        lang = await reply_language(itx) if found else "en"
        return [
            app_commands.Choice(
                name=clip(
                    o.name + (f" ({o.acronym})" if o.acronym else "") + f" · {STATES[o.state].render(lang)}",
                    100,
                ),
                value=f"#{o.org_id}",
            )
            for o in found
        ]

    return complete


async def country_autocomplete(itx: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    return [
        app_commands.Choice(name=f"{name} ({code})", value=code) for code, name in suggest_countries(current)
    ]


ALL_ORGS = org_autocomplete(include_left=True)
OPEN_ORGS = org_autocomplete(include_left=False)


def member_actor(member: discord.Member) -> Actor:
    """A member acting from outside their server (a button in a direct message), with their roles there."""
    roles = [r for r in member.roles if not r.is_default()]
    perms = member.guild_permissions
    return Actor(
        guild_id=member.guild.id, user_id=member.id, display_name=member.display_name,
        role_ids=frozenset(r.id for r in roles), role_names=frozenset(r.name for r in roles),
        manage_guild=perms.manage_guild or perms.administrator,
    )  # fmt: skip


class OrgsCog(commands.GroupCog, group_name="org", group_description="Member organisations and their voices"):
    def __init__(self, bot: Caucus) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(OrgButton.route(self.button))

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(OrgButton.unroute())

    async def _resolve(self, itx: discord.Interaction, ref: str) -> tuple[Actor, Org]:
        who = await actor(itx)
        return who, await self.bot.orgs.resolve(who.guild_id, ref)

    async def _dm(
        self, guild_id: int, user_id: int, text: Text, view: Callable[[str], discord.ui.View] | None = None
    ) -> bool:
        """A direct message to a member the record names (a pseudonym found among the server's members), in
        their own language (with ``view(lang)``'s buttons); False when they cannot be reached or do not take
        direct messages (it is not an error)."""
        found = await reachable(self.bot, guild_id, [user_id])
        if not found:
            return False
        lang = await self.bot.languages.for_reply(guild_id, user_id, None)
        try:
            user = self.bot.get_user(found[0]) or await self.bot.fetch_user(found[0])
            if view is not None:
                await user.send(text.render(lang), allowed_mentions=NO_PINGS, view=view(lang))
            else:
                await user.send(text.render(lang), allowed_mentions=NO_PINGS)
            return True
        except discord.HTTPException as exc:
            log.info("could not DM %d about an organisation: %s", user_id, exc)
            return False

    async def _card_extra(self, org: Org, lang: str) -> list[tuple[str, str]]:
        """More fields for the card: the organisation's positions on open points counted per organisation."""
        positions = await self.bot.consensus.org_positions_on_open_points(org)
        if not positions:
            return []
        lines = [
            t("#{number}: {stance} (stated by {who} {when})", number=p.number,
              stance=render(STANCE_LABELS[p.stance], lang), who=mention(p.stated_by, lang),
              when=f"<t:{p.updated_at}:R>").render(lang)
            for p in positions
        ]  # fmt: skip
        title = tn("Positions on open points ({n})", "Positions on open points ({n})", len(lines))
        return [(title.render(lang), fit_list(lines, FIELD_VALUE, sep="\n", lang=lang))]

    # -- commands ------------------------------------------------------------------------------------

    @app_commands.command(description="Register your organisation: it waits for a coordinator to verify it")
    @app_commands.describe(
        name="Its full name (at most 120 characters)", country="Its country: a code (FR, FRA) or the English name",
        region="Its UN regional group", stakeholder="Its stakeholder group", acronym="Its acronym, if any",
        website="Its website, e.g. https://example.org",
    )  # fmt: skip
    @app_commands.choices(region=REGION_CHOICES, stakeholder=STAKEHOLDER_CHOICES)
    @app_commands.autocomplete(country=country_autocomplete)
    @app_commands.guild_only()
    async def register(
        self, itx: discord.Interaction, name: app_commands.Range[str, 1, NAME_MAX], country: str,
        region: app_commands.Choice[str], stakeholder: app_commands.Choice[str],
        acronym: app_commands.Range[str, 1, ACRONYM_MAX] = "", website: app_commands.Range[str, 1, WEBSITE_MAX] = "",
    ) -> None:  # fmt: skip
        who = await actor(itx)
        done = await self.bot.orgs.register(
            who, name, country=country, region=region.value, stakeholder=stakeholder.value, acronym=acronym,
            website=website,
        )  # fmt: skip
        org = done.org
        log.info("organisation %d registered in server %d by %d", org.org_id, org.guild_id, who.user_id)
        lang = await reply_language(itx)
        said = [
            t(
                "**{org}** is registered and waits for a coordinator to verify it (/org verify).",
                org=esc(org.name),
            )
        ]
        if done.requested:
            said.append(t("You asked to represent it: once it is verified, you are its voice."))
        elif done.already is not None:
            said.append(
                t(
                    "You already represent (or asked to represent) **{org}**, so you were not added as its "
                    "representative; one organisation at a time.",
                    org=esc(done.already.name),
                )
            )
        embed = card_embed(await self.bot.orgs.card(org, who), lang=lang)
        await reply(itx, _sentences(said, lang), embed=embed, ephemeral=True)

    @app_commands.command(
        name="import", description="Import organisations from a CSV file, all or nothing (coordinators)"
    )
    @app_commands.describe(
        file="CSV with a header row: name, acronym, country, region, stakeholder group, website"
    )
    @app_commands.guild_only()
    async def import_(self, itx: discord.Interaction, file: discord.Attachment) -> None:
        who = await actor(itx)
        if file.size > 1_000_000:
            raise Invalid(t("Nothing was imported: the file is larger than 1 MB."))
        await itx.response.defer(ephemeral=True, thinking=True)
        preview = await self.bot.orgs.preview_import(who, await file.read())
        lang = await reply_language(itx)
        await reply(
            itx,
            embed=preview_embed(preview, lang),
            view=confirm_view(preview.import_id, lang),
            ephemeral=True,
        )

    @app_commands.command(name="list", description="The member organisations, with filters")
    @app_commands.describe(
        region="Only this UN regional group",
        stakeholder="Only this stakeholder group",
        state="Only this state",
    )
    @app_commands.choices(region=REGION_CHOICES, stakeholder=STAKEHOLDER_CHOICES, state=STATE_CHOICES)
    @app_commands.guild_only()
    async def list_(
        self, itx: discord.Interaction, region: app_commands.Choice[str] | None = None,
        stakeholder: app_commands.Choice[str] | None = None, state: app_commands.Choice[str] | None = None,
    ) -> None:  # fmt: skip
        rows = await self.bot.orgs.list_orgs(
            guild_id_of(itx), region=region.value if region else None,
            stakeholder=stakeholder.value if stakeholder else None, state=state.value if state else None,
        )  # fmt: skip
        lang = await reply_language(itx)
        filters = [
            label.render(lang)
            for label in (
                REGIONS[region.value] if region else None,
                STAKEHOLDERS[stakeholder.value] if stakeholder else None,
                STATES[state.value] if state else None,
            )
            if label is not None
        ]
        title = t("Organisations ({filters})", filters=", ".join(filters)) if filters else t("Organisations")
        await send_pages(itx, list_pages(rows, title.render(lang), lang=lang), lang=lang)

    @app_commands.command(description="An organisation's card: details, representatives, its voice")
    @app_commands.describe(org="The organisation (autocomplete helps)", public="Post the card in the channel")
    @app_commands.autocomplete(org=ALL_ORGS)
    @app_commands.guild_only()
    async def info(self, itx: discord.Interaction, org: str, public: bool = False) -> None:
        who, found = await self._resolve(itx, org)
        card = await self.bot.orgs.card(found, None if public else who)
        # a card posted for everyone speaks the server's language; one only the member sees, theirs
        lang = self.bot.languages.for_group(None) if public else await reply_language(itx)
        await reply(
            itx, embed=card_embed(card, await self._card_extra(found, lang), lang), ephemeral=not public
        )

    @app_commands.command(description="Ask to represent an organisation (one at a time)")
    @app_commands.describe(org="The organisation (autocomplete helps)")
    @app_commands.autocomplete(org=OPEN_ORGS)
    @app_commands.guild_only()
    async def join(self, itx: discord.Interaction, org: str) -> None:
        who, found = await self._resolve(itx, org)
        request = await self.bot.orgs.join(who, found)
        name = esc(request.org.name)
        lang = await reply_language(itx)
        said = [t("You asked to represent **{org}**.", org=name)]
        if request.org.state == "pending":
            said.append(
                t(
                    "It is not verified yet: once a coordinator verifies it, its voice or a coordinator can approve you."
                )
            )
        elif request.voice_id is None:
            said.append(
                t("It has no voice yet, so a coordinator will approve it (they see requests in /org info).")
            )
        else:
            asks = (
                t(
                    "**{member}** ({mention}) asks to represent **{org}** in {server}. As its voice, you can approve "
                    "or decline:",
                    member=esc(who.display_name), mention=itx.user.mention, org=name, server=esc(itx.guild.name),
                )
                if itx.guild
                else t(
                    "**{member}** ({mention}) asks to represent **{org}** in the server. As its voice, you can "
                    "approve or decline:",
                    member=esc(who.display_name), mention=itx.user.mention, org=name,
                )
            )  # fmt: skip
            rep_id = request.rep.rep_id
            sent = await self._dm(
                request.org.guild_id,
                request.voice_id,
                asks,
                view=lambda dm_lang: request_view(rep_id, dm_lang),
            )
            voice = mention(request.voice_id, lang)
            if sent:
                said.append(
                    t(
                        "Its voice, {member}, got a message to approve it; a coordinator can too.",
                        member=voice,
                    )
                )
            else:
                said.append(
                    t(
                        "Its voice, {member}, does not take direct messages from me: ask them or a coordinator to "
                        "approve it with /org approve.",
                        member=voice,
                    )
                )
        await reply(itx, _sentences(said, lang), ephemeral=True)

    @app_commands.command(
        description="Approve a member's request to represent an organisation (its voice, coordinators)"
    )
    @app_commands.describe(org="The organisation", member="The member who asked")
    @app_commands.autocomplete(org=OPEN_ORGS)
    @app_commands.guild_only()
    async def approve(self, itx: discord.Interaction, org: str, member: discord.Member) -> None:
        who, found = await self._resolve(itx, org)
        if member.bot:
            raise Invalid(t("Bots can't represent an organisation."))
        decision = await self.bot.orgs.approve(who, found, await target(itx, member))
        lang = await reply_language(itx)
        await reply(
            itx, self._approved_text(member.id, decision.org, decision.became_voice, lang), ephemeral=True
        )
        await self._tell_approved(member.id, decision.org, decision.became_voice)

    def _approved_text(self, user_id: int, org: Org, became_voice: bool, lang: str) -> str:
        who, name = mention(user_id, lang), esc(org.name)
        if became_voice:
            said = t(
                "{member} now represents **{org}** and is its voice (the first representative).",
                member=who,
                org=name,
            )
        else:
            said = t("{member} now represents **{org}**.", member=who, org=name)
        return said.render(lang)

    async def _tell_approved(self, user_id: int, org: Org, became_voice: bool) -> None:
        name = esc(org.name)
        if became_voice:
            said = t(
                "You now represent **{org}**. You are its voice: you speak for it when a point or poll counts per "
                "organisation.",
                org=name,
            )
        else:
            said = t("You now represent **{org}**.", org=name)
        await self._dm(org.guild_id, user_id, said)

    @app_commands.command(
        description="End a representation or a request (the member, the organisation's voice, coordinators)"
    )
    @app_commands.describe(
        org="The organisation", member="Who stops representing it (you, or another member)"
    )
    @app_commands.autocomplete(org=ALL_ORGS)
    @app_commands.guild_only()
    async def remove(self, itx: discord.Interaction, org: str, member: discord.User) -> None:
        who, found = await self._resolve(itx, org)
        done = await self.bot.orgs.remove(who, found, await target(itx, member))
        name = esc(done.org.name)
        you = member.id == who.on_discord
        lang = await reply_language(itx)
        if done.was_request:
            said = [
                t("You withdrew your request to represent **{org}**.", org=name)
                if you
                else t(
                    "The request of {member} to represent **{org}** is declined.",
                    member=member.mention,
                    org=name,
                )
            ]
        else:
            said = [
                t("You no longer represent **{org}**.", org=name)
                if you
                else t("{member} no longer represents **{org}**.", member=member.mention, org=name)
            ]
            if done.was_voice and done.new_voice_id is not None:
                said.append(
                    t(
                        "Its voice passed to {member}, the longest-serving representative.",
                        member=mention(done.new_voice_id, lang),
                    )
                )
                await self._dm(
                    done.org.guild_id,
                    done.new_voice_id,
                    t("You are now the voice of **{org}**: {member} stopped representing it.", org=name,
                      member=member.mention),
                )  # fmt: skip
            elif done.was_voice:
                said.append(t("**{org}** has no representative now, so no voice.", org=name))
        await reply(itx, _sentences(said, lang), ephemeral=True)

    @app_commands.command(description="Hand an organisation's voice to another of its representatives")
    @app_commands.describe(org="The organisation", member="The representative who becomes its voice")
    @app_commands.autocomplete(org=OPEN_ORGS)
    @app_commands.guild_only()
    async def voice(self, itx: discord.Interaction, org: str, member: discord.Member) -> None:
        who, found = await self._resolve(itx, org)
        done = await self.bot.orgs.hand_voice(who, found, await target(itx, member))
        name = esc(done.org.name)
        lang = await reply_language(itx)
        said = t("{member} is now the voice of **{org}**.", member=member.mention, org=name)
        await reply(itx, said.render(lang), ephemeral=True)
        if member.id != who.on_discord:
            await self._dm(
                done.org.guild_id,
                member.id,
                t(
                    "You are now the voice of **{org}** (handed over by {member}).",
                    org=name,
                    member=itx.user.mention,
                ),
            )

    @app_commands.command(description="Verify an organisation, or admit one that left again (coordinators)")
    @app_commands.describe(org="The organisation")
    @app_commands.autocomplete(org=ALL_ORGS)
    @app_commands.guild_only()
    async def verify(self, itx: discord.Interaction, org: str) -> None:
        who, found = await self._resolve(itx, org)
        done = await self.bot.orgs.verify(who, found)
        name = esc(done.org.name)
        # the public announcement of a shared outcome: in the server's language
        lang = self.bot.languages.for_group(None)
        said = [
            t("**{org}** is admitted again by {member}.", org=name, member=itx.user.mention)
            if done.readmitted
            else t("**{org}** is verified by {member}.", org=name, member=itx.user.mention)
        ]
        if done.voice_id is not None:
            said.append(
                t(
                    "{member}, who registered it, now represents it and is its voice.",
                    member=mention(done.voice_id, lang),
                )
            )
        card = await self.bot.orgs.card(done.org)
        await reply(
            itx, _sentences(said, lang), embed=card_embed(card, await self._card_extra(done.org, lang), lang)
        )
        if done.own_request_pending:
            await reply(
                itx, t("You registered it, so your own request to represent it stays pending: another coordinator "
                       "must approve it (/org approve).").render(await reply_language(itx)), ephemeral=True,
            )  # fmt: skip
        if done.voice_id is not None:
            await self._tell_approved(done.voice_id, done.org, True)

    @app_commands.command(description="Change an organisation's details (its voice, coordinators)")
    @app_commands.describe(
        org="The organisation", name="New name", acronym="New acronym (- to remove it)",
        country="New country: a code (FR, FRA) or the English name", region="New UN regional group",
        stakeholder="New stakeholder group", website="New website (- to remove it)",
    )  # fmt: skip
    @app_commands.choices(region=REGION_CHOICES, stakeholder=STAKEHOLDER_CHOICES)
    @app_commands.autocomplete(org=OPEN_ORGS, country=country_autocomplete)
    @app_commands.guild_only()
    async def edit(
        self, itx: discord.Interaction, org: str, name: app_commands.Range[str, 1, NAME_MAX] | None = None,
        acronym: app_commands.Range[str, 1, ACRONYM_MAX] | None = None, country: str | None = None,
        region: app_commands.Choice[str] | None = None, stakeholder: app_commands.Choice[str] | None = None,
        website: app_commands.Range[str, 1, WEBSITE_MAX] | None = None,
    ) -> None:  # fmt: skip
        who, found = await self._resolve(itx, org)
        done = await self.bot.orgs.edit(
            who, found, name=name, acronym=acronym, country=country, region=region.value if region else None,
            stakeholder=stakeholder.value if stakeholder else None, website=website,
        )  # fmt: skip
        lang = await reply_language(itx)
        name = esc(done.org.name)
        if done.changed:
            changed = ", ".join(FIELDS[key].render(lang) for key in done.changed)
            said = t("Updated **{org}**: {changed}.", org=name, changed=changed)
        else:
            said = t("Updated **{org}**: nothing (the details were already so).", org=name)
        card = await self.bot.orgs.card(done.org, who)
        await reply(itx, said.render(lang), embed=card_embed(card, lang=lang), ephemeral=True)

    @app_commands.command(
        description="The organisation leaves the coalition: kept in the record, no longer counted"
    )
    @app_commands.describe(org="The organisation")
    @app_commands.autocomplete(org=OPEN_ORGS)
    @app_commands.guild_only()
    async def leave(self, itx: discord.Interaction, org: str) -> None:
        who, found = await self._resolve(itx, org)
        done = await self.bot.orgs.leave(who, found)
        count = len(done.ended)
        # the public announcement of a shared outcome: in the server's language
        lang = self.bot.languages.for_group(None)
        said = [
            t("**{org}** has left the coalition ({member}).", org=esc(done.org.name), member=itx.user.mention)
        ]
        if count:
            said.append(
                tn(
                    "Its {n} representative no longer represents it.",
                    "Its {n} representatives no longer represent it.",
                    count,
                )
            )
        said.append(t("Its record is kept; it is no longer counted."))
        await reply(itx, _sentences(said, lang))

    # -- buttons -------------------------------------------------------------------------------------

    async def button(self, itx: discord.Interaction, action: str, ref: int) -> None:
        """Confirm import on a preview; Approve or Decline on a request (usually in the voice's direct messages)."""
        if action == "confirm":
            await self._confirm_import(itx, ref)
            return
        if itx.guild_id is None:
            who = await self._actor_in_server_of(itx, ref)
        else:
            who = await actor(itx)
        decision = await self.bot.orgs.decide_request(who, ref, approve=action == "approve")
        name = esc(decision.org.name)
        member = decision.rep.user_id
        # in a direct message there is no server on the interaction: the member's choice in the request's
        if itx.guild_id is None:
            lang = await self.bot.languages.for_reply(decision.org.guild_id, who.user_id, str(itx.locale))
        else:
            lang = await reply_language(itx)
        if decision.approved:
            text = self._approved_text(member, decision.org, decision.became_voice, lang)
            await self._tell_approved(member, decision.org, decision.became_voice)
        elif member == who.user_id:
            text = t("You withdrew your request to represent **{org}**.", org=name).render(lang)
        else:
            text = t(
                "The request of {member} to represent **{org}** is declined.",
                member=mention(member, lang),
                org=name,
            ).render(lang)
            await self._dm(
                decision.org.guild_id,
                member,
                t("Your request to represent **{org}** was declined.", org=name),
            )
        if itx.guild_id is None:
            await itx.response.edit_message(content=text, view=None, allowed_mentions=NO_PINGS)
        else:
            await reply(itx, text, ephemeral=True)

    async def _actor_in_server_of(self, itx: discord.Interaction, rep_id: int) -> Actor:
        """The clicker as a member of the request's server, with their roles there now."""
        org, _ = await self.bot.orgs.request_by_id(rep_id)
        guild = self.bot.get_guild(org.guild_id)
        if guild is None:
            raise NotAllowed(t("I am no longer in the server of that organisation."))
        member = guild.get_member(itx.user.id)
        if member is None:
            raise NotAllowed(
                t(
                    "You are no longer a member of {server}, so you can't decide this request.",
                    server=guild.name,
                )
            )
        return member_actor(member)

    async def _confirm_import(self, itx: discord.Interaction, import_id: int) -> None:
        who = await actor(itx)
        await itx.response.defer(ephemeral=True, thinking=True)
        created = await self.bot.orgs.confirm_import(who, import_id)
        log.info("%d organisations imported in server %d by %d", len(created), who.guild_id, who.user_id)
        count = len(created)
        done = tn("Imported {n} organisation, verified.", "Imported {n} organisations, verified.", count)
        await reply(itx, done.render(await reply_language(itx)), ephemeral=True)
        if isinstance(itx.channel, discord.abc.Messageable):
            announced = tn(
                "{member} imported {n} member organisation, verified (see /org list; representatives ask to join "
                "with /org join).",
                "{member} imported {n} member organisations, verified (see /org list; representatives ask to join "
                "with /org join).",
                count, member=itx.user.mention,
            )  # fmt: skip
            await itx.channel.send(
                announced.render(self.bot.languages.for_group(None)), allowed_mentions=NO_PINGS
            )


def _sentences(said: list[Text], lang: str) -> str:
    """Whole sentences, each its own Text, one after another in ``lang``."""
    return " ".join(s.render(lang) for s in said)


async def setup(bot: Caucus) -> None:
    await bot.add_cog(OrgsCog(bot))
