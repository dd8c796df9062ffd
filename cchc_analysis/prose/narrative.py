"""The report's narrative as data: per-area sections, stated figures (facts) and cross-checks.

Entry point for the pipeline::

    result = analyse_narrative(lines, source_file, indicators, targets)
    write_narrative(result, out_dir)          # sections.json, facts.csv

* **Sections** come from the outline (:mod:`cchc_analysis.prose.outline`): each heading is mapped to a reform area
  and a kind (results, limitations, causes, ...) by the declarative rules below (``AREA_HEADING_KEYWORDS``,
  ``KIND_HEADING_KEYWORDS``, ``CONTEXT_RULES``); list items (lessons, tasks, solutions, recommendations) get an
  area from the keywords in their text (``AREA_TEXT_KEYWORDS``), or ``general`` when no area clearly dominates.
* **Facts** are curated in ``data/facts.yaml``: each with its exact quote and line, checked here against the
  report (a quote that is not at its line becomes an error finding, never a silent fact).
* **Cross-checks** are declared in ``data/facts.yaml`` (``checks``: prose totals, prose against tables) and
  ``data/target_checks.yaml`` (Phụ lục 8 self-assessment against evidence); small functions below apply them.
  Every check yields a finding: ``ok`` when the figures agree, so a reader sees what was checked.

Severity: ``error`` the report's own figures contradict each other arithmetically; ``warning`` prose and
tables disagree, or a target marked Đạt is contradicted or not evidenced; ``info`` an indicative comparison
(different definitions or periods) or a check that could not run; ``ok`` agreement.
"""

from __future__ import annotations

import functools

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from cchc_analysis.prose.outline import Node, Outline, fold, nfc, parse_outline

DATA_DIR = Path(__file__).parent
FACTS_FILE = DATA_DIR / "facts.yaml"
TARGET_CHECKS_FILE = DATA_DIR / "target_checks.yaml"

AREAS = ["chi_dao_dieu_hanh", "the_che", "tthc", "to_chuc_bo_may", "cbccvc", "tai_chinh_cong", "hien_dai_hoa"]
KINDS = ["results", "limitations", "causes", "overall_assessment", "lessons", "tasks_2021_2030",
         "solutions_2021_2030", "recommendations"]

FINDING_COLUMNS = ["district", "check", "severity", "appendix", "indicator_id", "year", "message", "source_lines"]
FACT_COLUMNS = ["id", "area", "value", "unit", "counts", "period", "quote", "line", "indicator_id",
                "qualifier", "denominator", "raw", "section_id", "note"]

# ---------------------------------------------------------------------------------------------------------
# Declarative mapping rules (folded text: lower case, no accents, đ -> d)

# A heading names an area when it contains one of these (checked in this order; first match wins).
AREA_HEADING_KEYWORDS: list[tuple[str, list[str]]] = [
    ("chi_dao_dieu_hanh", ["chi dao, dieu hanh", "chi dao dieu hanh"]),
    ("the_che", ["cai cach the che", "the che"]),
    ("tthc", ["cai cach tthc", "thu tuc hanh chinh", "tthc"]),
    ("to_chuc_bo_may", ["to chuc bo may"]),
    ("cbccvc", ["can bo, cong chuc, vien chuc", "doi ngu can bo", "cbccvc"]),
    ("tai_chinh_cong", ["tai chinh cong"]),
    ("hien_dai_hoa", ["hien dai hoa"]),
]

# A heading names a kind when it contains one of these (in this order: "Những tồn tại, hạn chế và nguyên nhân"
# is limitations; a sibling "Nguyên nhân" then holds the causes).
KIND_HEADING_KEYWORDS: list[tuple[str, list[str]]] = [
    ("limitations", ["ton tai", "han che", "yeu kem"]),
    ("causes", ["nguyen nhan"]),
    ("lessons", ["bai hoc"]),
    ("results", ["ket qua", "mat tich cuc", "dat duoc"]),
]
# (tasks, solutions and recommendations are kinds given by their part: see CONTEXT_RULES)

# Context given by an enclosing heading (first match wins; `part` / `node_kind` restrict where a rule applies).
# `kind` forces the kind of everything under it and `aspect_from_kind` keeps the kind named by a sub-heading as
# the section's aspect; `area` forces the area; `default_kind` is the kind of sub-sections whose heading names
# none; `items` emits one section per list item (numbered paragraph), its area found by AREA_TEXT_KEYWORDS.
CONTEXT_RULES: list[dict[str, Any]] = [
    {"match": ["danh gia chung ve cai cach", "danh gia chung ve cchc"], "kind": "overall_assessment",
     "area": "general", "aspect_from_kind": True},
    {"match": ["tinh hinh trien khai"], "node_kind": "roman", "area": "chi_dao_dieu_hanh",
     "default_kind": "results"},
    {"match": ["bai hoc kinh nghiem"], "kind": "lessons", "items": True},
    {"match": ["nhiem vu"], "part": 2, "kind": "tasks_2021_2030", "items": True},
    {"match": ["giai phap"], "part": 2, "kind": "solutions_2021_2030", "items": True},
    {"match": ["kien nghi", "de xuat"], "part": 3, "kind": "recommendations", "items": True},
]

