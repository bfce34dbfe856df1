"""Power for an unsettled verdict: the narrowest margin the folds could show, and the design that would
settle it, against hand computations with tabulated t quantiles."""

from __future__ import annotations

import math

import pytest

from distilbench.report.power import (
    DIFFERENT,
    EQUIVALENT,
    WORSE,
    Design,
    nearest_claim,
    settling_design,
    shown,
    smallest_margin,
)

T_95 = {2: 2.919986, 3: 2.353363, 4: 2.131847, 5: 2.015048}  # t(0.95, df), tables


def test_the_smallest_margin_of_bbcs_student_against_its_teacher():
    # -0.42, -0.14, 0.00 points on 3 folds of 709 of 2127 rows
    d = [-0.0042, -0.0014, 0.0]
    mean = sum(d) / 3
    s2 = sum((x - mean) ** 2 for x in d) / 2
    by_hand = T_95[2] * math.sqrt((1 / 3 + 709 / 1418) * s2)
    assert smallest_margin(s2, 3, 1418, 709, 0.05) == pytest.approx(by_hand, rel=1e-6)
    # s² = 4.573e-6: (1/3 + 1/2)·s² = 3.811e-6, √ = 0.00195, × 2.920 = 0.0057
    assert 100 * by_hand == pytest.approx(0.57, abs=0.005)  # ±0.57 point at best, even at a zero difference


def test_two_repeats_of_three_folds_settle_it_and_tie_on_cost_with_five_folds():
    # mean +0.2 point, s² = 1e-5, margin 1 point, 2127 rows, now 3 folds × 1 repeat
    # 3×1: se = √((1/3 + 1/2)·1e-5) = 0.002887; 0.002 + 2.920·0.002887 = 0.0104 ≥ 0.01: not shown
    assert not shown(EQUIVALENT, 0.002, math.sqrt((1 / 3 + 0.5) * 1e-5), 2, 0.01, 0.05)
    # 3×2: se = √((1/6 + 1/2)·1e-5) = 0.002582; 0.002 + 2.015·0.002582 = 0.0072 < 0.01: shown, cost 2·2 = 4
    assert 0.002 + T_95[5] * math.sqrt((1 / 6 + 0.5) * 1e-5) < 0.01
    # 5×1: s² grows to 1e-5·5/3, se = √((1/5 + 1/4)·1.667e-5) = 0.002739; 0.002 + 2.132·0.002739 = 0.0078:
    # shown too, at cost 1·4 = 4: the tie goes to fewer folds
    assert 0.002 + T_95[4] * math.sqrt((1 / 5 + 1 / 4) * 1e-5 * 5 / 3) < 0.01
    assert settling_design(EQUIVALENT, 0.002, 1e-5, Design(3, 1), 2127, 0.01, 0.05) == Design(3, 2)


def test_a_worse_claim_at_a_difference_inside_the_margin_is_never_settled():
    assert settling_design(WORSE, -0.005, 1e-6, Design(3, 1), 2127, 0.01, 0.05) is None


def test_a_smaller_level_needs_a_larger_design():
    at_5 = settling_design(EQUIVALENT, 0.002, 1e-5, Design(3, 1), 2127, 0.01, 0.05)
    at_holm = settling_design(EQUIVALENT, 0.002, 1e-5, Design(3, 1), 2127, 0.01, 0.05 / 7)
    assert at_holm is not None and at_holm.cost > at_5.cost


@pytest.mark.parametrize(
    ("mean", "claim"), [(0.004, EQUIVALENT), (-0.009, EQUIVALENT), (-0.03, WORSE), (0.02, DIFFERENT)]
)
def test_the_claim_an_inconclusive_difference_is_nearest(mean, claim):
    assert nearest_claim(mean, 0.01) == claim
