"""`sotewatch preview URL|FILE`: the page exactly as the diff will see it, and what was
dropped as chrome or noise, by which rule."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from localsite import serving

from sotewatch.pipeline.cli import cli

FIXTURES = Path(__file__).parent / "fixtures" / "realistic"
RELEASE = FIXTURES / "news_release.html"
CONTENT = "Neuvoston puheenjohtajana jatkaa Aino Esimerkki, ja sihteerinä toimii Eero Malli."


def preview(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["preview", *args])
    return result.exit_code, result.output


def test_a_saved_file_shows_sections_contacts_and_what_was_dropped_by_which_rule() -> None:
    code, out = preview(str(RELEASE))
    assert code == 0, out
    assert out.splitlines()[0] == "Järjestöneuvosto kokoontuu Kanta-Hämeessä"
    assert "## Järjestöneuvosto kokoontuu Kanta-Hämeessä / Lisätietoja" in out
    assert CONTENT in out
    assert "Aino Esimerkki, puheenjohtaja, +358401234567, aino.esimerkki@esimerkki.fi" in out
    dropped = out.split("\ndropped (")[1]
    assert "[chrome: <nav>] Ajankohtaista Julkaisut Yhteystiedot" in dropped
    assert "[chrome: class *breadcrumb*] Etusivu / Ajankohtaista / Tiedote" in dropped
    assert "[chrome: related-links box] Lue myös Viestintäverkosto aloitti" in dropped
    assert "Lue myös" not in out.split("\ndropped (")[0]


def test_json_gives_the_stored_document_and_the_dropped_texts_for_scripts() -> None:
    code, out = preview(str(RELEASE), "--json")
    assert code == 0, out
    data = json.loads(out)
    paragraphs = [p for s in data["document"]["sections"] for p in s["paragraphs"]]
    assert any(CONTENT in paragraph for paragraph in paragraphs)
    assert data["thin"] is False
    rules = {d["rule"] for d in data["dropped"]}
    assert {"chrome: <nav>", "chrome: related-links box"} <= rules


def test_options_to_try_before_writing_them_into_the_source() -> None:
    code, out = preview(str(RELEASE), "--exclude", "p.views", "--ignore", r"Eero Malli")
    assert code == 0, out
    assert "Luettu 1 234 kertaa" not in out.split("\ndropped (")[0]
    assert "[chrome: exclude 'p.views'] Luettu 1 234 kertaa" in out
    assert "[noise rule] " + CONTENT[:40] in out


def test_a_url_is_fetched_as_a_run_fetches_it() -> None:
    with serving({"/tiedote": RELEASE.read_bytes()}) as base:
        code, out = preview(f"{base}/tiedote")
    assert code == 0, out
    assert f"{base}/tiedote  language fi" in out
    assert CONTENT in out


def test_a_url_that_fails_and_a_bad_pattern_are_clear_errors() -> None:
    with serving({}) as base:
        code, out = preview(f"{base}/ei-ole")
    assert code != 0 and "404" in out and f"{base}/ei-ole" in out
    code, out = preview(str(RELEASE), "--ignore", "(")
    assert code == 2 and "invalid ignore pattern" in out
    code, out = preview("ei-tiedostoa.html")
    assert code == 2 and "ei-tiedostoa.html: no such file" in out
