"""A statement's signatory list, to publish: gathered once, rendered as Markdown, HTML, CSV or JSON.

``/statement signatories`` and ``caucus signatories`` both call ``Signatories`` and ``render``, so the
same request gives the same bytes. Nothing in the output depends on when it was made: dates are the days
things happened (in the server's time zone), and the decision record's part is the proof bundle of the
latest checkpoint (signed when the record grew since the last one).

What it holds: the text and its fingerprint; the organisations listed by name (name as the record holds
it and as it is now, acronym, country, region, stakeholder group, the day it signed or confirmed, the
version); how many organisations are counted without their name; how many individuals (their names only
for coordinators, never in a public post); the counts per region and stakeholder group of the
organisations on the current version. In JSON, every version event and every signature reported carries
its ``record_index``, and the ``record`` key carries the proofs, so ``caucus verify`` checks that each row
is what the record says and that none of the record's entries cited was left out.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain.errors import Invalid, NotFound
from domain.i18n import Text, t, tn
from domain.i18n import render as in_language
from domain.orgs import REGIONS, STAKEHOLDERS, country_name
from domain.permissions import Actor
from domain.record import Record
from domain.render import Markup, code, ht, hv, is_rtl, page_head, semicolons
from domain.statements import Counts, Statement, Statements, count_signatures, short
from domain.text import cell, defuse
from storage import export as export_rows
from storage import groups as group_rows

__all__ = [
    "SCHEMA", "FORMATS", "Signatories", "SignatoryList", "ListedOrg", "Unnamed", "VersionEvent", "Request",
    "render", "render_markdown", "render_html", "render_csv", "render_json", "signatory_dict", "filename",
]  # fmt: skip

SCHEMA = "caucus-signatories/1"
FORMATS = ("md", "html", "csv", "json")
EARLIER = ' class="earlier"'


@dataclass(frozen=True)
class ListedOrg:
    """An organisation that signed and chose to be listed by name."""

    organisation: str  # its name as the decision record holds it (as it was when it signed)
    name: str  # its name now
    acronym: str
    country: str  # ISO 3166-1 alpha-2
    country_name: str
    region: str  # a key of domain.orgs.REGIONS
    stakeholder: str  # a key of domain.orgs.STAKEHOLDERS
    signed_on: str  # the day it signed, or confirmed the version it is on (YYYY-MM-DD)
    version: int
    fingerprint: str
    current: bool  # on the current version (not waiting to confirm)
    record_index: int


@dataclass(frozen=True)
class Unnamed:
    """A signature the list shows without a name (an organisation counted only, or an individual): its
    pseudonym in the decision record, and the version it is on."""

    pseudonym: str
    version: int
    fingerprint: str
    current: bool
    record_index: int


@dataclass(frozen=True)
class VersionEvent:
    """A version opened, amended or closed, as recorded."""

    version: int
    fingerprint: str
    state: str  # opened | amended | closed
    on: str  # YYYY-MM-DD
    record_index: int


@dataclass(frozen=True)
class SignatoryList:
    server_id: int
    server_name: str
    time_zone: str
    number: int
    title: str
    group: str | None
    state: str
    version: int
    fingerprint: str
    text: str
    opened_on: str | None
    closes_at: str | None  # YYYY-MM-DD HH:MM in time_zone
    closed_at: str | None
    versions: tuple[VersionEvent, ...]
    organisations: tuple[ListedOrg, ...]
    counted_only: tuple[Unnamed, ...]
    individuals: tuple[Unnamed, ...]
    individual_names: tuple[str, ...] | None  # None: names not included
    counts: Counts
    record: dict[str, Any]  # the proof bundle (domain.record.Record.proof_bundle), without checkpoint_new
    checkpoint_new: bool = False  # this build signed a checkpoint (the bot posts it); not rendered

    @property
    def names_included(self) -> bool:
        """Whether individuals' names are in the list."""
        return self.individual_names is not None


@dataclass(frozen=True)
class Request:
    """A signatory list asked for: the statement resolved, and whether individuals' names show."""

    statement: Statement
    names: bool


def _day(unix: int | None, zone: ZoneInfo) -> str | None:
    return None if unix is None else datetime.fromtimestamp(unix, zone).date().isoformat()


def _when(unix: int | None, zone: ZoneInfo) -> str | None:
    return None if unix is None else datetime.fromtimestamp(unix, zone).strftime("%Y-%m-%d %H:%M")


