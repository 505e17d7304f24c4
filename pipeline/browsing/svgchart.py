"""The geometry of a weeks-by-rows heat map, drawn as inline SVG by a Jinja template.

People would rather look at activity than read counts: one row per county (or
network), one column per week, each cell shaded by how many changes concerned it.
Pure: counts in, positioned and coloured cells out; the template only writes
elements, so every label goes through Jinja's escaping.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# ColorBrewer "Blues", light to dark; an empty week is a pale grey.
PALETTE = ("#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
EMPTY = "#f3f3f3"
LABEL_WIDTH = 230
TOTAL_WIDTH = 50
HEADER_HEIGHT = 28
CELL_HEIGHT = 20
MIN_LABEL_SPACING = 70  # pixels between two week labels ("30.11.2026")
CHAR_WIDTH = 6.2  # pixels of an average character at the labels' 12 px


@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    width: float
    height: float
    count: int
    fill: str
    text_fill: str
    title: str  # the tooltip: "Lappi, week of 2024-03-04: 3 changes"


@dataclass(frozen=True)
class RowLabel:
    slug: str
    label: str
    y: float  # baseline of the label text
    total: int
    short: str = ""  # the label cut to fit its column ("Johtoryhmän alueellisen …")


@dataclass(frozen=True)
class ColumnLabel:
    x: float
    text: str


@dataclass(frozen=True)
class Heatmap:
    width: float
    height: float
    cell_width: float
    rows: tuple[RowLabel, ...]
    columns: tuple[ColumnLabel, ...]
    cells: tuple[Cell, ...]
    max_count: int


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_range(first: date, last: date) -> list[date]:
    """Every Monday from the week of `first` to the week of `last`, gaps included."""
    start, end = monday(first), monday(last)
    return [start + timedelta(weeks=i) for i in range((end - start).days // 7 + 1)]


def shade(count: int, max_count: int) -> tuple[str, str]:
    """(fill, text colour) of a cell: five steps of blue by share of the busiest cell."""
    if count <= 0 or max_count <= 0:
        return EMPTY, "#777777"
    step = min(len(PALETTE) - 1, math.ceil(count / max_count * len(PALETTE)) - 1)
    return PALETTE[step], "#ffffff" if step >= 3 else "#1a1a1a"


def day(value: date) -> str:
    """The one date format of the charts and pages: 30.11.2026."""
    return f"{value.day}.{value.month}.{value.year}"


def _english(label: str, week: date, count: int) -> str:
    noun = "change" if count == 1 else "changes"
    return f"{label}, week of {week.isoformat()}: {count} {noun}"


def fit(label: str, width: float) -> str:
    """`label` cut with "…" to what `width` pixels hold, so it never runs into the cells."""
    room = max(4, int((width - 8) / CHAR_WIDTH))
    return label if len(label) <= room else label[: room - 1].rstrip() + "…"


def heatmap(
    counts: Mapping[tuple[str, date], int],
    rows: Sequence[tuple[str, str]],
    weeks: Sequence[date],
    width: float = 1000,
    *,
    label_width: float = LABEL_WIDTH,
    describe: Callable[[str, date, int], str] = _english,
) -> Heatmap:
    """Lay out `rows` (slug, label) against `weeks`; `counts` maps (slug, monday) to changes.
    `describe(label, monday, count)` is a cell's tooltip."""
    grid = max(1, len(weeks))
    cell_width = max(6.0, min(72.0, (width - label_width - TOTAL_WIDTH) / grid))
    max_count = max((counts.get((slug, w), 0) for slug, _ in rows for w in weeks), default=0)
    cells: list[Cell] = []
    labels: list[RowLabel] = []
    for r, (slug, label) in enumerate(rows):
        y = HEADER_HEIGHT + r * CELL_HEIGHT
        total = 0
        for c, week in enumerate(weeks):
            count = counts.get((slug, week), 0)
            total += count
            fill, text_fill = shade(count, max_count)
            cells.append(
                Cell(
                    x=label_width + c * cell_width,
                    y=y,
                    width=cell_width - 1,
                    height=CELL_HEIGHT - 1,
                    count=count,
                    fill=fill,
                    text_fill=text_fill,
                    title=describe(label, week, count),
                )
            )
        baseline = y + CELL_HEIGHT * 0.7
        labels.append(RowLabel(slug, label, baseline, total, fit(label, label_width)))
    every = max(1, math.ceil(MIN_LABEL_SPACING / cell_width))
    columns = tuple(
        ColumnLabel(x=label_width + c * cell_width, text=day(w))
        for c, w in enumerate(weeks)
        if c % every == 0
    )
    return Heatmap(
        width=label_width + grid * cell_width + TOTAL_WIDTH,
        height=HEADER_HEIGHT + len(rows) * CELL_HEIGHT + 4,
        cell_width=cell_width,
        rows=tuple(labels),
        columns=columns,
        cells=tuple(cells),
        max_count=max_count,
    )
