"""Rendering a Summary: Markdown to paste, self-contained HTML to print, CSV for spreadsheets, JSON for tools.

User text is made inert in every format: escaped in HTML and Markdown, formula-like CSV cells neutralised,
and ``@everyone``/``@here`` broken so that pasting a summary into Discord pings nobody.

Markdown and HTML are written in a language (``lang``): every heading, label and fixed sentence is a Text
of the catalogue; what members typed (a point's text, a name) is a value, never translated. An HTML page
says its language (``<html lang>``) and, in Arabic, its direction (``dir="rtl"``), each value typed by a
member or taken from the record isolated in ``<bdi>`` so names, numbers and dates keep their own order.
CSV column names and JSON (keys and values) are data for tools: they stay English whatever the language.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Sequence
from dataclasses import is_dataclass
from functools import lru_cache
from typing import Any

from domain.consensus import STANCE_LABELS, STATUS_TEXTS, STATUS_WORDS
from domain.counting import NO_ORG, ORGANISATIONS, Breakdown, Line
from domain.i18n import RTL, Joined, Text, shown_value, t, tn
from domain.orgs import REGION_SHORT, REGIONS, STAKEHOLDERS, STATES
from domain.summary import (
    SCHEMA,
    OrgPosition,
    Point,
    PollResult,
    Section,
    StatementEntry,
    Summary,
    repeats_words,
)
from domain.text import cell, defuse

# (key, English label) of the stances, in order: the CSV's columns are the keys
STANCES = (("agree", "agree"), ("stand_aside", "stand aside"), ("object", "object"), ("block", "block"))
# The labels the exports show, in the reader's language: the consensus module's own
STANCE_WORDS = STANCE_LABELS
STATUS_NAMES = STATUS_TEXTS
OBJECTION_STANCES: dict[str, Text] = {"object": t("Object"), "block": t("Block")}
OBJECTION_STATES: dict[str, Text] = {
    "open": t("open"),
    "addressed": t("addressed"),
    "in_the_rough": t("in the rough"),
    "withdrawn": t("withdrawn"),
}
POINT_HEADINGS: dict[str, Text] = {
    "consensus": t("Consensus"),
    "rough_consensus": t("Rough consensus"),
    "no_consensus": t("No consensus"),
    "withdrawn": t("Withdrawn"),
    "open": t("Still open"),
}
#: A breakdown's lines by their key: regions (short names), stakeholder groups, "no organisation".
LINE_LABELS: dict[str, Text] = {**REGION_SHORT, **STAKEHOLDERS, NO_ORG: t("No organisation")}
NONE = t("none")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


@lru_cache(maxsize=8192)  # names recur in every point's positions: a summary escapes each once
def md(text: str) -> str:
    """User text as inert Markdown: one line, Markdown and HTML characters escaped, pings broken."""
    flat = " ".join(text.split())
    return defuse(_MD_SPECIAL.sub(r"\\\1", flat).replace("<", "&lt;").replace(">", "&gt;"))


@lru_cache(maxsize=8192)
def h(text: str) -> str:
    """User text escaped for HTML."""
    return html.escape(defuse(text), quote=True)


# -- languages in HTML ----------------------------------------------------------------------------------

#: The language tags of the pages (Portuguese is Brazil's, as the catalogue).
HTML_LANGUAGES = {"pt": "pt-BR"}
#: What a right-to-left page adds to the style: borders, indents and alignment on the other side (an item's
#: border keeps the colour of its state); code, fingerprints and commands stay left to right.
RTL_CSS = (
    "td,th{text-align:right}ul{padding-left:0;padding-right:1.2rem}"
    ".item,.text{border-left-style:none;border-right-style:solid;border-right-width:4px}"
    ".text{border-right-color:#5865f2}"
    "code,pre{direction:ltr;unicode-bidi:isolate}pre{text-align:left}"
)


class Markup(str):
    """A value already written as HTML (a ``<code>`` element of ours), put into a sentence as it is."""


def is_rtl(lang: str) -> bool:
    return lang in RTL


def html_open(lang: str) -> str:
    """The page's opening tag: its language, and its direction (an English page stays as it always was)."""
    if lang == "en":
        return '<html lang="en">'
    return f'<html lang="{HTML_LANGUAGES.get(lang, lang)}" dir="{"rtl" if is_rtl(lang) else "ltr"}">'


