"""The primary questions, answered first: the ones the crossval run was declared with (recorded in its
results), one sentence each per dataset, and a line when params.yaml's questions changed after the run.

Testing the recorded questions, not whatever params.yaml says by report time, is the point: a question
chosen after seeing the folds is not a primary question.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from distilbench.config.settings import Question
from distilbench.core.errors import ConfigError, DataError
from distilbench.report.pairs import Comparison, against_row, asked_on
from distilbench.report.sequence import NOT_SHOWN, NOT_TESTED, SHOWN
from distilbench.report.verdicts import claim_evidence, claim_words, power_words, verdict_words


def recorded_questions(results: dict, path: Path | str = "results") -> tuple[Question, ...]:
    """The primary questions the run was declared with; none in results from before they were recorded."""
    raw = results.get("questions", [])
    if not isinstance(raw, list):
        raise DataError(f"{path}: questions: {raw!r} is not a list; rerun crossval")
    try:
        return tuple(Question.from_params(q, f"{path}: questions[{i}]") for i, q in enumerate(raw))
    except ConfigError as error:
        raise DataError(f"{error}; rerun crossval") from None


def changed_lines(recorded: Sequence[Question], now: Sequence[Question] | None) -> list[str]:
    """A warning when params.yaml's primary questions are not those the run was declared with."""
    if now is None or tuple(now) == tuple(recorded):
        return []
    return [
        f"*params.yaml's primary questions were changed after this run: the report answers the "
        f"{len(recorded)} the run was declared with, not the {len(now)} params.yaml names now (a question "
        "chosen after seeing the folds is not a primary one); rerun crossval to declare them.*"
    ]


def primary_lines(
    dataset: str, questions: Sequence[Question], comparisons: Sequence[Comparison], teacher: str
) -> list[str]:
    """One sentence per primary question asked on this dataset, in the declared order."""
    answered = {c.primary.order: c for c in comparisons if c.primary is not None}
    lines = []
    for order, q in asked_on(dataset, questions):
        against = against_row(q, teacher)
        asked = f"{order}. Is **{q.row}** {claim_words(q.claim, _margin(comparisons))} against **{against}**?"
        c = answered.get(order)
        lines.append(f"{asked} {_answer(c)}")
    return lines


def _answer(c: Comparison | None) -> str:
    if c is None:
        return "Not asked here: one of its rows did not run on this dataset."
    status = c.primary.status
    if status == SHOWN:
        return f"**Yes**: {verdict_words(c)}."
    words = power_words(c)
    settle = f" {words[0].upper()}{words[1:]}." if c.power else ""
    if status == NOT_SHOWN and c.test is None:
        return "**Not shown**: no test (one fold); the primary questions after it are not tested."
    if status == NOT_TESTED:
        return f"**Not tested**: an earlier primary question failed.{settle}"
    return f"**Not shown**: its {claim_evidence(c)}; the questions after it are not tested.{settle}"


def _margin(comparisons: Sequence[Comparison]) -> str:
    return next((f"{100 * c.margins.margin:g} pt" for c in comparisons if c.margins), "the margin")


def primary_section(
    per_dataset: Sequence[tuple[str, list[str]]], recorded: Sequence[Question], now: Sequence[Question] | None
) -> list[str]:
    """The report's opening: each dataset's answers, before anything else."""
    if not recorded:
        return [
            "*No primary questions were recorded with this run (the zoo's `primary_questions` in "
            "params.yaml): every comparison below is secondary.*",
            *changed_lines(recorded, now),
            "",
        ]
    lines = [
        "## Primary questions",
        "",
        "Declared in params.yaml before the run and recorded with it; on each dataset they are tested in "
        "this order, each at 5%, and the first not shown ends the sequence (a fixed sequence: the "
        "family-wise error stays at 5%). Everything after this section is secondary.",
        "",
        *changed_lines(recorded, now),
    ]
    for dataset, answers in per_dataset:
        lines += [f"**{dataset}**:", "", *answers, ""] if answers else []
    return lines
