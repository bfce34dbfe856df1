"""Registering a classifier: versions, the champion alias, and the same predictions through the registry."""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from distilbench.core.errors import AssetError
from distilbench.deploy.predict import PROBABILITY, ServingSettings, TextClassifier, frame_predictions
from distilbench.deploy.registry import ALIAS, pip_requirements, register_classifier
from distilbench.models.compress import export_onnx, quantize_onnx
from distilbench.tracking.runs import ensure_experiment
from tests.deploy.conftest import LABELS

TEXTS = ["match goal team score", "computer software chip", "election vote minister", "number 3"]
SETTINGS = ServingSettings(tuple(LABELS), max_length=32)


@pytest.fixture
def store(tmp_path: Path, monkeypatch) -> str:
    """An empty sqlite MLflow store in tmp, and its experiment's id."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return ensure_experiment(uri, "registry-test", (tmp_path / "mlruns").as_uri())


def test_registering_twice_moves_the_champion_to_version_2(classifier_dir, store, tmp_path) -> None:
    first = register_classifier(classifier_dir, "bbc", SETTINGS, store)
    onnx = quantize_onnx(
        export_onnx(
            TextClassifier.from_dir(classifier_dir).model,
            {"input_ids": [[2, 5, 3]], "attention_mask": [[1, 1, 1]]},
            tmp_path / "model.onnx",
        ),
        tmp_path / "model-int8.onnx",
    )
    second = register_classifier(classifier_dir, "bbc", SETTINGS, store, onnx_int8=onnx)
    assert (first.name, first.version, second.version) == ("distilbench-bbc", "1", "2")
    client = MlflowClient()
    assert str(client.get_model_version_by_alias("distilbench-bbc", ALIAS).version) == "2"
    assert second.model_uri == "models:/distilbench-bbc@champion"
    assert client.get_run(second.run_id).info.experiment_id == store

    loaded = mlflow.pyfunc.load_model(second.model_uri)
    frame = loaded.predict(pd.DataFrame({"text": TEXTS}))
    direct = TextClassifier.from_dir(classifier_dir).predict(TEXTS)
    via_registry = frame_predictions(TEXTS, frame)
    assert [p.label for p in via_registry] == [p.label for p in direct]
    for a, b in zip(via_registry, direct, strict=True):
        assert a.probabilities == pytest.approx(b.probabilities, abs=1e-6)
    assert list(frame.columns) == ["label", *(PROBABILITY + name for name in LABELS)]

    # what travels with the model: the label names, the ONNX file, a signature, explicit requirements
    local = Path(mlflow.artifacts.download_artifacts(second.model_uri))
    assert (local / "artifacts" / "model-int8.onnx").is_file()
    assert '"labels"' in next(local.rglob("serving.json")).read_text()
    assert loaded.metadata.get_input_schema().input_names() == ["text"]
    requirements = (local / "requirements.txt").read_text().split()
    assert requirements == pip_requirements() and "torch==2.13.0" in requirements
    assert not list(local.rglob("__pycache__"))


def test_a_folder_serves_the_settings_stored_in_it_and_refuses_without_them(classifier_dir, tmp_path) -> None:
    assert TextClassifier.from_dir(classifier_dir).settings == ServingSettings(tuple(LABELS), 64)
    staged = tmp_path / "copy"
    shutil.copytree(classifier_dir, staged)
    ServingSettings(("x", "y", "z"), max_length=8).write(staged)
    classifier = TextClassifier.from_dir(staged)
    assert classifier.settings == ServingSettings(("x", "y", "z"), 8, False)
    assert set(classifier.predict(["a"])[0].probabilities) == {"x", "y", "z"}

    (staged / "serving.json").unlink()  # no guessing from the model's config: max_length would differ
    with pytest.raises(AssetError, match=r"copy': no serving\.json in it \(select saves models with one\)"):
        TextClassifier.from_dir(staged)
