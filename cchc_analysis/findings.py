"""One finding of a check (validation, prose cross-checks, year data): the rows of quality.csv."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

SEVERITIES = ("error", "warning", "info", "ok")
QUALITY_COLUMNS = ["district", "check", "severity", "appendix", "indicator_id", "year", "message", "source_lines"]


@dataclass(frozen=True)
class Finding:
    district: str
    check: str
    severity: str
    appendix: int | None
    indicator_id: str
    year: int | None
    message: str
    source_lines: tuple[int, ...] = ()

    def as_row(self) -> dict:
        # by hand: dataclasses.asdict deep-copies field by field, a real cost with a corpus' findings
        return {"district": self.district, "check": self.check, "severity": self.severity,
                "appendix": self.appendix, "indicator_id": self.indicator_id, "year": self.year,
                "message": self.message, "source_lines": ";".join(str(n) for n in sorted(set(self.source_lines)))}


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    frame = pd.DataFrame([f.as_row() for f in findings], columns=QUALITY_COLUMNS)
    frame["appendix"] = frame["appendix"].astype("Int64")
    frame["year"] = frame["year"].astype("Int64")
    order = {s: i for i, s in enumerate(SEVERITIES)}
    frame["_order"] = frame["severity"].map(order)
    frame = frame.sort_values(["district", "_order", "appendix", "indicator_id", "year", "check", "message"],
                              kind="mergesort", na_position="first")
    return frame.drop(columns="_order").drop_duplicates().reset_index(drop=True)
