"""Discord's limits, in one place: every message built from things members control goes through here.

Mentions split into messages of at most 2,000 characters and 100 mentioned users, long text split into
messages or embeds without cutting a line or a mention, embeds kept within their limits, pages for
ephemeral lists, and the nonces that make each part of a scheduled post go out once. No command carries
its own arithmetic of limits.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord

from domain.i18n import Text, render, t, tn
from domain.posts import SENT, SKIPPED, Post

if TYPE_CHECKING:
    from bot.client import Caucus

log = logging.getLogger(__name__)

# -- Discord's numbers (https://discord.com/developers/docs/resources/message) -----------------------------

CONTENT = 2000  # characters of message content
MENTIONED_USERS = 100  # user ids in allowed_mentions.users
MENTIONED_ROLES = 100  # role ids in allowed_mentions.roles
EMBEDS = 10  # embeds per message
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
AUTHOR_NAME = 256
EMBED_TOTAL = 6000  # characters across every embed of one message
SELECT_OPTIONS = 25  # options of a select menu
CHOICES = 25  # autocomplete choices
CHOICE_NAME = 100
ACTION_ROWS = 5
PER_ROW = 5
NONCE = 25  # characters of a message nonce

ELLIPSIS = "…"
NOTHING_YET = t("Nothing yet.")  # what an empty list of pages says unless told
# a mention, channel, emoji or timestamp token: never cut inside one
_TOKEN = re.compile(r"<[^<>\s]{1,40}>")


# -- text ------------------------------------------------------------------------------------------------


def clip(text: str, limit: int) -> str:
    """Text cut to a limit with an ellipsis (for one value that must fit one place)."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def _safe_cut(text: str, limit: int) -> int:
    """Where to cut ``text`` to at most ``limit`` characters: at a line break or a space if there is one in
    the second half, and never inside a <…> token."""
    cut = limit
    for match in _TOKEN.finditer(text, 0, limit + 40):
        if match.start() < cut < match.end():
            cut = match.start()
            break
    for sep in ("\n", " "):
        at = text.rfind(sep, 0, cut + 1)
        if at > limit // 2:
            return at
    return max(cut, 1)


def break_text(text: str, limit: int) -> list[str]:
    """A text longer than ``limit`` as pieces of at most ``limit``, cut at line breaks or spaces where possible."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = _safe_cut(rest, limit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def pack(blocks: Iterable[str], limit: int, *, sep: str = "\n", most: int | None = None) -> list[str]:
    """Blocks (lines, or entries of a few lines) joined with ``sep`` into chunks of at most ``limit``
    characters (and at most ``most`` blocks, if given).

    A block is never split across two chunks unless it alone is longer than ``limit``; then it is cut at
    line breaks or spaces, never inside a mention.
    """
    chunks: list[str] = []
    current, count = "", 0
    for block in blocks:
        for piece in break_text(block, limit) if len(block) > limit else [block]:
            fits = len(current) + len(sep) + len(piece) <= limit and (most is None or count < most)
            if count and fits:
                current += sep + piece
                count += 1
                continue
            if count:
                chunks.append(current)
            current, count = piece, 1
    if count:
        chunks.append(current)
    return chunks


#: "and N more" of a list cut short: a pattern with ``{n}`` (as written, untranslated), or a function of
#: the count giving the Text to show (rendered in the list's language).
More = str | Callable[[int], Text | str]


def _and_more(n: int) -> Text:
    return tn("and {n} more", "and {n} more", n)


def fit_list(
    items: Sequence[str],
    limit: int,
    *,
    sep: str = " ",
    more: More = _and_more,
    most: int | None = None,
    lang: str = "en",
) -> str:
    """As many items as fit in ``limit`` characters (and at most ``most``), then "and N more" for the rest
    (in ``lang``)."""

    def remaining(n: int) -> str:
        return more.format(n=n) if isinstance(more, str) else render(more(n), lang)

    text = ""
    for n, item in enumerate(items):
        candidate = text + (sep if text else "") + item
        rest = len(items) - n - 1
        tail = (sep + remaining(rest)) if rest else ""
        if len(candidate) + len(tail) > limit or (most is not None and n >= most):
            left = remaining(len(items) - n)
            return (text + sep + left) if text else clip(left, limit)
        text = candidate
    return text


# -- messages with mentions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One message: its content, the users and roles it may ping, its embeds, and a key for its buttons.

    Pings are exactly the users and roles listed (never @everyone); mentions anywhere else stay silent.
    """

    content: str = ""
    user_ids: tuple[int, ...] = ()
    role_ids: tuple[int, ...] = ()
    embeds: tuple[dict[str, Any], ...] = field(default=())
    view: str = ""

    def allowed_mentions(self) -> discord.AllowedMentions:
        return discord.AllowedMentions(
            everyone=False,
            users=[discord.Object(u) for u in self.user_ids] or False,
            roles=[discord.Object(r) for r in self.role_ids] or False,
            replied_user=False,
        )

    def kwargs(self) -> dict[str, Any]:
        """What ``Messageable.send`` takes for this part."""
        sent: dict[str, Any] = {"allowed_mentions": self.allowed_mentions()}
        if self.content:
            sent["content"] = self.content
        if self.embeds:
            sent["embeds"] = [discord.Embed.from_dict(e) for e in self.embeds]
        return sent

    def to_json(self) -> str:
        return json.dumps(
            {"content": self.content, "users": list(self.user_ids), "roles": list(self.role_ids),
             "embeds": list(self.embeds), "view": self.view},
            separators=(",", ":"),
        )  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> Part:
        data = json.loads(text)
        return cls(
            content=str(data.get("content", "")), user_ids=tuple(int(u) for u in data.get("users", [])),
            role_ids=tuple(int(r) for r in data.get("roles", [])), embeds=tuple(data.get("embeds", [])),
            view=str(data.get("view", "")),
        )  # fmt: skip


