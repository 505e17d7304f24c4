"""Full-text search over snapshots and changes, that finds Finnish words in any inflection.

SQLite FTS5 with `unicode61 remove_diacritics 0` keeps ä, ö and å distinct from a and
o ("särkyä" is not "sarkya"), but it matches whole tokens only, and Finnish inflects
place names: a page says "Lapissa", the reader types "Lappi". So each indexed row also
carries a `lemmas` column, the base forms of its words, and a query is widened the
same way: every term matches its own form or any of its base forms. The migration
`002_search` creates the tables; `index_new` fills them after each run (SQLite
triggers cannot call a Python lemmatiser).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import simplemma

QUERY_LANGUAGES = ("fi", "sv")  # a query has no language; try both of ours
_WORD = re.compile(r"\w+(?:-\w+)*\*?")
_BATCH = 200  # rows per transaction: a long index never blocks a run for long
OPTIMISE_SHARE = 0.25  # of the index's rows deleted since its last rewrite


@dataclass(frozen=True)
class IndexStats:
    """How many rows one `index_new` call added to (and dropped from) the index, or
    (from `pending`) how many it has yet to add."""

    snapshots: int = 0
    changes: int = 0
    dropped: int = 0


# -- lemmas ----------------------------------------------------------------------


def _tag_lemmas() -> Callable[[str, str], list[str]] | None:
    """The tagger's lemmatiser when it exists, so tagging and search agree on base forms."""
    try:
        from sotewatch.pipeline.tagging.lemmas import lemmas
    except ImportError:
        return None
    return lemmas


# simplemma's memory-frugal backend reads its compressed dictionaries as they are
# instead of building a dict of every form: the same lemmas, `browse` under 200 MB
# (the default backend holds some 400 MB for Finnish and Swedish).
LOW_MEMORY = True


@lru_cache(maxsize=200_000)
def _lemma(token: str, lang: str) -> str:
    return simplemma.lemmatize(token, lang=(lang,), low_memory=LOW_MEMORY)


def _simplemma_lemmas(text: str, lang: str) -> list[str]:
    lang = lang if lang in ("fi", "sv", "en") else "fi"
    return [_lemma(token, lang) for token in _WORD.findall(text) if not token.isdigit()]


def lemmas(text: str, lang: str) -> list[str]:
    """Base forms of the words of `text` (duplicates kept).

    The union of two lemmatisers: the tagger's (`sotewatch.pipeline.tagging.lemmas.lemmas`), whose
    lexicon knows every county and network name in every inflection and in both
    languages, and simplemma with the word's case kept, which knows the general
    vocabulary and proper nouns better than it does in lower case.
    """
    general = _simplemma_lemmas(text, lang)
    tagger = _tag_lemmas()
    return general + list(tagger(text, lang)) if tagger else general


def lemma_text(text: str, lang: str) -> str:
    """The distinct base forms that differ from the words as written: what `lemmas` holds.

    Forms already in the text are left out; the text column matches them anyway.
    """
    written = {w.casefold() for w in _WORD.findall(text)}
    seen: dict[str, None] = {}
    for lemma in lemmas(text, lang):
        key = lemma.casefold()
        if key not in written and key not in seen:
            seen[key] = None
    return " ".join(seen)


# -- queries ---------------------------------------------------------------------


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def query_variants(term: str, langs: Iterable[str] = QUERY_LANGUAGES) -> list[str]:
    """The term as typed plus its base forms (also of the capitalised form, for names).

    The first language's base forms are always taken; another language's only when
    its dictionary knows them, because guessing a Swedish decomposition of a Finnish
    word ("hyvinvointialue" -> "hyvinvointi") would widen the search for nothing.
    """
    variants = {term.casefold(): term}
    for form in dict.fromkeys((term, term[:1].upper() + term[1:])):
        for index, lang in enumerate(langs):
            for lemma in lemmas(form, lang):
                if index == 0 or simplemma.is_known(lemma, lang=lang, low_memory=LOW_MEMORY):
                    variants.setdefault(lemma.casefold(), lemma)
    return list(variants.values())


def fts_query(text: str, langs: Iterable[str] = QUERY_LANGUAGES) -> str:
    """An FTS5 MATCH expression: every word of `text`, each in any of its forms.

    "Lappi hyvinvointialue" -> ("Lappi" OR ...) AND ("hyvinvointialue" OR ...).
    A trailing * keeps its meaning (prefix search). Punctuation and FTS5 operators
    typed by a reader are treated as plain text, so no query is a syntax error.
    """
    langs = tuple(langs)
    clauses = []
    for word in _WORD.findall(text):
        if word.endswith("*"):
            if word.rstrip("*"):
                clauses.append(_quote(word.rstrip("*")) + " *")
            continue
        clauses.append("(" + " OR ".join(_quote(v) for v in query_variants(word, langs)) + ")")
    return " AND ".join(clauses) if clauses else '""'


