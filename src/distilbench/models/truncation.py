"""Which tokens of a long text a transformer reads: the same rule in training, evaluation and serving.

`head` keeps the first max_length tokens (the tokenizer's own truncation). `head_tail` keeps the first
quarter of the budget from the start and the rest from the end: Sun et al. (2019, "How to Fine-Tune BERT
for Text Classification?") found head+tail the best way to fit long documents into BERT (128 + 382 of 510
tokens). It cuts the text at the kept tokens' character offsets and tokenizes what is left, so it works for
any fast tokenizer and its special tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

TOKEN_FIELDS = ("input_ids", "attention_mask", "token_type_ids")
HEAD_SHARE = 0.25  # of the token budget, from the start (Sun et al.: 128 of 510)


def tokenize(tokenizer, texts: Sequence[str], max_length: int, truncation: str = "head") -> dict[str, list]:
    """Token fields per text (no padding), at most `max_length` tokens each, special tokens included."""
    texts = list(texts)
    if truncation == "head_tail":
        texts = head_tail_texts(tokenizer, texts, max_length)
    encoded = tokenizer(texts, truncation=True, max_length=max_length)
    return {k: encoded[k] for k in TOKEN_FIELDS if k in encoded}


def head_tail_texts(tokenizer, texts: list[str], max_length: int) -> list[str]:
    """Each text longer than the budget cut to its head and its tail (the middle dropped)."""
    budget = max_length - tokenizer.num_special_tokens_to_add()
    head = max(1, int(budget * HEAD_SHARE))
    tail = budget - head
    offsets = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    cut = []
    for text, spans in zip(texts, offsets["offset_mapping"], strict=True):
        if len(spans) <= budget or tail <= 0:
            cut.append(text)
        else:
            cut.append(f"{text[: spans[head - 1][1]]} {text[spans[-tail][0] :]}")
    return cut
