"""Local CSV, TSV, JSON Lines, Parquet and Excel files, read row by row with the place of each row kept.

Files are read as they were published: a header may hold blank or repeated names in columns the config
does not use (spreadsheet exports do); they get pandas' names (``Unnamed: 11``, ``x.1``) and are ignored.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from distilbench.config.datasets import FORMATS, DatasetSpec
from distilbench.core.errors import DataError
from distilbench.data.table import SourceTable, quoted

logger = logging.getLogger(__name__)

_SUFFIX_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_SUFFIX_FORMATS |= {".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx"}
_DELIMITERS = {"csv": ",", "tsv": "\t"}
# what a header split by another delimiter suggests (semicolons: spreadsheets in locales with decimal commas)
_LOOKS = {"\t": ("tab", "set `format: tsv`"), ",": ("comma", "set `format: csv`")}
_LOOKS[";"] = ("semicolon", "re-save it with commas (csv) or tabs (tsv)")
# the csv module refuses fields over 131,072 characters by default; a long document (a report, a book
# chapter) is a valid text. 10 MB characters is ~40 MB of str at most per field: fits in memory
MAX_FIELD_CHARS = 10_000_000


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
    if path.is_dir():
        raise DataError(
            f"{spec.path}: is a directory; give the path of a CSV, TSV, JSON Lines or Parquet file"
        )
    if not path.is_file():
        raise DataError(f"{spec.path}: file not found (looked in {path.resolve().parent})")
    fmt = file_format(spec)
    named = named_columns(spec)
    if fmt == "parquet":
        frame, where = read_parquet(path)
    elif fmt == "xlsx":
        frame, where = read_xlsx(path, spec.sheet, named)
    else:
        text = decode(read_bytes(path, spec.path), spec.path, spec.encoding, _DELIMITERS.get(fmt))
        if fmt == "jsonl":
            frame, where = read_jsonl(text, spec.path)
        else:
            frame, where = read_delimited(text, spec.path, _DELIMITERS[fmt], named)
    return SourceTable.from_spec(spec, frame, where, spec.path)


def named_columns(spec: DatasetSpec) -> frozenset[str]:
    """The columns the config reads: only these must have a name of their own in the header."""
    return frozenset([*spec.text_columns, *spec.label_columns, *filter(None, [spec.group_column])])


def read_bytes(path: Path, origin: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise unreadable(origin, exc) from exc


def unreadable(origin: str, exc: OSError) -> DataError:
    if isinstance(exc, PermissionError):
        return DataError(f"{origin}: cannot be read (permission denied); check the file's permissions")
    return DataError(f"{origin}: cannot be read ({exc.strerror or exc})")


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


def read_delimited(
    text: str, origin: str, delimiter: str, named: frozenset[str] = frozenset()
) -> tuple[pd.DataFrame, list[str]]:
    """CSV/TSV with the csv module rather than pandas: it tells the line where each record starts,
    so ragged rows and later problems can be named by line."""
    csv.field_size_limit(MAX_FIELD_CHARS)
    # strict: a closing quote must end its field, so an unclosed quote cannot silently swallow the rows
    # after it into one text (it meets the next row's quote, or the end of the file, and fails)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header = _header(reader, origin, delimiter, named)
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
                    f"({quoted(header)}); check the delimiter and quoting of that line"
                )
            rows.append(fields)
            where.append(f"line {start}")
    except csv.Error as exc:
        raise DataError(_parse_error(exc, origin, previous_end + 1, reader.line_num)) from exc
    return pd.DataFrame(rows, columns=header, dtype=object), where


def _header(reader, origin: str, delimiter: str, named: frozenset[str]) -> list[str]:
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise DataError(_parse_error(exc, origin, 1, reader.line_num)) from exc
    if not header:
        raise DataError(f"{origin}, line 1: no header row (the file is empty)")
    if len(header) == 1:  # no data file has a single column (texts need labels): a wrong delimiter
        _suggest_delimiter(header[0], origin, delimiter)
    return unique_header(header, origin, named)


def _suggest_delimiter(line: str, origin: str, delimiter: str) -> None:
    for other, (name, advice) in _LOOKS.items():
        if other != delimiter and len(next(csv.reader([line], delimiter=other))) > 1:
            raise DataError(
                f"{origin}, line 1: the header {line!r} is one column; this looks {name}-separated: {advice}"
            )


def _parse_error(exc: csv.Error, origin: str, start: int, end: int) -> str:
    """The line where the bad record starts: where a quote was opened and never properly closed."""
    if "field larger than field limit" in str(exc):
        return (
            f"{origin}, line {start}: a field is longer than {MAX_FIELD_CHARS:,} characters "
            "(or a quote opened there is never closed); check the quotes of that line"
        )
    if start < end or "expected after" in str(exc) or "end of data" in str(exc):
        return (
            f"{origin}, line {start}: a quote opened on this line is not closed where its field ends "
            f"({exc} on line {end}); check the quotes of that line"
        )
    return f"{origin}, line {start}: cannot parse ({exc})"


def unique_header(header: list[str], origin: str, named: frozenset[str], first: str = "line 1") -> list[str]:
    """Header names made unique as pandas makes them: a blank one is ``Unnamed: <position>``, a repeat
    ``<name>.1``, ``.2``... A column the config reads must be named once: which copy it means is a guess."""
    seen: set[str] = set()
    unique = []
    for position, name in enumerate(header):
        if name in seen and name in named:
            raise DataError(f"{origin}, {first}, column {name!r}: the header names this column twice")
        if not name.strip():
            name = f"Unnamed: {position}"
        candidate, copy = name, 0
        while candidate in seen:
            copy += 1
            candidate = f"{name}.{copy}"
        seen.add(candidate)
        unique.append(candidate)
    return unique


def jsonl_records(lines: Iterable[str], origin: str) -> Iterator[tuple[int, dict]]:
    """(1-based line number, object) per JSON Lines record; blank lines are skipped. The first bad line
    stops it with a DataError naming the line."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line.rstrip("\r\n"))  # else an error at its end says "line 2"
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{origin}, line {number}: not valid JSON ({exc.msg} at column {exc.colno})"
            ) from exc
        if not isinstance(record, dict):
            raise DataError(f"{origin}, line {number}: expected a JSON object, got {type(record).__name__}")
        yield number, record


