"""A small crossval results file (what the report stage reads), built from FoldResult like the real one."""

from __future__ import annotations

import json

from distilbench.core.schema import RESULTS_VERSION
from distilbench.crossval.fold import FoldResult
from distilbench.crossval.records import fold_record


def fold_result(
    dataset: str = "tiny", model: str = "teacher", fold: int = 1, m: int = 0, **fields
) -> FoldResult:
    """One fold's numbers; model number `m` scores, weighs and takes a little less than the one before."""
    values = dict(
        dataset=dataset,
        model=model,
        fold=fold,
        task="multiclass",
        metrics={"accuracy": 0.9 - 0.1 * m + 0.01 * fold, "macro_f1": 0.8},
        train_seconds=10.0 / (m + 1),
        eval_seconds=1.0,
        train_examples=8,
        eval_examples=4,
        model_mb=4.0 / (m + 1),
        parameters=1000 // (m + 1),
        best_epoch=1,
        device="cpu",
        autocast="None",
    )
    return FoldResult(**{**values, **fields})


def results_json(
    models: tuple[str, ...] = ("teacher", "student"), folds: int = 2, version: int = RESULTS_VERSION
) -> str:
    """Two models x two folds on one dataset; the first model is the teacher."""
    records = [
        fold_record(fold_result(model=model, fold=fold, m=m))
        for m, model in enumerate(models)
        for fold in range(1, folds + 1)
    ]
    payload = {
        "version": version,
        "teacher": models[0],
        "models": [{"name": m} for m in models],
        "folds": records,
        "datasets": {"tiny": {"task": "multiclass", "examples": 8, "protocol": "kfold", "note": None}},
        "baselines": [],
        "tracking_uri": "sqlite:///mlflow.db",
    }
    return json.dumps(payload)
