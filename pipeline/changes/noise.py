"""Noise rules: text that changes on every visit without the page saying anything new.

A page's "last updated" line, a visitor counter or a leaked form token would make
every fetch look like an edit. The rules below remove such text from a Document
before the diff sees it: the global ones apply to every source, the per-source
ones come from the `ignore` regexes in sources.toml. Headings are left alone
(they are a section's identity); a paragraph that is nothing but noise is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

from sotewatch.pipeline.document.models import Document, Section
from sotewatch.pipeline.document.textscan import holding, latin1_lowered
from sotewatch.pipeline.errors import ConfigError

_MONTHS = (
    "tammikuuta|helmikuuta|maaliskuuta|huhtikuuta|toukokuuta|kesäkuuta|heinäkuuta"
    "|elokuuta|syyskuuta|lokakuuta|marraskuuta|joulukuuta"
    "|januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december"
    "|january|february|march|may|june|july|august|october"
)
_DATE = (
    r"(?:\d{1,2}\.\s?\d{1,2}\.\s?\d{4}|\d{4}-\d{2}-\d{2}"
    rf"|\d{{1,2}}\.?\s+(?:{_MONTHS})\s+\d{{4}}|(?:{_MONTHS})\s+\d{{1,2}},?\s+\d{{4}})"
)
_TIME = r"(?:[,\s]+(?:klo\.?|kl\.?|at)?\s*\d{1,2}[.:]\d{2}(?:[.:]\d{2})?)?"
_SEP = r"\s*:?\s*"


@dataclass(frozen=True)
class NoiseRule:
    """One kind of noise: a name for tests and logs, and the regex whose matches are removed.

    The regex is compiled on first use: compiling the global rules is a cost a run in
    which no page changed should not pay at start-up."""

    name: str
    regex: str
    # Lower-case words without which the rule cannot match: checked first with a plain
    # substring test, so most paragraphs never run the (slow, anchored) regex at all.
    keywords: tuple[str, ...] = ()
    flags: int = 0

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(self.regex, self.flags)

    def apply(self, text: str, lowered: str | None = None) -> str:
        if self.keywords:
            low = text.lower() if lowered is None else lowered
            if not any(word in low for word in self.keywords):
                return text
        return self.pattern.sub(" ", text)


_SEGMENT_START = r"(?:^|(?<=[|·•–—,;]))\s*"
_SEGMENT_END = r"\s*(?=$|[|·•–—,;])"


def _rule(name: str, regex: str, *keywords: str) -> NoiseRule:
    """A rule matching `regex` only as a whole line or a segment between separators ("|", "·"),
    so "Lakia päivitetty 1.3.2024 koskemaan ..." inside a sentence is never touched."""
    flags = re.IGNORECASE | re.MULTILINE
    return NoiseRule(name, f"{_SEGMENT_START}(?:{regex}){_SEGMENT_END}", keywords, flags)


GLOBAL_RULES: tuple[NoiseRule, ...] = (
    _rule(
        "updated-date-fi",
        rf"(?:sivua\s+|sivu\s+)?(?:viimeksi\s+)?päivitetty{_SEP}{_DATE}{_TIME}",
        "päivitetty",
    ),
    _rule("updated-label-fi", r"(?:sivua\s+|viimeksi\s+)?päivitetty\s*:?", "päivitetty"),
    _rule("published-date-fi", rf"julkaistu{_SEP}{_DATE}{_TIME}", "julkaistu"),
    _rule(
        "updated-date-sv",
        rf"(?:sidan\s+)?(?:senast\s+)?uppdaterad{_SEP}{_DATE}{_TIME}",
        "uppdaterad",
    ),
    _rule("updated-label-sv", r"(?:sidan\s+)?(?:senast\s+)?uppdaterad\s*:?", "uppdaterad"),
    _rule("published-date-sv", rf"publicerad{_SEP}{_DATE}{_TIME}", "publicerad"),
    _rule(
        "updated-date-en",
        rf"(?:page\s+)?(?:last\s+)?(?:updated|modified){_SEP}{_DATE}{_TIME}",
        "updated",
        "modified",
    ),
    _rule(
        "visitor-counter",
        r"(?:kävijöitä|kävijämäärä|käyntejä|sivun\s+katselukerrat|katselukertoja|lukukertoja"
        r"|besökare|antal\s+besök|visningar|visitors|page\s+views|views)\s*:?\s*\d[\d \u00a0]*",
        "kävij",
        "käyntejä",
        "katselukert",
        "lukukert",
        "besök",
        "visningar",
        "visitors",
        "views",
    ),
    _rule(
        "read-count",
        r"(?:(?:sivua|sivu|artikkelia)\s+on\s+|(?:sidan|artikeln)\s+har\s+"
        r"|this\s+(?:page|article)\s+has\s+been\s+)?"
        r"(?:luettu|läst|read|viewed|katsottu|visad|visats)"
        r"\s+\d[\d \u00a0]*\s+(?:kertaa|gånger|times)"
        r"|\d[\d \u00a0]*\s+(?:lukukertaa|katselukertaa|näyttökertaa|visningar|views|reads)",
        "kertaa",
        "gånger",
        "times",
        "visningar",
        "views",
        "reads",
    ),
    _rule(
        "comment-count",
        r"\d+\s+(?:kommentti|kommenttia|kommentar|kommentarer|comments?|responses?)"
        r"|(?:kommentit|kommentarer|comments|vastaukset)\s*\(\s*\d+\s*\)",
        "komment",
        "comment",
        "respons",
        "vastaukset",
    ),
    # "3 päivää sitten" reads differently tomorrow, wherever it stands: removed anywhere.
    NoiseRule(
        "relative-time",
        r"\b\d+\s+(?:sekuntia|minuuttia|tuntia|päivää|viikkoa|kuukautta|vuotta)\s+sitten\b"
        r"|\bför\s+\d+\s+(?:sekunder|minuter|timmar|dagar|veckor|månader|år)\s+sedan\b"
        r"|\b\d+\s+(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?)\s+ago\b",
        ("sitten", "sedan", "ago"),
        re.IGNORECASE,
    ),
    NoiseRule(
        "form-token",
        r"\b(?:csrf[\w-]*|form_build_id|form_token|authenticity_token"
        r"|__requestverificationtoken)\s*[:=]\s*\S+|\bform-[A-Za-z0-9_-]{16,}",
        ("csrf", "form_", "authenticity_token", "__requestverificationtoken", "form-"),
        re.IGNORECASE,
    ),
)


_LEFTOVER = re.compile(r"^[\s\W_]*$")
_SPACES = re.compile(r"[ \t\u00a0]{2,}")
_EDGE_PUNCT = re.compile(r"^[\s|·•–—,;:/-]+|[\s|·•–—,;:/-]+$")


def compile_patterns(patterns: Sequence[str], *, source: str) -> list[re.Pattern[str]]:
    """Compile a source's `ignore` regexes, naming the source and pattern when one is invalid."""
    compiled: list[re.Pattern[str]] = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as error:
            raise ConfigError(
                f"invalid ignore pattern {pattern!r}: {error}", source=source
            ) from None
    return compiled


