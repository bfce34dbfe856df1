"""A compressed variant against its own fp32 model: McNemar's exact test on a hand-made table, and the
report's pooling of the discordant examples over folds."""

from __future__ import annotations

import pandas as pd
import pytest

from distilbench.report.agreement import agreement_metrics, agreement_section, variant_checks
from distilbench.report.statistics import mcnemar_exact


def test_mcnemar_exact_on_a_hand_made_table():
    # 2×2 of (variant right?, fp32 right?): 400 both, 1 only the variant, 9 only fp32, 15 neither.
    # Only the 10 discordant examples count: P(X ≤ 1 | n = 10, ½) = (1 + 10) / 1024, two-sided twice that
    assert mcnemar_exact(1, 9) == pytest.approx(22 / 1024)
    assert mcnemar_exact(9, 1) == pytest.approx(22 / 1024)
    assert mcnemar_exact(3, 3) == 1.0
    assert mcnemar_exact(0, 0) == 1.0  # the same answers on every example


def folds(only_variant: list[int], only_fp32: list[int], agreement: list[float]) -> pd.DataFrame:
    n = len(only_variant)
    source = {"model": ["s"] * n, "variant_of": [None] * n, "eval_examples": [100] * n}
    variant = {
        "model": ["s+onnx-int8"] * n,
        "variant_of": ["s"] * n,
        "eval_examples": [100] * n,
        "only_variant_right": only_variant,
        "only_fp32_right": only_fp32,
        "agreement_with_fp32": agreement,
    }
    return pd.concat([pd.DataFrame(source), pd.DataFrame(variant)], ignore_index=True)


def test_discordant_examples_are_pooled_over_folds():
    (check,) = variant_checks(folds([0, 1], [4, 5], [0.95, 0.93]))
    assert (check.model, check.source, check.examples) == ("s+onnx-int8", "s", 200)
    assert check.agreement == pytest.approx(0.94)
    assert (check.only_variant_right, check.only_fp32_right) == (1, 9)
    assert check.p_value == pytest.approx(22 / 1024)
    assert check.words == "less accurate than its fp32 model"
    last_row = agreement_section([check])[-2].splitlines()[-1]
    cells = [cell.strip() for cell in last_row.strip("|").split("|")]
    assert cells[:8] == [
        "s+onnx-int8",
        "s",
        "200",
        "94.0%",
        "1",
        "9",
        "0.021",
        "less accurate than its fp32 model",
    ]
    assert agreement_metrics([check])["s+onnx-int8"]["vs_fp32_mcnemar_p"] == pytest.approx(22 / 1024)


def test_a_variant_that_answers_as_its_source_shows_no_evidence_of_a_difference():
    (check,) = variant_checks(folds([0, 0], [0, 0], [1.0, 1.0]))
    assert check.p_value == 1.0 and check.words == "no evidence of a difference"


def test_results_without_the_counts_have_no_section():
    old = folds([0], [0], [1.0]).drop(columns=["only_variant_right", "only_fp32_right"])
    assert variant_checks(old) == [] and agreement_section([]) == []


def test_a_fold_counts_the_examples_only_one_of_the_two_gets_right():
    import numpy as np

    from distilbench.crossval.variants import HeldOutFold

    truth = np.array([0, 1, 2, 0])
    fp32 = np.eye(3)[[0, 1, 1, 1]]  # right on examples 0 and 1
    variant = np.eye(3)[[0, 2, 2, 1]]  # right on examples 0 and 2
    fold = HeldOutFold([], truth, fp32, collate=None, multilabel=False, threshold=0.5, eval_batch_size=2)
    assert fold.discordant(variant) == (1, 1)  # example 2 only as the variant, example 1 only as fp32
    assert fold.discordant(fp32) == (0, 0)
    labels = np.array([[1, 0], [0, 1]])
    both = HeldOutFold([], labels, np.array([[5.0, -5.0], [-5.0, -5.0]]), None, True, 0.5, 2)
    assert both.discordant(np.array([[5.0, -5.0], [-5.0, 5.0]])) == (1, 0)  # every label right, or not
