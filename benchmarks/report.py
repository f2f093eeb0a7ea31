"""Figures, percentiles, and the one table (or JSON object) a run prints."""

from __future__ import annotations

import json
import math
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Figure:
    key: str
    label: str
    value: float | int | str | None
    unit: str = ""
    target: str = ""
    met: bool | None = None
    #: how many decimals to show a float with
    digits: int = 1

    def shown(self) -> str:
        if self.value is None:
            return "n/a"
        if isinstance(self.value, float):
            if math.isnan(self.value):
                return "n/a"
            text = f"{self.value:,.{self.digits}f}"
        elif isinstance(self.value, int):
            text = f"{self.value:,}"
        else:
            text = str(self.value)
        return f"{text} {self.unit}".rstrip()

    def verdict(self) -> str:
        return "" if self.met is None else ("yes" if self.met else "NO")


@dataclass
class Report:
    quick: bool
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sections: list[tuple[int, str]] = field(default_factory=list)

    def section(self, title: str) -> None:
        self.sections.append((len(self.figures), title))

    def add(self, key: str, label: str, value: float | int | str | None, unit: str = "", *,
            target: str = "", met: bool | None = None, digits: int = 1) -> Figure:  # fmt: skip
        figure = Figure(key, label, value, unit, target, met, digits)
        self.figures.append(figure)
        return figure

    def header(self) -> str:
        cores = os.cpu_count()
        sizes = "quick sizes" if self.quick else "full sizes"
        return (
            f"Caucus benchmarks · {cores} cores (os.cpu_count()) · Python {platform.python_version()} · "
            f"{platform.machine()} · {sizes} · fake Discord on 127.0.0.1"
        )

    def table(self) -> str:
        cols = ("figure", "value", "target", "met?")
        rows = [(f.label, f.shown(), f.target, f.verdict()) for f in self.figures]
        widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(cols)]

        def line(cells: Sequence[str]) -> str:
            return "  ".join(
                (cell.rjust(widths[i]) if i == 1 else cell.ljust(widths[i])) for i, cell in enumerate(cells)
            ).rstrip()

        total = sum(widths) + 2 * (len(cols) - 1)
        out = [self.header(), "=" * total, line(cols), "-" * total]
        starts = dict(self.sections)
        for n, row in enumerate(rows):
            if n in starts:
                out.append(f"[{starts[n]}]")
            out.append(line(row))
        out.append("-" * total)
        missed = [f.label for f in self.figures if f.met is False]
        out.append(f"targets: {sum(f.met is True for f in self.figures)} met, {len(missed)} missed")
        out.extend(f"note: {n}" for n in self.notes)
        return "\n".join(out)

    def as_json(self) -> str:
        data: dict[str, Any] = {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "quick": self.quick,
            "figures": {
                f.key: {
                    "label": f.label,
                    "value": None if isinstance(f.value, float) and math.isnan(f.value) else f.value,
                    "unit": f.unit,
                    "target": f.target or None,
                    "met": f.met,
                }
                for f in self.figures
            },
            "notes": self.notes,
        }
        return json.dumps(data, indent=2)
