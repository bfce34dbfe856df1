"""Paired comparisons: is a model's accuracy really different from the teacher's (or, for a distilled
student, from the same student fine-tuned on labels alone), or shown to be within the margin of it? Folds
are paired on (dataset, repeat, fold).

The primary questions declared before the run (params.yaml `questions`, recorded in the results) are
tested first on each dataset, in their order, each at 5%, stopping at the first not shown (a fixed
sequence). Every other comparison is secondary: one Holm family per dataset, over the secondaries only.
The verdict is one of VERDICTS, never "equal"; its words print the interval it rests on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from distilbench.config.settings import TEACHER_ROW, Question
from distilbench.report import power
from distilbench.report.power import Design, Power
from distilbench.report.statistics import (
    LEVEL,
    NO_FLOOR,
    NOT_SHOWN,
    NOT_TESTED,
    SHOWN,
    MarginTests,
    PairedTest,
    VarianceFloor,
    corrected_resampled_ttest,
    fixed_sequence,
    fold_variance_floor,
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
DECLARED = "declared"  # a pair only a primary question asks about


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
    holm: Adjusted | None = None  # a secondary's Holm-adjusted p-values (set by with_holm)
    floor: VarianceFloor = NO_FLOOR  # the least fold variance the tests used
    primary: Primary | None = None  # a primary question's answer (set by with_primary)
    sizes: tuple[float, float] = (0.0, 0.0)  # one fold's (n_train, n_test)
    power: Power | None = None  # for an unsettled verdict: what would settle it (set by with_power)

    @property
    def verdict(self) -> str:
        return verdict_of(self)

    @property
    def noninferior(self) -> bool:
        """Shown not worse by the margin or more, at 5% in its family: the select rule's evidence."""
        if self.primary is not None:
            return self.primary.status == SHOWN and self.primary.claim in (EQUIVALENT, NONINFERIOR)
        return self.holm is not None and self.holm.noninferior

    @property
    def variance(self) -> float:
        """The per-fold variance of the differences the tests used (the floor's, when it binds)."""
        return max(float(np.var(self.differences, ddof=1)), self.floor.variance)


@dataclass(frozen=True)
class Primary:
    """A primary question's answer on one dataset: its place in the declared order, its claim (one of
    config.settings.CLAIMS), the fixed sequence's status (statistics.SHOWN, NOT_SHOWN, NOT_TESTED) and the
    unadjusted p of the claim's test."""

    order: int  # 1-based, as params.yaml lists them
    claim: str
    status: str
    p_value: float


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
NONINFERIOR = "noninferior"  # not worse by the margin or more: a primary question's claim only
WORSE_BEYOND = "worse by more than the margin"
BETTER = "better"
WORSE = "worse"
INCONCLUSIVE = "inconclusive"
NOT_TESTED_VERDICT = "not tested"  # a primary question after one that failed
VERDICTS = (EQUIVALENT, NONINFERIOR, WORSE_BEYOND, BETTER, WORSE, INCONCLUSIVE, NOT_TESTED_VERDICT)
CLAIM_VERDICT = {"equivalent": EQUIVALENT, "noninferior": NONINFERIOR, "worse": WORSE_BEYOND}
UNSETTLED = (INCONCLUSIVE, NOT_TESTED_VERDICT)


def verdict_of(c: Comparison) -> str:
    """What the tests allow to be said at 5%. A primary question: its claim when the fixed sequence shows
    it, else inconclusive (or not tested). A secondary (Holm): the first that holds of worse by more than
    the margin, equivalent within it, better, worse; else inconclusive."""
    if c.test is None:
        return INCONCLUSIVE
    if c.primary is not None:
        if c.primary.status == SHOWN:
            return CLAIM_VERDICT[c.primary.claim]
        return NOT_TESTED_VERDICT if c.primary.status == NOT_TESTED else INCONCLUSIVE
    if c.holm is None:
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
    folds: pd.DataFrame,
    model: str,
    against: str,
    role: str,
    n_examples: int,
    margin: float,
    disagreement: float | None = None,
) -> Comparison:
    """One dataset's folds: the paired differences, their corrected resampled t-test and the one-sided
    tests against ±margin (accuracy, 0.01 = 1 point), over a floor on the fold variance.

    disagreement: the share of held-out rows the two models predict differently, pooled over the folds,
    when per-example predictions were kept (statistics.fold_variance_floor)."""
    accuracy = folds.pivot_table(index=PAIR_KEY, columns="model", values="accuracy")
    paired = accuracy[[model, against]].dropna()
    differences = paired[model] - paired[against]
    n_test = float(folds.loc[folds["model"] == model, "eval_examples"].mean())
    # the outer training part (what the fold's model learnt from, inner validation included)
    n_train = n_examples - n_test
    testable = len(differences) > 1
    means = (float(paired[model].mean()), float(paired[against].mean()))
    floor = fold_variance_floor(differences, n_test, means, disagreement) if testable else NO_FLOOR
    return Comparison(
        folds["dataset"].iloc[0],
        model,
        against,
        role,
        tuple((int(r), int(f)) for r, f in paired.index),
        tuple(float(d) for d in differences),
        corrected_resampled_ttest(differences, n_train, n_test, floor.variance) if testable else None,
        margin_tests(differences, n_train, n_test, margin, floor.variance) if testable else None,
        floor=floor,
        sizes=(n_train, n_test),
    )