class Signatories:
    """The signatory list as members and the operator ask for it; who may see individuals' names is
    decided here (coordinators, never in a public post; the operator of the database)."""

    def __init__(self, statements: Statements, record: Record) -> None:
        self.statements = statements
        self.record = record
        self.db = statements.db
        self.zone = statements.zone

    def _published(self, statement: Statement) -> Statement:
        if statement.state == "draft":
            raise Invalid(t(
                "Statement #{number} is a draft: it has no signatories until it is opened (/statement open).",
                number=statement.number,
            ))  # fmt: skip
        return statement

    async def request(self, actor: Actor, ref: str, *, public: bool = False) -> Request:
        """What a member asked for, checked once (cheap: the cog asks before it defers)."""
        statement = self._published(await self.statements.resolve(actor.guild_id, ref))
        return Request(statement, names=not public and self.statements.policy.is_coordinator(actor))

    async def for_operator(self, guild_id: int, ref: str) -> SignatoryList:
        """The list for whoever runs the bot and holds its database (``caucus signatories``): names included."""
        statement = self._published(await self.statements.resolve(guild_id, ref))
        return await self.build(Request(statement, names=True))

    async def build(self, request: Request) -> SignatoryList:
        """The signatory list of a checked request, with the decision record's proofs of what it reports."""
        zone = self.zone
        statement = await self.statements.by_id(request.statement.guild_id, request.statement.statement_id)
        server = await export_rows.guild_name(self.db, statement.guild_id)
        if server is None:
            raise NotFound(t("The bot has no record of that server."))
        group = (
            None
            if statement.group_id is None
            else await group_rows.get_group(self.db, statement.guild_id, statement.group_id)
        )
        versions = await self.statements.versions(statement)
        by_number = {v.version: v for v in versions}
        current = by_number[statement.version]
        events = [
            VersionEvent(v.version, v.fingerprint, "opened" if v.version == 1 else "amended",
                         _day(statement.opened_at if v.version == 1 else v.created_at, zone) or "", v.record_index)
            for v in versions if v.record_index is not None
        ]  # fmt: skip
        if statement.close_index is not None:
            events.append(VersionEvent(current.version, current.fingerprint, "closed",
                                       _day(statement.closed_at, zone) or "", statement.close_index))  # fmt: skip
        signatures = await self.statements.signatures(statement)
        listed: list[ListedOrg] = []
        counted: list[Unnamed] = []
        people: list[Unnamed] = []
        for sig in signatures:
            fp = by_number[sig.version].fingerprint
            on = _day(sig.confirmed_at or sig.signed_at, zone) or ""
            now_current = sig.version == statement.version
            if sig.listed and sig.recorded_name is not None:
                assert sig.country and sig.region and sig.stakeholder
                listed.append(ListedOrg(
                    organisation=sig.recorded_name, name=sig.org_name or sig.recorded_name, acronym=sig.acronym or "",
                    country=sig.country, country_name=country_name(sig.country), region=sig.region,
                    stakeholder=sig.stakeholder, signed_on=on, version=sig.version, fingerprint=fp,
                    current=now_current, record_index=sig.record_index,
                ))  # fmt: skip
            else:
                assert sig.pseudonym is not None
                entry = Unnamed(sig.pseudonym, sig.version, fp, now_current, sig.record_index)
                (people if sig.individual else counted).append(entry)
        names: tuple[str, ...] | None = None
        if request.names:
            known = await export_rows.names(self.db, statement.guild_id)
            names = tuple(sorted((known.get(s.signer_id, f"member {s.signer_id}") for s in signatures if s.individual),
                                 key=str.casefold))  # fmt: skip
        cited = [e.record_index for e in events] + [s.record_index for s in signatures]
        bundle = dict(await self.record.proof_bundle(statement.guild_id, cited))
        new = bool(bundle.pop("checkpoint_new", False))
        return SignatoryList(
            server_id=statement.guild_id, server_name=server, time_zone=zone.key, number=statement.number,
            title=statement.title, group=group.name if group else None, state=statement.state,
            version=statement.version, fingerprint=current.fingerprint, text=current.text,
            opened_on=_day(statement.opened_at, zone), closes_at=_when(statement.closes_at, zone),
            closed_at=_when(statement.closed_at, zone), versions=tuple(events), organisations=tuple(listed),
            counted_only=tuple(counted), individuals=tuple(people), individual_names=names,
            counts=count_signatures(signatures, statement.version), record=bundle, checkpoint_new=new,
        )  # fmt: skip


