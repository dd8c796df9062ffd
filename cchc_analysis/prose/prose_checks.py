"""Cross-checks declared in a report's curated file (``checks``): figures of the prose against each other (parts
against totals, shares against their counts, a figure stated twice) and against the appendix tables.

Every check yields a finding: ``ok`` when the figures agree, so a reader sees what was checked. Severity: ``error``
the report's own figures contradict each other arithmetically; ``warning`` prose and tables disagree; ``info`` an
indicative comparison (different definitions or periods) or a check that could not run.
"""

from __future__ import annotations

import math
from itertools import pairwise

import pandas as pd

from cchc_analysis.findings import Finding, nested
from cchc_analysis.prose.evidence import FactIndex, appendix_of, fmt, series, src_lines, values_text, with_value
from cchc_analysis.prose.facts import quote_at

PROSE = "narrative_prose_totals"
VS_TABLE = "narrative_vs_table"
TABLE_CHECK_TYPES = {"fact_vs_table", "fact_vs_table_ratio", "table_change", "trend_claim", "first_year"}
_FACT_REFERENCES = ("total", "part", "fact", "minuend", "subtrahend", "result", "percent")


def _note(c: dict):
    return nested("note", note=c["note"]) if c.get("note") else ""


# -- inside the prose ---------------------------------------------------------------------------------------------
def _sum(c: dict, F: FactIndex) -> tuple[bool, dict]:
    values = [F.get(p)["value"] for p in c["parts"]]
    s = sum(values)
    if isinstance(c["total"], str):
        total, qualifier, desc = F.get(c["total"])["value"], F.get(c["total"])["qualifier"], F.desc(c["total"])
    else:
        total, qualifier, desc = float(c["total"]), "exact", fmt(c["total"])
    ok = abs(s - total) <= float(c.get("tolerance", 0)) or (qualifier == "more_than" and s > total)
    expr = " + ".join(fmt(v) for v in values)
    return ok, nested("sum_ok" if ok else "sum_bad", expr=expr, sum=fmt(s), total=desc, difference=fmt(s - total))


def _difference(c: dict, F: FactIndex) -> tuple[bool, dict]:
    a, b, r = F.get(c["minuend"]), F.get(c["subtrahend"]), F.get(c["result"])
    d = a["value"] - b["value"]
    ok = abs(d - r["value"]) <= float(c.get("tolerance", 0))
    return ok, nested("difference_ok" if ok else "difference_bad", a=fmt(a["value"]), b=fmt(b["value"]), d=fmt(d),
                      result=F.desc(c["result"]))


def _percent(c: dict, F: FactIndex) -> tuple[bool, dict]:
    pct, part = F.get(c["percent"]), F.get(c["part"])
    total = (F.get(c["total"]["denominator_of"])["denominator"] if isinstance(c["total"], dict)
             else F.get(c["total"])["value"])
    computed = 100.0 * part["value"] / total
    decimals = len(pct["raw"].rstrip("%").split(",")[1]) if "," in pct["raw"] else 0
    rounded = round(computed, decimals)
    ok = abs(pct["value"] - computed) < 10 ** (-decimals) + 1e-9
    how = "" if math.isclose(rounded, pct["value"]) else nested("truncated", rounded=f"{rounded:g}")
    return ok, nested("percent_ok" if ok else "percent_bad", part=fmt(part["value"]), total=fmt(total),
                      computed=f"{computed:.2f}", printed=pct["raw"], how=how, line=pct["line"])


def _equal(c: dict, F: FactIndex) -> tuple[bool, dict]:
    ok = len({F.get(x)["value"] for x in c["facts"]}) == 1
    return ok, nested("equal_ok" if ok else "equal_bad", facts=[F.desc(x) for x in c["facts"]])


def _at_most(c: dict, F: FactIndex) -> tuple[bool, dict]:
    ok = F.get(c["part"])["value"] <= F.get(c["total"])["value"] + float(c.get("tolerance", 0))
    return ok, nested("at_most_ok" if ok else "at_most_bad", part=F.desc(c["part"]), total=F.desc(c["total"]))


