"""The `report` stage: the studies' side-by-side table, metrics for `dvc metrics`, and plots.

Everything is computed from the crossval stage's fold records (results/crossval.json): per dataset the
models' table with the majority-class baseline (report.tables, report.majority), paired tests against
the teacher (report.pairs) and of compressed variants against their fp32 model (report.agreement),
per-fold accuracy, and with several datasets the cross-dataset tables.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from distilbench.config.settings import Question, SelectConfig
from distilbench.core.atomic import atomic_paths
from distilbench.core.errors import DataError
from distilbench.core.schema import DERIVED_FIELDS, RESULTS_VERSION
from distilbench.crossval.summary import (
    fold_frame,
    model_specs,
    summarize_models,
)
from distilbench.report.agreement import (
    VariantCheck,
    agreement_metrics,
    agreement_section,
    teacher_copies,
    variant_checks,
)
from distilbench.report.choice import FLAGGED_KEY, IMBALANCED_KEY, METRIC_NAMES, Rule, ranking_metric
from distilbench.report.degenerate import flag_lines as degenerate_lines
from distilbench.report.degenerate import flagged_rows
from distilbench.report.disagreement import disagreement_rates, disagreement_section
from distilbench.report.families import deploy_line, family_lines
from distilbench.report.figures import plot_tradeoff
from distilbench.report.labelsets import label_set_lines, label_set_metrics, label_set_summary
from distilbench.report.majority import (
    BASELINE_KEY,
    baseline_of,
    baseline_summary,
    flag_lines,
    models_not_above,
)
from distilbench.report.pairs import Comparison, dataset_comparisons
from distilbench.report.questions import primary_lines, primary_section, recorded_questions
from distilbench.report.ratios import (
    FOLD_LATENCIES_KEY,
    factor_section,
    fold_latencies,
    ratio_metrics,
    ratio_rows,
    ratio_section,
    speed_up_factors,
)
from distilbench.report.references import reference_line
from distilbench.report.tables import (
    NONE,
    across_datasets,
    dataset_heading,
    fold_table,
    table_for,
    threads_line,
    to_markdown,
)
from distilbench.report.target import target_evidence, target_line
from distilbench.report.variants import RowSpec, plot_front, with_pareto, with_variant_specs
from distilbench.report.verdicts import comparison_metrics, comparison_section, distillation_lines

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report lays out, computed once from the results."""

    folds: pd.DataFrame  # one row per dataset x model x repeat x fold
    summary: pd.DataFrame  # one row per dataset x model (summarize_models)
    baselines: pd.DataFrame  # the majority-class folds, as recorded (maybe empty)
    baseline_summary: pd.DataFrame  # their mean ± std per dataset
    specs: list[RowSpec]  # the zoo's models, and their compressed variants
    teacher: str
    datasets: dict  # dataset -> task, examples, protocol, note
    margin: float  # accuracy points: the equivalence margin of the paired tests (select.max_accuracy_drop)
    questions: tuple[Question, ...] = ()  # the primary questions the run was declared with (its results')
    questions_now: tuple[Question, ...] | None = None  # params.yaml's at report time (None: not read)
    predictions: tuple[dict, ...] = ()  # each fold's answer to each held-out row (report.disagreement)
    # a multilabel dataset's label-set floors (crossval.majority.label_set_baselines), maybe empty
    label_baselines: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)

    @property
    def distilled(self) -> frozenset[str]:
        return frozenset(s.name for s in self.specs if s.distil_from)

    @property
    def kinds(self) -> dict[str, str]:
        """Each zoo model's kind (transformer, cnn, static, linear); compressed variants are left out."""
        return {s.name: s.kind for s in self.specs if not s.variant}

    @property
    def students(self) -> list[str]:
        """The zoo's transformers other than the teacher, fp32 rows only."""
        return [
            s.name for s in self.specs if s.kind == "transformer" and not s.variant and s.name != self.teacher
        ]

    @property
    def transformers(self) -> set[str]:
        return {s.name for s in self.specs if s.kind == "transformer"}

    def disagreement_lines(self, dataset: str) -> list[str]:
        """The students against the teacher example by example, the distilled ones first."""
        students = sorted(self.students, key=lambda name: name not in self.distilled)
        info = self.datasets.get(dataset, {})
        return disagreement_section(self.predictions, dataset, self.teacher, students, info)

    def ranking_metric(self, dataset: str, rule: Rule) -> str:
        """select.metric for this dataset: report.choice.ranking_metric on its task and baseline folds."""
        multilabel = self.datasets.get(dataset, {}).get("task") == "multilabel"
        baseline = baseline_of(self.baseline_summary, dataset)
        imbalanced = baseline is not None and bool(baseline.get(IMBALANCED_KEY, False))
        return ranking_metric(rule.metric, multilabel, imbalanced)

    def comparisons(self, dataset: str, rule: Rule) -> list[Comparison]:
        """The dataset's paired comparisons, on the metric that ranks its rows (one setting decides both)."""
        own = self.folds[self.folds["dataset"] == dataset]
        info = self.datasets.get(dataset, {})
        rates = disagreement_rates(self.predictions, dataset)  # the variance floor's measured disagreement
        metric = self.ranking_metric(dataset, rule)
        return dataset_comparisons(
            own, self.specs, self.teacher, info, self.margin, self.questions, rates, metric
        )

    def variant_checks(self, dataset: str) -> list[VariantCheck]:
        """The compressed variants against their fp32 model, at the paired tests' margin."""
        return variant_checks(self.folds[self.folds["dataset"] == dataset], self.margin / 100)


