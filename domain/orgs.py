"""Member organisations: registration and verification, representatives and each organisation's voice,
CSV imports, and what counting per organisation asks of them.

A member represents at most one organisation at a time (and has at most one open request). The first
approved representative becomes the voice; when the voice stops representing, the voice passes to the
longest-serving remaining representative. An organisation that leaves keeps its record but is no longer
counted and takes no new representatives.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import pycountry

from domain import record
from domain.clock import Clock, to_unix
from domain.errors import Closed, Conflict, Invalid, NotAllowed, NotFound, TooLong
from domain.groups import Target
from domain.i18n import Text, joined, t, tn
from domain.permissions import Actor, Policy
from domain.text import strip_controls
from storage import orgs as org_rows
from storage import servers as server_rows
from storage.db import Connection, Database
from storage.orgs import OrgListRow, RepRow, VoiceRow
from storage.orgs import OrgRow as Org

__all__ = [
    "Org", "OrgCard", "OrgListRow", "Organisations", "RepRow", "Representation", "REGIONS", "STAKEHOLDERS",
    "STATES", "ImportLine", "ImportPreview", "parse_country", "parse_region", "parse_stakeholder",
    "country_name", "parse_org_csv",
]  # fmt: skip

NAME_MAX = 120
ACRONYM_MAX = 20
WEBSITE_MAX = 200
IMPORT_MAX_BYTES = 1_000_000
IMPORT_MAX_ROWS = 2000
ID_FORM = re.compile(r"#(\d{1,18})")
CLEAR = "-"  # given for an optional text in /org edit: remove it

# Labels shown to members, rendered in the reader's language; ``.msgid`` is the English label (what
# exports write, and one of the names a CSV import accepts).
REGIONS: dict[str, Text] = {
    "african": t("African"),
    "asia_pacific": t("Asia-Pacific"),
    "eastern_european": t("Eastern European"),
    "grulac": t("Latin American and Caribbean (GRULAC)"),
    "weog": t("Western European and Others (WEOG)"),
}
REGION_SHORT: dict[str, Text] = {**REGIONS, "grulac": t("GRULAC"), "weog": t("WEOG")}
STAKEHOLDERS: dict[str, Text] = {
    "civil_society": t("Civil society"),
    "academia": t("Academia"),
    "technical": t("Technical community"),
    "private_sector": t("Private sector"),
    "government": t("Government"),
    "intergovernmental": t("Intergovernmental"),
}
STATES: dict[str, Text] = {"pending": t("pending"), "verified": t("verified"), "left": t("left")}
#: The details /org edit changes, as its answer names them.
FIELDS: dict[str, Text] = {
    "name": t("name"), "acronym": t("acronym"), "country": t("country"), "region": t("region"),
    "stakeholder": t("stakeholder group"), "website": t("website"),
}  # fmt: skip


def _norm(text: str) -> str:
    """Text compared for leniency: any case, accents, punctuation and spacing."""
    folded = unicodedata.normalize("NFKD", strip_controls(text).casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).replace("&", " and ")
    return " ".join(re.sub(r"[^\w]+|_", " ", folded).split())


_REGION_ALIASES: dict[str, str] = {
    _norm(alias): key
    for key, aliases in {
        "african": ("African", "Africa", "African Group", "African States"),
        "asia_pacific": ("Asia-Pacific", "Asia Pacific", "Asia and the Pacific", "Asia-Pacific Group"),
        "eastern_european": ("Eastern European", "Eastern Europe", "Eastern European Group"),
        "grulac": ("GRULAC", "Latin American and Caribbean", "Latin America and the Caribbean",
                   "Latin America and Caribbean", "Latin American and Caribbean Group"),
        "weog": ("WEOG", "Western European and Others", "Western Europe and Others",
                 "Western European and Others Group"),
    }.items()
    for alias in (key, REGIONS[key].msgid, *aliases)
}  # fmt: skip
_STAKEHOLDER_ALIASES: dict[str, str] = {
    _norm(alias): key
    for key, aliases in {
        "civil_society": ("Civil society", "Civil society organisation", "Civil society organization"),
        "academia": ("Academia", "Academic", "Academic community"),
        "technical": ("Technical community", "Technical", "Technical and academic community"),
        "private_sector": ("Private sector", "Business", "Private"),
        "government": ("Government", "Governments"),
        "intergovernmental": ("Intergovernmental", "Intergovernmental organisation",
                              "Intergovernmental organization", "IGO"),
    }.items()
    for alias in (key, STAKEHOLDERS[key].msgid, *aliases)
}  # fmt: skip
#: What an import refusal adds once about the regions or the stakeholder groups it did not know.
HINTS: dict[str, Text] = {
    "region": t("regions are African, Asia-Pacific, Eastern European, GRULAC or WEOG"),
    "stakeholder": t(
        "stakeholder groups are civil society, academia, technical community, private sector, government or "
        "intergovernmental"
    ),
}


# -- reading what members type ------------------------------------------------------------------------


def _clean(text: str) -> str:
    return " ".join(strip_controls(text).split())


def country_name(code: str) -> str:
    """The English name of an ISO 3166-1 alpha-2 code, in its common form where there is one."""
    found = pycountry.countries.get(alpha_2=code)
    if found is None:
        return code
    return str(getattr(found, "common_name", None) or found.name)


def _country_names(country: object) -> list[str]:
    return [str(getattr(country, a)) for a in ("name", "official_name", "common_name") if hasattr(country, a)]


@functools.cache
def _countries() -> tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...]:
    """(alpha-2, display name, folded codes, folded names) of every country, built once."""
    return tuple(
        (str(c.alpha_2), country_name(str(c.alpha_2)), (str(c.alpha_2).casefold(), str(c.alpha_3).casefold()),
         tuple(_norm(n) for n in _country_names(c)))
        for c in pycountry.countries
    )  # fmt: skip


@functools.cache
def _by_folded_name() -> dict[str, str]:
    return {name: code for code, _, _, names in _countries() for name in names}


def _find_country(text: str) -> str | None:
    """The alpha-2 code of a code (alpha-2, alpha-3, numeric) or English name, in any case and accents."""
    cleaned = _clean(text)
    if not cleaned:
        return None
    try:
        return str(pycountry.countries.lookup(cleaned).alpha_2)
    except LookupError:
        return _by_folded_name().get(_norm(cleaned))


def suggest_countries(text: str, limit: int = 25) -> list[tuple[str, str]]:
    """(code, name) of countries whose code or name contains what was typed, exact codes and prefixes first."""
    wanted = _norm(text)
    found: list[tuple[int, str, str]] = []
    for code, name, codes, names in _countries():
        if not wanted or wanted in codes:
            rank = 0 if wanted else 2
        elif any(n.startswith(wanted) for n in names):
            rank = 1
        elif any(wanted in n for n in names):
            rank = 2
        else:
            continue
        found.append((rank, name, code))
    found.sort()
    return [(code, name) for _, name, code in found[:limit]]


def parse_country(text: str) -> str:
    """The ISO 3166-1 alpha-2 code of a country given by code (FR, FRA) or English name, in any case."""
    code = _find_country(text)
    if code is not None:
        return code
    cleaned = _clean(text)
    if not cleaned:
        raise Invalid(t("Give the organisation's country: an ISO 3166 code (FR or FRA) or its English name."))
    hints = suggest_countries(cleaned, 3) if len(_norm(cleaned)) >= 4 else []
    if hints:
        raise Invalid(
            t(
                "“{given}” is not a country I know: give an ISO 3166 code (FR or FRA) or the English name "
                "(France). Did you mean {countries}?",
                given=cleaned[:60], countries=joined([f"{n} ({c})" for c, n in hints], style="or"),
            )
        )  # fmt: skip
    raise Invalid(
        t(
            "“{given}” is not a country I know: give an ISO 3166 code (FR or FRA) or the English name "
            "(France).",
            given=cleaned[:60],
        )
    )


def parse_region(text: str) -> str:
    """The key of one of the five UN regional groups, given by key, name or short form, in any case."""
    key = _REGION_ALIASES.get(_norm(text))
    if key is None:
        raise Invalid(
            t(
                "“{given}” is not a UN regional group: regions are African, Asia-Pacific, Eastern European, "
                "GRULAC or WEOG.",
                given=_clean(text)[:60],
            )
        )
    return key


def parse_stakeholder(text: str) -> str:
    """The key of a stakeholder group, given by key or name, in any case."""
    key = _STAKEHOLDER_ALIASES.get(_norm(text))
    if key is None:
        raise Invalid(
            t(
                "“{given}” is not a stakeholder group: stakeholder groups are civil society, academia, technical "
                "community, private sector, government or intergovernmental.",
                given=_clean(text)[:60],
            )
        )
    return key


def clean_name(name: str) -> str:
    """An organisation's name, spaces tidied; raises Invalid or TooLong."""
    cleaned = _clean(name)
    if not cleaned:
        raise Invalid(t("Give the organisation a name."))
    if len(cleaned) > NAME_MAX:
        raise TooLong(
            t(
                "An organisation's name can be at most {limit} characters; this one has {count}.",
                limit=NAME_MAX, count=len(cleaned),
            )
        )  # fmt: skip
    if ID_FORM.fullmatch(cleaned):
        raise Invalid(
            t("An organisation's name can't be # followed by digits: that is how the bot writes ids.")
        )
    if record.looks_like_a_person(cleaned):
        raise Invalid(
            t("An organisation's name can't be a long number or a mention: the decision record names "
              "organisations, never people.")
        )  # fmt: skip
    return cleaned


