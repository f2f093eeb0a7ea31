"""The summary export on a fixed scenario: golden files per format, safe output, schema-valid JSON."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from domain.clock import FakeClock
from domain.errors import Invalid, NotFound
from domain.groups import WorkingGroups
from domain.permissions import Actor, Policy
from domain.render import render, render_csv, render_html, render_json, render_markdown
from domain.summary import Summaries, build_summary
from storage.db import Database
from tests import engines
from tests.scenario import GUILD, ZONE, build_org_scenario, build_scenario

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "domain" / "summary.schema.json").read_text())


@pytest.fixture
async def scenario_db(tmp_path: Path) -> Database:
    db = await engines.open_db(tmp_path / "scenario.db")
    clock = FakeClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    await build_scenario(db, clock)
    yield db
    await db.close()


NOW = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)


def check_golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_bytes(data)
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1 once and review it"
    assert data == path.read_bytes(), f"{name} differs from its golden file"


async def test_golden_files_for_every_format(scenario_db: Database) -> None:
    summary = await build_summary(scenario_db, GUILD, now=NOW, zone=ZONE, names=True)
    for fmt in ("md", "html", "csv", "json"):
        for suffix, data in render(summary, fmt):
            check_golden(f"summary{suffix}", data)
    again = await build_summary(scenario_db, GUILD, now=NOW, zone=ZONE, names=True)
    assert render(again, "json") == render(summary, "json")  # deterministic


async def test_without_names_only_tallies(scenario_db: Database) -> None:
    summary = await build_summary(scenario_db, GUILD, now=NOW, zone=ZONE, names=False)
    text = render_markdown(summary)
    assert "Carol" not in text and "Alice" not in text  # no positions or voters by name
    assert "Cora" in text  # who called an outcome is public: it is on the item's message
    points, positions = render_csv(summary)
    assert positions is None
    check_golden("summary-tallies.md", text.encode())


def summaries(db: Database) -> Summaries:
    """The use case the cog and `caucus export` call, on the scenario's server."""
    clock = FakeClock(NOW)
    return Summaries(db, clock, WorkingGroups(db, clock, Policy(("Coordinator",)), ZONE), ZONE)


async def test_filters(scenario_db: Database) -> None:
    summary = await summaries(scenario_db).for_operator(GUILD, group="roadmap", status="decided")
    assert [s.group_name for s in summary.sections] == ["Roadmap"]
    assert [p.status for p in summary.sections[0].points] == ["no_consensus", "withdrawn"]
    assert "Filters: group Roadmap, status decided" in render_markdown(summary)
    with pytest.raises(NotFound):
        await summaries(scenario_db).for_operator(GUILD, group="Nope")
    with pytest.raises(Invalid):
        await build_summary(scenario_db, GUILD, now=NOW, zone=ZONE, status="maybe")
    with pytest.raises(NotFound):
        await build_summary(scenario_db, 999, now=NOW, zone=ZONE)


async def test_who_sees_names_is_decided_on_the_group_resolved(scenario_db: Database) -> None:
    use = summaries(scenario_db)
    cora = Actor(GUILD, 20, "Cora")  # convener of Principles only
    alice = Actor(GUILD, 30, "Alice")
    coordinator = Actor(GUILD, 10, "Coco", role_names=frozenset({"coordinator"}))
    own = await use.request(cora, group="Principles")
    assert own.names and own.group is not None and own.group.name == "Principles"
    other = await use.request(cora, group="Roadmap")
    assert not other.names and other.group is not None and other.group.name == "Roadmap"
    assert not (await use.request(cora)).names  # the whole server: coordinators only
    assert not (await use.request(alice, group="Principles")).names
    assert (await use.request(coordinator)).names
    built = await use.build(other)
    assert not built.names_included and [s.group_name for s in built.sections] == ["Roadmap"]
    assert all(p.positions == () for s in built.sections for p in s.points)
    with pytest.raises(Invalid):
        await use.request(alice, status="maybe")


async def test_csv_reads_back_and_is_inert(scenario_db: Database) -> None:
    summary = await build_summary(scenario_db, GUILD, now=NOW, zone=ZONE, names=True)
    points, positions = render_csv(summary)
    rows = list(csv.DictReader(io.StringIO(points.decode())))
    assert [int(r["number"]) for r in rows] == [1, 2, 6, 3, 4, 5, 7]
    first = next(r for r in rows if r["number"] == "1")
    assert (first["status"], first["agree"], first["object"]) == ("consensus", "2", "1")
    assert positions is not None
    for row in list(csv.reader(io.StringIO(points.decode()))) + list(
        csv.reader(io.StringIO(positions.decode()))
    ):
        for value in row:
            assert value[:1] not in ("=", "+", "-", "@", "\t", "\r"), value
            assert "@everyone" not in value
    blocked = [r for r in csv.DictReader(io.StringIO(positions.decode())) if r["stance"] == "block"]
    assert blocked and all(
        r["reason"].startswith("'=HYPERLINK") for r in blocked if "HYPERLINK" in r["reason"]
    )


