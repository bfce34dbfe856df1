"""Is a difference between two models significant, or shown to be small? The corrected resampled t-test
for cross-validation, its two one-sided tests of equivalence, and Holm's adjustment for many comparisons.

Folds of k-fold CV share most of their training data, so their scores are not independent and the plain
paired t-test calls far too many differences significant. Nadeau & Bengio (2003) inflate the variance by
n_test / n_train for that overlap; for r repeats of k folds (Bouckaert & Frank 2004) the test is over
all r·k paired differences with r·k − 1 degrees of freedom.

"Not significant" is not "equal": with a few folds the interval is wide. Equivalence within a margin is
its own claim, shown by two one-sided tests (Schuirmann 1987) with the same corrected variance: the
difference is above −margin and below +margin, each at 5%. A difference shown to be neither is
*inconclusive with these folds*.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.05  # two-sided; the report says "significant at 5%"


@dataclass(frozen=True)
class PairedTest:
    mean_difference: float
    ci_low: float  # the 95% confidence interval of the mean difference, from the corrected variance
    ci_high: float
    t: float
    df: int
    p_value: float
    n_pairs: int
    significant_at_5pct: bool


def corrected_resampled_ttest(
    differences: Sequence[float], n_train: float, n_test: float, variance_floor: float = 0.0
) -> PairedTest:
    """Paired per-fold differences (one per repeat × fold) of models scored on the same folds.

    n_train and n_test are the sizes of one fold's training and held-out parts; variance_floor is the
    least per-fold variance of a difference the test will use (:func:`fold_variance_floor`).
    """
    mean, standard_error, df = _corrected(differences, n_train, n_test, variance_floor)
    n = df + 1
    if standard_error == 0:
        # every fold differs by the same amount: no noise to weigh it against. The same score on every
        # fold is no evidence of a difference (p = 1); a constant non-zero one is as sure as it gets (p = 0)
        t = 0.0 if mean == 0 else math.copysign(math.inf, mean)
        p_value = 1.0 if mean == 0 else 0.0
        return PairedTest(mean, mean, mean, t, df, p_value, n, p_value < LEVEL)
    t = mean / standard_error
    p_value = float(2 * stats.t.sf(abs(t), df))
    half_width = float(stats.t.ppf(1 - LEVEL / 2, df)) * standard_error
    return PairedTest(mean, mean - half_width, mean + half_width, t, df, p_value, n, p_value < LEVEL)


def _corrected(
    differences: Sequence[float], n_train: float, n_test: float, variance_floor: float = 0.0
) -> tuple[float, float, int]:
    """The mean difference, its corrected standard error and the degrees of freedom."""
    d = np.asarray(differences, dtype=float)
    n = len(d)
    if n < 2:
        raise ValueError(f"a paired test needs at least 2 folds, got {n}")
    if n_train <= 0 or n_test <= 0:
        raise ValueError(f"n_train and n_test must be positive, got {n_train} and {n_test}")
    # 1/(r·k) is the plain paired test's variance of the mean; n_test/n_train the overlap between folds
    variance = max(float(d.var(ddof=1)), variance_floor)
    return float(d.mean()), math.sqrt(corrected_factor(n, n_train, n_test) * variance), n - 1


def corrected_factor(n: int, n_train: float, n_test: float) -> float:
    """What the per-fold variance is multiplied by for the variance of the mean over n = r·k folds."""
    return 1 / n + n_test / n_train


@dataclass(frozen=True)
class MarginTests:
    """One-sided tests of a paired difference against a margin (accuracy, 0.01 = 1 point).

    p_above: H0 difference ≤ −margin (rejecting it: not worse by the margin or more);
    p_below: H0 difference ≥ +margin; p_beyond: H0 difference ≥ −margin (rejecting it: worse by more than
    the margin). Equivalence (TOST) is p_above and p_below both small: its p-value is the larger.
    """

    margin: float
    p_above: float
    p_below: float
    p_beyond: float
    ci90_low: float  # the TOST's interval: equivalent at 5% exactly when it lies inside ±margin
    ci90_high: float

    @property
    def p_equivalent(self) -> float:
        return max(self.p_above, self.p_below)


def margin_tests(
    differences: Sequence[float], n_train: float, n_test: float, margin: float, variance_floor: float = 0.0
) -> MarginTests:
    """Two one-sided tests (and the one for "worse by more than the margin") with the corrected variance."""
    if margin < 0:
        raise ValueError(f"the margin must be >= 0, got {margin}")
    mean, standard_error, df = _corrected(differences, n_train, n_test, variance_floor)
    if standard_error == 0:  # the same difference on every fold: as sure as it gets (see above)
        return MarginTests(
            margin,
            float(mean <= -margin),
            float(mean >= margin),
            float(mean >= -margin),
            mean,
            mean,
        )
    half_width = float(stats.t.ppf(1 - LEVEL, df)) * standard_error
    return MarginTests(
        margin,
        float(stats.t.sf((mean + margin) / standard_error, df)),
        float(stats.t.cdf((mean - margin) / standard_error, df)),
        float(stats.t.cdf((mean + margin) / standard_error, df)),
        mean - half_width,
        mean + half_width,
    )


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment: family-wise error ≤ 5% over all the p-values given, in their order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))  # never below a smaller p's
        adjusted[i] = running
    return adjusted


def mcnemar_exact(only_first_right: int, only_second_right: int) -> float:
    """McNemar's exact test on paired predictions of the same examples: the two-sided binomial p of how
    the discordant examples split (1 when there are none). Right for one model re-scored in another form
    (a compressed variant against its fp32 source), where nothing was retrained."""
    discordant = only_first_right + only_second_right
    if discordant == 0:
        return 1.0
    return float(stats.binomtest(only_first_right, discordant, 0.5).pvalue)
