"""A saved folder serves the variant its serving.json names: fp32, int8 torch, or an ONNX file in it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer

from distilbench.config.variants import ONNX_FILES
from distilbench.core.errors import AssetError
from distilbench.deploy.predict import ServingSettings, TextClassifier, load_predictor
from distilbench.deploy.registry import pip_requirements, register_classifier
from distilbench.models.compress import OnnxClassifier, export_onnx, quantize_onnx
from distilbench.tracking.runs import ensure_experiment
from tests.deploy.conftest import LABELS

TEXTS = ["match goal team score", "computer software chip phone", "election vote minister", "number 3 code"]
PROBABILITY_ATOL = 0.01  # int8 moves the tiny model's logits by < 0.05 (test_compress); softmax by less


def served_folder(classifier_dir: Path, tmp_path: Path, runtime: str) -> Path:
    """The classifier's folder with serving.json naming `runtime`, and its ONNX file when it needs one."""
    folder = tmp_path / runtime
    shutil.copytree(classifier_dir, folder)
    if runtime in ONNX_FILES:
        batch = dict(AutoTokenizer.from_pretrained(folder)(TEXTS, padding=True))
        fp32 = export_onnx(
            TextClassifier.from_dir(classifier_dir).model, batch, tmp_path / "onnx" / "model.onnx"
        )
        target = folder / ONNX_FILES[runtime]
        shutil.copy(fp32, target) if runtime == "onnx-fp32" else quantize_onnx(fp32, target)
    ServingSettings(tuple(LABELS), 32, runtime=runtime).write(folder)
    return folder


@pytest.fixture
def fp32(classifier_dir):
    return TextClassifier.from_dir(classifier_dir)


def test_an_onnx_int8_folder_answers_from_its_onnx_file_with_fp32_labels(classifier_dir, tmp_path, fp32):
    served = TextClassifier.from_dir(served_folder(classifier_dir, tmp_path, "onnx-int8"))
    assert isinstance(served.model, OnnxClassifier) and served.model.path.name == "model-int8.onnx"
    expected = fp32.predict(TEXTS)
    got = served.predict(TEXTS)
    assert [p.label for p in got] == [p.label for p in expected]
    for a, b in zip(got, expected, strict=True):
        assert a.probabilities == pytest.approx(b.probabilities, abs=PROBABILITY_ATOL)
        assert a.probabilities != b.probabilities  # int8 really answered, not the fp32 weights


def test_an_onnx_fp32_folder_matches_torch_closely(classifier_dir, tmp_path, fp32):
    served = TextClassifier.from_dir(served_folder(classifier_dir, tmp_path, "onnx-fp32"))
    np.testing.assert_allclose(served.probabilities(TEXTS), fp32.probabilities(TEXTS), atol=1e-5)


def test_a_torch_int8_folder_loads_quantized(classifier_dir, tmp_path, fp32):
    served = TextClassifier.from_dir(served_folder(classifier_dir, tmp_path, "torch-int8"))
    quantized = [m for m in served.model.modules() if isinstance(m, torch.ao.nn.quantized.dynamic.Linear)]
    assert quantized, "no Linear layer was quantized"
    np.testing.assert_allclose(served.probabilities(TEXTS), fp32.probabilities(TEXTS), atol=PROBABILITY_ATOL)
    assert [p.label for p in served.predict(TEXTS)] == [p.label for p in fp32.predict(TEXTS)]


def test_a_folder_saved_before_runtimes_asks_for_a_rerun(classifier_dir, tmp_path):
    folder = served_folder(classifier_dir, tmp_path, "torch-fp32")
    saved = json.loads((folder / "serving.json").read_text())
    del saved["runtime"]  # as select wrote it before runtimes existed
    (folder / "serving.json").write_text(json.dumps(saved))
    older = r"serving\.json: written by an older select \(no runtime\); rerun select$"
    with pytest.raises(AssetError, match=older):
        TextClassifier.from_dir(folder)


def test_a_missing_onnx_file_or_an_unknown_runtime_is_one_error(classifier_dir, tmp_path):
    folder = served_folder(classifier_dir, tmp_path, "onnx-int8")
    (folder / "model-int8.onnx").unlink()
    with pytest.raises(AssetError, match="serving.json says onnx-int8, but model-int8.onnx is missing"):
        TextClassifier.from_dir(folder)
    ServingSettings(tuple(LABELS), 32, runtime="tensorrt").write(folder)
    with pytest.raises(AssetError, match="runtime 'tensorrt' is not one of"):
        TextClassifier.from_dir(folder)


def test_the_registered_onnx_int8_model_answers_as_its_folder(classifier_dir, tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    experiment = ensure_experiment(uri, "runtime-test", (tmp_path / "mlruns").as_uri())
    folder = served_folder(classifier_dir, tmp_path, "onnx-int8")
    settings = ServingSettings(tuple(LABELS), 32, runtime="onnx-int8")
    registered = register_classifier(
        folder, "bbc", settings, experiment, onnx_int8=folder / "model-int8.onnx"
    )
    via_registry = load_predictor(registered.model_uri).predict(TEXTS)
    local = TextClassifier.from_dir(folder).predict(TEXTS)
    assert [p.label for p in via_registry] == [p.label for p in local]
    for a, b in zip(via_registry, local, strict=True):
        assert a.probabilities == pytest.approx(b.probabilities, abs=1e-6)
    assert "onnxruntime" in " ".join(pip_requirements("onnx-int8"))
    assert "onnxruntime" not in " ".join(pip_requirements())


def test_every_report_variant_is_a_runtime_a_folder_can_serve():
    from distilbench.config.variants import COMPRESSED, VARIANTS

    assert ("torch-fp32", *COMPRESSED) == VARIANTS  # one list: the report's rows and predict's runtimes