def dataset_comparisons(
    folds: pd.DataFrame,
    specs: list[RowSpec],
    teacher: str,
    info: dict,
    margin: float,
    questions: Sequence[Question] = (),
    disagreements: Mapping[tuple[str, str], float] | None = None,
) -> list[Comparison]:
    """Every planned pair present in one dataset's folds (and any pair a primary question names): the
    primary questions answered in their order, the rest Holm-adjusted as one family, and for each
    unsettled verdict what would settle it.

    margin: in accuracy points (params.yaml's select.max_accuracy_drop), as users state it.
    disagreements: (model, against) -> their disagreement rate on the held-out rows, where known.
    """
    present = set(folds["model"])
    asked = asked_on(folds["dataset"].iloc[0], questions)
    pairs = planned_pairs(specs, teacher)
    planned = {(model, against) for model, against, _ in pairs}
    declared = [(q.row, against_row(q, teacher)) for _, q in asked]
    pairs += [(model, against, DECLARED) for model, against in declared if (model, against) not in planned]
    comparisons = [
        compare(
            folds,
            model,
            against,
            role,
            info["examples"],
            margin / 100,
            (disagreements or {}).get((model, against)),
        )
        for model, against, role in pairs
        if model in present and against in present
    ]
    return with_power(with_holm(with_primary(comparisons, asked, teacher)), info["examples"])


def asked_on(dataset: str, questions: Sequence[Question]) -> list[tuple[int, Question]]:
    """The questions asked on this dataset, with their 1-based place in the declared list."""
    return [(i, q) for i, q in enumerate(questions, start=1) if q.datasets is None or dataset in q.datasets]


def against_row(question: Question, teacher: str) -> str:
    return teacher if question.against == TEACHER_ROW else question.against


def claim_p(c: Comparison, claim: str) -> float:
    """The unadjusted p of a claim's one-sided test(s); 1 without a test (nothing shown)."""
    if c.margins is None:
        return 1.0
    return {
        "equivalent": c.margins.p_equivalent,
        "noninferior": c.margins.p_above,
        "worse": c.margins.p_beyond,
    }[claim]


def with_primary(
    comparisons: list[Comparison], asked: Sequence[tuple[int, Question]], teacher: str
) -> list[Comparison]:
    """The primary questions asked on this dataset (asked_on), in order, by the fixed sequence; a question
    whose rows did not run here is not asked (and spends nothing)."""
    by_pair = {(c.model, c.against): c for c in comparisons}
    found = [by_pair.get((q.row, against_row(q, teacher))) for _, q in asked]
    statuses = fixed_sequence(
        [None if c is None else claim_p(c, q.claim) for (_, q), c in zip(asked, found, strict=True)]
    )
    answers = {
        id(c): Primary(order, q.claim, status, claim_p(c, q.claim))
        for (order, q), c, status in zip(asked, found, statuses, strict=True)
        if c is not None
    }
    return [replace(c, primary=answers.get(id(c))) for c in comparisons]


