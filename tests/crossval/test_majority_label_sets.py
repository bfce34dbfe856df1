"""The floors: the majority class (and whether a fold is imbalanced), and the label-set floors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from distilbench.crossval.majority import (
    FREQUENT_SET,
    TOP_K,
    fold_baseline,
    fold_label_sets,
    most_frequent_set,
    top_k_labels,
)

# 6 texts, 3 labels: label a on 5, b on 3, c on 1; two labels a text on average (12 / 6)
TARGETS = np.array([[1, 1, 0], [1, 1, 0], [1, 0, 0], [1, 0, 1], [1, 1, 0], [0, 0, 0]], dtype=np.float32)


@dataclass
class Prepared:
    """What the floors read of a prepared dataset: two folds, the first held out."""

    targets: np.ndarray
    labels: tuple[str, ...]
    task: str = "multilabel"
    name: str = "toy"

    def split(self, fold: int, repeat: int):
        n = len(self.targets)
        held_out = np.arange(n)[n // 2 :] if fold == 0 else np.arange(n)[: n // 2]
        return np.setdiff1d(np.arange(n), held_out), held_out


def test_the_k_most_frequent_labels_are_as_many_as_a_text_carries_on_average():
    np.testing.assert_array_equal(top_k_labels(TARGETS[:5]), [1, 1, 0])  # 9 / 5 labels a text: k = 2
    np.testing.assert_array_equal(top_k_labels(TARGETS[[2, 3, 5]]), [1, 0, 0])  # k = 1, at least 1


def test_the_most_frequent_set_is_a_whole_set_not_each_label_by_majority():
    np.testing.assert_array_equal(most_frequent_set(TARGETS), [1, 1, 0])  # 3 of 6 texts carry {a, b}


def test_label_set_floors_are_fitted_on_the_training_part_and_scored_on_the_held_out_one():
    data = Prepared(np.vstack([TARGETS, TARGETS]), ("a", "b", "c"))
    records = {r["strategy"]: r for r in fold_label_sets(data, repeat=1, fold=0)}
    assert records[TOP_K]["labels"] == ["a", "b"] and records[FREQUENT_SET]["labels"] == ["a", "b"]
    # held out: TARGETS again; answering {a, b}: 8 of the 9 true labels found among 12 answers
    assert abs(records[TOP_K]["micro_f1"] - 2 * 8 / (12 + 9)) < 1e-9
    assert {"accuracy", "macro_f1", "hamming_loss"} <= set(records[TOP_K])


def test_a_9_to_1_fold_is_recorded_imbalanced_and_a_balanced_one_is_not():
    skewed = Prepared(np.array([0] * 18 + [1] * 2 + [0] * 18 + [1] * 2), ("neg", "pos"), task="multiclass")
    balanced = Prepared(np.array([0, 1] * 20), ("neg", "pos"), task="multiclass")
    assert fold_baseline(skewed, 1, 0)["imbalanced"] is True
    assert fold_baseline(balanced, 1, 0)["imbalanced"] is False
