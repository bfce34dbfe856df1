"""A dataset's own train settings (data.datasets[i].train) reach its folds alone: the settings each
parent run logs, and what the results record for the report's heading."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests.end_to_end.conftest import file_dataset, tiny_model


def test_a_datasets_own_max_length_trains_its_folds_and_no_others(
    make_project, tiny_csv: Path, tmp_path: Path
) -> None:
    other = pd.read_csv(tiny_csv)
    other["text"] = other["text"] + " and more words"  # the same data twice is refused
    other.to_csv(tmp_path / "long.csv", index=False)
    own = file_dataset(tmp_path / "long.csv", "long") | {"train": {"max_length": 16}}
    project = make_project(models=[tiny_model("teacher")], datasets=[file_dataset(tiny_csv), own], folds=2)
    project.run()
    logged = {r.data.params["dataset"]: json.loads(r.data.params["train"]) for r in project.parents()}
    assert (logged["long"]["max_length"], logged["tiny"]["max_length"]) == (16, 32)
    recorded = json.loads(Path(project.results).read_text(encoding="utf-8"))["datasets"]
    assert (recorded["long"]["train"], recorded["tiny"]["train"]) == ({"max_length": 16}, {})
