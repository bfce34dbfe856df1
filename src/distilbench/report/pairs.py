"""Paired comparisons: is a model's accuracy really different from the teacher's (or, for a distilled
student, from the same student fine-tuned on labels alone), or shown to be within the margin of it? Folds
are paired on (dataset, repeat, fold).

The primary questions declared before the run (the zoo's `primary_questions`, recorded in the results) are
tested first on each dataset, in their order, each at 5%, stopping at the first not shown (a fixed
sequence). Every other comparison is secondary: one Holm family per dataset, over the secondaries only.
The verdict is one of VERDICTS, never "equal"; report.verdicts says it, with the interval it rests on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from distilbench.config.settings import TEACHER_ROW, Question
from distilbench.report import power
from distilbench.report.floor import NO_FLOOR, VarianceFloor, fold_variance_floor
from distilbench.report.power import Design, Power
from distilbench.report.sequence import NOT_TESTED, SHOWN, fixed_sequence
from distilbench.report.statistics import (
    LEVEL,
    MarginTests,
    PairedTest,
    corrected_resampled_ttest,
    holm,
    margin_tests,
)

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
    differences: tuple[float, ...]  # the metric of model − against, per paired fold
    test: PairedTest | None  # None with fewer than two paired folds (a hold-out split)
    margins: MarginTests | None = None  # the one-sided tests against ±margin (None: no test)
    holm: Adjusted | None = None  # a secondary's Holm-adjusted p-values (set by with_holm)
    floor: VarianceFloor = NO_FLOOR  # the least fold variance the tests used
    primary: Primary | None = None  # a primary question's answer (set by with_primary)
    sizes: tuple[float, float] = (0.0, 0.0)  # one fold's (n_train, n_test)
    power: Power | None = None  # for an unsettled verdict: what would settle it (set by with_power)
    metric: str = "accuracy"  # the score compared: select.metric as resolved for the dataset

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
    metric: str = "accuracy",
) -> Comparison:
    """One dataset's folds: the paired differences of `metric`, their corrected resampled t-test and the
    one-sided tests against ±margin (0.01 = 1 point), over a floor on the fold variance.

    disagreement: the share of held-out rows the two models predict differently, pooled over the folds,
    when per-example predictions were kept (statistics.fold_variance_floor). The floor is an accuracy
    difference's; for macro- or micro-F1, which move with the same disagreements, it stands as the same
    lower bound on how much the held-out rows alone can move a fold."""
    scores = folds.pivot_table(index=PAIR_KEY, columns="model", values=metric)
    paired = scores[[model, against]].dropna()
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
        metric=metric,
    )


def dataset_comparisons(
    folds: pd.DataFrame,
    specs: list[RowSpec],
    teacher: str,
    info: dict,
    margin: float,
    questions: Sequence[Question] = (),
    disagreements: Mapping[tuple[str, str], float] | None = None,
    metric: str = "accuracy",
) -> list[Comparison]:
    """Every planned pair present in one dataset's folds (and any pair a primary question names): the
    primary questions answered in their order, the rest Holm-adjusted as one family, and for each
    unsettled verdict what would settle it.

    margin: in points of `metric` (params.yaml's select.max_accuracy_drop), as users state it.
    disagreements: (model, against) -> their disagreement rate on the held-out rows, where known.
    metric: the score the verdicts test, the one that ranks the dataset's rows (select.metric resolved).
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
            metric,
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
