"""A floor under the fold variance of an accuracy difference: three folds can agree by chance, and zero
variance must not read as certainty (p = 0)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DISAGREEMENT = "disagreement"  # from the two models' measured disagreement on the held-out rows
FEWEST = "fewest-disagreements"  # from their accuracies: they disagree on at least |p₁ − p₂| of the rows
BINOMIAL = "binomial"  # two independent scores: only where the folds agree exactly


@dataclass(frozen=True)
class VarianceFloor:
    """The least per-fold variance of an accuracy difference the tests use, and where it came from."""

    variance: float
    source: str | None  # DISAGREEMENT, FEWEST, BINOMIAL, or None: no floor (0)


NO_FLOOR = VarianceFloor(0.0, None)
AGREE_EXACTLY = 1e-12  # accuracies are ratios of counts: folds "agree" when their differences are equal


def fold_variance_floor(
    differences: Sequence[float],
    n_test: float,
    accuracies: tuple[float, float],
    disagreement: float | None = None,
) -> VarianceFloor:
    """A fold's accuracy difference is d = (b − c) / n_test, b and c the held-out rows only one model gets
    right; with the models fixed, the test rows alone make it vary by (q − d²) / n_test, q = (b + c) / n_test
    the disagreement rate. Folds that happen to agree more closely than that (three numbers can) must not
    make the test surer than the test rows allow: zero variance would give p = 0.

    The floor is that sampling variance, the tests using the larger of it and the folds' own variance:
    with q measured (per-example predictions), as it is; without, at the fewest disagreements the mean
    difference allows (q ≥ |d|), a bound that holds whatever the models' correlation. That bound is 0 at a
    zero difference, so folds that agree exactly get the binomial variance of two independent scores,
    p₁(1 − p₁)/n + p₂(1 − p₂)/n, instead: conservative (models of one checkpoint agree more than
    independent ones), and used only where the folds give no estimate at all.
    """
    d = np.asarray(differences, dtype=float)
    mean = float(d.mean())
    if disagreement is not None:
        if not 0.0 <= disagreement <= 1.0:
            raise ValueError(f"a disagreement rate is a share of rows, got {disagreement}")
        return VarianceFloor(max(disagreement - mean**2, 0.0) / n_test, DISAGREEMENT)
    if np.ptp(d) <= AGREE_EXACTLY:
        binomial = sum(p * (1 - p) for p in accuracies) / n_test
        if binomial > 0:
            return VarianceFloor(binomial, BINOMIAL)
    fewest = (abs(mean) - mean**2) / n_test
    return VarianceFloor(fewest, FEWEST) if fewest > 0 else NO_FLOOR
