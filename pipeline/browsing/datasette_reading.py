"""Datasette in the reader's terms: Finnish by default (Swedish and English a click
away), counties and networks by name, one date format, long texts folded.

A second Datasette plugin beside browsing.datasette_plugin (which draws the pages):
this one supplies their words (data/datasette/labels.toml, change kinds from
templates/i18n.toml), a `/-/sotewatch/lang/<code>` switch remembered in a cookie,
and `render_cell` for every table and view: slugs become names, ISO timestamps
"6.12.2026 05:17", and a text longer than a line or two is shortened with the full
text one click away (an HTML <details>). Facets show names through the
`_facet_results.html` override in data/datasette/templates.
"""

from __future__ import annotations

import json
import re
import tomllib
from contextvars import ContextVar
from datetime import date, timedelta
from functools import lru_cache
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

from datasette import hookimpl
from datasette.utils.asgi import Response
from jinja2 import pass_context
from markupsafe import Markup

from sotewatch.pipeline.browsing.svgchart import Heatmap, day, heatmap
from sotewatch.pipeline.config import DATA_DIR
from sotewatch.pipeline.digests.digest import Names

LANGUAGES = ("fi", "sv", "en")
DEFAULT_LANGUAGE = "fi"
COOKIE = "sotewatch_lang"
ARGUMENT = "_lang"
LABELS = DATA_DIR / "datasette" / "labels.toml"
SHORT_TEXT = 100  # characters of a table cell before it folds: two or three lines
PHONE_WEEKS = 8  # weeks the activity chart shows on a narrow screen
PHONE_WIDTH = 340  # pixels of that chart: a 375 px screen less the page's margins
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?Z?)?$")
_DATE_COLUMNS = frozenset({"started", "finished", "first_seen", "last_seen", "last_checked"})
_TEXT_COLUMNS = frozenset({"before", "after", "summary", "text", "document", "lemmas", "error"})
_SLUG_COLUMNS = {"regions": "region", "region": "region", "networks": "network"}
_SLUG_COLUMNS |= {"network": "network"}
# The language of the request being served: Datasette 0.65's render_cell is not told
# the request, so the ASGI wrapper below sets it for each one.
_CURRENT: ContextVar[str] = ContextVar("sotewatch_lang", default=DEFAULT_LANGUAGE)


@lru_cache(maxsize=1)
def labels() -> dict[str, dict[str, Any]]:
    """The pages' words per language, with the change kinds' names and summaries'
    wordings from the digest's."""
    from sotewatch.pipeline.digests.render import texts

    raw = tomllib.loads(LABELS.read_text(encoding="utf-8"))
    return {
        lang: raw[lang] | {"kinds": texts()[lang]["kinds"], "summaries": texts()[lang]["summaries"]}
        for lang in LANGUAGES
    }


def summary(row: Any, lang: str) -> str:
    """A change row's stored summary in `lang`, as the digest says it (digests.summaries)."""
    from sotewatch.pipeline.digests.summaries import localized_summary

    english = labels()["en"]["summaries"]
    kind, section, stored = (row["kind"] or "", row["section"] or "", row["summary"] or "")
    return localized_summary(kind, section, stored, labels()[lang]["summaries"], english)


@lru_cache(maxsize=1)
def names() -> Names:
    return Names.load()


def language(request: Any) -> str:
    """?_lang= for one page, else the cookie the switch set, else Finnish. (The
    underscore: on a table page Datasette reads any other argument as a filter.)"""
    if request is None:
        return DEFAULT_LANGUAGE
    wanted = request.args.get(ARGUMENT) or request.cookies.get(COOKIE, "")
    return wanted if wanted in LANGUAGES else DEFAULT_LANGUAGE


def fi_date(value: Any) -> str:
    """An ISO date or timestamp as "6.12.2026" or "6.12.2026 05:17" (UTC); else as it is."""
    match = _ISO.match(str(value or ""))
    if not match:
        return "" if value is None else str(value)
    year, month, day, hour, minute = match.groups()
    shown = f"{int(day)}.{int(month)}.{year}"
    return f"{shown} {hour}:{minute}" if hour else shown


