"""The floor every model must clear: the majority class of each fold's training rows, scored on its
held-out rows. No training, so the crossval stage computes it for every dataset, repeat and fold.

Each record also says whether the fold's training part is imbalanced by train.imbalance_ratio (the rule of
training.imbalance): the report then ranks that dataset by macro-F1 (select.metric: auto). A multilabel
dataset gets two floors that make sense for label sets (:func:`label_set_baselines`): the most frequent
label set, and the k most frequent labels for every text.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from sklearn.dummy import DummyClassifier

from distilbench.data.prepared import PreparedDataset, load_prepared
from distilbench.data.validate import MULTILABEL
from distilbench.training.evaluation import prediction_metrics
from distilbench.training.imbalance import imbalance_ratio

STRATEGY = "most_frequent"
FREQUENT_SET, TOP_K = "most_frequent_set", "top_k_labels"  # the multilabel floors
DEFAULT_IMBALANCE_RATIO = 3.0  # TrainConfig.imbalance_ratio's default


def majority_baselines(
    dataset_dirs: Iterable[Path], imbalance_bar: float = DEFAULT_IMBALANCE_RATIO
) -> list[dict]:
    """One record per prepared dataset x repeat x fold (see :func:`fold_baseline`)."""
    return [
        record
        for directory in dataset_dirs
        for record in dataset_baselines(load_prepared(directory), imbalance_bar)
    ]


def dataset_baselines(data: PreparedDataset, imbalance_bar: float = DEFAULT_IMBALANCE_RATIO) -> list[dict]:
    return [
        fold_baseline(data, repeat, fold, imbalance_bar)
        for repeat in range(1, data.repeats + 1)
        for fold in data.eval_folds
    ]


def label_set_baselines(dataset_dirs: Iterable[Path]) -> list[dict]:
    """The multilabel datasets' floors, per repeat x fold: both strategies of :func:`fold_label_sets`."""
    records = []
    for directory in dataset_dirs:
        data = load_prepared(directory)
        if data.task != MULTILABEL:
            continue
        for repeat in range(1, data.repeats + 1):
            for fold in data.eval_folds:
                records += fold_label_sets(data, repeat, fold)
    return records


def most_frequent_set(targets: np.ndarray) -> np.ndarray:
    """The label set (a 0/1 row) most training texts carry; ties: the first such set in row order."""
    sets, first, counts = np.unique(targets.astype(np.int64), axis=0, return_index=True, return_counts=True)
    best = max(range(len(sets)), key=lambda i: (counts[i], -first[i]))
    return sets[best]


def top_k_labels(targets: np.ndarray) -> np.ndarray:
    """A 0/1 row with the k most frequent labels on, k the mean number of labels a training text carries
    (rounded, at least 1): the answer that knows only how common each label is."""
    k = max(1, round(float(targets.sum(axis=1).mean())))
    order = np.argsort(-targets.sum(axis=0), kind="stable")
    row = np.zeros(targets.shape[1], dtype=np.int64)
    row[order[:k]] = 1
    return row


def fold_label_sets(data: PreparedDataset, repeat: int, fold: int) -> list[dict]:
    """Two constant answers fitted on the fold's training rows, scored on its held-out rows."""
    train, held_out = data.split(fold, repeat)
    records = []
    for strategy, answer in (
        (FREQUENT_SET, most_frequent_set(data.targets[train])),
        (TOP_K, top_k_labels(data.targets[train])),
    ):
        predicted = np.tile(answer, (len(held_out), 1))
        records.append(
            {
                "dataset": data.name,
                "repeat": repeat,
                "fold": fold + 1,
                "strategy": strategy,
                "labels": [data.labels[i] for i in np.flatnonzero(answer)],
                **prediction_metrics(predicted, data.targets[held_out], multilabel=True),
            }
        )
    return records


def fold_baseline(
    data: PreparedDataset, repeat: int, fold: int, imbalance_bar: float = DEFAULT_IMBALANCE_RATIO
) -> dict:
    """DummyClassifier(most_frequent) fitted on the fold's training rows, scored like every model.

    `majority_class` is the class it always predicts; multilabel: the labels it always predicts (each
    label on when most training rows have it, so usually none), scored with the multilabel metrics.
    """
    train, held_out = data.split(fold, repeat)
    multilabel = data.task == MULTILABEL
    dummy = DummyClassifier(strategy=STRATEGY).fit(np.zeros((len(train), 1)), data.targets[train])
    predicted = dummy.predict(np.zeros((len(held_out), 1))).astype(np.int64)
    first = predicted[0]
    majority = [data.labels[i] for i in np.flatnonzero(first)] if multilabel else data.labels[int(first)]
    return {
        "dataset": data.name,
        "repeat": repeat,
        "fold": fold + 1,  # 1-based, as the fold records
        "strategy": STRATEGY,
        "majority_class": majority,
        # the rule of training.imbalance on the fold's training part: select.metric auto reads it
        "imbalanced": imbalance_ratio(data.targets[train], len(data.labels), multilabel) >= imbalance_bar,
        **prediction_metrics(predicted, data.targets[held_out], multilabel),
    }
