"""The crossval tests prepare real folds with the data tests' fixtures."""

from tests.data.conftest import prepare, write  # noqa: F401  (pytest finds fixtures by name in a conftest)
