"""Which cross-validated row to deploy: by name, or the fastest close enough to the teacher, whatever
its kind (a transformer, a static-embedding or a TF-IDF linear model).

The report states this choice in its headline, and the select stage registers it as the champion, so
both follow one rule. The rows are the report's (`reports/metrics.json`: dataset → row → numbers): one
per model of the zoo and one per compressed variant, named `<model>+<variant>`. The majority-class
baseline is an entry there too, but never a row to choose.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from distilbench.config.settings import SelectConfig
from distilbench.config.variants import VARIANTS, split_row_name
from distilbench.core.errors import ConfigError, DataError
from distilbench.core.schema import (
    ACCURACY,
    ACCURACY_MEAN,
    END_TO_END_PER_FOLD,
    LATENCY_P50,
    MACRO_F1,
    MICRO_F1,
    MODEL_MB,
    mean_key,
)
from distilbench.report.majority import BASELINE_KEY
from distilbench.report.ratios import FOLD_LATENCIES_KEY, paired_latency_ratio

FAMILY = {  # what each kind of model is called in sentences users read
    "transformer": "transformer",
    "cnn": "CNN",
    "static": "static-embedding model",
    "linear": "TF-IDF linear model",
}
UNSERVABLE_KINDS = ("cnn",)  # distilbench predict and the registry serve every other kind
NONINFERIOR_KEY = "vs_teacher_noninferior"  # metrics.json: 1.0 when report.pairs showed it
FLAGGED_KEY = "degenerate"  # metrics.json: 1.0 for a row report.degenerate flags (one answer, no labels)
IMBALANCED_KEY = "imbalanced"  # metrics.json, the baseline's entry: 1.0 when a fold is imbalanced
METRIC_NAMES = {"accuracy": "accuracy", "macro_f1": "macro-F1", "micro_f1": "micro-F1"}


def ranking_metric(setting: str, multilabel: bool, imbalanced: bool) -> str:
    """select.metric resolved for one dataset. auto: micro-F1 for multilabel (subset accuracy counts a text
    right only with every label right), macro-F1 when a fold's training part is imbalanced by
    train.imbalance_ratio (accuracy there rewards always answering the majority class), else accuracy."""
    if setting != "auto":
        return setting
    if multilabel:
        return MICRO_F1
    return MACRO_F1 if imbalanced else ACCURACY


def entries_metric(setting: str, entries: Mapping[str, object]) -> str:
    """select.metric for one dataset of metrics.json (dataset → row → numbers)."""
    numbers = [n for n in entries.values() if isinstance(n, Mapping)]
    multilabel = any(mean_key(MICRO_F1) in n for n in numbers)
    baseline = entries.get(BASELINE_KEY)
    imbalanced = isinstance(baseline, Mapping) and bool(baseline.get(IMBALANCED_KEY, 0.0))
    return ranking_metric(setting, multilabel, imbalanced)


@dataclass(frozen=True)
class Row:
    dataset: str
    name: str  # <model> or <model>+<variant>
    accuracy: float  # cross-validated mean
    latency_ms: float  # warm batch-1 p50; NaN when the report has none
    model_mb: float
    kind: str = "transformer"  # the zoo model's kind (config.settings.MODEL_KINDS)
    # shown not worse than the teacher by the margin (one-sided at 5%: as a primary question or among the
    # Holm-adjusted secondaries, report.pairs; a copy of the teacher's own weights on the same examples,
    # report.agreement);
    # False when not shown or not tested (the teacher itself, a hold-out split)
    noninferior: bool = False
    # what a fold's model cost to make, its fold teacher's training included; NaN when unknown
    end_to_end_seconds: float = math.nan
    # "<repeat>.<fold>" -> batch-1 p50 ms on that fold: latencies are compared fold by fold
    fold_latencies: Mapping[str, float] = dataclasses.field(default_factory=dict)
    # other cross-validated means a dataset may be ranked by (select.metric): "macro_f1", "micro_f1"
    scores: Mapping[str, float] = dataclasses.field(default_factory=dict)
    flagged: bool = False  # report.degenerate: one answer for every text, or no labels; never chosen

    @property
    def servable(self) -> bool:
        return self.kind not in UNSERVABLE_KINDS

    @property
    def model(self) -> str:
        return split_row_name(self.name)[0]

    @property
    def variant(self) -> str:
        return split_row_name(self.name)[1]


@dataclass(frozen=True)
class Rule:
    model: str | None  # a row by name wins over the rule
    max_accuracy_drop: float  # accuracy points below the teacher's (1 point = 0.01 accuracy)
    metric: str = "auto"  # select.metric: what ranks rows (ranking_metric resolves it per dataset)

    @classmethod
    def from_config(cls, select: SelectConfig) -> Rule:
        return cls(select.model, select.max_accuracy_drop, select.metric)

    def describe(self, metric: str = ACCURACY) -> str:
        if self.model:
            return f"select.model = {self.model}"
        if metric != ACCURACY:
            name = METRIC_NAMES[metric]
            return (
                f"ranked by {name} (select.metric {self.metric}): fastest of the rows whose mean {name} is "
                f"within {self.max_accuracy_drop:g} points of the teacher's, flagged rows left out"
            )
        return (
            f"fastest of the rows shown not worse than the teacher by {_points(self.max_accuracy_drop)}, "
            "else of those within it on mean accuracy"
        )


@dataclass(frozen=True)
class Choice:
    dataset: str
    row: str
    model: str  # the zoo model refitted
    variant: str  # what is served: one of config.variants.VARIANTS
    kind: str  # the model's kind: the family named to users
    reason: str  # one sentence for users
    accuracy: float
    latency_ms: float
    teacher_accuracy: float
    metric: str = ACCURACY  # what `accuracy` and `teacher_accuracy` hold: the dataset's ranking metric


def rows_of(
    metrics: Mapping[str, Mapping[str, object]], kinds: Mapping[str, str] | None = None
) -> dict[str, list[Row]]:
    """dataset → its choosable rows, from metrics.json's nested numbers.

    A row is an entry with a mean accuracy (ACCURACY_MEAN); the baseline is left out. `kinds` maps zoo
    models to their kind (a model it does not name is a transformer); rows of an unservable kind are kept
    (a name given by the user is then refused with a reason) but never chosen by the rule.
    """
    kinds = kinds or {}
    tables: dict[str, list[Row]] = {}
    for dataset, entries in metrics.items():
        rows = tables.setdefault(dataset, [])
        for name, numbers in entries.items():
            if name == BASELINE_KEY or not isinstance(numbers, Mapping) or ACCURACY_MEAN not in numbers:
                continue
            rows.append(
                Row(
                    dataset,
                    name,
                    float(numbers[ACCURACY_MEAN]),
                    float(numbers.get(LATENCY_P50, math.nan)),
                    float(numbers.get(MODEL_MB, math.nan)),
                    kinds.get(split_row_name(name)[0], "transformer"),
                    bool(numbers.get(NONINFERIOR_KEY, 0.0)),
                    float(numbers.get(END_TO_END_PER_FOLD, math.nan)),
                    dict(numbers.get(FOLD_LATENCIES_KEY, {})),
                    row_scores(numbers),
                    bool(numbers.get(FLAGGED_KEY, 0.0)),
                )
            )
    return tables


def row_scores(numbers: Mapping[str, object]) -> dict[str, float]:
    """The means besides accuracy a row may be ranked by, from its metrics.json (or summary) numbers."""
    return {m: float(numbers[mean_key(m)]) for m in (MACRO_F1, MICRO_F1) if mean_key(m) in numbers}


def ranked_by(rows: Sequence[Row], metric: str) -> list[Row]:
    """The rows with `accuracy` holding `metric`'s mean, so the rule reads one number whatever ranks them
    (a row without that mean ranks last). The paired tests are of accuracy: not shown for another metric."""
    if metric == ACCURACY:
        return list(rows)
    return [dataclasses.replace(r, accuracy=r.scores.get(metric, -math.inf), noninferior=False) for r in rows]


def choose(rows: Sequence[Row], teacher: str, rule: Rule, metric: str = ACCURACY) -> Choice:
    """The row to refit and register, for one dataset's rows.

    By name when the rule names one. Else, among servable rows with a latency, the fastest at batch 1 of
    those *shown* not worse than the teacher by `max_accuracy_drop` points (the report's one-sided tests,
    metrics.json's NONINFERIOR_KEY); when the folds show no row that, the fastest whose mean accuracy is
    within the margin, and the reason says the evidence did not decide it. The teacher always qualifies, so
    a choice is always made. Rows whose batch-1 latency the folds cannot tell from the fastest's
    (:func:`tied_with`) are ties: broken by end-to-end training seconds, then size (shown rows), or by
    accuracy first (when the mean decided it: the most accurate of the fastest).
    """
    if not rows:
        raise DataError("metrics.json: no model rows to choose from; run the report stage first")
    dataset = rows[0].dataset
    rows = ranked_by(rows, metric)
    by_name = {row.name: row for row in rows}
    if teacher not in by_name:
        raise DataError(
            f"metrics.json, dataset {dataset}: no row for the teacher {teacher!r}; rerun crossval and report"
        )
    teacher_accuracy = by_name[teacher].accuracy
    if rule.model:
        return _named(by_name, rule.model, teacher_accuracy, metric)
    # a flagged row (one answer for every text, or no labels) is never chosen by the rule
    timed = [
        r for r in rows if r.servable and not r.flagged and not math.isnan(r.latency_ms) and r.name != teacher
    ]
    shown = [r for r in timed if r.noninferior]
    floor = teacher_accuracy - rule.max_accuracy_drop / 100
    eligible = shown or [r for r in timed if r.accuracy >= floor]
    eligible.append(by_name[teacher])  # with or without a latency, the teacher qualifies
    fastest = min(eligible, key=lambda r: (_or_inf(r.latency_ms), -r.accuracy, _or_inf(r.model_mb), r.name))
    ties = tied_with(fastest, eligible)
    best = min(ties, key=_by_cost if shown else lambda r: (-r.accuracy, *_by_cost(r)))
    name = METRIC_NAMES[metric]
    margin = _points(rule.max_accuracy_drop, name)
    evidence = (
        f"of the {len(eligible)} shown not worse than the teacher {teacher} by {margin} or more "
        "(one-sided test at 5%: a primary question, Holm among the secondaries, or the same-examples test of "
        "a copy of the teacher's weights)"
        if shown
        else f"of the {len(eligible)} whose mean {name} is within {margin} of the teacher {teacher}: "
        f"these folds show no row not worse by {margin}, so the mean alone decided it"
    )
    reason = (
        f"the fastest row (p50 {best.latency_ms:.2f} ms at batch 1), a {FAMILY[best.kind]}, {evidence} "
        f"(cross-validated {name} {best.accuracy:.4f}, the teacher's {teacher_accuracy:.4f})"
        f"{_tie_words(best, ties, shown=bool(shown))}"
    )
    return _choice(best, reason, teacher_accuracy, metric)


def tied_with(fastest: Row, rows: Sequence[Row]) -> list[Row]:
    """`fastest` and every row whose batch-1 latency its folds cannot tell from it: the 95% CI of their
    per-fold latency ratio holds 1. Without per-fold latencies, only an equal p50 ties."""
    ties = []
    for row in rows:
        ratio = paired_latency_ratio(row.fold_latencies, fastest.fold_latencies)
        tie = row.latency_ms == fastest.latency_ms if ratio is None else ratio.low <= 1.0 <= ratio.high
        if row is fastest or tie:
            ties.append(row)
    return ties


def _by_cost(row: Row) -> tuple:
    return _or_inf(row.end_to_end_seconds), _or_inf(row.model_mb), row.name


def _tie_words(best: Row, ties: Sequence[Row], shown: bool) -> str:
    others = [r.name for r in ties if r is not best]
    if not others:
        return ""
    broken = "end-to-end training seconds, then size"
    broken = broken if shown else f"accuracy, then {broken}"
    return (
        f"; the folds cannot tell its batch-1 latency from {', '.join(others)} (95% CI of the per-fold "
        f"ratio holds 1): a tie, broken by {broken}"
    )


def _named(by_name: Mapping[str, Row], name: str, teacher_accuracy: float, metric: str = ACCURACY) -> Choice:
    row = by_name.get(name)
    servable = sorted(n for n, r in by_name.items() if r.servable)
    if row is None:
        raise ConfigError(f"select.model: {name!r} is not a row of the report; choose one of {servable}")
    if not row.servable:
        raise ConfigError(
            f"select.model: {name!r} is the text CNN, which distilbench predict and the registry cannot "
            f"serve (they serve transformer, static and linear models); choose one of {servable}"
        )
    if row.variant not in VARIANTS:
        raise ConfigError(f"select.model: {name!r} has an unknown variant {row.variant!r}; known: {VARIANTS}")
    reason = f"named by select.model, a {FAMILY[row.kind]} ({row.accuracy:.4f} {METRIC_NAMES[metric]})"
    return _choice(row, reason, teacher_accuracy, metric)


def _choice(row: Row, reason: str, teacher_accuracy: float, metric: str = ACCURACY) -> Choice:
    return Choice(
        row.dataset,
        row.name,
        row.model,
        row.variant,
        row.kind,
        reason,
        row.accuracy,
        row.latency_ms,
        teacher_accuracy,
        metric,
    )


def _or_inf(value: float) -> float:
    return math.inf if math.isnan(value) else value


def _points(drop: float, metric: str = "accuracy") -> str:
    return f"{drop:g} {metric} point{'' if drop == 1 else 's'}"
