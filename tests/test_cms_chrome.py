"""Chrome that nobody here wrote changes nothing of what is reported.

The sample site's content (tests/cms_chrome.py) is served twice: bare, and in the
chrome of a Liferay portal and a WordPress theme whose every part rotates between two
visits (the latest releases inside the content column, related posts, a view counter
and a relative date inside the article, a sidebar, a generator version). Read with no
family rules, as a new source is, and by the families the default sources use: an
unchanged page in rotating chrome reports nothing, and an edited one reports exactly
what the bare page reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner
from cms_chrome import CMS_PAGES, LAYOUTS, bare
from localsite import serving

from sotewatch.pipeline.cli import cli
from sotewatch.pipeline.document.models import Document

Layout = Callable[[int, str, int], bytes]
Change = tuple[str, str, str, str | None, str | None]  # path, kind, section, before, after


@contextmanager
def sites(served: dict[str, dict[str, bytes]]) -> Iterator[dict[str, str]]:
    """One server per CMS (a site is a host); yields each one's base URL."""
    with ExitStack() as stack:
        yield {cms: stack.enter_context(serving(pages)) for cms, pages in served.items()}


# Read with no family's rules, as a new source is, or as the default sources read these
# sites (the ministries' family, the NGOs').
FAMILIES = {
    "generic": {"liferay": "generic", "wordpress": "generic"},
    "families": {"liferay": "ministry", "wordpress": "ngo"},
}


def watch(
    tmp_path: Path,
    layout: Callable[[str], Layout],
    editions: list[tuple[int, int]],
    families: dict[str, str] = FAMILIES["generic"],
    pages: dict[str, tuple[str, ...]] = CMS_PAGES,
):
    """Run `sotewatch run` once per (edition, visit) over every page, each CMS's pages
    read by its family in `families`; yields, after each run, the changes it stored and
    the Documents stored for each path."""
    tmp_path.mkdir(exist_ok=True)
    db, sources = tmp_path / "watch.db", tmp_path / "sources.toml"
    served: dict[str, dict[str, bytes]] = {cms: {} for cms in pages}
    with sites(served) as bases:
        sources.write_text(
            "[settings]\nper_host_delay = 0\n"
            + "".join(
                f'[[source]]\nid = "{cms}-{index}"\nurl = "{bases[cms]}/{path}"\n'
                f'family = "{families[cms]}"\n'
                for cms, paths in pages.items()
                for index, path in enumerate(paths)
            )
        )
        for edition, visit in editions:
            for cms, paths in pages.items():
                served[cms].clear()
                served[cms].update(
                    {f"/{path}": layout(cms)(edition, path, visit) for path in paths}
                )
            command = ["--db", str(db), "run", "--sources", str(sources), "--no-send", "--force"]
            result = CliRunner().invoke(cli, command)
            assert result.exit_code == 0, result.output
            yield _stored(db, bases)


def _stored(db: Path, bases: dict[str, str]) -> tuple[list[Change], dict[str, Document]]:
    database = sqlite_utils.Database(db)

    def path_of(url: str) -> str:
        return next(url.removeprefix(base + "/") for base in bases.values() if url.startswith(base))

    changes = sorted(
        (path_of(row["url"]), row["kind"], row["section"], row["before"], row["after"])
        for row in database.query(
            "select p.url, c.kind, c.section, c.before, c.after from changes c"
            " join pages p on p.id = c.page_id where c.run_id = (select max(id) from runs)"
        )
    )
    documents = {
        path_of(row["url"]): Document.from_json(row["document"])
        for row in database.query(
            "select p.url, s.document from snapshots s join pages p on p.id = s.page_id"
            " where s.id in (select max(id) from snapshots group by page_id)"
        )
    }
    return changes, documents


def in_cms(cms: str) -> Layout:
    return LAYOUTS[cms]


def without_chrome(cms: str) -> Layout:
    return bare


def paragraphs(doc: Document) -> list[str]:
    return [p for section in doc.sections for p in section.paragraphs]


@pytest.mark.parametrize("read_by", FAMILIES)
def test_unchanged_pages_in_rotating_cms_chrome_report_nothing(
    tmp_path: Path, read_by: str
) -> None:
    runs = list(watch(tmp_path, in_cms, [(1, 0), (1, 1), (1, 2)], FAMILIES[read_by]))
    assert [changes for changes, _ in runs[1:]] == [[], []]


def test_every_paragraph_is_watched_and_nothing_that_rotates(tmp_path: Path) -> None:
    """Every paragraph and contact of the content is watched, in order; of the chrome,
    nothing that differs between two visits (a static widget may stay: it is never
    reported)."""
    first, second = watch(tmp_path / "cms", in_cms, [(1, 0), (1, 1)])
    [(_, alone)] = watch(tmp_path / "bare", without_chrome, [(1, 0)])
    in_chrome = first[1]
    assert set(in_chrome) == set(alone) == {p for paths in CMS_PAGES.values() for p in paths}
    for path, reference in alone.items():
        watched = paragraphs(in_chrome[path])
        assert in_order(paragraphs(reference), watched), path
        assert in_chrome[path].contacts == reference.contacts, path
        assert paragraphs(second[1][path]) == watched, path


def in_order(wanted: list[str], found: list[str]) -> bool:
    rest = iter(found)
    return all(any(p == q for q in rest) for p in wanted)


@pytest.mark.parametrize("read_by", FAMILIES)
def test_an_edition_in_rotating_chrome_reports_what_the_bare_pages_report(
    tmp_path: Path, read_by: str
) -> None:
    families = FAMILIES[read_by]
    *_, (in_chrome, _) = watch(tmp_path / "cms", in_cms, [(1, 0), (2, 1)], families)
    *_, (alone, _) = watch(tmp_path / "bare", without_chrome, [(1, 0), (2, 1)], families)
    assert alone, "edition 2 edits these pages"
    assert in_chrome == alone


def test_a_short_page_in_liferay_chrome_reports_no_rotating_news(tmp_path: Path) -> None:
    """On a page whose own text is short, trafilatura keeps the teasers of the box of
    the latest news beside it (a headline and a line each); the site's other pages show
    the same box, so it is the site's template."""
    pages = {"liferay": ("verkostojarjestot/neuvottelukunta", "stm/verkostot", "stm/valmistelu")}
    runs = list(watch(tmp_path, in_cms, [(1, 0), (1, 1)], {"liferay": "generic"}, pages))
    assert runs[1][0] == []