def _count_named(c: dict, F: FactIndex) -> tuple[bool, dict]:
    stated, named = F.get(c["fact"])["value"], len(c["items"])
    ok = named == stated
    return ok, nested("count_named_ok" if ok else "count_named_bad", stated=fmt(stated), named=named,
                      items=", ".join(c["items"]))


def _same_claim(c: dict, F: FactIndex) -> tuple[bool, dict]:
    ok = len({(F.get(x)["value"], F.get(x)["qualifier"]) for x in c["facts"]}) == 1
    return ok, nested("same_claim_ok" if ok else "same_claim_bad", facts=[F.desc(x) for x in c["facts"]])


# type -> (judge, severity when the figures disagree)
PROSE_CHECKS = {"sum": (_sum, "error"), "difference": (_difference, "error"), "percent": (_percent, "error"),
                "equal": (_equal, "error"), "at_most": (_at_most, "error"), "count_named": (_count_named, "error"),
                "same_claim": (_same_claim, "warning")}


def _prose_check(c: dict, F: FactIndex, district: str) -> Finding:
    if c["type"] not in PROSE_CHECKS:
        raise ValueError(f"curated check {c['id']}: unknown type {c['type']!r}; expected one of "
                         f"{', '.join([*PROSE_CHECKS, *sorted(TABLE_CHECK_TYPES)])}")
    refs = [c.get(k) for k in _FACT_REFERENCES] + list(c.get("parts", [])) + list(c.get("facts", []))
    ids = [r for r in refs if isinstance(r, str)]
    missing = [r for r in ids if F.get(r) is None]
    if missing:
        return Finding(district, PROSE, "info", "prose_check_facts_missing",
                       {"check": c["id"], "facts": ", ".join(missing)})
    judge, bad_severity = PROSE_CHECKS[c["type"]]
    ok, result = judge(c, F)
    pct = F.get(c["percent"]) if c["type"] == "percent" else None
    what = c.get("what") or (nested("share_printed_for", counts=pct["counts"]) if pct else c["type"])
    return Finding(district, PROSE, "ok" if ok else c.get("severity", bad_severity), "prose_check",
                   {"check": c["id"], "what": what, "result": result, "note": "" if ok else _note(c)},
                   source_lines=tuple(F.get(r)["line"] for r in ids))


# -- prose against the tables -------------------------------------------------------------------------------------
class _TableCheck:
    """One declared prose-against-table check, with the evidence it reads and how its findings are filed."""

    def __init__(self, c: dict, F: FactIndex, ind: pd.DataFrame, district: str):
        self.c, self.F, self.ind, self.district = c, F, ind, district
        self.iid = c.get("indicator_id") or c.get("numerator")
        self.fact = F.get(c["fact"]) if c.get("fact") else None
        self.fact_lines = [self.fact["line"]] if self.fact else ([c["line"]] if c.get("line") else [])
        self.s = series(ind, self.iid)
        self.app = appendix_of(self.s)
        self.sv = with_value(self.s)
        self.bad = c.get("severity", "warning")
        self.note = _note(c)

    def desc(self) -> dict:
        return self.F.desc(self.c["fact"])

    def out(self, severity: str, key: str, rows: pd.DataFrame, filed_year=None, extra_lines=(), **params) -> Finding:
        return Finding(self.district, VS_TABLE, severity, "table_check",
                       {"check": self.c["id"], "what": self.c.get("what", ""), "result": nested(key, **params)},
                       self.app, (self.iid,) if self.iid else (), filed_year,
                       source_lines=tuple(int(n) for n in (*self.fact_lines, *src_lines(rows), *extra_lines)))


