"""Rendering a Summary: Markdown to paste, self-contained HTML to print, CSV for spreadsheets, JSON for tools.

User text is made inert in every format: escaped in HTML and Markdown, formula-like CSV cells neutralised,
and ``@everyone``/``@here`` broken so that pasting a summary into Discord pings nobody.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import is_dataclass
from typing import Any

from domain.consensus import STATUS_LABELS
from domain.counting import ORGANISATIONS, Breakdown, Line
from domain.orgs import REGION_SHORT, REGIONS, STAKEHOLDERS
from domain.summary import SCHEMA, OrgPosition, Point, PollResult, Section, StatementEntry, Summary
from domain.text import cell, defuse

STANCES = (("agree", "agree"), ("stand_aside", "stand aside"), ("object", "object"), ("block", "block"))
OBJECTION_STATES = {
    "open": "open",
    "addressed": "addressed",
    "in_the_rough": "in the rough",
    "withdrawn": "withdrawn",
}
POINT_HEADINGS = {
    "consensus": "Consensus",
    "rough_consensus": "Rough consensus",
    "no_consensus": "No consensus",
    "withdrawn": "Withdrawn",
    "open": "Still open",
}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md(text: str) -> str:
    """User text as inert Markdown: one line, Markdown and HTML characters escaped, pings broken."""
    flat = " ".join(text.split())
    return defuse(_MD_SPECIAL.sub(r"\\\1", flat).replace("<", "&lt;").replace(">", "&gt;"))


def h(text: str) -> str:
    """User text escaped for HTML."""
    return html.escape(defuse(text), quote=True)


def tally_text(point: Point) -> str:
    return " · ".join(f"{label} {point.tally[key]}" for key, label in STANCES)


def _heading_lines(s: Summary) -> list[str]:
    filters = []
    if s.group_filter:
        filters.append(f"group {s.group_filter}")
    if s.status_filter:
        filters.append(f"status {s.status_filter}")
    return [
        f"Exported on {s.exported_on} · times in {s.time_zone}",
        f"Filters: {', '.join(filters) if filters else 'none (the whole server)'}",
        "Names of members: " + ("included" if s.names_included else "not included (tallies only)"),
    ]


def _split_line(b: Breakdown, line: Line) -> str:
    """One region's or stakeholder group's counts, e.g. "African: agree 3, object 1, 2 not responded"."""
    parts = [f"{label} {count}" for label, count in zip(b.labels, line.counts, strict=True) if count]
    if line.not_responded:
        parts.append(f"{line.not_responded} not responded")
    return f"{line.label}: {', '.join(parts) if parts else 'none'}"


def _split_unit(b: Breakdown) -> str:
    return "organisations" if b.unit == ORGANISATIONS else "members, by the organisation they represented"


def _counted_line(p: Point) -> str | None:
    """How a point counted per organisation counts (None for one counted per person)."""
    if p.counting != ORGANISATIONS:
        return None
    missing = f"; not responded: {', '.join(p.not_responded)}" if p.not_responded else ""
    return f"counted per organisation: {p.organisations_in_scope} organisations count{missing}"


def _org_position_text(pos: OrgPosition) -> tuple[str, str]:
    name = pos.organisation + (f" ({pos.acronym})" if pos.acronym else "")
    extra = "" if pos.counted else " (not counted)"
    by = f", stated by {pos.stated_by}" if pos.stated_by else ""
    return name, f"{pos.stance.replace('_', ' ')}{extra}{by}"


def _section_title(sec: Section) -> str:
    if sec.group_name is None:
        return "Without a working group"
    return f"Working group: {sec.group_name}" + (" (archived)" if sec.archived else "")


# -- Markdown ------------------------------------------------------------------------------------


def _md_point(p: Point) -> list[str]:
    lines = [f"- **#{p.number}** {md(p.text)}"]
    meta = [f"{STATUS_LABELS[p.status].lower()}"]
    if p.decided_by:
        meta.append(f"called by {md(p.decided_by)} on {p.decided_at}")
    meta.append(tally_text(p))
    if p.revision > 1:
        meta.append(f"revision {p.revision}")
    lines.append(f"  - {'; '.join(meta)}")
    if p.outcome_note:
        lines.append(f"  - Note: {md(p.outcome_note)}")
    counted = _counted_line(p)
    if counted:
        lines.append(f"  - {md(counted)}")
    for org in p.organisation_positions:
        name, said = _org_position_text(org)
        reason = f": {md(org.reason)}" if org.reason else ""
        lines.append(f"  - **{md(name)}**: {md(said)}{reason}")
    for o in p.objections:
        who = ", ".join(md(x) for x in (o.organisation, o.by) if x)
        who += ", " if who else ""
        line = f"  - {o.stance.capitalize()} ({who}revision {o.revision}, {OBJECTION_STATES[o.state]}): {md(o.reason)}"
        if o.note:
            line += f" — {md(o.note)}"
        lines.append(line)
    for pos in p.positions:
        reason = f": {md(pos.reason)}" if pos.reason else ""
        lines.append(f"  - {md(pos.by)}: {pos.stance.replace('_', ' ')}{reason}")
    lines += _md_breakdown(p.breakdown)
    return lines


def _md_breakdown(b: Breakdown | None) -> list[str]:
    if b is None:
        return []
    return [
        f"  - By region ({_split_unit(b)}): " + "; ".join(md(_split_line(b, x)) for x in b.by_region),
        "  - By stakeholder group: " + ("; ".join(md(_split_line(b, x)) for x in b.by_stakeholder) or "none"),
    ]


def _md_poll(poll: PollResult) -> list[str]:
    state = "closed" if poll.closed else f"open until {poll.closes_at}"
    kind = "anonymous, " if poll.anonymous else ""
    ballots = f"{poll.ballots} ballots"
    if poll.counting == ORGANISATIONS:
        ballots = f"one per organisation, {poll.ballots} of {poll.organisations_in_scope} organisations voted"
    lines = [f"- **Poll #{poll.number}** {md(poll.question)} ({kind}{state}; {ballots})"]
    if poll.results_hidden:
        lines.append("  - Results are hidden until the poll closes.")
        return lines
    for opt in poll.options:
        voters = f" — {', '.join(md(v) for v in opt.voters)}" if opt.voters else ""
        lines.append(f"  - {md(opt.label)}: {opt.votes}{voters}")
    for b in poll.organisation_ballots or ():
        lines.append(f"  - **{md(b.organisation)}**: {', '.join(md(c) for c in b.choices)}")
    lines += _md_breakdown(poll.breakdown)
    return lines


def render_markdown(s: Summary) -> str:
    """The summary as Markdown, clean to paste into a document or an e-mail."""
    out = [f"# Summary of {md(s.server_name)}", ""]
    out += [line + "  " for line in _heading_lines(s)]
    for sec in s.sections:
        out += ["", f"## {md(_section_title(sec))}"]
        if sec.description:
            out += ["", md(sec.description)]
        if sec.empty:
            out += ["", "Nothing recorded yet."]
        for status in POINT_HEADINGS:
            points = [p for p in sec.points if p.status == status]
            if points:
                out += ["", f"### {POINT_HEADINGS[status]}", ""]
                for p in points:
                    out += _md_point(p)
        if sec.questions:
            out += ["", "### Questions", ""]
            for q in sec.questions:
                line = f"- **#{q.number}** {md(q.text)} — {STATUS_LABELS[q.status].lower()}"
                if q.answer:
                    line += f": {md(q.answer)}"
                if q.note:
                    line += f" ({md(q.note)})"
                out.append(line)
        if sec.polls:
            out += ["", "### Polls", ""]
            for poll in sec.polls:
                out += _md_poll(poll)
        if sec.sessions:
            out += ["", "### Sessions", ""]
            for ses in sec.sessions:
                extra = "".join(f" · {label} {md(v)}" for label, v in (("moderators", ses.moderators),
                                ("note-taker", ses.note_taker), ("at", ses.location)) if v)  # fmt: skip
                repeat = f" ({ses.repeats})" if ses.repeats else ""
                out.append(
                    f"- {ses.start}–{(ses.end or '')[11:]} ({ses.zone}){repeat} — {md(ses.title)}{extra}"
                )
    if s.organisations:
        out += ["", "## Member organisations", ""]
        for org in s.organisations:
            name = md(org.name) + (f" ({md(org.acronym)})" if org.acronym else "")
            out.append(f"- **{name}** — {org.country} · {REGIONS[org.region]} · {STAKEHOLDERS[org.stakeholder]} · "
                       f"{org.state}")  # fmt: skip
    out += _md_statements(s.statements)
    out += _md_record(s.record)
    return "\n".join(out) + "\n"


# -- the decision record (what an export was made at, and how to check it) ------------------------------------


def _record_facts(record: dict[str, Any]) -> tuple[int, str, str, str]:
    entries = len(record.get("entries", []))
    return entries, str(record["tree_size"]), str(record["root"]), str(record["verifier_key"])


def _md_record(record: dict[str, Any] | None) -> list[str]:
    if record is None:
        return []
    entries, size, root, key = _record_facts(record)
    return [
        "", "## Decision record", "",
        f"This summary reports {entries} decisions of the decision record, made at its signed checkpoint of "
        f"{size} entries (root `{root}`). The JSON export of the same summary carries the checkpoint and the "
        "proofs; check it offline with:", "",
        f"    caucus verify summary.json --public-key {key}", "",
        "The signed checkpoint:", "", *("    " + line for line in str(record["checkpoint"]).splitlines()),
    ]  # fmt: skip


def _html_record(record: dict[str, Any] | None) -> list[str]:
    if record is None:
        return []
    entries, size, root, key = _record_facts(record)
    return [
        "<section><h2>Decision record</h2>"
        f"<p>This summary reports {entries} decisions of the decision record, made at its signed checkpoint of "
        f"{h(size)} entries (root <code>{h(root)}</code>). The JSON export of the same summary carries the "
        "checkpoint and the proofs; check it offline with:</p>"
        f"<pre>caucus verify summary.json --public-key {h(key)}</pre>"
        f"<p>The signed checkpoint:</p><pre>{h(str(record['checkpoint']))}</pre></section>"
    ]


# -- statements (an optional part of every format) ------------------------------------------------


def statement_state(st: StatementEntry) -> str:
    if st.state == "closed":
        return f"closed {st.closed_at}"
    if st.state == "open":
        return f"open until {st.closes_at}"
    return "draft"


def statement_counts(st: StatementEntry) -> str:
    text = f"{st.on_current_version} organisations on version {st.version} ({st.listed} listed, {st.counted_only} counted only in all)"
    if st.on_earlier_versions:
        text += f"; {st.on_earlier_versions} on an earlier version"
    if st.individuals:
        text += f"; {st.individuals} individuals"
    return text


def _breakdown(st: StatementEntry) -> str:
    regions = ", ".join(f"{REGION_SHORT[k]} {n}" for k, n in st.by_region.items() if n)
    groups = ", ".join(f"{STAKEHOLDERS[k]} {n}" for k, n in st.by_stakeholder.items() if n)
    return f"by region: {regions or 'none'}; by stakeholder group: {groups or 'none'}"


def _md_statements(statements: tuple[StatementEntry, ...]) -> list[str]:
    if not statements:
        return []
    out = ["", "## Statements", ""]
    for st in statements:
        group = f" (from {md(st.group_name)})" if st.group_name else ""
        out.append(f"- **Statement #{st.number}** {md(st.title)}{group} — {statement_state(st)}; version {st.version}, "
                   f"fingerprint `{st.fingerprint[:12]}`")  # fmt: skip
        if st.state != "draft":
            out.append(f"  - {statement_counts(st)}")
            out.append(f"  - {_breakdown(st)}")
    return out


def _html_statements(statements: tuple[StatementEntry, ...]) -> list[str]:
    if not statements:
        return []
    out = ["<section><h2>Statements</h2>"]
    for st in statements:
        group = f" (from {h(st.group_name)})" if st.group_name else ""
        counts = "" if st.state == "draft" else (
            f'<div class="tally">{h(statement_counts(st))}</div><div class="meta">{h(_breakdown(st))}</div>'
        )  # fmt: skip
        out.append(f'<div class="item {"consensus" if st.state == "closed" else "open"}"><div><span class="num">'
                   f"Statement #{st.number}</span> {h(st.title)}{group}</div><div class=\"meta\">{h(statement_state(st))}; "
                   f"version {st.version}, fingerprint <code>{st.fingerprint[:12]}</code></div>{counts}</div>")  # fmt: skip
    out.append("</section>")
    return out


STATEMENT_COLUMNS = ("number", "title", "group", "state", "version", "fingerprint", "opened_at", "closes_at",
                     "closed_at", "organisations", "on_current_version", "on_earlier_versions", "listed",
                     "counted_only", "individuals")  # fmt: skip


def render_statements_csv(s: Summary) -> bytes | None:
    """One row per statement with its counts; None when the server has no statement."""
    if not s.statements:
        return None
    rows: list[tuple[Any, ...]] = [(*STATEMENT_COLUMNS, *(f"region_{k}" for k in REGION_SHORT),
                                    *(f"stakeholder_{k}" for k in STAKEHOLDERS))]  # fmt: skip
    for st in s.statements:
        rows.append((st.number, st.title, st.group_name or "", st.state, st.version, st.fingerprint,
                     st.opened_at or "", st.closes_at or "", st.closed_at or "", st.organisations,
                     st.on_current_version, st.on_earlier_versions, st.listed, st.counted_only, st.individuals,
                     *st.by_region.values(), *st.by_stakeholder.values()))  # fmt: skip
    return _csv(rows)


# -- HTML ----------------------------------------------------------------------------------------

_CSS = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;margin:0 auto;
max-width:52rem;padding:1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #5865f2;padding-bottom:.2rem;margin-top:2rem}
h3{margin-bottom:.3rem}.meta{color:#555;font-size:.9rem;margin:.1rem 0}
.item{border-left:4px solid #ccc;padding:.3rem .8rem;margin:.6rem 0;break-inside:avoid}
.consensus{border-color:#2d7d46}.rough_consensus{border-color:#57a05a}.no_consensus{border-color:#c0392b}
.withdrawn{border-color:#888}.open{border-color:#5865f2}
.num{font-weight:700}.tally{font-size:.9rem;color:#333}ul{padding-left:1.2rem;margin:.3rem 0}
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border:1px solid #ddd;padding:.25rem .4rem;
text-align:left;vertical-align:top}.bar{background:#5865f2;height:.6rem;display:inline-block}
@media print{body{max-width:none;font-size:11pt}h2{break-after:avoid}a{color:inherit}}
@media (max-width:600px){body{font-size:15px;padding:.6rem}td,th{padding:.2rem}}
"""


