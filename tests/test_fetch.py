"""The fetch stage against a real local server that injects each fault.

Every test fetches over real TCP from `fault_server` (tests/faultserver.py) and
asserts on the FetchResult: its outcome, status and the error an operator reads.
Timeouts and backoff are shrunk so the retry paths really run, quickly.
"""

from __future__ import annotations

import dataclasses
import ssl

import pytest
from faultserver import CHARSET_CASES, FINNISH, LAST_MODIFIED, FaultServer, fault_server

from sotewatch.pipeline.config import Settings
from sotewatch.pipeline.fetching.fetch import Fetcher, Tuning
from sotewatch.pipeline.fetching.fetched import FetchRequest, FetchResult, Outcome

__all__ = ["fault_server"]  # the fixture, imported so pytest finds it

FAST = Settings(
    per_host_delay=0.0,
    connect_timeout=1.0,
    read_timeout=0.3,
    retries=2,
    max_bytes=1_000_000,
    run_budget=60.0,
)
QUICK_RETRIES = Tuning(backoff_initial=0.01, backoff_max=0.05, backoff_jitter=0.01)


async def fetch(server: FaultServer, path: str, settings: Settings = FAST, **kw) -> FetchResult:
    async with Fetcher(settings, tuning=QUICK_RETRIES) as fetcher:
        return await fetcher.fetch(FetchRequest(server.url(path), "test", **kw))


async def test_a_plain_page_comes_back_decoded_with_its_validators(fault_server):
    result = await fetch(fault_server, "/page/etusivu")
    assert result.outcome is Outcome.OK
    assert result.status == 200
    assert FINNISH in result.text
    assert result.content_type == "text/html; charset=utf-8"
    assert result.etag and result.etag.startswith('"')
    assert result.last_modified == LAST_MODIFIED
    assert result.attempts == 1 and result.error is None
    assert result.page().text == result.text


async def test_every_request_carries_our_user_agent(fault_server):
    settings = dataclasses.replace(FAST, user_agent="sotewatch-test/1 (ops@example.org)")
    await fetch(fault_server, "/page/ua", settings)
    sent = fault_server.headers_for("/page/ua")
    assert [h["user-agent"] for h in sent] == ["sotewatch-test/1 (ops@example.org)"]
    assert fault_server.headers_for("/robots.txt")[0]["user-agent"].startswith("sotewatch-test")


async def test_a_timeout_is_retried_then_reported(fault_server):
    result = await fetch(fault_server, "/slow?seconds=2")
    assert result.outcome is Outcome.ERROR
    assert result.status is None
    assert "timed out (read timeout)" in result.error
    assert result.attempts == 3 == fault_server.hits("/slow")


async def test_a_connection_reset_is_retried_then_reported(fault_server):
    result = await fetch(fault_server, "/reset")
    assert result.outcome is Outcome.ERROR
    assert result.attempts == 3 == fault_server.hits("/reset")
    assert "after 3 attempts" in result.error


async def test_a_500_then_200_succeeds_on_the_second_attempt(fault_server):
    result = await fetch(fault_server, "/flaky/tiedote?fail=1&status=500")
    assert result.outcome is Outcome.OK
    assert result.status == 200
    assert result.attempts == 2


async def test_a_persistent_503_is_an_error_with_its_status(fault_server):
    result = await fetch(fault_server, "/flaky/down?fail=99&status=503")
    assert result.outcome is Outcome.ERROR
    assert result.status == 503
    assert result.error == "HTTP 503 (after 3 attempts)"
    assert result.content == b"" and result.text == ""


async def test_a_429_waits_as_long_as_retry_after_says(fault_server):
    result = await fetch(fault_server, "/retry-after/kiire?seconds=1")
    assert result.outcome is Outcome.OK
    assert result.attempts == 2
    first, second = fault_server.starts[-2:]
    assert second - first >= 0.9  # the server asked for a second; backoff alone is 0.05 s


@pytest.mark.parametrize("status", [404, 410])
async def test_404_and_410_are_gone_and_not_retried(fault_server, status):
    result = await fetch(fault_server, f"/status/{status}")
    assert result.outcome is Outcome.GONE
    assert result.status == status
    assert result.attempts == 1


@pytest.mark.parametrize("status", [400, 401, 403])
async def test_other_4xx_are_errors_and_not_retried(fault_server, status):
    result = await fetch(fault_server, f"/status/{status}")
    assert result.outcome is Outcome.ERROR
    assert result.status == status
    assert result.error == f"HTTP {status} (after 1 attempts)"


