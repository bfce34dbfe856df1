"""The small models users deploy instead of a transformer: fitted by scikit-learn on raw texts.

- `linear`: TF-IDF of word n-grams (sublinear tf) and a linear SVM or logistic regression.
- `static`: a static embedding table distilled from a sentence-transformers checkpoint by model2vec (no
  labels: each vocabulary token is encoded once by the checkpoint, then reduced by PCA), mean-pooled per
  text, and a logistic regression on those vectors.

Both answer like the torch rows: :meth:`ShallowModel.predict_logits` gives one score per class (a binary
classifier's single margin becomes two columns whose softmax is its sigmoid), so the fold's metrics, the
paired tests and serving treat every row alike. Multilabel tasks fit one classifier per label.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

import joblib
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.svm import LinearSVC

from distilbench.config.settings import ModelSpec
from distilbench.core.atomic import atomic_directory
from distilbench.core.paths import ProjectPaths
from distilbench.core.stop import check_stop

if TYPE_CHECKING:
    from model2vec import StaticModel

logger = logging.getLogger(__name__)

CLASSIFIER_FILE = "classifier.joblib"  # a shallow model's folder: this, and for `static` its embeddings
STATIC_DIR = "static"
DISTILLED_FILE = "distilled.json"  # beside a cached static model: what it was made from, in how long
MAX_ITER = 5000  # logistic regression's solver steps: the default 100 stops short on TF-IDF's many features


def linear_classifier(spec: ModelSpec, balanced: bool = False):
    """`balanced`: scikit-learn's class_weight="balanced" (n / (k * count) per class), the weights the torch
    rows' losses get on imbalanced data (training.imbalance)."""
    class_weight = "balanced" if balanced else None
    if spec.classifier == "svm":
        return LinearSVC(C=spec.C, class_weight=class_weight)
    return LogisticRegression(C=spec.C, max_iter=MAX_ITER, class_weight=class_weight)


def per_label(classifier, multilabel: bool):
    """One classifier per label for a multilabel task (scikit-learn's one-vs-rest on a multi-hot target)."""
    return OneVsRestClassifier(classifier) if multilabel else classifier


def as_logits(scores: np.ndarray) -> np.ndarray:
    """scikit-learn's decision function as one column per class: a binary margin d becomes [-d/2, d/2],
    whose softmax is sigmoid(d) (a logistic regression's own probability)."""
    scores = np.asarray(scores, dtype=np.float32)
    return np.stack([-scores / 2, scores / 2], axis=1) if scores.ndim == 1 else scores


@dataclass
class ShallowModel:
    """A fitted text classifier: `featurize` turns texts into vectors, `classifier` scores them."""

    classifier: Pipeline | object
    static: StaticModel | None = None  # kind static: the distilled embeddings

    def featurize(self, texts):
        return (
            list(texts) if self.static is None else self.static.encode(list(texts), show_progress_bar=False)
        )

    def fit(self, texts, targets: np.ndarray) -> ShallowModel:
        self.classifier.fit(self.featurize(texts), targets)
        return self

    def predict_logits(self, texts) -> np.ndarray:
        return as_logits(self.classifier.decision_function(self.featurize(texts)))

    @property
    def parameters(self) -> int:
        """Learnt numbers: the classifier's weights and, for a static model, its embedding table."""
        final = self.classifier[-1] if isinstance(self.classifier, Pipeline) else self.classifier
        estimators = getattr(final, "estimators_", [final])
        weights = sum(e.coef_.size + np.size(e.intercept_) for e in estimators)
        table = 0 if self.static is None else int(np.prod(self.static.embedding.shape))
        return int(weights + table)

    def save(self, directory: Path) -> float:
        """Write the folder `load` reads; returns its size on disk in MB (what a user would ship)."""
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.classifier, directory / CLASSIFIER_FILE)
        if self.static is not None:
            self.static.save_pretrained(str(directory / STATIC_DIR))
        return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file()) / 1e6

    @classmethod
    def load(cls, directory: Path) -> ShallowModel:
        static_dir = Path(directory) / STATIC_DIR
        static = None
        if static_dir.is_dir():
            from model2vec import StaticModel

            static = StaticModel.from_pretrained(str(static_dir))
        # our own file, written by save(): joblib (pickle) is how scikit-learn documents persisting models
        return cls(joblib.load(Path(directory) / CLASSIFIER_FILE), static)


