"""`prepare` stage: load, clean and validate each dataset, and assign its folds."""

from pathlib import Path

from prefect import flow

from distilbench.config.settings import load_config
from distilbench.core.paths import PARAMS_FILE, PREPARED_DIR
from distilbench.data.prepared import prepare_all


@flow(name="distilbench-prepare")
def prepare(params: str = PARAMS_FILE, out: str = PREPARED_DIR) -> list[dict]:
    cfg = load_config(Path(params))
    return prepare_all(cfg.datasets, cfg.seed, Path(out))
