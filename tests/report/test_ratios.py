"""Speed and time against the teacher as per-fold paired ratios: geometric mean and 95% CI by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from distilbench.report.ratios import (
    OWN_TIME,
    SPEED_UP_BATCH_1,
    SPEED_UP_BATCH_32,
    geometric_ratio,
    paired_ratio,
    ratio_metrics,
    ratio_rows,
    ratio_section,
)

T_975_DF1 = 12.706204736  # Student's t, 97.5%, 1 degree of freedom (tables)


def test_the_geometric_mean_and_its_interval_by_hand():
    # logs ln 2 and ln 8: mean ln 4, sample sd ln 8 − ln 4 over √2 ... = √2 · ln 2, standard error ln 2
    r = geometric_ratio([2.0, 8.0])
    assert r.mean == pytest.approx(4.0)
    assert r.low == pytest.approx(4 * 2**-T_975_DF1, rel=1e-6)
    assert r.high == pytest.approx(4 * 2**T_975_DF1, rel=1e-6)
    one = geometric_ratio([3.0])
    assert (one.mean, one.low, one.high, one.folds) == pytest.approx((3.0, 3.0, 3.0, 1))


def folds() -> pd.DataFrame:
    """Two folds; the teacher's batch-1 latency drifts from 10 to 20 ms, the student's stays 5 ms."""
    rows = [
        ("teacher", 1, 10.0, 100.0, 50.0),
        ("teacher", 2, 20.0, 100.0, 60.0),
        ("student", 1, 5.0, 300.0, 25.0),
        ("student", 2, 5.0, 200.0, 30.0),
        ("cnn", 1, 1.0, float("nan"), 5.0),  # a fold without a throughput figure is left out of that ratio
        ("cnn", 2, 2.0, 1000.0, 6.0),
    ]
    columns = ["model", "fold", "latency_p50_ms", "throughput_per_s", "train_eval_seconds"]
    return pd.DataFrame(rows, columns=columns).assign(repeat=1)


def test_each_fold_is_paired_with_the_teachers_same_fold():
    frame = folds()
    assert paired_ratio(frame, "student", "teacher", SPEED_UP_BATCH_1).mean == pytest.approx(math.sqrt(2 * 4))
    assert paired_ratio(frame, "student", "teacher", SPEED_UP_BATCH_32).mean == pytest.approx(
        math.sqrt(3 * 2)
    )
    time = paired_ratio(frame, "student", "teacher", OWN_TIME)
    assert (time.mean, time.low, time.high) == pytest.approx((0.5, 0.5, 0.5))  # half the time on both folds
    cnn = paired_ratio(frame, "cnn", "teacher", SPEED_UP_BATCH_32)
    assert (cnn.mean, cnn.folds) == (pytest.approx(10.0), 1)
    assert paired_ratio(frame, "absent", "teacher", OWN_TIME) is None


def test_the_section_says_time_saved_with_its_interval_flipped_and_metrics_keep_the_numbers():
    rows = ratio_rows(folds(), ["teacher", "student", "cnn"], "teacher")
    assert set(rows) == {"student", "cnn"}
    table = "\n".join(ratio_section(rows, "teacher"))
    assert "| 50.0% (50.0 to 50.0)" in table and "2.83× (" in table
    metrics = ratio_metrics(rows)
    assert metrics["student"]["latency_speedup_gmean"] == pytest.approx(math.sqrt(8))
    assert metrics["student"]["time_ratio_ci_low"] == pytest.approx(0.5)
