"""Hub datasets via a local save_to_disk stand-in: never touches the network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from distilbench.config.datasets import DatasetSpec
from distilbench.core.errors import DataError
from distilbench.data.prepared import load_prepared
from tests.data.conftest import prepare_one

datasets = pytest.importorskip("datasets")


def split(texts: list[str], labels: list[int]) -> object:
    features = datasets.Features(
        {"sentence": datasets.Value("string"), "label": datasets.ClassLabel(names=["negative", "positive"])}
    )
    return datasets.Dataset.from_dict({"sentence": texts, "label": labels}, features=features)


@pytest.fixture
def glue_like(tmp_path: Path) -> Path:
    """GLUE's shape: labelled train and validation, a test split whose labels are all -1."""
    folder = tmp_path / "glue_sst2"
    datasets.DatasetDict(
        {
            "train": split([f"train text {i}" for i in range(8)], [0, 1] * 4),
            "validation": split([f"dev text {i}" for i in range(4)] + ["train text 0"], [0, 1, 0, 1, 1]),
            "test": split([f"test text {i}" for i in range(3)], [-1, -1, -1]),
        }
    ).save_to_disk(str(folder))
    return folder


def hub(folder: Path, **params) -> DatasetSpec:
    raw = {"source": "hub", "id": str(folder), "name": "sst2", "text_columns": "sentence", **params}
    return DatasetSpec.from_params(raw, "data.datasets[0]")


def test_holdout_uses_the_named_splits(glue_like: Path, tmp_path: Path) -> None:
    meta = prepare_one(hub(glue_like, protocol="holdout"), 5, 0, tmp_path / "out")
    data = load_prepared(tmp_path / "out" / meta["name"])
    assert meta["protocol"] == "holdout" and data.eval_folds == (0,)
    assert data.labels == ("negative", "positive")  # ClassLabel ids become their names
    train, held_out = data.split(0)
    assert sorted(data.texts[i] for i in held_out) == [
        "dev text 0",
        "dev text 1",
        "dev text 2",
        "dev text 3",
        "train text 0",
    ]
    assert len(train) == 8 and set(data.folds[train]) == {-1}
    # a text in both splits stays in both: duplicates only count within a split
    assert meta["duplicates_removed"] == 0


def test_kfold_concatenates_labelled_splits_and_skips_an_unlabelled_test(
    glue_like: Path, tmp_path: Path
) -> None:
    meta = prepare_one(hub(glue_like), 2, 0, tmp_path / "out")
    # 8 + 5 rows; "train text 0" appears twice with conflicting labels (0 in train, 1 in dev): dropped
    assert meta["conflicting_duplicates"] == 2 and meta["n_examples"] == 11
    assert not any(t.startswith("test") for t in load_prepared(tmp_path / "out" / meta["name"]).texts)


def test_holdout_with_a_missing_split(glue_like: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no split 'dev'; it has train, validation, test"):
        prepare_one(hub(glue_like, protocol="holdout", eval_split="dev"), 5, 0, tmp_path / "out")


def test_holdout_eval_split_without_labels(glue_like: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"split 'test', column 'label': no labels \(all -1\)"):
        prepare_one(hub(glue_like, protocol="holdout", eval_split="test"), 5, 0, tmp_path / "out")


def test_hub_missing_column_lists_columns(glue_like: Path, tmp_path: Path) -> None:
    with pytest.raises(
        DataError, match=r"split 'train', column 'text': no such column; the columns are 'sentence', 'label'"
    ):
        prepare_one(hub(glue_like, text_columns="text"), 2, 0, tmp_path / "out")


def test_multilabel_list_of_class_labels(tmp_path: Path) -> None:
    features = datasets.Features(
        {
            "text": datasets.Value("string"),
            "labels": datasets.List(datasets.ClassLabel(names=["joy", "anger", "fear"])),
        }
    )
    rows = {"text": [f"t{i}" for i in range(6)], "labels": [[0], [1], [2], [0, 1], [1, 2], [0, 2]]}
    datasets.Dataset.from_dict(rows, features=features).save_to_disk(str(tmp_path / "emo"))
    spec = DatasetSpec.from_params(
        {"source": "hub", "id": str(tmp_path / "emo"), "label_columns": "labels"}, "d"
    )
    meta = prepare_one(spec, 2, 0, tmp_path / "out")
    assert meta["task"] == "multilabel" and meta["labels"] == ["anger", "fear", "joy"]
    data = load_prepared(tmp_path / "out" / meta["name"])
    assert data.targets[data.texts.index("t3")].tolist() == [1.0, 0.0, 1.0]
    assert np.isin(data.folds, [0, 1]).all()


def test_unreachable_hub_dataset_names_the_id(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'glue' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    spec = DatasetSpec.from_params({"source": "hub", "id": "glue", "config": "sst2"}, "d")
    with pytest.raises(
        DataError, match=r"^hub dataset 'glue', config 'sst2' could not be loaded \(ConnectionError"
    ):
        prepare_one(spec, 2, 0, tmp_path / "out")


def test_kfold_on_named_splits_only(glue_like: Path, tmp_path: Path) -> None:
    meta = prepare_one(hub(glue_like, splits="train"), 2, 0, tmp_path / "out")
    assert meta["n_examples"] == 8 and meta["conflicting_duplicates"] == 0
    with pytest.raises(DataError, match=r"no split 'dev'; it has train, validation, test"):
        prepare_one(hub(glue_like, splits=["train", "dev"]), 2, 0, tmp_path / "out")


def test_toxic_style_class_label_columns_become_multilabel(tmp_path: Path) -> None:
    flag = datasets.ClassLabel(names=["false", "true"])  # how monology/jigsaw stores its 0/1 columns
    features = datasets.Features({"comment_text": datasets.Value("string"), "toxic": flag, "insult": flag})
    rows = {
        "comment_text": [f"c{i}" for i in range(8)],
        "toxic": [1, 0, 1, 0, 1, 0, 0, 1],
        "insult": [0, 1] * 4,
    }
    datasets.DatasetDict({"train": datasets.Dataset.from_dict(rows, features=features)}).save_to_disk(
        str(tmp_path / "jig")
    )
    raw = {"source": "hub", "id": str(tmp_path / "jig"), "text_columns": "comment_text"}
    spec = DatasetSpec.from_params({**raw, "label_columns": ["toxic", "insult"]}, "d")
    meta = prepare_one(spec, 2, 0, tmp_path / "out")
    assert meta["labels"] == ["insult", "toxic"] and meta["class_counts"] == {"insult": 4, "toxic": 4}


def test_a_holdout_class_seen_only_in_training_is_kept_and_logged(tmp_path: Path, caplog) -> None:
    folder = tmp_path / "saved"
    datasets.DatasetDict(
        {
            "train": split([f"train text {i}" for i in range(6)], [0, 1, 0, 1, 0, 1]),
            "validation": split(["dev text 0", "dev text 1"], [0, 0]),
        }
    ).save_to_disk(str(folder))
    meta = prepare_one(hub(folder, protocol="holdout"), 5, 0, tmp_path / "out")
    assert meta["labels"] == ["negative", "positive"]
    assert "class 'positive' is never evaluated (not in split 'validation')" in caplog.text
