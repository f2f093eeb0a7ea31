"""The decision record on a real SQLite file: RFC 6962 trees against published vectors, C2SP signed notes,
canonical entries that refuse identities, appends inside the decision's transaction, tamper detection,
the daily checkpoint, proof bundles and `caucus verify` on files written here."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.config import ConfigError, parse_config
from domain import record
from domain.clock import FakeClock, to_unix
from domain.errors import Invalid, NotAllowed, NotFound
from domain.permissions import Actor, Policy
from domain.posts import Post
from domain.privacy import Identities, Privacy
from domain.record import (
    LogTampered,
    MerkleTree,
    NoteError,
    Record,
    Signer,
    Verifier,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)
from domain.summary import build_summary
from storage import record as record_rows
from storage.db import Database
from tests import engines
from tests.scenario import GUILD, MEMBERS, ZONE, actor, build_scenario

SEED = bytes(range(32))
SERVER = 8100
COORDINATOR = Actor(SERVER, 1, "Coco", role_names=frozenset({"Coordinator"}))
MEMBER = Actor(SERVER, 2, "Alice")

# -- RFC 6962 vectors ---------------------------------------------------------------------------------
# Leaf inputs and roots of transparency-dev/merkle's reference vectors, testonly/constants.go at commit
# 417fb0c (github.com/transparency-dev/merkle, Apache-2.0): LeafInputs() and RootHashes().
LEAF_INPUTS = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
)]  # fmt: skip
ROOTS = [bytes.fromhex(h) for h in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]  # fmt: skip
# The same project's inclusion and consistency probes (testdata/inclusion, testdata/consistency: happy paths
# and every mangling: flipped bits, truncated, extended, wrong sizes and roots), copied into one file.
PROBES = json.loads((Path(__file__).parent / "rfc6962_probes.json").read_text(encoding="utf-8"))


def b64(text: str) -> bytes:
    return base64.b64decode(text or "")


def test_roots_of_every_size_match_the_published_vectors() -> None:
    tree = MerkleTree([leaf_hash(x) for x in LEAF_INPUTS])
    assert [tree.root(n) for n in range(9)] == ROOTS
    assert record.root_of([]) == hashlib.sha256(b"").digest() == record.EMPTY_ROOT
    for n in range(1, 9):  # a tree built from fewer leaves says the same
        assert record.root_of([leaf_hash(x) for x in LEAF_INPUTS[:n]]) == ROOTS[n]


@pytest.mark.parametrize("kind", ["inclusion", "consistency"])
def test_published_proof_probes_pass_and_every_mangling_fails(kind: str) -> None:
    assert len(PROBES[kind]) > 90
    wrong = []
    for p in PROBES[kind]:
        proof = [b64(x) for x in p["proof"] or []]
        if kind == "inclusion":
            got = verify_inclusion(b64(p["leafHash"]), p["leafIdx"], p["treeSize"], proof, b64(p["root"]))
        else:
            got = verify_consistency(p["size1"], p["size2"], b64(p["root1"]), b64(p["root2"]), proof)
        if got == p["wantErr"]:
            wrong.append(f"{p['file']}: {p['desc']}")
    assert wrong == []
    assert sum(not p["wantErr"] for p in PROBES[kind]) >= 5  # the happy paths are in there


# A reference implementation written straight from RFC 6962 §2.1, recursive, to compare against.
def ref_mth(d: tuple[bytes, ...]) -> bytes:
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return d[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(ref_mth(d[:k]), ref_mth(d[k:]))


def ref_path(m: int, d: tuple[bytes, ...]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: tuple[bytes, ...], whole: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if whole else [ref_mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return ref_subproof(m, d[:k], whole) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def flipped(proof: list[bytes], element: int, bit: int) -> list[bytes]:
    out = list(proof)
    raw = bytearray(out[element])
    raw[bit // 8 % 32] ^= 1 << (bit % 8)
    out[element] = bytes(raw)
    return out


def test_inclusion_and_consistency_proofs_for_every_tree_size_up_to_64() -> None:
    leaves = tuple(leaf_hash(f"entry {i}".encode()) for i in range(64))
    tree = MerkleTree(list(leaves))
    checked = 0
    for n in range(1, 65):
        d = leaves[:n]
        root = tree.root(n)
        assert root == ref_mth(d)
        for m in range(n):
            proof = tree.inclusion_proof(m, n)
            assert proof == ref_path(m, d), (m, n)
            assert verify_inclusion(d[m], m, n, proof, root)
            assert not verify_inclusion(d[m], m, n, proof, tree.root(n - 1) if n > 1 else b"\0" * 32)
            if n > 1:
                assert not verify_inclusion(d[m], (m + 1) % n, n, proof, root)
                assert not verify_inclusion(d[(m + 1) % n], m, n, proof, root)
            for e in range(len(proof)):
                assert not verify_inclusion(d[m], m, n, flipped(proof, e, 7 * e + m), root)
            assert not verify_inclusion(d[m], m, n, [*proof, root], root)
            checked += 1
        for m in range(1, n + 1):
            proof = tree.consistency_proof(m, n)
            assert proof == ref_subproof(m, d, True), (m, n)
            assert verify_consistency(m, n, tree.root(m), root, proof)
            assert not verify_consistency(m, n, flipped([tree.root(m)], 0, m)[0], root, proof)
            assert not verify_consistency(m, n, tree.root(m), flipped([root], 0, n)[0], proof)
            for e in range(len(proof)):
                assert not verify_consistency(m, n, tree.root(m), root, flipped(proof, e, 5 * e + n))
            if proof:
                assert not verify_consistency(m, n, tree.root(m), root, proof[:-1])
            checked += 1
    assert checked == 64 * 65  # every index of every size, every pair of sizes


def test_a_log_of_100000_entries_gives_its_root_and_proofs() -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(100_000)]
    tree = MerkleTree(leaves)
    root = tree.root()
    assert record.root_of(leaves) == root
    for index in (0, 1, 65_535, 65_536, 99_999):
        assert verify_inclusion(leaves[index], index, 100_000, record.inclusion_proof(leaves, index), root)
    for size in (1, 4096, 77_777, 99_999):
        proof = record.consistency_proof(leaves, size)
        assert verify_consistency(size, 100_000, tree.root(size), root, proof)


# -- signed notes ------------------------------------------------------------------------------------

# golang.org/x/mod/sumdb/note, note_test.go TestSign: a private key (PRIVATE+KEY+name+id+base64(0x01 ‖ seed))
# and the exact signed note it gives; Ed25519 is deterministic, so the bytes must be equal.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
GO_NOTE = GO_TEXT + (
    "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
# c2sp.org/signed-note, "Verifier keys: Example".
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n— example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def test_signing_matches_the_go_sumdb_note_vector_byte_for_byte() -> None:
    seed = base64.b64decode(GO_SKEY.split("+", 4)[4])[1:]
    signer = Signer("PeterNeumann", seed)
    assert signer.verifier.vkey == GO_VKEY
    assert signer.verifier.key_id.hex() == "c74f20a3"
    assert signer.sign(GO_TEXT) == GO_NOTE
    assert record.open_note(GO_NOTE, [Verifier.parse(GO_VKEY)]).text == GO_TEXT


def test_key_id_rule_and_the_c2sp_example() -> None:
    verifier = Verifier.parse(C2SP_VKEY)
    expected = hashlib.sha256(b"example.com/foo\n\x01" + verifier.public_key).digest()[:4]
    assert verifier.key_id == expected == bytes.fromhex("530d903a")
    assert record.key_id("example.com/foo", verifier.public_key) == expected
    assert verifier.vkey == C2SP_VKEY
    assert record.open_note(C2SP_NOTE, [verifier]).text == "This is an example message.\n"


def test_a_mangled_verifier_key_is_refused() -> None:
    for i in range(len(GO_VKEY)):
        mangled = GO_VKEY[:i] + chr(ord(GO_VKEY[i]) + 1) + GO_VKEY[i + 1 :]
        with pytest.raises(NoteError):
            Verifier.parse(mangled)
    for cut in (GO_VKEY[:-1], GO_VKEY[1:], GO_VKEY.replace("+", " ", 1), "a+b", ""):
        with pytest.raises(NoteError):
            Verifier.parse(cut)


def test_checkpoint_note_round_trip_and_what_breaks_it() -> None:
    signer, other = Signer("caucus/discord/1", SEED), Signer("caucus/discord/1", bytes(32))
    root = hashlib.sha256(b"x").digest()
    text = record.checkpoint_text("caucus/discord/1", 40, root)
    assert text == f"caucus/discord/1\n40\n{base64.b64encode(root).decode()}\n"
    note = signer.sign(text)
    assert note.startswith(text + "\n\u2014 caucus/discord/1 ") and note.endswith("\n")
    sig = base64.b64decode(note.rsplit(" ", 1)[1])
    assert len(sig) == 4 + 64 and sig[:4] == signer.verifier.key_id
    opened = record.open_note(note, [signer.verifier])
    body = record.parse_checkpoint(opened.text)
    assert (body.origin, body.tree_size, body.root) == ("caucus/discord/1", 40, root)
    for i in range(len(text)):  # any changed byte of the body fails
        changed = text[:i] + ("y" if text[i] != "y" else "z") + text[i + 1 :] + note[len(text) :]
        with pytest.raises(NoteError):
            record.open_note(changed, [signer.verifier])
    with pytest.raises(NoteError, match="no signature by"):
        record.open_note(note, [other.verifier])  # same name, other key: its signature is ignored
    # a second, unknown signature is ignored; a known key's bad signature rejects the note
    cosigned = note + other.sign(text).split("\n\n", 1)[1].replace("caucus/discord/1", "witness.example/w")
    assert record.open_note(cosigned, [signer.verifier]).text == text
    forged = text + "\n\u2014 caucus/discord/1 " + base64.b64encode(sig[:4] + bytes(64)).decode() + "\n"
    with pytest.raises(NoteError, match="does not verify"):
        record.open_note(forged, [signer.verifier])
    for bad in ("caucus/discord/1\n040\n" + text.split("\n")[2] + "\n", "o\n1\n", "o\n1\nnot base64\n"):
        with pytest.raises(NoteError):
            record.parse_checkpoint(bad)
    assert (
        record.parse_checkpoint("o\n0\n" + base64.b64encode(record.EMPTY_ROOT).decode() + "\n").tree_size == 0
    )


# -- canonical entries ---------------------------------------------------------------------------------

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_entries_are_rfc8785_canonical_json_with_texts_as_hashes() -> None:
    event = record.point_decided(item=4, revision=2, text="Open é", outcome="consensus",
                                 tally={"block": 0, "agree": 5}, note="On the call")  # fmt: skip
    data = record.entry_bytes(record.make_entry(SERVER, 7, event, NOW))
    text_hash = hashlib.sha256("Open é".encode()).hexdigest()
    note_hash = hashlib.sha256(b"On the call").hexdigest()
    assert (
        data
        == (
            '{"at":"2026-11-30T12:00:00Z","facts":{"item":4,"note_sha256":"'
            + note_hash
            + '","outcome":"consensus",'
            '"revision":2,"tally":{"agree":5,"block":0},"text_sha256":"' + text_hash + '"},"index":7,'
            '"kind":"point_decided","server":"8100","v":1}'
        ).encode()
    )
    assert b"Open" not in data
    for made in (
        record.question_answered(item=5, revision=1, text="Q?", outcome="answered", answer="Yes"),
        record.objection_ruled(item=4, revision=2, stance="block", state="in_the_rough", note="why"),
        record.poll_closed(poll=2, question="Day?", options=[("Mon", 2), ("Fri", 1)], ballots=3),
        record.statement_version(statement=3, version=2, fingerprint="sha256:" + "ab" * 32, state="closed"),
        record.signature(statement=3, fingerprint="sha256:" + "ab" * 32, action="given", organisation="ACME"),
        record.signature(
            statement=3, fingerprint="sha256:" + "ab" * 32, action="withdrawn", pseudonym="anon-" + "0f" * 8
        ),  # fmt: skip
        record.organisation_verified(
            organisation="ACME", country="BR", region="Latin America", stakeholder="Civil society"
        ),  # fmt: skip
    ):
        assert json.loads(record.entry_bytes(record.make_entry(SERVER, 0, made, NOW)))["kind"] == made.kind


@pytest.mark.parametrize(
    ("facts", "why"),
    [
        ({"user_id": 5}, "identify a person"),
        ({"decided_by": "Cora"}, "identify a person"),
        ({"name": "Carol"}, "identify a person"),
        ({"member": "Carol"}, "identify a person"),
        ({"voters": ["x"]}, "identify a person"),
        ({"organisation": "123456789012345678"}, "Discord id"),
        ({"organisation": "<@42> Ltd"}, "Discord id or mention"),
        ({"country": "BR"}, "required"),
        ({"organisation": " ACME"}, "not a valid label"),
        ({"colour": "red"}, "unknown key"),
    ],
)
def test_entries_refuse_identities_and_anything_off_schema(facts: dict[str, Any], why: str) -> None:
    base = {"organisation": "ACME", "country": "BR", "region": "LatAm", "stakeholder": "Civil society"}
    if "country" in facts:
        base.pop("country")
        facts = {}
    event = record.Event("organisation_verified", {**base, **facts})
    with pytest.raises(record.InvalidEvent, match=why):
        record.make_entry(SERVER, 0, event, NOW)


def test_entry_types_are_checked() -> None:
    sha = "ab" * 32
    bad = [
        record.Event("point_decided", {"item": True, "revision": 1, "text_sha256": sha, "outcome": "x", "tally": {}}),
        record.Event("point_decided", {"item": 1, "revision": 1, "text_sha256": "AB" * 32, "outcome": "x", "tally": {}}),
        record.Event("point_decided", {"item": 1, "revision": 1, "text_sha256": sha, "outcome": "x", "tally": {"a": -1}}),
        record.Event("poll_closed", {"poll": 1, "question_sha256": sha, "options": [], "ballots": 0}),
        record.Event("statement_version", {"statement": 1, "version": 1, "fingerprint": "f" * 16, "state": "open"}),
        record.Event("signature", {"statement": 1, "fingerprint": "f" * 16, "action": "given"}),
        record.Event("signature", {"statement": 1, "fingerprint": "f" * 16, "action": "given",
                                   "organisation": "A", "pseudonym": "anon-" + "0" * 16}),
        record.Event("signature", {"statement": 1, "fingerprint": "f" * 16, "action": "given", "pseudonym": "123"}),
        record.Event("no_such_kind", {}),
    ]  # fmt: skip
    for event in bad:
        with pytest.raises(record.InvalidEvent):
            record.make_entry(SERVER, 0, event, NOW)
    entry = record.make_entry(SERVER, 0, record.statement_version(statement=1, version=1, fingerprint="f" * 16,
                                                                  state="opened"), NOW)  # fmt: skip
    for key, value in (("server", 8100), ("index", -1), ("at", "2026-11-30 12:00"), ("v", 2)):
        with pytest.raises(record.InvalidEvent):
            record.validate_event({**entry, key: value})
    with pytest.raises(record.InvalidEvent):
        record.validate_event({**entry, "user_id": "5"})


# -- storage: appends inside the decision's transaction ----------------------------------------------


def raw_rows(db: Database, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return engines.raw_rows(db.path, sql, params)


def raw_write(db: Database, *statements: tuple[str, tuple[Any, ...]]) -> None:
    """Change the database by hand, as someone holding it could (dropping the append-only triggers first)."""
    with engines.closing_raw(db.path, autocommit=True) as raw:
        engines.drop_triggers(raw, "record_entries")
        for sql, params in statements:
            raw.execute(sql, params)


def decision(n: int) -> record.Event:
    return record.point_decided(
        item=n, revision=1, text=f"Point {n}", outcome="consensus", tally={"agree": n}
    )


async def seed(db: Database, count: int, guild_id: int = SERVER, start: int = 1) -> None:
    for n in range(start, start + count):
        async with db.transaction() as conn:
            await record.append(conn, guild_id, decision(n), NOW)


async def test_append_numbers_each_servers_log_and_commits_with_the_decision(db: Database) -> None:
    await seed(db, 3)
    await seed(db, 2, guild_id=SERVER + 1)
    assert raw_rows(db, "SELECT guild_id, idx FROM record_entries ORDER BY guild_id, idx") == [
        (SERVER, 0), (SERVER, 1), (SERVER, 2), (SERVER + 1, 0), (SERVER + 1, 1),
    ]  # fmt: skip
    for entry, leaf in raw_rows(db, "SELECT entry, leaf_hash FROM record_entries"):
        assert leaf == hashlib.sha256(b"\x00" + entry).digest()

    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO bot_state (key, value) VALUES ('decision', 'made')")
            index = await record.append(conn, SERVER, decision(9), NOW)
            assert index == 3
            raise RuntimeError("the decision fails after its entry was appended")
    # seen through a second connection: neither the decision nor its entry
    assert raw_rows(db, "SELECT count(*) FROM bot_state WHERE key = 'decision'") == [(0,)]
    assert raw_rows(db, "SELECT count(*) FROM record_entries WHERE guild_id = ?", (SERVER,)) == [(3,)]
    with pytest.raises(record.InvalidEvent):  # a refused entry refuses the decision with it
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO bot_state (key, value) VALUES ('decision', 'made')")
            await record.append(conn, SERVER, record.Event("point_decided", {"decided_by": "Cora"}), NOW)
    assert raw_rows(db, "SELECT count(*) FROM bot_state WHERE key = 'decision'") == [(0,)]


async def test_the_bots_own_code_cannot_rewrite_or_delete_an_entry(db: Database) -> None:
    await seed(db, 2)
    for sql, params in (
        ("UPDATE record_entries SET entry = ? WHERE idx = 0", (b"\x00",)),
        ("DELETE FROM record_entries WHERE idx = 1", ()),
    ):
        with pytest.raises(engines.integrity_errors(), match="append-only"):
            async with db.transaction() as conn:
                await conn.execute(sql, params)
    assert raw_rows(db, "SELECT count(*) FROM record_entries") == [(2,)]


# -- checkpoints and tamper detection ------------------------------------------------------------------


def make_record(db: Database, clock: FakeClock, seed_bytes: bytes = SEED) -> Record:
    return Record(db, clock, Policy(("Coordinator",)), ZONE, seed_bytes)


async def test_a_checkpoint_is_a_signed_note_of_the_whole_log(db: Database, clock: FakeClock) -> None:
    rec = make_record(db, clock)
    assert rec.authorise(COORDINATOR) == SERVER
    with pytest.raises(NotAllowed, match="Only coordinators"):
        rec.authorise(MEMBER)
    with pytest.raises(Invalid, match="Nothing is in the decision record"):
        await rec.checkpoint(SERVER)
    await seed(db, 5)
    first = await rec.checkpoint(SERVER)
    assert first.new and first.tree_size == 5
    verifier = Verifier.parse(rec.verifier_key(SERVER))
    assert verifier.name == f"caucus/discord/{SERVER}"
    body = record.parse_checkpoint(record.open_note(first.note, [verifier]).text)
    leaves = [r[0] for r in raw_rows(db, "SELECT leaf_hash FROM record_entries ORDER BY idx")]
    assert (body.origin, body.tree_size, body.root) == (f"caucus/discord/{SERVER}", 5, record.root_of(leaves))
    again = await rec.checkpoint(SERVER)
    assert not again.new and again.note == first.note
    await seed(db, 3, start=6)
    clock.advance(timedelta(hours=1))
    second = await rec.checkpoint(SERVER)
    assert second.new and second.tree_size == 8 and second.created_at == to_unix(clock.now())
    assert [r[0] for r in raw_rows(db, "SELECT tree_size FROM record_checkpoints ORDER BY tree_size")] == [
        5,
        8,
    ]
    await rec.posted(second, 77, 88)
    status = await rec.status(SERVER)
    assert (status.entries, status.latest and status.latest.message_id) == (8, 88)
    # another server has its own origin and key name, so its own verifier key
    assert rec.verifier_key(SERVER + 1) != rec.verifier_key(SERVER)
    assert Verifier.parse(rec.verifier_key(SERVER + 1)).public_key == verifier.public_key


async def checkpointed(db: Database, clock: FakeClock) -> Record:
    rec = make_record(db, clock)
    await seed(db, 4)
    await rec.checkpoint(SERVER)
    await seed(db, 4, start=5)
    await rec.checkpoint(SERVER)  # checkpoints at 4 and 8
    await seed(db, 2, start=9)  # 10 entries, the last two not signed yet
    return rec


def entry_at(db: Database, idx: int) -> bytes:
    return raw_rows(db, "SELECT entry FROM record_entries WHERE guild_id = ? AND idx = ?", (SERVER, idx))[0][
        0
    ]


TAMPERING = {
    "edited bytes": (
        lambda db: [("UPDATE record_entries SET entry = ? WHERE idx = 5", (entry_at(db, 5).replace(b'"agree":6', b'"agree":7'),))],
        "leaf_hash", 5, "entry 5 was changed",
    ),
    "deleted row": (lambda db: [("DELETE FROM record_entries WHERE idx = 2", ())], "gap", 2, "entry 2 is missing"),
    "reordered rows": (
        lambda db: [("UPDATE record_entries SET idx = 1000 WHERE idx = 3", ()),
                    ("UPDATE record_entries SET idx = 3 WHERE idx = 6", ()),
                    ("UPDATE record_entries SET idx = 6 WHERE idx = 1000", ())],
        "position", 3, "entry 3 is not the entry recorded at that place (it says index 6)",
    ),
    "rewritten with its hash": (
        lambda db: [("UPDATE record_entries SET entry = ?, leaf_hash = ? WHERE idx = 6",
                     (e := entry_at(db, 6).replace(b'"agree":7', b'"agree":70'), hashlib.sha256(b"\0" + e).digest()))],
        "checkpoint_root", 4, "an entry from 4 to 7 was changed",
    ),
    "signed entries cut off": (
        lambda db: [("DELETE FROM record_entries WHERE idx >= 6", ())], "shrunk", 6, "entries from 6 on were deleted",
    ),
    "forged checkpoint": (
        lambda db: [("UPDATE record_checkpoints SET root_hash = ? WHERE tree_size = 8", (b"\1" * 32,))],
        "checkpoint_signature", None, "the stored checkpoint of size 8 is not one this bot signed",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(TAMPERING))
async def test_tampering_is_refused_naming_the_entry(db: Database, clock: FakeClock, case: str) -> None:
    rec = await checkpointed(db, clock)
    assert (await rec.check(SERVER)).ok
    change, check, index, message = TAMPERING[case]
    raw_write(db, *change(db))
    found = await rec.check(SERVER)
    assert (found.check, found.index) == (check, index)
    assert message in found.message
    with pytest.raises(LogTampered) as refused:
        await rec.checkpoint(SERVER)
    assert refused.value.integrity == found
    assert "no checkpoint was signed" in str(refused.value) and message in str(refused.value)
    assert [r[0] for r in raw_rows(db, "SELECT tree_size FROM record_checkpoints ORDER BY 1")] == [4, 8]
    with pytest.raises(LogTampered):
        await rec.proof_bundle(SERVER, [0])


# -- the daily checkpoint ----------------------------------------------------------------------------------


async def test_the_daily_checkpoint_runs_once_a_day_and_only_when_the_log_grew(
    db: Database, clock: FakeClock
) -> None:
    rec = make_record(db, clock)
    due = await rec.plan_daily(SERVER, "23:55")
    assert due == to_unix(datetime(2026, 11, 30, 23, 55, tzinfo=ZONE))  # in the server's zone
    assert await rec.plan_daily(SERVER, "23:55") == due
    assert await rec.plan_daily(SERVER + 1, "23:55") == due  # another server: its own post
    rows = raw_rows(db, "SELECT guild_id, kind, ref_id, due_at, state FROM scheduled_posts ORDER BY guild_id")
    assert rows == [
        (SERVER, record.DAILY, SERVER, due, "pending"),
        (SERVER + 1, record.DAILY, SERVER + 1, due, "pending"),
    ]

    def post() -> Post:
        return Post(1, SERVER, record.DAILY, SERVER, due, "claimed", 1, False)

    assert await rec.daily(post()) is None  # nothing recorded yet
    await seed(db, 3)
    made = await rec.daily(post())
    assert made is not None and made.new and made.tree_size == 3
    assert await rec.daily(post()) is None  # did not grow since
    await seed(db, 1, start=4)
    later = await rec.daily(post())
    assert later is not None and later.tree_size == 4


# -- proof bundles and caucus verify -----------------------------------------------------------------------

FP = "sha256:" + "c0" * 32
ORGS = ("ACME Rights", "Derechos Digitales", "Open Net Korea")


async def statement_log(db: Database, clock: FakeClock, rec: Record) -> dict[str, int]:
    """A statement signed by three organisations, with checkpoints along the way; returns entry indices."""
    at: dict[str, int] = {}

    async def add(key: str, event: record.Event) -> None:
        async with db.transaction() as conn:
            at[key] = await record.append(conn, SERVER, event, clock.now())
        clock.advance(timedelta(minutes=1))

    for org in ORGS:
        await add(f"verified {org}", record.organisation_verified(organisation=org, country="BR", region="LatAm",
                                                                  stakeholder="Civil society"))  # fmt: skip
    await rec.checkpoint(SERVER)  # size 3
    await add("opened", record.statement_version(statement=1, version=1, fingerprint=FP, state="opened"))
    for org in ORGS:
        await add(org, record.signature(statement=1, fingerprint=FP, action="given", organisation=org))
    await rec.checkpoint(SERVER)  # size 7
    await add("closed", record.statement_version(statement=1, version=1, fingerprint=FP, state="closed"))
    return at


def export_of(bundle: dict[str, Any], at: dict[str, int]) -> dict[str, Any]:
    """A signatory export as the statements feature will write it: each row cites its entry."""
    return {
        "format": "test-signatories/1",
        "statement": 1,
        "fingerprint": FP,
        "signatories": [{"organisation": org, "record_index": at[org]} for org in ORGS],
        "record": bundle,
    }


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["verify", *args])
    out = capsys.readouterr()
    return code, out.out + out.err


async def test_caucus_verify_checks_an_export_offline(
    db: Database, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = make_record(db, clock)
    at = await statement_log(db, clock, rec)
    key = rec.verifier_key(SERVER)
    bundle = await rec.proof_bundle(SERVER, [at[org] for org in ORGS])
    assert bundle["checkpoint_new"] and bundle["tree_size"] == 8
    assert [c["from_size"] for c in bundle["consistency"]] == [3, 7]
    assert [e["index"] for e in bundle["entries"]] == [4, 5, 6]
    with pytest.raises(NotFound, match="Entry 8 is not in the decision record"):
        await rec.proof_bundle(SERVER, [8])
    good = write(tmp_path / "signatories.json", export_of(bundle, at))

    code, out = verify(capsys, str(good), "--public-key", key)
    assert code == 0, out
    assert f"ok: signature by caucus/discord/{SERVER}+{key.split('+')[1]}" in out
    assert (
        "ok: entry 5 (signature given on statement #1 by Derechos Digitales) is in the log of size 8" in out
    )
    assert "ok: the log of size 8 extends the checkpoint of size 3" in out
    assert (
        "ok: the export's row for entry 6 (signature given on statement #1 by Open Net Korea) matches" in out
    )
    assert "warning" not in out

    code, out = verify(capsys, str(good))  # the key from the file: consistent, not proven authentic
    assert code == 0 and "warning: no --public-key given" in out

    # one signatory removed by hand from the list
    doc = export_of(bundle, at)
    doc["signatories"].pop(1)
    code, out = verify(capsys, str(write(tmp_path / "removed.json", doc)), "--public-key", key)
    assert code == 1
    assert (
        "FAILED: entry 5 (signature given on statement #1 by Derechos Digitales) is in the record but missing"
        in out
    )

    # the row and its entry both removed: the row cites nothing any more, but an entry is missing from the proof
    doc = export_of(bundle, at)
    doc["record"] = {**bundle, "entries": [e for e in bundle["entries"] if e["index"] != 5]}
    code, out = verify(capsys, str(write(tmp_path / "no-proof.json", doc)), "--public-key", key)
    assert code == 1 and "FAILED: the export cites entry 5, but the file carries no valid proof" in out

    # a signatory renamed in the list
    doc = export_of(bundle, at)
    doc["signatories"][0]["organisation"] = "ACME Wrongs"
    code, out = verify(capsys, str(write(tmp_path / "renamed.json", doc)), "--public-key", key)
    assert (
        code == 1
        and "FAILED: entry 4 (signature given on statement #1 by ACME Rights): the export says" in out
    )

    # an entry's text changed (with or without fixing its leaf hash)
    for fix_hash in (False, True):
        doc = export_of(json.loads(json.dumps(bundle)), at)
        entry = doc["record"]["entries"][2]
        entry["entry"] = entry["entry"].replace("Open Net Korea", "Open Net Japan")
        if fix_hash:
            entry["leaf_hash"] = base64.b64encode(leaf_hash(entry["entry"].encode())).decode()
        code, out = verify(capsys, str(write(tmp_path / "changed.json", doc)), "--public-key", key)
        assert code == 1 and "FAILED: entry 6 (signature given on statement #1 by Open Net Japan)" in out, out

    # a proof changed
    doc = export_of(json.loads(json.dumps(bundle)), at)
    doc["record"]["entries"][0]["inclusion"][0] = base64.b64encode(b"\0" * 32).decode()
    code, out = verify(capsys, str(write(tmp_path / "proof.json", doc)), "--public-key", key)
    assert (
        code == 1
        and "FAILED: entry 4 (signature given on statement #1 by ACME Rights) is not in the log" in out
    )

    # the wrong key
    other = make_record(db, clock, bytes(32)).verifier_key(SERVER)
    code, out = verify(capsys, str(good), "--public-key", other)
    assert code == 1 and "FAILED: the checkpoint is not signed by" in out


async def test_caucus_verify_since_an_earlier_file(
    db: Database, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = make_record(db, clock)
    await seed(db, 3)
    early = write(tmp_path / "early.json", await rec.proof_bundle(SERVER, [1]))
    await seed(db, 4, start=4)
    late = write(tmp_path / "late.json", await rec.proof_bundle(SERVER, [5]))
    key = rec.verifier_key(SERVER)
    code, out = verify(capsys, str(late), "--public-key", key, "--since", str(early))
    assert code == 0 and "ok: the record only grew since the --since checkpoint (size 3 -> 7)" in out
    code, out = verify(capsys, str(late), "--public-key", key, "--since", str(late))
    assert code == 0 and "nothing changed" in out
    code, out = verify(capsys, str(early), "--public-key", key, "--since", str(late))
    assert code == 1 and "the record shrank" in out

    # a bare checkpoint file, as posted in the record channel
    note = tmp_path / "checkpoint.txt"
    note.write_text(json.loads(late.read_text())["checkpoint"], encoding="utf-8")
    code, out = verify(capsys, str(note), "--public-key", key, "--since", str(early))
    assert code == 1 and "carries no valid consistency proof from size 3" in out
    code, out = verify(capsys, str(note), "--public-key", key)
    assert code == 0 and "on the checkpoint of caucus/discord/8100 at size 7" in out

    # the same bot, another history of the same server (say the database was rebuilt): not consistent
    other_db = await engines.open_db(tmp_path / "other.db")
    try:
        other = make_record(other_db, clock)
        await seed(other_db, 3, start=100)
        await other.checkpoint(SERVER)
        await seed(other_db, 4, start=200)
        rewritten = write(tmp_path / "rewritten.json", await other.proof_bundle(SERVER, [5]))
    finally:
        await other_db.close()
    code, out = verify(capsys, str(rewritten), "--public-key", key, "--since", str(early))
    assert code == 1 and "is not the one the --since checkpoint signed: the record was rewritten" in out


def test_caucus_verify_unreadable_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json", encoding="utf-8")
    plain = tmp_path / "plain.txt"
    plain.write_text("hello\n", encoding="utf-8")
    empty = write(tmp_path / "empty.json", {"summary": []})
    signer = Signer("caucus/discord/1", SEED)
    note = signer.sign(record.checkpoint_text("caucus/discord/1", 1, record.EMPTY_ROOT))
    shaped = write(tmp_path / "shaped.json", {"checkpoint": note, "entries": "no"})
    not_checkpoint = write(tmp_path / "note.json", {"checkpoint": C2SP_NOTE})
    key = signer.verifier.vkey
    for args in ([str(garbage)], [str(plain)], [str(empty)], [str(tmp_path / "missing.json")],
                 [str(shaped), "--public-key", key], [str(shaped), "--public-key", "not-a-key"],
                 [str(not_checkpoint), "--public-key", C2SP_VKEY]):  # fmt: skip
        code, out = verify(capsys, *args)
        assert code == 2, (args, out)
        assert out.startswith("caucus: ") and "Traceback" not in out


# -- privacy ---------------------------------------------------------------------------------------------


def values_of(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [*value.keys(), *(v for inner in value.values() for v in values_of(inner))]
    if isinstance(value, list):
        return [v for inner in value for v in values_of(inner)]
    return [value]


async def test_erasing_a_member_leaves_the_record_verifiable_and_free_of_them(db: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    await build_scenario(db, clock)
    summary = await build_summary(db, GUILD, now=clock.now(), zone=ZONE, names=True)
    events = []
    for section in summary.sections:
        for p in section.points:
            if p.status != "open":
                events.append(record.point_decided(item=p.number, revision=p.revision, text=p.text,
                                                   outcome=p.status, tally=p.tally, note=p.outcome_note))  # fmt: skip
            events += [record.objection_ruled(item=p.number, revision=o.revision, stance=o.stance, state=o.state,
                                              note=o.note) for o in p.objections if o.state != "open"]  # fmt: skip
        for q in section.questions:
            if q.status in ("answered", "dropped"):
                events.append(record.question_answered(item=q.number, revision=1, text=q.text, outcome=q.status,
                                                       answer=q.answer))  # fmt: skip
        for poll in section.polls:
            events.append(record.poll_closed(poll=poll.number, question=poll.question, ballots=poll.ballots,
                                             options=[(o.label, o.votes or 0) for o in poll.options]))  # fmt: skip
    assert len(events) >= 8
    # the decisions themselves appended their entries (in their own transactions): the same facts
    stored = [
        json.loads(r[0])
        for r in raw_rows(db, "SELECT entry FROM record_entries WHERE guild_id = ?", (GUILD,))
    ]
    canonical = sorted(json.dumps({"kind": e.kind, "facts": e.facts}, sort_keys=True) for e in events)
    assert (
        sorted(json.dumps({"kind": e["kind"], "facts": e["facts"]}, sort_keys=True) for e in stored)
        == canonical
    )
    rec = make_record(db, clock)
    before = await rec.checkpoint(GUILD)

    carol = actor(32)
    await Privacy(db, clock, Identities(b"k" * 32)).erase(carol)

    assert (await rec.check(GUILD)).ok  # the record was not touched: it still matches what was signed
    assert (await rec.checkpoint(GUILD)).note == before.note
    rows = raw_rows(db, "SELECT entry FROM record_entries WHERE guild_id = ?", (GUILD,))
    assert len(rows) == len(events)
    for (entry,) in rows:
        seen = values_of(json.loads(entry))
        for uid, name in MEMBERS.items():  # nobody, not only Carol: no id, no name
            assert uid not in seen and str(uid) not in seen and name.encode() not in entry
    bundle = await rec.proof_bundle(GUILD, range(len(events)))
    assert all(c.ok for c in record.verify_document(bundle, public_key=rec.verifier_key(GUILD)))


# -- wiring: config and backup ---------------------------------------------------------------------------


def test_record_config() -> None:
    env = {"DISCORD_TOKEN": "t"}
    assert (parse_config({}, env=env).record.channel, parse_config({}, env=env).record.daily_time) == (
        0,
        "23:55",
    )
    config = parse_config({"record": {"channel": 123, "daily_time": "06:30"}}, env=env)
    assert (config.record.channel, config.record.daily_time) == (123, "06:30")
    with pytest.raises(ConfigError) as bad:
        parse_config({"record": {"channel": "abc", "daily_time": "25:00", "colour": 1}}, env=env)
    assert sorted(p.split(" ")[1] for p in bad.value.problems) == ["channel", "colour:", "daily_time"]


@pytest.mark.sqlite_only  # caucus backup copies the SQLite file (with its online backup) and the keys beside it
async def test_backup_copies_the_record_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "caucus.db"
    database = await Database.open(path)
    await database.close()
    made = record.load_signing_key(str(path))
    assert record.load_signing_key(str(path)) == made and len(made) == 32
    key = record_rows.signing_key_path(path)
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{path}"\n', encoding="utf-8")
    assert main(["backup", str(tmp_path / "copy" / "b.db"), "--config", str(config)]) == 0
    copy = tmp_path / "copy" / "b.db.record-key"
    assert copy.read_bytes() == made and oct(copy.stat().st_mode & 0o777) == "0o600"
    assert "b.db.record-key" in capsys.readouterr().out
    key.write_bytes(b"short")
    with pytest.raises(record.RecordKeyError, match="holds 5 bytes"):
        record.load_signing_key(str(path))
