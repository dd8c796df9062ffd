"""The quality rows sorted and de-duplicated as rows (``findings_rows``, a district's hundred findings) are the rows
pandas gives sorting and de-duplicating their frame (``sorted_findings``): the same order, empty values first,
stable, whatever order the findings come in."""

from __future__ import annotations

import random

import pandas as pd

from cchc_analysis.dataset.build import findings_rows, sorted_findings
from cchc_analysis.dataset.schema import columns
from cchc_analysis.findings import Finding, message_catalog


def _findings() -> list[Finding]:
    key = next(k for k, wording in message_catalog().items() if "{" not in wording["en"])
    made = []
    for district in ("Tuần Giáo", "Điện Biên Đông"):
        for severity in ("info", "error", "warning", "ok"):
            for appendix in (None, 2, 1):
                for year in (None, 2020, 2015):
                    for ids in ((), ("P2.1",), ("P1.1", "P2.1")):
                        made.append(Finding(district, "totals", severity, key, {}, appendix, ids, year))
    return made + made[:7]  # repeats, dropped


def test_rows_sorted_and_deduplicated_as_pandas_does_it_in_any_input_order():
    findings = _findings()
    for seed in range(3):
        random.Random(seed).shuffle(findings)
        rows = findings_rows(findings)
        frame = sorted_findings(pd.DataFrame([f.as_row() for f in findings], columns=columns("quality")))
        expected = frame.astype(object).where(frame.notna(), None).to_dict("records")
        assert [{k: row[k] for k in columns("quality")} for row in rows] == expected
        assert len(rows) == len(findings) - 7
