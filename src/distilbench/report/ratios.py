"""Time and speed against the teacher as paired evidence: each fold's ratio of a row to the teacher's
same fold, summarised by the geometric mean over folds and its 95% confidence interval.

A ratio of two means taken from different stretches of a run moves with whatever the shared machine did
in between (the teacher's batch-1 p50 was 13.7 ms in one fresh-clone run and 10.7 ms in the next). A
fold's rows are timed together, in one process, interleaved round by round (crossval.timing), so each
per-fold ratio compares measurements taken side by side; the drift between folds shows as spread, which
the interval carries. The interval is
Student's t on the log ratios over folds (timings do not share training data, so no overlap correction).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from distilbench.report.statistics import LEVEL
from distilbench.report.tables import text_section

PAIR_KEY = ["repeat", "fold"]


@dataclass(frozen=True)
class Ratio:
    """The geometric mean of per-fold ratios and its 95% CI (equal bounds with a single fold)."""

    mean: float
    low: float
    high: float
    folds: int


@dataclass(frozen=True)
class RatioSpec:
    name: str  # the metrics.json prefix
    column: str  # the fold frame's column
    teacher_over_row: bool  # latency: the teacher's over the row's is the speed-up; throughput: the reverse


SPEED_UP_BATCH_1 = RatioSpec("latency_speedup", "latency_p50_ms", teacher_over_row=True)
SPEED_UP_BATCH_32 = RatioSpec("throughput_speedup", "throughput_per_s", teacher_over_row=False)
OWN_TIME = RatioSpec("time_ratio", "train_eval_seconds", teacher_over_row=False)  # time saved = 1 − ratio
RATIOS = (SPEED_UP_BATCH_1, SPEED_UP_BATCH_32, OWN_TIME)


def geometric_ratio(ratios: np.ndarray) -> Ratio:
    logs = np.log(ratios)
    centre = float(logs.mean())
    if len(logs) < 2:
        return Ratio(math.exp(centre), math.exp(centre), math.exp(centre), len(logs))
    half = float(stats.t.ppf(1 - LEVEL / 2, len(logs) - 1)) * float(logs.std(ddof=1)) / math.sqrt(len(logs))
    return Ratio(math.exp(centre), math.exp(centre - half), math.exp(centre + half), len(logs))


def paired_ratio(folds: pd.DataFrame, model: str, teacher: str, spec: RatioSpec) -> Ratio | None:
    """One dataset's folds: model against teacher on each (repeat, fold) both measured."""
    if spec.column not in folds:
        return None
    values = folds.pivot_table(index=PAIR_KEY, columns="model", values=spec.column)
    if model not in values or teacher not in values:
        return None
    pairs = values[[model, teacher]].dropna()
    pairs = pairs[(pairs > 0).all(axis=1)]
    if pairs.empty:
        return None
    top, bottom = (teacher, model) if spec.teacher_over_row else (model, teacher)
    return geometric_ratio((pairs[top] / pairs[bottom]).to_numpy())


def ratio_rows(folds: pd.DataFrame, models: list[str], teacher: str) -> dict[str, dict[str, Ratio]]:
    """model -> ratio name -> Ratio, for every row but the teacher with at least one paired fold."""
    out: dict[str, dict[str, Ratio]] = {}
    for model in models:
        if model == teacher:
            continue
        found = {s.name: r for s in RATIOS if (r := paired_ratio(folds, model, teacher, s))}
        if found:
            out[model] = found
    return out


def _times(r: Ratio | None) -> str:
    return "—" if r is None else f"{r.mean:.2f}× ({r.low:.2f}–{r.high:.2f})"


def _saved(r: Ratio | None) -> str:
    """Time saved is 1 − the time ratio: its interval flips ends."""
    return (
        "—"
        if r is None
        else f"{100 * (1 - r.mean):.1f}% ({100 * (1 - r.high):.1f} to {100 * (1 - r.low):.1f})"
    )


def ratio_section(rows: dict[str, dict[str, Ratio]], teacher: str) -> list[str]:
    if not rows:
        return []
    folds = max(r.folds for found in rows.values() for r in found.values())
    table = pd.DataFrame(
        [
            {
                "Model": model,
                "Batch-1 speed-up": _times(found.get(SPEED_UP_BATCH_1.name)),
                "Batch-32 speed-up": _times(found.get(SPEED_UP_BATCH_32.name)),
                "Time saved (own train+val)": _saved(found.get(OWN_TIME.name)),
            }
            for model, found in rows.items()
        ]
    )
    return text_section(
        f"Against the teacher {teacher}, fold by fold (each fold's ratio to the teacher's same fold; "
        "a fold's rows are timed together, interleaved in rounds; geometric mean over the "
        f"{folds} folds and its 95% CI, which shows how much the machine moved):",
        table,
    )


