"""sotewatch's Datasette plugin: readable diffs, readable snapshots, search in any
inflection, an activity chart, and a served database that cannot be written.

Loaded through `--plugins-dir data/datasette/plugins` (a two-line shim imports
these hooks), so `datasette serve` and the in-process test client run the same
code. Every page renders through Datasette's Jinja environment, which escapes
by default: scraped text is shown, never executed.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit

import yaml
from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup

from sotewatch.pipeline.browsing import datasette_reading as reading
from sotewatch.pipeline.browsing import feed_routes, unsubscribe_routes
from sotewatch.pipeline.browsing.svgchart import week_range
from sotewatch.pipeline.changes.worddiff import word_diff
from sotewatch.pipeline.config import DATA_DIR
from sotewatch.pipeline.document.models import Document
from sotewatch.pipeline.storage import search

METADATA = DATA_DIR / "datasette" / "metadata.yml"
CANONICAL_NAME = "sotewatch"  # the key of our database in metadata.yml
ROUTE = "/-/sotewatch"
_DEFAULT_WEEKS = 26


# -- hooks -----------------------------------------------------------------------


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str) -> None:
    """Search in any inflection from SQL, and no writes to the served database, ever."""
    conn.create_function(
        "sotewatch_match", 1, lambda q: search.fts_query(str(q or "")), deterministic=True
    )
    if not database.startswith("_"):
        conn.execute("PRAGMA query_only = 1")


@hookimpl
def get_metadata(datasette: Any) -> dict:
    """metadata.yml describes the database as "sotewatch"; apply it whatever the file's name."""
    block = _project_metadata().get("databases", {}).get(CANONICAL_NAME, {})
    names = [n for n in datasette.databases if not n.startswith("_") and n != CANONICAL_NAME]
    return {"databases": {name: block for name in names}}


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [
        (rf"^{ROUTE}/change/(?P<id>\d+)$", change_page),
        (rf"^{ROUTE}/snapshot/(?P<id>\d+)$", snapshot_page),
        (rf"^{ROUTE}/page/(?P<id>\d+)$", page_history),
        (rf"^{ROUTE}/activity$", activity_page),
        (rf"^{ROUTE}/search$", search_page),
        (rf"^{ROUTE}/changes$", change_log_redirect),
        (unsubscribe_routes.PATTERN, unsubscribe_routes.unsubscribe_page),
        (unsubscribe_routes.PREFERENCES_PATTERN, unsubscribe_routes.preferences_page),
        (feed_routes.INDEX_PATTERN, feed_routes.feeds_index),
        (feed_routes.FEED_PATTERN, feed_routes.feed_page),
    ]


@hookimpl
def skip_csrf(scope: dict) -> bool:
    return unsubscribe_routes.skip_csrf(scope)


@hookimpl
def menu_links(datasette: Any, request: Any) -> list[dict]:
    t = reading.labels()[reading.language(request)]
    return [
        {"href": datasette.urls.path(f"{ROUTE}/search"), "label": t["menu_search"]},
        {"href": datasette.urls.path(f"{ROUTE}/activity"), "label": t["menu_activity"]},
        {"href": datasette.urls.path(feed_routes.INDEX), "label": t["menu_feeds"]},
    ]


_CELL_LINKS = {
    "change_id": "change",
    "snapshot_id": "snapshot",
    "previous_snapshot_id": "snapshot",
    "next_snapshot_id": "snapshot",
    "page_id": "page",
}


@hookimpl
def render_cell(value: Any, column: str, table: str | None, datasette: Any) -> Markup | None:
    """Ids in the views link to the readable pages (a diff, a snapshot, a page's history)."""
    if table not in _LINKED_VIEWS or column not in _CELL_LINKS or not isinstance(value, int):
        return None
    href = datasette.urls.path(f"{ROUTE}/{_CELL_LINKS[column]}/{value}")
    return Markup('<a href="{}">{}</a>').format(href, value)


_LINKED_VIEWS = {"change_log", "latest_snapshots", "page_versions", "contacts_now"}


# -- pages -----------------------------------------------------------------------


