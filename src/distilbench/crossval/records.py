"""A computed fold as the study's outputs see it: its record in results/crossval.json and the per-fold
metrics its MLflow run logs, under the names of :mod:`distilbench.core.schema`.

Apart from crossval.fold on purpose: the fold code's digest (crossval.code_digest) covers what computes a
fold, not how its numbers are named or laid out, so renaming a results column keeps every cached fold.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np

from distilbench.core import schema
from distilbench.crossval.fold import FoldResult

# kept out of the results file: curves, matrices and nested objects (MLflow keeps the curves); a multilabel
# fold's thresholds are the one list kept (fold_record)
BULKY = (
    "history",
    "step_losses",
    "labels",
    "confusion",
    "variants",
    "speed",
    "variant",
    "predictions",
    "thresholds",
)
SCORE_DECIMALS = 4  # a held-out row's scores in the results file: enough for any paired analysis


def measured(result: FoldResult) -> dict[str, float]:
    """Every per-fold metric of the schema this fold has, by key."""
    known = {**asdict(result.speed), **result.metrics}
    # read through the module: a test adds a metric by patching schema.FOLD_METRICS alone
    values = {m.key: known.get(m.key, getattr(result, m.key, None)) for m in schema.FOLD_METRICS}
    return {k: v for k, v in values.items() if v is not None}


def fold_record(result: FoldResult) -> dict:
    """What results/crossval.json keeps of a fold: its numbers (under the schema's keys), no curves."""
    record = {k: v for k, v in asdict(result).items() if k not in BULKY and k != "metrics"}
    if result.thresholds:  # multilabel: the fold's decision, which select.refit fold serves with its model
        record["thresholds"] = list(result.thresholds)
    if result.variant is None:
        record.pop("variant_of")
    else:
        record |= {
            "variant": result.variant.variant,
            "agreement_with_fp32": result.variant.agreement,
            "max_abs_logit_diff": result.variant.max_abs_logit_diff,
            "only_variant_right": result.variant.only_variant_right,
            "only_fp32_right": result.variant.only_fp32_right,
        }
    return record | measured(result)


def fold_records(result: FoldResult) -> list[dict]:
    """The fold's record and its compressed variants' (results/crossval.json's `folds`)."""
    return [fold_record(row) for row in (result, *result.variant_rows())]


def prediction_record(result: FoldResult) -> dict | None:
    """A fold's answer to each held-out row, as lists (results/crossval.json's `predictions`): `rows` are
    positions in the prepared examples, `truth` and `predicted` class ids (0/1 per label for multilabel),
    `scores` each row's softmax (multilabel: per-label sigmoid) to SCORE_DECIMALS."""
    p = result.predictions
    if p is None:
        return None
    return {
        "dataset": result.dataset,
        "model": result.model,
        "repeat": result.repeat,
        "fold": result.fold,
        "rows": p.rows.tolist(),
        "truth": p.truth.tolist(),
        "predicted": p.predicted.tolist(),
        "scores": np.round(p.scores.astype(np.float64), SCORE_DECIMALS).tolist(),
    }


def prediction_records(result: FoldResult) -> list[dict]:
    """The fold's and its compressed variants' predictions (those that have them)."""
    rows = (prediction_record(row) for row in (result, *result.variant_rows()))
    return [row for row in rows if row is not None]


def results_text(payload: dict) -> str:
    """results/crossval.json's text: indented, except each fold's predictions, one line each, so that a
    study's thousands of held-out rows do not become a line per number."""
    predictions = payload.get("predictions", [])
    head = json.dumps({k: v for k, v in payload.items() if k != "predictions"}, indent=2)
    lines = ",\n    ".join(json.dumps(p, separators=(",", ":")) for p in predictions)
    body = f"[\n    {lines}\n  ]" if predictions else "[]"
    return f'{head[:-2]},\n  "predictions": {body}\n}}\n'