FOLD_LATENCIES_KEY = "latency_p50_ms_by_fold"  # metrics.json: "<repeat>.<fold>" -> that fold's batch-1 p50


def fold_latencies(folds: pd.DataFrame) -> dict[str, dict[str, dict[str, float]]]:
    """model -> {FOLD_LATENCIES_KEY: {"<repeat>.<fold>": p50 ms}}: what the select rule pairs rows by."""
    if SPEED_UP_BATCH_1.column not in folds:
        return {}
    values = folds.pivot_table(index=PAIR_KEY, columns="model", values=SPEED_UP_BATCH_1.column)
    by_fold = {model: values[model].dropna().items() for model in values.columns}
    return {
        str(model): {FOLD_LATENCIES_KEY: {f"{r}.{f}": round(float(v), 6) for (r, f), v in pairs}}
        for model, pairs in by_fold.items()
    }


def paired_latency_ratio(row: dict[str, float], other: dict[str, float]) -> Ratio | None:
    """`row`'s batch-1 latency over `other`'s, fold by fold (FOLD_LATENCIES_KEY dicts), on the folds
    both were timed on; None without a common fold."""
    common = [k for k in row if k in other and row[k] > 0 and other[k] > 0]
    if not common:
        return None
    return geometric_ratio(np.array([row[k] / other[k] for k in common]))


def ratio_metrics(rows: dict[str, dict[str, Ratio]]) -> dict[str, dict[str, float]]:
    """model -> `<ratio>_gmean`, `_ci_low`, `_ci_high` for metrics.json."""
    return {
        model: {
            f"{name}_{part}": value
            for name, r in found.items()
            for part, value in (("gmean", r.mean), ("ci_low", r.low), ("ci_high", r.high))
        }
        for model, found in rows.items()
    }


@dataclass(frozen=True)
class Factor:
    """One step of the batch-1 speed-up: `slower`'s latency over `faster`'s, fold by fold."""

    step: str
    slower: str
    faster: str
    ratio: Ratio


def speed_up_steps(teacher: str, students: list[str], rows: set[str]) -> list[tuple[str, str, str]]:
    """(step, slower row, faster row) for every step both rows of which the study has: depth at equal
    runtime and precision, ONNX Runtime against torch (fp32), int8 against fp32 (ONNX), the two together,
    and the whole way from the fp32 teacher to each student's fastest form."""
    steps = []
    for student in students:
        for form, suffix in (("torch fp32", ""), ("ONNX fp32", "+onnx-fp32"), ("ONNX int8", "+onnx-int8")):
            steps.append((f"depth ({form})", teacher + suffix, student + suffix))
    for model in (teacher, *students):
        steps += [
            (f"runtime: ONNX fp32 vs torch fp32 ({model})", model, f"{model}+onnx-fp32"),
            (f"precision: ONNX int8 vs ONNX fp32 ({model})", f"{model}+onnx-fp32", f"{model}+onnx-int8"),
            (f"runtime and precision: ONNX int8 vs torch fp32 ({model})", model, f"{model}+onnx-int8"),
        ]
    steps += [
        (f"all of it: {student}+onnx-int8 vs the fp32 teacher", teacher, f"{student}+onnx-int8")
        for student in students
    ]
    return [(step, slower, faster) for step, slower, faster in steps if {slower, faster} <= rows]


def speed_up_factors(folds: pd.DataFrame, teacher: str, students: list[str]) -> list[Factor]:
    rows = set(folds["model"])
    factors = []
    for step, slower, faster in speed_up_steps(teacher, students, rows):
        ratio = paired_ratio(folds, faster, slower, SPEED_UP_BATCH_1)
        if ratio:
            factors.append(Factor(step, slower, faster, ratio))
    return factors


def factor_section(factors: list[Factor]) -> list[str]:
    """Shown only when the study has a step to separate (a compressed variant or a student)."""
    if len(factors) < 2:
        return []
    table = pd.DataFrame(
        [
            {"Step": f.step, "From": f.slower, "To": f.faster, "Batch-1 speed-up": _times(f.ratio)}
            for f in factors
        ]
    )
    return text_section(
        "Where the batch-1 speed-up comes from (each step's latency ratio, fold by fold; geometric mean and "
        "95% CI):",
        table,
    )
