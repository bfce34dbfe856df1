"""A compressed copy against its fp32 weights on the same examples: the paired difference's interval and
its non-inferiority test, by hand."""

from __future__ import annotations

import math

import pytest

from distilbench.report.same_examples import same_examples_difference

Z_95 = 1.6448536  # the standard normal's 95th percentile, tables


def test_rotten_tomatoes_teacher_int8_is_not_shown_within_a_point():
    # 22 rows right only as int8, 31 only as fp32, of 1300 (the committed report)
    got = same_examples_difference(22, 31, 1300, margin=0.01)
    d = -9 / 1300
    se = math.sqrt((53 / 1300 - d**2) / 1300)
    assert got.difference == pytest.approx(d)
    assert (100 * got.ci90_low, 100 * got.ci90_high) == pytest.approx((-1.61, 0.23), abs=0.005)
    assert got.ci90_low == pytest.approx(d - Z_95 * se)
    assert got.p_noninferior == pytest.approx(0.5 * math.erfc((d + 0.01) / se / math.sqrt(2)))
    assert not got.noninferior


def test_bbc_teacher_int8_is_shown_within_a_point():
    got = same_examples_difference(8, 8, 2127, margin=0.01)
    assert got.difference == 0.0
    assert got.ci90_low == pytest.approx(-Z_95 * math.sqrt(16 / 2127 / 2127))  # −0.31 point
    assert got.noninferior


def test_no_discordant_example_uses_the_exact_bound():
    got = same_examples_difference(0, 0, 500, margin=0.01)
    assert got.p_noninferior == pytest.approx(0.99**500)  # no discordant row in 500 at a 1% rate
    assert got.ci90_low == pytest.approx(-(1 - 0.05 ** (1 / 500)))
    assert got.noninferior
