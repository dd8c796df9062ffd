"""The reference report as Word and as PDF (made from its text export at test time) gives the same dataset as the
text export: every table, every column but provenance (files, lines, locations, checksums); and bad documents are
refused in one line, with nothing written."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from formats_fixtures import comparable, district_folder, without_line_numbers, write_pdf_chromium

from cchc_analysis.read.source import interim_path
from cchc_analysis.workflow import parse_and_write

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "data" / "raw" / "tuan-giao"
# what a table is compared on; the cell ledger differs where it must: an author's document has no header repeated
# at a page break in its text (Word repeats it when printing) and no label cut in two, so cells.csv is compared on
# the cells that hold figures and row numbers
LEDGER_ROLES_COMPARED = ("value", "stt", "period")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


_PARSED: dict[str, tuple] = {}


def _parsed(variant: str, tmp_path_factory) -> tuple:
    """The reference as ``variant`` (docx, pdf printed by WeasyPrint, pdf-chromium), parsed once per session."""
    if variant not in _PARSED:
        kind, _, printer = variant.partition("-")
        assert not printer or CHROMIUM, "Debian's chromium is needed to print the PDF fixture (.ci/run installs it)"
        root = tmp_path_factory.mktemp(variant)
        document = district_folder(REFERENCE, root, kind, write_pdf_chromium if printer else None)
        out = root / "processed"
        parse_and_write([root / "raw"], out)
        _PARSED[variant] = (kind, document, out)
    return _PARSED[variant]


@pytest.fixture(scope="module", params=["docx", "pdf", "pdf-chromium"])
def parsed_format(request, tmp_path_factory):
    """The reference as a Word file, a PDF printed by WeasyPrint and one printed by Chromium, parsed."""
    return _parsed(request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def parsed_docx(tmp_path_factory):
    return _parsed("docx", tmp_path_factory)


def _csv(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


CSV_FILES = ["indicators.csv", "indicators_codebook.csv", "quality.csv", "targets.csv", "tables.csv", "facts.csv",
             "evaluation.csv", "evaluation_parts.csv", "observations.csv", "districts.csv"]


@pytest.mark.parametrize("name", CSV_FILES)
def test_same_table_as_the_text_export(parsed_format, processed, name):
    _, _, out = parsed_format
    expected, got = comparable(_csv(processed, name)), comparable(_csv(out, name))
    assert len(got) == len(expected)
    pd.testing.assert_frame_equal(got, expected)


def test_same_sections(parsed_format, processed):
    _, _, out = parsed_format

    def strip(path):
        return [{k: without_line_numbers(v) for k, v in s.items() if k not in ("first_line", "last_line")}
                for s in json.loads((path / "sections.json").read_text(encoding="utf-8"))]

    assert strip(out) == strip(processed)


def test_same_figure_cells(parsed_format, processed):
    _, _, out = parsed_format

    def figures(folder):
        cells = _csv(folder, "cells.csv")
        return comparable(cells[cells["role"].isin(LEDGER_ROLES_COMPARED)])

    expected = figures(processed)
    assert len(expected) > 250
    pd.testing.assert_frame_equal(figures(out), expected)


def test_provenance_points_into_the_document(parsed_format):
    kind, document, out = parsed_format
    districts = _csv(out, "districts.csv").iloc[0]
    assert districts["format"] == kind
    assert districts["sha256"] == hashlib.sha256(document.read_bytes()).hexdigest()
    text = interim_path(document)
    assert text.is_file() and districts["text_file"].endswith(f"interim/tuan-giao/{document.name}.txt")
    assert districts["text_sha256"] == hashlib.sha256(text.read_bytes()).hexdigest()
    indicators = _csv(out, "indicators.csv")
    assert set(indicators["source_file"]) == {districts["source_file"]}
    pattern = r"table \d+, row \d+, cell \d+" if kind == "docx" else r"page \d+, line \d+"
    assert indicators["source_location"].str.fullmatch(pattern).all()
    lines = text.read_text(encoding="utf-8").split("\n")
    for row in indicators.sample(20, random_state=1).itertuples():  # the line of the interim text holds the cell
        assert lines[int(row.source_line) - 1].split("\t")[int(row.source_column) - 1] == row.raw
    targets = _csv(out, "targets.csv")
    assert targets["source_location"].str.fullmatch(pattern).all()


def test_a_word_location_names_the_merged_header_cell(parsed_docx):
    _, _, out = parsed_docx
    cells = _csv(out, "cells.csv")
    header = cells[(cells["appendix"] == "1") & (cells["raw"] == "Năm 2020 (Tính đến 31/3)")]
    # the second header row of Phụ lục 1: two cells merged down from the row above, then the six years
    assert header["source_location"].iloc[0] == "table 1, row 2, cell 8"


BAD = {
    "scan.pdf": "needs OCR", "locked.pdf": "encrypted", "cut.pdf": "damaged", "report.docx": "not a Word .docx",
    "empty-zip.docx": "no word/document.xml", "report.doc": "'.doc' files are not read",
}


def _bad_files(folder: Path) -> None:
    import zipfile

    from pypdf import PdfWriter
    from weasyprint import HTML

    pixel = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
    HTML(string=f'<img src="data:image/png;base64,{pixel}" style="width:15cm">').write_pdf(folder / "scan.pdf")
    HTML(string="<p>Phụ lục 1</p>").write_pdf(folder / "plain.pdf")
    writer = PdfWriter(clone_from=folder / "plain.pdf")
    writer.encrypt("mật khẩu")
    writer.write(folder / "locked.pdf")
    (folder / "cut.pdf").write_bytes((folder / "plain.pdf").read_bytes()[:400])
    (folder / "report.docx").write_bytes(b"{\\rtf1 not a Word file}")
    with zipfile.ZipFile(folder / "empty-zip.docx", "w") as package:
        package.writestr("readme.txt", "x")
    (folder / "report.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def test_bad_documents_are_refused_in_one_line(tmp_path):
    _bad_files(tmp_path)
    for name, words in BAD.items():
        out = tmp_path / f"out-{name}"
        run = subprocess.run([sys.executable, "-m", "cchc_analysis", "parse", str(tmp_path / name), "--out",
                              str(out)], capture_output=True, text=True, cwd=tmp_path)
        assert run.returncode == 2, (name, run.stderr)
        first = run.stderr.strip().splitlines()[0]
        assert first.startswith(f"error: {tmp_path / name}: ") and words in first, (name, run.stderr)
        assert "Traceback" not in run.stderr
        assert not out.exists() and not (tmp_path / "data").exists(), name


def test_a_cached_parse_writes_the_extracted_text_again_when_it_is_gone(tmp_path):
    """The parse cache does not leave line numbers pointing at an extracted text that was deleted or edited."""
    document = district_folder(REFERENCE, tmp_path, "docx")
    text = interim_path(document)
    cache = tmp_path / "cache"
    parse_and_write([tmp_path / "raw"], tmp_path / "out1", cache_dir=cache)
    written = text.read_bytes()
    text.unlink()
    parse_and_write([tmp_path / "raw"], tmp_path / "out2", cache_dir=cache)
    assert text.read_bytes() == written
    text.write_bytes(written + b"edited\n")
    parse_and_write([tmp_path / "raw"], tmp_path / "out3", cache_dir=cache)
    assert text.read_bytes() == written
    for name in ("indicators.csv", "districts.csv"):
        assert (tmp_path / "out3" / name).read_bytes() == (tmp_path / "out1" / name).read_bytes()
