"""Every page of the bundled sample site parses cleanly in both editions.

The sample site renders fresh chrome on every request (form token, visitor
counter, "Sivua päivitetty" date) and other chrome per edition (cookie text,
menu, notice, related links). None of it may reach a Document, and the same
content served twice must give the identical Document.
"""

from __future__ import annotations

import tomllib

import httpx
import pytest

from sotewatch.pipeline.demo.sample_site import SITE_ROOT, SampleSite
from sotewatch.scrapers import Page, get_scraper

CHROME = tomllib.loads((SITE_ROOT / "chrome.toml").read_text("utf-8"))
SOURCES = tomllib.loads((SITE_ROOT / "sources.toml").read_text("utf-8"))["source"]
CHROME_KEYS = ("updated", "share", "visitors", "home", "accept", "decline", "feedback",
               "related", "menu", "search", "skip")  # fmt: skip


def family_of(path: str) -> str:
    """The family the demo's sources.toml gives a page (or the one its items get)."""
    for source in SOURCES:
        if source["url"].removeprefix("{site}") == path:
            return source["family"]
    return "pdf" if path.endswith(".pdf") else "ministry"  # discovered press releases


def site_paths() -> list[str]:
    paths = set()
    for edition in (1, 2):
        root = SITE_ROOT / f"edition-{edition}"
        for file in root.rglob("*"):
            if file.is_file():
                path = "/" + file.relative_to(root).as_posix()
                paths.add(path.removesuffix(".html"))
    return sorted(paths)


def chrome_texts() -> list[str]:
    texts = [CHROME["strings"][lang][key] for lang in ("fi", "sv") for key in CHROME_KEYS]
    for edition in CHROME["edition"].values():
        texts += [edition["cookie"], edition["cookie_sv"]]
        texts += [edition["notice"]] if edition["notice"] else []
    return texts


def related_paths() -> set[str]:
    """Links of the related-links box and the menu: chrome, never links of a Document."""
    editions = CHROME["edition"].values()
    return {item["href"] for e in editions for item in (*e["related"], *e["nav_extra"])}


@pytest.fixture(scope="module")
def site():
    with SampleSite(edition=1) as running:
        yield running


def fetch_document(site: SampleSite, path: str):
    response = httpx.get(site.base_url + path)
    if response.status_code != 200:
        return None
    content_type = response.headers["content-type"]
    page = Page(str(response.url), response.content, content_type, response.text, 200)
    return get_scraper(family_of(path)).parse(page)


@pytest.mark.parametrize("edition", [1, 2])
@pytest.mark.parametrize("path", site_paths())
def test_sample_page_is_clean_and_stable(site: SampleSite, edition: int, path: str) -> None:
    site.edition = edition
    first = fetch_document(site, path)
    if first is None:
        assert not (SITE_ROOT / f"edition-{edition}").joinpath(path.lstrip("/") + ".html").exists()
        return
    second = fetch_document(site, path)
    assert first == second, "fresh chrome on a second request changed the Document"
    assert first.title and first.sections
    serialised = first.to_json().casefold()
    for chrome in chrome_texts():
        assert chrome.casefold() not in serialised, f"chrome leaked: {chrome!r}"
    leaked = {link.url.removeprefix(site.base_url) for link in first.links} & related_paths()
    assert not leaked, f"related-links box leaked: {leaked}"


def test_sample_networks_page_contacts_are_records(site: SampleSite) -> None:
    site.edition = 1
    doc = fetch_document(site, "/stm/verkostot")
    assert doc is not None and doc.contacts
    for contact in doc.contacts:
        assert contact.email.endswith("@gov.fi") and contact.phone.startswith("+358")
        assert contact.section.startswith("Verkostot / ")
