"""Row-labelled datasets for the development partition's tests: every text names its source row."""

from __future__ import annotations

import pyarrow.parquet as pq

from distilbench.data.development import DEVELOPMENT_FILE
from distilbench.data.prepared import load_prepared

LABELS = ("ham", "eggs", "spam")


def rows_csv(per_class: int, group_of=None) -> str:
    """Each text names its source line (the row id checked below)."""
    header = "text,label" + (",movie" if group_of else "")
    lines = []
    for i in range(per_class * len(LABELS)):
        label = LABELS[i % len(LABELS)]
        line = f"row{i:03d} is about {label},{label}"
        lines.append(line + (f",{group_of(i)}" if group_of else ""))
    return header + "\n" + "\n".join(lines) + "\n"


def row_ids(texts) -> set[str]:
    return {text.split()[0] for text in texts}


def reported_test_ids(folder) -> set[str]:
    dataset = load_prepared(folder)
    held_out = set()
    for repeat_folds in (dataset.folds, *dataset.later_repeats):
        for fold in dataset.eval_folds:
            held_out |= row_ids(dataset.texts[i] for i in (repeat_folds == fold).nonzero()[0])
    return held_out


def development_ids(folder) -> set[str]:
    return row_ids(pq.read_table(folder / DEVELOPMENT_FILE).column("text").to_pylist())
