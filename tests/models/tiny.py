"""Tiny transformer teachers built from config: random weights, never downloaded."""

from __future__ import annotations

from transformers import (
    BertConfig,
    BertForSequenceClassification,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    MPNetConfig,
    MPNetForSequenceClassification,
    PreTrainedModel,
)

TINY = {"vocab_size": 99, "num_labels": 3}


def tiny_bert(layers: int = 4) -> PreTrainedModel:
    config = BertConfig(
        **TINY, hidden_size=32, num_hidden_layers=layers, num_attention_heads=4, intermediate_size=37
    )
    return BertForSequenceClassification(config)


def tiny_mpnet(layers: int = 4) -> PreTrainedModel:
    config = MPNetConfig(
        **TINY, hidden_size=32, num_hidden_layers=layers, num_attention_heads=4, intermediate_size=37
    )
    return MPNetForSequenceClassification(config)


def tiny_distilbert(layers: int = 4) -> PreTrainedModel:
    config = DistilBertConfig(**TINY, dim=32, n_layers=layers, n_heads=4, hidden_dim=37)
    return DistilBertForSequenceClassification(config)


TEACHERS = {"bert": tiny_bert, "mpnet": tiny_mpnet, "distilbert": tiny_distilbert}
