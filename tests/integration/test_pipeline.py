"""Integration and data checks: the whole reference report -> tidy dataset."""

from __future__ import annotations

import shutil
import unicodedata

import pandas as pd
import pytest

from cchc_analysis.dataset.build import build_dataset
from cchc_analysis.dataset.io import write_dataset
from cchc_analysis.dataset.schema import pandera_schema
from cchc_analysis.errors import CchcError
from cchc_analysis.read.manifest import discover

# (indicator_id, period, value, as_of, source_line) as printed in the report
PRINTED = [
    ("cbccvc_vc_duoc_giao", "2015", 2232, "2015-12-31", 558),
    ("cbccvc_vc_duoc_giao", "2019", 2090, "2019-12-31", 558),
    ("cbccvc_vc_co_mat", "2020", 1984, "2020-03-31", 559),
    ("cbccvc_cbcc_co_mat", "2018", 91, "2018-12-31", 556),
    ("tthc_tong_so", "2017", 412, "2017-09-30", 505),
    ("tthc_dung_hen_huyen", "2015", 99.95, "2015-12-31", 516),
    ("tthc_dung_hen_huyen", "2016", 99.76, "2016-12-31", 516),
    ("tthc_dung_hen_xa", "2020", 100, "2020-03-31", 523),
    ("tthc_pakn_tiep_nhan", "2015", 0, "2015-12-31", 525),
    ("hdh_chu_ky_so", "2020", 172, "2020-03-31", 605),
    ("hdh_ty_le_dvc_muc_3_4_co_ho_so", "2020", 190, "2020-03-31", 611),
    ("hdh_van_ban_nhan_truc", "2019", 4833, "2019-12-31", 603),
    ("cd_ban_tin_pt_th", "2019", 50, "2019-12-31", 462),
    ("cd_hl_muc_do_chung", "2018", 1, "2018-12-31", 471),
    ("cd_chuyen_muc_cong_ttdt", "2020", 1, "2020-03-31", 464),
    ("tche_qd_ubnd_huyen", "2020", 2, "2020-03-31", 489),
    ("tche_vbqppl_ban_hanh", "2015", 50, "2015-12-31", 487),
    ("tcbm_phong_chuyen_mon", "2001-2010", 13, "2010-12-31", 536),
    ("tcbm_dvsn_khac", "2011-2020", 6, "2019-12-31", 544),
    ("tcc_dvsn_huyen_nha_nuoc", "2020", 73, "2020-03-31", 578),
    ("tcc_dvsn_dong_4_mot_phan", "2016", 1, "2016-12-31", 592),
    ("cbccvc_tinh_gian", "2020", 17, "2020-03-31", 562),
    ("hdh_iso_xa", "2018", 7, "2018-12-31", 618),
]


def obs(dataset, indicator_id, period):
    rows = dataset.indicators[(dataset.indicators["indicator_id"] == indicator_id)
                              & (dataset.indicators["period"] == period)]
    assert len(rows) == 1, f"{indicator_id} {period}: {len(rows)} rows"
    return rows.iloc[0]


@pytest.mark.parametrize("indicator_id, period, value, as_of, line", PRINTED)
def test_sample_cells_match_the_printed_report(reference_dataset, reference_lines, indicator_id, period, value,
                                               as_of, line):
    row = obs(reference_dataset, indicator_id, period)
    assert row["value"] == pytest.approx(value)
    assert row["as_of"] == as_of
    assert row["source_line"] == line
    printed_cells = reference_lines[line - 1].split("\t")
    assert printed_cells[row["source_column"] - 1] == row["raw"]


def test_labels_are_clean_vietnamese_and_rejoined(reference_dataset):
    row = obs(reference_dataset, "tthc_dung_hen_huyen", "2017")
    assert row["indicator"] == "Tỷ lệ hồ sơ TTHC cấp huyện giải quyết đúng hẹn (đã tiếp nhận/đã trả đúng hạn)"
    assert row["parent"] == "Kết quả giải quyết hồ sơ TTHC"
    assert "<i>" not in "".join(reference_dataset.indicators["indicator"])
    assert all(unicodedata.is_normalized("NFC", s) for s in reference_dataset.indicators["indicator"])


def test_text_cells_keep_their_notes(reference_dataset):
    row = obs(reference_dataset, "cbccvc_tinh_gian", "2020")
    assert row["value_status"] == "number_in_text" and row["note"] == "Đợt I-2020 tinh giản 17 người"
    row = obs(reference_dataset, "tthc_don_gian_hoa", "2020")
    assert pd.isna(row["value"]) and row["note"] == "Chưa đến thời gian quy định rà soát"
    row = obs(reference_dataset, "hdh_iso_phong_ban", "2019")
    assert (row["value"], row["denominator"]) == (13, 13)


