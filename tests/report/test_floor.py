"""The floor under the fold variance: folds that happen to agree never give p = 0."""

from __future__ import annotations

import math

import pytest

from distilbench.report.floor import BINOMIAL, DISAGREEMENT, FEWEST, fold_variance_floor
from distilbench.report.statistics import corrected_resampled_ttest, margin_tests

# BBC's quickstart folds: 2127 articles in 3 folds of 709
N_TEST, N_TRAIN = 709, 1418
T_975_DF2 = 4.302653  # t(0.975, 2), tables


def test_folds_that_agree_exactly_get_the_binomial_floor_and_no_certainty():
    constant = [-0.02, -0.02, -0.02]
    floor = fold_variance_floor(constant, N_TEST, (0.94, 0.96))
    assert floor.source == BINOMIAL
    assert floor.variance == pytest.approx((0.94 * 0.06 + 0.96 * 0.04) / 709)
    unfloored = corrected_resampled_ttest(constant, N_TRAIN, N_TEST)
    assert unfloored.p_value == 0.0  # what the floor exists for
    floored = corrected_resampled_ttest(constant, N_TRAIN, N_TEST, floor.variance)
    se = math.sqrt((1 / 3 + 709 / 1418) * floor.variance)  # by hand: (1/3 + 1/2) · s²
    assert floored.t == pytest.approx(-0.02 / se)
    assert floored.ci_low == pytest.approx(-0.02 - T_975_DF2 * se, abs=1e-6)
    assert floored.p_value > 0.0 and not floored.significant_at_5pct  # 3 equal numbers: t ≈ −2.14


def test_a_zero_difference_on_every_fold_is_not_shown_equivalent_for_free():
    same = [0.0, 0.0, 0.0]
    assert margin_tests(same, N_TRAIN, N_TEST, 0.01).p_equivalent == 0.0  # without the floor
    floor = fold_variance_floor(same, N_TEST, (0.96, 0.96))
    assert floor.source == BINOMIAL
    assert margin_tests(same, N_TRAIN, N_TEST, 0.01, floor.variance).p_equivalent > 0.05


def test_the_measured_disagreement_rate_is_the_floor_always():
    differences = [0.003, 0.004, 0.002]  # sd 0.1 point: closer than 709 rows allow at 2% disagreement
    floor = fold_variance_floor(differences, N_TEST, (0.96, 0.957), disagreement=0.02)
    assert floor.source == DISAGREEMENT
    assert floor.variance == pytest.approx((0.02 - 0.003**2) / 709)  # (q − d̄²) / n_test
    test = corrected_resampled_ttest(differences, N_TRAIN, N_TEST, floor.variance)
    assert test.t == pytest.approx(0.003 / math.sqrt((1 / 3 + 0.5) * floor.variance))


def test_without_predictions_the_fewest_disagreements_the_mean_allows_bound_it():
    # the CNN against the teacher on BBC: −2.26, −2.12, −1.97 points, sd 0.15 point
    differences = [-0.0226, -0.0212, -0.0197]
    floor = fold_variance_floor(differences, N_TEST, (0.9375, 0.9586))
    mean = sum(differences) / 3
    assert floor.source == FEWEST
    assert floor.variance == pytest.approx((abs(mean) - mean**2) / 709)  # q ≥ |d̄|
    assert math.sqrt(floor.variance) == pytest.approx(0.0054, abs=1e-4)  # 0.54 point a fold


def test_folds_that_vary_more_than_the_floor_keep_their_own_variance():
    differences = [0.01, -0.01, 0.004]
    floor = fold_variance_floor(differences, N_TEST, (0.9, 0.9))
    assert corrected_resampled_ttest(
        differences, N_TRAIN, N_TEST, floor.variance
    ) == corrected_resampled_ttest(differences, N_TRAIN, N_TEST)


def test_a_disagreement_rate_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="share of rows"):
        fold_variance_floor([0.0, 0.01], N_TEST, (0.9, 0.9), disagreement=1.5)
