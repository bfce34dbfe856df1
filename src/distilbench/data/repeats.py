"""Texts that appear in several rows: the dataset's policy for exact copies and for conflicting labels.

Published corpora repeat texts on purpose (the Brexit Blog Corpus lists an utterance once per stance
category it carries) or by accident (Amazon Alexa: the same short review from many users). Each dataset
says what to do (``duplicates:``, ``conflicts:`` in params.yaml); every step is counted, logged and
recorded in meta.json. Rows of one text that stay are kept in one fold by prepare (see folds.text_groups),
so no text is both trained on and evaluated.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from distilbench.core.errors import DataError
from distilbench.data.table import MULTILABEL

if TYPE_CHECKING:
    from distilbench.data.table import Examples

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RepeatPolicy:
    """``duplicates``: "drop" | "keep" exact copies; ``conflicts``: "error" | "drop" | "merge" | "keep"
    rows whose text also appears with other labels."""

    duplicates: str = "drop"
    conflicts: str = "error"


@dataclass(frozen=True)
class RepeatCounts:
    """What the policy did; recorded in meta.json beside the policy itself."""

    conflicting_texts: int  # distinct texts found with different labels
    conflicting_duplicates: int  # rows dropped over a conflict (drop, or a tied merge)
    conflicts_merged: int  # texts whose rows were given one label (set) by merge
    duplicates_removed: int  # exact copies (same text, same labels) beyond the first
    repeated_texts: int  # texts still in several rows after cleaning (kept in one fold each)
    repeated_rows: int  # the rows of those texts


def dedup_key(frame: pd.DataFrame) -> list[str]:
    # holdout keeps its official splits: a duplicate is only a duplicate within its own split
    return ["split", "text"] if "split" in frame.columns else ["text"]


def handle_repeats(
    frame: pd.DataFrame, examples: Examples, policy: RepeatPolicy
) -> tuple[pd.DataFrame, RepeatCounts]:
    """Conflicts first (so a merged text's copies become exact copies), then exact copies."""
    key = dedup_key(frame)
    conflict = frame.groupby(key, sort=False)["label"].transform("nunique").gt(1)
    texts = int(frame.loc[conflict, key].drop_duplicates().shape[0])
    dropped = merged = 0
    if texts:
        frame, dropped, merged = _resolve_conflicts(frame, conflict, examples, policy.conflicts)
        logger.warning(
            "%s: %d texts appear with different labels (%d rows); conflicts: %s -> %d rows dropped, "
            "%d texts merged",
            examples.origin,
            texts,
            int(conflict.sum()),
            policy.conflicts,
            dropped,
            merged,
        )
    copies = frame.duplicated([*key, "label"], keep="first")
    removed = 0
    if copies.any():
        if policy.duplicates == "drop":
            frame, removed = frame[~copies], int(copies.sum())
        logger.info(
            "%s: %d exact duplicate rows (same text, same labels); duplicates: %s -> %d removed",
            examples.origin,
            int(copies.sum()),
            policy.duplicates,
            removed,
        )
    repeated = frame.duplicated(key, keep=False)
    n_texts = int(frame.loc[repeated, key].drop_duplicates().shape[0])
    if n_texts:
        logger.info(
            "%s: kept %d rows that repeat %d texts; each text's rows share one fold",
            examples.origin,
            int(repeated.sum()),
            n_texts,
        )
    counts = RepeatCounts(texts, dropped, merged, removed, n_texts, int(repeated.sum()))
    return frame, counts


def _resolve_conflicts(
    frame: pd.DataFrame, conflict: pd.Series, examples: Examples, policy: str
) -> tuple[pd.DataFrame, int, int]:
    """(frame, rows dropped, texts merged) under one conflicts policy."""
    if policy == "error":
        raise DataError(_conflict_message(frame[conflict], examples))
    if policy == "drop":
        return frame[~conflict], int(conflict.sum()), 0
    if policy == "keep":
        return frame, 0, 0
    key = dedup_key(frame)
    merge = _union if examples.task == MULTILABEL else _most_frequent
    merged = {k: merge(rows) for k, rows in frame.loc[conflict].groupby(key, sort=False)["label"]}
    keys = frame[key].itertuples(index=False, name=None)
    labels = [merged[k] if hit else y for k, hit, y in zip(keys, conflict, frame["label"], strict=True)]
    frame = frame.assign(label=pd.Series(labels, index=frame.index, dtype=object))
    tied = frame["label"].isna()
    return frame[~tied], int(tied.sum()), sum(v is not None for v in merged.values())


def _union(labels: pd.Series) -> tuple[str, ...]:
    return tuple(sorted({name for row in labels for name in row}))


def _most_frequent(labels: pd.Series) -> str | None:
    """The label most rows of a text carry; None (the text is dropped) when two labels tie."""
    ranked = Counter(labels).most_common(2)
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def _conflict_message(conflicts: pd.DataFrame, examples: Examples) -> str:
    first = conflicts.iloc[0]
    same_text = conflicts[conflicts["text"].eq(first["text"])]
    other = same_text[same_text["label"] != first["label"]].iloc[0]
    return (
        f"{examples.origin}, {first['where']} and {other['where']}, column {examples.label_column!r}: "
        f"the same text has different labels ({_show(first['label'])} vs {_show(other['label'])}); "
        "fix or remove one of them, or set conflicts: drop, merge or keep for this dataset"
    )


def _show(label: Any) -> str:
    return repr(label) if isinstance(label, str) else repr(list(label))
