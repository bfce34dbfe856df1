"""Repeated texts under each policy: exact copies dropped or kept, conflicting labels refused, dropped,
merged or kept; copies kept share one fold; every count lands in meta.json."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from distilbench.core.errors import DataError
from distilbench.data.prepared import load_prepared

from .conftest import ROWS, csv_text

# ROWS (12 distinct texts, 3 classes) plus: ham 0 copied twice, eggs 4 filed also under spam, and
# spam 8 filed under ham once and spam twice (a majority), ham 1 under eggs once (a tie)
REPEATS = [
    *ROWS,
    ROWS[0],
    ROWS[0],
    (ROWS[4][0], "spam"),
    (ROWS[8][0], "ham"),
    ROWS[8],
    (ROWS[1][0], "eggs"),
]


def frame_of(tmp_path: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(tmp_path / "prepared" / name / "examples.parquet")


def test_conflicts_are_refused_by_default_naming_both_rows(write, prepare) -> None:
    with pytest.raises(
        DataError, match=r"r\.csv, line 2 and line 14, column 'label'.*conflicts: drop, merge"
    ):
        prepare(write("r.csv", csv_text([*ROWS, (ROWS[0][0], "spam")])))


def test_conflicts_drop_every_row_of_the_text(write, prepare) -> None:
    meta = prepare(write("r.csv", csv_text(REPEATS)), conflicts="drop")
    # texts ham 1, eggs 4 and spam 8 go whole (2 + 2 + 3 rows); ham 0's two copies are removed
    assert meta["conflicting_texts"] == 3 and meta["conflicting_duplicates"] == 7
    assert meta["duplicates_removed"] == 2 and meta["n_examples"] == 9
    assert meta["repeat_policy"] == {"duplicates": "drop", "conflicts": "drop"}


def test_conflicts_merge_single_label_takes_the_most_frequent_and_drops_ties(
    write, prepare, tmp_path: Path
) -> None:
    meta = prepare(write("r.csv", csv_text(REPEATS)), conflicts="merge")
    labels = dict(zip(*(frame_of(tmp_path, "r")[c] for c in ("text", "label")), strict=True))
    assert labels[ROWS[8][0]] == "spam"  # spam twice, ham once
    assert ROWS[4][0] not in labels and ROWS[1][0] not in labels  # one each: a tie, dropped
    assert meta["conflicts_merged"] == 1 and meta["conflicting_duplicates"] == 4
    assert meta["n_examples"] == 10 and meta["repeated_texts"] == 0


def test_conflicts_merge_multilabel_takes_the_union(write, prepare, tmp_path: Path) -> None:
    rows = [(f"text {i}", "a|b" if i % 2 else "c") for i in range(12)] + [("text 0", "a"), ("text 1", "c")]
    meta = prepare(write("m.csv", csv_text(rows)), label_delimiter="|", conflicts="merge")
    labels = {
        t: list(y) for t, y in zip(*(frame_of(tmp_path, "m")[c] for c in ("text", "label")), strict=True)
    }
    assert labels["text 0"] == ["a", "c"] and labels["text 1"] == ["a", "b", "c"]
    assert meta["conflicts_merged"] == 2 and meta["duplicates_removed"] == 2 and meta["n_examples"] == 12


def test_keep_puts_every_copy_of_a_text_in_one_fold(write, prepare, tmp_path: Path, caplog) -> None:
    # 30 texts, 10 of them in 3 rows with labels rotated as the Brexit corpus files them
    rows = [(f"utterance {i}", "xyz"[i % 3]) for i in range(30)]
    rows += [(f"utterance {i}", "xyz"[(i + shift) % 3]) for i in range(10) for shift in (1, 2)]
    with caplog.at_level(logging.INFO):
        meta = prepare(write("k.csv", csv_text(rows)), folds=3, duplicates="keep", conflicts="keep")
    frame = frame_of(tmp_path, "k")
    assert meta["n_examples"] == len(frame) == 50 and meta["repeated_texts"] == 10
    assert meta["repeated_rows"] == 30 and meta["conflicting_duplicates"] == 0
    assert (frame.groupby("text")["fold"].nunique() == 1).all()
    repeated = frame[frame["text"].isin([f"utterance {i}" for i in range(10)])]
    assert repeated["fold"].nunique() == 3  # the repeated texts themselves are spread over the folds
    assert "kept 30 rows that repeat 10 texts; each text's rows share one fold" in caplog.text
    summary = (
        "k: 50 examples, 3 classes, 3 folds; 0 empty dropped; duplicates: keep (0 removed); "
        "conflicts: keep (10 texts, 0 rows dropped, 0 merged); 10 texts kept in several rows"
    )
    assert summary in caplog.messages


def test_keep_groups_multilabel_copies_too(write, prepare, tmp_path: Path) -> None:
    rows = [(f"comment {i}", ["a", "b", "a|b"][i % 3]) for i in range(24)] + [("comment 0", "a")] * 2
    meta = prepare(write("mk.csv", csv_text(rows)), folds=3, label_delimiter="|", duplicates="keep")
    frame = frame_of(tmp_path, "mk")
    assert meta["n_examples"] == 26 and meta["duplicates_removed"] == 0
    assert frame.loc[frame["text"].eq("comment 0"), "fold"].nunique() == 1
    assert sorted(frame["fold"].unique()) == [0, 1, 2]


def test_keep_and_a_group_column_join_their_groups(write, prepare, tmp_path: Path) -> None:
    # "shared" appears under movie m0 and m1: both movies' rows must then share a fold
    rows = [(f"review {i}", "ab"[i % 2], f"m{i % 6}") for i in range(24)] + [("review 0", "a", "m1")]
    write("g.csv", "text,label,movie\n" + "".join(f"{t},{y},{m}\n" for t, y, m in rows))
    prepare(tmp_path / "g.csv", folds=3, group_column="movie", duplicates="keep")
    frame = frame_of(tmp_path, "g")
    assert frame.loc[frame["group"].isin(["m0", "m1"]), "fold"].nunique() == 1


def test_the_default_still_drops_exact_copies_with_the_same_folds(write, prepare, tmp_path: Path) -> None:
    meta = prepare(write("d.csv", csv_text([*ROWS, ROWS[0]])))
    with_copy = load_prepared(tmp_path / "prepared" / "d").folds.tolist()
    prepare(write("d.csv", csv_text(ROWS)))
    assert meta["duplicates_removed"] == 1 and meta["repeated_texts"] == 0
    assert load_prepared(tmp_path / "prepared" / "d").folds.tolist() == with_copy
