"""After an upgrade: the previous version read again by the running code.

A version's Document is what the code that stored it read from the page. A new
sotewatch may read the same page differently (issue 18 moved main-content extraction
to trafilatura), and comparing its Document with the old code's would report, once, a
change on every page: ours, not the page's. So when a page's latest version was
extracted by other code (`snapshots.code_key`), its stored body is read again with the
running code, and the page's new Document is compared with that baseline instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from sotewatch.pipeline.config import Source
from sotewatch.pipeline.document.models import Document
from sotewatch.pipeline.errors import ExtractionError
from sotewatch.pipeline.fetching.decode import decode_text, parse_content_type
from sotewatch.scrapers.base import Page

StoredBody = tuple[str, bytes, str]  # (final URL, raw body, content type) as stored
BodyReader = Callable[[int], StoredBody | None]  # snapshot id -> its body; None if pruned
Reader = Callable[[Page, str, Source], Document]  # (page, family, source) -> its Document


class Upgrade(StrEnum):
    """What became of a page whose latest version other code extracted."""

    SAME = "same"  # read again, it says what the page says now: no change
    CHANGED = "changed"  # read again, the page has really been edited since
    RESET = "reset"  # no stored body to read again: the new version is the baseline


def stored_page(body: StoredBody) -> Page:
    """A stored body as the fetch that stored it handed it on: decoded with the charset
    it was decoded with then, which its content type names."""
    url, content, content_type = body
    mime, charset = parse_content_type(content_type)
    text, _used = decode_text(content, mime, charset)
    return Page(url=url, content=content, content_type=content_type or "text/html", text=text)


def baseline(
    snapshot_id: int, family: str, source: Source, read_body: BodyReader, reader: Reader
) -> Document | None:
    """The version `snapshot_id` as the running code reads its stored body; None when
    the body is gone (pruned) or the running code cannot read it."""
    body = read_body(snapshot_id)
    if body is None:
        return None
    try:
        return reader(stored_page(body), family, source)
    except ExtractionError:
        return None


@dataclass
class UpgradeTally:
    """How many pages a run read again after an upgrade, for its one log line."""

    counts: dict[Upgrade, int] = field(default_factory=dict)

    def add(self, upgrade: Upgrade) -> None:
        self.counts[upgrade] = self.counts.get(upgrade, 0) + 1

    def level(self) -> int:
        """A warning when an edit made meanwhile may have gone unreported."""
        return logging.WARNING if self.counts.get(Upgrade.RESET) else logging.INFO

    def line(self) -> str | None:
        """The log line, or None when no page was made by other code."""
        total = sum(self.counts.values())
        if not total:
            return None
        changed = self.counts.get(Upgrade.CHANGED, 0)
        reset = self.counts.get(Upgrade.RESET, 0)
        return (
            f"re-read after upgrade: {total} pages, {changed} changed, "
            f"{reset} without a stored body, baseline reset"
        )
