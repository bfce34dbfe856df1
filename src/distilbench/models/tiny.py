"""A tiny case that runs the real code paths in seconds: short generated texts and a 2-layer BERT.

The tests build on it (tests/conftest.py), and so does bench/dask_workers.py, which scales it up; it lives
in the package so that neither imports the other. Nothing here is downloaded.
"""

from __future__ import annotations

from pathlib import Path

WORDS = {
    "sport": "match goal team score player league coach win",
    "tech": "computer software chip phone internet data code robot",
    "politics": "election vote minister party government law policy debate",
}


def tiny_rows(per_class: int = 16) -> list[tuple[str, str]]:
    """Deterministic short texts whose words give their class away: a tiny model can learn them."""
    rows = []
    for label, words in WORDS.items():
        vocab = words.split()
        for i in range(per_class):
            picked = [vocab[(i * 3 + j) % len(vocab)] for j in range(4 + i % 3)]
            rows.append((f"{' '.join(picked)} number {i}", label))
    return rows


def write_tiny_model(directory: Path) -> Path:
    """A 2-layer, hidden-32 BERT with a WordPiece vocab written to `directory`: never downloaded."""
    import torch  # imported here: the texts above are needed where torch is not yet wanted
    from transformers import BertConfig, BertModel, BertTokenizer

    if (directory / "config.json").is_file():
        return directory
    directory.mkdir(parents=True)
    words = sorted({w for ws in WORDS.values() for w in ws.split()} | {"number"})
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = specials + words + [str(i) for i in range(20)]
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n")
    # transformers 5 names the argument vocab=
    tokenizer = BertTokenizer(vocab=str(directory / "vocab.txt"), do_lower_case=True)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(directory)  # an encoder without a head, like the packaged checkpoints
    tokenizer.save_pretrained(directory)
    return directory
