"""The per-fold metrics, in one table, and their summary per dataset × model: what crossval logs to MLflow
and what the report lays out are computed here, once.

Adding a per-fold metric: give :class:`distilbench.crossval.fold.FoldResult` (or the
:class:`~distilbench.training.inference_speed.SpeedResult` it embeds) the field, and add one row to
:data:`FOLD_METRICS`. Its key is then its column in results/crossval.json, its metric in each fold's MLflow
run, and its parent run's mean; `summary` names the report's column for that mean.

Torch-free: the report reads this without loading a model library.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from distilbench.config.settings import ModelSpec


@dataclass(frozen=True)
class FoldMetric:
    key: str  # a fold's value: results file column, fold run metric, parent run mean
    summary: str | None = None  # the column of its mean over folds in the summary (None: fold runs only)
    std: bool = False  # also its spread over folds, `<key>_std` in the summary and the parent run
    total: str | None = None  # also its sum over folds in the summary; `<key>_total` in the parent run
    variants: bool = False  # a compressed variant's is logged in its source fold's run as <variant>/<key>


# the order is the summary's (comparison.csv) column order
FOLD_METRICS = (
    FoldMetric("model_mb", "model_mb", variants=True),
    FoldMetric("train_eval_seconds", "seconds_per_fold", total="seconds_total"),
    FoldMetric("examples_per_second", "examples_per_second"),
    FoldMetric("latency_p50_ms", "latency_p50_ms", variants=True),  # warm batch-1 latency (inference_speed)
    FoldMetric("latency_p95_ms", "latency_p95_ms", variants=True),
    FoldMetric("throughput_per_s", "throughput_per_s", variants=True),  # warm batch-32 examples per second
    # scores: accuracy, macro_f1, and for multilabel also micro_f1 and hamming_loss (training.evaluation)
    FoldMetric("accuracy", "accuracy_mean", std=True, variants=True),
    FoldMetric("micro_f1", "micro_f1_mean", std=True),
    FoldMetric("macro_f1", "macro_f1_mean", std=True, variants=True),
    FoldMetric("hamming_loss", "hamming_loss_mean", std=True),
    FoldMetric("train_seconds"),
    FoldMetric("eval_seconds"),
    # a teacher's extra work for its students: logits on the training split and saving the fold model
    FoldMetric("export_seconds"),
)
VARIANT_METRICS = tuple(m.key for m in FOLD_METRICS if m.variants)

# results/crossval.json's layout: a file of another version is refused with "rerun crossval"
RESULTS_VERSION = 2


def model_specs(records: list[dict]) -> list[ModelSpec]:
    """The results file's `models` typed again (JSON gave its tuples back as lists)."""
    return [ModelSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in r.items()}) for r in records]


def saved_pct(value, of):
    """% saved against the teacher's `of` (time, size); works on numbers and on columns alike."""
    return 100 * (1 - value / of)


def retained_pct(value, of):
    return 100 * value / of


def fold_frame(records: list[dict]) -> pd.DataFrame:
    """One row per dataset × model × repeat × fold: the results file's fold records as columns."""
    return pd.DataFrame(records).astype({"repeat": int})


def with_end_to_end(folds: pd.DataFrame, distil_from: Mapping[str, str]) -> pd.DataFrame:
    """`end_to_end_seconds`: a distilled fold's own train+eval plus what its fold teacher spent to make it
    possible (training and exporting logits and model) on the same repeat and fold; own time otherwise."""
    key = [folds[k] for k in ("dataset", "repeat", "fold")]
    cost = pd.Series(
        (folds["train_seconds"] + folds["export_seconds"]).to_numpy(),
        index=pd.MultiIndex.from_arrays([*key, folds["model"]]),
    )
    teacher = folds["model"].map(distil_from)
    teacher_cost = cost.reindex(pd.MultiIndex.from_arrays([*key, teacher])).to_numpy()
    # a distilled fold without its teacher fold has no end-to-end time (NaN), rather than a flattering one
    extra = pd.Series(teacher_cost, index=folds.index).where(teacher.notna(), 0.0)
    return folds.assign(end_to_end_seconds=folds["train_eval_seconds"] + extra)


def std_over_folds(values: pd.Series) -> float:
    """The sample spread over folds; 0 for a single fold (a hold-out split)."""
    return values.std(ddof=1) if len(values) > 1 else 0.0


