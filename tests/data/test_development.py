"""The development partition: rows set aside before the folds, never a row any reported fold tests."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from distilbench.core.errors import ConfigError, DataError
from distilbench.data.development import CARVED, DEVELOPMENT_FILE, FROM_CAP
from distilbench.data.prepared import load_prepared, read_meta
from tests.data.development_rows import LABELS, development_ids, reported_test_ids, row_ids, rows_csv


def test_carved_before_the_folds_it_shares_no_row_with_any_reported_fold(write, prepare, tmp_path):
    path = write("d.csv", rows_csv(per_class=20))
    meta = prepare(path, folds=3, repeats=2, seed=7, development_rows=12)

    folder = tmp_path / "prepared" / "d"
    development = development_ids(folder)
    assert meta["development"]["taken_from"] == CARVED
    assert 10 <= len(development) <= 14  # one fold of a 5-fold split of 60 rows
    assert not development & reported_test_ids(folder)  # checked on the source row ids
    assert development | reported_test_ids(folder) == row_ids(f"row{i:03d}" for i in range(60))
    stored = pq.read_table(folder / DEVELOPMENT_FILE)
    assert set(stored.column("label").to_pylist()) == set(LABELS)  # stratified: every class in it
    assert stored.column("source_row").to_pylist()[0].startswith("line ")
    assert meta["n_examples"] == 60 - len(development)


def test_taken_from_what_the_cap_left_out_the_reported_rows_are_unchanged(write, prepare, tmp_path):
    path = write("d.csv", rows_csv(per_class=40))
    without = prepare(path, folds=3, seed=7, max_examples=60)
    reported_before = load_prepared(tmp_path / "prepared" / "d").texts

    meta = prepare(path, folds=3, seed=7, max_examples=60, development_rows=30)

    folder = tmp_path / "prepared" / "d"
    assert meta["development"] == {
        "rows": 30,
        "taken_from": FROM_CAP,
        "data_hash": meta["development"]["data_hash"],
    }
    assert load_prepared(folder).texts == reported_before and meta["data_hash"] == without["data_hash"]
    assert not development_ids(folder) & reported_test_ids(folder)


def test_rows_sharing_a_group_with_a_reported_row_are_not_taken(write, prepare, tmp_path):
    # 120 rows, 2 per movie: a left-out review of a movie the kept rows review is not development data
    path = write("d.csv", rows_csv(per_class=40, group_of=lambda i: f"movie{i // 2}"))
    meta = prepare(path, folds=3, seed=7, max_examples=60, development_rows=20, group_column="movie")

    folder = tmp_path / "prepared" / "d"
    kept_groups = set(pq.read_table(folder / "examples.parquet").column("group").to_pylist())
    development_groups = set(pq.read_table(folder / DEVELOPMENT_FILE).column("group").to_pylist())
    assert meta["development"]["taken_from"] == FROM_CAP
    assert development_groups and not development_groups & kept_groups


def test_too_large_a_partition_is_one_error_line(write, prepare):
    path = write("d.csv", rows_csv(per_class=10))
    with pytest.raises(DataError, match=r"development_rows 20 leaves too few of its 30 rows"):
        prepare(path, folds=3, development_rows=20)


def test_a_holdout_dataset_has_no_development_rows():
    from distilbench.config.datasets import DatasetSpec

    raw = {"source": "hub", "id": "x", "protocol": "holdout", "development_rows": 10}
    with pytest.raises(ConfigError, match=r"data.datasets\[0\].development_rows: 10 is for kfold"):
        DatasetSpec.from_params(raw, "data.datasets[0]")


def test_the_report_states_the_partition(write, prepare, tmp_path):
    from distilbench.crossval.stage import preparation_counts
    from distilbench.report.tables import preparation_sentence

    path = write("d.csv", rows_csv(per_class=20))
    prepare(path, folds=3, development_rows=12)
    sentence = preparation_sentence(preparation_counts(tmp_path / "prepared" / "d"))
    rows = read_meta(tmp_path / "prepared" / "d")["development"]["rows"]
    assert f"{rows} development rows, where settings are chosen, set aside in no fold ({CARVED})" in sentence
