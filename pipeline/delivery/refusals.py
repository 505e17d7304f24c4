"""Addresses a mail server refuses for good (SMTP 5xx): tried a few times, then shown
as failing in `status` instead of retried on every run forever."""

from __future__ import annotations

import sqlite3
from pathlib import Path

DONE = "('sent', 'empty')"  # SQL: a digest with either delivery status is closed

# A digest an address refused for good (SMTP 5xx) this many times in a row is not tried
# again for that address: the reader is shown as failing in `status` until the address
# in the subscribers file changes (or the entry goes).
PERMANENT_TRIES = 3
PERMANENT = "permanent: "  # how a 5xx refusal's error is recorded


def refused_for_good(error: str | None, address: str) -> bool:
    return bool(error and error.startswith(PERMANENT) and address.casefold() in error.casefold())


def failing_readers(state_db_path: Path | str) -> list[tuple[str, int, str]]:
    """(subscriber id, refusals, last error) of each reader whose unsent digest its
    address refused for good `PERMANENT_TRIES` times or more: for `status`."""
    path = Path(state_db_path)
    if not path.exists():
        return []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            f"""select d.subscriber_id, count(*), max(x.error) from digests d
               join deliveries x on x.digest_id = d.id
               where x.status = 'failed' and x.error like '{PERMANENT}%'
                 and not exists (select 1 from deliveries y where y.digest_id = d.id
                                 and y.status in {DONE})
               group by d.id having count(*) >= ? order by d.subscriber_id""",
            [PERMANENT_TRIES],
        ).fetchall()
    except sqlite3.Error:
        return []
    finally:
        conn.close()
    return [(str(r[0]), int(r[1]), str(r[2])) for r in rows]