def html_style(css: str, lang: str) -> str:
    """The page's style, with the right-to-left additions in a right-to-left language."""
    return css.strip() + (RTL_CSS if is_rtl(lang) else "")


def hv(text: str, lang: str) -> str:
    """A value (what a member typed, a name, a date) escaped for HTML; isolated in ``<bdi>`` on a
    right-to-left page."""
    return f"<bdi>{h(text)}</bdi>" if is_rtl(lang) and text else h(text)


_SLOT = re.compile("\u2068?\ue000([0-9]+)\ue001\u2069?")


def ht(text: Text | str, lang: str) -> str:
    """A sentence for HTML in ``lang``: the sentence escaped, each text value escaped (in ``<bdi>`` on a
    right-to-left page), ``Markup`` values as written."""
    if not isinstance(text, Text):
        return h(text)
    if _has_list(text):
        return _ht_slotted(text, lang)
    return _ht_direct(text, lang)


def _has_list(text: Text) -> bool:
    return any(isinstance(v, Joined) or (isinstance(v, Text) and _has_list(v)) for v in text.params.values())


def _ht_direct(text: Text, lang: str) -> str:
    """``ht`` for a sentence without lists: the pattern escaped, then each value filled in escaped (the same
    bytes as ``_ht_slotted``, without rendering and searching the sentence twice: an export has 100,000)."""
    pattern = html.escape(text.pattern(lang), quote=True)
    values = {key: _ht_value(key, value, lang) for key, value in text.params.items()}
    if text.n is not None and "n" not in values:
        values["n"] = _ht_value("n", text.n, lang)
    return pattern.format(**values) if values else pattern


def _ht_value(key: str, value: Any, lang: str) -> str:
    rtl = is_rtl(lang)
    if isinstance(value, Markup):
        return f"<bdi>{value}</bdi>" if rtl else str(value)
    if isinstance(value, str):
        return hv(value, lang)
    if isinstance(value, Text):
        inner = _ht_direct(value, lang)
        return f"\u2068{inner}\u2069" if rtl else inner
    return html.escape(shown_value(key, value, lang), quote=True)


def _ht_slotted(text: Text, lang: str) -> str:
    """``ht`` by rendering the sentence with a marker for each text value, escaping it, then putting each
    value in (escaped) where its marker is: lists of values are formatted by the language around them."""
    values: list[str] = []

    def slot(value: Any) -> Any:
        if isinstance(value, Text):  # built directly: dataclasses.replace is slow for 100,000 sentences
            return Text(value.msgid, {k: slot(v) for k, v in value.params.items()}, value.plural, value.n)
        if isinstance(value, Joined):
            return Joined(tuple(slot(v) for v in value.items), value.style)
        if isinstance(value, str):
            values.append(value)
            return f"\ue000{len(values) - 1}\ue001"
        return value

    def filled(match: re.Match[str]) -> str:
        value = values[int(match[1])]
        if isinstance(value, Markup):
            return f"<bdi>{value}</bdi>" if is_rtl(lang) else value
        return hv(value, lang)

    shown = html.escape(slot(text).render(lang), quote=True)
    return _SLOT.sub(filled, shown)


def page_head(title: Text, css: str, lang: str) -> list[str]:
    """The opening of a self-contained HTML page in ``lang``: doctype, language and direction, its title, its
    style, and the title again as the page's heading."""
    return [
        "<!DOCTYPE html>", f'{html_open(lang)}<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{h(title.render(lang))}</title><style>{html_style(css, lang)}</style></head><body>",
        f"<h1>{ht(title, lang)}</h1>",
    ]  # fmt: skip


def code(text: str) -> Markup:
    """A fingerprint, a root or a command as HTML code."""
    return Markup(f"<code>{h(text)}</code>")


# -- words shared by the formats ----------------------------------------------------------------------------


def tally_text(point: Point, lang: str = "en") -> str:
    return " · ".join(
        t("{label} {count}", label=STANCE_WORDS[key], count=point.tally[key]).render(lang)
        for key, _ in STANCES
    )


