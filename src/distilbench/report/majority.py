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
    # imbalanced: any fold's training part is, by train.imbalance_ratio (select.metric auto reads it)
    imbalanced = {"imbalanced": ("imbalanced", "max")} if "imbalanced" in frame else {}
    return (
        frame.groupby("dataset")
        .agg(
            folds=("fold", "count"),
            **{mean_key(m): (m, "mean") for m in metrics},
            **{std_key(m): (m, std_over_folds) for m in metrics},
            **imbalanced,
        )
        .reset_index()
    )


def baseline_of(baselines: pd.DataFrame, dataset: str) -> pd.Series | None:
    rows = baselines[baselines["dataset"] == dataset]
    return None if rows.empty else rows.iloc[0]


def compared_on(baseline: pd.Series, metric: str) -> str:
    """The score a row is held against the floor on: the dataset's ranking metric (report.choice) when the
    floor has it (macro-F1: a class-weighted model may trade accuracy below the majority share for the
    minority class), else accuracy."""
    return metric if mean_key(metric) in baseline else ACCURACY


def models_not_above(
    rows: pd.DataFrame, baseline: pd.Series, checked: set[str], metric: str = "accuracy"
) -> list[str]:
    """The checked models (the teacher, transformers) whose mean score does not beat the baseline's."""
    key = mean_key(compared_on(baseline, metric))
    return [
        model
        for model, score in zip(rows["model"], rows[key], strict=True)
        if model in checked and not score > baseline[key]
    ]


def flag_lines(
    rows: pd.DataFrame, baseline: pd.Series | None, teacher: str, checked: set[str], metric: str = "accuracy"
) -> list[str]:
    """One bold warning per model that learnt nothing a majority vote does not already know."""
    if baseline is None or ACCURACY_MEAN not in baseline:
        return []
    compared = compared_on(baseline, metric)
    key, name = mean_key(compared), compared.replace("_f1", "-F1")
    lines = []
    for model in models_not_above(rows, baseline, checked | {teacher}, metric):
        score = rows.loc[rows["model"] == model, key].iloc[0]
        who = f"The teacher {model}" if model == teacher else model  # a model's name keeps its case
        lines.append(
            f"**⚠ {who} ({name} {score:.4f}) is not better than always predicting the majority class "
            f"({name} {baseline[key]:.4f}).**"
        )
    return lines
