"""The `report` stage: the studies' side-by-side table, metrics for `dvc metrics`, and plots.

Everything is computed from the crossval stage's fold records (results/crossval.json).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from distilbench.atomic import atomic_paths
from distilbench.errors import DataError
from distilbench.figures import plot_tradeoff

logger = logging.getLogger(__name__)

MULTICLASS_METRICS = ("accuracy", "macro_f1")
MULTILABEL_METRICS = ("accuracy", "micro_f1", "macro_f1", "hamming_loss")
METRIC_TITLES = {
    "accuracy": "Accuracy",
    "macro_f1": "Macro-F1",
    "micro_f1": "Micro-F1",
    "hamming_loss": "Hamming loss",
}


def fold_frame(results: dict) -> pd.DataFrame:
    """One row per dataset × model × fold, with metrics flattened into columns."""
    rows = [{**{k: v for k, v in r.items() if k != "metrics"}, **r["metrics"]} for r in results["folds"]]
    frame = pd.DataFrame(rows)
    frame["train_eval_seconds"] = frame["train_seconds"] + frame["eval_seconds"]
    return frame


def summarize_models(folds: pd.DataFrame, teacher: str, model_order: list[str]) -> pd.DataFrame:
    """Per dataset × model: mean ± std over folds, and what each model saves against the teacher."""
    metrics = [m for m in MULTILABEL_METRICS if m in folds.columns]
    agg = (
        folds.groupby(["dataset", "model"])
        .agg(
            task=("task", "first"),
            folds=("fold", "count"),
            parameters=("parameters", "first"),
            model_mb=("model_mb", "mean"),
            seconds_per_fold=("train_eval_seconds", "mean"),
            seconds_total=("train_eval_seconds", "sum"),
            examples_per_second=("examples_per_second", "mean"),
            **{f"{m}_mean": (m, "mean") for m in metrics},
            **{f"{m}_std": (m, lambda s: s.std(ddof=1) if len(s) > 1 else 0.0) for m in metrics},
        )
        .reset_index()
    )
    agg = agg.merge(_teacher_baseline(agg, teacher), on="dataset", how="left")
    agg["time_saved_pct"] = 100 * (1 - agg["seconds_per_fold"] / agg["teacher_seconds"])
    agg["size_saved_pct"] = 100 * (1 - agg["model_mb"] / agg["teacher_mb"])
    agg["accuracy_retained_pct"] = 100 * agg["accuracy_mean"] / agg["teacher_accuracy"]
    agg["speedup_vs_teacher"] = agg["examples_per_second"] / agg["teacher_examples_per_second"]
    agg["order"] = agg["model"].map({m: i for i, m in enumerate(model_order)})
    return agg.sort_values(["dataset", "order"]).drop(columns="order").reset_index(drop=True)


def _teacher_baseline(agg: pd.DataFrame, teacher: str) -> pd.DataFrame:
    base = agg[agg["model"] == teacher][
        ["dataset", "seconds_per_fold", "model_mb", "accuracy_mean", "examples_per_second"]
    ]
    return base.rename(
        columns={
            "seconds_per_fold": "teacher_seconds",
            "model_mb": "teacher_mb",
            "accuracy_mean": "teacher_accuracy",
            "examples_per_second": "teacher_examples_per_second",
        }
    )


def _pm(mean: float, std: float) -> str:
    return f"{mean:.4f} ± {std:.4f}"


def _pct(value: float) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.1f}%"


def table_for(dataset_rows: pd.DataFrame, teacher: str) -> pd.DataFrame:
    """The published studies' layout: one row per model."""
    multilabel = (dataset_rows["task"] == "multilabel").any()
    metrics = MULTILABEL_METRICS if multilabel else MULTICLASS_METRICS
    table = pd.DataFrame(
        {
            "Model": dataset_rows["model"]
            + (dataset_rows["model"] == teacher).map({True: " (teacher)", False: ""})
        }
    )
    table["Params (M)"] = (dataset_rows["parameters"] / 1e6).map("{:.1f}".format)
    table["Size (MB)"] = dataset_rows["model_mb"].map("{:.1f}".format)
    for m in metrics:
        table[METRIC_TITLES[m]] = [
            _pm(a, b) for a, b in zip(dataset_rows[f"{m}_mean"], dataset_rows[f"{m}_std"], strict=True)
        ]
    table["Train+val s / fold"] = dataset_rows["seconds_per_fold"].map("{:.1f}".format)
    table["Train+val s total"] = dataset_rows["seconds_total"].map("{:.1f}".format)
    table["Time saved"] = dataset_rows["time_saved_pct"].map(_pct)
    table["Size saved"] = dataset_rows["size_saved_pct"].map(_pct)
    table["Accuracy retained"] = dataset_rows["accuracy_retained_pct"].map(_pct)
    table["Inference speed vs teacher"] = dataset_rows["speedup_vs_teacher"].map("{:.2f}×".format)
    return table


