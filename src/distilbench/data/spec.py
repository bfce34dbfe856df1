"""Typed, frozen dataset configs parsed once from the ``data`` section of params.yaml.

Every bad key or value raises :class:`ConfigError` naming the full key path and the value, so a user
can fix params.yaml without reading code. Nothing below this module sees a raw dict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import PurePath
from typing import Any

from distilbench.errors import ConfigError

SOURCES = ("packaged", "hub", "file")
PACKAGED_IDS = ("bbc", "rotten_tomatoes")
FORMATS = ("csv", "tsv", "jsonl", "parquet")
PROTOCOLS = ("kfold", "holdout")
# a dataset name becomes a folder under data/prepared/ and a row label in the report
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# keys that only make sense for one source; given elsewhere they would be silently ignored
_ONLY_FOR = {
    "path": "file",
    "format": "file",
    "encoding": "file",
    "config": "hub",
    "train_split": "hub",
    "eval_split": "hub",
    "splits": "hub",
}
# packaged datasets define their own columns (and rotten_tomatoes its movie groups)
_NOT_FOR_PACKAGED = ("text_columns", "label_columns", "label_delimiter", "group_column")


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset to prepare. See docs/datasets.md for an example of each source."""

    name: str  # folder name under data/prepared/, row label in the report
    source: str  # "packaged" | "hub" | "file"
    id: str | None = None  # packaged: "bbc" or "rotten_tomatoes"; hub: dataset id e.g. "glue"
    config: str | None = None  # hub config name, e.g. "sst2"
    path: str | None = None  # file source: CSV/TSV/JSONL/Parquet path, relative to the repo root (cwd)
    format: str | None = None  # "csv"|"tsv"|"jsonl"|"parquet"; None = from the file suffix
    encoding: str | None = None  # declared encoding tried after UTF-8
    text_columns: tuple[str, ...] = ("text",)  # several are joined with "\n" (e.g. title + body)
    label_columns: tuple[str, ...] = ("label",)  # several 0/1 columns => multilabel
    label_delimiter: str | None = None  # e.g. "|" => multilabel string labels
    group_column: str | None = None  # rows sharing a group stay in one fold
    protocol: str = "kfold"  # "kfold" | "holdout"
    train_split: str = "train"  # hub splits used by holdout
    eval_split: str = "validation"
    splits: tuple[str, ...] | None = None  # hub splits pooled by kfold; None = every split with labels
    max_examples: int | None = None  # stratified cap, for the quickstart

    @classmethod
    def from_params(cls, raw: Mapping[str, Any], where: str) -> DatasetSpec:
        """Parse one entry of ``data.datasets``; ``where`` is its key path, e.g. ``data.datasets[0]``."""
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: expected a mapping of dataset keys, got {raw!r}")
        _reject_unknown_keys(raw, where, {f.name for f in fields(cls)})
        source = _choice(raw, "source", where, SOURCES, required=True)
        values: dict[str, Any] = {"source": source}
        values["id"] = _id(raw, source, where)
        for key in ("config", "path", "encoding", "label_delimiter", "group_column"):
            values[key] = _optional_str(raw, key, where)
        for key in ("train_split", "eval_split"):
            values[key] = _optional_str(raw, key, where) or getattr(cls, key)
        values["format"] = _choice(raw, "format", where, FORMATS, required=False)
        values["protocol"] = _choice(raw, "protocol", where, PROTOCOLS, required=False) or "kfold"
        values["text_columns"] = _columns(raw, "text_columns", where, cls.text_columns)
        values["label_columns"] = _columns(raw, "label_columns", where, cls.label_columns)
        values["splits"] = _columns(raw, "splits", where, None)
        values["max_examples"] = _max_examples(raw, where)
        _check_source_keys(raw, source, where)
        _check_combinations(values, where)
        values["name"] = _name(raw, values, where)
        return cls(**values)


@dataclass(frozen=True)
class DataConfig:
    """The ``data`` section: how many folds, and which datasets."""

    folds: int  # k >= 2
    seed: int
    datasets: tuple[DatasetSpec, ...]  # names unique

    @classmethod
    def from_params(cls, raw: Mapping[str, Any], seed: int) -> DataConfig:
        """Parse ``params["data"]``; ``seed`` comes from the top-level params."""
        if not isinstance(raw, Mapping):
            raise ConfigError(f"data: expected a mapping with keys folds, datasets; got {raw!r}")
        _reject_unknown_keys(raw, "data", {"folds", "datasets"})
        folds = raw.get("folds", 5)
        if not _is_int(folds):
            raise ConfigError(f"data.folds: {folds!r} is not an integer")
        if folds < 2:
            raise ConfigError(f"data.folds: {folds} must be >= 2")
        items = raw.get("datasets")
        if not isinstance(items, list) or not items:
            raise ConfigError(f"data.datasets: {items!r} must be a non-empty list of datasets")
        datasets = tuple(DatasetSpec.from_params(item, f"data.datasets[{i}]") for i, item in enumerate(items))
        _check_unique_names(datasets)
        return cls(folds=folds, seed=seed, datasets=datasets)


