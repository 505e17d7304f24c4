"""The one line a run ends with: what it checked, and when there was nothing to do,
what is due next; then which sources are still down. Pure: a report and states in,
text out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sotewatch.pipeline.runs.sourcestate import SourceState, next_due, still_down


def summary_line(report: Any, states: Sequence[SourceState], now: datetime) -> str:
    """`report`: a sotewatch.pipeline.runs.run.RunReport (run_id, skipped_sources, fetched, ...)."""
    total = len(states)
    due = total - len(report.skipped_sources)
    line = (
        f"run {report.run_id}: {due} of {total} sources due, {report.fetched} fetched, "
        f"{report.not_modified} not modified, {report.failed} failed, {report.changes} changes"
    )
    if due == 0:
        upcoming = next_due(states)
        if upcoming is not None:
            source, when = upcoming
            line += f"; next due: {source.id} at {when_text(when, now)}"
    return line


def down_lines(states: Sequence[SourceState], failing_after: int) -> list[str]:
    """One line per source that is still failing, worst first."""
    down = sorted(still_down(states), key=lambda s: (-s.failures, s.id))
    return [f"still down: {s.id}: {s.health(failing_after)}" for s in down]


def changed_lines(report: Any) -> list[str]:
    """One line per known page that changed in this run (`sotewatch changes` shows what)."""
    return [f"changed: {url} ({n} {'change' if n == 1 else 'changes'})"
            for url, n in report.changed.items()]  # fmt: skip


def summary_fields(report: Any, states: Sequence[SourceState]) -> dict[str, Any]:
    """The summary line's figures, for a JSON log line."""
    upcoming = next_due(states)
    return {
        "run_id": report.run_id,
        "sources": len(states),
        "due": len(states) - len(report.skipped_sources),
        "fetched": report.fetched,
        "not_modified": report.not_modified,
        "failed": report.failed,
        "changes": report.changes,
        "next_due": {"source": upcoming[0].id, "at": upcoming[1].isoformat()} if upcoming else None,
        "still_down": [s.id for s in still_down(states)],
    }


def when_text(when: datetime, now: datetime) -> str:
    """2026-12-07 05:12 UTC (in 23 h 55 min)"""
    stamp = when.strftime("%Y-%m-%d %H:%M %Z").strip()
    return f"{stamp} ({span_text(when - now)})"


def span_text(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes <= 0:
        return "now"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min"]
    return "in " + " ".join(p for p in parts if p and not (p == "0 min" and (days or hours)))


def sources_table(states: Sequence[SourceState], now: datetime, failing_after: int) -> list[str]:
    """`sotewatch sources`: one line per source, as urlwatch's --list, plus its state."""
    header = ("source", "schedule", "last check (UTC)", "next due (UTC)", "health")
    rows = [header]
    for state in states:
        due = state.due_at()
        rows.append(
            (
                state.id,
                state.source.schedule,
                _stamp(state.last_checked),
                "now" if due is None or due <= now else _stamp(due),
                state.health(failing_after),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    ]


def _stamp(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"
