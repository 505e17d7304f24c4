"""What goes into a reader's digest: their changes, grouped the way they read them.

`build_digest` is pure: changes and what a reader follows in, groups out. A change
appears once: under the one followed region or network it concerns, or, when it
concerns several that the reader follows, in the group of exactly those headings
("Itä-Uusimaa, Keski-Uusimaa, Länsi-Uusimaa, Vantaa-Kerava"), placed beside the
group of its first heading. A reader following one county sees it under that county.
`load_changes` is the one reader of the main database, kept here so every
consumer (mail, feeds, archive) sees the same records.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from sotewatch.pipeline.delivery.subscribers import Follow
from sotewatch.pipeline.document.models import Change, ChangeKind

NATIONAL = "national"


@dataclass(frozen=True)
class ChangeRecord:
    """A stored change with what a reader needs to find it again."""

    id: int
    detected_at: str
    page_url: str
    page_title: str
    snapshot_id: int | None
    previous_snapshot_id: int | None
    source_id: str
    change: Change


@dataclass(frozen=True)
class Group:
    """One heading of the digest: a region, a network, or national / other."""

    kind: str  # "region" | "network" | "national"
    slug: str
    changes: tuple[ChangeRecord, ...]
    also: tuple[tuple[str, str], ...] = ()  # further (kind, slug) headings these changes concern

    @property
    def headings(self) -> tuple[tuple[str, str], ...]:
        """Every (kind, slug) heading of the group, the first one first."""
        return ((self.kind, self.slug), *self.also)


@dataclass(frozen=True)
class Digest:
    language: str
    groups: tuple[Group, ...]
    change_ids: tuple[int, ...]  # each change once, ascending

    @property
    def count(self) -> int:
        return len(self.change_ids)

    @property
    def empty(self) -> bool:
        return not self.change_ids


@dataclass(frozen=True)
class Names:
    """Display names of region and network slugs, in taxonomy order.

    Falls back to the slug itself, so a digest still renders before (or without)
    the taxonomy; `Names.load()` uses sotewatch.pipeline.tagging.taxonomy when it is importable.
    """

    regions: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # slug -> (fi, sv)
    networks: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_taxonomy(cls, taxonomy: Any) -> Names:
        return cls(
            regions={r.slug: (r.name_fi, r.name_sv or r.name_fi) for r in taxonomy.regions},
            networks={n.slug: n.name for n in taxonomy.networks},
        )

    @classmethod
    def of(cls, names_or_taxonomy: Any = None) -> Names:
        """Names as given, made from a tagging.taxonomy Taxonomy, or loaded (None)."""
        if isinstance(names_or_taxonomy, Names):
            return names_or_taxonomy
        if names_or_taxonomy is None:
            return cls.load()
        return cls.from_taxonomy(names_or_taxonomy)

    @classmethod
    def load(cls) -> Names:
        try:
            from sotewatch.pipeline.tagging.taxonomy import load_taxonomy
        except ImportError:
            return cls()
        return cls.from_taxonomy(load_taxonomy())

    def region(self, slug: str, language: str = "fi") -> str:
        fi, sv = self.regions.get(slug, (slug, slug))
        return sv if language == "sv" else fi

    def network(self, slug: str, language: str = "fi") -> str:
        return self.networks.get(slug, slug)

    def title(self, group: Group, language: str) -> str:
        """The group's heading: its region's or network's name, or all of them joined."""
        return ", ".join(self.heading(kind, slug, language) for kind, slug in group.headings)

    def heading(self, kind: str, slug: str, language: str) -> str:
        if kind == "region":
            return self.region(slug, language)
        if kind == "network":
            return self.network(slug, language)
        return ""

    def sort_key(self, kind: str, slug: str) -> tuple[int, int, str]:
        order = list(self.regions if kind == "region" else self.networks)
        rank = order.index(slug) if slug in order else len(order)
        return ({"region": 0, "network": 1}.get(kind, 2), rank, slug)


def build_digest(
    records: Iterable[ChangeRecord],
    follow: Follow,
    language: str = "fi",
    names: Names | None = None,
) -> Digest:
    """Group a reader's changes: regions, then networks, then national / other."""
    names = names or Names()
    ranks: dict[tuple[str, str], tuple[int, int, str]] = {}

    def rank(key: tuple[str, str]) -> tuple[int, int, str]:
        if key not in ranks:
            ranks[key] = names.sort_key(*key)
        return ranks[key]

    buckets: dict[tuple[tuple[str, str], ...], list[ChangeRecord]] = {}
    ids: set[int] = set()
    for record in records:
        keys = placements(record.change, follow)
        if keys:
            ordered_keys = tuple(sorted(keys, key=rank)) if len(keys) > 1 else tuple(keys)
            buckets.setdefault(ordered_keys, []).append(record)
            ids.add(record.id)
    ordered = sorted(buckets, key=lambda keys: [rank(key) for key in keys])
    groups = tuple(
        Group(keys[0][0], keys[0][1], tuple(buckets[keys]), keys[1:]) for keys in ordered
    )
    return Digest(language=language, groups=groups, change_ids=tuple(sorted(ids)))


def placements(change: Change, follow: Follow) -> list[tuple[str, str]]:
    """The (kind, slug) headings a change goes under for this reader; [] if none."""
    keys = [("region", slug) for slug in change.regions if follow.region(slug)]
    keys += [("network", slug) for slug in change.networks if follow.network(slug)]
    if not keys and not change.regions and not change.networks and follow.national:
        keys.append((NATIONAL, ""))
    return keys


def load_changes(
    db: sqlite_utils.Database, after_id: int = 0, until_id: int | None = None
) -> list[ChangeRecord]:
    """Changes with after_id < id <= until_id, oldest first, with their page's title."""
    sql = """
        select c.id, c.detected_at, c.kind, c.section, c.before, c.after, c.summary,
               c.regions, c.networks, c.snapshot_id, c.previous_snapshot_id,
               p.url, p.source_id, coalesce(s.title, ps.title, p.title, p.url) as title
        from changes c
        join pages p on p.id = c.page_id
        left join snapshots s on s.id = c.snapshot_id
        left join snapshots ps on ps.id = c.previous_snapshot_id
        where c.id > ? and (? is null or c.id <= ?)
        order by c.id
    """
    rows = db.execute(sql, [after_id, until_id, until_id]).fetchall()
    return [_record(row) for row in rows]


def newest_change_id(db: sqlite_utils.Database) -> int:
    """The id the next digests run up to; 0 when there is no change yet."""
    return int(db.execute("select coalesce(max(id), 0) from changes").fetchone()[0])


def _record(row: Sequence[Any]) -> ChangeRecord:
    (cid, detected, kind, section, before, after, summary, regions, networks) = row[:9]
    snapshot_id, previous_id, url, source_id, title = row[9:]
    change = Change(
        kind=_kind(kind),
        page_url=url,
        page_title=title or url,
        section=section or "",
        before=before or "",
        after=after or "",
        summary=summary or "",
        regions=tuple(json.loads(regions or "[]")),
        networks=tuple(json.loads(networks or "[]")),
    )
    return ChangeRecord(
        id=cid,
        detected_at=detected or "",
        page_url=url,
        page_title=title or url,
        snapshot_id=snapshot_id,
        previous_snapshot_id=previous_id,
        source_id=source_id or "",
        change=change,
    )


def _kind(value: str) -> ChangeKind:
    """A kind a newer release wrote is still shown (as its raw name), never dropped."""
    try:
        return ChangeKind(value)
    except ValueError:
        return value  # type: ignore[return-value]
