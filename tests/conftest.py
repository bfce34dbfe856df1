"""Test harness: every test runs the real code path on tiny models and tiny data, with all state in tmp.

The environment is set before anything imports prefect, mlflow or transformers (they read it at import):
no test may touch the checkout's mlflow.db, .cache or the network.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="distilbench-tests-"))
os.environ.update(
    {
        "MLFLOW_TRACKING_URI": f"sqlite:///{_SESSION_DIR / 'mlflow.db'}",
        "DISTILBENCH_ARTIFACTS": str(_SESSION_DIR / "mlruns"),
        "DISTILBENCH_CACHE": str(_SESSION_DIR / "cache"),
        "PREFECT_HOME": str(_SESSION_DIR / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "DISTILBENCH_PROGRESS": "0",
    }
)
os.environ.pop("PREFECT_API_URL", None)  # never log test runs into a developer's running dashboard

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)  # CI machines have 2 cores; tests are tiny, so one thread is fastest

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


@pytest.fixture(scope="session")
def tiny_model_dir() -> Path:
    """A 2-layer, hidden-32 BERT with a WordPiece vocab written to tmp: never downloaded."""
    from transformers import BertConfig, BertModel, BertTokenizer

    directory = _SESSION_DIR / "tiny-bert"
    if (directory / "config.json").is_file():
        return directory
    directory.mkdir(parents=True)
    words = sorted({w for ws in WORDS.values() for w in ws.split()} | {"number"})
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = specials + words + [str(i) for i in range(20)]
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizer(
        vocab=str(directory / "vocab.txt"), do_lower_case=True
    )  # transformers 5: vocab=
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


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    """A ~50-row CSV dataset with 3 balanced classes."""
    import pandas as pd

    path = tmp_path / "tiny.csv"
    pd.DataFrame(tiny_rows(), columns=["text", "label"]).to_csv(path, index=False)
    return path
