"""Comparing districts (issue 6): unit tests on tiny corpora, agreement with the one-district pack, and the
comparison page of a two-district build (the second district is SYNTHETIC, derived from the reference report)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from cchc_analysis.dataset.io import load_dataset
from cchc_analysis.dataset.model import Dataset
from cchc_analysis.errors import CchcError
from cchc_analysis.measures import compare as MC
from cchc_analysis.measures.compute import latest_values, measure_values
from cchc_analysis.measures.definitions import measure
from cchc_analysis.pack import build as B
from cchc_analysis.pack import compare as C
from cchc_analysis.pack import views as P
from cchc_analysis.synthetic import write_corpus

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"

TOTAL, DESK, ON_TIME = "tthc_tong_so", "tthc_mot_cua_tong", "tthc_dung_hen_huyen"
CODEBOOK = pd.DataFrame([
    {"indicator_id": TOTAL, "appendix": 3, "area": "tthc", "label_vi": "Tổng số TTHC", "parent": ""},
    {"indicator_id": DESK, "appendix": 3, "area": "tthc",
     "label_vi": "Số TTHC giải quyết tại Bộ phận tiếp nhận và trả kết quả", "parent": ""},
    {"indicator_id": ON_TIME, "appendix": 3, "area": "tthc", "label_vi": "Tỷ lệ hồ sơ cấp huyện giải quyết đúng hẹn",
     "parent": ""},
])


def obs(district, iid, year, value, as_of=None):
    return {"district": district, "area": "tthc", "indicator_id": iid, "period": str(year), "year": year,
            "as_of": as_of or f"{year}-12-31", "value": value}


def tiny_corpus(rows, quality=None) -> Dataset:
    ind = pd.DataFrame(rows, columns=C.COLUMNS["indicators"])
    names = sorted(set(ind["district"]))
    units = pd.DataFrame({"district": names, "district_code": [f"{i:03d}" for i in range(len(names))],
                          "province": "P", "synthetic": [n.startswith("S") for n in names]})
    q = quality if quality is not None else pd.DataFrame(columns=["district", "check", "severity", "appendix",
                                                                    "indicator_id"])
    return Dataset(ind, CODEBOOK, q, districts=units, directory=Path("."))


def test_only_rates_and_shares_are_compared():
    measures = MC.comparable_measures()
    assert measures and all(m.unit == "percent" for m in measures)
    assert "procedures_total" not in {m.key for m in measures}  # a raw count grows with the district
    assert {m.area for m in MC.comparable_measures("tthc")} == {"tthc"}


def quality_of(corpus: Dataset, areas: list[str]) -> pd.DataFrame:
    return MC.data_quality(corpus.indicators, corpus.codebook, corpus.quality, list(corpus.districts["district"]),
                           areas)


def test_latest_rankings_and_inconsistent_shares():
    corpus = tiny_corpus([obs(d, ON_TIME, y, v) for d, y, v in
                          [("A", 2018, 90), ("A", 2019, 95), ("B", 2019, 99), ("C", 2019, 95),
                           ("D", 2019, 120), ("E", 2018, 80), ("E", 2020, 70, )]])
    values = measure_values(corpus.indicators, [measure("on_time_district")])
    latest = latest_values(values).set_index("district")
    assert latest.loc["A", "value"] == 95 and latest.loc["E", "year"] == 2020
    assert latest["inconsistent"].to_dict() == {"A": False, "B": False, "C": False, "D": True, "E": False}
    ranks = MC.rankings(latest.reset_index()).set_index("district")
    assert ranks["rank"].to_dict() == {"B": 1, "A": 2, "C": 2, "E": 4}  # ties share the best rank; D not ranked
    assert set(ranks["of"]) == {4}


def test_partial_year_is_latest_but_says_its_date():
    corpus = tiny_corpus([obs("A", ON_TIME, 2019, 90), obs("A", ON_TIME, 2020, 80, "2020-03-31"),
                          obs("B", ON_TIME, 2019, 85)])
    latest = latest_values(measure_values(corpus.indicators, [measure("on_time_district")]))
    html = C.side_by_side_html(latest, MC.rankings(latest), corpus, "tthc", "vi")
    assert "80% (2020, đến 31/3/2020)" in html and "85% (2019)" in html


def test_side_by_side_orders_by_overall_rank_and_marks_synthetic():
    corpus = tiny_corpus([obs("A", ON_TIME, 2019, 70), obs("S1", ON_TIME, 2019, 90)])
    latest = latest_values(measure_values(corpus.indicators, MC.comparable_measures("tthc")))
    html = C.side_by_side_html(latest, MC.rankings(latest), corpus, "tthc", "en")
    assert html.index("S1 (SYNTHETIC)") < html.index("<td>A</td>")
    assert "(2019)</th>" in html  # one date for every district: said once, in the header


def test_long_tables_show_highest_and_lowest():
    corpus = tiny_corpus([obs(f"D{i:02d}", ON_TIME, 2019, i) for i in range(30)])
    latest = latest_values(measure_values(corpus.indicators, MC.comparable_measures("tthc")))
    html = C.side_by_side_html(latest, MC.rankings(latest), corpus, "tthc", "en", max_rows=10)
    assert html.count("<tr>") == 11  # header + 10
    assert "D29" in html and "D00" in html and "D15" not in html
    assert "Showing 10 of 30 districts" in html


def test_data_quality_completeness_and_findings():
    quality = pd.DataFrame([
        {"district": "A", "check": "total_vs_parts", "severity": "error", "appendix": 3, "indicator_id": "total"},
        {"district": "A", "check": "jump", "severity": "warning", "appendix": 3, "indicator_id": ""},
        {"district": "A", "check": "x", "severity": "ok", "appendix": 3, "indicator_id": "total"},
    ])
    corpus = tiny_corpus([obs("A", TOTAL, 2019, 10), obs("B", TOTAL, 2019, 10), obs("B", DESK, 2019, 5)],
                         quality)
    q = quality_of(corpus, ["tthc"]).set_index("district")
    assert math.isclose(q.loc["A", "completeness"], 100 / 3) and math.isclose(q.loc["B", "completeness"], 200 / 3)
    assert (q.loc["A", "errors"], q.loc["A", "warnings"]) == (1, 1)
    assert (q.loc["B", "errors"], q.loc["B", "warnings"]) == (0, 0)


def test_unknown_parameters_are_clear_errors(tmp_path):
    with pytest.raises(CchcError, match="unknown area 'nope'"):
        C.check_params(["nope"], "vi")
    with pytest.raises(CchcError, match="unknown language"):
        C.check_params(None, "fr")
    with pytest.raises(CchcError, match="no processed dataset"):
        C.load_corpus(tmp_path)


# --------------------------------------------------------------------------------------------------- real data

@pytest.fixture(scope="module")
def two_district_corpus(tmp_path_factory, reference_path):
    """data/raw/tuan-giao plus one SYNTHETIC district, parsed."""
    from cchc_analysis.workflow import parse_and_write

    root = tmp_path_factory.mktemp("corpus")
    raw = root / "raw"
    shutil.copytree(ROOT / "data" / "raw" / "tuan-giao", raw / "tuan-giao")
    write_corpus(reference_path, raw, 1)
    parse_and_write([raw], root / "processed")
    return root


def test_corpus_computation_agrees_with_the_district_pack(two_district_corpus):
    processed = two_district_corpus / "processed"
    corpus = C.load_corpus(processed)
    values = measure_values(corpus.indicators, MC.comparable_measures())
    for district in ("Tuần Giáo", "Tổng Hợp 001"):
        ds = load_dataset(processed).for_district(district)
        for m in MC.comparable_measures():
            expected = P.area_measure_values(ds, m.area).query("measure == @m.key")
            got = values[(values["district"] == district) & (values["measure"] == m.key)]
            assert got["value"].round(9).tolist() == expected["value"].round(9).tolist(), (district, m.key)
    assert values["district"].nunique() == 2


def test_load_corpus_narrows_and_rejects_unknown_districts(two_district_corpus):
    processed = two_district_corpus / "processed"
    corpus = C.load_corpus(processed, ["Tuần Giáo"])
    assert list(corpus.districts["district"]) == ["Tuần Giáo"] and set(corpus.indicators["district"]) == {"Tuần Giáo"}
    assert corpus.districts.set_index("district")["district_code"]["Tuần Giáo"] == "099"
    assert not corpus.districts["synthetic"].any()
    assert C.load_corpus(processed).districts.set_index("district")["synthetic"]["Tổng Hợp 001"]
    with pytest.raises(CchcError, match="unknown district 'Mường Nhé'.*Tuần Giáo"):
        C.load_corpus(processed, ["Mường Nhé"])


def test_datapackage_of_a_corpus_validates(two_district_corpus):
    frictionless = pytest.importorskip("frictionless")
    report = frictionless.validate(str(two_district_corpus / "processed" / "datapackage.json"))
    assert report.valid, [e.message for task in report.tasks for e in task.errors][:5]


@pytest.fixture(scope="module")
def comparison_site(two_district_corpus):
    """The province site of the two districts: the comparison at its root, each district's pack in its folder."""
    root = two_district_corpus
    report = B.build(processed=root / "processed", out=root / "reports", cache=root / "cache", notebooks=NOTEBOOKS,
                     parse=False, quiet=True, jobs=2)
    return report


