"""The `report` stage: the studies' side-by-side table, metrics for `dvc metrics`, and plots.

Everything is computed from the crossval stage's fold records (results/crossval.json): per dataset the
models' table with the majority-class baseline (report_tables, report_baseline), paired significance
tests (report_pairs), per-fold accuracy, and with several datasets the cross-dataset tables.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from distilbench.core.atomic import atomic_paths
from distilbench.core.errors import DataError
from distilbench.report.figures import plot_tradeoff
from distilbench.report.majority import (
    BASELINE_KEY,
    baseline_of,
    baseline_summary,
    flag_lines,
    models_not_above,
)
from distilbench.report.pairs import Comparison, comparison_metrics, comparison_section, dataset_comparisons
from distilbench.report.references import reference_line
from distilbench.report.tables import (
    MULTILABEL_METRICS,
    NONE,
    across_datasets,
    dataset_heading,
    fold_table,
    table_for,
    threads_line,
    to_markdown,
)
from distilbench.report.variants import plot_front, target_line, teacher_of, with_pareto, with_variant_specs

logger = logging.getLogger(__name__)

# fields later crossval runs record; older results lack them, and the report reads those as shown here
OPTIONAL_FOLD_FIELDS = {
    "repeat": 1,  # one run of k folds
    "export_seconds": 0.0,  # only a teacher fold exports (logits and model for its students)
    "latency_p50_ms": math.nan,
    "latency_p95_ms": math.nan,
    "throughput_per_s": math.nan,
    "threads": math.nan,
}


def fold_frame(results: dict) -> pd.DataFrame:
    """One row per dataset × model × repeat × fold, with metrics flattened into columns."""
    rows = [{**{k: v for k, v in r.items() if k != "metrics"}, **r["metrics"]} for r in results["folds"]]
    frame = pd.DataFrame(rows)
    for field, default in OPTIONAL_FOLD_FIELDS.items():
        frame[field] = frame[field].fillna(default) if field in frame else default
    frame["repeat"] = frame["repeat"].astype(int)
    frame["train_eval_seconds"] = frame["train_seconds"] + frame["eval_seconds"]
    return frame


def with_end_to_end(folds: pd.DataFrame, distil_from: Mapping[str, str]) -> pd.DataFrame:
    """`end_to_end_seconds`: a distilled fold's own train+eval plus what its fold teacher spent to make it
    possible (training and exporting logits and model) on the same repeat and fold; own time otherwise."""
    key = [folds[k] for k in ("dataset", "repeat", "fold")]
    cost = pd.Series(
        (folds["train_seconds"] + folds["export_seconds"]).to_numpy(),
        index=pd.MultiIndex.from_arrays([*key, folds["model"]]),
    )
    teacher = folds["model"].map(distil_from)
    teacher_cost = cost.reindex(pd.MultiIndex.from_arrays([*key, teacher])).to_numpy()
    # a distilled fold without its teacher fold has no end-to-end time (NaN), rather than a flattering one
    extra = pd.Series(teacher_cost, index=folds.index).where(teacher.notna(), 0.0)
    return folds.assign(end_to_end_seconds=folds["train_eval_seconds"] + extra)


def summarize_models(
    folds: pd.DataFrame,
    teacher: str,
    model_order: list[str],
    distil_from: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Per dataset × model: mean ± std over all repeats × folds, and what each model saves against the
    teacher. With `distil_from` (model -> its teacher) also the end-to-end cost of distillation."""
    metrics = [m for m in MULTILABEL_METRICS if m in folds.columns]
    if distil_from is not None:
        folds = with_end_to_end(folds, distil_from)
    end_to_end = (
        {"end_to_end_seconds_per_fold": ("end_to_end_seconds", "mean")} if distil_from is not None else {}
    )
    agg = (
        folds.groupby(["dataset", "model"])
        .agg(
            task=("task", "first"),
            folds=("fold", "count"),
            repeats=("repeat", "nunique"),
            parameters=("parameters", "first"),
            model_mb=("model_mb", "mean"),
            seconds_per_fold=("train_eval_seconds", "mean"),
            seconds_total=("train_eval_seconds", "sum"),
            **end_to_end,
            examples_per_second=("examples_per_second", "mean"),
            latency_p50_ms=("latency_p50_ms", "mean"),
            latency_p95_ms=("latency_p95_ms", "mean"),
            throughput_per_s=("throughput_per_s", "mean"),
            **{f"{m}_mean": (m, "mean") for m in metrics},
            **{f"{m}_std": (m, lambda s: s.std(ddof=1) if len(s) > 1 else 0.0) for m in metrics},
        )
        .reset_index()
    )
    agg = agg.merge(_teacher_baseline(agg, teacher), on="dataset", how="left")
    agg["time_saved_pct"] = 100 * (1 - agg["seconds_per_fold"] / agg["teacher_seconds"])
    if distil_from is not None:
        # what it took to get this model (its teacher included) against what the teacher alone took
        agg["end_to_end_time_saved_pct"] = 100 * (
            1 - agg["end_to_end_seconds_per_fold"] / agg["teacher_seconds"]
        )
    agg["size_saved_pct"] = 100 * (1 - agg["model_mb"] / agg["teacher_mb"])
    agg["accuracy_retained_pct"] = 100 * agg["accuracy_mean"] / agg["teacher_accuracy"]
    agg["speedup_vs_teacher"] = agg["examples_per_second"] / agg["teacher_examples_per_second"]
    agg["throughput_speedup_vs_teacher"] = agg["throughput_per_s"] / agg["teacher_throughput_per_s"]
    agg["order"] = agg["model"].map({m: i for i, m in enumerate(model_order)})
    return agg.sort_values(["dataset", "order"]).drop(columns="order").reset_index(drop=True)