# -- rendering ----------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md(text: str) -> str:
    """A member's text as inert Markdown on one line: Markdown and HTML characters escaped, pings broken."""
    return md_line(" ".join(text.split()))


def md_line(line: str) -> str:
    """One line of a member's text as inert Markdown (a leading ``#`` escaped: never a heading)."""
    escaped = defuse(_MD_SPECIAL.sub(r"\\\1", line).replace("<", "&lt;").replace(">", "&gt;"))
    return "\\" + escaped if escaped.lstrip().startswith("#") else escaped


def md_block(text: str) -> str:
    """A text of several paragraphs as inert Markdown, its line breaks kept."""
    lines = text.split("\n")
    out = []
    for n, line in enumerate(lines):
        follows = n + 1 < len(lines) and lines[n + 1].strip() and line.strip()
        out.append(md_line(line) + ("  " if follows else ""))
    return "\n".join(out)


def h(text: str) -> str:
    """A member's text escaped for HTML, pings broken."""
    return html.escape(defuse(text), quote=True)


def _state_line(s: SignatoryList) -> Text:
    if s.state == "closed":
        return t("closed on {date} ({zone})", date=s.closed_at, zone=s.time_zone)
    return t("open for signature until {date} ({zone})", date=s.closes_at, zone=s.time_zone)


def _summary_line(s: SignatoryList) -> Text:
    c = s.counts
    parts = [
        tn(
            "{n} organisation signed version {version_number} ({listed} listed by name, {counted} counted "
            "without their name)",
            "{n} organisations signed version {version_number} ({listed} listed by name, {counted} counted "
            "without their name)",
            c.confirmed,
            version_number=s.version,
            listed=len([o for o in s.organisations if o.current]),
            counted=len([o for o in s.counted_only if o.current]),
        )  # fmt: skip
    ]
    if c.pending:
        # the same in both English forms, as it always said; translators get the plural forms
        parts.append(tn(
            "{n} more signed an earlier version and have not confirmed this one ({listed} listed, {counted} "
            "counted only)",
            "{n} more signed an earlier version and have not confirmed this one ({listed} listed, {counted} "
            "counted only)",
            c.pending, listed=len([o for o in s.organisations if not o.current]),
            counted=len([o for o in s.counted_only if not o.current]),
        ))  # fmt: skip
    if c.individuals and c.individuals_pending:
        parts.append(tn(
            "{n} individual ({pending} on an earlier version)", "{n} individuals ({pending} on an earlier version)",
            c.individuals, pending=c.individuals_pending,
        ))  # fmt: skip
    elif c.individuals:
        parts.append(tn("{n} individual", "{n} individuals", c.individuals))
    return semicolons(parts, stop=True)


def _checkpoint_size(s: SignatoryList) -> int:
    return int(s.record.get("tree_size", 0))


def _verify_lines(s: SignatoryList, tool: str | Markup, command: str | Markup) -> list[Text]:
    return [
        t(
            "The fingerprint is the SHA-256 of the text's UTF-8 bytes (the text exactly as the JSON export holds "
            "it): {tool} gives it.",
            tool=tool,
        ),
        t(
            "Every signature and version above is an entry of the coalition's decision record (the column "
            "“Record”): the JSON export of this list carries the proofs. Check it offline with {command}.",
            command=command,
        ),
    ]


def _command(s: SignatoryList) -> str:
    return f"caucus verify FILE.json --public-key {s.record.get('verifier_key', '')}"


#: A version event as the list says it: opened, amended, closed.
_EVENTS = {
    "opened": lambda e, fp: t(
        "opened version {version_number} on {date} ({fingerprint}, record {entry_number})",
        version_number=e.version, date=e.on, fingerprint=fp, entry_number=e.record_index,
    ),
    "amended": lambda e, fp: t(
        "amended version {version_number} on {date} ({fingerprint}, record {entry_number})",
        version_number=e.version, date=e.on, fingerprint=fp, entry_number=e.record_index,
    ),
    "closed": lambda e, fp: t(
        "closed version {version_number} on {date} ({fingerprint}, record {entry_number})",
        version_number=e.version, date=e.on, fingerprint=fp, entry_number=e.record_index,
    ),
}  # fmt: skip


def _table_head() -> list[Text]:
    return [t("Organisation"), t("Acronym"), t("Country"), t("Region"), t("Stakeholder group"), t("Signed"),
            t("Version"), t("Record")]  # fmt: skip


