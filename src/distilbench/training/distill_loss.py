"""Task-specific distillation losses (Hinton et al. 2015; Sanh et al. 2019).

The teacher is frozen: its logits and hidden states are detached here, so a caller that forgets
``torch.no_grad()`` still never trains (or builds a graph through) the teacher.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def kd_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    targets: torch.Tensor,
    *,
    alpha: float,
    temperature: float,
    multilabel: bool = False,
    class_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """``alpha * hard + (1 - alpha) * T^2 * soft``.

    ``class_weights`` (imbalanced data, training.imbalance) weigh the hard term only: cross-entropy's
    per-class ``weight``, or BCE's per-label ``pos_weight``; the teacher's soft targets already carry
    what it learnt with the same weights.

    Multiclass: hard = cross-entropy on class ids; soft = KL(softmax(teacher/T) || softmax(student/T)),
    averaged over the batch. Multilabel (``targets`` float multi-hot): hard = BCE with logits; soft =
    per-label Bernoulli KL between sigmoid(teacher/T) and sigmoid(student/T), averaged over labels and
    batch. That KL is BCE against the soft targets minus their (constant) entropy: the same gradient as
    the BCE, but zero when the student matches the teacher, like the multiclass KL.

    The T^2 factor keeps the soft gradients' scale independent of T (Hinton et al. 2015, section 2).
    """
    _check_kd_args(student_logits, teacher_logits, alpha=alpha, temperature=temperature)
    teacher_logits = teacher_logits.detach().to(student_logits.dtype)
    if multilabel:
        hard = F.binary_cross_entropy_with_logits(
            student_logits, targets.to(student_logits.dtype), pos_weight=class_weights
        )
        soft = _bernoulli_kl(student_logits / temperature, teacher_logits / temperature)
    else:
        hard = F.cross_entropy(student_logits, targets.long(), weight=class_weights)
        soft = F.kl_div(
            F.log_softmax(student_logits / temperature, dim=-1),
            F.log_softmax(teacher_logits / temperature, dim=-1),
            reduction="batchmean",
            log_target=True,
        )
    return alpha * hard + (1.0 - alpha) * temperature**2 * soft


def hidden_cosine_loss(
    student_hidden: torch.Tensor, teacher_hidden: torch.Tensor, attention_mask: torch.Tensor
) -> torch.Tensor:
    """DistilBERT's L_cos: mean of ``1 - cos(student, teacher)`` over the non-padding tokens.

    Hidden states are ``[batch, tokens, width]``; the mask is ``[batch, tokens]`` (1 = real token).
    Padding positions carry arbitrary vectors, so they are left out rather than averaged in.
    """
    _check_hidden(student_hidden, teacher_hidden, attention_mask)
    keep = attention_mask.bool()
    teacher_hidden = teacher_hidden.detach().to(student_hidden.dtype)
    cosine = F.cosine_similarity(student_hidden[keep], teacher_hidden[keep], dim=-1)
    return (1.0 - cosine).mean()


def _check_hidden(
    student_hidden: torch.Tensor, teacher_hidden: torch.Tensor, attention_mask: torch.Tensor
) -> None:
    student_shape, teacher_shape = tuple(student_hidden.shape), tuple(teacher_hidden.shape)
    if student_shape[-1] != teacher_shape[-1]:
        raise ValueError(
            f"hidden widths differ: student {student_shape[-1]} vs teacher {teacher_shape[-1]}; "
            "the cosine loss needs a student of the teacher's hidden size"
        )
    if student_shape != teacher_shape:
        raise ValueError(f"hidden shapes differ: student {student_shape} vs teacher {teacher_shape}")
    if tuple(attention_mask.shape) != student_shape[:-1]:
        raise ValueError(
            f"attention_mask shape {tuple(attention_mask.shape)} "
            f"does not match hidden states {student_shape[:-1]}"
        )
    if not attention_mask.bool().any():
        raise ValueError("attention_mask has no real token: the hidden-state loss is undefined")


def hidden_mse_loss(
    student_hidden: torch.Tensor, teacher_hidden: torch.Tensor, attention_mask: torch.Tensor
) -> torch.Tensor:
    """TinyBERT's hidden-state MSE over the non-padding tokens (same shape rules as the cosine loss)."""
    _check_hidden(student_hidden, teacher_hidden, attention_mask)
    keep = attention_mask.bool()
    teacher_hidden = teacher_hidden.detach().to(student_hidden.dtype)
    return F.mse_loss(student_hidden[keep], teacher_hidden[keep])


HIDDEN_LOSSES = {"cosine": hidden_cosine_loss, "mse": hidden_mse_loss}


def teacher_confidence(teacher_logits: torch.Tensor, targets: torch.Tensor, temperature: float) -> dict:
    """How much the soft targets say (multiclass): at T, the mean top probability and entropy (nats; flat
    over C classes is ln C), and how often the teacher's argmax is wrong on its own training rows. Flat
    targets make KD act as label smoothing; they were measured at T = 2 on an under-trained teacher."""
    probabilities = F.softmax(teacher_logits.float() / temperature, dim=-1)
    entropy = -(probabilities * probabilities.clamp_min(1e-12).log()).sum(dim=-1)
    wrong = (teacher_logits.argmax(dim=-1) != targets.long()).float()
    return {
        "teacher_top_prob": float(probabilities.max(dim=-1).values.mean()),
        "teacher_entropy": float(entropy.mean()),
        "teacher_max_entropy": float(torch.log(torch.tensor(float(teacher_logits.shape[-1])))),
        "teacher_train_error": float(wrong.mean()),
    }


def _bernoulli_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """Mean over elements of KL(Bernoulli(sigmoid(teacher)) || Bernoulli(sigmoid(student)))."""
    soft_targets = torch.sigmoid(teacher_logits)
    cross_entropy = F.binary_cross_entropy_with_logits(student_logits, soft_targets, reduction="none")
    entropy = F.binary_cross_entropy_with_logits(teacher_logits, soft_targets, reduction="none")
    return (cross_entropy - entropy).mean()


def _check_kd_args(student: torch.Tensor, teacher: torch.Tensor, *, alpha: float, temperature: float) -> None:
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if student.shape != teacher.shape:
        raise ValueError(
            f"logit shapes differ: student {tuple(student.shape)} vs teacher {tuple(teacher.shape)}"
        )
