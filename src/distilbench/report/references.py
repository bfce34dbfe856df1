"""Published accuracies the report shows beside its own: other people's runs, on other hardware.

Only datasets whose name in params.yaml is exactly one of these keys get a reference line; a figure from
another protocol or another copy of the data would compare unlike with unlike.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    protocol: str
    source: str
    accuracy: dict[str, tuple[tuple[str, float], ...]]  # model -> (variant, accuracy) pairs


PUBLISHED = {
    # the BBC/Alexa/Brexit study the `paper` zoo reproduces (README, "Zoos"): 5-fold CV on BBC News
    "bbc": Reference(
        protocol="5-fold CV",
        source="the BBC/Alexa/Brexit study the `paper` zoo reproduces",
        accuracy={
            "BERT-base": (("cased", 0.974), ("uncased", 0.976)),
            "DistilBERT": (("cased", 0.977), ("uncased", 0.981)),
        },
    ),
    # the same study on the two datasets no package ships (../shared/data/seed/README.md): 5-fold CV with
    # every review kept (the majority class alone scores 0.918), and Brexit single-label as the paper ran
    # it, each of its 1,682 rows labelled by its `Stance category` (docs/datasets.md, the published study)
    "amazon_alexa": Reference(
        protocol="5-fold CV, every review kept (majority class 0.918)",
        source="the BBC/Alexa/Brexit study the `paper` zoo reproduces",
        accuracy={
            "BERT-base": (("cased", 0.956), ("uncased", 0.955)),
            "DistilBERT": (("cased", 0.955), ("uncased", 0.950)),
            "CNN": (("", 0.905),),
        },
    ),
    "brexit": Reference(
        protocol="5-fold CV, each of the 1,682 rows labelled by its `Stance category`",
        source="the BBC/Alexa/Brexit study the `paper` zoo reproduces",
        accuracy={
            "BERT-base": (("cased", 0.412), ("uncased", 0.391)),
            "DistilBERT": (("cased", 0.385), ("uncased", 0.366)),
            "CNN": (("", 0.357),),
        },
    ),
    # Sanh et al. 2019, "DistilBERT, a distilled version of BERT", Table 1: GLUE dev set (92.7 and 91.3)
    "sst2": Reference(
        protocol="GLUE dev set",
        source="Sanh et al. 2019 (DistilBERT), Table 1",
        accuracy={"BERT-base": (("", 0.927),), "DistilBERT": (("", 0.913),)},
    ),
}

CAVEAT = "other people's figures on other hardware, not measured here"


def figures(variants: tuple[tuple[str, float], ...]) -> str:
    """'0.974 (cased) / 0.976 (uncased)'; one unnamed variant is just its number."""
    return " / ".join(f"{value:.3f}" + (f" ({name})" if name else "") for name, value in variants)


def reference_line(dataset: str) -> str | None:
    """The line under a dataset's table, or None when nothing published matches its name."""
    ref = PUBLISHED.get(dataset)
    if ref is None:
        return None
    models = "; ".join(f"{model} {figures(v)}" for model, v in ref.accuracy.items())
    return f"*Published accuracy ({CAVEAT}): {models} — {ref.protocol}, {ref.source}.*"
