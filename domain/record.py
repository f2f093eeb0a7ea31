"""The decision record: an append-only log of decisions per server that anyone can check offline.

The design is certificate transparency's, not an invented one:

* each **entry** is canonical JSON (RFC 8785, the ``rfc8785`` package): ``{"v", "index", "server", "at",
  "kind", "facts"}``. It never holds an individual's name or Discord id: organisations appear by name,
  people by nothing (counts) or by a pseudonym the caller passes. No text a member typed is stored
  either, only the SHA-256 (hex) of its UTF-8 bytes (``text_sha256``, ``note_sha256``…): a typed text
  may name someone, and the record can never be edited; an export that prints the text can still be
  checked against the entry by hashing it. The entry carries its own index, so a reordered log names
  the first misplaced entry;
* the entries of one server are the leaves of a **Merkle tree exactly as RFC 6962 §2.1**: leaf hash
  SHA-256(0x00 ‖ entry), node SHA-256(0x01 ‖ left ‖ right), MTH of the empty list SHA-256(""), split at
  the largest power of two smaller than n; inclusion proofs (§2.1.1) and consistency proofs (§2.1.2),
  verified as RFC 9162 §2.1.3.2 and §2.1.4.2 describe;
* **checkpoints** are C2SP signed notes in the tlog-checkpoint format (c2sp.org/signed-note,
  c2sp.org/tlog-checkpoint): origin line, tree size, base64 root, then an empty line and the Ed25519
  signature line ``— <key name> base64(key id ‖ signature)``. The origin of a server's log is
  ``caucus/discord/<server id>`` and, as tlog-checkpoint recommends, the key name is the origin too; the
  key id is SHA-256(key name ‖ "\\n" ‖ 0x01 ‖ public key)[:4]. One Ed25519 key per bot (the file
  ``<database>.record-key``), so each server has its own verifier key string
  ``<origin>+<8 hex key id>+<base64(0x01 ‖ public key)>``;
* before signing, the bot recomputes the tree from the stored entries and refuses to sign a tree that
  does not extend every checkpoint it signed before (a log MUST NOT sign inconsistent checkpoints).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from domain.agenda import next_digest_at
from domain.clock import Clock, to_unix
from domain.errors import DomainError, Invalid, NotAllowed, NotFound
from domain.i18n import Text, t, tn
from domain.permissions import Actor, Policy
from domain.posts import Post
from storage import posts as post_rows
from storage import record as record_rows
from storage import servers as server_rows
from storage.db import Connection, Database, SyncConnection
from storage.record import CheckpointRow, EntryRow, RecordKeyError

__all__ = [
    "Event", "InvalidEvent", "make_entry", "validate_event", "entry_bytes", "sha256_hex",
    "point_decided", "question_answered", "objection_ruled", "poll_closed", "statement_version",
    "signature", "organisation_verified", "append", "append_now",
    "EMPTY_ROOT", "leaf_hash", "node_hash", "MerkleTree", "root_of", "inclusion_proof", "consistency_proof",
    "verify_inclusion", "verify_consistency",
    "NoteError", "Verifier", "Signer", "open_note", "checkpoint_text", "parse_checkpoint", "CheckpointBody",
    "Integrity", "LogTampered", "check_log", "Checkpoint", "RecordStatus", "Record", "origin_of",
    "Check", "Unreadable", "read_document", "verify_document", "describe", "RecordKeyError", "DAILY",
    "load_signing_key",
]  # fmt: skip

FORMAT = "caucus-record/1"
ENTRY_VERSION = 1
ORIGIN_PREFIX = "caucus/discord/"
#: The scheduled post of the daily checkpoint (ref_id: the server id; one per server per day).
DAILY = "record_checkpoint"
MAX_SAFE = 2**53 - 1  # I-JSON numbers (RFC 8785 refuses bigger integers)


def load_signing_key(db_path: str) -> bytes:
    """The bot's record signing key (an Ed25519 seed) from ``<db path>.record-key``, created on first start."""
    return record_rows.load_or_create_signing_key(db_path)


def origin_of(guild_id: int) -> str:
    """The origin line (and key name) of one server's log: ``caucus/discord/<server id>``."""
    return f"{ORIGIN_PREFIX}{guild_id}"


# == canonical entries ===========================================================================


class InvalidEvent(ValueError):
    """An entry the record refuses (a programming error of the caller: it never reaches a member)."""


def sha256_hex(text: str) -> str:
    """The SHA-256 of a text's UTF-8 bytes, in lowercase hex: how entries carry texts."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Event:
    """A decision to record: its kind and its facts (see ``SCHEMAS``); the constructors below build them."""

    kind: str
    facts: Mapping[str, Any]


_HEX64 = re.compile(r"[0-9a-f]{64}")
_TOKEN = re.compile(r"[a-z][a-z_]{0,31}")
_FINGERPRINT = re.compile(r"[A-Za-z0-9:+/=_.-]{8,128}")
_PSEUDONYM = re.compile(r"anon-[0-9a-f]{16,64}")
_SNOWFLAKE = re.compile(r"\d{15,21}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOTE_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # signed notes: no control character but newline
# Keys that would carry a person: ids, names, "who did it". Checked before the schema so the refusal says why.
_PERSONAL_KEY = re.compile(
    r"(^|_)(user|users|member|members|author|authors|person|people|voter|voters|signer|signers|nick|"
    r"nickname|username|display|mention|discord|email)(_|$)|(^|_)by$|^by_|(^|_)ids?$|(^|_)names?$"
)

#: Per kind: key -> (type, required). Types: number (≥ 1), count (≥ 0), sha256 (hex of a text), token
#: (a_lower_case_word), label (an organisation's name, country, region…), fingerprint, pseudonym, tally
#: ({token: count}), options ([{"label_sha256", "votes"}] in the poll's order), or a tuple of allowed values.
SCHEMAS: dict[str, dict[str, tuple[Any, bool]]] = {
    "point_decided": {
        "item": ("number", True), "revision": ("number", True), "text_sha256": ("sha256", True),
        "outcome": ("token", True), "note_sha256": ("sha256", False), "tally": ("tally", True),
    },
    "question_answered": {
        "item": ("number", True), "revision": ("number", True), "text_sha256": ("sha256", True),
        "outcome": ("token", True), "answer_sha256": ("sha256", False),
    },
    "objection_ruled": {
        "item": ("number", True), "revision": ("number", True), "stance": ("token", True),
        "state": ("token", True), "note_sha256": ("sha256", False),
    },
    "poll_closed": {
        "poll": ("number", True), "question_sha256": ("sha256", True), "options": ("options", True),
        "ballots": ("count", True),
    },
    "statement_version": {
        "statement": ("number", True), "version": ("number", True), "fingerprint": ("fingerprint", True),
        "state": (("opened", "amended", "closed"), True),
    },
    "signature": {
        "statement": ("number", True), "fingerprint": ("fingerprint", True),
        "action": (("given", "withdrawn"), True), "organisation": ("label", False), "pseudonym": ("pseudonym", False),
    },
    "organisation_verified": {
        "organisation": ("label", True), "country": ("label", True), "region": ("label", True),
        "stakeholder": ("label", True),
    },
}  # fmt: skip
_ENVELOPE = ("v", "index", "server", "at", "kind", "facts")


def point_decided(
    *, item: int, revision: int, text: str, outcome: str, tally: Mapping[str, int], note: str | None = None
) -> Event:
    """A point's outcome: its number, the revision decided, the hash of that text, the tally by stance."""
    facts: dict[str, Any] = {"item": item, "revision": revision, "text_sha256": sha256_hex(text),
                             "outcome": outcome, "tally": dict(tally)}  # fmt: skip
    if note:
        facts["note_sha256"] = sha256_hex(note)
    return Event("point_decided", facts)


