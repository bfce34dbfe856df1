"""The dataset a tuning sweep runs on: one reported fold's training part, and the development rows held out.

The fold trains on exactly the rows that reported fold trains on (the regime the setting is chosen for)
and is scored only on the development partition (:mod:`distilbench.data.development`), which no reported
fold holds: no setting is chosen on a row the report tests.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from distilbench.core.atomic import atomic_directories
from distilbench.core.errors import ConfigError
from distilbench.core.paths import EXAMPLES_FILE, META_FILE
from distilbench.data.development import DEVELOPMENT_FILE
from distilbench.data.prepared import file_sha256, load_prepared, read_meta

logger = logging.getLogger(__name__)


def write_sweep_dataset(dataset_dir: Path, out_dir: Path, fold: int) -> Path:
    """A prepared dataset that trains on reported ``fold``'s (1-based) training part, exactly the rows
    that fold trains on, and holds out the development rows as its one fold; returns ``out_dir``."""
    dataset_dir = Path(dataset_dir)
    dataset = load_prepared(dataset_dir)
    meta = read_meta(dataset_dir)
    development = meta.get("development")
    if not development or not (dataset_dir / DEVELOPMENT_FILE).is_file():
        raise ConfigError(
            f"{dataset_dir}: no development partition; set development_rows on the dataset in params.yaml "
            "and run prepare"
        )
    if meta["protocol"] != "kfold" or fold not in range(1, len(dataset.eval_folds) + 1):
        raise ConfigError(
            f"{dataset_dir}: a sweep trains on one of the folds 1..{len(dataset.eval_folds)} (got {fold})"
        )
    train_rows, _ = dataset.split(fold - 1)
    names = ["text", "label"]
    training = pq.read_table(dataset_dir / EXAMPLES_FILE).select(names).take(train_rows)
    held_out = pq.read_table(dataset_dir / DEVELOPMENT_FILE).select(names)
    table = pa.concat_tables([training, held_out.cast(training.schema)])
    fold_ids = [1] * training.num_rows + [0] * held_out.num_rows  # fold 0, the one evaluated: number 1
    table = table.append_column("fold", pa.array(fold_ids, pa.int64()))
    with atomic_directories([Path(out_dir)]) as (staging,):
        pq.write_table(table, staging / EXAMPLES_FILE)
        sweep_meta = {
            **{key: meta[key] for key in ("name", "task", "labels", "protocol", "source")},
            "folds": 2,
            "eval_folds": [0],
            "repeats": 1,
            "fold_seeds": meta["fold_seeds"][:1],
            "n_examples": table.num_rows,
            "data_hash": file_sha256(staging / EXAMPLES_FILE),
            "fold_sizes": {"0": held_out.num_rows, "1": training.num_rows},
            "development_of": {"dataset_hash": dataset.data_hash, "trains_as_fold": fold},
        }
        (staging / META_FILE).write_text(json.dumps(sweep_meta, indent=2) + "\n", encoding="utf-8")
    logger.info(
        "%s: training on reported fold %d's %d training rows, scoring the %d development rows",
        meta["name"],
        fold,
        training.num_rows,
        held_out.num_rows,
    )
    return Path(out_dir)
