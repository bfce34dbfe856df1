"""report.tables states what prepare did with each dataset's rows, from the counts crossval recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from distilbench.config.settings import Config, read_yaml
from distilbench.crossval.stage import preparation_counts
from distilbench.report.tables import dataset_heading, preparation_sentence

KEPT = {
    "empty_dropped": 79,
    "duplicates_removed": 0,
    "conflicting_texts": 366,
    "conflicting_duplicates": 0,
    "conflicts_merged": 0,
    "repeated_texts": 366,
    "repeated_rows": 809,
    "capped_from": None,
    "repeat_policy": {"duplicates": "keep", "conflicts": "keep"},
    "rare_labels_dropped": {"contrarines": 1},
}


def test_the_sentence_names_the_policy_and_every_count_that_is_not_zero():
    sentence = preparation_sentence(KEPT)
    assert "duplicates: keep (0 exact copies removed)" in sentence
    assert "conflicts: keep (366 texts found with different labels)" in sentence
    assert "809 rows repeat 366 texts, each text's rows in one fold" in sentence
    assert "79 empty texts dropped" in sentence
    assert "contrarines (1)" in sentence
    assert "stratified sample" not in sentence


def test_a_capped_merged_dataset_says_so_and_results_without_counts_say_nothing():
    merged = KEPT | {
        "conflicts_merged": 7,
        "capped_from": 12752,
        "repeat_policy": {"duplicates": "drop", "conflicts": "merge"},
    }
    sentence = preparation_sentence(merged)
    assert "conflicts: merge (366 texts found with different labels, 7 given one label set)" in sentence
    assert "a stratified sample from 12752 rows" in sentence
    assert preparation_sentence({}) == ""  # results written before the counts were recorded


def test_the_heading_carries_the_sentence_and_crossval_reads_the_counts_from_meta(tmp_path):
    (tmp_path / "meta.json").write_text(json.dumps(KEPT | {"name": "brexit", "n_examples": 1603}))
    counts = preparation_counts(tmp_path)
    assert counts == KEPT  # only the preparation keys, not the rest of meta.json
    assert preparation_counts(tmp_path / "missing") == {}
    rows = pd.DataFrame({"repeats": [1], "folds": [3], "task": ["multiclass"]})
    info = {"protocol": "kfold", "examples": 1603, "note": None, "preparation": counts}
    lines = dataset_heading("brexit", rows, info)
    assert lines[0].startswith("## brexit (multiclass, 1603 examples, 3-fold CV")
    assert lines[2] == preparation_sentence(KEPT)


def test_the_heading_states_a_datasets_own_train_settings():
    params = read_yaml(Path(__file__).resolve().parents[2] / "params.yaml")
    rows = pd.DataFrame({"repeats": [1], "folds": [3], "task": ["multiclass"]})
    info = {"protocol": "kfold", "examples": 2632, "note": None, "preparation": KEPT}
    plain = dataset_heading("amazon_alexa", rows, info)
    assert not any("own settings" in line for line in plain)
    raw = json.loads(json.dumps(params))
    raw["data"]["datasets"][0]["train"] = {"max_length": 128, "epochs": 2}
    name = Config.from_params(raw).data.datasets[0].name
    own = Config.from_params(raw).dataset_train(name)  # what crossval records in the results' datasets
    assert own == {"epochs": 2, "max_length": 128} and Config.from_params(params).dataset_train(name) == {}
    lines = dataset_heading("amazon_alexa", rows, info | {"train": own})
    assert lines[2] == preparation_sentence(KEPT)
    assert (
        lines[4]
        == "Trained with this dataset's own settings over the train section's: epochs 2, max_length 128."
    )
