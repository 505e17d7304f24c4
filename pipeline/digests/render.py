"""Digests rendered from templates/ as mail-ready HTML (CSS inlined) and plain text.

Jinja runs with autoescape on for every template but the `.txt` ones and with
StrictUndefined, so a scraped `<script>` is text and a typo in a template fails
loudly instead of printing nothing. Links are rendered only for http(s) URLs.
The word diff of a change is computed once per change however many readers get it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from sotewatch.pipeline.changes.worddiff import word_diff
from sotewatch.pipeline.delivery.subscribers import Follow, Subscriber
from sotewatch.pipeline.digests.digest import ChangeRecord, Digest, Names, build_digest
from sotewatch.pipeline.digests.glance import headline, lead, period_text
from sotewatch.pipeline.digests.summaries import localized_summary
from sotewatch.pipeline.document.models import Change

TEMPLATE_DIR = Path(str(files("sotewatch.templates")))
DEFAULT_DATASETTE = "http://127.0.0.1:8001"
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_PLACEHOLDER = re.compile(r"<!--sotewatch-change:(\d+)-->")

Op = tuple[str, str]


@dataclass(frozen=True)
class SourceHealth:
    """A source that keeps failing: the digest says so, so silence is not mistaken for calm."""

    label: str
    failures: int
    error: str = ""


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class Entry:
    """One change as templates show it, language-independent and computed once."""

    id: int
    kind: str
    title: str
    page_url: str  # "" unless http(s): then no link is rendered
    section: str
    summary: str
    ops: tuple[Op, ...]
    change_url: str
    detected_at: str


@lru_cache(maxsize=8)
def environment(template_dir: Path | None = None) -> Environment:
    """The Jinja environment; a `template_dir` overrides templates by name."""
    dirs = [str(template_dir)] if template_dir else []
    env = Environment(
        loader=FileSystemLoader([*dirs, str(TEMPLATE_DIR)]),
        autoescape=lambda name: name is None or not name.endswith(".txt"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["diff_html"] = diff_html
    env.filters["diff_text"] = diff_text
    env.filters["summary_in"] = summary_in
    return env


@lru_cache(maxsize=1)
def texts() -> dict[str, dict[str, Any]]:
    """Headings and labels per language, from templates/i18n.toml."""
    with (TEMPLATE_DIR / "i18n.toml").open("rb") as handle:
        return tomllib.load(handle)


def summary_in(e: Entry, t: dict[str, Any]) -> str:
    """The entry's stored summary as the reader's language (`t`) says it."""
    said = localized_summary(
        e.kind, e.section, e.summary, t["summaries"], texts()["en"]["summaries"]
    )
    return one_line(said, 300)


def count_label(count: int, language: str) -> str:
    t = texts()[language]
    return t["count_one"] if count == 1 else t["count_many"].format(n=count)


def subject_line(digest: Digest, names: Names) -> str:
    """The most important change and how many more: 'Lappi: uusi yhteyshenkilö Oskari
    Mattila ja 3 muuta muutosta' (sotewatch.pipeline.digests.glance)."""

    def heading(kind: str, slug: str) -> str:
        return names.heading(kind, slug, digest.language)

    return headline(digest, heading, texts()[digest.language])


def http_url(url: str) -> str:
    """The URL if it is an absolute http(s) URL without spaces or controls, else ''."""
    if not url or _CONTROL.search(url) or " " in url:
        return ""
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else ""


def one_line(text: str, limit: int = 200) -> str:
    """Whitespace collapsed (a title can not fake structure) and length capped."""
    text = _SPACE.sub(" ", _CONTROL.sub(" ", text)).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def entry(record: ChangeRecord, datasette_base: str = DEFAULT_DATASETTE) -> Entry:
    change = record.change
    base = http_url(datasette_base.rstrip("/"))
    return Entry(
        id=record.id,
        kind=str(change.kind),
        title=one_line(record.page_title or record.page_url),
        page_url=http_url(record.page_url),
        section=one_line(change.section),
        summary=one_line(change.summary, 300),
        ops=_ops(change, record.page_title),
        change_url=f"{base}/-/sotewatch/change/{record.id}" if base else "",
        detected_at=record.detected_at,
    )


