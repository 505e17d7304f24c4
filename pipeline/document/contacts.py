"""Contact people as records, parsed from the lines of one section.

A diff can only say "X replaced Y as the network's contact" if contacts are
records, not free text. The reform's pages write them in a handful of ways:

    Name, title, ORG, 0295 163 000, first.last(at)gov.fi
    title Name, etunimi.sukunimi(at)stm.fi          (the address is a pattern)
    ... yhteyshenkilö on Name (first.last@org.fi).  (a plain address in prose)
    Group chair, title Name (VM), puh. 029 553 0000, first.last(at)vm.fi
    Lisätietoja antavat title Name sekä title Name: 050 000 0000, x@y.fi

and on slides the same record split over lines (name, title, address).
Everything here is pure: lines in, Contacts out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

import phonenumbers

from sotewatch.pipeline.document.models import Contact
from sotewatch.pipeline.document.textscan import contains_lowered, holding

_UPPER = "A-ZÅÄÖÜÉÈÁÍÓÚØÆ"
_LOWER = "a-zåäöüéèáíóúøæß"
_NAME_TOKEN = rf"[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}{_LOWER}][{_LOWER}]+)*"
_NAME_RUN = re.compile(rf"(?:{_NAME_TOKEN})(?:\s+{_NAME_TOKEN})*")
_DIGIT = re.compile(r"\d")
_AT = re.compile(r"\s*[(\[]\s*(?:at|ät)\s*[)\]]\s*", re.IGNORECASE)
EMAIL = re.compile(r"[\w.%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE_PREFIX = r"(?:(?:puh|p|tel|puhelin|gsm|mob|tfn|telefon|phone)\.?:?\s*)?"
PHONE = re.compile(
    rf"(?<![\w.,/]){_PHONE_PREFIX}"
    r"((?:\+358|00358)[\s-]?(?:\(0\)\s?)?\d{1,3}(?:[\s-]?\d){4,10}|0\d{1,3}(?:[\s-]?\d){5,10})"
    r"(?![\w.,/]\d)",
    re.IGNORECASE,
)
_NAME_WITH_ADDRESS = re.compile(
    rf"({_NAME_TOKEN}(?:\s+{_NAME_TOKEN}){{1,3}})\s*\(\s*({EMAIL.pattern})\s*\)"
)
_LEAD_IN = re.compile(
    r"^\s*(?:lisätietoja(?:\s+(?:antavat|antaa))?|lisätiedot|yhteystiedot|yhteyshenkilöt?|"
    r"mer information|ytterligare information|mer information ger|kontaktpersoner?|"
    r"more information|contact)\b\s*:?\s*",
    re.IGNORECASE,
)
_BLOCK_HEADER = re.compile(
    r"^\s*(?:lisätietoja|lisätiedot|yhteystiedot|yhteyshenkilöt?|mer information|"
    r"ytterligare information|kontaktuppgifter|kontaktpersoner?|more information|contacts?)"
    r"\s*:?\s*$",
    re.IGNORECASE,
)
_TITLE_WORD = re.compile(
    r"(?:päällikkö|johtaja|asiantuntija|sihteeri|virkamies|neuvos|koordinaattori|tutkija|"
    r"suunnittelija|ministeri|lakimies|jäsen|vastaava|assistentti|agentti|kehittäjä|viestijä|"
    r"tiedottaja|esittelijä|puheenjohtaja|hoitaja|lääkäri|kirjuri|chef|direktör|sekreterare|"
    r"expert|koordinator|rådgivare|specialist|ansvarig|officer|manager|director|adviser|"
    r"advisor|head|ordförande)$",
    re.IGNORECASE,
)
_PATTERN_LOCALS = {"etunimi.sukunimi", "firstname.lastname", "förnamn.efternamn"}
_JOINERS = re.compile(r"\s+(?:sekä|ja|och|and)\s+")
_MAX_RECORD = 400  # characters: longer lines are prose, not contact records
# A contact needs an address ("@", or "(at)" with its bracket), a phone number (every
# number PHONE matches has a "0" or starts "+358"), or a line that opens with a lead-in
# or block header. Those are told by lower-case pieces, none with an "s" or "i", which
# re.IGNORECASE also matches as "ſ" and "ı", letters lower() leaves as they are.
_CONTACT_SIGNS = ("@", "(", "[", "0", "+358")
_OPENER_PIECES = ("etoja", "edot", "yhtey", "format", "kontakt", "contact")
_OPENING = 24  # characters of a line an opener lies in ("ytterligare information": 23)


def parse_contacts(lines: Sequence[str], section: str) -> list[Contact]:
    """Every contact person named in `lines` (one section's paragraphs), in order."""
    if not _may_hold_contact(lines):
        return []
    found: list[Contact] = []
    in_block = False
    pending: list[str] = []  # name/title lines waiting for the address that follows them
    for raw in lines:
        for line in (x.strip() for x in raw.split("\n")):
            if not line:
                continue
            if _BLOCK_HEADER.match(line):
                in_block, pending = True, []
                continue
            contacts = _parse_line(line, section, in_block)
            if not contacts and pending and _has_reachability(line):
                contacts = _parse_line(", ".join([*pending, line]), section, True)
            if contacts:
                found.extend(contacts)
                pending = []
            elif len(line) < 120 and not _has_reachability(line):
                pending = [*pending, line][-2:]
            else:
                pending = []
    return _dedupe(found)


def may_hold_contacts(sections: Sequence[Sequence[str]]) -> list[bool]:
    """For each section's lines, whether they can make a contact (False only when
    `parse_contacts` would find none), told for a whole page at once."""
    texts = ["\n".join(lines) for lines in sections]
    held = holding(texts, _CONTACT_SIGNS)
    if _has_opener("\n".join(texts)):  # somewhere: then each section is asked on its own
        held = [hit or _may_hold_contact(lines) for hit, lines in zip(held, sections, strict=True)]
    return held


def _has_opener(text: str) -> bool:
    openings = "\n".join([line.lstrip()[:_OPENING] for line in text.split("\n")])
    return contains_lowered(openings, _OPENER_PIECES)


def _may_hold_contact(lines: Sequence[str]) -> bool:
    """False only when no line can make a contact: a few scans of a section of prose
    instead of a few regexes per line."""
    text = "\n".join(lines)
    return any(sign in text for sign in _CONTACT_SIGNS) or _has_opener(text)


def resolve_at(text: str) -> str:
    """ "first.last(at)stm.fi" -> "first.last@stm.fi"."""
    if "(" not in text and "[" not in text:  # the regex needs a bracket: skip it cheaply
        return text
    return _AT.sub("@", text)


def normalise_phone(raw: str) -> str:
    """A Finnish phone number in E.164 ("+358295163000"); as written if it does not parse."""
    digits = raw.strip()
    try:
        number = phonenumbers.parse(digits, "FI")
    except phonenumbers.NumberParseException:
        return " ".join(digits.split())
    if phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return " ".join(digits.split())


def address_from_pattern(name: str, email: str) -> str:
    """Resolve "etunimi.sukunimi@stm.fi" for `name` to the person's real address."""
    local, _, domain = email.partition("@")
    tokens = name.split()
    if local.lower() not in _PATTERN_LOCALS or len(tokens) < 2:
        return email
    return f"{_slug(tokens[0])}.{_slug(tokens[-1])}@{domain}".lower()


def _slug(word: str) -> str:
    word = word.lower().replace("ä", "a").replace("ö", "o").replace("å", "a")
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _has_reachability(text: str) -> bool:
    text = resolve_at(text)
    if "@" not in text and not _DIGIT.search(text):  # no address, no phone: no regex needed
        return False
    return bool(EMAIL.search(text) or PHONE.search(text))


def _parse_line(line: str, section: str, in_block: bool) -> list[Contact]:
    text = resolve_at(line)
    contacts: list[Contact] = []
    if "@" in text:  # a "Name (address)" needs an address: most prose lines have none
        for match in _NAME_WITH_ADDRESS.finditer(text):
            contact = Contact(name=match.group(1), email=match.group(2).lower(), section=section)
            contacts.append(contact)
        text = _NAME_WITH_ADDRESS.sub(" ", text)
    lead_in = _LEAD_IN.match(text)
    if lead_in:  # anchored at the start: cutting the match is what sub() did, without a scan
        text = text[lead_in.end() :]
    if len(text) > _MAX_RECORD or not (lead_in or in_block or _has_reachability(text)):
        return contacts
    for segment in _segments(text):
        record = _parse_record(segment, section)
        if record and (lead_in or in_block or record.email or record.phone):
            contacts.append(record)
    return contacts


def _segments(text: str) -> list[str]:
    """Split "title A sekä title B: phone, e-mail" into one record per person."""
    text = re.sub(r":\s*(?=(?:\+|0\d|puh|tel|[\w.]+@))", ", ", text)
    pieces: list[str] = []
    start = 0
    for joiner in _JOINERS.finditer(text):
        before = text[start : joiner.start()]
        if _trailing_name(before.split(",")[-1]) and _NAME_RUN.search(text[joiner.end() :]):
            pieces.append(before)
            start = joiner.end()
    pieces.append(text[start:])
    return [p.strip(" ,.;") for p in pieces if p.strip(" ,.;")]


def _parse_record(segment: str, section: str) -> Contact | None:
    emails = EMAIL.findall(segment)
    phones = [m.group(1) for m in PHONE.finditer(segment)]
    rest = PHONE.sub(" ", EMAIL.sub(" ", segment))
    parts = [p.strip(" .;:") for p in _split_commas(rest)]
    parts = [p for p in parts if p]
    for index, part in enumerate(parts):
        hit = _trailing_name(part)
        if hit is None:
            continue
        name, prefix, organisation = hit
        title_parts = [*parts[:index], prefix] if prefix else parts[:index]
        extra_org, extra_titles = _after_name(parts[index + 1 :])
        email = address_from_pattern(name, emails[0].lower()) if emails else ""
        return Contact(
            name=name,
            title=_clean_title(", ".join([*title_parts, *extra_titles])),
            organisation=organisation or extra_org,
            phone=normalise_phone(phones[0]) if phones else "",
            email=email,
            section=section,
        )
    return None


def _trailing_name(part: str) -> tuple[str, str, str] | None:
    """(name, what precedes it, organisation in parentheses) if `part` ends with a name."""
    part = part.strip()
    organisation = ""
    paren = re.search(r"\(([^()]{1,60})\)\s*$", part)
    if paren:
        organisation, part = paren.group(1).strip(), part[: paren.start()].rstrip()
    tokens = part.split()
    name: list[str] = []
    for token in reversed(tokens):
        if not re.fullmatch(_NAME_TOKEN, token) or _TITLE_WORD.search(token):
            break
        name.insert(0, token)
    if len(name) < 2:
        return None
    if len(name) > 4 or len(name) < len(tokens):
        name = name[-2:]
    prefix = " ".join(tokens[: len(tokens) - len(name)])
    return " ".join(name), prefix, organisation


def _after_name(parts: Iterable[str]) -> tuple[str, list[str]]:
    organisation, titles = "", []
    for part in parts:
        if not organisation and part[:1].isupper():
            organisation = part
        else:
            titles.append(part)
    return organisation, titles


def _split_commas(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == "," and depth <= 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _clean_title(title: str) -> str:
    title = " ".join(title.split()).strip(" ,.;:")
    if len(title) > 120 and ". " in title:
        title = title.rsplit(". ", 1)[1]
    return title


def _dedupe(contacts: list[Contact]) -> list[Contact]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for contact in contacts:
        key = (contact.key, contact.section)
        if key not in seen:
            seen.add(key)
            unique.append(contact)
    return unique
