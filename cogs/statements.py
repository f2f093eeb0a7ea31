"""/statement: sign-on statements — draft, edit, show, open, withdraw, close, signatories — and the card's
buttons (sign for an organisation, listed or counted only; sign as an individual; confirm; withdraw)."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.orgs import ALL_ORGS
from cogs.record import RecordCog
from cogs.ui.boundary import guild_id_of, reply, reply_language
from cogs.ui.common import actor, clip, group_autocomplete, reachable, when
from cogs.ui.limits import Destination, deliver, send_all, text_parts
from cogs.ui.statements import CONFIRM as CONFIRM_LABEL
from cogs.ui.statements import (
    COUNTED,
    LISTED,
    CardButton,
    ChoiceButton,
    card_kwargs,
    card_view,
    channel,
    choice_view,
    closing_parts,
    code,
    esc,
    post_parts,
    show_pages,
    signed_text,
    superseded_embed,
)
from domain.errors import Invalid
from domain.i18n import LANGUAGE_NAMES, Text, t, tn
from domain.posts import SENT, SKIPPED, Post
from domain.signatories import filename, render
from domain.statements import (
    CLOSE,
    CONFIRM,
    FILE_MAX_BYTES,
    POST,
    TITLE_MAX,
    TYPED_MAX,
    Confirmed,
    Statement,
    StatementView,
    file_too_large,
    not_a_text_file,
    short,
)

if TYPE_CHECKING:
    from bot.client import Caucus

log = logging.getLogger(__name__)

ALL_GROUPS = group_autocomplete(include_archived=True)
FORMATS = [
    app_commands.Choice(name="Markdown (paste into a document or e-mail)", value="md"),
    app_commands.Choice(name="HTML (one printable page)", value="html"),
    app_commands.Choice(name="CSV (spreadsheets)", value="csv"),
    app_commands.Choice(name="JSON (tools, and caucus verify)", value="json"),
]
#: The language of a file (its Markdown and HTML): the shipped languages, each named in its own words.
LANGUAGE_CHOICES = [app_commands.Choice(name=name, value=key) for key, name in LANGUAGE_NAMES.items()]
STATE_WORDS = {"draft": t("draft"), "open": t("open"), "closed": t("closed")}


async def statement_autocomplete(
    itx: discord.Interaction[Caucus], current: str
) -> list[app_commands.Choice[str]]:
    """This server's statements matching the number or words typed: open ones first."""
    if itx.guild_id is None:
        return []
    found = await itx.client.statements.suggest(itx.guild_id, current)
    lang = await reply_language(itx) if found else "en"
    return [
        app_commands.Choice(
            name=clip(
                f"#{s.number} · {STATE_WORDS[s.state].render(lang)} · {' '.join(s.title.split())}", 100
            ),
            value=str(s.number),
        )
        for s in found
    ]


def _superseded(view: StatementView, version: int, lang: str) -> Callable[[], Awaitable[dict[str, Any]]]:
    """What an earlier version's card becomes once the statement is amended: a pointer, no buttons."""

    async def render() -> dict[str, Any]:
        return {"embed": superseded_embed(view, version, lang), "view": None}

    return render


def _file(data: bytes, name: str) -> discord.File:
    return discord.File(io.BytesIO(data), filename=name)


