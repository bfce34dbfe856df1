"""The failures a user can fix themselves (raised before any training starts), and the transient ones."""

import httpx
import requests


class ConfigError(ValueError):
    """params.yaml has a wrong key or a bad value. The message names the key path and the value."""


class DataError(ValueError):
    """A dataset cannot be used as given. The message names the file, the row (or line) and the column."""


class AssetError(RuntimeError):
    """An offline asset package is missing or broken. The message says what to install."""


# Every mistake a user can fix: entry points print its message in one line and exit 2, no traceback.
USER_ERRORS = (ConfigError, DataError, AssetError)

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
        if isinstance(error, USER_ERRORS):
            return False
        if isinstance(error, TRANSIENT_ERRORS):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False
