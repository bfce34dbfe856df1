"""The pipeline's four stages and each one's arguments with their defaults.

One list, below both entry points: the CLI builds a sub-command per stage from it, the Prefect study flow
offers its names as choices, and dvc.yaml's commands must agree with it (tests/pipeline/test_stages.py).
It lives here rather than in cli.py so that flows/ can read it without importing the CLI, which imports
flows/ (the circle cli -> flows.serve -> flows.study -> cli).
"""

from __future__ import annotations

from distilbench.core import paths

STAGES: dict[str, dict[str, str]] = {  # each stage's flow arguments and their defaults
    "prepare": {"params": paths.PARAMS_FILE, "out": paths.PREPARED_DIR},
    "crossval": {"params": paths.PARAMS_FILE, "prepared": paths.PREPARED_DIR, "results": paths.RESULTS_FILE},
    "report": {"params": paths.PARAMS_FILE, "results": paths.RESULTS_FILE, "out": paths.REPORTS_DIR},
    "select": {
        "params": paths.PARAMS_FILE,
        "prepared": paths.PREPARED_DIR,
        "metrics": paths.METRICS_FILE,
        "out": paths.CHAMPION_FILE,
        "models": paths.MODELS_DIR,
        "results": paths.RESULTS_FILE,  # select.refit fold: fold 1's records
    },
}