def question_answered(
    *, item: int, revision: int, text: str, outcome: str, answer: str | None = None
) -> Event:
    """A question closed (answered or dropped), with the hash of its answer."""
    facts: dict[str, Any] = {"item": item, "revision": revision, "text_sha256": sha256_hex(text),
                             "outcome": outcome}  # fmt: skip
    if answer:
        facts["answer_sha256"] = sha256_hex(answer)
    return Event("question_answered", facts)


def objection_ruled(*, item: int, revision: int, stance: str, state: str, note: str | None = None) -> Event:
    """An objection marked addressed or in the rough (whose objection is not recorded)."""
    facts: dict[str, Any] = {"item": item, "revision": revision, "stance": stance, "state": state}
    if note:
        facts["note_sha256"] = sha256_hex(note)
    return Event("objection_ruled", facts)


def poll_closed(*, poll: int, question: str, options: Sequence[tuple[str, int]], ballots: int) -> Event:
    """A poll's final result: votes per option (labels hashed, in the poll's order) and the ballots cast."""
    return Event("poll_closed", {
        "poll": poll, "question_sha256": sha256_hex(question), "ballots": ballots,
        "options": [{"label_sha256": sha256_hex(label), "votes": votes} for label, votes in options],
    })  # fmt: skip


def statement_version(*, statement: int, version: int, fingerprint: str, state: str) -> Event:
    """A statement's version opened for signature, amended (a new version while open) or closed."""
    return Event("statement_version", {"statement": statement, "version": version,
                                       "fingerprint": fingerprint, "state": state})  # fmt: skip


def signature(
    *, statement: int, fingerprint: str, action: str, organisation: str | None = None,
    pseudonym: str | None = None,
) -> Event:  # fmt: skip
    """A signature given or withdrawn: by an organisation (its name) or an individual (a pseudonym only)."""
    facts: dict[str, Any] = {"statement": statement, "fingerprint": fingerprint, "action": action}
    if organisation is not None:
        facts["organisation"] = organisation
    if pseudonym is not None:
        facts["pseudonym"] = pseudonym
    return Event("signature", facts)


def organisation_verified(*, organisation: str, country: str, region: str, stakeholder: str) -> Event:
    """An organisation verified by the coordinators, with where it is from and its stakeholder group."""
    return Event("organisation_verified", {"organisation": organisation, "country": country,
                                           "region": region, "stakeholder": stakeholder})  # fmt: skip


def _rfc3339(when: datetime) -> str:
    if when.tzinfo is None:
        raise InvalidEvent("an entry's time must be an aware datetime")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_entry(guild_id: int, index: int, event: Event, now: datetime) -> dict[str, Any]:
    """The entry of one event at one index of a server's log (validated)."""
    entry = {"v": ENTRY_VERSION, "index": index, "server": str(guild_id), "at": _rfc3339(now),
             "kind": event.kind, "facts": dict(event.facts)}  # fmt: skip
    validate_event(entry)
    return entry


def looks_like_a_person(text: str) -> bool:
    """Whether a text would be refused in an entry as looking like a Discord id or a mention."""
    return bool(_SNOWFLAKE.fullmatch(text.strip())) or "<@" in text