# Keywords that assign a list item (lesson, task, solution, recommendation) to an area by its text.
AREA_TEXT_KEYWORDS: dict[str, list[str]] = {
    "chi_dao_dieu_hanh": ["lanh dao", "chi dao", "tuyen truyen", "nguoi dung dau", "thi dua", "kiem tra",
                          "so ket", "tong ket"],
    "the_che": ["qppl", "quy pham phap luat", "the che", "luat ban hanh"],
    "tthc": ["tthc", "thu tuc hanh chinh", "mot cua", "niem yet", "phan anh kien nghi", "phan anh, kien nghi",
             "tiep nhan ho so", "bien dong"],
    "to_chuc_bo_may": ["to chuc bo may", "sap xep", "don vi su nghiep", "chinh quyen dia phuong", "18-nq/tw",
                       "19-nq/tw"],
    "cbccvc": ["tinh gian bien che", "ky luat", "ky cuong", "tien luong", "dao tao", "boi duong", "cong vu",
               "doi ngu", "dai ngo", "pham chat"],
    "tai_chinh_cong": ["tai chinh", "ngan sach", "tu chu", "kinh phi", "ke toan", "tai san"],
    "hien_dai_hoa": ["cong nghe thong tin", "cntt", "dien tu", "iso", "truc tuyen", "du lieu", "phan mem",
                     "4.0", "so hoa"],
}
ITEM_AREA_MIN_HITS = 2        # an item needs at least this many keyword hits for its best area ...
ITEM_AREA_MARGIN = 1          # ... and this many more than the runner-up; otherwise its area is "general"


@dataclass
class NarrativeResult:
    sections: list[dict]
    facts: pd.DataFrame
    findings: pd.DataFrame
    outline: Outline | None = None
    district: str = ""
    notes: list[str] = field(default_factory=list)

    def sections_for(self, area: str, kind: str | None = None) -> list[dict]:
        return [s for s in self.sections if s["area"] == area and (kind is None or s["kind"] == kind)]


# =========================================================================================================
# Sections


def _heading_area(node: Node) -> str | None:
    h = fold(node.title)
    for area, keys in AREA_HEADING_KEYWORDS:
        if any(k in h for k in keys):
            return area
    return None


def _heading_kind(node: Node) -> str | None:
    h = fold(node.title)
    if node.inline:          # a numbered paragraph says what to do, it does not name a kind
        return None
    for kind, keys in KIND_HEADING_KEYWORDS:
        if any(k in h for k in keys):
            return kind
    return None


def _part_of(node: Node) -> int | None:
    for a in node.ancestors() + [node]:
        if a.kind == "part":
            return a.number[0]
    return None


def _context_rule(node: Node) -> dict | None:
    if node.inline:
        return None
    h = fold(node.title)
    for rule in CONTEXT_RULES:
        if "part" in rule and _part_of(node) != rule["part"]:
            continue
        if "node_kind" in rule and node.kind != rule["node_kind"]:
            continue
        if any(k in h for k in rule["match"]):
            return rule
    return None


def item_area(text: str) -> tuple[str, dict[str, int]]:
    """Area of a list item from keyword hits in its text; "general" unless one area clearly dominates."""
    t = fold(text)
    hits = {area: sum(t.count(k) for k in keys) for area, keys in AREA_TEXT_KEYWORDS.items()}
    ranked = sorted(hits.items(), key=lambda kv: (-kv[1], AREAS.index(kv[0])))
    best, n = ranked[0]
    runner = ranked[1][1] if len(ranked) > 1 else 0
    if n >= ITEM_AREA_MIN_HITS and n - runner >= ITEM_AREA_MARGIN:
        return best, {k: v for k, v in hits.items() if v}
    return "general", {k: v for k, v in hits.items() if v}


def build_sections(outline: Outline) -> list[dict]:
    """Map outline nodes to (area, kind) sections. A node is emitted whole when every kind named below it is
    its own kind; otherwise its children are examined. Nodes with no area or no kind are not emitted."""
    sections: list[dict] = []

    def kinds_below(node: Node) -> set[str]:
        return {k for n in node.walk() if n is not node for k in [_heading_kind(n)] if k}

    def emit(node: Node, area: str, kind: str, basis: str, aspect: str | None = None, hits=None) -> None:
        sections.append({
            "id": node.id,
            "area": area,
            "kind": kind,
            "aspect": aspect,
            "heading": node.heading,
            "path": [a.heading for a in node.ancestors()],
            "text": node.text(),
            "first_line": node.first_line,
            "last_line": node.last_line,
            "area_basis": basis,
            "area_keyword_hits": hits or {},
            "notes": list(node.notes),
        })

    def visit(node: Node, ctx: dict) -> None:
        ctx = dict(ctx)
        rule = _context_rule(node)
        if rule:
            for key in ("kind", "default_kind", "aspect_from_kind"):
                if key in rule:
                    ctx[key] = rule[key]
            if rule.get("items"):
                ctx["items"] = True
                ctx["aspect_from_kind"] = False
                ctx.pop("area", None)
            if "area" in rule:
                ctx["area"], ctx["area_basis"] = rule["area"], "heading"
        if ctx.get("items"):
            if node.inline or (rule is not None and not node.children and node.body):
                area, hits = item_area(node.text())
                emit(node, area, ctx["kind"], "keywords" if area != "general" else "none", hits=hits)
                return
            for child in node.children:
                visit(child, ctx)
            return
        area_h = _heading_area(node)
        if area_h and ctx.get("area") != "general":
            ctx["area"], ctx["area_basis"] = area_h, "heading"
        own = _heading_kind(node)
        below = kinds_below(node)
        kind = own or (ctx.get("default_kind") if below <= {ctx.get("default_kind")} else None)
        if kind and ctx.get("area") and below <= {kind}:
            if ctx.get("kind") and ctx.get("aspect_from_kind"):
                emit(node, ctx["area"], ctx["kind"], ctx.get("area_basis", "heading"), aspect=kind)
            else:
                emit(node, ctx["area"], kind, ctx.get("area_basis", "heading"))
            return
        for child in node.children:
            visit(child, ctx)

    for part in outline.root.children:
        visit(part, {})
    return sections


