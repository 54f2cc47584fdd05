"""Writes crates/guanxi-domain/tests/fixtures/cn_holidays_chinesecalendar.json: China's public
holidays and make-up working days (调休) for 2025-2026 as the `chinesecalendar` package (PyPI,
1.11.0) records them from the State Council notices. The shipped calendar in
crates/guanxi-domain/src/ticket/holidays.rs is checked against it day by day.

    pip install chinesecalendar==1.11.0 && python3 tools/holiday_fixture.py
"""
import json
import pathlib

from chinese_calendar import constants as c

YEARS = (2025, 2026)
out = {
    "source": "chinesecalendar 1.11.0 (PyPI), chinese_calendar/constants.py",
    "holidays": {d.isoformat(): c.holidays[d] for d in sorted(c.holidays) if d.year in YEARS},
    "workdays": {d.isoformat(): c.workdays[d] for d in sorted(c.workdays) if d.year in YEARS},
}
path = pathlib.Path(__file__).parent.parent / "crates/guanxi-domain/tests/fixtures/cn_holidays_chinesecalendar.json"
path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
