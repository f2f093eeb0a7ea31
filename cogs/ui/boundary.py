"""The error boundary and reply helper every command and component goes through."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import discord
from discord import app_commands

from domain.errors import DomainError, Unavailable
from domain.i18n import Text, render, t
from domain.text import quote

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()


async def reply(
    itx: discord.Interaction, content: str | None = None, *, ephemeral: bool = False, **kwargs: Any
) -> None:
    """Answer an interaction whether or not it was already acknowledged; never pings unless told."""
    kwargs.setdefault("allowed_mentions", NO_PINGS)
    if itx.response.is_done():
        await itx.followup.send(content or "", ephemeral=ephemeral, **kwargs)
    else:
        await itx.response.send_message(content, ephemeral=ephemeral, **kwargs)


async def send_public(itx: discord.Interaction, content: str | None = None, **kwargs: Any) -> discord.Message:
    """Answer with a public message and return it (to remember where it is), without pinging anyone."""
    kwargs.setdefault("allowed_mentions", NO_PINGS)
    response = await itx.response.send_message(content, **kwargs)
    resource = response.resource
    if isinstance(resource, discord.InteractionMessage):
        return resource
    return await itx.original_response()


def _describe(itx: discord.Interaction) -> str:
    data: dict[str, Any] = dict(itx.data or {})
    what = itx.command.qualified_name if itx.command else data.get("custom_id", "?")
    return f"{what!s} guild={itx.guild_id} user={itx.user.id if itx.user else '?'}"


def sentence_for(error: BaseException) -> tuple[Text | str, bool]:
    """The sentence to show for an error (to render in the reader's language), and whether it was expected
    (a refusal, not our bug)."""
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError) and error.__cause__:
        inner = error.__cause__
        if isinstance(inner, DomainError):
            return inner.text, True
    original = getattr(error, "original", error)
    if isinstance(original, DomainError):
        return original.text, True
    if isinstance(error, app_commands.NoPrivateMessage):
        return t("This command works only inside a server."), True
    if isinstance(error, app_commands.TransformerError):
        return t(
            "“{value}” is not a valid value here; pick one from the list.", value=quote(str(error.value), 50)
        ), True
    if isinstance(error, app_commands.CommandOnCooldown):
        return t("Slow down: try again in {seconds} s.", seconds=round(error.retry_after)), True
    if isinstance(error, app_commands.CheckFailure):
        return t("You can't use this command here."), True
    return "", False


def unexpected(ref: str) -> Text:
    """What a member sees when something failed on our side (the log has the detail under ``ref``)."""
    return t(
        "Something went wrong on our side (ref {ref}). Please try again; if it persists, tell a coordinator.",
        ref=ref,
    )


async def reply_language(itx: discord.Interaction) -> str:
    """The language to answer this member in (their choice, their Discord language, or the server's)."""
    bot: Any = itx.client
    try:
        record_id = await bot.members.record_id(itx.guild_id, itx.user.id) if itx.guild_id else itx.user.id
        return str(await bot.languages.for_reply(itx.guild_id, record_id, str(itx.locale)))
    except Exception:  # the database may be gone (shutting down): English is still an answer
        log.debug("no language for %s; answering in English", _describe(itx), exc_info=True)
        return "en"


def expired(error: BaseException) -> bool:
    """Discord takes no answer to this interaction any more: its 3 seconds passed (10062, Unknown
    interaction) or it was answered already (40060). Under a burst that is a condition, not a bug: what the
    member did is saved, and a second answer would only be refused too."""
    original = getattr(error, "original", error)
    return isinstance(original, discord.HTTPException) and original.code in (10062, 40060)


async def handle_error(itx: discord.Interaction, error: BaseException) -> None:
    """Turn an error into one ephemeral sentence for the member, in their language; log unexpected ones
    with a reference (refusals at DEBUG only: they may quote what the member typed)."""
    if expired(error):
        log.warning("answered %s too late: Discord no longer takes an answer to it", _describe(itx))
        return
    sentence, expected = sentence_for(error)
    if expected:
        log.info("refused %s: %s", _describe(itx), type(getattr(error, "original", error)).__name__)
        log.debug("refusal sentence: %s", sentence)
    else:
        ref = secrets.token_hex(3)
        original = getattr(error, "original", error)
        log.error("unexpected error ref=%s in %s", ref, _describe(itx), exc_info=original)
        sentence = unexpected(ref)
    try:
        await reply(itx, render(sentence, await reply_language(itx)), ephemeral=True)
    except Exception as exc:  # the connection may be gone (shutting down): nothing more to tell anyone
        log.warning("could not tell the member about an error in %s: %s", _describe(itx), exc)


async def guarded(itx: discord.Interaction, work: Awaitable[None]) -> None:
    """Run a component's work inside the error boundary (discord.py would swallow the error)."""
    try:
        await work
    except Exception as exc:
        await handle_error(itx, exc)


def guild_id_of(itx: discord.Interaction) -> int:
    """The server an interaction came from; refuses direct messages."""
    if itx.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return itx.guild_id


class Routed:
    """A persistent component (a DynamicItem) whose work is done by the handler its cog hands it when the
    cog registers it: ``bot.add_dynamic_items(Button.route(self.on_click))`` in ``cog_load``, and
    ``Button.unroute()`` in ``cog_unload``. The component only parses its custom_id; the handler gets the
    interaction and the parsed ids, and runs inside the error boundary (``guarded``) unless it has its own.
    """

    handler: ClassVar[Callable[..., Awaitable[None]] | None] = None

    @classmethod
    def route(cls, handler: Callable[..., Awaitable[None]]) -> type[Any]:
        """Hand the component its handler; returns the class, for ``add_dynamic_items``."""
        cls.handler = handler
        return cls

    @classmethod
    def unroute(cls) -> type[Any]:
        """Forget the handler (the cog is unloaded): clicks then get a clear "not available" sentence."""
        cls.handler = None
        return cls

    async def handle(self, interaction: discord.Interaction[Any], *args: Any, **kwargs: Any) -> None:
        """Run the handler with the parsed ids (a NotFound-like sentence when no cog handles it now)."""
        handler = type(self).handler
        if handler is None:
            raise Unavailable(t("This is not available right now; please try again in a minute."))
        await handler(interaction, *args, **kwargs)
