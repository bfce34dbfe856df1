"""The report's deployment view: compressed-variant rows, the Pareto front of accuracy against batch-1
latency, and whether the best compressed variant meets the issue's inference target.

A variant row (`<model>+<variant>`, see :mod:`distilbench.config.variants`) is a model of the report like
any other; here it gets a spec of its own, so the tables order it after its source and the paired test
compares it with its fp32 source.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from distilbench.config.settings import ModelSpec
from distilbench.config.variants import COMPRESSED
from distilbench.core.schema import ACCURACY_MEAN, LATENCY_P50, LATENCY_SPEEDUP, MODEL_MB, PARETO
from distilbench.report.figures import note_figure
from distilbench.report.pareto import pareto_front, plot_pareto

# the inference target (issue 9): a compressed student at least this many times the fp32 teacher's
# batch-1 speed, for at most this many accuracy points lost
TARGET_SPEEDUP = 3.0
TARGET_MAX_DROP_PTS = 1.0


@dataclass(frozen=True)
class RowSpec:
    """A row of the report: a zoo model, or one of its compressed variants (`<model>+<variant>`)."""

    name: str
    model: ModelSpec  # the zoo's spec; a variant's is its fp32 source's
    variant: str | None = None  # one of COMPRESSED, for a variant's row

    @property
    def variant_of(self) -> str | None:
        return self.model.name if self.variant else None

    @property
    def distil_from(self) -> str | None:
        """The row's own teacher: a variant is made from its source, not distilled."""
        return None if self.variant else self.model.distil_from

    @property
    def kind(self) -> str:
        return self.model.kind

    @property
    def cost_includes(self) -> str | None:
        """Whose fold teacher a row's cost includes (it learnt from it or started from it): a variant
        shares its source's."""
        return self.model.fold_teacher


def with_variant_specs(specs: list[ModelSpec], folds: pd.DataFrame) -> list[RowSpec]:
    """The zoo's specs as rows with, after each model that has variants in the folds, one row per variant."""
    out = []
    present = (
        folds.dropna(subset=["variant_of"])[["variant_of", "variant", "model"]].drop_duplicates()
        if "variant_of" in folds
        else pd.DataFrame(columns=["variant_of", "variant", "model"])
    )
    for spec in specs:
        out.append(RowSpec(spec.name, spec))
        own = present[present["variant_of"] == spec.name]
        ordered = sorted(own.itertuples(), key=lambda r: COMPRESSED.index(r.variant))
        out += [RowSpec(r.model, spec, r.variant) for r in ordered]
    return out


def with_pareto(summary: pd.DataFrame, teacher: str) -> pd.DataFrame:
    """`pareto` (per dataset: accuracy up, batch-1 latency down; rows without a latency are never on the
    front) and `latency_speedup_vs_teacher` (the teacher's batch-1 p50 over the row's)."""
    timed = summary[LATENCY_P50].notna()
    out = summary.assign(**{PARETO: False})
    if timed.any():
        front = pareto_front(_pareto_columns(summary[timed]), by="dataset")
        out.loc[timed, PARETO] = front["pareto"].to_numpy()
    teachers = summary[summary["model"] == teacher].set_index("dataset")[LATENCY_P50]
    return out.assign(**{LATENCY_SPEEDUP: summary["dataset"].map(teachers) / summary[LATENCY_P50]})


def _pareto_columns(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dataset": rows["dataset"].to_numpy(),
            "model": rows["model"].to_numpy(),
            "accuracy": rows[ACCURACY_MEAN].to_numpy(),
            "latency_ms": rows[LATENCY_P50].to_numpy(),
            "size_mb": rows[MODEL_MB].to_numpy(),
        }
    )


def plot_front(summary: pd.DataFrame, path: Path) -> Path:
    """reports/pareto.png: one panel per dataset, Pareto-optimal rows filled and labelled."""
    timed = summary[summary[LATENCY_P50].notna()]
    if timed.empty:  # results from before latency was measured: the file DVC expects, saying so
        return note_figure("No batch-1 latency in these results: rerun crossval for the Pareto view", path)
    frame = _pareto_columns(timed).assign(pareto=timed[PARETO].to_numpy())
    return plot_pareto(frame, path)


def _points(value: float) -> str:
    return f"{value + 0.0:+.2f}" if round(value, 2) else "±0.00"  # never "-0.00"


def target_line(rows: pd.DataFrame, teacher: str) -> list[str]:
    """One sentence: the fastest compressed variant within the accuracy budget, against the target."""
    if "variant" not in rows or rows["variant"].isna().all():
        return []
    base = rows[rows["model"] == teacher]
    if base.empty or math.isnan(float(base[LATENCY_P50].iloc[0])):
        return []
    accuracy, latency = float(base[ACCURACY_MEAN].iloc[0]), float(base[LATENCY_P50].iloc[0])
    variants = rows[rows["variant"].notna()].assign(
        drop_pts=lambda f: 100 * (accuracy - f[ACCURACY_MEAN]),
        speedup=lambda f: latency / f[LATENCY_P50],
    )
    within = variants[variants["drop_pts"] <= TARGET_MAX_DROP_PTS]
    target = f"target ≥ {TARGET_SPEEDUP:.0f}× for ≤ {TARGET_MAX_DROP_PTS:.0f} point"
    if within.empty:
        return [
            f"**Inference target not met**: no compressed variant is within {TARGET_MAX_DROP_PTS:.0f} "
            f"point of the teacher ({target})."
        ]
    best = within.sort_values("speedup", ascending=False).iloc[0]
    met = "met" if best["speedup"] >= TARGET_SPEEDUP else "not met"
    return [
        f"**Inference target {met}**: the fastest compressed variant within {TARGET_MAX_DROP_PTS:.0f} point "
        f"of the teacher, {best['model']}, answers one example in {best['latency_p50_ms']:.1f} ms (p50) "
        f"against the fp32 teacher's {latency:.1f} ms: {best['speedup']:.2f}× "
        f"at {_points(-best['drop_pts'])} accuracy points ({target}). "
        "Pareto-optimal rows are marked ✓; the picture is pareto.png."
    ]
