"""The primary questions: declared with the zoo in params.yaml (checked against its rows), recorded by
crossval, tested first on each dataset by the fixed sequence, the rest Holm-adjusted among themselves
only, answered first in the report, and a line when params.yaml changed them after the run."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from distilbench.config.settings import Config, ModelSpec, Question
from distilbench.core.errors import ConfigError
from distilbench.crossval.stage import CrossvalPlan, write_results
from distilbench.report.pairs import INCONCLUSIVE, NOT_TESTED_VERDICT, WORSE_BEYOND, dataset_comparisons
from distilbench.report.questions import changed_lines, primary_lines, recorded_questions
from distilbench.report.sequence import NOT_SHOWN, NOT_TESTED, SHOWN
from distilbench.report.statistics import holm
from distilbench.report.variants import RowSpec

ZOO = {
    "zoo": "z",
    "zoos": {
        "z": {
            "teacher": "big",
            "models": [
                {"name": "big", "source": "hub", "id": "b", "compress": ["onnx-int8"]},
                {"name": "small", "source": "hub", "id": "b", "layers": [0]},
                {"name": "cnn", "kind": "cnn"},
            ],
        }
    },
}


def config(primary: list) -> Config:
    zoo = {**ZOO["zoos"]["z"], "primary_questions": primary}
    return Config.from_params({"models": {"zoo": "z", "zoos": {"z": zoo}}})


# --- params.yaml -------------------------------------------------------------------------------------


def test_questions_name_rows_of_the_zoo_variants_included():
    cfg = config(
        [
            {"row": "small", "claim": "equivalent"},
            {"row": "big+onnx-int8", "claim": "noninferior", "datasets": ["bbc"]},
            {"row": "cnn", "against": "small", "claim": "worse"},
        ]
    )
    assert [q.row for q in cfg.zoo.primary_questions] == ["small", "big+onnx-int8", "cnn"]
    assert cfg.zoo.primary_questions[0].against == "teacher" and cfg.zoo.primary_questions[1].datasets == (
        "bbc",
    )


@pytest.mark.parametrize(
    ("primary", "message"),
    [
        (
            [{"row": "small", "claim": "equivalent"}, {"row": "smal", "claim": "worse"}],
            r"^models\.zoos\.z\.primary_questions\[1\]\.row: 'smal' is not a row of zoo z; rows: "
            r"\['big', 'small', 'cnn', 'big\+onnx-int8'\]$",
        ),
        (
            [{"row": "cnn", "against": "tiny", "claim": "worse"}],
            r"^models\.zoos\.z\.primary_questions\[0\]\.against: 'tiny'",
        ),
        (
            [{"row": "small", "claim": "same"}],
            r"^models\.zoos\.z\.primary_questions\[0\]\.claim: 'same' is not one of",
        ),
        ([{"row": "small"}], r"^models\.zoos\.z\.primary_questions\[0\]\.claim: None is not one of"),
        (
            [{"row": "small", "claim": "equivalent"}, {"row": "small", "claim": "noninferior"}],
            r"^models\.zoos\.z\.primary_questions\[1\]: asks about small against teacher again",
        ),
        (
            [{"row": "small", "claim": "worse", "typo": 1}],
            r"^models\.zoos\.z\.primary_questions\[0\]: unknown key\(s\) \['typo'\]",
        ),
    ],
)
def test_a_bad_question_is_one_error_naming_its_key(primary, message):
    with pytest.raises(ConfigError, match=message) as caught:
        config(primary)
    assert "\n" not in str(caught.value)


def test_crossval_records_the_questions_and_the_report_reads_them_back(tmp_path):
    cfg = config(
        [{"row": "small", "claim": "worse", "datasets": ["rt"]}, {"row": "cnn", "claim": "equivalent"}]
    )
    plan = CrossvalPlan(jobs=(), parents=(), datasets=(), tracking_uri="sqlite:///m.db", experiment_id="0")
    write_results(tmp_path / "crossval.json", cfg, plan, [])
    results = json.loads((tmp_path / "crossval.json").read_text())
    assert results["questions"][0] == {
        "row": "small",
        "claim": "worse",
        "against": "teacher",
        "datasets": ["rt"],
    }
    assert recorded_questions(results) == cfg.zoo.primary_questions
    assert recorded_questions({}) == ()  # results from before questions were recorded


def test_the_report_says_when_params_yaml_changed_the_questions_after_the_run():
    run = (Question("small", "equivalent"),)
    assert changed_lines(run, run) == [] and changed_lines(run, None) == []
    (line,) = changed_lines(run, (Question("small", "noninferior"),))
    assert "changed after this run" in line and "answers the 1 the run was declared with" in line


# --- the fixed sequence on one dataset's folds --------------------------------------------------------

TEACHER = [0.90, 0.91, 0.92, 0.89, 0.90]
OFFSETS = {  # each model's per-fold accuracy minus the teacher's
    "close": [0.001, -0.001, 0.002, 0.0, -0.002],  # equivalent within ±1 point (TOST p ≈ 1e-5)
    "noisy": [0.01, 0.02, 0.00, 0.03, 0.015],  # +1.5 points ± 1: not equivalent
    "far": [-0.03, -0.031, -0.029, -0.03, -0.03],  # worse by far more than a point
    "other": [-0.03, -0.032, -0.028, -0.031, -0.029],
}


def folds_of(offsets: dict[str, list[float]]) -> pd.DataFrame:
    rows = [("teacher", f + 1, a) for f, a in enumerate(TEACHER)]
    rows += [
        (m, f + 1, t + o) for m, d in offsets.items() for f, (t, o) in enumerate(zip(TEACHER, d, strict=True))
    ]
    return pd.DataFrame(
        [
            {"dataset": "news", "model": m, "repeat": 1, "fold": f, "accuracy": a, "eval_examples": 425}
            for m, f, a in rows
        ]
    )


SPECS = [RowSpec(name, ModelSpec(name=name, kind="linear")) for name in ["teacher", *OFFSETS]]


def comparisons(questions: list[Question]):
    info = {"examples": 2125}
    found = dataset_comparisons(folds_of(OFFSETS), SPECS, "teacher", info, margin=1.0, questions=questions)
    return {c.model: c for c in found}


def test_the_sequence_stops_at_the_first_question_not_shown():
    got = comparisons(
        [Question("close", "equivalent"), Question("noisy", "equivalent"), Question("far", "worse")]
    )
    assert [got[m].primary.status for m in ("close", "noisy", "far")] == [SHOWN, NOT_SHOWN, NOT_TESTED]
    assert got["far"].margins.p_beyond < 0.05  # shown, were it tested: it is not
    assert [got[m].verdict for m in ("noisy", "far")] == [INCONCLUSIVE, NOT_TESTED_VERDICT]
    assert got["close"].noninferior and not got["far"].noninferior


def test_secondaries_are_holm_adjusted_among_themselves_only():
    got = comparisons([Question("close", "equivalent"), Question("far", "worse")])
    assert got["far"].verdict == WORSE_BEYOND and got["far"].holm is None
    secondaries = [got["noisy"], got["other"]]
    assert all(c.holm.m == 2 for c in secondaries)  # the two primaries are not in the family
    expected = holm([c.test.p_value for c in secondaries])
    assert [c.holm.p_difference for c in secondaries] == pytest.approx(expected)
    everything = comparisons([])
    assert everything["noisy"].holm.m == 4  # without questions, one family of all four


def test_a_question_on_another_dataset_is_not_asked_here():
    got = comparisons([Question("far", "worse", datasets=("elsewhere",)), Question("close", "equivalent")])
    assert got["far"].primary is None and got["close"].primary.order == 2


def test_the_report_answers_each_question_in_one_sentence():
    questions = [Question("close", "equivalent"), Question("noisy", "equivalent"), Question("far", "worse")]
    found = list(comparisons(questions).values())
    first, second, third = primary_lines("news", questions, found, "teacher")
    assert first.startswith("1. Is **close** equivalent within ±1 pt against **teacher**? **Yes**: ")
    assert "90% CI" in first and "5% in the fixed sequence" in first
    assert second.startswith("2. Is **noisy** equivalent within ±1 pt against **teacher**? **Not shown**: ")
    assert "not inside ±1 pt" in second and "would show equivalence within ±1 pt" in second
    assert third.startswith("3. Is **far** worse by more than 1 pt against **teacher**? **Not tested**: ")
