"""Linear and static rows on a tiny study: the same folds, columns, runs and champion path as every row."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from distilbench.deploy.predict import ShallowClassifier, load_predictor
from tests.end_to_end.conftest import TINY, Project, tiny_model
from tests.end_to_end.test_select import TEXTS, run_select

COLUMNS = (
    "accuracy_mean",
    "macro_f1_mean",
    "seconds_per_fold",
    "model_mb",
    "latency_p50_ms",
    "throughput_per_s",
)


@pytest.fixture
def project(make_project) -> Project:
    return make_project(
        models=[
            tiny_model("teacher"),
            {
                "name": "tfidf",
                "kind": "linear",
                "ngram_max": 1,
                "min_df": 1,
                "classifier": "logreg",
                "C": 10.0,
            },
            # model2vec distils the tiny local BERT, as it distils the packaged MiniLM in the quickstart
            {"name": "static", "kind": "static", "source": "local", "id": TINY, "pca_dims": None},
        ],
        folds=2,
        epochs=1,
    )


def test_linear_and_static_rows_have_every_column_runs_and_a_servable_champion(project):
    project.run(with_report=True)
    rows = json.loads((project.reports / "metrics.json").read_text())["tiny"]
    for name in ("tfidf", "static"):
        assert all(not math.isnan(rows[name][c]) for c in COLUMNS), (name, rows[name])
        assert rows[name]["accuracy_mean"] > 0.9  # the tiny texts' words give their class away
    results = json.loads(Path(project.results).read_text())
    static_folds = [f for f in results["folds"] if f["model"] == "static"]
    assert [f["fold"] for f in static_folds] == [1, 2]
    # the one distillation (cached after fold 1) counts in every fold's training time
    assert all(f["train_seconds"] > 0 and f["parameters"] > 0 for f in static_folds)
    parents = {r.data.tags.get("mlflow.runName"): r for r in project.parents()}
    children = project.children()
    for name in ("tfidf", "static"):
        parent = parents[f"tiny / {name}"]
        own = [c for c in children if c.data.tags[MLFLOW_PARENT_RUN_ID] == parent.info.run_id]
        assert len(own) == 2 and all(c.info.status == "FINISHED" for c in own)
        assert {"accuracy", "latency_p50_ms", "model_mb"} <= set(own[0].data.metrics)
    assert "static_distillation_seconds" in parents["tiny / static"].data.metrics or any(
        "static_distillation_seconds" in c.data.metrics for c in children
    )
    comparison = (project.reports / "comparison.md").read_text()
    assert "| tfidf" in comparison and "| static" in comparison

    for name in ("tfidf", "static"):
        champion = run_select(project, model=name)
        assert (champion["row"], champion["variant"]) == (name, "torch-fp32")
        folder = project.root / "models" / "tiny"
        settings = yaml.safe_load((folder / "serving.json").read_text())
        kind = "linear" if name == "tfidf" else "static"
        assert settings["kind"] == kind and not (folder / "config.json").exists()
        local = ShallowClassifier.from_dir(folder).predict(TEXTS)
        assert [p.label for p in local] == ["sport", "tech", "politics"]
        registered = load_predictor(champion["model_uri"]).predict(TEXTS)
        assert [p.label for p in registered] == [p.label for p in local]
        for a, b in zip(registered, local, strict=True):
            assert a.probabilities == pytest.approx(b.probabilities, abs=1e-6)
            assert sum(a.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
