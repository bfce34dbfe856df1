"""Two rows' answers paired example by example: how often they differ, and where."""

from __future__ import annotations

import pytest

from distilbench.core.errors import DataError
from distilbench.report.disagreement import disagreement, disagreement_rates


def fold(
    model: str, repeat: int, number: int, rows: list[int], truth: list[int], predicted: list[int]
) -> dict:
    scores = [[0.9 if c == y else 0.05 for c in range(3)] for y in predicted]
    return dict(
        dataset="d",
        model=model,
        repeat=repeat,
        fold=number,
        rows=rows,
        truth=truth,
        predicted=predicted,
        scores=scores,
    )


PREDICTIONS = [
    fold("teacher", 1, 1, [0, 3, 5], [0, 1, 2], [0, 1, 2]),
    fold("teacher", 1, 2, [1, 2, 4], [1, 2, 0], [1, 0, 0]),
    # in another order than the teacher's: rows are paired by id, not position
    fold("student", 1, 1, [5, 3, 0], [2, 1, 0], [1, 1, 0]),
    fold("student", 1, 2, [1, 2, 4], [1, 2, 0], [1, 2, 1]),
    fold("teacher", 1, 1, [0, 3, 5], [0, 1, 2], [2, 2, 2]) | {"dataset": "other"},
]


def test_the_rate_and_the_rows_where_two_rows_disagree():
    found = disagreement(PREDICTIONS, "d", "student", "teacher")
    assert found.examples == 6 and found.count == 3 and found.rate == pytest.approx(0.5)
    assert sorted(zip(found.rows["fold"], found.rows["row"], strict=True)) == [(1, 5), (2, 2), (2, 4)]
    row5 = found.rows[found.rows["row"] == 5].iloc[0]
    assert (row5["truth"], row5["student"], row5["teacher"], row5["student score"]) == (2, 1, 2, 0.9)
    # row 2: only the student is right; rows 5 and 4: only the teacher
    assert (found.only_first_right, found.only_second_right) == (1, 2)


def test_every_pair_s_rate_as_the_variance_floor_reads_it():
    rates = disagreement_rates(PREDICTIONS, "d")
    assert rates == {("student", "teacher"): pytest.approx(0.5), ("teacher", "student"): pytest.approx(0.5)}
    assert disagreement_rates(PREDICTIONS, "other") == {}  # one row: no pair
    assert disagreement_rates([], "d") == {}  # results from before predictions were kept


def test_a_row_agrees_with_itself():
    assert disagreement(PREDICTIONS, "d", "teacher", "teacher").rate == 0.0


def test_multilabel_answers_differ_when_any_label_does():
    def labels(model: str, predicted: list[list[int]]) -> dict:
        n = len(predicted)
        return dict(dataset="m", model=model, repeat=1, fold=1, rows=list(range(n)), truth=[[1, 0]] * n,
                    predicted=predicted, scores=[[0.7, 0.2]] * n)  # fmt: skip

    found = disagreement([labels("a", [[1, 0], [1, 1]]), labels("b", [[1, 0], [1, 0]])], "m", "a", "b")
    assert (found.examples, found.count, found.only_second_right) == (2, 1, 1)
    # its least sure label decision: label 2 predicted on at 0.2, i.e. 0.2 sure
    assert found.rows["a score"].tolist() == [0.2]


def test_results_without_predictions_say_to_rerun_crossval():
    with pytest.raises(DataError, match="no per-example predictions for cnn in the results; rerun crossval"):
        disagreement(PREDICTIONS, "d", "teacher", "cnn")


def test_the_report_section_shows_each_students_rate_and_a_few_example_texts(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from distilbench.report.disagreement import disagreement_section

    texts = [f"text number {i} | with a bar" for i in range(6)]
    pq.write_table(pa.table({"text": texts}), tmp_path / "examples.parquet")
    info = {"directory": str(tmp_path), "labels": ["neg", "neu", "pos"]}
    lines = disagreement_section(PREDICTIONS, "d", "teacher", ["student", "cnn"], info)
    text = "\n".join(lines)
    assert "| student   | 6                   | 3 (50.0%)  | 1                        | 2      " in text
    assert "cnn" not in text.split("Examples")[0]  # no predictions for it: left out, not an error
    assert "text number 5 / with a bar" in text  # the row's text, its bar kept out of the table's cells
    assert "| 5     | text number 5 / with a bar | pos    | neu       | pos       |" in text
    assert "disagree**" in lines[0] and "(teacher)" in lines[0]
    assert disagreement_section(PREDICTIONS, "d", "teacher", ["cnn"], info) == []
