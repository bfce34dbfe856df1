"""Raising data.repeats adds folds: the repeats already run come from the cache (each fold's key holds its
own split, not the prepared file's hash); every fold's per-example predictions are kept in the results
file and on its MLflow run."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

from distilbench.crossval import stage
from tests.end_to_end.conftest import file_dataset

# two cheap rows: what is tested is which folds run, not how they train
SVM = {"name": "svm", "kind": "linear", "ngram_max": 1, "min_df": 1, "classifier": "logreg", "C": 10.0}
BIGRAMS = SVM | {"name": "bigrams", "ngram_max": 2}


def trained_folds(project, with_report: bool = False) -> list[tuple[str, int, int]]:
    """Run the pipeline; the folds it really computed (model, repeat, fold)."""
    with mock.patch.object(stage, "compute_fold", wraps=stage.compute_fold) as compute_fold:
        project.run(with_report=with_report)
    return sorted(
        (c.args[0].model.name, c.args[0].repeat, c.args[0].number) for c in compute_fold.call_args_list
    )


def test_a_second_repeat_trains_only_its_own_folds_and_every_fold_keeps_its_predictions(make_project):
    project = make_project(models=[SVM, BIGRAMS], folds=2)
    assert trained_folds(project) == [(m, 1, f) for m in ("bigrams", "svm") for f in (1, 2)]

    project.raw["data"]["repeats"] = 2
    project.save()
    assert trained_folds(project, with_report=True) == [(m, 2, f) for m in ("bigrams", "svm") for f in (1, 2)]

    saved = json.loads(Path(project.results).read_text())
    kept = sorted((p["model"], p["repeat"], p["fold"]) for p in saved["predictions"])
    assert kept == [(m, r, f) for m in ("bigrams", "svm") for r in (1, 2) for f in (1, 2)]
    every_row = saved["datasets"]["tiny"]["examples"]
    for model in ("bigrams", "svm"):
        for repeat in (1, 2):  # each repeat holds every row out once
            held_out = [
                r
                for p in saved["predictions"]
                if (p["model"], p["repeat"]) == (model, repeat)
                for r in p["rows"]
            ]
            assert sorted(held_out) == list(range(every_row))
    child = next(k for k in project.children() if k.data.tags["model"] == "svm")
    assert "predictions.csv" in [a.path for a in project.client.list_artifacts(child.info.run_id)]
    assert "| Model" in (project.reports / "comparison.md").read_text()


def test_repeat_rows_give_a_later_repeat_to_the_named_rows_alone_and_the_report_says_so(
    make_project, tiny_csv
):
    strong = SVM | {"name": "strong", "C": 100.0}
    dataset = file_dataset(tiny_csv) | {"repeats": 2, "repeat_rows": ["bigrams"]}
    project = make_project(models=[SVM, BIGRAMS, strong], datasets=[dataset], folds=2)
    # repeat 2: the named row and the teacher (svm), every row's reference; strong is not repeated
    assert trained_folds(project, with_report=True) == sorted(
        [(m, 1, f) for m in ("bigrams", "strong", "svm") for f in (1, 2)]
        + [(m, 2, f) for m in ("bigrams", "svm") for f in (1, 2)]
    )
    report = (project.reports / "comparison.md").read_text()
    assert "2-fold CV, some rows repeated" in report
    assert "Repeated: **svm**, **bigrams** ran 2 × 2 folds" in report
    # each paired comparison over the folds both rows ran: bigrams 2 × 2 against the teacher, strong 2
    paired = {line.split("|")[1].strip(): line for line in report.splitlines() if "r1 f1:" in line}
    assert "r2 f2:" in paired["bigrams"] and "r2" not in paired["strong"].split("r1 f1:")[1]
