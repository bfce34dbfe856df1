"""The two kinds of failure a user can fix themselves, raised before any training starts."""


class ConfigError(ValueError):
    """params.yaml has a wrong key or a bad value. The message names the key path and the value."""


class DataError(ValueError):
    """A dataset cannot be used as given. The message names the file, the row (or line) and the column."""


class AssetError(RuntimeError):
    """An offline asset package is missing or broken. The message says what to install."""


# Every mistake a user can fix: entry points print its message in one line and exit 2, no traceback.
USER_ERRORS = (ConfigError, DataError, AssetError)