def with_holm(comparisons: list[Comparison]) -> list[Comparison]:
    """Each tested secondary comparison with its Holm-adjusted p-values over all the tested secondaries
    (the primary questions have their own procedure, and are not in the family)."""
    tested = [c for c in comparisons if c.test and c.margins and c.primary is None]
    columns = [
        holm([c.test.p_value for c in tested]),
        holm([c.margins.p_equivalent for c in tested]),
        holm([c.margins.p_beyond for c in tested]),
        holm([c.margins.p_above for c in tested]),
    ]
    adjusted = {id(c): Adjusted(len(tested), *ps) for c, *ps in zip(tested, *columns, strict=True)}
    return [replace(c, holm=adjusted.get(id(c), c.holm)) for c in comparisons]


def with_power(comparisons: list[Comparison], n_examples: int) -> list[Comparison]:
    """For each tested comparison left unsettled: the narrowest margin its folds could show, and the
    cheapest design that would settle it at the observed difference and spread. A primary question needs
    its claim at 5%; a secondary, at Holm's strictest step (5%/m), roughly."""
    out = []
    for c in comparisons:
        if c.test is None or c.margins is None or c.verdict not in UNSETTLED:
            out.append(c)
            continue
        if c.primary is not None:
            claim, level = c.primary.claim, LEVEL
        else:
            claim = power.nearest_claim(c.test.mean_difference, c.margins.margin)
            level = LEVEL / (c.holm.m if c.holm else 1)
        n_train, n_test = c.sizes
        now = Design(max(f for _, f in c.folds), max(r for r, _ in c.folds))
        found = Power(
            claim,
            level,
            power.smallest_margin(c.variance, len(c.differences), n_train, n_test, level),
            power.settling_design(
                claim, c.test.mean_difference, c.variance, now, n_examples, c.margins.margin, level
            ),
        )
        out.append(replace(c, power=found))
    return out


def _points(value: float) -> str:
    return f"{100 * value:+.2f}"


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _p_is(value: float) -> str:
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def fold_label(repeat: int, fold: int, repeats: int) -> str:
    return f"fold {fold}" if repeats == 1 else f"r{repeat} f{fold}"


def _margin(c: Comparison) -> str:
    return f"{100 * c.margins.margin:g} pt"


def _ci90(c: Comparison) -> str:
    return f"90% CI {_points(c.margins.ci90_low)} to {_points(c.margins.ci90_high)}"


def _ci95(c: Comparison) -> str:
    return f"95% CI {_points(c.test.ci_low)} to {_points(c.test.ci_high)}"


def claim_words(claim: str, margin: str) -> str:
    return {
        "equivalent": f"equivalent within ±{margin}",
        "noninferior": f"not worse by {margin} or more",
        "worse": f"worse by more than {margin}",
    }[claim]


# where a claim's 90% interval must lie, and what is said when it does not
CLAIM_PLACE = {
    "equivalent": ("inside ±{m}", "not inside ±{m}"),
    "noninferior": ("above −{m}", "reaches −{m} or below"),
    "worse": ("below −{m}", "not wholly below −{m}"),
}


def verdict_words(c: Comparison) -> str:
    """The verdict as the table and the report's sentences say it, with the interval and p it rests on:
    a primary question's own 90% CI at 5%, a secondary's with its Holm-adjusted p. An inconclusive
    secondary whose unadjusted test passes says so, and that the adjusted one does not."""
    if c.test is None:
        return "no test (one fold)"
    return _primary_words(c, c.primary) if c.primary is not None else _secondary_words(c)


def _primary_words(c: Comparison, answer: Primary) -> str:
    m = _margin(c)
    claim = claim_words(answer.claim, m)
    where, where_not = (text.format(m=m) for text in CLAIM_PLACE[answer.claim])
    question = f"primary question {answer.order}"
    if answer.status == SHOWN:
        return f"{claim} ({_ci90(c)} {where}, {_p_is(answer.p_value)}; {question}, 5% in the fixed sequence)"
    if answer.status == NOT_SHOWN:
        return (
            f"inconclusive: {question} ({claim}) not shown, its {_ci90(c)} {where_not} "
            f"({_p_is(answer.p_value)}); the primary questions after it are not tested"
        )
    return f"not tested: an earlier primary question failed ({question}: {claim})"