# =========================================================================================================
# Facts

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


def load_spec(path: Path | str) -> dict:
    """The parsed YAML file; parsed once per file version and shared by every report of a corpus: read-only."""
    path = Path(path)
    return _parse_yaml(path.resolve(), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _parse_yaml(path: Path, _mtime: int) -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader) or {}


def _facts_apply(spec: dict, lines: list[str], source_file: str) -> bool:
    """Curated facts belong to one report: they apply when the file name matches, or when the quotes are
    found at their lines (the same report under another name)."""
    report = str(spec.get("report") or "")
    if report and str(source_file).replace("\\", "/").endswith(report):
        return True
    facts = spec.get("facts") or []
    if not facts:
        return False
    found = sum(1 for f in facts if 0 < f["line"] <= len(lines) and nfc(f["quote"]) in lines[f["line"] - 1])
    return found == len(facts)


def build_facts(spec: dict, lines: list[str], outline: Outline, source_file: str,
                district: str) -> tuple[pd.DataFrame, list[dict]]:
    """Facts of the curated file, each verified at its line; the area comes from the section the line is in."""
    findings: list[dict] = []
    line_area = _line_areas(outline)
    rows = []
    for f in spec.get("facts") or []:
        line = int(f["line"])
        quote = nfc(str(f["quote"]))
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        if quote not in text:
            findings.append(_finding(district, "narrative_fact_quote", "error", None, f.get("indicator_id"), None,
                                     f"fact {f['id']}: quote «{quote}» is not at line {line} of {source_file}; "
                                     f"fix the line or quote in cchc_analysis/data/facts.yaml", [line]))
            continue
        raw = str(f.get("raw") or "")
        if raw:
            parsed = parse_vi_number(raw)
            if raw not in quote or parsed is None or not math.isclose(parsed, float(f["value"])):
                findings.append(_finding(district, "narrative_fact_value", "error", None, f.get("indicator_id"),
                                         None, f"fact {f['id']} (line {line}): printed «{raw}» reads as {parsed}, "
                                         f"but the file says {f['value']}; fix cchc_analysis/data/facts.yaml",
                                         [line]))
                continue
        sec_id, area = line_area.get(line, ("", "general"))
        rows.append({
            "id": f["id"], "area": f.get("area") or area, "value": float(f["value"]), "unit": f.get("unit", ""),
            "counts": f.get("counts", ""), "period": str(f.get("period", "")), "quote": quote, "line": line,
            "indicator_id": f.get("indicator_id") or "", "qualifier": f.get("qualifier") or "exact",
            "denominator": f.get("denominator"), "raw": raw, "section_id": sec_id, "note": f.get("note") or "",
        })
    df = pd.DataFrame(rows, columns=FACT_COLUMNS)
    df["denominator"] = pd.to_numeric(df["denominator"], errors="coerce")
    df["line"] = df["line"].astype("int64")
    return df, findings


def _line_areas(outline: Outline) -> dict[int, tuple[str, str]]:
    out: dict[int, tuple[str, str]] = {}
    for s in build_sections(outline):
        for ln in range(s["first_line"], s["last_line"] + 1):
            out[ln] = (s["id"], s["area"])
    return out


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


# =========================================================================================================
# Findings helpers


def _finding(district: str, check: str, severity: str, appendix, indicator_id, year, message: str,
             lines) -> dict:
    src = sorted({int(x) for x in lines if x is not None and not (isinstance(x, float) and math.isnan(x))})
    return {"district": district, "check": check, "severity": severity,
            "appendix": appendix, "indicator_id": indicator_id or "", "year": year,
            "message": message, "source_lines": ";".join(str(x) for x in src)}


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    v = float(v)
    return str(int(v)) if v.is_integer() else f"{v:g}"


def _qual(q: str) -> str:
    return {"more_than": "more than ", "at_least": "at least ", "planned": "planned "}.get(q or "exact", "")


class _Facts:
    def __init__(self, df: pd.DataFrame):
        self.by_id = {r["id"]: r for r in df.to_dict("records")}

    def get(self, fid: str) -> dict | None:
        return self.by_id.get(fid)

    def desc(self, fid: str) -> str:
        f = self.by_id[fid]
        return f"{_qual(f['qualifier'])}{_fmt(f['value'])} ({f['counts']}, line {f['line']})"


# =========================================================================================================
# Prose checks (inside the narrative)