# -- indexing --------------------------------------------------------------------

# Only each page's latest version is in snapshots_fts (migration 004 says why).
_LATEST = "select max(id) from snapshots group by page_id"
_NEW_SNAPSHOTS = f"""
select s.snapshot_id, s.title, s.text, coalesce(s.language, 'fi') from snapshot_texts s
where s.snapshot_id > ? and s.snapshot_id in ({_LATEST})
  and not exists (select 1 from snapshots_fts f where f.rowid = s.snapshot_id)
order by s.snapshot_id limit ?
"""
_NEW_CHANGES = """
select c.id,
    coalesce(s.title, o.title, (select title from snapshots t where t.page_id = c.page_id
        order by t.id desc limit 1), p.title, p.url),
    c.section, c.summary, c.before, c.after, coalesce(s.language, o.language, 'fi')
from changes c join pages p on p.id = c.page_id
left join snapshots s on s.id = c.snapshot_id
left join snapshots o on o.id = c.previous_snapshot_id
where c.id > ? and not exists (select 1 from changes_fts f where f.rowid = c.id)
order by c.id limit ?
"""
_INSERT_SNAPSHOTS = "insert into snapshots_fts (rowid, title, text, lemmas) values (?, ?, ?, ?)"
_INSERT_CHANGES = (
    "insert into changes_fts (rowid, page_title, section, summary, before, after, lemmas)"
    " values (?, ?, ?, ?, ?, ?, ?)"
)
_DROP_ORPHANS = [
    f"delete from snapshots_fts where rowid not in ({_LATEST})",
    "delete from changes_fts where rowid not in (select id from changes)",
]


# What the runs stored after the newest indexed row: versions (one per page, only the
# latest is indexed) and changes. Rows are indexed in id order, so newer ids are the
# pending ones; FTS5 answers "order by rowid desc limit 1" without a scan.
PENDING_SQL = """
select
  (select count(distinct page_id) from snapshots where id > coalesce(
      (select rowid from snapshots_fts order by rowid desc limit 1), 0)) as snapshots,
  (select count(*) from changes where id > coalesce(
      (select rowid from changes_fts order by rowid desc limit 1), 0)) as changes
"""


def pending(conn: sqlite3.Connection) -> IndexStats:
    """How many versions and changes `index_new` has yet to index; reads only."""
    snapshots, changes = conn.execute(PENDING_SQL).fetchone()
    return IndexStats(snapshots=snapshots, changes=changes)


def index_new(db: Any) -> IndexStats:
    """Index each page's latest version and every change not yet in the search tables;
    drop versions that are no longer their page's latest, and deleted changes.

    Idempotent and incremental: a second call right after the first adds nothing.
    Accepts a sqlite_utils.Database, a Store or a sqlite3 connection. Each batch of
    rows commits on its own, unless the caller is already inside a transaction.
    """
    conn = _connection(db)
    with _transaction(conn):
        dropped = sum(conn.execute(sql).rowcount for sql in _DROP_ORPHANS)
        _optimise_when_worth_it(conn, dropped)
    snapshots = _index(conn, _NEW_SNAPSHOTS, _INSERT_SNAPSHOTS, _snapshot_row)
    changes = _index(conn, _NEW_CHANGES, _INSERT_CHANGES, _change_row)
    return IndexStats(snapshots=snapshots, changes=changes, dropped=dropped)


def _optimise_when_worth_it(conn: sqlite3.Connection, dropped: int) -> None:
    """Rewrite snapshots_fts once the rows deleted from it reach a quarter of it.

    FTS5 keeps a deleted row's words in its index (marked deleted) until its
    segments are merged; with each page's row replaced at every new version, the
    index would keep growing. Rewriting it every run would cost as much again.
    """
    if not dropped:
        return
    since = conn.execute(
        "select coalesce(max(value), 0) from search_state where name = 'dropped_since_optimise'"
    ).fetchone()[0]
    since += dropped
    rows = conn.execute("select count(*) from snapshots_fts").fetchone()[0]
    if since >= OPTIMISE_SHARE * max(rows, 1):
        conn.execute("insert into snapshots_fts (snapshots_fts) values ('optimize')")
        since = 0
    conn.execute(
        "insert or replace into search_state (name, value) values ('dropped_since_optimise', ?)",
        [since],
    )