def _heading_lines(s: Summary, group: str | None) -> list[Text]:
    """The lines under the title; ``group`` is the group filter as the format shows it."""
    if group is not None and s.status_filter:
        filters = t("Filters: group {group}, status {status}", group=group, status=s.status_filter)
    elif group is not None:
        filters = t("Filters: group {group}", group=group)
    elif s.status_filter:
        filters = t("Filters: status {status}", status=s.status_filter)
    else:
        filters = t("Filters: none (the whole server)")
    return [
        t("Exported on {day} · times in {zone}", day=s.exported_on, zone=s.time_zone),
        filters,
        t("Names of members: included")
        if s.names_included
        else t("Names of members: not included (tallies only)"),
    ]


def _choice_label(b: Breakdown, n: int) -> Text | str:
    """A breakdown's choice: a stance in the language, or a poll's option as it was typed."""
    key = b.choices[n]
    return STANCE_WORDS[key] if key in STANCE_WORDS else b.labels[n]


def _line_label(line: Line) -> Text | str:
    return LINE_LABELS.get(line.key, line.label)


def _split_line(b: Breakdown, line: Line, lang: str) -> str:
    """One region's or stakeholder group's counts, e.g. "African: agree 3, object 1, 2 not responded"."""
    parts = [
        t("{label} {count}", label=_choice_label(b, n), count=count).render(lang)
        for n, count in enumerate(line.counts)
        if count
    ]
    if line.not_responded:
        parts.append(tn("{n} not responded", "{n} not responded", line.not_responded).render(lang))
    if not parts:
        return t("{label}: none", label=_line_label(line)).render(lang)
    return t("{label}: {counts}", label=_line_label(line), counts=", ".join(parts)).render(lang)


def _split_unit(b: Breakdown) -> Text:
    return (
        t("organisations") if b.unit == ORGANISATIONS else t("members, by the organisation they represented")
    )


def _counted_line(p: Point) -> Text | None:
    """How a point counted per organisation counts (None for one counted per person)."""
    if p.counting != ORGANISATIONS:
        return None
    count = p.organisations_in_scope or 0
    if p.not_responded:
        # the count is the same in both English forms, as it always said; translators get the plural forms
        return tn(
            "counted per organisation: {n} organisations count; not responded: {names}",
            "counted per organisation: {n} organisations count; not responded: {names}",
            count, names=", ".join(p.not_responded),
        )  # fmt: skip
    return tn(
        "counted per organisation: {n} organisations count", "counted per organisation: {n} organisations count",
        count,
    )  # fmt: skip


def _org_position_text(pos: OrgPosition) -> tuple[str, Text | str]:
    name = pos.organisation + (f" ({pos.acronym})" if pos.acronym else "")
    stance = _stance(pos.stance)
    if pos.stated_by and not pos.counted:
        return name, t("{stance} (not counted), stated by {member}", stance=stance, member=pos.stated_by)
    if pos.stated_by:
        return name, t("{stance}, stated by {member}", stance=stance, member=pos.stated_by)
    if not pos.counted:
        return name, t("{stance} (not counted)", stance=stance)
    return name, stance


def _section_title(sec: Section) -> Text:
    if sec.group_name is None:
        return t("Without a working group")
    if sec.archived:
        return t("Working group: {group} (archived)", group=sec.group_name)
    return t("Working group: {group}", group=sec.group_name)


def _stance(key: str) -> Text | str:
    return STANCE_WORDS.get(key, key.replace("_", " "))


def _objection(stance: str, who: str, revision: int, state: str, reason: str) -> Text:
    """An objection of the register: its stance, who raised it, its revision and state, its reason."""
    label = OBJECTION_STANCES.get(stance, stance.capitalize())
    if who:
        return t(
            "{stance} ({who}, revision {revision_number}, {state}): {reason}",
            stance=label, who=who, revision_number=revision, state=OBJECTION_STATES[state], reason=reason,
        )  # fmt: skip
    return t(
        "{stance} (revision {revision_number}, {state}): {reason}",
        stance=label, revision_number=revision, state=OBJECTION_STATES[state], reason=reason,
    )  # fmt: skip