@lru_cache(maxsize=256)
def _source_rules(patterns: tuple[str, ...]) -> tuple[NoiseRule, ...]:
    compiled = compile_patterns(patterns, source="ignore")
    return tuple(NoiseRule(f"ignore:{p.pattern}", p.pattern) for p in compiled)


@lru_cache(maxsize=256)
def _keywords(rules: tuple[NoiseRule, ...]) -> tuple[str, ...] | None:
    """Every rule's keywords, or None if a rule has none (a source's `ignore` regex)."""
    if any(not rule.keywords for rule in rules):
        return None
    return tuple(dict.fromkeys(word for rule in rules for word in rule.keywords))


def clean_text(
    text: str, rules: Sequence[NoiseRule], keywords: tuple[str, ...] | None = None
) -> str:
    """The text with every rule's matches removed and the seams tidied.

    `keywords` (all the rules' keywords) lets most paragraphs out after one test: a
    removal puts a space in, and no keyword has one, so no removal creates a keyword."""
    lowered = text.lower()
    if keywords is not None and not any(word in lowered for word in keywords):
        return text  # `in` per keyword: a regex alternation scans far slower
    cleaned = text
    for rule in rules:
        cleaned = rule.apply(cleaned, cleaned.lower() if cleaned is not text else lowered)
    if cleaned == text:
        return text
    if _LEFTOVER.match(cleaned):
        return ""
    lines = (_EDGE_PUNCT.sub("", _SPACES.sub(" ", line)) for line in cleaned.splitlines())
    return "\n".join(line for line in lines if line and not _LEFTOVER.match(line))