def _secondary_words(c: Comparison) -> str:
    m, a = _margin(c), c.holm
    holm_note = f"Holm-adjusted {{}} over {a.m} secondary comparisons" if a else ""
    verdict = c.verdict
    if verdict == WORSE_BEYOND:
        return f"worse by more than {m} ({_ci90(c)} below −{m}; {holm_note.format(_p_is(a.p_beyond))})"
    if verdict == EQUIVALENT:
        return f"equivalent within ±{m} ({_ci90(c)} inside ±{m}; {holm_note.format(_p_is(a.p_equivalent))})"
    if verdict in (BETTER, WORSE):
        said = "better" if verdict == BETTER else f"worse, not shown by more than {m}"
        return f"{said} ({_ci95(c)}, which excludes 0; {holm_note.format(_p_is(a.p_difference))})"
    passes = _unadjusted_pass(c)
    if passes and a:
        what, raw, adjusted = passes
        return (
            f"inconclusive after Holm: unadjusted, {what} ({_p_is(raw)}), "
            f"but {holm_note.format(_p_is(adjusted))}, not below 5%"
        )
    return f"inconclusive with these folds ({_ci90(c)}, not inside ±{m})"


def _unadjusted_pass(c: Comparison) -> tuple[str, float, float] | None:
    """The first test that passes unadjusted, in the verdicts' order: what it shows, its raw and Holm p."""
    m, t, margins, a = _margin(c), c.test, c.margins, c.holm
    adjusted = (a.p_beyond, a.p_equivalent, a.p_difference) if a else (1.0, 1.0, 1.0)
    if margins.p_beyond < LEVEL:
        return f"its {_ci90(c)} lies below −{m}", margins.p_beyond, adjusted[0]
    if margins.p_equivalent < LEVEL:
        return f"its {_ci90(c)} lies inside ±{m}", margins.p_equivalent, adjusted[1]
    if t.p_value < LEVEL:
        return f"its {_ci95(c)} excludes 0", t.p_value, adjusted[2]
    return None


CLAIM_NAMES = {
    power.EQUIVALENT: "equivalence within ±{m}",
    power.NONINFERIOR: "not worse by {m} or more",
    power.WORSE: "worse by more than {m}",
    power.DIFFERENT: "a difference",
}


def power_words(c: Comparison) -> str:
    """For an unsettled verdict: the narrowest margin these folds could show, and what would settle it."""
    if c.power is None:
        return "—"
    found, m = c.power, _margin(c)
    n = len(c.differences)
    level = "5%" if found.level == LEVEL else f"{100 * found.level:.2g}% (Holm's strictest step)"
    could = (
        f"{n} folds (df {n - 1}) at this spread show equivalence only for a margin of ±"
        f"{100 * found.smallest_margin:.2f} pt or wider, even at a zero difference"
    )
    claim = CLAIM_NAMES[found.claim].format(m=m)
    if found.design is None:
        return (
            f"{could}; at the observed difference and spread no design up to {power.MAX_REPEATS} repeats of "
            f"{', '.join(str(k) for k in sorted({max(f for _, f in c.folds), *power.FOLD_CHOICES}))} folds "
            f"shows {claim} at {level}"
        )
    d = found.design
    return (
        f"{could}; at the observed difference and spread, about {d.repeats} repeat{'s' * (d.repeats > 1)} "
        f"of {d.folds} folds would show {claim} at {level}"
    )


DISTILLATION_WORDS = {
    LABELS_ONLY: "what the distillation loss adds (the same start and settings, trained on labels only)",
    FINE_TUNED: "the distillation recipe as a whole (new start and new loss, against the student fine-tuned "
    "from the pre-trained checkpoint)",
}


def distillation_lines(comparisons: list[Comparison]) -> list[str]:
    """One sentence per distilled student's twin comparison: what distilling it bought, as the tests say."""
    return [
        f"**{c.model}** against **{c.against}**, {DISTILLATION_WORDS[c.role]}: "
        f"{_points(c.test.mean_difference)} points: {verdict_words(c)}."
        for c in comparisons
        if c.role in DISTILLATION_WORDS and c.test is not None
    ]


def _family_cell(c: Comparison) -> str:
    if c.primary is not None:
        return f"primary {c.primary.order} (fixed sequence)"
    return _p(c.holm.p_difference) if c.holm else "—"


def _fold_cell(c: Comparison, repeats: int) -> str:
    cells = ", ".join(
        f"{fold_label(r, f, repeats)}: {_points(d)}" for (r, f), d in zip(c.folds, c.differences, strict=True)
    )
    if c.floor.source is None or c.floor.variance <= float(np.var(c.differences, ddof=1)):
        return cells
    sd = 100 * c.floor.variance**0.5
    return f"{cells} (fold variance floored at the {c.floor.source} bound, sd {sd:.2f} pt)"


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
                holm_column: _family_cell(c),
                "Verdict (5%)": verdict_words(c),
                "What would settle it": power_words(c),
                "Fold differences (pts)": _fold_cell(c, repeats),
            }
            for c in comparisons
        ]
    )


