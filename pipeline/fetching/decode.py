"""Bytes to text: content-encoding undone within a size limit, then the right charset.

No I/O. `BoundedDecoder` inflates gzip/deflate a chunk at a time and never
produces more than the limit, so a gzip bomb (a few hundred KB that inflate to
gigabytes) costs at most `limit` bytes of memory. httpx's own decoder inflates
each network chunk whole, which for a 64 KB chunk of a bomb is 64 MB.

 Servers often send a default `charset=ISO-8859-1`
header for pages written in UTF-8, or UTF-8 for pages saved in Windows-1252;
the page's own `<meta charset>` is usually right. Valid non-ASCII UTF-8 is
almost never an accident, so it wins; otherwise the declarations are tried in
order and charset-normalizer guesses last. Latin-1 is read as Windows-1252,
as browsers do (it is a superset for every byte that matters).
"""

from __future__ import annotations

import codecs
import zlib
from email.message import Message

_TEXT_TYPES = {
    "application/xhtml+xml",
    "application/xml",
    "application/rss+xml",
    "application/atom+xml",
    "application/json",
    "application/javascript",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# The encodings Finnish, Swedish and English pages actually use. Letting the
# detector consider every code page makes short Latin-1 texts come out as
# Mac Icelandic or KOI8; the sites we watch never use those.
_WESTERN = ("cp1252", "iso8859_15", "utf_16", "utf_32")
# UTF-8 read as Windows-1252: "ä" -> "Ã¤", "–" -> "â€“". Their presence means mojibake.
_MOJIBAKE = ("Ã¤", "Ã¶", "Ã¥", "Ã„", "Ã–", "Ã…", "Ã©", "â€")


class BodyTooLarge(Exception):
    """The (decompressed) body passed the size limit."""


class UnsupportedEncoding(Exception):
    """A Content-Encoding we did not ask for and cannot undo."""


class BoundedDecoder:
    """Undoes a Content-Encoding chunk by chunk; raises BodyTooLarge past `limit` bytes."""

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        encoding = (content_encoding or "identity").strip().lower()
        self.limit = limit
        self.size = 0
        self._raw_deflate_fallback = encoding == "deflate"
        if encoding in ("identity", ""):
            self._inflater = None
        elif encoding in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS)
        else:
            raise UnsupportedEncoding(f"unsupported Content-Encoding {content_encoding!r}")

    def feed(self, data: bytes) -> bytes:
        if self._inflater is None:
            return self._count(data)
        if self._inflater.eof:
            return b""  # trailing bytes after the stream end are ignored
        room = self.limit - self.size + 1
        try:
            out = self._inflater.decompress(data, room)
        except zlib.error as exc:
            if not (self._raw_deflate_fallback and self.size == 0):
                raise UnsupportedEncoding(f"corrupt compressed body: {exc}") from exc
            # "deflate" from some servers is raw deflate without the zlib header.
            self._raw_deflate_fallback = False
            self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._inflater.decompress(data, room)
        self._raw_deflate_fallback = False
        return self._count(out)

    def _count(self, out: bytes) -> bytes:
        self.size += len(out)
        if self.size > self.limit:
            raise BodyTooLarge(f"body too large: more than {self.limit} bytes (decompressed)")
        return out


def parse_content_type(header: str | None) -> tuple[str, str | None]:
    """`text/html; charset=ISO-8859-1` -> ("text/html", "iso-8859-1")."""
    if not header:
        return "", None
    message = Message()
    message["content-type"] = header
    mime = message.get_content_type().lower()
    charset = message.get_param("charset")
    return mime, (str(charset).strip().lower() if charset else None)


def is_text_type(mime: str) -> bool:
    return mime.startswith("text/") or mime in _TEXT_TYPES or mime.endswith("+xml")


def sniff_type(content: bytes) -> str:
    """A media type for a response that sent none."""
    head = content[:512].lstrip()
    if head.startswith(b"%PDF"):
        return "application/pdf"
    if head.startswith(b"<?xml") and b"<html" not in head.lower():
        return "application/xml"
    return "text/html"


def decode_body(content: bytes, mime: str, header_charset: str | None) -> str:
    """The text of a text-type body; "" for binaries and empty bodies."""
    return decode_text(content, mime, header_charset)[0]


def decode_text(content: bytes, mime: str, header_charset: str | None) -> tuple[str, str | None]:
    """(text, the charset it was decoded with); ("", None) for binaries and empty bodies."""
    if not content or not is_text_type(mime):
        return "", None
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            return content.decode(encoding, errors="replace"), encoding
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    for encoding in _declared(content, mime, header_charset):
        try:
            text = content.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if not looks_mojibake(text):
            return text, encoding
    from charset_normalizer import from_bytes  # a guess is rare: not worth it at start-up

    best = from_bytes(content, cp_isolation=list(_WESTERN)).best()
    if best is not None and best.encoding:
        return str(best), best.encoding
    return content.decode("windows-1252", errors="replace"), "cp1252"


def _declared(content: bytes, mime: str, header_charset: str | None) -> list[str]:
    """The page's own declaration first (most often right), then the header's.

    Only asked for a body that is not UTF-8, so bs4 (slow to import) is imported
    then, not by every run."""
    from bs4.dammit import EncodingDetector

    is_html = "html" in mime
    found = [
        EncodingDetector.find_declared_encoding(
            content, is_html=is_html, search_entire_document=False
        ),
        header_charset,
    ]
    out: list[str] = []
    for name in found:
        normal = _normalise(name)
        if normal and normal not in out and normal != "utf-8":
            out.append(normal)
    return out


def _normalise(name: str | None) -> str | None:
    if not name:
        return None
    try:
        canonical = codecs.lookup(name.strip().strip("'\"")).name
    except LookupError:
        return None
    if canonical in ("latin-1", "iso8859-1", "ascii"):
        return "cp1252"
    return canonical


def looks_mojibake(text: str) -> bool:
    """True when the text shows UTF-8 bytes read as a single-byte charset."""
    return any(marker in text for marker in _MOJIBAKE)
