"""The README's several-machine setup: `mlflow server` on a real PostgreSQL backend store (Debian's
postgresql binaries, a throwaway cluster on a free port). `make test-postgres` runs it."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.end_to_end.servers import free_port, mlflow_server
from tests.end_to_end.test_mlflow_server import FOLDS, MODELS, check_runs_and_artifacts, run_against

pytestmark = pytest.mark.postgres


def postgres_bin() -> Path | None:
    found = shutil.which("initdb") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))), None)
    return Path(found).resolve().parent if found else None


def as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as Debian's `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture
def postgres() -> Iterator[str]:
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL's server binaries are not installed (Debian: apt-get install postgresql)")
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a `postgres` user to run the server as")
    home = Path(tempfile.mkdtemp(prefix="distilbench-pg-"))  # not under pytest's root-only tmp
    if os.geteuid() == 0:
        os.chown(home, owner.pw_uid, owner.pw_gid)
    data, port = home / "data", free_port()
    subprocess.run(
        as_postgres_user([str(bindir / "initdb"), "-D", str(data), "-U", "mlflow", "-A", "trust"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1"
    start = [
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        options,
        "-l",
        str(home / "log"),
        "-w",
        "-t",
        "60",
    ]
    subprocess.run(as_postgres_user([*start, "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql://mlflow@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_postgres_user([*start[:3], "-m", "fast", "stop"]), capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def test_crossval_tracks_to_an_mlflow_server_on_postgresql(postgres, make_project, tiny_csv, tmp_path):
    project = make_project(models=MODELS, folds=FOLDS)
    artifacts = tmp_path / "server-artifacts"
    with mlflow_server(postgres, artifacts, tmp_path / "mlflow.log") as uri:
        run_against(project, uri)
        check_runs_and_artifacts(project, artifacts)
