"""crossval.unlogged: a computed fold kept until it is logged, found by the next attempt, then forgotten."""

from __future__ import annotations

import pickle
from types import SimpleNamespace

from distilbench.crossval import unlogged
from distilbench.crossval.fold import FoldResult


def fold_result() -> FoldResult:
    return FoldResult(
        dataset="tiny",
        model="teacher",
        fold=2,
        task="multiclass",
        metrics={"accuracy": 0.75, "macro_f1": 0.7},
        train_seconds=1.5,
        eval_seconds=0.25,
        train_examples=32,
        eval_examples=16,
        model_mb=0.1,
        parameters=1000,
        best_epoch=1,
        device="cpu",
        autocast="None",
    )


def job(tmp_path) -> SimpleNamespace:
    return SimpleNamespace(cache_root=str(tmp_path), cache_key="abc123", label="tiny | teacher | fold 2/3")


def test_a_kept_fold_is_found_whole_by_the_next_attempt_then_forgotten(tmp_path):
    fold, result = job(tmp_path), fold_result()
    assert unlogged.kept(fold) is None
    assert unlogged.keep(fold, result) is result
    assert unlogged.unlogged_path(fold) == tmp_path / "unlogged" / "abc123.pickle"
    # byte for byte (its speeds are NaN until timed, and NaN != NaN)
    assert pickle.dumps(unlogged.kept(fold)) == pickle.dumps(result)
    unlogged.forget(fold)
    assert unlogged.kept(fold) is None
    unlogged.forget(fold)  # forgetting twice is no error


def test_an_unreadable_kept_file_means_computing_the_fold_again(tmp_path):
    fold = job(tmp_path)
    unlogged.unlogged_path(fold).parent.mkdir(parents=True)
    unlogged.unlogged_path(fold).write_bytes(b"\x80\x04half a pickle")  # an older version's crash
    assert unlogged.kept(fold) is None


def test_keeping_leaves_no_temporary_file(tmp_path):
    fold = job(tmp_path)
    unlogged.keep(fold, fold_result())
    assert [p.name for p in (tmp_path / "unlogged").iterdir()] == ["abc123.pickle"]