async def test_a_redirect_loop_is_refused(fault_server):
    result = await fetch(fault_server, "/loop/a")
    assert result.outcome is Outcome.ERROR
    assert "redirect loop" in result.error


async def test_redirects_are_followed_up_to_the_limit(fault_server):
    ok = await fetch(fault_server, "/chain/5")
    assert ok.outcome is Outcome.OK
    assert ok.url == fault_server.url("/chain/0")
    too_many = await fetch(fault_server, "/chain/6")
    assert too_many.outcome is Outcome.ERROR
    assert too_many.error == "too many redirects (more than 5)"


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "ftp://127.0.0.1/pub/file.txt"], ids=["file", "ftp"]
)
async def test_a_redirect_to_another_scheme_is_refused(fault_server, target):
    result = await fetch(fault_server, f"/redirect?to={target}")
    assert result.outcome is Outcome.ERROR
    scheme = target.split(":")[0]
    assert f"refused to follow a redirect to {scheme}://" in result.error


async def test_a_30_mb_body_is_cut_off_at_max_bytes(fault_server):
    result = await fetch(fault_server, "/big?mb=30")
    assert result.outcome is Outcome.ERROR
    assert "body too large" in result.error
    assert result.content == b""


async def test_a_gzip_bomb_is_cut_off_on_its_decompressed_size(fault_server):
    # 50 MB of zeros in 50 KB; a generous read timeout because the server builds it first.
    result = await fetch(fault_server, "/bomb?mb=50", dataclasses.replace(FAST, read_timeout=10))
    assert result.outcome is Outcome.ERROR
    assert result.error == "body too large: more than 1000000 bytes (decompressed)"


async def test_a_small_gzipped_page_is_decompressed(fault_server):
    result = await fetch(fault_server, "/gzipped/pakattu")
    assert result.outcome is Outcome.OK
    assert FINNISH in result.text


@pytest.mark.parametrize("case", sorted(CHARSET_CASES))
async def test_text_comes_out_right_whatever_the_charset_header_says(fault_server, case):
    result = await fetch(fault_server, f"/charset/{case}")
    assert result.outcome is Outcome.OK
    assert CHARSET_CASES[case][3] in result.text
    assert "Ã" not in result.text and "\ufffd" not in result.text
    # Whoever re-reads the bytes with the charset we report gets the same text.
    charset = result.content_type.split("charset=")[1]
    assert result.content.decode(charset) == result.text


async def test_an_empty_200_is_ok_with_empty_text(fault_server):
    result = await fetch(fault_server, "/empty")
    assert result.outcome is Outcome.OK
    assert result.content == b"" and result.text == ""
    assert result.bytes == 0


async def test_robots_txt_disallow_blocks_without_touching_the_page(fault_server):
    result = await fetch(fault_server, "/private/salainen")
    assert result.outcome is Outcome.BLOCKED
    assert "robots.txt disallows" in result.error
    assert fault_server.hits("/private/salainen") == 0


async def test_robots_txt_can_be_ignored_when_configured(fault_server):
    settings = dataclasses.replace(FAST, respect_robots=False)
    result = await fetch(fault_server, "/private/salainen", settings)
    assert result.outcome is Outcome.OK
    assert fault_server.hits("/robots.txt") == 0


async def test_a_matching_etag_gets_304_not_modified(fault_server):
    first = await fetch(fault_server, "/page/ennallaan")
    again = await fetch(fault_server, "/page/ennallaan", etag=first.etag)
    assert again.outcome is Outcome.NOT_MODIFIED
    assert again.status == 304
    assert again.content == b"" and again.text == ""
    assert again.etag == first.etag
    assert fault_server.headers_for("/page/ennallaan")[1]["if-none-match"] == first.etag


async def test_last_modified_is_sent_back_verbatim_and_gets_304(fault_server):
    result = await fetch(fault_server, "/page/vanha", last_modified=LAST_MODIFIED)
    assert result.outcome is Outcome.NOT_MODIFIED
    sent = fault_server.headers_for("/page/vanha")[0]
    assert sent["if-modified-since"] == LAST_MODIFIED
    assert "if-none-match" not in sent


