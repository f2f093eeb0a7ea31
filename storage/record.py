"""Queries for the decision record: entries appended in the caller's transaction, signed checkpoints, the key."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from storage.db import Connection, Database, SyncConnection, row_as, rows_as
from storage.keys import load_or_create_secret

log = logging.getLogger(__name__)

SEED_BYTES = 32  # an Ed25519 private key is a 32-byte seed (RFC 8032 §5.1.5)


@dataclass(frozen=True)
class EntryRow:
    guild_id: int
    idx: int
    entry: bytes
    leaf_hash: bytes
    created_at: int


@dataclass(frozen=True)
class CheckpointRow:
    checkpoint_id: int
    guild_id: int
    tree_size: int
    root_hash: bytes
    note: str
    created_at: int
    channel_id: int | None
    message_id: int | None


_ENTRY = "guild_id, idx, entry, leaf_hash, created_at"
_CHECKPOINT = "checkpoint_id, guild_id, tree_size, root_hash, note, created_at, channel_id, message_id"


# -- entries ------------------------------------------------------------------------------------


async def next_index(conn: Connection, guild_id: int) -> int:
    """The index the next entry of this server takes (0, 1, 2…); call inside the appending transaction."""
    cursor = await conn.execute(
        "SELECT COALESCE(MAX(idx) + 1, 0) FROM record_entries WHERE guild_id = :g", {"g": guild_id}
    )
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def insert_entry(
    conn: Connection, guild_id: int, idx: int, entry: bytes, leaf_hash: bytes, now: int
) -> None:
    """Store one entry at its index (the primary key refuses a second entry at the same place)."""
    await conn.execute(
        "INSERT INTO record_entries (guild_id, idx, entry, leaf_hash, created_at) "
        "VALUES (:g, :idx, :entry, :leaf, :now)",
        {"g": guild_id, "idx": idx, "entry": entry, "leaf": leaf_hash, "now": now},
    )


def next_index_now(conn: SyncConnection, guild_id: int) -> int:
    """``next_index`` on a plain sqlite3 connection (a click's transaction inside Database.run)."""
    row = conn.execute(
        "SELECT COALESCE(MAX(idx) + 1, 0) FROM record_entries WHERE guild_id = :g", {"g": guild_id}
    ).fetchone()
    return int(row[0]) if row else 0


def insert_entry_now(
    conn: SyncConnection, guild_id: int, idx: int, entry: bytes, leaf_hash: bytes, now: int
) -> None:
    """``insert_entry`` on a plain sqlite3 connection."""
    conn.execute(
        "INSERT INTO record_entries (guild_id, idx, entry, leaf_hash, created_at) "
        "VALUES (:g, :idx, :entry, :leaf, :now)",
        {"g": guild_id, "idx": idx, "entry": entry, "leaf": leaf_hash, "now": now},
    )


async def entries(db: Database, guild_id: int) -> list[EntryRow]:
    """Every stored entry of one server, in index order (gaps and all: checking them is the domain's job)."""
    rows = await db.fetchall(
        f"SELECT {_ENTRY} FROM record_entries WHERE guild_id = :g ORDER BY idx",  # noqa: S608
        {"g": guild_id},
    )
    return rows_as(EntryRow, rows)


async def entry_count(db: Database, guild_id: int) -> int:
    """How many entries one server's record holds."""
    return int(
        await db.fetchval("SELECT count(*) FROM record_entries WHERE guild_id = :g", {"g": guild_id}) or 0
    )


# -- checkpoints --------------------------------------------------------------------------------


async def checkpoints(db: Database, guild_id: int) -> list[CheckpointRow]:
    """Every checkpoint signed for one server, smallest tree first."""
    rows = await db.fetchall(
        f"SELECT {_CHECKPOINT} FROM record_checkpoints WHERE guild_id = :g ORDER BY tree_size",  # noqa: S608
        {"g": guild_id},
    )
    return rows_as(CheckpointRow, rows)


async def latest_checkpoint(db: Database, guild_id: int) -> CheckpointRow | None:
    """The checkpoint of the largest tree signed for one server, or None."""
    row = await db.fetchone(
        f"SELECT {_CHECKPOINT} FROM record_checkpoints WHERE guild_id = :g "  # noqa: S608
        "ORDER BY tree_size DESC LIMIT 1",
        {"g": guild_id},
    )
    return None if row is None else row_as(CheckpointRow, row)


async def add_checkpoint(
    conn: Connection, guild_id: int, tree_size: int, root_hash: bytes, note: str, now: int
) -> CheckpointRow:
    """Store a signed checkpoint; one of the same size already stored is kept (and returned) as it is."""
    await conn.execute(
        "INSERT INTO record_checkpoints (guild_id, tree_size, root_hash, note, created_at) "
        "VALUES (:g, :size, :root, :note, :now) ON CONFLICT (guild_id, tree_size) DO NOTHING",
        {"g": guild_id, "size": tree_size, "root": root_hash, "note": note, "now": now},
    )
    cursor = await conn.execute(
        f"SELECT {_CHECKPOINT} FROM record_checkpoints WHERE guild_id = :g AND tree_size = :size",  # noqa: S608
        {"g": guild_id, "size": tree_size},
    )
    row = await cursor.fetchone()
    assert row is not None
    return row_as(CheckpointRow, row)


async def set_posted(
    conn: Connection, guild_id: int, tree_size: int, channel_id: int, message_id: int
) -> None:
    """Remember where a checkpoint was last posted."""
    await conn.execute(
        "UPDATE record_checkpoints SET channel_id = :c, message_id = :m WHERE guild_id = :g AND tree_size = :size",
        {"g": guild_id, "size": tree_size, "c": channel_id, "m": message_id},
    )


# -- the signing key ----------------------------------------------------------------------------


class RecordKeyError(Exception):
    """The record's signing key file exists but cannot be used."""


def signing_key_path(db_path: str | Path) -> Path:
    """Where the record's signing key lives: next to the database, as ``<database>.record-key``."""
    return Path(str(db_path) + ".record-key")


def load_or_create_signing_key(db_path: str | Path) -> bytes:
    """The 32-byte Ed25519 seed next to the database, created (mode 0600) on first start; never in the database."""
    return load_or_create_secret(
        signing_key_path(db_path), SEED_BYTES, what="record signing key", error=RecordKeyError,
        why="checkpoints signed with another key no longer verify against the published key",
    )  # fmt: skip
