"""The report's deployment view on a hand-made summary: Pareto marks, batch-1 speed-up."""

from __future__ import annotations

import math

import pandas as pd

from distilbench.config.settings import ModelSpec
from distilbench.report.variants import with_pareto, with_variant_specs


def summary(rows: list[tuple[str, str | None, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "dataset": "d",
                "model": m,
                "variant": v,
                "accuracy_mean": a,
                "latency_p50_ms": ms,
                "model_mb": 10.0,
            }
            for m, v, a, ms in rows
        ]
    )


ROWS = [
    ("teacher", None, 0.960, 12.0),
    ("student", None, 0.959, 6.0),
    ("student+onnx-int8", "onnx-int8", 0.957, 2.0),  # 6x the teacher, -0.3 points
    ("student+torch-int8", "torch-int8", 0.950, 5.0),  # dominated by onnx-int8
    ("cnn", None, 0.940, 1.5),
]


def test_pareto_marks_and_batch1_speedup():
    marked = with_pareto(summary(ROWS), "teacher").set_index("model")
    assert marked["pareto"].to_dict() == {
        "teacher": True,
        "student": True,
        "student+onnx-int8": True,
        "student+torch-int8": False,
        "cnn": True,
    }
    assert marked.loc["student+onnx-int8", "latency_speedup_vs_teacher"] == 6.0
    assert marked.loc["teacher", "latency_speedup_vs_teacher"] == 1.0


def test_a_row_without_latency_is_never_on_the_front():
    rows = [*ROWS, ("old", None, 0.99, math.nan)]
    marked = with_pareto(summary(rows), "teacher").set_index("model")
    assert not marked.loc["old", "pareto"]
    assert marked.loc["teacher", "pareto"]  # the untimed, more accurate row dominates no one


def test_variant_specs_follow_their_source_in_the_fixed_order():
    specs = [ModelSpec(name="teacher", kind="transformer"), ModelSpec(name="s", kind="transformer")]
    folds = pd.DataFrame(
        {
            "model": ["teacher", "s", "s+onnx-int8", "s+torch-int8"],
            "variant_of": [None, None, "s", "s"],
            "variant": [None, None, "onnx-int8", "torch-int8"],
        }
    )
    rows = with_variant_specs(specs, folds)
    assert [s.name for s in rows] == ["teacher", "s", "s+torch-int8", "s+onnx-int8"]
    assert [s.variant_of for s in rows] == [None, None, "s", "s"]