def _refuse_personal(value: Any, where: str) -> None:
    """No key named like a person's id or name, no value that looks like a Discord id or mention."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if not isinstance(key, str):
                raise InvalidEvent(f"{where}: keys must be strings")
            if _PERSONAL_KEY.search(key):
                raise InvalidEvent(f"{where}: {key!r} would identify a person; entries never hold one")
            _refuse_personal(inner, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for n, inner in enumerate(value):
            _refuse_personal(inner, f"{where}[{n}]")
    elif isinstance(value, str):
        if looks_like_a_person(value):
            raise InvalidEvent(f"{where}: {value[:30]!r} looks like a Discord id or mention")
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        raise InvalidEvent(f"{where}: {value} looks like a Discord id")


def _check_value(kind: Any, value: Any, where: str) -> None:
    def count(v: Any, low: int) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and low <= v <= MAX_SAFE

    ok: bool
    if isinstance(kind, tuple):
        ok = value in kind
    elif kind == "number":
        ok = count(value, 1)
    elif kind == "count":
        ok = count(value, 0)
    elif kind == "sha256":
        ok = isinstance(value, str) and bool(_HEX64.fullmatch(value))
    elif kind == "token":
        ok = isinstance(value, str) and bool(_TOKEN.fullmatch(value))
    elif kind == "fingerprint":
        ok = isinstance(value, str) and bool(_FINGERPRINT.fullmatch(value))
    elif kind == "pseudonym":
        ok = isinstance(value, str) and bool(_PSEUDONYM.fullmatch(value))
    elif kind == "label":
        ok = (isinstance(value, str) and 0 < len(value) <= 200 and value == value.strip()
              and not _CONTROL.search(value))  # fmt: skip
    elif kind == "tally":
        ok = isinstance(value, Mapping) and all(
            isinstance(k, str) and _TOKEN.fullmatch(k) and count(v, 0) for k, v in value.items()
        )
    elif kind == "options":
        ok = isinstance(value, list) and 0 < len(value) <= 100 and all(
            isinstance(o, Mapping) and set(o) == {"label_sha256", "votes"}
            and isinstance(o["label_sha256"], str) and _HEX64.fullmatch(o["label_sha256"])
            and count(o["votes"], 0)
            for o in value
        )  # fmt: skip
    else:  # pragma: no cover - a typo in SCHEMAS
        raise AssertionError(f"unknown field type {kind!r}")
    if not ok:
        raise InvalidEvent(
            f"{where}: {str(value)[:40]!r} is not a valid {kind if isinstance(kind, str) else kind}"
        )


def validate_event(entry: Mapping[str, Any]) -> None:
    """Raise InvalidEvent unless ``entry`` is a well-formed entry that identifies no individual."""
    if not isinstance(entry, Mapping) or tuple(sorted(entry)) != tuple(sorted(_ENVELOPE)):
        raise InvalidEvent(f"an entry has exactly the keys {', '.join(_ENVELOPE)}")
    if entry["v"] != ENTRY_VERSION:
        raise InvalidEvent(f"unknown entry version {entry['v']!r}")
    if not (isinstance(entry["index"], int) and not isinstance(entry["index"], bool)
            and 0 <= entry["index"] <= MAX_SAFE):  # fmt: skip
        raise InvalidEvent("index must be a whole number from 0")
    if not (isinstance(entry["server"], str) and entry["server"].isascii() and entry["server"].isdigit()):
        raise InvalidEvent("server must be the server id as a decimal string")
    if not (isinstance(entry["at"], str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["at"])):
        raise InvalidEvent("at must be a UTC time like 2026-11-30T12:00:00Z")
    kind = entry["kind"]
    schema = SCHEMAS.get(kind) if isinstance(kind, str) else None
    if schema is None:
        raise InvalidEvent(f"unknown kind of entry {kind!r} (known: {', '.join(sorted(SCHEMAS))})")
    facts = entry["facts"]
    if not isinstance(facts, Mapping):
        raise InvalidEvent(f"{kind}: facts must be an object")
    _refuse_personal(facts, kind)
    for key in facts:
        if key not in schema:
            raise InvalidEvent(f"{kind}: unknown key {key!r} (known: {', '.join(schema)})")
    for key, (field_type, required) in schema.items():
        if key in facts:
            _check_value(field_type, facts[key], f"{kind}.{key}")
        elif required:
            raise InvalidEvent(f"{kind}: {key!r} is required")
    if kind == "signature" and ("organisation" in facts) == ("pseudonym" in facts):
        raise InvalidEvent("signature: exactly one of 'organisation' and 'pseudonym'")


def entry_bytes(entry: Mapping[str, Any]) -> bytes:
    """The entry as RFC 8785 canonical JSON (validated first): the exact bytes that are hashed into the tree."""
    validate_event(entry)
    return rfc8785.dumps(entry)


async def append(conn: Connection, guild_id: int, event: Event, now: datetime) -> int:
    """Append one entry to a server's log INSIDE the caller's transaction; returns its index.

    Pass the connection of the transaction that writes the decision: the decision and its entry then
    commit together or not at all.
    """
    await server_rows.ensure_guild(conn, guild_id, to_unix(now))
    index = await record_rows.next_index(conn, guild_id)
    data = entry_bytes(make_entry(guild_id, index, event, now))
    await record_rows.insert_entry(conn, guild_id, index, data, leaf_hash(data), to_unix(now))
    return index


def append_now(conn: SyncConnection, guild_id: int, event: Event, now: datetime) -> int:
    """``append`` on a plain sqlite3 connection, for a decision taken in one hop on the writer's thread
    (``Database.run``); the server must already have its row (what the decision is about needs it)."""
    index = record_rows.next_index_now(conn, guild_id)
    data = entry_bytes(make_entry(guild_id, index, event, now))
    record_rows.insert_entry_now(conn, guild_id, index, data, leaf_hash(data), to_unix(now))
    return index


def describe(entry: Mapping[str, Any]) -> str:
    """A short human name for an entry: ``point_decided #4``, ``signature on statement #3 by ACME``."""
    kind = str(entry.get("kind", "?"))
    facts = entry.get("facts")
    if not isinstance(facts, Mapping):
        return kind
    if kind == "signature":
        who = f"by {facts['organisation']}" if "organisation" in facts else "by an individual (pseudonym)"
        return f"signature {facts.get('action', '')} on statement #{facts.get('statement')} {who}"
    if kind == "organisation_verified":
        return f"organisation_verified {facts.get('organisation')}"
    if kind == "statement_version":
        return f"statement_version #{facts.get('statement')} v{facts.get('version')} {facts.get('state')}"
    if kind == "objection_ruled":
        return f"objection_ruled on #{facts.get('item')}"
    for key in ("item", "poll", "statement"):
        if key in facts:
            return f"{kind} #{facts[key]}"
    return kind


# == the Merkle tree (RFC 6962 §2.1) ==============================================================

EMPTY_ROOT = hashlib.sha256(b"").digest()
HASH_SIZE = 32


