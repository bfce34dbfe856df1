"""Local files: each format round-trips, and each bad input fails with one message naming the place."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from distilbench.core.errors import DataError
from distilbench.data.prepared import load_prepared
from distilbench.data.validate import NULL_LABELS

from .conftest import ROWS, csv_text


def test_csv_round_trips(write, prepare, tmp_path: Path) -> None:
    path = write("tiny.csv", csv_text())
    meta = prepare(path, folds=2, seed=3)
    data = load_prepared(tmp_path / "prepared" / "tiny")
    assert meta["task"] == data.task == "multiclass"
    assert data.labels == ("eggs", "ham", "spam")
    assert sorted(data.texts) == sorted(t for t, _ in ROWS)
    assert data.targets.dtype == np.int64 and data.folds.dtype == np.int64
    assert data.eval_folds == (0, 1) and meta["class_counts"] == {"eggs": 4, "ham": 4, "spam": 4}
    for fold in data.eval_folds:
        train, held_out = data.split(fold)
        assert len(held_out) == 6 and set(train).isdisjoint(held_out)
        assert np.bincount(data.targets[held_out]).tolist() == [2, 2, 2]
    assert data.texts[data.targets.tolist().index(1)].startswith("ham")
    assert meta["source"]["path"] == str(path) and meta["data_hash"] == data.data_hash


def test_folds_are_deterministic_given_the_seed(write, prepare, tmp_path: Path) -> None:
    path = write("tiny.csv", csv_text())
    first = prepare(path, seed=1)["data_hash"]
    assert prepare(path, seed=1)["data_hash"] == first
    folds = {prepare(path, seed=s, folds=4)["data_hash"] for s in range(6)}
    assert len(folds) > 1  # the seed does move rows between folds


def test_tsv_jsonl_parquet_and_several_text_columns(write, prepare, tmp_path: Path) -> None:
    frame = pd.DataFrame({"title": [t for t, _ in ROWS], "body": ["b"] * 12, "y": [y for _, y in ROWS]})
    frame.loc[0, "body"] = None  # a missing part is skipped, not joined as "None"
    write("a.tsv", frame.fillna("").to_csv(sep="\t", index=False))
    write("b.jsonl", frame.to_json(orient="records", lines=True))
    frame.to_parquet(tmp_path / "c.parquet")
    for name in ("a.tsv", "b.jsonl", "c.parquet"):
        prepare(tmp_path / name, text_columns=["title", "body"], label_columns="y")
        texts = load_prepared(tmp_path / "prepared" / Path(name).stem).texts
        assert f"{ROWS[1][0]}\nb" in texts and ROWS[0][0] in texts, name


def test_integer_labels_sort_numerically(write, prepare, tmp_path: Path) -> None:
    rows = [(t, str([2, 10, 1][i % 3])) for i, (t, _) in enumerate(ROWS)]
    meta = prepare(write("ints.csv", csv_text(rows)))
    assert meta["labels"] == ["1", "2", "10"]


def test_max_examples_is_a_stratified_cap(write, prepare) -> None:
    rows = [(f"{label} {i}", label) for label in ("a", "b") for i in range(30)]
    meta = prepare(write("big.csv", csv_text(rows)), max_examples=20)
    assert meta["capped_from"] == 60 and meta["class_counts"] == {"a": 10, "b": 10}


def test_empty_texts_are_dropped_and_counted(write, prepare) -> None:
    meta = prepare(write("e.csv", csv_text([*ROWS, ("   ", "ham"), ("", "spam")])))
    assert meta["empty_dropped"] == 2 and meta["n_examples"] == 12


def test_exact_duplicates_are_removed(write, prepare) -> None:
    meta = prepare(write("d.csv", csv_text([*ROWS, ROWS[0], ROWS[5]])))
    assert meta["duplicates_removed"] == 2 and meta["n_examples"] == 12


# --- bad input: one DataError each, naming file, row/line and column ------------------------------


def fails(prepare, path: Path, pattern: str, **params) -> str:
    with pytest.raises(DataError) as info:
        prepare(path, **params)
    message = str(info.value)
    assert re.search(pattern, message), message
    return message


def test_missing_file(prepare, tmp_path: Path) -> None:
    fails(prepare, tmp_path / "nope.csv", r"nope\.csv: file not found")


def test_unknown_format(write, prepare) -> None:
    fails(
        prepare,
        write("data.xml", "<a/>"),
        r"data\.xml: unknown format \(suffix '\.xml'\); use a suffix \.csv/",
    )


def test_missing_text_column_lists_the_columns(write, prepare) -> None:
    path = write("m.csv", csv_text(header="sentence,label"))
    fails(prepare, path, r"m\.csv, column 'text': no such column; the columns are 'sentence', 'label'")


def test_misnamed_label_column(write, prepare) -> None:
    fails(prepare, write("m.csv", csv_text()), r"column 'labels': no such column", label_columns="labels")


def test_all_texts_empty(write, prepare) -> None:
    fails(
        prepare,
        write("e.csv", csv_text([(" ", "a"), ("", "b")])),
        r"e\.csv, column 'text': all 2 texts are empty or whitespace",
    )


def test_missing_label_names_the_line(write, prepare) -> None:
    path = write("l.csv", csv_text([*ROWS[:3], ("no label here", "")]))
    fails(prepare, path, r"l\.csv, line 5, column 'label': missing label")


def test_missing_label_in_jsonl_names_the_line(write, prepare) -> None:
    lines = [json.dumps({"text": t, "label": y}) for t, y in ROWS[:2]] + ["", json.dumps({"text": "x"})]
    fails(prepare, write("l.jsonl", "\n".join(lines)), r"l\.jsonl, line 4, column 'label': missing label")


def test_missing_label_in_parquet_names_the_row(prepare, tmp_path: Path) -> None:
    pd.DataFrame({"text": ["a", "b", "c"], "label": ["x", None, "y"]}).to_parquet(tmp_path / "p.parquet")
    fails(prepare, tmp_path / "p.parquet", r"p\.parquet, row 2, column 'label': missing label")


def test_class_smaller_than_folds_is_refused_by_setting(write, prepare) -> None:
    path = write("s.csv", csv_text([*ROWS, ("rare one", "rare"), ("rare two", "rare")]))
    pattern = r"class 'rare' has 2 examples, fewer than the 3 folds; use data.folds: 2"
    fails(prepare, path, pattern, folds=3, rare_labels="error")


def test_single_class(write, prepare) -> None:
    path = write("one.csv", csv_text(ROWS[:4]))
    fails(prepare, path, r"one\.csv, column 'label': only one class, 'ham' \(4 examples\)")


def test_undecodable_bytes_name_offset_line_and_column(write, prepare) -> None:
    content = csv_text(ROWS[:3]).encode() + b'"caf\xe9 au lait",ham\n'
    offset = content.index(b"\xe9")
    pattern = rf"b\.csv, line 5, column 'text': byte 0xe9 at offset {offset} is not valid UTF-8;"
    fails(prepare, write("b.csv", content), pattern)


def test_declared_encoding_is_tried_after_utf8(write, prepare, tmp_path: Path) -> None:
    content = csv_text([*ROWS, ("caf\xe9 au lait", "ham")]).encode("latin-1")
    prepare(write("latin.csv", content), encoding="latin-1")
    assert "caf\xe9 au lait" in load_prepared(tmp_path / "prepared" / "latin").texts


def test_undecodable_in_declared_encoding_too(write, prepare) -> None:
    content = csv_text(ROWS[:3]).encode() + b'"bad \x81 byte",ham\n'
    fails(
        prepare,
        write("b.csv", content),
        r"line 5, column 'text': byte 0x81 .* not valid UTF-8 or cp1252",
        encoding="cp1252",
    )


def test_ragged_csv_row_names_the_line(write, prepare) -> None:
    content = csv_text(ROWS[:3]) + '"extra field",ham,oops\n'
    fails(
        prepare,
        write("r.csv", content),
        r"r\.csv, line 5: 3 fields where the header has 2 \('text', 'label'\)",
    )


def test_quoted_newlines_keep_line_numbers_right(write, prepare) -> None:
    content = 'text,label\n"two\nlines",ham\n"fine",spam\n"",\n'
    fails(prepare, write("q.csv", content), r"q\.csv, line 5, column 'label': missing label")


def test_conflicting_duplicates_name_both_rows_and_labels(write, prepare) -> None:
    path = write("c.csv", csv_text([*ROWS, (ROWS[0][0], "spam")]))
    pattern = (
        r"c\.csv, line 2 and line 14, column 'label': the same text has different labels \('ham' vs 'spam'\)"
    )
    fails(prepare, path, pattern)


def test_bad_json_line(write, prepare) -> None:
    fails(
        prepare,
        write("j.jsonl", '{"text": "a", "label": "x"}\n{"text": \n'),
        r"j\.jsonl, line 2: not valid JSON",
    )


# --- awkward but valid: read as a user expects ----------------------------------------------------


def test_a_field_longer_than_the_csv_modules_default_limit_is_read(write, prepare, tmp_path: Path) -> None:
    chapter = "a long chapter " * 10_000  # 150,000 characters: over the csv module's 131,072 default
    prepare(write("long.csv", csv_text([*ROWS, (chapter, "ham")])))
    assert chapter.strip() in load_prepared(tmp_path / "prepared" / "long").texts


def test_a_byte_order_mark_windows_line_ends_and_quoted_newlines_are_read(write, prepare, tmp_path) -> None:
    content = "\ufeff" + csv_text([*ROWS, ("two\nlines", "ham")]).replace("\n", "\r\n")
    meta = prepare(write("excel.csv", content.encode("utf-8")))
    data = load_prepared(tmp_path / "prepared" / "excel")
    assert meta["labels"] == ["eggs", "ham", "spam"] and meta["n_examples"] == len(ROWS) + 1
    assert "two\r\nlines" in data.texts or "two\nlines" in data.texts


@pytest.mark.parametrize("null", sorted(NULL_LABELS))
def test_what_tools_write_for_no_value_is_a_missing_label(write, prepare, null: str) -> None:
    fails(
        prepare,
        write("n.csv", csv_text([*ROWS, ("x", null)])),
        r"n\.csv, line 14, column 'label': missing label$",
    )


def test_none_in_capitals_is_a_class(write, prepare) -> None:
    rows = [(f"{label} stance {i}", label) for label in ("FAVOR", "AGAINST", "NONE") for i in range(2)]
    assert prepare(write("stance.csv", csv_text(rows)))["labels"] == ["AGAINST", "FAVOR", "NONE"]


def test_an_unclosed_quote_does_not_swallow_the_next_rows(write, prepare) -> None:
    rows = [(f"review {i}", "ham" if i % 2 else "spam") for i in range(96)]
    content = csv_text(rows).replace('"review 40",', '"review 40,', 1)  # its closing quote is missing
    fails(prepare, write("q.csv", content), r"q\.csv, line 42: a quote opened on this line is not closed")


# --- layouts as published: spreadsheet exports ------------------------------------------------------


def test_blank_and_repeated_header_names_in_unused_columns_are_ignored(write, prepare, tmp_path) -> None:
    # an export's trailing unnamed columns (three blank names) and two archive columns both called "id"
    content = "id,text,id,label,,,\n" + "".join(f'{i},"{t}",{i},{y},,,\n' for i, (t, y) in enumerate(ROWS))
    meta = prepare(write("export.csv", content))
    assert meta["n_examples"] == 12 and meta["labels"] == ["eggs", "ham", "spam"]
    assert sorted(load_prepared(tmp_path / "prepared" / "export").texts) == sorted(t for t, _ in ROWS)


def test_a_column_the_config_reads_must_be_named_once(write, prepare) -> None:
    content = "text,label,text\n" + "".join(f'"{t}",{y},x\n' for t, y in ROWS)
    fails(
        prepare,
        write("twice.csv", content),
        r"twice\.csv, line 1, column 'text': the header names this column twice",
    )


def test_xlsx_is_read_with_spreadsheet_row_numbers(prepare, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        [[f"{i}", t, y, None] for i, (t, y) in enumerate(ROWS)], columns=["n", "Utterance", "stance", None]
    )
    frame.loc[12] = ["12", "no stance", None, None]
    frame.to_excel(tmp_path / "corpus.xlsx", index=False)
    fails(
        prepare,
        tmp_path / "corpus.xlsx",
        r"corpus\.xlsx, row 14, column 'stance': missing label",
        text_columns="Utterance",
        label_columns="stance",
    )
    frame.drop(index=12).to_excel(tmp_path / "corpus.xlsx", index=False, sheet_name="data")
    meta = prepare(tmp_path / "corpus.xlsx", text_columns="Utterance", label_columns="stance", sheet="data")
    assert meta["n_examples"] == 12 and meta["class_counts"] == {"eggs": 4, "ham": 4, "spam": 4}
