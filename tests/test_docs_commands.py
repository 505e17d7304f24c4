"""Every `sotewatch ...` command and option the docs name exists in the CLI.

Read from README.md, docs/*.md and the comments of data/*.toml: each code span and
each line of a fenced code block that runs `sotewatch`. So a renamed option or a
command that was never built ("sotewatch scrape") fails here, not on an operator.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from sotewatch.pipeline.cli import cli

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
CONFIGS = sorted((REPO / "data").glob("*.toml"))
# Where a command line ends in a shell line, and what only stands for something.
ENDS = {"|", "||", "&&", ";", ">", ">>", "2>&1", "<"}
SPAN = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
# The program itself: a snippet that starts with it, or a path ending in bin/sotewatch
# (not the sotewatch user or directory of `sudo -u sotewatch`, `/opt/sotewatch`).
INVOCATION = re.compile(r"(?:^|bin/)sotewatch((?:[ \t]+\S+)+)", re.M)


def snippets(path: Path) -> list[str]:
    """The code in a file: fenced blocks' lines and inline code spans (for a TOML
    file, the spans in its comments)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        comments = "\n".join(line.split("#", 1)[1] for line in text.splitlines() if "#" in line)
        return SPAN.findall(comments)
    blocks = [line for block in FENCE.findall(text) for line in block.splitlines()]
    return blocks + SPAN.findall(FENCE.sub("", text))


def invocations(path: Path) -> list[list[str]]:
    """The words after each `sotewatch` in the file's code, up to the shell's next step."""
    found = []
    for code in snippets(path):
        for match in INVOCATION.finditer(code):
            words = []
            for word in match.group(1).split():
                if word in ENDS or word.startswith((">", "2>", "<")):
                    break
                words.append(word.strip("[](){}\"'").rstrip(";,."))
            found.append([w for w in words if w])
    return found


def option_names(command: click.Command) -> set[str]:
    return {name for p in command.params for name in [*p.opts, *p.secondary_opts]}


def takes_value(command: click.Command, option: str) -> bool:
    return any(option in p.opts and not getattr(p, "is_flag", False) for p in command.params)


def problems(words: list[str]) -> list[str]:
    """What in one `sotewatch ...` line the CLI does not have ([] if all of it exists)."""
    wrong, rest = [], list(words)
    while rest and rest[0].startswith("-"):  # the group's own options: --db, --log-format
        option = rest.pop(0).split("=", 1)[0]
        if option not in option_names(cli) | {"--help", "--version"}:
            wrong.append(f"sotewatch {option}")
        elif takes_value(cli, option) and rest:
            rest.pop(0)
    if not rest or not re.fullmatch(r"[a-z][a-z-]*", rest[0]):
        return wrong  # `sotewatch --help`, `sotewatch COMMAND --help`
    name = rest.pop(0)
    command = cli.commands.get(name)
    if command is None:
        return [*wrong, f"sotewatch {name}: no such command"]
    known = option_names(command) | {"--help"}
    for word in rest:
        option = word.split("=", 1)[0]
        is_option = option.startswith("--") or re.fullmatch(r"-[a-zA-Z]", option)
        if is_option and option not in known:
            wrong.append(f"sotewatch {name} {option}: no such option")
    return wrong


@pytest.mark.parametrize("path", DOCS + CONFIGS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_command_and_option_the_docs_name_exists(path: Path) -> None:
    found = [problem for words in invocations(path) for problem in problems(words)]
    assert found == []


def test_the_docs_name_commands_at_all() -> None:
    """The reader above must find what it checks, or the test could not fail."""
    named = {words[0] for path in DOCS for words in invocations(path) if words}
    assert {"run", "send", "check", "sources", "changes", "browse"} <= named


def test_a_command_that_does_not_exist_is_found() -> None:
    assert problems(["scrape"]) == ["sotewatch scrape: no such command"]
    assert problems(["--db", "x.db", "run", "--no-such"]) == [
        "sotewatch run --no-such: no such option"
    ]
    assert problems(["browse", "--setting", "base_url", "/x/"]) == []


def test_the_readme_and_the_deployment_guide_give_the_same_cron_line() -> None:
    def cron_lines(path: Path) -> list[str]:
        text = path.read_text(encoding="utf-8")
        return [ln for ln in text.splitlines() if re.match(r"^[\d*]+ [\d*]+ .*sotewatch run", ln)]

    guide = cron_lines(REPO / "docs" / "deployment.md")
    assert len(guide) == 1
    assert cron_lines(REPO / "README.md") == guide
