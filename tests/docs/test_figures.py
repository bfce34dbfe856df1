"""A doc may quote this project's accuracies and speed-ups only as the committed reports give them.

Numbers live in generated files (reports/); a doc that copies them by hand falls behind the next run.
A section whose figures come from elsewhere says so, and is exempt: a benchmark's script or output
(`bench/...`), a documented example run (`docs/examples/...`), or the published literature.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
REPORTS = [path for pattern in ("*.md", "*.csv", "*.json") for path in (ROOT / "reports").glob(pattern)]

# an accuracy-like score (0.957, 0.9586) or a speed-up (5.63×, 2×)
FIGURE = re.compile(r"(?<![\d.])(?:0\.\d{3,4}(?!\d)|\d+(?:\.\d+)?(?= ?×))")
SOURCE_NAMED = re.compile(r"bench/|docs/examples/|\(examples/|published", re.IGNORECASE)


def sections(text: str) -> list[str]:
    """The text split at its markdown headings; a `#` line inside a fenced block is not a heading."""
    found: list[list[str]] = [[]]
    fenced = False
    for line in text.splitlines():
        fenced ^= line.startswith("```")
        if not fenced and re.match(r"#{1,6} ", line):
            found.append([])
        found[-1].append(line)
    return ["\n".join(lines) for lines in found]


def unreported_figures(text: str, reported: str) -> list[str]:
    return [
        figure
        for section in sections(text)
        if not SOURCE_NAMED.search(section)
        for figure in FIGURE.findall(section)
        if figure not in reported
    ]


def test_sections_split_only_at_headings_outside_code() -> None:
    assert len(sections("# a\ntext\n```bash\n# a comment\n```\n## b\n")) == 3


def test_a_copied_figure_is_found_and_a_named_source_exempts_it() -> None:
    reported = "| minilm-l6 | 0.9586 | 2.36× |"
    assert unreported_figures("## Results\nThe teacher scored 0.9586, 2.36× faster.", reported) == []
    assert unreported_figures("## Results\nThe teacher scored 0.9612 at 3.1× its speed.", reported) == [
        "0.9612",
        "3.1",
    ]
    assert unreported_figures("## Sweep\n`bench/sweep.py` gave 0.9612.", reported) == []
    assert unreported_figures("## Paper\nThe published BERT scored 0.974.", reported) == []


@pytest.mark.parametrize("doc", DOCS, ids=[doc.name for doc in DOCS])
def test_doc_quotes_only_reported_figures(doc: Path) -> None:
    reported = "\n".join(path.read_text(encoding="utf-8") for path in REPORTS)
    assert reported, "reports/ holds no committed report"
    missing = unreported_figures(doc.read_text(encoding="utf-8"), reported)
    assert not missing, (
        f"{doc.relative_to(ROOT)} quotes {missing}, which the committed reports/ do not contain: link the "
        "report instead, or say where the figure comes from (bench/..., docs/examples/..., published)"
    )
