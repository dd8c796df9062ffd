"""Phụ lục 8: each target self-assessed Đạt against what the tables (and, where curated, the prose) show.

The generic rules (``target_rules.yaml``) judge any district's report by its tables; a report's curated file adds
the quotes, stated figures and judgements on its prose (``targets``: verdict, quotes, context_facts, why).
One finding per measurable part of each target: ok (evidence supports the claim), warning (claimed, not evidenced /
contradicted), info (self-assessed Không đạt, not a claim).
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import pandas as pd
import yaml

from cchc_analysis.findings import Finding, nested
from cchc_analysis.prose.curated import Curated
from cchc_analysis.prose.evidence import FactIndex, appendix_of, fmt, series, src_lines, values_text, with_value
from cchc_analysis.prose.facts import quote_at
from cchc_analysis.prose.outline import fold

RULES_FILE = Path(__file__).parent / "target_rules.yaml"
CHECK = "narrative_target_evidence"
# a curated judgement on the report's prose -> its message
PROSE_VERDICT_KEYS = {"contradicted": "part_prose_contradicted", "not_evidenced": "part_prose_not_evidenced"}
_TARGET_ROW = re.compile(r"^\s*(\d{1,2})\.?\t(.+?)\t\s*(Đạt|Không đạt|Chưa đạt)\s*$")


@functools.lru_cache(maxsize=1)
def target_rules() -> dict[int, dict]:
    """Target number -> its generic evidence rule."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec = yaml.load(RULES_FILE.read_text(encoding="utf-8"), Loader=loader)
    return {int(t["number"]): t for t in spec["targets"]}


def targets_from_lines(lines: list[str]) -> pd.DataFrame:
    """Fallback when no targets table is given: Phụ lục 8 rows 'N.<TAB>text<TAB>Đạt'."""
    rows, in_p8 = [], False
    for i, raw in enumerate(lines, start=1):
        if re.match(r"^\s*Phụ lục\s+8\b", raw):
            in_p8 = True
            continue
        if in_p8 and re.match(r"^\s*Phụ lục\s+\d+", raw):
            break
        m = _TARGET_ROW.match(raw) if in_p8 else None
        if m:
            rows.append({"number": int(m.group(1)), "text": m.group(2).strip(), "assessment": m.group(3),
                         "achieved": m.group(3) == "Đạt", "source_line": i})
    return pd.DataFrame(rows, columns=["number", "text", "assessment", "achieved", "source_line"])


def _evidence_value(ev: dict, ind):
    """(value, description, lines, appendix, indicator_id, year) of one table reference {indicator_id, year}."""
    s = with_value(series(ind, ev["indicator_id"]))
    if ev.get("year") is not None:
        s = s[s["year"] == ev["year"]]
    if s.empty:
        return None, nested("evidence_no_value", indicator=ev["indicator_id"]), [], None, ev["indicator_id"], \
            ev.get("year")
    r = s.iloc[[-1]]
    year = int(r["year"].iloc[0]) if pd.notna(r["year"].iloc[0]) else None
    desc = nested("evidence_value", appendix=appendix_of(r), indicator=ev["indicator_id"], year=year,
                  value=fmt(r["value"].iloc[0]))
    return float(r["value"].iloc[0]), desc, src_lines(r), appendix_of(r), ev["indicator_id"], year


def _context(part: dict, curated: dict, ind, F: FactIndex, lines: list[str]) -> tuple[list, list[int], str | None]:
    """The evidence cited with a part: context indicators, curated figures and quotes."""
    bits, src, first_iid = [], [], None
    for iid in part.get("context_indicators", []):
        if ind is None:
            bits.append(nested("context_no_tables", indicator=iid))
            continue
        s = series(ind, iid)
        if s.empty:
            bits.append(nested("context_not_in_tables", indicator=iid))
            continue
        first_iid = first_iid or iid
        bits.append(nested("context_indicator", appendix=appendix_of(s), indicator=iid, values=values_text(s)))
        src += src_lines(s)
    for fid in curated.get("context_facts", []):
        if F.get(fid):
            bits.append(nested("context_fact", fact=F.desc(fid)))
            src.append(F.get(fid)["line"])
    for q in curated.get("quotes", []):
        if quote_at(lines, q["line"], q["quote"]):
            bits.append(nested("context_quote", line=q["line"], quote=q["quote"]))
            src.append(q["line"])
        else:
            bits.append(nested("context_quote_missing", line=q["line"]))
    return bits, src, first_iid


def _lines(*numbers) -> tuple[int, ...]:
    """The report lines a finding rests on (a target row read without its line has none)."""
    return tuple(int(n) for n in numbers if n is not None)


def _head(t: dict, number: int, line) -> dict:
    return nested("target_head", target=number, line=line, assessed=str(t.get("assessment") or ""))


def _claimed(t: dict) -> bool:
    achieved = t.get("achieved")
    if achieved is None or (isinstance(achieved, float) and math.isnan(achieved)):
        return fold(str(t.get("assessment") or "")) == "dat"
    return bool(achieved)


