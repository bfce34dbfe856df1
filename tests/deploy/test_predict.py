"""`distilbench predict`: texts or JSON Lines in, JSON Lines out; a folder and its registered model agree."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from distilbench.cli import main
from distilbench.deploy.predict import ServingSettings, read_texts
from distilbench.deploy.registry import register_classifier
from distilbench.tracking.runs import ensure_experiment
from tests.deploy.conftest import LABELS

TEXTS = ["match goal team score", "computer software chip", "election vote minister ü", "number 3"]
ROOT = Path(__file__).resolve().parents[2]


def run_cli(capsys, monkeypatch, *args: str, stdin: str = "") -> tuple[int, list[dict], str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(["predict", *args])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_texts_as_arguments(classifier_dir, capsys, monkeypatch) -> None:
    code, records, _ = run_cli(capsys, monkeypatch, "--model", str(classifier_dir), *TEXTS[:2])
    assert code == 0
    assert [r["text"] for r in records] == TEXTS[:2]
    for record in records:
        assert set(record) == {"text", "label", "probabilities"}
        assert list(record["probabilities"]) == LABELS
        assert sum(record["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        assert record["label"] == max(record["probabilities"], key=record["probabilities"].get)


def test_a_folder_and_its_registered_model_give_the_same_lines(
    classifier_dir, capsys, monkeypatch, tmp_path
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    experiment = ensure_experiment(uri, "predict-test", (tmp_path / "mlruns").as_uri())
    register_classifier(classifier_dir, "bbc", ServingSettings(tuple(LABELS), 64), experiment)
    stdin = "".join(json.dumps({"text": t, "id": i}) + "\n" for i, t in enumerate(TEXTS)) + "\n"  # blank end
    code, local, _ = run_cli(capsys, monkeypatch, "--model", str(classifier_dir), stdin=stdin)
    assert code == 0 and [r["text"] for r in local] == TEXTS
    code, registered, _ = run_cli(
        capsys, monkeypatch, "--model", "models:/distilbench-bbc@champion", stdin=stdin
    )
    assert code == 0
    assert [r["label"] for r in registered] == [r["label"] for r in local]
    for a, b in zip(registered, local, strict=True):
        assert a["probabilities"] == pytest.approx(b["probabilities"], abs=1e-6)


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ('{"text": "a"}\n{"txt": "b"}\n', "<stdin>, line 2, field 'text': missing (the fields are 'txt')"),
        ('{"text": "a"}\n\n{"text": 3}\n', "<stdin>, line 3, field 'text': 3 is not a string"),
        ('{"text": "a"\n', "<stdin>, line 1: not valid JSON (Expecting ',' delimiter at column 13)"),
        ('["a"]\n', "<stdin>, line 1: expected a JSON object, got list"),
    ],
)
def test_a_bad_line_is_one_error_line(stdin, message, capsys, monkeypatch, tmp_path) -> None:
    # the input is checked before the model loads: this folder does not even exist
    code, records, err = run_cli(capsys, monkeypatch, "--model", str(tmp_path / "none"), stdin=stdin)
    assert (code, records) == (2, [])
    assert err.strip().splitlines()[-1] == f"error: {message}"


def test_an_unknown_model_is_one_error_line(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    code, _, err = run_cli(capsys, monkeypatch, "--model", str(tmp_path / "none"), "a text")
    assert code == 2 and "no such folder" in err
    code, _, err = run_cli(capsys, monkeypatch, "--model", "models:/distilbench-nope@champion", "a text")
    assert code == 2 and err.splitlines()[-1].startswith("error: model 'models:/distilbench-nope@champion'")


def test_empty_input_gives_empty_output(classifier_dir, capsys, monkeypatch) -> None:
    assert run_cli(capsys, monkeypatch, "--model", str(classifier_dir), stdin="\n")[:2] == (0, [])
    assert read_texts(["", " \n"]) == []


def test_the_command_line_entry_point(classifier_dir, tmp_path) -> None:
    """One real process: only predictions on stdout, whatever the libraries print while loading."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "distilbench", "predict", "--model", str(classifier_dir)],
        input='{"text": "goal"}\n{"text": "vote"}\n',
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=600,  # imports torch and transformers: minutes on a loaded 2-core machine
    )
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["text"] for line in done.stdout.splitlines()] == ["goal", "vote"]
