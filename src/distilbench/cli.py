"""`distilbench check`: validate params.yaml and find every dataset and model, without training."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from distilbench.config import ExperimentConfig, load_params, parse_seed
from distilbench.errors import AssetError, ConfigError, DataError


def check(params_path: Path) -> list[str]:
    """Everything that can be checked before training; returns one line per verified item."""
    from distilbench.data.spec import DataConfig
    from distilbench.models.zoo import check_zoo, model_location

    raw = load_params(params_path)
    data = DataConfig.from_params(raw.get("data", {}), seed=parse_seed(raw))
    experiment = ExperimentConfig.from_params(raw)
    check_zoo(experiment.zoo)
    lines = [f"dataset {d.name}: {d.source} {d.id or d.path or ''}".rstrip() for d in data.datasets]
    lines += [
        f"model {m.name}: {m.kind} {model_location(m) if m.kind == 'transformer' else ''}".rstrip()
        for m in experiment.zoo.models
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="distilbench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check_parser = sub.add_parser("check", help="validate params.yaml and locate datasets and models")
    check_parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    try:
        for line in check(args.params):
            print(f"ok  {line}")
    except (ConfigError, DataError, AssetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{args.params}: valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
