"""The paired comparisons' verdicts, one of each, on hand-made fold differences (5 folds of 2125
examples: 1700 to train on, 425 held out, so the corrected factor is 1/5 + 1/4 = 0.45), and Holm's
adjustment over a dataset's comparisons."""

from __future__ import annotations

import pytest

from distilbench.report.pairs import (
    BETTER,
    EQUIVALENT,
    INCONCLUSIVE,
    WORSE,
    WORSE_BEYOND,
    Comparison,
    with_holm,
)
from distilbench.report.statistics import corrected_resampled_ttest, margin_tests
from distilbench.report.verdicts import verdict_words

MARGIN = 0.01  # 1 accuracy point


def comparison(differences: list[float], model: str = "student") -> Comparison:
    return Comparison(
        "news",
        model,
        "teacher",
        "teacher",
        tuple((1, f + 1) for f in range(len(differences))),
        tuple(differences),
        corrected_resampled_ttest(differences, n_train=1700, n_test=425),
        margin_tests(differences, n_train=1700, n_test=425, margin=MARGIN),
    )


def alone(differences: list[float]) -> Comparison:
    """A family of one: Holm leaves its p-values as they are."""
    return with_holm([comparison(differences)])[0]


@pytest.mark.parametrize(
    ("differences", "expected"),
    [
        # mean 0, s² = 2.5e-6, se ≈ 0.00106: ±1 point is 9 standard errors away on both sides
        ([0.001, -0.001, 0.002, 0.0, -0.002], EQUIVALENT),
        # mean −3 points, se ≈ 0.00047: −1 point is 42 standard errors above it
        ([-0.03, -0.031, -0.029, -0.03, -0.03], WORSE_BEYOND),
        # mean +2 points, se ≈ 0.00047: above 0 for sure, and above +1 point too, so not equivalent
        ([0.02, 0.021, 0.019, 0.02, 0.02], BETTER),
        # mean −1.2 points, s² = 2e-5, se = 0.003: t = −4 (p ≈ 0.016, worse) but (−0.012 + 0.01) / 0.003
        # = −2/3 is no evidence of "beyond −1 point", nor of "above −1 point"
        ([-0.006, -0.018, -0.012, -0.010, -0.014], WORSE),
        # mean +1.5 points, se 0.0075: p ≈ 0.116, and below +1 point only 2/3 of a standard error
        ([0.01, 0.02, 0.00, 0.03, 0.015], INCONCLUSIVE),
    ],
)
def test_one_verdict_of_each_kind(differences, expected):
    assert alone(differences).verdict == expected


def test_the_words_never_say_equal_without_the_test_and_name_the_margin():
    equivalent = verdict_words(alone([0.001, -0.001, 0.002, 0.0, -0.002]))
    assert equivalent.startswith("equivalent within ±1 pt (90% CI")
    words = verdict_words(alone([0.01, 0.02, 0.00, 0.03, 0.015]))
    assert words.startswith("inconclusive with these folds (90% CI ") and words.endswith("not inside ±1 pt)")
    assert verdict_words(alone([-0.006, -0.018, -0.012, -0.010, -0.014])).startswith(
        "worse, not shown by more than 1 pt (95% CI"
    )


def test_holm_turns_a_lone_significant_difference_inconclusive_among_many():
    # the WORSE case above has p ≈ 0.016: alone it is worse; beside four comparisons with p = 1,
    # Holm multiplies it by 5 (≈ 0.08), and nothing can be said
    worse = [-0.006, -0.018, -0.012, -0.010, -0.014]
    family = with_holm(
        [comparison(worse, "a")] + [comparison([0.01, -0.01, 0.0, 0.01, -0.01], m) for m in "bcde"]
    )
    assert family[0].holm.m == 5
    assert family[0].holm.p_difference == pytest.approx(5 * family[0].test.p_value)
    assert family[0].verdict == INCONCLUSIVE
    assert alone(worse).verdict == WORSE


def test_a_comparison_without_a_test_is_no_test_and_outside_the_family():
    untested = Comparison("news", "cnn", "teacher", "teacher", ((1, 1),), (0.01,), None, None)
    family = with_holm([untested, comparison([0.01, 0.02, 0.00, 0.03, 0.015])])
    assert family[0].holm is None and family[1].holm.m == 1
    assert verdict_words(family[0]) == "no test (one fold)"


def test_the_distillation_sentences_say_what_each_twin_comparison_isolates_and_its_verdict():
    from dataclasses import replace

    from distilbench.report.pairs import FINE_TUNED, LABELS_ONLY
    from distilbench.report.verdicts import distillation_lines

    same_start = replace(comparison([0.02, 0.021, 0.019, 0.02, 0.02], "distilled"), against="ablation")
    recipe = replace(comparison([0.01, 0.02, 0.00, 0.03, 0.015], "distilled"), against="fine-tuned")
    to_teacher = comparison([0.0, 0.0, 0.001, -0.001, 0.0], "distilled")
    family = with_holm([replace(same_start, role=LABELS_ONLY), replace(recipe, role=FINE_TUNED), to_teacher])
    lines = distillation_lines(family)
    assert len(lines) == 2  # the comparison with the teacher is not one of them
    assert lines[0].startswith("**distilled** against **ablation**, what the distillation loss adds")
    assert "+2.00 points" in lines[0] and ": better (95% CI " in lines[0]
    assert "the distillation recipe as a whole" in lines[1] and "inconclusive with these folds" in lines[1]