def _version_cell(o: ListedOrg) -> Text | str:
    return str(o.version) if o.current else t("{version_number} (earlier)", version_number=o.version)


def _code(text: str) -> str:
    """A fingerprint or command as Markdown code (a value of a sentence)."""
    return f"`{text}`"


def render_markdown(s: SignatoryList, lang: str = "en") -> str:
    """The list as Markdown in ``lang``, clean to paste into a document or an e-mail."""

    def say(text: Text) -> str:
        return text.render(lang)

    out = [f"# {say(t('Statement #{number}: {title}', number=s.number, title=md(s.title)))}", ""]
    meta = [
        f"{md(s.server_name)}",
        say(_state_line(s)),
        say(t("version {version_number}", version_number=s.version)),
        say(t("fingerprint {fingerprint}", fingerprint=_code(short(s.fingerprint)))),
    ]
    if s.group:
        meta.insert(1, say(t("from the working group {group}", group=md(s.group))))
    out += [" · ".join(meta), "", say(t("Fingerprint (SHA-256 of the text): {fingerprint}",
                                        fingerprint=_code(s.fingerprint))), "", f"## {say(t('Text'))}", ""]  # fmt: skip
    out += [md_block(s.text), "", f"## {say(t('Signatories'))}", "", say(_summary_line(s)), ""]
    if s.organisations:
        out += ["| " + " | ".join(say(x) for x in _table_head()) + " |", "|---|---|---|---|---|---|---|---|"]
        for o in s.organisations:
            out.append(
                f"| {md(o.name)} | {md(o.acronym)} | {md(o.country_name)} ({o.country}) | {say(REGIONS[o.region])} | "
                f"{say(STAKEHOLDERS[o.stakeholder])} | {o.signed_on} | {in_language(_version_cell(o), lang)} | {o.record_index} |"
            )
    else:
        out.append(say(t("No organisation is listed by name.")))
    out += ["", say(t("Organisations counted without their name: {count}", count=len(s.counted_only))), ""]
    out += [f"### {say(t('By region (organisations on the current version)'))}", ""]
    out += [f"- {say(REGIONS[k])}: {n}" for k, n in s.counts.by_region.items()]
    out += ["", f"### {say(t('By stakeholder group (organisations on the current version)'))}", ""]
    out += [f"- {say(STAKEHOLDERS[k])}: {n}" for k, n in s.counts.by_stakeholder.items()]
    out += ["", f"### {say(t('Individuals: {count}', count=len(s.individuals)))}", ""]
    if s.individual_names is not None:
        out += [f"- {md(name)}" for name in s.individual_names] or [say(t("None."))]
    else:
        out.append(say(t("Their names are shown only to coordinators.")))
    # the same in both English forms, as it always said; translators get the plural forms
    checkpoint = tn("Checkpoint of {n} entries:", "Checkpoint of {n} entries:", _checkpoint_size(s))
    out += ["", f"## {say(t('Decision record'))}", "", say(checkpoint), "", "```",
            str(s.record.get("checkpoint", "")).rstrip("\n"), "```", ""]  # fmt: skip
    out += [f"- {say(line)}" for line in _verify_lines(s, "`sha256sum`", f"`{_command(s)}`")]
    out += ["", _md_versions(s, lang)]
    return "\n".join(out) + "\n"


def _md_versions(s: SignatoryList, lang: str) -> str:
    events = "; ".join(_EVENTS[e.state](e, f"`{short(e.fingerprint)}`").render(lang) for e in s.versions)
    return t("Versions: {versions}.", versions=events).render(lang)


