"""Typed, frozen dataset configs parsed once from the ``data`` section of params.yaml.

Every bad key or value raises :class:`ConfigError` naming the full key path and the value, so a user
can fix params.yaml without reading code. Nothing below this module sees a raw dict.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from distilbench.config.fields import Section, parse_fields, setting
from distilbench.core.errors import ConfigError

SOURCES = ("packaged", "hub", "file")
PACKAGED_IDS = ("bbc", "rotten_tomatoes")
FORMATS = ("csv", "tsv", "jsonl", "parquet", "xlsx")
# several label_columns hold 0/1 flags (the column name is the label) or label names (blank = none);
# "auto" tells them apart by their cells
LABEL_VALUES = ("auto", "flags", "names")
# repeated texts: exact copies (same labels) and conflicting ones (different labels); see docs/datasets.md
DUPLICATES = ("drop", "keep")
CONFLICTS = ("error", "drop", "merge", "keep")
RARE_LABELS = ("drop", "error")
PROTOCOLS = ("kfold", "holdout")
# a dataset name becomes a folder under data/prepared/ and a row label in the report
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# keys that only make sense for one source; given elsewhere they would be silently ignored
_ONLY_FOR = {
    "path": "file",
    "format": "file",
    "encoding": "file",
    "sheet": "file",
    "config": "hub",
    "train_split": "hub",
    "eval_split": "hub",
    "splits": "hub",
}
# packaged datasets define their own columns (and rotten_tomatoes its movie groups)
_NOT_FOR_PACKAGED = (
    "text_columns",
    "label_columns",
    "label_values",
    "label_aliases",
    "label_delimiter",
    "group_column",
)


def _names(value: Any, path: str) -> tuple[str, ...]:
    """A list of names (columns, splits); a single name may be given as a plain string."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise ConfigError(f"{path}: {value!r} must be a name or a non-empty list of names")
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: {value!r} names one twice")
    return tuple(names)


_VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")


def _file_path(value: Any, key: str) -> str:
    """A file path with ``~`` and environment variables expanded, so a params file can point at the folder
    a user keeps their downloads in (``${SEED_DIR}/amazon_alexa.tsv``) without editing it per machine."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key}: {value!r} must be a non-empty path")
    for match in _VARIABLE.finditer(value):
        name = match.group(1) or match.group(2)
        if name not in os.environ:
            raise ConfigError(
                f"{key}: {value!r} uses ${name}, which is not set; export {name}=<the folder it names>"
            )
    return os.path.expanduser(os.path.expandvars(value))


def _aliases(value: Any, path: str) -> tuple[tuple[str, str], ...]:
    """``{written: meant}`` label names, e.g. a typo in the downloaded file mended without editing it."""
    if not isinstance(value, Mapping) or not value:
        raise ConfigError(f"{path}: {value!r} must be a mapping of label names, e.g. {{typo: label}}")
    for written, meant in value.items():
        if not (isinstance(written, str) and written.strip() and isinstance(meant, str) and meant.strip()):
            raise ConfigError(f"{path}.{written}: {meant!r} must map a label name to a label name")
        if written == meant:
            raise ConfigError(f"{path}.{written}: maps the name to itself")
    return tuple((str(k).strip(), str(v).strip()) for k, v in value.items())


def _train_settings(value: Any, path: str) -> tuple[tuple[str, Any], ...]:
    """``{train key: value}`` for this dataset's folds alone; the keys and values are checked against the
    train section's own rules by :meth:`distilbench.config.settings.TrainConfig.for_dataset`."""
    if not isinstance(value, Mapping) or not value:
        raise ConfigError(f"{path}: {value!r} must be a mapping of train settings, e.g. {{max_length: 128}}")
    return tuple(sorted((str(k), v) for k, v in value.items()))


