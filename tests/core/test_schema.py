"""The results schema: one owner of every field's name, title and format, readable without a model library."""

from __future__ import annotations

import subprocess
import sys

from distilbench.core.schema import (
    FOLD_METRICS,
    LATENCY_COLUMN,
    NONE,
    PARAMS_COLUMN,
    PARETO_COLUMN,
    TIME_SAVED_COLUMN,
    mean_key,
    score_column,
    table_columns,
)


def test_the_schema_imports_neither_torch_nor_pandas():
    code = "import sys, distilbench.core.schema; print(sorted({'torch', 'pandas'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_cells_read_as_the_report_always_wrote_them():
    assert score_column("accuracy").cell(0.91234, 0.01) == "0.9123 ± 0.0100"
    assert PARAMS_COLUMN.cell(22_713_216) == "22.7"
    assert TIME_SAVED_COLUMN.cell(41.26) == "41.3%"
    assert LATENCY_COLUMN.cell(3.04, float("nan")) == f"3.0 / {NONE}"
    assert TIME_SAVED_COLUMN.cell(float("nan")) is None  # a table shows it as NONE
    assert (PARETO_COLUMN.cell(True), PARETO_COLUMN.cell(False)) == ("✓", "")


def test_every_score_column_of_the_table_is_a_summarised_metric_with_a_title():
    summarised = {m.summary for m in FOLD_METRICS if m.summary}
    for multilabel in (False, True):
        scores = [c for c in table_columns(multilabel) if c.join == " ± "]
        assert scores and all(c.keys[0] in summarised and c.title for c in scores)
    assert [c.title for c in table_columns(False) if c.join == " ± "] == ["Accuracy", "Macro-F1"]
    assert mean_key("accuracy") in summarised
