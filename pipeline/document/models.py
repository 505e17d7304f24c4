"""The value objects every stage passes along.

A scraper turns a response into a `Document`; everything after the scraper
works on Documents, never on raw HTML. `diff` turns two Documents into
`Change`s, `tag` fills in their regions and networks. All are frozen so a
stage can never alter what an earlier stage produced.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class Contact:
    """A person named as a contact, kept as a record so a diff can say "X replaced Y"."""

    name: str
    title: str = ""
    organisation: str = ""
    phone: str = ""  # E.164 where it parses, else as written
    email: str = ""  # lower-case, "(at)" resolved
    section: str = ""  # heading path joined with " / ": the network it belongs to

    @property
    def key(self) -> str:
        """Identity of a person across versions: the name, case-folded."""
        return " ".join(self.name.split()).casefold()


@dataclass(frozen=True)
class Section:
    """A run of paragraphs under one heading path ("Verkostot / Viestintäverkosto")."""

    path: tuple[str, ...]
    paragraphs: tuple[str, ...] = ()

    @property
    def heading(self) -> str:
        return " / ".join(self.path)

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True)
class Link:
    """A link the page makes; `kind` says what it is for ("page", "attachment", "feed")."""

    url: str
    text: str = ""
    kind: str = "page"


# What the run log, `status`, the digest and `preview` say of a Document.extraction "thin".
THIN_NOTE = (
    "thin extraction: the main-content extractor found under a quarter of the page's "
    "text, so all its visible text is watched; set the source's `include` to the CSS "
    "selector of its content (try it with `sotewatch preview`)"
)


@dataclass(frozen=True)
class Document:
    """What a page says, free of chrome."""

    url: str
    title: str
    language: str = "fi"  # "fi", "sv" or "en"
    sections: tuple[Section, ...] = ()
    contacts: tuple[Contact, ...] = ()
    links: tuple[Link, ...] = ()
    published: str | None = None  # ISO date of publication, when the page gives one
    kind: str = "page"  # "page", "listing", "feed", "pdf"
    # "thin": the main-content extractor missed the page, which is read whole instead
    extraction: str = ""
    # Every block the page showed, content or not: what a site's template is told by
    # (pipeline/changes/repeated.py). Neither stored with the version nor compared.
    shown: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    @property
    def text(self) -> str:
        """The whole readable text: what full-text search and the soft-failure check see."""
        parts: list[str] = [self.title]
        for section in self.sections:
            parts.append(section.heading)
            parts.extend(section.paragraphs)
        return "\n\n".join(p for p in parts if p)

    @property
    def discovered(self) -> tuple[Link, ...]:
        """Links a listing, feed or page offers as pages to watch (news items, attachments)."""
        return tuple(link for link in self.links if link.kind in ("item", "attachment"))

    def to_json(self) -> str:
        """The stored form, and what `content_hash` hashes: sorted keys, compact, UTF-8
        as it is. Changing it changes every stored hash (see migration 007). `extraction`
        is written only when set, so the documents stored before it hash the same."""
        data = {
            "url": self.url,
            "title": self.title,
            "language": self.language,
            "sections": [
                {"path": list(s.path), "paragraphs": list(s.paragraphs)} for s in self.sections
            ],
            "contacts": [asdict(c) for c in self.contacts],
            "links": [asdict(link) for link in self.links],
            "published": self.published,
            "kind": self.kind,
        }
        if self.extraction:
            data["extraction"] = self.extraction
        return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, data: str | dict[str, Any]) -> Document:
        raw = json.loads(data) if isinstance(data, str) else data
        return cls(
            url=raw["url"],
            title=raw["title"],
            language=raw.get("language", "fi"),
            sections=tuple(
                Section(tuple(s["path"]), tuple(s["paragraphs"])) for s in raw.get("sections", ())
            ),
            contacts=tuple(Contact(**c) for c in raw.get("contacts", ())),
            links=tuple(Link(**link) for link in raw.get("links", ())),
            published=raw.get("published"),
            kind=raw.get("kind", "page"),
            extraction=raw.get("extraction", ""),
        )


def content_hash(document_json: str) -> str:
    """Identity of what a page says (of `Document.to_json`): equal hashes, one version."""
    return hashlib.sha256(document_json.encode("utf-8")).hexdigest()


class ChangeKind(StrEnum):
    """What happened; the digest and Datasette group and filter by these."""

    PAGE_ADDED = "page_added"
    PAGE_REMOVED = "page_removed"
    SECTION_ADDED = "section_added"
    SECTION_REMOVED = "section_removed"
    SECTION_RENAMED = "section_renamed"
    TEXT_ADDED = "text_added"
    TEXT_REMOVED = "text_removed"
    TEXT_EDITED = "text_edited"
    TEXT_MOVED = "text_moved"
    CONTACT_ADDED = "contact_added"
    CONTACT_REMOVED = "contact_removed"
    CONTACT_CHANGED = "contact_changed"
    CONTACT_REPLACED = "contact_replaced"
    ATTACHMENT_ADDED = "attachment_added"
    ATTACHMENT_REMOVED = "attachment_removed"
    ATTACHMENT_CHANGED = "attachment_changed"


@dataclass(frozen=True)
class Change:
    """One thing that changed on one page, with the places and groups it concerns.

    `section` is the heading path of the section concerned (empty for page-level
    changes). `before`/`after` are the texts a reader compares; `summary` is one
    line a digest can show on its own. `context` is read by the tagger only.
    """

    kind: ChangeKind
    page_url: str
    page_title: str
    section: str = ""
    before: str = ""
    after: str = ""
    summary: str = ""
    regions: tuple[str, ...] = field(default=())
    networks: tuple[str, ...] = field(default=())
    # What the change concerns beyond what it shows (a moved line's owners and their
    # groups): the tagger reads it; it is not stored.
    context: str = field(default="", compare=False, repr=False)

    def tagged(self, regions: tuple[str, ...], networks: tuple[str, ...]) -> Change:
        return replace(self, regions=tuple(sorted(regions)), networks=tuple(sorted(networks)))