@dataclass(frozen=True, kw_only=True)
class DatasetSpec(Section):
    """One dataset to prepare. See docs/datasets.md for an example of each source."""

    name: str | None = setting(None, kind=str)  # folder under data/prepared/, report row; default below
    source: str = setting(choices=SOURCES)  # "packaged" | "hub" | "file"
    id: str | None = setting(None, kind=str)  # packaged: "bbc" or "rotten_tomatoes"; hub: e.g. "glue"
    config: str | None = setting(None, kind=str)  # hub config name, e.g. "sst2"
    # file source: CSV/TSV/JSONL/Parquet/xlsx, relative to the cwd; ~ and $VAR / ${VAR} are expanded
    path: str | None = setting(None, convert=_file_path, optional=True)
    format: str | None = setting(None, choices=FORMATS, optional=True)  # None = from the file suffix
    encoding: str | None = setting(None, kind=str)  # declared encoding tried after UTF-8
    sheet: str | None = setting(None, kind=str)  # xlsx: the sheet to read; None = the first
    text_columns: tuple[str, ...] = setting(("text",), convert=_names)  # several are joined with "\n"
    label_columns: tuple[str, ...] = setting(("label",), convert=_names)  # several 0/1 columns => multilabel
    label_delimiter: str | None = setting(None, kind=str)  # e.g. "|" => multilabel string labels
    label_values: str = setting("auto", choices=LABEL_VALUES)  # several label_columns: flags or names
    # written -> meant label names (typos in a downloaded file); a name never found is logged
    label_aliases: tuple[tuple[str, str], ...] | None = setting(None, convert=_aliases, optional=True)
    # repeated texts: exact copies dropped or kept; different labels refused, dropped, merged or kept.
    # conflicts None = "error" for files (they can be fixed), "drop" for packaged and hub data
    duplicates: str = setting("drop", choices=DUPLICATES)
    conflicts: str | None = setting(None, choices=CONFLICTS, optional=True)
    rare_labels: str = setting("drop", choices=RARE_LABELS)  # labels with fewer examples than folds
    group_column: str | None = setting(None, kind=str)  # rows sharing a group stay in one fold
    protocol: str = setting("kfold", choices=PROTOCOLS)
    train_split: str = setting("train")  # hub splits used by holdout
    eval_split: str = setting("validation")
    splits: tuple[str, ...] | None = setting(None, convert=_names)  # hub splits pooled by kfold; None = all
    max_examples: int | None = setting(None, kind=int, minimum=2)  # stratified cap, for the quickstart
    # rows set aside before the folds, where settings are chosen (docs/tuning.md): from the rows the cap
    # leaves out when enough share no text or group with the kept ones, else carved before the folds
    development_rows: int | None = setting(None, kind=int, minimum=2)
    # train settings for this dataset's folds alone (e.g. {max_length: 128}: long reviews), over the train
    # section and under a zoo model's own; chosen on its development rows (docs/tuning.md)
    train: tuple[tuple[str, Any], ...] | None = setting(None, convert=_train_settings, optional=True)
    # repeated k-fold for this dataset alone (None: data.repeats), and the report rows its later repeats
    # train (None: every row; the zoo teacher, every row's reference, and the fold teachers the named rows
    # need always run): the repeats spent on the questions they can settle (docs/questions.md)
    repeats: int | None = setting(None, kind=int, minimum=1)
    repeat_rows: tuple[str, ...] | None = setting(None, convert=_names, optional=True)
    # zoo models this dataset does not train (the budget: rows whose questions no design it can afford
    # would settle); the zoo's other datasets, and any dataset of yours, still train them
    skip_rows: tuple[str, ...] | None = setting(None, convert=_names, optional=True)

    @classmethod
    def from_params(cls, raw: Any, key: str) -> DatasetSpec:
        """Parse one entry of ``data.datasets``; ``key`` is its key path, e.g. ``data.datasets[0]``."""
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{key}: expected a mapping of dataset keys, got {raw!r}")
        values = parse_fields(cls, raw, key)
        _check_source_keys(raw, values["source"], key)
        return cls(**values).checked(key)

    def checked(self, key: str) -> DatasetSpec:
        _check_id(self, key)
        _check_combinations(self, key)
        return dataclasses.replace(self, name=_name(self, key))


@dataclass(frozen=True, kw_only=True)
class DataConfig(Section):
    """The ``data`` section: how many folds, how many times to repeat them, and which datasets."""

    folds: int = setting(5, minimum=2)
    # repeated k-fold: repeat r assigns folds again with seed + (r - 1); repeat 1 is plain k-fold
    repeats: int = setting(1, minimum=1)
    datasets: tuple[DatasetSpec, ...] = setting(convert=lambda value, path: _datasets(value, path))

    def checked(self, key: str) -> DataConfig:
        seen: dict[str, int] = {}
        for i, spec in enumerate(self.datasets):
            if spec.name in seen:
                raise ConfigError(
                    f"{key}.datasets[{i}].name: {spec.name!r} is already used by "
                    f"{key}.datasets[{seen[spec.name]}]; names must be unique"
                )
            seen[spec.name] = i
            if spec.repeats is None and self.repeats > 1 and spec.protocol == "holdout":
                raise ConfigError(
                    f"{key}.repeats: {self.repeats} needs k-fold datasets; {key}.datasets[{i}] "
                    f"({spec.name!r}) uses protocol 'holdout', which has one fixed split"
                )
        return self

    def repeats_of(self, spec: DatasetSpec) -> int:
        """How many times the dataset's folds are assigned: its own `repeats`, else the section's."""
        return self.repeats if spec.repeats is None else spec.repeats


