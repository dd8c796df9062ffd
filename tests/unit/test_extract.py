"""Document structure from tiny text fixtures, one quirk of the template per test."""

import unicodedata
from pathlib import Path

import pytest

from cchc_analysis.errors import CchcError
from cchc_analysis.read.source import SourceText, decode_report
from cchc_analysis.tables.extract import extract

T = "\t"
HEADER = ["STT\tChỉ tiêu\tCác cơ quan, đơn vị\t\t", "\t\tNăm 2015\tNăm 2016\tNăm 2020 (Tính đến 31/3)"]


def doc(lines: list[str], path: str = "fixture.txt"):
    text = "\n".join(lines).encode("utf-8")
    return extract(SourceText(Path(path), tuple(decode_report(text, path)), "0"))


def one_table(*rows: str, heading: str = "Phụ lục 3", title: str = "Thống kê các chỉ tiêu"):
    return ["Báo cáo", "", heading, "", title, "", *HEADER, *rows]


def test_rows_keep_their_line_numbers_and_cells():
    appendix = doc(one_table("1.\tTổng số TTHC\t321\t412\t468")).appendices[3]
    row = appendix.sections[0].rows[0]
    assert row.line == 9
    assert [c.clean for c in row.cells] == ["1.", "Tổng số TTHC", "321", "412", "468"]
    assert appendix.title == "Thống kê các chỉ tiêu" and appendix.office == ""


def test_office_in_heading_and_title_over_two_lines():
    lines = ["Phụ lục 6 (Phòng Tài chính - Kế hoạch)", "Thống kê các chỉ tiêu của", "Các cơ quan, đơn vị", "",
             *HEADER, "1\tSố cơ quan\t32\t32\t32"]
    appendix = doc(lines).appendices[6]
    assert appendix.office == "Phòng Tài chính - Kế hoạch"
    assert appendix.title == "Thống kê các chỉ tiêu của Các cơ quan, đơn vị"
    assert appendix.title_lines == [2, 3]


def test_header_repeated_after_page_break_is_skipped_and_label_rejoined():
    rows = ["-\tTỷ lệ hồ sơ giải quyết đúng hẹn (đã tiếp nhận/đã\t99.95\t99.76%\t100%", "", "",
            "STT\t\tCác cơ quan, đơn vị\t\t", "\t\tNăm 2015\tNăm 2016\tNăm 2020 (Tinh đến 31/3)",
            "\t<i>trả đúng hạn)</i>\t\t\t", "-\t<i>Tỷ lệ cấp xã</i>\t100%\t100%\t100%"]
    section = doc(one_table(*rows)).appendices[3].sections[0]
    assert len(section.rows) == 2
    first = section.rows[0]
    assert first.label() == "Tỷ lệ hồ sơ giải quyết đúng hẹn (đã tiếp nhận/đã trả đúng hạn)"
    assert [c.line for c in first.label_continuations] == [14]
    assert [[r.line for r in rows] for rows in section.repeated_headers] == [[12, 13]]
    assert section.rows[1].label() == "Tỷ lệ cấp xã"


def test_continuation_figures_fill_the_blanks_of_the_row_they_continue():
    rows = ["1\tSố lượng đơn vị sự\t\t", "STT\tChỉ tiêu\tCác cơ quan\t\t", HEADER[1],
            "\tnghiệp công\t5\t6\t7"]
    row = doc(one_table(*rows)).appendices[3].sections[0].rows[0]
    assert row.label() == "Số lượng đơn vị sự nghiệp công"
    assert [(c.clean, c.line) for c in row.cells[2:5]] == [("5", 12), ("6", 12), ("7", 12)]


def test_continuation_that_contradicts_its_row_is_an_error():
    rows = ["1\tSố lượng\t4\t", "\tđơn vị\t5\t"]
    with pytest.raises(CchcError, match="already has one") as err:
        doc(one_table(*rows))
    assert err.value.line == 10


def test_repeated_header_with_other_years_is_an_error():
    rows = ["1\tA\t1\t2\t3", "STT\tChỉ tiêu\tCác cơ quan\t\t", "\t\tNăm 2016\tNăm 2017\tNăm 2018", "2\tB\t1\t2\t3"]
    with pytest.raises(CchcError, match="other year columns"):
        doc(one_table(*rows))


