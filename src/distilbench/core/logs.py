"""What the terminal shows: the project's progress, library warnings, and a user's mistake in one line.

Entry points call :func:`configure_console` instead of ``logging.basicConfig``. Prefect's flow and task
engines log every exception they see with its traceback ("Encountered exception during execution", then
"Finished in state Failed(...)"); for a mistake the user can fix (see :func:`~distilbench.core.errors.
is_user_error`) that buries the one line that says what to fix, which the entry point prints itself. So
the console handler drops those records; Prefect's API handler still sends them to the dashboard, and a
real bug keeps its traceback everywhere.
"""

from __future__ import annotations

import logging
import sys

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
