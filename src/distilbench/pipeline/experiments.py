"""The whole study as a DVC experiment: what a dashboard-started or scheduled study run executes.

A deployment run never calls the stages around DVC. It runs `dvc exp run --temp -S key=value ...` in the
clone: DVC copies the workspace to a temporary directory, applies the overrides to params.yaml there, runs
prepare -> crossval -> report -> select (each a `distilbench <stage>` flow run on the same Prefect
server), and keeps the result as an experiment that `dvc exp show` lists with its params and metrics.
The workspace's params.yaml and dvc.lock are untouched, so they stay true to each other;
`dvc exp apply <name>` brings a run's results into the workspace.

The overrides are validated first, against the same typed config every stage loads, so a typo in the
dashboard's form fails in seconds with the key's name, not minutes later inside DVC.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from distilbench.config.settings import Config, read_yaml
from distilbench.core.errors import ConfigError
from distilbench.core.paths import PARAMS_FILE, REPORTS_DIR, ProjectPaths
from distilbench.models.zoo import check_zoo

logger = logging.getLogger(__name__)

# the training settings a dashboard user may change per run (the rest stay as params.yaml says)
TRAIN_OVERRIDES = ("epochs", "batch_size", "max_length", "learning_rate", "max_steps")
REPORT_FILE = f"{REPORTS_DIR}/comparison.md"
RAN = re.compile(r"Ran experiment\(s\): (\S+)")
# this interpreter's DVC: a served run may not have the virtual environment on its PATH
DVC = (sys.executable, "-m", "dvc")


@dataclass(frozen=True)
class StudyRequest:
    """What one study run changes in params.yaml; None keeps the file's value."""

    zoo: str | None = None  # models.zoo: quickstart, offline-base, paper, or one the user added
    datasets: tuple[Mapping[str, Any], ...] | None = None  # data.datasets entries, as in params.yaml
    folds: int | None = None  # data.folds
    repeats: int | None = None  # data.repeats
    train: Mapping[str, Any] | None = None  # a few train.* keys (TRAIN_OVERRIDES)

    def overrides(self) -> dict[str, Any]:
        """Dotted params keys and their new values."""
        train = dict(self.train or {})
        unknown = sorted(set(train) - set(TRAIN_OVERRIDES))
        if unknown:
            raise ConfigError(f"train: {unknown} cannot be set per run; these can: {list(TRAIN_OVERRIDES)}")
        keys = {
            "models.zoo": self.zoo,
            "data.datasets": [dict(d) for d in self.datasets] if self.datasets is not None else None,
            "data.folds": self.folds,
            "data.repeats": self.repeats,
            **{f"train.{k}": v for k, v in train.items()},
        }
        return {k: v for k, v in keys.items() if v is not None}


@dataclass(frozen=True)
class StudyOutcome:
    experiment: str  # the DVC experiment's name (`dvc exp show`, `dvc exp apply <name>`)
    overrides: dict[str, Any]
    report: str  # reports/comparison.md as the experiment committed it


def zoo_names(params: Path) -> tuple[str, ...]:
    """The zoos a params.yaml defines (`models.zoos`), in its order: the study form's choices. Empty when
    the file is missing or unreadable (the run's own validation then names the problem)."""
    try:
        models = read_yaml(params).get("models") if params.is_file() else None
    except ConfigError:
        return ()
    zoos = models.get("zoos") if isinstance(models, Mapping) else None
    return tuple(zoos) if isinstance(zoos, Mapping) else ()


def checked_config(repo: Path, overrides: Mapping[str, Any]) -> Config:
    """params.yaml with the overrides applied, validated as every stage will validate it."""
    raw = read_yaml(repo / PARAMS_FILE)
    for key, value in overrides.items():
        *parents, leaf = key.split(".")
        section = raw
        for name in parents:
            section = section.setdefault(name, {})
        section[leaf] = value
    cfg = Config.from_params(raw, f"{PARAMS_FILE} with this run's overrides")
    cfg.require("data")
    check_zoo(cfg.zoo)  # e.g. offline-base before `make assets-base`: an error now, not in crossval
    return cfg


def hydra_value(value: Any) -> str:
    """A value in the override grammar of `dvc exp run -S` (Hydra's): lists, dicts, quoted strings."""
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k}:{hydra_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):  # Hydra reads 2e-05 as a string: write every float with its point
        return np.format_float_positional(value, trim="0")
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def dvc_command(overrides: Mapping[str, Any], name: str | None = None) -> list[str]:
    command = [*DVC, "exp", "run", "--temp"]
    if name:
        command += ["--name", name]
    for key, value in overrides.items():
        # ++: set the key whether or not params.yaml has it (a plain override of a missing key fails)
        command += ["-S", f"++{key}={hydra_value(value)}"]
    return command


def study_environment(paths: ProjectPaths) -> dict[str, str]:
    """The stages run in DVC's temporary copy of the clone: point them at this clone's MLflow store,
    fold cache and Prefect home, not at the copy's (which DVC deletes afterwards)."""
    # dvc.yaml's commands call `python`: make it this interpreter, whatever started the server
    search_path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return {
        **os.environ,
        **paths.as_environment(),
        "PREFECT_HOME": str(paths.prefect_home),
        "PATH": search_path,
    }


def run_logged(command: Sequence[str], cwd: Path, env: Mapping[str, str]) -> str:
    """Run a command, forwarding every output line to the log (the dashboard's run logs); its output."""
    logger.info("running %s", " ".join(command))
    tail: deque[str] = deque(maxlen=40)
    lines = []
    with subprocess.Popen(
        command, cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        for line in process.stdout:
            line = line.rstrip()
            logger.info("%s", line)
            tail.append(line)
            lines.append(line)
    if process.returncode:
        raise RuntimeError(f"{command[0]} exited with {process.returncode}:\n" + "\n".join(tail))
    return "\n".join(lines)


def experiment_file(repo: Path, experiment: str, path: str) -> str:
    """A file as the experiment committed it (DVC keeps each experiment as a git ref)."""
    refs = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname)", "refs/exps"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    matches = [r for r in refs if r.rsplit("/", 1)[-1] == experiment]
    if not matches:
        raise RuntimeError(f"DVC reported experiment {experiment}, but no git ref under refs/exps has it")
    return subprocess.run(
        ["git", "show", f"{matches[0]}:{path}"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def run_study(repo: Path, request: StudyRequest, name: str | None = None) -> StudyOutcome:
    """Validate the request, run the study as a DVC experiment, and return its name and report."""
    overrides = request.overrides()
    checked_config(repo, overrides)
    output = run_logged(dvc_command(overrides, name), repo, study_environment(ProjectPaths.current()))
    found = RAN.search(output)
    if found is None:
        raise RuntimeError(f"dvc exp run did not name its experiment; its output ended:\n{output[-2000:]}")
    experiment = found.group(1)
    logger.info(
        "DVC experiment %s: `dvc exp show` lists it, `dvc exp apply %s` applies it", *[experiment] * 2
    )
    return StudyOutcome(experiment, overrides, experiment_file(repo, experiment, REPORT_FILE))


def reproduce(repo: Path, stage: str | None = None) -> None:
    """`dvc repro` in the workspace (all stages, or one and what it depends on): a scheduled rebuild
    with params.yaml as it is, which updates dvc.lock as any `dvc repro` does."""
    run_logged([*DVC, "repro", *([stage] if stage else [])], repo, study_environment(ProjectPaths.current()))