def clean_acronym(text: str) -> str:
    """An acronym (may be empty), spaces tidied; raises TooLong."""
    cleaned = _clean(text)
    if len(cleaned) > ACRONYM_MAX:
        raise TooLong(
            t(
                "An acronym can be at most {limit} characters; this one has {count}.",
                limit=ACRONYM_MAX, count=len(cleaned),
            )
        )  # fmt: skip
    return cleaned


def clean_website(text: str) -> str:
    """An http(s) address (https:// added when no scheme is given), or empty; raises Invalid or TooLong."""
    cleaned = strip_controls(text).strip()
    if not cleaned:
        return ""
    url = cleaned if "://" in cleaned else "https://" + cleaned
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        host, parts = "", None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or "." not in host
        or any(c.isspace() for c in url)
    ):
        raise Invalid(t("“{given}” is not a website address like https://example.org.", given=cleaned[:60]))
    if len(url) > WEBSITE_MAX:
        raise TooLong(
            t(
                "A website address can be at most {limit} characters; this one has {count}.",
                limit=WEBSITE_MAX, count=len(url),
            )
        )  # fmt: skip
    return url


# -- CSV import ---------------------------------------------------------------------------------------

_COLUMNS = {
    "name": "name", "acronym": "acronym", "country": "country", "region": "region", "stakeholder": "stakeholder",
    "stakeholder group": "stakeholder", "website": "website",
}  # fmt: skip
_REQUIRED = ("name", "country", "region", "stakeholder")


@dataclass(frozen=True)
class ImportLine:
    """One organisation read from an import file, checked."""

    line: int
    name: str
    acronym: str
    country: str
    region: str
    stakeholder: str
    website: str


@dataclass(frozen=True)
class ImportPreview:
    """A checked import waiting for its Confirm button."""

    import_id: int
    lines: tuple[ImportLine, ...]
    ignored_columns: tuple[str, ...] = ()

    def by_region(self) -> dict[str, int]:
        """How many organisations per region, in the fixed order of the regions."""
        counts = Counter(line.region for line in self.lines)
        return {key: counts[key] for key in REGIONS}

    def by_stakeholder(self) -> dict[str, int]:
        """How many organisations per stakeholder group, in the fixed order of the groups."""
        counts = Counter(line.stakeholder for line in self.lines)
        return {key: counts[key] for key in STAKEHOLDERS}


