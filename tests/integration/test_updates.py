"""New year data: the template, each class of mistake caught with its cell, and the end-to-end update."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from cchc_analysis.cli import main
from cchc_analysis.dataset.io import load_dataset
from cchc_analysis.dataset.yearfile import read_filled, template_indicators
from cchc_analysis.errors import CchcError
from cchc_analysis.updates.ingest import IngestError, ingest
from cchc_analysis.updates.template import write_template

ROOT = Path(__file__).resolve().parents[2]


def snapshot(*folders: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()}


def make_template(raw: Path, reference_dataset, year: int, tmp_path: Path) -> Path:
    return write_template(raw, "Tuần Giáo", year, tmp_path / f"tg-{year}.xlsx", "xlsx", reference_dataset.indicators)


def fill(path: Path, values: dict[str, object], year: int, as_of: dict[str, object] | None = None,
         edit=None) -> dict[str, str]:
    """Type values into the template's year column; returns indicator_id -> cell coordinate."""
    book = load_workbook(path)
    sheet = book[str(year)]
    where = {}
    for row in range(2, sheet.max_row + 1):
        indicator_id = sheet.cell(row, 1).value
        if indicator_id in values:
            sheet.cell(row, 7).value = values[indicator_id]
            where[indicator_id] = sheet.cell(row, 7).coordinate
        if as_of and indicator_id in as_of:
            sheet.cell(row, 8).value = as_of[indicator_id]
    if edit:
        edit(sheet)
    book.save(path)
    return where


GOOD_2021 = {"cbccvc_cbcc_duoc_giao": 97, "cbccvc_cbcc_co_mat": 92, "cbccvc_vc_duoc_giao": "2.040",
             "tthc_tong_so": 470, "tthc_dung_hen_huyen": "99,8", "cd_hl_muc_do_chung": "Đạt",
             "hdh_chu_ky_so": 180, "hdh_iso_xa": "19/19", "tthc_mot_cua_tong": 225, "tthc_mot_cua_huyen": 84,
             "tthc_mot_cua_xa": 141, "cd_cuoc_thi": 1}


def test_template_workbook(workspace, reference_dataset, tmp_path):
    raw, _ = workspace
    path = make_template(raw, reference_dataset, 2021, tmp_path)
    book = load_workbook(path)
    assert book.sheetnames == ["Hướng dẫn", "2021"]
    guide = book["Hướng dẫn"]
    assert guide["B3"].value == "Tuần Giáo" and guide["B6"].value == 2021
    sheet = book["2021"]
    ids = [sheet.cell(r, 1).value for r in range(2, sheet.max_row + 1)]
    assert ids == [spec.id for spec in template_indicators()]
    row = ids.index("cbccvc_vc_duoc_giao") + 2
    assert sheet.cell(row, 6).value == "2.046 (2020, đến 31/03/2020)"
    assert sheet.cell(1, 7).value == "Năm 2021"
    choices = {dv.formula1: str(dv.sqref) for dv in sheet.data_validations.dataValidation}
    dat_row = ids.index("cd_hl_muc_do_chung") + 2
    assert f"G{dat_row}" in choices['"Đạt,Không đạt"']


def test_template_csv(workspace, reference_dataset, tmp_path):
    raw, _ = workspace
    path = write_template(raw, "099", 2021, tmp_path / "t.csv", "csv", reference_dataset.indicators)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "district,indicator_id,year,as_of,value,note,indicator,unit,last_value"
    assert len(lines) == len(template_indicators()) + 1


def test_template_for_unknown_district(workspace, reference_dataset, tmp_path):
    raw, _ = workspace
    with pytest.raises(CchcError, match="no district 'Mường Tè'"):
        write_template(raw, "Mường Tè", 2021, tmp_path / "x.xlsx", "xlsx", reference_dataset.indicators)


MISTAKES = {
    # name: (values typed, what the message says, which indicator's cell it names)
    "negative-count": ({"hdh_chu_ky_so": -3}, "không được âm", "hdh_chu_ky_so"),
    "decimal-count": ({"hdh_chu_ky_so": 2.232}, "không phải số nguyên", "hdh_chu_ky_so"),
    "text-in-count": ({"hdh_chu_ky_so": "nhiều"}, "không hợp lệ", "hdh_chu_ky_so"),
    "percent-over-100": ({"tthc_dung_hen_huyen": 120}, "vượt quá 100", "tthc_dung_hen_huyen"),
    "flag-not-0-1": ({"cd_cuoc_thi": 2}, "0 (không) hoặc 1 (có)", "cd_cuoc_thi"),
    "not-a-choice": ({"cd_hl_muc_do_chung": "Tốt"}, "Đạt / Không đạt", "cd_hl_muc_do_chung"),
    "ratio-over-whole": ({"hdh_iso_xa": "20/19"}, "tử số lớn hơn mẫu số", "hdh_iso_xa"),
    "parts-vs-total": ({"tthc_mot_cua_tong": 200, "tthc_mot_cua_huyen": 84, "tthc_mot_cua_xa": 141},
                       "khác tổng các phần 84 + 141 = 225", "tthc_mot_cua_tong"),
    "in-post-over-quota": ({"cbccvc_cbcc_duoc_giao": 90, "cbccvc_cbcc_co_mat": 95}, "lớn hơn 'Tổng số được giao'",
                           "cbccvc_cbcc_co_mat"),
}


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_each_mistake_is_caught_with_its_cell_and_nothing_changes(case, workspace, reference_dataset, tmp_path,
                                                                   capsys):
    raw, processed = workspace
    values, message, culprit = MISTAKES[case]
    path = make_template(raw, reference_dataset, 2021, tmp_path)
    where = fill(path, values, 2021)
    before = snapshot(raw, processed)
    code = main(["ingest", str(path), "--raw", str(raw), "--processed", str(processed)])
    err = capsys.readouterr().err
    assert code == 2
    assert f'Sheet "2021" {where[culprit]}: ' in err and message in err
    assert "nothing was changed" in err
    assert snapshot(raw, processed) == before


