"""docs/deployment.md, followed literally: its environment file and its cron line, with
/etc/sotewatch and /var/lib/sotewatch moved under a temporary folder, the SMTP server a
real one on 127.0.0.1, and the watched page the sample site's networks page.

Two readers, each following one network, get one digest each with only their own
network's contact change; a second run delivers nothing twice.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner
from digest_fixtures import SmtpSink, smtp_server
from test_deliver import change_ids

from sotewatch.pipeline.cli import cli
from sotewatch.pipeline.demo.sample_site import SampleSite
from sotewatch.pipeline.storage.store import open_db

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "deployment.md"

# The shipped stm-verkostot source's default networks (data/sources.toml): all three.
SOURCES = """\
[settings]
user_agent = "sotewatch-test/1 (+mailto:ops@example.org)"
per_host_delay = 0

[[source]]
id = "stm-verkostot"
url = "{site}/stm/verkostot"
family = "ministry"
networks = ["vastuuhenkiloiden-verkosto", "viestintaverkosto", "sidosryhmaverkosto"]
schedule = "1m"
"""
SUBSCRIBERS = """\
[[subscriber]]
id = "viestinta"
email = "viestinta@example.org"
networks = ["viestintaverkosto"]
regions = []
national = false

[[subscriber]]
id = "vastuu"
email = "vastuu@example.org"
networks = ["vastuuhenkiloiden-verkosto"]
regions = []
national = false
"""


def guide_env_file() -> dict[str, str]:
    """The KEY=value lines of the guide's environment file."""
    text = GUIDE.read_text(encoding="utf-8")
    block = re.search(r"```sh\n(SOTEWATCH_DB=.*?)```", text, re.S)
    assert block, "docs/deployment.md has no environment file block"
    return dict(line.split("=", 1) for line in block.group(1).splitlines() if "=" in line)


def guide_run_args() -> list[str]:
    """The arguments of `sotewatch` in the guide's hourly cron line."""
    text = GUIDE.read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith("17 * * * *"))
    command = re.search(r"\.venv/bin/sotewatch ([^>|;]*?) >>", line)
    assert command, line
    return shlex.split(command.group(1))


def guide_check_args() -> list[str]:
    """The arguments of the install step's `sotewatch check`."""
    text = GUIDE.read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if "bin/sotewatch check" in ln)
    return shlex.split(line.split("bin/sotewatch", 1)[1])


def moved(value: str, root: Path) -> str:
    return value.replace("/etc/sotewatch", str(root / "etc")).replace(
        "/var/lib/sotewatch", str(root / "var")
    )


@pytest.fixture
def server_root(tmp_path: Path) -> Path:
    (tmp_path / "etc").mkdir()
    (tmp_path / "var").mkdir()
    (tmp_path / "etc" / "subscribers.toml").write_text(SUBSCRIBERS, encoding="utf-8")
    return tmp_path


def contact_sections(db: Path, received) -> set[str]:
    """The sections (last heading) of the contact changes one reader received."""
    ids = change_ids(received)
    conn = open_db(db)
    try:
        rows = conn.execute("select id, kind, section from changes").fetchall()
    finally:
        conn.conn.close()
    return {
        section.split(" / ")[-1]
        for id_, kind, section in rows
        if id_ in ids and kind.startswith("contact")
    }


def test_the_guide_s_env_file_names_the_subscribers_and_the_public_links() -> None:
    env = guide_env_file()
    assert env["SOTEWATCH_SUBSCRIBERS"] == "/etc/sotewatch/subscribers.toml"
    assert not env["SOTEWATCH_DATASETTE_URL"].startswith("http://127.0.0.1")


