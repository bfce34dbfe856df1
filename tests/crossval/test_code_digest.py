"""The fold cache key holds a digest of the code that computes a fold: an edit there recomputes the
folds, an edit elsewhere keeps them (no stale folds after a commit that forgot a version bump)."""

from __future__ import annotations

import sys

import pytest

from distilbench.crossval.code_digest import closure_digest, fold_code_digest, module_closure


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A tiny package: fold imports helpers (by module and by name), helpers imports deep; report is apart."""
    root = tmp_path / "toypkg"
    (root / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "sub/__init__.py": "",
        "fold.py": "import json\nfrom toypkg.sub import helpers\nfrom toypkg.sub.helpers import fit\n",
        "sub/helpers.py": "import toypkg.deep\n\ndef fit():\n    return 1\n",
        "deep.py": "STEP = 1\n",
        "report.py": "from toypkg.fold import helpers\n",
    }
    for name, text in files.items():
        (root / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield root
    sys.modules.pop("toypkg", None)


def test_the_closure_follows_imports_into_the_package_and_its_parents_only(package):
    assert set(module_closure("toypkg.fold", "toypkg")) == {
        "toypkg",
        "toypkg.fold",
        "toypkg.sub",
        "toypkg.sub.helpers",
        "toypkg.deep",
    }
    assert "toypkg" not in sys.modules  # found by path, nothing imported


def test_an_edit_to_fold_code_changes_the_digest_and_an_edit_elsewhere_does_not(package):
    before = closure_digest("toypkg.fold", "toypkg")
    (package / "report.py").write_text("from toypkg.fold import helpers  # reworded\n")
    assert closure_digest("toypkg.fold", "toypkg") == before
    (package / "deep.py").write_text("STEP = 2\n")  # two imports away from the fold module
    assert closure_digest("toypkg.fold", "toypkg") != before


def test_distilbench_fold_code_is_in_the_digest_and_the_report_is_not():
    modules = module_closure("distilbench.crossval.fold", "distilbench")
    assert {"distilbench.training.loop", "distilbench.models.zoo", "distilbench.crossval.variants"} <= set(
        modules
    )
    assert not any(name.startswith(("distilbench.report", "distilbench.deploy")) for name in modules)
    assert len(fold_code_digest()) == 16
