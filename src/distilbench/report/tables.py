"""The report's tables, laid out as the published studies lay theirs out, from the per-model summary."""

from __future__ import annotations

import pandas as pd
from tabulate import tabulate

from distilbench.core.schema import (
    ACROSS_COLUMNS,
    MULTICLASS_SCORES,
    MULTILABEL_SCORES,
    NONE,
    PARETO,
    Column,
    is_missing,
    mean_key,
    score_column,
    table_columns,
)
from distilbench.report.majority import BASELINE_NAME
from distilbench.report.references import CAVEAT, PUBLISHED, figures


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


def column_cells(column: Column, rows: pd.DataFrame) -> list[str | None]:
    """A schema column's cells for each summary row (None where the row has no value)."""
    values = zip(*(rows[key] for key in column.keys), strict=True)
    return [column.cell(*row) for row in values]


def shown(column: Column, rows: pd.DataFrame, distilled: frozenset[str]) -> bool:
    """Whether a column belongs in this dataset's table: end-to-end cost only when a distilled row ran
    (its cost includes its fold teacher's), the front's columns once the front is known."""
    if column.when == "distilled":
        return all(k in rows and rows[k].notna().any() for k in column.keys) and bool(
            distilled & set(rows["model"])
        )
    if column.when == "pareto":
        return PARETO in rows
    return True


def table_for(
    dataset_rows: pd.DataFrame,
    teacher: str,
    distilled: frozenset[str] = frozenset(),
    baseline: pd.Series | None = None,
) -> pd.DataFrame:
    """The published studies' layout: one row per model, then the majority-class baseline when known.
    Its columns, titles and formats are the schema's (core.schema.table_columns)."""
    multilabel = bool((dataset_rows["task"] == "multilabel").any())
    table = pd.DataFrame(
        {
            "Model": dataset_rows["model"]
            + (dataset_rows["model"] == teacher).map({True: " (teacher)", False: ""})
        }
    )
    for column in table_columns(multilabel):
        if shown(column, dataset_rows, distilled):
            table[column.title] = column_cells(column, dataset_rows)
    if baseline is not None:
        scores = MULTILABEL_SCORES if multilabel else MULTICLASS_SCORES
        table = pd.concat([table, baseline_row(baseline, table.columns, scores)], ignore_index=True)
    return table


def baseline_row(baseline: pd.Series, columns: pd.Index, scores: tuple[str, ...]) -> pd.DataFrame:
    row = dict.fromkeys(columns) | {"Model": BASELINE_NAME}
    for key in scores:
        if mean_key(key) in baseline and not pd.isna(baseline[mean_key(key)]):
            column = score_column(key)
            row[column.title] = column.of(baseline)
    return pd.DataFrame([row])


def dataset_heading(name: str, rows: pd.DataFrame, info: dict) -> list[str]:
    repeats = int(rows["repeats"].max())
    n_folds = int(rows["folds"].max()) // repeats
    if info["protocol"] == "holdout":
        protocol = "hold-out validation split"
    elif rows["repeats"].nunique() > 1:  # some rows repeated (repeat_rows): said under the heading
        protocol = f"{n_folds}-fold CV, some rows repeated"
    else:
        protocol = f"{n_folds}-fold CV" if repeats == 1 else f"{repeats} × {n_folds}-fold CV"
    heading = (
        f"## {name} ({rows['task'].iloc[0]}, {info['examples']} examples, {protocol}, mean ± std over folds)"
    )
    lines = [heading, ""]
    if info.get("note"):
        lines += [f"*{info['note']}*", ""]
    preparation = preparation_sentence(info.get("preparation") or {})
    own = ", ".join(f"{key} {value}" for key, value in (info.get("train") or {}).items())
    trained = f"Trained with this dataset's own settings over the train section's: {own}." if own else ""
    sentences = (preparation, trained, repeats_sentence(rows, n_folds))
    return lines + [line for sentence in sentences if sentence for line in (sentence, "")]


def repeats_sentence(rows: pd.DataFrame, n_folds: int) -> str:
    """When some rows ran more repeats than others (the dataset's `repeat_rows`): which, and what each
    figure is then over."""
    repeats = rows["repeats"].astype(int)
    if repeats.nunique() < 2:
        return ""
    most = int(repeats.max())
    repeated = ", ".join(f"**{m}**" for m in rows.loc[repeats == most, "model"])
    return (
        f"Repeated: {repeated} ran {most} × {n_folds} folds (each repeat a new assignment of the folds), "
        f"the other rows {n_folds} folds (the dataset's `repeat_rows`: a later repeat trains only the rows "
        "named there, docs/questions.md). Each row's mean ± std is over its own folds; each paired "
        "comparison is over the folds both of its rows ran."
    )


def preparation_sentence(counts: dict) -> str:
    """What prepare did with the source's rows (crossval.stage.preparation_counts), in one sentence: the
    repeat policy is a choice of the study (the published one kept every copy), so it is stated."""
    if "repeat_policy" not in counts:
        return ""
    policy = counts["repeat_policy"]
    parts = [
        f"duplicates: {policy['duplicates']} ({counts.get('duplicates_removed', 0)} exact copies removed)"
    ]
    conflicting = counts.get("conflicting_texts", 0)
    conflicts = f"conflicts: {policy['conflicts']} ({conflicting} texts found with different labels"
    if counts.get("conflicting_duplicates"):
        conflicts += f", {counts['conflicting_duplicates']} of their rows dropped"
    if counts.get("conflicts_merged"):
        conflicts += f", {counts['conflicts_merged']} given one label set"
    parts.append(conflicts + ")")
    if counts.get("repeated_texts"):
        repeated = f"{counts['repeated_rows']} rows repeat {counts['repeated_texts']} texts"
        parts.append(f"{repeated}, each text's rows in one fold")
    if counts.get("empty_dropped"):
        parts.append(f"{counts['empty_dropped']} empty texts dropped")
    if counts.get("rare_labels_dropped"):
        rare = ", ".join(f"{label} ({n})" for label, n in counts["rare_labels_dropped"].items())
        parts.append(f"labels with fewer examples than folds dropped: {rare}")
    if counts.get("capped_from"):
        parts.append(f"a stratified sample from {counts['capped_from']} rows")
    if counts.get("development"):
        development = counts["development"]
        parts.append(
            f"{development['rows']} development rows, where settings are chosen, set aside in no fold "
            f"({development['taken_from']})"
        )
    return "Prepared rows: " + "; ".join(parts) + "."


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
    return table.map(lambda v: None if is_missing(v) else f"{v:.4f}")


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


def across_datasets(summary: pd.DataFrame, teacher: str) -> list[str]:
    """Models as rows, datasets as columns, one table per quantity; only for more than one dataset."""
    datasets = list(summary["dataset"].unique())
    if len(datasets) < 2:
        return []
    models = list(dict.fromkeys(summary["model"]))
    lines = ["## Across datasets", ""]
    for column in ACROSS_COLUMNS:
        title = column.title
        table = pd.DataFrame(None, index=[_label(m, teacher) for m in models], columns=datasets, dtype=object)
        for _, row in summary.iterrows():
            table.loc[_label(row["model"], teacher), row["dataset"]] = column.of(row)
        if column is ACROSS_COLUMNS[0]:  # the scores: the published figures beside them
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