def test_extra_trailing_header_column():
    lines = ["Phụ lục 2 (Phòng Tư pháp)", "Thống kê", "STT\tNhiệm vụ\tCác cơ quan\t\t\tNăm 2020 (Tính đến 31/3)",
             "\t\tNăm 2019\tNăm 2020\t", "1\tChia theo loại\tNghị quyết\t\t\t0"]
    section = doc(lines).appendices[2].sections[0]
    assert section.column_headers() == {0: "STT", 1: "Nhiệm vụ", 2: "Năm 2019", 3: "Năm 2020",
                                        5: "Năm 2020 (Tính đến 31/3)"}


def test_sections_with_their_own_headers():
    lines = ["Phụ lục 4 (Phòng Nội vụ)", "Thống kê và so sánh", "I. Số lượng tổ chức", "",
             "Huyện\tSố phòng\tSố đơn vị\tGhi chú", "Tuần Giáo\tGiai đoạn 2001-2010\t13\t6",
             "\tGiai đoạn 2011-2020\t13\t6", "II. Đơn vị sự nghiệp", "Giai đoạn\tGD-ĐT\tVH\tKhác",
             "\tThuộc UBND cấp huyện\tThuộc UBND cấp huyện\tThuộc UBND cấp huyện", "Giai đoạn 2001-2010\t\t1\t5"]
    appendix = doc(lines).appendices[4]
    assert [s.key for s in appendix.sections] == ["I", "II"]
    first, second = appendix.sections
    assert len(first.header) == 1 and [r.line for r in first.rows] == [6, 7]
    assert len(second.header) == 2 and [r.line for r in second.rows] == [11]


def test_notes_are_kept_with_their_lines():
    lines = one_table("1\tA\t1\t2\t3", "", "Ghi chú:", "", "- Phòng Nội vụ: thống kê tiêu chí số 1.")
    appendix = doc(lines).appendices[3]
    assert appendix.notes == [(13, "- Phòng Nội vụ: thống kê tiêu chí số 1.")]


def test_appendix_boundaries_and_narrative():
    lines = ["Báo cáo", "Phần thứ nhất", *one_table("1\tA\t1\t2\t3")[2:], "", "Phụ lục 4", "Tiêu đề",
             "STT\tChỉ tiêu\tNăm 2015", "1\tB\t2"]
    document = doc(lines)
    assert document.narrative_lines == (1, 2)
    assert document.appendices[3].last_line == 9
    assert document.appendices[4].first_line == 11


def test_lf_crlf_nfc_nfd_give_the_same_document():
    lines = one_table("1.\tTổng số thủ tục\t321\t412\t468", "-\t<i>Tỷ lệ đúng hẹn</i>\t99.95\t99,5\t100%")
    base = "\n".join(lines)
    variants = [base, base.replace("\n", "\r\n"), unicodedata.normalize("NFD", base)]
    shapes = []
    for text in variants:
        source = SourceText(Path("x"), tuple(decode_report(text.encode("utf-8"))), "0")
        section = extract(source).appendices[3].sections[0]
        shapes.append([(r.line, r.label(), [c.clean for c in r.cells]) for r in section.rows])
    assert shapes[0] == shapes[1] == shapes[2]


def test_no_appendix_at_all():
    with pytest.raises(CchcError, match="no appendix tables"):
        doc(["Báo cáo", "Chỉ có phần lời."])


def test_appendix_twice():
    with pytest.raises(CchcError, match="appears twice") as err:
        doc([*one_table("1\tA\t1\t2\t3"), *one_table("1\tA\t1\t2\t3")])
    assert err.value.line == 12


def test_header_without_rows_is_a_cut_table():
    with pytest.raises(CchcError, match="cut short"):
        doc(one_table())


def test_count_row_without_kind_is_refused(tmp_path):
    import shutil

    from cchc_analysis.errors import CchcError
    from cchc_analysis.tables.specs import SPEC_DIR, load_specs

    for f in SPEC_DIR.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    target = tmp_path / "appendix_5.yaml"
    target.write_text(target.read_text(encoding="utf-8").replace("kind: flow", "", 1), encoding="utf-8")
    with pytest.raises(CchcError, match="needs 'kind: stock'"):
        load_specs(tmp_path)
