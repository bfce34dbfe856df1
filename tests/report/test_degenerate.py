"""Rows that give one answer (or no labels) are flagged, and the select rule never chooses them."""

from __future__ import annotations

import pandas as pd

from distilbench.report.choice import Row, Rule, choose, entries_metric, ranking_metric
from distilbench.report.degenerate import flag_lines, flagged_rows


def folds(model: str, answers: list[int], empty: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": model,
            "fold": range(1, len(answers) + 1),
            "distinct_answers": answers,
            "empty_answers": empty,
        }
    )


def test_one_answer_on_every_fold_and_mostly_empty_label_sets_are_flagged():
    frame = pd.concat(
        [
            folds("cnn", [1, 1, 1], [0.0, 0.0, 0.0]),  # always the majority class
            folds("teacher", [2, 2, 2], [0.0, 0.0, 0.0]),
            folds("static", [1, 2, 1], [0.0, 0.0, 0.0]),  # varied on one fold: not flagged
            folds("student", [5, 4, 6], [0.9, 0.8, 0.7]),  # no label for 80% of texts
        ]
    )
    reasons = flagged_rows(frame)
    assert set(reasons) == {"cnn", "student"}
    assert "one and the same answer" in reasons["cnn"] and "80%" in reasons["student"]
    assert len(flag_lines(reasons)) == 2 and all("never chooses" in line for line in flag_lines(reasons))


def test_records_without_the_columns_flag_nothing():
    assert flagged_rows(pd.DataFrame({"model": ["a"], "fold": [1]})) == {}


def row(name, accuracy, latency, macro_f1, flagged=False, shown=True) -> Row:
    return Row(
        "alexa",
        name,
        accuracy,
        latency,
        10.0,
        "transformer",
        shown,
        scores={"macro_f1": macro_f1},
        flagged=flagged,
    )


def test_a_flagged_row_is_never_chosen_even_when_fastest_and_most_accurate():
    rows = [row("teacher", 0.93, 10.0, 0.77), row("cnn", 0.94, 1.0, 0.48, flagged=True)]
    assert choose(rows, "teacher", Rule(None, 1.0)).row == "teacher"


def test_auto_ranks_imbalanced_data_by_macro_f1_multilabel_by_micro_f1_and_else_by_accuracy():
    assert ranking_metric("auto", multilabel=False, imbalanced=True) == "macro_f1"
    assert ranking_metric("auto", multilabel=True, imbalanced=True) == "micro_f1"
    assert ranking_metric("auto", multilabel=False, imbalanced=False) == "accuracy"
    assert ranking_metric("accuracy", multilabel=False, imbalanced=True) == "accuracy"
    entries = {"teacher": {"accuracy_mean": 0.9, "macro_f1_mean": 0.7}, "majority_class": {"imbalanced": 1.0}}
    assert entries_metric("auto", entries) == "macro_f1"


def test_ranked_by_macro_f1_a_row_close_on_accuracy_but_far_on_macro_f1_is_not_chosen():
    rows = [row("teacher", 0.93, 10.0, 0.80), row("static", 0.925, 1.0, 0.50), row("tfidf", 0.90, 2.0, 0.795)]
    by_accuracy = choose(rows, "teacher", Rule(None, 1.0))
    by_macro = choose(rows, "teacher", Rule(None, 1.0, "macro_f1"), "macro_f1")
    assert by_accuracy.row == "static"
    assert by_macro.row == "tfidf" and by_macro.metric == "macro_f1" and by_macro.accuracy == 0.795
    assert "macro-F1" in by_macro.reason