def _poll_details(poll: PollResult, closes: str) -> Text:
    """Anonymous or not, closed or open until when, and its ballots."""
    state = t("closed") if poll.closed else t("open until {date}", date=closes)
    if poll.anonymous:
        state = t("anonymous, {state}", state=state)
    if poll.counting == ORGANISATIONS:
        ballots = tn(
            "one per organisation, {ballots} of {n} organisations voted",
            "one per organisation, {ballots} of {n} organisations voted",
            poll.organisations_in_scope or 0, ballots=poll.ballots,
        )  # fmt: skip
    else:
        ballots = tn("{n} ballots", "{n} ballots", poll.ballots)
    return t("{state}; {ballots}", state=state, ballots=ballots)


def semicolons(parts: Sequence[Text], *, stop: bool = False) -> Text:
    """Clauses of one sentence, one after the other (a full stop after the last with ``stop``)."""
    if len(parts) == 1:
        return t("{first}.", first=parts[0]) if stop else parts[0]
    if len(parts) == 2:
        if stop:
            return t("{first}; {second}.", first=parts[0], second=parts[1])
        return t("{first}; {second}", first=parts[0], second=parts[1])
    if stop:
        return t("{first}; {second}; {third}.", first=parts[0], second=parts[1], third=parts[2])
    return t("{first}; {second}; {third}", first=parts[0], second=parts[1], third=parts[2])


# -- Markdown ------------------------------------------------------------------------------------


def _md_point(p: Point, lang: str) -> list[str]:
    lines = [f"- **#{p.number}** {md(p.text)}"]
    meta = [STATUS_WORDS[p.status].render(lang)]
    if p.decided_by:
        meta.append(
            t("called by {member} on {date}", member=md(p.decided_by), date=p.decided_at).render(lang)
        )
    meta.append(tally_text(p, lang))
    if p.revision > 1:
        meta.append(t("revision {revision_number}", revision_number=p.revision).render(lang))
    lines.append(f"  - {'; '.join(meta)}")
    if p.outcome_note:
        lines.append(f"  - {t('Note: {note}', note=md(p.outcome_note)).render(lang)}")
    counted = _counted_line(p)
    if counted:
        lines.append(f"  - {md(counted.render(lang))}")
    for org in p.organisation_positions:
        name, said = _org_position_text(org)
        reason = f": {md(org.reason)}" if org.reason else ""
        lines.append(f"  - **{md(name)}**: {md(render_value(said, lang))}{reason}")
    for o in p.objections:
        who = ", ".join(md(x) for x in (o.organisation, o.by) if x)
        line = "  - " + _objection(o.stance, who, o.revision, o.state, md(o.reason)).render(lang)
        if o.note:
            line += f" — {md(o.note)}"
        lines.append(line)
    stances: dict[str, str] = {}  # a point has hundreds of positions and four stances: each said once
    for pos in p.positions:
        reason = f": {md(pos.reason)}" if pos.reason else ""
        if pos.stance not in stances:
            stances[pos.stance] = render_value(_stance(pos.stance), lang)
        lines.append(f"  - {md(pos.by)}: {stances[pos.stance]}{reason}")
    lines += _md_breakdown(p.breakdown, lang)
    return lines


def render_value(value: Text | str, lang: str) -> str:
    return value.render(lang) if isinstance(value, Text) else value


def _md_breakdown(b: Breakdown | None, lang: str) -> list[str]:
    if b is None:
        return []
    regions = "; ".join(md(_split_line(b, x, lang)) for x in b.by_region)
    groups = "; ".join(md(_split_line(b, x, lang)) for x in b.by_stakeholder) or NONE.render(lang)
    return [
        "  - " + t("By region ({unit}): {lines}", unit=_split_unit(b), lines=regions).render(lang),
        "  - " + t("By stakeholder group: {lines}", lines=groups).render(lang),
    ]


def _md_poll(poll: PollResult, lang: str) -> list[str]:
    title = t("Poll #{number}", number=poll.number).render(lang)
    details = _poll_details(poll, poll.closes_at).render(lang)
    lines = [f"- **{title}** {md(poll.question)} ({details})"]
    if poll.results_hidden:
        lines.append("  - " + t("Results are hidden until the poll closes.").render(lang))
        return lines
    for opt in poll.options:
        voters = f" — {', '.join(md(v) for v in opt.voters)}" if opt.voters else ""
        lines.append(f"  - {md(opt.label)}: {opt.votes}{voters}")
    for b in poll.organisation_ballots or ():
        lines.append(f"  - **{md(b.organisation)}**: {', '.join(md(c) for c in b.choices)}")
    lines += _md_breakdown(poll.breakdown, lang)
    return lines


