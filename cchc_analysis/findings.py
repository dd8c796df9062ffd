"""One finding of a check (validation, prose cross-checks, year data): the rows of quality.csv."""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("error", "warning", "info", "ok")


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
