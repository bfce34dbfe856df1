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


def mcnemar_exact(only_first_right: int, only_second_right: int) -> float:
    """McNemar's exact test on paired predictions of the same examples: the two-sided binomial p of how
    the discordant examples split (1 when there are none). Right for one model re-scored in another form
    (a compressed variant against its fp32 source), where nothing was retrained."""
    discordant = only_first_right + only_second_right
    if discordant == 0:
        return 1.0
    return float(stats.binomtest(only_first_right, discordant, 0.5).pvalue)


# --- a floor under the fold variance --------------------------------------------------------------------

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


# --- the same weights twice: paired proportions ---------------------------------------------------------


@dataclass(frozen=True)
class SameExamples:
    """The accuracy difference of two predictions of the same examples (a compressed copy against its fp32
    weights), its 90% CI and the one-sided test that it is not worse by the margin or more."""

    difference: float  # (only_first_right − only_second_right) / examples
    ci90_low: float
    ci90_high: float
    p_noninferior: float  # H0: difference ≤ −margin

    @property
    def noninferior(self) -> bool:
        return self.p_noninferior < LEVEL


def same_examples_difference(
    only_first_right: int, only_second_right: int, examples: int, margin: float
) -> SameExamples:
    """McNemar's setting, as an interval: the paired difference of proportions with its Wald variance
    ((b + c)/n − ((b − c)/n)²)/n. With no discordant example at all that variance is 0; the exact bound
    then stands in: the discordant rate is below 1 − 0.05^(1/n) at 95% (the rule of three).

    Rotten Tomatoes' teacher against its ONNX int8 copy, 22 and 31 of 1300 rows: −0.69 points, 90% CI
    −1.61 to +0.22, so not shown within 1 point."""
    if examples <= 0:
        raise ValueError(f"examples must be positive, got {examples}")
    b, c, n = only_first_right, only_second_right, examples
    difference = (b - c) / n
    variance = ((b + c) / n - difference**2) / n
    if b + c == 0:
        # no discordant example: the difference is 0, and a true one of −margin or worse would need a
        # discordant rate of at least the margin, under which none in n happens with chance (1 − margin)^n
        half = 1 - LEVEL ** (1 / n)
        return SameExamples(0.0, -half, half, (1 - margin) ** n)
    if variance <= 0:  # every example discordant one way: the difference is ±1, nothing to weigh it against
        return SameExamples(difference, difference, difference, float(difference <= -margin))
    se = math.sqrt(variance)
    z = float(stats.norm.ppf(1 - LEVEL))
    p = float(stats.norm.sf((difference + margin) / se))
    return SameExamples(difference, difference - z * se, difference + z * se, p)