def _session_extra(moderators: str, note_taker: str, location: str) -> list[Text]:
    extra = []
    if moderators:
        extra.append(t("moderators {names}", names=moderators))
    if note_taker:
        extra.append(t("note-taker {name}", name=note_taker))
    if location:
        extra.append(t("at {place}", place=location))
    return extra


def render_markdown(s: Summary, lang: str = "en") -> str:
    """The summary as Markdown in ``lang``, clean to paste into a document or an e-mail."""

    def say(text: Text) -> str:
        return text.render(lang)

    out = [f"# {say(t('Summary of {server}', server=md(s.server_name)))}", ""]
    group = md(s.group_filter) if s.group_filter else None
    out += [say(line) + "  " for line in _heading_lines(s, group)]
    for sec in s.sections:
        out += ["", f"## {md(say(_section_title(sec)))}"]
        if sec.description:
            out += ["", md(sec.description)]
        if sec.empty:
            out += ["", say(t("Nothing recorded yet."))]
        for status, heading in POINT_HEADINGS.items():
            points = [p for p in sec.points if p.status == status]
            if points:
                out += ["", f"### {say(heading)}", ""]
                for p in points:
                    out += _md_point(p, lang)
        if sec.questions:
            out += ["", f"### {say(t('Questions'))}", ""]
            for q in sec.questions:
                line = f"- **#{q.number}** {md(q.text)} — {say(STATUS_WORDS[q.status])}"
                if q.answer:
                    line += f": {md(q.answer)}"
                if q.note:
                    line += f" ({md(q.note)})"
                out.append(line)
        if sec.polls:
            out += ["", f"### {say(t('Polls'))}", ""]
            for poll in sec.polls:
                out += _md_poll(poll, lang)
        if sec.sessions:
            out += ["", f"### {say(t('Sessions'))}", ""]
            for ses in sec.sessions:
                extra = "".join(" · " + say(x) for x in _session_extra(md(ses.moderators), md(ses.note_taker),
                                                                      md(ses.location)))  # fmt: skip
                repeat = f" ({render_value(repeats_words(ses.repeats), lang)})" if ses.repeats else ""
                out.append(
                    f"- {ses.start}–{(ses.end or '')[11:]} ({ses.zone}){repeat} — {md(ses.title)}{extra}"
                )
    if s.organisations:
        out += ["", f"## {say(t('Member organisations'))}", ""]
        for org in s.organisations:
            name = md(org.name) + (f" ({md(org.acronym)})" if org.acronym else "")
            out.append(f"- **{name}** — {org.country} · {say(REGIONS[org.region])} · "
                       f"{say(STAKEHOLDERS[org.stakeholder])} · {say(STATES[org.state])}")  # fmt: skip
    out += _md_statements(s.statements, lang)
    out += _md_record(s.record, lang)
    return "\n".join(out) + "\n"


# -- the decision record (what an export was made at, and how to check it) ------------------------------------


def _record_facts(record: dict[str, Any]) -> tuple[int, int, str, str]:
    entries = len(record.get("entries", []))
    return entries, int(record["tree_size"]), str(record["root"]), str(record["verifier_key"])


def _record_text(record: dict[str, Any], root: str) -> Text:
    entries, size, _, _ = _record_facts(record)
    # the counts are the same in both English forms, as they always said; translators get the plural forms
    return tn(
        "This summary reports {n} decisions of the decision record, made at its signed checkpoint of {size} "
        "entries (root {root}). The JSON export of the same summary carries the checkpoint and the proofs; "
        "check it offline with:",
        "This summary reports {n} decisions of the decision record, made at its signed checkpoint of {size} "
        "entries (root {root}). The JSON export of the same summary carries the checkpoint and the proofs; "
        "check it offline with:",
        entries, size=size, root=root,
    )  # fmt: skip


def _md_record(record: dict[str, Any] | None, lang: str) -> list[str]:
    if record is None:
        return []
    _, _, root, key = _record_facts(record)
    return [
        "", f"## {t('Decision record').render(lang)}", "", _record_text(record, f"`{root}`").render(lang), "",
        f"    caucus verify summary.json --public-key {key}", "",
        t("The signed checkpoint:").render(lang), "", *("    " + line for line in str(record["checkpoint"]).splitlines()),
    ]  # fmt: skip