def inputs_of(
    results: dict,
    margin: float = SelectConfig().max_accuracy_drop,
    questions_now: Sequence[Question] | None = None,
) -> ReportInputs:
    """margin: the select rule's max_accuracy_drop, so that the tests and the champion use one number.
    questions_now: params.yaml's primary questions, to say when they differ from the run's."""
    folds = fold_frame(results["folds"])
    # compressed variants are rows of their own
    specs = with_variant_specs(model_specs(results["models"]), folds)
    by_name = {s.name: s for s in specs}
    distil_from = {s.name: s.cost_includes for s in specs if s.cost_includes}
    summary = summarize_models(folds, results["teacher"], list(by_name), distil_from)
    summary = with_pareto(summary, results["teacher"]).assign(
        variant=summary["model"].map(lambda name: getattr(by_name.get(name), "variant", None))
    )
    return ReportInputs(
        folds,
        summary,
        pd.DataFrame(results["baselines"]),
        baseline_summary(results),
        specs,
        results["teacher"],
        results["datasets"],
        margin,
        recorded_questions(results),
        None if questions_now is None else tuple(questions_now),
        tuple(results.get("predictions", ())),  # absent from results of before they were kept
        pd.DataFrame(results.get("label_baselines", [])),
    )


DEFAULT_RULE = Rule.from_config(SelectConfig())  # params.yaml's `select` defaults