_CSS = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;margin:0 auto;
max-width:52rem;padding:1rem}h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #5865f2;
padding-bottom:.2rem;margin-top:2rem}.meta{color:#555;font-size:.9rem;margin:.1rem 0}
.text{white-space:pre-wrap;border-left:4px solid #5865f2;padding:.3rem .8rem}code,pre{font-size:.85rem}
pre{white-space:pre-wrap;word-break:break-all;background:#f4f4f6;padding:.5rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border:1px solid #ddd;padding:.25rem .4rem;
text-align:left;vertical-align:top}.earlier{color:#777}ul{padding-left:1.2rem}
@media print{body{max-width:none;font-size:11pt}h2{break-after:avoid}tr{break-inside:avoid}}
@media (max-width:600px){body{font-size:15px;padding:.6rem}td,th{padding:.2rem}}
"""


def render_html(s: SignatoryList, lang: str = "en") -> str:
    """One self-contained, printable HTML page in ``lang`` (no scripts, no external resources)."""
    out = page_head(t("Statement #{number}: {title}", number=s.number, title=s.title), _CSS, lang)
    meta = [
        hv(s.server_name, lang),
        ht(_state_line(s), lang),
        ht(t("version {version_number}", version_number=s.version), lang),
        ht(t("fingerprint {fingerprint}", fingerprint=code(short(s.fingerprint))), lang),
    ]
    if s.group:
        meta.insert(1, ht(t("from the working group {group}", group=s.group), lang))
    out.append(f'<p class="meta">{" · ".join(meta)}</p>')
    full = ht(t("Fingerprint (SHA-256 of the text): {fingerprint}", fingerprint=code(s.fingerprint)), lang)
    out.append(f'<p class="meta">{full}</p>')
    text_dir = ' dir="auto"' if is_rtl(lang) else ""  # the statement's own language decides its direction
    out.append(f'<h2>{ht(t("Text"), lang)}</h2><div class="text"{text_dir}>{h(s.text)}</div>')
    out.append(f"<h2>{ht(t('Signatories'), lang)}</h2><p>{ht(_summary_line(s), lang)}</p>")
    if s.organisations:
        rows = "".join(
            f"<tr{'' if o.current else EARLIER}><td>{hv(o.name, lang)}</td><td>{hv(o.acronym, lang)}</td>"
            f"<td>{hv(o.country_name, lang)} ({o.country})</td><td>{ht(REGIONS[o.region], lang)}</td>"
            f"<td>{ht(STAKEHOLDERS[o.stakeholder], lang)}</td><td>{hv(o.signed_on, lang)}</td>"
            f"<td>{ht(_version_cell(o), lang)}</td><td>{o.record_index}</td></tr>"
            for o in s.organisations
        )  # fmt: skip
        head = "".join(f"<th>{ht(x, lang)}</th>" for x in _table_head())
        out.append(f"<table><tr>{head}</tr>{rows}</table>")
    else:
        out.append(f"<p>{ht(t('No organisation is listed by name.'), lang)}</p>")
    counted = t("Organisations counted without their name: {count}", count=len(s.counted_only))
    out.append(f"<p>{ht(counted, lang)}</p>")
    regions = "".join(f"<li>{ht(REGIONS[k], lang)}: {n}</li>" for k, n in s.counts.by_region.items())
    groups = "".join(f"<li>{ht(STAKEHOLDERS[k], lang)}: {n}</li>" for k, n in s.counts.by_stakeholder.items())
    out.append(
        f"<h3>{ht(t('By region (organisations on the current version)'), lang)}</h3><ul>{regions}</ul>"
    )
    out.append(f"<h3>{ht(t('By stakeholder group (organisations on the current version)'), lang)}</h3>"
               f"<ul>{groups}</ul>")  # fmt: skip
    out.append(f"<h3>{ht(t('Individuals: {count}', count=len(s.individuals)), lang)}</h3>")
    if s.individual_names is not None:
        out.append("<ul>" + "".join(f"<li>{hv(n, lang)}</li>" for n in s.individual_names) + "</ul>"
                   if s.individual_names else f"<p>{ht(t('None.'), lang)}</p>")  # fmt: skip
    else:
        out.append(f'<p class="meta">{ht(t("Their names are shown only to coordinators."), lang)}</p>')
    checkpoint = tn("Checkpoint of {n} entries:", "Checkpoint of {n} entries:", _checkpoint_size(s))
    out.append(f"<h2>{ht(t('Decision record'), lang)}</h2><p>{ht(checkpoint, lang)}</p>")
    out.append(f"<pre>{h(str(s.record.get('checkpoint', '')))}</pre>")
    lines = _verify_lines(s, Markup("sha256sum"), Markup(h(_command(s))))
    out.append("<ul>" + "".join(f"<li>{ht(line, lang)}</li>" for line in lines) + "</ul>")
    events = "; ".join(ht(_EVENTS[e.state](e, short(e.fingerprint)), lang) for e in s.versions)
    out.append(f'<p class="meta">{ht(t("Versions: {versions}.", versions=Markup(events)), lang)}</p>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"


CSV_COLUMNS = ("section", "name", "acronym", "country", "region", "stakeholder_group", "signed_on", "version",
               "fingerprint", "record_index", "count")  # fmt: skip


def render_csv(s: SignatoryList) -> bytes:
    """One table: the statement, its text, each listed organisation, each version event, the counts (and,
    with names, each individual), told apart by the first column; cells a spreadsheet would run are defused."""
    rows: list[tuple[Any, ...]] = [CSV_COLUMNS]
    rows.append(
        ("statement", s.title, "", "", "", "", s.opened_on or "", s.version, s.fingerprint, "", s.number)
    )
    rows.append(("text", s.text, "", "", "", "", "", s.version, s.fingerprint, "", len(s.text)))
    for e in s.versions:
        rows.append((e.state, "", "", "", "", "", e.on, e.version, e.fingerprint, e.record_index, ""))
    for o in s.organisations:
        rows.append(("organisation", o.name, o.acronym, o.country, str(REGIONS[o.region]), str(STAKEHOLDERS[o.stakeholder]),
                     o.signed_on, o.version, o.fingerprint, o.record_index, ""))  # fmt: skip
    c = s.counts
    rows.append(("organisations_on_current_version", "", "", "", "", "", "", s.version, "", "", c.confirmed))
    rows.append(("organisations_on_earlier_versions", "", "", "", "", "", "", "", "", "", c.pending))
    rows.append(("organisations_counted_only", "", "", "", "", "", "", "", "", "", len(s.counted_only)))
    rows.append(("individuals", "", "", "", "", "", "", "", "", "", c.individuals))
    for name in s.individual_names or ():
        rows.append(("individual", name, "", "", "", "", "", "", "", "", ""))
    for key, n in c.by_region.items():
        rows.append(("region", "", "", "", str(REGIONS[key]), "", "", s.version, "", "", n))
    for key, n in c.by_stakeholder.items():
        rows.append(("stakeholder_group", "", "", "", "", str(STAKEHOLDERS[key]), "", s.version, "", "", n))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([tuple(cell(v) for v in row) for row in rows])
    return buffer.getvalue().encode("utf-8")


def signatory_dict(s: SignatoryList) -> dict[str, Any]:
    """The list as plain data, following domain/signatories.schema.json."""
    c = s.counts
    return {
        "schema": SCHEMA, "server_id": str(s.server_id), "server_name": s.server_name, "time_zone": s.time_zone,
        "statement": {
            "number": s.number, "title": s.title, "group": s.group, "state": s.state, "version": s.version,
            "fingerprint": s.fingerprint, "opened_on": s.opened_on, "closes_at": s.closes_at, "closed_at": s.closed_at,
            "text": s.text,
        },
        "versions": [vars(e) for e in s.versions],
        "organisations": [
            {**vars(o), "region_name": str(REGIONS[o.region]), "stakeholder_name": str(STAKEHOLDERS[o.stakeholder])}
            for o in s.organisations
        ],
        "counted_only": {"count": len(s.counted_only), "signatures": [vars(u) for u in s.counted_only]},
        "individuals": {
            "count": len(s.individuals), "names": list(s.individual_names) if s.individual_names is not None else None,
            "signatures": [vars(u) for u in s.individuals],
        },
        "counts": {
            "organisations": c.organisations, "on_current_version": c.confirmed, "on_earlier_versions": c.pending,
            "listed": c.listed, "counted_only": c.counted_only, "individuals": c.individuals,
            "individuals_on_current_version": c.individuals_confirmed, "by_region": dict(c.by_region),
            "by_stakeholder": dict(c.by_stakeholder),
        },
        "names_included": s.names_included,
        "record": s.record,
    }  # fmt: skip


def render_json(s: SignatoryList) -> str:
    """The list as JSON (schema ``caucus-signatories/1``), indented so a person can read it."""
    return json.dumps(signatory_dict(s), ensure_ascii=False, indent=2) + "\n"


def render(s: SignatoryList, fmt: str, lang: str = "en") -> tuple[str, bytes]:
    """The file of a signatory list: (suffix, bytes). Markdown and HTML are in ``lang``; CSV and JSON are
    data, the same in every language."""
    if fmt == "md":
        return ".md", render_markdown(s, lang).encode("utf-8")
    if fmt == "html":
        return ".html", render_html(s, lang).encode("utf-8")
    if fmt == "csv":
        return ".csv", render_csv(s)
    if fmt == "json":
        return ".json", render_json(s).encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}")


def filename(s: SignatoryList) -> str:
    """A file name safe on every system: caucus-signatories-<server>-statement-<n>."""
    server = re.sub(r"[^a-z0-9]+", "-", s.server_name.lower()).strip("-") or "server"
    return f"caucus-signatories-{server[:60]}-statement-{s.number}"
