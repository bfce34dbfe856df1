"""The floor every model must clear: always predicting the majority class (a DummyClassifier per fold)."""

from __future__ import annotations

import pandas as pd

from distilbench.core.schema import ACCURACY, ACCURACY_MEAN, MACRO_F1, mean_key, std_key
from distilbench.crossval.summary import std_over_folds

BASELINE_NAME = "majority class (DummyClassifier)"
BASELINE_KEY = "majority_class"  # its entry in metrics.json, beside the models
BASELINE_METRICS = (ACCURACY, MACRO_F1)


def baseline_summary(results: dict) -> pd.DataFrame:
    """Per dataset: the baseline's mean and std over its repeats × folds."""
    frame = pd.DataFrame(results["baselines"])
    if frame.empty:  # a study of no dataset has no floor to show
        return pd.DataFrame(columns=["dataset"])
    metrics = [m for m in BASELINE_METRICS if m in frame]
    return (
        frame.groupby("dataset")
        .agg(
            folds=("fold", "count"),
            **{mean_key(m): (m, "mean") for m in metrics},
            **{std_key(m): (m, std_over_folds) for m in metrics},
        )
        .reset_index()
    )


def baseline_of(baselines: pd.DataFrame, dataset: str) -> pd.Series | None:
    rows = baselines[baselines["dataset"] == dataset]
    return None if rows.empty else rows.iloc[0]


def models_not_above(rows: pd.DataFrame, baseline: pd.Series, checked: set[str]) -> list[str]:
    """The checked models (the teacher, transformers) whose mean accuracy does not beat the baseline's."""
    return [
        model
        for model, accuracy in zip(rows["model"], rows[ACCURACY_MEAN], strict=True)
        if model in checked and not accuracy > baseline[ACCURACY_MEAN]
    ]


def flag_lines(rows: pd.DataFrame, baseline: pd.Series | None, teacher: str, checked: set[str]) -> list[str]:
    """One bold warning per model that learnt nothing a majority vote does not already know."""
    if baseline is None or ACCURACY_MEAN not in baseline:
        return []
    lines = []
    for model in models_not_above(rows, baseline, checked | {teacher}):
        accuracy = rows.loc[rows["model"] == model, ACCURACY_MEAN].iloc[0]
        who = f"The teacher {model}" if model == teacher else model  # a model's name keeps its case
        lines.append(
            f"**⚠ {who} (accuracy {accuracy:.4f}) is not better than always predicting the majority class "
            f"(accuracy {baseline[ACCURACY_MEAN]:.4f}).**"
        )
    return lines
