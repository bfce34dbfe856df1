"""The fault-injection suite: a study run as a user runs it (the `distilbench crossval` command, on a
throwaway project reporting to the session's Prefect server), a fault injected at a chosen moment, then
the study rerun and checked whole (:func:`assert_study_whole`).

Every test here is marked `faults`; those that start and stop real servers, and variations on a path a
fast test takes already, are `slow` too (CI's budget). CI runs the fast ones with the rest of the suite;
`make test-faults` runs them all.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import pytest

from distilbench.crossval.mlflow_runs import FOLD_KEY
from tests.end_to_end.conftest import Project, make_project, prefect_results, tiny_model  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
MODELS = [tiny_model("teacher"), tiny_model("student", layers=[1], distil_from="teacher")]
FOLDS = 3
PLANNED = len(MODELS) * FOLDS
# long enough for a fault to land inside a fold (an epoch of the tiny model takes tens of milliseconds)
EPOCHS = 40
OLD_RESULTS = '{"the previous results": true}'


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/faults/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.faults)


@pytest.fixture(scope="session", autouse=True)
def prefect_for_faults(prefect_server):
    yield


@pytest.fixture
def study(make_project) -> Project:  # noqa: F811 - the fixture imported above
    """Teacher and distilled student on 3 folds of the tiny dataset, prepared, with a previous results
    file in place (a fault must leave it as it was, or replace it whole)."""
    from flows.prepare import prepare

    project = make_project(models=MODELS, folds=FOLDS, epochs=EPOCHS)
    project.raw["crossval"] = {"max_workers": 1}  # one fold at a time: the fault lands where the test says
    project.save()
    prepare(params=project.params, out=project.prepared)
    Path(project.results).parent.mkdir(parents=True, exist_ok=True)
    Path(project.results).write_text(OLD_RESULTS)
    return project


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class Command:
    """A `distilbench` command running in a subprocess, its merged output read line by line as it comes."""

    process: subprocess.Popen
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 240) -> str:
        """The first output line matching `pattern`, once it is printed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((line for line in list(self.lines) if re.search(pattern, line)), None)
            if found:
                return found
            if self.process.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no line matched {pattern!r}:\n" + "\n".join(self.lines[-40:]))

    def finish(self, timeout: float = 300) -> int:
        code = self.process.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return code

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def trained(self) -> list[str]:
        """The fold labels this command trained (each fold logs its first epoch once)."""
        return [
            m.group(1)
            for line in self.lines
            if (m := re.search(r"(\S+ \| \S+ \| fold \d+/\d+) epoch 1/", line))
        ]


def start(
    project: Project, *args: str, fault: str | None = None, prefect_api: str | None = None, **env
) -> Command:
    """`distilbench <args>` in the project's folder, through tests/faults/inject.py (which plants `fault`
    first); it reports to `prefect_api`, else to the test session's Prefect server."""
    from prefect.settings import PREFECT_API_URL

    # this checkout's src first: the venv's editable install may be another checkout's (a git worktree)
    pythonpath = os.pathsep.join([str(REPO / "src"), str(REPO)])
    environment = {**os.environ, "PYTHONPATH": pythonpath, "DISTILBENCH_PROGRESS": "0", **env}
    environment["PREFECT_API_URL"] = prefect_api or PREFECT_API_URL.value()
    environment.pop("FAULT", None)
    if fault:
        environment["FAULT"] = fault
    command = [sys.executable, "-m", "tests.faults.inject", *args]
    process = subprocess.Popen(
        command,
        cwd=project.root,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return Command(process)


def crossval_args(project: Project) -> list[str]:
    return [
        "crossval",
        "--params",
        project.params,
        "--prepared",
        project.prepared,
        "--results",
        project.results,
    ]


def start_crossval(project: Project, **kwargs) -> Command:
    return start(project, *crossval_args(project), **kwargs)


def measured(what: str, seconds: float) -> None:
    """A figure for docs/reliability.md: `pytest -s -m faults tests/faults | grep MEASURED` lists them."""
    print(f"\nMEASURED {what}: {seconds:.1f} s")


def rerun(project: Project, fault: str = "") -> list[str]:
    """The study's crossval rerun in this process; returns the fold labels it trained (cached folds and
    folds kept unlogged are not trained again). Its duration is printed as measured for `fault`."""
    import distilbench.crossval.stage as stage
    from flows.crossval import crossval

    started = time.monotonic()
    with mock.patch.object(stage, "compute_fold", wraps=stage.compute_fold) as compute_fold:
        crossval(params=project.params, prepared=project.prepared, results=project.results)
    trained = [call.args[0].label for call in compute_fold.call_args_list]
    measured(f"rerun after {fault or 'the fault'} ({len(trained)} folds trained)", time.monotonic() - started)
    return trained


def error_lines(command: Command, prefix: str = "error:") -> list[str]:
    return [line for line in command.lines if line.startswith(prefix)]


TRACEBACK_SIGNS = ("Traceback", "Encountered exception", "Finished in state Failed")


def assert_no_traceback(command: Command) -> None:
    """No traceback, and no ERROR line besides the command's own one line."""
    assert not any(sign in command.output for sign in TRACEBACK_SIGNS), command.output[-4000:]
    assert not [line for line in command.lines if " ERROR " in line], command.output[-4000:]


def assert_left_resumable(project: Project, prepared_digest: str, unmarked: bool = False) -> list:
    """What a fault may leave: no run RUNNING, no fold logged twice, every logged fold FINISHED (a fold
    whose logging failed is FAILED, and deleted by the rerun), prepared data and results as they were.

    `unmarked`: nothing could mark the runs FAILED (a process killed, a Dask worker orphaned by its
    scheduler and then killed, the store itself away): they stay RUNNING until the rerun closes them."""
    runs = project.runs()
    if not unmarked:
        assert [r.info.run_name for r in runs if r.info.status == "RUNNING"] == []
    finished = [r for r in project.children() if r.info.status == "FINISHED"]
    keys = [r.data.tags[FOLD_KEY] for r in finished]
    assert len(keys) == len(set(keys)), "a fold logged twice"
    assert tree_digest(Path(project.prepared)) == prepared_digest
    assert Path(project.results).read_text() == OLD_RESULTS
    return finished


def assert_study_whole(project: Project, prepared_digest: str) -> None:
    """The issue's bar after the rerun: folds in results = folds planned, MLflow children FINISHED = folds,
    none twice, none RUNNING, prepared data unchanged, results replaced whole."""
    runs = project.runs()
    assert [r.info.run_name for r in runs if r.info.status == "RUNNING"] == []
    children = project.children()
    assert sorted(c.info.status for c in children) == ["FINISHED"] * PLANNED
    keys = [c.data.tags[FOLD_KEY] for c in children]
    assert len(set(keys)) == PLANNED
    results = json.loads(Path(project.results).read_text())
    assert len({(f["model"], f["fold"]) for f in results["folds"]}) == PLANNED == len(results["folds"])
    assert {f["run_id"] for f in results["folds"]} == {c.info.run_id for c in children}
    assert tree_digest(Path(project.prepared)) == prepared_digest
    assert not list(Path(os.environ["DISTILBENCH_CACHE"]).glob("unlogged/*")), "a computed fold never logged"
