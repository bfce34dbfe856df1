"""The per-fold metric table is the single source of the names: the results file's columns, each fold run's
MLflow metrics, the report's summary columns and each parent run's metrics all come from FOLD_METRICS."""

from __future__ import annotations

import dataclasses

from distilbench.core import schema
from distilbench.core.schema import FOLD_METRICS, FoldMetric
from distilbench.crossval.mlflow_runs import fold_metrics
from distilbench.crossval.records import fold_record, fold_records, measured
from distilbench.crossval.summary import fold_frame, run_metrics, summarize_models
from distilbench.crossval.variants import VariantResult
from distilbench.training.inference_speed import SpeedResult
from tests.results import fold_result

SPEED = SpeedResult(latency_p50_ms=2.0, latency_p95_ms=3.0, throughput_per_s=400.0, threads=1)
INT8 = VariantResult("torch-int8", {"accuracy": 0.8, "macro_f1": 0.7}, 0.5, 0.2, 1.0, 0.9, 0.1, speed=SPEED)


def folds(m: int, model: str) -> list:
    return [fold_result(model=model, fold=f, m=m, speed=SPEED, variants=(INT8,)) for f in (1, 2)]


def study() -> list:
    return folds(0, "teacher") + folds(1, "student")


def summary_row(results: list, model: str) -> dict:
    frame = summarize_models(
        fold_frame([r for f in results for r in fold_records(f)]), "teacher", ["teacher"]
    )
    return frame[frame["model"] == model].iloc[0].to_dict()


def multiclass_keys() -> set[str]:
    return {m.key for m in FOLD_METRICS if m.key not in ("micro_f1", "hamming_loss")}


def test_every_per_fold_metric_is_a_results_column_and_a_fold_run_metric_under_its_key():
    result = study()[0]
    assert set(measured(result)) == multiclass_keys()
    assert multiclass_keys() <= set(fold_record(result))
    assert multiclass_keys() <= set(fold_metrics(result))
    assert fold_record(result)["latency_p95_ms"] == fold_metrics(result)["latency_p95_ms"] == 3.0
    variant_keys = {k.split("/", 1)[1] for k in fold_metrics(result) if k.startswith("torch-int8/")}
    assert variant_keys == {m.key for m in FOLD_METRICS if m.variants} | {"agreement_with_fp32"}


def test_every_summarised_metric_is_a_summary_column_and_its_parent_run_mean_under_its_key():
    results = study()
    row = summary_row(results, "student")
    parent = run_metrics(row)
    for m in FOLD_METRICS:
        if m.summary and m.key in multiclass_keys():
            assert m.summary in row, m.key
            assert parent[m.key] == row[m.summary], m.key
            assert (f"{m.key}_std" in parent) == m.std == (f"{m.key}_std" in row), m.key
            if m.total:
                assert parent[f"{m.key}_total"] == row[m.total]
    assert parent["train_eval_seconds"] == results[2].train_eval_seconds  # both student folds take as long


def test_adding_a_per_fold_metric_is_one_row_of_the_table(monkeypatch):
    """`best_epoch` stands in for a new FoldResult field: one FoldMetric, and every output has it."""
    table = (*FOLD_METRICS, FoldMetric("best_epoch", "best_epoch_mean", std=True, variants=True))
    monkeypatch.setattr(schema, "FOLD_METRICS", table)
    results = [dataclasses.replace(r, best_epoch=r.fold) for r in study()]
    assert fold_record(results[0])["best_epoch"] == 1
    assert fold_metrics(results[1])["best_epoch"] == 2
    row = summary_row(results, "teacher")
    assert row["best_epoch_mean"] == 1.5
    assert run_metrics(row)["best_epoch"] == 1.5 and "best_epoch_std" in run_metrics(row)