def dataset_heading(name: str, rows: pd.DataFrame, info: dict) -> list[str]:
    n_folds = int(rows["folds"].max())
    protocol = "hold-out validation split" if info.get("protocol") == "holdout" else f"{n_folds}-fold CV"
    size = f"{info['examples']} examples, " if "examples" in info else ""
    lines = [f"## {name} ({rows['task'].iloc[0]}, {size}{protocol}, mean ± std over folds)", ""]
    return lines + ([f"*{info['note']}*", ""] if info.get("note") else [])


def markdown_report(summary: pd.DataFrame, folds: pd.DataFrame, teacher: str, datasets: dict) -> str:
    parts = ["# distilbench comparison", ""]
    for dataset, rows in summary.groupby("dataset", sort=False):
        parts += [
            *dataset_heading(dataset, rows, datasets.get(dataset, {})),
            table_for(rows, teacher).to_markdown(index=False),
            "",
            "Per-fold accuracy:",
            "",
            fold_table(folds[folds["dataset"] == dataset]).to_markdown(),
            "",
        ]
    return "\n".join(parts)


def fold_table(folds: pd.DataFrame) -> pd.DataFrame:
    if "repeat" in folds.columns and folds["repeat"].nunique() > 1:  # repeated k-fold: a column per both
        table = folds.pivot(index="model", columns=["repeat", "fold"], values="accuracy")
        table.columns = [f"repeat {r} fold {f}" for r, f in table.columns]
        return table.map("{:.4f}".format)
    table = folds.pivot(index="model", columns="fold", values="accuracy")
    table.columns = [f"fold {c}" for c in table.columns]  # fold numbers are 1-based already
    return table.map("{:.4f}".format)


def metrics_json(summary: pd.DataFrame) -> dict:
    """Nested dataset → model → numbers, the shape `dvc metrics show/diff` reads."""
    keep = [
        c
        for c in summary.columns
        if c.endswith(("_mean", "_std", "_pct"))
        or c
        in (
            "parameters",
            "model_mb",
            "seconds_per_fold",
            "seconds_total",
            "examples_per_second",
            "speedup_vs_teacher",
        )
    ]
    out: dict = {}
    for _, row in summary.iterrows():
        out.setdefault(row["dataset"], {})[row["model"]] = {
            k: round(float(row[k]), 6) for k in keep if not pd.isna(row[k])
        }
    return out


REPORT_FILES = ("comparison.md", "comparison.csv", "metrics.json", "tradeoff.png")
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
    folds = fold_frame(results)
    teacher = results["teacher"]
    summary = summarize_models(folds, teacher, [m["name"] for m in results["models"]])
    markdown = markdown_report(summary, folds, teacher, results.get("datasets", {}))
    files = tuple(out_dir / name for name in REPORT_FILES)
    with atomic_paths(files) as (md, csv, metrics, png):
        md.write_text(markdown, encoding="utf-8")
        summary.to_csv(csv, index=False)
        metrics.write_text(json.dumps(metrics_json(summary), indent=2), encoding="utf-8")
        plot_tradeoff(summary, png)
    logger.info("wrote %s", ", ".join(map(str, files)))
    return Report(
        markdown,
        study_table(summary, teacher),
        files,
        teacher_fold_runs(results),
        results.get("tracking_uri"),
    )


def study_table(summary: pd.DataFrame, teacher: str) -> list[dict]:
    tables = [
        table_for(rows, teacher).assign(Dataset=dataset)
        for dataset, rows in summary.groupby("dataset", sort=False)
    ]
    table = pd.concat(tables, ignore_index=True)
    return table[["Dataset", *table.columns[:-1]]].to_dict(orient="records")


def teacher_fold_runs(results: dict) -> dict[str, str]:
    return {
        r["dataset"]: r["run_id"]
        for r in results["folds"]
        if r["model"] == results["teacher"] and r.get("run_id")
    }