def markdown_report(study: ReportInputs, rule: Rule = DEFAULT_RULE) -> str:
    datasets = list(study.summary.groupby("dataset", sort=False))
    answers = [
        (dataset, primary_lines(dataset, study.questions, study.comparisons(dataset, rule), study.teacher))
        for dataset, _ in datasets
    ]
    parts = [
        "# distilbench comparison",
        "",
        *primary_section(answers, study.questions, study.questions_now),
    ]
    for dataset, rows in datasets:
        baseline = baseline_of(study.baseline_summary, dataset)
        own_folds = study.folds[study.folds["dataset"] == dataset]
        comparisons = study.comparisons(dataset, rule)
        checks = study.variant_checks(dataset)
        latencies = {m: v[FOLD_LATENCIES_KEY] for m, v in fold_latencies(own_folds).items()}
        table = table_for(rows, study.teacher, study.distilled, baseline)
        ratios = ratio_rows(own_folds, list(rows["model"]), study.teacher)
        variants = list(rows.loc[rows["variant"].notna(), "model"]) if "variant" in rows else []
        evidence = target_evidence(variants, study.teacher, comparisons, checks, ratios)
        copies = frozenset(c.model for c in teacher_copies(checks, study.teacher) if c.same.noninferior)
        metric = study.ranking_metric(dataset, rule)
        flagged = flagged_rows(own_folds)
        parts += [
            *dataset_heading(dataset, rows, study.datasets.get(dataset, {})),
            # the cells' own precision: tabulate would print 29.0 as 29
            to_markdown(table, index=False, floatfmt=".1f"),
            "",
            *_paragraph([metric_line(metric, rule)]),
            *_paragraph(
                deploy_line(
                    rows,
                    study.kinds,
                    study.teacher,
                    rule,
                    comparisons,
                    latencies,
                    same_weights_shown=copies,
                    metric=metric,
                    flagged=set(flagged),
                )
            ),
            *_paragraph(degenerate_lines(flagged)),
            *_paragraph(flag_lines(rows, baseline, study.teacher, study.transformers, metric)),
            *_paragraph(label_set_lines(label_set_summary(study.label_baselines, dataset), rows)),
            *_paragraph(family_lines(rows, study.kinds, study.teacher, comparisons)),
            *_paragraph(distillation_lines(comparisons)),
            *_paragraph(target_line(rows, study.teacher, evidence)),
            *ratio_section(ratios, study.teacher),
            *factor_section(speed_up_factors(own_folds, study.teacher, study.students)),
            *threads_line(own_folds),
            *_paragraph([line] if (line := reference_line(dataset)) else []),
            *comparison_section(comparisons),
            *agreement_section(checks),
            *study.disagreement_lines(dataset),
            "Per-fold accuracy:",
            "",
            to_markdown(fold_table(own_folds, _of(study.baselines, dataset)), floatfmt=".4f"),
            "",
        ]
    return "\n".join(parts + across_datasets(study.summary, study.teacher))


def metric_line(metric: str, rule: Rule) -> str:
    """Which score ranks this dataset's rows for the headline and the champion, and why."""
    why = {
        "accuracy": "the classes are balanced",
        "macro_f1": "a fold's training part is imbalanced (largest class / smallest >= "
        "train.imbalance_ratio): accuracy there rewards always answering the majority class",
        "micro_f1": "the task is multilabel",
    }[metric]
    how = f"select.metric is {rule.metric}" + (f": {why}" if rule.metric == "auto" else "")
    return f"**Ranked by {METRIC_NAMES[metric]}** for the row to deploy and the champion ({how})."


def _paragraph(lines: list[str]) -> list[str]:
    return [*lines, ""] if lines else []


def _of(frame: pd.DataFrame, dataset: str) -> pd.DataFrame:
    return frame[frame["dataset"] == dataset] if "dataset" in frame else frame


def metrics_json(study: ReportInputs, rule: Rule = DEFAULT_RULE) -> dict:
    """Nested dataset → model → numbers, the shape `dvc metrics show/diff` reads; the majority-class
    baseline is one more entry beside the models."""
    summary = study.summary
    keep = [c for c in summary.columns if c.endswith(("_mean", "_std", "_pct")) or c in DERIVED_FIELDS]
    out: dict = {}
    for _, row in summary.iterrows():
        out.setdefault(row["dataset"], {})[row["model"]] = {
            k: round(float(row[k]), 6) for k in keep if not pd.isna(row[k])
        }
    for dataset, models in out.items():
        own_folds = study.folds[study.folds["dataset"] == dataset]
        per_model = (
            comparison_metrics(study.comparisons(dataset, rule)),
            agreement_metrics(study.variant_checks(dataset), study.teacher),
            ratio_metrics(ratio_rows(own_folds, list(models), study.teacher)),
        )
        latencies = fold_latencies(own_folds)
        for model in models:
            for numbers in per_model:  # each adds its own keys to the model's entry
                models[model].update({k: round(v, 6) for k, v in numbers.get(model, {}).items()})
            models[model].update(latencies.get(model, {}))
        baseline = baseline_of(study.baseline_summary, dataset)
        if baseline is None:
            continue
        rows = summary[summary["dataset"] == dataset]
        metric = study.ranking_metric(dataset, rule)
        below = set(models_not_above(rows, baseline, set(models), metric))
        flagged = flagged_rows(own_folds)
        for model, numbers in models.items():
            numbers["beats_majority_class"] = float(model not in below)
            numbers[FLAGGED_KEY] = float(model in flagged)  # the select rule leaves it out
        models[BASELINE_KEY] = {
            k: round(float(v), 6) for k, v in baseline.items() if k.endswith(("_mean", "_std"))
        } | {IMBALANCED_KEY: float(bool(baseline.get(IMBALANCED_KEY, False)))}
        models[BASELINE_KEY] |= label_set_metrics(label_set_summary(study.label_baselines, dataset))
    return out


