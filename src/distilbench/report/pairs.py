"""Paired comparisons: is a model's accuracy really different from the teacher's (or, for a distilled
student, from the same student fine-tuned on labels alone), or shown to be within the margin of it? Folds
are paired on (dataset, repeat, fold).

Each dataset's comparisons are one family: their p-values are Holm-adjusted over all of them, and each
verdict holds at 5% family-wise. The verdict is one of VERDICTS, never "equal".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import pandas as pd

from distilbench.report.statistics import (
    LEVEL,
    MarginTests,
    PairedTest,
    corrected_resampled_ttest,
    holm,
    margin_tests,
)
from distilbench.report.tables import text_section

if TYPE_CHECKING:
    from distilbench.report.variants import RowSpec

PAIR_KEY = ["repeat", "fold"]
SAME_ARCHITECTURE = ("kind", "source", "id", "layers")
# what a distilled student is compared with besides the teacher: the same student fine-tuned from the
# pre-trained checkpoint (the recipe), and its ablation (same start, labels only: what the loss adds)
FINE_TUNED = "fine-tuned"
LABELS_ONLY = "same start, labels only"


@dataclass(frozen=True)
class Comparison:
    dataset: str
    model: str
    against: str
    role: str  # "teacher", FINE_TUNED or LABELS_ONLY: what `against` is to `model`
    folds: tuple[tuple[int, int], ...]  # the paired (repeat, fold)s
    differences: tuple[float, ...]  # accuracy of model − against, per paired fold
    test: PairedTest | None  # None with fewer than two paired folds (a hold-out split)
    margins: MarginTests | None = None  # the one-sided tests against ±margin (None: no test)
    holm: Adjusted | None = None  # the family's Holm-adjusted p-values (set by dataset_comparisons)

    @property
    def verdict(self) -> str:
        return verdict_of(self)


@dataclass(frozen=True)
class Adjusted:
    """Holm-adjusted p-values of one comparison, over the m comparisons of its dataset."""

    m: int
    p_difference: float  # the two-sided test
    p_equivalent: float  # TOST
    p_beyond: float  # worse by more than the margin
    p_noninferior: float  # not worse by the margin or more (the select rule's evidence)

    @property
    def noninferior(self) -> bool:
        return self.p_noninferior < LEVEL


EQUIVALENT = "equivalent"
WORSE_BEYOND = "worse by more than the margin"
BETTER = "better"
WORSE = "worse"
INCONCLUSIVE = "inconclusive"
VERDICTS = (EQUIVALENT, WORSE_BEYOND, BETTER, WORSE, INCONCLUSIVE)


def verdict_of(c: Comparison) -> str:
    """What the tests allow to be said, each at 5% family-wise (Holm): the first that holds of
    worse by more than the margin, equivalent within it, better, worse; else inconclusive."""
    if c.test is None or c.holm is None:
        return INCONCLUSIVE
    if c.holm.p_beyond < LEVEL:
        return WORSE_BEYOND
    if c.holm.p_equivalent < LEVEL:
        return EQUIVALENT
    if c.holm.p_difference < LEVEL:
        return BETTER if c.test.mean_difference > 0 else WORSE
    return INCONCLUSIVE


def fine_tuned_twin(spec: RowSpec, specs: list[RowSpec]) -> str | None:
    """The model with the distilled one's architecture fine-tuned from the pre-trained checkpoint without
    a teacher (the DistilBERT recipe's student), if the zoo has one."""
    return _twin(spec, specs, lambda other: other.model.fold_teacher is None)


def labels_only_twin(spec: RowSpec, specs: list[RowSpec]) -> str | None:
    """The distillation ablation of a distilled student: its architecture, started from the same fine-tuned
    fold teacher, trained on labels only. The two differ in the distillation loss and in nothing else."""
    return _twin(spec, specs, lambda other: other.model.start_from == spec.distil_from)


def _twin(spec: RowSpec, specs: list[RowSpec], trained_so) -> str | None:
    for other in specs:
        same = all(getattr(other.model, k) == getattr(spec.model, k) for k in SAME_ARCHITECTURE)
        another = other.name != spec.name and not other.variant and not other.distil_from
        if same and another and trained_so(other):
            return other.name
    return None


def planned_pairs(specs: list[RowSpec], teacher: str) -> list[tuple[str, str, str]]:
    """(model, against, role): every model against the teacher, every distilled one against its twins
    (fine-tuned from the pre-trained checkpoint; and the ablation, from its own start on labels only).
    A compressed variant against its own fp32 model (the teacher's too) is not a retrained pair:
    report.agreement tests it."""
    pairs = [(s.name, teacher, "teacher") for s in specs if teacher not in (s.name, s.variant_of)]
    for spec in specs:
        if not spec.distil_from:
            continue
        for role, twin in (
            (FINE_TUNED, fine_tuned_twin(spec, specs)),
            (LABELS_ONLY, labels_only_twin(spec, specs)),
        ):
            if twin:
                pairs.append((spec.name, twin, role))
    return pairs


def compare(
    folds: pd.DataFrame, model: str, against: str, role: str, n_examples: int, margin: float
) -> Comparison:
    """One dataset's folds: the paired differences, their corrected resampled t-test and the one-sided
    tests against ±margin (accuracy, 0.01 = 1 point)."""
    accuracy = folds.pivot_table(index=PAIR_KEY, columns="model", values="accuracy")
    paired = accuracy[[model, against]].dropna()
    differences = paired[model] - paired[against]
    n_test = float(folds.loc[folds["model"] == model, "eval_examples"].mean())
    # the outer training part (what the fold's model learnt from, inner validation included)
    n_train = n_examples - n_test
    testable = len(differences) > 1
    return Comparison(
        folds["dataset"].iloc[0],
        model,
        against,
        role,
        tuple((int(r), int(f)) for r, f in paired.index),
        tuple(float(d) for d in differences),
        corrected_resampled_ttest(differences, n_train, n_test) if testable else None,
        margin_tests(differences, n_train, n_test, margin) if testable else None,
    )


def dataset_comparisons(
    folds: pd.DataFrame, specs: list[RowSpec], teacher: str, info: dict, margin: float
) -> list[Comparison]:
    """Every planned pair present in one dataset's folds, Holm-adjusted as one family.

    margin: in accuracy points (params.yaml's select.max_accuracy_drop), as users state it.
    """
    present = set(folds["model"])
    comparisons = [
        compare(folds, model, against, role, info["examples"], margin / 100)
        for model, against, role in planned_pairs(specs, teacher)
        if model in present and against in present
    ]
    return with_holm(comparisons)


def with_holm(comparisons: list[Comparison]) -> list[Comparison]:
    """Each tested comparison with its Holm-adjusted p-values over all the tested ones."""
    tested = [c for c in comparisons if c.test and c.margins]
    columns = [
        holm([c.test.p_value for c in tested]),
        holm([c.margins.p_equivalent for c in tested]),
        holm([c.margins.p_beyond for c in tested]),
        holm([c.margins.p_above for c in tested]),
    ]
    adjusted = {id(c): Adjusted(len(tested), *ps) for c, *ps in zip(tested, *columns, strict=True)}
    return [replace(c, holm=adjusted.get(id(c))) for c in comparisons]


def _points(value: float) -> str:
    return f"{100 * value:+.2f}"


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def fold_label(repeat: int, fold: int, repeats: int) -> str:
    return f"fold {fold}" if repeats == 1 else f"r{repeat} f{fold}"


def verdict_words(c: Comparison) -> str:
    """The verdict as the table and the report's sentences say it, with the margin in points."""
    if c.test is None:
        return "no test (one fold)"
    margin = f"{100 * c.margins.margin:g} pt"
    words = {
        EQUIVALENT: f"equivalent within ±{margin}",
        WORSE_BEYOND: f"worse by more than {margin}",
        BETTER: "better",
        WORSE: f"worse (not shown by more than {margin})",
        INCONCLUSIVE: (
            f"inconclusive with these folds (90% CI {_points(c.margins.ci90_low)} to "
            f"{_points(c.margins.ci90_high)}, not inside ±{margin})"
        ),
    }
    return words[c.verdict]


DISTILLATION_WORDS = {
    LABELS_ONLY: "what the distillation loss adds (the same start and settings, trained on labels only)",
    FINE_TUNED: "the distillation recipe as a whole (new start and new loss, against the student fine-tuned "
    "from the pre-trained checkpoint)",
}


def distillation_lines(comparisons: list[Comparison]) -> list[str]:
    """One sentence per distilled student's twin comparison: what distilling it bought, as the tests say."""
    return [
        f"**{c.model}** against **{c.against}**, {DISTILLATION_WORDS[c.role]}: "
        f"{_points(c.test.mean_difference)} points (95% CI {_points(c.test.ci_low)} to "
        f"{_points(c.test.ci_high)}): {verdict_words(c)}."
        for c in comparisons
        if c.role in DISTILLATION_WORDS and c.test is not None
    ]


def comparison_table(comparisons: list[Comparison]) -> pd.DataFrame:
    repeats = max((r for c in comparisons for r, _ in c.folds), default=1)
    holm_column = f"p (Holm, m = {family_size(comparisons)})"
    return pd.DataFrame(
        [
            {
                "Model": c.model,
                "Against": f"{c.against} ({c.role})",
                "Mean difference (pts)": _points(c.test.mean_difference) if c.test else "—",
                "95% CI (pts)": f"{_points(c.test.ci_low)} to {_points(c.test.ci_high)}" if c.test else "—",
                "p": _p(c.test.p_value) if c.test else "—",
                holm_column: _p(c.holm.p_difference) if c.holm else "—",
                "Verdict (5%, Holm)": verdict_words(c),
                "Fold differences (pts)": ", ".join(
                    f"{fold_label(r, f, repeats)}: {_points(d)}"
                    for (r, f), d in zip(c.folds, c.differences, strict=True)
                ),
            }
            for c in comparisons
        ]
    )


def family_size(comparisons: list[Comparison]) -> int:
    return next((c.holm.m for c in comparisons if c.holm), 0)


def comparison_section(comparisons: list[Comparison]) -> list[str]:
    if not comparisons:
        return []
    margin = next((f"{100 * c.margins.margin:g}" for c in comparisons if c.margins), "?")
    return text_section(
        "Paired comparisons (accuracy of the model minus the one it is compared with, in points; 95% CI "
        "and p from the corrected resampled t-test of Nadeau & Bengio 2003, which allows for folds "
        f"sharing training data). The verdict: **equivalent within ±{margin} point** when two one-sided "
        f"tests with the same variance (TOST) put the difference inside ±{margin} "
        "(select.max_accuracy_drop), "
        f"**worse by more than {margin} point** when a one-sided test puts it below −{margin}, **better** or "
        "**worse** when the two-sided test says so, else **inconclusive with these folds** (more folds or "
        f"repeats would be needed to settle it). Each holds at 5% over all {family_size(comparisons)} "
        "comparisons of this dataset (Holm); the raw p is beside the adjusted one:",
        comparison_table(comparisons),
    )


ROLE_PREFIX = {"teacher": "vs_teacher", FINE_TUNED: "vs_fine_tuned", LABELS_ONLY: "vs_labels_only"}


def comparison_metrics(comparisons: list[Comparison]) -> dict[str, dict[str, float]]:
    """model -> numbers for metrics.json: `vs_teacher_*`, and for a distilled student `vs_fine_tuned_*`."""
    out: dict[str, dict[str, float]] = {}
    for c in comparisons:
        if c.test is None or c.holm is None:
            continue
        prefix = ROLE_PREFIX[c.role]
        out.setdefault(c.model, {}).update(
            {
                f"{prefix}_accuracy_diff_pts": 100 * c.test.mean_difference,
                f"{prefix}_ci_low_pts": 100 * c.test.ci_low,
                f"{prefix}_ci_high_pts": 100 * c.test.ci_high,
                f"{prefix}_p_value": c.test.p_value,
                f"{prefix}_significant_at_5pct": float(c.test.significant_at_5pct),
                f"{prefix}_p_holm": c.holm.p_difference,
                f"{prefix}_p_equivalent_holm": c.holm.p_equivalent,
                f"{prefix}_equivalent": float(c.verdict == EQUIVALENT),
                f"{prefix}_p_noninferior_holm": c.holm.p_noninferior,
                f"{prefix}_noninferior": float(c.holm.noninferior),
            }
        )
    return out