def _html_point(p: Point) -> str:
    parts = [f'<div class="item {p.status}"><div><span class="num">#{p.number}</span> {h(p.text)}</div>']
    meta = [STATUS_LABELS[p.status]]
    if p.decided_by:
        meta.append(f"called by {h(p.decided_by)} on {h(p.decided_at or '')}")
    if p.revision > 1:
        meta.append(f"revision {p.revision}")
    parts.append(f'<div class="meta">{"; ".join(meta)}</div><div class="tally">{h(tally_text(p))}</div>')
    if p.outcome_note:
        parts.append(f'<div class="meta">Note: {h(p.outcome_note)}</div>')
    counted = _counted_line(p)
    if counted:
        parts.append(f'<div class="meta">{h(counted)}</div>')
    rows = []
    for org in p.organisation_positions:
        name, said = _org_position_text(org)
        reason = f": {h(org.reason)}" if org.reason else ""
        rows.append(f"<li><strong>{h(name)}</strong>: {h(said)}{reason}</li>")
    for o in p.objections:
        who = ", ".join(h(x) for x in (o.organisation, o.by) if x)
        who += ", " if who else ""
        note = f" — {h(o.note)}" if o.note else ""
        rows.append(f"<li>{o.stance.capitalize()} ({who}revision {o.revision}, {OBJECTION_STATES[o.state]}): "
                    f"{h(o.reason)}{note}</li>")  # fmt: skip
    for pos in p.positions:
        reason = f": {h(pos.reason)}" if pos.reason else ""
        rows.append(f"<li>{h(pos.by)}: {pos.stance.replace('_', ' ')}{reason}</li>")
    if rows:
        parts.append("<ul>" + "".join(rows) + "</ul>")
    parts.append(_html_breakdown(p.breakdown))
    return "".join(parts) + "</div>"


