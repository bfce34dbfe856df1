"""The console filter: a user error's engine log lines are dropped, a bug's traceback is kept; library
chatter is dropped by its logger and exact words, and nothing else is."""

from __future__ import annotations

import io
import json
import logging
import shutil
import sys
import warnings

import pytest

from distilbench.core.errors import DataError
from distilbench.core.logs import (
    LIBRARY_FILTERS,
    UserErrorEcho,
    expected_load_report,
    quiet_libraries,
    stderr_without,
)


def console() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(UserErrorEcho())
    logger = logging.getLogger(f"test.{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return logger, stream


def engine_logs(logger: logging.Logger, error: Exception) -> None:
    """What Prefect's flow engine logs when the flow raises ``error``."""
    try:
        raise error
    except Exception:
        logger.error("Encountered exception during execution: %r", error, exc_info=True)
    logger.info("Finished in state %s", f"Failed({f'Flow run encountered an exception: {error!r}'!r})")
    logger.info("Beginning the next flow run")


def test_a_user_errors_traceback_and_its_echo_are_dropped() -> None:
    logger, stream = console()
    engine_logs(logger, DataError("""data.csv, line 5: it's a "quote" problem"""))
    assert stream.getvalue() == "Beginning the next flow run\n"


def test_a_bug_keeps_its_traceback() -> None:
    logger, stream = console()
    engine_logs(logger, KeyError("no such key"))
    shown = stream.getvalue()
    assert "Traceback" in shown and "KeyError: 'no such key'" in shown and "Finished in state Failed" in shown


@pytest.fixture
def quiet():
    """The library filters on, and off again after the test (they live on global loggers)."""
    quiet_libraries()
    yield
    for name, chatter in LIBRARY_FILTERS.items():
        for each in chatter:
            logging.getLogger(name).removeFilter(each)


def shown_by(name: str) -> tuple[logging.Logger, io.StringIO]:
    """What `name`'s records look like after its logger's filters: a handler on the logger itself."""
    stream = io.StringIO()
    logger = logging.getLogger(name)
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    return logger, stream


@pytest.fixture
def transformers_report(quiet):
    """The text of transformers' LOAD REPORTs, as its own logger passes them on."""
    logger, stream = shown_by("transformers.modeling_utils")
    yield stream
    logger.removeHandler(logger.handlers[-1])


def test_a_new_head_on_a_headless_checkpoint_loads_without_a_load_report(tiny_model_dir, transformers_report):
    from transformers import AutoModelForSequenceClassification

    AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=3)
    assert transformers_report.getvalue() == ""


def test_a_saved_classifier_missing_its_head_keeps_its_load_report(
    tiny_model_dir, tmp_path, transformers_report
):
    """The same missing weights where the checkpoint says it is a classifier: a broken save, shown."""
    from transformers import AutoModelForSequenceClassification

    folder = tmp_path / "classifier"
    shutil.copytree(tiny_model_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(
        json.dumps(config | {"architectures": ["BertForSequenceClassification"]})
    )
    AutoModelForSequenceClassification.from_pretrained(folder, num_labels=3)
    assert (
        "LOAD REPORT" in transformers_report.getvalue()
        and "classifier.weight" in transformers_report.getvalue()
    )


REPORT = "\x1b[1mBertModel LOAD REPORT\x1b[0m from: {path}\nKey | Status | \n---+---\n{rows}\n\nNotes: ..."


@pytest.mark.parametrize(
    ("rows", "dropped"),
    [
        ("embeddings.position_ids | \x1b[33mUNEXPECTED\x1b[0m | ", True),
        ("encoder.layer.{0, 1}.attention.self.query.weight | MISSING | ", False),
        ("embeddings.position_ids | UNEXPECTED | \nencoder.layer.0.output.dense.bias | UNEXPECTED | ", False),
        ("embeddings.word_embeddings.weight | MISMATCH | Reinit due to size mismatch", False),
        ("pooler.dense.weight | MISSING | ", False),  # a random [CLS] pooler matters (DESIGN: pooling)
        ("", False),  # a table it cannot read: shown
    ],
)
def test_only_the_expected_rows_drop_a_load_report(rows, dropped, tiny_model_dir):
    assert expected_load_report(REPORT.format(path=tiny_model_dir, rows=rows)) is dropped


def test_missing_head_weights_are_expected_only_where_the_checkpoint_has_no_head(tmp_path):
    rows = "classifier.weight | MISSING | \nclassifier.bias | MISSING | "
    assert not expected_load_report(REPORT.format(path="some-org/some-hub-model", rows=rows))
    (tmp_path / "config.json").write_text('{"architectures": ["BertModel"]}')
    assert expected_load_report(REPORT.format(path=tmp_path, rows=rows))


@pytest.mark.parametrize(
    ("name", "message", "shown"),
    [
        (
            "prefect",
            "Starting temporary server on http://127.0.0.1:8990\nSee https://docs.prefect.io/v3/concepts/server"
            "#how-to-guides for more information on running a dedicated Prefect server.",
            "Starting temporary server on http://127.0.0.1:8990\n",
        ),
        ("prefect", "Stopping temporary server on http://127.0.0.1:8990", ""),
        ("prefect", "Starting temporary server failed: the port is taken", None),
        ("EventsWorker", "Still processing items: 3 items remaining...", ""),
        ("EventsWorker", "Service 'EventsWorker' failed with 3 pending items.", None),
        (
            "mlflow.pyfunc",
            "Passing a Python object as `python_model` causes it to be serialized using CloudPickle, it ...",
            "",
        ),
        ("mlflow.pyfunc", "The model's signature does not match its input example", None),
        ("mlflow.store.db.utils", "Creating initial MLflow database tables...", ""),
    ],
    ids=[
        "prefect-tip",
        "prefect-stop",
        "prefect-other",
        "events-countdown",
        "events-failed",
        "cloudpickle",
        "mlflow-other",
        "db",
    ],
)
def test_library_chatter_is_dropped_by_its_exact_words_and_nothing_else(quiet, name, message, shown):
    logger, stream = shown_by(name)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        logger.warning(message)
    finally:
        logger.removeHandler(logger.handlers[-1])
        logger.setLevel(level)
    assert stream.getvalue() == (message + "\n" if shown is None else shown)


def test_mlflows_type_hint_warning_is_silenced_and_others_are_not(quiet):
    """As MLflow gives it: at a PythonModel subclass's definition, under its own blanket "once" filter."""
    import mlflow

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_libraries()  # again: catch_warnings gave warnings.showwarning a recorder

        class Model(mlflow.pyfunc.PythonModel):
            def predict(self, context, model_input):
                return model_input

        warnings.warn("Add type hints elsewhere", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["Add type hints elsewhere"]


def test_stderr_without_drops_whole_printed_lines_by_their_start_and_passes_the_rest(capsys):
    with stderr_without("Created version '"):
        print("Created version '2' of model 'distilbench-tiny'.", file=sys.stderr)
        print("Created versions are kept", file=sys.stderr)
        sys.stderr.write("a warning in ")
        sys.stderr.write("two writes\nand a tail")
    assert capsys.readouterr().err == "Created versions are kept\na warning in two writes\nand a tail"
