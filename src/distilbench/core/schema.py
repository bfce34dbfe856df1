"""The results schema: every per-fold metric and per-model summary field, by key, with its title and format.

One owner for the names: a fold's record in results/crossval.json and its MLflow run's metrics
(crossval), the per-model summary and its parent run's metrics (crossval.summary), the report's tables,
comparison.csv and metrics.json (report), and the MLflow UI's study columns (tracking.views) all read
them here. Adding a per-fold metric is one :class:`FoldMetric` row (and the FoldResult field it reads);
adding a report column is one :class:`Column`.

Plain Python on purpose (no torch, no pandas): it sits below every layer, and the fold code does not import
it, so renaming a column or reformatting a cell never changes a fold's cache key (crossval.code_digest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def mean_key(metric: str) -> str:
    """A score's mean over folds in the summary (`accuracy_mean`)."""
    return f"{metric}_mean"


def std_key(metric: str) -> str:
    """A metric's sample spread over folds, in the summary and its parent run (`accuracy_std`)."""
    return f"{metric}_std"


# --- per-fold metrics: a fold record's keys ---------------------------------------------------------
ACCURACY = "accuracy"
MACRO_F1 = "macro_f1"
MICRO_F1 = "micro_f1"
HAMMING_LOSS = "hamming_loss"
MODEL_MB = "model_mb"
TRAIN_EVAL_SECONDS = "train_eval_seconds"
EXAMPLES_PER_SECOND = "examples_per_second"
LATENCY_P50 = "latency_p50_ms"  # warm batch-1 latency (training.inference_speed)
LATENCY_P95 = "latency_p95_ms"
THROUGHPUT = "throughput_per_s"  # warm batch-32 examples per second
TRAIN_SECONDS = "train_seconds"
EVAL_SECONDS = "eval_seconds"
EXPORT_SECONDS = "export_seconds"  # a teacher's extra work for its students: logits and its fold model

# --- per-model summary fields: comparison.csv's columns, metrics.json's keys --------------------------
ACCURACY_MEAN = mean_key(ACCURACY)
ACCURACY_STD = std_key(ACCURACY)
SECONDS_PER_FOLD = "seconds_per_fold"  # mean train+eval seconds over folds
SECONDS_TOTAL = "seconds_total"
END_TO_END_SECONDS = "end_to_end_seconds"  # a fold's: its own cost plus its fold teacher's
END_TO_END_PER_FOLD = "end_to_end_seconds_per_fold"
PARAMETERS = "parameters"
TIME_SAVED = "time_saved_pct"
END_TO_END_TIME_SAVED = "end_to_end_time_saved_pct"
SIZE_SAVED = "size_saved_pct"
ACCURACY_RETAINED = "accuracy_retained_pct"
SPEEDUP = "speedup_vs_teacher"  # examples per second (evaluation) over the teacher's
THROUGHPUT_SPEEDUP = "throughput_speedup_vs_teacher"
LATENCY_SPEEDUP = "latency_speedup_vs_teacher"  # the teacher's batch-1 p50 over the row's
PARETO = "pareto"  # on the dataset's accuracy / batch-1 latency front


@dataclass(frozen=True)
class FoldMetric:
    key: str  # a fold's value: results file column, fold run metric, parent run mean
    summary: str | None = None  # the column of its mean over folds in the summary (None: fold runs only)
    std: bool = False  # also its spread over folds, `<key>_std` in the summary and the parent run
    total: str | None = None  # also its sum over folds in the summary; `<key>_total` in the parent run
    variants: bool = False  # a compressed variant's is logged in its source fold's run as <variant>/<key>
    title: str | None = None  # a score's column title in the report


# the order is the summary's (comparison.csv) column order
FOLD_METRICS = (
    FoldMetric(MODEL_MB, MODEL_MB, variants=True),
    FoldMetric(TRAIN_EVAL_SECONDS, SECONDS_PER_FOLD, total=SECONDS_TOTAL),
    FoldMetric(EXAMPLES_PER_SECOND, EXAMPLES_PER_SECOND),
    FoldMetric(LATENCY_P50, LATENCY_P50, variants=True),
    FoldMetric(LATENCY_P95, LATENCY_P95, variants=True),
    FoldMetric(THROUGHPUT, THROUGHPUT, variants=True),
    # scores: accuracy, macro_f1, and for multilabel also micro_f1 and hamming_loss (training.evaluation)
    FoldMetric(ACCURACY, ACCURACY_MEAN, std=True, variants=True, title="Accuracy"),
    FoldMetric(MICRO_F1, mean_key(MICRO_F1), std=True, title="Micro-F1"),
    FoldMetric(MACRO_F1, mean_key(MACRO_F1), std=True, variants=True, title="Macro-F1"),
    FoldMetric(HAMMING_LOSS, mean_key(HAMMING_LOSS), std=True, title="Hamming loss"),
    FoldMetric(TRAIN_SECONDS),
    FoldMetric(EVAL_SECONDS),
    FoldMetric(EXPORT_SECONDS),
)
VARIANT_METRICS = tuple(m.key for m in FOLD_METRICS if m.variants)
MULTICLASS_SCORES = (ACCURACY, MACRO_F1)  # the report's score columns, in this order
MULTILABEL_SCORES = (ACCURACY, MICRO_F1, MACRO_F1, HAMMING_LOSS)

