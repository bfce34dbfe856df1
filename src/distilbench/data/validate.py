"""Turn a raw table into clean examples, or fail with one message that says where and what.

The same checks run for every source. Messages have one shape, so a user can jump to the place:
``<file>, <line N | row N>, column '<name>': <problem>; <what to do>``.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from distilbench.core.errors import DataError
from distilbench.data.repeats import RepeatCounts, RepeatPolicy, handle_repeats
from distilbench.data.table import MULTICLASS, MULTILABEL, Examples, SourceTable, quoted

logger = logging.getLogger(__name__)

_TRUE = {"1", "1.0", "true", "yes"}
_FALSE = {"0", "0.0", "false", "no"}
# what pandas, spreadsheets and databases write for a missing value; a label cell holding one is missing,
# not a class. Case matters: "NONE" (SemEval stance) and "none" (no emotion) are real classes
NULL_LABELS = frozenset({"nan", "NaN", "None", "null", "NULL", "N/A", "n/a", "#N/A", "<NA>"})


@dataclass(frozen=True)
class CleaningCounts:
    """How many rows each cleaning step dropped or kept; recorded in meta.json."""

    empty_dropped: int
    repeats: RepeatCounts

    def as_meta(self) -> dict[str, int]:
        return {"empty_dropped": self.empty_dropped, **asdict(self.repeats)}


def build_examples(table: SourceTable) -> Examples:
    """Check the named columns exist, join the text columns and parse the labels."""
    _check_columns(table)
    task, labels, names = _parse_labels(table)
    data: dict[str, Any] = {"text": _join_texts(table), "label": labels, "where": table.where}
    if table.group_column is not None:
        data["group"] = _groups(table)
    if table.split is not None:
        data["split"] = table.split
    frame = pd.DataFrame(data)
    text_column, label_column = (", ".join(c) for c in (table.text_columns, table.label_columns))
    return Examples(
        frame,
        task,
        names,
        table.origin,
        text_column,
        label_column,
        table.group_column,
        table.strict_duplicates,
    )


def is_missing(value: Any) -> bool:
    """None, NaN or a blank string: a cell with nothing in it."""
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def is_missing_label(value: Any) -> bool:
    """An empty cell, or one holding the text a tool writes for "no value" (see NULL_LABELS)."""
    return is_missing(value) or (isinstance(value, str) and value.strip() in NULL_LABELS)


def _check_columns(table: SourceTable) -> None:
    if table.frame.empty:
        raise DataError(f"{table.origin}: no data rows")
    existing = [str(c) for c in table.frame.columns]
    wanted = [*table.text_columns, *table.label_columns, *filter(None, [table.group_column])]
    for column in wanted:
        if column not in table.frame.columns:
            raise DataError(
                f"{table.origin}, column {column!r}: no such column; the columns are {quoted(existing)}"
            )


def _join_texts(table: SourceTable) -> list[str]:
    """Several text columns (title + body) become one text; blank parts are skipped."""
    parts = [[_text_part(v) for v in table.frame[c]] for c in table.text_columns]
    return ["\n".join(p for p in row if p) for row in zip(*parts, strict=True)]


def _text_part(value: Any) -> str:
    return "" if is_missing(value) else str(value).strip()


def _groups(table: SourceTable) -> list[str]:
    column = table.group_column
    values = table.frame[column].tolist()
    for where, value in zip(table.where, values, strict=True):
        if is_missing(value):
            raise DataError(f"{table.origin}, {where}, column {column!r}: missing group")
    return [str(v) for v in values]


def _parse_labels(table: SourceTable) -> tuple[str, list[Any], tuple[str, ...]]:
    """(task, one label per row, sorted label names), after the dataset's label_aliases."""
    task, labels, names = _read_labels(table)
    if not table.label_aliases:
        return task, labels, names
    aliases = dict(table.label_aliases)
    _log_aliases(table, Counter(n for row in labels for n in ([row] if task == MULTICLASS else row)))
    if task == MULTICLASS:
        labels = [aliases.get(label, label) for label in labels]
        return task, labels, tuple(sort_labels(set(labels)))
    labels = [tuple(sorted({aliases.get(n, n) for n in row})) for row in labels]
    return task, labels, tuple(sort_labels({aliases.get(n, n) for n in names}))


