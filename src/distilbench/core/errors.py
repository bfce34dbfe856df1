"""Failures a user can fix (printed in one line, without a traceback), and the transient ones."""

from __future__ import annotations

import errno
import os
import re

import httpx
import requests


class ConfigError(ValueError):
    """params.yaml has a wrong key or a bad value. The message names the key path and the value."""


class DataError(ValueError):
    """A dataset cannot be used as given. The message names the file, the row (or line) and the column."""


class AssetError(RuntimeError):
    """An offline asset package is missing or broken. The message says what to install."""


class StorageError(OSError):
    """Results cannot be written (a full disk, a read-only or locked store). Nothing was half-written."""


class BusyError(RuntimeError):
    """Another run is using this clone. The message names it (command, pid, start)."""


class ServiceError(RuntimeError):
    """A server the run reports to or runs on (the Prefect server, a Dask scheduler) went away for longer
    than its client waits. The message names it and how to resume; finished folds are kept."""


class PrefectServerLost(ServiceError):
    """The Prefect server stopped answering mid-run: what Prefect still queues for it (logs, events)
    can never be sent, so the entry point exits without waiting for it (see cli.main)."""


# Every mistake a user can fix: entry points print its message in one line and exit 2, no traceback.
USER_ERRORS = (ConfigError, DataError, AssetError, StorageError, BusyError, ServiceError)

# an OSError with one of these raised while writing is the machine's state, not a bug in the code
# (EFBIG: a file-size limit, `ulimit -f` or a quota on one file, refuses a write as a full disk does)
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM})

# how a Rust writer states the OS error it met: safetensors' SafetensorError is a plain Exception, no errno
# ("Error while serializing: I/O error: File too large (os error 27)")
RUST_OS_ERROR = re.compile(r"\(os error (\d+)\)")


def as_os_error(error: BaseException) -> OSError | None:
    """The OS error behind a failed write: `error` itself, or the one a Rust writer's message names."""
    if isinstance(error, OSError):
        return error
    found = RUST_OS_ERROR.search(str(error))
    if found is None:
        return None
    number = int(found.group(1))
    return OSError(number, os.strerror(number))


def is_user_error(error: BaseException | None) -> bool:
    """A mistake the user can fix (see USER_ERRORS), or the disk refusing a write (full, read-only)."""
    if isinstance(error, USER_ERRORS):
        return True
    return isinstance(error, OSError) and error.errno in STORAGE_ERRNOS


def user_message(error: BaseException) -> str:
    """The one line a user sees: the message, with any line breaks of a wrapped library error folded."""
    if isinstance(error, OSError) and not isinstance(error, USER_ERRORS):
        where = f"{error.filename}: " if error.filename else ""
        text = (
            f"{where}{error.strerror or error}; fix this and rerun (outputs are replaced whole or not at all)"
        )
    else:
        text = str(error)
    return " ".join(text.split())


# Failures a later attempt can get past: a tracking server or the Prefect API briefly unreachable or
# slow, a connection to a Dask worker dropped. Fold tasks retry these (with backoff) and nothing else: a
# user's mistake, a missing file or a bug fails the same way every time, so retrying only delays the
# message. Library errors that wrap one of these (MLflow's REST client raises MlflowException "from" the
# requests error) count too: see is_transient.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused or reset (the builtin; socket errors)
    TimeoutError,
    requests.ConnectionError,  # MLflow's REST client
    requests.Timeout,
    httpx.TransportError,  # the Prefect API client
)


def is_transient(error: BaseException | None) -> bool:
    """Is `error`, or an error it was raised from, one of TRANSIENT_ERRORS (and no user error)?"""
    seen = set()
    while error is not None and id(error) not in seen:
        if is_user_error(error):
            return False
        if isinstance(error, TRANSIENT_ERRORS):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False
