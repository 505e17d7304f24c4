"""Each source's schedule, last check, failure streak and next due time.

What `sotewatch run` decides with (which sources are due, a failing source backed
off within its schedule), what its summary line says (which source is due next,
which are still down), and what `sotewatch sources` lists. One query reads the state;
the rest are pure functions of it and the clock.

A failing source is retried after 1 h, then 2 h, 4 h, ... never later than its own
schedule would fetch it: a daily source that stays down costs one attempt a day, not
one an hour, and cron's exit-code mail comes when it newly fails or crosses
`failing_after`, not every hour.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sotewatch.pipeline.config import Source
from sotewatch.pipeline.runs.schedule import next_time
from sotewatch.pipeline.storage.reads import LAST_REACHED

FIRST_RETRY = timedelta(hours=1)


@dataclass(frozen=True)
class SourceState:
    """What the database knows of one configured source."""

    source: Source
    last_checked: datetime | None  # the last fetch that did not fail
    last_attempt: datetime | None  # the last fetch, failed or not
    failures: int  # the worst active page's streak of failed fetches
    last_error: str = ""

    @property
    def id(self) -> str:
        return self.source.id

    def due_at(self) -> datetime | None:
        """When the source is next due; None: at once (never checked)."""
        if self.last_checked is None and self.last_attempt is None:
            return None
        scheduled = None
        if self.last_checked is not None:
            scheduled = next_time(self.source.schedule, self.last_checked)
        if not self.failures or self.last_attempt is None:
            return scheduled
        return retry_at(self.source.schedule, self.last_attempt, self.failures)

    def is_due(self, now: datetime) -> bool:
        due = self.due_at()
        return due is None or due <= now

    def health(self, failing_after: int) -> str:
        if self.last_attempt is None:
            return "never checked"
        if not self.failures:
            return "ok"
        word = "FAILING" if self.failures >= failing_after else "failed"
        runs = "run" if self.failures == 1 else "runs"
        return f"{word} {self.failures} {runs} in a row: {self.last_error}".rstrip(": ")


def retry_at(schedule: str, last_attempt: datetime, failures: int) -> datetime:
    """1 h after the first failure, doubling with each one, never more than the
    schedule's own period after the last attempt (less cron's 5 minutes of slack)."""
    wait = FIRST_RETRY * 2 ** min(failures - 1, 16)  # 2**16 h is past any schedule
    return min(last_attempt + wait, next_time(schedule, last_attempt))


def read_states(db: Any, sources: Sequence[Source]) -> list[SourceState]:
    """Every configured source's state, in config order (`db`: anything with
    `execute`, a sqlite3 connection or a sqlite_utils Database; None: no database yet,
    so nothing checked)."""
    found = db.execute(_STATE_SQL).fetchall() if db is not None else []
    rows = {row[0]: row for row in found}
    return [_state(source, rows.get(source.id)) for source in sources]


# Whole-table passes grouped by source, as `LAST_REACHED`.
_STATE_SQL = f"""
with finished as (select id from runs where finished is not null),
checked as ({LAST_REACHED}),
attempted as (
  select source_id, max(fetched_at) as at from fetches
   where run_id in finished group by source_id),
streak as (
  select source_id, max(failures) as n from pages where status = 'active' group by source_id),
last_error as (
  select source_id, error from fetches where id in (
    select max(id) from fetches where coalesce(error, '') != '' group by source_id))
select s.id, checked.at, attempted.at, coalesce(streak.n, 0), last_error.error
from sources s
left join checked on checked.source_id = s.id
left join attempted on attempted.source_id = s.id
left join streak on streak.source_id = s.id
left join last_error on last_error.source_id = s.id
"""


def _state(source: Source, row: tuple | None) -> SourceState:
    if row is None:
        return SourceState(source, None, None, 0)
    _, checked, attempt, failures, error = row
    return SourceState(
        source,
        last_checked=_time(checked),
        last_attempt=_time(attempt),
        failures=int(failures or 0),
        last_error=" ".join((error or "").split()) if failures else "",
    )


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def due_now(states: Iterable[SourceState], now: datetime) -> list[Source]:
    return [state.source for state in states if state.is_due(now)]


def next_due(states: Iterable[SourceState]) -> tuple[Source, datetime] | None:
    """The source due soonest and when (sources due at once are not "next")."""
    timed = [(due, state.source) for state in states if (due := state.due_at()) is not None]
    if not timed:
        return None
    due, source = min(timed, key=lambda pair: pair[0])
    return source, due


def still_down(states: Iterable[SourceState]) -> list[SourceState]:
    return [state for state in states if state.failures]


def alarming_failures(db: Any, failed_urls: Iterable[str], failing_after: int) -> list[str]:
    """The pages that failed in this run and that cron should hear about: newly failing
    (a streak of 1) or just reaching `failing_after`. A page that stays down between
    those says so in the summary line, not in the exit code."""
    urls = sorted(set(failed_urls))
    if not urls:
        return []
    marks = ", ".join("?" for _ in urls)
    rows = db.execute(f"select url, failures from pages where url in ({marks})", urls).fetchall()
    return [url for url, failures in rows if int(failures or 0) in (1, failing_after)]
