"""The package's shape: every package folder is installed, and imports do not go in circles.

A cycle between modules makes the import order matter and the layers meaningless; the
scrapers build Documents from `pipeline.document` alone, so extraction can be read and
tested without the rest of the pipeline.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"sotewatch.pipeline": ROOT / "pipeline", "sotewatch.scrapers": ROOT / "scrapers"}


def module_files() -> dict[str, Path]:
    modules = {}
    for prefix, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join((prefix, *parts))] = path
    return modules


def imports_at_load(path: Path, modules: dict[str, Path]) -> set[str]:
    """sotewatch modules imported when `path` is loaded: module-level statements only
    (an import inside a function, or under `if TYPE_CHECKING`, runs later or never)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in modules}
    return found


def test_every_package_folder_is_in_the_wheel() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    packages = {name for name, path in module_files().items() if path.name == "__init__.py"}
    assert packages <= listed


def test_no_import_cycle() -> None:
    modules = module_files()
    graph = {name: imports_at_load(path, modules) for name, path in modules.items()}
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph[name]):
            if target == name or target.startswith(name + "."):
                continue  # a package importing its own submodule
            assert state.get(target) != "open", " -> ".join([*trail, name, target])
            if target not in state:
                visit(target, [*trail, name])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


def test_scrapers_build_on_the_document_package_alone() -> None:
    modules = module_files()
    allowed = ("sotewatch.scrapers", "sotewatch.pipeline.document", "sotewatch.pipeline.errors")
    for name, path in modules.items():
        if name.startswith("sotewatch.scrapers"):
            strays = {m for m in imports_at_load(path, modules) if not m.startswith(allowed)}
            assert not strays, f"{name} imports {sorted(strays)}"


def test_no_module_is_over_400_lines() -> None:
    """A module a newcomer can read in one sitting has one concern; past 400 lines it
    usually has two."""
    sizes = {
        name: len(path.read_text("utf-8").splitlines()) for name, path in module_files().items()
    }
    assert {name: lines for name, lines in sizes.items() if lines > 400} == {}
