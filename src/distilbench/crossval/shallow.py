"""A fold of a linear or static model: fitted by scikit-learn on the fold's training texts.

No inner validation split: there is no epoch to pick, so every training row is fitted. A static model's
embeddings are distilled once per checkpoint (cached among the project's derived assets); each fold's training
time counts those seconds too, since no fold's model exists without them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from distilbench.core.stop import check_stop
from distilbench.crossval.plan import FoldJob
from distilbench.data.prepared import PreparedDataset
from distilbench.models.shallow import ShallowModel, distilled_static, new_model
from distilbench.models.zoo import model_location
from distilbench.training.imbalance import Balance, train_balance


@dataclass(frozen=True)
class ShallowFit:
    model: ShallowModel
    seconds: float  # fitting, plus a static model's one-off distillation
    distillation_seconds: float  # the static embeddings' share of `seconds` (0 for a linear model)
    balance: Balance  # train.class_weights resolved on these rows: class_weight="balanced" when weighted


def fit_shallow(job: FoldJob, data: PreparedDataset, rows: np.ndarray) -> ShallowFit:
    """Fit the job's linear or static model on these rows (a fold's training part, or every row)."""
    static, distillation_seconds = None, 0.0
    if job.model.kind == "static":
        checkpoint = model_location(job.model)
        static, distillation_seconds = distilled_static(checkpoint, job.model.pca_dims)
    multilabel = data.task == "multilabel"
    balance = train_balance(job.train, data.targets[rows], len(data.labels), multilabel)
    model = new_model(job.model, multilabel, static, balanced=balance.weighted)
    # scikit-learn's fit has no hook: a stop request is honoured before it, and it is short (1.2 s for
    # TF-IDF + LinearSVC on 2000 BBC articles, 2 cores); after it, nothing of the fold is kept or logged
    check_stop(job.label)
    start = time.perf_counter()
    model.fit([data.texts[i] for i in rows], data.targets[rows])
    check_stop(job.label)
    seconds = time.perf_counter() - start + distillation_seconds
    return ShallowFit(model, seconds, distillation_seconds, balance)