def family_size(comparisons: list[Comparison]) -> int:
    """How many secondary comparisons share the Holm family."""
    return next((c.holm.m for c in comparisons if c.holm and c.primary is None), 0)


def comparison_section(comparisons: list[Comparison]) -> list[str]:
    if not comparisons:
        return []
    margin = next((f"{100 * c.margins.margin:g}" for c in comparisons if c.margins), "?")
    primaries = sum(c.primary is not None for c in comparisons)
    order = (
        f"The {primaries} primary question(s) (params.yaml `questions`, as recorded before the run) are "
        "answered first, each at 5% in their declared order, the first not shown ending the sequence; the "
        f"other {family_size(comparisons)} comparisons are secondary, each holding at 5% over those "
        "(Holm; the raw p is beside the adjusted one)"
        if primaries
        else f"No primary questions were declared for this run: all {family_size(comparisons)} comparisons "
        "are secondary, each holding at 5% over all of them (Holm; the raw p is beside the adjusted one)"
    )
    return text_section(
        "Paired comparisons (accuracy of the model minus the one it is compared with, in points; 95% CI "
        "and p from the corrected resampled t-test of Nadeau & Bengio 2003, which allows for folds "
        f"sharing training data). The verdict: **equivalent within ±{margin} point** when two one-sided "
        f"tests with the same variance (TOST) put the difference inside ±{margin}, i.e. its 90% CI lies "
        "inside (select.max_accuracy_drop), "
        f"**worse by more than {margin} point** when a one-sided test puts it below −{margin}, **better** or "
        "**worse** when the two-sided test says so, else **inconclusive with these folds**; each verdict "
        f"prints the interval it rests on. {order}. The fold variance has a floor, the variance the held-out "
        "rows alone give a fold's difference (from the two models' disagreement rate where known, else the "
        "fewest disagreements their accuracies allow; a binomial bound when the folds agree exactly), so "
        "that folds which happen to agree never read as certainty:",
        comparison_table(comparisons),
    )


ROLE_PREFIX = {"teacher": "vs_teacher", FINE_TUNED: "vs_fine_tuned", LABELS_ONLY: "vs_labels_only"}


def metrics_prefix(c: Comparison) -> str:
    return ROLE_PREFIX.get(c.role) or f"vs_{c.against}"


def comparison_metrics(comparisons: list[Comparison]) -> dict[str, dict[str, float]]:
    """model -> numbers for metrics.json: `vs_teacher_*`, and for a distilled student `vs_fine_tuned_*`;
    a primary question's `*_primary_question` (its order) and `*_primary_shown` in place of the Holm p."""
    out: dict[str, dict[str, float]] = {}
    for c in comparisons:
        if c.test is None or (c.holm is None and c.primary is None):
            continue
        prefix = metrics_prefix(c)
        numbers = {
            f"{prefix}_accuracy_diff_pts": 100 * c.test.mean_difference,
            f"{prefix}_ci_low_pts": 100 * c.test.ci_low,
            f"{prefix}_ci_high_pts": 100 * c.test.ci_high,
            f"{prefix}_p_value": c.test.p_value,
            f"{prefix}_significant_at_5pct": float(c.test.significant_at_5pct),
            f"{prefix}_equivalent": float(c.verdict == EQUIVALENT),
            f"{prefix}_noninferior": float(c.noninferior),
        }
        if c.primary is not None:
            numbers[f"{prefix}_primary_question"] = float(c.primary.order)
            numbers[f"{prefix}_primary_shown"] = float(c.primary.status == SHOWN)
        else:
            numbers |= {
                f"{prefix}_p_holm": c.holm.p_difference,
                f"{prefix}_p_equivalent_holm": c.holm.p_equivalent,
                f"{prefix}_p_noninferior_holm": c.holm.p_noninferior,
            }
        if c.power is not None:
            numbers[f"{prefix}_smallest_margin_pts"] = 100 * c.power.smallest_margin
        out.setdefault(c.model, {}).update(numbers)
    return out