def new_model(
    spec: ModelSpec, multilabel: bool, static: StaticModel | None = None, balanced: bool = False
) -> ShallowModel:
    """An unfitted model of the spec's kind; a static one needs its distilled embeddings. `balanced`:
    class-weighted (each label's own classifier, for multilabel)."""
    if spec.kind == "linear":
        vectorizer = TfidfVectorizer(ngram_range=(1, spec.ngram_max), min_df=spec.min_df, sublinear_tf=True)
        classifier = per_label(linear_classifier(spec, balanced), multilabel)
        return ShallowModel(make_pipeline(vectorizer, classifier))
    static_spec = dataclasses.replace(spec, classifier="logreg")  # a static model's classifier is logistic
    classifier = per_label(linear_classifier(static_spec, balanced), multilabel)
    return ShallowModel(classifier, static)


# -- the static embeddings: distilled once per checkpoint and PCA size, then read from the cache ------------
def static_cache_dir(checkpoint: str, pca_dims: int | None, assets: Path | None = None) -> Path:
    """Where the static model of this checkpoint lives, among the project cache's derived assets (so
    cross-validation and the champion's refit share it): keyed by the checkpoint, the PCA size and the
    model2vec version that made it."""
    key = json.dumps({"checkpoint": checkpoint, "pca_dims": pca_dims, "model2vec": version("model2vec")})
    assets = ProjectPaths.current().assets if assets is None else assets
    return Path(assets) / "static" / hashlib.sha256(key.encode()).hexdigest()[:16]


def distilled_static(
    checkpoint: str, pca_dims: int | None, assets: Path | None = None
) -> tuple[StaticModel, float]:
    """model2vec's static model of a local sentence-transformers checkpoint, and the seconds its
    distillation took (measured when it was made; a cached one reports those same seconds)."""
    from model2vec import StaticModel

    folder = static_cache_dir(checkpoint, pca_dims, assets)
    record = folder / DISTILLED_FILE
    if not record.is_file():
        seconds = distil_into(folder, checkpoint, pca_dims)
        logger.info(
            "distilled static embeddings from %s in %.1f s (cached in %s)", checkpoint, seconds, folder
        )
    seconds = json.loads(record.read_text(encoding="utf-8"))["seconds"]
    return StaticModel.from_pretrained(str(folder)), float(seconds)


def distil_into(folder: Path, checkpoint: str, pca_dims: int | None) -> float:
    """model2vec's `distill(model_name=checkpoint, pca_dims=...)`, with a stop check before each batch of
    the checkpoint's ~30k vocabulary tokens it encodes (28-44 s in all on 2 cores): the model is loaded
    here, as `distill` loads it, to hook its forward pass."""
    from model2vec.distill import distill_from_model
    from transformers import AutoModel, AutoTokenizer

    start = time.perf_counter()
    model = AutoModel.from_pretrained(checkpoint)
    model.register_forward_pre_hook(lambda *_: check_stop(f"distilling {checkpoint}"))
    tokenizer = AutoTokenizer.from_pretrained(checkpoint, use_fast=True)
    static = distill_from_model(model=model, tokenizer=tokenizer, pca_dims=pca_dims)
    seconds = time.perf_counter() - start
    with atomic_directory(folder) as staging:  # a crash mid-write leaves no half cache to trust
        static.save_pretrained(str(staging))
        record = {"checkpoint": checkpoint, "pca_dims": pca_dims, "seconds": seconds}
        (staging / DISTILLED_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")
    return seconds