async def test_json_validates_against_its_schema(scenario_db: Database) -> None:
    for names in (True, False):
        summary = await build_summary(scenario_db, GUILD, now=NOW, zone=ZONE, names=names)
        data = json.loads(render_json(summary))
        jsonschema.validate(data, SCHEMA)
        assert data["schema"] == "caucus-summary/2"
    anonymous = next(p for s in data["sections"] for p in s["polls"] if p["anonymous"])
    assert all(o["voters"] is None for o in anonymous["options"])


async def test_injection_is_inert_everywhere(scenario_db: Database) -> None:
    summary = await build_summary(scenario_db, GUILD, now=NOW, zone=ZONE, names=True)
    html_text = render_html(summary)
    assert "<script>" not in html_text and "&lt;script&gt;" in html_text
    assert "<b>html</b>" not in html_text
    assert "http" not in html_text.split("<body>")[0]  # no external resources in the head
    assert "src=" not in html_text and "<link" not in html_text
    md = render_markdown(summary)
    assert "<script>" not in md and "[click](" not in md and "\\[click\\]" in md
    assert "@everyone" not in md and "**markdown**" not in md
    assert "@everyone" not in html_text
    assert "@everyone" in render_json(
        summary
    )  # JSON is data for tools: the text as typed, escaped by JSON itself


async def test_html_in_a_real_browser(scenario_db: Database, tmp_path: Path) -> None:
    from tests.browser import chromium_path, open_page

    if chromium_path() is None:
        pytest.skip("SKIPPED: no Chromium on this machine (apt-get install chromium); .ci/run installs it")
    summary = await build_summary(scenario_db, GUILD, now=NOW, zone=ZONE, names=True)
    page = tmp_path / "summary.html"
    page.write_text(render_html(summary), encoding="utf-8")
    report = await open_page(page)
    assert report.errors == []
    assert report.title == "Summary of Coalition for an Open Internet"
    assert [u for u in report.requests if not u.startswith("file:")] == []  # no external resources
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    for width, png in report.screenshots.items():
        assert png.startswith(b"\x89PNG")
        (artifacts / f"summary-{width}.png").write_bytes(png)


@pytest.fixture
async def org_db(tmp_path: Path) -> Database:
    db = await engines.open_db(tmp_path / "orgs.db")
    await build_org_scenario(db, FakeClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC)))
    yield db
    await db.close()


async def test_organisations_in_every_format(org_db: Database) -> None:
    summary = await build_summary(org_db, GUILD, now=NOW, zone=ZONE, names=True)
    for fmt in ("md", "json"):
        for suffix, data in render(summary, fmt):
            check_golden(f"summary-orgs{suffix}", data)
    data = json.loads(render_json(summary))
    jsonschema.validate(data, SCHEMA)
    assert [o["name"] for o in data["organisations"]] == [
        "ACME Digital Rights", "Beta University", "Delta Foundation", "Gamma Network",
    ]  # fmt: skip
    assert data["organisations"][2]["state"] == "left"
    principles = data["sections"][0]
    point = next(p for p in principles["points"] if p["number"] == 8)
    assert point["counting"] == "organisations" and point["organisations_in_scope"] == 2
    assert point["tally"] == {"agree": 1, "stand_aside": 0, "object": 0, "block": 1}  # Bob's objection apart
    assert [(o["organisation"], o["stance"], o["counted"], o["stated_by"]) for o in point["organisation_positions"]] == [
        ("Beta University", "block", True, "Carol"), ("ACME Digital Rights", "agree", True, "Alice"),
        ("Delta Foundation", "agree", False, "Otto"),
    ]  # fmt: skip
    assert [(o["organisation"], o["by"], o["stance"]) for o in point["objections"]] == [
        ("Beta University", "Carol", "block")
    ]
    regions = {line["key"]: line for line in point["breakdown"]["by_region"]}
    assert regions["weog"]["counts"] == [1, 0, 0, 0] and regions["african"]["counts"] == [0, 0, 0, 1]
    assert regions["grulac"]["not_responded"] == 0  # Gamma has nobody in Principles: not in scope
    decided = next(p for s in data["sections"] for p in s["points"] if p["number"] == 9)
    # decided while Delta still counted: the record keeps it
    assert decided["organisations_in_scope"] == 4 and decided["tally"]["agree"] == 2
    people_point = next(p for p in principles["points"] if p["number"] == 1)
    assert people_point["counting"] == "people" and people_point["breakdown"]["unit"] == "people"
    assert [line["key"] for line in people_point["breakdown"]["by_region"]][-1] == "none"
    polls = {p["number"]: p for s in data["sections"] for p in s["polls"]}
    assert polls[3]["organisation_ballots"] == [
        {"organisation": "ACME Digital Rights", "choices": ["Geneva"]},
        {"organisation": "Beta University", "choices": ["Nairobi"]},
    ]
    assert polls[3]["organisations_in_scope"] == 3 and polls[3]["breakdown"]["unit"] == "organisations"
    assert (
        polls[4]["anonymous"] and polls[4]["breakdown"] is None and polls[4]["organisation_ballots"] is None
    )
    assert polls[4]["ballots"] == 3 and [o["votes"] for o in polls[4]["options"]] == [2, 1]


