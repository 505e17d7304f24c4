"""The digest's contents: each reader gets their changes, grouped their way, counted once."""

from __future__ import annotations

from pathlib import Path

import pytest
from digest_fixtures import cases, make_main_db, names

from sotewatch.pipeline.delivery.subscribers import Follow, describe, load_subscribers
from sotewatch.pipeline.digests.digest import Names, build_digest, load_changes, newest_change_id
from sotewatch.pipeline.digests.render import subject_line
from sotewatch.pipeline.document.models import ChangeKind
from sotewatch.pipeline.errors import ConfigError

CASES = cases()
KEYS = [c["key"] for c in CASES["change"]]


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory):
    db = make_main_db(tmp_path_factory.mktemp("db") / "main.db", CASES["change"])
    return load_changes(db)


def _follow(case: dict) -> Follow:
    def axis(value):
        return None if value == "*" else frozenset(value)

    return Follow(axis(case["regions"]), axis(case["networks"]), case["national"])


@pytest.mark.parametrize("case", CASES["case"], ids=[c["id"] for c in CASES["case"]])
def test_grouping_per_reader(case: dict, records) -> None:
    digest = build_digest(records, _follow(case), case["language"], names())
    got = [
        [g.kind, g.slug, [KEYS[r.id - 1] for r in g.changes]]
        + ([[f"{kind}:{slug}" for kind, slug in g.also]] if g.also else [])
        for g in digest.groups
    ]
    assert got == case["groups"]
    assert digest.count == case["count"]
    if case["subject"]:
        assert subject_line(digest, names()) == case["subject"]
    else:
        assert digest.empty


def test_load_changes_window_is_exclusive_below_inclusive_above(tmp_path: Path) -> None:
    db = make_main_db(tmp_path / "main.db", CASES["change"])
    assert [r.id for r in load_changes(db, after_id=2, until_id=4)] == [3, 4]
    assert [r.id for r in load_changes(db)] == list(range(1, len(KEYS) + 1))
    assert newest_change_id(db) == len(KEYS)


def test_load_changes_rebuilds_the_change_with_its_page(tmp_path: Path) -> None:
    db = make_main_db(tmp_path / "main.db", CASES["change"][:2])
    first, second = load_changes(db)
    assert first.page_title == "Sote-uudistuksen verkostot"
    assert first.page_url == "https://stm.fi/sote-uudistuksen-verkostot"
    assert first.change.kind is ChangeKind.CONTACT_REPLACED
    assert first.change.networks == ("viestintaverkosto",)
    assert second.change.regions == ("kainuu", "lappi")
    assert second.snapshot_id is not None and second.source_id == "stm"


def test_empty_database_has_no_changes(tmp_path: Path) -> None:
    db = make_main_db(tmp_path / "main.db", [])
    assert load_changes(db) == [] and newest_change_id(db) == 0


# -- subscribers ----------------------------------------------------------------

SUBSCRIBERS = """\
[[subscriber]]
name = "Aino Mäkelä"
email = "aino.makela@example.org"
regions = ["lappi"]
frequency = "weekly"
weekday = "ma"

[[subscriber]]
id = "koordinaattori"
email = "koordinaattori@example.org"
language = "sv"
regions = "*"
networks = ["*"]
national = false
"""


