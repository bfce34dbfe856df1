"""`report` stage: the comparison table, `dvc metrics` JSON and plots from the fold results."""

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from distilbench.config.settings import load_config
from distilbench.core.paths import PARAMS_FILE, REPORTS_DIR, RESULTS_FILE, ProjectPaths
from distilbench.report.choice import Rule
from distilbench.report.publish import publish_report
from distilbench.report.stage import read_results, write_report
from distilbench.tracking.results_store import check_runs_in_store
from distilbench.tracking.store import check_store


@flow(name="distilbench-report")
def report(params: str = PARAMS_FILE, results: str = RESULTS_FILE, out: str = REPORTS_DIR) -> None:
    project = ProjectPaths.current()
    cfg = load_config(Path(params))
    rule = Rule.from_config(cfg.select)  # the headline names the row select will register
    # the report answers the questions the run recorded, and says so when these differ
    now = cfg.models.primary_questions if cfg.models is not None else None
    tracking_uri = cfg.tracking.uri or project.tracking_uri  # the store in force, as crossval's
    written = write_report(Path(results), Path(out), rule, now)
    check_store(project, tracking_uri)
    # the report is published to the folds' runs: DVC does not see a changed tracking.uri or
    # $MLFLOW_TRACKING_URI, after which they may not be in the store in force
    check_runs_in_store(Path(results), read_results(Path(results)), tracking_uri)
    parents = publish_report(written, tracking_uri)
    # shown on this run's page and on the dashboard's Artifacts page; the key keeps one history
    create_markdown_artifact(written.markdown, key="distilbench-comparison", description="The study's report")
    create_table_artifact(written.table, key="distilbench-table", description="Accuracy, time and size")
    get_run_logger().info("report logged to MLflow parent run(s) %s", ", ".join(parents) or "none")