def test_nothing_lost(reference_dataset, reference_lines):
    """Every non-empty cell of Phụ lục 1-8 is in the ledger with its raw text and line, and every value cell is
    in the tidy table (or in targets.csv) with that same raw text and line."""
    ledger = {(r.source_line, r.source_column): r for r in reference_dataset.cells.itertuples()}
    observed = {(r.source_line, r.source_column, r.raw) for r in reference_dataset.indicators.itertuples()}
    assessed = {(r.source_line, r.raw) for r in reference_dataset.targets.itertuples()}
    first_table_line = min(reference_dataset.tables["first_line"])
    checked = 0
    for number, text in enumerate(reference_lines, start=1):
        if number < first_table_line or "\t" not in text:
            continue
        for column, raw in enumerate(text.split("\t"), start=1):
            if not raw.strip():
                continue
            checked += 1
            entry = ledger.get((number, column))
            assert entry is not None and entry.raw == raw, f"line {number} column {column}: {raw!r} lost"
            if entry.role == "value":
                assert (number, column, raw) in observed, f"line {number} column {column}: value not in table"
            if entry.role == "assessment":
                assert (number, raw) in assessed
    assert checked == len(reference_dataset.cells) > 500


def test_schema_keys_and_codebook(reference_dataset):
    indicators = reference_dataset.indicators
    pandera_schema("indicators").validate(indicators)
    assert not indicators.duplicated(["district", "indicator_id", "period", "as_of"]).any()
    assert set(indicators["indicator_id"]) <= set(reference_dataset.codebook["indicator_id"])
    assert reference_dataset.codebook["indicator_id"].is_unique
    assert set(indicators["area"]) == {"chi_dao_dieu_hanh", "the_che", "tthc", "to_chuc_bo_may", "cbccvc",
                                       "tai_chinh_cong", "hien_dai_hoa"}
    year_rows = indicators[~indicators["period"].str.contains("-")]
    assert (year_rows["period"].astype(int) == year_rows["year"]).all()
    assert sorted(year_rows["year"].unique()) == [2015, 2016, 2017, 2018, 2019, 2020]
    # district and its statistical code of the period
    assert set(indicators["district"]) == {"Tuần Giáo"} and set(indicators["district_code"]) == {"099"}


def test_every_appendix_has_rows(reference_dataset):
    per_appendix = reference_dataset.indicators.groupby("appendix").size()
    assert list(per_appendix.index) == [1, 2, 3, 4, 5, 6, 7]
    assert (per_appendix > 5).all()
    assert reference_dataset.tables.set_index(["appendix", "section"]).loc[(3, ""), "repeated_header_lines"] \
        == "520;521"


def test_targets_self_assessment(reference_dataset):
    targets = reference_dataset.targets
    assert list(targets["number"]) == list(range(1, 17))
    assert targets["achieved"].sum() == 15
    assert targets.set_index("number").loc[16, "assessment"] == "Không đạt"
    assert targets.set_index("number").loc[11, "text"].startswith("Tỷ lệ hồ sơ giải quyết trực tuyến")


def finding(dataset, check, indicator_id, year=None, severity=None):
    quality = dataset.quality
    rows = quality[(quality["check"] == check) & (quality["indicator_id"] == indicator_id)]
    if year is not None:
        rows = rows[rows["year"] == year]
    if severity is not None:
        rows = rows[rows["severity"] == severity]
    return rows


@pytest.mark.parametrize("check, indicator_id, year, severity, text", [
    ("range", "hdh_ty_le_dvc_muc_3_4_co_ho_so", 2020, "error", "190"),
    ("range", "hdh_ty_le_ho_so_mot_cua_dien_tu", 2020, "error", "1319"),
    ("total_vs_parts", "tthc_mot_cua_tong", 2018, "error", "221 does not equal the sum of its parts 84 + 141 = 225"),
    ("total_vs_parts", "tthc_mot_cua_tong", 2016, "ok", "202"),
    ("total_vs_parts", "tche_vbqppl_ban_hanh", 2020, "error", "= 7"),
    ("at_most", "tthc_cong_khai", 2019, "error", "495 > "),
    ("total_vs_parts", "tcc_dvsn_huyen_tu_chu", 2020, "ok", "75"),
    ("cross_table:dvsn_tu_chu_vs_tong", "tcc_dvsn_huyen_tu_chu", 2019, "warning", "77 >"),
    ("repeated_label", "tcc_dvsn_huyen_tu_chu_dong_4", None, "warning", "lines 574, 589"),
    ("year_over_year", "tche_vbqppl_ban_hanh", 2019, "warning", "from 44 (2018) to 2 (2019)"),
    ("number_from_text", "cbccvc_tinh_gian", 2020, "info", "17"),
])
def test_known_inconsistencies_are_surfaced(reference_dataset, check, indicator_id, year, severity, text):
    rows = finding(reference_dataset, check, indicator_id, year, severity)
    assert len(rows) >= 1, f"no {severity} {check} finding for {indicator_id} {year}"
    assert any(text in message for message in rows["message"])
    assert all(rows["source_lines"].str.len() > 0)


