"""Context, never a verdict: published provincial indices (PCI, PAPI) for the district's province, with their
publisher and source, from external_indices.csv (figures gathered in shared/notes/external_indices.md)."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from cchc_analysis.errors import CchcError
from cchc_analysis.text import fold

INDICES_FILE = Path(__file__).parent / "external_indices.csv"
COLUMNS = ("province", "index", "year", "measure", "value", "scale", "rank", "rank_of", "publisher", "source",
           "source_vi", "status")  # source: as the English pack names it; source_vi: as the Vietnamese pack does
INDEX_NAMES = {
    "PCI": {"vi": "Chỉ số năng lực cạnh tranh cấp tỉnh (PCI)", "en": "Provincial Competitiveness Index (PCI)"},
    "PAPI": {"vi": "Chỉ số hiệu quả quản trị và hành chính công cấp tỉnh (PAPI)",
             "en": "Provincial Governance and Public Administration Performance Index (PAPI)"},
}
MEASURE_NAMES = {
    "total": {"vi": "điểm tổng hợp", "en": "total score"},
    "public_administrative_procedures": {"vi": "nội dung Thủ tục hành chính công",
                                         "en": "dimension: public administrative procedures"},
}


def _number(text: str, where: str, path: Path) -> float | None:
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        raise CchcError(f"{where}: {text!r} is not a number", file=path) from None


@lru_cache(maxsize=2)
def load_indices(path: Path = INDICES_FILE) -> tuple[dict, ...]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise CchcError(f"columns must be {', '.join(COLUMNS)}", file=path, line=1)
        rows = []
        for line, row in enumerate(reader, start=2):
            if row["index"] not in INDEX_NAMES or row["measure"] not in MEASURE_NAMES:
                raise CchcError(f"unknown index or measure {row['index']!r} / {row['measure']!r}", file=path,
                                line=line)
            if not row["source"].strip() or not row["source_vi"].strip():
                raise CchcError("a figure needs its source in both languages (source, source_vi)", file=path,
                                line=line)
            rows.append({**row, "year": int(row["year"]),
                         **{k: _number(row[k], k, path) for k in ("value", "scale", "rank", "rank_of")}})
    return tuple(rows)


def indices_for(province: str) -> list[dict]:
    """The province's published index figures, by index, measure and year."""
    wanted = fold(province)
    return sorted((r for r in load_indices() if fold(r["province"]) == wanted),
                  key=lambda r: (r["index"], r["measure"] != "total", r["measure"], r["year"]))
