"""The bundled sample site: what every end-to-end test and the demo stand on.

The site must serve two editions whose chrome differs on every request and every
page while the content differs only where expected.toml says so; it must answer
conditional requests like a real server; and its ground truth must be well formed.
"""

from __future__ import annotations

import email.utils
import io
import re
import runpy
import tomllib
from collections.abc import Iterator
from pathlib import Path

import feedparser
import httpx
import pypdf
import pytest
from bs4 import BeautifulSoup
from protego import Protego
from slugs import NETWORKS, REGIONS

from sotewatch.pipeline.demo.sample_site import (
    SITE_ROOT,
    SampleSite,
    expected_path,
    sample_sources_path,
    sample_sources_text,
    subscribers_path,
)
from sotewatch.pipeline.document.models import ChangeKind

REGION_SLUGS = set(REGIONS)
NETWORK_SLUGS = set(NETWORKS)
FAMILIES = {"generic", "ministry", "ngo", "county", "pdf", "listing", "feed", "sitemap"}
NEW_ITEM = "/valtioneuvosto/tiedote-2022-alueviestintaverkosto"
OLD_ITEM = "/valtioneuvosto/tiedote-2019-valmistelu-paattyy"
PDF = "/soste/webinaari-2021.pdf"
FEED = "/valtioneuvosto/tiedotteet.rss"
# Content-area lines that change between editions but are noise by the global or
# per-source rules (dates of "Päivitetty", "Uppdaterad", THL's "Tiedot tarkistettu").
NOISE_CLASSES = ("article-meta", "meta", "checked")


def page_paths(edition: int) -> list[str]:
    """URL paths of the HTML pages of one edition, from its content files."""
    folder = SITE_ROOT / f"edition-{edition}"
    return sorted("/" + str(p.relative_to(folder).with_suffix("")) for p in folder.rglob("*.html"))


def expected_changes() -> list[dict]:
    return tomllib.loads(expected_path().read_text(encoding="utf-8"))["change"]


@pytest.fixture(scope="module")
def site() -> Iterator[SampleSite]:
    with SampleSite(edition=1) as running:
        yield running


@pytest.fixture()
def client(site: SampleSite) -> Iterator[httpx.Client]:
    site.edition = 1
    with httpx.Client(base_url=site.base_url) as http:
        yield http


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "lxml")


def content_text(response: httpx.Response) -> str:
    """The page's main content as normalised text, without the known noise lines."""
    article = soup(response).select_one("article.content")
    assert article is not None
    for noise in article.select(", ".join(f".{name}" for name in NOISE_CLASSES)):
        noise.decompose()
    return " ".join(article.get_text(" ").split())


def chrome_text(response: httpx.Response) -> str:
    """Everything a reader sees outside the content article."""
    page = soup(response)
    page.select_one("article.content").decompose()
    return " ".join(page.get_text(" ").split())


# --- serving both editions -------------------------------------------------------------


def test_each_edition_has_at_least_twelve_pages() -> None:
    assert len(page_paths(1)) >= 12
    assert len(page_paths(2)) >= 12


@pytest.mark.parametrize("edition", [1, 2])
def test_every_page_is_served_as_html_inside_its_layout(
    site: SampleSite, client: httpx.Client, edition: int
) -> None:
    site.edition = edition
    for path in page_paths(edition):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        page = soup(response)
        assert page.select_one("#cookie-consent") is not None, path
        assert page.select_one("main article.content h1") is not None, path
        assert page.select_one("main .page-updated") is not None, path
        assert page.select_one("footer .visitor-counter") is not None, path


def test_switching_the_edition_switches_which_pages_exist(
    site: SampleSite, client: httpx.Client
) -> None:
    assert client.get(OLD_ITEM).status_code == 200
    assert client.get(NEW_ITEM).status_code == 404
    site.edition = 2
    assert client.get(OLD_ITEM).status_code == 404
    assert client.get(NEW_ITEM).status_code == 200


