"""Make a shallower student from a BERT-family teacher by copying some of its layers.

This is DistilBERT's initialisation (Sanh et al. 2019, section 3): the student has the teacher's
architecture with fewer encoder layers; embeddings, pooler and classifier are copied as they are, and
student layer ``j`` starts as teacher layer ``layers[j]``. It works on any model whose encoder layers
sit under ``encoder.layer.<i>.`` (BERT, RoBERTa, MPNet, ELECTRA, ...) or ``transformer.layer.<i>.``
(DistilBERT), by renaming state-dict keys, so no per-architecture code is needed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import torch
import transformers

from distilbench.config.settings import check_layers

logger = logging.getLogger(__name__)

# "<model prefix, e.g. bert. or distilbert.>encoder.layer.<i>.<rest>" (or transformer.layer for DistilBERT):
# only the encoder stack's index is renumbered; embeddings, pooler and classifier keys never match.
_LAYER_KEY = re.compile(
    r"^(?P<prefix>(?:.*\.)?(?:encoder|transformer)\.layer\.)(?P<index>\d+)(?P<rest>\..*)$"
)

# DistilBertConfig names the depth `n_layers`; every other family here says `num_hidden_layers`.
_DEPTH_FIELDS = ("n_layers", "num_hidden_layers")


def build_student(
    teacher: transformers.PreTrainedModel, layers: Sequence[int]
) -> transformers.PreTrainedModel:
    """A model of ``type(teacher)`` with ``len(layers)`` encoder layers, initialised from the teacher.

    Every student tensor is filled from the teacher (layers renumbered, everything else copied as is);
    a key left unfilled raises ``ValueError`` naming it rather than leaving random weights behind.
    """
    teacher_depth = _depth(teacher.config)
    layers = list(check_layers(list(layers), "layers", depth=teacher_depth))
    student = type(teacher)(_student_config(teacher.config, len(layers)))
    if getattr(teacher, "pooler", False) is None:
        student.pooler = None  # a mean-pooling encoder has no [CLS] pooler: neither has its student
    state = _remap_state_dict(teacher.state_dict(), layers)
    _load_exactly(student, state)
    student.to(device=teacher.device, dtype=teacher.dtype)
    student.train(teacher.training)
    logger.info(
        "built %d-layer %s from teacher layers %s of %d (%.1fM parameters)",
        len(layers),
        type(teacher).__name__,
        layers,
        teacher_depth,
        student.num_parameters() / 1e6,
    )
    return student


def _depth_field(config: transformers.PretrainedConfig) -> str:
    for field in _DEPTH_FIELDS:
        if field in config.to_dict():
            return field
    raise ValueError(f"{type(config).__name__} has none of {_DEPTH_FIELDS}: not a BERT-family encoder config")


def _depth(config: transformers.PretrainedConfig) -> int:
    return int(getattr(config, _depth_field(config)))


def _student_config(config: transformers.PretrainedConfig, depth: int) -> transformers.PretrainedConfig:
    # A round trip through a dict gives an independent copy: the teacher's config is never mutated.
    student_config = type(config).from_dict(config.to_dict())
    setattr(student_config, _depth_field(config), depth)
    return student_config


def _remap_state_dict(state: dict[str, torch.Tensor], layers: Sequence[int]) -> dict[str, torch.Tensor]:
    """Teacher tensors under student names: kept layers renumbered, dropped layers left out."""
    student_index = {teacher_index: j for j, teacher_index in enumerate(layers)}
    remapped: dict[str, torch.Tensor] = {}
    saw_layer = False
    for key, tensor in state.items():
        match = _LAYER_KEY.match(key)
        if match is None:
            remapped[key] = tensor
            continue
        saw_layer = True
        j = student_index.get(int(match["index"]))
        if j is not None:
            remapped[f"{match['prefix']}{j}{match['rest']}"] = tensor
    if not saw_layer:
        raise ValueError(
            "no encoder layer found in the teacher's state dict (expected keys containing "
            "'encoder.layer.<i>.' or 'transformer.layer.<i>.'): unsupported architecture"
        )
    return remapped


def _load_exactly(student: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    expected = student.state_dict()
    unmapped = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if unmapped or unexpected:
        raise ValueError(
            f"student/teacher key mismatch: student tensors with no teacher source {unmapped}; "
            f"teacher tensors with no student slot {unexpected}"
        )
    wrong_shape = [key for key, tensor in state.items() if tensor.shape != expected[key].shape]
    if wrong_shape:
        raise ValueError(f"student/teacher shape mismatch for {wrong_shape}")
    # strict=True re-checks what we just checked; copying (not assign) keeps the teacher's tensors unshared.
    student.load_state_dict(state, strict=True)
