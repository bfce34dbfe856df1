"""Where two rows answer the same held-out examples differently: the per-example view of a comparison.

Read from the results file's `predictions` (crossval.records.prediction_record: per fold, the held-out
rows' positions in the prepared examples, their truth, the predicted labels and the scores). Two rows are
paired on (repeat, fold, row): the same example, held out by the same fold, answered by two fitted models.
What it says is conditional on those fitted models, not on the training method in general.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from distilbench.core.errors import DataError
from distilbench.core.paths import EXAMPLES_FILE

PAIR = ["repeat", "fold", "row"]


@dataclass(frozen=True)
class Disagreement:
    """Two rows on one dataset, example by example."""

    dataset: str
    first: str
    second: str
    examples: int  # held-out examples both rows answered, over all repeats × folds
    rows: pd.DataFrame  # where they differ: repeat, fold, row, truth, <first>, <second> (+ their scores)

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def rate(self) -> float:
        """Share of the paired examples the two rows answer differently (NaN with none paired)."""
        return self.count / self.examples if self.examples else float("nan")

    @property
    def only_first_right(self) -> int:
        return int((self.rows[self.first] == self.rows["truth"]).sum())

    @property
    def only_second_right(self) -> int:
        return int((self.rows[self.second] == self.rows["truth"]).sum())


def answers(predictions: Iterable[Mapping], dataset: str, model: str) -> pd.DataFrame:
    """One row's answers on a dataset, one line per held-out example: repeat, fold, row, truth, predicted
    and the score of what it predicted (multilabel: labels as tuples of 0/1, scored by least_sure)."""
    lines = []
    for p in predictions:
        if (p["dataset"], p["model"]) != (dataset, model):
            continue
        for row, truth, predicted, scores in zip(
            p["rows"], p["truth"], p["predicted"], p["scores"], strict=True
        ):
            single = isinstance(predicted, int)
            lines.append(
                {
                    "repeat": p["repeat"],
                    "fold": p["fold"],
                    "row": row,
                    "truth": truth if single else tuple(truth),
                    "predicted": predicted if single else tuple(predicted),
                    "score": scores[predicted] if single else least_sure(scores, predicted),
                }
            )
    return pd.DataFrame(lines, columns=[*PAIR, "truth", "predicted", "score"])


def least_sure(scores: Sequence[float], predicted: Sequence[int]) -> float:
    """A multilabel answer's score: its confidence in its least sure label decision (on or off)."""
    return min(s if on else 1 - s for s, on in zip(scores, predicted, strict=True))


def disagreement(predictions: Sequence[Mapping], dataset: str, first: str, second: str) -> Disagreement:
    """Where `first` and `second` predict different labels for the same held-out example of `dataset`.

    Raises DataError when either row has no predictions there (results from before they were kept)."""
    a, b = answers(predictions, dataset, first), answers(predictions, dataset, second)
    missing = [name for name, frame in ((first, a), (second, b)) if frame.empty]
    if missing:
        raise DataError(
            f"{dataset}: no per-example predictions for {', '.join(missing)} in the results; rerun crossval"
        )
    paired = a.merge(b, on=PAIR, suffixes=("_a", "_b"), validate="one_to_one")
    differ = paired[paired["predicted_a"] != paired["predicted_b"]]
    rows = pd.DataFrame(
        {
            **{key: differ[key] for key in PAIR},
            "truth": differ["truth_a"],
            first: differ["predicted_a"],
            second: differ["predicted_b"],
            f"{first} score": differ["score_a"],
            f"{second} score": differ["score_b"],
        }
    ).reset_index(drop=True)
    return Disagreement(dataset, first, second, len(paired), rows)


def disagreement_rates(predictions: Sequence[Mapping], dataset: str) -> dict[tuple[str, str], float]:
    """(first, second) -> the share of held-out examples of `dataset` both rows answered and answered
    differently, for every two rows with per-example predictions there (none for older results)."""
    models = sorted({p["model"] for p in predictions if p["dataset"] == dataset})
    wide = {m: answers(predictions, dataset, m).set_index(PAIR)["predicted"] for m in models}
    rates = {}
    for first, second in itertools.combinations(models, 2):  # the rate is symmetric: pair each once
        paired = pd.concat([wide[first], wide[second]], axis=1, join="inner", keys=["a", "b"])
        if len(paired):
            rates[first, second] = rates[second, first] = float((paired["a"] != paired["b"]).mean())
    return rates


EXAMPLES_SHOWN = 3  # example texts per dataset: enough to see what kind of text splits them
TEXT_CHARS = 120  # a text is cut to this many characters in the table


def example_texts(directory: str | None, rows: Iterable[int]) -> dict[int, str]:
    """The prepared examples' texts at these positions; none when the prepared data is not here (a report
    built from a copied results file): the table then shows row ids only."""
    path = Path(directory) / EXAMPLES_FILE if directory else None
    if path is None or not path.is_file():
        return {}
    texts = pq.read_table(path, columns=["text"]).column("text").to_pylist()
    return {row: texts[row] for row in rows if 0 <= row < len(texts)}


def _label(value, labels: Sequence[str]) -> str:
    if isinstance(value, tuple):  # multilabel: the labels set
        return "; ".join(name for name, on in zip(labels, value, strict=False) if on) or "(none)"
    return labels[value] if 0 <= value < len(labels) else str(value)


def _cut(text: str) -> str:
    text = " ".join(text.split()).replace("|", "/")  # one line, and no cell break in the markdown table
    return text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…"


def disagreement_section(
    predictions: Sequence[Mapping], dataset: str, teacher: str, students: Sequence[str], info: Mapping
) -> list[str]:
    """'Where the students and the teacher disagree': each student's per-example disagreement with the
    teacher, then a few examples the first of them (the distilled one, when there is one) answers
    differently. Empty for results without per-example predictions."""
    pairs = []
    for student in students:
        try:
            pairs.append(disagreement(predictions, dataset, student, teacher))
        except DataError:  # results from before predictions were kept, or a row absent here
            continue
    if not pairs:
        return []
    summary = pd.DataFrame(
        {
            "Student": [p.first for p in pairs],
            "Held-out examples": [str(p.examples) for p in pairs],
            "Disagree": [f"{p.count} ({100 * p.rate:.1f}%)" for p in pairs],
            "Only the student right": [str(p.only_first_right) for p in pairs],
            "Only the teacher right": [str(p.only_second_right) for p in pairs],
        }
    )
    lines = [
        f"**Where the students and the teacher ({teacher}) disagree**, example by example: each fold's "
        "fitted models on its held-out rows (a statement about these fitted models, not the recipes).",
        "",
        summary.to_markdown(index=False, disable_numparse=True),
        "",
    ]
    first = pairs[0]
    shown = first.rows.head(EXAMPLES_SHOWN)
    if shown.empty:
        return lines
    labels = list(info.get("labels") or ())
    texts = example_texts(info.get("directory"), shown["row"])
    examples = pd.DataFrame(
        {
            "Row": shown["row"].astype(str),
            "Text": [_cut(texts[r]) if r in texts else "—" for r in shown["row"]],
            "True": [_label(v, labels) for v in shown["truth"]],
            first.first: [_label(v, labels) for v in shown[first.first]],
            teacher: [_label(v, labels) for v in shown[teacher]],
        }
    )
    return [
        *lines,
        f"Examples {first.first} and the teacher answer differently (the first {len(shown)}):",
        "",
        examples.to_markdown(index=False, disable_numparse=True),
        "",
    ]
