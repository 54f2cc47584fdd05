#!/usr/bin/env python3
"""Writes crates/guanxi-domain/tests/fixtures/lunar_python.csv: solar dates and their Chinese
lunar dates as computed by lunar-python (PyPI, 1.4.8; astronomical new moons and solar terms,
independent of the borax table the Rust code is generated from). Every 11th day from
1900-01-31 to 2088-12-31, and every day of 2024–2028. The two sources disagree on one month
boundary in each of 2089 and 2097, where the predicted new moon falls within minutes of midnight
Beijing time; the fixture stops before them.

    /tmp/lunarenv/bin/pip install lunar-python==1.4.8
    /tmp/lunarenv/bin/python tools/lunar_fixture.py
"""
import datetime
import os

from lunar_python import Solar

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                   "crates", "guanxi-domain", "tests", "fixtures", "lunar_python.csv")


def main():
    days = set()
    d, end = datetime.date(1900, 1, 31), datetime.date(2088, 12, 31)
    while d <= end:
        days.add(d)
        d += datetime.timedelta(days=11)
    d = datetime.date(2024, 1, 1)
    while d <= datetime.date(2028, 12, 31):
        days.add(d)
        d += datetime.timedelta(days=1)
    with open(OUT, "w") as f:
        f.write("solar,lunar_year,lunar_month,lunar_day,leap\n")
        for d in sorted(days):
            lunar = Solar.fromYmd(d.year, d.month, d.day).getLunar()
            m = lunar.getMonth()
            f.write(f"{d.isoformat()},{lunar.getYear()},{abs(m)},{lunar.getDay()},{int(m < 0)}\n")


if __name__ == "__main__":
    main()
