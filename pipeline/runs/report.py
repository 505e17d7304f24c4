"""What a run did, as the CLI, the run summary and `--summary-json` read it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sotewatch.pipeline.runs.reread import UpgradeTally


@dataclass
class RunReport:
    """What a run did; `summary_json` is the scriptable form (`--summary-json`)."""

    run_id: int
    fetched: int = 0
    not_modified: int = 0
    failed: int = 0
    skipped_sources: list[str] = field(default_factory=list)
    # url -> changes, for pages that had a version before this run (a page seen for the
    # first time is counted in `new_pages`, and its "page added" in `changes`)
    changed: dict[str, int] = field(default_factory=dict)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (source, url, error)
    new_pages: int = 0
    changes: int = 0  # every change recorded, "page added" included
    # pages whose latest version other code extracted (pipeline/runs/reread.py)
    upgrade: UpgradeTally = field(default_factory=UpgradeTally)

    def summary_json(self) -> dict:
        return {
            "fetched": self.fetched,
            "not_modified": self.not_modified,
            "failed": self.failed,
            "changed": [{"url": url, "changes": n} for url, n in self.changed.items()],
        }