def read_jsonl(text: str, origin: str) -> tuple[pd.DataFrame, list[str]]:
    """JSON Lines: one object per line; blank lines are skipped."""
    # split on "\n" only: str.splitlines would also split on U+2028, which is legal inside JSON strings
    numbered = list(jsonl_records(text.split("\n"), origin))
    records = [record for _, record in numbered]
    where = [f"line {number}" for number, _ in numbered]
    return pd.DataFrame.from_records(records) if records else pd.DataFrame(), where


def read_xlsx(path: Path, sheet: str | None, named: frozenset[str]) -> tuple[pd.DataFrame, list[str]]:
    """The first (or the named) sheet of an Excel workbook, through pandas + openpyxl; each row is named
    by its spreadsheet row number. The header gets the same treatment as a CSV's."""
    try:
        # header=None: the raw first row, so blank and repeated names are handled as in CSV files;
        # na_filter=False: an empty cell is "", as the csv module reads it
        raw = pd.read_excel(path, sheet_name=sheet or 0, header=None, dtype=object, na_filter=False)
    except ImportError as exc:
        raise DataError(f"{path}: reading .xlsx needs openpyxl; `pip install openpyxl`") from exc
    except PermissionError as exc:
        raise unreadable(str(path), exc) from exc
    except ValueError as exc:  # a missing sheet, or not a workbook
        raise DataError(f"{path}: not a readable Excel sheet ({exc})") from exc
    except Exception as exc:  # openpyxl raises zipfile/KeyError types for a corrupt workbook
        raise DataError(f"{path}: not a readable Excel workbook ({exc})") from exc
    if raw.empty:
        raise DataError(f"{path}, row 1: no header row (the sheet is empty)")
    header = ["" if _blank(v) else str(v) for v in raw.iloc[0]]
    frame = raw.iloc[1:].reset_index(drop=True)
    frame.columns = unique_header(header, str(path), named, "row 1")
    filled = ~frame.map(_blank).all(axis=1)  # an empty row, as a blank CSV line, is skipped
    where = [f"row {i + 2}" for i in np.flatnonzero(filled.to_numpy())]
    return frame[filled].reset_index(drop=True), where


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value != value  # NaN


def read_parquet(path: Path) -> tuple[pd.DataFrame, list[str]]:
    try:
        frame = pd.read_parquet(path)
    except PermissionError as exc:
        raise unreadable(str(path), exc) from exc
    except Exception as exc:  # pyarrow raises several types for a corrupt or non-Parquet file
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from exc
    return frame.reset_index(drop=True), [f"row {i + 1}" for i in range(len(frame))]
