"""PDF documents, above all slide decks: one section per page, headed by its first line."""

from __future__ import annotations

import io
import re
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sotewatch.pipeline.document.models import Document, Link, Section
from sotewatch.pipeline.errors import ExtractionError
from sotewatch.scrapers import _html, register
from sotewatch.scrapers._text import clean
from sotewatch.scrapers.base import Page
from sotewatch.scrapers.generic import GenericScraper, contacts_of

if TYPE_CHECKING:  # imported by `parse`: pypdf is slow to import, and few pages are PDFs
    from pypdf import PdfReader

_BULLET = re.compile(r"^\s*(?:[-–•▪●◦■□➢►*o]|\d{1,2}[.)])\s+")
_SENTENCE_END = re.compile(r"[.:;!?)]$")
_MAX_HEADING = 100  # a longer first line is running text, not a slide title
_ROW_TOLERANCE = 2.0  # points: fragments this close vertically share a line
_MIN_WRAPPED = 40  # characters: a shorter line ended where its author ended it
_DIGITS = re.compile(r"\d+")

# Bounds on the work one PDF may cause: a 2 MB file can inflate to 400 MB of text and
# hold a run for minutes. Past any of them the page fails with a message saying which.
MAX_PAGES = 1000
MAX_TEXT_CHARS = 2_000_000  # extracted characters, all pages together
MAX_CPU_SECONDS = 30.0  # CPU time of the extracting thread, for one PDF
# Operators and operands pypdf may parse in one content stream (a page's, mostly): a
# dense slide has some thousands; a crafted stream of hundreds of thousands holds the
# parser for a long time before any text comes.
MAX_STREAM_TOKENS = 300_000
MAX_STREAM_BYTES = 30_000_000  # one decompressed stream (pypdf's limits, lowered)
_PYPDF_LIMITS = (
    "zlib_maximum_output_length",
    "lzw_maximum_output_length",
    "run_length_maximum_output_length",
    "array_based_stream_maximum_output_length",
    "maximum_declared_stream_length",
)


class _Budget:
    """Characters and CPU time left for one PDF; spending past either fails the page."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.chars = MAX_TEXT_CHARS
        self.deadline = time.thread_time() + MAX_CPU_SECONDS

    def spend(self, chars: int) -> None:
        self.chars -= chars
        if self.chars < 0:
            raise ExtractionError(
                f"PDF text exceeds {MAX_TEXT_CHARS:,} characters; not extracted", url=self.url
            )
        if time.thread_time() > self.deadline:
            raise ExtractionError(
                f"PDF took more than {MAX_CPU_SECONDS:g} s of CPU time; not extracted",
                url=self.url,
            )


@dataclass(frozen=True)
class _Fragment:
    x: float
    y: float
    text: str


@register
class PdfScraper(GenericScraper):
    """PDF documents and slides (pypdf): a section per page, headed by its title; items apart."""

    name = "pdf"

    def parse(self, page: Page) -> Document:
        from pypdf import PdfReader, apply_configuration
        from pypdf.errors import LimitReachedError

        budget = _Budget(page.url)
        try:
            with (
                warnings.catch_warnings(),
                apply_configuration(
                    None,  # the current configuration, overwritten by the limits below
                    stream_parsing_work_maximum_count=MAX_STREAM_TOKENS,
                    **dict.fromkeys(_PYPDF_LIMITS, MAX_STREAM_BYTES),
                ),
            ):
                warnings.simplefilter("ignore")
                reader = PdfReader(io.BytesIO(page.content), strict=False)
                if len(reader.pages) > MAX_PAGES:
                    reason = f"PDF has {len(reader.pages)} pages, more than the {MAX_PAGES} read"
                    raise ExtractionError(reason, url=page.url)
                texts = [page_lines(p, budget) for p in reader.pages]
                title = _metadata_title(reader)
                links = _pdf_links(reader, page.url)
        except ExtractionError:
            raise
        except LimitReachedError as exc:
            reason = f"PDF too large to read: {exc}"
            raise ExtractionError(reason, url=page.url) from exc
        except Exception as exc:  # pypdf raises many types on a broken file
            reason = f"not a readable PDF ({type(exc).__name__})"
            raise ExtractionError(reason, url=page.url) from exc
        texts = drop_running_lines(texts)
        sections = tuple(_slide_section(number, lines) for number, lines in enumerate(texts, 1))
        sections = tuple(s for s in sections if s.paragraphs or s.path)
        title = title or next((s.path[0] for s in sections if s.path), "")
        return Document(
            url=page.url,
            title=title,
            language=self.language(title, sections),
            sections=sections,
            contacts=contacts_of(sections),
            links=links,
            published=None,
            kind="pdf",
        )


def page_lines(pdf_page, budget: _Budget) -> list[str]:  # noqa: ANN001
    """The page's lines in reading order; two columns are read one after the other."""
    fragments: list[_Fragment] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        budget.spend(len(text))
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            fragments.append(_Fragment(round(x, 1), round(y, 1), text))

    plain = pdf_page.extract_text(visitor_text=visit) or ""
    if not fragments:
        budget.spend(len(plain))
        return [clean(line) for line in plain.splitlines() if clean(line)]
    width = float(pdf_page.mediabox.width or 0) or max(f.x for f in fragments) * 2
    columns = _columns(fragments, width)
    return [line for column in columns for line in _rows(column)]