def _html_breakdown(b: Breakdown | None) -> str:
    if b is None:
        return ""
    silent = any(x.not_responded for x in b.by_region)
    head = "".join(f"<th>{h(label)}</th>" for label in b.labels) + (
        "<th>not responded</th>" if silent else ""
    )

    def rows(lines: tuple[Line, ...]) -> str:
        return "".join(
            f"<tr><td>{h(x.label)}</td>" + "".join(f"<td>{c}</td>" for c in x.counts)
            + (f"<td>{x.not_responded or 0}</td>" if silent else "") + "</tr>"
            for x in lines
        )  # fmt: skip

    return (f'<div class="meta">By region and stakeholder group ({h(_split_unit(b))})</div><table class="split">'
            f"<tr><th>Region</th>{head}</tr>{rows(b.by_region)}<tr><th>Stakeholder group</th>{head}</tr>"
            f"{rows(b.by_stakeholder)}</table>")  # fmt: skip


def _html_poll(poll: PollResult) -> str:
    state = "closed" if poll.closed else f"open until {h(poll.closes_at)}"
    kind = "anonymous, " if poll.anonymous else ""
    head = (
        f'<div class="item open"><div><span class="num">Poll #{poll.number}</span> {h(poll.question)}</div>'
    )
    ballots = f"{poll.ballots} ballots"
    if poll.counting == ORGANISATIONS:
        ballots = f"one per organisation, {poll.ballots} of {poll.organisations_in_scope} organisations voted"
    head += f'<div class="meta">{kind}{state}; {ballots}</div>'

    top = max([o.votes or 0 for o in poll.options] + [1])
    rows = "".join(
        f"<tr><td>{h(o.label)}</td><td>{o.votes}</td><td><span class=\"bar\" style=\"width:{int(100 * (o.votes or 0) / top)}%\">"
        f"</span></td>" + (f"<td>{h(', '.join(o.voters))}</td>" if o.voters is not None else "") + "</tr>"
        for o in poll.options
    )  # fmt: skip
    cast = "".join(
        f"<li><strong>{h(b.organisation)}</strong>: {h(', '.join(b.choices))}</li>"
        for b in poll.organisation_ballots or ()
    )
    return (
        head
        + f"<table>{rows}</table>"
        + (f"<ul>{cast}</ul>" if cast else "")
        + _html_breakdown(poll.breakdown)
        + "</div>"
    )