def test_subscribers_file_loads_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.toml"
    path.write_text(SUBSCRIBERS, encoding="utf-8")
    aino, coordinator = load_subscribers(path, regions={"lappi"}, networks=set())
    assert (aino.id, aino.name, aino.language) == ("aino.makela@example.org", "Aino Mäkelä", "fi")
    assert (aino.frequency, aino.weekday, aino.line) == ("weekly", 0, 1)
    assert aino.follow == Follow(frozenset({"lappi"}), frozenset(), True)
    assert coordinator.follow == Follow(None, None, False)
    assert coordinator.line == 8


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('email = "aino@@example.org"', "invalid e-mail address"),
        ('email = "aino@example.org\\nBcc: x@y.fi"', "invalid e-mail address"),
        ('email = "a@example.org"\nregions = ["lapland"]', "unknown region slug 'lapland'"),
        ('email = "a@example.org"\nnetworks = ["viestinta"]', "unknown network slug 'viestinta'"),
        ('email = "a@example.org"\nlanguage = "de"', "language 'de'"),
        ('email = "a@example.org"\nfrequency = "hourly"', "frequency 'hourly'"),
        ('email = "a@example.org"\nfrequency = "weekly"\nweekday = "funday"', "weekday"),
        ('email = "a@example.org"\ncolour = "red"', "unknown key colour"),
    ],
    ids=[
        "double-at",
        "header-injection",
        "region",
        "network",
        "language",
        "frequency",
        "weekday",
        "unknown-key",
    ],
)
def test_bad_subscriber_names_file_and_line(tmp_path: Path, entry: str, message: str) -> None:
    good = '[[subscriber]]\nemail = "ok@example.org"\n\n'
    path = tmp_path / "subscribers.toml"
    path.write_text(good + "[[subscriber]]\n" + entry + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_subscribers(path, regions={"lappi"}, networks={"viestintaverkosto"})
    assert f"{path}:4:" in str(error.value)
    assert message in str(error.value)


def test_duplicate_subscriber_id_names_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.toml"
    path.write_text('[[subscriber]]\nemail = "a@example.org"\n\n' * 2, encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r":4: subscriber id 'a@example.org' already used on line 1"
    ):
        load_subscribers(path)


def test_one_address_in_two_letter_cases_is_one_reader(tmp_path: Path) -> None:
    """Two entries for Aino@Example.org and aino@example.org would mail her twice."""
    path = tmp_path / "subscribers.toml"
    path.write_text(
        '[[subscriber]]\nid = "aino-lappi"\nemail = "Aino@Example.org"\n\n'
        '[[subscriber]]\nid = "aino-kainuu"\nemail = "aino@example.org"\n',
        encoding="utf-8",
    )
    with pytest.raises(
        ConfigError, match=r":5: address 'aino@example.org' already has an entry on line 1"
    ):
        load_subscribers(path)


def test_ids_differing_only_in_case_are_one_id(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.toml"
    path.write_text(
        '[[subscriber]]\nid = "Aino"\nemail = "a@example.org"\n\n'
        '[[subscriber]]\nid = "aino"\nemail = "b@example.org"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r":5: subscriber id 'aino' already used on line 1"):
        load_subscribers(path)


def test_slugs_are_checked_against_a_taxonomy_object(tmp_path: Path) -> None:
    """The CLI passes tagging.taxonomy's Taxonomy; anything with .regions/.networks works."""

    class Slug:
        def __init__(self, slug: str) -> None:
            self.slug = slug

    class Taxonomy:
        regions = [Slug("lappi")]
        networks = [Slug("johtoryhma")]

    path = tmp_path / "subscribers.toml"
    path.write_text('[[subscriber]]\nemail = "a@example.org"\nregions = ["kainuu"]\n')
    with pytest.raises(ConfigError, match=r":1: unknown region slug 'kainuu'"):
        load_subscribers(path, taxonomy=Taxonomy())
    path.write_text('[[subscriber]]\nemail = "a@example.org"\nnetworks = ["johtoryhma"]\n')
    assert load_subscribers(path, taxonomy=Taxonomy())[0].follow.networks == {"johtoryhma"}


def test_describe_lists_each_reader_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.toml"
    path.write_text(SUBSCRIBERS, encoding="utf-8")
    lines = describe(load_subscribers(path))
    assert lines[0].split() == [
        "aino.makela@example.org", "aino.makela@example.org", "fi", "weekly/mon",
        "regions=lappi", "national",
    ]  # fmt: skip
    assert lines[1].split()[2:] == ["sv", "daily", "regions=*", "networks=*"]


def test_names_come_from_the_taxonomy_in_its_order() -> None:
    """Display names and heading order follow tagging.taxonomy; slugs stand in for unknowns."""
    from sotewatch.pipeline.tagging.taxonomy import load_taxonomy

    real = Names.of(load_taxonomy())
    assert real.region("lappi", "fi") == "Lappi" and real.region("lappi", "sv") == "Lappland"
    assert real.network("viestintaverkosto") == "Viestintäverkosto"
    assert list(real.regions)[:2] == ["ita-uusimaa", "keski-uusimaa"]
    assert Names.of(real) is real
    assert Names().region("lappi") == "lappi"  # no taxonomy: the slug, never an error


def test_every_bad_subscriber_is_reported_with_a_did_you_mean(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.toml"
    path.write_text(
        '[[subscriber]]\nemail = "a@example.org"\nregion = ["lappi"]\n\n'
        '[[subscriber]]\nemail = "b@example.org"\nregions = ["lapi"]\n\n'
        '[[subscriber]]\nemail = "c@example.org"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as error:
        load_subscribers(path, regions={"lappi", "kainuu"}, networks=set())
    lines = str(error.value).splitlines()
    assert lines[0].startswith(f"{path}:1: unknown key region")
    assert "(did you mean 'regions'?)" in lines[0]
    assert lines[1] == f"{path}:5: unknown region slug 'lapi' (did you mean 'lappi'?)"
    assert lines[2] == f"{path}: 2 errors"
