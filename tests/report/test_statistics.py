"""The corrected resampled t-test, its one-sided tests against a margin and Holm's adjustment, against
numbers worked out by hand."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from distilbench.report.statistics import corrected_resampled_ttest, holm, margin_tests

# 5 folds (r = 1, k = 5) of 2125 examples: 1700 to train on, 425 held out
D = [0.01, 0.02, 0.00, 0.03, 0.015]


def student_t4_cdf(t: float) -> float:
    """Student's t with 4 degrees of freedom in closed form, so the test does not lean on scipy's t."""
    u = 1 + t * t / 4
    return 0.5 + 3 / 8 * (t / math.sqrt(u)) * (1 - t * t / (12 * u))


def test_a_worked_example_by_hand():
    # mean d = 0.075 / 5 = 0.015
    # squared deviations: 0.005² + 0.005² + 0.015² + 0.015² + 0 = 0.0005, so s² = 0.0005 / 4 = 0.000125
    # corrected factor 1/5 + 425/1700 = 0.2 + 0.25 = 0.45; standard error sqrt(0.45 · 0.000125) = 0.0075
    # t = 0.015 / 0.0075 = 2, df = 4
    # p = 2 (1 - F4(2)), F4(2) = 1/2 + 3/8 · (2/√2) · (1 - 4/24) = 1/2 + (5/16)√2, so p = 1 - (5/8)√2
    # 95% CI: 0.015 ± t(0.975, 4) · 0.0075 with t(0.975, 4) = 2.776445105 (tables)
    result = corrected_resampled_ttest(D, n_train=1700, n_test=425)
    assert result.mean_difference == pytest.approx(0.015, abs=1e-12)
    assert result.t == pytest.approx(2.0, abs=1e-6)
    assert result.df == 4 and result.n_pairs == 5
    assert result.p_value == pytest.approx(1 - 5 / 8 * math.sqrt(2), abs=1e-6)
    assert 2 * (1 - student_t4_cdf(2.0)) == pytest.approx(1 - 5 / 8 * math.sqrt(2), abs=1e-12)
    quantile = 2.776445105
    assert student_t4_cdf(quantile) == pytest.approx(0.975, abs=1e-9)
    assert result.ci_low == pytest.approx(0.015 - quantile * 0.0075, abs=1e-6)
    assert result.ci_high == pytest.approx(0.015 + quantile * 0.0075, abs=1e-6)
    assert not result.significant_at_5pct  # p ≈ 0.116


def test_the_correction_makes_p_larger_than_the_plain_paired_t_test():
    teacher = [0.90, 0.91, 0.92, 0.89, 0.90]
    student = [t + d for t, d in zip(teacher, D, strict=True)]
    naive = stats.ttest_rel(student, teacher)
    corrected = corrected_resampled_ttest(
        [s - t for s, t in zip(student, teacher, strict=True)], n_train=1700, n_test=425
    )
    assert naive.pvalue < 0.05 < corrected.p_value  # t = 3 uncorrected: "significant" only without it
    assert corrected.t == pytest.approx(naive.statistic * math.sqrt(0.2 / 0.45))


def test_repeats_count_as_more_pairs_with_the_same_overlap_correction():
    # r = 2 repeats of the 5 folds: 10 pairs, factor 1/10 + 0.25 = 0.35, df = 9
    result = corrected_resampled_ttest(D + D, n_train=1700, n_test=425)
    s2 = 0.0005 * 2 / 9
    assert result.df == 9 and result.t == pytest.approx(0.015 / math.sqrt(0.35 * s2))


def test_the_same_score_on_every_fold_is_no_difference():
    result = corrected_resampled_ttest([0.0] * 5, n_train=1700, n_test=425)
    assert result.p_value == 1.0 and not result.significant_at_5pct
    assert result.ci_low == result.ci_high == result.mean_difference == 0.0


def test_a_constant_non_zero_difference_is_significant():
    result = corrected_resampled_ttest([-0.02] * 5, n_train=1700, n_test=425)
    assert result.p_value == 0.0 and result.significant_at_5pct
    assert result.ci_low == result.ci_high == pytest.approx(-0.02)
    assert result.t == -math.inf


@pytest.mark.parametrize(("differences", "n_train", "n_test"), [([0.01], 100, 25), (D, 0, 25), (D, 100, 0)])
def test_too_few_folds_or_empty_splits_are_refused(differences, n_train, n_test):
    with pytest.raises(ValueError):
        corrected_resampled_ttest(differences, n_train, n_test)


# --- equivalence within a margin (TOST) and Holm's adjustment ------------------------------------------


def test_the_one_sided_tests_against_the_margin_by_hand():
    # D as above: mean 0.015, corrected standard error 0.0075, df 4; margin 1 point = 0.01
    # above −margin: t = (0.015 + 0.01) / 0.0075 = 10/3; below +margin: t = (0.015 − 0.01) / 0.0075 = 2/3
    result = margin_tests(D, n_train=1700, n_test=425, margin=0.01)
    assert result.p_above == pytest.approx(1 - student_t4_cdf(10 / 3), abs=1e-9)
    assert result.p_below == pytest.approx(student_t4_cdf(2 / 3), abs=1e-9)
    assert result.p_beyond == pytest.approx(student_t4_cdf(10 / 3), abs=1e-9)
    assert result.p_equivalent == result.p_below  # ≈ 0.73: not shown inside ±1 point
    quantile_95 = 2.131846786  # t(0.95, 4), tables: the TOST's 90% interval
    assert student_t4_cdf(quantile_95) == pytest.approx(0.95, abs=1e-9)
    assert result.ci90_low == pytest.approx(0.015 - quantile_95 * 0.0075, abs=1e-6)
    assert result.ci90_high == pytest.approx(0.015 + quantile_95 * 0.0075, abs=1e-6)


def test_a_constant_difference_inside_the_margin_is_equivalent_outside_it_is_beyond():
    inside = margin_tests([-0.002] * 5, n_train=1700, n_test=425, margin=0.01)
    assert inside.p_equivalent == 0.0 and inside.p_beyond == 1.0
    beyond = margin_tests([-0.02] * 5, n_train=1700, n_test=425, margin=0.01)
    assert beyond.p_equivalent == 1.0 and beyond.p_beyond == 0.0


def test_a_negative_margin_is_refused():
    with pytest.raises(ValueError, match="margin must be >= 0"):
        margin_tests(D, n_train=1700, n_test=425, margin=-0.01)


def test_holm_on_a_hand_made_list():
    # sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → raised to 0.06 (monotone)
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.6]) == [1.0, 1.0]  # capped at 1
    assert holm([0.2]) == [0.2] and holm([]) == []