def _roles_in(text: str, role_ids: Sequence[int]) -> tuple[int, ...]:
    return tuple(r for r in role_ids if f"<@&{r}>" in text)[:MENTIONED_ROLES]


def text_parts(text: str, *, role_ids: Sequence[int] = ()) -> list[Part]:
    """A text as one or more messages of at most 2,000 characters, cut between lines where possible."""
    return [Part(content=chunk, role_ids=_roles_in(chunk, role_ids)) for chunk in pack([text], CONTENT)]


def mention_parts(
    head: str,
    user_ids: Iterable[int],
    *,
    label: str = "",
    continued: str = "",
    role_ids: Sequence[int] = (),
    view: str = "",
) -> list[Part]:
    """A head text and a list of members to ping, as messages within Discord's limits.

    Each message has at most 2,000 characters and pings at most 100 users: exactly those mentioned in it.
    Every user is mentioned exactly once over all the parts, in the order given (duplicates dropped). The
    mentions follow ``label`` in the first part that has any, and ``continued`` (default: the label) in the
    next ones. ``role_ids`` may be pinged where the head mentions them. ``view`` goes on the last part.
    """
    ids = list(dict.fromkeys(user_ids))
    heads = pack([head], CONTENT) if head else []
    parts: list[Part] = [Part(content=h, role_ids=_roles_in(h, role_ids)) for h in heads[:-1]]
    text = heads[-1] if heads else ""
    chunk: list[int] = []
    again = continued or label
    labelled = False  # the label goes before the first mention, ``continued`` before later parts' ones

    def flush() -> None:
        nonlocal text, chunk
        if text or chunk:
            parts.append(Part(content=text, user_ids=tuple(chunk), role_ids=_roles_in(text, role_ids)))
        text, chunk = "", []

    for user_id in ids:
        token = f"<@{user_id}>"
        lead = again if labelled else label
        if chunk:
            candidate = f"{text} {token}"
        else:
            candidate = (text + "\n" if text else "") + (f"{lead} " if lead else "") + token
        if len(candidate) > CONTENT or len(chunk) >= MENTIONED_USERS:
            flush()
            lead = again if labelled else label
            candidate = (f"{lead} " if lead else "") + token
        text = candidate
        chunk.append(user_id)
        labelled = True
    flush()
    if view and parts:
        last = parts[-1]
        parts[-1] = Part(last.content, last.user_ids, last.role_ids, last.embeds, view)
    return parts


# -- embeds ------------------------------------------------------------------------------------------------


