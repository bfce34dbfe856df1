"""Test harness: every test runs the real code path on tiny models and tiny data, with all state in tmp.

The environment is set before anything imports prefect, mlflow or transformers (they read it at import):
no test may touch the checkout's mlflow.db, .cache or the network.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from distilbench.config.environment import configure_environment  # noqa: E402
from distilbench.core import paths  # noqa: E402  (light: imports no prefect, mlflow or transformers)

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="distilbench-tests-"))
# every path under the session dir, whatever the developer exported: no test touches the checkout's state
for _key in (paths.TRACKING_URI_ENV, paths.ARTIFACTS_ENV, paths.CACHE_ENV, "PREFECT_HOME"):
    os.environ.pop(_key, None)
configure_environment(_SESSION_DIR)  # no config given: the hub is off, as for the default pipeline
os.environ.pop("PREFECT_API_URL", None)  # never log test runs into a developer's running dashboard
os.environ["DISTILBENCH_PROGRESS"] = "0"

import pytest  # noqa: E402
import torch  # noqa: E402

from distilbench.models.tiny import WORDS, tiny_rows, write_tiny_model  # noqa: E402, F401  (the tests import them from here)

torch.set_num_threads(1)  # CI machines have 2 cores; tests are tiny, so one thread is fastest


# the folders of long tests (subprocesses, servers, whole studies), run first: on make test's two xdist
# workers the short modules then fill the end, instead of one long module running there alone
LONG_FIRST = ("tests/faults/", "tests/end_to_end/")


def pytest_collection_modifyitems(config, items):
    """The long folders first (a stable sort: the order within each is kept); `gpu` tests need a CUDA
    device: skipped (and said so) on machines without one, such as CI."""
    items.sort(key=lambda item: not item.nodeid.startswith(LONG_FIRST))
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def prefect_server():
    """One Prefect test server for the session, started by the first test that runs a flow (the pipeline
    and fault tests): unit tests start none."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture
def cpu_only(monkeypatch):
    """For a test that asserts what a CPU host does (fold device "cpu", no autocast, the fingerprint's
    device): the same on a CUDA host, where the suite must pass too. Every device choice in the code goes
    through torch.cuda.is_available (runtime.pick_device, visible_gpus), in this process's fold threads."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture(scope="session")
def tiny_model_dir() -> Path:
    return write_tiny_model(_SESSION_DIR / "tiny-bert")


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    """A ~50-row CSV dataset with 3 balanced classes."""
    import pandas as pd

    path = tmp_path / "tiny.csv"
    pd.DataFrame(tiny_rows(), columns=["text", "label"]).to_csv(path, index=False)
    return path
