"""Evaluation rules on tiny hand-made frames: the verdict scale, each rule type, inconsistent figures, the schemas."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from cchc_analysis.errors import CchcError
from cchc_analysis.evaluation.criteria import Criterion, Part, judgements_from, load_criteria, parse_criteria
from cchc_analysis.evaluation.verdicts import DistrictEvidence, combine, judge, judge_part, value_text, wording

COLUMNS = ["district", "indicator_id", "appendix", "period", "year", "as_of", "value", "denominator", "source_line",
           "note"]


def frame(*rows) -> pd.DataFrame:
    return pd.DataFrame([dict(zip(COLUMNS, ("X", *row))) for row in rows], columns=COLUMNS)


def quality(*rows) -> pd.DataFrame:
    return pd.DataFrame([{"district": "X", "check": c, "severity": s, "indicator_id": i} for c, s, i in rows],
                        columns=["district", "check", "severity", "indicator_id"])


def evidence(indicators: pd.DataFrame, problems: pd.DataFrame | None = None, judgements=None) -> DistrictEvidence:
    return DistrictEvidence(indicators, problems if problems is not None else quality(), None, [], [],
                            judgements or {})


def part(rule: dict, **extra) -> Part:
    return Part(id="p", measure={"vi": "phần", "en": "part"}, rule=rule, **extra)


def criterion(*parts: Part, target: int | None = None) -> Criterion:
    return Criterion(id="c", source="nq30c", area="tthc", title={"vi": "t", "en": "t"}, parts=parts, target=target)


@pytest.mark.parametrize("statuses, self_not_met, expected", [
    (["supported", "supported"], False, "dat"),
    (["supported", "no_evidence"], False, "dat_mot_phan"),
    (["partly"], False, "dat_mot_phan"),
    (["contradicted", "no_evidence"], False, "chua_dat"),
    (["no_evidence"], False, "chua_du_can_cu"),
    (["no_evidence"], True, "chua_dat"),
    (["not_district", "not_district"], False, "khong_danh_gia"),
    (["not_district", "supported"], False, "dat"),
])
def test_verdict_scale(statuses, self_not_met, expected):
    assert combine(statuses, self_not_met) == expected


def test_threshold_met_and_missed():
    rows = frame(("hdh_van_ban_dien_tu", 7, "2019", 2019, "2019-12-31", 80.0, None, 10, ""),
                 ("hdh_van_ban_dien_tu", 7, "2020", 2020, "2020-03-31", 95.0, None, 11, ""))
    c = criterion(part({"type": "threshold", "indicator": "hdh_van_ban_dien_tu", "min": 90}))
    result = judge_part(c, c.parts[0], evidence(rows))
    assert result.status == "supported"
    assert "95%" in result.text["vi"] and "31/3/2020" in result.text["vi"]
    assert "Phụ lục 7, chỉ tiêu 1" in result.text["vi"]
    assert result.lines == (10, 11)
    c = criterion(part({"type": "threshold", "indicator": "hdh_van_ban_dien_tu", "year": 2019, "min": 90}))
    assert judge_part(c, c.parts[0], evidence(rows)).status == "contradicted"


def test_ratio_threshold_and_at_most():
    rows = frame(("cbccvc_cbcc_co_mat", 5, "2020", 2020, "2020-03-31", 90.0, None, 1, ""),
                 ("cbccvc_cbcc_duoc_giao", 5, "2020", 2020, "2020-03-31", 98.0, None, 2, ""))
    c = criterion(part({"type": "threshold", "indicator": "cbccvc_cbcc_co_mat", "per": "cbccvc_cbcc_duoc_giao",
                        "max": 100}))
    result = judge_part(c, c.parts[0], evidence(rows))
    assert result.status == "supported" and "91,8%" in result.text["vi"] and "91.8%" in result.text["en"]


def test_figures_found_inconsistent_carry_no_verdict():
    rows = frame(("hdh_ty_le_ho_so_mot_cua_dien_tu", 7, "2020", 2020, "2020-03-31", 1319.0, None, 5, ""))
    c = criterion(part({"type": "threshold", "indicator": "hdh_ty_le_ho_so_mot_cua_dien_tu", "min": 100}))
    result = judge_part(c, c.parts[0], evidence(rows, quality(("range", "error", "hdh_ty_le_ho_so_mot_cua_dien_tu"))))
    assert result.status == "no_evidence"
    assert "1.319 (số ghi trong dòng tỷ lệ %)" in result.text["vi"] and "1.319%" not in result.text["vi"]


def test_percentage_above_100_is_never_shown_as_a_percentage():
    assert value_text(227.0, "percent", "vi") == "227 (số ghi trong dòng tỷ lệ %)"
    assert value_text(99.5, "percent", "vi") == "99,5%"


def test_every_year_names_the_failing_years():
    rows = frame(*[("tthc_don_gian_hoa", 3, str(y), y, f"{y}-12-31", v, None, y, "")
                   for y, v in [(2015, 3.0), (2016, 0.0), (2017, 2.0)]])
    c = criterion(part({"type": "every_year", "indicator": "tthc_don_gian_hoa", "years": [2015, 2016, 2017],
                        "above": 0}))
    result = judge_part(c, c.parts[0], evidence(rows))
    assert result.status == "contradicted" and "2016" in result.text["en"] and "2015," not in result.text["en"]


def test_change_partly_met_and_missing_base():
    rows = frame(("cbccvc_cbcc_co_mat", 5, "2015", 2015, "2015-12-31", 100.0, None, 1, ""),
                 ("cbccvc_vc_co_mat", 5, "2015", 2015, "2015-12-31", 900.0, None, 2, ""),
                 ("cbccvc_cbcc_co_mat", 5, "2020", 2020, "2020-03-31", 95.0, None, 3, ""),
                 ("cbccvc_vc_co_mat", 5, "2020", 2020, "2020-03-31", 870.0, None, 4, ""))
    rule = {"type": "change", "indicators": ["cbccvc_cbcc_co_mat", "cbccvc_vc_co_mat"], "base_year": 2015,
            "target_pct": -10, "by": 2021}
    c = criterion(part(rule))
    result = judge_part(c, c.parts[0], evidence(rows))
    assert result.status == "partly"
    assert "giảm 3,5%" in result.text["vi"] and "giảm ít nhất 10%" in result.text["vi"] and "2021" in result.text["vi"]
    c = criterion(part({**rule, "base_year": 2014}))
    assert judge_part(c, c.parts[0], evidence(rows)).status == "no_evidence"


def test_part_for_ministries_is_not_held_against_the_district():
    c = criterion(part({"type": "none"}, district_level=False))
    result = judge_part(c, c.parts[0], evidence(frame()))
    assert result.status == "not_district"


def test_own_not_met_is_credited():
    c = criterion(part({"type": "none"}), target=16)
    targets = {"16": {"number": 16, "text": "100% cơ quan kết nối", "assessment": "Không đạt", "source_line": 9}}
    verdict = judge(c, load_criteria(), evidence(frame()), targets, "X")
    assert verdict.verdict == "chua_dat" and "tự đánh giá của huyện" in verdict.summary["vi"]


def test_a_target_numbered_differently_is_not_misjudged():
    c = Criterion(id="c", source="nq30c", area="tthc", title={"vi": "t", "en": "t"},
                  parts=(part({"type": "none"}),), target=1, match=("giam chi phi",))
    targets = {"1": {"number": 1, "text": "Một mục tiêu khác", "assessment": "Đạt", "source_line": 9}}
    verdict = judge(c, load_criteria(), evidence(frame()), targets, "X")
    assert verdict.verdict == "chua_du_can_cu" and "Phụ lục 8" in verdict.summary["vi"]


def test_wording_has_both_languages_and_the_same_placeholders():
    for key, texts in wording().items():
        assert set(texts) == {"vi", "en"}, key
        assert set(re.findall(r"{(\w+)}", texts["vi"])) == set(re.findall(r"{(\w+)}", texts["en"])), key


def test_the_shipped_criteria_load():
    criteria = load_criteria()
    assert len([c for c in criteria.criteria if c.target]) == 16
    assert {c.source for c in criteria.criteria} <= set(criteria.sources)


def _document() -> dict:
    return {"scale": {k: {"vi": k, "en": k} for k in ("dat", "dat_mot_phan", "chua_dat", "chua_du_can_cu",
                                                      "khong_danh_gia")},
            "sources": {"s": {"vi": "s", "en": "s", "status": "verified"}},
            "criteria": [{"id": "c", "source": "s", "area": "tthc", "title": {"vi": "t", "en": "t"},
                          "parts": [{"id": "p", "measure": {"vi": "m", "en": "m"},
                                     "rule": {"type": "threshold", "indicator": "tthc_tong_so", "min": 1}}]}]}


@pytest.mark.parametrize("change, message", [
    (lambda d: d["criteria"][0].update(typo=1), "criteria[0]: unknown key(s) typo"),
    (lambda d: d["criteria"][0]["parts"][0]["rule"].update(indicator="no_such_row"), "not in the table specs"),
    (lambda d: d["criteria"][0]["parts"][0]["rule"].update(type="guess"), "unknown rule type 'guess'"),
    (lambda d: d["criteria"][0]["parts"][0]["rule"].update(min="90"), "criteria[0].parts[0].rule.min: expected"),
    (lambda d: d["criteria"][0]["parts"][0].update(district_level="no"), "district_level: expected bool"),
    (lambda d: d["criteria"][0].update(source="other"), "unknown source 'other'"),
    (lambda d: d["criteria"][0]["parts"][0]["rule"].update(max=3), "exactly one of min and max"),
])
def test_criteria_schema_names_the_key(change, message):
    document = _document()
    change(document)
    with pytest.raises(CchcError, match=re.escape(message)) as info:
        parse_criteria(document, Path("criteria.yaml"))
    assert "criteria.yaml" in str(info.value.file)


def test_judgements_are_checked_against_the_criteria():
    criteria = load_criteria()
    good = {"criterion": "muc_tieu_03", "part": "khong_chong_cheo", "judgement": "contradicted",
            "why": {"vi": "v", "en": "e"}, "quotes": [{"line": 3, "quote": "q"}]}
    found = judgements_from([good], "curated.yaml", criteria)
    assert found[("muc_tieu_03", "khong_chong_cheo")].quotes == ((3, "q"),)
    for bad, message in [
        ([{**good, "part": "nope"}], "no part 'nope'"),
        ([{k: v for k, v in good.items() if k != "judgement"}], "give its judgement"),
        ([{**good, "criterion": "muc_tieu_08", "part": "van_ban_dien_tu"}], "judged by its figures"),
        ([good, good], "judged twice"),
    ]:
        with pytest.raises(CchcError, match=re.escape(message)) as info:
            judgements_from(bad, "curated.yaml", criteria)
        assert str(info.value.file) == "curated.yaml"


def test_published_indices_are_context_with_their_source(tmp_path):
    from cchc_analysis.evaluation.context import indices_for, load_indices

    rows = indices_for("Điện Biên")
    assert {r["index"] for r in rows} == {"PCI", "PAPI"}
    assert all(r["publisher"] and r["source"] for r in rows)
    pci_2014 = next(r for r in rows if r["index"] == "PCI" and r["year"] == 2014)
    assert (pci_2014["value"], pci_2014["rank"], pci_2014["rank_of"]) == (50.32, 63, 63)
    assert indices_for("Sơn La") == []
    bad = tmp_path / "x.csv"
    bad.write_text("province,index\nĐiện Biên,PCI\n", encoding="utf-8")
    with pytest.raises(CchcError, match="columns must be"):
        load_indices(bad)
    header = "province,index,year,measure,value,scale,rank,rank_of,publisher,source,source_vi,status\n"
    bad.write_text(header + "Điện Biên,PCI,2011,total,59.96,100,29,63,VCCI,VCCI PCI 2011 workbook,,source\n",
                   encoding="utf-8")
    with pytest.raises(CchcError, match="both languages") as info:
        load_indices(bad)
    assert info.value.line == 2


def test_the_vietnamese_pack_names_the_indices_sources_in_vietnamese():
    from cchc_analysis.evaluation.context import indices_for

    for r in indices_for("Điện Biên"):
        assert not re.search(r"\bworkbook\b|\bsheet\b|\bdata\b", r["source_vi"]), r["source_vi"]
        assert not re.search(r"\d\.\d", r["source_vi"]), r["source_vi"]  # (decimals with a comma)


def test_observations_speak_only_when_their_condition_holds():
    from cchc_analysis.evaluation.observations import observe

    rows = frame(*[("tthc_pakn_tiep_nhan", 3, str(y), y, f"{y}-12-31", 0.0, None, y, "") for y in (2016, 2017, 2018)],
                 ("hdh_van_ban_dien_tu", 7, "2020", 2020, "2020-03-31", 100.0, None, 1, ""))
    found = {o.id: o for o in observe(evidence(rows), errors=0)}
    assert set(found) == {"pakn_khong_co", "van_ban_dien_tu_day_du"}
    assert "3 năm (2016-2018" in found["pakn_khong_co"].text["vi"] and found["pakn_khong_co"].recommendation["vi"]
    assert "Phụ lục 7, chỉ tiêu 1" in found["van_ban_dien_tu_day_du"].text["vi"]
    assert "so_lieu_chua_thong_nhat" in {o.id for o in observe(evidence(rows), errors=5)}
    one_feedback = frame(*[("tthc_pakn_tiep_nhan", 3, str(y), y, f"{y}-12-31", float(y == 2017), None, y, "")
                           for y in (2016, 2017, 2018)])
    assert "pakn_khong_co" not in {o.id for o in observe(evidence(one_feedback), errors=0)}


def test_a_district_without_figures_or_findings_is_judged_on_nothing():
    ev = DistrictEvidence(None, None, None, [], [], {})
    assert ev.all_rows == ev.series == {} and ev.problems == set() and ev.errors == 0
    c = criterion(part({"type": "threshold", "indicator": "hdh_van_ban_dien_tu", "min": 90},
                       context=("hdh_van_ban_dien_tu",)))
    result = judge_part(c, c.parts[0], ev)
    assert result.status == "no_evidence" and result.context == {"vi": (), "en": ()}
    assert ev.values_text("hdh_van_ban_dien_tu", "vi") == "—"


def test_a_row_the_table_leaves_unnumbered_is_cited_by_its_label():
    from cchc_analysis.evaluation.verdicts import _all_specs, cite

    unnumbered = [iid for iid in _all_specs() if cite(iid, "vi").endswith("”")]
    assert "tche_vbqppl_ban_hanh" in unnumbered  # (the total of Phụ lục 2 has no row number)
    for iid in _all_specs():
        for lang in ("vi", "en"):
            for with_label in (False, True):
                text = cite(iid, lang, with_label)
                assert not re.search(r"(chỉ tiêu|item|mục|part)\s*(\(|$)", text), text
    assert cite("tche_vbqppl_ban_hanh", "vi", True) == cite("tche_vbqppl_ban_hanh", "vi")
