"""Classify texts with a fine-tuned classifier: a saved folder or a model in the MLflow registry.

    distilbench predict --model models:/distilbench-bbc@champion "some text" "another text"
    distilbench predict --model path/to/saved/model < texts.jsonl > predictions.jsonl

A saved folder (the select stage writes ``models/<dataset>/``) holds the model, its tokenizer and
``serving.json`` (label names, max_length, truncation, multilabel, runtime and the model's kind: what the
registry stores with the model). A linear or static model's folder holds its scikit-learn classifier (and
the static embeddings) instead of weights and a tokenizer.
Output, one JSON object per text: {"text": ..., "label": ..., "probabilities": {label: p, ...}}; for a
multilabel model "label" is the list of labels at or above each label's own threshold (chosen on the refit's
inner validation split, kept in serving.json), and never empty when the model was trained on texts that all
had a label (its top-scoring label then; training.decision).
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO

from distilbench.config.settings import MODEL_KINDS, SHALLOW_KINDS, TRUNCATIONS
from distilbench.config.variants import FP32, ONNX_FILES, TORCH_INT8, VARIANTS
from distilbench.core.errors import AssetError, DataError
from distilbench.data.files import jsonl_records
from distilbench.models.truncation import tokenize

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import torch

    from distilbench.models.compress import OnnxClassifier
    from distilbench.training.decision import LabelDecision

logger = logging.getLogger(__name__)

SETTINGS_FILE = "serving.json"  # beside the weights: what a saved folder needs to be served
PROBABILITY = "probability:"  # prefix of the per-class columns of a prediction table
THRESHOLD = 0.5  # multilabel: a label is predicted at or above this probability
BATCH_SIZE = 32  # texts per forward pass
REGISTRY_SCHEMES = ("models:/", "runs:/")
SERVABLE_KINDS = tuple(k for k in MODEL_KINDS if k != "cnn")  # predict loads no text CNN
# a saved folder has one: a transformer's config.json, or a linear or static model's classifier file
MODEL_FILES = ("config.json", "classifier.joblib")
OPTIONAL_SETTINGS = ("thresholds", "at_least_one")  # serving.json keys an older select did not write


@dataclass(frozen=True)
class ServingSettings:
    labels: tuple[str, ...]  # class names in logit order
    max_length: int  # tokens per text; longer texts are truncated, as in training (linear, static: unused)
    multilabel: bool = False
    runtime: str = FP32  # one of VARIANTS
    kind: str = "transformer"  # a ModelSpec kind: which loader reads the folder
    truncation: str = "head"  # which tokens of a longer text are kept, as in training (models.truncation)
    # multilabel: each label's threshold (empty: THRESHOLD for all) and the at-least-one-label rule
    thresholds: tuple[float, ...] = ()
    at_least_one: bool = False

    def decision(self) -> LabelDecision:
        """How this multilabel model's probabilities become labels (training.decision)."""
        from distilbench.training.decision import LabelDecision

        if self.thresholds:
            return LabelDecision(tuple(self.thresholds), self.at_least_one)
        return LabelDecision.fixed(THRESHOLD, len(self.labels), self.at_least_one)

    def write(self, directory: Path) -> Path:
        path = Path(directory) / SETTINGS_FILE
        record = {**asdict(self), "labels": list(self.labels), "thresholds": list(self.thresholds)}
        path.write_text(json.dumps(record, indent=2), encoding="utf-8")
        return path

    @classmethod
    def read(cls, directory: Path) -> ServingSettings:
        """The folder's serving.json, as select writes it; a folder without one, or with one written by an
        older version, is refused rather than served on guessed settings."""
        path = Path(directory) / SETTINGS_FILE
        if not path.is_file():
            raise AssetError(
                f"model {str(directory)!r}: no {SETTINGS_FILE} in it (select saves models with one); "
                "rerun select"
            )
        saved = json.loads(path.read_text(encoding="utf-8"))
        # the multilabel decision came later: a folder without it decides as before (0.5, no rule)
        missing = [f.name for f in fields(cls) if f.name not in saved and f.name not in OPTIONAL_SETTINGS]
        if missing:
            raise AssetError(f"{path}: written by an older select (no {', '.join(missing)}); rerun select")
        for name, known in (("runtime", VARIANTS), ("kind", SERVABLE_KINDS), ("truncation", TRUNCATIONS)):
            if saved[name] not in known:
                raise AssetError(f"{path}: {name} {saved[name]!r} is not one of {list(known)}")
        thresholds = tuple(float(t) for t in saved.get("thresholds", ()))
        if thresholds and len(thresholds) != len(saved["labels"]):
            raise AssetError(
                f"{path}: {len(thresholds)} thresholds for {len(saved['labels'])} labels; rerun select"
            )
        known = {f.name: saved[f.name] for f in fields(cls) if f.name in saved}
        return cls(
            **known
            | {
                "labels": tuple(saved["labels"]),
                "max_length": int(saved["max_length"]),
                "thresholds": thresholds,
            }
        )


