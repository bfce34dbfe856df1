"""`compress: true` end to end: a student's int8 and ONNX variants become rows of the report, paired with
their fp32 source, on the Pareto front or not, and logged in the source fold's MLflow run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.end_to_end.conftest import Project, tiny_model

VARIANTS = ("torch-int8", "onnx-fp32", "onnx-int8")
FOLDS = 2


@pytest.fixture
def project(make_project, tiny_csv: Path) -> Project:
    return make_project(
        models=[
            tiny_model("teacher"),
            tiny_model("student", layers=[1], compress=True),
        ],
        folds=FOLDS,
    )


def test_compressed_variants_are_rows_paired_with_their_source_and_on_the_pareto_view(project):
    project.run(with_report=True)

    records = json.loads(Path(project.results).read_text())["folds"]
    variant_rows = [r for r in records if r.get("variant_of") == "student"]
    assert sorted((r["variant"], r["fold"]) for r in variant_rows) == sorted(
        (v, f) for v in VARIANTS for f in range(1, FOLDS + 1)
    )
    assert not any(r.get("variant_of") for r in records if r["model"] == "teacher")  # not asked for
    onnx_fp32 = [r for r in variant_rows if r["variant"] == "onnx-fp32"]
    # the same weights through ONNX Runtime: the same predictions, logits equal to float rounding
    assert all(r["agreement_with_fp32"] == 1.0 and r["max_abs_logit_diff"] < 1e-4 for r in onnx_fp32)

    metrics = json.loads((project.reports / "metrics.json").read_text())["tiny"]
    for variant in VARIANTS:
        row = metrics[f"student+{variant}"]
        assert 0.0 <= row["accuracy_mean"] <= 1.0
        assert row["latency_p50_ms"] > 0 and row["throughput_per_s"] > 0 and row["model_mb"] > 0
        # against its own source by McNemar on the pooled held-out examples, against the teacher by the t-test
        assert 0.0 < row["vs_fp32_mcnemar_p"] <= 1.0 and "vs_teacher_p_value" in row
        assert 0.0 <= row["vs_fp32_agreement"] <= 1.0
        assert "latency_speedup_gmean" in row
        assert row["pareto"] in (0.0, 1.0)
    assert metrics["student+onnx-int8"]["model_mb"] < metrics["student+onnx-fp32"]["model_mb"]
    assert sum(row.get("pareto", 0.0) for row in metrics.values()) >= 1  # someone is on the front

    table = (project.reports / "comparison.md").read_text()
    assert "| Pareto" in table and "Batch-1 speed-up" in table
    assert "Inference target" in table
    assert "Compressed variants against their own fp32 model" in table  # McNemar against the source
    assert "Where the batch-1 speed-up comes from" in table
    assert (project.reports / "pareto.png").stat().st_size > 0

    student_runs = [k for k in project.children() if k.data.tags["model"] == "student"]
    assert len(student_runs) == FOLDS
    assert all(f"{v}/accuracy" in k.data.metrics for k in student_runs for v in VARIANTS)
    parent = next(p for p in project.parents() if p.data.tags["model"] == "student")
    for variant in VARIANTS:  # the parent's summary, the report's number
        logged = parent.data.metrics[f"{variant}/accuracy"]
        assert logged == pytest.approx(metrics[f"student+{variant}"]["accuracy_mean"], abs=1e-4)
