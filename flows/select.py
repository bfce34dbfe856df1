"""`select` stage: refit the chosen report row on the whole dataset (or take fold 1's model: select.refit)
and register it as the champion."""

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from distilbench.config.settings import load_config
from distilbench.core.paths import (
    CHAMPION_FILE,
    METRICS_FILE,
    MODELS_DIR,
    PARAMS_FILE,
    PREPARED_DIR,
    RESULTS_FILE,
    ProjectPaths,
)
from distilbench.core.runtime import set_threads
from distilbench.deploy.champion import Champion, champion_markdown, select_champions
from distilbench.tracking.store import check_store


@flow(name="distilbench-select")
def select(
    params: str = PARAMS_FILE,
    prepared: str = PREPARED_DIR,
    metrics: str = METRICS_FILE,
    out: str = CHAMPION_FILE,
    models: str = MODELS_DIR,
    results: str = RESULTS_FILE,  # read with select.refit fold only: fold 1's records
) -> list[Champion]:
    cfg = load_config(Path(params))
    project = ProjectPaths.current()
    check_store(project, cfg.tracking.uri)  # before the refit: a store that refuses the run would waste it
    set_threads(1)  # one refit at a time: all of this machine's threads
    champions = select_champions(
        cfg, Path(prepared), Path(metrics), Path(out), Path(models), project, Path(results)
    )
    markdown = "\n".join(champion_markdown(champions))
    create_markdown_artifact(markdown, key="distilbench-champion", description="The registered champion")
    get_run_logger().info("\n%s", markdown)
    return champions
