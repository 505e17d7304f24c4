"""The taxonomy compiled into lookup tables: surface form → base word → what it names.

Built once per Tagger. Two kinds of entries:
- mentions (regions, the Uusimaa umbrella, Helsinki, networks, exclusions) are matched
  left to right, longest phrase first, and consume their tokens, so "Helsingin ja
  Uudenmaan sairaanhoitopiiri" is HUS and nothing else;
- features (reform ties, local owners, Helsinki's organiser heads and verbs, jaosto
  topics, coordinators) only mark tokens for the rules in pipeline/tagging/tag.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sotewatch.pipeline.tagging.inflect import acronym_forms, finnish_forms, swedish_forms
from sotewatch.pipeline.tagging.taxonomy import Taxonomy

_FUNCTION_WORDS = {"ja", "sekä", "och", "för", "i", "av"}


@dataclass(frozen=True)
class Word:
    """One word of a pattern: its base form and how strictly its case must match."""

    base: str
    case: str = ""  # "" any, "cap" capitalised, "upper" written in capitals (HUS)
    orig: str = ""


@dataclass(frozen=True)
class Entry:
    """What a matched pattern names.

    kind: region | umbrella | helsinki | network | jaosto | exclude (mentions) or
    tie | actor | owner | head | verb | peer | topic | coord (features).
    """

    kind: str
    key: str = ""  # slug (region, umbrella, network, topic), or "" for the reform ties
    strength: str = ""  # networks: names | weak | bare
    words: tuple[Word, ...] = ()
    lang: str = "fi"
    ambiguous: bool = False  # a brand that is also an ordinary word
    singular_only: bool = False


@dataclass
class Lexicon:
    """Surface forms and patterns of one taxonomy."""

    forms: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    mentions: dict[str, list[Entry]] = field(default_factory=lambda: defaultdict(list))
    features: dict[str, list[Entry]] = field(default_factory=lambda: defaultdict(list))
    region_names: dict[str, str] = field(default_factory=dict)  # "pohjois-savo" → slug
    irregular: dict[str, list[str]] = field(default_factory=dict)

    def add(self, table: str, phrase: str, entry: Entry, lang: str = "fi", case: str = "") -> None:
        """Register a phrase: generate forms of its inflecting words, index by first base."""
        words = _split(phrase)
        specs = []
        for n, word in enumerate(words):
            last = n == len(words) - 1
            inflects = last or (lang == "fi" and not _fixed(word))
            base = word.lower()
            self._learn(word, base, inflects, lang, case)
            spec_case = case and ("upper" if word.isupper() and len(word) > 1 else "cap")
            specs.append(Word(base, spec_case if word[:1].isupper() else "", word))
        entry = Entry(**{**entry.__dict__, "words": tuple(specs), "lang": lang})
        target = self.mentions if table == "mentions" else self.features
        target[specs[0].base].append(entry)

    def _learn(self, word: str, base: str, inflects: bool, lang: str, case: str) -> None:
        self.forms[base].add(base)
        if not inflects:
            return
        if word.isupper() and len(word) > 1:
            surfaces = acronym_forms(word)
        elif lang == "sv":
            surfaces = swedish_forms(word)
        else:
            surfaces = finnish_forms(word, self.irregular)
        for surface in surfaces:
            self.forms[surface].add(base)

    def finish(self) -> None:
        """Longest patterns first, so the most specific name wins."""
        for table in (self.mentions, self.features):
            for entries in table.values():
                entries.sort(key=lambda e: -len(e.words))


def build_lexicon(taxonomy: Taxonomy) -> Lexicon:
    """Compile every name, alias, brand, people word and rule word of the taxonomy."""
    lex = Lexicon()
    for umbrella in taxonomy.umbrellas:
        lex.irregular[umbrella.name_fi.lower()] = list(umbrella.forms)
    _add_regions(lex, taxonomy)
    _add_networks(lex, taxonomy)
    _add_features(lex, taxonomy)
    lex.finish()
    return lex


def _add_regions(lex: Lexicon, taxonomy: Taxonomy) -> None:
    for umbrella in taxonomy.umbrellas:
        entry = Entry("umbrella", umbrella.slug)
        lex.add("mentions", umbrella.name_fi, entry)
        lex.add("mentions", umbrella.name_sv, entry, lang="sv")
        for person in umbrella.people:
            lex.add("mentions", person, entry)
    for region in taxonomy.regions:
        kind = "helsinki" if region.organiser_only else "region"
        entry = Entry(kind, region.slug)
        lex.region_names[region.name_fi.lower()] = region.slug
        lex.region_names[region.name_sv.lower()] = region.slug
        lex.add("mentions", region.name_fi, entry)
        lex.add("mentions", region.name_sv, entry, lang="sv")
        for alias in region.aliases:
            lex.add("mentions", alias, entry)
        for alias in region.aliases_sv:
            lex.add("mentions", alias, entry, lang="sv")
        for person in region.people:
            lex.add("mentions", person, entry)
        for brand in region.brands:
            ambiguous = brand in region.ambiguous_brands
            lex.add("mentions", brand, Entry(kind, region.slug, ambiguous=ambiguous), case="cap")
    for exclusion in taxonomy.exclusions:
        entry = Entry("exclude", singular_only=exclusion.singular_only)
        lex.add("mentions", exclusion.phrase, entry, case="cap" if exclusion.case_sensitive else "")


def _add_networks(lex: Lexicon, taxonomy: Taxonomy) -> None:
    for network in taxonomy.networks:
        for strength, aliases in (("names", network.names), ("weak", network.weak),
                                  ("bare", network.bare)):  # fmt: skip
            for alias in aliases:
                lang = "sv" if _swedish(alias) else "fi"
                lex.add("mentions", alias, Entry("network", network.slug, strength), lang=lang)
        for tie in network.ties:
            lex.add("features", tie, Entry("tie", network.slug))
        for topic in network.topic:
            lex.add("features", topic, Entry("topic", network.slug))
    if any(n.topic for n in taxonomy.networks):
        lex.add("mentions", "jaosto", Entry("jaosto", strength="bare"))


def _add_features(lex: Lexicon, taxonomy: Taxonomy) -> None:
    rules = taxonomy.rules
    for kind, words in (("tie", rules.reform_ties), ("actor", rules.national_actors),
                        ("owner", rules.local_owners),
                        ("head", rules.helsinki_organiser_heads),
                        ("verb", rules.helsinki_organiser_verbs),
                        ("peer", rules.helsinki_peer_words)):  # fmt: skip
        for word in words:
            lang = "sv" if _swedish(word) else "fi"
            lex.add("features", word, Entry(kind), lang=lang)
    for word in rules.coordinators:
        lex.add("features", word, Entry("coord"))


def _split(phrase: str) -> list[str]:
    return phrase.replace("–", "-").split()


def _fixed(word: str) -> bool:
    """A non-final phrase word that does not inflect: a genitive, a dangling 'sosiaali-', 'ja'."""
    low = word.lower()
    return low.endswith(("n", "-")) or low in _FUNCTION_WORDS


def _swedish(text: str) -> bool:
    low = text.lower()
    return any(w in low.split() for w in ("för", "och")) or low.endswith(
        ("nätverket", "grupp", "gruppen", "reformen", "stad", "kommun", "välfärdsområde")
    )
