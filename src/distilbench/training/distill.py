"""Task-specific knowledge distillation as a small override of the fine-tuning loop."""

from __future__ import annotations

import logging

import numpy as np
import torch

from distilbench.config import DistillConfig
from distilbench.training.distill_loss import hidden_cosine_loss, kd_loss
from distilbench.training.loop import FineTuner, model_inputs

logger = logging.getLogger(__name__)


class Distiller(FineTuner):
    """Trains a student on α·hard-label loss + (1−α)·T²·soft-target loss from a fine-tuned teacher.

    The teacher's logits on the training split are computed once per fold and handed in (`teacher_logits`,
    row i = training example with index i), not recomputed every epoch. Only DistilBERT's optional
    hidden-state cosine term needs the teacher itself at every step.
    """

    def __init__(
        self,
        *args,
        teacher_logits: np.ndarray,
        distill: DistillConfig,
        teacher: torch.nn.Module | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.teacher_logits = torch.as_tensor(teacher_logits, dtype=torch.float32)
        self.distill = distill
        self.teacher = teacher.to(self.runtime.device).eval() if self._same_width(teacher) else None
        self._student_hidden: torch.Tensor | None = None

    def _same_width(self, teacher: torch.nn.Module | None) -> bool:
        """DistilBERT's cosine loss compares hidden states directly: only defined for equal widths."""
        if teacher is None:
            return False
        widths = (
            getattr(teacher.config, "hidden_size", None),
            getattr(self.model.config, "hidden_size", None),
        )
        if widths[0] != widths[1]:
            logger.warning(
                "%s: teacher width %s != student width %s; hidden-state cosine loss skipped",
                self.label,
                *widths,
            )
        return widths[0] == widths[1]

    @property
    def uses_hidden_states(self) -> bool:
        return self.teacher is not None and self.distill.cosine_weight > 0

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        if not self.uses_hidden_states:
            return super().forward(batch)
        outputs = self.model(**model_inputs(batch), output_hidden_states=True)
        self._student_hidden = outputs.hidden_states[-1]
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
        )
        if self.uses_hidden_states:
            with torch.no_grad():
                teacher_hidden = self.teacher(**model_inputs(batch), output_hidden_states=True).hidden_states[
                    -1
                ]
            cosine = hidden_cosine_loss(
                self._student_hidden.float(), teacher_hidden.float(), batch["attention_mask"]
            )
            loss = loss + self.distill.cosine_weight * cosine
        return loss
