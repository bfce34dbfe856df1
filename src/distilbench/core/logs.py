"""What the terminal shows: the project's progress, library warnings, and a user's mistake in one line.

Entry points call :func:`configure_console` instead of ``logging.basicConfig``. Prefect's flow and task
engines log every exception they see with its traceback ("Encountered exception during execution", then
"Finished in state Failed(...)"); for a mistake the user can fix (see :func:`~distilbench.core.errors.
is_user_error`) that buries the one line that says what to fix, which the entry point prints itself. So
the console handler drops those records; Prefect's API handler still sends them to the dashboard, and a
real bug keeps its traceback everywhere.

Libraries are kept to what a user acts on (:func:`quiet_libraries`): each line dropped is matched by its
logger and its exact words, so any other warning of the same library still shows.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from distilbench.core.errors import USER_ERRORS, is_user_error
from distilbench.core.stop import stop_requested

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


# Prefect's task-run records that only repeat a user error: a fold task "Finished in state Failed('Task
# run encountered an exception StorageError: ...')" (no exc_info to recognise it by), and the tasks that
# waited on it, "NotReady(... did not reach a 'COMPLETED' state)"
ECHO_SIGNS = (
    *(f"encountered an exception {kind.__name__}:" for kind in USER_ERRORS),
    "did not reach a 'COMPLETED' state",
)


class UserErrorEcho(logging.Filter):
    """Drops a log record that carries a user error, and the later records that repeat its message."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if is_user_error(error):
            self.messages.add(_unescaped(str(error)))
            return False
        # "Finished in state Failed('...DataError: <message>')" has no exc_info, only the message, as
        # the repr of a string (quotes escaped): compared without backslashes
        text = _unescaped(record.getMessage())
        if any(sign in text for sign in ECHO_SIGNS):
            return False
        return not any(message in text for message in self.messages)


def _unescaped(text: str) -> str:
    return text.replace("\\", "")


class StopEcho(logging.Filter):
    """Once Ctrl-C or SIGTERM asked the run to stop (core.stop), drops Prefect's reports of that stop (a
    fold "Failed" with StopRequested, the flow "Crashed" by the interrupt): the entry point says it in
    one line. The dashboard still gets them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            stop_requested() and record.name.startswith("prefect") and record.levelno >= logging.ERROR
        )


# transformers 5 logs a "LOAD REPORT" table (logger transformers.modeling_utils, its own stderr handler)
# for every checkpoint whose keys differ from the model's. Two differences are by design here: an old
# checkpoint's stored `position_ids` buffer (UNEXPECTED; transformers 5 computes it), and the MISSING
# weights of a classification head put on a checkpoint that has none (its config.json names no
# *ForSequenceClassification architecture): the head is new, and training fits it. Any other row (a
# MISSING encoder or pooler weight, a saved classifier missing its head, a MISMATCH, a CONVERSION) keeps
# the table. The check lives here, not around the loading code, so the fold code (and its cache key)
# does not change with what the console shows.
LOAD_REPORT = " LOAD REPORT"
HEAD_KEYS = ("classifier.", "pre_classifier.")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_FROM = re.compile(r" LOAD REPORT from: (.+)")


def report_rows(message: str) -> list[tuple[str, str]]:
    """(key, status) for each row of a LOAD REPORT table, colours stripped."""
    rows = []
    for line in _ANSI.sub("", message).splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) >= 2 and cells[1] in {"UNEXPECTED", "MISSING", "MISMATCH", "CONVERSION"}:
            rows.append((cells[0], cells[1]))
    return rows


def has_no_head(message: str) -> bool:
    """Whether the checkpoint the report names is a local folder whose config has no classifier head."""
    found = _FROM.search(_ANSI.sub("", message))
    config = Path(found.group(1).strip()) / "config.json" if found else None
    if config is None or not config.is_file():
        return False  # a hub id or an unreadable path: shown, as nothing says the head is new
    try:
        architectures = json.loads(config.read_text(encoding="utf-8")).get("architectures") or []
    except (OSError, ValueError):
        return False
    return not any("ForSequenceClassification" in name for name in architectures)


def expected_load_report(message: str) -> bool:
    rows = report_rows(message)
    new_head = any(status == "MISSING" for _, status in rows) and has_no_head(message)

    def expected(key: str, status: str) -> bool:
        if status == "UNEXPECTED":
            return key.endswith("position_ids")
        return status == "MISSING" and new_head and key.startswith(HEAD_KEYS)

    return bool(rows) and all(expected(key, status) for key, status in rows)  # unparsed: shown


class LoadReport(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return LOAD_REPORT not in message or not expected_load_report(message)


class DropStarting(logging.Filter):
    """Drops the records whose message starts with one of `starts` (a logger's known chatter)."""

    def __init__(self, *starts: str) -> None:
        super().__init__()
        self.starts = starts

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.starts)


