"""Where two rows answer the same held-out examples differently: the per-example view of a comparison.

Read from the results file's `predictions` (crossval.records.prediction_record: per fold, the held-out
rows' positions in the prepared examples, their truth, the predicted labels and the scores). Two rows are
paired on (repeat, fold, row): the same example, held out by the same fold, answered by two fitted models.
What it says is conditional on those fitted models, not on the training method in general.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from distilbench.core.errors import DataError

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
    and the score of what it predicted (multilabel labels as tuples of 0/1)."""
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
                    "score": scores[predicted] if single else min(scores),
                }
            )
    return pd.DataFrame(lines, columns=[*PAIR, "truth", "predicted", "score"])


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
