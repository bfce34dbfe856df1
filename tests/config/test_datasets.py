"""params.yaml `data` section -> frozen configs; every bad key or value names its key path."""

from __future__ import annotations

import re

import pytest

from distilbench.config.datasets import DataConfig, DatasetSpec
from distilbench.core.errors import ConfigError


def parse(**data) -> DataConfig:
    return DataConfig.from_params({"folds": 5, **data}, "data")


def test_parses_each_source_with_defaults() -> None:
    cfg = parse(
        datasets=[
            {"source": "packaged", "id": "bbc"},
            {
                "source": "hub",
                "id": "glue",
                "config": "sst2",
                "text_columns": "sentence",
                "protocol": "holdout",
            },
            {"source": "hub", "id": "SetFit/bbc-news", "label_columns": ["label_text"]},
            {"source": "file", "path": "data/raw/amazon_alexa.tsv", "text_columns": ["verified_reviews"]},
        ]
    )
    assert cfg.folds == 5
    assert [d.name for d in cfg.datasets] == ["bbc", "sst2", "bbc-news", "amazon_alexa"]
    assert cfg.datasets[1].text_columns == ("sentence",) and cfg.datasets[1].eval_split == "validation"
    assert cfg.datasets[3].label_columns == ("label",) and cfg.datasets[3].protocol == "kfold"
    with pytest.raises(AttributeError):
        cfg.datasets[0].name = "x"  # frozen


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"folds": 1}, "data.folds: 1 must be >= 2"),
        ({"folds": True}, "data.folds: True is not an integer"),
        ({"datasets": []}, "data.datasets: [] must be a non-empty list of datasets"),
        ({"dataset": []}, "data: unknown key(s) ['dataset']; allowed: ['datasets', 'folds', 'repeats']"),
        (
            {"datasets": [{"source": "ftp"}]},
            "data.datasets[0].source: 'ftp' is not one of packaged, hub, file",
        ),
        (
            {"datasets": [{"source": "packaged", "id": "imdb"}]},
            "data.datasets[0].id: 'imdb' is not one of bbc",
        ),
        ({"datasets": [{"source": "hub"}]}, "data.datasets[0].id: missing"),
        ({"datasets": [{"source": "file"}]}, "data.datasets[0].path: missing"),
        (
            {"datasets": [{"source": "file", "path": "a.csv", "colour": 1}]},
            "data.datasets[0]: unknown key(s) ['colour']; allowed: ['config',",
        ),
        (
            {"datasets": [{"source": "file", "path": "a.csv", "format": "xml"}]},
            "format: 'xml' is not one of csv",
        ),
        (
            {"datasets": [{"source": "file", "path": "a.csv", "protocol": "holdout"}]},
            "protocol: 'holdout' needs",
        ),
        ({"datasets": [{"source": "file", "path": "a.csv", "max_examples": 0}]}, "max_examples: 0 must be"),
        ({"datasets": [{"source": "file", "path": "a.csv", "text_columns": []}]}, "text_columns: [] must be"),
        ({"datasets": [{"source": "file", "path": "a.csv", "config": "x"}]}, "config: 'x' is only used by"),
        (
            {"datasets": [{"source": "packaged", "id": "bbc", "text_columns": "t"}]},
            "text_columns: 't' is not",
        ),
        (
            {"datasets": [{"source": "file", "path": "a.csv", "splits": "train"}]},
            "splits: 'train' is only used by",
        ),
        (
            {"datasets": [{"source": "hub", "id": "glue", "splits": ["train"], "protocol": "holdout"}]},
            "data.datasets[0].splits: ['train'] is for kfold; holdout uses train_split/eval_split",
        ),
        (
            {"datasets": [{"source": "file", "path": "a b.csv"}]},
            "data.datasets[0].name: 'a b' must be a folder",
        ),
        (
            {
                "datasets": [
                    {"source": "file", "path": "a.csv", "label_columns": ["x", "y"], "label_delimiter": "|"}
                ]
            },
            "label_delimiter: '|' needs exactly one label column",
        ),
        (
            {"datasets": [{"source": "file", "path": "a.csv", "label_values": "names"}]},
            "data.datasets[0].label_values: 'names' is for several label_columns, got ['label']",
        ),
        (
            {"datasets": [{"source": "file", "path": "a.csv", "label_aliases": ["typo"]}]},
            "data.datasets[0].label_aliases: ['typo'] must be a mapping of label names",
        ),
        (
            {"datasets": [{"source": "file", "path": "a.csv", "label_aliases": {"typo": None}}]},
            "data.datasets[0].label_aliases.typo: None must map a label name to a label name",
        ),
        (
            {"datasets": [{"source": "file", "path": "a.csv", "conflicts": "union"}]},
            "data.datasets[0].conflicts: 'union' is not one of error, drop, merge, keep",
        ),
        (
            {"datasets": [{"source": "file", "path": "a.csv", "sheet": "data"}]},
            "data.datasets[0].sheet: 'data' is only used by xlsx files, not 'a.csv'",
        ),
        (
            {"datasets": [{"source": "packaged", "id": "bbc", "label_aliases": {"a": "b"}}]},
            "data.datasets[0].label_aliases: {'a': 'b'} is not used by packaged datasets",
        ),
        (
            {"datasets": [{"source": "file", "path": "${DB_NOT_SET}/a.csv"}]},
            "data.datasets[0].path: '${DB_NOT_SET}/a.csv' uses $DB_NOT_SET, which is not set",
        ),
        (
            {"datasets": [{"source": "packaged", "id": "bbc"}, {"source": "file", "path": "x/bbc.csv"}]},
            "data.datasets[1].name: 'bbc' is already used by data.datasets[0]; names must be unique",
        ),
        (
            {
                "datasets": [
                    {"source": "hub", "id": "glue", "config": "sst2", "protocol": "holdout", "repeats": 2}
                ]
            },
            "data.datasets[0].repeats: 2 needs kfold; protocol 'holdout' has one fixed split",
        ),
        (
            {"datasets": [{"source": "packaged", "id": "bbc", "repeats": 0}]},
            "data.datasets[0].repeats: 0 must be >= 1",
        ),
    ],
)
def test_bad_params_name_the_key_and_value(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse(**data)


def test_where_prefixes_every_message() -> None:
    with pytest.raises(ConfigError, match=r"^quickstart\.data\[3\]\.source: None is not one of"):
        DatasetSpec.from_params({}, "quickstart.data[3]")


def test_repeat_policies_default_and_paths_expand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOWNLOADS", "/home/me/downloads")
    (spec,) = parse(datasets=[{"source": "file", "path": "$DOWNLOADS/a.xlsx", "sheet": "data"}]).datasets
    assert spec.path == "/home/me/downloads/a.xlsx" and spec.name == "a"
    assert (spec.duplicates, spec.conflicts, spec.rare_labels, spec.label_values) == (
        "drop",
        None,
        "drop",
        "auto",
    )


def test_a_dataset_may_repeat_its_folds_more_than_the_section_says() -> None:
    cfg = parse(
        repeats=1,
        datasets=[
            {"source": "packaged", "id": "bbc"},
            {"source": "packaged", "id": "rotten_tomatoes", "repeats": 2, "repeat_rows": ["student"]},
        ],
    )
    bbc, tomatoes = cfg.datasets
    assert (cfg.repeats_of(bbc), cfg.repeats_of(tomatoes)) == (1, 2)
    assert (bbc.repeat_rows, tomatoes.repeat_rows) == (None, ("student",))
    # a hold-out dataset keeps its one split when another dataset repeats its own folds
    holdout = {"source": "hub", "id": "glue", "config": "sst2", "protocol": "holdout"}
    assert (
        parse(datasets=[holdout, {"source": "packaged", "id": "bbc", "repeats": 3}]).datasets[0].repeats
        is None
    )
