"""Surface forms of the taxonomy's words, generated once so tagging is a dict lookup.

Finnish inflects names ("Lappi": Lapin, Lapissa, Lappiin) and a lemmatiser trained on
general text misses or mangles rare proper names. Instead of guessing a lemma for every
word of every passage, we generate, for each of the few hundred words the taxonomy
names, the forms it can take: the 15 cases in singular and plural, consonant gradation
(pp→p, nt→nn, nk→ng, k→∅ ...), vowel harmony, and the clitics -kin/-kaan/-han/-ko.
Where a word's stem type cannot be told from its spelling (Suomi: Suomen, but Lappi:
Lapin) both paradigms are generated: we only ever match whole tokens, so a form that
Finnish does not have simply never occurs. Words whose halves both inflect (Uusimaa:
Uudellamaalla) come with their forms listed in the taxonomy (`irregular`).
Swedish names take the genitive -s and the definite and plural endings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_VOWELS = "aeiouyäö"
# strong → weak grade, longest first; applied to the consonants before the last vowel.
_GRADATION = (
    ("kk", "k"), ("pp", "p"), ("tt", "t"), ("nk", "ng"), ("mp", "mm"), ("nt", "nn"),
    ("lt", "ll"), ("rt", "rr"), ("ht", "hd"), ("k", ""), ("p", "v"), ("t", "d"),
)  # fmt: skip
_CLITICS = ("", "kin", "kAAn", "hAn", "kO", "pA")
_SWEDISH_ENDINGS = ("", "s", "en", "ens", "et", "ets", "n", "ns", "t", "ts", "er", "ers",
                    "erna", "ernas", "ar", "arna", "arnas", "na", "nas")  # fmt: skip


def finnish_forms(word: str, irregular: Mapping[str, Iterable[str]] | None = None) -> set[str]:
    """All lower-case forms of a Finnish word or hyphenated compound; the last part inflects."""
    word = word.lower()
    head, sep, last = word.rpartition("-")
    prefix = head + sep
    if not last:  # a dangling "sosiaali-" does not inflect
        return {word}
    listed = (irregular or {}).get(last)
    if listed:
        bases = set(listed)
    else:  # harmony unknown when a neutral-vowel part may end a compound (hoito+piiri)
        harmonies = {_is_back(last)} | ({False} if _neutral_tail(last) else set())
        bases = set().union(*(_paradigm(last, back) for back in harmonies))
    return {prefix + form + _harmonise(c, form) for form in bases for c in _CLITICS}


def swedish_forms(word: str) -> set[str]:
    """Genitive, definite and plural forms of a Swedish word (over-generated on purpose)."""
    word = word.lower()
    return {word + ending for ending in _SWEDISH_ENDINGS}


def acronym_forms(word: str) -> set[str]:
    """Forms of an acronym or short brand written in capitals: HUS, HUSin, HUSissa, VAKEn."""
    word = word.lower()
    endings = ("", "n", "in", "a", "ia", "ta", "ssa", "issa", "sta", "ista", "lla", "illa", "lta",
               "ilta", "lle", "ille", "iin", "hin", "en", "ksi", "iksi", "na", "ina")  # fmt: skip
    back = _is_back(word)
    return {word + _harmonise_back(e, back) for e in endings}


def _paradigm(word: str, back: bool) -> set[str]:
    """Case forms of one simple (non-compound) word, without clitics."""
    if word.endswith("nen"):
        return _nen(word[:-3], back)
    if word.endswith(("us", "ys", "os", "ös")):
        return _us(word[:-1], back)
    if word[-1] not in _VOWELS:
        return _consonant(word, back)
    if len(word) > 1 and word[-1] == word[-2]:
        return _long_vowel(word, back)
    if word.endswith("e"):
        return _e_stem(word, back) | _vowel(word, back)
    if word.endswith("i"):
        return _vowel(word, back) | _vowel(word[:-1] + "e", back, nominative=word)
    return _vowel(word, back)


def _is_back(word: str) -> bool:
    """Vowel harmony follows the last non-neutral vowel (compounds: johto+ryhmä is front)."""
    for ch in reversed(word):
        if ch in "aou":
            return True
        if ch in "äöy":
            return False
    return False


def _neutral_tail(word: str) -> bool:
    """True when two or more neutral vowels (i, e) follow the last back vowel: 'piiri'."""
    tail = re.split("[aouäöy]", word)[-1]
    return sum(ch in "ie" for ch in tail) >= 2 and any(ch in "aou" for ch in word)


def _harmonise(template: str, form: str) -> str:
    return _harmonise_back(template, _is_back(form))


def _harmonise_back(template: str, back: bool) -> str:
    table = {"A": "a" if back else "ä", "O": "o" if back else "ö", "U": "u" if back else "y"}
    return "".join(table.get(ch, ch) for ch in template)


def _weaken(stem: str) -> str:
    """Weak grade of a stem ending in a vowel: 'lappi' → 'lapi', 'kunta' → 'kunna'."""
    body, vowel = stem[:-1], stem[-1]
    for strong, weak in _GRADATION:
        if body.endswith(strong) and len(body) > len(strong):
            before = body[-len(strong) - 1]
            if len(strong) == 1 and before not in _VOWELS + "hlr":
                continue  # single k/p/t weakens only after a vowel (or h, l, r)
            return body[: -len(strong)] + weak + vowel
    return stem


def _strengthen(stem: str) -> str:
    """Strong grade for e-stems whose nominative is weak: 'pohde' → 'pohte'."""
    body, vowel = stem[:-1], stem[-1]
    for strong, weak in _GRADATION:
        if weak and body.endswith(weak) and not body.endswith(strong):
            return body[: -len(weak)] + strong + vowel
    return stem


def _vowel(word: str, back: bool, nominative: str | None = None) -> set[str]:
    """Words ending in a short vowel: kunta, ryhmä, verkosto, Lappi (and Suomi via 'suome')."""
    strong, weak = word, _weaken(word)
    v = word[-1]
    sg_strong = ("", "A", "nA", v + "n", "hen", "hin")
    sg_weak = ("n", "ssA", "stA", "llA", "ltA", "lle", "ksi", "ttA", "t")
    # loans and brands do not grade (sote → soten), so weak endings go on both stems
    forms = {strong + e for e in sg_strong} | {s + e for s in {weak, strong} for e in sg_weak}
    forms |= _plurals(strong[:-1], weak[:-1], back)
    if v in "ao" + "uyö" or v == "ä":
        forms |= _plurals(strong, weak, back)  # verkosto → verkostoissa
        if v in "aä":
            forms |= _plurals(strong[:-1] + "o", weak[:-1] + "o", back)  # Karjala → Karjaloissa
    if nominative:
        forms.add(nominative)
    return {_harmonise_back(f, back) for f in forms}


def _plurals(strong: str, weak: str, back: bool) -> set[str]:
    endings_weak = ("issA", "istA", "illA", "iltA", "ille", "iksi", "ittA", "it", "in")
    endings_strong = (
        "iA",
        "ijA",
        "itA",
        "ihin",
        "iin",
        "ien",
        "iden",
        "itten",
        "ine",
        "inA",
        "jen",
    )
    return {weak + e for e in endings_weak} | {strong + e for e in endings_strong}


def _e_stem(word: str, back: bool) -> set[str]:
    """Old e-stems: Häme → Hämeen, Hämettä, Hämeessä; Pohde → Pohteen (strong stem)."""
    stem = _strengthen(word) + "e"
    nom = word
    forms = {nom, nom[:-1] + "ttA", nom + "ttA", stem + "n", stem + "ssA", stem + "stA",
             stem + "llA", stem + "ltA", stem + "lle", stem + "nA", stem + "ksi", stem + "seen",
             stem + "t"}  # fmt: skip
    plural = stem[:-1] + "i"  # Hämeissä, alueilla, alueiden
    forms |= {plural + e for e in ("den", "tA", "ssA", "stA", "llA", "lle", "siin", "ltA")}
    return {_harmonise_back(f, back) for f in forms}


def _long_vowel(word: str, back: bool) -> set[str]:
    """Pohjanmaa, Kainuu, Vantaa: Pohjanmaan, Pohjanmaalla, Pohjanmaahan, Kainuuseen."""
    v = word[-1]
    forms = {word + e for e in ("", "n", "tA", "ssA", "stA", "llA", "ltA", "lle", "nA",
                                "ksi", "h" + v + "n", "seen", "t")}  # fmt: skip
    forms |= _plurals(word[:-1], word[:-1], back)
    return {_harmonise_back(f, back) for f in forms}


def _nen(stem: str, back: bool) -> set[str]:
    """lappilainen → lappilaisen, lappilaista, lappilaiset, lappilaisten, lappilaisille."""
    forms = {stem + "nen", stem + "sen", stem + "stA", stem + "sessA", stem + "sestA",
             stem + "seen", stem + "sellA", stem + "seltA", stem + "selle", stem + "senA",
             stem + "seksi", stem + "set", stem + "sten", stem + "sien", stem + "siA",
             stem + "sissA", stem + "sistA", stem + "siin", stem + "sillA", stem + "siltA",
             stem + "sille", stem + "sinA", stem + "siksi"}  # fmt: skip
    return {_harmonise_back(f, back) for f in forms}


def _us(stem: str, back: bool) -> set[str]:
    """uudistus → uudistuksen, uudistusta, uudistukseen, uudistuksissa."""
    k = stem + "kse"
    forms = {stem + "s", stem + "stA", k + "n", k + "ssA", k + "stA", k + "llA", k + "ltA",
             k + "lle", k + "nA", k + "ksi", k + "en", k + "t", stem + "sten",
             stem + "ksien", stem + "ksiA", stem + "ksissA", stem + "ksistA",
             stem + "ksiin", stem + "ksillA", stem + "ksille"}  # fmt: skip
    return {_harmonise_back(f, back) for f in forms}


def _consonant(word: str, back: bool) -> set[str]:
    """Loans and acronyms ending in a consonant take a linking -i-: STM → STMin."""
    return {word} | {word + f for f in _vowel(word + "i", back)}
