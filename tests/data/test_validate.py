"""Labels as published corpora write them: several columns of label names (blank = none) beside 0/1
flag columns, typos mended by label_aliases, labels too rare for k-fold dropped with one line, and an
imbalanced binary file loaded as it is."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from distilbench.core.errors import DataError
from distilbench.data.prepared import load_prepared

from .conftest import csv_text

# a stance-corpus layout: first, second and third category by name; blank cells where there are fewer
STANCES = [
    ("I know what you mean.", "agreement", "", ""),
    ("We will surely leave.", "certainty", "prediction", ""),
    ("It might rain.", "uncertainty", "", ""),
    ("They must act now.", "necessity", "prediction", "certainty"),
]
COLUMNS = ["Stance category", "second stance category", "third"]


def stance_csv(rows: list[tuple[str, ...]]) -> str:
    return (
        "Utterance," + ",".join(COLUMNS) + "\n" + "".join(",".join(f'"{c}"' for c in r) + "\n" for r in rows)
    )


def copies(n: int) -> list[tuple[str, ...]]:
    return [(f"{t} ({i})", *labels) for i in range(n) for t, *labels in STANCES]


def test_several_columns_of_label_names_are_multilabel(write, prepare, tmp_path: Path) -> None:
    meta = prepare(write("s.csv", stance_csv(copies(3))), text_columns="Utterance", label_columns=COLUMNS)
    data = load_prepared(tmp_path / "prepared" / "s")
    assert data.task == "multilabel"
    assert data.labels == ("agreement", "certainty", "necessity", "prediction", "uncertainty")
    assert meta["class_counts"] == {
        "agreement": 3,
        "certainty": 6,
        "necessity": 3,
        "prediction": 6,
        "uncertainty": 3,
    }
    row = data.texts.index("They must act now. (1)")
    assert data.targets[row].tolist() == [0, 1, 1, 1, 0]


def test_flag_columns_are_still_flags_and_a_stray_value_is_named(write, prepare) -> None:
    flags = "text,a,b\n" + "".join(f"t{i},{i % 2},{(i + 1) % 2}\n" for i in range(8))
    assert prepare(write("f.csv", flags), label_columns=["a", "b"])["labels"] == ["a", "b"]
    bad = flags.replace("t3,1,0", "t3,1,2")
    with pytest.raises(DataError, match=r"f\.csv, line 5, column 'b': '2' is not 0 or 1"):
        prepare(write("f.csv", bad), label_columns=["a", "b"])


def test_a_flag_among_names_asks_for_label_values(write, prepare) -> None:
    rows = [*copies(3), ("odd one", "1", "", "")]
    path = write("s.csv", stance_csv(rows))
    with pytest.raises(
        DataError, match=r"line 14, column 'Stance category': '1' looks like a 0/1 flag.*label_values"
    ):
        prepare(path, text_columns="Utterance", label_columns=COLUMNS)
    meta = prepare(
        path, text_columns="Utterance", label_columns=COLUMNS, label_values="names", rare_labels="drop"
    )
    assert meta["rare_labels_dropped"] == {"1": 1}


def test_label_aliases_mend_typos_and_an_unused_alias_is_logged(write, prepare, caplog) -> None:
    rows = [*copies(3), ("A typo here.", "certainity", "predicton", "")]
    aliases = {"certainity": "certainty", "predicton": "prediction", "never": "agreement"}
    with caplog.at_level(logging.INFO, logger="distilbench.data.validate"):
        meta = prepare(
            write("s.csv", stance_csv(rows)),
            text_columns="Utterance",
            label_columns=COLUMNS,
            label_aliases=aliases,
        )
    assert meta["class_counts"]["certainty"] == 7 and "certainity" not in meta["labels"]
    assert (
        "label_aliases renamed 'certainity' -> 'certainty' (1), 'predicton' -> 'prediction' (1)"
        in caplog.text
    )
    assert "label_aliases 'never' match no label in the data" in caplog.text


def test_a_multilabel_label_rarer_than_the_folds_is_dropped_with_one_line(
    write, prepare, tmp_path: Path, caplog
) -> None:
    rows = [*copies(3), ("A lone one.", "hypotheticallity", "certainty", "")]
    with caplog.at_level(logging.WARNING, logger="distilbench.data.validate"):
        meta = prepare(
            write("s.csv", stance_csv(rows)), folds=3, text_columns="Utterance", label_columns=COLUMNS
        )
    assert meta["rare_labels_dropped"] == {"hypotheticallity": 1} and "hypotheticallity" not in meta["labels"]
    assert meta["n_examples"] == 13  # the row stays, with the labels it has left
    (line,) = [r.getMessage() for r in caplog.records if "fewer examples than" in r.getMessage()]
    assert "'hypotheticallity' (1)" in line and "3 folds" in line
    data = load_prepared(tmp_path / "prepared" / "s")
    assert data.targets[data.texts.index("A lone one.")].tolist() == [0, 1, 0, 0, 0]


def test_a_class_rarer_than_the_folds_is_dropped_with_its_rows(write, prepare) -> None:
    rows = [(f"{y} text {i}", y) for y in ("ham", "spam") for i in range(6)] + [("odd", "x"), ("odder", "x")]
    meta = prepare(write("r.csv", csv_text(rows)), folds=3)
    assert meta["labels"] == ["ham", "spam"] and meta["n_examples"] == 12
    assert meta["rare_labels_dropped"] == {"x": 2}


def test_nine_to_one_imbalance_loads_stratified(write, prepare, tmp_path: Path) -> None:
    rows = [(f"review {i}", "1" if i % 10 else "0") for i in range(100)]
    meta = prepare(write("a.tsv", "text\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in rows)), folds=5)
    assert meta["class_counts"] == {"0": 10, "1": 90}
    data = load_prepared(tmp_path / "prepared" / "a")
    for fold in data.eval_folds:
        _, held_out = data.split(fold)
        assert np.bincount(data.targets[held_out]).tolist() == [2, 18]
