"""The numbered migrations themselves: each one step of the schema's history.

Never edit a released one: add a new one, and list it in `migrations.MIGRATIONS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by `migrate` only when a migration is due: a run never is
    import sqlite_utils

Migration = Callable[["sqlite_utils.Database"], None]


def m001_initial(db: sqlite_utils.Database) -> None:
    """The tables a reader of Datasette meets: sources, pages, fetches, snapshots, changes."""
    db.table("sources").create(
        {
            "id": str,
            "name": str,
            "family": str,
            "url": str,
            "regions": str,
            "networks": str,
            "schedule": str,
        },
        pk="id",
    )
    db.table("regions").create(
        {"slug": str, "name_fi": str, "name_sv": str, "brands": str, "kind": str}, pk="slug"
    )
    db.table("networks").create({"slug": str, "name": str, "aliases": str}, pk="slug")
    db.table("runs").create(
        {
            "id": int,
            "started": str,
            "finished": str,
            "status": str,
            "fetched": int,
            "not_modified": int,
            "failed": int,
            "changes": int,
            "exit_code": int,
        },
        pk="id",
    )
    db.table("pages").create(
        {
            "id": int,
            "source_id": str,
            "url": str,
            "title": str,
            "family": str,
            "first_seen": str,
            "last_seen": str,
            "status": str,  # active | removed
            "missing_count": int,  # consecutive definite 404/410
            "failures": int,  # consecutive failed fetches of any kind
            "etag": str,
            "last_modified": str,
            "discovered_from": int,
        },
        pk="id",
        foreign_keys=[("source_id", "sources", "id")],
    )
    db.table("pages").create_index(["source_id", "url"], unique=True)
    db.table("bodies").create(
        {"hash": str, "content_type": str, "size": int, "compression": str, "data": bytes},
        pk="hash",
    )
    db.table("fetches").create(
        {
            "id": int,
            "run_id": int,
            "page_id": int,
            "source_id": str,
            "url": str,
            "fetched_at": str,
            "status_code": int,
            "outcome": str,  # ok | unchanged | not_modified | gone | error | soft_failure | blocked
            "bytes": int,
            "elapsed_ms": float,
            "attempts": int,
            "error": str,
            "body_hash": str,
        },
        pk="id",
        foreign_keys=[
            ("run_id", "runs", "id"),
            ("page_id", "pages", "id"),
            ("source_id", "sources", "id"),
        ],
    )
    db.table("fetches").create_index(["page_id", "id"])
    db.table("snapshots").create(
        {
            "id": int,
            "page_id": int,
            "fetch_id": int,
            "taken_at": str,
            "doc_hash": str,
            "title": str,
            "language": str,
            "text": str,
            "document": str,
            "body_hash": str,
        },
        pk="id",
        foreign_keys=[
            ("page_id", "pages", "id"),
            ("fetch_id", "fetches", "id"),
            ("body_hash", "bodies", "hash"),
        ],
    )
    db.table("snapshots").create_index(["page_id", "id"])
    db.table("changes").create(
        {
            "id": int,
            "run_id": int,
            "page_id": int,
            "snapshot_id": int,
            "previous_snapshot_id": int,
            "detected_at": str,
            "kind": str,
            "section": str,
            "before": str,
            "after": str,
            "summary": str,
            "regions": str,  # JSON array of region slugs
            "networks": str,  # JSON array of network slugs
        },
        pk="id",
        foreign_keys=[
            ("run_id", "runs", "id"),
            ("page_id", "pages", "id"),
            ("snapshot_id", "snapshots", "id"),
            ("previous_snapshot_id", "snapshots", "id"),
        ],
    )
    db.table("changes").create_index(["page_id", "id"])
    db.table("changes").create_index(["detected_at"])
    db.table("change_regions").create(
        {"change_id": int, "region": str},
        pk=("change_id", "region"),
        foreign_keys=[("change_id", "changes", "id"), ("region", "regions", "slug")],
    )
    db.table("change_networks").create(
        {"change_id": int, "network": str},
        pk=("change_id", "network"),
        foreign_keys=[("change_id", "changes", "id"), ("network", "networks", "slug")],
    )


_FTS = "tokenize = 'unicode61 remove_diacritics 0'"  # ä, ö, å stay distinct from a, o

M002_SEARCH = [
    # Full-text search; rowid = snapshots.id / changes.id. `lemmas` holds the base
    # forms of the text's words, so "Lappi" finds a text that says "Lapissa".
    f"create virtual table snapshots_fts using fts5(title, text, lemmas, {_FTS})",
    "create virtual table changes_fts using fts5("
    f"page_title, section, summary, before, after, lemmas, {_FTS})",
    """create view latest_snapshots as
    select p.id as page_id, s.id as snapshot_id, p.source_id, s.title, p.url, s.language,
        s.taken_at, p.status, p.last_seen,
        (select count(*) from snapshots v where v.page_id = p.id) as versions, s.text
    from pages p
    join snapshots s on s.id = (select max(id) from snapshots where page_id = p.id)""",
    """create view change_log as
    select c.id as change_id, c.detected_at, p.source_id,
        coalesce((select title from snapshots t where t.page_id = c.page_id
                  order by t.id desc limit 1), p.title, p.url) as page_title,
        c.kind, c.section, c.summary, c.regions, c.networks, c.before, c.after,
        p.url as page_url, c.page_id, c.snapshot_id, c.previous_snapshot_id, c.run_id
    from changes c join pages p on p.id = c.page_id""",
    """create view page_versions as
    select s.page_id, s.id as snapshot_id, s.taken_at, s.title, p.url, s.language,
        length(s.text) as characters,
        (select count(*) from changes c where c.snapshot_id = s.id) as changes,
        (select max(id) from snapshots o where o.page_id = s.page_id and o.id < s.id)
            as previous_snapshot_id,
        (select min(id) from snapshots o where o.page_id = s.page_id and o.id > s.id)
            as next_snapshot_id
    from snapshots s join pages p on p.id = s.page_id""",
    """create view contacts_now as
    select p.id as page_id, s.title as page_title, p.url as page_url, s.id as snapshot_id,
        s.taken_at as as_of,
        json_extract(j.value, '$.name') as name,
        json_extract(j.value, '$.title') as title,
        json_extract(j.value, '$.organisation') as organisation,
        json_extract(j.value, '$.phone') as phone,
        json_extract(j.value, '$.email') as email,
        json_extract(j.value, '$.section') as section
    from pages p
    join snapshots s on s.id = (select max(id) from snapshots where page_id = p.id)
    join json_each(s.document, '$.contacts') j
    where p.status = 'active'""",
    """create view contact_history as
    select s.page_id, p.url as page_url,
        json_extract(j.value, '$.name') as name,
        json_extract(j.value, '$.title') as title,
        json_extract(j.value, '$.organisation') as organisation,
        json_extract(j.value, '$.phone') as phone,
        json_extract(j.value, '$.email') as email,
        json_extract(j.value, '$.section') as section,
        min(s.taken_at) as first_seen, max(s.taken_at) as last_seen,
        count(*) as versions,
        max(s.id) = (select max(id) from snapshots l where l.page_id = s.page_id) as current
    from snapshots s join pages p on p.id = s.page_id
    join json_each(s.document, '$.contacts') j
    group by 1, 2, 3, 4, 5, 6, 7, 8""",
    """create view weekly_activity as
    select date(c.detected_at, 'weekday 0', '-6 days') as week, 'region' as dimension,
        cr.region as slug, coalesce(r.name_fi, cr.region) as name, count(*) as changes
    from changes c join change_regions cr on cr.change_id = c.id
    left join regions r on r.slug = cr.region
    group by 1, 2, 3, 4
    union all
    select date(c.detected_at, 'weekday 0', '-6 days'), 'network', cn.network,
        coalesce(n.name, cn.network), count(*)
    from changes c join change_networks cn on cn.change_id = c.id
    left join networks n on n.slug = cn.network
    group by 1, 2, 3, 4""",
]


def m002_search(db: sqlite_utils.Database) -> None:
    """Full-text search tables (filled by `storage.search.index_new`) and reader views."""
    for statement in M002_SEARCH:
        db.execute(statement)


def m003_fetch_log(db: sqlite_utils.Database) -> None:
    """Unchanged and 304 fetches are counted per run and source (`source_checks`) rather
    than stored row by row: an unchanged run then grows the file by a few hundred bytes,
    not by a row per page. Pages keep their latest check in place (`last_checked`)."""
    db.table("source_checks").create(
        {
            "run_id": int,
            "source_id": str,
            "checked_at": str,
            "unchanged": int,
            "not_modified": int,
        },
        pk=("run_id", "source_id"),
        foreign_keys=[("run_id", "runs", "id"), ("source_id", "sources", "id")],
    )
    db.table("pages").add_column("last_checked", str)
    db.table("pages").add_column("last_status", int)


# Document.text in SQL: the title, then each section's heading path and paragraphs,
# joined by blank lines, empty parts left out (tests/test_store.py checks it agrees).
SNAPSHOT_TEXT = """(select group_concat(part, char(10, 10)) from (
    select {s}.title as part, -1 as section, -1 as position
    union all
    select (select group_concat(h.value, ' / ') from json_each(sec.value, '$.path') h),
        sec.key, -1
    from json_each({s}.document, '$.sections') sec
    union all
    select p.value, sec.key, p.key
    from json_each({s}.document, '$.sections') sec, json_each(sec.value, '$.paragraphs') p
    order by section, position) where part != '')"""

M004_VIEWS = [
    "drop view latest_snapshots",
    "drop view page_versions",
    "alter table snapshots drop column text",
    f"""create view snapshot_texts as
    select s.id as snapshot_id, s.page_id, s.taken_at, s.title, s.language,
        {SNAPSHOT_TEXT.format(s="s")} as text
    from snapshots s""",
    f"""create view latest_snapshots as
    select p.id as page_id, s.id as snapshot_id, p.source_id, s.title, p.url, s.language,
        s.taken_at, p.status, p.last_seen,
        (select count(*) from snapshots v where v.page_id = p.id) as versions,
        {SNAPSHOT_TEXT.format(s="s")} as text
    from pages p
    join snapshots s on s.id = (select max(id) from snapshots where page_id = p.id)""",
    f"""create view page_versions as
    select s.page_id, s.id as snapshot_id, s.taken_at, s.title, p.url, s.language,
        length({SNAPSHOT_TEXT.format(s="s")}) as characters,
        (select count(*) from changes c where c.snapshot_id = s.id) as changes,
        (select max(id) from snapshots o where o.page_id = s.page_id and o.id < s.id)
            as previous_snapshot_id,
        (select min(id) from snapshots o where o.page_id = s.page_id and o.id > s.id)
            as next_snapshot_id
    from snapshots s join pages p on p.id = s.page_id""",
]


def m004_compact(db: sqlite_utils.Database) -> None:
    """Three changes that keep a year of daily runs well under 100 MB:

    - `bodies.base`: a body may be stored compressed against a *key* body, the page's
      earlier version (pipeline/storage/bodies.py), which then must outlive it;
    - `snapshots.text` goes: it repeated the words `snapshots.document` holds. The
      view `snapshot_texts` (and `latest_snapshots`) derive it;
    - `snapshots_fts` holds each page's latest version only. Every word a page ever
      said is still found: what is no longer on the page is in the `before` of the
      change that removed or edited it, and `changes_fts` indexes every change. A
      copy of every version's full text in the index was most of the file.
      `search_state` counts the rows deleted from it since it was last optimised.
    """
    db.table("bodies").add_column("base", str)
    db.execute("create index bodies_base on bodies (base) where base is not null")
    for statement in M004_VIEWS:
        db.execute(statement)
    db.execute(
        "delete from snapshots_fts"
        " where rowid not in (select max(id) from snapshots group by page_id)"
    )
    db.table("search_state").create({"name": str, "value": int}, pk="name")
    # When a source was last reached (`Store.last_checked`) without reading every fetch.
    db.table("fetches").create_index(["source_id", "fetched_at"])


def m005_offers_links(db: sqlite_utils.Database) -> None:
    """`pages.offers_links`: whether the page's latest version offers items or attachments
    to watch. A 304 of such a page offers them again (a run killed before registering
    them must not lose them); knowing which pages do from the page row spares every
    other 304 a read of its latest document, which costs more than the 304 itself."""
    db.table("pages").add_column("offers_links", int, not_null_default=0)
    db.execute(
        """update pages set offers_links = 1 where id in (
               select page_id from snapshots
               where id in (select max(id) from snapshots group by page_id)
                 and (instr(document, '"kind": "item"')
                      or instr(document, '"kind": "attachment"')))"""
    )


def m006_input_hash(db: sqlite_utils.Database) -> None:
    """`pages.input_hash`: the digest of what the page's latest version was read from
    (its tree without chrome, the source's rules, the code: pipeline/runs/inputkey.py). A
    page read to the same digest again is that version, and is not extracted. Empty for
    pages stored before: each is extracted once more, and from then on has one."""
    db.table("pages").add_column("input_hash", str)


def m007_compact_json(db: sqlite_utils.Database) -> None:
    """Stored documents rewritten as `Document.to_json` writes them now (compact
    separators), and their `doc_hash` with them: a page fetched again after the upgrade
    then hashes as its latest version, and no change is reported that is not one."""
    from sotewatch.pipeline.document.models import Document, content_hash

    rows = db.execute("select id, document from snapshots").fetchall()
    updates = []
    for snapshot_id, document in rows:
        rewritten = Document.from_json(document).to_json()
        updates.append((rewritten, content_hash(rewritten), snapshot_id))
    db.conn.executemany("update snapshots set document = ?, doc_hash = ? where id = ?", updates)


def m008_code_key(db: sqlite_utils.Database) -> None:
    """`snapshots.code_key`: which code extracted the version (pipeline/runs/inputkey.py).
    The first run of a new sotewatch re-reads a version made by other code, from its
    stored body, before comparing (pipeline/runs/reread.py). Empty for versions stored
    before: their code is not known, so they count as other code."""
    db.table("snapshots").add_column("code_key", str)


def m009_shown(db: sqlite_utils.Database) -> None:
    """`pages.shown`: the keys of every block the page showed when last read, content
    or not (pipeline/changes/repeated.py): a site's template is what several of its
    pages show. Empty for pages read before: their latest version's blocks stand in."""
    db.table("pages").add_column("shown", str)
