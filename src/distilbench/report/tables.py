"""The report's tables, laid out as the published studies lay theirs out, from the per-model summary."""

from __future__ import annotations

import math

import pandas as pd
from tabulate import tabulate

from distilbench.report.majority import BASELINE_NAME
from distilbench.report.references import CAVEAT, PUBLISHED, figures

MULTICLASS_METRICS = ("accuracy", "macro_f1")
MULTILABEL_METRICS = ("accuracy", "micro_f1", "macro_f1", "hamming_loss")
METRIC_TITLES = {
    "accuracy": "Accuracy",
    "macro_f1": "Macro-F1",
    "micro_f1": "Micro-F1",
    "hamming_loss": "Hamming loss",
}
NONE = "—"  # how a cell without a value reads


def to_markdown(table: pd.DataFrame, index: bool = True, **kwargs) -> str:
    """Missing cells read as NONE and leave their column numeric, so it stays right-aligned. Through
    tabulate itself: pandas' to_markdown hands it missing cells as nan, which it prints as "nan"."""
    cells = table.astype(object).where(table.notna(), None)
    rows = [[*([name] if index else []), *row] for name, *row in cells.itertuples()]
    headers = [*([table.index.name or ""] if index else []), *table.columns]
    return tabulate(rows, headers=headers, tablefmt="pipe", missingval=NONE, **kwargs)


def text_section(intro: str, table: pd.DataFrame) -> list[str]:
    """A sentence and its table, cells as written (tabulate would reparse "-4.00" into -4)."""
    return [intro, "", table.to_markdown(index=False, disable_numparse=True), ""]


def _pm(mean: float, std: float) -> str:
    return f"{mean:.4f} ± {std:.4f}"


def _pct(value: float) -> str:
    return NONE if value is None or math.isnan(value) else f"{value:.1f}%"


def _number(value: float, spec: str = "{:.1f}") -> str | None:
    return None if value is None or math.isnan(value) else spec.format(value)


def _has(rows: pd.DataFrame, column: str) -> bool:
    return column in rows and rows[column].notna().any()


def table_for(
    dataset_rows: pd.DataFrame,
    teacher: str,
    distilled: frozenset[str] = frozenset(),
    baseline: pd.Series | None = None,
) -> pd.DataFrame:
    """The published studies' layout: one row per model, then the majority-class baseline when known."""
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
    # a distilled student's cost includes its fold teacher's training and export; only shown when one ran
    end_to_end = _has(dataset_rows, "end_to_end_seconds_per_fold") and bool(
        distilled & set(dataset_rows["model"])
    )
    if end_to_end:
        table["End-to-end s / fold"] = dataset_rows["end_to_end_seconds_per_fold"].map(_number)
    table["Train+val s total"] = dataset_rows["seconds_total"].map("{:.1f}".format)
    table["Time saved (own)"] = dataset_rows["time_saved_pct"].map(_pct)
    if end_to_end:
        table["Time saved (end-to-end)"] = dataset_rows["end_to_end_time_saved_pct"].map(_pct)
    table["Size saved"] = dataset_rows["size_saved_pct"].map(_pct)
    table["Accuracy retained"] = dataset_rows["accuracy_retained_pct"].map(_pct)
    add_inference_columns(table, dataset_rows)
    if baseline is not None:
        table = pd.concat([table, baseline_row(baseline, table.columns, metrics)], ignore_index=True)
    return table


def add_inference_columns(table: pd.DataFrame, rows: pd.DataFrame) -> None:
    """Batch-1 latency and batch-32 throughput, as every fold measures them."""
    table["Latency p50 / p95 (ms, batch 1)"] = [
        f"{_number(a)} / {_number(b)}"
        for a, b in zip(rows["latency_p50_ms"], rows["latency_p95_ms"], strict=True)
    ]
    table["Throughput (ex/s, batch 32)"] = rows["throughput_per_s"].map(lambda v: _number(v, "{:.0f}"))
    table["Speed-up vs teacher"] = rows["throughput_speedup_vs_teacher"].map(lambda v: _number(v, "{:.2f}×"))
    if "pareto" in rows:
        table["Batch-1 speed-up"] = rows["latency_speedup_vs_teacher"].map(lambda v: _number(v, "{:.2f}×"))
        table["Pareto"] = rows["pareto"].map({True: "✓", False: ""})


def baseline_row(baseline: pd.Series, columns: pd.Index, metrics: tuple[str, ...]) -> pd.DataFrame:
    row = dict.fromkeys(columns) | {"Model": BASELINE_NAME}
    for m in metrics:
        if f"{m}_mean" in baseline and not pd.isna(baseline[f"{m}_mean"]):
            row[METRIC_TITLES[m]] = _pm(baseline[f"{m}_mean"], baseline[f"{m}_std"])
    return pd.DataFrame([row])