# summary fields metrics.json keeps besides the _mean, _std and _pct ones: every summarised per-fold
# metric, and what the summary and the report derive from them
DERIVED_FIELDS = (
    *(column for m in FOLD_METRICS for column in (m.summary, m.total) if column),
    PARAMETERS,
    END_TO_END_PER_FOLD,
    SPEEDUP,
    THROUGHPUT_SPEEDUP,
    LATENCY_SPEEDUP,
    PARETO,  # 1 on the dataset's accuracy / batch-1 latency Pareto front, else 0
)

# the metrics every MLflow run of the study shows first (parents: the mean over folds, children: one fold)
STUDY_METRICS = (ACCURACY, std_key(ACCURACY), MACRO_F1, TRAIN_EVAL_SECONDS, MODEL_MB, TIME_SAVED, SIZE_SAVED)

# results/crossval.json's layout: a file of another version is refused with "rerun crossval"
RESULTS_VERSION = 2

NONE = "—"  # how a cell without a value reads
CHECK = "✓"  # a true flag's cell (a false one is empty)


def metric(key: str) -> FoldMetric:
    return next(m for m in FOLD_METRICS if m.key == key)


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@dataclass(frozen=True)
class Column:
    """One column of the report's per-model table: its title, the summary fields in its cell and how they
    read. Two fields are joined: mean ± std, or p50 / p95."""

    title: str
    keys: tuple[str, ...]
    fmt: str = "{:.1f}"  # each value's format; "flag" for a ✓
    join: str = " / "
    per: float = 1.0  # the unit it counts in, e.g. 1e6 for parameters in millions
    when: str = "always"  # "distilled": only when a distilled row ran; "pareto": once the front is known

    def cell(self, *values: object) -> str | None:
        """The cell's text; None when it has no value at all (a table shows it as NONE)."""
        if all(is_missing(v) for v in values):
            return None
        if self.fmt == "flag":
            return CHECK if values[0] else ""
        parts = (NONE if is_missing(v) else self.fmt.format(float(v) / self.per) for v in values)
        return self.join.join(parts)

    def of(self, row) -> str | None:
        """The cell of one summary row (a mapping: a dict, a pandas row)."""
        return self.cell(*(row[key] for key in self.keys))


def score_column(key: str, title: str | None = None) -> Column:
    """A score's cell: its mean ± std over folds, to the 4th decimal."""
    return Column(title or metric(key).title or key, (mean_key(key), std_key(key)), "{:.4f}", join=" ± ")


PARAMS_COLUMN = Column("Params (M)", (PARAMETERS,), per=1e6)
SIZE_COLUMN = Column("Size (MB)", (MODEL_MB,))
SECONDS_COLUMN = Column("Train+val s / fold", (SECONDS_PER_FOLD,))
END_TO_END_COLUMN = Column("End-to-end s / fold", (END_TO_END_PER_FOLD,), when="distilled")
TOTAL_COLUMN = Column("Train+val s total", (SECONDS_TOTAL,))
TIME_SAVED_COLUMN = Column("Time saved (own)", (TIME_SAVED,), "{:.1f}%")
END_TO_END_SAVED_COLUMN = Column(
    "Time saved (end-to-end)", (END_TO_END_TIME_SAVED,), "{:.1f}%", when="distilled"
)
SIZE_SAVED_COLUMN = Column("Size saved", (SIZE_SAVED,), "{:.1f}%")
RETAINED_COLUMN = Column("Accuracy retained", (ACCURACY_RETAINED,), "{:.1f}%")
LATENCY_COLUMN = Column("Latency p50 / p95 (ms, batch 1)", (LATENCY_P50, LATENCY_P95))
THROUGHPUT_COLUMN = Column("Throughput (ex/s, batch 32)", (THROUGHPUT,), "{:.0f}")
SPEEDUP_COLUMN = Column("Speed-up vs teacher", (THROUGHPUT_SPEEDUP,), "{:.2f}×")
BATCH1_SPEEDUP_COLUMN = Column("Batch-1 speed-up", (LATENCY_SPEEDUP,), "{:.2f}×", when="pareto")
PARETO_COLUMN = Column("Pareto", (PARETO,), "flag", when="pareto")


def table_columns(multilabel: bool) -> tuple[Column, ...]:
    """The per-dataset table's columns after `Model`, in order (the published studies' layout)."""
    scores = MULTILABEL_SCORES if multilabel else MULTICLASS_SCORES
    return (
        PARAMS_COLUMN,
        SIZE_COLUMN,
        *(score_column(key) for key in scores),
        SECONDS_COLUMN,
        END_TO_END_COLUMN,
        TOTAL_COLUMN,
        TIME_SAVED_COLUMN,
        END_TO_END_SAVED_COLUMN,
        SIZE_SAVED_COLUMN,
        RETAINED_COLUMN,
        LATENCY_COLUMN,
        THROUGHPUT_COLUMN,
        SPEEDUP_COLUMN,
        BATCH1_SPEEDUP_COLUMN,
        PARETO_COLUMN,
    )


# the cross-dataset layout: one small table per quantity, models down, datasets across
ACROSS_COLUMNS = (
    score_column(ACCURACY, "Accuracy (mean ± std over folds)"),
    SECONDS_COLUMN,
    TIME_SAVED_COLUMN,
    SIZE_COLUMN,
    SIZE_SAVED_COLUMN,
)
