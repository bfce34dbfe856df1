"""The pictures: the study's accuracy/time/size trade-off (each fold's confusion matrix is crossval's)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from distilbench.core.schema import ACCURACY_MEAN, ACCURACY_STD, MODEL_MB, SECONDS_PER_FOLD  # noqa: E402


def close(fig: Figure) -> None:
    plt.close(fig)  # pyplot keeps every figure alive until closed


def plot_tradeoff(summary: pd.DataFrame, path: Path) -> None:
    """Accuracy against train+val time per fold, marker area ∝ model size: the trade-off at a glance."""
    datasets = list(summary["dataset"].unique())
    fig, axes = plt.subplots(1, len(datasets), figsize=(6 * len(datasets), 4.5), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        rows = summary[summary["dataset"] == dataset]
        ax.scatter(rows[SECONDS_PER_FOLD], rows[ACCURACY_MEAN], s=20 + 4 * rows[MODEL_MB], alpha=0.6)
        ax.errorbar(
            rows[SECONDS_PER_FOLD],
            rows[ACCURACY_MEAN],
            yerr=rows[ACCURACY_STD],
            fmt="none",
            ecolor="grey",
        )
        for _, r in rows.iterrows():
            ax.annotate(
                f"{r['model']}\n{r[MODEL_MB]:.0f} MB",
                (r[SECONDS_PER_FOLD], r[ACCURACY_MEAN]),
                textcoords="offset points",
                xytext=(6, 6),
                fontsize=8,
            )
        ax.set(title=dataset, xlabel="train + validation seconds per fold", ylabel="accuracy (mean ± std)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    close(fig)


def note_figure(text: str, path: Path) -> Path:
    """A picture that only says why there is nothing to plot, where a plot file is expected."""
    fig, ax = plt.subplots(figsize=(6, 1.5))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=10, wrap=True)
    fig.savefig(path, dpi=100)
    close(fig)
    return Path(path)
