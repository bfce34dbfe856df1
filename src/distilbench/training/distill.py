"""Task-specific knowledge distillation as a small override of the fine-tuning loop."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch

from distilbench.config.settings import DistillConfig
from distilbench.training.distill_loss import HIDDEN_LOSSES, kd_loss
from distilbench.training.loop import FineTuner, model_inputs

logger = logging.getLogger(__name__)


class Distiller(FineTuner):
    """Trains a student on α·hard-label loss + (1−α)·T²·soft-target loss from a fine-tuned teacher,
    plus, when `distill.hidden_weight` > 0, a hidden-state term against the teacher's layers.

    The teacher's logits on the training split are computed once per fold and handed in (`teacher_logits`,
    row i = training example with index i), not recomputed every epoch. Only the hidden-state term needs
    the teacher itself at every step. `layer_map[j]` is the teacher layer student layer j was copied from.
    """

    def __init__(
        self,
        *args,
        teacher_logits: np.ndarray,
        distill: DistillConfig,
        teacher: torch.nn.Module | None = None,
        layer_map: Sequence[int] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.teacher_logits = torch.as_tensor(teacher_logits, dtype=torch.float32)
        self.distill = distill
        self.teacher = teacher.to(self.runtime.device).eval() if self._same_width(teacher) else None
        self.layer_pairs = self._layer_pairs(layer_map)
        self._student_hidden: tuple[torch.Tensor, ...] = ()

    def _same_width(self, teacher: torch.nn.Module | None) -> bool:
        """Hidden states are compared directly: only defined for equal widths."""
        if teacher is None:
            return False
        widths = (
            getattr(teacher.config, "hidden_size", None),
            getattr(self.model.config, "hidden_size", None),
        )
        if widths[0] != widths[1]:
            logger.warning(
                "%s: teacher width %s != student width %s; hidden-state loss skipped", self.label, *widths
            )
        return widths[0] == widths[1]

    def _layer_pairs(self, layer_map: Sequence[int] | None) -> list[tuple[int, int]]:
        """(student, teacher) indices into `hidden_states` (index 0 is the embeddings, layer i is i + 1)."""
        if self.distill.hidden_layers == "mapped" and layer_map:
            return [(j + 1, t + 1) for j, t in enumerate(layer_map)]
        return [(-1, -1)]

    @property
    def uses_hidden_states(self) -> bool:
        return self.teacher is not None and self.distill.hidden_weight > 0

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        if not self.uses_hidden_states:
            return super().forward(batch)
        outputs = self.model(**model_inputs(batch), output_hidden_states=True)
        self._student_hidden = outputs.hidden_states
        return outputs.logits

    def compute_loss(self, batch: dict[str, torch.Tensor], logits: torch.Tensor) -> torch.Tensor:
        teacher_logits = self.teacher_logits[batch["index"].cpu()].to(logits.device)
        loss = kd_loss(
            logits,
            teacher_logits,
            batch["labels"],
            alpha=self.distill.alpha,
            temperature=self.distill.temperature,
            multilabel=self.multilabel,
            class_weights=self.class_weights,
        )
        if self.uses_hidden_states:
            loss = loss + self.distill.hidden_weight * self._hidden_loss(batch)
        return loss

    def _hidden_loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        with torch.no_grad():
            teacher_hidden = self.teacher(**model_inputs(batch), output_hidden_states=True).hidden_states
        loss_fn = HIDDEN_LOSSES[self.distill.hidden_loss]
        losses = [
            loss_fn(self._student_hidden[s].float(), teacher_hidden[t].float(), batch["attention_mask"])
            for s, t in self.layer_pairs
        ]
        return torch.stack(losses).mean()
