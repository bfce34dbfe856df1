"""The verdict words print the interval the verdict rests on: never a 90% CI inside the margin beside
"not inside", and an inconclusive secondary whose unadjusted test passes says so plainly."""

from __future__ import annotations

import re

import pytest

from distilbench.report.pairs import INCONCLUSIVE, Comparison, Primary, with_holm
from distilbench.report.sequence import NOT_SHOWN, SHOWN
from distilbench.report.statistics import corrected_resampled_ttest, margin_tests
from distilbench.report.verdicts import power_words, verdict_words

N_TRAIN, N_TEST = 1418, 709  # BBC's 3 folds of 709


def comparison(model: str, differences: list[float]) -> Comparison:
    return Comparison(
        "bbc",
        model,
        "teacher",
        "teacher",
        tuple((1, f + 1) for f in range(len(differences))),
        tuple(differences),
        corrected_resampled_ttest(differences, N_TRAIN, N_TEST),
        margin_tests(differences, N_TRAIN, N_TEST, 0.01),
        sizes=(N_TRAIN, N_TEST),
    )


STUDENT = [-3 / 709, -1 / 709, 0.0]  # BBC's fine-tuned student (rows of 709): 90% CI −0.76 to +0.39 points
NOISE = [0.004, -0.006, 0.002]
FAMILY = {
    "student": STUDENT,
    "worse": [-0.03, -0.032, -0.029],
    "behind": [-0.02, -0.035, -0.01],
    "ahead": [0.015, 0.025, 0.02],
    **{f"n{i}": NOISE for i in range(3)},
}
INTERVAL = re.compile(r"(90|95)% CI ([+-]\d+\.\d+) to ([+-]\d+\.\d+)")


def family() -> dict[str, Comparison]:
    return {c.model: c for c in with_holm([comparison(m, d) for m, d in FAMILY.items()])}


def test_the_issues_example_says_the_unadjusted_test_passes_and_holms_does_not():
    words = verdict_words(family()["student"])
    assert words.startswith(
        "inconclusive after Holm: unadjusted, its 90% CI -0.76 to +0.39 lies inside ±1 pt"
    )
    assert "(p = 0.027)" in words and "over 7 secondary comparisons, not below 5%" in words
    assert "not inside" not in words


@pytest.mark.parametrize("model", list(FAMILY))
def test_every_printed_interval_is_the_tests_and_agrees_with_its_words(model):
    c = family()[model]
    words = verdict_words(c)
    level, low, high = INTERVAL.search(words).groups()
    low, high = float(low), float(high)
    if level == "90":  # the margin tests' interval, as the verdict used it
        assert (low, high) == pytest.approx((100 * c.margins.ci90_low, 100 * c.margins.ci90_high), abs=0.006)
    else:
        assert (low, high) == pytest.approx((100 * c.test.ci_low, 100 * c.test.ci_high), abs=0.006)
    if "not inside ±1 pt" in words:
        assert not (low > -1 and high < 1)
    elif "inside ±1 pt" in words:
        assert low > -1 and high < 1
    if "below −1 pt" in words:
        assert high < -1
    if "excludes 0" in words:
        assert high < 0 or low > 0
    if c.verdict == INCONCLUSIVE and "not inside" in words:  # nothing passes, even unadjusted
        assert c.margins.p_equivalent >= 0.05 and c.margins.p_beyond >= 0.05 and c.test.p_value >= 0.05
    holm_p = re.search(r"Holm-adjusted p (?:= ([\d.]+)|< 0\.001)", words)
    if holm_p and c.verdict != INCONCLUSIVE:
        assert holm_p.group(1) is None or float(holm_p.group(1)) < 0.05
    if holm_p and c.verdict == INCONCLUSIVE:
        assert float(holm_p.group(1)) >= 0.05


def test_a_primary_question_prints_its_own_interval_at_five_percent():
    from dataclasses import replace

    c = comparison("student", STUDENT)
    shown = replace(c, primary=Primary(1, "equivalent", SHOWN, c.margins.p_equivalent))
    assert verdict_words(shown) == (
        "equivalent within ±1 pt (90% CI -0.76 to +0.39 inside ±1 pt, p = 0.027; primary question 1, 5% in "
        "the fixed sequence)"
    )
    failed = replace(c, primary=Primary(2, "worse", NOT_SHOWN, c.margins.p_beyond))
    assert verdict_words(failed).startswith(
        "inconclusive: primary question 2 (worse by more than 1 pt) not shown, its 90% CI -0.76 to +0.39 not "
        "wholly below −1 pt"
    )


def test_settled_verdicts_have_no_power_line_and_unsettled_ones_name_a_design():
    from distilbench.report.pairs import with_power

    found = {c.model: c for c in with_power(list(family().values()), 2127)}
    assert power_words(found["worse"]) == "—"
    words = power_words(found["student"])
    assert words.startswith("at 0.71% (Holm's strictest step), these 3 paired folds (df 2)")
    assert re.search(r"about \d+ repeats? of (3|5|10) folds would show equivalence within ±1 pt$", words)
