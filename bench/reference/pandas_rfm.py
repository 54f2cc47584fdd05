"""RFM scores and segments the way an analyst writes them in pandas: the fixture the Rust RFM
is checked against (rank(method="min"), so identical customers share a score, placed among
the quintile edges of the ranks 1..n as qcut would place distinct ranks; recency ranked
descending; the R x F segment map documented in crates/guanxi-analytics/src/rfm.rs).

    python bench/reference/pandas_rfm.py INPUT.csv AS_OF OUTPUT.csv
"""
import re
import sys

import numpy as np
import pandas as pd

def score(values: pd.Series, ascending: bool = True) -> np.ndarray:
    """1-5: how many quintile edges of the ranks 1..n lie strictly below the (min) rank."""
    ranks = values.rank(method="min", ascending=ascending)
    edges = np.quantile(np.arange(1, len(values) + 1), np.linspace(0, 1, 6))
    return np.searchsorted(edges, ranks.to_numpy(), side="left").clip(1, 5)

def rfm(tx: pd.DataFrame, as_of: str) -> pd.DataFrame:
    as_of = pd.Timestamp(as_of)
    tx = tx[tx["date"] <= as_of]
    g = tx.groupby("customer_id").agg(last=("date", "max"), frequency=("date", "size"), monetary=("amount", "sum"))
    g = g.sort_index()
    g["recency"] = (as_of - g["last"]).dt.days
    g["r"] = score(g["recency"], ascending=False)
    g["f"] = score(g["frequency"])
    g["m"] = score(g["monetary"])
    segments = [
        (r"11", "Lost"),
        (r"[1-2][1-2]", "Hibernating"),
        (r"[1-2][3-4]", "At Risk"),
        (r"[1-2]5", "Can't Lose Them"),
        (r"3[1-2]", "About to Sleep"),
        (r"33", "Need Attention"),
        (r"[3-4][4-5]", "Loyal Customers"),
        (r"41", "Promising"),
        (r"51", "New Customers"),
        (r"[4-5][2-3]", "Potential Loyalists"),
        (r"5[4-5]", "Champions"),
    ]
    def seg(rf: str) -> str:
        for pattern, name in segments:
            if re.fullmatch(pattern, rf):
                return name
        raise ValueError(rf)
    g["segment"] = (g["r"].astype(str) + g["f"].astype(str)).map(seg)
    return g[["recency", "frequency", "monetary", "r", "f", "m", "segment"]]

if __name__ == "__main__":
    src, as_of, dst = sys.argv[1:4]
    tx = pd.read_csv(src, parse_dates=["date"])
    rfm(tx, as_of).to_csv(dst)
    print(f"RFM of {src} as of {as_of} -> {dst}")