def test_as_of_outside_the_year(workspace, reference_dataset, tmp_path):
    raw, processed = workspace
    path = make_template(raw, reference_dataset, 2021, tmp_path)
    where = fill(path, {"hdh_chu_ky_so": 180}, 2021, as_of={"hdh_chu_ky_so": "31/12/2020"})
    with pytest.raises(IngestError) as err:
        ingest(path, raw, processed)
    assert [p.where for p in err.value.errors] == [f'Sheet "2021" {where["hdh_chu_ky_so"]}']


def test_unknown_deleted_and_duplicated_rows(workspace, reference_dataset, tmp_path):
    raw, processed = workspace
    path = make_template(raw, reference_dataset, 2021, tmp_path)

    def vandalise(sheet):
        sheet.cell(2, 1).value = "cd_khong_co"                       # unknown id
        sheet.cell(4, 1).value = sheet.cell(3, 1).value              # duplicate (and row 4's id is gone)
        sheet.delete_rows(10)                                        # deleted row
    fill(path, {"hdh_chu_ky_so": 180}, 2021, edit=vandalise)
    before = snapshot(raw, processed)
    with pytest.raises(IngestError) as err:
        ingest(path, raw, processed)
    messages = " | ".join(str(p) for p in err.value.errors)
    assert "'cd_khong_co' không có trong danh mục" in messages and 'Sheet "2021" G2' in messages
    assert "xuất hiện hai lần" in messages and 'Sheet "2021" G4' in messages
    assert "thiếu 3 dòng chỉ tiêu" in messages
    assert snapshot(raw, processed) == before


def test_every_problem_is_reported_at_once(workspace, reference_dataset, tmp_path):
    raw, processed = workspace
    path = make_template(raw, reference_dataset, 2021, tmp_path)
    fill(path, {"hdh_chu_ky_so": -1, "tthc_dung_hen_huyen": 101, "cd_cuoc_thi": 5}, 2021)
    with pytest.raises(IngestError) as err:
        ingest(path, raw, processed)
    assert len(err.value.errors) == 3


def test_year_already_present_needs_replace(workspace, reference_dataset, tmp_path):
    raw, processed = workspace
    path = make_template(raw, reference_dataset, 2019, tmp_path)
    fill(path, {"hdh_chu_ky_so": 10}, 2019, as_of={"hdh_chu_ky_so": "31/12/2019"})
    before = snapshot(raw, processed)
    with pytest.raises(IngestError, match="2019 của huyện Tuần Giáo đã có số liệu"):
        ingest(path, raw, processed)
    assert snapshot(raw, processed) == before


def test_changed_template_header_is_a_clear_error(workspace, reference_dataset, tmp_path):
    raw, processed = workspace
    path = make_template(raw, reference_dataset, 2021, tmp_path)

    def rename(sheet):
        sheet.cell(1, 7).value = "Giá trị"
    fill(path, {}, 2021, edit=rename)
    with pytest.raises(CchcError, match='header "Năm 2021" not found'):
        read_filled(path)