def test_removed_page_answers_404_with_a_small_finnish_page(
    site: SampleSite, client: httpx.Client
) -> None:
    site.edition = 2
    response = client.get(OLD_ITEM)
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "Sivua ei löytynyt" in response.text


@pytest.mark.parametrize(
    "path",
    ["/stm/../edition-1/stm/verkostot", "/stm/verkostot.html", "/STM/verkostot", "/layouts/stm"],
)
def test_paths_outside_the_pages_are_not_found(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 404


def test_trailing_slash_redirects_to_the_page(client: httpx.Client) -> None:
    response = client.get("/stm/verkostot/")
    assert response.status_code == 301
    assert response.headers["location"] == "/stm/verkostot"


def test_an_unknown_edition_is_refused(site: SampleSite) -> None:
    with pytest.raises(ValueError, match="editions"):
        site.edition = 3


# --- chrome changes, content does not ------------------------------------------------


def test_chrome_changes_on_every_request_but_content_does_not(client: httpx.Client) -> None:
    first, second = client.get("/stm/verkostot"), client.get("/stm/verkostot")
    tokens = [soup(r).select_one("input[name=form_token]")["value"] for r in (first, second)]
    assert tokens[0] != tokens[1]
    assert first.text != second.text
    assert content_text(first) == content_text(second)


def test_chrome_differs_between_editions_on_every_page(
    site: SampleSite, client: httpx.Client
) -> None:
    for path in sorted(set(page_paths(1)) & set(page_paths(2))):
        site.edition = 1
        before = soup(client.get(path))
        site.edition = 2
        after = soup(client.get(path))
        for selector in ("#cookie-consent", ".main-nav", ".page-updated", ".related-links"):
            assert (
                before.select_one(selector).get_text() != after.select_one(selector).get_text()
            ), (
                path,
                selector,
            )


def test_content_differs_between_editions_only_on_pages_with_expected_changes(
    site: SampleSite, client: httpx.Client
) -> None:
    changed = {change["page"] for change in expected_changes()}
    listings = {"/valtioneuvosto/tiedotteet"}  # items come and go; reported on the item pages
    for path in sorted(set(page_paths(1)) & set(page_paths(2))):
        site.edition = 1
        before = content_text(client.get(path))
        site.edition = 2
        after = content_text(client.get(path))
        if path in changed | listings:
            assert before != after, f"{path} is in expected.toml but did not change"
        else:
            assert before == after, f"{path} changed but expected.toml lists no change"


def test_whitespace_noise_exists_in_the_content_files() -> None:
    """Edition 2 re-wraps and re-indents unchanged pages: the diff must see through it."""
    path = "verkostojarjestot/neuvottelukunta.html"
    raw = [(SITE_ROOT / f"edition-{n}" / path).read_text(encoding="utf-8") for n in (1, 2)]
    assert raw[0] != raw[1]
    texts = [" ".join(BeautifulSoup(html, "lxml").get_text(" ").split()) for html in raw]
    assert texts[0] == texts[1]


# --- HTTP validators -----------------------------------------------------------------


def test_etag_depends_on_content_not_on_chrome(site: SampleSite, client: httpx.Client) -> None:
    first, second = client.get("/stm/valmistelu"), client.get("/stm/valmistelu")
    assert first.headers["etag"] == second.headers["etag"]
    site.edition = 2
    assert client.get("/stm/valmistelu").headers["etag"] != first.headers["etag"]


def test_if_none_match_answers_304_without_a_body(client: httpx.Client) -> None:
    etag = client.get("/stm/verkostot").headers["etag"]
    response = client.get("/stm/verkostot", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag


def test_if_modified_since_answers_304_until_the_edition_changes(
    site: SampleSite, client: httpx.Client
) -> None:
    last_modified = client.get(PDF).headers["last-modified"]
    assert client.get(PDF, headers={"If-Modified-Since": last_modified}).status_code == 304
    site.edition = 2
    response = client.get(PDF, headers={"If-Modified-Since": last_modified})
    assert response.status_code == 200
    newer = email.utils.parsedate_to_datetime(response.headers["last-modified"])
    assert newer > email.utils.parsedate_to_datetime(last_modified)


def test_a_stale_etag_gets_the_new_edition(site: SampleSite, client: httpx.Client) -> None:
    etag = client.get("/stm/verkostot").headers["etag"]
    site.edition = 2
    response = client.get("/stm/verkostot", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert "Korhonen" in response.text


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        (PDF, "application/pdf"),
        (FEED, "application/rss+xml; charset=utf-8"),
        ("/robots.txt", "text/plain; charset=utf-8"),
        ("/stm/sv/natverk", "text/html; charset=utf-8"),
    ],
)
def test_content_types(client: httpx.Client, path: str, content_type: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type


def test_head_sends_headers_only(client: httpx.Client) -> None:
    response = client.head("/stm/verkostot")
    assert response.status_code == 200
    assert response.content == b""
    assert "etag" in response.headers


def test_robots_allows_everything_but_admin(client: httpx.Client) -> None:
    robots = Protego.parse(client.get("/robots.txt").text)
    assert robots.can_fetch("/stm/verkostot", "sotewatch")
    assert not robots.can_fetch("/admin/login", "sotewatch")


def test_swedish_page_is_marked_swedish(client: httpx.Client) -> None:
    page = soup(client.get("/stm/sv/natverk"))
    assert page.html["lang"] == "sv"
    assert "Sidan uppdaterad" in page.select_one(".page-updated").get_text()


# --- the PDF -------------------------------------------------------------------------


def experts_slide(data: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    for page in reader.pages:
        lines = [line.strip() for line in page.extract_text().splitlines() if line.strip()]
        if lines and lines[0] == "Järjestöasiantuntijat alueilla":
            return lines
    raise AssertionError("no slide 'Järjestöasiantuntijat alueilla'")


def expert_of(lines: list[str], county: str, experts: tuple[str, ...]) -> str:
    current = ""
    for line in lines:
        if line in experts:
            current = line
        elif line == county:
            return current
    raise AssertionError(f"{county} not on the slide")


def test_pdf_moves_kanta_hame_to_another_expert(site: SampleSite, client: httpx.Client) -> None:
    experts = ("Tero Mäkelä", "Hanna Koskinen")
    first = experts_slide(client.get(PDF).content)
    site.edition = 2
    second = experts_slide(client.get(PDF).content)
    assert expert_of(first, "Kanta-Häme", experts) == "Tero Mäkelä"
    assert expert_of(second, "Kanta-Häme", experts) == "Hanna Koskinen"
    assert sorted(first) == sorted(second)  # the same lines, one of them moved


def test_pdf_script_reproduces_the_committed_pdfs(tmp_path: Path) -> None:
    make_pdf = runpy.run_path(str(SITE_ROOT / "make_pdf.py"), run_name="make_pdf")
    for written in make_pdf["main"](tmp_path):
        committed = SITE_ROOT / written.relative_to(tmp_path)
        assert written.read_bytes() == committed.read_bytes(), committed


# --- listing and feed ----------------------------------------------------------------


def feed_links(client: httpx.Client) -> list[str]:
    parsed = feedparser.parse(client.get(FEED).content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return [entry.link for entry in parsed.entries]


def test_feed_lists_the_new_item_in_edition_2_only(site: SampleSite, client: httpx.Client) -> None:
    first = feed_links(client)
    site.edition = 2
    second = feed_links(client)
    assert site.base_url + NEW_ITEM not in first
    assert site.base_url + NEW_ITEM in second
    assert site.base_url + OLD_ITEM in first
    assert site.base_url + OLD_ITEM not in second


@pytest.mark.parametrize("edition", [1, 2])
def test_listing_and_feed_list_the_same_items(
    site: SampleSite, client: httpx.Client, edition: int
) -> None:
    site.edition = edition
    listing = soup(client.get("/valtioneuvosto/tiedotteet")).select("ul.news-list a")
    assert [site.base_url + a["href"] for a in listing] == feed_links(client)
    for link in listing:
        assert client.get(link["href"]).status_code == 200


# --- the configuration files ---------------------------------------------------------


def test_expected_changes_are_well_formed() -> None:
    changes = expected_changes()
    assert len(changes) >= 12
    assert len({change["id"] for change in changes}) == len(changes)
    for change in changes:
        ChangeKind(change["kind"])
        assert set(change["regions"]) <= REGION_SLUGS, change["id"]
        assert set(change["networks"]) <= NETWORK_SLUGS, change["id"]
        assert change["regions"] == sorted(change["regions"]), change["id"]


def test_expected_changes_cover_what_the_issue_asks_for() -> None:
    changes = expected_changes()
    kinds = {change["kind"] for change in changes}
    assert {
        "contact_replaced",
        "contact_changed",
        "section_added",
        "section_removed",
        "text_edited",
        "text_moved",
        "page_added",
        "page_removed",
    } <= kinds
    pages = {change["page"] for change in changes}
    assert {"/stm/sv/natverk", PDF, NEW_ITEM, OLD_ITEM} <= pages
    assert len({region for change in changes for region in change["regions"]}) >= 10


def page_source(edition: int, page: str) -> str:
    """The text a change can be found in: the content file, or the PDF's text."""
    folder = SITE_ROOT / f"edition-{edition}"
    if page.endswith(".pdf"):
        reader = pypdf.PdfReader(folder / page[1:])
        return "\n".join(p.extract_text() for p in reader.pages)
    file = folder / f"{page[1:]}.html"
    return file.read_text(encoding="utf-8") if file.exists() else ""


@pytest.mark.parametrize("change", expected_changes(), ids=lambda change: change["id"])
def test_each_expected_change_points_at_real_text(change: dict) -> None:
    texts = [re.sub(r"\s+", " ", page_source(n, change["page"])) for n in (1, 2)]
    assert any(texts), f"{change['page']} exists in neither edition"
    if change["kind"] == "page_added":
        assert not texts[0] and texts[1]
    if change["kind"] == "page_removed":
        assert texts[0] and not texts[1]
    if "section" in change:
        assert any(change["section"] in text for text in texts)
    for word in change.get("mentions", []):
        assert any(word in text for text in texts), word


def test_sources_point_at_served_pages(site: SampleSite, client: httpx.Client) -> None:
    raw = tomllib.loads(sample_sources_path().read_text(encoding="utf-8"))
    assert raw["settings"]["removed_after"] == 1
    assert raw["settings"]["per_host_delay"] == 0
    config = tomllib.loads(sample_sources_text(site.base_url))
    ids = [source["id"] for source in config["source"]]
    assert len(ids) == len(set(ids))
    for source in config["source"]:
        assert source["family"] in FAMILIES
        assert set(source.get("regions", [])) <= REGION_SLUGS
        assert set(source.get("networks", [])) <= NETWORK_SLUGS
        assert client.get(source["url"]).status_code == 200, source["id"]
    families = {source["family"] for source in config["source"]}
    assert {"ministry", "ngo", "county", "generic", "listing", "feed"} <= families


def test_subscribers_are_invented_and_use_known_slugs() -> None:
    subscribers = tomllib.loads(subscribers_path().read_text(encoding="utf-8"))["subscriber"]
    assert 4 <= len(subscribers) <= 5
    assert {s["language"] for s in subscribers} == {"fi", "sv", "en"}
    for subscriber in subscribers:
        assert subscriber["email"].endswith(("@example.org", "@example.fi"))
        assert set(subscriber["regions"]) <= REGION_SLUGS | {"*"}
        assert set(subscriber["networks"]) <= NETWORK_SLUGS | {"*"}
        assert subscriber["frequency"] in {"daily", "weekly"}
        if subscriber["frequency"] == "weekly":
            assert subscriber["weekday"] in {"monday", "wednesday", "friday"}
