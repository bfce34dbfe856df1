"""Choosing the champion row from a hand-made report table: the rule, ties, names and refusals."""

from __future__ import annotations

import math

import pytest

from distilbench.core.errors import ConfigError, DataError
from distilbench.report.choice import NONINFERIOR_KEY, Choice, Row, Rule, choose, rows_of
from distilbench.report.majority import BASELINE_KEY

RULE = Rule(model=None, max_accuracy_drop=1.0)


def row(
    name: str,
    accuracy: float,
    latency: float,
    mb: float = 10.0,
    kind: str = "transformer",
    shown: bool = False,
) -> Row:
    return Row("bbc", name, accuracy, latency, mb, kind, shown)


TABLE = [
    row("teacher", 0.960, 13.0, 90),
    row("student", 0.955, 6.7, 69),
    row("student+onnx-int8", 0.951, 3.1, 18),  # fastest and within 1 point (0.950 floor)
    row("student+torch-int8", 0.930, 2.0, 20),  # faster still, but 3 points down
    row("cnn", 0.959, 0.5, 5, kind="cnn"),  # the fastest of all, but cannot be served
]


def test_the_fastest_row_within_the_tolerance_wins():
    choice = choose(TABLE, "teacher", RULE)
    assert (choice.row, choice.model, choice.variant) == ("student+onnx-int8", "student", "onnx-int8")
    assert choice.teacher_accuracy == 0.960 and choice.accuracy == 0.951
    assert "within 1 accuracy point of the teacher teacher" in choice.reason


def test_a_wider_tolerance_admits_the_less_accurate_faster_row():
    assert choose(TABLE, "teacher", Rule(None, 3.0)).row == "student+torch-int8"


def test_the_teacher_qualifies_when_nothing_else_is_close_enough():
    table = [row("teacher", 0.96, 13.0), row("student", 0.90, 6.0), row("student+onnx-int8", 0.80, 3.0)]
    choice = choose(table, "teacher", Rule(None, 0.0))
    assert (choice.row, choice.variant) == ("teacher", "torch-fp32")


def test_a_teacher_without_a_latency_still_qualifies():
    table = [row("teacher", 0.96, math.nan), row("student", 0.90, 6.0)]
    assert choose(table, "teacher", Rule(None, 1.0)).row == "teacher"


def test_a_latency_tie_goes_to_the_more_accurate_then_the_smaller_row():
    table = [row("teacher", 0.96, 13.0), row("a", 0.955, 5.0, 50), row("b", 0.958, 5.0, 60)]
    assert choose(table, "teacher", RULE).row == "b"
    table = [row("teacher", 0.96, 13.0), row("a", 0.958, 5.0, 50), row("b", 0.958, 5.0, 40)]
    assert choose(table, "teacher", RULE).row == "b"


def test_a_named_row_wins_over_the_rule():
    choice = choose(TABLE, "teacher", Rule("student+torch-int8", 1.0))
    assert choice == Choice(
        "bbc", "student+torch-int8", "student", "torch-int8", "transformer", choice.reason, 0.930, 2.0, 0.960
    )
    assert "select.model" in choice.reason


def test_an_unknown_name_lists_the_rows_that_can_be_chosen():
    with pytest.raises(ConfigError) as caught:
        choose(TABLE, "teacher", Rule("studnet", 1.0))
    message = str(caught.value)
    assert message.startswith("select.model: 'studnet' is not a row of the report; choose one of [")
    assert "'student+onnx-int8'" in message and "'cnn'" not in message


def test_the_cnn_is_refused_by_name_with_the_reason():
    with pytest.raises(ConfigError, match=r"select.model: 'cnn' is the text CNN, which .* cannot serve"):
        choose(TABLE, "teacher", Rule("cnn", 1.0))


def test_a_table_without_the_teacher_is_a_data_error():
    with pytest.raises(DataError, match="no row for the teacher 'teacher'"):
        choose(TABLE[1:], "teacher", RULE)


def test_rows_of_metrics_json_skip_the_baseline_and_non_rows_and_mark_the_cnn():
    metrics = {
        "bbc": {
            "teacher": {"accuracy_mean": 0.96, "latency_p50_ms": 13.0, "model_mb": 90.0},
            "student+onnx-int8": {
                "accuracy_mean": 0.95,
                "latency_p50_ms": 3.0,
                "model_mb": 18.0,
                "pareto": 1,
            },
            "cnn": {"accuracy_mean": 0.94, "latency_p50_ms": 0.4, "model_mb": 5.0},
            BASELINE_KEY: {"accuracy_mean": 0.23, "accuracy_std": 0.0},
            "notes": "not a row",
        }
    }
    rows = rows_of(metrics, {"cnn": "cnn", "student": "transformer"})["bbc"]
    assert [(r.name, r.servable) for r in rows] == [
        ("teacher", True),
        ("student+onnx-int8", True),
        ("cnn", False),
    ]
    assert rows[1].latency_ms == 3.0 and rows[1].model_mb == 18.0
    assert choose(rows, "teacher", RULE).row == "student+onnx-int8"  # the faster CNN is not servable