def test_following_the_guide_delivers_each_reader_only_their_network_once(server_root) -> None:
    sink = SmtpSink()
    with SampleSite(edition=1) as site, smtp_server(sink) as smtp:
        (server_root / "etc" / "sources.toml").write_text(
            SOURCES.replace("{site}", site.base_url), encoding="utf-8"
        )
        env = {key: moved(value, server_root) for key, value in guide_env_file().items()}
        env.update(SOTEWATCH_SMTP_HOST="127.0.0.1", SOTEWATCH_SMTP_PORT=str(smtp.port))
        env.update(SOTEWATCH_SMTP_TLS="none", SOTEWATCH_SMTP_USER="", SOTEWATCH_SMTP_PASSWORD="")
        args = [moved(arg, server_root) for arg in guide_run_args()]
        check = [moved(arg, server_root) for arg in guide_check_args()]
        checked = CliRunner().invoke(cli, check, env=env)
        assert checked.exit_code == 0, checked.output
        assert "2 subscribers" in checked.output and "warning" not in checked.output

        def cron_run() -> int:
            result = CliRunner().invoke(cli, args, env=env)
            assert result.exception is None or isinstance(result.exception, SystemExit)
            return result.exit_code

        assert cron_run() == 0  # the first visit: the page as it is, nothing to tell
        site.edition = 2
        assert cron_run() == 0
        first = list(sink.received)
        assert cron_run() == 0

    assert sink.received == first, "a second run delivered something again"
    by_reader = {r.recipients[0]: r for r in first}
    assert sorted(by_reader) == ["vastuu@example.org", "viestinta@example.org"]
    assert len(first) == 2
    db = Path(env["SOTEWATCH_DB"])
    assert contact_sections(db, by_reader["viestinta@example.org"]) == {"Viestintäverkosto"}
    assert contact_sections(db, by_reader["vastuu@example.org"]) == {"Vastuuhenkilöiden verkosto"}


def test_mail_configured_without_a_subscribers_file_is_a_config_error_naming_it(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "etc" / "subscribers.toml"
    env = {"SOTEWATCH_SMTP_HOST": "127.0.0.1", "SOTEWATCH_SUBSCRIBERS": str(missing)}
    for command in (["run", "--only", "stm-verkostot"], ["send"]):
        result = CliRunner().invoke(cli, ["--db", str(tmp_path / "w.db"), *command], env=env)
        assert result.exit_code == 2, result.output
        assert str(missing) in result.output


def test_mail_configured_and_the_default_subscribers_file_missing_is_exit_2(
    tmp_path: Path,
) -> None:
    result = CliRunner().invoke(
        cli,
        ["--db", str(tmp_path / "w.db"), "run", "--only", "stm-verkostot"],
        env={"SOTEWATCH_SMTP_HOST": "127.0.0.1"},
    )
    assert result.exit_code == 2
    assert str(tmp_path / "subscribers.toml") in result.output
    assert not (tmp_path / "w.db").exists(), "nothing is fetched before the error"


def test_without_a_named_file_the_readers_are_in_subscribers_toml_beside_the_database(
    tmp_path: Path,
) -> None:
    """An installed sotewatch has no data folder of the operator's: the default file
    sits beside the database, as its private state database does."""
    (tmp_path / "subscribers.toml").write_text(
        '[[subscriber]]\nid = "aino"\nemail = "aino@example.org"\nregions = ["lappi"]\n',
        encoding="utf-8",
    )
    listed = CliRunner().invoke(cli, ["--db", str(tmp_path / "w.db"), "subscribers"], env={})
    checked = CliRunner().invoke(cli, ["--db", str(tmp_path / "w.db"), "check"], env={})
    assert listed.exit_code == 0, listed.output
    assert "aino@example.org" in listed.output
    assert checked.exit_code == 0, checked.output
    assert f"{tmp_path / 'subscribers.toml'}: 1 subscriber" in checked.output


def test_check_reads_the_subscribers_file_from_the_environment_and_the_option(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "subscribers.toml"
    bad.write_text('[[subscriber]]\nid = "x"\nemail = "not an address"\n', encoding="utf-8")
    for args, env in (([], {"SOTEWATCH_SUBSCRIBERS": str(bad)}), (["--subscribers", str(bad)], {})):
        result = CliRunner().invoke(cli, ["check", *args], env=env)
        assert result.exit_code == 2, result.output
        assert str(bad) in result.output


def test_check_warns_when_mail_is_configured_and_links_go_to_loopback(tmp_path: Path) -> None:
    good = tmp_path / "subscribers.toml"
    good.write_text(SUBSCRIBERS, encoding="utf-8")
    env = {"SOTEWATCH_SMTP_HOST": "smtp.example.org", "SOTEWATCH_SUBSCRIBERS": str(good)}
    result = CliRunner().invoke(cli, ["check"], env=env)
    assert result.exit_code == 0, result.output
    assert "SOTEWATCH_DATASETTE_URL" in result.output
    public = {**env, "SOTEWATCH_DATASETTE_URL": "https://data.example.org"}
    assert "SOTEWATCH_DATASETTE_URL" not in CliRunner().invoke(cli, ["check"], env=public).output
