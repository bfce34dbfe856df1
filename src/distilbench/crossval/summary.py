"""The per-model summary of the per-fold records (mean ± std over repeats × folds, savings against the
teacher): what crossval logs on each parent run and what the report lays out, computed here, once.

The names of every column come from :mod:`distilbench.core.schema`; this module only computes. It is not
part of the fold code (crossval.fold does not import it): editing a summary keeps every cached fold.

Torch-free: the report reads this without loading a model library.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import pandas as pd

from distilbench.config.settings import ModelSpec
from distilbench.core import schema
from distilbench.core.schema import (
    ACCURACY_MEAN,
    ACCURACY_RETAINED,
    END_TO_END_PER_FOLD,
    END_TO_END_SECONDS,
    END_TO_END_TIME_SAVED,
    EXAMPLES_PER_SECOND,
    EXPORT_SECONDS,
    MODEL_MB,
    PARAMETERS,
    SECONDS_PER_FOLD,
    SIZE_SAVED,
    SPEEDUP,
    THROUGHPUT,
    THROUGHPUT_SPEEDUP,
    TIME_SAVED,
    TRAIN_EVAL_SECONDS,
    TRAIN_SECONDS,
    std_key,
)


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
        (folds[TRAIN_SECONDS] + folds[EXPORT_SECONDS]).to_numpy(),
        index=pd.MultiIndex.from_arrays([*key, folds["model"]]),
    )
    teacher = folds["model"].map(distil_from)
    teacher_cost = cost.reindex(pd.MultiIndex.from_arrays([*key, teacher])).to_numpy()
    # a distilled fold without its teacher fold has no end-to-end time (NaN), rather than a flattering one
    extra = pd.Series(teacher_cost, index=folds.index).where(teacher.notna(), 0.0)
    return folds.assign(**{END_TO_END_SECONDS: folds[TRAIN_EVAL_SECONDS] + extra})


def std_over_folds(values: pd.Series) -> float:
    """The sample spread over folds; 0 for a single fold (a hold-out split)."""
    return values.std(ddof=1) if len(values) > 1 else 0.0


def _aggregations(folds: pd.DataFrame, end_to_end: bool) -> dict:
    """The summary's columns from FOLD_METRICS: means (and totals) first, then scores' means, then spreads."""
    # read through the module: a test adds a metric by patching schema.FOLD_METRICS alone
    present = [m for m in schema.FOLD_METRICS if m.summary and m.key in folds.columns]
    out = {}
    for m in (m for m in present if not m.std):
        out[m.summary] = (m.key, "mean")
        if m.total:
            out[m.total] = (m.key, "sum")
            if end_to_end:
                out[END_TO_END_PER_FOLD] = (END_TO_END_SECONDS, "mean")
    out |= {m.summary: (m.key, "mean") for m in present if m.std}
    out |= {std_key(m.key): (m.key, std_over_folds) for m in present if m.std}
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
            **{PARAMETERS: (PARAMETERS, "first")},
            **_aggregations(folds, distil_from is not None),
        )
        .reset_index()
    )
    agg = agg.merge(_teacher_reference(agg, teacher), on="dataset", how="left")
    agg[TIME_SAVED] = saved_pct(agg[SECONDS_PER_FOLD], agg[teacher_of(SECONDS_PER_FOLD)])
    if distil_from is not None:
        # what it took to get this model (its teacher included) against what the teacher alone took
        end_to_end = agg[END_TO_END_PER_FOLD]
        agg[END_TO_END_TIME_SAVED] = saved_pct(end_to_end, agg[teacher_of(SECONDS_PER_FOLD)])
    agg[SIZE_SAVED] = saved_pct(agg[MODEL_MB], agg[teacher_of(MODEL_MB)])
    agg[ACCURACY_RETAINED] = retained_pct(agg[ACCURACY_MEAN], agg[teacher_of(ACCURACY_MEAN)])
    agg[SPEEDUP] = agg[EXAMPLES_PER_SECOND] / agg[teacher_of(EXAMPLES_PER_SECOND)]
    agg[THROUGHPUT_SPEEDUP] = agg[THROUGHPUT] / agg[teacher_of(THROUGHPUT)]
    agg["order"] = agg["model"].map({m: i for i, m in enumerate(model_order)})
    return agg.sort_values(["dataset", "order"]).drop(columns="order").reset_index(drop=True)


# what each row is set against: the teacher's own value on the same dataset, in a working column of the
# summary (comparison.csv keeps them; the parent runs and metrics.json leave `teacher_*` out)
TEACHER_REFERENCE = {
    SECONDS_PER_FOLD: "teacher_seconds",
    MODEL_MB: "teacher_mb",
    ACCURACY_MEAN: "teacher_accuracy",
    EXAMPLES_PER_SECOND: "teacher_examples_per_second",
    THROUGHPUT: "teacher_throughput_per_s",
}


def teacher_of(column: str) -> str:
    return TEACHER_REFERENCE[column]


def _teacher_reference(agg: pd.DataFrame, teacher: str) -> pd.DataFrame:
    base = agg[agg["model"] == teacher][["dataset", *TEACHER_REFERENCE]]
    return base.rename(columns=TEACHER_REFERENCE)


# counts describe the run rather than measure it: MLflow params, not metrics
NOT_METRICS = ("folds", "repeats", PARAMETERS)


def run_metrics(row: Mapping[str, object]) -> dict[str, float]:
    """A summary row as its parent run's metrics: each per-fold metric's mean under the fold runs' key
    (`<key>_std`, `<key>_total` beside it), so parent and children share a column in MLflow's runs table;
    the summary's other numbers (savings, speed-ups, end-to-end) under their own names."""
    out = {}
    own = set(NOT_METRICS)
    for m in schema.FOLD_METRICS:
        if m.summary:
            own |= {m.summary, std_key(m.key), m.total}
            out[m.key] = row.get(m.summary)
            out[std_key(m.key)] = row.get(std_key(m.key)) if m.std else None
            out[f"{m.key}_total"] = row.get(m.total) if m.total else None
    out |= {
        k: v
        for k, v in row.items()
        if k not in own and not k.startswith("teacher_") and isinstance(v, numbers.Real)
    }
    return {k: float(v) for k, v in out.items() if v is not None and not math.isnan(v)}
