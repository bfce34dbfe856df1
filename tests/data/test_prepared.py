"""data.prepared: two dataset entries that prepare to identical data are refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from distilbench.config.datasets import DataConfig
from distilbench.core.errors import ConfigError
from distilbench.data.prepared import prepare_all
from tests.data.conftest import ROWS, csv_text


def config(tmp_path: Path, *datasets: dict) -> DataConfig:
    return DataConfig.from_params({"folds": 2, "datasets": list(datasets)}, "data")


def test_the_same_file_under_two_names_is_refused_naming_both_writing_nothing(write, tmp_path):
    path = str(write("reviews.csv", csv_text()))
    same = config(
        tmp_path,
        {"name": "first", "source": "file", "path": path},
        {"name": "again", "source": "file", "path": path},
    )
    out = tmp_path / "out"
    with pytest.raises(ConfigError) as caught:
        prepare_all(same, 0, out)
    line = str(caught.value)
    assert "\n" not in line
    assert "'first' and 'again' prepare to identical data" in line
    assert f"the same {len(ROWS)} rows and labels" in line
    assert not out.exists() or not list(out.iterdir())  # nothing written


def test_a_copy_of_a_file_is_identical_data_too(write, tmp_path):
    first, second = write("a.csv", csv_text()), write("b.csv", csv_text())
    with pytest.raises(ConfigError, match="'a' and 'b' prepare to identical data"):
        prepare_all(
            config(tmp_path, {"source": "file", "path": str(first)}, {"source": "file", "path": str(second)}),
            0,
            tmp_path / "out",
        )


def test_two_views_of_one_file_with_different_labels_are_both_prepared(write, tmp_path):
    rows = "".join(f'"{text}",{label},{"odd" if i % 2 else "even"}\n' for i, (text, label) in enumerate(ROWS))
    path = str(write("two.csv", "text,label,parity\n" + rows))
    views = config(
        tmp_path,
        {"name": "by_label", "source": "file", "path": path},
        {"name": "by_parity", "source": "file", "path": path, "label_columns": "parity"},
    )
    metas = prepare_all(views, 0, tmp_path / "out")
    assert [m["name"] for m in metas] == ["by_label", "by_parity"]
