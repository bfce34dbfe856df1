"""The head each checkpoint was trained for: mean pooling for a sentence-transformers checkpoint that
declares it, the architecture's own head otherwise; kept through save/load and by copied students."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from transformers import AutoTokenizer, BertForSequenceClassification

from distilbench.config.settings import ModelSpec
from distilbench.models.pooling import MeanPoolingClassifier, load_classifier, mean_pool, resolve_pooling
from distilbench.models.zoo import build_model, make_student


@pytest.fixture
def sentence_transformer_dir(tiny_model_dir, tmp_path):
    """The tiny BERT laid out like all-MiniLM-L6-v2: with sentence-transformers' pooling declaration."""
    directory = tmp_path / "st-model"
    shutil.copytree(tiny_model_dir, directory)
    (directory / "1_Pooling").mkdir()
    declaration = {
        "word_embedding_dimension": 32,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
    }
    (directory / "1_Pooling" / "config.json").write_text(json.dumps(declaration))
    return directory


def spec(directory, pooling="auto", layers=None) -> ModelSpec:
    return ModelSpec(name="m", source="local", id=str(directory), pooling=pooling, layers=layers)


def batch(directory, texts=("good fun film", "bad dull plot twist ending")):
    return dict(AutoTokenizer.from_pretrained(directory)(list(texts), padding=True, return_tensors="pt"))


def test_auto_pooling_is_mean_only_where_the_checkpoint_declares_it(sentence_transformer_dir, tiny_model_dir):
    assert resolve_pooling("auto", str(sentence_transformer_dir)) == "mean"
    assert resolve_pooling("auto", str(tiny_model_dir)) == "cls"
    assert resolve_pooling("auto", "bert-base-uncased") == "cls"  # a hub id: the architecture's own head
    assert resolve_pooling("cls", str(sentence_transformer_dir)) == "cls"
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    assert isinstance(build_model(spec(sentence_transformer_dir), tokenizer, 3, False), MeanPoolingClassifier)
    assert isinstance(build_model(spec(tiny_model_dir), tokenizer, 3, False), BertForSequenceClassification)
    forced = build_model(spec(tiny_model_dir, pooling="mean"), tokenizer, 3, False)
    assert isinstance(forced, MeanPoolingClassifier) and forced.encoder.pooler is None


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_a_saved_fine_tuned_model_reloads_with_the_same_head_and_logits(tiny_model_dir, tmp_path, pooling):
    torch.manual_seed(0)
    model = build_model(
        spec(tiny_model_dir, pooling), AutoTokenizer.from_pretrained(tiny_model_dir), 3, False
    )
    model.eval()
    model.save_pretrained(tmp_path / "saved")
    loaded = load_classifier(tmp_path / "saved").eval()
    assert type(loaded) is type(model)
    inputs = batch(tiny_model_dir)
    with torch.no_grad():
        torch.testing.assert_close(loaded(**inputs).logits, model(**inputs).logits, rtol=0, atol=0)


def test_mean_pooling_ignores_padding():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    torch.testing.assert_close(mean_pool(hidden, torch.tensor([[1, 1, 0]])), torch.tensor([[2.0, 3.0]]))


def test_a_student_of_a_mean_pooling_teacher_inherits_its_head_and_copies_its_layers(
    sentence_transformer_dir,
):
    tokenizer = AutoTokenizer.from_pretrained(sentence_transformer_dir)
    torch.manual_seed(0)
    teacher = build_model(spec(sentence_transformer_dir), tokenizer, 3, False)
    student = make_student(teacher, (1,))
    assert isinstance(student, MeanPoolingClassifier) and student.config.num_hidden_layers == 1
    torch.testing.assert_close(student.classifier.weight, teacher.classifier.weight)
    teacher_layer = teacher.encoder.encoder.layer[1].state_dict()
    for key, tensor in student.encoder.encoder.layer[0].state_dict().items():
        torch.testing.assert_close(tensor, teacher_layer[key])
    assert student.classifier.weight.data_ptr() != teacher.classifier.weight.data_ptr()  # a copy
    assert student(**batch(sentence_transformer_dir)).logits.shape == (2, 3)
