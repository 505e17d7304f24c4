"""`sotewatch check` finds what `send` would trip over: Apprise URLs no service takes,
and unsubscribe links anyone could forge."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sotewatch.pipeline.cli import cli


def subscribers_file(tmp_path: Path, channel_url: str) -> Path:
    path = tmp_path / "subscribers.toml"
    path.write_text(
        f"""\
[[subscriber]]
id = "lappi"
email = "aino@example.org"
regions = ["lappi"]

[[channel]]
id = "lappi-teams"
apprise = ["{channel_url}"]
regions = ["lappi"]
""",
        encoding="utf-8",
    )
    return path


def check(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["check", "--subscribers", str(path)])
    return result.exit_code, result.output


def test_check_refuses_an_apprise_url_naming_file_and_line(tmp_path: Path) -> None:
    path = subscribers_file(tmp_path, "nosuchservice://x")
    code, output = check(path)
    assert code == 2, output
    assert f"{path}:6" in output
    assert "not an Apprise URL" in output


def test_check_counts_the_channels_of_a_good_file(tmp_path: Path) -> None:
    code, output = check(subscribers_file(tmp_path, "json://127.0.0.1:9/"))
    assert code == 0, output
    assert "1 subscribers" in output
    assert "1 Apprise channels" in output


@pytest.mark.parametrize(
    "link", ["https://watch.example.org/-/sotewatch/unsubscribe/{id}", "http://w.example/u?s={id}"]
)
def test_check_warns_that_an_id_in_the_unsubscribe_link_is_guessable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, link: str
) -> None:
    monkeypatch.setenv("SOTEWATCH_UNSUBSCRIBE", link)
    code, output = check(subscribers_file(tmp_path, "json://127.0.0.1:9/"))
    assert code == 0, output
    assert "warning: SOTEWATCH_UNSUBSCRIBE" in output
    assert "{token}" in output and "SOTEWATCH_UNSUBSCRIBE_SECRET" in output


@pytest.mark.parametrize(
    "link",
    [
        "https://watch.example.org/-/sotewatch/unsubscribe/{token}",
        "mailto:operator@example.org?subject=unsubscribe%20{id}",  # the operator sees who wrote
    ],
)
def test_check_does_not_warn_about_a_signed_or_mailto_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, link: str
) -> None:
    monkeypatch.setenv("SOTEWATCH_UNSUBSCRIBE", link)
    monkeypatch.setenv("SOTEWATCH_UNSUBSCRIBE_SECRET", "s3cret-for-the-test-only")
    code, output = check(subscribers_file(tmp_path, "json://127.0.0.1:9/"))
    assert code == 0, output
    assert "SOTEWATCH_UNSUBSCRIBE" not in output
