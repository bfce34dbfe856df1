"""Would a decision threshold lift a binary dataset's macro-F1? Read off a run's per-example predictions.

For each row of `--dataset` in a results file (`results/crossval.json`, whose `predictions` keep every
held-out row's scores): its mean macro-F1 over folds at the argmax; with the positive class's threshold
chosen on the *other* folds' held-out rows and applied to the fold (cross-fitted: never chosen on the
rows it scores); and with the best threshold on the fold itself (an upper bound that no rule may use).

    python bench/decision_threshold.py --results results/crossval.json --dataset amazon_alexa

docs/datasets.md quotes it on the published example's Alexa run.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

GRID = np.round(np.arange(0.05, 0.96, 0.01), 2)  # candidate thresholds on the positive class's score


def macro_f1_at(truth: np.ndarray, positive: np.ndarray, threshold: float) -> float:
    return float(f1_score(truth, (positive >= threshold).astype(int), average="macro"))


def row_scores(folds: list[dict]) -> tuple[float, float, float]:
    """Mean macro-F1 over folds: at the argmax, cross-fitted threshold, oracle threshold."""
    truth = [np.asarray(f["truth"]) for f in folds]
    positive = [np.asarray(f["scores"])[:, 1] for f in folds]
    argmax = [
        f1_score(t, np.asarray(f["predicted"]), average="macro") for t, f in zip(truth, folds, strict=True)
    ]
    crossfit, oracle = [], []
    for i in range(len(folds)):
        others_truth = np.concatenate([t for j, t in enumerate(truth) if j != i])
        others_positive = np.concatenate([p for j, p in enumerate(positive) if j != i])
        chosen = max(GRID, key=lambda t: macro_f1_at(others_truth, others_positive, t))
        crossfit.append(macro_f1_at(truth[i], positive[i], chosen))
        oracle.append(max(macro_f1_at(truth[i], positive[i], t) for t in GRID))
    return float(np.mean(argmax)), float(np.mean(crossfit)), float(np.mean(oracle))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=Path("results/crossval.json"))
    parser.add_argument("--dataset", required=True)
    args = parser.parse_args()
    by_row: dict[str, list[dict]] = defaultdict(list)
    for record in json.loads(args.results.read_text())["predictions"]:
        if record["dataset"] == args.dataset:
            by_row[record["model"]].append(record)
    if not by_row:
        raise SystemExit(f"error: {args.results}: no predictions for dataset {args.dataset!r}")
    print(f"{'row':32s} {'argmax':>8s} {'cross-fitted':>13s} {'oracle':>8s}  (mean macro-F1 over folds)")
    for row, folds in sorted(by_row.items()):
        if np.asarray(folds[0]["scores"]).shape[1] != 2:
            raise SystemExit(f"error: {args.dataset}: not a binary dataset")
        argmax, crossfit, oracle = row_scores(sorted(folds, key=lambda f: (f["repeat"], f["fold"])))
        print(f"{row:32s} {argmax:8.4f} {crossfit:13.4f} {oracle:8.4f}")


if __name__ == "__main__":
    main()
