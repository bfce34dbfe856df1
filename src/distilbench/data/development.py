"""The development partition: rows set aside before the folds, where settings are chosen.

No row of it is in any reported fold, so no setting chosen on it was chosen on a row the report tests
(docs/tuning.md). Per dataset, ``development_rows`` decides its size and the data where it comes from:

- rows the ``max_examples`` cap leaves out, when there are enough of them that share no text and no
  group (e.g. Rotten Tomatoes' movie) with the kept rows: the reported rows stay exactly as they were;
- otherwise a stratified, group-aware part of the dataset, carved before its folds (one fold of a
  k-fold split with k = rows / development_rows and another seed): the reported rows are the rest.

It is written beside the prepared examples (``development.parquet``, each row with its source row id).
A sweep trains on one reported fold's training part, exactly as that fold does, and scores on the
development rows (:mod:`distilbench.data.sweep_split`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from distilbench.core.errors import DataError
from distilbench.data.folds import assign_folds, cap_indices, fold_groups, random_indices
from distilbench.data.table import MULTICLASS, Examples, encode_targets

DEVELOPMENT_FILE = "development.parquet"
DEV_SEED_OFFSET = 1000  # the development partition's seed: the study's seed + this, never the same split
FROM_CAP = "rows the max_examples cap left out"
CARVED = "carved before the folds"


@dataclass(frozen=True)
class Development:
    """The rows set aside, and where they came from (:data:`FROM_CAP` or :data:`CARVED`)."""

    frame: pd.DataFrame  # text, label, where (the source row), group when the source has one
    taken_from: str


def set_aside(
    kept: Examples, left_out: pd.DataFrame | None, rows: int, seed: int
) -> tuple[Examples, Development]:
    """``rows`` development rows and the reported examples left after them."""
    candidates = _unshared(left_out, kept.frame) if left_out is not None else None
    if candidates is not None and len(candidates) >= rows:
        # labels the reported rows lack are removed by restrict_labels, once the rare labels are known
        picked = _sample(candidates, kept.task, rows, seed + DEV_SEED_OFFSET)
        return kept, Development(picked, FROM_CAP)
    if rows >= len(kept.frame) // 2:
        raise DataError(
            f"{kept.origin}: development_rows {rows} leaves too few of its {len(kept.frame)} rows for "
            "the folds; set aside fewer"
        )
    is_development = _carved(kept, rows, seed + DEV_SEED_OFFSET)
    frame = kept.frame
    reported = dataclasses.replace(kept, frame=frame[~is_development].reset_index(drop=True))
    development = frame[is_development].reset_index(drop=True)
    return reported, Development(development, CARVED)


def _unshared(left_out: pd.DataFrame, kept: pd.DataFrame) -> pd.DataFrame:
    """Left-out rows sharing neither a text nor a group with any kept row: a copy of a reported text
    under another row (or another review of the same movie) would be tuned on what the report tests."""
    shared = left_out["text"].isin(set(kept["text"]))
    if "group" in left_out.columns and "group" in kept.columns:
        shared |= left_out["group"].isin(set(kept["group"]))
    return left_out[~shared].drop_duplicates("text").reset_index(drop=True)


def _sample(frame: pd.DataFrame, task: str, rows: int, seed: int) -> pd.DataFrame:
    if task == MULTICLASS:
        picked = cap_indices(frame["label"].to_numpy(), rows, seed)
    else:
        picked = random_indices(len(frame), rows, seed)
    return frame.iloc[picked].reset_index(drop=True)


def _carved(kept: Examples, rows: int, seed: int) -> np.ndarray:
    """One fold of a stratified, group-aware k-fold split of the kept rows, k = rows / development_rows:
    the same assignment the reported folds use, so repeated texts and groups never straddle it."""
    frame = kept.frame
    targets = encode_targets(frame["label"].tolist(), kept.labels, kept.task)
    k = max(2, round(len(frame) / rows))
    return assign_folds(targets, k, seed, fold_groups(frame)) == 0


def _restricted(frame: pd.DataFrame, kept: Examples) -> pd.DataFrame:
    """Development rows carry only labels the reported rows have (a label the cap dropped as rare, or a
    class absent from the kept rows, cannot be scored by their models)."""
    known = set(kept.labels)
    if kept.task == MULTICLASS:
        return frame[frame["label"].isin(known)].reset_index(drop=True)
    frame = frame.assign(label=[tuple(x for x in labels if x in known) for labels in frame["label"]])
    return frame.reset_index(drop=True)


def restrict_labels(development: Development, kept: Examples) -> Development:
    return dataclasses.replace(development, frame=_restricted(development.frame, kept))


def write_development(folder: Path, development: Development, task: str) -> dict:
    """``development.parquet`` in a prepared dataset's (staging) folder; returns its meta entry (prepare
    adds the file's hash)."""
    frame = development.frame
    multilabel = task != MULTICLASS
    columns = {
        "text": pa.array(frame["text"].tolist(), pa.string()),
        "label": pa.array(
            [list(v) for v in frame["label"]] if multilabel else frame["label"].tolist(),
            pa.list_(pa.string()) if multilabel else pa.string(),
        ),
        "source_row": pa.array([str(w) for w in frame["where"]], pa.string()),
    }
    if "group" in frame.columns:
        columns["group"] = pa.array(frame["group"].tolist(), pa.string())
    pq.write_table(pa.table(columns), folder / DEVELOPMENT_FILE)
    return {"rows": len(frame), "taken_from": development.taken_from}
