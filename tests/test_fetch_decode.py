"""Bytes to text without the network: charsets and bounded decompression."""

from __future__ import annotations

import gzip
import zlib

import pytest

from sotewatch.pipeline.fetching.decode import (
    BodyTooLarge,
    BoundedDecoder,
    UnsupportedEncoding,
    decode_body,
    looks_mojibake,
    parse_content_type,
)

TEXT = "Yhteistyö ja päätös: Etelä-Savo, Åland. Samarbete över gränserna."


def html(meta: str | None = None) -> str:
    head = f'<meta http-equiv="Content-Type" content="text/html; charset={meta}">' if meta else ""
    return f"<html><head>{head}<title>t</title></head><body><p>{TEXT}</p></body></html>"


@pytest.mark.parametrize(
    ("header", "encoding", "meta"),
    [
        ("iso-8859-1", "iso-8859-1", None),
        ("utf-8", "iso-8859-1", "iso-8859-1"),
        ("iso-8859-1", "utf-8", "utf-8"),
        ("iso-8859-1", "utf-8", None),
        (None, "iso-8859-15", None),
        (None, "utf-16", None),
        ("utf-8", "utf-8-sig", None),
        ("made-up-charset", "windows-1252", None),
    ],
    ids=[
        "latin1-header",
        "latin1-body-utf8-header-http-equiv",
        "utf8-body-latin1-header",
        "utf8-body-latin1-header-no-meta",
        "latin9-nothing-declared",
        "utf16-with-bom",
        "utf8-with-bom",
        "unknown-charset-name",
    ],
)
def test_decoded_text_is_right_whatever_is_declared(header, encoding, meta):
    body = html(meta).encode(encoding)
    text = decode_body(body, "text/html", header)
    assert TEXT in text
    assert not looks_mojibake(text)


def test_binaries_and_empty_bodies_have_no_text():
    assert decode_body(b"%PDF-1.7 \xe4\xf6", "application/pdf", None) == ""
    assert decode_body(b"", "text/html", "utf-8") == ""


def test_xml_feeds_are_text():
    feed = f'<?xml version="1.0" encoding="iso-8859-1"?><rss><title>{TEXT}</title></rss>'
    assert TEXT in decode_body(feed.encode("iso-8859-1"), "application/rss+xml", None)


def test_content_type_is_split_into_type_and_charset():
    assert parse_content_type('Text/HTML; Charset="ISO-8859-1"') == ("text/html", "iso-8859-1")
    assert parse_content_type(None) == ("", None)


def test_mojibake_is_recognised():
    assert looks_mojibake(TEXT.encode().decode("cp1252"))
    assert not looks_mojibake(TEXT)


def feed_all(decoder: BoundedDecoder, data: bytes, size: int = 4096) -> bytes:
    return b"".join(decoder.feed(data[i : i + size]) for i in range(0, len(data), size))


def test_gzip_is_inflated_within_the_limit():
    body = TEXT.encode() * 100
    assert feed_all(BoundedDecoder("gzip", 10_000), gzip.compress(body)) == body


def test_a_gzip_bomb_stops_at_the_limit_without_inflating_a_whole_chunk():
    bomb = gzip.compress(bytes(50_000_000), compresslevel=9)
    decoder = BoundedDecoder("gzip", 1_000)
    with pytest.raises(BodyTooLarge, match="more than 1000 bytes"):
        decoder.feed(bomb)  # one feed of the whole bomb: still never more than limit + 1
    assert decoder.size == 1_001


def test_identity_bodies_are_counted_too():
    decoder = BoundedDecoder(None, 10)
    assert decoder.feed(b"12345") == b"12345"
    with pytest.raises(BodyTooLarge):
        decoder.feed(b"123456")


def test_raw_deflate_is_accepted_as_deflate():
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    raw = compressor.compress(TEXT.encode()) + compressor.flush()
    assert BoundedDecoder("deflate", 10_000).feed(raw) == TEXT.encode()


def test_corrupt_gzip_and_unknown_encodings_are_refused():
    with pytest.raises(UnsupportedEncoding, match="corrupt"):
        BoundedDecoder("gzip", 100).feed(b"not gzip at all")
    with pytest.raises(UnsupportedEncoding, match="'zstd'"):
        BoundedDecoder("zstd", 100)
