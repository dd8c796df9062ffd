"""Word and PDF reports read for their structure, on tiny documents made here: merged header cells, repeated
headers, italic runs, wrapped cells, a row cut by a page break, paragraphs, page numbers; and the refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from cchc_analysis.errors import CchcError
from cchc_analysis.read.docx import read_docx
from cchc_analysis.read.manifest import ReportInput, verify_checksum
from cchc_analysis.read.pdf import join_wrapped, read_pdf
from cchc_analysis.read.source import Location, SourceText, format_of, interim_path, read_source


# -- Word -------------------------------------------------------------------------------------------------------
def _word(path: Path) -> Path:
    import docx
    from docx.oxml import OxmlElement

    document = docx.Document()
    paragraph = document.add_paragraph("Mở đầu")
    paragraph.runs[0].add_break()
    paragraph.add_run("dòng hai")
    document.add_paragraph()
    table = document.add_table(rows=3, cols=4)
    for c, text in enumerate(["STT", "Chỉ tiêu", "Các năm", ""]):
        table.cell(0, c).text = text
    table.cell(1, 2).text, table.cell(1, 3).text = "Năm 2019", "Năm 2020"
    for r in (0, 1):
        table.rows[r]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    table.cell(0, 0).merge(table.cell(1, 0))
    table.cell(0, 1).merge(table.cell(1, 1))
    table.cell(0, 2).merge(table.cell(0, 3))
    table.cell(2, 0).text = "1"
    label = table.cell(2, 1).paragraphs[0]
    label.add_run("Số ")
    label.add_run("người").italic = True
    label.add_run(" đạt\tchuẩn")
    table.cell(2, 2).text, table.cell(2, 3).text = "5", "7"
    document.add_paragraph("Ghi chú")
    document.save(str(path))
    return path


def test_word_structure_becomes_the_export_layout(tmp_path):
    path = _word(tmp_path / "r.docx")
    lines, locations = read_docx(path.read_bytes(), path)
    assert lines == ["Mở đầu", "dòng hai", "", "", "STT\tChỉ tiêu\tCác năm\t", "\t\tNăm 2019\tNăm 2020",
                     "1\tSố <i>người</i> đạt chuẩn\t5\t7", "", "Ghi chú"]
    assert locations[0].describe() == "paragraph 1" and locations[1].describe() == "paragraph 1"
    assert locations[4].describe(3) == "table 1, row 1, cell 3"
    assert locations[4].describe(4) == "table 1, row 1, cell 3"  # the cell spanning the two years
    assert locations[5].describe(4) == "table 1, row 2, cell 4"
    assert locations[6].describe(2) == "table 1, row 3, cell 2"
    assert locations[8].describe() == "paragraph 3"


def test_read_source_keeps_the_extracted_text(tmp_path):
    (tmp_path / "raw" / "x").mkdir(parents=True)
    path = _word(tmp_path / "raw" / "x" / "r.docx")
    source = read_source(path)
    assert source.format == "docx" and source.document == path
    assert source.path == interim_path(path) == tmp_path / "interim" / "x" / "r.docx.txt"
    assert source.path.read_text(encoding="utf-8").split("\n")[:-1] == list(source.lines)
    assert source.location(7, 2) == "table 1, row 3, cell 2"


def test_text_locations_are_lines_and_columns():
    source = SourceText(Path("r.txt"), ("a", "b\tc"), "0")
    assert source.location(2, 2) == "line 2, column 2" and source.location(1) == "line 1"
    assert Location("page", (3, 12)).describe(4) == "page 3, line 12"


# -- PDF --------------------------------------------------------------------------------------------------------
ROWS = [("1", "Số lượng văn bản chỉ đạo, điều hành", "12", "15"),
        ("2", "Số lượng các cơ quan, đơn vị được kiểm tra cải cách hành chính trong năm", "32", "30"),
        ("-", "Số lượng bản tin chuyên đề CCHC trên đài phát thanh - truyền hình huyện và các xã", "20", "25"),
        ("3", "Tuyên truyền cải cách hành chính bằng các hình thức khác nhau trên địa bàn huyện, gồm hội nghị, "
              "tờ rơi, pa nô, áp phích và các cuộc thi tìm hiểu", "2", "3"),
        ("4", "Số lượng mô hình, sáng kiến CCHC được triển khai áp dụng", "", "4"),
        ("5", "<i>Tổng số được giao</i>", "109", "107")]


@pytest.fixture(scope="module")
def small_pdf(tmp_path_factory) -> Path:
    from weasyprint import HTML

    body = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td><td>{d}</td></tr>" for a, b, c, d in ROWS * 3)
    page = """<style>@page { size: 110mm 76mm; margin: 8mm 8mm 12mm 8mm;
      @bottom-center { content: counter(page); font-size: 8pt } }
      body { font: 9pt 'DejaVu Sans'; } p { margin: 0 0 6pt 0 }
      table { border-collapse: collapse; width: 100% } td, th { border: 0.6pt solid black; padding: 1pt 2pt;
      font-weight: normal; text-align: left; font-size: 8pt }</style>
      <p>Báo cáo kết quả thực hiện công tác cải cách hành chính trên địa bàn huyện, giai đoạn 2011-2020, theo Kế
      hoạch số 921/KH-UBND.</p><p>Phụ lục 1</p>
      <table><thead><tr><th rowspan="2">STT</th><th rowspan="2">Chỉ tiêu</th><th colspan="2">Các năm</th></tr>
      <tr><th>Năm 2019</th><th>Năm 2020</th></tr></thead><tbody>""" + body + "</tbody></table>"
    path = tmp_path_factory.mktemp("pdf") / "small.pdf"
    HTML(string=page).write_pdf(path)
    return path


def test_pdf_tables_paragraphs_and_page_breaks(small_pdf, monkeypatch):
    from cchc_analysis.read import pdf

    cut = []
    table = pdf._table
    monkeypatch.setattr(pdf, "_table", lambda h, v: cut.append(table(h, v)) or cut[-1])
    lines, locations = read_pdf(small_pdf.read_bytes(), small_pdf)
    assert any(t.open_bottom for t in cut)  # the fixture does have a row cut by a page break
    text = [line for line in lines if line]
    assert text[0].startswith("Báo cáo kết quả") and text[0].endswith("Kế hoạch số 921/KH-UBND.")  # one paragraph
    assert text[1] == "Phụ lục 1"
    header = ["STT\tChỉ tiêu\tCác năm\t", "\t\tNăm 2019\tNăm 2020"]
    assert text[2:4] == header
    rows = [line for line in text if "\t" in line and line not in header]
    expected = ["\t".join(row) for row in ROWS * 3]
    assert rows == expected  # wrapped cells one cell, rows cut by a page break joined, italic kept
    assert sum(line == header[0] for line in text) == len({loc.numbers[0] for loc in locations}) > 1
    assert not any(line.strip().isdigit() for line in text)  # page numbers dropped
    assert locations[0].describe() == "page 1, line 1"


def test_join_wrapped_lines():
    assert join_wrapped(["Thông tư 01/2018/", "TT-VPCP ngày"]) == "Thông tư 01/2018/TT-VPCP ngày"
    assert join_wrapped(["số 1338/QĐ\u00ad", "UBND"]) == "số 1338/QĐ-UBND"
    assert join_wrapped(["giai đoạn 2018-", "2021"]) == "giai đoạn 2018-2021"
    assert join_wrapped(["Kinh tế -", "Hạ tầng", "và /", "khác"]) == "Kinh tế - Hạ tầng và / khác"


# -- refusals ---------------------------------------------------------------------------------------------------
def test_refusals(tmp_path):
    import zipfile

    from weasyprint import HTML

    HTML(string='<div style="width:5cm;height:3cm;background:#888"></div>').write_pdf(tmp_path / "scan.pdf")
    cases = {"scan.pdf": "needs OCR", "cut.pdf": "damaged", "fake.pdf": "not a PDF", "rtf.docx": "not a zip",
             "other.docx": "no word/document.xml", "r.odt": "'.odt' files are not read"}
    (tmp_path / "cut.pdf").write_bytes((tmp_path / "scan.pdf").read_bytes()[:300])
    (tmp_path / "fake.pdf").write_bytes(b"hello")
    (tmp_path / "rtf.docx").write_bytes(b"{\\rtf1}")
    with zipfile.ZipFile(tmp_path / "other.docx", "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
    (tmp_path / "r.odt").write_bytes(b"PK")
    for name, words in cases.items():
        with pytest.raises(CchcError, match=words) as error:
            read_source(tmp_path / name)
        assert error.value.file == str(tmp_path / name)
    assert not (tmp_path / "interim").exists()


def test_encrypted_pdf_is_refused(small_pdf, tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=small_pdf)
    writer.encrypt("mật khẩu")
    writer.write(tmp_path / "locked.pdf")
    with pytest.raises(CchcError, match="encrypted"):
        read_source(tmp_path / "locked.pdf")


def test_format_names_and_manifest_format(tmp_path):
    assert [format_of(n) for n in ("a.txt", "a.TSV", "a", "a.DOCX", "b.pdf")] == ["text", "text", "text", "docx", "pdf"]
    source = SourceText(tmp_path / "r.txt", ("x",), "0" * 64)
    with pytest.raises(CchcError, match="records format 'pdf'"):
        verify_checksum(ReportInput(tmp_path / "r.txt", {}, {"format": "pdf"}), source)
    verify_checksum(ReportInput(tmp_path / "r.txt", {}, {"format": "text"}), source)
