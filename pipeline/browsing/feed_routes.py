"""The Atom feeds per county and per network, served by `browse` at stable URLs.

    /-/sotewatch/feeds                      the list (linked from the home page)
    /-/sotewatch/feeds/region-<slug>.xml    one county's newest changes
    /-/sotewatch/feeds/network-<slug>.xml   one network's newest changes

The XML is sotewatch.pipeline.digests.feeds.feed_xml, the same the `digest` command writes to
out/feeds/; entry ids are tag URIs of the change ids, so they stay the same from
one run to the next and a feed reader never shows a change twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlite_utils
from datasette.utils.asgi import NotFound, Response

from sotewatch.pipeline.browsing.datasette_reading import names as _names
from sotewatch.pipeline.digests.digest import load_changes
from sotewatch.pipeline.digests.feeds import FEED_SIZE, feed_xml

INDEX = "/-/sotewatch/feeds"
INDEX_PATTERN = rf"^{INDEX}$"
FEED_PATTERN = rf"^{INDEX}/(?P<kind>region|network)-(?P<slug>[a-z0-9-]{{1,80}})\.xml$"


async def feed_page(datasette: Any, request: Any) -> Response:
    """One feed; 404 for a slug the taxonomy does not know and no change carries."""
    from sotewatch.pipeline.browsing.datasette_plugin import _database

    kind, slug = request.url_vars["kind"], request.url_vars["slug"]
    names = _names()
    db = await _database(datasette)
    after_id = await db.execute_fn(lambda conn: _window(conn, kind, slug))
    if after_id is None and slug not in (names.regions if kind == "region" else names.networks):
        raise NotFound(f"No {kind} {slug!r}")
    records = await db.execute_fn(
        lambda conn: load_changes(sqlite_utils.Database(conn), after_id or 0)
    )
    base = datasette.absolute_url(request, datasette.urls.path("/")).rstrip("/")
    xml = feed_xml(
        kind, slug, records, names=names, now=datetime.now(UTC), datasette_base=base,
        self_url=f"{base}{INDEX}/{kind}-{slug}.xml",
    )  # fmt: skip
    return Response(
        xml,
        content_type="application/atom+xml; charset=utf-8",
        headers={"Cache-Control": "max-age=300"},
    )


def _window(conn: Any, kind: str, slug: str) -> int | None:
    """The change id after which the feed's newest FEED_SIZE changes lie; None: no change."""
    rows = conn.execute(
        f"""select c.id from changes c, json_each(c.{kind}s) j where j.value = ?
            order by c.id desc limit ?""",
        [slug, FEED_SIZE],
    ).fetchall()
    return rows[-1][0] - 1 if rows else None


async def feeds_index(datasette: Any, request: Any) -> Response:
    """Every county's and network's feed, by name, with <link rel=alternate> for readers."""
    names = _names()
    base = datasette.urls.path(INDEX)
    groups: list[dict[str, Any]] = [
        {"title": "Hyvinvointialueet · Counties", "feeds": [
            {"name": names.region(s), "href": f"{base}/region-{s}.xml"} for s in names.regions
        ]},
        {"title": "Verkostot · Networks", "feeds": [
            {"name": names.network(s), "href": f"{base}/network-{s}.xml"} for s in names.networks
        ]},
    ]  # fmt: skip
    for group in groups:
        group["feeds"].sort(key=lambda f: f["name"])
    html = await datasette.render_template(
        "sotewatch_feeds.html", {"groups": groups}, request=request
    )
    return Response.html(html)