def test_comparison_page_lists_both_districts_and_is_linked(comparison_site):
    site = comparison_site.site
    assert [r.name for r in comparison_site.results][-1] == "compare"
    html = (site / "compare.html").read_text(encoding="utf-8")
    for name in ("Tuần Giáo", "Tổng Hợp 001 (SYNTHETIC)", "099", "S001"):
        assert name in html
    assert 'href="tuan-giao/index.html">Tuần Giáo</a>' in html  # a district's name leads to its pack
    assert "So sánh các huyện" in html and C.t("caveat", "vi") in html
    for area in P.area_ids():
        assert P.area_label(area, "vi") in html
    assert html.count("<img") >= 4  # trend charts
    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="compare.html"' in index
    assert "SYNTHETIC" in index  # a corpus with test data says so on every page
    assert (site / "tuan-giao" / "overview.html").exists() and (site / "tuan-giao" / "area-tthc.html").exists()
    # the real district's own pages do not call it test data; the synthetic district's pages do
    assert "SYNTHETIC" not in (site / "tuan-giao" / "overview.html").read_text(encoding="utf-8")
    assert "SYNTHETIC" in (site / "tong-hop-001" / "overview.html").read_text(encoding="utf-8")


def test_province_site_layout(comparison_site):
    site = comparison_site.site
    assert {p.name for p in site.glob("*.html")} == {"index.html", "compare.html"}
    assert comparison_site.pdf.name == "so-sanh-cac-huyen.pdf" and comparison_site.pdf.exists()
    assert (site / "so-sanh-cac-huyen.pdf").exists()
    assert (site / "tong-hop-001" / "danh-gia-cchc-tong-hop-001.pdf").exists()
    assert (site / "tuan-giao" / "danh-gia-cchc-tuan-giao.pdf").exists()


def test_comparison_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOKS / "compare.ipynb", as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "districts = None" in params[0].source and "areas = None" in params[0].source
    assert all(c.outputs == [] and c.execution_count is None for c in nb.cells if c.cell_type == "code")


def test_many_districts_are_listed_by_province():
    corpus = tiny_corpus([obs(f"D{i:02d}", ON_TIME, 2019, i) for i in range(30)])
    assert C.districts_html(corpus, "en", max_rows=40).count("<tr>") == 31
    summary = C.districts_html(corpus, "en", max_rows=10)
    assert summary.count("<tr>") == 2 and ">30<" in summary
