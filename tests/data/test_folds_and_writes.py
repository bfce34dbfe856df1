"""Group folds, and the atomic write: a failing prepare leaves the previous output as it was."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from distilbench.config.datasets import DataConfig
from distilbench.core import atomic
from distilbench.core.errors import ConfigError, DataError
from distilbench.data import prepared
from distilbench.data.folds import assign_folds
from distilbench.data.prepared import load_prepared

from .conftest import ROWS, csv_text


def test_group_folds_keep_each_group_in_one_fold(write, prepare, tmp_path: Path) -> None:
    rows = [
        (f"review {i} of movie {i % 8}", ["fresh", "rotten"][i % 3 == 0], f"movie {i % 8}") for i in range(48)
    ]
    write("g.csv", "text,label,movie\n" + "".join(f"{t},{y},{m}\n" for t, y, m in rows))
    prepare(tmp_path / "g.csv", folds=4, group_column="movie")
    frame = pd.read_parquet(tmp_path / "prepared" / "g" / "examples.parquet")
    assert (frame.groupby("group")["fold"].nunique() == 1).all()
    assert sorted(frame["fold"].unique()) == [0, 1, 2, 3]


def test_fewer_groups_than_folds(write, prepare) -> None:
    path = write("g.csv", "text,label,movie\n" + "".join(f"t{i},{'ab'[i % 2]},m{i % 2}\n" for i in range(8)))
    with pytest.raises(
        DataError, match=r"g\.csv, column 'movie': only 2 distinct groups, fewer than the 3 folds"
    ):
        prepare(path, folds=3, group_column="movie")


def test_assign_folds_is_seeded() -> None:
    targets = np.array([0, 1, 2] * 10)
    np.testing.assert_array_equal(assign_folds(targets, 5, 1), assign_folds(targets, 5, 1))
    assert np.bincount(assign_folds(targets, 5, 1)).tolist() == [6] * 5


def test_failing_prepare_leaves_old_output(
    write, prepare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write("tiny.csv", csv_text())
    good = prepare(path)
    out = tmp_path / "prepared" / "tiny"
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    write("tiny.csv", csv_text([*ROWS, ("broken", "")]))  # bad data: fails before writing
    with pytest.raises(DataError):
        prepare(path)

    write("tiny.csv", csv_text(ROWS[1:]))  # good data, but the disk write fails half-way

    def broken_write(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(prepared, "_write", broken_write)
    with pytest.raises(OSError, match="disk full"):
        prepare(path)

    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert load_prepared(out).data_hash == good["data_hash"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["tiny"]  # no temp dirs left behind


def test_prepare_all_writes_one_folder_per_dataset_and_drops_stale_ones(write, tmp_path: Path) -> None:
    write("a.csv", csv_text())
    write("b.csv", csv_text(ROWS[4:]))
    out = tmp_path / "out"
    (out / "old").mkdir(parents=True)
    (out / "old" / "meta.json").write_text("{}")  # a dataset since removed from params
    (out / ".a+killed.tmp").mkdir()  # the leftover of a killed prepare
    (out / "notes").mkdir()  # not ours: left alone
    paths = [str(tmp_path / n) for n in ("a.csv", "b.csv")]
    raw = {"folds": 2, "datasets": [{"source": "file", "path": p} for p in paths]}
    metas = prepared.prepare_all(DataConfig.from_params(raw, "data"), 0, out)
    assert [m["name"] for m in metas] == ["a", "b"]
    assert load_prepared(out / "b").labels == ("eggs", "spam")
    assert sorted(p.name for p in out.iterdir()) == ["a", "b", "notes"]


def test_edited_examples_file_is_detected(write, prepare, tmp_path: Path) -> None:
    prepare(write("tiny.csv", csv_text()))
    out = tmp_path / "prepared" / "tiny"
    pd.read_parquet(out / "examples.parquet").iloc[1:].to_parquet(out / "examples.parquet")
    with pytest.raises(DataError, match="changed since it was prepared"):
        load_prepared(out)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("broken", range(3))
@pytest.mark.parametrize("failure", ["bad data", "disk full"])
def test_prepare_all_is_all_or_nothing_across_datasets(write, tmp_path: Path, monkeypatch, broken, failure):
    """A run that changes the fold count and fails on any one dataset leaves every dataset as it was."""
    names = ["a", "b", "c"]
    for name in names:  # each its own rows: identical datasets are refused (test_prepared.py)
        write(f"{name}.csv", csv_text([(f"{name}: {text}", label) for text, label in ROWS]))
    out = tmp_path / "out"

    def config(folds: int) -> DataConfig:
        raw = {
            "folds": folds,
            "datasets": [{"source": "file", "path": str(tmp_path / f"{n}.csv")} for n in names],
        }
        return DataConfig.from_params(raw, "data")

    prepared.prepare_all(config(2), 0, out)
    before = _snapshot(out)
    if failure == "bad data":
        write(f"{names[broken]}.csv", csv_text([*ROWS, ("no label", "")]))
        expected = DataError
    else:  # the write of the broken-th dataset runs out of space after the earlier ones were written
        real_write, calls = prepared._write, []

        def write_until_full(staging, *args):
            calls.append(staging)
            if len(calls) == broken + 1:
                raise OSError(28, "No space left on device")
            return real_write(staging, *args)

        monkeypatch.setattr(prepared, "_write", write_until_full)
        expected = OSError
    with pytest.raises(expected):
        prepared.prepare_all(config(3), 0, out)
    assert _snapshot(out) == before
    assert sorted(p.name for p in out.iterdir()) == names  # no staging folders left behind


def test_a_failed_swap_puts_back_the_folders_already_swapped(tmp_path: Path, monkeypatch) -> None:
    targets = [tmp_path / "old", tmp_path / "new"]
    targets[0].mkdir()
    (targets[0] / "f").write_text("before")
    real_replace, moves = atomic.os.replace, []

    def replace_failing_last(source, destination):
        moves.append(destination)
        if Path(destination) == targets[1]:
            raise OSError(28, "No space left on device")
        return real_replace(source, destination)

    monkeypatch.setattr(atomic.os, "replace", replace_failing_last)
    with pytest.raises(OSError), atomic.atomic_directories(targets) as stagings:
        for staging in stagings:
            (staging / "f").write_text("after")
    assert (targets[0] / "f").read_text() == "before" and not targets[1].exists()
    assert targets[0] in moves  # the first folder had been swapped in, and was swapped back
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]


def _rows(n_per_class: int = 16) -> list[tuple[str, str]]:
    return [(f"{label} text {i}", label) for label in ("ham", "eggs", "spam") for i in range(n_per_class)]


def test_repeated_kfold_stores_a_stratified_partition_per_repeat_each_different(
    write, prepare, tmp_path: Path
) -> None:
    path = write("rep.csv", csv_text(_rows()))
    meta = prepare(path, folds=4, seed=7, repeats=3)
    data = load_prepared(tmp_path / "prepared" / "rep")
    assert (meta["repeats"], meta["fold_seeds"], data.repeats) == (3, [7, 8, 9], 3)
    assert sorted(meta["repeat_fold_sizes"]) == ["1", "2", "3"]
    columns = pd.read_parquet(tmp_path / "prepared" / "rep" / "examples.parquet").columns.tolist()
    assert columns == ["text", "label", "fold", "fold_r2", "fold_r3"]
    partitions = [data.repeat_folds(r) for r in (1, 2, 3)]
    for repeat, folds in enumerate(partitions, start=1):
        assert sorted(set(folds.tolist())) == [0, 1, 2, 3]
        per_fold = np.stack([np.bincount(data.targets[data.split(f, repeat)[1]]) for f in data.eval_folds])
        assert (per_fold == 4).all()  # 16 of each class over 4 folds: stratified exactly
        for fold in data.eval_folds:
            train, held_out = data.split(fold, repeat)
            assert len(train) + len(held_out) == 48 and not set(train) & set(held_out)
    assert not np.array_equal(partitions[0], partitions[1])
    assert not np.array_equal(partitions[1], partitions[2])
    np.testing.assert_array_equal(partitions[1], assign_folds(data.targets, 4, 8))
    with pytest.raises(ValueError, match="repeat 4 is not one of 1..3"):
        data.split(0, 4)


def test_repeat_one_is_exactly_the_plain_kfold_of_before(write, prepare, tmp_path: Path) -> None:
    path = write("rep.csv", csv_text(_rows()))
    single = prepare(path, folds=4, seed=7)
    single_bytes = (tmp_path / "prepared" / "rep" / "examples.parquet").read_bytes()
    data = load_prepared(tmp_path / "prepared" / "rep")
    # the fold assignment of before repeats existed: assign_folds with the study's seed
    np.testing.assert_array_equal(data.folds, assign_folds(data.targets, 4, 7))
    assert (single["repeats"], data.repeats, data.later_repeats) == (1, 1, ())
    assert "repeat_fold_sizes" not in single

    repeated = prepare(path, folds=4, seed=7, repeats=2)
    np.testing.assert_array_equal(load_prepared(tmp_path / "prepared" / "rep").folds, data.folds)
    assert repeated["fold_sizes"] == single["fold_sizes"]

    prepare(path, folds=4, seed=7)  # the same bytes, hence the same data_hash and fold cache keys
    assert (tmp_path / "prepared" / "rep" / "examples.parquet").read_bytes() == single_bytes


def test_data_prepared_by_an_older_prepare_asks_for_a_rerun(write, prepare, tmp_path: Path) -> None:
    import json

    prepare(write("old.csv", csv_text()))
    meta_path = tmp_path / "prepared" / "old" / "meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["repeats"], meta["fold_seeds"]  # as written before repeated k-fold existed
    meta_path.write_text(json.dumps(meta))
    older = r"meta\.json: written by an older prepare \(no repeats\); re-run prepare$"
    with pytest.raises(DataError, match=older):
        load_prepared(meta_path.parent)

    prepare(write("new.csv", csv_text()))  # the rerun: the old folder, no longer configured, goes
    assert sorted(p.name for p in (tmp_path / "prepared").iterdir()) == ["new"]


def test_each_repeat_keeps_groups_in_one_fold(write, prepare, tmp_path: Path) -> None:
    rows = [(f"review {i}", ["fresh", "rotten"][i % 3 == 0], f"movie {i % 12}") for i in range(72)]
    write("g.csv", "text,label,movie\n" + "".join(f"{t},{y},{m}\n" for t, y, m in rows))
    prepare(tmp_path / "g.csv", folds=3, group_column="movie", repeats=2)
    frame = pd.read_parquet(tmp_path / "prepared" / "g" / "examples.parquet")
    for column in ("fold", "fold_r2"):
        assert (frame.groupby("group")[column].nunique() == 1).all()


def test_holdout_datasets_refuse_repeats() -> None:
    raw = {
        "repeats": 2,
        "datasets": [
            {"source": "packaged", "id": "bbc"},
            {"source": "hub", "id": "x", "protocol": "holdout"},
        ],
    }
    with pytest.raises(ConfigError, match=r"^data\.repeats: 2 needs k-fold datasets; data\.datasets\[1\]"):
        DataConfig.from_params(raw, "data")
    assert DataConfig.from_params({**raw, "repeats": 1}, "data").repeats == 1