async def change_page(datasette: Any, request: Any) -> Response:
    """One change: its page, section, kind and tags, and a word-level diff."""
    db = await _database(datasette)
    change = await _one(db, "select * from change_log where change_id = ?", [_id(request)])
    page_id, change_id = change["page_id"], change["change_id"]
    neighbours = await _one(
        db,
        """select (select max(id) from changes where page_id = :p and id < :c) as previous,
                  (select min(id) from changes where page_id = :p and id > :c) as next""",
        {"p": page_id, "c": change_id},
    )
    context = {
        "change": change,
        "diff": word_diff(change["before"] or "", change["after"] or ""),
        "regions": await _labels(db, "regions", "name_fi", change["regions"]),
        "networks": await _labels(db, "networks", "name", change["networks"]),
        "neighbours": neighbours,
        "page_url": _safe_url(change["page_url"]),
        "change_log": datasette.urls.table(db.name, "change_log"),
        "row_url": datasette.urls.row(db.name, "changes", str(change_id)),
    }
    return await _render(datasette, request, "sotewatch_change.html", context)


async def snapshot_page(datasette: Any, request: Any) -> Response:
    """One version of a page, its sections, contacts and links, readably."""
    db = await _database(datasette)
    version = await _one(db, "select * from page_versions where snapshot_id = ?", [_id(request)])
    row = await _one(db, "select document from snapshots where id = ?", [_id(request)])
    document = Document.from_json(row["document"])
    changes = await db.execute(
        "select id, kind, section, summary from changes where snapshot_id = ? order by id",
        [version["snapshot_id"]],
    )
    context = {
        "version": version,
        "document": document,
        "sections": [
            {"heading": s.path[-1] if s.path else "", "trail": s.path[:-1], "level": len(s.path)}
            | {"paragraphs": s.paragraphs}
            for s in document.sections
        ],
        "links": [
            {"url": _safe_url(link.url), "text": link.text or link.url, "kind": link.kind}
            for link in document.links
            if link.kind != "page"
        ],
        "changes": list(changes),
        "page_url": _safe_url(version["url"]),
    }
    return await _render(datasette, request, "sotewatch_snapshot.html", context)


async def page_history(datasette: Any, request: Any) -> Response:
    """Every version of one page, newest first, each with the changes it brought."""
    db = await _database(datasette)
    page = await _one(db, "select * from pages where id = ?", [_id(request)])
    versions = list(
        await db.execute(
            "select * from page_versions where page_id = ? order by snapshot_id desc", [page["id"]]
        )
    )
    changes = await db.execute(
        """select id, snapshot_id, kind, section, summary, detected_at from changes
           where page_id = ? order by id""",
        [page["id"]],
    )
    by_version: dict[int | None, list] = {}
    for c in changes:
        by_version.setdefault(c["snapshot_id"], []).append(c)
    context = {
        "page": page,
        "title": versions[0]["title"] if versions else page["url"],
        "versions": [{"row": v, "changes": by_version.get(v["snapshot_id"], [])} for v in versions],
        "unversioned": by_version.get(None, []),  # e.g. "page removed": no new snapshot
        "page_url": _safe_url(page["url"]),
        "history_sql": datasette.urls.table(db.name, "page_versions")
        + f"?page_id={page['id']}&_sort_desc=snapshot_id",
    }
    return await _render(datasette, request, "sotewatch_page.html", context)


async def activity_page(datasette: Any, request: Any) -> Response:
    """Changes per county and per network, week by week, as two SVG heat maps."""
    db = await _database(datasette)
    weeks_wanted = _int_arg(request, "weeks", _DEFAULT_WEEKS, 1, 520)
    rows = list(
        await db.execute("select week, dimension, slug, name, changes from weekly_activity")
    )
    weeks = _weeks(rows, weeks_wanted)
    regions = await db.execute("select slug, name_fi from regions order by name_fi")
    networks = await db.execute("select slug, name from networks order by name")
    lang = reading.language(request)
    charts = []
    for dimension, known, column in (
        ("region", list(regions), "regions"),
        ("network", list(networks), "networks"),
    ):
        mine = [r for r in rows if r["dimension"] == dimension]
        counts = {(r["slug"], date.fromisoformat(r["week"])): r["changes"] for r in mine}
        labels = {r[0]: r[1] for r in known} | {r["slug"]: r["name"] for r in mine}
        if lang == "sv" and dimension == "region":  # the taxonomy knows the Swedish names
            labels = {slug: reading.label(slug, dimension, lang) for slug in labels}
        rows_ = sorted(labels.items(), key=lambda kv: kv[1])
        wide, narrow = reading.activity_charts(counts, rows_, weeks, lang)
        base = datasette.urls.table(db.name, "change_log")
        charts.append(
            {"title": reading.labels()[lang][f"chart_{dimension}"], "chart": wide}
            | {"narrow": narrow, "filter": f"{base}?{column}__arraycontains="}
        )
    context = {"charts": charts, "weeks": weeks, "weeks_wanted": weeks_wanted}
    context |= {"span": reading.week_span(weeks), "narrow_weeks": reading.PHONE_WEEKS}
    return await _render(datasette, request, "sotewatch_activity.html", context)


