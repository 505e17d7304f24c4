"""Whether a page fetched again must be extracted again.

A page's Document is a pure function of what its scraper read (`Reading.key`: for an
HTML page, its tree without the site's chrome), of the source's noise rules, and of
the code that extracts. `input_key` digests the three together, and the run keeps each
page's latest key (`pages.input_hash`). A page that answers 200 with the same key has
the Document of its latest version, and is neither extracted nor compared: a site
rebuilt with a new footer date on every page costs a parse and a hash per page, not a
whole extraction (issue 3).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import sotewatch.pipeline
import sotewatch.scrapers
from sotewatch.scrapers.base import Reading

# Libraries whose answers shape a Document: the HTML parser, the charset detectors, the
# phone normaliser, the PDF, feed and XML readers, the main-content extractor.
_LIBRARIES = (
    "lxml",
    "beautifulsoup4",
    "charset-normalizer",
    "phonenumbers",
    "pypdf",
    "feedparser",
    "defusedxml",
    "trafilatura",
)


def input_key(reading: Reading, ignore: tuple[str, ...]) -> str:
    """The hex digest of a reading, the source's noise rules (`ignore`) and the code."""
    digest = hashlib.sha256(code_digest())
    digest.update(reading.key)
    digest.update(repr(ignore).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def code_key() -> str:
    """The running code, as `snapshots.code_key` records which code extracted a version."""
    return code_digest().hex()


@cache
def code_digest() -> bytes:
    """Every module of the two packages, and the versions of the libraries they read
    pages with: a new sotewatch, or a new lxml, reads every page afresh once. Read once
    a process."""
    from importlib import metadata

    folders = [Path(package.__path__[0]) for package in (sotewatch.scrapers, sotewatch.pipeline)]
    digest = hashlib.sha256(sources_digest(folders))
    for name in _LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{name} {version}\n".encode())
    return digest.digest()


def sources_digest(folders: list[Path]) -> bytes:
    """The digest of every Python module in `folders`, by name and content."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            source = path.read_bytes()
            name = path.relative_to(folder).as_posix()
            digest.update(f"{folder.name}/{name} {len(source)}\n".encode())
            digest.update(source)
    return digest.digest()
