"""crossval.fold writes a fold teacher's weights once: its students' copy links the files kept for timing."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from distilbench.crossval.fold import export_for_students, keep_for_timing
from distilbench.models.pooling import load_classifier
from tests.models.tiny import tiny_bert


def teacher_job(tmp_path):
    return SimpleNamespace(
        export_train_logits=False,
        export_model=True,
        model_dir=tmp_path / "fold_teachers" / "k",
        kept_model=tmp_path / "timing" / "k" / "model",
    )


def test_the_students_copy_is_hard_links_to_the_kept_files_and_loads_as_the_same_model(tmp_path):
    job, model = teacher_job(tmp_path), tiny_bert(layers=2)
    keep_for_timing(job, model)
    export_for_students(job, SimpleNamespace(model=model), None, None)
    kept = {p.name: p.stat().st_ino for p in job.kept_model.iterdir()}
    copied = {p.name: p.stat().st_ino for p in job.model_dir.iterdir()}
    assert copied == kept  # the same files, not a second write
    loaded = load_classifier(job.model_dir).state_dict()
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded[name], tensor), name


def test_without_a_kept_folder_the_teacher_is_saved_for_its_students(tmp_path):
    job, model = teacher_job(tmp_path), tiny_bert(layers=2)
    export_for_students(job, SimpleNamespace(model=model), None, None)
    assert (job.model_dir / "config.json").is_file()
    assert not job.kept_model.exists()