def _ops(change: Change, title: str) -> tuple[Op, ...]:
    """What an entry shows of its texts: a new page's lead, a removed page's lead struck
    out, a move as its from-to summary (no ops), an edit as its short word diff."""
    if change.kind == "page_added":
        return (("insert", lead(change.after, title)),)
    if change.kind == "page_removed":
        return (("delete", lead(change.before, title)),)
    if change.kind == "text_moved":
        return ()
    return short_diff(change.before, change.after)


@lru_cache(maxsize=16384)
def short_diff(before: str, after: str, context: int = 12, limit: int = 300) -> tuple[Op, ...]:
    """The word diff with long unchanged runs cut to `context` words around each change."""
    ops = word_diff(before, after)
    result: list[Op] = []
    for index, (op, text) in enumerate(ops):
        if op == "equal":
            text = _trim_equal(text, context, first=index == 0, last=index == len(ops) - 1)
        elif len(text) > limit:
            text = text[:limit].rstrip() + "…"
        result.append((op, text))
    return tuple(result)


def _trim_equal(text: str, context: int, *, first: bool, last: bool) -> str:
    words = text.split(" ")
    if len(words) <= 2 * context + 1:
        return text
    if first and last:
        return " ".join(words[:context]) + " …"
    if first:
        return "… " + " ".join(words[-context:])
    if last:
        return " ".join(words[:context]) + " …"
    return " ".join(words[:context]) + " … " + " ".join(words[-context:])


def diff_html(ops: Iterable[Op]) -> Markup:
    """Escaped text with <del>/<ins> around the changed words."""
    parts = []
    for op, text in ops:
        if op == "delete":
            parts.append(Markup('<del class="del">{}</del>').format(text))
        elif op == "insert":
            parts.append(Markup('<ins class="ins">{}</ins>').format(text))
        else:
            parts.append(escape(text))
    return Markup("").join(parts)


def diff_text(ops: Iterable[Op]) -> str:
    """Plain-text markup readers of text mail know from wdiff: [-old-]{+new+}."""
    marks = {"delete": "[-{}-]", "insert": "{{+{}+}}", "equal": "{}"}
    return one_line("".join(marks[op].format(text) for op, text in ops), 2000)


@dataclass(frozen=True)
class Item:
    """One change in one language, as the digest templates place it."""

    id: int
    html: Markup  # a placeholder until `RenderCache.fill` swaps in the inlined fragment
    text: str


@dataclass
class RenderCache:
    """Each change is diffed, rendered and CSS-inlined once per language, however many
    readers' digests show it (1,000 readers over 2,000 changes: see bench_render).
    One cache serves one Datasette base URL."""

    entries: dict[int, Entry] = field(default_factory=dict)
    fragments: dict[tuple[int, str], tuple[str, str]] = field(default_factory=dict)
    template_dir: Path | None = None

    def entry(self, record: ChangeRecord, datasette_base: str) -> Entry:
        if record.id not in self.entries:
            self.entries[record.id] = entry(record, datasette_base)
        return self.entries[record.id]

    def item(self, record: ChangeRecord, language: str, datasette_base: str) -> Item:
        key = (record.id, language)
        if key not in self.fragments:
            env = environment(self.template_dir)
            context = {"t": texts()[language], "e": self.entry(record, datasette_base)}
            html = env.get_template("_change.html").render(context)
            css = env.get_template("_mail.css").render()
            text = env.get_template("_change.txt").render(context)
            self.fragments[key] = (_INLINER.inline_fragment(html, css), text)
        placeholder = Markup(f"<!--sotewatch-change:{record.id}-->")
        return Item(record.id, placeholder, self.fragments[key][1])

    def fill(self, html: str, language: str) -> str:
        """Swap each placeholder for its fragment, in one pass (a fragment is never re-scanned)."""

        def fragment(match: re.Match[str]) -> str:
            return self.fragments[(int(match.group(1)), language)][0]

        return _PLACEHOLDER.sub(fragment, html)