def rebuild(db: Any) -> IndexStats:
    """Empty the search tables and index everything again (after a lemmatiser change)."""
    conn = _connection(db)
    with _transaction(conn):
        conn.execute("delete from snapshots_fts")
        conn.execute("delete from changes_fts")
    return index_new(conn)


def _index(
    conn: sqlite3.Connection, select: str, insert: str, prepare: Callable[[tuple], tuple]
) -> int:
    """Walk the unindexed rows in id order, one batch per transaction."""
    count, last_id = 0, 0
    while rows := conn.execute(select, [last_id, _BATCH]).fetchall():
        prepared = [prepare(tuple(row)) for row in rows]
        with _transaction(conn):
            conn.executemany(insert, prepared)
        count += len(rows)
        last_id = rows[-1][0]
    return count


def _connection(db: Any) -> sqlite3.Connection:
    """A sqlite3 connection from a sqlite_utils.Database, a Store or a connection."""
    if isinstance(db, sqlite3.Connection):
        return db
    if hasattr(db, "db"):
        db = db.db
    return db.conn


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """A write transaction of our own, unless the caller already holds one."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _snapshot_row(row: tuple) -> tuple:
    rowid, title, text, lang = row
    title, text = title or "", text or ""
    return (rowid, title, text, lemma_text(f"{title}\n{text}", lang))


def _change_row(row: tuple) -> tuple:
    rowid, page_title, section, summary, before, after, lang = row
    fields = [page_title or "", section or "", summary or "", before or "", after or ""]
    return (rowid, *fields, lemma_text("\n".join(fields), lang))


# -- searching -------------------------------------------------------------------

SEARCH_SNAPSHOTS = """
select s.snapshot_id, s.page_id, s.title, s.taken_at, p.url, s.text,
    coalesce(s.language, 'fi') as language
from snapshots_fts join snapshot_texts s on s.snapshot_id = snapshots_fts.rowid
join pages p on p.id = s.page_id
where snapshots_fts match :match
order by rank limit :limit
"""
SEARCH_CHANGES = """
select c.id as change_id, c.page_id, changes_fts.page_title, c.kind, c.section,
    c.detected_at, c.summary, c.before, c.after
from changes_fts join changes c on c.id = changes_fts.rowid
where changes_fts match :match
order by rank limit :limit
"""

Segment = tuple[str, bool]  # (text, is a match)


@dataclass(frozen=True)
class Matcher:
    """Which written words a query matches, through their forms: what a snippet marks."""

    forms: frozenset[str]
    prefixes: tuple[str, ...]

    @classmethod
    def for_query(cls, text: str, langs: Iterable[str] = QUERY_LANGUAGES) -> Matcher:
        langs = tuple(langs)
        forms: set[str] = set()
        prefixes: list[str] = []
        for word in _WORD.findall(text):
            if word.endswith("*"):
                prefixes.append(word.rstrip("*").casefold())
            else:
                forms.update(v.casefold() for v in query_variants(word, langs))
        return cls(frozenset(forms), tuple(p for p in prefixes if p))

    def matches(self, word: str, lang: str) -> bool:
        folded = word.casefold()
        if folded in self.forms or any(folded.startswith(p) for p in self.prefixes):
            return True
        return any(lemma.casefold() in self.forms for lemma in lemmas(word, lang))


def snippet(text: str, matcher: Matcher, lang: str, words: int = 30) -> list[Segment]:
    """About `words` words of `text` around its first match, matched words flagged.

    Built in Python rather than with FTS5's snippet(), which cannot see that
    "Lapissa" matched through the lemma column. Returns plain text segments; the
    template escapes them and wraps the matches in <mark>.
    """
    parts = re.split(r"(\w+(?:-\w+)*)", " ".join(text.split()))
    word_at = list(range(1, len(parts), 2))  # re.split puts the words at odd indexes
    if not word_at:
        return [(parts[0], False)] if parts[0] else []
    hits = {i for i in word_at if matcher.matches(parts[i], lang)}
    first = word_at.index(min(hits)) if hits else 0
    window = word_at[max(0, first - words // 3) :][:words]
    lo, hi = window[0], window[-1] + 1
    segments: list[Segment] = [("… ", False)] if lo > 1 else [(parts[0], False)]
    for i in range(lo, hi):
        if segments and not segments[-1][1] and i not in hits:
            segments[-1] = (segments[-1][0] + parts[i], False)
        else:
            segments.append((parts[i], i in hits))
    if hi < len(parts) - 1:
        segments.append((" …", False))
    return [seg for seg in segments if seg[0]]