def embed_size(embed: discord.Embed) -> int:
    """The characters Discord counts towards the 6,000 of a message."""
    size = len(embed.title or "") + len(embed.description or "")
    size += sum(len(f.name or "") + len(f.value or "") for f in embed.fields)
    size += len(embed.footer.text or "") + len(embed.author.name or "")
    return size


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """The embed within every limit: each part clipped to its own limit, at most 25 fields, and the
    longest texts shortened (between lines where possible) until the whole is within 6,000 characters."""
    if embed.title:
        embed.title = clip(embed.title, EMBED_TITLE)
    if embed.description:
        embed.description = _shorten(embed.description, EMBED_DESCRIPTION)
    fields = [(clip(f.name or "\u200b", FIELD_NAME), _shorten(f.value or "—", FIELD_VALUE), bool(f.inline))
              for f in embed.fields[:EMBED_FIELDS]]  # fmt: skip
    if embed.footer.text:
        embed.set_footer(text=clip(embed.footer.text, FOOTER), icon_url=embed.footer.icon_url)
    embed.clear_fields()
    for name, value, inline in fields:
        embed.add_field(name=name, value=value, inline=inline)
    while (excess := embed_size(embed) - EMBED_TOTAL) > 0:
        values = [(len(f.value or ""), i) for i, f in enumerate(embed.fields)]
        longest, index = max(values, default=(0, -1))
        if len(embed.description or "") >= longest:
            embed.description = _shorten(
                embed.description or "", max(1, len(embed.description or "") - excess)
            )
        else:
            f = embed.fields[index]
            embed.set_field_at(index, name=f.name or "", value=_shorten(f.value or "", max(1, longest - excess)),
                               inline=bool(f.inline))  # fmt: skip
    return embed


def describe(
    embed: discord.Embed, blocks: Sequence[str], *, budget: int = EMBED_DESCRIPTION
) -> discord.Embed:
    """Blocks as the embed's description, continued in untitled fields (added now, before any other) when
    they are longer than a description holds: nothing is cut while the message stays within 6,000."""
    text, used = "", 0
    for block in blocks:
        candidate = f"{text}\n{block}" if used else block
        if len(candidate) > budget:
            break
        text, used = candidate, used + 1
    embed.description = text or None
    for chunk in pack(blocks[used:], FIELD_VALUE):
        embed.add_field(name="\u200b", value=chunk, inline=False)
    return embed


def _shorten(text: str, limit: int) -> str:
    """Text within ``limit`` ending with an ellipsis, cut between lines or words and never in a mention."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    return text[: _safe_cut(text, limit - 1)].rstrip() + ELLIPSIS


def embed_pages(
    title: str | Text,
    blocks: Iterable[str],
    *,
    colour: discord.Colour | None = None,
    footer: str | Text = "",
    empty: str | Text = NOTHING_YET,
    first: discord.Embed | None = None,
    per_page: int | None = None,
    lang: str = "en",
) -> list[discord.Embed]:
    """Blocks of text as embeds within the limits (one per page or message), with "Page i of n"; the
    title, footer and "empty" sentence (Texts or plain strings) and the page numbers in ``lang``.

    ``first``, when given, is the first page as the caller built it (fitted to the limits); the blocks
    follow on the next pages. ``per_page`` caps the blocks on a page, for lists that read better short.
    """
    title, footer = render(title, lang), render(footer, lang)
    # room for " · Page 999 of 999" after the footer, however long the language says it
    reserve = max(len(footer) + 24, len(_page_of(footer, 999, 999).render(lang)) + 6)
    budget = min(EMBED_DESCRIPTION, EMBED_TOTAL - len(clip(title, EMBED_TITLE)) - reserve)
    chunks = pack(blocks, budget, most=per_page)
    pages = [fit_embed(first)] if first is not None else []
    if not chunks and not pages:
        chunks = [render(empty, lang)]
    pages += [
        discord.Embed(title=clip(title, EMBED_TITLE), description=chunk, colour=colour) for chunk in chunks
    ]
    if len(pages) > 1:
        for n, page in enumerate(pages, start=1):
            own = page.footer.text or footer
            page.set_footer(text=clip(_page_of(own, n, len(pages)).render(lang), FOOTER))
    elif footer and not pages[0].footer.text:
        pages[0].set_footer(text=clip(footer, FOOTER))
    return [fit_embed(p) for p in pages]


def _page_of(footer: str, page: int, pages: int) -> Text:
    """ "Page i of n" after a page's own footer, if it has one."""
    if footer:
        return t("{footer} · Page {page} of {pages}", footer=footer, page=page, pages=pages)
    return t("Page {page} of {pages}", page=page, pages=pages)


class Pager(discord.ui.View):
    """Previous/Next through pages of an ephemeral answer (only its viewer sees it: no need to survive
    restarts), labelled in the viewer's language."""

    def __init__(self, pages: Sequence[discord.Embed], *, timeout: float = 900, lang: str = "en") -> None:
        super().__init__(timeout=timeout)
        self.pages = list(pages)
        self.page = 0
        self.previous.label = t("Previous").render(lang)
        self.next.label = t("Next").render(lang)
        self._sync()

    def _sync(self) -> None:
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= len(self.pages) - 1

    def embed(self) -> discord.Embed:
        return self.pages[self.page]

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        self.page = max(0, self.page - 1)
        self._sync()
        await interaction.response.edit_message(embed=self.embed(), view=self)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        self.page = min(len(self.pages) - 1, self.page + 1)
        self._sync()
        await interaction.response.edit_message(embed=self.embed(), view=self)


