"""Multilabel from a list column, a delimited string and several 0/1 columns; iterative folds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from distilbench.core.errors import DataError
from distilbench.data.folds import assign_folds
from distilbench.data.prepared import load_prepared

# 12 texts, labels a/b/c; some rows carry two labels, one none
LABELS = [["a"], ["b"], ["c"], ["a", "b"], ["b", "c"], ["a", "c"], ["a"], ["b"], ["c"], ["a", "b"], [], ["c"]]
TEXTS = [f"comment number {i}" for i in range(len(LABELS))]
EXPECTED = np.array([[n in row for n in "abc"] for row in LABELS], dtype=np.float32)


def check(dataset_dir: Path, labels: tuple[str, ...] = ("a", "b", "c")) -> None:
    data = load_prepared(dataset_dir)
    assert data.task == "multilabel" and data.labels == labels
    assert data.targets.dtype == np.float32 and data.targets.shape == (12, len(labels))
    order = [TEXTS.index(t) for t in data.texts]
    np.testing.assert_array_equal(data.targets, EXPECTED[order][:, : len(labels)])
    assert set(data.folds.tolist()) == {0, 1}


def test_list_column(prepare, tmp_path: Path) -> None:
    pd.DataFrame({"text": TEXTS, "tags": LABELS}).to_parquet(tmp_path / "lists.parquet")
    meta = prepare(tmp_path / "lists.parquet", label_columns="tags")
    assert meta["class_counts"] == {"a": 5, "b": 5, "c": 5}
    check(tmp_path / "prepared" / "lists")
    on_disk = pd.read_parquet(tmp_path / "prepared" / "lists" / "examples.parquet")
    assert [list(v) for v in on_disk["label"]][:2] == [["a"], ["b"]]


def test_jsonl_list_column(write, prepare, tmp_path: Path) -> None:
    write("l.jsonl", pd.DataFrame({"text": TEXTS, "label": LABELS}).to_json(orient="records", lines=True))
    prepare(tmp_path / "l.jsonl")
    check(tmp_path / "prepared" / "l")


def test_delimited_string_column(write, prepare, tmp_path: Path) -> None:
    # an empty cell is a missing label (not "no labels"), so every row here names at least one
    rows = [y or ["c"] for y in LABELS]
    lines = ["text,label"] + [f"{t},{' | '.join(y)}" for t, y in zip(TEXTS, rows, strict=True)]
    prepare(write("d.csv", "\n".join(lines)), label_delimiter="|")
    data = load_prepared(tmp_path / "prepared" / "d")
    assert data.labels == ("a", "b", "c")
    assert data.targets[data.texts.index(TEXTS[3])].tolist() == [1.0, 1.0, 0.0]
    assert data.targets.sum() == sum(len(y) for y in rows)


def test_binary_columns(write, prepare, tmp_path: Path) -> None:
    frame = pd.DataFrame(EXPECTED.astype(int), columns=list("abc"))
    frame.insert(0, "comment_text", TEXTS)
    write("toxic.csv", frame.to_csv(index=False))
    meta = prepare(tmp_path / "toxic.csv", text_columns="comment_text", label_columns=["c", "b", "a"])
    assert meta["labels"] == ["a", "b", "c"]  # sorted, whatever order params name them in
    check(tmp_path / "prepared" / "toxic")


def test_binary_column_with_another_value_fails(write, prepare) -> None:
    write_path = write("bad.csv", "text,a,b\nx,0,1\ny,2,0\n")
    with pytest.raises(DataError, match=r"bad\.csv, line 3, column 'a': '2' is not 0 or 1"):
        prepare(write_path, label_columns=["a", "b"])


def test_iterative_stratification_spreads_every_label() -> None:
    rng = np.random.default_rng(0)
    targets = (rng.random((300, 6)) < [0.5, 0.3, 0.1, 0.05, 0.03, 0.02]).astype(np.float32)
    folds = assign_folds(targets, 5, seed=0)
    per_fold = np.stack([targets[folds == f].sum(axis=0) for f in range(5)])
    expected = targets.sum(axis=0) / 5
    assert (np.abs(per_fold - expected) <= 1.0).all()
    np.testing.assert_array_equal(folds, assign_folds(targets, 5, seed=0))
