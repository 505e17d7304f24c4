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
    if last is None:
        return True
    match = _INTERVAL.match(schedule)
    if match:
        period = timedelta(**{_UNIT[match.group(2)]: int(match.group(1))})
        return now - last >= period - _SLACK
    from croniter import croniter  # only cron schedules need it; most are intervals

    next_time = croniter(schedule, last).get_next(datetime)
    return next_time <= now
