"""The taxonomy file loads, names the agreed slugs, and bad files fail with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from slugs import NETWORKS, REGIONS

from sotewatch.pipeline.errors import ConfigError
from sotewatch.pipeline.tagging.taxonomy import DEFAULT_PATH, load_taxonomy


def test_slugs_are_exactly_the_agreed_ones() -> None:
    taxonomy = load_taxonomy()
    assert list(taxonomy.region_slugs) == REGIONS
    assert list(taxonomy.network_slugs) == NETWORKS


def test_every_region_has_finnish_and_swedish_names() -> None:
    for region in load_taxonomy().regions:
        assert region.name_fi.strip() and region.name_sv.strip(), region.slug


def test_uusimaa_umbrella_covers_four_counties_and_helsinki_not_hus() -> None:
    (umbrella,) = load_taxonomy().umbrellas
    assert set(umbrella.covers) == {
        "ita-uusimaa", "keski-uusimaa", "lansi-uusimaa", "vantaa-kerava", "helsinki"
    }  # fmt: skip


def test_every_brand_says_where_it_was_verified() -> None:
    for region in load_taxonomy().regions:
        if region.brands:
            assert region.verified, region.slug


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "taxonomy.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('slug = "lappi"', 'slug = "Lappi"', "bad slug"),
        ('slug = "kainuu"', 'slug = "lappi"', "duplicate slug"),
        ('name_sv = "Lappland"', 'name_sv = ""', "name_sv"),
        ('slug = "lappi"', 'slug = "lappi"\ncolour = "blue"', "unknown key"),
        ('"vantaa-kerava", "helsinki"]', '"vantaa-kerava", "espoo"]', "unknown region"),
        ('brands = ["Lapha"]', 'brands = "Lapha"', "list of strings"),
    ],
    ids=[
        "bad-slug",
        "duplicate-slug",
        "missing-swedish-name",
        "unknown-key",
        "umbrella-unknown",
        "brands-not-a-list",
    ],  # fmt: skip
)
def test_bad_taxonomy_names_file_and_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(ConfigError) as raised:
        load_taxonomy(path)
    assert message in str(raised.value)
    assert f"{path}:" in str(raised.value)


def test_toml_syntax_error_is_a_config_error(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'slug = "lappi"', 'slug = "lappi')
    with pytest.raises(ConfigError, match="line"):
        load_taxonomy(path)
