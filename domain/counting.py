"""Counting per organisation, and support broken down by constituency (region and stakeholder group).

A point or a poll counts per person (the default, as in a chat) or per organisation, fixed when it is
created. Per organisation only the voice's position or ballot counts for its organisation; the others'
positions are shown, not counted. The organisations that count are those verified and not left; for a
point or poll of a working group, those with at least one current representative in the group. Which
organisations counted when a point was decided or a poll closed is kept: the record does not change when
an organisation leaves afterwards.

The breakdown shows where support comes from: counts per position (or option) per region and per
stakeholder group — per organisation in organisation mode; per person in people mode, by the organisation
each one represented when they responded, "no organisation" apart.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Literal

from domain.errors import Invalid
from domain.i18n import Text, t, tn
from domain.orgs import REGION_SHORT, STAKEHOLDERS
from storage import counting as counting_rows
from storage.consensus import Tally
from storage.counting import OrgPositionRow, ScopedOrg, SupportRow
from storage.db import Source

__all__ = [
    "MODES", "MODE_LABELS", "PEOPLE", "ORGANISATIONS", "NO_ORG", "Breakdown", "Line", "OrgCount", "ScopedOrg",
    "Support", "breakdown", "org_hint", "org_tally", "parse_counting", "require_counted_orgs",
    "item_scope", "poll_scope", "NO_ORG_LABEL", "UNIT_LABELS", "LINE_LABELS", "then",
]  # fmt: skip

PEOPLE = "people"
ORGANISATIONS = "organisations"
MODES = (PEOPLE, ORGANISATIONS)
MODE_LABELS: dict[str, Text] = {PEOPLE: t("per person"), ORGANISATIONS: t("per organisation")}
NO_ORG = "none"  # the breakdown's line of members who represent no organisation
NO_ORG_LABEL = t("No organisation")
#: What a breakdown counts, as its heading says it.
UNIT_LABELS: dict[str, Text] = {
    ORGANISATIONS: t("organisations"),
    PEOPLE: t("members, by the organisation they represent"),
}
#: The label of every line a breakdown can have (a region, a stakeholder group, no organisation), by key.
LINE_LABELS: dict[str, Text] = {**REGION_SHORT, **STAKEHOLDERS, NO_ORG: NO_ORG_LABEL}


def parse_counting(value: str | None) -> str:
    """``people`` (the default) or ``organisations``; raises Invalid otherwise."""
    if value is None or not value.strip():
        return PEOPLE
    cleaned = value.strip().casefold()
    if cleaned in ("person", "persons", "people"):
        return PEOPLE
    if cleaned in ("organisation", "organisations", "organization", "organizations"):
        return ORGANISATIONS
    raise Invalid(t("Counting is per person (people) or per organisation (organisations)."))


_NOBODY_COUNTS: dict[str, Text] = {
    "point": t(
        "No organisation counts on this server yet, so a point counted per organisation would count nobody: a "
        "coordinator imports or verifies organisations first (/org import, /org verify)."
    ),
    "poll": t(
        "No organisation counts on this server yet, so a poll counted per organisation would count nobody: a "
        "coordinator imports or verifies organisations first (/org import, /org verify)."
    ),
}


async def require_counted_orgs(db: Source, guild_id: int, what: Literal["point", "poll"]) -> None:
    """Refuse counting per organisation where no organisation counts yet (it would count nobody); ``what``
    is counted: a point or a poll."""
    if not await counting_rows.live_scope(db, guild_id, None):
        raise Invalid(_NOBODY_COUNTS[what])


async def item_scope(
    db: Source, guild_id: int, item_id: int, group_id: int | None, open_: bool
) -> list[ScopedOrg]:
    """The organisations that count for a point: now while it is open, as they were when it was decided."""
    if open_:
        return await counting_rows.live_scope(db, guild_id, group_id)
    return await counting_rows.frozen_item_scope(db, item_id)


async def poll_scope(
    db: Source, guild_id: int, poll_id: int, group_id: int | None, closed: bool
) -> list[ScopedOrg]:
    """The organisations that count for a poll: now until it has closed, then as they were at its close."""
    if closed:
        return await counting_rows.frozen_poll_scope(db, poll_id)
    return await counting_rows.live_scope(db, guild_id, group_id)


# -- a point's count per organisation -------------------------------------------------------------------


@dataclass(frozen=True)
class OrgCount:
    """How a point counted per organisation stands: the organisations in scope, those that responded, and
    the members' own positions shown apart (representatives who are not the voice; no organisation)."""

    in_scope: tuple[ScopedOrg, ...]
    responded: frozenset[int]
    other_reps: int = 0
    unaffiliated: int = 0

    @property
    def not_responded(self) -> tuple[ScopedOrg, ...]:
        return tuple(o for o in self.in_scope if o.org_id not in self.responded)


def org_tally(
    counted: Collection[int], stances: Iterable[tuple[int, str]], open_objections: Iterable[int]
) -> tuple[Tally, frozenset[int]]:
    """The tally of the organisations that count (their ids): their positions on one revision as (org id,
    stance), their open objections by org id; and which of them responded. Positions of organisations out of
    scope — left, or without a representative in the group — stay in the record and are not counted."""
    given = {org_id: stance for org_id, stance in stances if org_id in counted}
    counts = Counter(given.values())
    still_open = sum(1 for org_id in set(open_objections) if org_id in counted)
    tally = Tally(agree=counts["agree"], stand_aside=counts["stand_aside"], object=counts["object"],
                  block=counts["block"], open_objections=still_open)  # fmt: skip
    return tally, frozenset(given)