def _fact_vs_table_value(t: _TableCheck, rows: pd.DataFrame) -> Finding:
    c, op, tol = t.c, t.c.get("op", "eq"), float(t.c.get("tolerance", 0))
    if c.get("agg", "last") == "sum":
        tv, year = rows["value"].sum(), None
        shown = nested("table_sum", terms=" + ".join(fmt(v) for v in rows["value"]), sum=fmt(tv),
                       values=values_text(rows))
    else:  # last / year
        rows = rows.iloc[[-1]]
        tv = float(rows["value"].iloc[0])
        year = int(rows["year"].iloc[0]) if pd.notna(rows["year"].iloc[0]) else None
        shown = nested("table_value", value=fmt(tv), values=values_text(rows))
    fv = t.fact["value"]
    params = {"fact": t.desc(), "appendix": t.app, "shown": shown}
    if op == "eq":
        ok = abs(fv - tv) <= tol
        if ok:
            return t.out("ok", "fact_eq_table", rows, year, **params)
        return t.out(t.bad, "fact_ne_table", rows, year, difference=fmt(fv - tv), note=t.note, **params)
    if op == "ge":
        ok = fv >= tv - tol
        return t.out("ok" if ok else t.bad, "fact_ge_table" if ok else "fact_lt_table", rows, year, note=t.note,
                     **params)
    if op in ("compare", "ge_loose"):
        return t.out("info", "fact_indicative", rows, year, note=t.note, **params)
    raise ValueError(f"curated check {c['id']}: unknown op {op!r}")


def _fact_vs_table(t: _TableCheck) -> Finding:
    c, rows = t.c, t.sv
    if c.get("years"):
        rows = rows[rows["year"].isin(c["years"])]
    if c.get("agg", "last") == "year":
        rows = t.sv[t.sv["year"] == c["year"]]
    if rows.empty:
        return t.out("info", "table_no_value", t.s, appendix=t.app, indicator=t.iid,
                     cells=values_text(t.s) or "none")
    if c.get("agg", "last") != "all":
        return _fact_vs_table_value(t, rows)
    diffs = rows[(rows["value"] - t.fact["value"]).abs() > float(c.get("tolerance", 0))]
    if diffs.empty:
        return t.out("ok", "fact_every_year", rows, fact=t.desc(), appendix=t.app, values=values_text(rows))
    return t.out(t.bad, "fact_differs_in", rows, fact=t.desc(), appendix=t.app,
                 years=", ".join(str(int(y)) for y in diffs["year"]), values=values_text(rows), note=t.note)


def _fact_vs_table_ratio(t: _TableCheck) -> Finding:
    c = t.c
    den = with_value(series(t.ind, c["denominator"]))
    if den.empty:
        return t.out("info", "table_indicator_missing", t.s, indicator=c["denominator"])
    m = t.sv.merge(den[["year", "value", "source_line"]], on="year", suffixes=("", "_den"))
    m = m[m["value_den"] > 0]
    if m.empty:
        return t.out("info", "table_no_common_year", t.s, indicator=t.iid, denominator=c["denominator"])
    m["pct"] = 100.0 * m["value"] / m["value_den"]
    tol = float(c.get("tolerance", 0.5))
    desc = "; ".join(f"{int(r.year)}: {fmt(r.value)}/{fmt(r.value_den)} = {r.pct:.1f}%" for r in m.itertuples())
    bad = m[(m["pct"] - t.fact["value"]).abs() > tol]
    lines = [*m["source_line"], *m["source_line_den"]]
    if bad.empty:
        return t.out("ok", "ratio_ok", t.s.iloc[0:0], extra_lines=lines, fact=t.desc(), appendix=t.app, desc=desc)
    over = bad[bad["pct"] > 100 + tol]
    extra = (nested("part_exceeds_total", years=", ".join(str(int(y)) for y in over["year"]))
             if not over.empty else "")
    return t.out(t.bad, "ratio_bad", t.s.iloc[0:0], extra_lines=lines, fact=t.desc(), appendix=t.app, desc=desc,
                 extra=extra, note=t.note)


def _period_label(r) -> str:
    return str(r.get("period") or (int(r["year"]) if pd.notna(r["year"]) else ""))