def check_targets(targets: pd.DataFrame, indicators: pd.DataFrame | None, facts: pd.DataFrame, lines: list[str],
                  district: str, curated: Curated | None, rules: dict[int, dict] | None = None) -> list[Finding]:
    """One finding per measurable part of each Phụ lục 8 target marked Đạt; one for each other target.
    ``rules``: target number -> rule (default: target_rules.yaml)."""
    F = FactIndex(facts)
    rules = target_rules() if rules is None else rules
    out: list[Finding] = []
    for t in targets.sort_values("number").to_dict("records"):
        num, tline = int(t["number"]), int(t["source_line"]) if pd.notna(t.get("source_line")) else None
        head, rule = _head(t, num, tline), rules.get(num)
        where = {"appendix": 8, "target": num, "source_lines": _lines(tline)}
        if rule is None:
            out.append(Finding(district, CHECK, "info", "target_no_rule", {"head": head}, **where))
            continue
        missing = [k for k in rule.get("match", []) if fold(k) not in fold(str(t.get("text", "")))]
        if missing:
            out.append(Finding(district, CHECK, "warning", "target_wording_differs",
                               {"head": head, "target": num, "missing": str(missing)}, **where))
        elif not _claimed(t):
            out.append(Finding(district, CHECK, "info", "target_not_claimed", {"head": head}, **where))
        else:
            out += [_target_part(part, curated.target_part(num, part["id"]) if curated else None, head, num, tline,
                                 indicators, F, lines, district) for part in rule.get("parts", [])]
    return out


def _target_part(part: dict, curated: dict | None, head: dict, num: int, tline: int, ind, F: FactIndex, lines,
                 district) -> Finding:
    """``curated``: what was curated about this part of the report ({} if nothing), None when the report's prose
    was not curated at all (then a part no table measures is worded as such, not as read in the prose)."""
    prose_read, curated = curated is not None, curated or {}
    rule = part.get("rule", {"type": "none"})
    typ = "prose" if curated.get("verdict") else rule["type"]
    ctx, ctx_lines, ctx_iid = _context(part, curated, ind, F, lines)
    text = {"head": head, "measure": part["measure"],
            "why": nested("why", why=curated["why"]) if curated.get("why") else "",
            "evidence": nested("evidence_considered", evidence=ctx) if ctx else ""}

    def finding(severity: str, key: str, indicator_id=None, year=None, evidence_lines=(), **params) -> Finding:
        return Finding(district, CHECK, severity, key, {**text, **params}, 8,
                       (indicator_id,) if indicator_id else (), year, num, _lines(tline, *evidence_lines, *ctx_lines))

    if typ == "none":
        return finding("warning", "part_not_measured" if prose_read else "part_not_in_tables", ctx_iid)
    if typ == "prose":
        return finding("warning", PROSE_VERDICT_KEYS[curated["verdict"]], ctx_iid)
    if ind is None:
        return Finding(district, CHECK, "info", "part_no_tables", {"head": head, "measure": part["measure"]}, 8,
                       (rule["indicator_id"],) if rule.get("indicator_id") else (), None, num, _lines(tline))
    if typ == "every_year":
        return _every_year(rule, ind, finding)
    if typ == "threshold":
        return _threshold(rule, ind, finding)
    raise ValueError(f"target_rules.yaml: unknown rule type {typ!r}; expected none, every_year, threshold")


def _every_year(rule: dict, ind, finding) -> Finding:
    iid = rule["indicator_id"]
    s = series(ind, iid)
    if rule.get("years"):
        s = s[s["year"].isin(rule["years"])]
    if s.empty:
        return finding("warning", "part_no_cells", iid, indicator=iid)
    good = s["value"].notna() & (s["value"] > rule.get("above", 0))
    params = {"appendix": appendix_of(s), "indicator": iid, "above": fmt(rule.get("above", 0)),
              "values": values_text(s)}
    if good.all():
        return finding("ok", "part_every_year_ok", iid, evidence_lines=src_lines(s), **params)
    failing = ", ".join(str(int(y)) for y in s.loc[~good, "year"])
    return finding("warning", "part_every_year_bad", iid, evidence_lines=src_lines(s), failing=failing, **params)


def _threshold(rule: dict, ind, finding) -> Finding:
    v, desc, src, _, iid, year = _evidence_value(rule["value"], ind)
    if rule.get("per"):
        d, ddesc, dsrc, _, _, _ = _evidence_value(rule["per"], ind)
        if v is not None and d:
            v = 100.0 * v / d
            desc = nested("evidence_share", value=desc, of=ddesc, share=f"{v:.1f}")
            src += dsrc
        else:
            v, desc = None, [desc, ddesc]
    if v is None:
        return finding("warning", "part_threshold_no_value", iid, year, src, desc=desc)
    threshold = float(rule["min"])
    if v >= threshold:
        return finding("ok", "part_threshold_ok", iid, year, src, desc=desc, threshold=fmt(threshold))
    return finding("warning", "part_threshold_bad", iid, year, src, desc=desc, threshold=fmt(threshold))
