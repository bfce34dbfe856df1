"""The raw table every source reader returns, and that validation turns into examples."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from distilbench.config.datasets import DatasetSpec

MULTICLASS, MULTILABEL = "multiclass", "multilabel"


@dataclass(frozen=True)
class SourceTable:
    """Rows as the source gave them, plus which columns hold what and where each row came from."""

    frame: pd.DataFrame  # source columns, default RangeIndex
    where: list[str]  # per row, e.g. "line 5"; used in every error message about that row
    origin: str  # the file (or hub id) named in error messages
    text_columns: tuple[str, ...]
    label_columns: tuple[str, ...]
    label_delimiter: str | None = None
    group_column: str | None = None
    label_values: str = "auto"  # several label columns: "flags", "names" or "auto" (told by the cells)
    label_aliases: tuple[tuple[str, str], ...] | None = None  # written -> meant label names
    split: list[str] | None = None  # holdout only: "train" or "eval" per row
    # user files can be fixed, so conflicting duplicate labels are an error there; packaged and hub
    # data cannot, so conflicting copies are dropped and counted instead
    strict_duplicates: bool = True
    note: str | None = None

    @classmethod
    def from_spec(
        cls, spec: DatasetSpec, frame: pd.DataFrame, where: list[str], origin: str, **extra: Any
    ) -> SourceTable:
        """A user-configured source: which columns hold what comes from the dataset's params."""
        columns = (spec.text_columns, spec.label_columns, spec.label_delimiter, spec.group_column)
        labels = {"label_values": spec.label_values, "label_aliases": spec.label_aliases}
        return cls(frame, where, origin, *columns, **labels, **extra)


def quoted(names: Iterable[Any]) -> str:
    """Column names as messages list them: quoted, so a stray space or tab in a header shows."""
    return ", ".join(repr(str(n)) for n in names)


@dataclass(frozen=True)
class Examples:
    """Texts with labels, one row each. ``label`` is a str (multiclass) or a sorted tuple of str."""

    frame: pd.DataFrame  # columns: text, label, where, and group / split when the source has them
    task: str
    labels: tuple[str, ...]  # every class (multiclass) or label (multilabel) name, sorted
    origin: str
    text_column: str  # named in messages about texts
    label_column: str  # named in messages about labels
    group_column: str | None
    strict_duplicates: bool


def encode_targets(rows: list[Any], labels: tuple[str, ...], task: str) -> np.ndarray:
    """Label names -> class ids (multiclass) or a float32 multi-hot matrix (multilabel)."""
    index = {name: i for i, name in enumerate(labels)}
    if task == MULTICLASS:
        return np.asarray([index[label] for label in rows], dtype=np.int64)
    targets = np.zeros((len(rows), len(labels)), dtype=np.float32)
    for row, names in enumerate(rows):
        targets[row, [index[name] for name in names]] = 1.0
    return targets
