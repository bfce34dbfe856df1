"""A compressed variant against its own fp32 model: the same weights re-scored on the same held-out
examples, so the question is whether they answer alike, not whether a retrained model would score alike.
McNemar's exact test on the discordant examples pooled over folds answers it; the corrected resampled
t-test (report.pairs) is for retrained models and is not used here. The same counts give the paired
difference's 90% CI, and the one-sided test that the copy is not worse by the margin: for a copy of the
teacher's own weights, the select rule's evidence (one test per copy, at 5%)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from distilbench.config.settings import SelectConfig
from distilbench.report.choice import NONINFERIOR_KEY
from distilbench.report.same_examples import SameExamples, same_examples_difference
from distilbench.report.statistics import LEVEL, mcnemar_exact
from distilbench.report.tables import text_section

COUNTS = ("only_variant_right", "only_fp32_right", "agreement_with_fp32", "eval_examples")


@dataclass(frozen=True)
class VariantCheck:
    model: str  # the variant's row, <model>+<variant>
    source: str  # its fp32 row
    examples: int  # held-out examples, over all folds
    agreement: float  # share of them predicted as the fp32 model predicts them
    only_variant_right: int
    only_fp32_right: int
    p_value: float  # McNemar's exact test
    same: SameExamples  # the accuracy difference (variant − fp32), its 90% CI and the non-inferiority test

    @property
    def words(self) -> str:
        if self.p_value >= LEVEL:
            return "no evidence of a difference"
        better = self.only_variant_right > self.only_fp32_right
        return f"{'more' if better else 'less'} accurate than its fp32 model"


DEFAULT_MARGIN = SelectConfig().max_accuracy_drop / 100


def variant_checks(folds: pd.DataFrame, margin: float = DEFAULT_MARGIN) -> list[VariantCheck]:
    """One dataset's variant rows, each against its fp32 source, pooled over folds; margin in accuracy
    (0.01 = 1 point)."""
    if "variant_of" not in folds or not set(COUNTS) <= set(folds.columns):
        return []  # results from before the discordant counts were recorded: nothing to test
    rows = folds.dropna(subset=["variant_of", "only_variant_right"])
    checks = []
    for (model, source), own in rows.groupby(["model", "variant_of"], sort=False):
        examples = int(own["eval_examples"].sum())
        agreeing = float((own["agreement_with_fp32"] * own["eval_examples"]).sum())
        only_variant, only_fp32 = int(own["only_variant_right"].sum()), int(own["only_fp32_right"].sum())
        checks.append(
            VariantCheck(
                model,
                source,
                examples,
                agreeing / examples,
                only_variant,
                only_fp32,
                mcnemar_exact(only_variant, only_fp32),
                same_examples_difference(only_variant, only_fp32, examples, margin),
            )
        )
    return checks


def agreement_section(checks: list[VariantCheck]) -> list[str]:
    if not checks:
        return []
    table = pd.DataFrame(
        [
            {
                "Variant": c.model,
                "fp32 model": c.source,
                "Held-out examples": c.examples,
                "Same prediction": f"{100 * c.agreement:.1f}%",
                "Right only as variant": c.only_variant_right,
                "Right only as fp32": c.only_fp32_right,
                "p (McNemar, exact)": "< 0.001" if c.p_value < 0.001 else f"{c.p_value:.3f}",
                "At 5%": c.words,
                "Difference, 90% CI (pts)": _interval(c.same),
                "Not worse by the margin (5%)": "shown" if c.same.noninferior else "not shown",
            }
            for c in checks
        ]
    )
    return text_section(
        "Compressed variants against their own fp32 model (the same weights re-scored on the same held-out "
        "examples, pooled over folds; McNemar's exact test on the examples only one of them gets right; the "
        "difference's 90% CI from the same counts, and whether it shows the copy not worse than its fp32 "
        "model by the margin, one-sided at 5%):",
        table,
    )


def _interval(same: SameExamples) -> str:
    return f"{100 * same.difference:+.2f} ({100 * same.ci90_low:+.2f} to {100 * same.ci90_high:+.2f})"


def agreement_metrics(checks: list[VariantCheck], teacher: str | None = None) -> dict[str, dict[str, float]]:
    """variant row -> `vs_fp32_*` numbers for metrics.json; a copy of the teacher's own weights also gets
    the select rule's `vs_teacher_noninferior` from its same-weights test."""
    out = {
        c.model: {
            "vs_fp32_agreement": c.agreement,
            "vs_fp32_only_variant_right": float(c.only_variant_right),
            "vs_fp32_only_fp32_right": float(c.only_fp32_right),
            "vs_fp32_mcnemar_p": c.p_value,
            "vs_fp32_diff_pts": 100 * c.same.difference,
            "vs_fp32_ci90_low_pts": 100 * c.same.ci90_low,
            "vs_fp32_p_noninferior": c.same.p_noninferior,
        }
        for c in checks
    }
    for c in teacher_copies(checks, teacher):
        out[c.model][NONINFERIOR_KEY] = float(c.same.noninferior)
    return out


def teacher_copies(checks: list[VariantCheck], teacher: str | None) -> list[VariantCheck]:
    """The checks of compressed copies of the teacher's own weights."""
    return [c for c in checks if teacher is not None and c.source == teacher]
