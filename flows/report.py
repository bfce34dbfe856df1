"""`report` stage: the comparison table, `dvc metrics` JSON and plots from the fold results."""

from pathlib import Path

from prefect import flow

from distilbench.paths import REPORTS_DIR, RESULTS_FILE
from distilbench.report import write_report


@flow(name="distilbench-report")
def report(results: str = RESULTS_FILE, out: str = REPORTS_DIR) -> None:
    write_report(Path(results), Path(out))