def test_end_to_end_new_year(workspace, reference_dataset, tmp_path, capsys):
    raw, processed = workspace
    path = make_template(raw, reference_dataset, 2021, tmp_path)
    values = dict(GOOD_2021, hdh_van_ban_nhan_truc=50000)  # a jump: warned, not refused
    where = fill(path, values, 2021)
    code = main(["ingest", str(path), "--raw", str(raw), "--processed", str(processed), "--status", "final"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "thay đổi lớn so với năm 2020: 2.165 → 50.000" in captured.err  # warned, not refused
    manifest = json.loads((raw / "tuan-giao" / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["files"][-1]
    assert entry["kind"] == "year_data" and entry["year"] == 2021 and entry["status"] == "final"
    stored = raw / "tuan-giao" / entry["file"]
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == entry["sha256"]
    data = load_dataset(processed)
    new = data.indicators[data.indicators["year"] == 2021].set_index("indicator_id")
    assert len(new) == len(values)
    assert new.loc["cbccvc_vc_duoc_giao", "value"] == 2040
    assert new.loc["tthc_dung_hen_huyen", "value"] == pytest.approx(99.8)
    assert new.loc["cd_hl_muc_do_chung", "value"] == 1
    assert (new.loc["hdh_iso_xa", "value"], new.loc["hdh_iso_xa", "denominator"]) == (19, 19)
    assert new.loc["hdh_chu_ky_so", "source_cell"] == f'Sheet "2021" {where["hdh_chu_ky_so"]}'
    assert new.loc["hdh_chu_ky_so", "source_file"].endswith(entry["file"])
    assert new.loc["hdh_chu_ky_so", "as_of"] == "2021-12-31"
    # the report's years are all still there
    assert set(data.indicators["year"]) == {2010, 2015, 2016, 2017, 2018, 2019, 2020, 2021}


def test_jump_against_the_previous_year_is_a_warning(workspace, reference_dataset, tmp_path, capsys):
    raw, processed = workspace
    path = make_template(raw, reference_dataset, 2021, tmp_path)
    fill(path, {"hdh_chu_ky_so": 1720}, 2021)
    warnings, _ = ingest(path, raw, processed)
    assert [w.severity for w in warnings] == ["warning"]
    assert "thay đổi lớn so với năm 2020: 172 → 1.720" in str(warnings[0])


def test_round_trip_replace_changes_no_value(workspace, reference_dataset, tmp_path):
    raw, processed = workspace
    before = reference_dataset.indicators
    year_2019 = before[(before["year"] == 2019) & before["value"].notna() & (before["period"] == "2019")]
    # the report's own 2019 inconsistencies (a 227 % share, 495 published of 470, 221 vs 84 + 141) would be refused
    # as typing mistakes, rightly: leave those indicators out of the round trip
    quality = reference_dataset.quality
    refused = set(quality[(quality["severity"] == "error") & (quality["year"] == 2019)]["indicator_id"])
    assert refused == {"hdh_ty_le_ho_so_mot_cua_dien_tu", "tthc_cong_khai", "tthc_mot_cua_tong"}
    year_2019 = year_2019[~year_2019["indicator_id"].isin(refused)]
    ids = {spec.id: spec for spec in template_indicators()}
    values, as_of = {}, {}
    for row in year_2019.itertuples():
        if row.indicator_id not in ids:
            continue
        if row.unit == "dat":
            values[row.indicator_id] = "Đạt" if row.value else "Không đạt"
        elif row.unit == "ratio" and row.denominator == row.denominator:
            values[row.indicator_id] = f"{row.value:g}/{row.denominator:g}"
        else:
            values[row.indicator_id] = row.value
        as_of[row.indicator_id] = "31/12/2019"
    path = make_template(raw, reference_dataset, 2019, tmp_path)
    fill(path, values, 2019, as_of=as_of)
    ingest(path, raw, processed, replace=True)
    after = load_dataset(processed).indicators
    after_2019 = after[(after["year"] == 2019) & after["value"].notna()].set_index("indicator_id")["value"]
    before_2019 = year_2019.set_index("indicator_id")["value"]
    assert after_2019.loc[before_2019.index].tolist() == before_2019.tolist()
    # the report's 2019 cells are kept aside, not lost
    superseded = (processed / "indicators_superseded.csv").read_text(encoding="utf-8")
    assert "2019" in superseded and len(superseded.splitlines()) == len(values) + 1
    # a second --replace keeps the first file, marked superseded
    ingest(path, raw, processed, replace=True)
    manifest = json.loads((raw / "tuan-giao" / "manifest.json").read_text(encoding="utf-8"))
    year_files = [e for e in manifest["files"] if e["kind"] == "year_data"]
    assert len(year_files) == 2 and year_files[0]["superseded_by"] == year_files[1]["file"]
    assert all((raw / "tuan-giao" / e["file"]).exists() for e in year_files)


def test_template_is_byte_identical_across_runs(workspace, reference_dataset, tmp_path):
    raw, _ = workspace
    first = write_template(raw, "Tuần Giáo", 2021, tmp_path / "a.xlsx", "xlsx", reference_dataset.indicators)
    second = write_template(raw, "Tuần Giáo", 2021, tmp_path / "b.xlsx", "xlsx", reference_dataset.indicators)
    assert first.read_bytes() == second.read_bytes()


def test_new_year_reaches_the_pack(workspace, reference_dataset, tmp_path):
    """template -> fill 2021 -> ingest -> build: the 2021 values appear in the area page's tables and charts."""
    from cchc_analysis.pack.build import build

    raw, processed = workspace
    path = make_template(raw, reference_dataset, 2021, tmp_path)
    fill(path, GOOD_2021, 2021)
    ingest(path, raw, processed, status="final")
    report = build(raw=raw, processed=processed, out=tmp_path / "reports", areas=["cbccvc"], parse=False,
                   cache=tmp_path / "cache", notebooks=ROOT / "notebooks", quiet=True)
    assert report.status != "failed"
    page = (tmp_path / "reports" / "site" / "area-cbccvc.html").read_text(encoding="utf-8")
    assert ">2021" in page             # a 2021 column in the indicator table
    assert "2.040" in page and ">92<" in page    # the 2021 figures typed in the template
