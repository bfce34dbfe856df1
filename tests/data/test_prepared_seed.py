"""The published study's own files, as users download them, prepare with docs/examples/params-published.yaml
and nothing edited: Amazon Alexa, the Brexit Blog Corpus as the paper ran it (single-label, every row) and
as the corpus is (multilabel, one example per utterance), from CSV and from the distributed spreadsheet.

The files live beside the clone (../shared/data/seed, as CI has them) and never in the repository; the
tests that read them are skipped where they are absent.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
import yaml

from distilbench.config.datasets import DataConfig
from distilbench.config.settings import load_config
from distilbench.core.errors import ConfigError
from distilbench.data.prepared import prepare_all
from distilbench.report.references import reference_line

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / ".." / "shared" / "data" / "seed"
EXAMPLE = ROOT / "docs" / "examples" / "params-published.yaml"
needs_seed = pytest.mark.skipif(
    not (SEED / "brexit_blog_corpus.csv").is_file(), reason=f"the seed files are not at {SEED.resolve()}"
)


def published_data(monkeypatch: pytest.MonkeyPatch, only: tuple[str, ...]) -> DataConfig:
    """The example's data section with SEED_DIR at the seed folder, limited to the named datasets."""
    monkeypatch.setenv("SEED_DIR", str(SEED))
    cfg = load_config(EXAMPLE).data
    return dataclasses.replace(cfg, datasets=tuple(d for d in cfg.datasets if d.name in only))


def test_the_example_is_params_yaml_with_only_its_data_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    example, shipped = (
        yaml.safe_load(p.read_text(encoding="utf-8")) for p in (EXAMPLE, ROOT / "params.yaml")
    )
    assert {k: v for k, v in example.items() if k != "data"} == {
        k: v for k, v in shipped.items() if k != "data"
    }
    monkeypatch.setenv("SEED_DIR", "/downloads")
    data = load_config(EXAMPLE).data
    assert [d.name for d in data.datasets] == ["amazon_alexa", "bbc", "brexit", "brexit_multilabel"]
    assert data.datasets[0].path == "/downloads/amazon_alexa.tsv"


def test_an_unset_folder_variable_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEED_DIR", raising=False)
    with pytest.raises(
        ConfigError, match=r"data\.datasets\[0\]\.path: .* uses \$SEED_DIR, which is not set; export"
    ):
        load_config(EXAMPLE)


def test_the_published_figures_stand_beside_alexa_and_brexit_only() -> None:
    assert "0.956 (cased)" in reference_line("amazon_alexa") and "CNN 0.905" in reference_line("amazon_alexa")
    assert "0.412 (cased)" in reference_line("brexit") and "1,682 rows" in reference_line("brexit")
    assert reference_line("brexit_multilabel") is None  # not the protocol the paper ran


@needs_seed
def test_the_seed_files_prepare_as_distributed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = published_data(monkeypatch, ("amazon_alexa", "brexit", "brexit_multilabel"))
    metas = {m["name"]: m for m in prepare_all(data, 42, tmp_path)}
    alexa, single, multi = metas["amazon_alexa"], metas["brexit"], metas["brexit_multilabel"]
    # Alexa: 3,150 reviews, 79 empty; the 771 repeated reviews kept, in one fold with their copies; about
    # 450 (whole groups of copies) set aside before the folds as its development rows
    assert alexa["task"] == "multiclass" and alexa["n_examples"] + alexa["development"]["rows"] == 3150 - 79
    assert alexa["development"]["taken_from"] == "carved before the folds"
    assert alexa["development"]["rows"] == 439  # 450 asked; a group of copies is never split
    assert alexa["duplicates_removed"] == 0 and alexa["repeated_rows"] - alexa["repeated_texts"] == 771
    counts = alexa["class_counts"]  # 92% positive, as distributed (2,833 against 238 in the whole file)
    assert counts["1"] / counts["0"] > 11
    # Brexit as the paper ran it: each of the 1,682 rows, labelled by `Stance category`
    assert single["task"] == "multiclass" and single["n_examples"] == 1682 and len(single["labels"]) == 10
    assert sum(single["class_counts"].values()) == 1682 and single["conflicting_texts"] == 366
    # Brexit as the corpus is: 1,239 utterances, each with its set of categories (typos mended)
    assert multi["task"] == "multilabel" and multi["n_examples"] == 1239 and len(multi["labels"]) == 10
    assert multi["duplicates_removed"] == 1682 - 1239 and multi["conflicts_merged"] == 7
    assert multi["rare_labels_dropped"] == {}
    frame = pd.read_parquet(tmp_path / "brexit" / "examples.parquet")
    assert frame["text"].nunique() == 1239 and (frame.groupby("text")["fold"].nunique() == 1).all()


@needs_seed
def test_the_spreadsheet_gives_the_csvs_examples(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (spec,) = published_data(monkeypatch, ("brexit_multilabel",)).datasets
    from_xlsx = dataclasses.replace(spec, name="from_xlsx", path=str(SEED / "brexit_blog_corpus.xlsx"))
    # one run each: prepare refuses two entries of identical data in one run
    prepare_all(DataConfig(folds=3, datasets=(spec,)), 42, tmp_path / "csv")
    prepare_all(DataConfig(folds=3, datasets=(from_xlsx,)), 42, tmp_path / "xlsx")
    csv, xlsx = (
        pd.read_parquet(tmp_path / d / n / "examples.parquet")
        for d, n in (("csv", spec.name), ("xlsx", "from_xlsx"))
    )
    pd.testing.assert_frame_equal(csv, xlsx)
