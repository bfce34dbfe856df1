"""The descriptions MLflow shows on each run's page: what the run is and what it found, in words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from distilbench.core.schema import (
    ACCURACY,
    ACCURACY_RETAINED,
    ACCURACY_STD,
    MACRO_F1,
    MODEL_MB,
    SIZE_SAVED,
    TIME_SAVED,
    TRAIN_EVAL_SECONDS,
)

if TYPE_CHECKING:
    from distilbench.crossval.fold import FoldResult
    from distilbench.crossval.plan import FoldJob


def fold_line(label: str, result: FoldResult) -> str:
    """A fold's result in one log line: what the fold task reports to the terminal and the dashboard."""
    scores = ", ".join(f"{k.replace('_', '-')} {v:.4f}" for k, v in result.metrics.items())
    return (
        f"{label}: {scores}; {result.train_seconds:.1f} s train + {result.eval_seconds:.1f} s eval; "
        f"{result.model_mb:.1f} MB"
    )


def fold_note(job: FoldJob, result: FoldResult) -> str:
    scores = ", ".join(f"{k.replace('_', '-')} {v:.4f}" for k, v in result.metrics.items())
    how = how_trained(job)
    which = f"Fold {job.number} of {job.n_folds}"
    if job.repeated:
        which = f"Repeat {job.repeat} of {job.n_repeats}, fold {job.number} of {job.n_folds}"
    return (
        f"**{which}** of `{job.dataset}` for `{job.model.name}` ({how}). "
        f"Trained on {result.train_examples} examples, scored on {result.eval_examples} held-out ones: "
        f"{scores}. {result.train_seconds:.1f} s training + {result.eval_seconds:.1f} s evaluation on "
        f"{result.device} (autocast {result.autocast}); {result.model_mb:.1f} MB saved."
    )


def parent_note(
    dataset: str,
    model: str,
    teacher: str,
    others: Sequence[str],
    n_folds: int,
    stats: Mapping[str, float],
    teacher_stats: Mapping[str, float],
) -> str:
    """Dataset, model, teacher, what it was compared with, and the headline result (`stats`: the parent
    run's metrics)."""
    header = f"**`{model}` on `{dataset}`**, {n_folds}-fold cross-validation (mean ± std over folds)."
    result = (
        f"Accuracy {stats[ACCURACY]:.4f} ± {stats.get(ACCURACY_STD, 0.0):.4f}"
        + (f", macro-F1 {stats[MACRO_F1]:.4f}" if MACRO_F1 in stats else "")
        + f"; {stats[TRAIN_EVAL_SECONDS]:.1f} s train+val per fold; {stats[MODEL_MB]:.1f} MB."
    )
    if model == teacher:
        role = f"This is the teacher; the students compared with it: {', '.join(others) or 'none'}."
        return f"{header}\n\n{result}\n\n{role} The comparison table and trade-off plot are under `report/`."
    against = (
        f"Against the teacher `{teacher}` (accuracy {teacher_stats[ACCURACY]:.4f}): "
        f"{_pct(stats, ACCURACY_RETAINED)} of its accuracy retained, "
        f"{_pct(stats, TIME_SAVED)} less time, {_pct(stats, SIZE_SAVED)} smaller."
        if teacher_stats
        else f"The teacher `{teacher}` has no result on this dataset yet."
    )
    return f"{header}\n\n{result}\n\n{against} Also compared: {', '.join(others)}."


def _pct(stats: Mapping[str, float], key: str) -> str:
    return f"{stats[key]:.1f}%" if key in stats else "—"  # undefined when the teacher scored 0


def how_trained(job: FoldJob) -> str:
    if job.teacher is None:
        return "fine-tuned"
    if job.distill is None:
        return f"started from the fold's fine-tuned {job.teacher.model.name}, trained on labels only"
    return f"distilled from the fold's fine-tuned {job.teacher.model.name}"


def speed_line(label: str, result: FoldResult) -> str:
    """One row's speeds, as its fold's timing measured them (crossval.timing)."""
    rows = [("", result.speed)] + [(f" +{v.variant}", v.speed) for v in result.variants]
    speeds = "; ".join(
        f"{s.latency_p50_ms:.2f} ms p50 at batch 1, {s.throughput_per_s:.0f} ex/s at batch 32{name}"
        for name, s in rows
    )
    return f"{label} timed with its fold's rows: {speeds}"