def test_findings_do_not_fix_the_data(reference_dataset):
    assert obs(reference_dataset, "hdh_ty_le_ho_so_mot_cua_dien_tu", "2020")["value"] == 1319
    assert obs(reference_dataset, "tthc_mot_cua_tong", "2018")["value"] == 221


def test_output_is_byte_identical_across_runs(reference_path, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        write_dataset(build_dataset(discover([reference_path]), with_narrative=False), out)
    names = sorted(p.name for p in first.iterdir())
    assert "indicators.parquet" in names and "quality.csv" in names
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def _variant(text: str) -> str:
    """Another district's export of the same template: CRLF, NFD, spaces around cells, and a page break that
    falls inside Phụ lục 5 (header repeated, a label split across it)."""
    lines = text.split("\n")
    index = next(i for i, line in enumerate(lines) if line.startswith("5.\tSố lượng cán bộ, công chức được tinh"))
    label_cells = lines[index].split("\t")
    head, tail = label_cells[1].split(" được ", 1)
    page_break = ["", "", "STT\tChỉ tiêu\tCác cơ quan, đơn vị, UBND các xã, thị trấn\t\t\t\t\t",
                  "\t\tNăm 2015\tNăm 2016\tNăm 2017\tNăm 2018\tNăm 2019\tNăm 2020 (Tính đến 31/3)"]
    lines[index:index + 1] = ["\t".join([label_cells[0], head, *label_cells[2:]]), *page_break,
                              "\t".join(["", "được " + tail, "", "", "", "", "", ""])]
    lines = [" \t ".join(cell for cell in line.split("\t")) if "\t" in line else line for line in lines]
    return unicodedata.normalize("NFD", "\r\n".join(lines))


def test_template_variant_gives_the_same_figures(reference_dataset, reference_text, tmp_path):
    path = tmp_path / "synthetic-variant.txt"
    path.write_bytes(_variant(reference_text).encode("utf-8"))
    variant = build_dataset(discover([path]), with_narrative=False)
    key = ["indicator_id", "period", "as_of", "value", "indicator"]
    a = reference_dataset.indicators[key].sort_values(key[:2]).reset_index(drop=True)
    b = variant.indicators[key].sort_values(key[:2]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_district_identified_from_the_text_without_a_manifest(reference_path, tmp_path):
    copy = tmp_path / "report.txt"
    shutil.copy(reference_path, copy)
    dataset = build_dataset(discover([copy]), with_narrative=False)
    assert dataset.districts.iloc[0][["district", "province", "district_code"]].tolist() == \
        ["Tuần Giáo", "Điện Biên", "099"]


def test_checksum_mismatch_is_refused(reference_path, tmp_path):
    folder = tmp_path / "tuan-giao"
    shutil.copytree(reference_path.parent, folder)
    report = folder / reference_path.name
    report.write_bytes(report.read_bytes().replace("Số lượng chữ ký số".encode(), "Số lượng chữ ký".encode()))
    with pytest.raises(CchcError, match="checksum mismatch"):
        build_dataset(discover([tmp_path]), with_narrative=False)


def test_same_district_twice_is_an_error(reference_path, tmp_path):
    copy = tmp_path / "again.txt"
    shutil.copy(reference_path, copy)
    with pytest.raises(CchcError, match="reported twice"):
        build_dataset(discover([reference_path, copy]), with_narrative=False)


def test_report_of_unknown_district(reference_text, tmp_path):
    path = tmp_path / "anonymous.txt"
    path.write_text(reference_text.replace("UBND huyện Tuần Giáo", "UBND").replace("tỉnh Điện Biên", ""),
                    encoding="utf-8")
    with pytest.raises(CchcError, match="cannot tell which district"):
        build_dataset(discover([path]), with_narrative=False)