def _html_record(record: dict[str, Any] | None, lang: str) -> list[str]:
    if record is None:
        return []
    _, _, root, key = _record_facts(record)
    return [
        f"<section><h2>{ht(t('Decision record'), lang)}</h2>"
        f"<p>{ht(_record_text(record, code(root)), lang)}</p>"
        f"<pre>caucus verify summary.json --public-key {h(key)}</pre>"
        f"<p>{ht(t('The signed checkpoint:'), lang)}</p><pre>{h(str(record['checkpoint']))}</pre></section>"
    ]


# -- statements (an optional part of every format) ------------------------------------------------


def statement_state(st: StatementEntry) -> Text:
    if st.state == "closed":
        return t("closed {date}", date=st.closed_at)
    if st.state == "open":
        return t("open until {date}", date=st.closes_at)
    return t("draft")


def statement_counts(st: StatementEntry) -> Text:
    # the counts are the same in both English forms, as they always said; translators get the plural forms
    parts = [
        tn(
            "{n} organisations on version {version_number} ({listed} listed, {counted} counted only in all)",
            "{n} organisations on version {version_number} ({listed} listed, {counted} counted only in all)",
            st.on_current_version,
            version_number=st.version,
            listed=st.listed,
            counted=st.counted_only,
        )  # fmt: skip
    ]
    if st.on_earlier_versions:
        parts.append(tn("{n} on an earlier version", "{n} on an earlier version", st.on_earlier_versions))
    if st.individuals:
        parts.append(tn("{n} individuals", "{n} individuals", st.individuals))
    return semicolons(parts)


def _label_counts(labels: dict[str, Text], counts: dict[str, int]) -> list[Text]:
    return [t("{label} {count}", label=labels[k], count=n) for k, n in counts.items() if n]


def _breakdown(st: StatementEntry, lang: str) -> Text:
    regions = ", ".join(x.render(lang) for x in _label_counts(REGION_SHORT, st.by_region))
    groups = ", ".join(x.render(lang) for x in _label_counts(STAKEHOLDERS, st.by_stakeholder))
    return t(
        "by region: {regions}; by stakeholder group: {groups}", regions=regions or NONE, groups=groups or NONE
    )


def _statement_version(st: StatementEntry, fingerprint: str) -> Text:
    return t(
        "{state}; version {version_number}, fingerprint {fingerprint}",
        state=statement_state(st), version_number=st.version, fingerprint=fingerprint,
    )  # fmt: skip


def _md_statements(statements: tuple[StatementEntry, ...], lang: str) -> list[str]:
    if not statements:
        return []
    out = ["", f"## {t('Statements').render(lang)}", ""]
    for st in statements:
        number = t("Statement #{number}", number=st.number).render(lang)
        group = " " + t("(from {group})", group=md(st.group_name)).render(lang) if st.group_name else ""
        version = _statement_version(st, f"`{st.fingerprint[:12]}`").render(lang)
        out.append(f"- **{number}** {md(st.title)}{group} — {version}")
        if st.state != "draft":
            out.append(f"  - {statement_counts(st).render(lang)}")
            out.append(f"  - {_breakdown(st, lang).render(lang)}")
    return out


def _html_statements(statements: tuple[StatementEntry, ...], lang: str) -> list[str]:
    if not statements:
        return []
    out = [f"<section><h2>{ht(t('Statements'), lang)}</h2>"]
    for st in statements:
        group = " " + ht(t("(from {group})", group=st.group_name), lang) if st.group_name else ""
        counts = "" if st.state == "draft" else (
            f'<div class="tally">{ht(statement_counts(st), lang)}</div>'
            f'<div class="meta">{ht(_breakdown(st, lang), lang)}</div>'
        )  # fmt: skip
        number = ht(t("Statement #{number}", number=st.number), lang)
        version = ht(_statement_version(st, code(st.fingerprint[:12])), lang)
        out.append(f'<div class="item {"consensus" if st.state == "closed" else "open"}"><div><span class="num">'
                   f'{number}</span> {hv(st.title, lang)}{group}</div><div class="meta">{version}</div>{counts}</div>')  # fmt: skip
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


