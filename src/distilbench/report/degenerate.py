"""Rows that learnt nothing usable, said out loud: a model that gives every held-out text one and the same
answer (always the majority class, or always the same label set) or, multilabel, no label to most texts.

Such a row can still score well on accuracy (91% on Alexa by always answering "positive"), so the report
flags it beside its dataset's table and the select rule never chooses it (report.choice). The numbers come
from each fold record's `distinct_answers` and `empty_answers` (crossval.fold).
"""

from __future__ import annotations

import pandas as pd

NO_LABEL_SHARE = 0.5  # a multilabel row leaving more than half the held-out texts without a label


def flagged_rows(folds: pd.DataFrame) -> dict[str, str]:
    """model -> why it is flagged, for one dataset's fold records (records without the columns: none)."""
    if folds.empty or "distinct_answers" not in folds:
        return {}
    reasons = {}
    for model, own in folds.groupby("model", sort=False):
        answers = own["distinct_answers"].fillna(0)
        empty = own["empty_answers"].fillna(0.0) if "empty_answers" in own else pd.Series(0.0, own.index)
        if (answers == 1).all():
            reasons[model] = "gives one and the same answer to every held-out text on every fold"
        elif empty.mean() > NO_LABEL_SHARE:
            reasons[model] = f"gives no label to {100 * empty.mean():.0f}% of the held-out texts"
    return reasons


def flag_lines(reasons: dict[str, str]) -> list[str]:
    """One bold warning per flagged row; the select rule leaves these rows out."""
    return [
        f"**⚠ {model} {why}: it learnt nothing usable here, and the champion rule never chooses it.**"
        for model, why in reasons.items()
    ]
