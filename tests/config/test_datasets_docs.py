"""Every params.yaml example in docs/datasets.md parses: the user documentation cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from distilbench.config.datasets import DataConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "datasets.md"
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_the_page_has_an_example_per_source() -> None:
    sources = {d["source"] for block in BLOCKS for d in yaml.safe_load(block)["data"]["datasets"]}
    assert len(BLOCKS) >= 9 and sources == {"packaged", "hub", "file"}


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_example_parses(block: str) -> None:
    params = yaml.safe_load(block)
    cfg = DataConfig.from_params(params["data"], "data")
    assert cfg.datasets
