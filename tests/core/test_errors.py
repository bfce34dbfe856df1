"""Every case in docs/errors.md is produced, with the message the page shows, as one user error.

The page is the catalogue a user reads; this file holds one trigger per case. A case on the page
without a trigger, or a trigger without a case, fails the test, so neither can drift.
Triggers run in a fresh folder (the working directory) with the relative paths the page shows.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from distilbench.config.datasets import DatasetSpec
from distilbench.config.settings import ZooConfig, load_config
from distilbench.core.errors import is_user_error, user_message
from distilbench.data.prepared import plan_dataset
from tests.data.conftest import ROWS, csv_text, prepare_one
from tests.results import results_json

PAGE = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
# a message in a code span: `...`, or ``...`` when it holds a backtick itself
ROW = re.compile(r"^\| (?P<case>[^|`]+?) \| (?P<fence>`+) ?(?P<message>.+?) ?(?P=fence) \|$")


def catalogue() -> dict[str, str]:
    """case -> message, from every `| case | message |` table row of the page."""
    rows = [ROW.match(line) for line in PAGE.read_text(encoding="utf-8").splitlines()]
    return {m["case"]: m["message"] for m in rows if m}


def pattern(message: str) -> re.Pattern:
    """The page's message as a regex: `…` stands for a part that depends on the machine."""
    return re.compile(".*?".join(re.escape(part) for part in message.split("…")))


@dataclass
class Context:
    monkeypatch: pytest.MonkeyPatch
    request: pytest.FixtureRequest

    @property
    def tiny_model(self) -> Path:
        return self.request.getfixturevalue("tiny_model_dir")


# --- helpers the triggers share ---------------------------------------------------------------------


def data_file(name: str, content: str | bytes) -> Path:
    path = Path("data/raw") / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def prepare_file(name: str, content: str | bytes | None, folds: int = 2, **params) -> None:
    path = data_file(name, content) if content is not None else Path("data/raw") / name
    spec = DatasetSpec.from_params({"source": "file", "path": str(path), **params}, "data.datasets[0]")
    plan_dataset(spec, folds, 0)


def parquet(name: str, frame: pd.DataFrame, **params) -> None:
    Path("data/raw").mkdir(parents=True, exist_ok=True)
    frame.to_parquet(f"data/raw/{name}")
    prepare_file(name, None, **params)


def params(text: str) -> None:
    Path("params.yaml").write_text(text)
    load_config(Path("params.yaml"))


def dataset(**keys) -> None:
    params(yaml.safe_dump({"data": {"folds": 2, "datasets": [{"source": "file", "path": "a.csv", **keys}]}}))


def zoo(*models: dict) -> None:
    from distilbench.models.zoo import check_zoo

    raw = {"zoo": "z", "zoos": {"z": {"teacher": models[0]["name"], "models": list(models)}}}
    check_zoo(ZooConfig.from_params(raw))


def saved_hub(train: list[tuple[str, str]], validation: list[tuple[str, str]]) -> None:
    import datasets

    def split(rows):
        return datasets.Dataset.from_dict({"text": [t for t, _ in rows], "label": [y for _, y in rows]})

    datasets.DatasetDict({"train": split(train), "validation": split(validation)}).save_to_disk("data/hub")


def hub(**keys) -> None:
    hub_id("data/hub", **keys)


def hub_id(id: str, **keys) -> None:
    spec = DatasetSpec.from_params({"source": "hub", "id": id, **keys}, "data.datasets[0]")
    plan_dataset(spec, 2, 0)


def prepared(folder: str = "data/prepared") -> Path:
    data_file("tiny.csv", csv_text())
    spec = DatasetSpec.from_params({"source": "file", "path": "data/raw/tiny.csv"}, "data.datasets[0]")
    prepare_one(spec, 2, 0, Path(folder))
    return Path(folder) / "tiny"


def crossval_plan() -> None:
    from distilbench.crossval.plan import prepared_datasets

    prepared_datasets(Path("data/prepared"))


def store(tracking_uri: str, artifacts: str = "mlruns") -> None:
    from distilbench.core.paths import ProjectPaths
    from distilbench.tracking.store import check_store

    check_store(ProjectPaths(tracking_uri, Path(artifacts), Path(".cache")))


def store_says(text: str, uri: str = "sqlite:///mlflow.db") -> None:
    from distilbench.tracking.store import store_errors

    with store_errors(uri):
        raise RuntimeError(f"(sqlite3.OperationalError) {text}")


