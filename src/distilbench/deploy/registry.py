"""Put a fine-tuned classifier in the MLflow model registry, as `distilbench-<dataset>@champion`.

The model is an ``mlflow.pyfunc`` model that wraps the saved folder (weights, tokenizer, serving.json),
not an ``mlflow.transformers`` one: the same code serves a transformers head and a custom one (mean
pooling), it never looks up the hub, and its predict takes texts and returns a table of the label and
each class's probability (see :mod:`distilbench.deploy.predict`). The distilbench
package travels with the model
(``code_paths``), so it loads wherever its ``pip_requirements`` are installed.

Uses the MLflow store in force (MLFLOW_TRACKING_URI, set by the entry point).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

import distilbench
from distilbench.config.variants import FP32, ONNX_FILES
from distilbench.core.logs import stderr_without
from distilbench.deploy.predict import ServingSettings, check_model_dir, load_folder

logger = logging.getLogger(__name__)

ALIAS = "champion"
MODEL_NAME = "model"  # the logged model's name in its run
EXAMPLE_TEXTS = ("An example text to classify.", "Another, somewhat longer example text to classify here.")
# what loading the model needs; versions are the ones it was logged with (local tags such as +cpu dropped)
REQUIREMENTS = ("torch", "transformers", "tokenizers", "safetensors", "numpy", "pandas", "mlflow")
ONNX_REQUIREMENTS = ("onnxruntime",)  # a model served from its ONNX file (ServingSettings.runtime onnx-*)
# a linear or static model (ServingSettings.kind): its scikit-learn classifier, and model2vec's embeddings
KIND_REQUIREMENTS = {"linear": ("scikit-learn", "joblib"), "static": ("scikit-learn", "joblib", "model2vec")}


def registered_name(dataset: str) -> str:
    return f"distilbench-{dataset}"


def pip_requirements(runtime: str = FP32, kind: str = "transformer") -> list[str]:
    names = (
        REQUIREMENTS + (ONNX_REQUIREMENTS if runtime in ONNX_FILES else ()) + KIND_REQUIREMENTS.get(kind, ())
    )
    return [f"{name}=={version(name).split('+')[0]}" for name in names]


class ClassifierModel(mlflow.pyfunc.PythonModel):
    """Texts in (a DataFrame with a `text` column, a list, or one string); label and probabilities out."""

    def load_context(self, context) -> None:
        self.classifier = load_folder(Path(context.artifacts["model"]))

    def predict(self, context, model_input, params=None) -> pd.DataFrame:  # noqa: ARG002 (MLflow's API)
        return self.classifier.predict_frame(texts_of(model_input))


def texts_of(model_input) -> list[str]:
    if isinstance(model_input, pd.DataFrame):
        column = "text" if "text" in model_input.columns else model_input.columns[0]
        return [str(t) for t in model_input[column]]
    if isinstance(model_input, str):
        return [model_input]
    return [str(t) for t in model_input]


@dataclass(frozen=True)
class Registered:
    name: str
    version: str
    run_id: str
    model_uri: str  # models:/<name>@champion


# MLflow prints these itself (not through logging) as it registers; the project's own line says the same
REGISTRY_CHATTER = ("Successfully registered model '", "Registered model '", "Created version '")


def register_classifier(
    model_dir: Path,
    dataset: str,
    settings: ServingSettings,
    experiment_id: str,
    *,
    onnx_int8: Path | None = None,
    run_id: str | None = None,
    example_texts: Sequence[str] = EXAMPLE_TEXTS,
    alias: str | None = ALIAS,
    description: str | None = None,
) -> Registered:
    """Log `model_dir` (a saved classifier and its tokenizer) as a pyfunc model, register it as
    `distilbench-<dataset>` and point `alias` at the new version.

    `settings` (label names, max_length, multilabel) are stored with it; `description` (markdown) goes on
    the new version. `alias=None` leaves every alias where it is (the select stage moves them all at
    once, when every dataset's version is registered). `onnx_int8`, when given, travels
    with the model as an extra artifact (`onnx_int8`). The model is logged into run `run_id`, or a new run
    of `experiment_id`.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder: never ask the hub about it
    model_dir = check_model_dir(model_dir)
    name = registered_name(dataset)
    with tempfile.TemporaryDirectory(prefix="distilbench-register-") as staging:
        staged = Path(staging) / "model"
        shutil.copytree(model_dir, staged)
        settings.write(staged)
        code = Path(staging) / "code" / "distilbench"
        shutil.copytree(Path(distilbench.__file__).parent, code, ignore=shutil.ignore_patterns("__pycache__"))
        example = pd.DataFrame({"text": list(example_texts)})
        output = load_folder(staged).predict_frame(list(example_texts))
        artifacts = {"model": str(staged)} | ({"onnx_int8": str(onnx_int8)} if onnx_int8 else {})
        with (
            mlflow.start_run(run_id=run_id, experiment_id=None if run_id else experiment_id) as run,
            stderr_without(*REGISTRY_CHATTER),
        ):
            info = mlflow.pyfunc.log_model(
                name=MODEL_NAME,
                python_model=ClassifierModel(),
                artifacts=artifacts,
                code_paths=[str(code)],
                signature=infer_signature(example, output),
                input_example=example,
                pip_requirements=pip_requirements(settings.runtime, settings.kind),
                registered_model_name=name,
            )
    version_number = str(info.registered_model_version)
    client = MlflowClient()
    if description:  # the version page's Description: why this model, for whoever finds it there
        client.update_model_version(name, version_number, description=description)
    if alias is None:
        logger.info("registered %s as %s version %s", model_dir, name, version_number)
        return Registered(name, version_number, run.info.run_id, f"models:/{name}/{version_number}")
    client.set_registered_model_alias(name, alias, version_number)
    logger.info("registered %s version %s as %s@%s", model_dir, version_number, name, alias)
    return Registered(name, version_number, run.info.run_id, f"models:/{name}@{alias}")
