"""crossval.mlflow_runs: what an earlier attempt of this clone's study left RUNNING is closed by the next."""

from __future__ import annotations

from pathlib import Path

from mlflow.tracking import MlflowClient

from distilbench.crossval.mlflow_runs import CLONE, fail_left_running


def test_only_this_clones_running_runs_are_closed_whatever_their_settings(tmp_path):
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.create_experiment("study", artifact_location=(tmp_path / "mlruns").as_uri())
    other_experiment = client.create_experiment("other", artifact_location=(tmp_path / "mlruns").as_uri())
    ours, theirs = tmp_path / "cache", tmp_path / "elsewhere" / "cache"

    def run(cache: Path, status: str = "RUNNING", where: str = experiment) -> str:
        run_id = client.create_run(where, tags={CLONE: str(cache.resolve())}).info.run_id
        if status != "RUNNING":
            client.set_terminated(run_id, status)
        return run_id

    left = [run(ours), run(ours)]  # a killed attempt's parent and child, of other settings than now
    finished, other_clone, other_study = run(ours, "FINISHED"), run(theirs), run(ours, where=other_experiment)

    assert sorted(fail_left_running(client.tracking_uri, experiment, ours)) == sorted(left)
    status = {r: client.get_run(r).info.status for r in [*left, finished, other_clone, other_study]}
    assert [status[r] for r in left] == ["FAILED", "FAILED"]
    assert status[finished] == "FINISHED"
    assert status[other_clone] == "RUNNING"  # another clone's run may be running now
    assert status[other_study] == "RUNNING"  # another experiment is another study
    assert fail_left_running(client.tracking_uri, experiment, ours) == []
