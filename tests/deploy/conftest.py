"""A tiny fine-tuned-looking classifier saved with its tokenizer, and padded batches for it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

from distilbench.deploy.predict import ServingSettings
from tests.conftest import WORDS

LABELS = sorted(WORDS)


@pytest.fixture(scope="session")
def classifier_dir(tiny_model_dir: Path, tmp_path_factory) -> Path:
    """The tiny BERT with a classification head, saved as a fine-tuned model would be.

    initializer_range 0.1 (not 0.02) gives logits of spread ~0.2, like a model that has learned something,
    so the int8 tolerances below are measured on logits that decide something.
    """
    directory = tmp_path_factory.mktemp("classifier")
    config = BertConfig.from_pretrained(
        tiny_model_dir,
        initializer_range=0.1,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    torch.manual_seed(0)
    BertForSequenceClassification(config).eval().save_pretrained(directory)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(directory)
    ServingSettings(tuple(LABELS), max_length=64).write(directory)  # as select saves a model folder
    return directory


@pytest.fixture(scope="session")
def classifier(classifier_dir: Path) -> BertForSequenceClassification:
    return BertForSequenceClassification.from_pretrained(classifier_dir).eval()


def padded_batch(vocab_size: int, size: int = 32, longest: int = 20, seed: int = 1) -> dict:
    """Random token ids of different lengths (3..longest), padded with 0 to the longest."""
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(3, longest + 1, (size,), generator=generator)
    lengths[0] = longest  # one full-length row, so the batch is as long as its longest example
    mask = (torch.arange(longest)[None] < lengths[:, None]).long()
    ids = torch.randint(5, vocab_size, (size, longest), generator=generator) * mask
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}