async def test_the_per_host_limit_holds_and_robots_txt_is_read_once(fault_server):
    settings = dataclasses.replace(FAST, per_host_limit=2)
    requests = [FetchRequest(fault_server.url(f"/concurrent/{i}"), "s", key=i) for i in range(8)]
    async with Fetcher(settings, tuning=QUICK_RETRIES) as fetcher:
        results = [r async for r in fetcher.fetch_all(requests)]
    assert sorted(r.request.key for r in results) == list(range(8))
    assert all(r.outcome is Outcome.OK for r in results)
    assert fault_server.max_in_flight == 2
    assert fault_server.hits("/robots.txt") == 1


async def test_the_run_budget_fails_remaining_fetches_fast(fault_server):
    settings = dataclasses.replace(FAST, run_budget=0.5, read_timeout=5.0)
    async with Fetcher(settings, tuning=QUICK_RETRIES) as fetcher:
        slow = await fetcher.fetch(FetchRequest(fault_server.url("/slow?seconds=3"), "s"))
        later = await fetcher.fetch(FetchRequest(fault_server.url("/page/later"), "s"))
    for result in (slow, later):
        assert result.outcome is Outcome.ERROR
        assert result.error == "run time budget of 0.5 s used up; not fetched"
    assert fault_server.hits("/page/later") == 0


async def test_a_streamed_body_without_length_is_cut_off_while_reading(fault_server):
    result = await fetch(fault_server, "/big?mb=30&chunked=1")
    assert result.outcome is Outcome.ERROR
    assert result.error == "body too large: more than 1000000 bytes (decompressed)"


@pytest.mark.parametrize("kind", ["zlib", "raw"])
async def test_deflate_bodies_are_decompressed_with_or_without_zlib_header(fault_server, kind):
    result = await fetch(fault_server, f"/deflated/{kind}")
    assert result.outcome is Outcome.OK
    assert FINNISH in result.text


async def test_an_encoding_we_never_asked_for_is_an_error(fault_server):
    result = await fetch(fault_server, "/brotli/x")
    assert result.outcome is Outcome.ERROR
    assert result.error == "unsupported Content-Encoding 'br'"


async def test_retry_after_as_an_http_date_is_honoured(fault_server):
    result = await fetch(fault_server, "/retry-after/pvm?seconds=2&date=1")
    assert result.outcome is Outcome.OK
    first, second = fault_server.starts[-2:]
    assert second - first >= 0.9  # an HTTP date has one-second resolution


async def test_retry_after_is_capped(fault_server):
    tuning = dataclasses.replace(QUICK_RETRIES, retry_after_cap=0.2)
    async with Fetcher(FAST, tuning=tuning) as fetcher:
        url = fault_server.url("/retry-after/huomenna?seconds=86400")
        result = await fetcher.fetch(FetchRequest(url, "s"))
    assert result.outcome is Outcome.OK
    assert result.attempts == 2


async def test_a_non_http_url_is_refused_before_any_request(fault_server):
    async with Fetcher(FAST, tuning=QUICK_RETRIES) as fetcher:
        result = await fetcher.fetch(FetchRequest("ftp://127.0.0.1/pub/x.pdf", "s"))
    assert result.outcome is Outcome.ERROR
    assert result.error.startswith("refused to fetch a ftp:// URL")
    assert result.attempts == 0


async def test_robots_txt_crawl_delay_spaces_out_requests(fault_server):
    fault_server.robots_txt = "User-agent: *\nCrawl-delay: 0.3\n"
    requests = [FetchRequest(fault_server.url(f"/page/{i}"), "s") for i in range(3)]
    async with Fetcher(FAST, tuning=QUICK_RETRIES) as fetcher:
        results = [r async for r in fetcher.fetch_all(requests)]
    assert all(r.outcome is Outcome.OK for r in results)
    page_starts = fault_server.starts[1:]  # the first request was robots.txt
    gaps = [b - a for a, b in zip(page_starts, page_starts[1:], strict=False)]
    assert len(gaps) == 2 and min(gaps) >= 0.25


async def test_per_host_delay_spaces_out_requests(fault_server):
    settings = dataclasses.replace(FAST, per_host_delay=0.2, respect_robots=False)
    requests = [FetchRequest(fault_server.url(f"/page/{i}"), "s") for i in range(3)]
    async with Fetcher(settings, tuning=QUICK_RETRIES) as fetcher:
        results = [r async for r in fetcher.fetch_all(requests)]
    assert all(r.outcome is Outcome.OK for r in results)
    starts = fault_server.starts
    assert min(b - a for a, b in zip(starts, starts[1:], strict=False)) >= 0.15


