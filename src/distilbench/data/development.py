"""A development partition: where settings are chosen, away from the test rows the report shows.

It is the training part of one reported fold (every row outside that fold's test part), split again
into its own folds with another seed. A setting chosen on it has never seen that fold's test rows;
that fold is the one to compare the chosen setting on. (The rows are other folds' test rows: nested
cross-validation would repeat this for every fold; the tuning sweeps do it for one, to fit the budget.)

The result is an ordinary prepared dataset folder, so the fold code reads it like any other, and its
``meta.json`` records what it was carved from.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from distilbench.core.atomic import atomic_directories
from distilbench.core.errors import ConfigError
from distilbench.core.paths import EXAMPLES_FILE, META_FILE
from distilbench.data.folds import assign_folds
from distilbench.data.prepared import encode_targets, file_sha256, load_prepared, read_meta

DEV_SEED_OFFSET = 1000  # the development folds' seed: the study's fold seed + this, never the same split


def write_development(dataset_dir: Path, out_dir: Path, fold: int, folds: int) -> Path:
    """Write the training part of reported ``fold`` (1-based) of ``dataset_dir``, re-split into
    ``folds`` folds, as a prepared dataset in ``out_dir``; returns ``out_dir``."""
    dataset = load_prepared(dataset_dir)
    meta = read_meta(dataset_dir)
    if meta["protocol"] != "kfold" or fold not in range(1, len(dataset.eval_folds) + 1):
        raise ConfigError(
            f"{dataset_dir}: a development partition needs one of the k-fold folds "
            f"1..{len(dataset.eval_folds)} (got {fold}, protocol {meta['protocol']})"
        )
    train_rows, _ = dataset.split(fold - 1)
    table = pq.read_table(Path(dataset_dir) / EXAMPLES_FILE).take(train_rows)
    table = table.select([c for c in table.column_names if c == "text" or c in ("label", "group")])
    seed = meta["fold_seeds"][0] + DEV_SEED_OFFSET
    groups = np.asarray(table["group"].to_pylist()) if "group" in table.column_names else None
    targets = encode_targets(table["label"].to_pylist(), dataset.labels, dataset.task)
    dev_folds = assign_folds(targets, folds, seed, groups)
    table = table.append_column("fold", [dev_folds.tolist()])
    with atomic_directories([Path(out_dir)]) as (staging,):
        pq.write_table(table, staging / EXAMPLES_FILE)
        dev_meta = {
            **meta,
            "name": meta["name"],
            "folds": folds,
            "eval_folds": list(range(folds)),
            "repeats": 1,
            "fold_seeds": [seed],
            "n_examples": table.num_rows,
            "data_hash": file_sha256(staging / EXAMPLES_FILE),
            "fold_sizes": {
                str(f): int(n) for f, n in zip(*np.unique(dev_folds, return_counts=True), strict=True)
            },
            "development_of": {"dataset_hash": dataset.data_hash, "fold": fold},
        }
        dev_meta.pop("repeat_fold_sizes", None)
        (staging / META_FILE).write_text(json.dumps(dev_meta, indent=2) + "\n", encoding="utf-8")
    return Path(out_dir)