def apply_noise(doc: Document, extra_patterns: Sequence[str] = ()) -> Document:
    """The Document without noise: global rules plus the source's own `ignore` regexes."""
    rules = GLOBAL_RULES + _source_rules(tuple(extra_patterns))
    keywords = _keywords(rules)
    suspects = _suspects(rules, doc.sections)
    if suspects is not None:  # only sections holding a suspect paragraph can change
        sections = tuple(
            _clean_section(section, rules, keywords) if suspect else section
            for section, suspect in zip(doc.sections, suspects, strict=True)
        )
        title = clean_text(doc.title, rules, keywords)
        if title == doc.title and sections == doc.sections:
            return doc
        return replace(doc, title=title, sections=sections)
    if keywords is not None:  # most pages hold no keyword at all: one scan tells
        whole = "\n".join([doc.title, *(p for s in doc.sections for p in s.paragraphs)])
        lowered = whole.lower()
        if not any(word in lowered for word in keywords):
            return doc
    sections = tuple(_clean_section(section, rules, keywords) for section in doc.sections)
    title = clean_text(doc.title, rules, keywords)
    if title == doc.title and sections == doc.sections:
        return doc
    return replace(doc, title=title, sections=sections)


def _clean_section(
    section: Section, rules: Sequence[NoiseRule], keywords: tuple[str, ...] | None
) -> Section:
    cleaned = (clean_text(p, rules, keywords) for p in section.paragraphs)
    paragraphs = tuple(p for p in cleaned if p)
    return section if paragraphs == section.paragraphs else replace(section, paragraphs=paragraphs)


# The global rules as `_suspects` knows them: any other set of rules is read paragraph
# by paragraph. Each dated rule needs a digit; the label rules need their keyword; the
# form-token rule needs ":" or "=", or "form-" (no letter of it is one that
# re.IGNORECASE matches beyond what lower() maps to it).
_KNOWN_RULES = (
    "updated-date-fi", "updated-label-fi", "published-date-fi", "updated-date-sv",
    "updated-label-sv", "published-date-sv", "updated-date-en", "visitor-counter",
    "read-count", "comment-count", "relative-time", "form-token",
)  # fmt: skip
_SUSPECT_CHARS = "0123456789:="
_SUSPECT_WORDS = tuple(word.encode("latin-1") for word in ("päivitetty", "uppdaterad", "form-"))


def _suspects(rules: Sequence[NoiseRule], sections: Sequence[Section]) -> list[bool] | None:
    """For each section, whether a paragraph of it can hold noise, found with a few fast
    scans of the page; None when that cannot be told so (other rules, text beyond
    Latin-1, a label keyword). In Latin-1 text the only digits are 0-9."""
    if tuple(rule.name for rule in rules) != _KNOWN_RULES:
        return None
    texts = ["\n".join(section.paragraphs) for section in sections]
    lowered = latin1_lowered("\n".join(texts))
    if lowered is None or any(word in lowered for word in _SUSPECT_WORDS):
        return None
    return holding(texts, _SUSPECT_CHARS)