def render_html(s: Summary) -> str:
    """One self-contained, printable HTML page (no scripts, no external resources)."""
    title = f"Summary of {s.server_name}"
    out = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{h(title)}</title><style>{_CSS.strip()}</style></head><body>",
        f"<h1>{h(title)}</h1>",
    ]  # fmt: skip
    out += [f'<p class="meta">{h(line)}</p>' for line in _heading_lines(s)]
    for sec in s.sections:
        out.append(f"<section><h2>{h(_section_title(sec))}</h2>")
        if sec.description:
            out.append(f"<p>{h(sec.description)}</p>")
        if sec.empty:
            out.append('<p class="meta">Nothing recorded yet.</p>')
        for status, heading in POINT_HEADINGS.items():
            points = [p for p in sec.points if p.status == status]
            if points:
                out.append(f"<h3>{heading}</h3>" + "".join(_html_point(p) for p in points))
        if sec.questions:
            out.append("<h3>Questions</h3>")
            for q in sec.questions:
                answer = f": {h(q.answer)}" if q.answer else ""
                note = f" ({h(q.note)})" if q.note else ""
                out.append(f'<div class="item {"consensus" if q.status == "answered" else "open"}"><span class="num">'
                           f"#{q.number}</span> {h(q.text)}<div class=\"meta\">{STATUS_LABELS[q.status]}{answer}{note}"
                           "</div></div>")  # fmt: skip
        if sec.polls:
            out.append("<h3>Polls</h3>" + "".join(_html_poll(p) for p in sec.polls))
        if sec.sessions:
            rows = "".join(
                f"<tr><td>{h(x.start or '')}–{h((x.end or '')[11:])} ({h(x.zone)})"
                f"{' · ' + h(x.repeats) if x.repeats else ''}</td><td>{h(x.title)}</td><td>{h(x.moderators)}</td>"
                f"<td>{h(x.location)}</td></tr>"
                for x in sec.sessions
            )  # fmt: skip
            out.append("<h3>Sessions</h3><table><tr><th>When</th><th>Session</th><th>Moderators</th><th>Where</th>"
                       f"</tr>{rows}</table>")  # fmt: skip
        out.append("</section>")
    if s.organisations:
        rows = "".join(
            f"<tr><td>{h(o.name)}</td><td>{h(o.acronym)}</td><td>{h(o.country)}</td><td>{h(str(REGIONS[o.region]))}</td>"
            f"<td>{h(str(STAKEHOLDERS[o.stakeholder]))}</td><td>{h(o.state)}</td></tr>"
            for o in s.organisations
        )  # fmt: skip
        out.append("<section><h2>Member organisations</h2><table><tr><th>Name</th><th>Acronym</th><th>Country</th>"
                   f"<th>Region</th><th>Stakeholder group</th><th>State</th></tr>{rows}</table></section>")  # fmt: skip
    out += _html_statements(s.statements)
    out += _html_record(s.record)
    out.append("</body></html>")
    return "\n".join(out) + "\n"