@dataclass(frozen=True)
class Prediction:
    text: str
    label: str | list[str]
    probabilities: dict[str, float]

    def record(self) -> dict:
        return {"text": self.text, "label": self.label, "probabilities": self.probabilities}


class Predictor(Protocol):
    def predict(self, texts: Sequence[str]) -> list[Prediction]: ...


class FolderClassifier:
    """What every saved folder's classifier does with its logits: probabilities, labels, tables."""

    settings: ServingSettings

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """One row of float logits per text (at least one text)."""
        raise NotImplementedError

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, one column per label (softmax; sigmoid for a multilabel model)."""
        import numpy as np

        if not texts:
            return np.zeros((0, len(self.settings.labels)), dtype=np.float32)
        return as_probabilities(self.logits(texts), self.settings.multilabel)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        labels = self.settings.labels
        probabilities = self.probabilities(texts)
        chosen = self.settings.decision().apply(probabilities) if self.settings.multilabel else None
        predictions = []
        for i, (text, row) in enumerate(zip(texts, probabilities, strict=True)):
            if chosen is not None:
                label: str | list[str] = [name for name, on in zip(labels, chosen[i], strict=True) if on]
            else:
                label = labels[int(row.argmax())]
            predictions.append(
                Prediction(text, label, {n: float(p) for n, p in zip(labels, row, strict=True)})
            )
        return predictions

    def predict_frame(self, texts: Sequence[str]) -> pd.DataFrame:
        """The predictions as a table: `label`, then one `probability:<label>` column per class."""
        return predictions_frame(self.predict(texts), self.settings.labels)


def as_probabilities(logits: np.ndarray, multilabel: bool) -> np.ndarray:
    """Softmax over classes; a sigmoid per label for a multilabel model."""
    import numpy as np
    from scipy.special import expit, softmax

    return (expit(logits) if multilabel else softmax(logits, axis=-1)).astype(np.float32)


class ShallowClassifier(FolderClassifier):
    """A linear or static model's folder (models.shallow): raw texts in, no tokenizer of its own."""

    def __init__(self, model, settings: ServingSettings):
        self.model = model
        self.settings = settings

    @classmethod
    def from_dir(cls, directory: Path, settings: ServingSettings | None = None) -> ShallowClassifier:
        from distilbench.models.shallow import ShallowModel

        settings = settings or ServingSettings.read(directory)
        return cls(ShallowModel.load(directory), settings)

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        return self.model.predict_logits(list(texts))


class TextClassifier(FolderClassifier):
    """A model and its tokenizer in eval mode on the CPU: texts in, probabilities and labels out.

    `model` is a torch classifier, or an ONNX Runtime session (compress.OnnxClassifier) for a folder
    whose serving.json says an ONNX runtime.
    """

    def __init__(
        self,
        model: torch.nn.Module | OnnxClassifier,
        tokenizer,
        settings: ServingSettings,
    ):
        import torch

        self.model = model.cpu().eval() if isinstance(model, torch.nn.Module) else model
        self.tokenizer = tokenizer
        self.settings = settings

    @classmethod
    def from_dir(cls, directory: Path, settings: ServingSettings | None = None) -> TextClassifier:
        from transformers import AutoTokenizer

        from distilbench.models.pooling import load_classifier  # with the head it was trained with

        directory = check_model_dir(directory)
        # before the weights load: a refusal comes at once
        settings = settings or ServingSettings.read(directory)
        model = load_classifier(directory)
        served = served_model(model, directory, settings.runtime)
        return cls(served, AutoTokenizer.from_pretrained(directory), settings)

    def batch_logits(self, inputs: dict) -> np.ndarray:
        import torch

        if isinstance(self.model, torch.nn.Module):
            with torch.no_grad():
                return self.model(**inputs).logits.float().numpy()
        return self.model.predict_logits(inputs)  # an ONNX Runtime session

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        rows = []
        for start in range(0, len(texts), BATCH_SIZE):
            chunk = list(texts[start : start + BATCH_SIZE])
            tokens = tokenize(self.tokenizer, chunk, self.settings.max_length, self.settings.truncation)
            rows.append(
                self.batch_logits(dict(self.tokenizer.pad(tokens, padding="longest", return_tensors="pt")))
            )
        return np.concatenate(rows)


def served_model(model: torch.nn.Module, directory: Path, runtime: str) -> torch.nn.Module | OnnxClassifier:
    """What answers for a folder: its fp32 model, that model quantized to int8, or its ONNX file."""
    import torch

    from distilbench.models.compress import OnnxClassifier, quantize_int8

    if runtime == TORCH_INT8:
        return quantize_int8(model)
    if runtime in ONNX_FILES:
        path = Path(directory) / ONNX_FILES[runtime]
        if not path.is_file():
            raise AssetError(
                f"model {str(directory)!r}: serving.json says {runtime}, but {path.name} is missing"
            )
        return OnnxClassifier(path, threads=torch.get_num_threads())
    return model


