"""The report's prose as data: the entry point of the prose stage.

    result = analyse_narrative(lines, source_file, indicators, targets, curated=curated)
    write_narrative(result, out_dir)          # sections.json, facts.csv

The steps, one module each: the heading tree (:mod:`.outline`), per-area sections (:mod:`.sections`), the figures
stated in the prose (:mod:`.facts`, from the report's curated file, :mod:`.curated`), the cross-checks declared
there (:mod:`.prose_checks`). A report with no curated file gets its sections and the outline's findings. (The
Phụ lục 8 self-assessment is judged by the evaluation stage, cchc_analysis/evaluation.)
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cchc_analysis.findings import Finding
from cchc_analysis.prose.curated import Curated
from cchc_analysis.prose.facts import FACT_COLUMNS, build_facts
from cchc_analysis.prose.outline import Outline, nfc, outline_of_nfc
from cchc_analysis.prose.prose_checks import run_checks
from cchc_analysis.prose.sections import AREAS, KINDS, build_sections
from cchc_analysis.tables.records import Columns, as_frame, column_values


@dataclass
class NarrativeResult:
    sections: list[dict]
    facts: pd.DataFrame
    findings: list[Finding]
    outline: Outline | None = None
    district: str = ""
    notes: list[str] = field(default_factory=list)

    def sections_for(self, area: str, kind: str | None = None) -> list[dict]:
        return [s for s in self.sections if s["area"] == area and (kind is None or s["kind"] == kind)]


def _district(lines: list[str], indicators: pd.DataFrame | Columns | None) -> str:
    if indicators is not None and "district" in indicators and len(indicators):
        # the distinct values first (a set of plain values), then the missing ones out: pandas' dropna and unique
        # cost more than the few hundred rows they look at
        vals = [v for v in set(column_values(indicators, "district")) if not pd.isna(v)]
        if len(vals) == 1:
            return str(vals[0])
    for raw in lines[:40]:
        m = re.search(r"UBND huyện\s+([A-ZĐÂ][^\s,;.]*(?:\s+[A-ZĐÂ][^\s,;.]*)*)", raw)
        if m:
            return m.group(1)
    return ""


_NO_FACTS = pd.DataFrame(columns=FACT_COLUMNS)  # copied for a report without curated facts: building it costs more


def _outline_findings(outline: Outline, district: str) -> list[Finding]:
    """The numbering slips the outline survived, each where the tree kept it."""
    return [Finding(district, "narrative_outline", "info", "outline_note",
                    {"heading": n.heading[:80], "line": n.line, "note": note, "section": n.id},
                    source_lines=(n.line,))
            for n in outline.nodes() for note in n.notes]


def analyse_narrative(lines: list[str], source_file: str, indicators: pd.DataFrame | Columns | None,
                      targets: pd.DataFrame | Columns | None, *, curated: Curated | None = None,
                      lines_are_nfc: bool = False) -> NarrativeResult:
    """Outline, sections, facts and findings of one report's prose.

    ``lines``: the report's lines (no line endings; index 0 = line 1), normalised to NFC here unless
    ``lines_are_nfc`` says they are (a report's lines as ``read.source`` gives them: checking them again cost about 3%
    of a district's work). ``indicators`` / ``targets``: the tidy tables of the same report (or None: prose-only
    checks run, the rest are reported as not run). ``curated``: what was curated about this report (stated figures,
    checks, quotes), if anything.
    """
    if not (lines_are_nfc or unicodedata.is_normalized("NFC", "\n".join(lines))):  # (one check of them all)
        lines = [nfc(x) for x in lines]
    lines = list(lines)
    district = _district(lines, indicators)
    outline = outline_of_nfc(lines)
    findings = _outline_findings(outline, district)
    sections = build_sections(outline)
    facts = _NO_FACTS.copy()
    if curated is not None:
        facts, fact_findings = build_facts(curated, lines, outline, source_file, district, sections)
        findings += fact_findings
        findings += run_checks(curated.checks, facts, as_frame(indicators), district, lines, curated.path)
    return NarrativeResult(sections=sections, facts=facts, findings=findings, outline=outline,
                           district=district, notes=list(outline.notes))


def write_narrative(result: NarrativeResult, out_dir: Path | str) -> list[Path]:
    """Write sections.json (UTF-8, not ASCII-escaped, stable order, indent 2) and facts.csv."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    order = {k: i for i, k in enumerate(["general"] + AREAS)}
    secs = sorted(result.sections, key=lambda s: (s["first_line"], s["id"]))
    payload = {
        "district": result.district,
        "areas": AREAS,
        "kinds": KINDS,
        "sections": secs,
        "counts": {a: {k: sum(1 for s in secs if s["area"] == a and s["kind"] == k) for k in KINDS
                       if any(s["area"] == a and s["kind"] == k for s in secs)}
                   for a in sorted({s["area"] for s in secs}, key=lambda a: order.get(a, 99))},
    }
    p_sec = out / "sections.json"
    p_sec.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    p_facts = out / "facts.csv"
    facts = result.facts.sort_values(["line", "id"], kind="stable")
    facts.to_csv(p_facts, index=False, encoding="utf-8", lineterminator="\n")
    return [p_sec, p_facts]
