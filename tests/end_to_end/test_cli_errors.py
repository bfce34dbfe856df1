"""The stage commands as a user runs them: a user error is one `error:` line on stderr and exit code 2,
with or without a Prefect server; a bug keeps its traceback.

Each case is a subprocess (Prefect's loggers are configured per process). Most report to the test
session's Prefect server, which keeps them to a few seconds each; one runs without a server, as a
first-time user does (a temporary server starts).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.data.conftest import ROWS, csv_text
from tests.results import results_json

TRACEBACK_SIGNS = ("Traceback", "Encountered exception", "Finished in state Failed")


def run(args: list[str], cwd: Path, server: bool = True, **env: str) -> subprocess.CompletedProcess:
    from prefect.settings import PREFECT_API_URL

    environment = {**os.environ, **env}
    environment.pop("PREFECT_API_URL", None)
    if server:  # the test session's server (prefect_test_harness): no temporary server to start
        environment["PREFECT_API_URL"] = PREFECT_API_URL.value()
    command = [sys.executable, *args] if args[0] == "-c" else [sys.executable, "-m", "distilbench", *args]
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=300)


def assert_one_error_line(done: subprocess.CompletedProcess, message: str) -> None:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert done.returncode == 2, done.stderr
    assert len(errors) == 1, done.stderr
    assert lines[-1] == errors[0], done.stderr  # the last line: no library warning or note after it
    assert re.search(message, errors[0]), errors[0]
    assert not any(sign in done.stderr + done.stdout for sign in TRACEBACK_SIGNS), done.stderr


def edit_params(project: Path, change) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    change(params)
    (project / "params.yaml").write_text(yaml.safe_dump(params))


def test_bad_data_in_prepare_is_one_line_and_changes_nothing(project: Path, monkeypatch) -> None:
    from distilbench.config.settings import load_config
    from distilbench.data.prepared import prepare_all

    monkeypatch.chdir(project)  # what the stage did before: prepared from good data
    prepare_all(load_config(Path("params.yaml")).datasets, 42, Path("data/prepared"))
    before = {p.name: p.read_bytes() for p in (project / "data/prepared/tiny").iterdir()}
    (project / "data.csv").write_text(csv_text([*ROWS, ("no label", "NaN")]))
    assert_one_error_line(run(["prepare"], project), r"data\.csv, line 14, column 'label': missing label$")
    assert {p.name: p.read_bytes() for p in (project / "data/prepared/tiny").iterdir()} == before


def test_without_a_prefect_server_too(project: Path) -> None:
    (project / "data.csv").write_text(csv_text(ROWS[:3]) + '"no end,ham\n' + csv_text()[11:])
    done = run(["prepare"], project, server=False)
    assert_one_error_line(done, r"data\.csv, line 5: a quote opened on this line is not closed")


@pytest.mark.parametrize(
    ("stage", "break_it", "message"),
    [
        (
            "prepare",
            lambda p: (p / "params.yaml").write_text("data:\n  folds: 2\n datasets: []\n"),
            r"line 3, column 2",
        ),
        ("check", lambda p: edit_params(p, lambda raw: raw.pop("models")), None),  # data only: valid
        ("crossval", lambda p: None, r"data/prepared: no such folder; run the prepare stage first"),
        ("report", lambda p: None, r"results/crossval\.json: no crossval results; run the crossval stage"),
        ("select", lambda p: None, r"reports/metrics\.json: no such file; run the report stage first$"),
        (
            "select",
            lambda p: (
                (p / "reports").mkdir(),
                (p / "reports" / "metrics.json").write_text(
                    '{"tiny": {"t": {"accuracy_mean": 0.9}, "t+onnx-int9": {"accuracy_mean": 0.9}}}'
                ),
                edit_params(p, lambda raw: raw.update(select={"model": "t+onnx-int9"})),
            ),
            r"select\.model: 't\+onnx-int9' has an unknown variant 'onnx-int9'",
        ),
    ],
    ids=[
        "yaml-syntax",
        "check-data-only",
        "crossval-before-prepare",
        "report-before-crossval",
        "select-before-report",
        "select-unknown-variant",
    ],
)
def test_stage_commands(project: Path, stage, break_it, message) -> None:
    break_it(project)
    done = run([stage], project)
    if message is None:
        assert done.returncode == 0, done.stderr
    else:
        assert_one_error_line(done, message)


def test_a_model_folder_without_tokenizer(project: Path, tiny_model_dir: Path) -> None:
    import shutil

    shutil.copytree(tiny_model_dir, project / "bare", ignore=shutil.ignore_patterns("*token*", "vocab*"))
    edit_params(project, lambda p: p["models"]["zoos"]["z"]["models"][0].update(id="bare"))
    assert_one_error_line(run(["crossval"], project), r"local model 'bare' has no tokenizer")


def test_an_mlflow_store_that_cannot_be_written(project: Path) -> None:
    (project / "store").mkdir()
    done = run(["crossval"], project, MLFLOW_TRACKING_URI=f"sqlite:///{project / 'store'}")
    assert_one_error_line(done, r"MLflow store .*store: is a directory, not a sqlite file")


def test_a_full_disk_while_the_report_is_written_keeps_the_old_report(project: Path) -> None:
    (project / "results").mkdir()
    (project / "results" / "crossval.json").write_text(results_json())
    (project / "reports").mkdir()
    for name in ("comparison.md", "comparison.csv", "metrics.json", "tradeoff.png"):
        (project / "reports" / name).write_text(f"the previous {name}")
    before = {p.name: p.read_bytes() for p in (project / "reports").iterdir()}
    code = (
        "import errno, sys\n"
        "from distilbench.report import stage as report\n"
        "from distilbench.cli import main\n"
        "def full(*a, **k): raise OSError(errno.ENOSPC, 'No space left on device')\n"
        "report.plot_tradeoff = full\n"
        "sys.exit(main(['report']))\n"
    )
    assert_one_error_line(
        run(["-c", code], project), r"reports: cannot be written \(No space left on device\)"
    )
    assert {p.name: p.read_bytes() for p in (project / "reports").iterdir()} == before


def test_a_bug_keeps_its_traceback(project: Path) -> None:
    code = (
        "import sys; from distilbench.data import prepared; from distilbench.cli import main\n"
        "def bug(*a, **k): return {}['no such key']\n"
        "prepared.plan_dataset = bug\n"
        "sys.exit(main(['prepare']))\n"
    )
    done = run(["-c", code], project)
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "KeyError: 'no such key'" in done.stderr
    assert not any(line.startswith("error:") for line in done.stderr.splitlines())
