"""Unpenalised logistic regression on the telco churn sample by scikit-learn: the fixture the
Rust IRLS fit is checked against. Newton-Cholesky with a tight tolerance, so both sides report
the exact maximum-likelihood estimate. Run from the project root:
    python bench/reference/sklearn_telco.py
"""
import json
import pathlib

import pandas as pd
from sklearn.linear_model import LogisticRegression

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared/data/telco-churn/wa_churn_numeric.csv"
OUT = ROOT / "crates/guanxi-analytics/tests/fixtures/telco_sklearn_logistic.json"

df = pd.read_csv(DATA)
features = [c for c in df.columns if c != "churn"]
# C=inf is the unpenalised model (the spelling of penalty=None that sklearn 1.8+ keeps).
model = LogisticRegression(C=float("inf"), solver="newton-cholesky", tol=1e-12, max_iter=1000)
model.fit(df[features].to_numpy(), df["churn"].to_numpy())
out = {
    "features": features,
    "intercept": float(model.intercept_[0]),
    "coefficients": [float(c) for c in model.coef_[0]],
    "rows": int(len(df)),
    "sklearn": __import__("sklearn").__version__,
}
OUT.write_text(json.dumps(out, indent=2) + "\n")
print(json.dumps(out, indent=2))
