"""Seeded generator of realistic retail transactions for tests and benchmarks: power-law
spend, seasonality (Chinese New Year, 618, Double 11, December), customers who churn, new
customers arriving over time. Output CSV: customer_id,date,amount (one row per order).

    python bench/gen_transactions.py --rows 10000000 --out /tmp/tx10m.csv --seed 1
"""
import argparse

import numpy as np
import pandas as pd

p = argparse.ArgumentParser()
p.add_argument("--rows", type=int, default=20_000)
p.add_argument("--customers", type=int, default=0, help="default: rows / 12")
p.add_argument("--seed", type=int, default=1)
p.add_argument("--start", default="2023-01-01")
p.add_argument("--days", type=int, default=3 * 365)
p.add_argument("--out", required=True)
a = p.parse_args()

rng = np.random.default_rng(a.seed)
n_cust = a.customers or max(10, a.rows // 12)
# Purchase propensity: Pareto-distributed, so a few customers buy a lot.
propensity = rng.pareto(1.3, n_cust) + 0.05
# Each customer joins at some day and may churn later.
join = rng.integers(0, a.days - 30, n_cust)
life = np.where(rng.random(n_cust) < 0.35, rng.integers(30, a.days, n_cust), a.days)
leave = np.minimum(join + life, a.days - 1)
cust = rng.choice(n_cust, size=a.rows, p=propensity / propensity.sum())
# Day within the customer's active span, reweighted by season via rejection on a day table.
days = np.arange(a.days)
dates = pd.Timestamp(a.start) + pd.to_timedelta(days, unit="D")
season = np.ones(a.days)
m, d = dates.month.to_numpy(), dates.day.to_numpy()
season[(m == 1) | ((m == 2) & (d < 10))] *= 1.8
season[(m == 6) & (d >= 10) & (d <= 18)] *= 2.2
season[(m == 11) & (d <= 11)] *= 3.0
season[m == 12] *= 1.5
u = rng.random(a.rows)
span = leave[cust] - join[cust] + 1
day = join[cust] + (u * span).astype(np.int64)
keep = rng.random(a.rows) * season.max() < season[day]
day = np.where(keep, day, join[cust] + (rng.random(a.rows) * span).astype(np.int64))
# Spend: log-normal per customer level times per-order noise, in cents.
level = rng.lognormal(4.0, 0.8, n_cust)
amount = np.round(level[cust] * rng.lognormal(0.0, 0.5, a.rows), 2)
out = pd.DataFrame({"customer_id": cust + 1, "date": dates[day].strftime("%Y-%m-%d"), "amount": amount})
out.to_csv(a.out, index=False)
print(f"wrote {len(out)} rows, {n_cust} customers -> {a.out}")