def _log_aliases(table: SourceTable, found: Counter) -> None:
    """One line for what the aliases mended, and one for an alias that matches nothing (a typo in it)."""
    used = [(w, m, found[w]) for w, m in table.label_aliases if found[w]]
    if used:
        shown = ", ".join(f"{w!r} -> {m!r} ({n})" for w, m, n in used)
        logger.info("%s: label_aliases renamed %s", table.origin, shown)
    unused = [w for w, _ in table.label_aliases if not found[w]]
    if unused:
        logger.warning("%s: label_aliases %s match no label in the data", table.origin, quoted(unused))


def _read_labels(table: SourceTable) -> tuple[str, list[Any], tuple[str, ...]]:
    if len(table.label_columns) > 1:
        if _label_values(table) == "names":
            labels = _name_columns(table)
            return MULTILABEL, labels, tuple(sort_labels({n for row in labels for n in row}))
        labels = _binary_columns(table)
        return MULTILABEL, labels, tuple(sorted(table.label_columns))
    column = table.label_columns[0]
    values = table.frame[column].tolist()
    for where, value in zip(table.where, values, strict=True):
        _check_label(value, f"{table.origin}, {where}, column {column!r}")
    if any(_is_list(v) for v in values) or table.label_delimiter is not None:
        labels = [_label_set(v, w, table) for v, w in zip(values, table.where, strict=True)]
        return MULTILABEL, labels, tuple(sort_labels({name for row in labels for name in row}))
    labels = [_label_str(v) for v in values]
    return MULTICLASS, labels, tuple(sort_labels(set(labels)))


def _check_label(value: Any, place: str) -> None:
    """A label is a string or a number (or, multilabel, a list of them): never empty, never a record."""
    items = list(value) if _is_list(value) else [value]
    record = next((v for v in items if isinstance(v, dict)), None)
    if record is not None:  # a Parquet struct or a JSON object: str() of it would become a class name
        raise DataError(
            f"{place}: {record!r} is a record (struct), not a label; "
            "give a column of strings or integers (e.g. one field of the record)"
        )
    if not _is_list(value) and is_missing_label(value):
        raise DataError(f"{place}: missing label")


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple | np.ndarray)


def _label_str(value: Any) -> str:
    """A class id as text; 3.0 (an int column with a gap, read by pandas as float) is "3"."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _label_set(value: Any, where: str, table: SourceTable) -> tuple[str, ...]:
    """One row's labels for a list column or a delimited string column; an empty list means none apply."""
    column = table.label_columns[0]
    if _is_list(value):
        names = [_label_str(v) for v in value if not is_missing_label(v)]
    elif table.label_delimiter is not None and isinstance(value, str):
        parts = (n.strip() for n in value.split(table.label_delimiter))
        names = [n for n in parts if n and n not in NULL_LABELS]
    else:
        raise DataError(
            f"{table.origin}, {where}, column {column!r}: {value!r} is not a list of labels "
            "(other rows hold lists; set label_delimiter for delimited strings)"
        )
    return tuple(sorted(set(names)))


def _label_values(table: SourceTable) -> str:
    """Whether several label columns hold 0/1 flags or label names: as set, else by their cells. Names
    when no filled cell is a flag; flags when most are (a stray value is then reported as not 0 or 1)."""
    if table.label_values != "auto":
        return table.label_values
    filled = [
        (column, where, value)
        for column in table.label_columns
        for where, value in zip(table.where, table.frame[column], strict=True)
        if not is_missing_label(value)
    ]
    flags = [cell for cell in filled if _is_flag(cell[2])]
    if not flags:
        return "names"
    names = [cell for cell in filled if not _is_flag(cell[2])]
    if len(names) <= len(flags):
        return "flags"
    column, where, value = flags[0]
    raise DataError(
        f"{table.origin}, {where}, column {column!r}: {value!r} looks like a 0/1 flag, but the label columns "
        "hold label names; set label_values: names (or flags) for this dataset"
    )


