"""Figures stated in the prose (the curated ``facts`` of a report), each verified at its line: a quote that is not
at its line, or a printed figure that does not read as the curated value, is an error finding, never a fact."""

from __future__ import annotations

import math
import re

import pandas as pd

from cchc_analysis.findings import Finding
from cchc_analysis.prose.curated import Curated
from cchc_analysis.prose.outline import Outline, nfc
from cchc_analysis.prose.sections import line_areas

FACT_COLUMNS = ["id", "area", "value", "unit", "counts", "period", "quote", "line", "indicator_id",
                "qualifier", "denominator", "raw", "section_id", "note"]

_NUM = re.compile(r"^\d{1,3}(?:\.\d{3})+$|^\d+(?:,\d+)?$")


def parse_vi_number(raw: str) -> float | None:
    """'2.046' -> 2046, '33,8%' -> 33.8, '02' -> 2, '112/112' -> 112 (numerator)."""
    s = raw.strip().rstrip("%").strip()
    if "/" in s:
        s = s.split("/")[0].strip()
    if not _NUM.match(s):
        return None
    if "." in s:
        return float(s.replace(".", ""))
    return float(s.replace(",", "."))



def quote_at(lines: list[str], line: int, quote: str) -> bool:
    """Whether ``quote`` stands at 1-based ``line`` of the report."""
    return 0 < line <= len(lines) and nfc(quote) in lines[line - 1]


def _fact_problem(f: dict, quote: str, lines: list[str], source_file: str, curated: Curated,
                  district: str) -> Finding | None:
    line = f["line"]
    if not quote_at(lines, line, quote):
        return Finding(district, "narrative_fact_quote", "error", "fact_quote_missing",
                       {"fact": f["id"], "quote": quote, "line": line, "file": source_file, "curated": curated.path},
                       indicator_ids=(f["indicator_id"],) if f.get("indicator_id") else (), source_lines=(line,))
    raw = f.get("raw") or ""
    parsed = parse_vi_number(raw) if raw else None
    if raw and (raw not in quote or parsed is None or not math.isclose(parsed, float(f["value"]))):
        return Finding(district, "narrative_fact_value", "error", "fact_value_mismatch",
                       {"fact": f["id"], "line": line, "raw": raw, "parsed": str(parsed), "value": str(f["value"]),
                        "curated": curated.path},
                       indicator_ids=(f["indicator_id"],) if f.get("indicator_id") else (), source_lines=(line,))
    return None


def build_facts(curated: Curated, lines: list[str], outline: Outline, source_file: str,
                district: str, sections: list[dict] | None = None) -> tuple[pd.DataFrame, list[Finding]]:
    """Facts of the curated file, each verified at its line; the area comes from the section the line is in
    (``sections``: the outline's, when the caller built them)."""
    findings: list[Finding] = []
    areas = line_areas(outline, sections)
    rows = []
    for f in curated.facts:
        quote = nfc(f["quote"])
        problem = _fact_problem(f, quote, lines, source_file, curated, district)
        if problem:
            findings.append(problem)
            continue
        line = f["line"]
        sec_id, area = areas.get(line, ("", "general"))
        rows.append({
            "id": f["id"], "area": f.get("area") or area, "value": float(f["value"]), "unit": f.get("unit", ""),
            "counts": f.get("counts", ""), "period": f.get("period", ""), "quote": quote, "line": line,
            "indicator_id": f.get("indicator_id") or "", "qualifier": f.get("qualifier") or "exact",
            "denominator": f.get("denominator"), "raw": f.get("raw") or "", "section_id": sec_id,
            "note": f.get("note") or "",
        })
    df = pd.DataFrame(rows, columns=FACT_COLUMNS)
    df["denominator"] = pd.to_numeric(df["denominator"], errors="coerce")
    df["line"] = df["line"].astype("int64")
    return df, findings


# Numbers with a unit in the prose: used by the completeness test (every such figure is a fact or listed in
# `not_facts`). Document numbers, dates, years and section numbers are removed first.
_NOT_FIGURES = re.compile(
    r"(?:[Ss]ố|Văn bản số|Quyết định|Nghị định|Nghị quyết|Thông tư|Chỉ thị|Kế hoạch|Đề án)\s*:?\s*\d+[\w/\-.Đ]*"
    r"|\d{1,2}/\d{1,2}/\d{4}|\d{1,2}/\d{4}|\d+/\d{4}/[\w\-Đ]+|\d+/[A-ZĐ][\w\-Đ/]*|\d+-[A-ZĐ]+/[\w\-Đ]+"
    r"|(?:năm|Năm|khóa|giai đoạn|nhiệm kỳ|đến|từ|Từ|ngày|tháng)\s+\d{1,4}(?:\s*-\s*\d{4})?"
    r"|\b\d{4}\s*-\s*\d{4}\b|\b(?:19|20)\d{2}\b|[Mm]ức độ\s+\d(?:\s*,\s*\d)?|\bthứ \d\b|\b[IVX]+\b")
_FIGURE = re.compile(r"(?<![\w.,/])(\d{1,3}(?:\.\d{3})+|\d+(?:,\d+)?)(\s*/\s*\d+)?\s*(%|m²)?")


def scan_figures(lines: list[str], first: int, last: int) -> list[tuple[int, str]]:
    """(line, figure as printed) for every number in lines first..last that is not a date, year, document
    number or heading number."""
    out = []
    for ln in range(first, last + 1):
        text = lines[ln - 1]
        if not text.strip():
            continue
        body = re.sub(r"^\s*\d+(?:\.\d+)*\.\s", " ", text)       # heading / item numbers
        body = _NOT_FIGURES.sub(" ", body)
        for m in _FIGURE.finditer(body):
            fig = m.group(1) + (m.group(2) or "").replace(" ", "") + (m.group(3) or "").strip()
            out.append((ln, fig))
    return out

