"""Loads a `guanxi export warehouse` directory into DuckDB, from the CSV files and from the
Parquet files, and prints what a warehouse user would check first as JSON: row counts, the
fact table's totals, fact rows whose keys find no dimension row, and revenue per channel.
The Rust test compares these with the database (crates/guanxi/tests/warehouse.rs).

Usage: python check.py DIR
"""
import json
import sys

import duckdb

TABLES = ["fact_order_line", "dim_customer", "dim_product", "dim_date", "dim_channel", "dim_store"]
KEYS = [("customer_key", "dim_customer"), ("product_key", "dim_product"), ("date_key", "dim_date"),
        ("channel_key", "dim_channel"), ("store_key", "dim_store")]


def load(con, root, fmt):
    for t in TABLES:
        path = f"{root}/{fmt}/{t}.{fmt}"
        source = f"read_parquet('{path}')" if fmt == "parquet" else f"read_csv('{path}', header=true, auto_detect=true)"
        con.execute(f"CREATE OR REPLACE TABLE {t} AS SELECT * FROM {source}")


def check(con):
    out = {"rows": {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}}
    lines, orders, amount, quantity = con.execute(
        "SELECT COUNT(*), COUNT(DISTINCT order_id), CAST(SUM(CAST(amount AS DECIMAL(38,2))) * 100 AS HUGEINT), SUM(quantity) "
        "FROM fact_order_line").fetchone()
    out["fact"] = {"lines": lines, "orders": orders, "amount_minor": int(amount or 0), "quantity": int(quantity or 0)}
    out["orphans"] = {
        key: con.execute(f"SELECT COUNT(*) FROM fact_order_line f ANTI JOIN {dim} d USING ({key})").fetchone()[0]
        for key, dim in KEYS
    }
    out["amount_by_channel"] = {
        code: int(minor) for code, minor in con.execute(
            "SELECT c.code, CAST(SUM(CAST(f.amount AS DECIMAL(38,2))) * 100 AS HUGEINT) FROM fact_order_line f "
            "JOIN dim_channel c USING (channel_key) GROUP BY 1 ORDER BY 1").fetchall()
    }
    out["types"] = {name: str(ty) for name, ty in con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'fact_order_line'").fetchall()}
    return out


def main():
    root = sys.argv[1]
    result = {"duckdb": duckdb.__version__}
    for fmt in ("csv", "parquet"):
        con = duckdb.connect()
        load(con, root, fmt)
        result[fmt] = check(con)
        con.close()
    print(json.dumps(result, ensure_ascii=False, sort_keys=True))


if __name__ == "__main__":
    main()
