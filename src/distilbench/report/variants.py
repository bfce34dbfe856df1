"""The report's deployment view: compressed-variant rows and the Pareto front of accuracy against batch-1
latency (whether a variant meets the inference target is report.target's).

A variant row (`<model>+<variant>`, see :mod:`distilbench.config.variants`) is a model of the report like
any other; here it gets a spec of its own, so the tables order it after its source and the paired test
compares it with its fp32 source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from distilbench.config.settings import ModelSpec
from distilbench.config.variants import COMPRESSED
from distilbench.core.schema import ACCURACY_MEAN, LATENCY_P50, LATENCY_SPEEDUP, MODEL_MB, PARETO
from distilbench.report.figures import note_figure
from distilbench.report.pareto import pareto_front, plot_pareto


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