def _prose_check(c: dict, F: _Facts, district: str) -> dict | None:
    typ = c["type"]
    cid = c["id"]
    what = c.get("what") or (f"share printed for {F.get(c['percent'])['counts']}"
                             if typ == "percent" and F.get(c.get("percent")) else typ)
    note = f" Note: {c['note']}" if c.get("note") else ""
    refs = [c.get(k) for k in ("total", "part", "fact", "minuend", "subtrahend", "result", "percent")]
    refs += list(c.get("parts", [])) + list(c.get("facts", []))
    ids = [r for r in refs if isinstance(r, str)]
    missing = [r for r in ids if F.get(r) is None]
    if missing:
        return _finding(district, "narrative_prose_totals", "info", None, None, None,
                        f"[{cid}] not checked: fact(s) {', '.join(missing)} not available for this report", [])
    lines = [F.get(r)["line"] for r in ids]
    tol = float(c.get("tolerance", 0))

    def res(ok: bool, msg_ok: str, msg_bad: str, bad_sev: str = "error") -> dict:
        sev = "ok" if ok else c.get("severity", bad_sev)
        return _finding(district, "narrative_prose_totals", sev, None, None, None,
                        f"[{cid}] {what}: " + (msg_ok if ok else msg_bad) + ("" if ok else note), lines)

    if typ == "sum":
        parts = [F.get(p) for p in c["parts"]]
        s = sum(p["value"] for p in parts)
        if isinstance(c["total"], str):
            t = F.get(c["total"])
            total, tq, tdesc = t["value"], t["qualifier"], F.desc(c["total"])
        else:
            total, tq, tdesc = float(c["total"]), "exact", _fmt(c["total"])
        ok = abs(s - total) <= tol or (tq == "more_than" and s > total)
        expr = " + ".join(_fmt(p["value"]) for p in parts)
        return res(ok, f"{expr} = {_fmt(s)}, as stated ({tdesc})",
                   f"the parts {expr} add to {_fmt(s)}, but the total is {tdesc}; difference {_fmt(s - total)}")
    if typ == "difference":
        a, b, r = F.get(c["minuend"]), F.get(c["subtrahend"]), F.get(c["result"])
        d = a["value"] - b["value"]
        return res(abs(d - r["value"]) <= tol, f"{_fmt(a['value'])} - {_fmt(b['value'])} = {_fmt(d)}, as stated",
                   f"{_fmt(a['value'])} - {_fmt(b['value'])} = {_fmt(d)}, but the report states {F.desc(c['result'])}")
    if typ == "percent":
        pct, part = F.get(c["percent"]), F.get(c["part"])
        if isinstance(c["total"], dict):
            total = F.get(c["total"]["denominator_of"])["denominator"]
        else:
            total = F.get(c["total"])["value"]
        computed = 100.0 * part["value"] / total
        decimals = len(pct["raw"].rstrip("%").split(",")[1]) if "," in pct["raw"] else 0
        step = 10 ** (-decimals)
        rounded = round(computed, decimals)
        diff = abs(pct["value"] - computed)
        ok = diff < step + 1e-9
        how = "" if math.isclose(rounded, pct["value"]) else f" (truncated rather than rounded: {rounded:g})"
        return res(ok, f"{_fmt(part['value'])} / {_fmt(total)} = {computed:.2f}%, printed {pct['raw']}{how}",
                   f"{_fmt(part['value'])} / {_fmt(total)} = {computed:.2f}%, but the report prints {pct['raw']} "
                   f"(line {pct['line']})")
    if typ == "equal":
        fs = [F.get(x) for x in c["facts"]]
        vals = {f["value"] for f in fs}
        descs = "; ".join(F.desc(x) for x in c["facts"])
        return res(len(vals) == 1, f"the same figure each time: {descs}", f"the figures differ: {descs}")
    if typ == "at_most":
        p, t = F.get(c["part"]), F.get(c["total"])
        return res(p["value"] <= t["value"] + tol, f"{F.desc(c['part'])} ≤ {F.desc(c['total'])}",
                   f"the part {F.desc(c['part'])} exceeds the total {F.desc(c['total'])}")
    if typ == "count_named":
        f = F.get(c["fact"])
        n = len(c["items"])
        return res(n == f["value"], f"{_fmt(f['value'])} stated, {n} named ({', '.join(c['items'])})",
                   f"{_fmt(f['value'])} stated, but {n} named ({', '.join(c['items'])})")
    if typ == "same_claim":
        fs = [F.get(x) for x in c["facts"]]
        same = len({(f["value"], f["qualifier"]) for f in fs}) == 1
        descs = "; ".join(F.desc(x) for x in c["facts"])
        return res(same, f"stated consistently: {descs}", f"stated differently: {descs}", bad_sev="warning")
    raise ValueError(f"facts.yaml check {cid}: unknown type {typ!r}; expected one of sum, difference, percent, "
                     f"equal, at_most, count_named, same_claim, fact_vs_table, fact_vs_table_ratio, "
                     f"table_change, trend_claim, first_year")


# =========================================================================================================
# Table access


_SERIES_CACHE: dict[int, tuple] = {}
_SERIES_COLUMNS = ("indicator_id", "year", "period", "as_of", "value", "raw", "source_line", "appendix", "unit",
                   "district")


def _series(ind: pd.DataFrame | None, iid: str) -> pd.DataFrame:
    """Rows of one indicator, sorted by year (then as_of), with value as float.

    The table is split by indicator once and kept for the frame in hand: the target and fact checks ask for the
    same few series hundreds of times per report, and a filter of the whole frame each time dominated a corpus run.
    """
    if ind is None or ind.empty or "indicator_id" not in ind.columns:
        return pd.DataFrame(columns=["year", "value", "raw", "source_line", "appendix"])
    cached = _SERIES_CACHE.get(id(ind))
    if cached is None or cached[0] is not ind:
        # only the columns the checks read, as plain Python objects: element access on pandas' Arrow-backed
        # strings costs more than the checks themselves
        columns = [c for c in _SERIES_COLUMNS if c in ind.columns]
        prepared = ind[columns].astype({c: object for c in columns if c not in ("value", "year")})
        prepared["value"] = pd.to_numeric(ind["value"], errors="coerce")
        prepared["year"] = pd.to_numeric(ind.get("year"), errors="coerce")
        sort = ["indicator_id", "year"] + (["as_of"] if "as_of" in prepared.columns else [])
        prepared = prepared.sort_values(sort, kind="stable").reset_index(drop=True)
        positions = prepared.groupby("indicator_id", sort=False).indices
        _SERIES_CACHE.clear()
        cached = _SERIES_CACHE[id(ind)] = (ind, prepared, positions, {})
    _, prepared, positions, made = cached
    if iid not in made:
        rows = positions.get(iid)
        made[iid] = prepared.iloc[rows] if rows is not None else prepared.iloc[0:0]
    return made[iid].copy()