def test_a_linear_or_static_row_wins_when_it_is_the_fastest_close_enough_and_is_named_so():
    table = [*TABLE, row("tfidf", 0.979, 0.9, 12, kind="linear"), row("m2v", 0.958, 0.3, 8, kind="static")]
    choice = choose(table, "teacher", RULE)
    assert (choice.row, choice.kind, choice.variant) == ("m2v", "static", "torch-fp32")
    assert (
        "a static-embedding model, of the 5 whose mean accuracy is within 1 accuracy point" in choice.reason
    )
    assert (
        "these folds show no row not worse by 1 accuracy point, so the mean alone decided it" in choice.reason
    )
    wider_gap = [*TABLE, row("tfidf", 0.979, 0.9, 12, kind="linear"), row("m2v", 0.90, 0.3, 8, kind="static")]
    assert choose(wider_gap, "teacher", RULE).row == "tfidf"  # 6 points down: not a candidate


def test_rows_shown_not_worse_than_the_teacher_are_chosen_before_rows_merely_close_on_the_mean():
    # student+onnx-int8 is faster and within the margin on its mean, but only the student was shown
    # not worse by 1 point by the report's one-sided test
    table = [*TABLE[:1], row("student", 0.955, 6.7, 69, shown=True), *TABLE[2:]]
    choice = choose(table, "teacher", RULE)
    assert choice.row == "student"
    assert "of the 2 shown not worse than the teacher teacher by 1 accuracy point or more" in choice.reason
    assert "(one-sided test at 5%: a primary question, Holm among the secondaries" in choice.reason


def test_rows_of_metrics_json_read_the_reports_non_inferiority():
    metrics = {
        "bbc": {
            "teacher": {"accuracy_mean": 0.96, "latency_p50_ms": 13.0, "model_mb": 90.0},
            "student": {"accuracy_mean": 0.95, "latency_p50_ms": 6.0, "model_mb": 69.0, NONINFERIOR_KEY: 1.0},
            "fast": {"accuracy_mean": 0.955, "latency_p50_ms": 3.0, "model_mb": 18.0, NONINFERIOR_KEY: 0.0},
        }
    }
    rows = rows_of(metrics)["bbc"]
    assert [r.noninferior for r in rows] == [False, True, False]
    assert choose(rows, "teacher", RULE).row == "student"


def timed_row(name: str, accuracy: float, latencies: list[float], cost: float, mb: float = 10.0) -> Row:
    """A row shown non-inferior, with its batch-1 p50 on each of three folds and its training cost."""
    by_fold = {f"1.{fold}": ms for fold, ms in enumerate(latencies, start=1)}
    mean = sum(latencies) / len(latencies)
    return Row("bbc", name, accuracy, mean, mb, "transformer", True, cost, by_fold)


def test_latencies_the_folds_cannot_tell_apart_tie_and_the_cheaper_to_train_wins():
    # the champion of 2026-12-04: 2.17 vs 2.21 ms on the mean, but fold by fold either can be faster
    # (per-fold ratios 0.90, 1.10, 0.98: the 95% CI holds 1), and the faster on the mean cost 3.3x to train
    table = [
        timed_row("teacher", 0.958, [13.0, 14.0, 13.5], 60.0, 90),
        timed_row("distilled+onnx-int8", 0.958, [2.00, 2.30, 2.21], 98.0, 17),
        timed_row("student+onnx-int8", 0.958, [2.22, 2.09, 2.25], 30.0, 17),
    ]
    choice = choose(table, "teacher", RULE)
    assert choice.row == "student+onnx-int8"
    assert "cannot tell its batch-1 latency from distilled+onnx-int8" in choice.reason
    assert "broken by end-to-end training seconds, then size" in choice.reason


def test_a_row_faster_on_every_fold_wins_however_much_it_cost_to_train():
    table = [
        timed_row("teacher", 0.958, [13.0, 14.0, 13.5], 60.0),
        timed_row("fast", 0.958, [2.00, 2.05, 2.10], 98.0),  # 10% faster on each fold: CI 0.89-0.92
        timed_row("cheap", 0.958, [2.22, 2.27, 2.31], 30.0),
    ]
    choice = choose(table, "teacher", RULE)
    assert choice.row == "fast" and "tie" not in choice.reason


def test_a_cost_tie_goes_to_the_smaller_row():
    table = [
        timed_row("teacher", 0.958, [13.0, 14.0, 13.5], 60.0),
        timed_row("big", 0.958, [2.0, 2.3, 2.2], 30.0, mb=69),
        timed_row("small", 0.958, [2.2, 2.1, 2.2], 30.0, mb=17),
    ]
    assert choose(table, "teacher", RULE).row == "small"


def test_the_rule_reads_fold_latencies_and_training_cost_from_metrics_json():
    metrics = {
        "bbc": {
            "teacher": {"accuracy_mean": 0.96, "latency_p50_ms": 13.0, "model_mb": 90.0},
            "student": {
                "accuracy_mean": 0.955,
                "latency_p50_ms": 6.0,
                "model_mb": 69.0,
                "end_to_end_seconds_per_fold": 32.5,
                "latency_p50_ms_by_fold": {"1.1": 5.9, "1.2": 6.1},
            },
        }
    }
    student = next(r for r in rows_of(metrics)["bbc"] if r.name == "student")
    assert student.end_to_end_seconds == 32.5 and student.fold_latencies == {"1.1": 5.9, "1.2": 6.1}