def label(slug: str, kind: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A region's or network's name in `lang`, or a change kind's; the slug if unknown."""
    if kind == "region":
        return names().region(slug, lang)
    if kind == "network":
        return names().network(slug, lang)
    if kind == "kind":
        return labels()[lang]["kinds"].get(slug, slug)
    return slug


def shorten(text: str, more: str, limit: int = SHORT_TEXT) -> Markup | None:
    """A long text as its first words, unfolding to the whole (None when it is short)."""
    if len(text) <= limit:
        return None
    head = " ".join(text[:limit].split()[:-1]) or text[:limit]
    return Markup(
        '<details class="sw-fold"><summary>{} … <small>({})</small></summary>'
        '<div style="white-space: pre-wrap">{}</div></details>'
    ).format(head, more, text)


def cell(value: Any, column: str, lang: str) -> Markup | None:
    """How a table cell reads: names for slugs, one date format, long texts folded."""
    if not isinstance(value, str):
        return None
    if column in _SLUG_COLUMNS:
        return _names_cell(value, _SLUG_COLUMNS[column], lang)
    if column == "kind" and value in labels()[lang]["kinds"]:
        return Markup('<span title="{}">{}</span>').format(value, label(value, "kind", lang))
    if column.endswith("_at") or column in _DATE_COLUMNS or column == "week":
        shown = fi_date(value)
        return None if shown == value else Markup('<span title="{}">{}</span>').format(value, shown)
    if column in _TEXT_COLUMNS or len(value) > 4 * SHORT_TEXT:
        return shorten(value, labels()[lang]["show_all"])
    return None


def _names_cell(value: str, kind: str, lang: str) -> Markup | None:
    try:
        slugs = json.loads(value) if value.startswith("[") else [value]
    except ValueError:
        return None
    if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
        return None
    shown = ", ".join(label(s, kind, lang) for s in slugs)
    return Markup('<span title="{}">{}</span>').format(", ".join(slugs), shown)


def activity_charts(
    counts: dict[tuple[str, date], int],
    rows: list[tuple[str, str]],
    weeks: list[date],
    lang: str,
) -> tuple[Heatmap, Heatmap]:
    """The activity heat map twice: every week asked for on a wide screen, the last
    PHONE_WEEKS on a phone (the page's CSS shows one of them), tooltips in `lang`."""
    t = labels()[lang]

    def describe(label: str, monday: date, count: int) -> str:
        span = t["week_of"].format(first=day(monday), last=day(monday + timedelta(days=6)))
        changes = t["change_one"] if count == 1 else t["change_many"].format(n=count)
        return f"{label}, {span}: {changes}"

    wide = heatmap(counts, rows, weeks, describe=describe)
    narrow = heatmap(
        counts, rows, weeks[-PHONE_WEEKS:], PHONE_WIDTH, label_width=120, describe=describe
    )
    return wide, narrow


def week_span(weeks: list[date]) -> dict[str, str]:
    """The first Monday and the last Sunday of the weeks shown, as the pages write dates."""
    if not weeks:
        return {"first": "", "last": ""}
    return {"first": day(weeks[0]), "last": day(weeks[-1] + timedelta(days=6))}


# -- hooks -----------------------------------------------------------------------


@hookimpl
def extra_template_vars(request: Any) -> dict[str, Any]:
    lang = language(request)
    return {"t": labels()[lang], "lang": lang, "languages": _switch(lang)}


@hookimpl
def prepare_jinja2_environment(env: Any) -> None:
    env.filters["sw_date"] = fi_date
    env.filters["sw_label"] = _facet_label
    env.filters["sw_summary"] = summary


@hookimpl
def render_cell(row: Any, value: Any, column: str) -> Markup | None:
    lang = _CURRENT.get()
    if column == "summary" and isinstance(value, str) and _has(row, ("kind", "section")):
        said = summary(row, lang)  # the change log's summaries as its pages say them
        return cell(said, column, lang) or (Markup.escape(said) if said != value else None)
    return cell(value, column, lang)


def _has(row: Any, columns: tuple[str, ...]) -> bool:
    """Whether a table row (a sqlite3.Row: IndexError for a missing name) has the columns."""
    try:
        for column in columns:
            row[column]
    except (KeyError, IndexError):
        return False
    return True


@hookimpl
def asgi_wrapper() -> Any:
    def wrap(app: Any) -> Any:
        async def with_language(scope: dict, receive: Any, send: Any) -> None:
            if scope.get("type") == "http":
                _CURRENT.set(_scope_language(scope))
            await app(scope, receive, send)

        return with_language

    return wrap


def _scope_language(scope: dict) -> str:
    """language() for a raw ASGI request: ?_lang=, else the cookie, else Finnish."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    wanted = (query.get(ARGUMENT) or [""])[0]
    if not wanted:
        headers = dict(scope.get("headers") or [])
        jar: SimpleCookie = SimpleCookie(headers.get(b"cookie", b"").decode("latin-1"))
        wanted = jar[COOKIE].value if COOKIE in jar else ""
    return wanted if wanted in LANGUAGES else DEFAULT_LANGUAGE


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [(r"^/-/sotewatch/lang/(?P<lang>fi|sv|en)$", switch_language)]


async def switch_language(request: Any) -> Response:
    """Remember the language in a cookie and go back to the page the reader was on."""
    lang = request.url_vars["lang"]
    back = urlsplit(request.args.get("next") or request.headers.get("referer") or "/")
    target = back.path if back.path.startswith("/") and not back.path.startswith("//") else "/"
    target += f"?{back.query}" if back.query else ""
    response = Response.redirect(target)
    response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax")
    return response


@pass_context
def _facet_label(context: Any, value: Any, column: str) -> str:
    """A facet's value by name: "Lappi", not "lappi"; a kind as the digest names it;
    a date as the pages write dates."""
    kind = "kind" if column == "kind" else _SLUG_COLUMNS.get(column, "")
    lang = context.get("lang", DEFAULT_LANGUAGE)
    if value is None:
        return ""
    return label(str(value), kind, lang) if kind else fi_date(value)


def _switch(current: str) -> list[dict[str, Any]]:
    return [
        {"code": code, "name": labels()[code]["language_name"], "current": code == current}
        for code in LANGUAGES
    ]
