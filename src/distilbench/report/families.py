"""Every kind of model side by side: the row to deploy by the select rule whatever its family, the best
row of each family, and what the cheap families say against the teacher in words a user can act on
(with the paired test's evidence, never a bare mean)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from distilbench.config.variants import split_row_name
from distilbench.core.errors import ConfigError
from distilbench.core.schema import ACCURACY_MEAN, END_TO_END_PER_FOLD, LATENCY_P50, MODEL_MB
from distilbench.report.choice import ACCURACY, FAMILY, METRIC_NAMES, Row, Rule, choose, row_scores
from distilbench.report.pairs import (
    BETTER,
    EQUIVALENT,
    INCONCLUSIVE,
    NONINFERIOR,
    NOT_TESTED_VERDICT,
    WORSE,
    WORSE_BEYOND,
    Comparison,
)
from distilbench.report.verdicts import verdict_words

CHEAP = ("static", "linear")  # the families users deploy instead of a transformer


def family_lines(
    rows: pd.DataFrame, kinds: Mapping[str, str], teacher: str, comparisons: Sequence[Comparison]
) -> list[str]:
    """One line with each family's most accurate row, then one sentence per static or linear row."""
    fp32 = rows[rows["model"].map(kinds).notna()].assign(kind=lambda f: f["model"].map(kinds))
    if fp32["kind"].nunique() < 2:
        return []
    best = fp32.sort_values(ACCURACY_MEAN, ascending=False).groupby("kind", sort=False).head(1)
    cells = [
        f"{FAMILY.get(r['kind'], r['kind'])} **{r['model']}** "
        f"{r[ACCURACY_MEAN]:.4f} ({_latency(r[LATENCY_P50])})"
        for r in best.to_dict(orient="records")
    ]
    lines = ["**Best row of each kind** (accuracy, batch-1 p50): " + " · ".join(cells) + "."]
    against_teacher = {c.model: c for c in comparisons if c.against == teacher}
    for r in fp32[fp32["kind"].isin(CHEAP)].itertuples():
        lines.append(cheap_sentence(r, teacher, against_teacher.get(r.model)))
    return lines


def deploy_line(
    rows: pd.DataFrame,
    kinds: Mapping[str, str],
    teacher: str,
    rule: Rule,
    comparisons: Sequence[Comparison],
    latencies: Mapping[str, Mapping[str, float]],
    same_weights_shown: frozenset[str] = frozenset(),
    metric: str = ACCURACY,
    flagged: frozenset[str] | set[str] = frozenset(),
) -> list[str]:
    """The headline: the row to deploy by the select stage's rule, its family, and its evidence.
    `latencies`: each row's batch-1 p50 by fold, which the rule's ties are decided on (as the select stage
    reads them from metrics.json). `same_weights_shown`: compressed copies of the teacher's own weights
    shown not worse than it by the margin on the same examples (report.agreement). `metric`: what ranks
    the rows (report.choice.ranking_metric); `flagged`: rows report.degenerate flags, never chosen."""
    shown = {c.model for c in comparisons if c.against == teacher and c.noninferior} | same_weights_shown
    table = [
        Row(
            r.dataset,
            r.model,
            getattr(r, ACCURACY_MEAN),
            getattr(r, LATENCY_P50),
            getattr(r, MODEL_MB),
            kinds.get(split_row_name(r.model)[0], "transformer"),
            r.model in shown,
            getattr(r, END_TO_END_PER_FOLD, math.nan),
            dict(latencies.get(r.model, {})),
            row_scores(r._asdict()),
            r.model in flagged,
        )
        for r in rows.itertuples()
    ]
    try:
        choice = choose(table, teacher, rule, metric)
    except ConfigError as error:  # select.model names no row: the select stage refuses it in one line
        return [f"**Row to deploy**: none ({error})."]
    base = rows[rows["model"] == teacher].iloc[0]
    said = (
        f"**Row to deploy** (the select stage's rule, {rule.describe(metric)}, of any kind the registry "
        f"serves; the champion follows it): **{choice.row}**, a {FAMILY[choice.kind]}, "
        f"{METRIC_NAMES[metric]} {choice.accuracy:.4f} against the teacher's {choice.teacher_accuracy:.4f}"
    )
    if choice.row == teacher:
        return [f"{said}: no other row is fast and close enough."]
    speed = f"{_latency(choice.latency_ms)} a text at batch 1 against {_latency(base[LATENCY_P50])}"
    if choice.model == teacher:  # the teacher's own weights, compressed: not a retrained model
        return [
            f"{said}, {speed}. It is the teacher's own weights as {choice.variant}, so it is tested against "
            "the fp32 teacher by McNemar's exact test on the same examples (below), not by the t-test for "
            f"retrained models. Why this row: {choice.reason}."
        ]
    comparison = next((c for c in comparisons if (c.model, c.against) == (choice.row, teacher)), None)
    return [f"{said}, {speed}. Against the teacher it {_verdict(comparison)}."]


def cheap_sentence(row, teacher: str, comparison: Comparison | None) -> str:
    """What a static or linear row says against the teacher, as the paired tests allow it to be said."""
    name = f"{row.model} ({FAMILY[row.kind]})"
    return f"- {name} {_verdict(comparison)}, at {_latency(getattr(row, LATENCY_P50))} a text."


def _verdict(comparison: Comparison | None) -> str:
    """What the paired tests against the teacher allow to be said: never "equal"."""
    if comparison is None or comparison.test is None:
        return "has no paired test (fewer than two folds)"
    margin = f"{100 * comparison.margins.margin:g} point"
    difference = f"{100 * comparison.test.mean_difference:+.2f} points"
    verdict = {
        EQUIVALENT: f"is equivalent to the teacher within ±{margin}",
        NONINFERIOR: f"is not worse than the teacher by {margin} or more",
        WORSE_BEYOND: f"is worse than the teacher by more than {margin}",
        BETTER: "beats the teacher",
        WORSE: "is worse than the teacher",
        INCONCLUSIVE: (
            "is not distinguishable from the teacher with these folds, nor shown to be within "
            f"±{margin} of it (inconclusive)"
        ),
        NOT_TESTED_VERDICT: "is not tested against the teacher (an earlier primary question failed)",
    }[comparison.verdict]
    # the evidence is the verdict's own: the interval and p it rests on
    return f"{verdict}: {difference} ({verdict_words(comparison)})"


def _latency(ms: float) -> str:
    return "no latency" if pd.isna(ms) else f"{ms:.2f} ms"