def _aggregations(folds: pd.DataFrame, end_to_end: bool) -> dict:
    """The summary's columns from FOLD_METRICS: means (and totals) first, then scores' means, then spreads."""
    present = [m for m in FOLD_METRICS if m.summary and m.key in folds.columns]
    out = {}
    for m in (m for m in present if not m.std):
        out[m.summary] = (m.key, "mean")
        if m.total:
            out[m.total] = (m.key, "sum")
            if end_to_end:
                out["end_to_end_seconds_per_fold"] = ("end_to_end_seconds", "mean")
    out |= {m.summary: (m.key, "mean") for m in present if m.std}
    out |= {f"{m.key}_std": (m.key, std_over_folds) for m in present if m.std}
    return out


def summarize_models(
    folds: pd.DataFrame,
    teacher: str,
    model_order: list[str],
    distil_from: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Per dataset × model: mean ± std over all repeats × folds, and what each model saves against the
    teacher. With `distil_from` (model -> its teacher) also the end-to-end cost of distillation."""
    if distil_from is not None:
        folds = with_end_to_end(folds, distil_from)
    agg = (
        folds.groupby(["dataset", "model"])
        .agg(
            task=("task", "first"),
            folds=("fold", "count"),
            repeats=("repeat", "nunique"),
            parameters=("parameters", "first"),
            **_aggregations(folds, distil_from is not None),
        )
        .reset_index()
    )
    agg = agg.merge(_teacher_reference(agg, teacher), on="dataset", how="left")
    agg["time_saved_pct"] = saved_pct(agg["seconds_per_fold"], agg["teacher_seconds"])
    if distil_from is not None:
        # what it took to get this model (its teacher included) against what the teacher alone took
        end_to_end = agg["end_to_end_seconds_per_fold"]
        agg["end_to_end_time_saved_pct"] = saved_pct(end_to_end, agg["teacher_seconds"])
    agg["size_saved_pct"] = saved_pct(agg["model_mb"], agg["teacher_mb"])
    agg["accuracy_retained_pct"] = retained_pct(agg["accuracy_mean"], agg["teacher_accuracy"])
    agg["speedup_vs_teacher"] = agg["examples_per_second"] / agg["teacher_examples_per_second"]
    agg["throughput_speedup_vs_teacher"] = agg["throughput_per_s"] / agg["teacher_throughput_per_s"]
    agg["order"] = agg["model"].map({m: i for i, m in enumerate(model_order)})
    return agg.sort_values(["dataset", "order"]).drop(columns="order").reset_index(drop=True)


def _teacher_reference(agg: pd.DataFrame, teacher: str) -> pd.DataFrame:
    columns = ["seconds_per_fold", "model_mb", "accuracy_mean", "examples_per_second", "throughput_per_s"]
    base = agg[agg["model"] == teacher][["dataset", *columns]]
    return base.rename(
        columns={
            "seconds_per_fold": "teacher_seconds",
            "model_mb": "teacher_mb",
            "accuracy_mean": "teacher_accuracy",
            "examples_per_second": "teacher_examples_per_second",
            "throughput_per_s": "teacher_throughput_per_s",
        }
    )


# counts describe the run rather than measure it: MLflow params, not metrics
NOT_METRICS = ("folds", "repeats", "parameters")


def run_metrics(row: Mapping[str, object]) -> dict[str, float]:
    """A summary row as its parent run's metrics: each per-fold metric's mean under the fold runs' key
    (`<key>_std`, `<key>_total` beside it), so parent and children share a column in MLflow's runs table;
    the summary's other numbers (savings, speed-ups, end-to-end) under their own names."""
    out = {}
    own = set(NOT_METRICS)
    for m in FOLD_METRICS:
        if m.summary:
            own |= {m.summary, f"{m.key}_std", m.total}
            out[m.key] = row.get(m.summary)
            out[f"{m.key}_std"] = row.get(f"{m.key}_std") if m.std else None
            out[f"{m.key}_total"] = row.get(m.total) if m.total else None
    out |= {
        k: v
        for k, v in row.items()
        if k not in own and not k.startswith("teacher_") and isinstance(v, numbers.Real)
    }
    return {k: float(v) for k, v in out.items() if v is not None and not math.isnan(v)}