async def test_organisations_positions_are_public_and_names_stay_restricted(org_db: Database) -> None:
    summary = await build_summary(org_db, GUILD, now=NOW, zone=ZONE, names=False)
    data = json.loads(render_json(summary))
    jsonschema.validate(data, SCHEMA)
    point = next(p for p in data["sections"][0]["points"] if p["number"] == 8)
    assert [o["organisation"] for o in point["organisation_positions"]] == [
        "Beta University", "ACME Digital Rights", "Delta Foundation",
    ]  # fmt: skip
    assert all(o["stated_by"] is None for o in point["organisation_positions"]) and point["positions"] == []
    assert (
        point["objections"][0]["organisation"] == "Beta University" and point["objections"][0]["by"] is None
    )
    text = render_markdown(summary)
    assert "ACME Digital Rights" in text and "Carol" not in text and "Alice" not in text
    files = dict(render(summary, "csv"))
    assert set(files) == {".csv", "-organisations.csv", "-organisation-positions.csv", "-breakdown.csv"}
    stated = list(csv.DictReader(io.StringIO(files["-organisation-positions.csv"].decode())))
    assert {r["stated_by"] for r in stated} == {""}
    assert [(r["organisation"], r["counted"]) for r in stated if r["number"] == "8"] == [
        ("Beta University", "yes"), ("ACME Digital Rights", "yes"), ("Delta Foundation", "no"),
    ]  # fmt: skip
    split = list(csv.DictReader(io.StringIO(files["-breakdown.csv"].decode())))
    assert {"point", "poll"} == {r["kind"] for r in split}
    html_text = render_html(summary)
    assert "Member organisations" in html_text and "By region and stakeholder group" in html_text


async def test_a_summary_carries_the_record_and_caucus_verify_checks_it(scenario_db: Database) -> None:
    """The export a member gets cites every decision it reports by its record entry, carries the signed
    checkpoint and the proofs; verification fails, naming the entry, when a reported decision is changed."""
    from domain import record as decision_record

    clock = FakeClock(NOW)
    groups = WorkingGroups(scenario_db, clock, Policy(("Coordinator",)), ZONE)
    rec = decision_record.Record(scenario_db, clock, Policy(("Coordinator",)), ZONE, b"s" * 32)
    use = Summaries(scenario_db, clock, groups, ZONE, record=rec)
    summary = await use.for_operator(GUILD)
    data = json.loads(render_json(summary))
    jsonschema.validate(data, SCHEMA)
    cited = sorted(decision_record_indices(data))
    assert cited == list(range(9))  # the scenario's 9 decisions: outcomes, rulings, answers, poll results
    assert [e["index"] for e in data["record"]["entries"]] == cited
    key = rec.verifier_key(GUILD)
    checks = decision_record.verify_document(data, public_key=key)
    assert all(c.ok for c in checks) and sum("matches the record" in c.line for c in checks) == 9
    # a consensus turned into no consensus by hand, and a poll's votes changed: each caught, by entry
    point = next(p for s in data["sections"] for p in s["points"] if p["status"] == "consensus")
    point["status"] = "no_consensus"
    poll = next(p for s in data["sections"] for p in s["polls"] if not p["anonymous"])
    poll["options"][0]["votes"] += 1
    failed = [c.line for c in decision_record.verify_document(data, public_key=key) if not c.ok]
    assert any(f"entry {point['record_index']}" in f and "status" in f for f in failed), failed
    assert any(f"entry {poll['record_index']}" in f and "options[0]" in f for f in failed), failed
    # the Markdown says where it was made and how to check it
    md = render_markdown(summary)
    assert "## Decision record" in md and f"caucus verify summary.json --public-key {key}" in md
    # without a record at hand (or nothing decided), no proofs: the golden files stay as they are
    assert (await summaries(scenario_db).for_operator(GUILD)).record is None


def decision_record_indices(data: Any) -> list[int]:
    found: list[int] = []
    if isinstance(data, dict):
        if isinstance(data.get("record_index"), int):
            found.append(data["record_index"])
        for key, value in data.items():
            if key != "record":
                found += decision_record_indices(value)
    elif isinstance(data, list):
        for value in data:
            found += decision_record_indices(value)
    return found
