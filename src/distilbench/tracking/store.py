"""Can this run's results be kept? Checked before any training, so a full hour is never lost to a store
that refuses the first write.

MLflow, given a sqlite file it cannot open, retries for about a minute before failing with a
SQLAlchemy traceback; a read-only or locked store fails only when the first fold is logged. Here each
becomes one :class:`~distilbench.core.errors.StorageError` line naming the path and what to do.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path

from distilbench.core.errors import StorageError
from distilbench.core.paths import ProjectPaths
from distilbench.tracking.runs import is_server

# what sqlite says (inside MLflow's and SQLAlchemy's wrappers) -> what the user can do about it
STORE_PROBLEMS = {
    "readonly database": "is read-only; make the file and its folder writable",
    "database is locked": "is locked by another process; wait for it to finish (or stop it) and rerun",
    "unable to open database": "cannot be opened; check that its folder exists and is writable",
    "disk i/o error": "cannot be written (disk I/O error); check the disk",
    "database or disk is full": "cannot be written: the disk is full",
    # an MLflow server as the store (MLFLOW_TRACKING_URI=http://...) that does not answer
    "max retries exceeded": "does not answer; start it (make ui-mlflow) or unset MLFLOW_TRACKING_URI",
}


# the statuses of a server that is away for now (restarting, overloaded, rate-limiting, behind a proxy
# whose backend is down): retried as an outage (tracking.outage). Any other 5xx is the server's own failure
# (an artifact folder it cannot write, a broken database): it answers the same until someone fixes it.
AWAY_STATUSES = frozenset({408, 429, 502, 503, 504})
# how MLflow's REST client says the status: its own retries used up ("too many 500 error responses"),
# or a status it does not retry ("failed with error code 500 != 200. Response body: '...'")
STATUS_SIGNS = (
    re.compile(r"too many (\d{3}) error responses"),
    re.compile(r"error code (\d{3}) != 200"),
)
ENDPOINT = re.compile(r"API request to (\S+) failed")
RESPONSE_BODY = re.compile(r"Response body: '(.*)'", re.DOTALL)


def http_status(error: BaseException) -> int | None:
    """The HTTP status an MLflow server answered with, as its REST client's error states it (None when
    no answer came: refused, reset, timed out, or not a server)."""
    text = str(error)
    for sign in STATUS_SIGNS:
        found = sign.search(text)
        if found:
            return int(found.group(1))
    return None


def server_failure(error: BaseException) -> int | None:
    """The status of a server failing on its own side (a 5xx that is no outage), else None."""
    status = http_status(error)
    return status if status is not None and status >= 500 and status not in AWAY_STATUSES else None


def server_failure_message(tracking_uri: str, error: BaseException, status: int) -> str:
    """One line naming the server's answer: its status, the request it failed and its body when given."""
    text = str(error)
    endpoint = ENDPOINT.search(text)
    body = RESPONSE_BODY.search(text)
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "server error"
    said = f"; it said: {body.group(1).strip()[:200]}" if body else ""
    where = f" to {endpoint.group(1).removeprefix(tracking_uri.rstrip('/'))}" if endpoint else ""
    return (
        f"MLflow server {tracking_uri} answered HTTP {status} {phrase}{where}{said}: a failure of the "
        "server itself, not an outage (e.g. an artifact folder it cannot write); see the server's log, "
        "fix it and rerun"
    )


def check_store(paths: ProjectPaths, tracking_uri: str | None = None) -> None:
    """The MLflow store (`tracking_uri`, default this clone's), its artifact folder and the fold cache
    can all be written. A tracking server keeps the artifacts itself: no local artifact folder then."""
    tracking_uri = tracking_uri or paths.tracking_uri
    database = sqlite_file(tracking_uri)
    if database is not None:
        if database.is_dir():
            raise StorageError(f"MLflow store {database}: is a directory, not a sqlite file")
        writable_folder(database.parent, "MLflow store folder")
        if database.exists() and not os.access(database, os.W_OK):
            raise StorageError(f"MLflow store {database}: {STORE_PROBLEMS['readonly database']}")
    if not is_server(tracking_uri):
        writable_folder(paths.artifact_root, "MLflow artifact folder")
    writable_folder(paths.cache, "cache folder")


def sqlite_file(tracking_uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` tracking URI (None for a server or another database)."""
    # sqlite:///relative/path and sqlite:////absolute/path (urlparse would make both absolute)
    prefix = "sqlite:///"
    if not tracking_uri.startswith(prefix) or len(tracking_uri) == len(prefix):
        return None
    return Path(tracking_uri[len(prefix) :].split("?", 1)[0])


def writable_folder(folder: Path, what: str) -> None:
    """Create ``folder`` if needed and write (then remove) a probe file in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise StorageError(f"{what} {folder}: cannot be written ({error.strerror or error})") from error


class StoreProblemEcho(logging.Filter):
    """Drops MLflow's own ERROR record, with the SQLAlchemy traceback, of a problem store_errors says in
    one line (a full disk, a locked or read-only file): MLflow's logger prints to the console itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return error is None or problem_of(error) is None


# the MLflow logger that logs a failed SQL statement with its traceback before raising it
SQL_LOGGER = logging.getLogger("mlflow.store.db.utils")
_ECHO = StoreProblemEcho()


def problem_of(error: BaseException) -> str | None:
    """What the user can do about a store that refuses a write, if `error` says one of STORE_PROBLEMS."""
    text = str(error).lower()
    return next((advice for sign, advice in STORE_PROBLEMS.items() if sign in text), None)


@contextlib.contextmanager
def store_errors(tracking_uri: str) -> Iterator[None]:
    """Turn a store refusing a write (read-only, locked, full) or failing on its own side (HTTP 500)
    into one StorageError line; anything else is a bug and keeps its traceback."""
    SQL_LOGGER.addFilter(_ECHO)  # idempotent: a logger keeps one copy of a filter
    try:
        yield
    except Exception as error:
        status = server_failure(error)
        if status is not None:  # before the signs below: its text also says "max retries exceeded"
            raise StorageError(server_failure_message(tracking_uri, error, status)) from error
        problem = problem_of(error)
        if problem is None:
            raise
        raise StorageError(f"MLflow store {tracking_uri} {problem}") from error