def _table_change(t: _TableCheck) -> Finding:
    if len(t.sv) < 2:
        return t.out("info", "fewer_than_two_values", t.s, values=values_text(t.s))
    first, last = t.sv.iloc[0], t.sv.iloc[-1]
    change = last["value"] - first["value"]
    ok = change == t.c["expected_change"]
    return t.out("ok" if ok else t.c.get("severity", "info"), "table_change", t.sv, fact=t.desc(), appendix=t.app,
                 first_period=_period_label(first), first=fmt(first["value"]), last_period=_period_label(last),
                 last=fmt(last["value"]), change=fmt(change), expected=fmt(t.c["expected_change"]),
                 note="" if ok else t.note)


def _trend_claim(t: _TableCheck) -> Finding:
    values, desc = list(t.sv["value"]), values_text(t.sv)
    if len(values) < 2:
        return t.out("info", "fewer_than_two_values", t.s, values=desc)
    steps = list(pairwise(values))
    if t.c.get("direction") == "increasing":
        ok = all(b >= a for a, b in steps) and values[-1] > values[0]
    else:
        ok = all(b <= a for a, b in steps) and values[-1] < values[0]
    shows = nested("trend_shown") if ok else nested("trend_not_shown", first=fmt(values[0]), last=fmt(values[-1]))
    return t.out("ok" if ok else t.bad, "trend_claim", t.sv, line=t.c["line"], quote=t.c["quote"], appendix=t.app,
                 values=desc, shows=shows, note="" if ok else t.note)


def _first_year(t: _TableCheck) -> Finding:
    c = t.c
    present = t.sv[t.sv["value"] > 0]
    params = {"line": c["line"], "year": c["year"], "appendix": t.app, "values": values_text(t.s)}
    if present.empty:
        return t.out(t.bad, "first_year_none", t.s, **params)
    fy = int(present["year"].iloc[0])
    first_column = int(t.s["year"].min())
    if fy == c["year"] or (fy == first_column and c["year"] < first_column):
        return t.out("ok", "first_year_ok", t.s, first=fy, **params)
    return t.out(t.bad, "first_year_bad", t.s, first=fy, note=t.note, **params)


TABLE_CHECKS = {"fact_vs_table": _fact_vs_table, "fact_vs_table_ratio": _fact_vs_table_ratio,
                "table_change": _table_change, "trend_claim": _trend_claim, "first_year": _first_year}


def _table_check(c: dict, F: FactIndex, ind: pd.DataFrame, district: str) -> Finding:
    t = _TableCheck(c, F, ind, district)
    if c.get("fact") and t.fact is None:
        return Finding(district, VS_TABLE, "info", "table_check_fact_missing", {"check": c["id"], "fact": c["fact"]},
                       indicator_ids=(t.iid,) if t.iid else ())
    if t.s.empty:
        return Finding(district, VS_TABLE, "info", "table_check",
                       {"check": c["id"], "what": c.get("what", ""),
                        "result": nested("table_indicator_missing", indicator=t.iid)},
                       indicator_ids=(t.iid,) if t.iid else (), source_lines=tuple(t.fact_lines))
    return TABLE_CHECKS[c["type"]](t)


def run_checks(checks, facts: pd.DataFrame, indicators: pd.DataFrame | None, district: str,
               lines: list[str] | None = None, curated_path: str = "") -> list[Finding]:
    """Apply declared checks (a curated file's ``checks``) to facts and, where they name an indicator, the tables."""
    F = FactIndex(facts)
    out: list[Finding] = []
    table_skipped = 0
    for c in checks:
        if c.get("line") and c.get("quote") and lines is not None and not quote_at(lines, c["line"], c["quote"]):
            out.append(Finding(district, "narrative_fact_quote", "error", "check_quote_missing",
                               {"check": c["id"], "quote": c["quote"], "line": c["line"], "curated": curated_path},
                               indicator_ids=(c["indicator_id"],) if c.get("indicator_id") else (),
                               source_lines=(c["line"],)))
        elif c["type"] not in TABLE_CHECK_TYPES:
            out.append(_prose_check(c, F, district))
        elif indicators is None:
            table_skipped += 1
        else:
            out.append(_table_check(c, F, indicators, district))
    if table_skipped:
        out.append(Finding(district, VS_TABLE, "info", "table_checks_not_run", {"n": table_skipped}))
    return out