class StatementsCog(commands.GroupCog, group_name="statement", group_description="Sign-on statements"):
    def __init__(self, bot: Caucus) -> None:
        self.bot = bot
        self.updater = bot.message_updater()
        self._later: set[asyncio.Task[None]] = set()  # checkpoints waiting for the bot to be ready

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(CardButton.route(self.card_click), ChoiceButton.route(self.choice_click))
        self.bot.posts.handle(POST, self.send_post)
        self.bot.posts.handle(CONFIRM, self.send_confirmations)
        self.bot.posts.handle(CLOSE, self.close_at_deadline)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(CardButton.unroute(), ChoiceButton.unroute())

    # -- the card ------------------------------------------------------------------------------------

    def public_language(self, view: StatementView) -> str:
        """The language of the statement's public posts: its working group's, else the server's."""
        return self.bot.languages.for_group(view.group)

    async def refresh(self, statement: Statement) -> None:
        """Bring the statement's card up to date soon (edits coalesced under bursts)."""
        card = await self.bot.statements.card(statement)
        if card is None:
            return
        guild_id, statement_id = statement.guild_id, statement.statement_id

        async def render() -> dict[str, Any]:
            view = await self.bot.statements.view_by_id(guild_id, statement_id)
            return card_kwargs(view, self.public_language(view))

        self.updater.request(card.channel_id, card.message_id, render)

    async def publish_checkpoint(self, guild_id: int, reason: Text) -> None:
        """Sign a checkpoint of the record and post it in the record channel (see RecordCog.publish). At
        start-up (a close that was due while the bot was down) the channel is known once the bot is ready:
        the checkpoint is posted then."""
        cog = self.bot.get_cog(RecordCog.__cog_name__)
        if not isinstance(cog, RecordCog):
            return
        if self.bot.is_ready():
            await cog.publish(guild_id, reason=reason)
            return

        async def when_ready() -> None:
            try:
                await self.bot.wait_until_ready()
                await cog.publish(guild_id, reason=reason)
            except Exception:
                log.exception("could not post the checkpoint of server %d (%s)", guild_id, reason)

        task = asyncio.create_task(when_ready())
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    # -- commands ------------------------------------------------------------------------------------

    # descriptions are plain strings (the extractor finds them for the command translator): the limits they
    # name are TITLE_MAX, TYPED_MAX and TEXT_MAX, written out (tests/domain/test_i18n_statements.py checks them)
    @app_commands.command(description="Draft a statement, starting from a working group's decided points")
    @app_commands.describe(
        title="Its title (at most 200 characters)",
        group="Start from this group's points decided as consensus or rough consensus",
        introduction="A first paragraph before the points",
    )
    @app_commands.autocomplete(group=ALL_GROUPS)
    @app_commands.guild_only()
    async def draft(
        self, itx: discord.Interaction, title: app_commands.Range[str, 1, TITLE_MAX], group: str | None = None,
        introduction: app_commands.Range[str, 1, TYPED_MAX] | None = None,
    ) -> None:  # fmt: skip
        who = await actor(itx)
        done = await self.bot.statements.draft(who, title, group=group, introduction=introduction)
        view = await self.bot.statements.view(done.statement)
        said = [tn(
            "Draft **statement #{number}** created: {n} character, fingerprint {fingerprint}.",
            "Draft **statement #{number}** created: {n} characters, fingerprint {fingerprint}.",
            len(view.version.text), number=view.statement.number, fingerprint=code(short(view.version.fingerprint)),
        )]  # fmt: skip
        if done.group is not None and done.points:
            # the same in both English forms, as it always said; translators get the plural forms
            said.append(tn(
                "It starts from the {n} decided points of **{group}** ({points}).",
                "It starts from the {n} decided points of **{group}** ({points}).",
                len(done.points), group=esc(done.group.name), points=", ".join(f"#{n}" for n in done.points),
            ))  # fmt: skip
        elif done.group is not None:
            said.append(t(
                "**{group}** has no points decided as consensus or rough consensus yet.", group=esc(done.group.name)
            ))  # fmt: skip
        said.append(t(
            "Read it with /statement show, change it with /statement edit (attach a .md or .txt file for a long "
            "text), and open it for signature with /statement open."
        ))  # fmt: skip
        log.info("statement %d drafted in server %d", view.statement.statement_id, who.guild_id)
        lang = await reply_language(itx)
        await reply(itx, " ".join(x.render(lang) for x in said), ephemeral=True)

    @app_commands.command(description="Change a statement's title or text (a new version once it is open)")
    @app_commands.describe(
        statement="The statement's number",
        title="A new title (at most 200 characters; no new version)",
        text="A new text typed here (at most 6,000 characters)",
        file="Or the new text as a .md or .txt file (UTF-8, at most 20,000 characters)",
    )
    @app_commands.autocomplete(statement=statement_autocomplete)
    @app_commands.guild_only()
    async def edit(
        self, itx: discord.Interaction, statement: str, title: app_commands.Range[str, 1, TITLE_MAX] | None = None,
        text: app_commands.Range[str, 1, TYPED_MAX] | None = None, file: discord.Attachment | None = None,
    ) -> None:  # fmt: skip
        who = await actor(itx)
        found = await self.bot.statements.resolve(who.guild_id, statement)
        upload: tuple[str, bytes] | None = None
        if file is not None:
            if not file.filename.lower().endswith((".md", ".txt")):
                raise Invalid(not_a_text_file(clip(file.filename, 40)))
            if file.size > FILE_MAX_BYTES:
                raise Invalid(file_too_large(file.size))
            await itx.response.defer(ephemeral=True, thinking=True)
            upload = (file.filename, await file.read())
        done = await self.bot.statements.edit(who, found, title=title, text=text, file=upload)
        st, version = done.statement, done.version
        facts = {"number": st.number, "version_number": version.version, "count": len(version.text),
                 "fingerprint": code(short(version.fingerprint))}  # fmt: skip
        said: list[Text]
        if done.new_version:
            said = [t(
                "Statement #{number} is amended: **version {version_number}** (fingerprint {fingerprint}, {count} "
                "characters) is being posted in {channel}. Every signature keeps the version it was given to; "
                "earlier signers are asked to confirm the new text.",
                channel=channel(st.channel_id), **facts,
            )]  # fmt: skip
            await self.bot.posts.refill()
        else:
            if done.title_changed and done.text_changed:
                changed = t(
                    "Statement #{number}: title and text changed. Version {version_number}, fingerprint "
                    "{fingerprint}, {count} characters.",
                    **facts,
                )
            elif done.title_changed:
                changed = t(
                    "Statement #{number}: title changed. Version {version_number}, fingerprint {fingerprint}, "
                    "{count} characters.",
                    **facts,
                )
            else:
                changed = t(
                    "Statement #{number}: text changed. Version {version_number}, fingerprint {fingerprint}, "
                    "{count} characters.",
                    **facts,
                )
            said = [changed]
            if done.text_changed is False and st.state == "open":
                said.append(t("A new title makes no new version: the fingerprint is of the text."))
            await self.refresh(st)
        lang = await reply_language(itx)
        await reply(itx, " ".join(x.render(lang) for x in said), ephemeral=True)

    @app_commands.command(description="A statement's whole text, its version and fingerprint, and its counts")
    @app_commands.describe(statement="The statement's number")
    @app_commands.autocomplete(statement=statement_autocomplete)
    @app_commands.guild_only()
    async def show(self, itx: discord.Interaction, statement: str) -> None:
        found = await self.bot.statements.resolve(guild_id_of(itx), statement)
        view = await self.bot.statements.view(found)
        await send_all(itx, show_pages(view, await reply_language(itx)), last={})

    @app_commands.command(description="Open a draft for signature here, until a deadline")
    @app_commands.describe(
        statement="The statement's number",
        duration="How long it runs: 3d, 2w (default 7 days, at most 90 days)",
        closes="Or when it closes: YYYY-MM-DD HH:MM in the server's time zone",
        individuals="Members may also sign as individuals (default: organisations only)",
    )
    @app_commands.autocomplete(statement=statement_autocomplete)
    @app_commands.guild_only()
    async def open(
        self, itx: discord.Interaction, statement: str, duration: str | None = None, closes: str | None = None,
        individuals: bool = False,
    ) -> None:  # fmt: skip
        who = await actor(itx)
        found = await self.bot.statements.resolve(who.guild_id, statement)
        assert itx.channel_id is not None
        can = itx.app_permissions
        if not (can.send_messages and can.embed_links and can.view_channel):
            raise Invalid(t(
                "I can't post the statement in this channel (I need View Channel, Send Messages and Embed Links "
                "here); run /statement open in a channel where I can."
            ))  # fmt: skip
        done = await self.bot.statements.open(
            who, found, channel_id=itx.channel_id, duration=duration, closes=closes, individuals=individuals
        )
        st = done.statement
        said = t(
            "Statement #{number} is open for signature until {when}; it is being posted here (version "
            "{version_number}, fingerprint {fingerprint}).",
            number=st.number, when=when(st.closes_at), version_number=done.version.version,
            fingerprint=code(short(done.version.fingerprint)),
        )  # fmt: skip
        await reply(itx, said.render(await reply_language(itx)), ephemeral=True)
        await self.bot.posts.refill()
        log.info("statement %d opened in server %d", st.statement_id, st.guild_id)

    @app_commands.command(
        description="Withdraw a signature (a representative of the organisation, coordinators)"
    )
    @app_commands.describe(
        statement="The statement's number",
        organisation="The organisation whose signature is withdrawn (default: yours)",
        individual="Withdraw your own signature as an individual instead",
    )
    @app_commands.autocomplete(statement=statement_autocomplete, organisation=ALL_ORGS)
    @app_commands.guild_only()
    async def withdraw(
        self,
        itx: discord.Interaction,
        statement: str,
        organisation: str | None = None,
        individual: bool = False,
    ) -> None:
        who = await actor(itx)
        found = await self.bot.statements.resolve(who.guild_id, statement)
        if organisation is not None and individual:
            raise Invalid(
                t("Withdraw either an organisation's signature or your own as an individual, not both.")
            )
        org = await self.bot.orgs.resolve(who.guild_id, organisation) if organisation is not None else None
        done = await self.bot.statements.withdraw(who, found, org=org, individual=individual)
        number = done.statement.number
        said = (
            t(
                "The signature of **{org}** on statement #{number} is withdrawn.",
                org=esc(done.org_name),
                number=number,
            )
            if done.org_name
            else t("Your signature as an individual on statement #{number} is withdrawn.", number=number)
        )
        await reply(itx, said.render(await reply_language(itx)), ephemeral=True)
        await self.refresh(done.statement)

    @app_commands.command(
        description="Close a statement now (its author, its group's conveners, coordinators)"
    )
    @app_commands.describe(statement="The statement's number")
    @app_commands.autocomplete(statement=statement_autocomplete)
    @app_commands.guild_only()
    async def close(self, itx: discord.Interaction, statement: str) -> None:
        who = await actor(itx)
        found = await self.bot.statements.resolve(who.guild_id, statement)
        closed = await self.bot.statements.close(who, found)
        said = t(
            "Statement #{number} is closed; the closing post with the counts follows in {channel}.",
            number=closed.number, channel=channel(closed.channel_id),
        )  # fmt: skip
        await reply(itx, said.render(await reply_language(itx)), ephemeral=True)
        await self.bot.posts.refill()

    @app_commands.command(description="The signatory list as a file: Markdown, HTML, CSV or JSON")
    @app_commands.describe(
        statement="The statement's number",
        format="File format (default Markdown)",
        public="Post the file in the channel for everyone (individuals' names are then left out)",
        language="The file's language (default: the statement's working group's, else the server's)",
    )
    @app_commands.choices(format=FORMATS, language=LANGUAGE_CHOICES)
    @app_commands.autocomplete(statement=statement_autocomplete)
    @app_commands.guild_only()
    async def signatories(
        self, itx: discord.Interaction, statement: str, format: app_commands.Choice[str] | None = None,
        public: bool = False, language: app_commands.Choice[str] | None = None,
    ) -> None:  # fmt: skip
        who = await actor(itx)
        request = await self.bot.signatories.request(who, statement, public=public)
        group = await self.bot.statements.group_of(request.statement)
        await itx.response.defer(ephemeral=not public, thinking=True)
        found = await self.bot.signatories.build(request)
        fmt = format.value if format else "md"
        # the file: in the language asked for, else the group's (the server's); the answer: posted for
        # everyone, the group's language; else the member's
        suffix, data = render(found, fmt, language.value if language else self.bot.languages.for_group(group))
        lang = self.bot.languages.for_group(group) if public else await reply_language(itx)
        said = (
            t("Signatory list of statement #{number}.", number=found.number)
            if found.names_included
            else t(
                "Signatory list of statement #{number}. Individuals' names are shown only to coordinators.",
                number=found.number,
            )
        )
        await reply(
            itx, said.render(lang), files=[_file(data, filename(found) + suffix)], ephemeral=not public
        )
        if found.checkpoint_new:
            await self.publish_checkpoint(
                who.guild_id, t("signatory list of statement #{number}", number=found.number)
            )

    # -- buttons -------------------------------------------------------------------------------------

    async def card_click(self, itx: discord.Interaction, action: str, statement_id: int) -> None:
        """A button of the card: Sign (asks listed or counted), Sign as an individual, Confirm, Withdraw."""
        who = await actor(itx)
        statements = self.bot.statements
        if action == "sign":
            prompt = await statements.prepare_org_signature(who, statement_id)
            st, version = prompt.statement, prompt.version
            lang = await reply_language(itx)
            asked = t(
                "Sign statement #{number} “{title}” (version {version_number}, fingerprint {fingerprint}) on behalf "
                "of **{org}**?\n**{listed}**: the published signatory list names it. **{counted}**: it is counted, "
                "and its name is not published.",
                number=st.number, title=esc(clip(st.title, 150)), version_number=version.version,
                fingerprint=code(short(version.fingerprint)), org=esc(prompt.org.name), listed=LISTED, counted=COUNTED,
            )  # fmt: skip
            await reply(
                itx, asked.render(lang), view=choice_view(st.statement_id, prompt.org.org_id, version.version, lang),
                ephemeral=True,
            )  # fmt: skip
            return
        if action == "individual":
            signed = await statements.sign_as_individual(who, statement_id)
            await reply(itx, signed_text(signed, await reply_language(itx)), ephemeral=True)
            await self.refresh(signed.statement)
            return
        if action == "confirm":
            done = await statements.confirm(who, statement_id)
            await reply(itx, _confirmed(done).render(await reply_language(itx)), ephemeral=True)
            await self.refresh(done.statement)
            return
        withdrawn = await statements.withdraw(who, statement_id)
        number = withdrawn.statement.number
        said = (
            t(
                "The signature of **{org}** on statement #{number} is withdrawn; sign again with the buttons while "
                "it is open.",
                org=esc(withdrawn.org_name), number=number,
            )
            if withdrawn.org_name
            else t(
                "Your signature as an individual on statement #{number} is withdrawn; sign again with the buttons "
                "while it is open.",
                number=number,
            )
        )  # fmt: skip
        await reply(itx, said.render(await reply_language(itx)), ephemeral=True)
        await self.refresh(withdrawn.statement)

    async def choice_click(
        self, itx: discord.Interaction, statement_id: int, org_id: int, version: int, *, listed: bool
    ) -> None:
        """Listed by name / Counted only: the organisation signs (the question is replaced by the answer)."""
        signed = await self.bot.statements.sign_for_org(
            await actor(itx), statement_id, org_id, version, listed=listed
        )
        await itx.response.edit_message(content=signed_text(signed, await reply_language(itx)), view=None)
        await self.refresh(signed.statement)

    # -- scheduled posts -----------------------------------------------------------------------------

    async def send_post(self, post: Post) -> str:
        """A version's post in its channel: its text, then the card with the buttons; every part once. The
        messages are remembered, earlier versions' cards lose their buttons."""
        statements = self.bot.statements
        found = await statements.version_by_id(post.guild_id, post.ref_id)
        if found is None:
            return SKIPPED
        statement, version = found
        if statement.channel_id is None or statement.state != "open" or statement.version != version.version:
            return SKIPPED  # closed before it went out, or amended again: the newer version is posted

        async def build() -> list[Destination]:
            view = await statements.view(statement)
            return [Destination(statement.channel_id or 0, post_parts(view, self.public_language(view)))]

        result = await deliver(self.bot, post, build, views=card_view)
        if result != SENT:
            return result
        planned = [p for p in await self.bot.posts.book.parts(post.post_id) if not p.direct and p.message_id]
        last = max(p.part for p in planned)
        await statements.attach_messages(
            statement, version, [(p.part, p.target, p.message_id or 0, p.part == last) for p in planned]
        )
        fresh = await statements.view(statement)
        lang = self.public_language(fresh)
        for message in await statements.messages(statement):
            if message.card and message.version < version.version:
                self.updater.request(
                    message.channel_id, message.message_id, _superseded(fresh, message.version, lang)
                )
        await self.refresh(fresh.statement)
        if version.version > 1:
            await self.bot.posts.refill()  # the direct messages asking earlier signers to confirm
        log.info("statement %d version %d posted in server %d", statement.statement_id, version.version,
                 statement.guild_id)  # fmt: skip
        return SENT

    async def send_confirmations(self, post: Post) -> str:
        """After an amendment: a direct message to each earlier signer, asking them to confirm the new text."""
        amendment = await self.bot.statements.amendment(post.guild_id, post.ref_id)
        if amendment is None or not amendment.recipients:
            return SKIPPED
        st, version, card = amendment.statement, amendment.version, amendment.card
        guild = self.bot.get_guild(st.guild_id)
        where = (
            f"https://discord.com/channels/{st.guild_id}/{card.channel_id}/{card.message_id}"
            if card is not None
            else f"<#{st.channel_id}>"
        )

        async def build() -> list[Destination]:
            out: list[Destination] = []
            for record_id, org_name in amendment.recipients:
                found = await reachable(self.bot, st.guild_id, [record_id])
                if not found:
                    continue
                # a direct message: in its reader's own language
                lang = await self.bot.languages.for_reply(st.guild_id, record_id, None)
                facts = {"number": st.number, "title": esc(clip(st.title, 150)), "version_number": version.version,
                         "server": esc(guild.name) if guild else t("your server"), "where": where,
                         "fingerprint": code(short(version.fingerprint)), "confirm": CONFIRM_LABEL}  # fmt: skip
                asked = (
                    t(
                        "Statement #{number} “{title}” in {server} was amended: version {version_number} (fingerprint "
                        "{fingerprint}) replaces the text **{org}**, which you represent, signed. Read the new text "
                        "and press **{confirm}** on the statement to sign it too: {where}",
                        org=esc(org_name), **facts,
                    )
                    if org_name
                    else t(
                        "Statement #{number} “{title}” in {server} was amended: version {version_number} (fingerprint "
                        "{fingerprint}) replaces the text you signed. Read the new text and press **{confirm}** on "
                        "the statement to sign it too: {where}",
                        **facts,
                    )
                )  # fmt: skip
                until = t("Until then the signature counts as given to an earlier version.")
                text = f"{asked.render(lang)}\n{until.render(lang)}"
                out.append(Destination(found[0], text_parts(text), direct=True))
            return out

        return await deliver(self.bot, post, build)

    async def close_at_deadline(self, post: Post) -> str:
        """The close: at the deadline (also late, after a restart) the statement closes once; then, by this
        post or the one /statement close planned, the closing post goes out once and the card loses its
        buttons; a checkpoint of the decision record is published."""
        statements = self.bot.statements
        await statements.close_due(post.guild_id, post.ref_id)
        statement = await statements.claim_announcement(post.guild_id, post.ref_id, post.post_id)
        if statement is None or statement.channel_id is None:
            return SKIPPED

        async def build() -> list[Destination]:
            view = await statements.view(statement)
            parts = closing_parts(view, late=post.late, lang=self.public_language(view))
            return [Destination(statement.channel_id or 0, parts)]

        result = await deliver(self.bot, post, build)
        await self.refresh(statement)
        await self.publish_checkpoint(
            statement.guild_id, t("statement #{number} closed", number=statement.number)
        )
        log.info(
            "statement %d closed in server %d (late=%s)",
            statement.statement_id,
            statement.guild_id,
            post.late,
        )
        return result


def _confirmed(done: Confirmed) -> Text:
    """What a member who confirmed is told: whose signature is now on the current version."""
    facts = {"number": done.statement.number, "version_number": done.version.version,
             "fingerprint": code(short(done.version.fingerprint))}  # fmt: skip
    if done.org_name and done.individual:
        return t(
            "Confirmed the signature of **{org}** and your own signature as an individual for version "
            "{version_number} of statement #{number} (fingerprint {fingerprint}).",
            org=esc(done.org_name), **facts,
        )  # fmt: skip
    if done.org_name:
        return t(
            "Confirmed the signature of **{org}** for version {version_number} of statement #{number} "
            "(fingerprint {fingerprint}).",
            org=esc(done.org_name), **facts,
        )  # fmt: skip
    return t(
        "Confirmed your own signature as an individual for version {version_number} of statement #{number} "
        "(fingerprint {fingerprint}).",
        **facts,
    )


async def setup(bot: Caucus) -> None:
    await bot.add_cog(StatementsCog(bot))