REPORT_FILES = ("comparison.md", "comparison.csv", "metrics.json", "tradeoff.png", "pareto.png")
RESULT_KEYS = ("teacher", "models", "folds", "baselines", "datasets", "tracking_uri")


@dataclass(frozen=True)
class Report:
    markdown: str
    table: list[dict]  # the studies' table, one row per dataset x model, formatted as in the markdown
    files: tuple[Path, ...]
    teacher_runs: dict[str, str]  # dataset -> a fold run of its teacher (its parent holds the report)
    tracking_uri: str  # the MLflow store those runs are in


def read_results(path: Path) -> dict:
    """The crossval stage's output, or one DataError saying why it cannot be reported on."""
    if not path.is_file():
        raise DataError(f"{path}: no crossval results; run the crossval stage first")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataError(f"{path}: not readable as crossval results ({error}); rerun crossval") from error
    if not isinstance(results, dict) or "folds" not in results:
        raise DataError(f"{path}: not crossval results (no folds); rerun crossval")
    version = results.get("version", 1)  # files from before the layout had a version: 1
    if version != RESULTS_VERSION:
        raise DataError(
            f"{path}: crossval results of layout version {version}, this distilbench "
            f"reads version {RESULTS_VERSION}; rerun crossval"
        )
    missing = [key for key in RESULT_KEYS if key not in results]
    if missing or not results["folds"]:
        raise DataError(f"{path}: not crossval results (no {', '.join(missing) or 'folds'}); rerun crossval")
    return results


def write_report(
    results_path: Path,
    out_dir: Path,
    rule: Rule = DEFAULT_RULE,
    questions_now: Sequence[Question] | None = None,
) -> Report:
    """The report files, written together: a failure (a full disk) leaves the previous report whole.

    `rule` is the select stage's (params.yaml `select`): the headline names the row it will register.
    `questions_now`: params.yaml's primary questions, compared with those the run recorded.
    """
    results = read_results(results_path)
    study = inputs_of(results, rule.max_accuracy_drop, questions_now)
    summary = study.summary
    markdown = markdown_report(study, rule)
    files = tuple(out_dir / name for name in REPORT_FILES)
    with atomic_paths(files) as (md, csv, metrics, tradeoff, pareto):
        md.write_text(markdown, encoding="utf-8")
        summary.to_csv(csv, index=False)
        metrics.write_text(json.dumps(metrics_json(study, rule), indent=2), encoding="utf-8")
        plot_tradeoff(summary, tradeoff)
        plot_front(summary, pareto)
    logger.info("wrote %s", ", ".join(map(str, files)))
    return Report(
        markdown,
        study_table(study),
        files,
        teacher_fold_runs(results),
        results["tracking_uri"],
    )


def study_table(study: ReportInputs) -> list[dict]:
    tables = [
        table_for(rows, study.teacher, study.distilled, baseline_of(study.baseline_summary, dataset)).assign(
            Dataset=dataset
        )
        for dataset, rows in study.summary.groupby("dataset", sort=False)
    ]
    # datasets may differ in columns (end-to-end cost, latency): a cell a dataset lacks shows as none
    table = pd.concat(tables, ignore_index=True).fillna(NONE)
    return table[["Dataset", *[c for c in table.columns if c != "Dataset"]]].to_dict(orient="records")


def teacher_fold_runs(results: dict) -> dict[str, str]:
    return {
        r["dataset"]: r["run_id"]
        for r in results["folds"]
        if r["model"] == results["teacher"] and r.get("run_id")
    }