def _teacher_baseline(agg: pd.DataFrame, teacher: str) -> pd.DataFrame:
    columns = ["seconds_per_fold", "model_mb", "accuracy_mean", "examples_per_second", "throughput_per_s"]
    base = agg[agg["model"] == teacher][["dataset", *columns]]
    return base.rename(
        columns={
            "seconds_per_fold": "teacher_seconds",
            "model_mb": "teacher_mb",
            "accuracy_mean": "teacher_accuracy",
            "examples_per_second": "teacher_examples_per_second",
            "throughput_per_s": "teacher_throughput_per_s",
        }
    )


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report lays out, computed once from the results."""

    folds: pd.DataFrame  # one row per dataset x model x repeat x fold
    summary: pd.DataFrame  # one row per dataset x model (summarize_models)
    baselines: pd.DataFrame  # the majority-class folds, as recorded (maybe empty)
    baseline_summary: pd.DataFrame  # their mean ± std per dataset
    specs: list[dict]  # the zoo's model specs
    teacher: str
    datasets: dict  # dataset -> task, examples, protocol, note

    @property
    def distilled(self) -> frozenset[str]:
        return frozenset(s["name"] for s in self.specs if s.get("distil_from"))

    @property
    def transformers(self) -> set[str]:
        return {s["name"] for s in self.specs if s.get("kind") == "transformer"}

    def comparisons(self, dataset: str) -> list[Comparison]:
        own = self.folds[self.folds["dataset"] == dataset]
        return dataset_comparisons(own, self.specs, self.teacher, self.datasets.get(dataset, {}))


def inputs_of(results: dict) -> ReportInputs:
    folds = fold_frame(results)
    specs = with_variant_specs(results["models"], folds)  # compressed variants are rows of their own
    by_name = {s["name"]: s for s in specs}
    distil_from = {s["name"]: teacher for s in specs if (teacher := teacher_of(s, by_name))}
    summary = summarize_models(folds, results["teacher"], list(by_name), distil_from)
    summary = with_pareto(summary, results["teacher"]).assign(
        variant=summary["model"].map(lambda name: by_name.get(name, {}).get("variant"))
    )
    return ReportInputs(
        folds,
        summary,
        pd.DataFrame(results.get("baselines") or []),
        baseline_summary(results),
        specs,
        results["teacher"],
        results.get("datasets", {}),
    )


def markdown_report(study: ReportInputs) -> str:
    parts = ["# distilbench comparison", ""]
    for dataset, rows in study.summary.groupby("dataset", sort=False):
        baseline = baseline_of(study.baseline_summary, dataset)
        own_folds = study.folds[study.folds["dataset"] == dataset]
        table = table_for(rows, study.teacher, study.distilled, baseline)
        parts += [
            *dataset_heading(dataset, rows, study.datasets.get(dataset, {})),
            # the cells' own precision: tabulate would print 29.0 as 29
            to_markdown(table, index=False, floatfmt=".1f"),
            "",
            *_paragraph(flag_lines(rows, baseline, study.teacher, study.transformers)),
            *_paragraph(target_line(rows, study.teacher)),
            *threads_line(own_folds),
            *_paragraph([line] if (line := reference_line(dataset)) else []),
            *comparison_section(study.comparisons(dataset)),
            "Per-fold accuracy:",
            "",
            to_markdown(fold_table(own_folds, _of(study.baselines, dataset)), floatfmt=".4f"),
            "",
        ]
    return "\n".join(parts + across_datasets(study.summary, study.teacher))


def _paragraph(lines: list[str]) -> list[str]:
    return [*lines, ""] if lines else []


def _of(frame: pd.DataFrame, dataset: str) -> pd.DataFrame:
    return frame[frame["dataset"] == dataset] if "dataset" in frame else frame


# summary columns metrics.json keeps besides the _mean, _std and _pct ones
METRIC_COLUMNS = (
    "parameters",
    "model_mb",
    "seconds_per_fold",
    "seconds_total",
    "end_to_end_seconds_per_fold",
    "examples_per_second",
    "speedup_vs_teacher",
    "latency_p50_ms",
    "latency_p95_ms",
    "throughput_per_s",
    "throughput_speedup_vs_teacher",
    "latency_speedup_vs_teacher",
    "pareto",  # 1 on the dataset's accuracy / batch-1 latency Pareto front, else 0
)


def metrics_json(study: ReportInputs) -> dict:
    """Nested dataset → model → numbers, the shape `dvc metrics show/diff` reads; the majority-class
    baseline is one more entry beside the models."""
    summary = study.summary
    keep = [c for c in summary.columns if c.endswith(("_mean", "_std", "_pct")) or c in METRIC_COLUMNS]
    out: dict = {}
    for _, row in summary.iterrows():
        out.setdefault(row["dataset"], {})[row["model"]] = {
            k: round(float(row[k]), 6) for k in keep if not pd.isna(row[k])
        }
    for dataset, models in out.items():
        for model, numbers in comparison_metrics(study.comparisons(dataset)).items():
            models[model].update({k: round(v, 6) for k, v in numbers.items()})
        baseline = baseline_of(study.baseline_summary, dataset)
        if baseline is None:
            continue
        rows = summary[summary["dataset"] == dataset]
        below = set(models_not_above(rows, baseline, set(models)))
        for model, numbers in models.items():
            numbers["beats_majority_class"] = float(model not in below)
        models[BASELINE_KEY] = {
            k: round(float(v), 6) for k, v in baseline.items() if k.endswith(("_mean", "_std"))
        }
    return out


REPORT_FILES = ("comparison.md", "comparison.csv", "metrics.json", "tradeoff.png", "pareto.png")
RESULT_KEYS = ("teacher", "models", "folds")


@dataclass(frozen=True)
class Report:
    markdown: str
    table: list[dict]  # the studies' table, one row per dataset x model, formatted as in the markdown
    files: tuple[Path, ...]
    teacher_runs: dict[str, str]  # dataset -> a fold run of its teacher (its parent holds the report)
    tracking_uri: str | None = None  # the MLflow store those runs are in (None: results from before it)


def read_results(path: Path) -> dict:
    """The crossval stage's output, or one DataError saying why it cannot be reported on."""
    if not path.is_file():
        raise DataError(f"{path}: no crossval results; run the crossval stage first")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataError(f"{path}: not readable as crossval results ({error}); rerun crossval") from error
    missing = [key for key in RESULT_KEYS if not isinstance(results, dict) or key not in results]
    if missing or not results["folds"]:
        raise DataError(f"{path}: not crossval results (no {', '.join(missing) or 'folds'}); rerun crossval")
    return results


def write_report(results_path: Path, out_dir: Path) -> Report:
    """The report files, written together: a failure (a full disk) leaves the previous report whole."""
    results = read_results(results_path)
    study = inputs_of(results)
    summary = study.summary
    markdown = markdown_report(study)
    files = tuple(out_dir / name for name in REPORT_FILES)
    with atomic_paths(files) as (md, csv, metrics, tradeoff, pareto):
        md.write_text(markdown, encoding="utf-8")
        summary.to_csv(csv, index=False)
        metrics.write_text(json.dumps(metrics_json(study), indent=2), encoding="utf-8")
        plot_tradeoff(summary, tradeoff)
        plot_front(summary, pareto)
    logger.info("wrote %s", ", ".join(map(str, files)))
    return Report(
        markdown,
        study_table(study),
        files,
        teacher_fold_runs(results),
        results.get("tracking_uri"),
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
