"""Frequent itemsets of the groceries baskets by mlxtend's FP-growth: the fixture the Rust
FP-growth is checked against. Run from the project root:
    python bench/reference/mlxtend_groceries.py
"""
import csv
import pathlib

import pandas as pd
from mlxtend.frequent_patterns import fpgrowth
from mlxtend.preprocessing import TransactionEncoder

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared/data/groceries/groceries.csv"
OUT = ROOT / "crates/guanxi-analytics/tests/fixtures/groceries_mlxtend_itemsets.csv"
MIN_SUPPORT = 0.005

# One basket per line, items comma-separated, kept exactly (two item names end with a space).
baskets = [line.rstrip("\n").split(",") for line in DATA.read_text().splitlines(keepends=True)]
te = TransactionEncoder()
frame = pd.DataFrame(te.fit(baskets).transform(baskets), columns=te.columns_)
sets = fpgrowth(frame, min_support=MIN_SUPPORT, use_colnames=True)
rows = sorted((("|".join(sorted(s)), round(sup * len(baskets))) for s, sup in zip(sets["itemsets"], sets["support"])))
with OUT.open("w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["items", "count", "support"])
    for items, count in rows:
        w.writerow([items, count, repr(count / len(baskets))])
print(f"{len(baskets)} baskets, {len(te.columns_)} items, {len(rows)} itemsets at min_support={MIN_SUPPORT} -> {OUT}")
