"""The failures a user can fix themselves; entry points print them in one line, without a traceback."""

from __future__ import annotations

import errno


class ConfigError(ValueError):
    """params.yaml has a wrong key or a bad value. The message names the key path and the value."""


class DataError(ValueError):
    """A dataset cannot be used as given. The message names the file, the row (or line) and the column."""


class AssetError(RuntimeError):
    """An offline asset package is missing or broken. The message says what to install."""


class StorageError(OSError):
    """Results cannot be written (a full disk, a read-only or locked store). Nothing was half-written."""


# Every mistake a user can fix: entry points print its message in one line and exit 2, no traceback.
USER_ERRORS = (ConfigError, DataError, AssetError, StorageError)

# an OSError with one of these raised while writing is the machine's state, not a bug in the code
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})


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
