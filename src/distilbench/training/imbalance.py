"""Imbalanced targets: the one rule that says when a fold's training part is imbalanced, and the loss weights
that keep a model from collapsing onto its majority class there.

The rule (`train.class_weights: auto`): the largest class over the smallest (multiclass), or the largest
share of negatives over positives of any label (multilabel), on the rows a model trains on, reaches
`train.imbalance_ratio`. BBC (about 1.3) and Rotten Tomatoes (1.0) stay below 3, so nothing changes there;
Amazon Alexa (about 11) and a sparse multilabel corpus are above it. Torch-free apart from the tensor it
returns, so scikit-learn rows and the report use the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from distilbench.config.settings import TrainConfig

# a BCE pos_weight of a label seen twice among hundreds of texts would be ~100: its few positives would
# outweigh every other label's gradient; capped, rare labels still count several times their share
MAX_POS_WEIGHT = 10.0


@dataclass(frozen=True)
class Balance:
    """How imbalanced the rows trained on are, and whether the losses are weighted for it."""

    ratio: float  # largest class / smallest (multilabel: largest negatives/positives of a label)
    weighted: bool  # class-weighted losses (train.class_weights resolved for these rows)


def class_counts(targets: np.ndarray, num_labels: int, multilabel: bool) -> np.ndarray:
    """Examples per class (multiclass ids) or positives per label (multilabel 0/1 matrix)."""
    if multilabel:
        return np.asarray(targets, dtype=np.float64).sum(axis=0)
    return np.bincount(np.asarray(targets, dtype=np.int64), minlength=num_labels).astype(np.float64)


def imbalance_ratio(targets: np.ndarray, num_labels: int, multilabel: bool) -> float:
    """The rule's number. Classes (labels) absent from these rows are left out: they have no loss term."""
    counts = class_counts(targets, num_labels, multilabel)
    present = counts[counts > 0]
    if present.size == 0:
        return 1.0
    if multilabel:
        negatives = len(targets) - present
        return float(max(np.max(negatives / present), 1.0))
    return float(present.max() / present.min())


def resolve_balance(
    setting: str, targets: np.ndarray, num_labels: int, multilabel: bool, threshold: float
) -> Balance:
    """`train.class_weights` for these rows: on, off, or (auto) on when the ratio reaches `threshold`."""
    ratio = imbalance_ratio(targets, num_labels, multilabel)
    weighted = setting == "on" or (setting == "auto" and ratio >= threshold)
    return Balance(round(ratio, 4), weighted)


def train_balance(train: TrainConfig, targets: np.ndarray, num_labels: int, multilabel: bool) -> Balance:
    """`train.class_weights` and `train.imbalance_ratio` applied to the rows a model trains on."""
    return resolve_balance(train.class_weights, targets, num_labels, multilabel, train.imbalance_ratio)


def loss_weights(targets: np.ndarray, num_labels: int, multilabel: bool) -> np.ndarray:
    """Multiclass: scikit-learn's "balanced" weights n / (k * count_c), the same the linear and static rows
    get (absent classes weigh 1). Multilabel: BCE pos_weight negatives / positives per label, capped at
    MAX_POS_WEIGHT (1 for a label without positives)."""
    counts = class_counts(targets, num_labels, multilabel)
    if multilabel:
        negatives = len(targets) - counts
        ratio = np.divide(negatives, counts, out=np.ones_like(counts), where=counts > 0)
        return np.clip(ratio, 1.0, MAX_POS_WEIGHT).astype(np.float32)
    present = counts > 0
    weights = np.ones(num_labels, dtype=np.float64)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights.astype(np.float32)
