"""bench/baselines.py end to end in --quick mode on a tiny BERT: the output's structure, never its timings."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import tiny_rows

BENCH = Path(__file__).resolve().parents[2] / "bench" / "baselines.py"
pytest.importorskip("accelerate", reason="transformers.Trainer needs accelerate (the dev extra installs it)")


@pytest.fixture(scope="module")
def baselines():
    spec = importlib.util.spec_from_file_location("bench_baselines", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def project(tmp_path: Path, tiny_model_dir: Path, tiny_csv: Path) -> tuple[Path, Path]:
    """params.yaml with the tiny BERT as the zoo's teacher, and its dataset prepared into 3 folds."""
    from distilbench.config.settings import load_config
    from distilbench.data.prepared import prepare_all

    raw = {
        "seed": 3,
        "data": {"folds": 3, "datasets": [{"name": "tiny", "source": "file", "path": str(tiny_csv)}]},
        "models": {
            "zoo": "tiny",
            "zoos": {
                "tiny": {
                    "teacher": "bert",
                    "models": [{"name": "bert", "source": "local", "id": str(tiny_model_dir)}],
                }
            },
        },
        "train": {"batch_size": 4, "max_length": 32, "learning_rate": 1e-3, "head_learning_rate": 1e-2},
    }
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw))
    prepare_all(load_config(params).datasets, 3, tmp_path / "prepared")
    return params, tmp_path / "prepared"


def assert_timed(leg: dict, steps: int) -> None:
    assert leg["steps"] == steps  # warm-up + rounds x steps, as asked
    assert len(leg["rounds"]) == 2 and all(r["examples"] > 0 for r in leg["rounds"])
    assert math.isfinite(leg["examples_per_s"]) and leg["examples_per_s"] > 0
    assert leg["rss_mb"] > 0


def test_quick_run_times_all_three_recipes_and_fits_two(baselines, project, capsys):
    params, prepared = project
    argv = ["--quick", "--params", str(params), "--prepared", str(prepared), "--threads", "1"]
    result = baselines.run(baselines.parse_args(argv))

    timing, fits = result["timing"], result["fits"]
    assert set(timing) == {"loop", "trainer", "run_glue"}
    for leg in timing.values():
        assert_timed(leg, 1 + 2 * 2)
    # dynamic padding vs run_glue's static padding to the model's 64 positions (the tiny BERT's cap)
    assert timing["run_glue"]["max_length"] == 64
    assert timing["run_glue"]["rounds"][0]["tokens"] == 64 * timing["run_glue"]["rounds"][0]["examples"]
    assert timing["loop"]["rounds"][0]["tokens"] < 32 * timing["loop"]["rounds"][0]["examples"]
    for fit in fits.values():
        assert fit["steps"] >= 2 and 0 <= fit["accuracy"] <= 1 and fit["seconds"] > 0 and fit["rss_mb"] > 0
    out = capsys.readouterr().out
    assert "loop/trainer examples/s" in out and "loop/run_glue examples/s" in out and "target >= 2x" in out


def test_gpu_mode_runs_on_cpu_and_reports_mfu_and_the_trainer_ratio(
    baselines, tmp_path, tiny_model_dir, capsys
):
    texts = tmp_path / "texts.jsonl"
    texts.write_text("".join(json.dumps({"text": text}) + "\n" for text, _ in tiny_rows(8)))
    args = baselines.parse_args(
        ["--quick", "--bert-base", "--bert-size", "tiny", "--device", "cpu", "--threads", "1",
         "--texts", str(texts), "--tokenizer", str(tiny_model_dir)]
    )  # fmt: skip
    timing = baselines.run(args)["timing"]

    assert set(timing) == {"loop", "trainer"}
    for leg in timing.values():
        assert_timed(leg, 1 + 2 * 2)
        assert leg["parameters"] > 0
    out = capsys.readouterr().out
    assert "loop MFU:" in out and "trainer MFU:" in out and "loop/trainer examples/s" in out
    assert "fp32" in out  # no bf16 claimed on a CPU


def test_length_grouped_batches_cover_every_row_once_with_less_padding(baselines, tiny_model_dir):
    import numpy as np
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from distilbench.config.settings import TrainConfig
    from distilbench.core.runtime import resolve_runtime
    from distilbench.training.loop import FineTuner, encode, make_collator

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    rows = tiny_rows(8)
    features = encode(tokenizer, [text for text, _ in rows], np.zeros(len(rows), dtype=np.int64), 32)
    lengths = [len(f["input_ids"]) for f in features]

    def batches(cls: type[FineTuner]) -> list[list[int]]:
        model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=3)
        trainer = cls(
            model, make_collator(tokenizer), resolve_runtime("fp32"), TrainConfig(batch_size=4), seed=7
        )
        return [batch["index"].tolist() for batch in trainer._train_loader(features)]

    def padding(rows_of_batches: list[list[int]]) -> int:
        return sum(
            max(lengths[i] for i in rows) * len(rows) - sum(lengths[i] for i in rows)
            for rows in rows_of_batches
        )

    grouped = batches(baselines.LengthGroupedFineTuner)
    assert sorted(i for rows in grouped for i in rows) == list(range(len(features)))
    assert padding(grouped) < padding(batches(FineTuner))
