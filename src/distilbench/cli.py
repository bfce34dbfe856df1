"""The `distilbench` command: each pipeline stage, `check`, and `env`, behind one entry point.

Every command loads params.yaml once, with :func:`~distilbench.config.settings.load_config`, before Prefect,
MLflow or transformers are imported, and derives the environment (paths, offline flags) from it. A
user's mistake prints one ``error:`` line and exits 2; a bug keeps its traceback.

    distilbench prepare  [--params params.yaml] [--out data/prepared]
    distilbench crossval [--params params.yaml] [--prepared data/prepared] [--results results/crossval.json]
    distilbench report   [--params params.yaml] [--results results/crossval.json] [--out reports]
    distilbench select   [--params params.yaml] [--prepared data/prepared] [--metrics reports/metrics.json]
                         [--out reports/champion.json] [--models models] [--results results/crossval.json]
    distilbench check    [--params params.yaml]
    distilbench repro    [DVC_REPRO_ARGS ...]  # `dvc repro` under one temporary Prefect server (make run)
    distilbench env      # the paths in force, as shell exports (the Makefile's UI targets use them)
    distilbench serve    [--port 4200]  # this clone's Prefect server (if not up) + its deployments
    distilbench predict  --model models:/distilbench-bbc@champion|<folder> [TEXT ...]  # or JSONL on stdin
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from distilbench.config.environment import (
    check_prefect_server,
    configure_environment,
    lost_prefect_server,
    prefect_server_home,
    start_prefect_server,
)
from distilbench.config.settings import Config, load_config
from distilbench.core import detached, paths, stop
from distilbench.core.clone_lock import one_run_per_clone
from distilbench.core.errors import PrefectServerLost, is_user_error, user_message
from distilbench.core.logs import configure_console
from distilbench.core.temporary_server import start_temporary_server, stop_started
from distilbench.pipeline.stages import STAGES

# set by `distilbench repro` to the temporary server it started for its stages, so they call it temporary
RUN_SERVER_ENV = "DISTILBENCH_RUN_PREFECT_SERVER"
DRAIN_SECONDS = 3.0  # for Prefect's last logs and events after a stop (a live server takes well under 1 s)


def check(cfg: Config) -> list[str]:
    """Everything that can be checked before training; returns one line per verified item."""
    from distilbench.models.zoo import check_zoo, model_location

    if cfg.data is None:
        cfg.require("models")  # nothing at all to check otherwise
    lines = [f"dataset {d.name}: {d.source} {d.id or d.path or ''}".rstrip() for d in _datasets(cfg)]
    if cfg.models is None:
        return [*lines, "models: not configured (only the prepare stage can run)"]
    check_zoo(cfg.zoo)
    lines += [
        f"model {m.name}: {m.kind} {model_location(m) if m.kind == 'transformer' else ''}".rstrip()
        for m in cfg.zoo.models
    ]
    return lines if cfg.data is not None else [*lines, "data: not configured (prepare cannot run)"]


def _datasets(cfg: Config) -> tuple:
    return cfg.data.datasets if cfg.data is not None else ()


def run_stage(stage: str, arguments: dict[str, str]) -> None:
    """Validate what the stage reads, then run its Prefect flow (imported only now)."""
    if "params" in arguments:
        cfg = load_config(Path(arguments["params"]))
        if stage != "report":  # the report reads only `select`, whose defaults always apply
            cfg.require("data" if stage == "prepare" else "models")
    else:
        cfg = None
    project = configure_environment(Path.cwd(), cfg)
    with one_run_per_clone(project.cache, f"distilbench {stage}"):
        temporary = report_to_a_prefect_server()
        announce(project, temporary)
        flow: Callable = getattr(importlib.import_module(f"flows.{stage}"), stage)
        try:
            flow(**arguments)
        except Exception as error:
            lost = lost_prefect_server(error)
            if lost is None:
                raise
            raise lost from error


def report_to_a_prefect_server() -> bool:
    """Check an exported PREFECT_API_URL answers, or start a temporary server and export its URL (Prefect's
    own would die with the stage's process group: core.temporary_server). True when one was started."""
    check_prefect_server()
    if "PREFECT_API_URL" in os.environ or not detached.supported():
        return False
    timeout = float(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"])
    os.environ["PREFECT_API_URL"] = start_temporary_server(timeout).api_url
    return True


def announce(project: paths.ProjectPaths, temporary: bool = False) -> None:
    prefect = os.environ.get("PREFECT_API_URL")
    shared = prefect is not None and os.environ.get(RUN_SERVER_ENV) == prefect
    if prefect is None or temporary or shared:
        where = f" at {prefect}" if prefect else ""
        whose = ", one for all the stages of this `distilbench repro`" if shared else ""
        prefect = f"a temporary Prefect server{where}{whose} (start `make ui` to keep runs)"
        other = prefect_server_home()
        if other is not None:  # a server is up, but not this clone's (configure_environment checked)
            prefect += (
                f"; the server on {paths.PREFECT_SERVER} belongs to {other}: "
                f"export PREFECT_API_URL={paths.PREFECT_SERVER} to report there instead"
            )
    logging.getLogger("distilbench").info(
        "reporting to MLflow %s and Prefect %s", project.tracking_uri, prefect
    )


def repro(dvc_arguments: list[str]) -> int:
    """`dvc repro` with one temporary Prefect server for all the stages it runs (`make run`): each stage
    alone starts its own (a stage began 10-13 s after the one before it, 2-5 s with one server:
    docs/development.md). With PREFECT_API_URL exported
    (`make ui`), the stages report there instead. Returns dvc's exit code.

    A terminal's Ctrl-C reaches dvc and the stage itself (the whole process group); this process only
    waits for them and then stops the server, so a stage never loses its server while it stops."""
    configure_environment(Path.cwd())
    if report_to_a_prefect_server():
        os.environ[RUN_SERVER_ENV] = os.environ["PREFECT_API_URL"]
    # dvc.yaml's commands call `python`: this interpreter, as the Makefile's PATH makes it
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    child = subprocess.Popen([sys.executable, "-m", "dvc", "repro", *dvc_arguments])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the child has it too: its stage stops cleanly
    for number in (signal.SIGTERM, signal.SIGHUP):  # sent to this process alone: passed on
        signal.signal(number, lambda received, _frame: child.send_signal(received))
    return child.wait()


def print_environment() -> None:
    configure_environment(Path.cwd())
    for key in (paths.TRACKING_URI_ENV, paths.ARTIFACTS_ENV, paths.CACHE_ENV, "PREFECT_HOME"):
        print(f"export {key}={shlex.quote(os.environ[key])}")
    if Path(paths.PARAMS_FILE).is_file():  # the experiment the MLflow UI opens on (mlflow_app)
        experiment = load_config(Path(paths.PARAMS_FILE)).experiment
        print(f"export {paths.EXPERIMENT_ENV}={shlex.quote(experiment)}")


def serve(port: int) -> None:
    """Serve the deployments (flows/serve.py) to this clone's Prefect server, started here if not up.

    Ctrl-C stops serving first, then the server if this command started it (the order Prefect needs).
    """
    cfg = load_config(Path(paths.PARAMS_FILE))
    project = configure_environment(Path.cwd(), cfg)
    url = os.environ.get("PREFECT_API_URL") if port == paths.PREFECT_PORT else None
    server = None if url else start_prefect_server(project, url := paths.prefect_api(port))
    os.environ["PREFECT_API_URL"] = url
    logging.getLogger("distilbench").info("dashboard: %s (Deployments page)", url.removesuffix("/api"))
    try:
        importlib.import_module("flows.serve").main()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="distilbench", description=__doc__.split("\n\n")[0])
    commands = root.add_subparsers(dest="command", required=True)
    for stage, defaults in STAGES.items():
        sub = commands.add_parser(stage, help=f"run the {stage} stage (a Prefect flow)")
        for name, default in defaults.items():
            sub.add_argument(f"--{name}", default=default, help=f"(default: {default})")
    commands.add_parser("check", help="validate params.yaml and locate datasets and models").add_argument(
        "--params", default=paths.PARAMS_FILE
    )
    commands.add_parser("env", help="print the paths in force as shell exports")
    # its arguments, options included, are dvc's (main passes on what argparse does not know)
    commands.add_parser(
        "repro", help="dvc repro under one temporary Prefect server for all its stages (make run)"
    )
    commands.add_parser("serve", help="serve the deployments to the Prefect dashboard").add_argument(
        "--port", type=int, default=paths.PREFECT_PORT, help="of this clone's Prefect server on 127.0.0.1"
    )
    predict = commands.add_parser(
        "predict",
        help="classify texts with a saved or registered model",
        description='Classify the TEXTs given, else JSON Lines ({"text": ...} per line) read from stdin; '
        'writes JSON Lines: {"text", "label", "probabilities": {label: p}}.',
    )
    predict.add_argument(
        "--model", required=True, help="models:/<name>@<alias>, models:/<name>/<version> or a saved folder"
    )
    predict.add_argument("texts", nargs="*", metavar="TEXT", help="texts to classify (default: stdin)")
    return root


def predict_texts(model: str, texts: list[str]) -> None:
    """The MLflow store of this clone (or params.yaml's tracking.uri) holds the registered models."""
    from transformers.utils import logging as transformers_logging

    from distilbench.deploy.predict import predict

    transformers_logging.disable_progress_bar()  # stdout is the answer; a "Loading weights" bar is noise
    params = Path(paths.PARAMS_FILE)
    configure_environment(Path.cwd(), load_config(params) if params.is_file() else None)
    predict(model, texts, sys.stdin, sys.stdout)


def main(argv: list[str] | None = None) -> int:
    root = parser()
    known, unknown = root.parse_known_args(argv)
    args = vars(known)
    command = args.pop("command")
    if unknown and command != "repro":
        root.error(f"unrecognized arguments: {' '.join(unknown)}")
    configure_console()
    stop.install_handlers()
    try:
        if command == "env":
            print_environment()
        elif command == "predict":
            predict_texts(args["model"], args["texts"])
        elif command == "serve":
            serve(args["port"])
        elif command == "repro":
            return repro(unknown)
        elif command == "check":
            for line in check(load_config(Path(args["params"]))):
                print(f"ok  {line}")
            print(f"{args['params']}: valid")
        else:
            run_stage(command, args)
    except Exception as error:
        if not is_user_error(error):
            raise  # a bug: its traceback is what a developer needs
        # a mistake in params.yaml or the data, or a full disk: the message says where; a traceback
        # would bury it
        print(f"error: {user_message(error)}", file=sys.stderr)
        if isinstance(error, PrefectServerLost):
            exit_without_draining(2)
        return 2
    except BaseException as error:
        # Ctrl-C, or SIGTERM (as Prefect re-raises it inside a flow): every finished fold is logged and
        # cached, the running ones stopped before logging, the outputs are the old ones
        if not is_stop(error):
            raise
        name = stop.stopping_signal(error)
        with contextlib.suppress(OSError):  # SIGHUP: the terminal may be gone
            print(stopped_line(command, name), file=sys.stderr)
        exit_after_stop(stop.EXIT_CODES[name])
    return 0


def exit_after_stop(code: int) -> NoReturn:
    """Exit as soon as a stop is handled (the running folds stopped, the MLflow parents marked, the flow
    run's state reported, the `stopped:` line printed): Python's own teardown of torch, transformers,
    MLflow and Prefect took 5 s more on the 2-core machine, and a terminal's Ctrl-C left the stage up for
    10 s. All that is left to send is Prefect's queued logs and events (bounded here); then the temporary
    Prefect server is stopped, since `atexit` will not run."""
    if "prefect" in sys.modules:  # a stop before any flow started has nothing queued
        from flows.queues import drain_prefect_queues

        drain_prefect_queues(DRAIN_SECONDS)
    stop_started()
    exit_without_draining(code)


def exit_without_draining(code: int) -> NoReturn:
    """Exit now: at a normal exit Prefect waits to send its queued logs and events to a server that is
    gone, retrying each for minutes. The run's own state is all written already (MLflow, the cache)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def is_stop(error: BaseException) -> bool:
    """Ctrl-C, or a SIGTERM that Prefect's own handler turned into its TerminationSignal (which carries
    the signal number) inside a flow."""
    return isinstance(error, KeyboardInterrupt) or getattr(error, "signal", None) in stop.SIGNALS


def stopped_line(command: str, signal_name: str) -> str:
    how = "Ctrl-C" if signal_name == "SIGINT" else signal_name
    return (
        f"stopped: `distilbench {command}` ended cleanly on {how}; what finished is kept (finished folds "
        "are logged and cached): rerun the same command, or `dvc repro`, to resume"
    )


if __name__ == "__main__":
    sys.exit(main())
