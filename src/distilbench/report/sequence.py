"""The fixed-sequence procedure for the primary questions: hypotheses in their declared order, each at the
full 5% while every one before it was shown."""

from __future__ import annotations

from collections.abc import Sequence

from distilbench.report.statistics import LEVEL

SHOWN = "shown"
NOT_SHOWN = "not shown"
NOT_TESTED = "not tested"  # an earlier primary question failed: no level left to test it at
NOT_ASKED = "not asked here"  # its rows did not run on this dataset: left out of the sequence


def fixed_sequence(p_values: Sequence[float | None]) -> list[str]:
    """The fixed-sequence procedure over hypotheses in their declared order: each is tested at the full 5%
    while every one before it was rejected, and the first not rejected ends it; the family-wise error stays
    at 5% with no adjustment (Maurer et al. 1995). None is a hypothesis not asked (no test spends level)."""
    statuses = []
    stopped = False
    for p in p_values:
        if p is None:
            statuses.append(NOT_ASKED)
        elif stopped:
            statuses.append(NOT_TESTED)
        elif p < LEVEL:
            statuses.append(SHOWN)
        else:
            statuses.append(NOT_SHOWN)
            stopped = True
    return statuses
