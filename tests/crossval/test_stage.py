"""Planning cross-validation: the shipped zoo runs on any dataset list."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

from distilbench.config.settings import load_config
from distilbench.crossval.stage import check_model_datasets

PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"


def test_a_row_limited_to_datasets_not_prepared_is_skipped_with_one_line(caplog) -> None:
    cfg = load_config(PARAMS)  # the quickstart: minilm-l3-labels-only runs on rotten_tomatoes only
    prepared = [SimpleNamespace(name="amazon_alexa"), SimpleNamespace(name="brexit")]
    with caplog.at_level(logging.WARNING, logger="distilbench.crossval.stage"):
        lines = check_model_datasets(cfg, prepared)
    (line,) = lines
    assert line.startswith("models.zoos.quickstart.models[3] ('minilm-l3-labels-only'): skipped on ")
    assert "['rotten_tomatoes'], not among the prepared datasets ['amazon_alexa', 'brexit']" in line
    assert line.endswith("it runs on none") and caplog.messages == [line]
    both = [SimpleNamespace(name="bbc"), SimpleNamespace(name="rotten_tomatoes")]
    assert check_model_datasets(cfg, both) == []
