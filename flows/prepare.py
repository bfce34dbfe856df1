"""`prepare` stage: load, clean and validate each dataset, and assign its folds."""

from pathlib import Path

from prefect import flow, task

from distilbench.config import load_params, parse_seed
from distilbench.data.prepared import prepare_dataset, remove_stale
from distilbench.data.spec import DataConfig, DatasetSpec
from flows._cli import run_cli


@task(task_run_name="prepare-{spec.name}")
def prepare_one(spec: DatasetSpec, folds: int, seed: int, out_root: Path) -> dict:
    return prepare_dataset(spec, folds, seed, out_root / spec.name)


def data_config(params: str, **_paths: str) -> DataConfig:
    raw = load_params(Path(params))
    return DataConfig.from_params(raw.get("data", {}), seed=parse_seed(raw))


@flow(name="distilbench-prepare")
def prepare(params: str = "params.yaml", out: str = "data/prepared") -> list[dict]:
    cfg = data_config(params)
    metas = [prepare_one(spec, cfg.folds, cfg.seed, Path(out)) for spec in cfg.datasets]
    remove_stale(Path(out), {spec.name for spec in cfg.datasets})  # later stages read every prepared folder
    return metas


if __name__ == "__main__":
    run_cli(prepare, __doc__, validate=data_config, params="params.yaml", out="data/prepared")
