"""The command-line shell shared by the flows: arguments in, one clear line out on a user's mistake."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from distilbench.errors import AssetError, ConfigError, DataError


def run_cli(
    flow: Callable, description: str, validate: Callable[..., object] | None = None, **defaults: str
) -> None:
    """Parse `--name value` for each default, run `validate` (no Prefect yet), then the flow."""
    parser = argparse.ArgumentParser(description=description)
    for name, default in defaults.items():
        parser.add_argument(
            f"--{name.replace('_', '-')}", dest=name, default=default, help=f"(default: {default})"
        )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if validate:
            validate(**vars(args))  # a bad params.yaml fails in a second, before a Prefect server starts
        flow(**vars(args))
    except (ConfigError, DataError, AssetError) as error:
        # a mistake in params.yaml or the data: the message says where; a traceback would bury it
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
