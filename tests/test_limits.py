"""The shared piece that keeps every message within Discord's limits (cogs/ui/limits.py)."""

from __future__ import annotations

import re

import discord
import pytest

from cogs.ui.limits import (
    CONTENT,
    EMBED_DESCRIPTION,
    EMBED_TOTAL,
    FIELD_VALUE,
    MENTIONED_USERS,
    NONCE,
    Part,
    embed_pages,
    embed_size,
    fit_embed,
    fit_list,
    mention_parts,
    nonce,
    pack,
)

MENTION = re.compile(r"<@(\d+)>")
IDS = [1_300_000_000_000_000_000 + n for n in range(300)]  # 19-digit snowflakes, as Discord's are now


def mentioned(part: Part) -> list[int]:
    return [int(m) for m in MENTION.findall(part.content)]


@pytest.mark.parametrize("head_len", [0, 200, 1990, 4500])
@pytest.mark.parametrize("count", [0, 1, 99, 100, 101, 300])
def test_mention_parts_stay_within_limits_and_mention_everyone_once(head_len: int, count: int) -> None:
    head = ("Reminder " * 600)[:head_len]
    ids = IDS[:count]
    parts = mention_parts(
        head, ids + ids[:5], label="Not yet responded:", continued="Not yet responded (continued):"
    )
    everyone: list[int] = []
    for part in parts:
        assert 0 < len(part.content) <= CONTENT
        assert len(part.user_ids) <= MENTIONED_USERS
        assert set(mentioned(part)) == set(part.user_ids)  # allowed_mentions lists exactly those in the part
        allowed = part.allowed_mentions().to_dict()
        assert [int(u) for u in allowed.get("users", [])] == list(part.user_ids)
        assert "everyone" not in allowed.get("parse", [])
        everyone += part.user_ids
    assert everyone == ids  # each once, in order, duplicates dropped
    assert "".join(p.content for p in parts).replace("\n", "").replace(" ", "").count(
        "Reminder"
    ) == head.count("Reminder")


def test_mention_parts_with_a_role_ping_in_the_head() -> None:
    parts = mention_parts("<@&42> Session starts", [], role_ids=(42,), view="session:7")
    assert parts == [Part(content="<@&42> Session starts", role_ids=(42,), view="session:7")]
    assert Part.from_json(parts[0].to_json()) == parts[0]


def test_pack_never_cuts_a_mention_or_a_line_that_fits() -> None:
    lines = [f"- <@{uid}> — agree: " + "r" * 900 for uid in IDS[:30]]
    chunks = pack(lines, EMBED_DESCRIPTION)
    assert all(len(c) <= EMBED_DESCRIPTION for c in chunks)
    assert "\n".join(chunks).split("\n") == lines
    long_line = " ".join(f"<@{uid}>" for uid in IDS)  # 6,899 characters on one line
    pieces = pack([long_line], 1024)
    assert all(len(p) <= 1024 for p in pieces)
    assert [int(m) for p in pieces for m in MENTION.findall(p)] == IDS
    assert all(re.fullmatch(r"(<@\d+>)( <@\d+>)*", p) for p in pieces)


def test_fit_embed_and_fit_list() -> None:
    embed = discord.Embed(title="t" * 300, description="d" * 5000)
    for n in range(30):
        embed.add_field(name=f"field {n}", value=" ".join(f"<@{uid}>" for uid in IDS[:60]))
    fit_embed(embed)
    assert len(embed.title or "") <= 256 and len(embed.fields) == 25 and embed_size(embed) <= EMBED_TOTAL
    for f in embed.fields:  # shortened between mentions, never inside one
        assert len(f.value or "") <= FIELD_VALUE and "<@" not in MENTION.sub("", f.value or "")
    members = fit_list([f"<@{uid}>" for uid in IDS], FIELD_VALUE, more="and {n} more")
    assert len(members) <= FIELD_VALUE and members.endswith(f"and {300 - members.count('<@')} more")
    assert fit_list(["<@1>", "<@2>"], FIELD_VALUE) == "<@1> <@2>"


def test_embed_pages_hold_every_block_within_the_limits() -> None:
    blocks = [f"- <@{uid}> — object: " + "reason " * 140 for uid in IDS]  # 300 positions, ~1,000-char reasons
    pages = embed_pages("Point #1 · Open", blocks, footer="Point #1")
    assert len(pages) > 50
    assert all(embed_size(p) <= EMBED_TOTAL and len(p.description or "") <= EMBED_DESCRIPTION for p in pages)
    assert "\n".join(p.description or "" for p in pages).split("\n") == blocks
    assert pages[0].footer.text == f"Point #1 · Page 1 of {len(pages)}"
    assert [p.description for p in embed_pages("Empty", [], empty="Nothing.")] == ["Nothing."]
    assert len(embed_pages("Ten a page", [str(n) for n in range(23)], per_page=10)) == 3


def test_nonces_are_short_and_distinct() -> None:
    keys = {nonce(post_id, part) for post_id in (1, 999_999, 2**62) for part in (1, 2, 11)}
    keys |= {nonce(post_id, 1, uid) for post_id in (1, 2**40) for uid in IDS[:3]}
    assert len(keys) == 15 and all(len(k) <= NONCE for k in keys)
    assert nonce(12, 3) == "p12.3"
