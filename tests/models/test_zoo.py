"""From a ModelSpec to a model: every source, student layers, the CNN, and the size/parameter numbers."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from distilbench.config.settings import ModelSpec
from distilbench.models.zoo import build_model, count_parameters, load_tokenizer, save_model


@pytest.mark.parametrize("source", ["local", "hub"])
def test_a_transformer_loads_from_a_directory_or_a_hub_id(tiny_model_dir, source):
    # a hub id and a local directory go through the same from_pretrained call; tests never use the network
    spec = ModelSpec(name="m", source=source, id=str(tiny_model_dir))
    tokenizer = load_tokenizer(spec)
    model = build_model(spec, tokenizer, num_labels=4, multilabel=False)
    assert model.config.num_labels == 4 and model.config.num_hidden_layers == 2


def test_a_student_spec_keeps_only_the_chosen_layers_and_is_smaller_on_disk(tiny_model_dir, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    teacher = build_model(ModelSpec(name="t", source="local", id=str(tiny_model_dir)), tokenizer, 3, False)
    student = build_model(
        ModelSpec(name="s", source="local", id=str(tiny_model_dir), layers=(1,)), tokenizer, 3, False
    )
    assert student.config.num_hidden_layers == 1
    assert count_parameters(student) < count_parameters(teacher)
    assert 0 < save_model(student, tmp_path / "s") < save_model(teacher, tmp_path / "t")


def test_a_multilabel_head_is_configured_for_sigmoid_outputs(tiny_model_dir):
    spec = ModelSpec(name="m", source="local", id=str(tiny_model_dir))
    model = build_model(spec, load_tokenizer(spec), num_labels=5, multilabel=True)
    assert model.config.problem_type == "multi_label_classification"


def test_the_cnn_uses_the_tokenizers_vocabulary_and_saves_as_safetensors(tiny_model_dir, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    cnn = build_model(ModelSpec(name="cnn", kind="cnn"), tokenizer, num_labels=3, multilabel=False)
    assert cnn.config.vocab_size == len(tokenizer) and cnn.config.pad_token_id == tokenizer.pad_token_id
    assert save_model(cnn, tmp_path / "cnn") == pytest.approx(count_parameters(cnn) * 4 / 1e6, rel=0.01)


@pytest.mark.parametrize("embeddings", ["static", "non-static"])
def test_a_cnn_with_pretrained_embeddings_starts_from_the_vocabulary_models_word_vectors(
    tiny_model_dir, embeddings
):
    import torch
    from transformers import AutoModel

    vocabulary = ModelSpec(name="t", source="local", id=str(tiny_model_dir))
    spec = ModelSpec(name="cnn", kind="cnn", embeddings=embeddings)
    cnn = build_model(spec, load_tokenizer(vocabulary), 3, False, vocabulary_from=vocabulary)
    vectors = AutoModel.from_pretrained(tiny_model_dir).get_input_embeddings().weight
    assert cnn.config.embed_dim == vectors.shape[1] == 32
    assert torch.equal(cnn.embedding.weight, vectors)
    assert cnn.embedding.weight.requires_grad == (embeddings == "non-static")  # static: kept fixed
    random = build_model(ModelSpec(name="cnn", kind="cnn"), load_tokenizer(vocabulary), 3, False, vocabulary)
    assert random.config.embed_dim == 128
