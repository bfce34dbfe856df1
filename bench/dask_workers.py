"""Wall time of the crossval flow on 2 Dask worker processes against 1, measured here in one run.

The tiny case of the tests (a 2-layer, hidden-32 BERT and a CNN on short generated texts), scaled up so a
fold takes a few seconds. Each LocalCluster's workers import the stack before the clock starts: what is
compared is fold throughput, not start-up. Everything lives in a temporary directory, with a temporary
Prefect server.

    python bench/dask_workers.py [--folds 4] [--per-class 64] [--epochs 8]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, for flows/
from distilbench.config.environment import configure_environment  # noqa: E402  (imports no prefect or mlflow)
from distilbench.core import paths  # noqa: E402
from distilbench.models.tiny import tiny_rows, write_tiny_model  # noqa: E402


def write_params(root: Path, args: argparse.Namespace, model_dir: Path, seed: int, address: str) -> Path:
    data = root / "tiny.csv"
    if not data.is_file():
        pd.DataFrame(tiny_rows(args.per_class), columns=["text", "label"]).to_csv(data, index=False)
    params = {
        "seed": seed,  # its own per run: no fold comes from the other run's cache
        "experiment": f"bench-{seed}",
        "data": {"folds": args.folds, "datasets": [{"name": "tiny", "source": "file", "path": str(data)}]},
        "models": {
            "zoo": "tiny",
            "zoos": {
                "tiny": {
                    "teacher": "teacher",
                    "models": [
                        {"name": "teacher", "source": "local", "id": str(model_dir)},
                        {"name": "cnn", "kind": "cnn"},
                    ],
                }
            },
        },
        "train": {"epochs": args.epochs, "batch_size": 8, "max_length": 32, "learning_rate": 1e-2},
        "crossval": {"dask_address": address},
    }
    path = root / f"params-{seed}.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def warm_up() -> None:
    import distilbench.crossval.stage  # noqa: F401 - torch, transformers, mlflow
    import flows.crossval  # noqa: F401 - prefect


def timed_crossval(workers: int, root: Path, args: argparse.Namespace, model_dir: Path) -> float:
    from distributed import Client, LocalCluster

    from flows.crossval import crossval
    from flows.prepare import prepare

    with LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        with Client(cluster) as client:
            client.run(warm_up)
        params = write_params(root, args, model_dir, seed=workers, address=cluster.scheduler_address)
        prepared = root / f"prepared-{workers}"
        prepare(params=str(params), out=str(prepared))
        start = time.perf_counter()
        crossval(params=str(params), prepared=str(prepared), results=str(root / f"results-{workers}.json"))
        return time.perf_counter() - start


def throwaway_stores(root: Path) -> None:
    """Every store (MLflow, Prefect, caches) under `root`, whatever the developer exported: set before
    prefect or mlflow is imported, since they read it at import."""
    stores = (paths.TRACKING_URI_ENV, paths.ARTIFACTS_ENV, paths.CACHE_ENV, "PREFECT_HOME", "PREFECT_API_URL")
    for key in stores:
        os.environ.pop(key, None)
    configure_environment(root)
    os.environ["DISTILBENCH_PROGRESS"] = "0"


def both_runs(root: Path, args: argparse.Namespace) -> tuple[float, float]:
    model_dir = write_tiny_model(root / "tiny-bert")
    return timed_crossval(1, root, args, model_dir), timed_crossval(2, root, args, model_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--per-class", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"  # one torch thread per worker process, inherited by the workers

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        throwaway_stores(root)
        from prefect.testing.utilities import prefect_test_harness  # after the stores are pointed at tmp

        with prefect_test_harness(server_startup_timeout=90):
            one, two = both_runs(root, args)
    tasks = 2 * args.folds
    print(f"crossval of {tasks} fold tasks ({args.folds} folds x teacher + cnn), {os.cpu_count()} cores")
    print(f"{'dask workers':<14}{'wall s':>8}{'x 1 worker':>12}")
    print(f"{1:<14}{one:>8.1f}{1.0:>11.2f}x")
    print(f"{2:<14}{two:>8.1f}{one / two:>11.2f}x")


if __name__ == "__main__":
    main()
