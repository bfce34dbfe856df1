"""Scores on a held-out fold, computed with scikit-learn. Functions return plain numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, hamming_loss

from distilbench.training.decision import LabelDecision

Decision = float | LabelDecision  # multilabel: one threshold for every label, or a model's own decision


def predict(logits: np.ndarray, multilabel: bool, threshold: Decision = 0.5) -> np.ndarray:
    """Class ids (multiclass) or a 0/1 matrix (multilabel: each label's sigmoid at or above its
    threshold, and the top label for a text with none when the decision says so)."""
    if multilabel:
        decision = (
            threshold
            if isinstance(threshold, LabelDecision)
            else LabelDecision.fixed(threshold, logits.shape[-1])
        )
        return decision.apply_logits(logits)
    return logits.argmax(axis=-1)


def scores(logits: np.ndarray, multilabel: bool) -> np.ndarray:
    """Each row's softmax over the classes (multiclass) or each label's sigmoid (multilabel), float32."""
    logits = np.asarray(logits, dtype=np.float64)
    if multilabel:
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))  # stable: the largest logit is 0
    return (shifted / shifted.sum(axis=-1, keepdims=True)).astype(np.float32)


@dataclass(frozen=True)
class HeldOutPredictions:
    """A fold's answers row by row: what a per-example (paired) comparison and an error analysis need."""

    rows: np.ndarray  # int64 [n]: the held-out rows, as positions in the prepared examples
    truth: np.ndarray  # class ids [n] (multiclass) or 0/1 [n, labels] (multilabel)
    predicted: np.ndarray  # the same shape as truth
    scores: np.ndarray  # float32 [n, classes or labels]: scores(logits)


def held_out_predictions(
    rows: np.ndarray, logits: np.ndarray, truth: np.ndarray, multilabel: bool, threshold: Decision = 0.5
) -> HeldOutPredictions:
    return HeldOutPredictions(
        rows=np.asarray(rows, dtype=np.int64),
        truth=np.asarray(truth).astype(np.int64),
        predicted=predict(logits, multilabel, threshold),
        scores=scores(logits, multilabel),
    )


def fold_metrics(
    logits: np.ndarray, targets: np.ndarray, multilabel: bool, threshold: Decision = 0.5
) -> dict:
    """The metrics the report shows for this task type.

    Multilabel `accuracy` is subset accuracy (every label of an example right), the strictest reading.
    """
    return prediction_metrics(predict(logits, multilabel, threshold), targets, multilabel)


def prediction_metrics(predicted: np.ndarray, targets: np.ndarray, multilabel: bool) -> dict:
    """:func:`fold_metrics` of predictions already made (class ids, or a 0/1 matrix for multilabel)."""
    if multilabel:
        truth = targets.astype(np.int64)
        return {
            "accuracy": float(accuracy_score(truth, predicted)),
            "micro_f1": float(f1_score(truth, predicted, average="micro", zero_division=0)),
            "macro_f1": float(f1_score(truth, predicted, average="macro", zero_division=0)),
            "hamming_loss": float(hamming_loss(truth, predicted)),
        }
    return {
        "accuracy": float(accuracy_score(targets, predicted)),
        "macro_f1": float(f1_score(targets, predicted, average="macro", zero_division=0)),
    }


def headline_score(
    logits: np.ndarray,
    targets: np.ndarray,
    multilabel: bool,
    threshold: Decision = 0.5,
    balanced: bool = False,
) -> float:
    """The one number that picks the best epoch: accuracy, or micro-F1 for multilabel tasks; macro-F1 for
    a class-weighted (imbalanced) multiclass fit, where accuracy would favour the majority-class epoch."""
    metrics = fold_metrics(logits, targets, multilabel, threshold)
    if multilabel:
        return metrics["micro_f1"]
    return metrics["macro_f1" if balanced else "accuracy"]


def confusion(logits: np.ndarray, targets: np.ndarray, n_labels: int) -> np.ndarray:
    return confusion_matrix(targets, logits.argmax(axis=-1), labels=list(range(n_labels)))
