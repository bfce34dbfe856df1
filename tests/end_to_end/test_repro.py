"""`distilbench repro` (what `make run` runs): `dvc repro` with one temporary Prefect server that every
stage reports to, stopped when dvc is done.

A real dvc project in a temporary folder whose two stages each record the server they were given and
whether it answered; no model is trained.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from distilbench.cli import RUN_SERVER_ENV
from distilbench.core.temporary_server import answers

# each stage writes what a distilbench stage would see of its Prefect server
PROBE = (
    "import json, os, sys; from distilbench.core.temporary_server import answers; "
    "url = os.environ['PREFECT_API_URL']; "
    "json.dump({'url': url, 'shared': os.environ.get('" + RUN_SERVER_ENV + "'), 'answers': answers(url)}, "
    "open(sys.argv[1], 'w'))"
)


def dvc_project(root: Path) -> None:
    subprocess.run([sys.executable, "-m", "dvc", "init", "--no-scm", "-q"], cwd=root, check=True)
    stages = {
        name: {"cmd": f'{sys.executable} -c "{PROBE}" {name}.json', "outs": [f"{name}.json"]}
        for name in ("first", "second")
    }
    stages["second"]["deps"] = ["first.json"]
    (root / "dvc.yaml").write_text(json.dumps({"stages": stages}))


def test_every_stage_reports_to_one_temporary_server_which_stops_with_dvc(tmp_path: Path) -> None:
    dvc_project(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", RUN_SERVER_ENV)}
    done = subprocess.run(
        [sys.executable, "-m", "distilbench", "repro"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    seen = [json.loads((tmp_path / f"{name}.json").read_text()) for name in ("first", "second")]
    assert seen[0]["url"] == seen[1]["url"] == seen[0]["shared"] == seen[1]["shared"]
    assert seen[0]["answers"] and seen[1]["answers"]
    assert not answers(seen[0]["url"])  # stopped with dvc


def test_dvc_arguments_pass_through_and_its_exit_code_is_returned(tmp_path: Path) -> None:
    dvc_project(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "distilbench", "repro", "no-such-stage"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "no-such-stage" in done.stderr
