"""A digest as Markdown with links, for chat channels (Teams, Slack, Matrix, webhooks).

Pure: a Digest in, (title, Markdown) out. Scraped text is escaped, so a page
cannot add links, headings or mentions of its own; only the links we make are links.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

from sotewatch.pipeline.changes.worddiff import Op
from sotewatch.pipeline.digests.digest import Digest, Names
from sotewatch.pipeline.digests.render import (
    DEFAULT_DATASETTE,
    Entry,
    count_label,
    entry,
    one_line,
    subject_line,
    summary_in,
    texts,
)

# Inline markup only: every scraped text sits mid-line (after "- **kind**: " or a
# heading's "### "), where "#", "-" or "1." start nothing.
_SPECIAL = re.compile(r"([\\`*_\[\]<>~|])")
MAX_ITEMS = 60  # chat services cut long messages (Teams ~28 KB): a link to the rest instead


def escape(text: str) -> str:
    """Literal text in Markdown: every character with a meaning is backslash-escaped."""
    return _SPECIAL.sub(r"\\\1", one_line(text, 2000))


def link(label: str, url: str) -> str:
    """[label](url), with the few characters that would end the URL early encoded."""
    return f"[{escape(label)}]({quote(url, safe=':/?#&=%;,+@!$*~._-')})"


def render_markdown(
    digest: Digest,
    names: Names,
    *,
    datasette_base: str = DEFAULT_DATASETTE,
    period: str = "",
) -> tuple[str, str]:
    """(title, body): one heading per region or network, one bullet per change."""
    t = texts()[digest.language]
    count = count_label(digest.count, digest.language)
    lines = [f"**{escape(count)}**" + (f" · {escape(period)}" if period else ""), ""]
    shown = 0
    for group in digest.groups:
        lines += [f"### {escape(names.title(group, digest.language) or t['national'])}", ""]
        for record in group.changes:
            if shown == MAX_ITEMS:
                break
            lines += _item(entry(record, datasette_base), t)
            shown += 1
        lines.append("")
    if shown < sum(len(g.changes) for g in digest.groups):
        base = datasette_base.rstrip("/")
        lines.append(link("…", f"{base}/-/sotewatch/changes") if base else "…")
    return one_line(subject_line(digest, names)), "\n".join(lines).strip() + "\n"


def _item(e: Entry, t: dict) -> list[str]:
    kind = escape(t["kinds"].get(e.kind, e.kind))
    title = link(e.title, e.page_url) if e.page_url else escape(e.title)
    head = f"- **{kind}**: {title}" + (f" · {escape(e.section)}" if e.section else "")
    lines = [head]
    if e.ops:
        lines.append(f"  {diff_markdown(e.ops)}")
    elif e.summary:
        lines.append(f"  {escape(summary_in(e, t))}")
    if e.change_url:
        lines.append(f"  {link(t['open_change'], e.change_url)}")
    return lines


def diff_markdown(ops: Iterable[Op]) -> str:
    """Deleted words struck through, inserted ones in bold, the rest as it was."""
    parts, previous = [], ""
    for op, text in ops:
        words = _SPECIAL.sub(r"\\\1", re.sub(r"\s", " ", text))  # its edges kept
        core = " ".join(words.split())
        if op in ("delete", "insert") and core:
            mark = "~~" if op == "delete" else "**"
            lead = " " if words[:1].isspace() or previous == "delete" else ""
            trail = " " if words[-1:].isspace() else ""
            parts.append(f"{lead}{mark}{core}{mark}{trail}")
        else:
            parts.append(words)
        previous = op
    return " ".join("".join(parts).split())