async def send_pages(
    itx: discord.Interaction,
    pages: Sequence[discord.Embed],
    content: str | None = None,
    *,
    buttons: discord.ui.View | None = None,
    lang: str = "en",
    **kwargs: Any,
) -> None:
    """An ephemeral answer of one or more pages: the first page, with Previous/Next (in ``lang``) when there
    are more (and the ``buttons`` of the thing shown, on a row below)."""
    from cogs.ui.boundary import reply

    view = buttons
    if len(pages) > 1:
        view = Pager(pages, lang=lang)
        for item in buttons.children if buttons is not None else ():
            item.row = 1
            view.add_item(item)
    if view is not None:
        kwargs["view"] = view
    await reply(itx, content, embed=pages[0], ephemeral=True, **kwargs)


async def send_all(itx: discord.Interaction, pages: Sequence[discord.Embed], *, last: dict[str, Any]) -> None:
    """Every page as its own ephemeral message, in order (all visible at once); ``last`` goes with the last."""
    from cogs.ui.boundary import reply

    for n, page in enumerate(pages):
        extra = last if n == len(pages) - 1 else {}
        await reply(itx, embed=page, ephemeral=True, **extra)


# -- scheduled posts, exactly once --------------------------------------------------------------------------


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if number == 0:
            return text


def nonce(post_id: int, part: int, recipient: int | None = None) -> str:
    """The nonce of one part of a scheduled post (and of one recipient's copy of a direct message).

    Discord keeps a nonce for a few minutes: a second create with the same one returns the message already
    created, so a resend after a crash or a failure never posts a part twice. At most 25 characters.
    """
    text = f"p{post_id}.{part}" if recipient is None else f"p{post_id}.{part}.{_base36(recipient)}"
    if len(text) <= NONCE:
        return text
    return "h" + hashlib.sha256(text.encode()).hexdigest()[: NONCE - 1]


@dataclass(frozen=True)
class Destination:
    """Where some parts of a post go: a channel, or (direct) a member's direct messages."""

    target: int
    parts: Sequence[Part]
    direct: bool = False


Build = Callable[[], Awaitable[Sequence[Destination] | None]]


async def deliver(
    bot: Caucus, post: Post, build: Build, *, views: Callable[[str], discord.ui.View | None] | None = None
) -> str:
    """Send a scheduled post, every part exactly once.

    The parts are decided at the first attempt (``build``; None or nothing to send: skipped) and kept until
    the post is finished. Each part goes out with its nonce and is recorded once out, so another attempt —
    after a failure, a crash or a stop — sends only the parts not yet recorded, with the same nonces: a part
    that was out but not recorded is returned by Discord instead of posted again. A direct message that
    cannot be delivered (closed DMs, unknown member) is given up; any other failure raises, and the post is
    tried again.
    """
    book = bot.posts.book
    planned = await book.parts(post.post_id)
    if not planned:
        destinations = await build()
        rows = [(d.target, d.direct, n, part.to_json()) for d in destinations or ()
                for n, part in enumerate(d.parts, start=1)]  # fmt: skip
        if not rows:
            return SKIPPED
        planned = await book.decide_parts(post.post_id, rows, guild_id=post.guild_id)
    else:
        log.info(
            "post %d: sending the %d parts not yet out",
            post.post_id,
            sum(p.message_id is None for p in planned),
        )
    for row in planned:
        if row.message_id is not None:
            continue
        part = Part.from_json(row.payload)
        kwargs = part.kwargs()
        if part.view and views is not None and (view := views(part.view)) is not None:
            kwargs["view"] = view
        if row.direct:
            sent = await _direct(bot, row.target, kwargs, nonce(post.post_id, row.part, row.target))
        else:
            message = await bot.get_partial_messageable(row.target).send(
                nonce=nonce(post.post_id, row.part), **kwargs
            )
            sent = message.id
        await book.part_sent(post.post_id, row.seq, sent, guild_id=post.guild_id)
    return SENT


async def _direct(bot: Caucus, user_id: int, kwargs: dict[str, Any], key: str) -> int:
    """One direct message; 0 when the member cannot get it (closed DMs, gone)."""
    try:
        user = bot.get_user(user_id) or await bot.fetch_user(user_id)
        message = await user.send(nonce=key, **kwargs)
    except (discord.Forbidden, discord.NotFound):
        log.info("could not send a direct message to %d", user_id)
        return 0
    return message.id
