"""The console filter: a user error's engine log lines are dropped, a bug's traceback is kept."""

from __future__ import annotations

import io
import logging

from distilbench.core.errors import DataError
from distilbench.core.logs import UserErrorEcho


def console() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(UserErrorEcho())
    logger = logging.getLogger(f"test.{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return logger, stream


def engine_logs(logger: logging.Logger, error: Exception) -> None:
    """What Prefect's flow engine logs when the flow raises ``error``."""
    try:
        raise error
    except Exception:
        logger.error("Encountered exception during execution: %r", error, exc_info=True)
    logger.info("Finished in state %s", f"Failed({f'Flow run encountered an exception: {error!r}'!r})")
    logger.info("Beginning the next flow run")


def test_a_user_errors_traceback_and_its_echo_are_dropped() -> None:
    logger, stream = console()
    engine_logs(logger, DataError("""data.csv, line 5: it's a "quote" problem"""))
    assert stream.getvalue() == "Beginning the next flow run\n"


def test_a_bug_keeps_its_traceback() -> None:
    logger, stream = console()
    engine_logs(logger, KeyError("no such key"))
    shown = stream.getvalue()
    assert "Traceback" in shown and "KeyError: 'no such key'" in shown and "Finished in state Failed" in shown