def _values_text(s: pd.DataFrame) -> str:
    parts = []
    n = len(s)

    def column(name):
        return s[name].tolist() if name in s.columns else [None] * n

    for y, period, v, raw in zip(column("year"), column("period"), column("value"), column("raw")):
        label = str(int(y)) if y is not None and not (isinstance(y, float) and math.isnan(y)) else str(period or "")
        raw = str(raw or "")
        has_v = v is not None and not (isinstance(v, float) and math.isnan(v))
        shown = _fmt(v) if has_v else f"«{raw}»"
        if has_v and raw and parse_vi_number(raw) is None and not raw.replace(".", "").replace("%", "").isdigit():
            shown += f" «{raw}»"
        parts.append(f"{label}: {shown}")
    return ", ".join(parts)


def _appendix(s: pd.DataFrame):
    if s is None or s.empty or "appendix" not in s.columns:
        return None
    v = s["appendix"].dropna()
    return int(v.iloc[0]) if len(v) else None


def _src_lines(s: pd.DataFrame) -> list[int]:
    if s is None or s.empty or "source_line" not in s.columns:
        return []
    return [int(x) for x in pd.to_numeric(s["source_line"], errors="coerce").dropna()]


def _with_value(s: pd.DataFrame) -> pd.DataFrame:
    return s[s["value"].notna()] if not s.empty else s


