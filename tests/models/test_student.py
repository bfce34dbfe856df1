from __future__ import annotations

import re

import pytest
import torch
from transformers import AutoModelForSequenceClassification, PreTrainedModel

from distilbench.models.student import build_student
from tests.models.tiny import tiny_bert

LAYER = re.compile(r"(?:encoder|transformer)\.layer\.(\d+)\.")


def _by_layer(
    state: dict[str, torch.Tensor],
) -> tuple[dict[str, torch.Tensor], dict[int, dict[str, torch.Tensor]]]:
    """Split a state dict into non-layer tensors and, per layer index, that layer's tensors by local name."""
    shared: dict[str, torch.Tensor] = {}
    layers: dict[int, dict[str, torch.Tensor]] = {}
    for key, tensor in state.items():
        match = LAYER.search(key)
        if match is None:
            shared[key] = tensor
        else:
            layers.setdefault(int(match[1]), {})[key[match.end() :]] = tensor
    return shared, layers


def test_student_copies_embeddings_chosen_layers_and_head(teacher: PreTrainedModel) -> None:
    layers = [0, 3]
    student = build_student(teacher, layers)

    assert type(student) is type(teacher)
    assert student.config.num_hidden_layers == 2  # DistilBERT's n_layers, through its attribute map
    teacher_shared, teacher_layers = _by_layer(teacher.state_dict())
    student_shared, student_layers = _by_layer(student.state_dict())
    assert sorted(student_layers) == [0, 1]
    assert student_shared.keys() == teacher_shared.keys()
    assert any("embeddings" in key for key in student_shared)
    assert any("classifier" in key for key in student_shared)
    for key, tensor in teacher_shared.items():
        assert torch.equal(student_shared[key], tensor), key
    for j, i in enumerate(layers):
        assert student_layers[j].keys() == teacher_layers[i].keys()
        for name, tensor in teacher_layers[i].items():
            assert torch.equal(student_layers[j][name], tensor), f"student layer {j} {name}"


def test_student_does_not_share_or_change_the_teacher() -> None:
    teacher = tiny_bert()
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    student = build_student(teacher, [1, 2])
    with torch.no_grad():
        for parameter in student.parameters():
            parameter.add_(1.0)
    assert teacher.config.num_hidden_layers == 4
    for key, tensor in teacher.state_dict().items():
        assert torch.equal(tensor, before[key]), key


def test_full_copy_matches_teacher_outputs(teacher: PreTrainedModel) -> None:
    teacher.eval()
    student = build_student(teacher, list(range(teacher.config.num_hidden_layers)))
    batch = {"input_ids": torch.tensor([[2, 5, 7, 9, 0]]), "attention_mask": torch.tensor([[1, 1, 1, 1, 0]])}
    with torch.no_grad():
        assert torch.allclose(student(**batch).logits, teacher(**batch).logits)


def test_student_round_trips_through_save_pretrained(teacher: PreTrainedModel, tmp_path) -> None:
    student = build_student(teacher, [1, 2]).eval()
    student.save_pretrained(tmp_path)
    loaded = AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()

    assert type(loaded) is type(teacher)
    assert loaded.config.num_hidden_layers == 2
    batch = {"input_ids": torch.tensor([[2, 5, 7, 9]]), "attention_mask": torch.ones(1, 4, dtype=torch.long)}
    with torch.no_grad():
        assert torch.allclose(loaded(**batch).logits, student(**batch).logits)


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([], r"\[\] must be a non-empty list of layer indices"),
        ([0, 4], r"asks for layer 4, but the teacher has 4 layers \(0..3\)"),
        ([-1, 2], r"\[-1, 2\] must be a non-empty list of layer indices >= 0"),
        ([1, 1], r"\[1, 1\] must be unique and ascending"),
        ([2, 1], r"\[2, 1\] must be unique and ascending"),
        ([0, 1.0], r"\[0, 1.0\] must be a non-empty list of layer indices"),
    ],
)
def test_bad_layer_lists_are_rejected(layers: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_student(tiny_bert(4), layers)


def test_unsupported_architecture_is_named() -> None:
    from transformers import GPT2Config, GPT2ForSequenceClassification

    teacher = GPT2ForSequenceClassification(GPT2Config(vocab_size=99, n_embd=32, n_layer=2, n_head=4))
    with pytest.raises(ValueError, match=r"num_hidden_layers|encoder\.layer"):
        build_student(teacher, [0])


@pytest.mark.slow
def test_three_layer_student_of_packaged_minilm() -> None:
    from distilbench.models.assets import packaged_model_dir

    teacher = AutoModelForSequenceClassification.from_pretrained(
        packaged_model_dir("all-MiniLM-L6-v2"), num_labels=5
    )
    student = build_student(teacher, [0, 2, 5])

    assert student.config.num_hidden_layers == 3
    assert 16.5e6 < student.num_parameters() < 18e6
    assert torch.equal(
        student.bert.encoder.layer[1].output.dense.weight, teacher.bert.encoder.layer[2].output.dense.weight
    )
