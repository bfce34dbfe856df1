"""What an inconclusive comparison's folds could have shown, and roughly what design would settle it.

Both at the observed spread of the fold differences, with the corrected resampled t-test the verdicts use
(Nadeau & Bengio 2003; df = folds × repeats − 1). Its variance of the mean is (1/(r·k) + n_test/n_train)·s²:
repeats shrink only the first term, so at 3 folds no number of repeats takes it below s²/2, and more folds
(a smaller n_test/n_train) are the other lever. Each fold's test part shrinks with k, so a fold difference's
variance is taken to grow like k (it is binomial-like in the test rows): s²·k/k₀ at k folds. "Roughly":
the observed mean and spread are themselves estimates from a few folds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from distilbench.report.statistics import corrected_factor

EQUIVALENT = "equivalent"  # the claims a design can settle: config.settings.CLAIMS, and a difference
NONINFERIOR = "noninferior"
WORSE = "worse"
DIFFERENT = "different"
FOLD_CHOICES = (5, 10)  # the designs tried besides more repeats of this run's folds
MAX_REPEATS = 20


@dataclass(frozen=True)
class Design:
    folds: int
    repeats: int

    @property
    def cost(self) -> int:
        """Fold trainings, each on (k − 1)/k of the rows: the work grows like r·(k − 1)."""
        return self.repeats * (self.folds - 1)


@dataclass(frozen=True)
class Power:
    claim: str  # what would be settled: the question's claim, or the one the observed difference is nearest
    level: float  # the one-sided level the claim needs (two-sided for DIFFERENT)
    smallest_margin: float  # accuracy: the narrowest ±margin these folds could show at a zero difference
    design: Design | None  # the cheapest one that would settle it at the observed difference; None: none


def smallest_margin(variance: float, n: int, n_train: float, n_test: float, level: float) -> float:
    """The narrowest equivalence margin a TOST at `level` could show with n = r·k folds at this spread, were
    the mean difference exactly 0: t(1 − level, n − 1) times the corrected standard error."""
    standard_error = math.sqrt(corrected_factor(n, n_train, n_test) * variance)
    return float(stats.t.ppf(1 - level, n - 1)) * standard_error


def shown(claim: str, mean: float, standard_error: float, df: int, margin: float, level: float) -> bool:
    """Whether the test of `claim` passes at `level` (the interval the verdicts use lies where it must)."""
    one_sided = float(stats.t.ppf(1 - level, df)) * standard_error
    if claim == EQUIVALENT:
        return abs(mean) + one_sided < margin
    if claim == NONINFERIOR:
        return mean - one_sided > -margin
    if claim == WORSE:
        return mean + one_sided < -margin
    if claim == DIFFERENT:
        return abs(mean) > float(stats.t.ppf(1 - level / 2, df)) * standard_error
    raise ValueError(f"unknown claim {claim!r}")


def nearest_claim(mean: float, margin: float) -> str:
    """The claim an inconclusive difference is closest to settling: inside the margin, equivalence; beyond
    −margin, worse by more than it; above +margin, a difference."""
    if abs(mean) < margin:
        return EQUIVALENT
    return WORSE if mean < 0 else DIFFERENT


def settling_design(
    claim: str,
    mean: float,
    variance: float,
    now: Design,
    n_examples: int,
    margin: float,
    level: float,
) -> Design | None:
    """The cheapest design larger than `now` (more repeats of its folds, or 5 or 10 folds) whose test of
    `claim` would pass at the observed mean and spread; None when none up to MAX_REPEATS would."""
    candidates = []
    for folds in sorted({now.folds, *(k for k in FOLD_CHOICES if k > now.folds)}):
        n_test = n_examples / folds
        n_train = n_examples - n_test
        spread = variance * folds / now.folds
        for repeats in range(1, MAX_REPEATS + 1):
            design = Design(folds, repeats)
            if folds == now.folds and repeats <= now.repeats:
                continue
            n = folds * repeats
            standard_error = math.sqrt(corrected_factor(n, n_train, n_test) * spread)
            if shown(claim, mean, standard_error, n - 1, margin, level):
                candidates.append(design)
                break  # more repeats of these folds only cost more
    return min(candidates, key=lambda d: (d.cost, d.folds), default=None)
