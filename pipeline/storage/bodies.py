"""Raw bodies, compressed against the page's earlier version.

Two versions of a page share almost every byte: the site's menus, scripts and footer,
and all but a paragraph of the content. Compressed on its own, a 30 KB page still
takes 7 KB; compressed with its earlier version as a zstd dictionary ("raw content"
dictionary, the same idea as a delta), it takes a few hundred bytes. The earlier
version is always a *key* body, one compressed on its own, so reading any body takes
at most two decompressions; a body that has drifted too far from its key becomes the
next key.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import zstandard

# zstd level 1 rather than 3: faster between two extractions, whose work leaves level
# 3's larger tables out of the cache, for a database about 1% larger.
LEVEL = 1
# A delta bigger than this share of the plain-compressed body is not worth its key.
KEY_AFTER = 0.5


@dataclass(frozen=True)
class Packed:
    """A compressed body and the key body it needs, if any."""

    data: bytes
    compression: str  # "zstd" on its own, "zstd-delta" with `base` as dictionary
    base: str | None = None


def _dictionary(base_content: bytes) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(base_content, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


_local = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    """One a thread, reused: making one costs a fifth of compressing a 30 KB page, and
    one must not compress for two threads at once."""
    compressor = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = _local.compressor = zstandard.ZstdCompressor(level=LEVEL)
    return compressor


def pack(content: bytes, key: tuple[str, bytes] | None = None) -> Packed:
    """Compress `content`, against `key` = (hash, content of a key body) when it pays."""
    plain = _compressor().compress(content)
    if key is None:
        return Packed(plain, "zstd")
    key_hash, key_content = key
    against_key = zstandard.ZstdCompressor(level=LEVEL, dict_data=_dictionary(key_content))
    delta = against_key.compress(content)
    if len(delta) > KEY_AFTER * len(plain):
        return Packed(plain, "zstd")
    return Packed(delta, "zstd-delta", key_hash)


def unpack(data: bytes, compression: str, key_content: bytes | None = None) -> bytes:
    """The body's bytes; a "zstd-delta" body needs its key body's content."""
    if compression == "zstd":
        return zstandard.ZstdDecompressor().decompress(data)
    if compression == "zstd-delta" and key_content is not None:
        return zstandard.ZstdDecompressor(dict_data=_dictionary(key_content)).decompress(data)
    raise ValueError(f"cannot decompress a body stored as {compression!r} without its key")
