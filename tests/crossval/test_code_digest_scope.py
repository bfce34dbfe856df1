"""The fold-code digest covers what computes a fold, not how its numbers are named or summarised: an edit to
the summary, the records or the schema keeps every fold cache key; an edit to the training loop does not."""

from __future__ import annotations

import shutil

import pytest

from distilbench.crossval.code_digest import FOLD_MODULE, closure_digest, module_closure, package_root

# how results are named, laid out and summarised: outside every fold key
PRESENTATION = ("distilbench.core.schema", "distilbench.crossval.records", "distilbench.crossval.summary")


def test_the_fold_closure_leaves_out_the_schema_the_records_the_summary_and_the_report():
    modules = set(module_closure(FOLD_MODULE, "distilbench"))
    assert "distilbench.training.loop" in modules  # it does follow the fold code
    assert not modules & set(PRESENTATION)
    assert not any(name.startswith(("distilbench.report", "distilbench.tracking")) for name in modules)


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    """A copy of the installed package to edit: the digest reads files, so the copy is enough."""
    root = tmp_path_factory.mktemp("pkg") / "distilbench"
    shutil.copytree(package_root("distilbench"), root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.mark.parametrize(
    ("path", "edit"),
    [
        ("crossval/summary.py", "\n\ndef std_over_folds(values):\n    return values.std(ddof=0)\n"),
        ("core/schema.py", '\nSECONDS_PER_FOLD = "seconds_each_fold"\n'),
        ("crossval/records.py", "\nBULKY = ()\n"),
        ("report/tables.py", "\n# reworded\n"),
    ],
)
def test_editing_how_results_are_summarised_keeps_the_fold_digest(copy, path, edit):
    before = closure_digest(FOLD_MODULE, "distilbench", copy)
    original = (copy / path).read_text()
    try:
        (copy / path).write_text(original + edit)
        assert closure_digest(FOLD_MODULE, "distilbench", copy) == before
    finally:
        (copy / path).write_text(original)


def test_editing_the_training_loop_changes_the_fold_digest(copy):
    before = closure_digest(FOLD_MODULE, "distilbench", copy)
    loop = copy / "training" / "loop.py"
    original = loop.read_text()
    try:
        loop.write_text(original + "\n# a changed step\n")
        assert closure_digest(FOLD_MODULE, "distilbench", copy) != before
    finally:
        loop.write_text(original)
