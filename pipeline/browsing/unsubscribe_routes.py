"""The pages behind a reader's signed token that `browse` serves: unsubscribe
(/-/sotewatch/unsubscribe/<token>) and preferences (/-/sotewatch/preferences/<token>).

GET only shows a page (one button to leave, or a form): mail scanners and link
previews follow links, and a reader must not be unsubscribed by them. POST (that
button, or a mail provider's RFC 8058 one-click POST with `List-Unsubscribe=One-Click`)
records the opt-out, or saves the form, in the private state database. They are the
only routes of the browse server that write, through their own connection, never
the served database's read-only ones. A token this server did not sign gets a 400 page.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from datasette.utils.asgi import Response

from sotewatch.pipeline.delivery import preferences, unsubscribe
from sotewatch.pipeline.errors import ConfigError

log = logging.getLogger(__name__)
PREFIX = "/-/sotewatch/unsubscribe/"
PATTERN = rf"^{PREFIX}(?P<token>[A-Za-z0-9_.-]{{1,400}})$"
PREFERENCES = "/-/sotewatch/preferences/"
PREFERENCES_PATTERN = rf"^{PREFERENCES}(?P<token>[A-Za-z0-9_.-]{{1,400}})$"
_ONE_CLICK = "List-Unsubscribe=One-Click"
PRIVATE_VARIABLE = "SOTEWATCH_PRIVATE_DB"  # the live private db, when browse serves a copy


def skip_csrf(scope: dict) -> bool:
    """A mail provider's one-click POST carries no CSRF cookie; the signed token is the proof."""
    path = str(scope.get("path", ""))
    return scope.get("type") == "http" and path.startswith((PREFIX, PREFERENCES))


async def unsubscribe_page(datasette: Any, request: Any) -> Response:
    """GET: the confirmation page. POST: record the opt-out, then say so."""
    try:
        secret = unsubscribe.secret_from_env(os.environ)
    except ConfigError as exc:
        log.error("unsubscribe: %s", exc)
        return await _page(datasette, request, "unavailable", status=503)
    try:
        subscriber_id = unsubscribe.verify(secret, request.url_vars["token"])
    except unsubscribe.BadToken:
        return await _page(datasette, request, "invalid", status=400)
    if request.method != "POST":
        return await _page(datasette, request, "confirm")
    body = (await request.post_body()).decode("utf-8", "replace")
    how = "one-click" if _ONE_CLICK in body else "page"
    state = await _state_path(datasette)
    if not state.is_file():  # an opt-out no send would ever read is no opt-out
        log.error("unsubscribe: no private database at %s (set %s)", state, PRIVATE_VARIABLE)
        return await _page(datasette, request, "unavailable", status=503)
    await asyncio.to_thread(unsubscribe.record_optout, state, subscriber_id, how)
    log.info("unsubscribe: %s left (%s)", subscriber_id, how)
    return await _page(datasette, request, "done")


async def _state_path(datasette: Any) -> Path:
    """$SOTEWATCH_PRIVATE_DB (when browse serves a copy), else the private database
    beside the served one (sotewatch.db -> sotewatch-private.db)."""
    from sotewatch.pipeline.browsing.datasette_plugin import _database
    from sotewatch.pipeline.delivery.deliver import state_path_for

    if os.environ.get(PRIVATE_VARIABLE):
        return Path(os.environ[PRIVATE_VARIABLE])
    db = await _database(datasette)
    return state_path_for(db.path)


async def preferences_page(datasette: Any, request: Any) -> Response:
    """GET: the reader's counties, networks and schedule as a form. POST: save them."""
    from sotewatch.pipeline.browsing.datasette_reading import names as _names

    try:
        subscriber_id = unsubscribe.verify(
            unsubscribe.secret_from_env(os.environ), request.url_vars["token"]
        )
    except (ConfigError, unsubscribe.BadToken):
        return await _page(datasette, request, "invalid", status=400)
    state, names = await _state_path(datasette), _names()
    if not state.is_file():
        return await _page(datasette, request, "unavailable", status=503)
    saved = request.method == "POST"
    if saved:
        form = parse_qs((await request.post_body()).decode("utf-8", "replace"))
        chosen = preferences.from_form(subscriber_id, form, names.regions, names.networks)
        await asyncio.to_thread(preferences.save_preference, state, chosen)
    mine = (await asyncio.to_thread(preferences.load_preferences, state)).get(subscriber_id)
    context = {
        "saved": saved,
        "chosen": mine is not None,
        "frequency": mine.frequency if mine else "weekly",
        "regions": _choices(names.regions, names.region, mine.regions if mine else ()),
        "networks": _choices(names.networks, names.network, mine.networks if mine else ()),
        "action": request.path,
        "unsubscribe": request.path.replace(PREFERENCES, PREFIX, 1),
    }
    html = await datasette.render_template("sotewatch_preferences.html", context, request=request)
    return _private(Response.html(html))


def _choices(slugs: Any, label: Any, chosen: Any) -> list[dict]:
    items = [{"slug": s, "name": label(s), "checked": s in chosen} for s in slugs]
    return sorted(items, key=lambda item: item["name"])


async def _page(datasette: Any, request: Any, state: str, status: int = 200) -> Response:
    context = {
        "state": state,
        "action": request.path,
        "preferences": request.path.replace(PREFIX, PREFERENCES, 1),
    }
    html = await datasette.render_template("sotewatch_unsubscribe.html", context, request=request)
    return _private(Response.html(html, status=status))


def _private(response: Response) -> Response:
    """A page behind a personal token: never cached, never indexed, token not in Referer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token stays out of Referer
    response.headers["X-Robots-Tag"] = "noindex"
    return response