async def test_one_failing_page_does_not_stop_the_others(fault_server):
    paths = ["/reset", "/status/404", "/page/hyva", "/loop/a", "/private/x", "/maintenance"]
    requests = [FetchRequest(fault_server.url(p), "s", key=p) for p in paths]
    async with Fetcher(FAST, tuning=QUICK_RETRIES) as fetcher:
        outcomes = {r.request.key: r.outcome async for r in fetcher.fetch_all(requests)}
    assert outcomes == {
        "/reset": Outcome.ERROR,
        "/status/404": Outcome.GONE,
        "/page/hyva": Outcome.OK,
        "/loop/a": Outcome.ERROR,
        "/private/x": Outcome.BLOCKED,
        "/maintenance": Outcome.OK,  # a soft failure is the analyser's verdict, not the fetcher's
    }


async def test_fetch_all_keeps_a_bounded_window_and_returns_everything(fault_server, monkeypatch):
    monkeypatch.setattr("sotewatch.pipeline.fetching.fetch._WINDOW", 2)
    requests = (FetchRequest(fault_server.url(f"/page/{i}"), "s", key=i) for i in range(7))
    async with Fetcher(FAST, tuning=QUICK_RETRIES) as fetcher:
        keys = sorted([r.request.key async for r in fetcher.fetch_all(requests)])
    assert keys == list(range(7))


async def test_fetch_all_starts_a_few_fetches_first_so_the_first_page_comes_back_soon(
    fault_server, monkeypatch
):
    monkeypatch.setattr("sotewatch.pipeline.fetching.fetch._FIRST_WINDOW", 3)
    taken: list[int] = []

    def requests():
        for i in range(40):
            taken.append(i)
            yield FetchRequest(fault_server.url(f"/page/{i}"), "s", key=i)

    in_flight = []  # started and not yet handed out, as each result is handed out
    async with Fetcher(FAST, tuning=QUICK_RETRIES) as fetcher:
        async for _ in fetcher.fetch_all(requests()):
            in_flight.append(len(taken) - len(in_flight))
    assert in_flight[:4] == [3, 6, 12, 24]  # the window doubles with each result
    assert len(in_flight) == 40


async def test_leaving_fetch_all_early_cancels_the_rest(fault_server):
    urls = [fault_server.url(f"/concurrent/{i}?seconds=0.2") for i in range(6)]
    requests = [FetchRequest(url, "s") for url in urls]
    async with Fetcher(FAST, tuning=QUICK_RETRIES) as fetcher:
        async for first in fetcher.fetch_all(requests):
            assert first.outcome is Outcome.OK
            break
    assert fault_server.hits("/concurrent/5") == 0  # never started: limit 2, we left after one


async def test_a_redirected_robots_txt_is_followed(fault_server):
    fault_server.serve_as("/robots.txt", "/redirect?to=/rules.txt")
    fault_server.robots_txt = "User-agent: *\nDisallow: /page/\n"
    fault_server.serve_as("/rules.txt", "/robots.txt")  # aliases resolve one level
    result = await fetch(fault_server, "/page/kielletty")
    assert result.outcome is Outcome.BLOCKED
    assert fault_server.hits("/rules.txt") == 1


class CABundleRead(Exception):
    """Raised where the CA bundle would be read, to show whether it is."""


@pytest.fixture
def ca_bundle_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    def read(*args: object, **kwargs: object) -> None:
        raise CABundleRead

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", read)


async def test_plain_http_pages_never_read_the_ca_bundle(fault_server, ca_bundle_watch):
    """A run of http pages (a local mirror, this test's server) pays for no TLS set-up."""
    result = await fetch(fault_server, "/page/etusivu")
    assert result.outcome is Outcome.OK


async def test_the_first_https_request_sets_up_tls_with_the_ca_bundle(
    fault_server, ca_bundle_watch
):
    """The https transport, and with it certificate checking, exists for https pages."""
    url = fault_server.url("/page/etusivu").replace("http:", "https:")
    async with Fetcher(FAST, tuning=QUICK_RETRIES) as fetcher:
        with pytest.raises(CABundleRead):
            await fetcher.fetch(FetchRequest(url, "test"))
