"""The floors of a multilabel dataset (crossval.majority.label_set_baselines): the most frequent label set,
and the k most frequent labels for every text. The majority-class floor means little there (each label off,
so no label at all); a model that does not beat "always the k commonest labels" on micro-F1 has learnt
nothing about the texts.
"""

from __future__ import annotations

import pandas as pd

from distilbench.core.schema import MICRO_F1, mean_key
from distilbench.crossval.majority import FREQUENT_SET, TOP_K

LABEL_SET_METRICS = ("micro_f1", "macro_f1", "accuracy", "hamming_loss")
STRATEGY_NAMES = {FREQUENT_SET: "the most frequent label set", TOP_K: "the k most frequent labels"}


def label_set_summary(records: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """One row per strategy: its mean of each multilabel metric over the dataset's folds (maybe empty)."""
    if records.empty or "dataset" not in records:
        return pd.DataFrame()
    own = records[records["dataset"] == dataset]
    if own.empty:
        return pd.DataFrame()
    return own.groupby("strategy", sort=False)[list(LABEL_SET_METRICS)].mean()


def label_set_lines(summary: pd.DataFrame, rows: pd.DataFrame) -> list[str]:
    """Each floor's means, then one warning per row whose mean micro-F1 does not beat the top-k floor."""
    if summary.empty:
        return []
    lines = [
        f"**Label-set floors** (constant answers fitted on each fold's training part): {name}: micro-F1 "
        f"{summary.loc[s, 'micro_f1']:.4f}, macro-F1 {summary.loc[s, 'macro_f1']:.4f}, subset accuracy "
        f"{summary.loc[s, 'accuracy']:.4f}, Hamming loss {summary.loc[s, 'hamming_loss']:.4f}."
        for s, name in STRATEGY_NAMES.items()
        if s in summary.index
    ]
    if TOP_K in summary.index and mean_key(MICRO_F1) in rows:
        floor = summary.loc[TOP_K, "micro_f1"]
        lines += [
            f"**⚠ {model} (micro-F1 {score:.4f}) is not better than always answering the k most frequent "
            f"labels (micro-F1 {floor:.4f}).**"
            for model, score in zip(rows["model"], rows[mean_key(MICRO_F1)], strict=True)
            if not score > floor
        ]
    return lines


def label_set_metrics(summary: pd.DataFrame) -> dict[str, float]:
    """metrics.json's keys for the floors, in the baseline's entry: `<strategy>.<metric>_mean`."""
    return {
        f"{strategy}.{mean_key(metric)}": round(float(value), 6)
        for strategy, means in summary.iterrows()
        for metric, value in means.items()
    }
