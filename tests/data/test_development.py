"""The development partition: one reported fold's training part, split again, never its test rows."""

from __future__ import annotations

import numpy as np
import pytest

from distilbench.core.errors import ConfigError
from distilbench.data.development import write_development
from distilbench.data.prepared import load_prepared, read_meta

ROWS = [(f"{label} example number {i}", label) for label in ("ham", "eggs", "spam") for i in range(10)]


def test_holds_exactly_the_training_part_of_the_fold_split_again(write, prepare, tmp_path):
    path = write("d.csv", "text,label\n" + "".join(f"{t},{lab}\n" for t, lab in ROWS))
    prepare(path, folds=3, seed=7)
    reported = load_prepared(tmp_path / "prepared" / "d")
    train_rows, test_rows = reported.split(1)  # reported fold 2

    out = write_development(tmp_path / "prepared" / "d", tmp_path / "dev" / "d", fold=2, folds=2)

    dev = load_prepared(out)  # a prepared dataset like any other: its hash checks out
    assert sorted(dev.texts) == sorted(reported.texts[i] for i in train_rows)
    assert not set(dev.texts) & {reported.texts[i] for i in test_rows}
    assert sorted(np.unique(dev.folds)) == [0, 1] and dev.eval_folds == (0, 1)
    for fold in (0, 1):  # stratified: every class in every development fold
        assert {dev.labels[t] for t in dev.targets[dev.folds == fold]} == {"ham", "eggs", "spam"}
    meta = read_meta(out)
    assert meta["development_of"] == {"dataset_hash": reported.data_hash, "fold": 2}
    assert meta["fold_seeds"] == [7 + 1000] and meta["n_examples"] == len(train_rows)


def test_a_fold_the_dataset_does_not_have_is_refused(write, prepare, tmp_path):
    path = write("d.csv", "text,label\n" + "".join(f"{t},{lab}\n" for t, lab in ROWS))
    prepare(path, folds=3)
    with pytest.raises(ConfigError, match=r"folds 1\.\.3 \(got 4"):
        write_development(tmp_path / "prepared" / "d", tmp_path / "dev" / "d", fold=4, folds=2)