def _datasets(items: Any, path: str) -> tuple[DatasetSpec, ...]:
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{path}: {items!r} must be a non-empty list of datasets")
    return tuple(DatasetSpec.from_params(item, f"{path}[{i}]") for i, item in enumerate(items))


def _check_id(spec: DatasetSpec, where: str) -> None:
    if spec.source == "packaged" and spec.id not in PACKAGED_IDS:
        raise ConfigError(f"{where}.id: {spec.id!r} is not one of {', '.join(PACKAGED_IDS)}")
    if spec.source == "hub" and spec.id is None:
        raise ConfigError(f"{where}.id: missing; a hub dataset needs its id, e.g. 'glue'")
    if spec.source == "file" and spec.id is not None:
        raise ConfigError(f"{where}.id: {spec.id!r} is not used by source 'file' (give path instead)")


def _check_source_keys(raw: Mapping[str, Any], source: str, where: str) -> None:
    """Keys given (in ``raw``, as the user wrote them) for a source that would silently ignore them."""
    for key, only in _ONLY_FOR.items():
        if raw.get(key) is not None and source != only:
            raise ConfigError(f"{where}.{key}: {raw[key]!r} is only used by source '{only}', not '{source}'")
    if source == "packaged":
        for key in _NOT_FOR_PACKAGED:
            if raw.get(key) is not None:
                raise ConfigError(f"{where}.{key}: {raw[key]!r} is not used by packaged datasets")
    if source == "file" and raw.get("path") is None:
        raise ConfigError(f"{where}.path: missing; a file dataset needs the path of a CSV/TSV/JSONL/Parquet")


def _check_combinations(spec: DatasetSpec, where: str) -> None:
    if spec.protocol == "holdout" and spec.source != "hub":
        raise ConfigError(
            f"{where}.protocol: 'holdout' needs a hub dataset's train/eval splits; "
            f"source '{spec.source}' uses 'kfold'"
        )
    if spec.label_delimiter is not None and len(spec.label_columns) > 1:
        raise ConfigError(
            f"{where}.label_delimiter: {spec.label_delimiter!r} needs exactly one label column, "
            f"got {list(spec.label_columns)}"
        )
    if spec.label_values != "auto" and len(spec.label_columns) < 2:
        raise ConfigError(
            f"{where}.label_values: {spec.label_values!r} is for several label_columns, "
            f"got {list(spec.label_columns)}"
        )
    if spec.sheet is not None and (spec.format or PurePath(spec.path).suffix.lower().lstrip(".")) != "xlsx":
        raise ConfigError(f"{where}.sheet: {spec.sheet!r} is only used by xlsx files, not {spec.path!r}")
    if spec.protocol == "holdout" and spec.splits is not None:
        raise ConfigError(
            f"{where}.splits: {list(spec.splits)} is for kfold; holdout uses train_split/eval_split"
        )
    if spec.protocol == "holdout" and spec.development_rows is not None:
        raise ConfigError(
            f"{where}.development_rows: {spec.development_rows} is for kfold; a holdout's development "
            "rows are its train split's"
        )
    if spec.protocol == "holdout" and spec.repeats not in (None, 1):
        raise ConfigError(
            f"{where}.repeats: {spec.repeats} needs kfold; protocol 'holdout' has one fixed split"
        )
    if spec.protocol == "holdout" and spec.train_split == spec.eval_split:
        raise ConfigError(f"{where}.eval_split: {spec.eval_split!r} is also the train_split")


def _default_name(spec: DatasetSpec) -> str:
    if spec.source == "file":
        return PurePath(spec.path).stem
    if spec.source == "hub":
        # "SetFit/bbc-news" -> "bbc-news"; "glue" + "sst2" -> "sst2"
        return spec.config or spec.id.rstrip("/").split("/")[-1]
    return spec.id


def _name(spec: DatasetSpec, where: str) -> str:
    name = spec.name if spec.name is not None else _default_name(spec)
    if not _NAME_RE.match(name):
        raise ConfigError(
            f"{where}.name: {name!r} must be a folder name (letters, digits, '_', '-', '.'; "
            "starting with a letter or digit)"
        )
    return name
