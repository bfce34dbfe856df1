"""Write docs/examples/headlines.csv: a small, short-text, 3-class dataset to check that the defaults
adapt to data unlike BBC (docs/tuning.md, "A small dataset").

580 BBC News headlines (titles only, 5-10 words), 3 classes in unequal shares (business 43%, politics
34%, entertainment 22%), sampled with a fixed seed from the packaged corpus:

    .venv/bin/python docs/examples/make_headlines.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from distilbench.data.sources import load_bbc

SHARES = {"business": 250, "politics": 200, "entertainment": 130}
OUT = Path(__file__).with_name("headlines.csv")


def main() -> None:
    frame = load_bbc().frame.drop_duplicates("title")
    picked = [frame[frame["label"] == label].sample(n, random_state=7) for label, n in SHARES.items()]
    table = pd.concat(picked).sample(frac=1, random_state=7)[["title", "label"]]
    table.rename(columns={"title": "text"}).to_csv(OUT, index=False)
    print(f"wrote {len(table)} headlines to {OUT}")


if __name__ == "__main__":
    main()