def predictions_frame(predictions: Sequence[Prediction], labels: Sequence[str]) -> pd.DataFrame:
    import pandas as pd

    columns = ["label", *(PROBABILITY + name for name in labels)]
    rows = [[p.label, *(p.probabilities[name] for name in labels)] for p in predictions]
    return pd.DataFrame(rows, columns=columns)


def frame_predictions(texts: Sequence[str], frame: pd.DataFrame) -> list[Prediction]:
    """Back from a prediction table (what a registered model returns) to one Prediction per text."""
    names = [c.removeprefix(PROBABILITY) for c in frame.columns if c.startswith(PROBABILITY)]
    predictions = []
    for text, (_, row) in zip(texts, frame.iterrows(), strict=True):
        label = row["label"] if isinstance(row["label"], str) else [str(x) for x in row["label"]]
        predictions.append(Prediction(text, label, {n: float(row[PROBABILITY + n]) for n in names}))
    return predictions


# MLflow's advice on every PythonModel without type hints on predict: the model's signature is explicit
# (registry.register_classifier), so it would only clutter predict's stderr. (A filter does not hold it:
# loading sets its own warning filters.)
TYPE_HINT_ADVICE = ("Add type hints to the `predict` method", "Any type hint is inferred as AnyType")


def _warn_again(caught: list[warnings.WarningMessage]) -> None:
    for warning in caught:
        if not any(advice in str(warning.message) for advice in TYPE_HINT_ADVICE):
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


class RegisteredClassifier:
    """A model from the MLflow registry (or a run), loaded as pyfunc: the same predictions as its folder."""

    def __init__(self, uri: str):
        import mlflow
        from mlflow.exceptions import MlflowException

        try:
            with warnings.catch_warnings(record=True) as caught:
                self.model = mlflow.pyfunc.load_model(uri)
            _warn_again(caught)
        except MlflowException as error:
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            store = mlflow.get_tracking_uri()
            raise AssetError(
                f"model {uri!r}: cannot be loaded from the MLflow store {store} ({first}); "
                "check the name and alias (or version), and MLFLOW_TRACKING_URI"
            ) from error

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        import pandas as pd

        if not texts:
            return []
        return frame_predictions(texts, self.model.predict(pd.DataFrame({"text": list(texts)})))


def check_model_dir(directory: Path | str) -> Path:
    path = Path(directory)
    if not path.is_dir():
        raise AssetError(
            f"model {str(directory)!r}: no such folder; give a saved model's folder "
            "or a registered model (models:/<name>@<alias>)"
        )
    if not any((path / name).is_file() for name in MODEL_FILES):
        raise AssetError(
            f"model {str(directory)!r}: not a saved model (none of {', '.join(MODEL_FILES)} in it)"
        )
    return path


def load_folder(directory: Path | str) -> FolderClassifier:
    """A saved folder's classifier, of the kind its serving.json names."""
    directory = check_model_dir(directory)
    settings = ServingSettings.read(directory)
    loader = ShallowClassifier if settings.kind in SHALLOW_KINDS else TextClassifier
    return loader.from_dir(directory, settings)


def load_predictor(model: str) -> Predictor:
    """A registered model (models:/name@alias, models:/name/3, runs:/id/model) or a saved folder."""
    if model.startswith(REGISTRY_SCHEMES):
        return RegisteredClassifier(model)
    return load_folder(model)


# -- JSON Lines in and out ---------------------------------------------------------------------------------
def read_texts(lines: Iterable[str], origin: str = "<stdin>") -> list[str]:
    """The `text` field of each JSON Lines record; blank lines are skipped. The first bad line stops it
    with a DataError naming the line (1-based) and the field."""
    texts = []
    for number, record in jsonl_records(lines, origin):
        if "text" not in record:
            keys = ", ".join(repr(k) for k in record) or "none"
            raise DataError(f"{origin}, line {number}, field 'text': missing (the fields are {keys})")
        if not isinstance(record["text"], str):
            raise DataError(f"{origin}, line {number}, field 'text': {record['text']!r} is not a string")
        texts.append(record["text"])
    return texts


def json_lines(predictions: Iterable[Prediction]) -> Iterator[str]:
    for prediction in predictions:
        yield json.dumps(prediction.record(), ensure_ascii=False)


def predict(model: str, texts: Sequence[str], source: TextIO, sink: TextIO) -> int:
    """`distilbench predict`: the texts given, else JSON Lines from `source`; JSON Lines to `sink`.

    The input is read and checked before the model loads, so a bad line fails at once. Returns how many
    texts were classified.
    """
    texts = list(texts) if texts else read_texts(source, getattr(source, "name", "<stdin>"))
    predictions = load_predictor(model).predict(texts) if texts else []
    for line in json_lines(predictions):
        sink.write(line + "\n")
    sink.flush()
    return len(predictions)
