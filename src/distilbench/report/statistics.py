"""Is a difference between two models significant? The corrected resampled t-test for cross-validation.

Folds of k-fold CV share most of their training data, so their scores are not independent and the plain
paired t-test calls far too many differences significant. Nadeau & Bengio (2003) inflate the variance by
n_test / n_train for that overlap; for r repeats of k folds (Bouckaert & Frank 2004) the test is over
all r·k paired differences with r·k − 1 degrees of freedom.
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


def corrected_resampled_ttest(differences: Sequence[float], n_train: float, n_test: float) -> PairedTest:
    """Paired per-fold differences (one per repeat × fold) of models scored on the same folds.

    n_train and n_test are the sizes of one fold's training and held-out parts.
    """
    d = np.asarray(differences, dtype=float)
    n = len(d)
    if n < 2:
        raise ValueError(f"a paired test needs at least 2 folds, got {n}")
    if n_train <= 0 or n_test <= 0:
        raise ValueError(f"n_train and n_test must be positive, got {n_train} and {n_test}")
    mean = float(d.mean())
    df = n - 1
    # 1/(r·k) is the plain paired test's variance of the mean; n_test/n_train the overlap between folds
    standard_error = math.sqrt((1 / n + n_test / n_train) * float(d.var(ddof=1)))
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
