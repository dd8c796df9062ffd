"""Narrative as data: per-area sections, stated figures (facts) and cross-checks."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cchc_analysis.dataset.build import findings_frame
from cchc_analysis.dataset.schema import columns
from cchc_analysis.prose.curated import Curated, curated_for
from cchc_analysis.prose.facts import FACT_COLUMNS, parse_vi_number, scan_figures
from cchc_analysis.prose.narrative import analyse_narrative
from cchc_analysis.prose.outline import parse_outline
from cchc_analysis.prose.prose_checks import run_checks
from cchc_analysis.prose.sections import AREAS, KINDS, build_sections, item_area
from cchc_analysis.read.manifest import discover

QUALITY_COLUMNS = columns("quality")

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "data" / "raw" / "tuan-giao" / "bao-cao-tong-ket-cchc-2011-2020.txt"
SOURCE = "data/raw/tuan-giao/bao-cao-tong-ket-cchc-2011-2020.txt"
FIX = ROOT / "tests" / "fixtures" / "narrative"
FACTS_SPEC = yaml.safe_load((REPORT.parent / "curated.yaml").read_text(encoding="utf-8"))
CURATED = curated_for(discover([REPORT])[0])


def raw_lines() -> list[str]:
    """The raw file read independently of the library: NFC, split on line ends."""
    return unicodedata.normalize("NFC", REPORT.read_bytes().decode("utf-8")).splitlines()


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return raw_lines()


@pytest.fixture(scope="module")
def sample_indicators() -> pd.DataFrame:
    return pd.read_csv(FIX / "indicators_sample.csv")


@pytest.fixture(scope="module")
def result(lines, sample_indicators):
    return analyse_narrative(lines, SOURCE, sample_indicators, None, curated=CURATED)


@pytest.fixture(scope="module")
def result_no_tables(lines):
    return analyse_narrative(lines, SOURCE, None, None, curated=CURATED)


def frame(result) -> pd.DataFrame:
    return findings_frame(result.findings)


# =============================================================================== sections
def test_every_area_has_results_and_limitations(result):
    for area in AREAS:
        for kind in ("results", "limitations"):
            secs = result.sections_for(area, kind)
            assert secs, f"no {kind} section for {area}"
            assert all(s["text"].strip() for s in secs), f"empty {kind} text for {area}"


def test_areas_with_causes(result):
    for area in ["the_che", "tthc", "to_chuc_bo_may", "cbccvc", "tai_chinh_cong", "hien_dai_hoa"]:
        assert result.sections_for(area, "causes"), area
    # the slipped "3.2. Nguyên nhân" is the causes of the organisation area
    (causes,) = result.sections_for("to_chuc_bo_may", "causes")
    assert causes["first_line"] == 201 and causes["id"] == "P1.II.3.2~2" and causes["notes"]


def test_section_kinds_and_counts(result):
    secs = result.sections
    assert {s["kind"] for s in secs} == set(KINDS)
    assert {s["area"] for s in secs} <= set(AREAS) | {"general"}
    def by_kind(kind):
        return [s for s in secs if s["kind"] == kind]

    assert len(by_kind("lessons")) == 7
    assert len(by_kind("tasks_2021_2030")) == 9
    assert len(by_kind("solutions_2021_2030")) == 7
    assert len(by_kind("recommendations")) == 3
    overall = by_kind("overall_assessment")
    assert sorted(s["aspect"] for s in overall) == ["causes", "limitations", "results"]
    assert all(s["area"] == "general" for s in overall)
    ids = [s["id"] for s in secs]
    assert len(ids) == len(set(ids))


def test_sections_do_not_overlap_and_text_is_from_their_lines(result, lines):
    spans = sorted((s["first_line"], s["last_line"], s["id"]) for s in result.sections)
    for (_, a1, ai), (b0, _, bi) in zip(spans, spans[1:]):
        assert a1 < b0, (ai, bi)
    for s in result.sections:
        # the first sentence of a section's text is on its lines
        head = s["text"].split("\n\n")[0][:40]
        block = " ".join(lines[s["first_line"] - 1:s["last_line"]]).replace("*", "")
        assert head in block, s["id"]


def test_item_area_by_keywords(result):
    by_id = {s["id"]: s for s in result.sections}
    assert by_id["P2.1.3"]["area"] == "the_che"            # văn bản QPPL
    assert by_id["P2.1.8"]["area"] == "tai_chinh_cong"     # tự chủ, ngân sách
    assert by_id["P2.1.9"]["area"] == "hien_dai_hoa"       # công nghệ thông tin
    assert by_id["P3.1"]["area"] == "tthc"
    assert by_id["P2.2.5"]["area"] == "general"            # no area clearly named
    assert item_area("Một câu không nói gì về lĩnh vực nào.")[0] == "general"


def test_sections_on_fixture_with_slips():
    lines = unicodedata.normalize("NFC", (FIX / "outline_slips.txt").read_text(encoding="utf-8")).splitlines()
    secs = build_sections(parse_outline(lines))
    got = {(s["id"], s["area"], s["kind"]) for s in secs}
    assert ("P1.II.2.2~2", "to_chuc_bo_may", "causes") in got
    assert ("P1.I.2.2", "chi_dao_dieu_hanh", "limitations") in got
    assert ("P1.I.1", "chi_dao_dieu_hanh", "results") in got
    assert ("P1.III.3.o7", "tai_chinh_cong", "lessons") in got


# =============================================================================== facts
@pytest.mark.parametrize("fact", FACTS_SPEC["facts"], ids=[f["id"] for f in FACTS_SPEC["facts"]])
def test_fact_quote_is_verbatim_at_its_line(fact):
    text = raw_lines()[fact["line"] - 1]
    assert fact["quote"] in text, f"«{fact['quote']}» not at line {fact['line']}"
    assert unicodedata.is_normalized("NFC", fact["quote"])
    if fact.get("raw"):
        assert fact["raw"] in fact["quote"]
        assert parse_vi_number(fact["raw"]) == pytest.approx(fact["value"])


def test_fact_ids_unique_and_refs_valid():
    ids = [f["id"] for f in FACTS_SPEC["facts"]]
    assert len(ids) == len(set(ids))
    for c in FACTS_SPEC["checks"]:
        for key in ("total", "part", "fact", "minuend", "subtrahend", "result", "percent"):
            if isinstance(c.get(key), str):
                assert c[key] in ids, (c["id"], c[key])
        for ref in c.get("parts", []) + c.get("facts", []):
            assert ref in ids, (c["id"], ref)


def test_facts_frame(result):
    f = result.facts
    assert list(f.columns) == FACT_COLUMNS
    assert len(f) == len(FACTS_SPEC["facts"])
    assert set(f["area"]) <= set(AREAS) | {"general"}
    lines = raw_lines()
    for r in f.itertuples():
        assert r.quote in lines[r.line - 1]
    row = f.set_index("id").loc["tcbm_tinh_gian_bien_che"]
    assert row["value"] == 107 and row["indicator_id"] == "cbccvc_tinh_gian" and row["unit"] == "persons"
    assert f.set_index("id").loc["cbccvc_xa_tong", "area"] == "cbccvc"
    assert f.set_index("id").loc["hdh_chung_thu_cap", "area"] == "hien_dai_hoa"


def test_every_figure_in_the_prose_is_a_fact_or_explained(lines):
    """Completeness: each number the prose states (dates, years, document numbers removed) is a curated fact
    on that line, or listed in not_facts with a reason."""
    o = parse_outline(lines)
    covered: dict[int, set[str]] = {}
    for f in FACTS_SPEC["facts"]:
        if f.get("raw"):
            covered.setdefault(f["line"], set()).add(f["raw"].split("/")[0].rstrip("%"))
    for nf in FACTS_SPEC["not_facts"]:
        covered.setdefault(nf["line"], set()).add(nf["text"].split()[0])
    missing = []
    for ln, fig in scan_figures(lines, o.body_first_line, o.body_last_line):
        key = fig.split("/")[0].rstrip("%").replace("m²", "")
        if key not in covered.get(ln, set()):
            missing.append((ln, fig))
    assert not missing, f"figures neither in curated.yaml facts nor in not_facts: {missing}"


def test_quote_that_drifted_becomes_an_error(lines, tmp_path):
    curated = Curated("curated.yaml", facts=(
        {"id": "x_ok", "line": 187, "quote": "tinh giản biên chế 107 người", "raw": "107", "value": 107},
        {"id": "x_bad", "line": 188, "quote": "tinh giản biên chế 107 người", "raw": "107", "value": 107},
        {"id": "x_misread", "line": 273, "quote": "2.046 biên chế", "raw": "2.046", "value": 2.046},
    ))
    r = analyse_narrative(lines, SOURCE, None, None, curated=curated)
    assert list(r.facts["id"]) == ["x_ok"]
    errs = frame(r)[frame(r)["severity"] == "error"]
    assert set(errs["check"]) == {"narrative_fact_quote", "narrative_fact_value"}
    assert "line 188" in " ".join(errs["message"])


def test_a_report_without_curated_file_has_no_facts_and_no_finding_about_it():
    other = ["Phần thứ nhất", "", "I. TÌNH HÌNH TRIỂN KHAI", "", "Huyện đã ban hành 12 văn bản."]
    r = analyse_narrative(other, "data/raw/other/report.txt", None, None)
    assert r.facts.empty and r.findings == []


@pytest.mark.parametrize("raw,value", [("2.046", 2046), ("33,8%", 33.8), ("02", 2), ("112/112", 112),
                                       ("1.899", 1899), ("45%", 45), ("0,3%", 0.3)])
def test_parse_vi_number(raw, value):
    assert parse_vi_number(raw) == pytest.approx(value)


# =============================================================================== prose checks on fixtures
def facts_df(*rows) -> pd.DataFrame:
    out = []
    for i, (fid, value, raw, qualifier) in enumerate(rows, start=1):
        out.append({"id": fid, "area": "general", "value": float(value), "unit": "", "counts": fid,
                    "period": "", "quote": raw, "line": 100 + i, "indicator_id": "", "qualifier": qualifier,
                    "denominator": None, "raw": raw, "section_id": "", "note": ""})
    return pd.DataFrame(out, columns=FACT_COLUMNS)


def one(findings: list) -> dict:
    assert len(findings) == 1, findings
    row = findings[0].as_row()
    assert list(row) == QUALITY_COLUMNS
    return row


SUM = {"id": "s", "type": "sum", "total": "t", "parts": ["a", "b"], "what": "x"}


def test_sum_agrees():
    f = one(run_checks([SUM], facts_df(("t", 369, "369", "exact"), ("a", 177, "177", "exact"),
                                       ("b", 192, "192", "exact")), None, "D"))
    assert f["severity"] == "ok" and f["source_lines"] == "101;102;103"


def test_sum_disagrees_with_figures_and_lines():
    f = one(run_checks([SUM], facts_df(("t", 1982, "1.982", "exact"), ("a", 89, "89", "exact"),
                                       ("b", 1899, "1.899", "exact")), None, "D"))
    assert f["severity"] == "error"
    assert "1988" in f["message"] and "1982" in f["message"] and "difference 6" in f["message"]
    assert f["source_lines"] == "101;102;103"


def test_sum_with_more_than_total():
    ok = one(run_checks([SUM], facts_df(("t", 429, "429", "more_than"), ("a", 400, "400", "exact"),
                                        ("b", 40, "40", "exact")), None, "D"))
    bad = one(run_checks([SUM], facts_df(("t", 429, "429", "more_than"), ("a", 400, "400", "exact"),
                                         ("b", 20, "20", "exact")), None, "D"))
    assert ok["severity"] == "ok" and bad["severity"] == "error"


PCT = {"id": "p", "type": "percent", "percent": "pct", "part": "a", "total": "t"}


def test_percent_agrees_even_when_truncated():
    f = one(run_checks([PCT], facts_df(("pct", 33.8, "33,8%", "exact"), ("a", 125, "125", "exact"),
                                       ("t", 369, "369", "exact")), None, "D"))
    assert f["severity"] == "ok" and "truncated" in f["message"]


def test_percent_disagrees():
    f = one(run_checks([PCT], facts_df(("pct", 35.0, "35%", "exact"), ("a", 125, "125", "exact"),
                                       ("t", 369, "369", "exact")), None, "D"))
    assert f["severity"] == "error" and "33.88%" in f["message"] and "35%" in f["message"]


@pytest.mark.parametrize("c,vals,severity", [
    ({"id": "d", "type": "difference", "minuend": "a", "subtrahend": "b", "result": "r"},
     [("a", 115, "115", "exact"), ("b", 55, "55", "exact"), ("r", 60, "60", "exact")], "ok"),
    ({"id": "d", "type": "difference", "minuend": "a", "subtrahend": "b", "result": "r"},
     [("a", 115, "115", "exact"), ("b", 55, "55", "exact"), ("r", 50, "50", "exact")], "error"),
    ({"id": "e", "type": "equal", "facts": ["a", "b"]}, [("a", 45, "45", "exact"), ("b", 45, "45", "exact")], "ok"),
    ({"id": "e", "type": "equal", "facts": ["a", "b"]}, [("a", 45, "45", "exact"), ("b", 44, "44", "exact")], "error"),
    ({"id": "m", "type": "at_most", "part": "a", "total": "b"}, [("a", 22, "22", "exact"), ("b", 45, "45", "exact")], "ok"),
    ({"id": "m", "type": "at_most", "part": "a", "total": "b"}, [("a", 46, "46", "exact"), ("b", 45, "45", "exact")], "error"),
    ({"id": "n", "type": "count_named", "fact": "a", "items": ["X", "Y"]}, [("a", 2, "02", "exact")], "ok"),
    ({"id": "n", "type": "count_named", "fact": "a", "items": ["X", "Y"]}, [("a", 3, "03", "exact")], "error"),
    ({"id": "c", "type": "same_claim", "facts": ["a", "b"], "severity": "info"},
     [("a", 100, "100%", "exact"), ("b", 100, "100%", "exact")], "ok"),
    ({"id": "c", "type": "same_claim", "facts": ["a", "b"], "severity": "info"},
     [("a", 99, "99%", "more_than"), ("b", 100, "100%", "exact")], "info"),
])
def test_prose_check_types(c, vals, severity):
    assert one(run_checks([c], facts_df(*vals), None, "D"))["severity"] == severity


def test_check_with_unknown_fact_is_reported_not_crashed():
    f = one(run_checks([SUM], facts_df(("t", 1, "1", "exact")), None, "D"))
    assert f["severity"] == "info" and "not checked" in f["message"]


# =============================================================================== prose vs tables on fixtures
def tables(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame([{"district": "D", "appendix": app, "indicator_id": iid, "year": y, "period": "",
                          "value": v, "raw": str(v), "source_line": ln} for app, iid, y, v, ln in rows])


TV = {"id": "tv", "type": "fact_vs_table", "fact": "f", "indicator_id": "i", "agg": "last", "op": "eq", "what": "x"}


def test_fact_vs_table_agrees_and_disagrees():
    t = tables([(7, "i", 2019, None, 605), (7, "i", 2020, 172, 605)])
    ok = one(run_checks([TV], facts_df(("f", 172, "172", "exact")), t, "D"))
    bad = one(run_checks([TV], facts_df(("f", 170, "170", "exact")), t, "D"))
    assert ok["severity"] == "ok" and ok["year"] == 2020 and ok["appendix"] == 7 and ok["source_lines"] == "101;605"
    assert bad["severity"] == "warning" and "170" in bad["message"] and "172" in bad["message"]


def test_fact_vs_table_sum_over_years():
    c = dict(TV, agg="sum", years=[2015, 2016, 2017])
    t = tables([(5, "i", 2015, 4, 562), (5, "i", 2016, 4, 562), (5, "i", 2017, 16, 562), (5, "i", 2018, 31, 562)])
    assert one(run_checks([c], facts_df(("f", 24, "24", "exact")), t, "D"))["severity"] == "ok"
    assert one(run_checks([c], facts_df(("f", 55, "55", "exact")), t, "D"))["severity"] == "warning"


def test_fact_vs_table_every_year():
    c = dict(TV, agg="all")
    t = tables([(7, "i", 2015, 100, 606), (7, "i", 2016, 90, 606)])
    f = one(run_checks([c], facts_df(("f", 100, "100%", "exact")), t, "D"))
    assert f["severity"] == "warning" and "2016" in f["message"]


def test_missing_indicator_is_info_and_no_tables_is_one_info():
    f = one(run_checks([TV], facts_df(("f", 1, "1", "exact")), tables([(1, "other", 2015, 1, 1)]), "D"))
    assert f["severity"] == "info" and "not in the tables" in f["message"]
    f = one(run_checks([TV], facts_df(("f", 1, "1", "exact")), None, "D"))
    assert f["severity"] == "info" and "no tables" in f["message"]


def test_ratio_check_flags_part_above_total():
    c = {"id": "r", "type": "fact_vs_table_ratio", "fact": "f", "numerator": "n", "denominator": "d", "what": "x"}
    good = tables([(3, "n", 2018, 470, 507), (3, "d", 2018, 470, 505)])
    bad = tables([(3, "n", 2018, 329, 507), (3, "d", 2018, 470, 505), (3, "n", 2019, 495, 507),
                  (3, "d", 2019, 470, 505)])
    assert one(run_checks([c], facts_df(("f", 100, "100%", "exact")), good, "D"))["severity"] == "ok"
    f = one(run_checks([c], facts_df(("f", 100, "100%", "exact")), bad, "D"))
    assert f["severity"] == "warning" and "70.0%" in f["message"] and "exceeds its total" in f["message"]
    assert f["source_lines"] == "101;505;507"


def test_trend_claim():
    c = {"id": "t", "type": "trend_claim", "line": 263, "quote": "ngày càng tăng", "indicator_id": "i",
         "direction": "increasing"}
    flat = tables([(6, "i", y, 1, 577) for y in (2015, 2016, 2017)])
    rising = tables([(6, "i", 2015, 1, 577), (6, "i", 2016, 2, 577), (6, "i", 2017, 2, 577)])
    assert one(run_checks([c], facts_df(), flat, "D"))["severity"] == "warning"
    assert one(run_checks([c], facts_df(), rising, "D"))["severity"] == "ok"


def test_first_year():
    c = {"id": "y", "type": "first_year", "line": 301, "quote": "Từ tháng 6/2017", "year": 2017, "indicator_id": "i"}
    t_ok = tables([(7, "i", 2015, None, 607), (7, "i", 2016, None, 607), (7, "i", 2017, 74, 607)])
    t_bad = tables([(7, "i", 2015, None, 607), (7, "i", 2016, 74, 607), (7, "i", 2017, 74, 607)])
    assert one(run_checks([c], facts_df(), t_ok, "D"))["severity"] == "ok"
    assert one(run_checks([c], facts_df(), t_bad, "D"))["severity"] == "warning"


def test_table_change():
    c = {"id": "c", "type": "table_change", "fact": "f", "indicator_id": "i", "expected_change": -2, "severity": "info"}
    same = tables([(4, "i", 2010, 13, 536), (4, "i", 2019, 13, 537)])
    done = tables([(4, "i", 2010, 13, 536), (4, "i", 2019, 11, 537)])
    assert one(run_checks([c], facts_df(("f", 2, "02", "planned")), same, "D"))["severity"] == "info"
    assert one(run_checks([c], facts_df(("f", 2, "02", "planned")), done, "D"))["severity"] == "ok"


# =============================================================================== the reference report
def by_message(findings: pd.DataFrame, tag: str) -> pd.Series:
    rows = findings[findings["message"].str.contains(tag, regex=False)]
    assert len(rows) == 1, (tag, rows)
    return rows.iloc[0]


def test_report_known_disagreements(result):
    f = frame(result)
    assert list(f.columns) == QUALITY_COLUMNS
    assert set(f["severity"]) <= {"error", "warning", "info", "ok"}
    r = by_message(f, "[prose_bien_che_thuc_hien]")
    assert r["severity"] == "error" and "1988" in r["message"] and r["source_lines"] == "273"
    r = by_message(f, "[table_vc_co_mat]")
    assert r["severity"] == "warning" and "1982" in r["message"] and "1984" in r["message"]
    assert r["source_lines"] == "273;559"
    r = by_message(f, "[table_dvsn_mot_phan]")
    assert r["severity"] == "warning" and r["indicator_id"] == "tcc_dvsn_huyen_mot_phan"
    r = by_message(f, "[table_tu_chu_mot_phan_tang]")
    assert r["severity"] == "warning"
    r = by_message(f, "[table_cong_khai_tthc]")
    assert r["severity"] == "warning" and "exceeds its total" in r["message"]
    r = by_message(f, "[prose_chi_tieu_nam]")
    assert r["severity"] == "info" and r["source_lines"] == "47;333"


def test_report_known_agreements(result):
    f = frame(result)
    for tag in ["[table_tinh_gian]", "[table_chu_ky_so]", "[prose_chung_thu]", "[prose_cbcc_xa_loai]",
                "[prose_cbcc_xa_trinh_do]", "[prose_sap_nhap_ban]", "[table_vc_giao]", "[prose_tra_luong]"]:
        assert by_message(f, tag)["severity"] == "ok", tag
    r = by_message(f, "[table_tinh_gian]")
    assert r["source_lines"] == "187;562" and r["appendix"] == 5


# =============================================================================== with the real tables dataset
@pytest.fixture(scope="module")
def real_tables(reference_dataset):
    return reference_dataset


def referenced_indicator_ids() -> set[str]:
    ids = {f["indicator_id"] for f in FACTS_SPEC["facts"] if f.get("indicator_id")}
    for c in FACTS_SPEC["checks"]:
        ids |= {c[k] for k in ("indicator_id", "numerator", "denominator") if c.get(k)}
        ids |= set(c.get("context", []))
    return ids


def test_referenced_indicator_ids_exist_in_the_codebook(real_tables):
    known = set(real_tables.codebook["id"] if "id" in real_tables.codebook else real_tables.codebook["indicator_id"])
    assert referenced_indicator_ids() - known == set()


def test_checks_run_on_the_real_tables(lines, real_tables):
    r = analyse_narrative(lines, SOURCE, real_tables.indicators, real_tables.targets, curated=CURATED)
    f = frame(r)
    vt = f[f["check"] == "narrative_vs_table"]
    assert not vt["message"].str.contains("not in the tables dataset").any()
    assert by_message(f, "[table_tinh_gian]")["severity"] == "ok"
    assert by_message(f, "[table_vc_co_mat]")["severity"] == "warning"
    assert "narrative_target_evidence" not in set(f["check"])  # Phụ lục 8 is judged by the evaluation, not here


def test_every_finding_of_the_reference_report_is_worded_in_both_languages(lines, real_tables):
    r = analyse_narrative(lines, SOURCE, real_tables.indicators, real_tables.targets, curated=CURATED)
    findings = [*real_tables_findings(real_tables), *r.findings]
    keys = {f.key for f in findings}
    assert {"total_vs_parts", "at_most", "prose_check", "table_check"} <= keys
    for f in findings:
        assert f.message("vi") and f.message("en"), f.key


def real_tables_findings(dataset) -> list:
    from cchc_analysis.checks.tables import run_checks as run_table_checks
    from cchc_analysis.tables.specs import load_specs

    return run_table_checks(dataset.indicators, load_specs())
