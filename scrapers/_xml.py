"""Safe XML for feeds and sitemaps: no DTD entities, no external references, bounded size."""

from __future__ import annotations

import gzip
import io
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from sotewatch.pipeline.errors import ExtractionError

MAX_XML_BYTES = 20_000_000  # a sitemap may be 50 MB uncompressed by spec; we stop earlier


def refuse_entities(content: bytes, url: str) -> None:
    """Raise ExtractionError if the document declares entities or external references."""
    head = content[:65536].lower()
    if b"<!entity" in head:
        raise ExtractionError("XML declares entities; refused (entity expansion)", url=url)


def parse_xml(content: bytes, url: str) -> Element:
    """The root element of a (possibly gzipped) XML document, parsed with defusedxml."""
    if content[:2] == b"\x1f\x8b":
        content = _gunzip(content, url)
    try:
        return fromstring(content, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ExtractionError(f"XML refused: {type(exc).__name__}", url=url) from None
    except (ParseError, ValueError) as exc:
        raise ExtractionError(f"not well-formed XML: {exc}", url=url) from None


def _gunzip(content: bytes, url: str) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(content)) as stream:
            data = stream.read(MAX_XML_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise ExtractionError(f"broken gzip: {exc}", url=url) from None
    if len(data) > MAX_XML_BYTES:
        raise ExtractionError("sitemap larger than 20 MB uncompressed; refused", url=url)
    return data