# -- CSV -----------------------------------------------------------------------------------------

POINT_COLUMNS = ("group", "number", "kind", "status", "text", "agree", "stand_aside", "object", "block",
                 "open_objections", "outcome_note", "answer", "decided_by", "decided_at", "proposed_by", "revision",
                 "counting", "organisations_in_scope")  # fmt: skip
POSITION_COLUMNS = ("group", "number", "revision", "member", "stance", "reason")
ORG_COLUMNS = ("name", "acronym", "country", "region", "stakeholder", "state")
ORG_POSITION_COLUMNS = ("group", "number", "revision", "organisation", "acronym", "region", "stakeholder", "stance",
                        "reason", "counted", "stated_by")  # fmt: skip
BREAKDOWN_COLUMNS = ("group", "kind", "number", "unit", "dimension", "key", "label", "choice", "count")


def _csv(rows: list[tuple[Any, ...]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([tuple(cell(v) for v in row) for row in rows])
    return buffer.getvalue().encode("utf-8")


def render_csv(s: Summary) -> tuple[bytes, bytes | None]:
    """Points and questions, one row each with its tally; and, when names are included, the positions."""
    items: list[tuple[Any, ...]] = [POINT_COLUMNS]
    positions: list[tuple[Any, ...]] = [POSITION_COLUMNS]
    for sec in s.sections:
        group = sec.group_name or ""
        for p in sec.points:
            items.append((group, p.number, "point", p.status, p.text, *(p.tally[k] for k, _ in STANCES),
                          p.open_objections, p.outcome_note or "", "", p.decided_by or "", p.decided_at or "",
                          p.proposed_by, p.revision, p.counting,
                          "" if p.organisations_in_scope is None else p.organisations_in_scope))  # fmt: skip
            for pos in p.positions:
                positions.append((group, p.number, p.revision, pos.by, pos.stance, pos.reason or ""))
        for q in sec.questions:
            items.append((group, q.number, "question", q.status, q.text, "", "", "", "", "", q.note or "",
                          q.answer or "", q.decided_by or "", q.decided_at or "", q.proposed_by, 1, "", ""))  # fmt: skip
    return _csv(items), (_csv(positions) if s.names_included else None)


def render_org_csv(s: Summary) -> list[tuple[str, bytes]]:
    """On a server with organisations: the organisations, their positions on points counted per organisation
    (for every member: an organisation's position is not personal data; who stated it only with names), and
    every breakdown by region and stakeholder group, one count per row."""
    if not s.organisations:
        return []
    orgs: list[tuple[Any, ...]] = [ORG_COLUMNS]
    orgs += [(o.name, o.acronym, o.country, o.region, o.stakeholder, o.state) for o in s.organisations]
    stated: list[tuple[Any, ...]] = [ORG_POSITION_COLUMNS]
    split: list[tuple[Any, ...]] = [BREAKDOWN_COLUMNS]

    def counts(group: str, kind: str, number: int, b: Breakdown | None) -> None:
        if b is None:
            return
        for dimension, lines in (("region", b.by_region), ("stakeholder", b.by_stakeholder)):
            for x in lines:
                split.extend((group, kind, number, b.unit, dimension, x.key, x.label, label, count)
                             for label, count in zip(b.labels, x.counts, strict=True))  # fmt: skip
                if x.not_responded is not None:
                    split.append((group, kind, number, b.unit, dimension, x.key, x.label, "not responded",
                                  x.not_responded))  # fmt: skip

    for sec in s.sections:
        group = sec.group_name or ""
        for p in sec.points:
            stated += [(group, p.number, p.revision, o.organisation, o.acronym, o.region, o.stakeholder, o.stance,
                        o.reason or "", "yes" if o.counted else "no", o.stated_by or "")
                       for o in p.organisation_positions]  # fmt: skip
            counts(group, "point", p.number, p.breakdown)
        for poll in sec.polls:
            counts(group, "poll", poll.number, poll.breakdown)
    return [("-organisations.csv", _csv(orgs)), ("-organisation-positions.csv", _csv(stated)),
            ("-breakdown.csv", _csv(split))]  # fmt: skip


# -- JSON ----------------------------------------------------------------------------------------


def _fields(value: Any) -> dict[str, Any]:
    """A summary dataclass as its fields, for json's C encoder (which handles the tuples and nesting)."""
    if is_dataclass(value) and not isinstance(value, type):
        return dict(vars(value))
    raise TypeError(f"cannot encode {type(value).__name__}")


def summary_dict(s: Summary) -> dict[str, Any]:
    """The summary's top level as plain data, following domain/summary.schema.json (sections stay objects)."""
    data = dict(vars(s))
    sections = data.pop("sections")
    statements = data.pop("statements")
    proofs = data.pop("record")
    out = {"schema": SCHEMA, **data, "server_id": str(s.server_id), "sections": sections}
    if statements:  # optional: absent when the server has no statement
        out["statements"] = statements
    if proofs is not None:  # optional: the decision record's proofs of the decisions reported
        out["record"] = proofs
    return out


def render_json(s: Summary) -> str:
    """The summary as compact JSON (schema ``caucus-summary/2``), keys in a fixed order, one line."""
    return json.dumps(summary_dict(s), ensure_ascii=False, separators=(",", ":"), default=_fields) + "\n"


def render(s: Summary, fmt: str) -> list[tuple[str, bytes]]:
    """The files of an export: (suffix, bytes); CSV gives a second file of positions when names are included."""
    if fmt == "md":
        return [(".md", render_markdown(s).encode("utf-8"))]
    if fmt == "html":
        return [(".html", render_html(s).encode("utf-8"))]
    if fmt == "json":
        return [(".json", render_json(s).encode("utf-8"))]
    if fmt == "csv":
        points, positions = render_csv(s)
        files = [(".csv", points)]
        if positions is not None:
            files.append(("-positions.csv", positions))
        statements = render_statements_csv(s)
        if statements is not None:
            files.append(("-statements.csv", statements))
        return files + render_org_csv(s)
    raise ValueError(f"unknown format {fmt!r}")
