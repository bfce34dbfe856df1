"""`report` stage: the comparison table, `dvc metrics` JSON and plots from the fold results."""

from pathlib import Path

from prefect import flow

from distilbench.report import write_report
from flows._cli import run_cli


@flow(name="distilbench-report")
def report(results: str = "results/crossval.json", out: str = "reports") -> None:
    write_report(Path(results), Path(out))


if __name__ == "__main__":
    run_cli(report, __doc__, results="results/crossval.json", out="reports")
