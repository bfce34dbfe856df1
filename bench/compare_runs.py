"""Two runs' speed-ups and time savings against the teacher, side by side: do their 95% CIs overlap?

The speed figures of one `make run` move with the shared machine; what the report claims is the per-fold
paired ratio's geometric mean and its 95% CI (report.ratios). This prints those of two runs (each run's
reports/metrics.json) for every row both have, and whether the two intervals overlap: the check that a
claim survives a rerun.

    python bench/compare_runs.py run1/reports/metrics.json run2/reports/metrics.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

RATIOS = {  # metrics.json prefix -> what the table calls it
    "latency_speedup": "batch-1 speed-up",
    "throughput_speedup": "batch-32 speed-up",
    "time_ratio": "train+val time ratio",
}


def interval(numbers: dict, prefix: str) -> tuple[float, float, float] | None:
    keys = [f"{prefix}_{part}" for part in ("gmean", "ci_low", "ci_high")]
    return tuple(numbers[k] for k in keys) if all(k in numbers for k in keys) else None


def rows(first: dict, second: dict) -> list[tuple[str, str, str, str, str, str]]:
    out = []
    for dataset, models in first.items():
        for model, numbers in models.items():
            other = second.get(dataset, {}).get(model)
            if not isinstance(numbers, dict) or not isinstance(other, dict):
                continue
            for prefix, name in RATIOS.items():
                a, b = interval(numbers, prefix), interval(other, prefix)
                if a and b:
                    overlap = a[1] <= b[2] and b[1] <= a[2]
                    out.append((dataset, model, name, _shown(a), _shown(b), "yes" if overlap else "NO"))
    return out


def _shown(ratio: tuple[float, float, float]) -> str:
    return f"{ratio[0]:.2f}× ({ratio[1]:.2f}–{ratio[2]:.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    args = parser.parse_args(argv)
    first, second = (json.loads(p.read_text(encoding="utf-8")) for p in (args.first, args.second))
    found = rows(first, second)
    print("| dataset | row | ratio to the teacher | run 1 (95% CI) | run 2 (95% CI) | overlap |")
    print("|---|---|---|---|---|---|")
    for row in found:
        print("| " + " | ".join(row) + " |")
    apart = sum(1 for row in found if row[-1] == "NO")
    print(f"\n{len(found) - apart} of {len(found)} intervals overlap")
    return 0


if __name__ == "__main__":
    sys.exit(main())