def _is_int(value: Any) -> bool:
    # YAML `true` is a bool, and bool is an int subclass: never accept it as a count
    return isinstance(value, int) and not isinstance(value, bool)


def _reject_unknown_keys(raw: Mapping[str, Any], where: str, known: set[str]) -> None:
    unknown = sorted(str(k) for k in raw if k not in known)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key; known keys: {', '.join(sorted(known))}")


def _optional_str(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}.{key}: {value!r} must be a non-empty string")
    return value


def _choice(
    raw: Mapping[str, Any], key: str, where: str, allowed: tuple[str, ...], required: bool
) -> str | None:
    value = raw.get(key)
    if value is None and not required:
        return None
    if value not in allowed:
        raise ConfigError(f"{where}.{key}: {value!r} is not one of {', '.join(allowed)}")
    return value


def _id(raw: Mapping[str, Any], source: str, where: str) -> str | None:
    value = _optional_str(raw, "id", where)
    if source == "packaged" and value not in PACKAGED_IDS:
        raise ConfigError(f"{where}.id: {value!r} is not one of {', '.join(PACKAGED_IDS)}")
    if source == "hub" and value is None:
        raise ConfigError(f"{where}.id: missing; a hub dataset needs its id, e.g. 'glue'")
    if source == "file" and value is not None:
        raise ConfigError(f"{where}.id: {value!r} is not used by source 'file' (give path instead)")
    return value


def _columns(
    raw: Mapping[str, Any], key: str, where: str, default: tuple[str, ...] | None
) -> tuple[str, ...] | None:
    """A list of names (columns, splits); a single name may be given as a plain string."""
    value = raw.get(key)
    if value is None:
        return default
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise ConfigError(f"{where}.{key}: {value!r} must be a name or a non-empty list of names")
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}.{key}: {value!r} names one twice")
    return tuple(names)


def _max_examples(raw: Mapping[str, Any], where: str) -> int | None:
    value = raw.get("max_examples")
    if value is None:
        return None
    if not _is_int(value) or value < 2:
        raise ConfigError(f"{where}.max_examples: {value!r} must be an integer >= 2 (or null for no cap)")
    return value


def _check_source_keys(raw: Mapping[str, Any], source: str, where: str) -> None:
    for key, only in _ONLY_FOR.items():
        if raw.get(key) is not None and source != only:
            raise ConfigError(f"{where}.{key}: {raw[key]!r} is only used by source '{only}', not '{source}'")
    if source == "packaged":
        for key in _NOT_FOR_PACKAGED:
            if raw.get(key) is not None:
                raise ConfigError(f"{where}.{key}: {raw[key]!r} is not used by packaged datasets")
    if source == "file" and raw.get("path") is None:
        raise ConfigError(f"{where}.path: missing; a file dataset needs the path of a CSV/TSV/JSONL/Parquet")


def _check_combinations(values: dict[str, Any], where: str) -> None:
    if values["protocol"] == "holdout" and values["source"] != "hub":
        raise ConfigError(
            f"{where}.protocol: 'holdout' needs a hub dataset's train/eval splits; "
            f"source '{values['source']}' uses 'kfold'"
        )
    if values["label_delimiter"] is not None and len(values["label_columns"]) > 1:
        raise ConfigError(
            f"{where}.label_delimiter: {values['label_delimiter']!r} needs exactly one label column, "
            f"got {list(values['label_columns'])}"
        )
    if values["protocol"] == "holdout" and values["splits"] is not None:
        raise ConfigError(
            f"{where}.splits: {list(values['splits'])} is for kfold; holdout uses train_split/eval_split"
        )
    if values["protocol"] == "holdout" and values["train_split"] == values["eval_split"]:
        raise ConfigError(f"{where}.eval_split: {values['eval_split']!r} is also the train_split")


def _default_name(values: dict[str, Any]) -> str:
    if values["source"] == "file":
        return PurePath(values["path"]).stem
    if values["source"] == "hub":
        # "SetFit/bbc-news" -> "bbc-news"; "glue" + "sst2" -> "sst2"
        return values["config"] or values["id"].rstrip("/").split("/")[-1]
    return values["id"]


def _name(raw: Mapping[str, Any], values: dict[str, Any], where: str) -> str:
    name = raw.get("name")
    if name is None:
        name = _default_name(values)
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(
            f"{where}.name: {name!r} must be a folder name (letters, digits, '_', '-', '.'; "
            "starting with a letter or digit)"
        )
    return name


def _check_unique_names(datasets: tuple[DatasetSpec, ...]) -> None:
    seen: dict[str, int] = {}
    for i, spec in enumerate(datasets):
        if spec.name in seen:
            raise ConfigError(
                f"data.datasets[{i}].name: {spec.name!r} is already used by "
                f"data.datasets[{seen[spec.name]}]; names must be unique"
            )
        seen[spec.name] = i