def report(results: str | None) -> None:
    from distilbench.report.stage import write_report

    if results is not None:
        Path("results.json").write_text(results)
    write_report(Path("results.json"), Path("reports"))


SELECT_ROWS = {
    "minilm-l6": {"accuracy_mean": 0.96, "latency_p50_ms": 13.0},
    "minilm-l3-student": {"accuracy_mean": 0.95, "latency_p50_ms": 6.6},
    "minilm-l3-student+onnx-int8": {"accuracy_mean": 0.95, "latency_p50_ms": 3.1, "pareto": 1.0},
    "cnn": {"accuracy_mean": 0.94, "latency_p50_ms": 0.4},
    "majority_class": {"accuracy_mean": 0.23},
}


def select(ctx: Context, model: str | None, rows: dict | None = SELECT_ROWS) -> None:
    """The select stage's choice, on a report of the quickstart's rows."""
    import json

    from distilbench.deploy.champion import choose_all, read_metrics

    local = {"source": "local", "id": str(ctx.tiny_model)}
    models = [
        {"name": "minilm-l6", **local},
        {"name": "minilm-l3-student", **local, "layers": [0]},
        {"name": "cnn", "kind": "cnn"},
    ]
    raw = {
        "models": {"zoo": "quickstart", "zoos": {"quickstart": {"teacher": "minilm-l6", "models": models}}}
    }
    params(yaml.safe_dump({**raw, "select": {"model": model}}))
    if rows is not None:
        Path("reports").mkdir()
        Path("reports/metrics.json").write_text(json.dumps({"bbc": rows}))
    choose_all(load_config(Path("params.yaml")), read_metrics(Path("reports/metrics.json")))


def needs_models() -> None:
    params("seed: 1\n")
    load_config(Path("params.yaml")).require("models")


def edited_prepared_data() -> None:
    examples = prepared() / "examples.parquet"
    pd.read_parquet(examples).iloc[1:].to_parquet(examples)
    crossval_plan()


def older_prepared_data() -> None:
    import json

    meta_path = prepared() / "meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["repeats"]  # as prepare wrote it before repeated k-fold existed
    meta_path.write_text(json.dumps(meta))
    crossval_plan()


def full_disk(ctx: Context, module, name: str) -> None:
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    ctx.monkeypatch.setattr(module, name, no_space)


def prefect_server_down(ctx: Context) -> None:
    from distilbench.config.environment import check_prefect_server

    ctx.monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # port 9: nothing listens
    check_prefect_server()


def report_on_a_full_disk(ctx: Context) -> None:
    from distilbench.report import stage as report_module

    full_disk(ctx, report_module, "plot_tradeoff")
    report(results_json())


def prepare_on_a_full_disk(ctx: Context) -> None:
    from distilbench.data import prepared as prepared_module

    full_disk(ctx, prepared_module, "_write")
    prepared()


def predict_from(model: str, stdin: str) -> None:
    import io

    from distilbench.deploy.predict import predict

    predict(model, [], io.StringIO(stdin), io.StringIO())


def model_folder(ctx: Context, folder: str, serving: dict | None) -> None:
    """The tiny model saved in `folder`, with `serving` as its serving.json (None: none)."""
    import json
    import shutil

    shutil.copytree(ctx.tiny_model, folder)
    if serving is not None:
        (Path(folder) / "serving.json").write_text(json.dumps(serving))
    predict_from(folder, '{"text": "a"}\n')


def registered_model_missing(ctx: Context) -> None:
    ctx.monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db")
    predict_from("models:/distilbench-nope@champion", '{"text": "a"}\n')


def unreadable(ctx: Context) -> None:
    def denied(self):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    path = data_file("locked.csv", csv_text())
    ctx.monkeypatch.setattr(Path, "read_bytes", denied)
    prepare_file(path.name, None)


def missing_package(ctx: Context) -> None:
    import distilbench.models.assets as assets

    ctx.monkeypatch.setitem(assets.PACKAGED_MODELS, "all-MiniLM-L6-v2", ("nope==1.0", "nope_pkg", "m"))
    zoo({"name": "t", "source": "packaged", "id": "all-MiniLM-L6-v2"})


def no_tokenizer(ctx: Context) -> None:
    import shutil

    shutil.copytree(ctx.tiny_model, "models/bare", ignore=shutil.ignore_patterns("*token*", "vocab*"))
    zoo({"name": "t", "source": "local", "id": "models/bare"})


def damaged_model(ctx: Context, name: str, damage: Callable[[bytes], bytes]) -> None:
    import shutil

    shutil.copytree(ctx.tiny_model, "models/damaged")
    path = Path("models/damaged") / name
    path.write_bytes(damage(path.read_bytes()))
    zoo({"name": "t", "source": "local", "id": "models/damaged"})


