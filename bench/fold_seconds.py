"""Where a fold's seconds go, in two runs side by side: per dataset, model and repeat, the median fold's wall
time (its task's start to its record), training, held-out scoring and export for students, and the run's
whole fold section (the first fold's start to the last fold's end, timing rounds included).

Two runs on a shared machine differ by its speed as well as by their code: each ratio is after / before of
medians from two runs, not an interleaved measurement; `farm-bench` times whole commands side by side.

    python bench/fold_seconds.py --before old/results/crossval.json --after results/crossval.json
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

PARTS = ("wall", "train_seconds", "eval_seconds", "export_seconds")


def fold_parts(fold: dict) -> dict[str, float]:
    """One fold record's seconds: its wall time and the parts the record keeps."""
    wall = (fold["finished_ms"] - fold["started_ms"]) / 1000
    return {"wall": wall, **{part: float(fold.get(part) or 0.0) for part in PARTS[1:]}}


def medians(results: dict) -> dict[tuple[str, str, int], dict[str, float]]:
    """(dataset, model, repeat) -> each part's median over the folds, and how many folds ran."""
    grouped: dict[tuple[str, str, int], list[dict[str, float]]] = defaultdict(list)
    for fold in results["folds"]:
        grouped[fold["dataset"], fold["model"], int(fold.get("repeat", 1))].append(fold_parts(fold))
    return {
        key: {part: statistics.median(f[part] for f in folds) for part in PARTS} | {"folds": len(folds)}
        for key, folds in grouped.items()
    }


def fold_section_seconds(results: dict) -> float:
    folds = results["folds"]
    return (max(f["finished_ms"] for f in folds) - min(f["started_ms"] for f in folds)) / 1000


def cell(before: dict | None, after: dict | None, part: str) -> str:
    if after is None:
        return f"{before[part]:.1f} → —"
    if before is None:
        return f"— → {after[part]:.1f}"
    ratio = f" ({after[part] / before[part]:.2f}×)" if before[part] > 0.05 else ""
    return f"{before[part]:.1f} → {after[part]:.1f}{ratio}"


def table(before: dict, after: dict) -> list[str]:
    lines = [
        "| dataset | model | repeat | folds | wall s | train s | eval s | export s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key in sorted(set(before) | set(after)):
        b, a = before.get(key), after.get(key)
        folds = f"{b['folds'] if b else 0} → {a['folds'] if a else 0}"
        parts = " | ".join(cell(b, a, part) for part in PARTS)
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {folds} | {parts} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the earlier run's results/crossval.json")
    parser.add_argument("--after", type=Path, required=True, help="the later run's results/crossval.json")
    args = parser.parse_args(argv)
    before, after = (json.loads(p.read_text(encoding="utf-8")) for p in (args.before, args.after))
    print("\n".join(table(medians(before), medians(after))))
    first, second = fold_section_seconds(before), fold_section_seconds(after)
    print(
        f"\nfold section (first fold's start to last fold's end): {first:.0f} s → {second:.0f} s "
        f"({second / first:.2f}×)"
    )


if __name__ == "__main__":
    main()
