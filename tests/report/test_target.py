"""The inference target judged on the bounds: the speed-up's lower 95% bound and the accuracy difference's
lower 90% bound, not the point estimates."""

from __future__ import annotations

import pandas as pd

from distilbench.report.agreement import VariantCheck
from distilbench.report.pairs import Comparison
from distilbench.report.ratios import Ratio
from distilbench.report.same_examples import same_examples_difference
from distilbench.report.statistics import corrected_resampled_ttest, margin_tests
from distilbench.report.target import TargetEvidence, target_evidence, target_line

ROWS = pd.DataFrame(
    [
        {"model": "teacher", "variant": None, "accuracy_mean": 0.78, "latency_p50_ms": 12.0},
        {"model": "teacher+onnx-int8", "variant": "onnx-int8", "accuracy_mean": 0.773, "latency_p50_ms": 3.0},
        {"model": "student+onnx-int8", "variant": "onnx-int8", "accuracy_mean": 0.78, "latency_p50_ms": 2.0},
    ]
)


def evidence(low: float, speedup: float, speedup_low: float, difference: float = 0.0) -> TargetEvidence:
    return TargetEvidence(difference, low, difference + 0.5, speedup, speedup_low, "test")


def test_a_point_estimate_over_the_target_is_not_enough():
    # 4× on average but the folds reach 2.9×: not met, though every point estimate is
    (line,) = target_line(ROWS, "teacher", {"student+onnx-int8": evidence(-0.5, 4.0, 2.9)})
    assert line.startswith("**Inference target not met**") and "lower 95% bound of 2.90×" in line


def test_an_accuracy_bound_beyond_the_drop_rules_a_variant_out():
    # Rotten Tomatoes' teacher int8: −0.69 points at the mean, its 90% CI reaching −1.61
    found = {"teacher+onnx-int8": evidence(-1.61, 3.96, 2.88, difference=-0.69)}
    (line,) = target_line(ROWS, "teacher", found)
    assert line.startswith("**Inference target not met**: no compressed variant is shown within 1 point")
    assert "teacher+onnx-int8 at -0.69 accuracy points (90% CI -1.61 to" in line


def test_the_best_speed_up_bound_among_variants_within_the_drop_meets_it():
    found = {"teacher+onnx-int8": evidence(-1.2, 9.0, 8.0), "student+onnx-int8": evidence(-0.8, 5.0, 3.5)}
    (line,) = target_line(ROWS, "teacher", found)
    assert line.startswith("**Inference target met**") and "student+onnx-int8" in line
    assert "5.00× the fp32 teacher at batch 1 with a lower 95% bound of 3.50×" in line


def test_the_evidence_is_the_same_examples_test_for_the_teachers_copy_and_the_t_test_for_a_retrained_row():
    differences = [0.002, -0.003, 0.004]
    retrained = Comparison(
        "d",
        "student+onnx-int8",
        "teacher",
        "teacher",
        ((1, 1), (1, 2), (1, 3)),
        tuple(differences),
        corrected_resampled_ttest(differences, 866, 434),
        margin_tests(differences, 866, 434, 0.01),
    )
    same = same_examples_difference(22, 31, 1300, 0.01)
    copy = VariantCheck("teacher+onnx-int8", "teacher", 1300, 0.959, 22, 31, 0.27, same)
    speed = {"latency_speedup": Ratio(4.0, 2.88, 5.56, 3)}
    got = target_evidence(
        ["teacher+onnx-int8", "student+onnx-int8"],
        "teacher",
        [retrained],
        [copy],
        {"teacher+onnx-int8": speed, "student+onnx-int8": speed},
    )
    assert got["teacher+onnx-int8"].difference_low == 100 * same.ci90_low
    assert got["student+onnx-int8"].difference_low == 100 * retrained.margins.ci90_low
    assert got["teacher+onnx-int8"].speedup_low == 2.88