def dataset_heading(name: str, rows: pd.DataFrame, info: dict) -> list[str]:
    repeats = int(rows["repeats"].max())
    n_folds = int(rows["folds"].max()) // repeats
    if info["protocol"] == "holdout":
        protocol = "hold-out validation split"
    else:
        protocol = f"{n_folds}-fold CV" if repeats == 1 else f"{repeats} × {n_folds}-fold CV"
    heading = (
        f"## {name} ({rows['task'].iloc[0]}, {info['examples']} examples, {protocol}, mean ± std over folds)"
    )
    lines = [heading, ""]
    return lines + ([f"*{info['note']}*", ""] if info.get("note") else [])


def fold_table(folds: pd.DataFrame, baselines: pd.DataFrame | None = None) -> pd.DataFrame:
    """Accuracy per model and fold: columns "fold N" for one run of the folds, "rR fN" for repeats."""
    frame = folds[["model", "repeat", "fold", "accuracy"]]
    if baselines is not None and not baselines.empty:
        repeat = baselines["repeat"].fillna(1).astype(int) if "repeat" in baselines else 1  # absent: one run
        extra = baselines.assign(model=BASELINE_NAME, repeat=repeat)
        frame = pd.concat([frame, extra[["model", "repeat", "fold", "accuracy"]]], ignore_index=True)
    table = frame.pivot(index="model", columns=["repeat", "fold"], values="accuracy").sort_index(axis=1)
    repeats = frame["repeat"].nunique()
    # fold numbers are 1-based already
    table.columns = [f"fold {f}" if repeats == 1 else f"r{r} f{f}" for r, f in table.columns]
    return table.map(lambda v: _number(v, "{:.4f}"))


def threads_line(folds: pd.DataFrame) -> list[str]:
    """A warning when the folds' times were measured with different numbers of torch threads."""
    if "threads" not in folds or folds["threads"].dropna().nunique() < 2:
        return []
    per_model = (
        folds.dropna(subset=["threads"])
        .groupby("model", sort=False)["threads"]
        .agg(lambda s: ", ".join(str(int(t)) for t in sorted(s.unique())))
    )
    counts = "; ".join(f"{model}: {threads}" for model, threads in per_model.items())
    return [
        f"*Folds were timed with different numbers of torch threads ({counts}): their times and speeds "
        "are not comparable with each other.*",
        "",
    ]


# the seed study's cross-dataset layout: one small table per quantity, models down, datasets across
ACROSS = (
    ("Accuracy (mean ± std over folds)", lambda r: _pm(r["accuracy_mean"], r["accuracy_std"])),
    ("Train+val s / fold", lambda r: _number(r["seconds_per_fold"])),
    ("Time saved (own)", lambda r: _pct(r["time_saved_pct"])),
    ("Size (MB)", lambda r: _number(r["model_mb"])),
    ("Size saved", lambda r: _pct(r["size_saved_pct"])),
)


def across_datasets(summary: pd.DataFrame, teacher: str) -> list[str]:
    """Models as rows, datasets as columns, one table per quantity; only for more than one dataset."""
    datasets = list(summary["dataset"].unique())
    if len(datasets) < 2:
        return []
    models = list(dict.fromkeys(summary["model"]))
    lines = ["## Across datasets", ""]
    for title, cell in ACROSS:
        table = pd.DataFrame(None, index=[_label(m, teacher) for m in models], columns=datasets, dtype=object)
        for _, row in summary.iterrows():
            table.loc[_label(row["model"], teacher), row["dataset"]] = cell(row)
        if title.startswith("Accuracy"):
            table = pd.concat([table, published_rows(datasets)])
        lines += [f"{title}:", "", to_markdown(table.rename_axis("Model"), floatfmt=".1f"), ""]
    if any(d in PUBLISHED for d in datasets):
        lines += [f"*† Published accuracy: {CAVEAT}; see the line under each dataset's table.*", ""]
    return lines


def _label(model: str, teacher: str) -> str:
    return f"{model} (teacher)" if model == teacher else model


def published_rows(datasets: list[str]) -> pd.DataFrame:
    """One row per published model, marked †, with its figures where that dataset has any."""
    models = list(dict.fromkeys(m for d in datasets if d in PUBLISHED for m in PUBLISHED[d].accuracy))
    rows = pd.DataFrame(None, index=[f"published {m} †" for m in models], columns=datasets, dtype=object)
    for dataset in datasets:
        for model, variants in PUBLISHED[dataset].accuracy.items() if dataset in PUBLISHED else ():
            rows.loc[f"published {model} †", dataset] = figures(variants)
    return rows