def _table_check(c: dict, F: _Facts, ind: pd.DataFrame | None, district: str) -> dict:
    typ, cid, what = c["type"], c["id"], c.get("what", "")
    note = f" Note: {c['note']}" if c.get("note") else ""
    check = "narrative_vs_table"
    iid = c.get("indicator_id") or c.get("numerator")
    f = F.get(c["fact"]) if c.get("fact") else None
    if c.get("fact") and f is None:
        return _finding(district, check, "info", None, iid, None,
                        f"[{cid}] not checked: fact {c['fact']} not available for this report", [])
    fact_lines = [f["line"]] if f else ([c["line"]] if c.get("line") else [])
    s = _series(ind, iid)
    if s.empty:
        return _finding(district, check, "info", None, iid, None,
                        f"[{cid}] {what}: not checked — indicator {iid} is not in the tables dataset", fact_lines)
    app = _appendix(s)
    sv = _with_value(s)

    def out(sev: str, msg: str, rows: pd.DataFrame, year=None) -> dict:
        return _finding(district, check, sev, app, iid, year, f"[{cid}] {what}: {msg}",
                        fact_lines + _src_lines(rows))

    bad_sev = c.get("severity", "warning")
    if typ == "fact_vs_table":
        agg = c.get("agg", "last")
        op = c.get("op", "eq")
        tol = float(c.get("tolerance", 0))
        rows = sv
        if c.get("years"):
            rows = sv[sv["year"].isin(c["years"])]
        if agg == "year":
            rows = sv[sv["year"] == c["year"]]
        if rows.empty:
            return out("info", f"not checked — Phụ lục {app} has no value for {iid} "
                               f"(cells: {_values_text(s) or 'none'})", s)
        if agg == "all":
            diffs = rows[(rows["value"] - f["value"]).abs() > tol]
            if diffs.empty:
                return out("ok", f"prose {F.desc(c['fact'])} = Phụ lục {app} every year ({_values_text(rows)})", rows)
            return out(bad_sev, f"prose {F.desc(c['fact'])}, Phụ lục {app} differs in "
                                f"{', '.join(str(int(y)) for y in diffs['year'])} ({_values_text(rows)}).{note}", rows)
        if agg == "sum":
            tv, shown = rows["value"].sum(), f"sum {' + '.join(_fmt(v) for v in rows['value'])} = {_fmt(rows['value'].sum())} ({_values_text(rows)})"
            year = None
        else:  # last / year
            r = rows.iloc[[-1]]
            tv, shown = float(r["value"].iloc[0]), f"{_fmt(r['value'].iloc[0])} ({_values_text(r)})"
            year = int(r["year"].iloc[0]) if pd.notna(r["year"].iloc[0]) else None
            rows = r
        fv = f["value"]
        if op == "eq":
            ok = abs(fv - tv) <= tol
            msg = (f"prose {F.desc(c['fact'])} = Phụ lục {app} {shown}" if ok else
                   f"prose {F.desc(c['fact'])} ≠ Phụ lucc {app} {shown}; difference {_fmt(fv - tv)}.{note}")
            return out("ok" if ok else bad_sev, msg.replace("lucc", "lục"), rows, year)
        if op == "ge":
            ok = fv >= tv - tol
            msg = (f"prose {F.desc(c['fact'])} ≥ Phụ lục {app} {shown}, as it should be.{note}" if ok else
                   f"prose {F.desc(c['fact'])} is smaller than Phụ lục {app} {shown}.{note}")
            return out("ok" if ok else bad_sev, msg, rows, year)
        if op in ("compare", "ge_loose"):
            return out("info", f"indicative — prose {F.desc(c['fact'])}; Phụ lục {app} {shown}.{note}", rows, year)
        raise ValueError(f"facts.yaml check {cid}: unknown op {op!r}")
    if typ == "fact_vs_table_ratio":
        den = _with_value(_series(ind, c["denominator"]))
        if den.empty:
            return out("info", f"not checked — indicator {c['denominator']} is not in the tables dataset", s)
        m = sv.merge(den[["year", "value", "source_line"]], on="year", suffixes=("", "_den"))
        m = m[m["value_den"] > 0]
        if m.empty:
            return out("info", f"not checked — no year with both {iid} and {c['denominator']}", s)
        m["pct"] = 100.0 * m["value"] / m["value_den"]
        tol = float(c.get("tolerance", 0.5))
        desc = "; ".join(f"{int(r.year)}: {_fmt(r.value)}/{_fmt(r.value_den)} = {r.pct:.1f}%" for r in m.itertuples())
        bad = m[(m["pct"] - f["value"]).abs() > tol]
        lines_all = list(m["source_line"]) + list(m["source_line_den"])
        if bad.empty:
            return _finding(district, check, "ok", app, iid, None,
                            f"[{cid}] {what}: prose {F.desc(c['fact'])}; Phụ lục {app}: {desc}", fact_lines + lines_all)
        over = bad[bad["pct"] > 100 + tol]
        extra = (f" In {', '.join(str(int(y)) for y in over['year'])} the table's part exceeds its total."
                 if not over.empty else "")
        return _finding(district, check, bad_sev, app, iid, None,
                        f"[{cid}] {what}: prose {F.desc(c['fact'])}, but Phụ lục {app} gives {desc}.{extra}{note}",
                        fact_lines + lines_all)
    if typ == "table_change":
        if len(sv) < 2:
            return out("info", f"not checked — fewer than two values ({_values_text(s)})", s)
        first, last = sv.iloc[0], sv.iloc[-1]
        change = last["value"] - first["value"]
        ok = change == c["expected_change"]
        lab = lambda r: str(r.get("period") or (int(r["year"]) if pd.notna(r["year"]) else ""))
        msg = (f"prose {F.desc(c['fact'])}; Phụ lục {app}: {lab(first)} {_fmt(first['value'])} → {lab(last)} "
               f"{_fmt(last['value'])} (change {_fmt(change)}, expected {_fmt(c['expected_change'])} if carried out).")
        return out("ok" if ok else c.get("severity", "info"), msg + ("" if ok else note), sv)
    if typ == "trend_claim":
        vals = list(sv["value"])
        desc = _values_text(sv)
        if len(vals) < 2:
            return out("info", f"not checked — fewer than two values ({desc})", s)
        nondecr = all(b >= a for a, b in zip(vals, vals[1:]))
        ok = nondecr and vals[-1] > vals[0] if c.get("direction") == "increasing" else \
            all(b <= a for a, b in zip(vals, vals[1:])) and vals[-1] < vals[0]
        msg = (f"prose (line {c['line']}) «{c['quote']}»; Phụ lục {app}: {desc} — "
               + ("the table shows that trend" if ok else f"the table does not show that trend ({_fmt(vals[0])} → {_fmt(vals[-1])})"))
        return out("ok" if ok else bad_sev, msg + ("" if ok else note), sv)
    if typ == "first_year":
        present = sv[sv["value"] > 0]
        if present.empty:
            return out(bad_sev, f"prose (line {c['line']}) says from {c['year']}, but Phụ lục {app} has no value "
                                f"({_values_text(s)})", s)
        fy = int(present["year"].iloc[0])
        first_col = int(s["year"].min())
        if fy == c["year"] or (fy == first_col and c["year"] < first_col):
            return out("ok", f"prose (line {c['line']}) says from {c['year']}; Phụ lục {app} first shows a value in "
                             f"{fy} ({_values_text(s)})", s)
        return out(bad_sev, f"prose (line {c['line']}) says from {c['year']}, but Phụ lục {app} first shows a value "
                            f"in {fy} ({_values_text(s)}).{note}", s)
    raise ValueError(f"facts.yaml check {cid}: unknown type {typ!r}")


TABLE_CHECK_TYPES = {"fact_vs_table", "fact_vs_table_ratio", "table_change", "trend_claim", "first_year"}


def run_checks(checks: list[dict], facts: pd.DataFrame, indicators: pd.DataFrame | None,
               district: str, lines: list[str] | None = None) -> list[dict]:
    """Apply declared checks (facts.yaml ``checks``) to facts and, where they name an indicator, the tables."""
    F = _Facts(facts)
    out: list[dict] = []
    table_skipped = 0
    for c in checks:
        if c.get("line") and c.get("quote") and lines is not None:
            ln = int(c["line"])
            if not (0 < ln <= len(lines) and nfc(c["quote"]) in lines[ln - 1]):
                out.append(_finding(district, "narrative_fact_quote", "error", None, c.get("indicator_id"), None,
                                    f"[{c['id']}] quote «{c['quote']}» is not at line {ln}; fix "
                                    f"cchc_analysis/data/facts.yaml", [ln]))
                continue
        if c["type"] in TABLE_CHECK_TYPES:
            if indicators is None:
                table_skipped += 1
                continue
            out.append(_table_check(c, F, indicators, district))
        else:
            r = _prose_check(c, F, district)
            if r:
                out.append(r)
    if table_skipped:
        out.append(_finding(district, "narrative_vs_table", "info", None, None, None,
                            f"{table_skipped} prose-against-table checks not run: no tables dataset given", []))
    return out


