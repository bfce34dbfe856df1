from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from distilbench.training.distill_loss import hidden_cosine_loss, kd_loss


@pytest.fixture
def logits() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    return torch.randn(4, 3), torch.randn(4, 3)


def _hand_kl(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> float:
    """KL(p_teacher || p_student) at temperature T, summed over classes and averaged over rows."""
    total = 0.0
    for s_row, t_row in zip(student.tolist(), teacher.tolist(), strict=True):
        p = [math.exp(v / temperature) for v in t_row]
        q = [math.exp(v / temperature) for v in s_row]
        p = [v / sum(p) for v in p]
        q = [v / sum(q) for v in q]
        total += sum(pi * math.log(pi / qi) for pi, qi in zip(p, q, strict=True))
    return total / len(student)


def test_alpha_one_is_plain_cross_entropy(logits) -> None:
    student, teacher = logits
    targets = torch.tensor([0, 2, 1, 1])
    loss = kd_loss(student, teacher, targets, alpha=1.0, temperature=3.0)
    assert torch.allclose(loss, F.cross_entropy(student, targets))


def test_alpha_one_is_plain_bce_for_multilabel(logits) -> None:
    student, teacher = logits
    targets = torch.tensor([[1, 0, 1], [0, 0, 1], [1, 1, 1], [0, 0, 0]], dtype=torch.float32)
    loss = kd_loss(student, teacher, targets, alpha=1.0, temperature=3.0, multilabel=True)
    assert torch.allclose(loss, F.binary_cross_entropy_with_logits(student, targets))


@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_alpha_zero_is_t_squared_kl(logits, temperature: float) -> None:
    student, teacher = logits
    loss = kd_loss(student, teacher, torch.zeros(4, dtype=torch.long), alpha=0.0, temperature=temperature)
    assert loss.item() == pytest.approx(temperature**2 * _hand_kl(student, teacher, temperature), rel=1e-5)


def test_alpha_mixes_the_two_parts(logits) -> None:
    student, teacher = logits
    targets = torch.tensor([0, 2, 1, 1])
    hard = kd_loss(student, teacher, targets, alpha=1.0, temperature=2.0)
    soft = kd_loss(student, teacher, targets, alpha=0.0, temperature=2.0)
    mixed = kd_loss(student, teacher, targets, alpha=0.3, temperature=2.0)
    assert torch.allclose(mixed, 0.3 * hard + 0.7 * soft)


def test_multilabel_soft_part_matches_t_squared_bernoulli_kl(logits) -> None:
    student, teacher = logits
    temperature = 2.0
    p, q = torch.sigmoid(teacher / temperature), torch.sigmoid(student / temperature)
    kl = (p * (p / q).log() + (1 - p) * ((1 - p) / (1 - q)).log()).mean()
    loss = kd_loss(student, teacher, torch.zeros(4, 3), alpha=0.0, temperature=temperature, multilabel=True)
    assert torch.allclose(loss, temperature**2 * kl, atol=1e-6)


@pytest.mark.parametrize("multilabel", [False, True])
def test_soft_loss_is_zero_when_student_matches_teacher(logits, multilabel: bool) -> None:
    _, teacher = logits
    targets = torch.zeros(4, 3) if multilabel else torch.zeros(4, dtype=torch.long)
    loss = kd_loss(teacher.clone(), teacher, targets, alpha=0.0, temperature=4.0, multilabel=multilabel)
    assert loss.item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("multilabel", [False, True])
def test_gradients_reach_the_student_and_never_the_teacher(logits, multilabel: bool) -> None:
    student, teacher = (t.clone().requires_grad_(True) for t in logits)
    targets = torch.ones(4, 3) if multilabel else torch.tensor([0, 2, 1, 1])
    kd_loss(student, teacher, targets, alpha=0.5, temperature=2.0, multilabel=multilabel).backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None


@pytest.mark.parametrize(("alpha", "temperature"), [(-0.1, 1.0), (1.1, 1.0), (0.5, 0.0), (0.5, -2.0)])
def test_bad_alpha_or_temperature_is_named(logits, alpha: float, temperature: float) -> None:
    student, teacher = logits
    with pytest.raises(ValueError, match="alpha" if not 0 <= alpha <= 1 else "temperature"):
        kd_loss(student, teacher, torch.zeros(4, dtype=torch.long), alpha=alpha, temperature=temperature)


def test_mismatched_logit_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="logit shapes"):
        kd_loss(
            torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2, dtype=torch.long), alpha=0.5, temperature=1.0
        )


