"""Riding out a tracking store that is briefly away: a server restarting, a sqlite file another process
holds locked. A fold's numbers took minutes to hours to compute; a store that does not answer for a while
must not lose them.

:func:`patiently` retries a store call with a bounded, growing wait (`tracking.outage_wait_seconds`),
saying so in the log; past the bound it gives up with the store's one-line StorageError
(:func:`~distilbench.tracking.store.store_errors`), and the caller keeps what it could not log. A server
failing on its own side (HTTP 500) is no outage: its one line comes at once. A stop request (Ctrl-C,
SIGTERM) ends the wait within a fraction of a second.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from distilbench.core.errors import is_transient
from distilbench.core.stop import check_stop
from distilbench.tracking.store import server_failure, store_errors

logger = logging.getLogger(__name__)

T = TypeVar("T")

# what a store says while it is away (inside MLflow's and SQLAlchemy's wrappers), besides the network
# errors core.errors.is_transient knows
AWAY_SIGNS = (
    "database is locked",
    "max retries exceeded",
    "connection refused",
    "too many requests",  # a hosted store rate-limiting
    # MLflow's own words for a server answering 503/502/429 ("... failed with error code 503 != 200"):
    # the bare numbers would also match a run id or a path, and retry a refusal for minutes
    "error code 503",
    "error code 502",
    "error code 429",
)
FIRST_WAIT = 1.0
LONGEST_WAIT = 30.0
STOP_POLL = 0.1  # seconds between looks at the stop request while waiting


def is_away(error: BaseException) -> bool:
    """Would a later attempt succeed? A store that does not answer or is locked; never a refusal, and
    never a server failing on its own side (an HTTP 500 stays a 500 for as long as anyone waits)."""
    if server_failure(error) is not None:
        return False
    text = str(error).lower()
    return is_transient(error) or any(sign in text for sign in AWAY_SIGNS)


def patiently(call: Callable[[], T], tracking_uri: str, wait_seconds: float, what: str) -> T:
    """`call()`, retried while the store is away, for up to `wait_seconds` in all; then (or at once, for
    any other error) the error, as one StorageError line where it is the store's."""
    deadline = time.monotonic() + wait_seconds
    pause = FIRST_WAIT
    with store_errors(tracking_uri):
        while True:
            try:
                return call()
            except Exception as error:
                left = deadline - time.monotonic()
                if not is_away(error) or left <= 0:
                    raise
                pause = min(pause, left)
                logger.warning(
                    "%s: MLflow store %s is away (%s); retrying in %.0f s, for %.0f s more",
                    what,
                    tracking_uri,
                    first_line(error),
                    pause,
                    left,
                )
                wait(pause, what)
                pause = min(pause * 2, LONGEST_WAIT)


def wait(seconds: float, what: str) -> None:
    """Sleep `seconds` in short slices, ending at once (StopRequested) on Ctrl-C or SIGTERM: the wait for
    a store runs in a fold's worker thread, which the signal itself never reaches (core.stop)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        check_stop(what)
        time.sleep(min(STOP_POLL, left))
    check_stop(what)


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:160]