# =========================================================================================================
# Phụ lục 8: self-assessment against evidence

_TARGET_ROW = re.compile(r"^\s*(\d{1,2})\.?\t(.+?)\t\s*(Đạt|Không đạt|Chưa đạt)\s*$")


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


def _evidence_value(ev: dict, ind, F: _Facts):
    """(value, description, lines, appendix, indicator_id, year) of one evidence reference."""
    if ev.get("fact"):
        f = F.get(ev["fact"])
        if f is None:
            return None, f"fact {ev['fact']} not available", [], None, None, None
        return f["value"], F.desc(ev["fact"]), [f["line"]], None, f["indicator_id"] or None, None
    s = _with_value(_series(ind, ev["indicator_id"]))
    if ev.get("year") is not None:
        s = s[s["year"] == ev["year"]]
    if s.empty:
        return None, f"{ev['indicator_id']}: no value", [], None, ev["indicator_id"], ev.get("year")
    r = s.iloc[[-1]]
    year = int(r["year"].iloc[0]) if pd.notna(r["year"].iloc[0]) else None
    return (float(r["value"].iloc[0]), f"Phụ lục {_appendix(r)} {ev['indicator_id']} {year}: {_fmt(r['value'].iloc[0])}",
            _src_lines(r), _appendix(r), ev["indicator_id"], year)


def _context_text(part: dict, ind, F: _Facts, lines: list[str]) -> tuple[str, list[int], str | None]:
    bits, src, first_iid = [], [], None
    for iid in part.get("context_indicators", []):
        if ind is None:
            bits.append(f"{iid}: tables not given")
            continue
        s = _series(ind, iid)
        if s.empty:
            bits.append(f"{iid}: not in the tables")
            continue
        first_iid = first_iid or iid
        bits.append(f"Phụ lục {_appendix(s)} {iid} ({_values_text(s)})")
        src += _src_lines(s)
    for fid in part.get("context_facts", []):
        if F.get(fid):
            bits.append(f"prose {F.desc(fid)}")
            src.append(F.get(fid)["line"])
    for q in part.get("quotes", []):
        ln = int(q["line"])
        ok = 0 < ln <= len(lines) and nfc(q["quote"]) in lines[ln - 1]
        if ok:
            bits.append(f"line {ln}: «{q['quote']}»")
            src.append(ln)
        else:
            bits.append(f"(quote for line {ln} not found in this report: check target_checks.yaml)")
    return "; ".join(bits), src, first_iid


def check_targets(spec: dict, targets: pd.DataFrame, indicators: pd.DataFrame | None, facts: pd.DataFrame,
                  lines: list[str], district: str) -> list[dict]:
    """One finding per measurable part of each Phụ lục 8 target: ok (evidence supports the claim), warning
    (claimed, not evidenced / contradicted), info (self-assessed Không đạt; not a claim)."""
    F = _Facts(facts)
    out: list[dict] = []
    specs = {int(t["number"]): t for t in spec.get("targets") or []}
    check = "narrative_target_evidence"
    for t in targets.sort_values("number").to_dict("records"):
        num, tline = int(t["number"]), int(t["source_line"]) if pd.notna(t.get("source_line")) else None
        assessed = str(t.get("assessment") or "")
        head = f"Phụ lục 8 target {num} (line {tline}), self-assessed «{assessed}»"
        ts = specs.get(num)
        if ts is None:
            out.append(_finding(district, check, "info", 8, None, None,
                                f"{head}: no evidence rule in cchc_analysis/data/target_checks.yaml; add one", [tline]))
            continue
        text_f = fold(str(t.get("text", "")))
        missing = [k for k in ts.get("match", []) if fold(k) not in text_f]
        if missing:
            out.append(_finding(district, check, "warning", 8, None, None,
                                f"{head}: its wording does not match the rule for target {num} in target_checks.yaml "
                                f"(missing {missing}); the targets may be numbered differently in this report — "
                                f"edit the rule's `match`", [tline]))
            continue
        achieved = t.get("achieved")
        if achieved is None or (isinstance(achieved, float) and math.isnan(achieved)):
            achieved = fold(assessed) == "dat"
        if not bool(achieved):
            out.append(_finding(district, check, "info", 8, None, None,
                                f"{head}: not claimed as achieved; no evidence check needed", [tline]))
            continue
        for part in ts.get("parts", []):
            out.append(_target_part(part, head, tline, ind=indicators, F=F, lines=lines, district=district))
    return out


