"""Where the report goes besides reports/: the teacher's MLflow parent run of each dataset."""

from __future__ import annotations

import logging

from distilbench.report.stage import Report
from distilbench.tracking.runs import log_report_files, parent_of
from distilbench.tracking.store import store_errors

logger = logging.getLogger(__name__)


def publish_report(report: Report, tracking_uri: str) -> list[str]:
    """Log the comparison table, trade-off plot and metrics under `report/` of each teacher parent run.

    Returns the parent run ids. The teacher's parent is where a user looking for "the comparison" in
    MLflow lands first: the experiment's description points there.
    """
    parents = []
    for dataset, fold_run in report.teacher_runs.items():
        parent = parent_of(tracking_uri, fold_run)
        if parent is None:
            logger.warning(
                "%s: the teacher's fold run %s has no parent run; report not logged", dataset, fold_run
            )
            continue
        with store_errors(tracking_uri):
            log_report_files(tracking_uri, parent, report.files)
        parents.append(parent)
    return parents
