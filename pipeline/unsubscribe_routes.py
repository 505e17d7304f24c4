"""The unsubscribe page that `browse` serves at /-/sotewatch/unsubscribe/<token>.

GET only shows a page with one button: mail scanners and link previews follow
links, and a reader must not be unsubscribed by them. POST (that button, or a mail
provider's RFC 8058 one-click POST with `List-Unsubscribe=One-Click`) records the
opt-out in the private state database beside the served one. Nothing else in the
browse server writes anything; this writes through its own connection, never the
served database's read-only ones. A token this server did not sign gets a 400 page.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

from datasette.utils.asgi import Response

from pipeline import unsubscribe
from pipeline.errors import ConfigError

log = logging.getLogger(__name__)
PREFIX = "/-/sotewatch/unsubscribe/"
PATTERN = rf"^{PREFIX}(?P<token>[A-Za-z0-9_.-]{{1,400}})$"
_ONE_CLICK = "List-Unsubscribe=One-Click"
PRIVATE_VARIABLE = "SOTEWATCH_PRIVATE_DB"  # the live private db, when browse serves a copy


def skip_csrf(scope: dict) -> bool:
    """A mail provider's one-click POST carries no CSRF cookie; the signed token is the proof."""
    return scope.get("type") == "http" and str(scope.get("path", "")).startswith(PREFIX)


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
    from pipeline.datasette_plugin import _database
    from pipeline.deliver import state_path_for

    if os.environ.get(PRIVATE_VARIABLE):
        return Path(os.environ[PRIVATE_VARIABLE])
    db = await _database(datasette)
    return state_path_for(db.path)


async def _page(datasette: Any, request: Any, state: str, status: int = 200) -> Response:
    html = await datasette.render_template(
        "sotewatch_unsubscribe.html", {"state": state, "action": request.path}, request=request
    )
    response = Response.html(html, status=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token stays out of Referer
    response.headers["X-Robots-Tag"] = "noindex"
    return response
