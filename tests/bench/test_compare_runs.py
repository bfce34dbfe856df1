"""bench/compare_runs.py: two runs' speed-up intervals side by side, and whether they overlap."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import compare_runs  # noqa: E402


def entry(gmean: float, low: float, high: float) -> dict:
    return {"latency_speedup_gmean": gmean, "latency_speedup_ci_low": low, "latency_speedup_ci_high": high}


def test_intervals_that_share_a_value_overlap_and_disjoint_ones_do_not(tmp_path, capsys):
    first = {"bbc": {"student": entry(1.8, 1.6, 2.0), "int8": entry(5.7, 4.8, 6.8), "teacher": {}}}
    second = {"bbc": {"student": entry(1.9, 1.7, 2.1), "int8": entry(8.0, 7.0, 9.0)}}
    paths = []
    for name, metrics in (("one.json", first), ("two.json", second)):
        (tmp_path / name).write_text(json.dumps(metrics))
        paths.append(str(tmp_path / name))
    assert compare_runs.main(paths) == 0
    out = capsys.readouterr().out
    assert "| bbc | student | batch-1 speed-up | 1.80× (1.60–2.00) | 1.90× (1.70–2.10) | yes |" in out
    assert "| bbc | int8 | batch-1 speed-up | 5.70× (4.80–6.80) | 8.00× (7.00–9.00) | NO |" in out
    assert "1 of 2 intervals overlap" in out