LONG = "x" * 10_000_001
CSV = csv_text()
TEACHER = {"name": "t", "source": "local"}

# case (as on the page) -> what a user does to get it
TRIGGERS: dict[str, Callable[[Context], None]] = {
    # params.yaml
    "params file missing": lambda ctx: load_config(Path("params.yaml")),
    "params path is a directory": lambda ctx: (Path("configs").mkdir(), load_config(Path("configs"))),
    "YAML syntax error": lambda ctx: params("seed: 1\ntrain:\n  epochs: 2\n batch_size: 8\n"),
    "not a mapping": lambda ctx: params("- seed\n"),
    "unknown section": lambda ctx: params("trian: {epochs: 1}\n"),
    "unknown key in a section": lambda ctx: params("train: {epoch: 1}\n"),
    "a number below its minimum": lambda ctx: params("train: {learning_rate: -1}\n"),
    "not an integer": lambda ctx: params("train: {epochs: two}\n"),
    "a value not among the choices": lambda ctx: params("train: {precision: fp8}\n"),
    "too few folds": lambda ctx: params("data: {folds: 1, datasets: [{source: packaged, id: bbc}]}\n"),
    "repeated folds with a holdout dataset": lambda ctx: params(
        "data: {repeats: 3, datasets: [{source: hub, id: glue, config: sst2, protocol: holdout}]}\n"
    ),
    "no datasets": lambda ctx: params("data: {datasets: []}\n"),
    "unknown source": lambda ctx: dataset(source="ftp"),
    "unknown dataset key": lambda ctx: dataset(textcolumns="body"),
    "file dataset without path": lambda ctx: dataset(path=None),
    "key of another source": lambda ctx: dataset(config="sst2"),
    "unknown packaged dataset": lambda ctx: params("data: {datasets: [{source: packaged, id: imdb}]}\n"),
    "holdout on a file": lambda ctx: dataset(protocol="holdout"),
    "bad dataset name": lambda ctx: dataset(name="my data"),
    "duplicate dataset names": lambda ctx: params(
        "data: {datasets: [{source: packaged, id: bbc}, {source: packaged, id: bbc}]}\n"
    ),
    "a stage's section missing": lambda ctx: needs_models(),
    "teacher not in the zoo": lambda ctx: ZooConfig.from_params(
        {"zoo": "z", "zoos": {"z": {"teacher": "big", "models": [{"name": "cnn", "kind": "cnn"}]}}}
    ),
    "unknown zoo": lambda ctx: ZooConfig.from_params({"zoo": "y", "zoos": {"z": {}}}),
    "student layers out of order": lambda ctx: ZooConfig.from_params(
        {"zoo": "z", "zoos": {"z": {"teacher": "t", "models": [{**TEACHER, "id": "m", "layers": [2, 0]}]}}}
    ),
    # models
    "model folder without config.json": lambda ctx: zoo({**TEACHER, "id": "models/none"}),
    "model folder without tokenizer": no_tokenizer,
    "tokenizer file damaged": lambda ctx: damaged_model(ctx, "tokenizer.json", lambda data: data[:10]),
    "weights file cut short": lambda ctx: damaged_model(ctx, "model.safetensors", lambda d: d[: len(d) // 2]),
    "student asks for layers the teacher lacks": lambda ctx: zoo(
        {**TEACHER, "id": str(ctx.tiny_model)},
        {"name": "s", "source": "local", "id": str(ctx.tiny_model), "layers": [0, 5]},
    ),
    "hub model unreachable": lambda ctx: zoo(
        {"name": "t", "source": "hub", "id": "no-such-org/no-such-model"}
    ),
    "unknown packaged model": lambda ctx: zoo({"name": "t", "source": "packaged", "id": "bert-huge"}),
    "model asset package not installed": missing_package,
    # data files
    "file missing": lambda ctx: prepare_file("missing.csv", None),
    "path is a directory": lambda ctx: (
        Path("data/raw/folder.csv").mkdir(parents=True),
        prepare_file("folder.csv", None),
    ),
    "file unreadable": unreadable,
    "unknown format": lambda ctx: prepare_file("notes.xml", "<a/>"),
    "empty file": lambda ctx: prepare_file("empty.csv", ""),
    "header only": lambda ctx: prepare_file("header.csv", "text,label\n"),
    "a column named twice": lambda ctx: prepare_file("twice.csv", "text,label,text\na,b,c\n"),
    "tab-separated file named .csv": lambda ctx: prepare_file("tabs.csv", CSV.replace(",", "\t")),
    "semicolon-separated file": lambda ctx: prepare_file("semi.csv", CSV.replace(",", ";")),
    "comma-separated file named .tsv": lambda ctx: prepare_file("commas.tsv", CSV),
    "text column missing or misnamed": lambda ctx: prepare_file(
        "reviews.csv", csv_text(header="sentence,label")
    ),
    "a stray space in a header": lambda ctx: prepare_file("space.csv", csv_text(header="text ,label")),
    "label column missing or misnamed": lambda ctx: prepare_file("reviews.csv", CSV, label_columns="labels"),
    "ragged row": lambda ctx: prepare_file("ragged.csv", csv_text(ROWS[:3]) + '"extra",ham,oops\n'),
    "unclosed quote": lambda ctx: prepare_file("quote.csv", csv_text(ROWS[:3]) + '"no end,ham\n' + CSV[11:]),
    "field over the length limit": lambda ctx: prepare_file("long.csv", f'text,label\n"{LONG}",ham\n'),
    "undecodable bytes": lambda ctx: prepare_file(
        "latin.csv", csv_text(ROWS[:3]).encode() + b'"caf\xe9",ham\n'
    ),
    "undecodable in the declared encoding too": lambda ctx: prepare_file(
        "latin2.csv", csv_text(ROWS[:1]).encode() + b'"bad \x81",ham\n', encoding="cp1252"
    ),
    "unknown encoding name": lambda ctx: prepare_file(
        "latin3.csv", b"text,label\n\xe9,a\n", encoding="klingon"
    ),
    "broken JSON line": lambda ctx: prepare_file("bad.jsonl", '{"text": "a", "label": "x"}\n{"text": \n'),
    "JSON line not an object": lambda ctx: prepare_file("list.jsonl", '["a", "x"]\n'),
    "not a Parquet file": lambda ctx: prepare_file("fake.parquet", "text,label\n"),
    "missing label": lambda ctx: prepare_file("nolabel.csv", csv_text([*ROWS[:3], ("no label", "")])),
    "label written as NaN, None, null, N/A": lambda ctx: prepare_file(
        "nan.csv", csv_text([*ROWS[:3], ("x", "NaN")])
    ),
    "missing label (Parquet)": lambda ctx: parquet(
        "p.parquet", pd.DataFrame({"text": ["a", "b"], "label": ["x", None]})
    ),
    "a record (struct) as label": lambda ctx: parquet(
        "struct.parquet", pd.DataFrame({"text": ["a", "b"], "label": [{"name": "for"}, {"name": "against"}]})
    ),
    "a 0/1 label column holds something else": lambda ctx: prepare_file(
        "flags.csv", "text,toxic,rude\na,1,0\nb,2,1\n", label_columns=["toxic", "rude"]
    ),
    "a list label column holds a non-list": lambda ctx: prepare_file(
        "mixed.jsonl", '{"text": "a", "label": ["x"]}\n{"text": "b", "label": 3}\n'
    ),
    "every text empty": lambda ctx: prepare_file("empty2.csv", csv_text([(" ", "a"), ("", "b")])),
    "same text, different labels": lambda ctx: prepare_file(
        "conflict.csv", csv_text([*ROWS, (ROWS[0][0], "spam")])
    ),
    "a single class": lambda ctx: prepare_file("oneclass.csv", csv_text(ROWS[:4])),
    "a class smaller than the number of folds, with rare_labels: error": lambda ctx: prepare_file(
        "rare.csv",
        csv_text([*ROWS, ("rare one", "rare"), ("rare two", "rare")]),
        folds=3,
        rare_labels="error",
    ),
    "a class with a single example, with rare_labels: error": lambda ctx: prepare_file(
        "single.csv", csv_text([*ROWS, ("odd", "x")]), folds=3, rare_labels="error"
    ),
    "a group missing": lambda ctx: prepare_file(
        "g.csv", "text,label,movie\na,x,m1\nb,y,\n", group_column="movie"
    ),
    "fewer groups than folds": lambda ctx: prepare_file(
        "g2.csv",
        "text,label,movie\n" + "".join(f"t{i},{'ab'[i % 2]},m{i % 2}\n" for i in range(8)),
        folds=3,
        group_column="movie",
    ),
    # hub (a saved DatasetDict stands in for the hub)
    "hub split missing": lambda ctx: (saved_hub(ROWS, ROWS), hub(splits=["dev"])),
    "hub column missing": lambda ctx: (saved_hub(ROWS, ROWS), hub(text_columns="sentence")),
    "hub dataset unavailable (offline, wrong id)": lambda ctx: hub_id("no-such-org/no-such-dataset"),
    "hub evaluation split without labels": lambda ctx: (
        saved_hub([(t, i % 2) for i, (t, _) in enumerate(ROWS)], [("x", -1), ("y", -1)]),
        hub(protocol="holdout"),
    ),
    "hold-out class only in the eval split": lambda ctx: (saved_hub(ROWS[:8], ROWS), hub(protocol="holdout")),
    # crossval
    "nothing prepared yet": lambda ctx: crossval_plan(),
    "prepared data edited by hand": lambda ctx: edited_prepared_data(),
    "prepared meta.json damaged": lambda ctx: ((prepared() / "meta.json").write_text("{"), crossval_plan()),
    "data prepared by an older version": lambda ctx: older_prepared_data(),
    "MLflow store is a directory": lambda ctx: (Path("db").mkdir(), store("sqlite:///db")),
    "MLflow artifact folder not writable": lambda ctx: (
        data_file("f", "x"),
        store("sqlite:///m.db", "data/raw/f/mlruns"),
    ),
    "MLflow store read-only": lambda ctx: store_says("attempt to write a readonly database"),
    "MLflow store locked": lambda ctx: store_says("database is locked"),
    "MLflow server not answering": lambda ctx: store_says(
        "Max retries exceeded with url: /api/2.0/mlflow", "http://127.0.0.1:5000"
    ),
    "Prefect server not answering": prefect_server_down,
    # report
    "no crossval results": lambda ctx: report(None),
    "results not JSON": lambda ctx: report("{"),
    "results not from crossval": lambda ctx: report('{"teacher": "bert"}'),
    "results from an older distilbench": lambda ctx: report(results_json(version=1)),
    # select
    "no report yet": lambda ctx: select(ctx, None, rows=None),
    "unknown row": lambda ctx: select(ctx, "studnet"),
    "the CNN named": lambda ctx: select(ctx, "cnn"),
    "a row of a model not in the zoo": lambda ctx: select(
        ctx, "bert+onnx-int8", {**SELECT_ROWS, "bert+onnx-int8": {"accuracy_mean": 0.9}}
    ),
    "no teacher row": lambda ctx: select(
        ctx, None, {k: v for k, v in SELECT_ROWS.items() if k != "minilm-l6"}
    ),
    # predict
    "input line not JSON": lambda ctx: predict_from("m", '{"text": "a"}\n{"text": \n'),
    "input line not an object": lambda ctx: predict_from("m", '["a"]\n'),
    "input line without a text": lambda ctx: predict_from("m", '{"text": "a"}\n{"txt": "b"}\n'),
    "input text not a string": lambda ctx: predict_from("m", '{"text": 3}\n'),
    "model folder missing": lambda ctx: predict_from("models/none", '{"text": "a"}\n'),
    "folder is not a saved model": lambda ctx: (
        Path("models/empty").mkdir(parents=True),
        predict_from("models/empty", '{"text": "a"}\n'),
    ),
    "model folder without serving.json": lambda ctx: model_folder(ctx, "models/bare", None),
    "model folder saved by an older version": lambda ctx: model_folder(
        ctx, "models/old", {"labels": ["a", "b"], "max_length": 64, "multilabel": False}
    ),
    "registered model not found": registered_model_missing,
    # any stage
    "disk full while prepare writes": prepare_on_a_full_disk,
    "report folder is a file": lambda ctx: (Path("reports").write_text("notes"), report(results_json())),
    "disk full while report writes": report_on_a_full_disk,
}


def test_every_case_on_the_page_has_a_trigger_and_every_trigger_a_case() -> None:
    cases = catalogue()
    assert sorted(set(TRIGGERS) - set(cases)) == []
    assert sorted(set(cases) - set(TRIGGERS)) == []


@pytest.mark.parametrize("case", list(TRIGGERS))
def test_each_case_gives_its_message_as_one_user_error(case, tmp_path, monkeypatch, request) -> None:
    message = catalogue().get(case)
    assert message is not None, f"{case!r} is not on {PAGE.name}"
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception) as raised:  # noqa: B017 (the type is checked below)
        TRIGGERS[case](Context(monkeypatch, request))
    assert is_user_error(raised.value), raised.value
    shown = user_message(raised.value)
    assert pattern(message).fullmatch(shown), f"\npage: {message}\ngot:  {shown}"