def _header_key(cell: str) -> str:
    return " ".join(
        strip_controls(cell).replace("\ufeff", "").casefold().replace("_", " ").replace("-", " ").split()
    )


@dataclass(frozen=True)
class BadLine:
    """One line of an import file and everything wrong with it (each problem its own Text)."""

    line_number: int
    problems: tuple[Text, ...]

    def text(self) -> Text:
        """The line as the refusal names it: "line 4: no name, unknown region “Europe”"."""
        return t(
            "line {line_number}: {problems}",
            line_number=self.line_number,
            problems=_Listed(items=self.problems),
        )


@dataclass(frozen=True)
class _Listed(Text):
    """Texts shown one after another with a separator, in the reader's language (a line's problems are
    not a sentence's list: "a, b, c", never "a, b and c")."""

    msgid: str = ""
    items: tuple[Text, ...] = ()
    sep: str = ", "

    def render(self, lang: str = "en") -> str:
        return self.sep.join(item.render(lang) for item in self.items)


def import_refusal(lines: Sequence[BadLine], hints: Sequence[Text]) -> Text:
    """Nothing was imported: every bad line that fits in one Discord message, then how many more there are,
    and the hints (what the regions and stakeholder groups are), as one sentence."""
    count = len(lines)

    def whole(shown: Text | str) -> Text:
        if hints:
            return tn(
                "Nothing was imported: {n} line has a problem. {lines} ({hints}). Fix the file and import it again.",
                "Nothing was imported: {n} lines have problems. {lines} ({hints}). Fix the file and import it "
                "again.",
                count, lines=shown, hints=_Listed(items=tuple(hints), sep="; "),
            )  # fmt: skip
        return tn(
            "Nothing was imported: {n} line has a problem. {lines}. Fix the file and import it again.",
            "Nothing was imported: {n} lines have problems. {lines}. Fix the file and import it again.",
            count, lines=shown,
        )  # fmt: skip

    return whole(_FittedLines(lines=tuple(lines), around=whole))


@dataclass(frozen=True)
class _FittedLines(Text):
    """The bad lines of an import refusal, as many as fit one Discord message with the sentence ``around``
    them, then "and N more lines": measured in the reader's language, since a translation may be longer."""

    msgid: str = ""
    lines: tuple[BadLine, ...] = ()
    around: Callable[[str], Text] = t

    def render(self, lang: str = "en") -> str:
        budget = 1900 - len(self.around("").render(lang))
        count = len(self.lines)
        shown: list[str] = []
        for i, line in enumerate(self.lines):
            problem = line.text().render(lang)
            rest = count - i - 1
            more = len(tn("and {n} more line", "and {n} more lines", rest).render(lang)) + 2 if rest else 0
            if sum(len(s) + 2 for s in shown) + len(problem) + more > budget:
                shown.append(tn("and {n} more line", "and {n} more lines", count - i).render(lang))
                break
            shown.append(problem)
        return "; ".join(shown)


def _delimiter(first_line: str) -> str:
    best, best_score = ",", -1
    for delimiter in (",", ";", "\t"):
        cells = next(csv.reader([first_line], delimiter=delimiter), [])
        score = sum(1 for c in cells if _header_key(c) in _COLUMNS)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def parse_org_csv(data: bytes, existing: Mapping[str, str]) -> tuple[list[ImportLine], list[str]]:
    """Every organisation of a CSV file, checked all or nothing against each other and ``existing``
    (name keys of this server's organisations); returns them and the columns that were ignored.

    Raises Invalid naming every bad line by its number."""
    physical, start, delimiter = _csv_text(data)
    header, columns, records = _csv_records(physical, start, delimiter)
    _check_header(columns, records)
    ignored = [cell.strip() for cell, c in zip(header, columns, strict=True) if c is None and cell.strip()]
    lines: list[ImportLine] = []
    problems: list[BadLine] = []
    hints: set[str] = set()
    seen: dict[str, int] = {}
    for number, cells in records:
        checked = _import_line(number, cells, header, columns, seen, existing, hints)
        if isinstance(checked, ImportLine):
            lines.append(checked)
        else:
            problems.append(BadLine(number, tuple(checked)))
    if problems:
        raise Invalid(import_refusal(problems, [HINTS[h] for h in HINTS if h in hints]))
    return lines, ignored


