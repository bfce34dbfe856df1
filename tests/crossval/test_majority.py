"""The majority-class baseline: per dataset x repeat x fold, scored like every model, in crossval.json."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from distilbench.config.settings import Config
from distilbench.crossval.majority import majority_baselines
from distilbench.crossval.plan import PreparedRef
from distilbench.crossval.stage import CrossvalPlan, write_results
from tests.data.conftest import csv_text

# 8 ham, 4 eggs, 4 spam: ham is the majority of every fold's training rows
ROWS = [(f"{label} text {i}", label) for label, n in (("ham", 8), ("eggs", 4), ("spam", 4)) for i in range(n)]


def test_one_record_per_repeat_and_fold_predicting_the_training_majority(write, prepare, tmp_path) -> None:
    prepare(write("b.csv", csv_text(ROWS)), folds=2, repeats=2)
    records = majority_baselines([tmp_path / "prepared" / "b"])
    assert [(r["dataset"], r["repeat"], r["fold"]) for r in records] == [
        ("b", 1, 1),
        ("b", 1, 2),
        ("b", 2, 1),
        ("b", 2, 2),
    ]
    for record in records:
        assert (record["strategy"], record["majority_class"]) == ("most_frequent", "ham")
        assert record["accuracy"] == 0.5  # 4 of the 8 held-out rows are ham
        assert record["macro_f1"] == pytest.approx((2 * 0.5 / 1.5) / 3)  # F1 of ham, 0 for the others
        assert set(record) == {
            "dataset",
            "repeat",
            "fold",
            "strategy",
            "majority_class",
            "accuracy",
            "macro_f1",
            "imbalanced",
        }
        assert record["imbalanced"] is False  # 8:4:4 in training is under the 3:1 rule


def test_multilabel_predicts_each_label_its_training_rows_mostly_have(prepare, tmp_path) -> None:
    labels = [["a"]] * 8 + [["a", "b"]] * 2 + [["b"]] * 2
    texts = [f"comment {i}" for i in range(len(labels))]
    pd.DataFrame({"text": texts, "tags": labels}).to_parquet(tmp_path / "m.parquet")
    prepare(tmp_path / "m.parquet", label_columns="tags")
    (first, second) = majority_baselines([tmp_path / "prepared" / "m"])
    assert first["majority_class"] == ["a"] == second["majority_class"]
    assert {"accuracy", "micro_f1", "macro_f1", "hamming_loss"} <= set(first)


def test_crossval_results_carry_the_baselines(write, prepare, tmp_path) -> None:
    meta = prepare(write("b.csv", csv_text(ROWS)), folds=2)
    directory = tmp_path / "prepared" / "b"
    data = PreparedRef("b", directory, meta["data_hash"], (0, 1), "multiclass", 16, "kfold", None)
    zoo = {"zoo": "z", "zoos": {"z": {"teacher": "cnn", "models": [{"name": "cnn", "kind": "cnn"}]}}}
    plan = CrossvalPlan(
        jobs=(), parents=(), datasets=(data,), tracking_uri="sqlite:///m.db", experiment_id="0"
    )
    write_results(tmp_path / "crossval.json", Config.from_params({"models": zoo}), plan, [])
    results = json.loads(Path(tmp_path / "crossval.json").read_text())
    assert [(b["dataset"], b["repeat"], b["fold"]) for b in results["baselines"]] == [
        ("b", 1, 1),
        ("b", 1, 2),
    ]
