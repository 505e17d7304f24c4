"""When a source is due: an interval ("30m", "6h", "1d", "1w") or a cron expression."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

_INTERVAL = re.compile(r"^(\d+)([mhdw])$")
_UNIT = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# Cron starts a run a little early or late; an interval source fetched 5 minutes
# short of its period is still due, so a daily cron line never skips a day.
_SLACK = timedelta(minutes=5)


def is_due(schedule: str, last: datetime | None, now: datetime) -> bool:
    """True if a source last fetched at `last` should be fetched at `now`."""
    if last is None or schedule == EVERY_RUN:
        return True
    return next_time(schedule, last) <= now


# A plain URL list has no schedule of its own: its pages are checked on every run.
EVERY_RUN = "every run"


def next_time(schedule: str, last: datetime) -> datetime:
    """When a source last fetched at `last` is next due (with the same slack as is_due)."""
    if schedule == EVERY_RUN:
        return last
    match = _INTERVAL.match(schedule)
    if match:
        return last + timedelta(**{_UNIT[match.group(2)]: int(match.group(1))}) - _SLACK
    from croniter import croniter  # only cron schedules need it; most are intervals

    return croniter(schedule, last).get_next(datetime)
