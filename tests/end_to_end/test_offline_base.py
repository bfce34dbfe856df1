"""The offline-base zoo (MPNet-base teacher, 6-layer students, MiniLM, CNN) end to end, reduced:
BBC capped to 200 articles, 2 folds, one short epoch. Needs `make assets-base` (404 MB of weights)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distilbench.config.settings import read_yaml
from distilbench.config.variants import COMPRESSED, variant_row_name
from distilbench.report.majority import BASELINE_KEY

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_offline_base_zoo_runs_end_to_end_on_a_reduced_setting(make_project):
    shipped = read_yaml(REPO / "params.yaml")
    zoo = shipped["models"]["zoos"]["offline-base"]
    project = make_project(
        datasets=[{"name": "bbc", "source": "packaged", "id": "bbc", "max_examples": 200}],
        models=zoo["models"],
        folds=2,
        epochs=1,
        max_length=64,
        batch_size=16,
        learning_rate=5e-5,
    )
    project.raw["models"]["zoos"]["tiny"]["teacher"] = zoo["teacher"]
    project.save()
    results = project.run(with_report=True)

    metrics = json.loads((project.reports / "metrics.json").read_text())["bbc"]
    # a row per model, per compressed variant of a `compress: true` model, and the majority-class baseline
    expected = {m["name"] for m in zoo["models"]} | {BASELINE_KEY}
    expected |= {
        variant_row_name(m["name"], v) for m in zoo["models"] if m.get("compress") for v in COMPRESSED
    }
    assert set(metrics) == expected
    by_model = {r.model: r for r in results}
    assert by_model["mpnet-base"].parameters == pytest.approx(109.5e6, rel=0.01)
    assert by_model["mpnet-l6-student"].parameters == pytest.approx(67.0e6, rel=0.01)
    print((project.reports / "comparison.md").read_text())