def test_cosine_loss_is_zero_for_identical_hidden_states() -> None:
    hidden = torch.randn(2, 5, 8)
    loss = hidden_cosine_loss(hidden.clone(), hidden, torch.ones(2, 5))
    assert loss.item() == pytest.approx(0.0, abs=1e-6)


def test_cosine_loss_ignores_padding_positions() -> None:
    torch.manual_seed(0)
    teacher = torch.randn(2, 5, 8)
    student = teacher.clone()
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 0]])
    student[mask == 0] = -teacher[mask == 0]  # padding disagrees completely; it must not count
    assert hidden_cosine_loss(student, teacher, mask).item() == pytest.approx(0.0, abs=1e-6)


def test_cosine_loss_averages_over_real_tokens() -> None:
    teacher = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [5.0, 5.0]]])
    student = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [9.0, 9.0]]])  # cos 1, cos 0, then padding
    loss = hidden_cosine_loss(student, teacher, torch.tensor([[1, 1, 0]]))
    assert loss.item() == pytest.approx(0.5)


def test_cosine_loss_sends_no_gradient_to_the_teacher() -> None:
    student = torch.randn(1, 3, 4, requires_grad=True)
    teacher = torch.randn(1, 3, 4, requires_grad=True)
    hidden_cosine_loss(student, teacher, torch.ones(1, 3)).backward()
    assert student.grad is not None and teacher.grad is None


def test_cosine_loss_needs_matching_widths() -> None:
    with pytest.raises(ValueError, match="widths differ"):
        hidden_cosine_loss(torch.zeros(1, 3, 8), torch.zeros(1, 3, 16), torch.ones(1, 3))


def test_hidden_mse_loss_averages_squared_errors_over_real_tokens_only():
    from distilbench.training.distill_loss import hidden_mse_loss

    student = torch.tensor([[[1.0, 1.0], [0.0, 0.0], [9.0, 9.0]]])
    teacher = torch.tensor([[[0.0, 1.0], [0.0, 2.0], [0.0, 0.0]]])  # the padded third token differs most
    # real tokens: squared errors (1, 0) and (0, 4) -> mean 5 / 4
    assert hidden_mse_loss(student, teacher, torch.tensor([[1, 1, 0]])).item() == pytest.approx(1.25)


def test_teacher_confidence_of_flat_and_of_confident_soft_targets():
    import math

    from distilbench.training.distill_loss import teacher_confidence

    flat = teacher_confidence(torch.zeros(4, 5), torch.tensor([0, 1, 2, 3]), temperature=2.0)
    assert flat["teacher_top_prob"] == pytest.approx(0.2)
    assert flat["teacher_entropy"] == pytest.approx(math.log(5)) == pytest.approx(flat["teacher_max_entropy"])
    logits = torch.tensor([[10.0, 0.0], [0.0, 10.0]])  # right on row 0, wrong on row 1 (label 0)
    sharp = teacher_confidence(logits, torch.tensor([0, 0]), temperature=1.0)
    top = 1 / (1 + math.exp(-10))
    assert sharp["teacher_top_prob"] == pytest.approx(top)
    entropy = -(top * math.log(top) + (1 - top) * math.log(1 - top))
    assert sharp["teacher_entropy"] == pytest.approx(entropy, rel=1e-3)  # float32 softmax
    assert sharp["teacher_train_error"] == pytest.approx(0.5)
