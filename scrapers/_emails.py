"""E-mail addresses a CDN hid from the page's text, read back.

Cloudflare's e-mail obfuscation replaces each address with "[email protected]" and an
encoding of it (`data-cfemail`, or a `/cdn-cgi/l/email-protection#...` link) under a
key drawn anew for every response. Left as it is, a contact's address is never read,
so a changed address is never reported, and the page's links differ on every fetch.
The encoding is a one-byte XOR: the first byte is the key.
"""

from __future__ import annotations

from sotewatch.scrapers._tree import Element

_PROTECTED_LINK = "/cdn-cgi/l/email-protection"
_FOUND = f'//*[@data-cfemail] | //a[contains(@href, "{_PROTECTED_LINK}")]'
_MARKS = (b"data-cfemail", _PROTECTED_LINK.encode())


def may_hide_emails(content: bytes, text: str) -> bool:
    """Whether the page's source has the marks of the obfuscation (a search in bytes is
    cheaper than a look through every element of every page)."""
    if content:
        return any(mark in content for mark in _MARKS)
    return any(mark.decode() in text for mark in _MARKS)


def reveal_emails(root: Element) -> None:
    """Undo Cloudflare's e-mail obfuscation in place: an element holding an encoded
    address holds the address, an encoded link is a mailto: link."""
    for element in root.xpath(_FOUND):
        encoded = element.get("data-cfemail")
        if encoded is not None and (address := decoded(encoded)):
            for child in list(element):
                element.remove(child)
            element.text = address
            del element.attrib["data-cfemail"]
        href = element.get("href", "")
        if _PROTECTED_LINK in href:
            address = decoded(href.partition("#")[2]) or (element.text or "").strip()
            element.set("href", f"mailto:{address}" if "@" in address else "")


def decoded(encoded: str) -> str:
    """The address a hex string encodes ("" if it is not one)."""
    try:
        data = bytes.fromhex(encoded)
    except ValueError:
        return ""
    if len(data) < 2:
        return ""
    address = bytes(byte ^ data[0] for byte in data[1:]).decode("utf-8", "replace")
    return address if "@" in address and address.isprintable() else ""
