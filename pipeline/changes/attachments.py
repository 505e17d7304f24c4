"""Attachments (links of kind "attachment") compared by URL: added, removed, or changed
(same URL with another text, or same text at another URL)."""

from __future__ import annotations

from collections.abc import Sequence

from sotewatch.pipeline.changes.contactdiff import PageRef
from sotewatch.pipeline.changes.worddiff import has_meaningful_difference, meaningful_key
from sotewatch.pipeline.document.models import Change, ChangeKind, Link


def attachment_changes(page: PageRef, old: Sequence[Link], new: Sequence[Link]) -> list[Change]:
    before = {link.url: link for link in old if link.kind == "attachment"}
    after = {link.url: link for link in new if link.kind == "attachment"}
    changes = []
    for url, link in after.items():
        if url in before and has_meaningful_difference(before[url].text, link.text):
            changes.append(_attachment(page, ChangeKind.ATTACHMENT_CHANGED, before[url], link))
    gone = [link for url, link in before.items() if url not in after]
    came = [link for url, link in after.items() if url not in before]
    for link in list(came):
        same_text = next(
            (g for g in gone if g.text and meaningful_key(g.text) == meaningful_key(link.text)),
            None,
        )
        if same_text is not None:
            gone.remove(same_text)
            came.remove(link)
            changes.append(_attachment(page, ChangeKind.ATTACHMENT_CHANGED, same_text, link))
    changes += [_attachment(page, ChangeKind.ATTACHMENT_REMOVED, link, None) for link in gone]
    changes += [_attachment(page, ChangeKind.ATTACHMENT_ADDED, None, link) for link in came]
    return changes


_ATTACHMENT_VERBS = {
    ChangeKind.ATTACHMENT_ADDED: "New attachment",
    ChangeKind.ATTACHMENT_REMOVED: "Attachment removed",
    ChangeKind.ATTACHMENT_CHANGED: "Attachment changed",
}


def _attachment(page: PageRef, kind: ChangeKind, old: Link | None, new: Link | None) -> Change:
    before = f"{old.text} <{old.url}>" if old else ""
    after = f"{new.text} <{new.url}>" if new else ""
    link = new or old
    name = (link.text or link.url) if link else ""
    verb = _ATTACHMENT_VERBS[kind]
    return page.change(kind, "", before, after, f"{verb}: {name}")
