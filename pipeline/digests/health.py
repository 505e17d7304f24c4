"""The digest's "source health" note: sources failing in a row, and pages read whole."""

from __future__ import annotations

import sqlite_utils

from sotewatch.pipeline.digests.render import SourceHealth


def source_health(main_db: sqlite_utils.Database, failing_after: int = 3) -> list[SourceHealth]:
    """Sources with a page that failed `failing_after` or more fetches in a row, worst
    first, with the latest error: the digest's "source health" note."""
    rows = main_db.execute(
        """select coalesce(s.name, p.source_id), max(p.failures),
                  (select f.error from fetches f where f.source_id = p.source_id
                     and coalesce(f.error, '') != '' order by f.id desc limit 1)
           from pages p left join sources s on s.id = p.source_id
           where p.status = 'active' and p.failures >= ?
           group by p.source_id order by 2 desc, 1""",
        [failing_after],
    ).fetchall()
    failing = [SourceHealth(label, int(failures), error or "") for label, failures, error in rows]
    return failing + thin_health(main_db)


def thin_health(main_db: sqlite_utils.Database) -> list[SourceHealth]:
    """Sources with pages read whole (thin extraction): their changes are all the page's
    text, chrome too, until `include` says where the content is. No failures; the
    pages' URLs as the note's detail (the templates say what it means)."""
    rows = main_db.execute(
        """select coalesce(s.name, p.source_id), group_concat(p.url, ' ')
           from pages p left join sources s on s.id = p.source_id
             join snapshots n on n.id = (select max(id) from snapshots where page_id = p.id)
           where p.status = 'active' and json_extract(n.document, '$.extraction') = 'thin'
           group by p.source_id order by 1"""
    ).fetchall()
    return [SourceHealth(label, 0, urls) for label, urls in rows]
