"""Which model variants are worth deploying: the Pareto front of accuracy against batch-1 latency.

A row is dominated when another row of the same dataset is at least as accurate and at least as fast,
and strictly better in one of the two. Rows that tie on both are equal: neither dominates the other, so
both stay on the front. Size on disk is shown (marker area), not optimised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

COLUMNS = ("accuracy", "latency_ms", "size_mb")  # accuracy higher is better, latency lower is better


def dominates(a: Mapping, b: Mapping) -> bool:
    """Is `a` at least as good as `b` on accuracy and latency, and strictly better on one?"""
    at_least = a["accuracy"] >= b["accuracy"] and a["latency_ms"] <= b["latency_ms"]
    strictly = a["accuracy"] > b["accuracy"] or a["latency_ms"] < b["latency_ms"]
    return at_least and strictly


def pareto_front(rows: Iterable[Mapping] | pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """The rows as a table with a boolean `pareto` column: True where no other row dominates.

    With `by` (e.g. "dataset") each group is its own comparison: a model is only compared with the models
    of its own dataset. Row order and every other column are kept.
    """
    frame = pd.DataFrame(rows).reset_index(drop=True)
    missing = [c for c in COLUMNS[:2] if c not in frame.columns]
    if missing:
        raise ValueError(f"pareto_front needs columns {', '.join(missing)}; got {', '.join(frame.columns)}")
    groups = frame.groupby(by, sort=False).groups.values() if by else [frame.index]
    front = pd.Series(False, index=frame.index)
    for index in groups:
        records = frame.loc[index, list(COLUMNS[:2])].to_dict("index")
        for i, row in records.items():
            front[i] = not any(dominates(other, row) for j, other in records.items() if j != i)
    return frame.assign(pareto=front)


def plot_pareto(frame: pd.DataFrame, path: Path, label: str = "model", by: str = "dataset") -> Path:
    """Accuracy against batch-1 latency, one panel per dataset; marker area ∝ size on disk (MB).

    Pareto-optimal variants are filled and labelled, joined by the front's step line; the rest are hollow.
    `frame` needs accuracy, latency_ms, size_mb and the `label` column; `by` is optional.
    """
    marked = frame if "pareto" in frame.columns else pareto_front(frame, by if by in frame.columns else None)
    panels = list(marked.groupby(by, sort=False)) if by in marked.columns else [("", marked)]
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
    for ax, (name, rows) in zip(axes[0], panels, strict=True):
        area = 30 + 300 * rows["size_mb"] / max(float(marked["size_mb"].max()), 1e-9)
        best, rest = rows["pareto"], ~rows["pareto"]
        ax.scatter(
            rows.loc[rest, "latency_ms"],
            rows.loc[rest, "accuracy"],
            s=area[rest],
            facecolors="none",
            edgecolors="grey",
            label="dominated",
        )
        ax.scatter(
            rows.loc[best, "latency_ms"],
            rows.loc[best, "accuracy"],
            s=area[best],
            color="tab:blue",
            alpha=0.7,
            label="Pareto-optimal",
        )
        front = rows[best].sort_values("latency_ms")
        ax.step(front["latency_ms"], front["accuracy"], where="post", color="tab:blue", linewidth=1)
        # variants that tie on both axes share a point: one label lists them all
        for (latency, accuracy), tied in front.groupby(["latency_ms", "accuracy"], sort=False):
            names = "\n".join(f"{r[label]} ({r['size_mb']:.0f} MB)" for _, r in tied.iterrows())
            ax.annotate(names, (latency, accuracy), textcoords="offset points", xytext=(6, 4), fontsize=8)
        ax.margins(x=0.2, y=0.1)  # room for the labels of the slowest and most accurate points
        ax.set_title(str(name) or "all", fontsize=10)
        ax.set_xlabel("latency, batch of 1 (ms)")
        ax.set_ylabel("accuracy")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("Accuracy against latency (marker area ∝ size on disk)", fontsize=11)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