def _csv_text(data: bytes) -> tuple[list[str], int, str]:
    """The file's lines, where its header is, and its delimiter (an Excel "sep=" line, or guessed)."""
    if len(data) > IMPORT_MAX_BYTES:
        raise Invalid(t("Nothing was imported: the file is larger than 1 MB."))
    if b"\x00" in data:
        raise Invalid(
            t("Nothing was imported: this is not a text file; save the spreadsheet as “CSV UTF-8”.")
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid(
            t("Nothing was imported: the file is not UTF-8 text; save the spreadsheet as “CSV UTF-8”.")
        ) from None
    physical = text.splitlines()
    start = 0
    delimiter = None
    while start < len(physical) and not physical[start].strip():
        start += 1
    first = physical[start].strip() if start < len(physical) else ""
    if first.casefold().startswith("sep=") and len(first) == 5:
        delimiter = first[4]  # Excel's "sep=;" line
        start += 1
    if start >= len(physical):
        raise Invalid(t("Nothing was imported: the file is empty."))
    return physical, start, delimiter or _delimiter(physical[start])


def _csv_records(
    physical: list[str], start: int, delimiter: str
) -> tuple[list[str], list[str | None], list[tuple[int, list[str]]]]:
    """The header, the column each header cell names (None: ignored), and the non-empty records with
    their line numbers in the file."""
    reader = csv.reader(io.StringIO("\n".join(physical[start:])), delimiter=delimiter)
    try:
        header = next(reader)
        columns = [_COLUMNS.get(_header_key(c)) for c in header]
        records: list[tuple[int, list[str]]] = []
        last = reader.line_num
        for record in reader:
            if any(cell.strip() for cell in record):
                records.append((start + last + 1, record))
            last = reader.line_num
    except csv.Error as exc:
        raise Invalid(
            t(
                "Nothing was imported: line {line_number} cannot be read as CSV ({error}).",
                line_number=start + reader.line_num, error=str(exc),
            )
        ) from None  # fmt: skip
    return header, columns, records


def _check_header(columns: list[str | None], records: list[tuple[int, list[str]]]) -> None:
    """The header names every required column once, and there are organisations, not too many."""
    named = [c for c in columns if c]
    missing = [c for c in _REQUIRED if c not in named]
    if missing:
        wanted = ", ".join("stakeholder group" if c == "stakeholder" else c for c in missing)
        raise Invalid(
            t(
                "Nothing was imported: the first line must be a header naming the columns name, country, region "
                "and stakeholder group (acronym and website are optional); missing: {columns}.",
                columns=wanted,
            )
        )
    repeated = sorted({c for c in named if named.count(c) > 1})
    if repeated:
        raise Invalid(
            t("Nothing was imported: the header names the column {column} twice.", column=repeated[0])
        )
    if not records:
        raise Invalid(t("Nothing was imported: the file has a header but no organisations."))
    if len(records) > IMPORT_MAX_ROWS:
        raise Invalid(
            t(
                "Nothing was imported: at most {limit} organisations at once; this file has {count}.",
                limit=IMPORT_MAX_ROWS, count=len(records),
            )
        )  # fmt: skip


def _import_name(name: str, number: int, seen: dict[str, int], existing: Mapping[str, str]) -> Text | None:
    """What is wrong with a line's name (None: nothing), remembering it for the lines that follow."""
    if not name:
        return t("no name")
    if len(name) > NAME_MAX:
        return t("the name is longer than {limit} characters", limit=NAME_MAX)
    if ID_FORM.fullmatch(name):
        return t("a name can't be # followed by digits")
    if record.looks_like_a_person(name):
        return t("a name can't be a long number or a mention")
    key = org_rows.name_key(name)
    if key in seen:
        return t(
            "“{name}” repeats line {line_number} (names ignore letter case)",
            name=name[:60],
            line_number=seen[key],
        )
    if key in existing:
        return t("an organisation named “{name}” already exists on this server", name=existing[key][:60])
    seen[key] = number
    return None


def _import_line(
    number: int,
    record: list[str],
    header: list[str],
    columns: list[str | None],
    seen: dict[str, int],
    existing: Mapping[str, str],
    hints: set[str],
) -> ImportLine | list[Text]:
    """One line as an organisation, or everything wrong with it (adding the hints to show once: keys of
    HINTS)."""
    values = {c: record[i] if i < len(record) else "" for i, c in enumerate(columns) if c}
    wrong: list[Text] = []
    if len(record) > len(header) and any(cell.strip() for cell in record[len(header) :]):
        wrong.append(t("more cells than the header has columns (a name with a comma needs quotes)"))
    name = _clean(values["name"])
    if (problem := _import_name(name, number, seen, existing)) is not None:
        wrong.append(problem)
    acronym = _clean(values.get("acronym", ""))
    if len(acronym) > ACRONYM_MAX:
        wrong.append(t("the acronym is longer than {limit} characters", limit=ACRONYM_MAX))
    country = _find_country(values["country"])
    if country is None:
        given = _clean(values["country"])
        wrong.append(t("unknown country “{given}”", given=given[:40]) if given else t("no country"))
    region = _REGION_ALIASES.get(_norm(values["region"]))
    if region is None:
        given = _clean(values["region"])
        wrong.append(t("unknown region “{given}”", given=given[:40]) if given else t("no region"))
        hints.add("region")
    stakeholder = _STAKEHOLDER_ALIASES.get(_norm(values["stakeholder"]))
    if stakeholder is None:
        given = _clean(values["stakeholder"])
        wrong.append(
            t("unknown stakeholder group “{given}”", given=given[:40]) if given else t("no stakeholder group")
        )
        hints.add("stakeholder")
    website = ""
    try:
        website = clean_website(values.get("website", ""))
    except Invalid:
        wrong.append(
            t("the website “{given}” is not an http(s) address", given=_clean(values.get("website", ""))[:40])
        )
    if wrong or country is None or region is None or stakeholder is None:
        return wrong
    return ImportLine(number, name, acronym, country, region, stakeholder, website)


# -- who may decide for an organisation: its voice or a coordinator, each refusal one sentence ------------


def _cannot_approve(org: str) -> Text:
    return t("Only the voice of {org} or a coordinator can approve requests to represent it.", org=org)


def _cannot_decline(org: str) -> Text:
    return t("Only the voice of {org} or a coordinator can decline requests to represent it.", org=org)


def _cannot_remove(org: str) -> Text:
    return t("Only the voice of {org} or a coordinator can remove its representatives.", org=org)


def _cannot_hand(org: str) -> Text:
    return t(
        "Only the voice of {org} or a coordinator can hand its voice to another representative.", org=org
    )


def _cannot_edit(org: str) -> Text:
    return t("Only the voice of {org} or a coordinator can edit it.", org=org)


def _cannot_leave(org: str) -> Text:
    return t("Only the voice of {org} or a coordinator can say it leaves the coalition.", org=org)


# -- results of the use cases ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgCard:
    """An organisation with its current representatives (longest-serving first), its voice and its
    pending requests. ``requests_visible``: the viewer may see who asked (coordinators, the voice).
    Counting per organisation adds the organisation's positions on open points to the card."""

    org: Org
    representatives: tuple[RepRow, ...]
    voice: VoiceRow | None
    requests: tuple[RepRow, ...]
    requests_visible: bool = False


@dataclass(frozen=True)
class Representation:
    """Whom a member represents, and whether they are its voice."""

    org: Org
    is_voice: bool
    rep_id: int
    since: int


@dataclass(frozen=True)
class Registration:
    org: Org
    requested: bool  # the registrant's request to represent it was recorded
    already: Org | None = None  # else: the organisation they already represent or asked to


@dataclass(frozen=True)
class Verification:
    org: Org
    readmitted: bool  # it had left and is admitted again
    voice_id: int | None  # the registrant, approved with the verification (the voice)
    own_request_pending: bool  # the verifier registered it: their own request waits for someone else


@dataclass(frozen=True)
class JoinRequest:
    org: Org
    rep: RepRow
    voice_id: int | None  # who is asked to approve (besides coordinators)


@dataclass(frozen=True)
class Decision:
    org: Org
    rep: RepRow  # the request as it was
    approved: bool
    became_voice: bool = False


@dataclass(frozen=True)
class Removal:
    org: Org
    user_id: int
    was_request: bool
    was_voice: bool
    new_voice_id: int | None  # who the voice passed to (None: nobody, or it did not change)


@dataclass(frozen=True)
class Departure:
    org: Org
    ended: tuple[int, ...]  # representatives whose representation ended
    declined: int  # pending requests declined


@dataclass(frozen=True)
class Handover:
    org: Org
    previous_id: int | None
    voice_id: int


@dataclass(frozen=True)
class Edited:
    org: Org
    changed: tuple[str, ...] = field(default=())


class Organisations:
    """Use cases for organisations, every one checked on the server side on the object resolved."""

    def __init__(self, db: Database, clock: Clock, policy: Policy) -> None:
        self.db = db
        self.clock = clock
        self.policy = policy

    # -- reading -------------------------------------------------------------------------------------

    async def resolve(self, guild_id: int, ref: str) -> Org:
        """An organisation of this server: ``#12`` (what autocomplete inserts) by id, anything else by name."""
        text = _clean(ref)
        if not text:
            raise Invalid(t("Name an organisation (autocomplete helps)."))
        match = ID_FORM.fullmatch(text)
        if match:
            org = await org_rows.get_org(self.db, guild_id, int(match.group(1)))
        else:
            org = await org_rows.find_org_by_name(self.db, guild_id, text)
        if org is None:
            raise NotFound(
                t("There is no organisation “{given}” on this server; see /org list.", given=text[:NAME_MAX])
            )
        return org

    async def card(self, org: Org, viewer: Actor | None = None) -> OrgCard:
        """The organisation's card; pending requests by name only for coordinators and its voice."""
        reps = await org_rows.reps_of(self.db, org.org_id, ("active",))
        voice = await org_rows.current_voice(self.db, org.org_id)
        requests = await org_rows.reps_of(self.db, org.org_id, ("requested",))
        visible = viewer is not None and (
            self.policy.is_coordinator(viewer) or (voice is not None and voice.user_id == viewer.user_id)
        )
        return OrgCard(org, tuple(reps), voice, tuple(requests), visible)

    async def list_orgs(
        self,
        guild_id: int,
        *,
        region: str | None = None,
        stakeholder: str | None = None,
        state: str | None = None,
    ) -> list[OrgListRow]:
        """The server's organisations by name, filtered by region, stakeholder group and state (any given)."""
        if state is not None and state not in STATES:
            raise Invalid(t("The state is pending, verified or left."))
        return await org_rows.list_orgs(
            self.db, guild_id, state=state,
            region=parse_region(region) if region else None,
            stakeholder=parse_stakeholder(stakeholder) if stakeholder else None,
        )  # fmt: skip

    async def suggest(self, guild_id: int, text: str, *, include_left: bool = True) -> list[Org]:
        """Up to 25 of this server's organisations whose name or acronym contains what was typed."""
        return await org_rows.search_orgs(
            self.db, guild_id, _clean(text)[:NAME_MAX], include_left=include_left
        )

    async def request_by_id(self, rep_id: int) -> tuple[Org, RepRow]:
        """A request and its organisation, whichever server it is in (for a button in a direct message)."""
        rep = await org_rows.get_rep(self.db, rep_id)
        org = None if rep is None else await db_org(self.db, rep.org_id)
        if rep is None or org is None:
            raise NotFound(t("That request no longer exists."))
        return org, rep

    # -- for counting per organisation -----------------------------------------------------------

    async def representation_of(
        self, guild_id: int, user_id: int, at: datetime | None = None
    ) -> Representation | None:
        """Whom the member represents now (or at ``at``), and whether they are its voice; one indexed query."""
        row = await org_rows.representation(self.db, guild_id, user_id, None if at is None else to_unix(at))
        return (
            None if row is None else Representation(row.org(), row.is_voice, row.rep_id, row.rep_started_at)
        )

    async def voices(self, guild_id: int) -> dict[int, int]:
        """The current voice (user id) of each verified organisation that has one, by organisation id."""
        return await org_rows.voices(self.db, guild_id)

    async def counted_orgs(self, guild_id: int) -> list[Org]:
        """The organisations that count (verified, not left), with their region and stakeholder group."""
        return await org_rows.counted_orgs(self.db, guild_id)

    # -- rules ------------------------------------------------------------------------------------

    async def _is_voice(self, conn: Connection, org: Org, user_id: int) -> bool:
        voice = await org_rows.current_voice(conn, org.org_id)
        return voice is not None and voice.user_id == user_id

    async def _fresh(self, conn: Connection, actor: Actor, org: Org) -> Org:
        """The organisation as it is now, only if it is in the actor's server."""
        fresh = await org_rows.get_org(conn, actor.guild_id, org.org_id)
        if fresh is None:
            raise NotFound(t("That organisation no longer exists on this server."))
        return fresh

    async def _record_names(self, conn: Connection, guild_id: int, *people: tuple[int, str]) -> None:
        now = to_unix(self.clock.now())
        await server_rows.ensure_guild(conn, guild_id, now)
        await server_rows.upsert_members(conn, guild_id, set(people), now)

    # -- changing -----------------------------------------------------------------------------------

    async def register(
        self, actor: Actor, name: str, *, country: str, region: str, stakeholder: str, acronym: str = "",
        website: str = "",
    ) -> Registration:  # fmt: skip
        """A member proposes an organisation (pending until a coordinator verifies it) and asks to represent it."""
        now = to_unix(self.clock.now())
        values: dict[str, str | int] = {
            "guild_id": actor.guild_id, "name": clean_name(name), "acronym": clean_acronym(acronym),
            "country": parse_country(country), "region": parse_region(region),
            "stakeholder": parse_stakeholder(stakeholder), "website": clean_website(website),
            "created_by": actor.user_id, "created_at": now,
        }  # fmt: skip
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            await self._record_names(conn, actor.guild_id, (actor.user_id, actor.display_name))
            org_id = await org_rows.insert_org(conn, values)
            if org_id is None:
                raise Conflict(
                    t(
                        "An organisation named “{name}” already exists on this server (names ignore letter case); "
                        "see /org info.",
                        name=values["name"],
                    )
                )
            org = await org_rows.get_org(conn, actor.guild_id, org_id)
            assert org is not None
            mine = await org_rows.open_rep_of(conn, actor.guild_id, actor.user_id)
            if mine is not None:
                return Registration(org, False, await db_org(conn, mine.org_id))
            await org_rows.insert_request(conn, org_id, actor.guild_id, actor.user_id, now)
        return Registration(org, True)

    async def verify(self, actor: Actor, org: Org) -> Verification:
        """A coordinator verifies an organisation (or admits one that left again); the registrant's
        pending request is approved with it, so they become its voice — unless the registrant is the verifier."""
        if not self.policy.is_coordinator(actor):
            raise NotAllowed(t("Only coordinators can verify organisations."))
        now = to_unix(self.clock.now())
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            fresh = await self._fresh(conn, actor, org)
            if fresh.state == "verified":
                raise Conflict(t("{org} is already verified.", org=fresh.name))
            readmitted = fresh.state == "left"
            await self._record_names(conn, actor.guild_id, (actor.user_id, actor.display_name))
            await org_rows.mark_verified(conn, fresh.org_id, actor.user_id, now)
            await _record_verified(conn, fresh, self.clock)
            voice_id, own = None, False
            pending = [
                r
                for r in await org_rows.reps_of(conn, fresh.org_id, ("requested",))
                if r.user_id == fresh.created_by
            ]
            if pending and not readmitted:
                if fresh.created_by == actor.user_id:
                    own = True
                else:
                    await org_rows.approve_request(conn, pending[0].rep_id, actor.user_id, now)
                    if await org_rows.current_voice(conn, fresh.org_id) is None:
                        await org_rows.set_voice(conn, fresh.org_id, pending[0].rep_id, now)
                        voice_id = fresh.created_by
            verified = await self._fresh(conn, actor, fresh)
        return Verification(verified, readmitted, voice_id, own)

    async def join(self, actor: Actor, org: Org) -> JoinRequest:
        """The actor asks to represent an organisation (one at a time); its voice or a coordinator approves."""
        now = to_unix(self.clock.now())
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            fresh = await self._fresh(conn, actor, org)
            if fresh.state == "left":
                raise Closed(
                    t("{org} has left the coalition and takes no new representatives.", org=fresh.name)
                )
            mine = await org_rows.open_rep_of(conn, actor.guild_id, actor.user_id)
            if mine is not None:
                raise Conflict(await self._already(conn, mine, fresh))
            await self._record_names(conn, actor.guild_id, (actor.user_id, actor.display_name))
            rep_id = await org_rows.insert_request(conn, fresh.org_id, fresh.guild_id, actor.user_id, now)
            if rep_id is None:  # the unique index caught what the check above missed
                raise Conflict(t("You already represent an organisation or asked to: one at a time."))
            rep = await org_rows.get_rep(conn, rep_id)
            voice = await org_rows.current_voice(conn, fresh.org_id)
        assert rep is not None
        return JoinRequest(fresh, rep, voice.user_id if voice else None)

    async def _already(self, conn: Connection, mine: RepRow, wanted: Org) -> Text:
        other = await db_org(conn, mine.org_id)
        name: str | Text = other.name if other else t("an organisation")
        if mine.org_id == wanted.org_id:
            if mine.state == "active":
                return t("You already represent {org}.", org=name)
            return t(
                "You already asked to represent {org}; its voice or a coordinator will approve it.", org=name
            )
        if mine.state == "active":
            return t(
                "You represent {org}: a member represents one organisation at a time. Stop first with "
                "/org remove (organisation {org}, member you).",
                org=name,
            )
        return t(
            "You already asked to represent {org}: one request at a time. Withdraw it first with /org remove "
            "(organisation {org}, member you).",
            org=name,
        )

    async def decide_request(self, actor: Actor, rep_id: int, *, approve: bool) -> Decision:
        """Approve or decline a pending request by its id (a button): the organisation's voice or a
        coordinator, never the member who asked; the request must belong to the actor's server."""
        now = to_unix(self.clock.now())
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            rep = await org_rows.get_rep(conn, rep_id)
            org = await org_rows.get_org(conn, actor.guild_id, rep.org_id) if rep else None
            if rep is None or org is None:
                raise NotFound(t("That request does not exist on this server."))
            return await self._decide(conn, actor, org, rep, approve=approve, now=now)

    async def approve(self, actor: Actor, org: Org, target: Target) -> Decision:
        """Approve the member's pending request to represent the organisation (its voice or a coordinator)."""
        now = to_unix(self.clock.now())
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            fresh = await self._fresh(conn, actor, org)
            await self._record_names(conn, actor.guild_id, (actor.user_id, actor.display_name),
                                     (target.user_id, target.display_name))  # fmt: skip
            pending = [
                r
                for r in await org_rows.reps_of(conn, fresh.org_id, ("requested",))
                if r.user_id == target.user_id
            ]
            if not pending:
                await self._require_decider(conn, actor, fresh, _cannot_approve)
                mine = await org_rows.open_rep_of(conn, actor.guild_id, target.user_id)
                you = target.user_id == actor.user_id
                if mine is not None and mine.org_id == fresh.org_id:
                    raise Conflict(
                        t("You already represent {org}.", org=fresh.name) if you
                        else t("{member} already represents {org}.", member=target.display_name, org=fresh.name)
                    )  # fmt: skip
                raise NotFound(
                    t("You have not asked to represent {org} (members ask with /org join).", org=fresh.name) if you
                    else t("{member} has not asked to represent {org} (members ask with /org join).",
                           member=target.display_name, org=fresh.name)
                )  # fmt: skip
            return await self._decide(conn, actor, fresh, pending[0], approve=True, now=now)

    def _self_approval(self, actor: Actor, org: Org) -> Text:
        if self.policy.is_coordinator(actor):
            return t(
                "You can't approve your own request to represent {org}: its voice or another coordinator must.",
                org=org.name,
            )
        return t(
            "You can't approve your own request to represent {org}: its voice or a coordinator must.",
            org=org.name,
        )

    async def _require_decider(
        self, conn: Connection, actor: Actor, org: Org, refusal: Callable[[str], Text]
    ) -> None:
        """The actor is the organisation's voice or a coordinator; else ``refusal(org name)`` is raised."""
        if not (self.policy.is_coordinator(actor) or await self._is_voice(conn, org, actor.user_id)):
            raise NotAllowed(refusal(org.name))

    async def _decide(
        self, conn: Connection, actor: Actor, org: Org, rep: RepRow, *, approve: bool, now: int
    ) -> Decision:
        if approve and rep.user_id == actor.user_id:
            raise NotAllowed(self._self_approval(actor, org))
        if not approve and rep.user_id == actor.user_id:
            # declining your own request is withdrawing it
            if rep.state != "requested" or not await org_rows.close_request(
                conn, rep.rep_id, "withdrawn", actor.user_id, now
            ):
                raise Conflict(t("That request was already decided or withdrawn."))
            return Decision(org, rep, False)
        await self._require_decider(conn, actor, org, _cannot_approve if approve else _cannot_decline)
        if rep.state != "requested":
            if rep.state == "declined":
                raise Conflict(t("That request to represent {org} was already declined.", org=org.name))
            if rep.state == "withdrawn":
                raise Conflict(t("That request to represent {org} was already withdrawn.", org=org.name))
            raise Conflict(t("That request to represent {org} was already approved.", org=org.name))
        if not approve:
            await org_rows.close_request(conn, rep.rep_id, "declined", actor.user_id, now)
            return Decision(org, rep, False)
        if org.state == "left":
            raise Closed(t("{org} has left the coalition and takes no new representatives.", org=org.name))
        if org.state != "verified":
            raise Invalid(
                t(
                    "{org} is not verified yet: a coordinator verifies it first with /org verify.",
                    org=org.name,
                )
            )
        await org_rows.approve_request(conn, rep.rep_id, actor.user_id, now)
        became_voice = await org_rows.current_voice(conn, org.org_id) is None
        if became_voice:
            await org_rows.set_voice(conn, org.org_id, rep.rep_id, now)
        return Decision(org, rep, True, became_voice)

    async def remove(self, actor: Actor, org: Org, target: Target) -> Removal:
        """End a member's representation of the organisation, or their pending request: a coordinator, its
        voice or the member themselves. If they were the voice, the voice passes on."""
        now = to_unix(self.clock.now())
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            fresh = await self._fresh(conn, actor, org)
            you = target.user_id == actor.user_id
            if not you:
                await self._require_decider(conn, actor, fresh, _cannot_remove)
            mine = await org_rows.open_rep_of(conn, fresh.guild_id, target.user_id)
            if mine is None or mine.org_id != fresh.org_id:
                if you:
                    raise NotFound(t("You do not represent {org} and have not asked to.", org=fresh.name))
                raise NotFound(
                    t(
                        "{member} does not represent {org} and has not asked to.",
                        member=target.display_name, org=fresh.name,
                    )
                )  # fmt: skip
            await self._record_names(conn, actor.guild_id, (actor.user_id, actor.display_name))
            if mine.state == "requested":
                await org_rows.close_request(
                    conn, mine.rep_id, "withdrawn" if you else "declined", actor.user_id, now
                )
                return Removal(fresh, target.user_id, True, False, None)
            new_voice = await org_rows.end_representation(conn, mine, actor.user_id, now)
        return Removal(fresh, target.user_id, False, mine.is_voice, new_voice)

    async def hand_voice(self, actor: Actor, org: Org, target: Target) -> Handover:
        """The current voice or a coordinator hands the organisation's voice to another current representative."""
        now = to_unix(self.clock.now())
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            fresh = await self._fresh(conn, actor, org)
            await self._require_decider(conn, actor, fresh, _cannot_hand)
            if fresh.state != "verified":
                raise Closed(
                    t(
                        "{org} is {state}: it has no representatives to speak for it.",
                        org=fresh.name, state=STATES[fresh.state],
                    )
                )  # fmt: skip
            mine = await org_rows.open_rep_of(conn, fresh.guild_id, target.user_id)
            if mine is None or mine.org_id != fresh.org_id or mine.state != "active":
                raise NotFound(
                    t(
                        "{member} does not represent {org}: only a current representative can be its voice "
                        "(approve their request first).",
                        member=target.display_name, org=fresh.name,
                    )
                )  # fmt: skip
            voice = await org_rows.current_voice(conn, fresh.org_id)
            if voice is not None and voice.rep_id == mine.rep_id:
                raise Conflict(
                    t("{member} is already the voice of {org}.", member=target.display_name, org=fresh.name)
                )
            await org_rows.set_voice(conn, fresh.org_id, mine.rep_id, now)
        return Handover(fresh, voice.user_id if voice else None, target.user_id)

    async def edit(
        self, actor: Actor, org: Org, *, name: str | None = None, acronym: str | None = None,
        country: str | None = None, region: str | None = None, stakeholder: str | None = None,
        website: str | None = None,
    ) -> Edited:  # fmt: skip
        """Change an organisation's details (its voice or a coordinator), with the checks of registration."""
        values: dict[str, str] = {}
        if name is not None:
            values["name"] = clean_name(name)
        if acronym is not None:
            values["acronym"] = "" if acronym.strip() == CLEAR else clean_acronym(acronym)
        if country is not None:
            values["country"] = parse_country(country)
        if region is not None:
            values["region"] = parse_region(region)
        if stakeholder is not None:
            values["stakeholder"] = parse_stakeholder(stakeholder)
        if website is not None:
            values["website"] = "" if website.strip() == CLEAR else clean_website(website)
        if not values:
            raise Invalid(t("Give at least one thing to change."))
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            fresh = await self._fresh(conn, actor, org)
            await self._require_decider(conn, actor, fresh, _cannot_edit)
            if fresh.state == "left":
                raise Closed(t("{org} has left the coalition; its record is kept as it was.", org=fresh.name))
            if "name" in values:
                taken = await org_rows.find_org_by_name(conn, fresh.guild_id, values["name"])
                if taken is not None and taken.org_id != fresh.org_id:
                    raise Conflict(
                        t(
                            "An organisation named “{name}” already exists on this server (names ignore letter case).",
                            name=taken.name,
                        )
                    )
            changed = tuple(k for k, v in values.items() if getattr(fresh, k) != v)
            await org_rows.update_org(conn, fresh.org_id, values)
            edited = await self._fresh(conn, actor, fresh)
        return Edited(edited, changed)

    async def leave(self, actor: Actor, org: Org) -> Departure:
        """The organisation leaves the coalition (its voice or a coordinator): its representations end, its
        requests are declined, its record stays; it no longer counts."""
        now = to_unix(self.clock.now())
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            fresh = await self._fresh(conn, actor, org)
            await self._require_decider(conn, actor, fresh, _cannot_leave)
            if fresh.state == "left":
                raise Conflict(t("{org} has already left the coalition.", org=fresh.name))
            await self._record_names(conn, actor.guild_id, (actor.user_id, actor.display_name))
            ended, declined = await org_rows.end_all(conn, fresh.org_id, actor.user_id, now)
            await org_rows.mark_left(conn, fresh.org_id, actor.user_id, now)
            gone = await self._fresh(conn, actor, fresh)
        return Departure(gone, tuple(ended), declined)

    # -- import -------------------------------------------------------------------------------------

    async def preview_import(self, actor: Actor, data: bytes) -> ImportPreview:
        """Check a CSV of organisations all or nothing and keep it until confirmed; nothing is created yet."""
        if not self.policy.is_coordinator(actor):
            raise NotAllowed(t("Only coordinators can import organisations."))
        lines, ignored = parse_org_csv(data, await org_rows.names_in(self.db, actor.guild_id))
        now = to_unix(self.clock.now())
        payload = json.dumps(
            {"rows": [asdict(line) for line in lines], "ignored": ignored}, ensure_ascii=False
        )
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            await server_rows.ensure_guild(conn, actor.guild_id, now)
            import_id = await org_rows.insert_import(conn, actor.guild_id, actor.user_id, payload, now)
        return ImportPreview(import_id, tuple(lines), tuple(ignored))

    async def confirm_import(self, actor: Actor, import_id: int) -> list[Org]:
        """Create every organisation of a previewed import, verified, in one transaction, or none (a name
        registered since the preview refuses the whole import)."""
        if not self.policy.is_coordinator(actor):
            raise NotAllowed(t("Only coordinators can import organisations."))
        now = to_unix(self.clock.now())
        async with self.db.transaction(guild_id=actor.guild_id) as conn:
            taken = await org_rows.take_import(conn, actor.guild_id, import_id, now)
            if taken is None:
                raise Conflict(t("This import was already confirmed, or does not exist on this server."))
            lines = [ImportLine(**row) for row in json.loads(taken.payload)["rows"]]
            existing = await org_rows.names_in(conn, actor.guild_id)
            clashes = [line for line in lines if org_rows.name_key(line.name) in existing]
            if clashes:
                first = clashes[0]
                if len(clashes) > 1:
                    raise Conflict(
                        tn(
                            "Nothing was imported: “{name}” (line {line_number}) (and {n} more) was registered on "
                            "this server after the preview; take it out of the file and import it again.",
                            "Nothing was imported: “{name}” (line {line_number}) (and {n} more) was registered on "
                            "this server after the preview; take it out of the file and import it again.",
                            len(clashes) - 1, name=first.name, line_number=first.line,
                        )
                    )  # fmt: skip
                raise Conflict(
                    t(
                        "Nothing was imported: “{name}” (line {line_number}) was registered on this server after the "
                        "preview; take it out of the file and import it again.",
                        name=first.name, line_number=first.line,
                    )
                )  # fmt: skip
            await self._record_names(conn, actor.guild_id, (actor.user_id, actor.display_name))
            created: list[Org] = []
            for line in lines:
                values = {
                    **{k: v for k, v in asdict(line).items() if k != "line"}, "guild_id": actor.guild_id,
                    "state": "verified", "created_by": actor.user_id, "created_at": now,
                    "verified_by": actor.user_id, "verified_at": now,
                }  # fmt: skip
                org_id = await org_rows.insert_org(conn, values)
                if org_id is None:
                    raise Conflict(
                        t(
                            "Nothing was imported: “{name}” (line {line_number}) already exists.",
                            name=line.name, line_number=line.line,
                        )
                    )  # fmt: skip
                org = await org_rows.get_org(conn, actor.guild_id, org_id)
                assert org is not None
                await _record_verified(conn, org, self.clock)
                created.append(org)
        return created


async def _record_verified(conn: Connection, org: Org, clock: Clock) -> None:
    """The decision record's entry of a verification, in the verification's own transaction."""
    event = record.organisation_verified(
        organisation=org.name, country=org.country, region=org.region, stakeholder=org.stakeholder
    )
    await org_rows.set_org_record(
        conn, org.org_id, await record.append(conn, org.guild_id, event, clock.now())
    )


async def db_org(db: Database | Connection, org_id: int) -> Org | None:
    """An organisation by id, whichever server it is in (only for rows already tied to a server)."""
    return await org_rows.get_org_any(db, org_id)
