"""The Pareto front on hand-made tables (ties included) and its picture."""

from __future__ import annotations

import pandas as pd
import pytest

from distilbench.report.pareto import dominates, pareto_front, plot_pareto

ROWS = [  # model, accuracy, latency_ms, size_mb: on the front?
    ("teacher", 0.98, 40.0, 440.0, True),  # the most accurate
    ("student", 0.97, 20.0, 260.0, False),  # the 12 ms rows are as accurate and faster
    ("student-int8", 0.97, 12.0, 90.0, True),
    ("student-onnx", 0.97, 12.0, 260.0, True),  # ties student-int8 on both: neither dominates
    ("slow-worse", 0.96, 30.0, 200.0, False),  # student is better on both
    ("cnn", 0.90, 2.0, 10.0, True),  # the fastest
    ("cnn-copy-slower", 0.90, 3.0, 10.0, False),  # same accuracy as cnn, slower
    ("fast-equal-acc", 0.97, 12.0, 50.0, True),  # third tie
]


def table() -> pd.DataFrame:
    return pd.DataFrame(ROWS, columns=["model", "accuracy", "latency_ms", "size_mb", "expected"])


def test_dominance_needs_one_strict_improvement() -> None:
    a = {"accuracy": 0.9, "latency_ms": 10.0}
    assert not dominates(a, a)
    assert dominates({"accuracy": 0.9, "latency_ms": 9.0}, a)
    assert dominates({"accuracy": 0.91, "latency_ms": 10.0}, a)
    assert not dominates({"accuracy": 0.91, "latency_ms": 11.0}, a)


def test_front_of_a_table_with_ties() -> None:
    frame = table()
    marked = pareto_front(frame.drop(columns="expected").to_dict("records"))
    assert marked["pareto"].tolist() == frame["expected"].tolist()
    assert list(marked.columns) == ["model", "accuracy", "latency_ms", "size_mb", "pareto"]


def test_each_dataset_has_its_own_front() -> None:
    frame = pd.DataFrame(
        {
            "dataset": ["a", "a", "b", "b"],
            "model": ["big", "small", "big", "small"],
            "accuracy": [0.9, 0.8, 0.7, 0.6],
            "latency_ms": [10.0, 20.0, 10.0, 5.0],
            "size_mb": [100.0, 50.0, 100.0, 50.0],
        }
    )
    assert pareto_front(frame, by="dataset")["pareto"].tolist() == [True, False, True, True]
    # pooled, b's rows would all lose to a's big model
    assert pareto_front(frame)["pareto"].tolist() == [True, False, False, True]


def test_missing_columns_are_named() -> None:
    with pytest.raises(ValueError, match="needs columns latency_ms"):
        pareto_front([{"accuracy": 0.9}])


def test_plot_writes_a_png_per_dataset_panel(tmp_path) -> None:
    frame = pd.concat([table().assign(dataset="bbc"), table().assign(dataset="tweets")])
    path = plot_pareto(frame.drop(columns="expected"), tmp_path / "plots" / "pareto.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    single = plot_pareto(table().drop(columns="expected"), tmp_path / "one.png")  # no dataset column
    assert single.stat().st_size > 1000
