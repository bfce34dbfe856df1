"""The project's deployments, served from this clone (`distilbench serve`, `make serve`).

No schedules in code: in Prefect 3.8 `serve` replaces a deployment's schedules with the ones given in
code every time it starts (PrefectHQ/prefect#14973), which would delete those a user added on the
dashboard. Schedules are made on the dashboard and survive restarts.
"""

from prefect import serve
from prefect.deployments.runner import EntrypointType, RunnerDeployment

from flows.study import repro, study

TAGS = ["distilbench"]
# runs load the flow by module (flows.study), so they find it whatever directory a runner starts in
ENTRYPOINT = EntrypointType.MODULE_PATH


def keeping_dashboard_schedules(deployment: RunnerDeployment) -> RunnerDeployment:
    """`to_deployment` without schedules still sets an empty list, and updating an existing deployment
    with an empty list deletes all its schedules (#14973), the user's included. An update sends only the
    fields that were set: unset, the schedules are left as they are."""
    deployment.model_fields_set.discard("schedules")  # the model's own set of set fields, not a copy
    return deployment


def deployments() -> list[RunnerDeployment]:
    made = [
        study.to_deployment(
            name="study",
            description="The whole study as a DVC experiment (`dvc exp run --temp -S ...`); "
            "Custom run: another zoo, other datasets, training overrides.",
            tags=TAGS,
            entrypoint_type=ENTRYPOINT,
        ),
        repro.to_deployment(
            name="repro",
            description="`dvc repro` in the clone's workspace: rebuilds what changed, updates dvc.lock.",
            tags=TAGS,
            entrypoint_type=ENTRYPOINT,
        ),
    ]
    return [keeping_dashboard_schedules(d) for d in made]


def main() -> None:
    # a stopped server must not pause the deployments: the user's schedules resume with the next serve
    serve(*deployments(), pause_on_shutdown=False)
