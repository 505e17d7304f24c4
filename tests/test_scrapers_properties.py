"""Extraction never raises on arbitrary input (except the one error it means to raise)
and is deterministic: the same bytes always give the same Document."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sotewatch.pipeline.errors import ExtractionError
from sotewatch.scrapers import REGISTRY, Page, get_scraper

get_scraper("generic")  # load every family
FAMILIES = sorted(REGISTRY)
HTML_FAMILIES = ["generic", "ministry", "ngo", "county", "listing"]

html_like = st.lists(
    st.sampled_from(
        ["<p>", "</p>", "<h2>", "</h2>", "<div>", "<table><tr><td>", "</td>", "<li>", "<br>",
         "<main>", "<nav>", "<b>", "Lappi", "Kari Koe, STM, 0295 163 000, k.koe(at)gov.fi",
         "Sivua päivitetty 1.2.2022", "<!--", "-->", "&amp;", "&#0;", "<h1>", "ä", "\x00"]
    ),
    max_size=40,
).map("".join)  # fmt: skip


def outcome(family: str, content: bytes, content_type: str) -> str:
    try:
        return (
            get_scraper(family)
            .parse(Page("https://example.org/x", content, content_type))
            .to_json()
        )
    except ExtractionError as exc:
        return f"ExtractionError: {exc}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(family=st.sampled_from(FAMILIES), content=st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise_and_are_deterministic(family: str, content: bytes) -> None:
    first = outcome(family, content, "application/octet-stream")
    assert first == outcome(family, content, "application/octet-stream")


@settings(max_examples=60, deadline=None)
@given(family=st.sampled_from(HTML_FAMILIES), markup=html_like)
def test_html_families_always_return_a_document(family: str, markup: str) -> None:
    result = outcome(family, markup.encode("utf-8"), "text/html; charset=utf-8")
    assert not result.startswith("ExtractionError")
    assert result == outcome(family, markup.encode("utf-8"), "text/html; charset=utf-8")