def render_digest(
    digest: Digest,
    *,
    names: Names,
    datasette_base: str = DEFAULT_DATASETTE,
    health: Sequence[SourceHealth | tuple[str, int, str]] = (),
    subscriber: Subscriber | None = None,
    unsubscribe: str = "",
    period: str = "",
    cache: RenderCache | None = None,
    template: str = "digest",
    extra: dict[str, Any] | None = None,
) -> Rendered:
    """Subject, inlined HTML and text of one digest. Pass one `cache` across many
    digests so each change is diffed and rendered once per language."""
    cache = cache if cache is not None else RenderCache()
    context = _context(digest, names, datasette_base, health, subscriber, period, cache)
    context.update(unsubscribe=http_url(unsubscribe), **(extra or {}))
    env = environment(cache.template_dir)
    html = env.get_template(f"{template}.html").render(context)
    text = env.get_template("digest.txt").render(context)
    return Rendered(context["subject"], cache.fill(inline_css(html), digest.language), text)


def inline_css(html: str) -> str:
    """CSS into style attributes (Outlook, Gmail); @media rules stay in <style> for phones
    and dark mode. The charset declaration goes back to the top, where browsers look."""
    inlined = _INLINER.inline(html)
    meta = '<meta charset="utf-8">'
    if meta in inlined:
        inlined = inlined.replace(meta, "", 1).replace("<head>", f"<head>{meta}", 1)
    return inlined


def render_overview(
    changes: Sequence[ChangeRecord],
    names: Any = None,
    *,
    language: str = "fi",
    datasette_base: str = DEFAULT_DATASETTE,
    health: Sequence[SourceHealth | tuple[str, int, str]] = (),
    period: str = "",
) -> Rendered:
    """The all-changes digest the demo writes: every change, every heading.
    `names`: Names, a sotewatch.pipeline.tagging.taxonomy Taxonomy, or None to load the taxonomy."""
    names = Names.of(names)
    digest = build_digest(changes, Follow.everything(), language, names)
    return render_digest(
        digest, names=names, datasette_base=datasette_base, health=health, period=period
    )


def health_notes(health: Sequence[SourceHealth | tuple[str, int, str]]) -> list[SourceHealth]:
    notes = [h if isinstance(h, SourceHealth) else SourceHealth(*h) for h in health]
    return [SourceHealth(one_line(n.label), n.failures, one_line(n.error, 300)) for n in notes]


def _context(
    digest: Digest,
    names: Names,
    datasette_base: str,
    health: Sequence[SourceHealth | tuple[str, int, str]],
    subscriber: Subscriber | None,
    period: str,
    cache: RenderCache,
) -> dict[str, Any]:
    t = texts()[digest.language]
    groups = []
    for group in digest.groups:
        items = [cache.item(record, digest.language, datasette_base) for record in group.changes]
        title = names.title(group, digest.language) or t["national"]
        groups.append({"kind": group.kind, "slug": group.slug, "title": title, "entries": items})
    return {
        "lang": digest.language,
        "t": t,
        "subject": subject_line(digest, names) if not digest.empty else t["no_changes"],
        "count": count_label(digest.count, digest.language),
        "period": one_line(period_text(period)),
        "groups": groups,
        "health": health_notes(health),
        "follows": _follows(subscriber, names, t) if subscriber else "",
        "recipient": one_line(subscriber.name) if subscriber else "",
    }


def _follows(subscriber: Subscriber, names: Names, t: dict[str, Any]) -> str:
    """What the reader follows, in their language, for the footer."""
    follow, lang = subscriber.follow, subscriber.language
    if follow.regions is None and follow.networks is None:
        return t["everything"]
    parts: list[str] = []
    parts += [t["regions"]] if follow.regions is None else []
    parts += [names.region(s, lang) for s in sorted(follow.regions or ())]
    parts += [t["networks"]] if follow.networks is None else []
    parts += [names.network(s, lang) for s in sorted(follow.networks or ())]
    if follow.national:
        parts.append(t["national"])
    return ", ".join(parts)
