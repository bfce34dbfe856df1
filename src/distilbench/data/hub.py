"""Hugging Face hub datasets (or a local ``save_to_disk`` folder), for users with internet."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from distilbench.config.datasets import DatasetSpec
from distilbench.core.errors import DataError
from distilbench.data.table import SourceTable, quoted

logger = logging.getLogger(__name__)


def load_hub(spec: DatasetSpec) -> SourceTable:
    """A hub dataset (or a local ``save_to_disk`` folder given as ``id``)."""
    splits = hub_splits(spec)
    origin = f"hub dataset {spec.id!r}" + (f" (config {spec.config!r})" if spec.config else "")
    frames, where, split = [], [], []
    for name, role in _chosen_splits(spec, splits, origin):
        frame = _split_frame(splits[name], spec, origin, name)
        if not _frame_has_labels(frame, spec.label_columns):
            raise DataError(f"{origin}, split {name!r}, column {spec.label_columns[0]!r}: no labels (all -1)")
        frames.append(frame)
        where += [f"split {name!r} row {i + 1}" for i in range(len(frame))]
        split += [role] * len(frame)
    frame = pd.concat(frames, ignore_index=True)
    holdout_split = split if spec.protocol == "holdout" else None
    return SourceTable.from_spec(spec, frame, where, origin, split=holdout_split, strict_duplicates=False)


def hub_splits(spec: DatasetSpec) -> dict[str, Any]:
    """split name -> ``datasets.Dataset``; a missing dataset becomes one DataError naming the id."""
    import datasets  # heavy: import only when a hub dataset is used

    local = Path(spec.id)
    try:
        if local.is_dir() and _is_saved_dataset(local):
            loaded = datasets.load_from_disk(str(local))
        else:
            loaded = datasets.load_dataset(spec.id, spec.config)
    except Exception as exc:  # the hub client raises many types (offline, not found, gated, bad config)
        config = f", config {spec.config!r}" if spec.config else ""
        raise DataError(
            f"hub dataset {spec.id!r}{config} could not be loaded ({type(exc).__name__}: {exc}). "
            "Offline? Load it once with network access so it is cached, or save it with "
            "`save_to_disk` and give that folder as `id`"
        ) from exc
    if isinstance(loaded, datasets.Dataset):
        return {"train": loaded}
    return dict(loaded)


def _chosen_splits(spec: DatasetSpec, splits: dict[str, Any], origin: str) -> list[tuple[str, str]]:
    """(split, role) pairs: holdout's train/eval splits, else the named or every labelled split."""
    if spec.protocol == "holdout":
        chosen = [(spec.train_split, "train"), (spec.eval_split, "eval")]
    elif spec.splits is not None:
        chosen = [(name, name) for name in spec.splits]
    else:
        return [(name, name) for name in splits if _has_labels(splits[name], spec, origin, name)]
    for name, _ in chosen:
        if name not in splits:
            raise DataError(f"{origin}: no split {name!r}; it has {', '.join(splits)}")
    return chosen


def _is_saved_dataset(folder: Path) -> bool:
    # save_to_disk writes dataset_dict.json (DatasetDict) or state.json (Dataset); other folders are
    # treated as a dataset repo of data files, which load_dataset reads itself
    return (folder / "dataset_dict.json").is_file() or (folder / "state.json").is_file()


def _missing_columns(dataset: Any, spec: DatasetSpec, origin: str, split: str) -> None:
    wanted = [*spec.text_columns, *spec.label_columns, *([spec.group_column] if spec.group_column else [])]
    for column in wanted:
        if column not in dataset.column_names:
            raise DataError(
                f"{origin}, split {split!r}, column {column!r}: no such column; "
                f"the columns are {quoted(dataset.column_names)}"
            )


def _has_labels(dataset: Any, spec: DatasetSpec, origin: str, split: str) -> bool:
    """Whether a split has labels at all: GLUE-style test splits hold -1 everywhere."""
    _missing_columns(dataset, spec, origin, split)
    labelled = _frame_has_labels(
        dataset.select_columns(list(spec.label_columns)).to_pandas(), spec.label_columns
    )
    if not labelled:
        logger.info("%s: split %r has no labels (all -1); not used for k-fold", origin, split)
    return labelled


def _frame_has_labels(frame: pd.DataFrame, columns: tuple[str, ...]) -> bool:
    values = frame[list(columns)].to_numpy().ravel()
    return any(
        v is not None and not (isinstance(v, float) and v != v) and not _is_minus_one(v) for v in values
    )


def _is_minus_one(value: Any) -> bool:
    try:
        return value == -1
    except (TypeError, ValueError):  # arrays compare element-wise
        return False


def _split_frame(dataset: Any, spec: DatasetSpec, origin: str, split: str) -> pd.DataFrame:
    """The wanted columns of one split, with class ids replaced by their names."""
    _missing_columns(dataset, spec, origin, split)
    columns = list(
        dict.fromkeys([*spec.text_columns, *spec.label_columns, *filter(None, [spec.group_column])])
    )
    frame = dataset.select_columns(columns).to_pandas()
    for column in spec.label_columns:
        frame[column] = _class_names(frame[column], dataset.features[column])
    return frame


def _class_names(values: pd.Series, feature: Any) -> list[Any]:
    """ClassLabel ids -> names (-1, "no label", -> None); a list of ClassLabel ids -> a list of names."""
    import datasets

    if isinstance(feature, datasets.ClassLabel):
        return [feature.int2str(int(v)) if v is not None and v >= 0 else None for v in values]
    inner = getattr(feature, "feature", None)
    if isinstance(inner, datasets.ClassLabel):
        return [None if v is None else [inner.int2str(int(i)) for i in v] for v in values]
    return list(values)
