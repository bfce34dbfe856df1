"""Deterministic fold assignment and the stratified size cap, both from library splitters."""

from __future__ import annotations

import logging

import numpy as np
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
    if targets.ndim == 2:
        if groups is not None:
            raise ValueError("group folds are only supported for multiclass labels")
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
