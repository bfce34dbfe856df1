"""Deterministic fold assignment and the stratified size cap, both from library splitters."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, train_test_split

logger = logging.getLogger(__name__)


def assign_folds(targets: np.ndarray, k: int, seed: int, groups: np.ndarray | None = None) -> np.ndarray:
    """The fold (0..k-1) each example is evaluated in.

    ``targets`` is int class ids [n] (multiclass) or a 0/1 matrix [n, n_labels] (multilabel, split by
    iterative stratification so rare labels reach every fold). With ``groups``, rows of one group share
    a fold, so near-copies (one movie's reviews) cannot leak from training into evaluation.
    """
    n = len(targets)
    if targets.ndim == 2 and groups is not None:
        return _multilabel_group_folds(targets, k, seed, groups)
    if targets.ndim == 2:
        splitter = MultilabelStratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    elif groups is not None:
        splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    else:
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    folds = np.full(n, -1, dtype=np.int64)
    # the splitters only look at the row count of X, so a zero column stands in for the texts
    for fold, (_, eval_idx) in enumerate(splitter.split(np.zeros((n, 1)), targets, groups)):
        folds[eval_idx] = fold
    return folds


def _multilabel_group_folds(targets: np.ndarray, k: int, seed: int, groups: np.ndarray) -> np.ndarray:
    """Multilabel folds over whole groups: each group is one unit carrying the union of its rows' labels,
    split by iterative stratification; its rows then take its fold."""
    _, inverse = np.unique(groups, return_inverse=True)
    units = np.zeros((inverse.max() + 1, targets.shape[1]), dtype=targets.dtype)
    np.maximum.at(units, inverse, targets)
    return assign_folds(units, k, seed)[inverse]


def text_groups(texts: Sequence[str], groups: Sequence[str] | None = None) -> np.ndarray | None:
    """Group ids under which rows sharing a text (kept repeats) or a group share a fold: the connected
    pieces of rows linked by either. None when every text is unique and there are no groups."""
    text_ids, unique_texts = pd.factorize(np.asarray(texts, dtype=object))
    if groups is None:
        return text_ids if len(unique_texts) < len(text_ids) else None
    group_ids, unique_groups = pd.factorize(np.asarray(groups, dtype=object))
    parent = np.arange(len(unique_texts) + len(unique_groups))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]  # path halving keeps the trees flat
            node = parent[node]
        return node

    for text, group in zip(text_ids, group_ids + len(unique_texts), strict=True):
        parent[root(text)] = root(group)
    return np.asarray([root(text) for text in text_ids], dtype=np.int64)


def fold_groups(frame: pd.DataFrame) -> np.ndarray | None:
    """What keeps rows in one fold together: the source's ``group`` column, joined by repeated texts (the
    copies of one text then share a fold, whatever their groups); None when nothing does."""
    groups = frame["group"].to_numpy() if "group" in frame.columns else None
    if frame["text"].duplicated().any():
        groups = text_groups(frame["text"].tolist(), None if groups is None else groups.tolist())
    return groups


def cap_indices(strata: np.ndarray, max_examples: int, seed: int) -> np.ndarray:
    """Sorted row indices of a sample of ``max_examples`` rows keeping the proportions of ``strata``
    (one key per row: the class, or split + class for holdout); all rows when there are fewer."""
    n = len(strata)
    if n <= max_examples:
        return np.arange(n)
    try:
        kept, _ = train_test_split(np.arange(n), train_size=max_examples, stratify=strata, random_state=seed)
    except ValueError as exc:  # a stratum too small to split: fall back to a plain seeded sample
        logger.warning("stratified cap not possible (%s); taking a seeded random sample", exc)
        return random_indices(n, max_examples, seed)
    return np.sort(kept)


def random_indices(n: int, max_examples: int, seed: int) -> np.ndarray:
    """Sorted indices of a seeded plain sample (multilabel caps)."""
    if n <= max_examples:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_examples, replace=False))