def _is_flag(value: Any) -> bool:
    return _label_str(value).lower() in _TRUE | _FALSE


def _name_columns(table: SourceTable) -> list[tuple[str, ...]]:
    """Several columns holding label names (a stance category, a second one...): each row's labels are
    the names found in them; a blank cell means none."""
    columns = [table.frame[c].tolist() for c in table.label_columns]
    labels = []
    for where, cells in zip(table.where, zip(*columns, strict=True), strict=True):
        for column, cell in zip(table.label_columns, cells, strict=True):
            if not is_missing_label(cell):
                _check_label(cell, f"{table.origin}, {where}, column {column!r}")
        labels.append(tuple(sorted({_label_str(c) for c in cells if not is_missing_label(c)})))
    return labels


def _binary_columns(table: SourceTable) -> list[tuple[str, ...]]:
    """Several 0/1 columns: each row's labels are the names of the columns holding 1."""
    flags = {
        c: [_binary(v, w, c, table.origin) for v, w in zip(table.frame[c], table.where, strict=True)]
        for c in table.label_columns
    }
    names = sorted(table.label_columns)
    return [tuple(n for n in names if flags[n][i]) for i in range(len(table.frame))]


def _binary(value: Any, where: str, column: str, origin: str) -> bool:
    if is_missing_label(value):
        raise DataError(f"{origin}, {where}, column {column!r}: missing label (expected 0 or 1)")
    text = _label_str(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise DataError(f"{origin}, {where}, column {column!r}: {value!r} is not 0 or 1")


def sort_labels(names: set[str]) -> list[str]:
    """Sorted names; integer ids sort numerically ("2" before "10") so class ids stay intuitive."""
    if names and all(n.lstrip("-").isdigit() for n in names):
        return sorted(names, key=int)
    return sorted(names)


# --- cleaning -------------------------------------------------------------------------------------


def clean(examples: Examples, policy: RepeatPolicy | None = None) -> tuple[Examples, CleaningCounts]:
    """Drop empty texts, then apply the dataset's policy for repeated texts (see data.repeats)."""
    frame, empty = _drop_empty(examples)
    if policy is None:  # what each source did before policies could be set
        policy = RepeatPolicy(conflicts="error" if examples.strict_duplicates else "drop")
    frame, repeats = handle_repeats(frame, examples, policy)
    labels = examples.labels
    if examples.task == MULTICLASS:  # a class whose rows were all dropped is no longer a class
        labels = tuple(sort_labels(set(frame["label"])))
    cleaned = replace(examples, frame=frame.reset_index(drop=True), labels=labels)
    return cleaned, CleaningCounts(empty, repeats)


def _drop_empty(examples: Examples) -> tuple[pd.DataFrame, int]:
    frame = examples.frame
    empty = frame["text"].eq("")
    if empty.all():
        raise DataError(
            f"{examples.origin}, column {examples.text_column!r}: "
            f"all {len(frame)} texts are empty or whitespace"
        )
    if empty.any():
        logger.warning(
            "%s, column %r: dropped %d empty or whitespace-only texts (first at %s)",
            examples.origin,
            examples.text_column,
            empty.sum(),
            frame.loc[empty, "where"].iloc[0],
        )
    return frame[~empty], int(empty.sum())


# --- class checks ---------------------------------------------------------------------------------


def class_counts(examples: Examples) -> dict[str, int]:
    """Examples per class (multiclass) or positives per label (multilabel), in label order."""
    if examples.task == MULTICLASS:
        counts = Counter(examples.frame["label"])
    else:
        counts = Counter(name for row in examples.frame["label"] for name in row)
    return {name: counts.get(name, 0) for name in examples.labels}


def check_classes(examples: Examples, folds: int | None, cap_note: str = "") -> None:
    """At least two classes, and (k-fold) every class in every fold. ``folds`` None = holdout."""
    counts = class_counts(examples)
    kind = "class" if examples.task == MULTICLASS else "label"
    where = f"{examples.origin}, column {examples.label_column!r}"
    if len(counts) < 2:
        only = ", ".join(f"{n!r} ({c} examples)" for n, c in counts.items()) or "none"
        raise DataError(f"{where}: only one {kind}, {only}{cap_note}; a classifier needs at least 2")
    if folds is None:
        return
    name, count = min(counts.items(), key=lambda item: item[1])
    if count < folds:
        advice = (
            f"use data.folds: {count} or fewer, or remove that {kind}"
            if count >= 2
            else f"remove or merge that {kind} (k-fold needs at least 2 examples of each)"
        )
        raise DataError(
            f"{where}: {kind} {name!r} has {count} example{'s' if count != 1 else ''}{cap_note}, "
            f"fewer than the {folds} folds; {advice}"
        )


def drop_rare_labels(examples: Examples, folds: int) -> tuple[Examples, dict[str, int]]:
    """Labels with fewer examples than folds leave the label set (k-fold cannot put one in every fold):
    a class's rows are dropped; a multilabel label is taken off the rows that carry it, which stay.
    Returns the dropped labels with their counts; one line names them."""
    rare = {name: count for name, count in class_counts(examples).items() if count < folds}
    if not rare:
        return examples, {}
    frame = examples.frame
    if examples.task == MULTICLASS:
        lost = frame["label"].isin(list(rare))
        frame = frame[~lost]
    else:
        lost = frame["label"].map(lambda row: any(n in rare for n in row))
        frame = frame.assign(label=[tuple(n for n in row if n not in rare) for row in frame["label"]])
    kind = ("class", "classes") if examples.task == MULTICLASS else ("label", "labels")
    logger.warning(
        "%s, column %r: dropped %s %s with fewer examples than the %d folds (%d rows %s); rare_labels: drop",
        examples.origin,
        examples.label_column,
        kind[len(rare) > 1],
        ", ".join(f"{name!r} ({count})" for name, count in rare.items()),
        folds,
        int(lost.sum()),
        "dropped" if examples.task == MULTICLASS else "lost it",
    )
    labels = tuple(name for name in examples.labels if name not in rare)
    return replace(examples, frame=frame.reset_index(drop=True), labels=labels), rare


def check_holdout_labels(examples: Examples, train_split: str, eval_split: str) -> None:
    """Every class evaluated must have been trained on; a class only in training is merely logged."""
    frame = examples.frame
    seen = {}
    for role in ("train", "eval"):
        counts = class_counts(replace(examples, frame=frame[frame["split"].eq(role)]))
        seen[role] = {name for name, count in counts.items() if count}
    unseen = sort_labels(seen["eval"] - seen["train"])
    kind = "class" if examples.task == MULTICLASS else "label"
    if unseen:
        raise DataError(
            f"{examples.origin}, column {examples.label_column!r}: {kind} {unseen[0]!r} is in the eval split "
            f"{eval_split!r} but not in the train split {train_split!r}, so no model can learn it; "
            "use splits with the same label set (or protocol: kfold)"
        )
    for name in sort_labels(seen["train"] - seen["eval"]):
        logger.warning(
            "%s: %s %r is never evaluated (not in split %r)", examples.origin, kind, name, eval_split
        )


def check_groups(examples: Examples, folds: int) -> None:
    if "group" not in examples.frame.columns:
        return
    n_groups = examples.frame["group"].nunique()
    if n_groups < folds:
        raise DataError(
            f"{examples.origin}, column {examples.group_column!r}: only {n_groups} distinct groups, "
            f"fewer than the {folds} folds; use fewer folds or a finer group_column"
        )
