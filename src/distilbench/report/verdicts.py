"""How a comparison's verdict is said: in words that print the interval the verdict rests on (and say so
when only the unadjusted test passes), what would settle an unsettled one, the report's comparison table,
and the numbers metrics.json keeps."""

from __future__ import annotations

import numpy as np
import pandas as pd

from distilbench.report import power
from distilbench.report.choice import METRIC_NAMES
from distilbench.report.pairs import (
    BETTER,
    EQUIVALENT,
    FINE_TUNED,
    LABELS_ONLY,
    WORSE,
    WORSE_BEYOND,
    Comparison,
    Primary,
)
from distilbench.report.sequence import NOT_SHOWN, SHOWN
from distilbench.report.statistics import LEVEL
from distilbench.report.tables import text_section


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
    claim = claim_words(answer.claim, _margin(c))
    question = f"primary question {answer.order}"
    if answer.status == SHOWN:
        return f"{claim} ({claim_evidence(c)}; {question}, 5% in the fixed sequence)"
    if answer.status == NOT_SHOWN:
        return (
            f"inconclusive: {question} ({claim}) not shown, its {claim_evidence(c)}; the primary questions "
            "after it are not tested"
        )
    return f"not tested: an earlier primary question failed ({question}: {claim})"


def claim_evidence(c: Comparison) -> str:
    """A primary question's 90% CI, where it lies against the margin, and the claim's unadjusted p."""
    answer, m = c.primary, _margin(c)
    where, where_not = (text.format(m=m) for text in CLAIM_PLACE[answer.claim])
    return f"{_ci90(c)} {where if answer.status == SHOWN else where_not}, {_p_is(answer.p_value)}"


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
    """For an unsettled verdict: the narrowest margin these folds could show at the level it needs, and
    roughly what design would settle it at the observed difference and spread (report.power)."""
    if c.power is None:
        return "—"
    found, m = c.power, _margin(c)
    n = len(c.differences)
    level = "5%" if found.level == LEVEL else f"{100 * found.level:.2g}% (Holm's strictest step)"
    could = (
        f"at {level}, these {n} paired folds (df {n - 1}) at their spread could show equivalence only for "
        f"a margin of ±{100 * found.smallest_margin:.2f} pt or wider, even at a zero difference"
    )
    claim = CLAIM_NAMES[found.claim].format(m=m)
    if found.design is None:
        folds = sorted({max(f for _, f in c.folds), *power.FOLD_CHOICES})
        return (
            f"{could}; at the observed difference and spread, no design up to {power.MAX_REPEATS} repeats of "
            f"{', '.join(map(str, folds[:-1]))} or {folds[-1]} folds would show {claim}"
        )
    d = found.design
    return (
        f"{could}; at the observed difference and spread, about {d.repeats} repeat{'s' * (d.repeats > 1)} "
        f"of {d.folds} folds would show {claim}"
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
        f"The {primaries} primary question(s) (the zoo's `primary_questions`, as recorded before the run) "
        "are answered first, each at 5% in their declared order, the first not shown ending the sequence; "
        f"the other {family_size(comparisons)} comparisons are secondary, each holding at 5% over those "
        "(Holm; the raw p is beside the adjusted one)"
        if primaries
        else f"No primary questions were declared for this run: all {family_size(comparisons)} comparisons "
        "are secondary, each holding at 5% over all of them (Holm; the raw p is beside the adjusted one)"
    )
    return text_section(
        f"Paired comparisons ({METRIC_NAMES[comparisons[0].metric]} of the model minus the one it is "
        "compared with, in points: the metric that ranks this dataset's rows; 95% CI "
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