def leaf_hash(entry: bytes) -> bytes:
    """MTH of one entry: SHA-256(0x00 ‖ entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """An interior node: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """The hashes of every complete, aligned subtree over a list of leaf hashes, built once (n hashes).

    Any tree size up to ``len(leaves)`` then gives its root and proofs in O(log n) lookups: RFC 6962's
    recursion only ever needs aligned perfect subtrees and the right-fold of the right border.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.size = len(leaves)
        self._levels: list[list[bytes]] = [list(leaves)]
        level = self._levels[0]
        while len(level) > 1:
            level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            self._levels.append(level)

    def _check(self, size: int | None) -> int:
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} outside 0..{self.size}")
        return size

    def _range(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for the ranges RFC 6962's recursion produces (start aligned to the split)."""
        if start == end:
            return EMPTY_ROOT
        parts: list[bytes] = []
        while start < end:
            align = (start & -start).bit_length() - 1 if start else 64
            height = min(align, (end - start).bit_length() - 1)
            parts.append(self._levels[height][start >> height])
            start += 1 << height
        acc = parts[-1]
        for part in reversed(parts[:-1]):
            acc = node_hash(part, acc)
        return acc

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (all by default); SHA-256("") for none."""
        return self._range(0, self._check(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]) of RFC 6962 §2.1.1, the audit path from the leaf's sibling upwards."""
        size = self._check(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of size {size}")
        proof: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                proof.append(self._range(start + k, end))
                end = start + k
            else:
                proof.append(self._range(start, start + k))
                start += k
        return proof[::-1]

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """PROOF(size1, D[size2]) of RFC 6962 §2.1.2 (0 < size1 ≤ size2); empty when the sizes are equal."""
        size2 = self._check(size2)
        if not 0 < size1 <= size2:
            raise ValueError(f"no consistency proof from size {size1} to {size2}")
        proof: list[bytes] = []
        start, end, m, whole = 0, size2, size1, True
        while m != end - start:
            k = _split(end - start)
            if m <= k:
                proof.append(self._range(start + k, end))
                end = start + k
            else:
                proof.append(self._range(start, start + k))
                start, m, whole = start + k, m - k, False
        if not whole:
            proof.append(self._range(start, end))
        return proof[::-1]


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes."""
    return MerkleTree(leaves).root()


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of the first ``size`` leaves."""
    return MerkleTree(leaves).inclusion_proof(index, size)


def consistency_proof(leaves: Sequence[bytes], size1: int, size2: int | None = None) -> list[bytes]:
    """The consistency proof from the tree of the first ``size1`` leaves to that of the first ``size2``."""
    return MerkleTree(leaves).consistency_proof(size1, size2)


def _shift_while_even(fn: int, sn: int) -> tuple[int, int]:
    while not fn & 1 and fn != 0:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show that ``leaf`` is leaf ``index`` of the tree of ``size`` with ``root``?"""
    if not 0 <= index < size or len(leaf) != HASH_SIZE or len(root) != HASH_SIZE:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0 or len(p) != HASH_SIZE:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                fn, sn = _shift_while_even(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: does ``proof`` show that the tree (size1, root1) is a prefix of (size2, root2)?

    A proof from the empty tree is refused, as transparency-dev/merkle does: it would prove nothing.
    """
    if size1 <= 0 or size2 < size1:
        return False
    if size1 == size2:
        return not proof and hmac.compare_digest(root1, root2)
    if (
        not proof
        or any(len(p) != HASH_SIZE for p in proof)
        or len(root1) != HASH_SIZE
        or len(root2) != HASH_SIZE
    ):
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # an exact power of two: the old root is the first node of the path
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                fn, sn = _shift_while_even(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(fr, root1) and hmac.compare_digest(sr, root2)


# == signed notes and checkpoints (c2sp.org/signed-note, c2sp.org/tlog-checkpoint) ==================

ED25519 = 0x01  # the signature type byte of Ed25519 in signed notes
_SIG_PREFIX = "\u2014 "  # em dash, space


class NoteError(ValueError):
    """A signed note that is malformed or whose signature does not verify; the message says which."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def valid_key_name(name: str) -> bool:
    """Key names are non-empty and hold no Unicode space and no '+' (signed-note §Format)."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key id: SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte Ed25519 public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """An Ed25519 note verifier: key name, key id and public key."""

    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """A verifier from its key string ``<name>+<8 hex key id>+<base64(0x01 ‖ public key)>``."""
        parts = vkey.strip().split("+", 2)  # the base64 key may itself hold '+'; name and id cannot
        if len(parts) != 3 or not valid_key_name(parts[0]) or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
            raise NoteError("a verifier key looks like caucus/discord/123+1a2b3c4d+AbC…= (name, key id, key)")
        try:
            material = _unb64(parts[2])
        except (binascii.Error, ValueError):
            raise NoteError("the verifier key's last part is not base64") from None
        if len(material) != 33 or material[0] != ED25519:
            raise NoteError("the verifier key is not an Ed25519 key (type 0x01 and 32 bytes)")
        verifier = cls(parts[0], bytes.fromhex(parts[1]), material[1:])
        if key_id(verifier.name, verifier.public_key) != verifier.key_id:
            raise NoteError("the verifier key's id does not match its name and key")
        return verifier

    @property
    def vkey(self) -> str:
        """The verifier key string."""
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([ED25519]) + self.public_key)}"

    def verify(self, message: bytes, sig: bytes) -> bool:
        """True when ``sig`` is this key's Ed25519 signature of ``message``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(sig, message)
        except (InvalidSignature, ValueError):
            return False
        return True


class Signer:
    """Signs notes with one Ed25519 key under one key name."""

    def __init__(self, name: str, seed: bytes) -> None:
        if not valid_key_name(name):
            raise ValueError(f"invalid key name {name!r}")
        if len(seed) != 32:
            raise RecordKeyError("an Ed25519 private key is 32 bytes")
        self.name = name
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.verifier = Verifier(name, key_id(name, public), public)

    def sign(self, text: str) -> str:
        """The signed note: ``text`` (ending in a newline), an empty line, one signature line."""
        _check_note_text(text)
        sig = self._key.sign(text.encode("utf-8"))
        return f"{text}\n{_SIG_PREFIX}{self.name} {_b64(self.verifier.key_id + sig)}\n"


def _check_note_text(text: str) -> None:
    if not text.endswith("\n") or _NOTE_CONTROL.search(text):
        raise NoteError("a note's text ends with a newline and holds no other control character")


@dataclass(frozen=True)
class OpenedNote:
    text: str
    verified_by: tuple[Verifier, ...]


def open_note(note: str, verifiers: Sequence[Verifier]) -> OpenedNote:
    """The text of a signed note once a known key's signature verifies (signed-note §Signatures).

    Signatures by unknown keys are ignored; a known key's signature that fails rejects the whole note;
    no verified signature by a known key rejects it too.
    """
    _check_note_text(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("not a signed note: no empty line before the signatures")
    text, lines = note[: split + 1], note[split + 2 :].split("\n")
    if lines[-1] != "" or len(lines) < 2:
        raise NoteError("not a signed note: no signature line")
    known = {(v.name, v.key_id): v for v in verifiers}
    verified: list[Verifier] = []
    for line in lines[:-1]:
        if not line.startswith(_SIG_PREFIX):
            raise NoteError(f"not a signature line: {line[:40]!r}")
        name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        try:
            raw = _unb64(b64)
        except (binascii.Error, ValueError):
            raise NoteError(f"the signature by {name} is not base64") from None
        if not valid_key_name(name) or len(raw) < 5:
            raise NoteError(f"malformed signature line: {line[:40]!r}")
        verifier = known.get((name, raw[:4]))
        if verifier is None:
            continue
        if len(raw) != 4 + 64 or not verifier.verify(text.encode("utf-8"), raw[4:]):
            raise NoteError(f"the signature by {verifier.name}+{verifier.key_id.hex()} does not verify")
        verified.append(verifier)
    if not verified:
        names = ", ".join(f"{v.name}+{v.key_id.hex()}" for v in verifiers)
        raise NoteError(f"the note carries no signature by {names}")
    return OpenedNote(text, tuple(verified))


@dataclass(frozen=True)
class CheckpointBody:
    origin: str
    tree_size: int
    root: bytes


def checkpoint_text(origin: str, tree_size: int, root: bytes) -> str:
    """The note text of a checkpoint: origin, tree size in decimal, base64 root hash, each ending in a newline."""
    return f"{origin}\n{tree_size}\n{_b64(root)}\n"


def parse_checkpoint(text: str) -> CheckpointBody:
    """The origin, size and root of a checkpoint's note text (extension lines are allowed and ignored)."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise NoteError("a checkpoint is three non-empty lines: origin, tree size, root hash")
    origin, size, root = lines[0], lines[1], lines[2]
    if not re.fullmatch(r"0|[1-9][0-9]*", size):
        raise NoteError(f"the tree size {size[:20]!r} is not a decimal number")
    try:
        digest = _unb64(root)
    except (binascii.Error, ValueError):
        raise NoteError("the root hash is not base64") from None
    if len(digest) != HASH_SIZE:
        raise NoteError("the root hash is not 32 bytes")
    return CheckpointBody(origin, int(size), digest)


# == tamper detection ================================================================================


@dataclass(frozen=True)
class Integrity:
    """What checking a stored log found: ``check`` is empty when all is well, else which check failed;
    ``text`` says what, for the coordinators who are told (in lower case: it follows a colon)."""

    check: str
    index: int | None
    text: Text | str

    @property
    def message(self) -> str:
        """What was found, in English (for logs and the command line)."""
        return str(self.text)

    @property
    def ok(self) -> bool:
        """True when every check held."""
        return not self.check


INTACT = Integrity("", None, "")


class LogTampered(DomainError):
    """The stored log does not extend what was signed before: no checkpoint is signed."""

    def __init__(self, integrity: Integrity) -> None:
        super().__init__(
            t(
                "The decision record failed its check, so no checkpoint was signed: {problem} Restore the database "
                "from a backup, or ask whoever runs the bot what changed.",
                problem=integrity.text,
            )
        )
        self.integrity = integrity


def check_log(
    guild_id: int, rows: Sequence[EntryRow], signed: Sequence[CheckpointRow], verifier: Verifier
) -> tuple[Integrity, MerkleTree]:
    """Recompute a server's tree from its stored entries and check it against every checkpoint signed.

    In order: no index is missing; each stored leaf hash is SHA-256(0x00 ‖ entry); each entry says its own
    index and server; each stored checkpoint carries this bot's signature; the log holds at least as many
    entries as the largest checkpoint, and the root of the first ``size`` entries equals each checkpoint's
    root. The first failure is returned, naming the first entry it concerns.
    """
    leaves: list[bytes] = []
    for k, row in enumerate(rows):
        if row.idx != k:
            return Integrity(
                "gap", k, t("entry {entry_number} is missing (the next stored entry is {next_number}).",
                            entry_number=k, next_number=row.idx),
            ), MerkleTree([])  # fmt: skip
        if not hmac.compare_digest(leaf_hash(row.entry), row.leaf_hash):
            return Integrity(
                "leaf_hash",
                k,
                t("entry {entry_number} was changed: its bytes no longer match its hash.", entry_number=k),
            ), MerkleTree([])
        try:
            parsed = json.loads(row.entry)
            where = (parsed["index"], parsed["server"])
        except (ValueError, TypeError, KeyError):
            where = None
        if where != (k, str(guild_id)):
            if where and where[1] == str(guild_id):
                problem = t(
                    "entry {entry_number} is not the entry recorded at that place (it says index {index_number}): "
                    "the record was reordered or replaced.",
                    entry_number=k, index_number=where[0],
                )  # fmt: skip
            else:
                problem = t(
                    "entry {entry_number} is not the entry recorded at that place: the record was reordered or "
                    "replaced.",
                    entry_number=k,
                )
            return Integrity("position", k, problem), MerkleTree([])
        leaves.append(row.leaf_hash)
    tree = MerkleTree(leaves)
    origin = origin_of(guild_id)
    previous = 0
    for cp in signed:
        try:
            body = parse_checkpoint(open_note(cp.note, [verifier]).text)
        except NoteError:
            body = None
        if body is None or (body.origin, body.tree_size, body.root) != (origin, cp.tree_size, cp.root_hash):
            return Integrity(
                "checkpoint_signature", None,
                t("the stored checkpoint of size {size} is not one this bot signed.", size=cp.tree_size),
            ), tree  # fmt: skip
        if cp.tree_size > tree.size:
            return Integrity(
                "shrunk", tree.size,
                t(
                    "the record holds {count} entries but a checkpoint was signed at {size}: entries from "
                    "{entry_number} on were deleted.",
                    count=tree.size, size=cp.tree_size, entry_number=tree.size,
                ),
            ), tree  # fmt: skip
        if not hmac.compare_digest(tree.root(cp.tree_size), cp.root_hash):
            return Integrity(
                "checkpoint_root", previous,
                t(
                    "the first {count} entries no longer match the checkpoint signed at that size: an entry from "
                    "{first_number} to {last_number} was changed.",
                    count=cp.tree_size, first_number=previous, last_number=cp.tree_size - 1,
                ),
            ), tree  # fmt: skip
        previous = cp.tree_size
    return INTACT, tree


# == the record of a bot ============================================================================


@dataclass(frozen=True)
class Checkpoint:
    """A signed checkpoint of one server's log; ``new`` when this call signed it."""

    guild_id: int
    tree_size: int
    root: bytes
    note: str
    created_at: int
    channel_id: int | None = None
    message_id: int | None = None
    new: bool = False

    @property
    def root_b64(self) -> str:
        """The root hash as the note writes it."""
        return _b64(self.root)


def _checkpoint(row: CheckpointRow, *, new: bool = False) -> Checkpoint:
    return Checkpoint(row.guild_id, row.tree_size, row.root_hash, row.note, row.created_at,
                      row.channel_id, row.message_id, new)  # fmt: skip


@dataclass(frozen=True)
class RecordStatus:
    """What /record show tells: how many entries, the latest checkpoint, the key to verify with."""

    entries: int
    latest: Checkpoint | None
    origin: str
    verifier_key: str


@dataclass(frozen=True)
class _Signed:
    checkpoint: Checkpoint
    tree: MerkleTree
    rows: Sequence[EntryRow]
    earlier: Sequence[CheckpointRow]


class Record:
    """Checkpoints, proofs and the daily checkpoint of every server's decision record."""

    def __init__(self, db: Database, clock: Clock, policy: Policy, zone: ZoneInfo, seed: bytes) -> None:
        self.db = db
        self.clock = clock
        self.policy = policy
        self.zone = zone
        self._seed = seed
        self._signers: dict[int, Signer] = {}
        self._lock = asyncio.Lock()  # one signature at a time: two would check and sign the same tree

    def signer(self, guild_id: int) -> Signer:
        """The signer of a server's checkpoints (key name = the origin)."""
        if guild_id not in self._signers:
            self._signers[guild_id] = Signer(origin_of(guild_id), self._seed)
        return self._signers[guild_id]

    def verifier_key(self, guild_id: int) -> str:
        """The verifier key string anyone checks this server's checkpoints with."""
        return self.signer(guild_id).verifier.vkey

    def authorise(self, actor: Actor) -> int:
        """The server a coordinator may post a checkpoint for (NotAllowed for anyone else)."""
        if not self.policy.is_coordinator(actor):
            raise NotAllowed(t("Only coordinators can post a checkpoint of the decision record."))
        return actor.guild_id

    async def status(self, guild_id: int) -> RecordStatus:
        """The number of entries, the latest checkpoint and the verifier key of a server."""
        latest = await record_rows.latest_checkpoint(self.db, guild_id)
        return RecordStatus(
            entries=await record_rows.entry_count(self.db, guild_id),
            latest=None if latest is None else _checkpoint(latest),
            origin=origin_of(guild_id),
            verifier_key=self.verifier_key(guild_id),
        )

    async def check(self, guild_id: int) -> Integrity:
        """Recompute a server's tree from its stored entries and check it against what was signed."""
        return (await self._checked(guild_id))[0]

    async def _checked(
        self, guild_id: int
    ) -> tuple[Integrity, MerkleTree, Sequence[EntryRow], Sequence[CheckpointRow]]:
        # checkpoints first, entries second: entries only grow, so those read cover every checkpoint read
        signed = await record_rows.checkpoints(self.db, guild_id)
        rows = await record_rows.entries(self.db, guild_id)
        verifier = self.signer(guild_id).verifier
        integrity, tree = await asyncio.to_thread(check_log, guild_id, rows, signed, verifier)
        return integrity, tree, rows, signed

    async def _sign(self, guild_id: int) -> _Signed:
        async with self._lock:
            integrity, tree, rows, signed = await self._checked(guild_id)
            if not integrity.ok:
                raise LogTampered(integrity)
            if tree.size == 0:
                raise Invalid(
                    t("Nothing is in the decision record yet: the first decision recorded starts it.")
                )
            if signed and signed[-1].tree_size == tree.size:
                return _Signed(_checkpoint(signed[-1]), tree, rows, signed[:-1])
            root = tree.root()
            note = self.signer(guild_id).sign(checkpoint_text(origin_of(guild_id), tree.size, root))
            now = to_unix(self.clock.now())
            async with self.db.transaction(guild_id=guild_id) as conn:
                row = await record_rows.add_checkpoint(conn, guild_id, tree.size, root, note, now)
            return _Signed(_checkpoint(row, new=True), tree, rows, signed)

    async def checkpoint(self, guild_id: int) -> Checkpoint:
        """Check the stored log and sign a checkpoint of it (the latest one again if the log did not grow).

        Raises LogTampered when the log does not extend every checkpoint signed before, Invalid when empty.
        """
        return (await self._sign(guild_id)).checkpoint

    async def posted(self, checkpoint: Checkpoint, channel_id: int, message_id: int) -> None:
        """Remember the message a checkpoint was posted as."""
        async with self.db.transaction(guild_id=checkpoint.guild_id) as conn:
            await record_rows.set_posted(
                conn, checkpoint.guild_id, checkpoint.tree_size, channel_id, message_id
            )

    # -- the daily checkpoint --------------------------------------------------------------------

    async def plan_daily(self, guild_id: int, at: str) -> int:
        """Plan the next daily checkpoint of a server at ``at`` (server's zone); returns its Unix time.

        One per server per day: planning again for the same day changes nothing.
        """
        when = to_unix(next_digest_at(self.clock.now(), self.zone, at))
        async with self.db.transaction(guild_id=guild_id) as conn:
            await server_rows.ensure_guild(conn, guild_id, to_unix(self.clock.now()))
            await post_rows.add_posts(conn, guild_id, DAILY, guild_id, [when])
        return when

    async def daily(self, post: Post) -> Checkpoint | None:
        """The daily checkpoint of a server, or None when its log did not grow since the last one."""
        count = await record_rows.entry_count(self.db, post.guild_id)
        latest = await record_rows.latest_checkpoint(self.db, post.guild_id)
        if count == 0 or (latest is not None and latest.tree_size >= count):
            return None
        return await self.checkpoint(post.guild_id)

    # -- proofs for exports ----------------------------------------------------------------------

    async def proof_bundle(self, guild_id: int, entry_indices: Iterable[int]) -> dict[str, Any]:
        """Everything ``caucus verify`` needs offline about some entries of a server's log.

        Made at a checkpoint of the whole log as it is now (signed here if the log grew since the last
        one: ``checkpoint_new`` says so, for the caller to post it). Holds the checkpoint note, origin,
        verifier key, each entry (its exact JSON text) with its leaf hash and inclusion proof, and a
        consistency proof from every earlier checkpoint of this server. Hashes are base64.
        """
        signed = await self._sign(guild_id)
        tree, size = signed.tree, signed.checkpoint.tree_size
        wanted = sorted(set(entry_indices))
        for index in wanted:
            if not 0 <= index < size:
                raise NotFound(
                    tn(
                        "Entry {entry_number} is not in the decision record (it holds {n} entry).",
                        "Entry {entry_number} is not in the decision record (it holds {n} entries).",
                        size, entry_number=index,
                    )
                )  # fmt: skip
        return {
            "format": FORMAT,
            "origin": origin_of(guild_id),
            "verifier_key": self.verifier_key(guild_id),
            "checkpoint": signed.checkpoint.note,
            "checkpoint_new": signed.checkpoint.new,
            "tree_size": size,
            "root": _b64(tree.root(size)),
            "entries": [
                {
                    "index": index,
                    "entry": signed.rows[index].entry.decode("utf-8"),
                    "leaf_hash": _b64(signed.rows[index].leaf_hash),
                    "inclusion": [_b64(h) for h in tree.inclusion_proof(index, size)],
                }
                for index in wanted
            ],
            "consistency": [
                {
                    "from_size": cp.tree_size,
                    "from_root": _b64(cp.root_hash),
                    "from_checkpoint": cp.note,
                    "proof": [_b64(h) for h in tree.consistency_proof(cp.tree_size, size)],
                }
                for cp in signed.earlier
                if cp.tree_size < size
            ],
            "how_to_verify": f"caucus verify FILE --public-key {self.verifier_key(guild_id)}",
        }


# == offline verification (caucus verify) ============================================================


@dataclass(frozen=True)
class Check:
    """One line of ``caucus verify``: what was checked, and whether it held."""

    ok: bool
    line: str


class Unreadable(Exception):
    """The file is not a checkpoint, a proof bundle or an export carrying one."""


def read_document(data: bytes) -> dict[str, Any]:
    """A verify input as a dict: a JSON export or bundle, or a bare signed checkpoint note."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable("the file is not UTF-8 text") from None
    stripped = text.lstrip("\ufeff")
    if stripped.lstrip().startswith("{"):
        try:
            doc = json.loads(stripped)
        except ValueError as exc:
            raise Unreadable(f"the file is not valid JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise Unreadable("the file is not a JSON object")
        return doc
    if "\n\n\u2014 " in stripped:
        return {"checkpoint": stripped}
    raise Unreadable("the file is neither a checkpoint note nor JSON carrying a decision record")


def _bundle_of(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    bundle = doc.get("record", doc)
    if not isinstance(bundle, Mapping) or not isinstance(bundle.get("checkpoint"), str):
        raise Unreadable('the file carries no decision record checkpoint (a "checkpoint" note)')
    return bundle


def _hashes(value: Any, what: str) -> list[bytes]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Unreadable(f"{what} must be a list of base64 hashes")
    try:
        return [_unb64(v) for v in value]
    except (binascii.Error, ValueError):
        raise Unreadable(f"{what} holds something that is not base64") from None


def _cited_rows(value: Any) -> Iterable[Mapping[str, Any]]:
    """Every object of an export that cites an entry by ``record_index``."""
    if isinstance(value, Mapping):
        if isinstance(value.get("record_index"), int):
            yield value
        for inner in value.values():
            yield from _cited_rows(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _cited_rows(inner)


#: Where an export row may state a fact under another name (a point's number is the entry's item).
_ROW_NAMES = {"item": ("number",), "poll": ("number",), "organisation": ("name",), "outcome": ("status",),
              "note": ("outcome_note",)}  # fmt: skip


def _row_mismatch(row: Mapping[str, Any], facts: Mapping[str, Any]) -> str | None:
    """The first fact an export row states differently from its entry: a fact is compared with the row's
    key of the same name (or its other name, _ROW_NAMES); a text with its hash (``*_sha256``); a list of
    objects (a poll's options) element by element, by the same rules."""
    for key, value in facts.items():
        base = key.removesuffix("_sha256")
        hashed = base != key
        names = (base, *_ROW_NAMES.get(base, ()))
        present = next((n for n in names if n in row), None)
        if present is None:
            continue
        stated = row[present]
        if hashed:
            if isinstance(stated, str) and sha256_hex(stated) != value:
                return f"the export's {present} is not the text the record holds the hash of"
            continue
        if (
            isinstance(value, list)
            and isinstance(stated, list)
            and all(isinstance(v, Mapping) for v in value)
        ):
            if len(stated) != len(value):
                return f"the export lists {len(stated)} {present}, the record {len(value)}"
            for n, (inner_row, inner_facts) in enumerate(zip(stated, value, strict=True)):
                if not isinstance(inner_row, Mapping):
                    return f"the export's {present}[{n}] is not an object"
                problem = _row_mismatch(inner_row, inner_facts)
                if problem:
                    return f"{present}[{n}]: {problem}"
            continue
        if stated != value:
            return f"the export says {present} {stated!r}, the record says {value!r}"
    return None


def verify_document(
    doc: Mapping[str, Any], *, public_key: str | None = None, since: Mapping[str, Any] | None = None
) -> list[Check]:
    """Check a file offline: the checkpoint's signature, each entry's hash and inclusion, the consistency
    proofs it carries, and, with ``since``, that the log only grew from that file's checkpoint.

    An export (a document with a ``"record"`` key) is also checked against its bundle: every object citing
    ``record_index`` must match its entry's facts, and every entry in the bundle must be cited.
    Raises Unreadable when the input is not shaped like a record at all.
    """
    bundle = _bundle_of(doc)
    verifier, checks = _verifier_of(bundle, public_key)
    signed = _signed_checkpoint(bundle, verifier)
    checks += signed.checks
    if signed.body is None:
        return checks
    entries, entry_checks = _checked_entries(bundle, signed.body)
    earlier, consistency_checks = _checked_consistency(bundle, verifier, signed.body)
    checks += entry_checks + consistency_checks
    if "record" in doc:
        checks += _checked_export(doc, entries)
    if since is not None:
        checks.extend(_check_since(since, verifier, signed.body, earlier))
    return checks


@dataclass(frozen=True)
class _SignedCheckpoint:
    body: CheckpointBody | None  # None: the signature did not verify (the checks say why)
    checks: list[Check]


def _verifier_of(bundle: Mapping[str, Any], public_key: str | None) -> tuple[Verifier, list[Check]]:
    """The key to check the signature with: the one given, else the file's own (with a warning)."""
    checks: list[Check] = []
    if public_key:
        try:
            verifier = Verifier.parse(public_key)
        except NoteError as exc:
            raise Unreadable(f"--public-key: {exc}") from None
    else:
        if not isinstance(bundle.get("verifier_key"), str):
            raise Unreadable("no --public-key given and the file names no verifier_key")
        try:
            verifier = Verifier.parse(bundle["verifier_key"])
        except NoteError as exc:
            raise Unreadable(f"verifier_key: {exc}") from None
        checks.append(Check(True, (
            "warning: no --public-key given, so the key is the one in the file itself: this shows the file "
            "is consistent with itself, not that the coalition's bot signed it. Pass the key /record show "
            "gives with --public-key."
        )))  # fmt: skip
    return verifier, checks


def _signed_checkpoint(bundle: Mapping[str, Any], verifier: Verifier) -> _SignedCheckpoint:
    """The checkpoint, if the verifier signed it; and whether the file's own copies of its values agree."""
    checks: list[Check] = []
    who = f"{verifier.name}+{verifier.key_id.hex()}"
    try:
        text = open_note(bundle["checkpoint"], [verifier]).text
    except NoteError as exc:
        return _SignedCheckpoint(
            None, [Check(False, f"FAILED: the checkpoint is not signed by {who}: {exc}")]
        )
    try:
        body = parse_checkpoint(text)
    except NoteError as exc:
        raise Unreadable(f"the signed note is not a checkpoint: {exc}") from None
    checks.append(
        Check(True, f"ok: signature by {who} on the checkpoint of {body.origin} at size {body.tree_size}")
    )
    for key, want in (("tree_size", body.tree_size), ("root", _b64(body.root)), ("origin", body.origin)):
        if key in bundle and bundle[key] != want:
            checks.append(
                Check(False, f"FAILED: the file's {key} {bundle[key]!r} is not the signed {want!r}")
            )

    return _SignedCheckpoint(body, checks)


def _checked_entries(
    bundle: Mapping[str, Any], body: CheckpointBody
) -> tuple[dict[int, Mapping[str, Any]], list[Check]]:
    """Each entry the file carries, checked against its leaf hash and its inclusion in the signed tree."""
    checks: list[Check] = []
    size, root = body.tree_size, body.root
    server = body.origin.removeprefix(ORIGIN_PREFIX)
    entries: dict[int, Mapping[str, Any]] = {}
    raw_entries = bundle.get("entries", [])
    if not isinstance(raw_entries, list):
        raise Unreadable("entries must be a list")
    for item in raw_entries:
        if (
            not isinstance(item, Mapping)
            or not isinstance(item.get("index"), int)
            or not isinstance(item.get("entry"), str)
        ):
            raise Unreadable("each entry needs an index (number) and an entry (JSON text)")
        index, text = item["index"], item["entry"]
        proof = _hashes(item.get("inclusion", []), f"entry {index}: inclusion")
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = {}
        name = f"entry {index} ({describe(parsed)})" if isinstance(parsed, Mapping) else f"entry {index}"
        leaf = leaf_hash(text.encode("utf-8"))
        if "leaf_hash" in item and item["leaf_hash"] != _b64(leaf):
            checks.append(
                Check(False, f"FAILED: {name}: its text does not match its leaf hash (the entry was changed)")
            )
            continue
        if not isinstance(parsed, Mapping) or parsed.get("index") != index or parsed.get("server") != server:
            checks.append(Check(False, f"FAILED: {name} does not say it is entry {index} of server {server}"))
            continue
        if not verify_inclusion(leaf, index, size, proof, root):
            checks.append(
                Check(
                    False, f"FAILED: {name} is not in the log of size {size} (its text or proof was changed)"
                )
            )
            continue
        entries[index] = parsed
        checks.append(Check(True, f"ok: {name} is in the log of size {size}"))

    return entries, checks


def _checked_consistency(
    bundle: Mapping[str, Any], verifier: Verifier, body: CheckpointBody
) -> tuple[dict[int, bytes], list[Check]]:
    """Each consistency proof the file carries: the signed tree extends the earlier checkpoint."""
    checks: list[Check] = []
    size, root = body.tree_size, body.root
    who = f"{verifier.name}+{verifier.key_id.hex()}"
    earlier: dict[int, bytes] = {}
    raw_consistency = bundle.get("consistency", [])
    if not isinstance(raw_consistency, list):
        raise Unreadable("consistency must be a list")
    for item in raw_consistency:
        if (
            not isinstance(item, Mapping)
            or not isinstance(item.get("from_size"), int)
            or not isinstance(item.get("from_root"), str)
        ):
            raise Unreadable("each consistency proof needs from_size (number) and from_root (base64)")
        from_size = item["from_size"]
        from_root = _hashes([item["from_root"]], f"consistency from {from_size}: from_root")[0]
        proof = _hashes(item.get("proof", []), f"consistency from {from_size}: proof")
        note = item.get("from_checkpoint")
        if isinstance(note, str):
            try:
                old = parse_checkpoint(open_note(note, [verifier]).text)
            except NoteError as exc:
                checks.append(
                    Check(
                        False,
                        f"FAILED: the earlier checkpoint of size {from_size} is not signed by {who}: {exc}",
                    )
                )
                continue
            if (old.origin, old.tree_size, old.root) != (body.origin, from_size, from_root):
                checks.append(
                    Check(False, f"FAILED: the earlier checkpoint of size {from_size} says something else")
                )
                continue
        if not verify_consistency(from_size, size, from_root, root, proof):
            checks.append(
                Check(
                    False,
                    f"FAILED: the log of size {size} does not extend the checkpoint of size {from_size}",
                )
            )
            continue
        earlier[from_size] = from_root
        checks.append(
            Check(
                True, f"ok: the log of size {size} extends the checkpoint of size {from_size} (it only grew)"
            )
        )

    return earlier, checks


def _checked_export(doc: Mapping[str, Any], entries: Mapping[int, Mapping[str, Any]]) -> list[Check]:
    """An export's rows against the entries they cite, and every entry cited by some row."""
    checks: list[Check] = []
    rest = {k: v for k, v in doc.items() if k != "record"}
    cited: set[int] = set()
    for row in _cited_rows(rest):
        index = row["record_index"]
        cited.add(index)
        if index not in entries:
            checks.append(
                Check(
                    False,
                    f"FAILED: the export cites entry {index}, but the file carries no valid proof for it",
                )
            )
            continue
        facts = entries[index].get("facts", {})
        problem = _row_mismatch(row, facts if isinstance(facts, Mapping) else {})
        if problem:
            checks.append(Check(False, f"FAILED: entry {index} ({describe(entries[index])}): {problem}"))
        else:
            checks.append(
                Check(
                    True,
                    f"ok: the export's row for entry {index} ({describe(entries[index])}) matches the record",
                )
            )
    for index in sorted(set(entries) - cited):
        checks.append(Check(False, (
            f"FAILED: entry {index} ({describe(entries[index])}) is in the record but missing from the export"
        )))  # fmt: skip

    return checks


def _check_since(
    since: Mapping[str, Any], verifier: Verifier, body: CheckpointBody, earlier: Mapping[int, bytes]
) -> list[Check]:
    who = f"{verifier.name}+{verifier.key_id.hex()}"
    try:
        old = parse_checkpoint(open_note(_bundle_of(since)["checkpoint"], [verifier]).text)
    except NoteError as exc:
        return [Check(False, f"FAILED: the --since checkpoint is not signed by {who}: {exc}")]
    if old.origin != body.origin:
        return [
            Check(
                False, f"FAILED: the --since checkpoint is of another log ({old.origin}, not {body.origin})"
            )
        ]
    if old.tree_size > body.tree_size:
        return [Check(False, (
            f"FAILED: the --since checkpoint has {old.tree_size} entries and this one only {body.tree_size}: "
            "the record shrank"
        ))]  # fmt: skip
    if old.tree_size == body.tree_size:
        if hmac.compare_digest(old.root, body.root):
            return [
                Check(True, f"ok: the --since checkpoint is this one (size {old.tree_size}): nothing changed")
            ]
        return [
            Check(
                False,
                f"FAILED: both checkpoints have {old.tree_size} entries but different roots: the record was rewritten",
            )
        ]
    if old.tree_size not in earlier:
        return [Check(False, (
            f"FAILED: this file carries no valid consistency proof from size {old.tree_size}, so it cannot show "
            "that the record only grew since the --since checkpoint"
        ))]  # fmt: skip
    if not hmac.compare_digest(earlier[old.tree_size], old.root):
        return [Check(False, (
            f"FAILED: the record of size {old.tree_size} this file extends is not the one the --since "
            "checkpoint signed: the record was rewritten"
        ))]  # fmt: skip
    return [
        Check(
            True,
            f"ok: the record only grew since the --since checkpoint (size {old.tree_size} -> {body.tree_size})",
        )
    ]
