"""What the MLflow UI shows first: the experiment's kind, its description and the study's columns.

MLflow 3 opens an experiment of unknown kind on its GenAI overview ("Traces 0"); the
`mlflow.experimentKind` tag makes it open on the training runs. The runs table starts with no metric
columns, and its column choice lives in each browser; a shared view state (what the UI's Share button
stores as an experiment tag) gives every user the study's columns from one link.
"""

from __future__ import annotations

import json

from mlflow.utils.mlflow_tags import MLFLOW_RUN_NOTE

from distilbench.core.paths import MLFLOW_UI
from distilbench.core.schema import STUDY_METRICS

EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
TRAINING_KIND = "custom_model_development"  # the UI's "Model training" kind
SHARED_VIEW_TAG_PREFIX = "mlflow.sharedViewState."
STUDY_VIEW_KEY = "distilbench-study"

# the answer to the study on every row (core.schema.STUDY_METRICS): parents hold the mean over folds (and
# _std), children one fold
STUDY_PARAMS = ("dataset", "model")


def column(kind: str, key: str) -> str:
    """The UI's column id: `metrics.`accuracy``, `params.`model``."""
    return f"{kind}.`{key}`"


def study_view_state() -> dict:
    return {
        "selectedColumns": [column("metrics", m) for m in STUDY_METRICS]
        + [column("params", p) for p in STUDY_PARAMS],
        "orderByKey": "attributes.start_time",
        "orderByAsc": False,
    }


def study_view_route(experiment_id: str) -> str:
    """The UI route of the study view; `workflowType` switches a GenAI-first browser to its runs."""
    return (
        f"#/experiments/{experiment_id}/runs?workflowType=machine_learning&viewStateShareKey={STUDY_VIEW_KEY}"
    )


def study_view_url(experiment_id: str, ui: str = MLFLOW_UI) -> str:
    return f"{ui}/{study_view_route(experiment_id)}"


def experiment_tags(name: str) -> dict[str, str]:
    description = (
        f"**{name}**: how much accuracy a distilled model gives up against its teacher, for how much "
        "less time and size. One parent run per dataset × model (mean and `_std` over folds), one "
        "child run per fold (`fold-1` …). The study's columns (accuracy, macro-F1, train+val seconds, "
        "MB, % saved against the teacher) are this experiment's shared view `" + STUDY_VIEW_KEY + "`: "
        "`make ui` opens on it, and `distilbench crossval` prints its link. "
        "The teacher's parent run holds the report (comparison table, trade-off plot)."
    )
    return {
        EXPERIMENT_KIND_TAG: TRAINING_KIND,
        MLFLOW_RUN_NOTE: description,
        SHARED_VIEW_TAG_PREFIX + STUDY_VIEW_KEY: json.dumps(study_view_state()),
    }
