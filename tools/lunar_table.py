#!/usr/bin/env python3
"""Prints the lunar-year table of crates/guanxi-domain/src/lunar.rs from the `borax` package
(PyPI, 4.1.3; its table follows the Hong Kong Observatory's): for each lunar year 1900–2099,
its leap month (0 = none) and the length of each of its months in order (the leap month
follows the month it repeats), as `(leap << 13) | bits`, bit k set when the k-th month has 30
days.

    python3 -m venv /tmp/lunarenv && /tmp/lunarenv/bin/pip install borax==4.1.3
    /tmp/lunarenv/bin/python tools/lunar_table.py

The table is checked against a second, independent library (lunar-python, astronomical
calculation) in crates/guanxi-domain/tests/lunar.rs; tools/lunar_fixture.py writes that fixture.
(`lunardate` 0.3.0 was the first candidate; it disagrees with both of them on one month
boundary in each of 1933, 1954, 1978 and 2057.)
"""
from borax.calendars.lunardate import LCalendars, LunarDate

START, END = 1900, 2099


def exists(year, month, day, leap):
    try:
        LunarDate(year, month, day, leap).to_solar_date()
        return True
    except (ValueError, TypeError):
        return False


def main():
    words = []
    for y in range(START, END + 1):
        leap = LCalendars.leap_month(y) or 0
        ms = []
        for m in range(1, 13):
            ms.append((m, 0))
            if m == leap:
                ms.append((m, 1))
        bits = 0
        for k, (m, lp) in enumerate(ms):
            if k + 1 < len(ms):
                n = (LunarDate(y, *ms[k + 1][:1], 1, ms[k + 1][1]).to_solar_date()
                     - LunarDate(y, m, 1, lp).to_solar_date()).days
                assert n == (30 if exists(y, m, 30, lp) else 29), (y, m, lp, n)
            if exists(y, m, 30, lp):
                bits |= 1 << k
        words.append((leap << 13) | bits)
    print(f"/// Lunar years {START}–{END}: leap month << 13 | 30-day-month bits (tools/lunar_table.py).")
    print(f"const YEARS: [u32; {len(words)}] = [")
    for i in range(0, len(words), 8):
        print("    " + " ".join(f"0x{w:05x}," for w in words[i:i + 8]))
    print("];")
    print(f"// Lunar new year {START}: {LunarDate(START, 1, 1, 0).to_solar_date()}")


if __name__ == "__main__":
    main()
