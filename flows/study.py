"""The whole study (prepare -> crossval -> report) as one flow a user starts or schedules from the
Prefect dashboard. It goes through DVC (distilbench.pipeline.experiments), never around it: each run is a DVC
experiment, and each stage inside it is its own flow run on the same server, fold tasks included."""

from pathlib import Path
from typing import Literal

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from distilbench.config.environment import configure_environment
from distilbench.core.clone_lock import one_run_per_clone
from distilbench.core.paths import PARAMS_FILE
from distilbench.pipeline.experiments import StudyRequest, reproduce, run_study, zoo_names
from distilbench.pipeline.stages import STAGES

# The run form's choices. zoo: the zoos of this clone's params.yaml (models.zoos), read when the flow is
# loaded (`distilbench serve` at start: restart it after adding a zoo); free text without a params.yaml.
ZOOS = zoo_names(Path(__file__).resolve().parents[1] / PARAMS_FILE)
Zoo = Literal[ZOOS] if ZOOS else str
Stage = Literal[tuple(STAGES)]  # the pipeline's stages, as `distilbench <stage>` and dvc.yaml name them


@flow(name="distilbench-study", log_prints=True)
def study(
    zoo: Zoo | None = None,
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

    Args:
        zoo: models.zoo, the teacher and students to compare (one of params.yaml's models.zoos).
        datasets: data.datasets entries, as in params.yaml, e.g.
            [{"name": "rt", "source": "packaged", "id": "rotten_tomatoes", "max_examples": 2000}].
        folds: data.folds, the number of cross-validation folds.
        repeats: data.repeats, how many times k-fold is repeated with new folds.
        epochs: train.epochs, training epochs per fold (train.min_steps may add some).
        max_length: train.max_length, tokens kept per text.
        batch_size: train.batch_size, training examples per step.
        learning_rate: train.learning_rate, the encoder's peak learning rate.
        max_steps: train.max_steps, a cap on steps per epoch (a quick run).
        experiment_name: the DVC experiment's name (empty: DVC picks one).

    Returns:
        The DVC experiment's name.
    """
    # a served run is its own process: the same environment as any entry point (and INFO progress lines,
    # DVC's output included, in this run's logs)
    project = configure_environment(Path.cwd())
    train = dict(epochs=epochs, max_length=max_length, batch_size=batch_size)
    train |= dict(learning_rate=learning_rate, max_steps=max_steps)
    request = StudyRequest(
        zoo=zoo,
        datasets=tuple(datasets) if datasets is not None else None,
        folds=folds,
        repeats=repeats,
        train={k: v for k, v in train.items() if v is not None},
    )
    with one_run_per_clone(project.cache, "the dashboard's distilbench-study run"):
        outcome = run_study(Path.cwd(), request, experiment_name)
    create_markdown_artifact(
        f"DVC experiment `{outcome.experiment}` (`dvc exp show`; `dvc exp apply {outcome.experiment}` "
        f"brings it into the workspace), overrides {outcome.overrides or 'none'}\n\n{outcome.report}",
        key="distilbench-study",
        description="The study run's DVC experiment and report",
    )
    return outcome.experiment


@flow(name="distilbench-repro", log_prints=True)
def repro(stage: Stage | None = None) -> None:
    """`dvc repro` in the workspace with params.yaml as it is: everything, or one stage and what it
    needs. Only what changed reruns; dvc.lock is updated as by any `dvc repro`.

    Args:
        stage: the stage to rebuild, with the stages it needs (empty: every stage).
    """
    project = configure_environment(Path.cwd())
    with one_run_per_clone(project.cache, "the dashboard's distilbench-repro run"):
        reproduce(Path.cwd(), stage)
