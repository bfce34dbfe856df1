"""What a stage's console shows: one line per pipeline event and the project's progress bars, no library
chatter; a stage that fails on bad input ends on its one error line.

Each case is a subprocess, as a user runs it (the console is configured per process), reporting to the
test session's Prefect server.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.data.conftest import ROWS, csv_text
from tests.end_to_end.test_cli_errors import edit_params, run

# what the libraries printed before the console was quieted (issue 35's count of one `make run`)
CHATTER = (
    "LOAD REPORT",
    "| UNEXPECTED",
    "| MISSING",
    "Loading weights",
    "Writing model shards",
    "CloudPickle",
    "Add type hints",
    "docs.prefect.io",
    "Still processing items",
    "Creating initial MLflow database tables",
)
# the project's own lines: core.logs' format, from the project's loggers or Prefect's run loggers
EVENT = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING|ERROR) "
    r"(distilbench(\.\w+)*|prefect|prefect\.flow_runs|prefect\.task_runs): \S"
)
BAR = re.compile(r"^\S+ \| \S+ \| fold \d+/\d+ epoch \d+/\d+:")  # training.loop's tqdm bar


def console_lines(text: str) -> list[str]:
    """The lines a terminal shows, a progress bar's redraws (carriage returns) each its own line."""
    return [line.strip() for line in re.split(r"[\r\n]", text) if line.strip()]


# a crossval subprocess: ~150 s on a loaded 2-core VM; tests/core/test_logs.py is the fast guard
@pytest.mark.slow
def test_a_stage_prints_its_events_and_bars_and_no_library_chatter(project: Path, monkeypatch) -> None:
    """The tiny teacher gets a new head on a headless checkpoint (transformers' LOAD REPORT and its
    weight-loading bar), is saved (the shard bar) and logged to a fresh MLflow store (its table lines)."""
    from distilbench.config.settings import load_config
    from distilbench.data.prepared import prepare_all

    edit_params(project, lambda raw: raw.update(train={"epochs": 1, "batch_size": 8, "max_length": 32}))
    monkeypatch.chdir(project)
    prepare_all(load_config(Path("params.yaml")).datasets, 42, Path("data/prepared"))
    done = run(["crossval"], project, DISTILBENCH_PROGRESS="1")
    assert done.returncode == 0, done.stderr
    lines = console_lines(done.stderr + done.stdout)
    assert [line for line in lines if any(sign in line for sign in CHATTER)] == []
    assert [line for line in lines if not (EVENT.match(line) or BAR.match(line))] == []
    assert any(BAR.match(line) for line in lines) and any("fold 2/2: accuracy" in line for line in lines)


def test_a_stage_failing_on_bad_input_ends_on_its_one_error_line(project: Path) -> None:
    (project / "data.csv").write_text(csv_text([*ROWS, ("no label", "NaN")]))
    done = run(["prepare"], project)
    assert done.returncode == 2, done.stderr
    lines = console_lines(done.stderr)
    assert lines[-1].startswith("error: ") and sum(line.startswith("error: ") for line in lines) == 1
    assert not [line for line in lines if not (EVENT.match(line) or line.startswith("error: "))]
