"""sources.toml: what loads, and how a mistake is reported (file, line, the culprit)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from sotewatch.pipeline.config import load_sources, url_source_id
from sotewatch.pipeline.errors import ConfigError

CASES = tomllib.loads((Path(__file__).parent / "data" / "bad_sources.toml").read_text("utf-8"))
REGIONS = {"lappi", "kainuu"}
NETWORKS = {"viestintaverkosto"}
FAMILIES = {"generic", "ministry"}


@pytest.mark.parametrize("case", CASES["case"], ids=[c["id"] for c in CASES["case"]])
def test_bad_sources_are_rejected_naming_file_and_line(case: dict, tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(case["text"].lstrip("\n"), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_sources(path, regions=REGIONS, networks=NETWORKS, families=FAMILIES)
    message = str(error.value)
    assert f"{path}:{case['line']}" in message
    assert case["says"] in message


def test_a_good_source_loads_with_its_defaults(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(
        '[settings]\nper_host_delay = 0\n\n[[source]]\nid = "stm-verkostot"\n'
        'url = "{site}/stm/verkostot"\nfamily = "ministry"\nnetworks = ["viestintaverkosto"]\n'
        'schedule = "0 6 * * 1"\n',
        encoding="utf-8",
    )
    config = load_sources(path, site="http://127.0.0.1:8000/", families=FAMILIES)
    (source,) = config.sources
    assert source.url == "http://127.0.0.1:8000/stm/verkostot"
    assert source.networks == ("viestintaverkosto",)
    assert source.line == 4
    assert config.settings.per_host_delay == 0.0
    assert config.settings.per_host_limit == 2


def test_a_plain_list_of_urls_makes_one_generic_source_per_url(tmp_path: Path) -> None:
    path = tmp_path / "urls.txt"
    path.write_text(
        "# watched pages\nhttps://stm.fi/a\n\nhttps://soste.fi/b?x=1  # news\n", encoding="utf-8"
    )
    config = load_sources(path)
    assert [s.url for s in config.sources] == ["https://stm.fi/a", "https://soste.fi/b?x=1"]
    assert all(s.family == "generic" for s in config.sources)
    assert len({s.id for s in config.sources}) == 2


def test_a_bad_url_in_a_url_list_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "urls.txt"
    path.write_text("https://stm.fi/a\nnot a url\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{path}:2"):
        load_sources(path)


def test_url_source_ids_are_stable_slugs() -> None:
    assert url_source_id("https://stm.fi/verkostot?a=1") == "stm-fi-verkostot-a-1"
    assert url_source_id("https://stm.fi/verkostot") == url_source_id("https://stm.fi/verkostot")


def test_every_error_in_a_file_is_reported_each_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(
        "[settings]\nread_timeout = nan\nper_host_delay = inf\n\n"
        '[[source]]\nid = "a"\nurl = "https://stm.fi:99999/a"\nlanguage = "klingon"\n\n'
        '[[source]]\nid = "b"\nurl = "https://stm.fi/b"\nschedule = "0d"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as error:
        load_sources(path, families=FAMILIES)
    lines = str(error.value).splitlines()
    assert [line.split(": ", 1)[0] for line in lines[:-1]] == [
        f"{path}:{n}" for n in (2, 3, 7, 8, 13)
    ]
    assert lines[-1] == f"{path}: 5 errors"


def test_a_file_that_is_not_utf8_names_the_line_of_the_first_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_bytes('[[source]]\nid = "a"\nname = "Järjestöt"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=rf"{path}:3: not UTF-8 text \(byte 0xe4\)"):
        load_sources(path)


def test_check_exits_2_on_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sotewatch.pipeline.cli import cli

    path = tmp_path / "sources.toml"
    path.write_bytes('[[source]]\nid = "a"\nname = "Hyvinvointialue \xe4"\n'.encode("latin-1"))
    result = CliRunner().invoke(cli, ["check", "--sources", str(path)])
    assert result.exit_code == 2
    assert "not UTF-8 text" in result.output
    assert "Traceback" not in result.output


def test_five_thousand_sources_load_with_each_its_own_line(tmp_path: Path) -> None:
    """Loading reads the file's layout once (it used to search it once per source)."""
    path = tmp_path / "sources.toml"
    path.write_text(
        "".join(f'[[source]]\nid = "s{n}"\nurl = "https://stm.fi/{n}"\n\n' for n in range(5000)),
        encoding="utf-8",
    )
    config = load_sources(path)
    assert len(config.sources) == 5000
    assert config.sources[-1].line == 4 * 4999 + 1
