"""The floor every model must clear: always predicting the majority class (a DummyClassifier per fold)."""

from __future__ import annotations

import pandas as pd

from distilbench.crossval.summary import std_over_folds

BASELINE_NAME = "majority class (DummyClassifier)"
BASELINE_KEY = "majority_class"  # its entry in metrics.json, beside the models
BASELINE_METRICS = ("accuracy", "macro_f1")


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
            **{f"{m}_mean": (m, "mean") for m in metrics},
            **{f"{m}_std": (m, std_over_folds) for m in metrics},
            **imbalanced,
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
        for model, accuracy in zip(rows["model"], rows["accuracy_mean"], strict=True)
        if model in checked and not accuracy > baseline["accuracy_mean"]
    ]


def flag_lines(rows: pd.DataFrame, baseline: pd.Series | None, teacher: str, checked: set[str]) -> list[str]:
    """One bold warning per model that learnt nothing a majority vote does not already know."""
    if baseline is None or "accuracy_mean" not in baseline:
        return []
    lines = []
    for model in models_not_above(rows, baseline, checked | {teacher}):
        accuracy = rows.loc[rows["model"] == model, "accuracy_mean"].iloc[0]
        who = f"The teacher {model}" if model == teacher else model  # a model's name keeps its case
        lines.append(
            f"**⚠ {who} (accuracy {accuracy:.4f}) is not better than always predicting the majority class "
            f"(accuracy {baseline['accuracy_mean']:.4f}).**"
        )
    return lines
