"""The prepare stage: source -> clean examples -> folds -> ``<out_root>/<name>/``, and its reader.

On disk each dataset is ``examples.parquet`` (text, label, fold) and ``meta.json``. Folds are stored,
not recomputed, so every later stage and every re-run evaluates exactly the same rows; ``data_hash``
(sha256 of examples.parquet) keys the fold cache of later stages. Repeated k-fold adds one column per
further repeat (``fold_r2``, ``fold_r3``, ...), so a single repeat writes the very file it always did.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from distilbench.config.datasets import DataConfig, DatasetSpec
from distilbench.core.atomic import atomic_directories
from distilbench.core.errors import ConfigError, DataError
from distilbench.core.paths import EXAMPLES_FILE, META_FILE
from distilbench.data.development import (
    DEVELOPMENT_FILE,
    Development,
    restrict_labels,
    set_aside,
    write_development,
)
from distilbench.data.folds import assign_folds, cap_indices, fold_groups, random_indices
from distilbench.data.repeats import RepeatPolicy
from distilbench.data.sources import load_table
from distilbench.data.table import encode_targets
from distilbench.data.validate import (
    MULTICLASS,
    MULTILABEL,
    CleaningCounts,
    Examples,
    build_examples,
    check_classes,
    check_groups,
    check_holdout_labels,
    class_counts,
    clean,
    drop_rare_labels,
)

logger = logging.getLogger(__name__)

HOLDOUT_TRAIN, HOLDOUT_EVAL = -1, 0  # holdout rows' fold: train rows are never evaluated
# what every reader of meta.json relies on (``note`` is written only when there is one)
META_KEYS = ("name", "task", "labels", "protocol", "eval_folds", "repeats", "n_examples", "data_hash")


@dataclass(frozen=True)
class PreparedDataset:
    """A prepared dataset, ready for training: texts, numeric targets and the stored folds."""

    name: str
    task: str  # "multiclass" | "multilabel"
    labels: tuple[str, ...]  # class names, sorted; index = class id
    texts: list[str]
    targets: np.ndarray  # multiclass: int64 [n]; multilabel: float32 multi-hot [n, n_labels]
    folds: np.ndarray  # int64 [n], repeat 1; k-fold: 0..k-1; holdout: eval rows 0, train rows -1
    eval_folds: tuple[int, ...]  # k-fold: (0..k-1); holdout: (0,)
    data_hash: str  # sha256 hex of examples.parquet
    later_repeats: tuple[np.ndarray, ...] = ()  # the folds of repeats 2, 3, ... (repeated k-fold)

    @property
    def repeats(self) -> int:
        return 1 + len(self.later_repeats)

    def repeat_folds(self, repeat: int = 1) -> np.ndarray:
        """Each row's fold in one repeat (1-based)."""
        if not 1 <= repeat <= self.repeats:
            raise ValueError(f"{self.name}: repeat {repeat} is not one of 1..{self.repeats}")
        return self.folds if repeat == 1 else self.later_repeats[repeat - 2]

    def split(self, fold: int, repeat: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(train_idx, eval_idx) for one evaluated fold of one repeat: train on every row not in it."""
        if fold not in self.eval_folds:
            raise ValueError(f"{self.name}: fold {fold} is not one of the evaluated folds {self.eval_folds}")
        folds = self.repeat_folds(repeat)
        return np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)


def fold_column(repeat: int) -> str:
    """The examples.parquet column holding a repeat's folds: repeat 1 keeps the plain `fold`."""
    return "fold" if repeat == 1 else f"fold_r{repeat}"


def fold_seed(seed: int, repeat: int) -> int:
    """The seed repeat r (1-based) assigns its folds with; repeat 1 uses the study's seed itself."""
    return seed + repeat - 1


def prepare_all(cfg: DataConfig, seed: int, out_root: Path) -> list[dict]:
    """Prepare every dataset of ``cfg`` into ``out_root/<name>/``, then remove datasets no longer
    configured (later stages read every folder there); returns their meta dicts.

    All or nothing across the run: every dataset is loaded and checked before any is written, and the
    folders are swapped in together, so a failure in any of them leaves every prepared folder as it was.
    """
    planned = [plan_dataset(spec, cfg.folds, seed, repeats=cfg.repeats_of(spec)) for spec in cfg.datasets]
    refuse_identical(planned)
    metas = write_prepared(planned, Path(out_root))
    remove_stale(Path(out_root), {spec.name for spec in cfg.datasets})
    return metas


def remove_stale(out_root: Path, keep: set[str]) -> list[str]:
    """Delete prepared datasets (folders with a meta.json) whose name is not in ``keep``."""
    # the meta file is not read: a stale folder written by an older prepare goes all the same
    prepared = [d for d in sorted(out_root.iterdir()) if (d / META_FILE).is_file()]
    stale = [d for d in prepared if d.name not in keep]
    for folder in stale:
        logger.info("removing %s: no longer in params data.datasets", folder)
        shutil.rmtree(folder)
    return [d.name for d in stale]


@dataclass(frozen=True)
class PlannedDataset:
    """A dataset checked and split, not yet written: everything that bad data can fail on is done."""

    folder: str
    examples: Examples
    fold_ids: tuple[np.ndarray, ...]  # one per repeat
    meta: dict[str, Any]
    development: Development | None = None  # rows set aside before the folds, in no fold


def plan_dataset(spec: DatasetSpec, folds: int, seed: int, repeats: int = 1) -> PlannedDataset:
    """Load, validate, clean, cap and split one dataset (``repeats`` times for repeated k-fold)."""
    holdout = spec.protocol == "holdout"
    if holdout and repeats > 1:  # DataConfig refuses this combination; a direct caller gets the same answer
        raise ConfigError(f"data.repeats: {repeats} needs k-fold; {spec.name!r} uses protocol 'holdout'")
    table = load_table(spec)
    policy = repeat_policy(spec, table.strict_duplicates)
    examples, counts = clean(build_examples(table), policy)
    examples, rare = _enough_of_each(examples, spec, None if holdout else folds)
    examples, capped_from, left_out = _cap(
        examples, spec.max_examples, seed, keep_left_out=spec.development_rows is not None
    )
    if capped_from is not None:
        examples, rare_after_cap = _enough_of_each(
            examples, spec, None if holdout else folds, f" after capping to max_examples={spec.max_examples}"
        )
        rare |= rare_after_cap
    development = None
    if spec.development_rows is not None:
        examples, development = set_aside(examples, left_out, spec.development_rows, seed)
        examples, rare_after_development = _enough_of_each(
            examples, spec, folds, f" after setting aside {spec.development_rows} development rows"
        )
        rare |= rare_after_development
        development = restrict_labels(development, examples)
    seeds = [fold_seed(seed, r) for r in range(1, repeats + 1)]
    if holdout:
        fold_ids = (_holdout_folds(examples, spec),)
    else:
        fold_ids = tuple(_kfold(examples, folds, each, spec.name) for each in seeds)
    meta = _meta(spec, examples, counts, capped_from, folds, seeds, holdout, table.note)
    meta |= {"repeat_policy": dataclasses.asdict(policy), "rare_labels_dropped": rare}
    return PlannedDataset(spec.name, examples, fold_ids, meta, development)


def repeat_policy(spec: DatasetSpec, strict: bool) -> RepeatPolicy:
    """The dataset's policy for repeated texts; unset conflicts are refused in a user's file (it can be
    fixed) and dropped from packaged and hub data (they cannot)."""
    conflicts = spec.conflicts or ("error" if strict else "drop")
    return RepeatPolicy(duplicates=spec.duplicates, conflicts=conflicts)


def _enough_of_each(
    examples: Examples, spec: DatasetSpec, folds: int | None, cap_note: str = ""
) -> tuple[Examples, dict[str, int]]:
    """Labels too rare for k-fold dropped (rare_labels: drop) or refused, then at least two left."""
    rare: dict[str, int] = {}
    if folds is not None and spec.rare_labels == "drop":
        examples, rare = drop_rare_labels(examples, folds)
    check_classes(examples, folds, cap_note)
    return examples, rare


def content_digest(planned: PlannedDataset) -> str:
    """What a dataset's folds are computed from: its rows, their labels and their folds (not its name).
    Two views of one file with different label columns differ here."""
    digest = hashlib.sha256()
    frame = planned.examples.frame
    rows = [
        [text, list(label) if isinstance(label, tuple | list) else label]
        for text, label in zip(frame["text"], frame["label"], strict=True)
    ]
    digest.update(json.dumps([planned.examples.task, rows], ensure_ascii=False, default=str).encode())
    for ids in planned.fold_ids:
        digest.update(np.ascontiguousarray(ids, dtype=np.int64).tobytes())
    return digest.hexdigest()


def refuse_identical(planned: list[PlannedDataset]) -> None:
    """Two entries that prepare to the same data would be one study run twice under two names: their
    folds share every cache key, so the second would get the first's cached folds and no runs of its own."""
    seen: dict[str, str] = {}
    for dataset in planned:
        name = dataset.meta["name"]
        first = seen.setdefault(content_digest(dataset), name)
        if first != name:
            raise ConfigError(
                f"data.datasets: {first!r} and {name!r} prepare to identical data (the same "
                f"{dataset.meta['n_examples']} rows and labels); keep one of them"
            )


def write_prepared(planned: list[PlannedDataset], out_root: Path) -> list[dict]:
    """Write every planned dataset into ``out_root/<folder>/``, all of them or none."""
    with atomic_directories([out_root / p.folder for p in planned]) as stagings:
        metas = [_write(staging, p) for staging, p in zip(stagings, planned, strict=True)]
    for p, meta in zip(planned, metas, strict=True):
        kind = "labels" if p.examples.task == MULTILABEL else "classes"
        split = "holdout" if meta["protocol"] == "holdout" else f"{meta['folds']} folds"
        logger.info(
            "%s: %d examples, %d %s, %s; %s",
            meta["name"],
            meta["n_examples"],
            len(p.examples.labels),
            kind,
            split,
            repeats_summary(meta),
        )
    return metas


def repeats_summary(meta: dict[str, Any]) -> str:
    """What the dataset's policy did with repeated texts and rare labels, in one clause of its line (the
    per-step lines before it name the file, which two datasets may share)."""
    policy = meta["repeat_policy"]
    summary = (
        f"{meta['empty_dropped']} empty dropped; duplicates: {policy['duplicates']} "
        f"({meta['duplicates_removed']} removed); conflicts: {policy['conflicts']} "
        f"({meta['conflicting_texts']} texts, {meta['conflicting_duplicates']} rows dropped, "
        f"{meta['conflicts_merged']} merged); {meta['repeated_texts']} texts kept in several rows"
    )
    if meta["rare_labels_dropped"]:
        summary += f"; rare labels dropped: {', '.join(map(repr, meta['rare_labels_dropped']))}"
    if meta.get("development"):
        development = meta["development"]
        summary += (
            f"; {development['rows']} development rows set aside, in no fold ({development['taken_from']})"
        )
    return summary


def load_prepared(dataset_dir: Path) -> PreparedDataset:
    """Read a dataset written by :func:`prepare_all`, checking it was not changed since."""
    dataset_dir = Path(dataset_dir)
    meta_path, examples_path = dataset_dir / META_FILE, dataset_dir / EXAMPLES_FILE
    if not meta_path.is_file() or not examples_path.is_file():
        raise DataError(
            f"{dataset_dir}: not a prepared dataset (no {META_FILE} or {EXAMPLES_FILE}); run prepare"
        )
    meta = read_meta(dataset_dir)
    data_hash = verified_hash(dataset_dir, meta)
    table = pq.read_table(examples_path).to_pydict()
    labels = tuple(meta["labels"])
    return PreparedDataset(
        name=meta["name"],
        task=meta["task"],
        labels=labels,
        texts=table["text"],
        targets=encode_targets(table["label"], labels, meta["task"]),
        folds=np.asarray(table["fold"], dtype=np.int64),
        eval_folds=tuple(meta["eval_folds"]),
        data_hash=data_hash,
        later_repeats=tuple(
            np.asarray(table[fold_column(r)], dtype=np.int64) for r in range(2, meta["repeats"] + 1)
        ),
    )


def verified_hash(dataset_dir: Path, meta: dict[str, Any]) -> str:
    """The examples file's sha256, which must still be the one prepare recorded in meta.json."""
    examples_path = Path(dataset_dir) / EXAMPLES_FILE
    if not examples_path.is_file():
        raise DataError(f"{dataset_dir}: not a prepared dataset (no {EXAMPLES_FILE}); run prepare")
    data_hash = file_sha256(examples_path)
    if data_hash != meta["data_hash"]:
        raise DataError(
            f"{examples_path}: changed since it was prepared (sha256 differs from {META_FILE}); "
            "re-run prepare"
        )
    return data_hash


def split_hashes(dataset_dir: Path, repeats: int, eval_folds: tuple[int, ...]) -> dict[tuple[int, int], str]:
    """(repeat, fold) -> a digest of what that fold computes from: every row's text and label, in order (a
    fold trains on all rows it does not hold out), and the ids of the rows it holds out.

    Unlike ``data_hash`` (the whole file), it does not change when a later repeat's fold column is added:
    raising ``data.repeats`` keeps the fold keys of the repeats already run (crossval.plan).
    """
    table = pq.read_table(Path(dataset_dir) / EXAMPLES_FILE)
    rows = json.dumps(
        [table.column("text").to_pylist(), table.column("label").to_pylist()], ensure_ascii=False
    )
    content = hashlib.sha256(rows.encode()).hexdigest()
    out = {}
    for repeat in range(1, repeats + 1):
        folds = np.asarray(table.column(fold_column(repeat)), dtype=np.int64)
        for fold in eval_folds:
            held_out = np.flatnonzero(folds == fold).astype("<i8")
            out[repeat, fold] = hashlib.sha256(content.encode() + held_out.tobytes()).hexdigest()
    return out


def read_meta(dataset_dir: Path) -> dict[str, Any]:
    """A prepared dataset's meta file, with every key that later stages read: one written by an older
    prepare is refused, not guessed at."""
    path = Path(dataset_dir) / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:  # edited by hand, or cut short by a full disk outside prepare
        raise DataError(f"{path}: not valid JSON ({error}); re-run prepare") from error
    missing = [key for key in META_KEYS if key not in meta] if isinstance(meta, dict) else list(META_KEYS)
    if missing:
        raise DataError(f"{path}: written by an older prepare (no {', '.join(missing)}); re-run prepare")
    return meta


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- steps ----------------------------------------------------------------------------------------


def _cap(
    examples: Examples, max_examples: int | None, seed: int, keep_left_out: bool = False
) -> tuple[Examples, int | None, pd.DataFrame | None]:
    """A stratified sample of at most ``max_examples`` rows; returns it, the size it was capped from and,
    with ``keep_left_out``, the rows it left out (where a development partition may come from)."""
    frame = examples.frame
    if max_examples is None or len(frame) <= max_examples:
        return examples, None, None
    if examples.task == MULTICLASS:
        # holdout: stratify by split too, so the train/eval proportions survive the cap
        strata = frame["label"] if "split" not in frame.columns else frame["split"] + "\x00" + frame["label"]
        kept = cap_indices(strata.to_numpy(), max_examples, seed)
    else:
        kept = random_indices(len(frame), max_examples, seed)
    logger.info("%s: capped %d examples to %d", examples.origin, len(frame), max_examples)
    capped = dataclasses.replace(examples, frame=frame.iloc[kept].reset_index(drop=True))
    left_out = frame.drop(index=frame.index[kept]).reset_index(drop=True) if keep_left_out else None
    return capped, len(frame), left_out


def _kfold(examples: Examples, folds: int, seed: int, name: str) -> np.ndarray:
    targets = encode_targets(examples.frame["label"].tolist(), examples.labels, examples.task)
    if "group" in examples.frame.columns:
        check_groups(examples, folds)
    groups = fold_groups(examples.frame)
    if examples.frame["text"].duplicated().any():  # repeats kept by the dataset's policy: one fold each
        _check_repeat_groups(examples, groups, folds, name)
    return assign_folds(targets, folds, seed, groups)


def _check_repeat_groups(examples: Examples, groups: np.ndarray, folds: int, name: str) -> None:
    n_groups = len(np.unique(groups))
    if n_groups < folds:
        raise DataError(
            f"{examples.origin}: only {n_groups} distinct texts (rows of one text share a fold), fewer than "
            f"the {folds} folds of dataset {name!r}; use fewer folds"
        )


def _holdout_folds(examples: Examples, spec: DatasetSpec) -> np.ndarray:
    is_eval = examples.frame["split"].eq("eval").to_numpy()
    if not is_eval.any() or is_eval.all():
        raise DataError(f"{examples.origin}: the holdout needs rows in both the train and the eval split")
    check_holdout_labels(examples, spec.train_split, spec.eval_split)
    return np.where(is_eval, HOLDOUT_EVAL, HOLDOUT_TRAIN).astype(np.int64)


def _meta(
    spec: DatasetSpec,
    examples: Examples,
    counts: CleaningCounts,
    capped_from: int | None,
    folds: int,
    fold_seeds: list[int],
    holdout: bool,
    note: str | None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": spec.name,
        "task": examples.task,
        "labels": list(examples.labels),
        "protocol": spec.protocol,
        "folds": 1 if holdout else folds,
        "eval_folds": [HOLDOUT_EVAL] if holdout else list(range(folds)),
        # repeat r's folds: column `fold` (r = 1) or `fold_r<r>`, assigned with fold_seeds[r - 1]
        "repeats": len(fold_seeds),
        "fold_seeds": [] if holdout else fold_seeds,
        "n_examples": len(examples.frame),
        "data_hash": None,  # filled in once examples.parquet is written
        "source": dataclasses.asdict(spec),
        **counts.as_meta(),
        "capped_from": capped_from,
        "class_counts": class_counts(examples),
    }
    if note is not None:
        meta["note"] = note
    return meta


def _write(tmp: Path, planned: PlannedDataset) -> dict[str, Any]:
    """examples.parquet with a fixed schema (an all-empty label list still gets list<string>), the
    development rows when there are any, then meta."""
    examples, fold_ids, meta = planned.examples, planned.fold_ids, planned.meta
    frame = examples.frame
    multilabel = examples.task == MULTILABEL
    columns = {
        "text": pa.array(frame["text"].tolist(), pa.string()),
        "label": pa.array(
            [list(v) for v in frame["label"]] if multilabel else frame["label"].tolist(),
            pa.list_(pa.string()) if multilabel else pa.string(),
        ),
        **{fold_column(r): pa.array(ids, pa.int64()) for r, ids in enumerate(fold_ids, start=1)},
    }
    if "group" in frame.columns:
        columns["group"] = pa.array(frame["group"].tolist(), pa.string())
    pq.write_table(pa.table(columns), tmp / EXAMPLES_FILE)
    meta = {**meta, "data_hash": file_sha256(tmp / EXAMPLES_FILE)}
    if planned.development is not None:
        entry = write_development(tmp, planned.development, examples.task)
        meta["development"] = entry | {"data_hash": file_sha256(tmp / DEVELOPMENT_FILE)}
    meta["fold_sizes"] = _fold_sizes(fold_ids[0])
    if len(fold_ids) > 1:
        meta["repeat_fold_sizes"] = {str(r): _fold_sizes(ids) for r, ids in enumerate(fold_ids, start=1)}
    (tmp / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return meta


def _fold_sizes(fold_ids: np.ndarray) -> dict[str, int]:
    return {str(f): int(n) for f, n in zip(*np.unique(fold_ids, return_counts=True), strict=True)}