async def change_log_redirect(datasette: Any) -> Response:
    """A stable address for the change log, whatever the database file is called."""
    db = await _database(datasette)
    return Response.redirect(datasette.urls.table(db.name, "change_log"))


async def search_page(datasette: Any, request: Any) -> Response:
    """Search snapshots and changes; every word matches any of its inflected forms."""
    db = await _database(datasette)
    q = (request.args.get("q") or "").strip()
    context: dict[str, Any] = {"q": q, "match": "", "snapshots": [], "changes": []}
    context["pending"] = dict(list(await db.execute(search.PENDING_SQL))[0])  # say what's missing
    if q:
        match, matcher = search.fts_query(q), search.Matcher.for_query(q)
        params = {"match": match, "limit": 50}
        context["match"] = match
        context["snapshots"] = [
            dict(r) | {"snippet": search.snippet(r["text"] or "", matcher, r["language"])}
            for r in await db.execute(search.SEARCH_SNAPSHOTS, params)
        ]
        context["changes"] = [
            dict(r) | {"snippet": _change_snippet(r, matcher)}
            for r in await db.execute(search.SEARCH_CHANGES, params)
        ]
    return await _render(datasette, request, "sotewatch_search.html", context)


# -- helpers ---------------------------------------------------------------------


def _change_snippet(row: Any, matcher: search.Matcher) -> list[search.Segment]:
    """The snippet of whichever text of the change matched: after, before or summary."""
    texts = [row["after"], row["before"], row["summary"], row["section"], row["page_title"]]
    texts = [t for t in texts if t]
    for text in texts:
        segments = search.snippet(text, matcher, "fi")
        if any(hit for _, hit in segments):
            return segments
    return search.snippet(texts[0], matcher, "fi") if texts else []


def _safe_url(url: str | None) -> str | None:
    """Only http(s) links from scraped pages become hrefs (never javascript: or data:)."""
    if url and urlsplit(url).scheme in ("http", "https"):
        return url
    return None


@lru_cache(maxsize=1)
def _project_metadata() -> dict:
    """metadata.yml from the checkout; absent where only the package is installed."""
    if not METADATA.is_file():
        return {}
    return yaml.safe_load(METADATA.read_text(encoding="utf-8")) or {}


async def _database(datasette: Any) -> Any:
    """The served database that holds sotewatch's tables."""
    for name, db in datasette.databases.items():
        if not name.startswith("_") and {"snapshots", "changes"} <= set(await db.table_names()):
            return db
    raise NotFound("No sotewatch database is being served")


async def _one(db: Any, sql: str, params: Any) -> dict:
    rows = list(await db.execute(sql, params))
    if not rows:
        raise NotFound("No such record")
    return dict(rows[0])


async def _labels(db: Any, table: str, column: str, slugs_json: str | None) -> list[dict]:
    """Slugs from a JSON array, with their names where the taxonomy table has them."""
    slugs = json.loads(slugs_json or "[]")
    names = {
        r[0]: r[1]
        for r in await db.execute(
            f"select slug, {column} from {table} where slug in (select value from json_each(?))",
            [json.dumps(slugs)],
        )
    }
    return [{"slug": s, "name": names.get(s) or s, "query": quote(s)} for s in slugs]


def _id(request: Any) -> int:
    """The id in the path; one past SQLite's integer range names no record (404, not 500)."""
    value = int(request.url_vars["id"])
    if value > _MAX_ROWID:
        raise NotFound("No such record")
    return value


_MAX_ROWID = 2**63 - 1


def _int_arg(request: Any, name: str, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(request.args.get(name, default))))
    except ValueError:
        return default


def _weeks(rows: list, wanted: int) -> list[date]:
    """The last `wanted` weeks up to the latest week with a change (or this week)."""
    seen = [date.fromisoformat(r["week"]) for r in rows if r["week"]]
    last = max(seen) if seen else date.today()
    first = min(seen) if seen else last
    first = max(first, last - timedelta(weeks=wanted - 1))
    return week_range(first, last)


async def _render(datasette: Any, request: Any, template: str, context: dict) -> Response:
    context = {"route": datasette.urls.path(ROUTE)} | context
    return Response.html(await datasette.render_template(template, context, request=request))