def then(clauses: Sequence[Text]) -> Text:
    """Clauses of a hint one after the other ("no blocks, 2 objections open, 31 of 34 agree"): each joined
    to the hint so far by the pattern ``{hint}, {clause}`` (a language may use its own comma)."""

    def join(hint: Text, clause: Text) -> Text:
        return t("{hint}, {clause}", hint=hint, clause=clause)

    return reduce(join, clauses[1:], clauses[0])


def org_hint(tally: Tally, in_scope: int, not_responded: int) -> Text:
    """The judge's hint per organisation, e.g. "no organisation blocks, 0 objections open; 22 of 25
    organisations agree, 3 have not responded"; never a decision (RFC 7282)."""
    blocks = (
        t("no organisation blocks")
        if tally.block == 0
        else tn("{n} organisation blocks", "{n} organisations block", tally.block)
    )
    objections = tn("{n} objection open", "{n} objections open", tally.open_objections)
    organisations = tn("{n} organisation", "{n} organisations", in_scope)
    parts = [tn("{n} of {organisations} agree", "{n} of {organisations} agree", tally.agree,
                organisations=organisations)]  # fmt: skip
    if tally.stand_aside:
        parts.append(tn("{n} stands aside", "{n} stand aside", tally.stand_aside))
    if not_responded:
        parts.append(tn("{n} has not responded", "{n} have not responded", not_responded))
    return t("{hint}; {clause}", hint=then([blocks, objections]), clause=then(parts))


# -- constituencies ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Support:
    """One counted response: the choices it made (keys of the breakdown's choices) and the region and
    stakeholder group of the organisation behind it (None: a member who represents no organisation)."""

    choices: tuple[str, ...]
    region: str | None
    stakeholder: str | None


@dataclass(frozen=True)
class Line:
    """One region or stakeholder group (or "no organisation"): responses per choice, and, per organisation,
    how many of its organisations in scope have not responded."""

    key: str
    label: str
    counts: tuple[int, ...]
    not_responded: int | None = None

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def shown(self) -> Text | str:
        """The line's label to render in the reader's language."""
        return LINE_LABELS.get(self.key, self.label)


@dataclass(frozen=True)
class Breakdown:
    """Support by region and by stakeholder group. ``unit``: organisations or people. Every region has a
    line (a region that says nothing shows as such); stakeholder groups only those with a response or an
    organisation in scope; "no organisation" last, when someone without one responded."""

    unit: str
    choices: tuple[str, ...]
    labels: tuple[str, ...]
    by_region: tuple[Line, ...]
    by_stakeholder: tuple[Line, ...]

    @property
    def responses(self) -> int:
        return sum(line.total for line in self.by_region)


def _lines(
    keys: Mapping[str, Text | str], attr: str, choices: Sequence[str], supports: Sequence[Support],
    missing: Sequence[ScopedOrg] | None, keep_empty: bool,
) -> tuple[Line, ...]:  # fmt: skip
    index = {c: n for n, c in enumerate(choices)}
    counts: dict[str, list[int]] = {k: [0] * len(choices) for k in [*keys, NO_ORG]}
    for support in supports:
        key = getattr(support, attr) or NO_ORG
        for choice in support.choices:
            if choice in index:
                counts.setdefault(key, [0] * len(choices))[index[choice]] += 1
    silent = Counter(getattr(o, attr) for o in missing) if missing is not None else None
    lines = []
    for key, label in [*keys.items(), (NO_ORG, NO_ORG_LABEL)]:
        # the English label (what exports write); a member sees ``Line.shown`` in their language
        line = Line(
            key, str(label), tuple(counts[key]), None if silent is None or key == NO_ORG else silent[key]
        )
        if line.total or line.not_responded or (keep_empty and key != NO_ORG):
            lines.append(line)
    return tuple(lines)


def breakdown(
    unit: str,
    choices: Sequence[tuple[str, Text | str]],
    supports: Iterable[Support],
    *,
    scope: Sequence[ScopedOrg] | None = None,
    responded: Collection[int] = (),
) -> Breakdown:
    """Counts per choice per region and per stakeholder group. ``choices`` are (key, label) in order (a label
    of ours, a Text, is kept in English: what exports write); with ``scope`` (organisation mode) each line
    also counts its organisations that have not responded."""
    chosen = list(supports)
    keys = tuple(k for k, _ in choices)
    missing = None if scope is None else [o for o in scope if o.org_id not in responded]
    return Breakdown(
        unit=unit, choices=keys, labels=tuple(str(label) for _, label in choices),
        by_region=_lines(REGION_SHORT, "region", keys, chosen, missing, keep_empty=True),
        by_stakeholder=_lines(STAKEHOLDERS, "stakeholder", keys, chosen, missing, keep_empty=False),
    )  # fmt: skip


def stance_support(row: SupportRow | OrgPositionRow) -> Support:
    """A position as a response of the breakdown."""
    stance = row.stance or ""
    return Support((stance,), row.region, row.stakeholder)


def picks_support(picks: int, region: str | None, stakeholder: str | None) -> Support:
    """A ballot (its picks' bit mask) as a response of the breakdown: one choice per option picked (keys are
    option positions as text)."""
    return Support(tuple(str(n + 1) for n in range(25) if picks >> n & 1), region, stakeholder)
