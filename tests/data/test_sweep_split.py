"""A sweep's dataset: trains on exactly one reported fold's training rows, scores only development rows."""

from __future__ import annotations

import pytest

from distilbench.core.errors import ConfigError
from distilbench.data.prepared import load_prepared, read_meta
from distilbench.data.sweep_split import write_sweep_dataset
from tests.data.development_rows import development_ids, rows_csv


def test_trains_as_the_reported_fold_does_and_holds_out_the_development_rows(write, prepare, tmp_path):
    path = write("d.csv", rows_csv(per_class=20))
    prepare(path, folds=3, seed=7, development_rows=12)
    folder = tmp_path / "prepared" / "d"
    reported = load_prepared(folder)
    train_rows, _ = reported.split(1)  # reported fold 2

    sweep = load_prepared(write_sweep_dataset(folder, tmp_path / "sweep" / "d", fold=2))

    trains_on, scored_on = sweep.split(0)  # its one evaluated fold: the development rows
    assert [sweep.texts[i] for i in trains_on] == [reported.texts[i] for i in train_rows]
    assert {sweep.texts[i].split()[0] for i in scored_on} == development_ids(folder)
    assert read_meta(tmp_path / "sweep" / "d")["development_of"] == {
        "dataset_hash": reported.data_hash,
        "trains_as_fold": 2,
    }


def test_a_dataset_without_a_partition_says_how_to_get_one(write, prepare, tmp_path):
    path = write("d.csv", rows_csv(per_class=20))
    prepare(path, folds=3)
    with pytest.raises(ConfigError, match=r"no development partition; set development_rows"):
        write_sweep_dataset(tmp_path / "prepared" / "d", tmp_path / "sweep" / "d", fold=1)
