"""`sotewatch eval-tagger FILE [--predictions OUT]`: the tagger measured on labelled passages.

Each line of FILE is {"id", "text", "lang", "regions": [...], "networks": [...]}. Every
text is tagged on its own (no page or source context) and compared with its labels:
micro precision, recall and F1 for regions and for networks, and every passage the
tagger got wrong, with what it missed and what it added.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sotewatch.pipeline.errors import ConfigError
from sotewatch.pipeline.tagging.tag import Tagger, Tags
from sotewatch.pipeline.tagging.taxonomy import Taxonomy, load_taxonomy


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    lang: str
    gold: Tags


@dataclass(frozen=True)
class Scores:
    """Micro-averaged counts over all passages of one axis (regions or networks)."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Miss:
    """One passage tagged wrongly on one axis."""

    id: str
    axis: str  # "regions" or "networks"
    text: str
    missing: tuple[str, ...]
    extra: tuple[str, ...]


@dataclass(frozen=True)
class EvalReport:
    path: str
    passages: int
    regions: Scores
    networks: Scores
    errors: tuple[Miss, ...]


def read_examples(path: Path) -> list[Example]:
    """Labelled passages; a malformed line is a ConfigError naming the file and line."""
    examples = []
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                gold = Tags(frozenset(raw["regions"]), frozenset(raw["networks"]))
                examples.append(Example(str(raw["id"]), raw["text"], raw.get("lang", "fi"), gold))
            except (ValueError, KeyError, TypeError) as exc:
                raise ConfigError(f"{path}:{number}: bad labelled passage: {exc}") from exc
    return examples


def evaluate(
    path: Path | str, predictions_out: Path | str | None = None, *, tagger: Tagger | None = None
) -> EvalReport:
    """Tag every passage of `path`, score it, and optionally write the predictions."""
    examples = read_examples(Path(path))
    tagger = tagger or Tagger(load_taxonomy())
    predicted = [tagger.tag_text(e.text, e.lang) for e in examples]
    if predictions_out is not None:
        write_predictions(Path(predictions_out), examples, predicted)
    return score(str(path), examples, predicted, tagger.taxonomy)


def score(
    path: str, examples: list[Example], predicted: list[Tags], taxonomy: Taxonomy
) -> EvalReport:
    counts = {"regions": [0, 0, 0], "networks": [0, 0, 0]}
    errors = []
    for example, tags in zip(examples, predicted, strict=True):
        for axis in ("regions", "networks"):
            gold, got = getattr(example.gold, axis), getattr(tags, axis)
            tp, fp, fn = len(gold & got), len(got - gold), len(gold - got)
            for n, value in enumerate((tp, fp, fn)):
                counts[axis][n] += value
            if fp or fn:
                errors.append(
                    Miss(
                        example.id,
                        axis,
                        example.text,
                        tuple(sorted(gold - got)),
                        tuple(sorted(got - gold)),
                    )
                )
    return EvalReport(
        path, len(examples), Scores(*counts["regions"]), Scores(*counts["networks"]), tuple(errors)
    )


def write_predictions(out: Path, examples: list[Example], predicted: list[Tags]) -> None:
    with out.open("w", encoding="utf-8") as f:
        for example, tags in zip(examples, predicted, strict=True):
            row = {
                "id": example.id,
                "regions": sorted(tags.regions),
                "networks": sorted(tags.networks),
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def format_report(report: EvalReport) -> str:
    """The figures, then each error: id, axis, missed (-) and added (+) slugs, the text."""
    lines = [
        f"{report.path}: {report.passages} passages",
        "",
        "            precision  recall      F1",
    ]
    for axis in ("regions", "networks"):
        s: Scores = getattr(report, axis)
        lines.append(f"{axis:<10}  {s.precision:9.3f}  {s.recall:6.3f}  {s.f1:6.3f}"
                     f"   (tp {s.tp}, fp {s.fp}, fn {s.fn})")  # fmt: skip
    lines.append("")
    lines.append(f"errors: {len(report.errors)}")
    for miss in report.errors:
        delta = " ".join([f"-{s}" for s in miss.missing] + [f"+{s}" for s in miss.extra])
        lines.append(f"  {miss.id} {miss.axis}: {delta}")
        lines.append(f"      {miss.text}")
    return "\n".join(lines)
