"""Each fold's cache key holds its own split (the rows it uses and the ones it holds out), not the prepared
file's hash: one more repeat keeps the keys of the repeats already run; and it names every library that
computes a scored number."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from distilbench.config.datasets import DatasetSpec
from distilbench.config.settings import Config
from distilbench.crossval.fingerprint import library_names
from distilbench.crossval.plan import ParentSpec, PreparedRef, parent_key, plan_jobs
from tests.conftest import tiny_rows
from tests.data.conftest import prepare_one

MODELS = [
    {"name": "teacher", "source": "local", "id": "models/t"},
    {"name": "svm", "kind": "linear"},
]


def config() -> Config:
    return Config.from_params(
        {"seed": 3, "models": {"zoo": "z", "zoos": {"z": {"teacher": "teacher", "models": MODELS}}}}
    )


def prepared(tmp_path: Path, rows: list, repeats: int, name: str) -> PreparedRef:
    csv = tmp_path / f"{name}.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(csv, index=False)
    spec = DatasetSpec.from_params({"name": "tiny", "source": "file", "path": str(csv)}, "data.datasets[0]")
    prepare_one(spec, 3, 3, tmp_path / name, repeats)
    return PreparedRef.read(tmp_path / name / "tiny")


def keys(cfg: Config, data: PreparedRef) -> dict[tuple[str, int, int], str]:
    parents = {
        (data.name, m.name): ParentSpec(parent_key(cfg, m, data), data.name, m.name, "0", ())
        for m in cfg.zoo.models
    }
    jobs = plan_jobs(cfg, [data], parents, "sqlite:///m.db", Path("cache"))
    return {(j.model.name, j.repeat, j.number): j.cache_key for j in jobs}


def test_one_more_repeat_keeps_the_keys_of_the_first_and_adds_its_own(tmp_path):
    cfg = config()
    once, twice = prepared(tmp_path, tiny_rows(), 1, "once"), prepared(tmp_path, tiny_rows(), 2, "twice")
    assert once.data_hash != twice.data_hash  # the file holds one more fold column
    before, after = keys(cfg, once), keys(cfg, twice)
    assert {k: v for k, v in after.items() if k[1] == 1} == before
    new = {k: v for k, v in after.items() if k[1] == 2}
    assert len(new) == 6 and not set(new.values()) & set(before.values())


def test_an_edited_row_changes_every_fold_key(tmp_path):
    rows = tiny_rows()
    edited = [(rows[0][0] + " again", rows[0][1]), *rows[1:]]
    same, other = prepared(tmp_path, rows, 1, "a"), prepared(tmp_path, edited, 1, "b")
    assert not set(keys(config(), same).values()) & set(keys(config(), other).values())


def test_a_datasets_own_train_settings_change_its_folds_keys_alone(tmp_path):
    data = prepared(tmp_path, tiny_rows(), 1, "own")
    plain = config()
    raw = {
        "seed": 3,
        "models": {"zoo": "z", "zoos": {"z": {"teacher": "teacher", "models": MODELS}}},
        "data": {
            "datasets": [{"name": "other", "source": "packaged", "id": "bbc", "train": {"max_length": 128}}]
        },
    }
    elsewhere = Config.from_params(raw)  # settings for another dataset: this one's keys stay
    assert keys(elsewhere, data) == keys(plain, data)
    raw["data"]["datasets"].append({"name": "tiny", "source": "packaged", "id": "rotten_tomatoes"})
    raw["data"]["datasets"][1]["train"] = {"max_length": 128}
    own = Config.from_params(raw)
    changed, before = keys(own, data), keys(plain, data)
    assert changed["svm", 1, 1] != before["svm", 1, 1] and not set(changed.values()) & set(before.values())
    jobs = plan_jobs(
        own,
        [data],
        {(data.name, m.name): ParentSpec("", data.name, m.name, "0", ()) for m in own.zoo.models},
        "",
        Path("c"),
    )
    assert {j.train.max_length for j in jobs} == {128}


def test_the_folds_of_one_repeat_differ_by_the_rows_they_hold_out(tmp_path):
    data = prepared(tmp_path, tiny_rows(), 2, "r")
    hashes = {data.split_hash(r, f) for r in (1, 2) for f in data.eval_folds}
    assert len(hashes) == 6


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, {"numpy", "scikit-learn", "tokenizers"}),
        ({"compress": ("torch-int8",)}, {"numpy", "scikit-learn", "tokenizers"}),
        ({"compress": ("onnx-int8",)}, {"numpy", "scikit-learn", "tokenizers", "onnx", "onnxruntime"}),
        ({"kind": "static"}, {"numpy", "scikit-learn", "model2vec"}),
        ({"kind": "linear"}, {"numpy", "scikit-learn"}),
    ],
)
def test_the_fingerprint_names_every_library_that_computes_a_scored_number(change, expected):
    teacher = config().zoo.models[0]
    assert set(library_names(dataclasses.replace(teacher, **change))) == expected


def test_an_upgraded_onnxruntime_retrains_the_folds_of_onnx_variants_only(monkeypatch, tmp_path):
    from distilbench.crossval import fingerprint as fingerprint_module

    zoo = [{**MODELS[0], "compress": ["onnx-int8"]}, MODELS[1]]
    cfg = Config.from_params(
        {"seed": 3, "models": {"zoo": "z", "zoos": {"z": {"teacher": "teacher", "models": zoo}}}}
    )
    data = prepared(tmp_path, tiny_rows(), 1, "o")
    before = keys(cfg, data)
    real = fingerprint_module.version
    monkeypatch.setattr(fingerprint_module, "version", lambda n: "99.0" if n == "onnxruntime" else real(n))
    after = keys(cfg, data)
    changed = {k[0] for k in before if before[k] != after[k]}
    assert changed == {"teacher"}