def _target_part(part: dict, head: str, tline: int, ind, F: _Facts, lines, district) -> dict:
    check = "narrative_target_evidence"
    measure = part["measure"]
    rule = part.get("rule", {"type": "none"})
    ctx, ctx_lines, ctx_iid = _context_text(part, ind, F, lines)
    ctx_s = f" Evidence considered: {ctx}." if ctx else ""
    why = f" {part['why']}" if part.get("why") else ""
    typ = rule["type"]
    base = f"{head}; measurable part «{measure}»"
    if typ == "none":
        return _finding(district, check, "warning", 8, ctx_iid, None,
                        f"{base}: claimed, not evidenced — neither the tables nor the prose measure it.{why}{ctx_s}",
                        [tline] + ctx_lines)
    if typ == "prose":
        verdict = rule.get("verdict", "contradicted")
        label = "claimed, contradicted by the report's own text" if verdict == "contradicted" else "claimed, not evidenced"
        return _finding(district, check, "warning", 8, ctx_iid, None, f"{base}: {label}.{why}{ctx_s}",
                        [tline] + ctx_lines)
    if ind is None and typ != "none":
        return _finding(district, check, "info", 8, rule.get("indicator_id"), None,
                        f"{base}: not checked — no tables dataset given", [tline])
    if typ == "every_year":
        s = _series(ind, rule["indicator_id"])
        years = rule.get("years")
        if years:
            s = s[s["year"].isin(years)]
        if s.empty:
            return _finding(district, check, "warning", 8, rule["indicator_id"], None,
                            f"{base}: claimed, not evidenced — {rule['indicator_id']} has no cells.{why}{ctx_s}",
                            [tline] + ctx_lines)
        vals = s["value"]
        good = vals.notna() & (vals > rule.get("above", 0))
        desc = _values_text(s)
        app = _appendix(s)
        if good.all():
            return _finding(district, check, "ok", 8, rule["indicator_id"], None,
                            f"{base}: supported — Phụ lục {app} {rule['indicator_id']} is above "
                            f"{_fmt(rule.get('above', 0))} every year ({desc}).{ctx_s}", [tline] + _src_lines(s) + ctx_lines)
        failing = ", ".join(str(int(y)) for y in s.loc[~good, "year"])
        return _finding(district, check, "warning", 8, rule["indicator_id"], None,
                        f"{base}: claimed, contradicted — Phụ lục {app} {rule['indicator_id']} is not above "
                        f"{_fmt(rule.get('above', 0))} in {failing} ({desc}).{why}{ctx_s}",
                        [tline] + _src_lines(s) + ctx_lines)
    if typ == "threshold":
        v, desc, src, app, iid, year = _evidence_value(rule["value"], ind, F)
        if rule.get("per"):
            d, ddesc, dsrc, _, _, _ = _evidence_value(rule["per"], ind, F)
            if v is not None and d:
                desc = f"{desc} of {ddesc} = {100.0 * v / d:.1f}%"
                v = 100.0 * v / d
                src += dsrc
            else:
                v = None
                desc = f"{desc}; {ddesc}"
        if v is None:
            return _finding(district, check, "warning", 8, iid, year,
                            f"{base}: claimed, not evidenced — {desc}.{why}{ctx_s}", [tline] + src + ctx_lines)
        thr = float(rule["min"])
        ok = v >= thr
        return _finding(district, check, "ok" if ok else "warning", 8, iid, year,
                        f"{base}: " + (f"supported — {desc} (threshold {_fmt(thr)})" if ok else
                                       f"claimed, contradicted — {desc}, below the threshold {_fmt(thr)}")
                        + f".{why if not ok else ''}{ctx_s}", [tline] + src + ctx_lines)
    raise ValueError(f"target_checks.yaml: unknown rule type {typ!r}; expected none, prose, every_year, threshold")


# =========================================================================================================
# Entry point


def _district(lines: list[str], indicators: pd.DataFrame | None) -> str:
    if indicators is not None and "district" in indicators.columns and len(indicators):
        vals = indicators["district"].dropna().unique()
        if len(vals) == 1:
            return str(vals[0])
    for raw in lines[:40]:
        m = re.search(r"UBND huyện\s+([A-ZĐÂ][^\s,;.]*(?:\s+[A-ZĐÂ][^\s,;.]*)*)", raw)
        if m:
            return m.group(1)
    return ""


def analyse_narrative(lines: list[str], source_file: str, indicators: "pd.DataFrame | None",
                      targets: "pd.DataFrame | None", *, facts_file: Path | str | None = None,
                      target_checks_file: Path | str | None = None) -> NarrativeResult:
    """Outline, sections, facts and findings of one report's narrative.

    ``lines``: the report's lines (NFC, no line endings; index 0 = line 1). ``indicators`` / ``targets``: the
    tidy tables of the same report (or None: prose-only checks run, the rest are reported as not run).
    """
    lines = [nfc(x) for x in lines]
    district = _district(lines, indicators)
    outline = parse_outline(lines)
    sections = build_sections(outline)
    findings: list[dict] = []

    for n in outline.nodes():
        for note in n.notes:
            findings.append(_finding(district, "narrative_outline", "info", None, None, None,
                                     f"heading «{n.heading[:80]}» (line {n.line}): {note}; the tree keeps it as "
                                     f"section {n.id}", [n.line]))

    fspec = load_spec(facts_file or FACTS_FILE)
    if _facts_apply(fspec, lines, source_file):
        facts, ffind = build_facts(fspec, lines, outline, source_file, district)
        findings += ffind
        findings += run_checks(fspec.get("checks") or [], facts, indicators, district, lines)
    else:
        facts = pd.DataFrame(columns=FACT_COLUMNS)
        findings.append(_finding(district, "narrative_facts", "info", None, None, None,
                                 f"no curated facts for {source_file}: cchc_analysis/data/facts.yaml describes "
                                 f"{fspec.get('report')}; stated figures and their cross-checks were not extracted",
                                 []))

    if targets is None or len(targets) == 0:
        targets = targets_from_lines(lines)
    tspec = load_spec(target_checks_file or TARGET_CHECKS_FILE)
    if len(targets):
        findings += check_targets(tspec, targets, indicators, facts, lines, district)

    fdf = pd.DataFrame(findings, columns=FINDING_COLUMNS)
    fdf["appendix"] = pd.array(fdf["appendix"], dtype="Int64")
    fdf["year"] = pd.array(fdf["year"], dtype="Int64")
    return NarrativeResult(sections=sections, facts=facts, findings=fdf, outline=outline, district=district,
                           notes=list(outline.notes))


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
