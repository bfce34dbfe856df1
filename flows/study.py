"""The whole study (prepare -> crossval -> report) as one flow a user starts or schedules from the
Prefect dashboard. It goes through DVC (distilbench.pipeline.experiments), never around it: each run is a DVC
experiment, and each stage inside it is its own flow run on the same server, fold tasks included."""

from pathlib import Path
from typing import Literal

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from distilbench.config.environment import configure_environment
from distilbench.pipeline.experiments import StudyRequest, reproduce, run_study


@flow(name="distilbench-study", log_prints=True)
def study(
    zoo: str | None = None,
    datasets: list[dict] | None = None,
    folds: int | None = None,
    repeats: int | None = None,
    epochs: int | None = None,
    max_length: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    max_steps: int | None = None,
    experiment_name: str | None = None,
) -> str:
    """Run the study as a DVC experiment with these params.yaml overrides (empty: the file's values).

    zoo: models.zoo (quickstart, offline-base, paper). datasets: data.datasets entries, e.g.
    [{"name": "rt", "source": "packaged", "id": "rotten_tomatoes", "max_examples": 2000}].
    folds: data.folds. repeats: data.repeats (repeated k-fold). The rest are train.* settings.
    experiment_name: the DVC experiment's name (default: DVC picks one). Returns the experiment's name.
    """
    # a served run is its own process: the same environment as any entry point (and INFO progress lines,
    # DVC's output included, in this run's logs)
    configure_environment(Path.cwd())
    train = dict(epochs=epochs, max_length=max_length, batch_size=batch_size)
    train |= dict(learning_rate=learning_rate, max_steps=max_steps)
    request = StudyRequest(
        zoo=zoo,
        datasets=tuple(datasets) if datasets is not None else None,
        folds=folds,
        repeats=repeats,
        train={k: v for k, v in train.items() if v is not None},
    )
    outcome = run_study(Path.cwd(), request, experiment_name)
    create_markdown_artifact(
        f"DVC experiment `{outcome.experiment}` (`dvc exp show`; `dvc exp apply {outcome.experiment}` "
        f"brings it into the workspace), overrides {outcome.overrides or 'none'}\n\n{outcome.report}",
        key="distilbench-study",
        description="The study run's DVC experiment and report",
    )
    return outcome.experiment


@flow(name="distilbench-repro", log_prints=True)
def repro(stage: Literal["prepare", "crossval", "report", "select"] | None = None) -> None:
    """`dvc repro` in the workspace with params.yaml as it is: everything, or one stage and what it
    needs. Only what changed reruns; dvc.lock is updated as by any `dvc repro`."""
    configure_environment(Path.cwd())
    reproduce(Path.cwd(), stage)