def _html_point(p: Point, lang: str) -> str:
    parts = [
        f'<div class="item {p.status}"><div><span class="num">#{p.number}</span> {hv(p.text, lang)}</div>'
    ]
    meta = [ht(STATUS_NAMES[p.status], lang)]
    if p.decided_by:
        meta.append(ht(t("called by {member} on {date}", member=p.decided_by, date=p.decided_at or ""), lang))
    if p.revision > 1:
        meta.append(ht(t("revision {revision_number}", revision_number=p.revision), lang))
    parts.append(
        f'<div class="meta">{"; ".join(meta)}</div><div class="tally">{h(tally_text(p, lang))}</div>'
    )
    if p.outcome_note:
        parts.append(f'<div class="meta">{ht(t("Note: {note}", note=p.outcome_note), lang)}</div>')
    counted = _counted_line(p)
    if counted:
        parts.append(f'<div class="meta">{ht(counted, lang)}</div>')
    rows = []
    for org in p.organisation_positions:
        name, said = _org_position_text(org)
        reason = f": {hv(org.reason, lang)}" if org.reason else ""
        rows.append(f"<li><strong>{hv(name, lang)}</strong>: {ht(said, lang)}{reason}</li>")
    for o in p.objections:
        who = ", ".join(x for x in (o.organisation, o.by) if x)
        note = f" — {hv(o.note, lang)}" if o.note else ""
        rows.append(f"<li>{ht(_objection(o.stance, who, o.revision, o.state, o.reason), lang)}{note}</li>")
    stances: dict[str, str] = {}  # a point has hundreds of positions and four stances: each said once
    for pos in p.positions:
        reason = f": {hv(pos.reason, lang)}" if pos.reason else ""
        if pos.stance not in stances:
            stances[pos.stance] = ht(_stance(pos.stance), lang)
        rows.append(f"<li>{hv(pos.by, lang)}: {stances[pos.stance]}{reason}</li>")
    if rows:
        parts.append("<ul>" + "".join(rows) + "</ul>")
    parts.append(_html_breakdown(p.breakdown, lang))
    return "".join(parts) + "</div>"


def _html_label(label: Text | str, lang: str) -> str:
    """A label of ours in the language, or a value (a poll's option) as it was typed."""
    return ht(label, lang) if isinstance(label, Text) else hv(label, lang)


def _html_breakdown(b: Breakdown | None, lang: str) -> str:
    if b is None:
        return ""
    silent = any(x.not_responded for x in b.by_region)
    head = "".join(f"<th>{_html_label(_choice_label(b, n), lang)}</th>" for n in range(len(b.labels))) + (
        f"<th>{ht(t('not responded'), lang)}</th>" if silent else ""
    )

    def rows(lines: tuple[Line, ...]) -> str:
        return "".join(
            f"<tr><td>{_html_label(_line_label(x), lang)}</td>" + "".join(f"<td>{c}</td>" for c in x.counts)
            + (f"<td>{x.not_responded or 0}</td>" if silent else "") + "</tr>"
            for x in lines
        )  # fmt: skip

    unit = ht(t("By region and stakeholder group ({unit})", unit=_split_unit(b)), lang)
    return (f'<div class="meta">{unit}</div><table class="split">'
            f"<tr><th>{ht(t('Region'), lang)}</th>{head}</tr>{rows(b.by_region)}"
            f"<tr><th>{ht(t('Stakeholder group'), lang)}</th>{head}</tr>"
            f"{rows(b.by_stakeholder)}</table>")  # fmt: skip


def _html_poll(poll: PollResult, lang: str) -> str:
    title = ht(t("Poll #{number}", number=poll.number), lang)
    head = f'<div class="item open"><div><span class="num">{title}</span> {hv(poll.question, lang)}</div>'
    head += f'<div class="meta">{ht(_poll_details(poll, poll.closes_at), lang)}</div>'

    top = max([o.votes or 0 for o in poll.options] + [1])
    rows = "".join(
        f"<tr><td>{hv(o.label, lang)}</td><td>{o.votes}</td><td><span class=\"bar\" style=\"width:{int(100 * (o.votes or 0) / top)}%\">"
        f"</span></td>" + (f"<td>{hv(', '.join(o.voters), lang)}</td>" if o.voters is not None else "") + "</tr>"
        for o in poll.options
    )  # fmt: skip
    cast = "".join(
        f"<li><strong>{hv(b.organisation, lang)}</strong>: {hv(', '.join(b.choices), lang)}</li>"
        for b in poll.organisation_ballots or ()
    )
    return (
        head
        + f"<table>{rows}</table>"
        + (f"<ul>{cast}</ul>" if cast else "")
        + _html_breakdown(poll.breakdown, lang)
        + "</div>"
    )