class FirstLineOnly(logging.Filter):
    """Keeps a record's first line when it starts with `start` (the rest is a tip that never changes)."""

    def __init__(self, start: str) -> None:
        super().__init__()
        self.start = start

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(self.start):
            record.msg, record.args = message.split("\n", 1)[0], ()
        return True


# Per logger, what is dropped and why. A logger's own filters see only the records logged on it, whatever
# handler prints them (transformers and MLflow print with their own).
LIBRARY_FILTERS: dict[str, tuple[logging.Filter, ...]] = {
    "transformers.modeling_utils": (LoadReport(),),
    # the project logs its own PythonModel object on purpose: the registered folder is what it serves
    "mlflow.pyfunc": (
        DropStarting(
            "Passing a Python object as `python_model` causes it to be serialized using CloudPickle",
            "Validating input example against model signature",
        ),
    ),
    "mlflow.store.db.utils": (
        DropStarting("Creating initial MLflow database tables", "Updating database tables"),
    ),
    # "Starting temporary server on <url>" stays, less its "See https://docs.prefect.io..." tip; its
    # "Stopping" comes at exit, after a failed stage's one error line
    "prefect": (
        FirstLineOnly("Starting temporary server on "),
        DropStarting("Stopping temporary server on "),
    ),
    # at exit Prefect's services count down what they still send: after the run's last line (often its one
    # error line); a failure to send still logs "Service ... failed" on another logger
    "EventsWorker": (DropStarting("Still processing items:"),),
    "APILogWorker": (DropStarting("Still processing items:"),),
}
# warnings.warn by MLflow at import of a PythonModel subclass without type hints: the served model takes
# a DataFrame or a list of texts on purpose, which one hint cannot say. A warnings filter does not hold
# it (MLflow puts a blanket "once" filter in front around its own calls), so the display drops it.
MLFLOW_TYPE_HINTS = re.compile(r"(\x1b\[[0-9;]*m)?Add type hints to the `predict` method")


def _without_chatter(show: Callable[..., None]) -> Callable[..., None]:
    """warnings.showwarning, less the warnings above (the documented hook for how warnings are shown)."""

    def showwarning(message, category, filename, lineno, file=None, line=None) -> None:
        if not MLFLOW_TYPE_HINTS.match(str(message)):
            show(message, category, filename, lineno, file, line)

    showwarning.quiet = True  # type: ignore[attr-defined]
    return showwarning


class _LinesWithout(io.TextIOBase):
    """A text stream that passes whole lines on to `target`, less those starting with `starts`."""

    def __init__(self, target: TextIO, starts: tuple[str, ...]) -> None:
        super().__init__()
        self.target, self.starts, self.pending = target, starts, ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")  # print writes a line and its newline apart
        for line in lines:
            if not line.startswith(self.starts):
                self.target.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        if self.pending and not self.pending.startswith(self.starts):
            self.target.write(self.pending)
        self.pending = ""
        self.target.flush()


@contextmanager
def stderr_without(*starts: str) -> Iterator[None]:
    """sys.stderr less the lines that start with `starts`, for a library that prints its chatter (MLflow's
    registry: "Successfully registered model ...", "Created version ..."); every other line passes."""
    target = sys.stderr
    sys.stderr = _LinesWithout(target, starts)
    try:
        yield
    finally:
        sys.stderr.flush()
        sys.stderr = target


def quiet_libraries() -> None:
    """Library chatter off, before the libraries are imported. transformers' weight-loading and
    shard-writing bars follow the hub's switch and MLflow's artifact bars their own (environment variables
    read at import, inherited by the stages' subprocesses and Dask workers); the project draws its own
    bars with tqdm, not with these."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # select's "Downloading artifacts"
    for name, chatter in LIBRARY_FILTERS.items():
        logger = logging.getLogger(name)
        for each in chatter:
            if each not in logger.filters:
                logger.addFilter(each)
    if not getattr(warnings.showwarning, "quiet", False):
        warnings.showwarning = _without_chatter(warnings.showwarning)


class ConsoleHandler(logging.StreamHandler):
    """The one handler entry points install on the root logger (Prefect keeps its hands off a root
    logger that already has a user handler)."""


def configure_console() -> None:
    """The project's progress at INFO; libraries (httpx logs every request to Prefect) only when they
    warn. Idempotent: a second call (tests call the CLI's main repeatedly) replaces the first handler."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, ConsoleHandler)]:
        root.removeHandler(handler)
    handler = ConsoleHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(UserErrorEcho())
    handler.addFilter(StopEcho())
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("distilbench").setLevel(logging.INFO)
    quiet_libraries()
