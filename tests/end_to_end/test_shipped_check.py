"""CI's `distilbench check` on the shipped params.yaml: the real packaged config and weights, in seconds.

The slow tests load the shipped params.yaml to train; this is the fast suite's look at it. It runs the
command a user runs (a subprocess, its console output), so a shipped zoo naming a checkpoint the
install does not provide, or a key the config no longer accepts, fails `make test`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from distilbench.config.settings import read_yaml
from distilbench.core.paths import PARAMS_FILE

REPO = Path(__file__).resolve().parents[2]


def test_check_passes_on_the_shipped_params_and_names_every_dataset_and_model(tmp_path: Path):
    params = REPO / PARAMS_FILE
    shipped = read_yaml(params)
    done = subprocess.run(
        [sys.executable, "-m", "distilbench", "check", "--params", str(params)],
        cwd=tmp_path,  # nothing it might write lands in the checkout
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == f"{params}: valid"
    checked = {line.split(":")[0].removeprefix("ok  ") for line in lines[:-1]}
    zoo = shipped["models"]["zoos"][shipped["models"]["zoo"]]["models"]
    assert checked == {f"dataset {d['name']}" for d in shipped["data"]["datasets"]} | {
        f"model {m['name']}" for m in zoo
    }
    for line in lines[:-1]:
        assert line.startswith("ok  ")
        if " transformer " in line:  # a packaged model: the directory of its real weights, on disk
            assert (Path(line.split(" transformer ")[1]) / "config.json").is_file(), line
