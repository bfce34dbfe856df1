"""bench/fold_seconds.py: the median fold's seconds per dataset, model and repeat, before against after."""

from __future__ import annotations

import json

from bench import fold_seconds


def fold(model: str, repeat: int, start: int, wall: float, train: float, export: float = 0.0) -> dict:
    return {
        "dataset": "d",
        "model": model,
        "repeat": repeat,
        "started_ms": start,
        "finished_ms": start + int(wall * 1000),
        "train_seconds": train,
        "eval_seconds": 1.0,
        "export_seconds": export,
    }


BEFORE = {
    "folds": [fold("t", 1, 0, 10, 6, 2), fold("t", 1, 10_000, 12, 8, 2), fold("t", 1, 22_000, 30, 9, 2)]
}
AFTER = {"folds": [fold("t", 1, 0, 8, 5), fold("t", 2, 8_000, 6, 5), fold("s", 2, 14_000, 3, 2)]}


def test_medians_per_row_and_repeat_and_the_table_reads_before_to_after(tmp_path, capsys):
    assert fold_seconds.medians(BEFORE)["d", "t", 1] == {
        "wall": 12.0,
        "train_seconds": 8.0,
        "eval_seconds": 1.0,
        "export_seconds": 2.0,
        "folds": 3,
    }
    paths = []
    for name, results in (("before", BEFORE), ("after", AFTER)):
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(results))
    fold_seconds.main(["--before", str(paths[0]), "--after", str(paths[1])])
    out = capsys.readouterr().out
    cells = ["3 → 1", "12.0 → 8.0 (0.67×)", "8.0 → 5.0 (0.62×)", "1.0 → 1.0 (1.00×)", "2.0 → 0.0 (0.00×)"]
    assert f"| d | t | 1 | {' | '.join(cells)} |" in out
    assert "| d | s | 2 | 0 → 1 | — → 3.0 |" in out
    assert "fold section (first fold's start to last fold's end): 52 s → 17 s (0.33×)" in out
