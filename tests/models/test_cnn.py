from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from distilbench.models.cnn import TextCNN, TextCNNConfig

CONFIG = TextCNNConfig(vocab_size=99, num_labels=3, embed_dim=16, num_filters=8)


@pytest.fixture
def model() -> TextCNN:
    torch.manual_seed(0)
    return TextCNN(CONFIG)


def test_logits_have_one_row_per_example_and_extras_are_ignored(model: TextCNN) -> None:
    batch = {
        "input_ids": torch.randint(1, 99, (4, 10)),
        "attention_mask": torch.ones(4, 10, dtype=torch.long),
        "token_type_ids": torch.zeros(4, 10, dtype=torch.long),
    }
    assert model(**batch).logits.shape == (4, 3)


def test_extra_padding_does_not_change_logits(model: TextCNN) -> None:
    model.eval()
    text = torch.tensor([[5, 17, 42, 8, 63, 21]])
    padded = torch.cat([text, torch.zeros(1, 7, dtype=torch.long)], dim=1)
    mask = (padded != 0).long()
    with torch.no_grad():
        alone = model(input_ids=text, attention_mask=torch.ones_like(text)).logits
        with_padding = model(input_ids=padded, attention_mask=mask).logits
        mask_inferred = model(input_ids=padded).logits
    assert torch.allclose(alone, with_padding, atol=1e-6)
    assert torch.allclose(alone, mask_inferred, atol=1e-6)


def test_padding_never_wins_the_max_even_when_its_embedding_is_large(model: TextCNN) -> None:
    model.eval()
    masked_token = torch.tensor([[5, 17, 98, 98]])  # 98 is a real id, but masked out as padding here
    with torch.no_grad():
        model.embedding.weight[98].fill_(1e3)
        masked = model(input_ids=masked_token, attention_mask=torch.tensor([[1, 1, 0, 0]])).logits
        short = model(input_ids=masked_token[:, :2], attention_mask=torch.ones(1, 2)).logits
    assert torch.allclose(masked, short, atol=1e-6)


@pytest.mark.parametrize("length", [1, 2])
def test_sequences_shorter_than_the_widest_kernel_work(model: TextCNN, length: int) -> None:
    logits = model(input_ids=torch.full((2, length), 7), attention_mask=torch.ones(2, length)).logits
    assert logits.shape == (2, 3)
    assert torch.isfinite(logits).all()


def test_all_padding_row_gives_finite_logits(model: TextCNN) -> None:
    logits = model(input_ids=torch.zeros(1, 5, dtype=torch.long), attention_mask=torch.zeros(1, 5)).logits
    assert torch.isfinite(logits).all()


def test_labels_give_a_loss_like_a_transformers_model(model: TextCNN) -> None:
    batch = {"input_ids": torch.randint(1, 99, (4, 6)), "labels": torch.tensor([0, 1, 2, 1])}
    output = model(**batch)
    assert torch.allclose(output.loss, F.cross_entropy(output.logits, batch["labels"]))


def test_a_few_steps_reduce_the_loss_on_a_toy_batch(model: TextCNN) -> None:
    ids = torch.randint(1, 99, (6, 8))
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(10):
        loss = F.cross_entropy(model(input_ids=ids).logits, labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize(
    ("field", "value"),
    [("vocab_size", 0), ("num_labels", 0), ("kernel_sizes", ()), ("kernel_sizes", (3, 0)), ("dropout", 1.0)],
)
def test_bad_config_is_named(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        TextCNNConfig(**{"vocab_size": 99, "num_labels": 3, field: value})


def test_pad_token_must_be_in_vocabulary() -> None:
    with pytest.raises(ValueError, match="pad_token_id"):
        TextCNNConfig(vocab_size=10, num_labels=2, pad_token_id=10)