def _columns(fragments: list[_Fragment], width: float) -> list[list[_Fragment]]:
    """Fragments grouped by text column, left to right, when the page has several
    columns side by side (a two-column page, a grid of blocks on a slide)."""
    starts = _column_starts(fragments, width)
    if len(starts) < 2:
        return [fragments]
    columns: list[list[_Fragment]] = [[] for _ in starts]
    for fragment in fragments:
        index = max((i for i, x in enumerate(starts) if x <= fragment.x + 5), default=0)
        columns[index].append(fragment)
    rows: dict[int, set[int]] = {}
    for index, column in enumerate(columns):
        for fragment in column:
            rows.setdefault(round(fragment.y / _ROW_TOLERANCE), set()).add(index)
    if sum(len(used) > 1 for used in rows.values()) < 3:
        return [fragments]
    return [column for column in columns if column]


def _column_starts(fragments: list[_Fragment], width: float) -> list[float]:
    """Left edges shared by at least three fragments, at least 15% of the width apart."""
    counts: dict[float, int] = {}
    for fragment in fragments:
        key = round(fragment.x / 5) * 5
        counts[key] = counts.get(key, 0) + 1
    starts: list[float] = []
    for x in sorted(x for x, n in counts.items() if n >= 3):
        if not starts or x - starts[-1] >= 0.15 * width:
            starts.append(x)
    return starts


def _rows(fragments: list[_Fragment]) -> list[str]:
    rows: list[list[_Fragment]] = []
    for fragment in sorted(fragments, key=lambda f: (-f.y, f.x)):
        if rows and abs(rows[-1][0].y - fragment.y) <= _ROW_TOLERANCE:
            rows[-1].append(fragment)
        else:
            rows.append([fragment])
    lines: list[str] = []
    for row in rows:
        text = " ".join(f.text for f in sorted(row, key=lambda f: f.x))
        lines.extend(clean(part) for part in text.splitlines() if clean(part))
    return lines


def drop_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Remove running headers and footers ("Järjestöjen sote-muutostuki | 4"): lines that,
    digits aside, recur on at least half of the pages (and on three or more)."""
    counts: dict[str, int] = {}
    for lines in pages:
        for shape in {_DIGITS.sub("#", line) for line in lines}:
            counts[shape] = counts.get(shape, 0) + 1
    threshold = max(3, (len(pages) + 1) // 2)
    running = {shape for shape, n in counts.items() if n >= threshold}
    return [[line for line in lines if _DIGITS.sub("#", line) not in running] for lines in pages]


def _slide_section(number: int, lines: list[str]) -> Section:
    if not lines:
        return Section((), ())
    heading, body = lines[0], lines[1:]
    if len(heading) > _MAX_HEADING or _BULLET.match(heading):
        heading, body = f"Sivu {number}", lines
    return Section((heading,), tuple(paragraphs(body)))


def paragraphs(lines: list[str]) -> list[str]:
    """Join wrapped lines; keep every list item (and every short line such as a county
    name in a list) a paragraph of its own."""
    out: list[str] = []
    for line in lines:
        item = _BULLET.match(line)
        text = line[item.end() :] if item else line
        continues = (
            out
            and not item
            and text[:1].islower()
            and len(out[-1]) >= _MIN_WRAPPED
            and not _SENTENCE_END.search(out[-1])
            and "@" not in text
        )
        if continues:
            joiner = "" if out[-1].endswith("-") and not out[-1].endswith(" -") else " "
            out[-1] = out[-1] + joiner + text
        elif text:
            out.append(text)
    return out


def _metadata_title(reader: PdfReader) -> str:
    try:
        meta = reader.metadata
    except Exception:  # a broken info dictionary is not worth failing the page
        return ""
    return clean(str(meta.title)) if meta is not None and meta.title else ""


def _pdf_links(reader: PdfReader, url: str) -> tuple[Link, ...]:
    found: dict[str, Link] = {}
    for pdf_page in reader.pages:
        for annotation in pdf_page.get("/Annots") or []:
            action = annotation.get_object().get("/A") or {}
            target = _html.absolute(url, str(action.get("/URI", "")))
            if target and target not in found:
                kind = "attachment" if _html.is_attachment(target) else "page"
                found[target] = Link(url=target, text="", kind=kind)
    return tuple(found.values())
