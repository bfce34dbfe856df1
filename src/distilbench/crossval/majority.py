"""The floor every model must clear: the majority class of each fold's training rows, scored on its
held-out rows. No training, so the crossval stage computes it for every dataset, repeat and fold.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from sklearn.dummy import DummyClassifier

from distilbench.data.prepared import PreparedDataset, load_prepared
from distilbench.data.validate import MULTILABEL
from distilbench.training.evaluation import prediction_metrics

STRATEGY = "most_frequent"


def majority_baselines(dataset_dirs: Iterable[Path]) -> list[dict]:
    """One record per prepared dataset x repeat x fold (see :func:`fold_baseline`)."""
    return [record for directory in dataset_dirs for record in dataset_baselines(load_prepared(directory))]


def dataset_baselines(data: PreparedDataset) -> list[dict]:
    return [
        fold_baseline(data, repeat, fold) for repeat in range(1, data.repeats + 1) for fold in data.eval_folds
    ]


def fold_baseline(data: PreparedDataset, repeat: int, fold: int) -> dict:
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
        **prediction_metrics(predicted, data.targets[held_out], multilabel),
    }