def _headers(labels: Sequence[Text], lang: str) -> str:
    return "".join(f"<th>{ht(label, lang)}</th>" for label in labels)


def render_html(s: Summary, lang: str = "en") -> str:
    """One self-contained, printable HTML page in ``lang`` (no scripts, no external resources)."""
    out = page_head(t("Summary of {server}", server=s.server_name), _CSS, lang)
    out += [f'<p class="meta">{ht(line, lang)}</p>' for line in _heading_lines(s, s.group_filter)]
    for sec in s.sections:
        out.append(f"<section><h2>{ht(_section_title(sec), lang)}</h2>")
        if sec.description:
            out.append(f"<p>{hv(sec.description, lang)}</p>")
        if sec.empty:
            out.append(f'<p class="meta">{ht(t("Nothing recorded yet."), lang)}</p>')
        for status, heading in POINT_HEADINGS.items():
            points = [p for p in sec.points if p.status == status]
            if points:
                out.append(f"<h3>{ht(heading, lang)}</h3>" + "".join(_html_point(p, lang) for p in points))
        if sec.questions:
            out.append(f"<h3>{ht(t('Questions'), lang)}</h3>")
            for q in sec.questions:
                answer = f": {hv(q.answer, lang)}" if q.answer else ""
                note = f" ({hv(q.note, lang)})" if q.note else ""
                out.append(f'<div class="item {"consensus" if q.status == "answered" else "open"}"><span class="num">'
                           f"#{q.number}</span> {hv(q.text, lang)}<div class=\"meta\">{ht(STATUS_NAMES[q.status], lang)}"
                           f"{answer}{note}</div></div>")  # fmt: skip
        if sec.polls:
            out.append(f"<h3>{ht(t('Polls'), lang)}</h3>" + "".join(_html_poll(p, lang) for p in sec.polls))
        if sec.sessions:
            rows = "".join(
                f"<tr><td>{hv(x.start or '', lang)}–{hv((x.end or '')[11:], lang)} ({hv(x.zone, lang)})"
                f"{' · ' + ht(repeats_words(x.repeats), lang) if x.repeats else ''}</td><td>{hv(x.title, lang)}</td>"
                f"<td>{hv(x.moderators, lang)}</td><td>{hv(x.location, lang)}</td></tr>"
                for x in sec.sessions
            )  # fmt: skip
            heads = _headers((t("When"), t("Session"), t("Moderators"), t("Where")), lang)
            out.append(f"<h3>{ht(t('Sessions'), lang)}</h3><table><tr>{heads}</tr>{rows}</table>")
        out.append("</section>")
    if s.organisations:
        rows = "".join(
            f"<tr><td>{hv(o.name, lang)}</td><td>{hv(o.acronym, lang)}</td><td>{hv(o.country, lang)}</td>"
            f"<td>{ht(REGIONS[o.region], lang)}</td><td>{ht(STAKEHOLDERS[o.stakeholder], lang)}</td>"
            f"<td>{ht(STATES[o.state], lang)}</td></tr>"
            for o in s.organisations
        )  # fmt: skip
        heads = _headers(
            (t("Name"), t("Acronym"), t("Country"), t("Region"), t("Stakeholder group"), t("State")), lang
        )
        out.append(f"<section><h2>{ht(t('Member organisations'), lang)}</h2><table><tr>{heads}</tr>{rows}"
                   "</table></section>")  # fmt: skip
    out += _html_statements(s.statements, lang)
    out += _html_record(s.record, lang)
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


def render(s: Summary, fmt: str, lang: str = "en") -> list[tuple[str, bytes]]:
    """The files of an export: (suffix, bytes); CSV gives a second file of positions when names are included.
    Markdown and HTML are in ``lang``; CSV and JSON are data, the same in every language."""
    if fmt == "md":
        return [(".md", render_markdown(s, lang).encode("utf-8"))]
    if fmt == "html":
        return [(".html", render_html(s, lang).encode("utf-8"))]
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
