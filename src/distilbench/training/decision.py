"""Multilabel decisions: which labels a text gets from its per-label scores.

A single 0.5 threshold on a sigmoid trained on sparse labels predicts almost nothing (most labels are
off in most texts, so the model learns low scores). Each label's threshold is therefore chosen where its
F1 is best on the inner validation split (never on the held-out fold), saved with the model, and used by
every scorer and server alike. When every training text has at least one label, a text whose scores
clear no threshold still gets its top-scoring label: an empty answer is then known to be wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

# candidate thresholds: fine enough to follow a label's F1 curve, coarse enough not to fit a handful
# of inner-validation examples to the third decimal
GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)


@dataclass(frozen=True)
class LabelDecision:
    """How a multilabel model turns scores into labels (serving.json and each fold record keep it)."""

    thresholds: tuple[float, ...]  # one per label, on sigmoid probabilities
    at_least_one: bool = False  # a text clearing no threshold gets its top-scoring label

    @classmethod
    def fixed(cls, threshold: float, num_labels: int, at_least_one: bool = False) -> LabelDecision:
        return cls(tuple([float(threshold)] * num_labels), at_least_one)

    def apply(self, probabilities: np.ndarray) -> np.ndarray:
        """A 0/1 matrix [texts, labels] from sigmoid probabilities."""
        chosen = (probabilities >= np.asarray(self.thresholds, dtype=probabilities.dtype)).astype(np.int64)
        if self.at_least_one and len(chosen):
            empty = chosen.sum(axis=1) == 0
            chosen[empty, probabilities[empty].argmax(axis=1)] = 1
        return chosen

    def apply_logits(self, logits: np.ndarray) -> np.ndarray:
        return self.apply(expit(np.asarray(logits, dtype=np.float64)))


def every_text_labelled(targets: np.ndarray) -> bool:
    """Whether each training text carries a label: then an empty prediction is never right."""
    return bool(len(targets)) and bool(np.all(np.asarray(targets).sum(axis=1) > 0))


def label_f1(predicted: np.ndarray, truth: np.ndarray) -> float:
    true_positives = float(np.sum(predicted & truth))
    denominator = float(np.sum(predicted) + np.sum(truth))
    return 2 * true_positives / denominator if denominator else 0.0


def best_threshold(
    probabilities: np.ndarray, truth: np.ndarray, default: float, grid: Sequence[float]
) -> float:
    """The grid value with the best F1 for one label (ties: the one nearest `default`); `default` when the
    label has no positive among these rows (its F1 is 0 whatever the threshold)."""
    truth = truth.astype(bool)
    if not truth.any():
        return float(default)
    scores = [(label_f1(probabilities >= t, truth), -abs(t - default), t) for t in grid]
    return float(max(scores)[2])


def choose_thresholds(
    logits: np.ndarray, targets: np.ndarray, default: float, grid: Sequence[float] = GRID
) -> tuple[float, ...]:
    """One threshold per label, each where that label's F1 on these rows (the inner split) is best."""
    probabilities = expit(np.asarray(logits, dtype=np.float64))
    truth = np.asarray(targets)
    return tuple(
        best_threshold(probabilities[:, j], truth[:, j], default, grid) for j in range(truth.shape[1])
    )
