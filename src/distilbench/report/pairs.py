"""Paired comparisons: is a model's accuracy really different from the teacher's (or, for a distilled
student, from the same student fine-tuned on labels alone)? Folds are paired on (dataset, repeat, fold)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from distilbench.report.statistics import PairedTest, corrected_resampled_ttest

if TYPE_CHECKING:
    from distilbench.report.variants import RowSpec

PAIR_KEY = ["repeat", "fold"]
SAME_ARCHITECTURE = ("kind", "source", "id", "layers")


@dataclass(frozen=True)
class Comparison:
    dataset: str
    model: str
    against: str
    role: str  # "teacher" or "fine-tuned": what `against` is to `model`
    folds: tuple[tuple[int, int], ...]  # the paired (repeat, fold)s
    differences: tuple[float, ...]  # accuracy of model − against, per paired fold
    test: PairedTest | None  # None with fewer than two paired folds (a hold-out split)


def fine_tuned_twin(spec: RowSpec, specs: list[RowSpec]) -> str | None:
    """The model with the distilled one's architecture trained without a teacher, if the zoo has one."""
    for other in specs:
        same = all(getattr(other.model, k) == getattr(spec.model, k) for k in SAME_ARCHITECTURE)
        if same and not other.variant and not other.distil_from and other.name != spec.name:
            return other.name
    return None


def planned_pairs(specs: list[RowSpec], teacher: str) -> list[tuple[str, str, str]]:
    """(model, against, role): every model against the teacher, every distilled one against its twin,
    every compressed variant against its fp32 source."""
    pairs = [(s.name, teacher, "teacher") for s in specs if s.name != teacher]
    for spec in specs:
        twin = fine_tuned_twin(spec, specs) if spec.distil_from else None
        if twin:
            pairs.append((spec.name, twin, "fine-tuned"))
        if spec.variant_of:
            pairs.append((spec.name, spec.variant_of, "fp32 source"))
    return pairs


def compare(folds: pd.DataFrame, model: str, against: str, role: str, n_examples: int) -> Comparison:
    """One dataset's folds: the paired differences and their corrected resampled t-test."""
    accuracy = folds.pivot_table(index=PAIR_KEY, columns="model", values="accuracy")
    paired = accuracy[[model, against]].dropna()
    differences = paired[model] - paired[against]
    n_test = float(folds.loc[folds["model"] == model, "eval_examples"].mean())
    # the outer training part (what the fold's model learnt from, inner validation included)
    n_train = n_examples - n_test
    test = corrected_resampled_ttest(differences, n_train, n_test) if len(differences) > 1 else None
    return Comparison(
        folds["dataset"].iloc[0],
        model,
        against,
        role,
        tuple((int(r), int(f)) for r, f in paired.index),
        tuple(float(d) for d in differences),
        test,
    )


def dataset_comparisons(
    folds: pd.DataFrame, specs: list[RowSpec], teacher: str, info: dict
) -> list[Comparison]:
    present = set(folds["model"])
    return [
        compare(folds, model, against, role, info["examples"])
        for model, against, role in planned_pairs(specs, teacher)
        if model in present and against in present
    ]


def _points(value: float) -> str:
    return f"{100 * value:+.2f}"


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def fold_label(repeat: int, fold: int, repeats: int) -> str:
    return f"fold {fold}" if repeats == 1 else f"r{repeat} f{fold}"


def verdict(test: PairedTest | None) -> str:
    if test is None:
        return "no test (one fold)"
    return "significant at 5%" if test.significant_at_5pct else "not significant at 5%"


def comparison_table(comparisons: list[Comparison]) -> pd.DataFrame:
    repeats = max((r for c in comparisons for r, _ in c.folds), default=1)
    return pd.DataFrame(
        [
            {
                "Model": c.model,
                "Against": f"{c.against} ({c.role})",
                "Mean difference (pts)": _points(c.test.mean_difference) if c.test else "—",
                "95% CI (pts)": f"{_points(c.test.ci_low)} to {_points(c.test.ci_high)}" if c.test else "—",
                "p": _p(c.test.p_value) if c.test else "—",
                "At 5%": verdict(c.test),
                "Fold differences (pts)": ", ".join(
                    f"{fold_label(r, f, repeats)}: {_points(d)}"
                    for (r, f), d in zip(c.folds, c.differences, strict=True)
                ),
            }
            for c in comparisons
        ]
    )


def comparison_section(comparisons: list[Comparison]) -> list[str]:
    if not comparisons:
        return []
    return [
        "Paired comparisons (accuracy of the model minus the one it is compared with, in points; 95% CI "
        "and p from the corrected resampled t-test of Nadeau & Bengio 2003, which allows for folds "
        "sharing training data):",
        "",
        # as written: tabulate would otherwise reparse "-4.00" into -4
        comparison_table(comparisons).to_markdown(index=False, disable_numparse=True),
        "",
    ]


ROLE_PREFIX = {"teacher": "vs_teacher", "fine-tuned": "vs_fine_tuned", "fp32 source": "vs_fp32"}


def comparison_metrics(comparisons: list[Comparison]) -> dict[str, dict[str, float]]:
    """model -> numbers for metrics.json: `vs_teacher_*`, for a distilled student `vs_fine_tuned_*`, for a
    compressed variant `vs_fp32_*` (against its own fp32 model)."""
    out: dict[str, dict[str, float]] = {}
    for c in comparisons:
        if c.test is None:
            continue
        prefix = ROLE_PREFIX[c.role]
        out.setdefault(c.model, {}).update(
            {
                f"{prefix}_accuracy_diff_pts": 100 * c.test.mean_difference,
                f"{prefix}_ci_low_pts": 100 * c.test.ci_low,
                f"{prefix}_ci_high_pts": 100 * c.test.ci_high,
                f"{prefix}_p_value": c.test.p_value,
                f"{prefix}_significant_at_5pct": float(c.test.significant_at_5pct),
            }
        )
    return out
