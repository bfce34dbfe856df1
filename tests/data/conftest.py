"""Tiny fixture data written to tmp_path; every test runs the real prepare path on it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from distilbench.config.datasets import DataConfig, DatasetSpec
from distilbench.data.prepared import prepare_all

# 3 classes x 4 distinct texts: enough for 2..4 stratified folds
ROWS = [(f"{label} example number {i}", label) for label in ("ham", "eggs", "spam") for i in range(4)]


def csv_text(rows: list[tuple[str, str]] = ROWS, header: str = "text,label") -> str:
    return header + "\n" + "".join(f'"{text}",{label}\n' for text, label in rows)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Write a fixture file under tmp_path and return its path."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write


def prepare_one(spec: DatasetSpec, folds: int, seed: int, out_root: Path, repeats: int = 1) -> dict:
    """The prepare stage (prepare_all) with `spec` as its only dataset, into out_root/<name>; its meta."""
    (meta,) = prepare_all(DataConfig(folds=folds, repeats=repeats, datasets=(spec,)), seed, out_root)
    return meta


@pytest.fixture
def prepare(tmp_path: Path) -> Callable[..., dict]:
    """prepare_one for a file spec built from keyword params, into tmp_path/prepared/<name>."""

    def _prepare(path: Path, folds: int = 2, seed: int = 0, repeats: int = 1, **params: Any) -> dict:
        spec = DatasetSpec.from_params({"source": "file", "path": str(path), **params}, "data.datasets[0]")
        return prepare_one(spec, folds, seed, tmp_path / "prepared", repeats)

    return _prepare
