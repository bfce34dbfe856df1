"""Whether a compressed variant meets the inference target: at least TARGET_SPEEDUP times the fp32
teacher's batch-1 speed, for at most TARGET_MAX_DROP_PTS accuracy points lost.

Judged on the bounds, not the point estimates: the speed-up's lower 95% bound (the per-fold latency
ratios, report.ratios) and the accuracy difference's lower 90% bound (one-sided 5%, the non-inferiority
test's interval): the corrected t-test's for a retrained row (report.pairs), the same-examples one for a
copy of the teacher's own weights (report.agreement). A mean 3.96× at −0.69 points whose bounds reach
2.88× and −1.61 points meets nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from distilbench.report.agreement import VariantCheck
from distilbench.report.pairs import Comparison
from distilbench.report.ratios import SPEED_UP_BATCH_1, Ratio

TARGET_SPEEDUP = 3.0
TARGET_MAX_DROP_PTS = 1.0


@dataclass(frozen=True)
class TargetEvidence:
    """A variant's accuracy difference to the fp32 teacher (points) and batch-1 speed-up over it."""

    difference: float
    difference_low: float  # the lower 90% bound
    difference_high: float
    speedup: float  # geometric mean over folds
    speedup_low: float  # the lower 95% bound
    test: str  # which test gave the accuracy interval, in words

    def within_drop(self) -> bool:
        return self.difference_low > -TARGET_MAX_DROP_PTS

    def fast_enough(self) -> bool:
        return self.speedup_low >= TARGET_SPEEDUP


def target_evidence(
    variants: Sequence[str],
    teacher: str,
    comparisons: Sequence[Comparison],
    checks: Sequence[VariantCheck],
    ratios: Mapping[str, Mapping[str, Ratio]],
) -> dict[str, TargetEvidence]:
    """Each variant row with both bounds: its accuracy interval against the teacher and its speed-up's."""
    tests = {c.model: c for c in comparisons if c.against == teacher and c.margins is not None}
    same = {c.model: c.same for c in checks if c.source == teacher}
    out = {}
    for row in variants:
        speed = ratios.get(row, {}).get(SPEED_UP_BATCH_1.name)
        if speed is None:
            continue
        if row in same:
            s = same[row]
            accuracy = (s.difference, s.ci90_low, s.ci90_high, "same examples, paired proportions")
        elif row in tests:
            c = tests[row]
            m = c.margins
            accuracy = (c.test.mean_difference, m.ci90_low, m.ci90_high, "corrected resampled t")
        else:
            continue
        points = [100 * v for v in accuracy[:3]]
        out[row] = TargetEvidence(*points, speed.mean, speed.low, accuracy[3])
    return out


def target_line(rows: pd.DataFrame, teacher: str, evidence: Mapping[str, TargetEvidence]) -> list[str]:
    """One sentence: the variant with the best speed-up bound among those whose accuracy bound is within
    the drop, against the target; or why none is."""
    if "variant" not in rows or rows["variant"].isna().all():
        return []
    base = rows[rows["model"] == teacher]
    if base.empty or math.isnan(float(base["latency_p50_ms"].iloc[0])):
        return []
    target = (
        f"target ≥ {TARGET_SPEEDUP:.0f}× at the speed-up's lower 95% bound, for an accuracy difference whose "
        f"lower 90% bound is above −{TARGET_MAX_DROP_PTS:.0f} point; each bound unadjusted for the report's "
        "other comparisons"
    )
    judged = {row: e for row, e in evidence.items() if row in set(rows["model"])}
    within = {row: e for row, e in judged.items() if e.within_drop()}
    if not within:
        closest = max(judged.items(), key=lambda item: item[1].difference_low, default=None)
        said = f"; the closest, {_accuracy(*closest)}" if closest else ""
        return [
            f"**Inference target not met**: no compressed variant is shown within {TARGET_MAX_DROP_PTS:.0f} "
            f"point of the teacher{said} ({target})."
        ]
    row, best = max(within.items(), key=lambda item: item[1].speedup_low)
    met = "met" if best.fast_enough() else "not met"
    return [
        f"**Inference target {met}**: of the compressed variants shown within {TARGET_MAX_DROP_PTS:.0f} "
        f"point of the teacher, {_accuracy(row, best)}, is {best.speedup:.2f}× the fp32 teacher at batch 1 "
        f"with a lower 95% bound of {best.speedup_low:.2f}× ({target}). "
        "Pareto-optimal rows are marked ✓; the picture is pareto.png."
    ]


def _accuracy(row: str, e: TargetEvidence) -> str:
    return (
        f"{row} at {_points(e.difference)} accuracy points (90% CI {_points(e.difference_low)} to "
        f"{_points(e.difference_high)}, {e.test})"
    )


def _points(value: float) -> str:
    return f"{value + 0.0:+.2f}" if round(value, 2) else "±0.00"  # never "-0.00"
