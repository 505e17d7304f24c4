"""The geometry of a weeks-by-rows heat map, drawn as inline SVG by a Jinja template.

People would rather look at activity than read counts: one row per county (or
network), one column per week, each cell shaded by how many changes concerned it.
Pure: counts in, positioned and coloured cells out; the template only writes
elements, so every label goes through Jinja's escaping.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# ColorBrewer "Blues", light to dark; an empty week is a pale grey.
PALETTE = ("#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c")
EMPTY = "#f3f3f3"
LABEL_WIDTH = 190
TOTAL_WIDTH = 50
HEADER_HEIGHT = 28
CELL_HEIGHT = 20
MIN_LABEL_SPACING = 44  # pixels between two week labels


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


def heatmap(
    counts: Mapping[tuple[str, date], int],
    rows: Sequence[tuple[str, str]],
    weeks: Sequence[date],
    width: float = 1000,
) -> Heatmap:
    """Lay out `rows` (slug, label) against `weeks`; `counts` maps (slug, monday) to changes."""
    grid = max(1, len(weeks))
    cell_width = max(6.0, min(48.0, (width - LABEL_WIDTH - TOTAL_WIDTH) / grid))
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
            noun = "change" if count == 1 else "changes"
            cells.append(
                Cell(
                    x=LABEL_WIDTH + c * cell_width,
                    y=y,
                    width=cell_width - 1,
                    height=CELL_HEIGHT - 1,
                    count=count,
                    fill=fill,
                    text_fill=text_fill,
                    title=f"{label}, week of {week.isoformat()}: {count} {noun}",
                )
            )
        labels.append(RowLabel(slug=slug, label=label, y=y + CELL_HEIGHT * 0.7, total=total))
    every = max(1, math.ceil(MIN_LABEL_SPACING / cell_width))
    columns = tuple(
        ColumnLabel(x=LABEL_WIDTH + c * cell_width, text=f"{w.day}.{w.month}.{w.year % 100:02d}")
        for c, w in enumerate(weeks)
        if c % every == 0
    )
    return Heatmap(
        width=LABEL_WIDTH + grid * cell_width + TOTAL_WIDTH,
        height=HEADER_HEIGHT + len(rows) * CELL_HEIGHT + 4,
        cell_width=cell_width,
        rows=tuple(labels),
        columns=columns,
        cells=tuple(cells),
        max_count=max_count,
    )
