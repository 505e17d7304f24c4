"""Tagging: which counties and networks a passage or a change concerns. Pure, no I/O.

A passage is split into tokens and sentences (tagging.tokens); each token is normalised
to the base words it can be a form of (a dict lookup in the generated forms of
pipeline/tagging/lexicon.py, or a pluggable lemmatiser for comparison); names are
matched longest first; then the rules of data/taxonomy.toml decide: shared-head
enumerations, the Uusimaa umbrella, Helsinki only as an organiser, bare group names
only when tied to the national reform.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import TYPE_CHECKING

from sotewatch.pipeline.document.models import Change
from sotewatch.pipeline.tagging.taxonomy import Taxonomy
from sotewatch.pipeline.tagging.tokens import Token, tokenize

if TYPE_CHECKING:  # the lexicon is built, and its module imported, on first use
    from sotewatch.pipeline.tagging.lexicon import Entry, Lexicon

    _Lookup = tuple[frozenset[str], tuple[tuple[Entry, str], ...], tuple[Entry, ...]]

_REGION_KINDS = ("region", "umbrella", "helsinki")
_TIES = frozenset({("tie", ""), ("actor", "")})
_PLURAL_GENITIVE = ("iden", "itten", "ien", "jen", "ten")


@dataclass(frozen=True)
class Tags:
    """Region and network slugs; `|` unites two sets of tags."""

    regions: frozenset[str] = frozenset()
    networks: frozenset[str] = frozenset()

    def __or__(self, other: Tags) -> Tags:
        return Tags(self.regions | other.regions, self.networks | other.networks)


@dataclass
class Mention:
    entry: Entry
    base: str  # the base word matched first ("pohjois-savo"), for shared heads
    start: int
    end: int  # exclusive


@dataclass
class _Passage:
    """One passage during tagging: tokens, their bases, mentions and features."""

    tokens: list[Token]
    bases: list[frozenset[str]]
    mentions: list[Mention] = field(default_factory=list)
    owner_of: dict[int, Mention] = field(default_factory=dict)  # token → region mention
    features: list[set[tuple[str, str]]] = field(default_factory=list)


@cache
def lexicon_of(taxonomy: Taxonomy) -> Lexicon:
    """The lexicon of a taxonomy, built once a process."""
    from sotewatch.pipeline.tagging.lexicon import build_lexicon

    return build_lexicon(taxonomy)


class Tagger:
    """Tags passages and changes with region and network slugs from a taxonomy."""

    def __init__(self, taxonomy: Taxonomy, *, lemmatiser: Callable[[str, str], str] | None = None):
        self.taxonomy = taxonomy
        self._lemmatiser = lemmatiser
        self._cache: dict[tuple[str, str], _Lookup] = {}
        self._jaostot = frozenset(n.slug for n in taxonomy.networks if n.topic)
        self._networks = {n.slug: n for n in taxonomy.networks}
        self._umbrellas = {u.slug: u.covers for u in taxonomy.umbrellas}
        rules = taxonomy.rules
        self._prefixes = frozenset(rules.shared_head_prefixes)
        self._prefixes_sv = frozenset(rules.shared_head_prefixes_sv)

    @cached_property
    def lexicon(self) -> Lexicon:
        """Every inflected form of every name: built on first use, so a run in which no
        page changed never pays for it."""
        return lexicon_of(self.taxonomy)

    # -- public -----------------------------------------------------------------------

    def tag_text(self, text: str, lang: str = "fi") -> Tags:
        """Tags of one passage on its own (no page or source context)."""
        return self._tag(text, lang, context_tie=False)[0]

    def tag_change(
        self,
        change: Change,
        *,
        lang: str = "fi",
        defaults: Tags = Tags(frozenset(), frozenset()),  # noqa: B008 - frozen, shared safely
    ) -> Change:
        """Tags from the change's texts (shown and context), its page title and heading
        path; the source's defaults only on an axis (regions, networks) where those name
        none, so a contact change in one network's section does not reach the readers of
        the others."""
        context = " / ".join(part for part in (change.page_title, change.section) if part)
        context_tags, context_tie = self._tag(context, lang, context_tie=False)
        texts = (change.before, change.after, change.summary, change.context)
        body = "\n".join(part for part in texts if part)
        body_tags, _ = self._tag(body, lang, context_tie=context_tie)
        found = body_tags | context_tags
        tags = Tags(found.regions or defaults.regions, found.networks or defaults.networks)
        return change.tagged(tuple(tags.regions), tuple(tags.networks))

    # -- pipeline ---------------------------------------------------------------------

    def _tag(self, text: str, lang: str, *, context_tie: bool) -> tuple[Tags, bool]:
        tokens = tokenize(text)
        lookups = [self._lookup(t.low, lang) for t in tokens]
        passage = _Passage(tokens, [look[0] for look in lookups])
        self._find_mentions(passage, [look[1] for look in lookups])
        self._find_features(passage, [look[2] for look in lookups])
        regions = self._regions(passage)
        networks, tied = self._network_tags(passage, context_tie)
        return Tags(frozenset(regions), frozenset(networks)), tied

    def _lookup(self, low: str, lang: str) -> _Lookup:
        """A word's base forms and the mention and feature patterns that start with them."""
        key = (low, lang)
        found = self._cache.get(key)
        if found is None:
            if self._lemmatiser is None:
                bases = frozenset(self.lexicon.forms.get(low, ())) | {low}
            else:
                bases = frozenset({low, self._lemmatiser(low, lang).lower()})
            lex = self.lexicon
            mentions = tuple((e, b) for b in bases for e in lex.mentions.get(b, ()))
            features = tuple(e for b in bases for e in lex.features.get(b, ()))
            found = self._cache[key] = (bases, mentions, features)
        return found

    def _match(self, passage: _Passage, start: int, entry: Entry) -> int | None:
        """End of `entry`'s phrase if it matches at `start`, else None."""
        tokens, bases = passage.tokens, passage.bases
        end = start + len(entry.words)
        if end > len(tokens):
            return None
        for offset, word in enumerate(entry.words):
            token = tokens[start + offset]
            if word.base not in bases[start + offset] or token.sentence != tokens[start].sentence:
                return None
            if word.case == "cap" and not token.text[:1].isupper():
                return None
            if word.case == "upper" and not token.text.startswith(word.orig):
                return None
        if entry.singular_only and _plural_nen(tokens[end - 1].low):
            return None
        return end

    def _find_mentions(self, passage: _Passage, candidates: list[tuple]) -> None:
        """Names left to right, longest first; a matched phrase consumes its tokens."""
        i = 0
        while i < len(passage.tokens):
            best: tuple[int, Entry, str] | None = None
            for entry, base in candidates[i]:
                end = self._match(passage, i, entry)
                if end is not None and (best is None or end > best[0]):
                    best = (end, entry, base)
                elif best is not None and end == best[0] and entry.kind == "exclude":
                    best = (end, entry, base)  # an exclusion beats a name of equal length
            if best is None:
                i += 1
                continue
            end, entry, base = best
            if not (entry.ambiguous and passage.tokens[i].first):
                mention = Mention(entry, base, i, end)
                passage.mentions.append(mention)
                for j in range(i, end):
                    passage.owner_of[j] = mention
            i = end

    def _find_features(self, passage: _Passage, candidates: list[tuple]) -> None:
        """Mark tokens that are reform ties, owners, organiser heads, topics, coordinators."""
        passage.features = [set() for _ in passage.tokens]
        for i, entries in enumerate(candidates):
            for entry in entries:
                end = self._match(passage, i, entry)
                if end is not None:
                    for j in range(i, end):
                        passage.features[j].add((entry.kind, entry.key))

    # -- regions ----------------------------------------------------------------------

    def _regions(self, passage: _Passage) -> set[str]:
        found: set[str] = set()
        for mention in passage.mentions:
            kind, key = mention.entry.kind, mention.entry.key
            if kind == "region":
                found.add(key)
            elif kind == "umbrella":
                found.update(self._umbrellas[key])
            elif kind == "helsinki" and self._organiser(passage, mention):
                found.add(key)
            if kind in ("region", "umbrella"):
                found.update(self._shared_heads(passage, mention))
        return found

    def _shared_heads(self, passage: _Passage, mention: Mention) -> set[str]:
        """'Etelä- ja Pohjois-Savossa': the dangling 'Etelä-' borrows the head 'Savo'."""
        tokens, names = passage.tokens, self.lexicon.region_names
        first_word = mention.entry.words[0].base if mention.entry.words else mention.base
        if mention.entry.lang == "sv" and first_word in self._prefixes_sv:
            head = " ".join(w.base for w in mention.entry.words[1:])
            joiner, prefixes = " ", self._prefixes_sv
        elif "-" in first_word and first_word.split("-", 1)[0] in self._prefixes:
            head, joiner, prefixes = first_word.split("-", 1)[1], "-", self._prefixes
        else:
            return set()
        found: set[str] = set()
        j = mention.start - 1
        while j >= 0 and tokens[j].sentence == tokens[mention.start].sentence:
            word = tokens[j].low.rstrip("-")
            if ("coord", "") in passage.features[j]:
                j -= 1
                continue
            if word not in prefixes or (joiner == "-") != tokens[j].dangling:
                break
            candidate = names.get(word + joiner + head)
            if candidate:
                found.add(candidate)
            j -= 1
        return found

    def _organiser(self, passage: _Passage, mention: Mention) -> bool:
        """Helsinki as organiser (R4): before a head or verb, or listed beside counties/HUS."""
        tokens, features = passage.tokens, passage.features
        nxt, prev = mention.end, mention.start - 1
        same = tokens[mention.start].sentence
        if nxt < len(tokens) and tokens[nxt].sentence == same:
            if features[nxt] & {("head", ""), ("verb", "")}:
                return True
            if ("coord", "") in features[nxt] and self._peer(passage, nxt + 1, same):
                return True
        if prev >= 1 and ("coord", "") in features[prev] and tokens[prev].sentence == same:
            return self._peer(passage, prev - 1, same)
        return False

    def _peer(self, passage: _Passage, j: int, sentence: int) -> bool:
        if not 0 <= j < len(passage.tokens) or passage.tokens[j].sentence != sentence:
            return False
        mention = passage.owner_of.get(j)
        if mention and mention.entry.kind in ("region", "umbrella"):
            return True
        token = passage.tokens[j]
        return ("peer", "") in passage.features[j] or (
            token.dangling and token.low[:-1] in self._prefixes
        )

    # -- networks ---------------------------------------------------------------------

    def _network_tags(self, passage: _Passage, context_tie: bool) -> tuple[set[str], bool]:
        """Names always; weak unless someone else's; bare only when tied (R9)."""
        found: set[str] = set()
        counted: dict[int, bool] = {}  # sentence → a national network was named there
        pending: list[Mention] = []
        for mention in passage.mentions:
            entry = mention.entry
            if entry.kind == "network" and entry.strength == "names":
                if not self._owned_by_one(passage, mention.start - 1, mention.start):
                    found.add(entry.key)
                    counted[passage.tokens[mention.start].sentence] = True
            elif entry.kind in ("network", "jaosto"):
                pending.append(mention)
        weak_first = sorted(
            pending, key=lambda m: m.entry.kind != "jaosto" and m.entry.strength == "bare"
        )
        for mention in weak_first:  # weak names and jaostot first: they can tie bare ones
            slugs = self._resolve(passage, mention, context_tie, counted)
            found.update(slugs)
            if slugs:
                counted[passage.tokens[mention.start].sentence] = True
        tied = context_tie or bool(counted) or any(f & _TIES for f in passage.features)
        return found, tied

    def _resolve(
        self, passage: _Passage, mention: Mention, context_tie: bool, counted: dict[int, bool]
    ) -> set[str]:
        sentence = passage.tokens[mention.start].sentence
        in_sentence = [i for i, t in enumerate(passage.tokens) if t.sentence == sentence]
        feats = set().union(*(passage.features[i] for i in in_sentence))
        before = passage.features[mention.start - 1] if mention.start > 0 else set()
        owner_before = (
            mention.start > 0
            and passage.tokens[mention.start - 1].sentence == sentence
            and (
                bool(before & {("owner", ""), ("actor", "")})
                or self._region_at(passage, mention.start - 1)
            )
        )
        entry = mention.entry
        slugs = (
            [entry.key] if entry.kind == "network" else self._jaosto_slugs(passage, mention, feats)
        )
        result: set[str] = set()
        for slug in slugs:
            network = self._networks[slug]
            direct_tie = ("tie", slug) in before or (
                ("tie", "") in before and not network.ties_only
            )
            tie = ("tie", slug) in feats or (
                not network.ties_only
                and (bool(feats & _TIES) or counted.get(sentence) or context_tie)
            )
            strength = "weak" if entry.kind == "jaosto" and _has_topic(feats) else entry.strength
            weak_ok = strength == "weak" and not self._possessed(passage, in_sentence)
            if direct_tie or (not owner_before and (tie or weak_ok)):
                result.add(slug)
        return result

    def _jaosto_slugs(self, passage: _Passage, mention: Mention, feats: set) -> list[str]:
        """A jaosto with its topic in the sentence is that jaosto; plural 'jaostot' all four."""
        topics = sorted(key for kind, key in feats if kind == "topic")
        if topics:
            return topics
        low = passage.tokens[mention.start].low
        return sorted(self._jaostot) if _plural_jaosto(low) else []

    def _owned_by_one(self, passage: _Passage, j: int, start: int) -> bool:
        """A single local owner right before a name ("Lapin hyvinvointialueen viestintäverkosto").

        A plural owner ("hyvinvointialueiden viestintäverkosto") speaks of all counties:
        that is the national network, so it does not block a name.
        """
        if j < 0 or passage.tokens[j].sentence != passage.tokens[start].sentence:
            return False
        owner = ("owner", "") in passage.features[j] or self._region_at(passage, j)
        return owner and not passage.tokens[j].low.endswith(_PLURAL_GENITIVE)

    @staticmethod
    def _region_at(passage: _Passage, j: int) -> bool:
        mention = passage.owner_of.get(j)
        return mention is not None and mention.entry.kind in _REGION_KINDS

    def _possessed(self, passage: _Passage, in_sentence: list[int]) -> bool:
        """'Hyvinvointialueella toimii henkilöstöjaosto': an owner in the adessive has it."""
        for i in in_sentence:
            owner = ("owner", "") in passage.features[i] or self._region_at(passage, i)
            if owner and passage.tokens[i].low.endswith(("lla", "llä", "ssa", "ssä")):
                return True
        return False


def _has_topic(feats: set[tuple[str, str]]) -> bool:
    return any(kind == "topic" for kind, _ in feats)


def _plural_nen(low: str) -> bool:
    """Plural forms of a -nen word (keskisuomalaiset, -laisten, -laisia)."""
    return low.endswith(("set", "sten")) or "isi" in low[-6:]


def _plural_jaosto(low: str) -> bool:
    return low.startswith("jaosto") and (low[6:7] in ("i", "t", "j") or low == "jaostoa")
